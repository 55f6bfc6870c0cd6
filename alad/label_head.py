"""A window classifier trained on the labelled windows: the score's supervised side.

Reconstruction feedback (Han et al.'s Stage 3) teaches the backbone through
its weights; a few anomalous windows move those weights little and can
scramble the ranking of the rest. The labels can also train the scoring
directly: a classifier that tells the labelled anomalous windows from
normal ones on simple per-channel statistics of each window. This is the
"plain supervised classifier on window features" of the label benchmark
(``benchmarks/peers/run_peers.py``, ``extratrees``), which with the same 50
windows led the detector on UCR 001 and on GECCO's VUS-PR; here it also
learns from many more normal windows (replayed training and pool windows)
than a person labels.

:func:`window_features` makes the features; :func:`fit_window_classifier`
trains the classifier; :func:`window_probabilities` scores windows in
batches; :func:`held_out_skill` measures, on the labelled windows, how well
the classifier recognises windows it has not seen (held out by folds,
:func:`held_out_probabilities`, or out of bag,
:func:`out_of_bag_probabilities`), which the detector uses as the
classifier's weight; :func:`out_of_bag_votes` also says what trees that did
not see them say of the replayed windows, which the detector's query reads
for the pool's quiet windows. The detector adds the weighted probability to
the rank of its own score among its training scores (:func:`reference_rank`),
so that both speak in the same unit (see
``ActiveReconstructionDetector(score_head=...)``
and ``benchmarks/label_head.py``, where the combinations were compared).

The classifier, its held-out skill and its probabilities take a
``features`` callable (:func:`window_features` by default): samples that
are features already, as ``NAFALDetector``'s standardised flat samples,
pass ``features=numpy.asarray`` and share the same folds and trees.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, IsolationForest

from .validation import check_count

__all__ = [
    "ReferenceRanks",
    "RowForestFeatures",
    "fit_window_classifier",
    "held_out_probabilities",
    "held_out_skill",
    "out_of_bag_probabilities",
    "out_of_bag_votes",
    "reference_rank",
    "window_features",
    "window_probabilities",
    "window_shape_features",
]

#: windows per ``predict_proba`` call of :func:`window_probabilities`: a call
#: costs tens of milliseconds before its first tree, so the trees see many
#: scoring batches at once (their features: 6 float32 per channel a window)
PREDICT_CHUNK = 32768

#: statistics per channel, in the order of :func:`window_features`
FEATURE_NAMES = ("mean", "std", "min", "max", "last - first", "mean |diff|")


def window_features(windows: np.ndarray) -> np.ndarray:
    """Per channel: mean, std, min, max, last minus first, mean absolute step.

    Parameters
    ----------
    windows : ndarray of shape (n_windows, window_size, n_channels)

    Returns
    -------
    features : ndarray of float32 of shape (n_windows, 6 * n_channels)
        Grouped by statistic (all channels' means, then all stds, ...).
    """
    windows = np.asarray(windows, dtype=np.float32)
    steps = np.abs(np.diff(windows, axis=1)).mean(axis=1)
    return np.concatenate(
        [
            windows.mean(axis=1),
            windows.std(axis=1),
            windows.min(axis=1),
            windows.max(axis=1),
            windows[:, -1] - windows[:, 0],
            steps,
        ],
        axis=1,
    )


def window_shape_features(windows: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Per channel: the window's profile, as means of ``n_bins`` stretches.

    Each stretch's mean minus the window's mean: the shape of the window
    whatever its level (the level is :func:`window_features`' mean). What
    six statistics cannot tell apart, a beat of the wrong form for one,
    shows here. Windows shorter than ``n_bins`` give one stretch per row.

    Parameters
    ----------
    windows : ndarray of shape (n_windows, window_size, n_channels)
    n_bins : int, default=10

    Returns
    -------
    features : ndarray of float32 of shape (n_windows, n * n_channels)
        ``n = min(n_bins, window_size)``; grouped by stretch (every channel's
        first stretch, then every channel's second, ...).
    """
    windows = np.asarray(windows, dtype=np.float32)
    edges = np.linspace(0, windows.shape[1], min(n_bins, windows.shape[1]) + 1)
    edges = edges.round().astype(np.int64)
    sums = np.add.reduceat(windows, edges[:-1], axis=1)
    means = sums / np.diff(edges)[None, :, None].astype(np.float32)
    profile = means - windows.mean(axis=1, keepdims=True)
    return profile.reshape(len(windows), -1)


class RowForestFeatures:
    """:func:`window_features` and how rare a window's rows are to an isolation forest.

    The forest learns the training rows without labels (scikit-learn's
    :class:`~sklearn.ensemble.IsolationForest`, its defaults); a window adds
    the largest and the mean anomaly score of its rows. The statistics let
    the trees find the region of the labelled anomalies only; with a handful
    of them, an anomaly elsewhere looks normal to the trees. The forest's
    scores say how unusual a window is wherever it lies, so that "the rarer,
    the more anomalous", where the labels agree, is one split.

    Parameters
    ----------
    rows : ndarray of shape (n_rows, n_channels)
        The (standardised) training rows.
    random_state : int, default=0

    Attributes
    ----------
    forest_ : IsolationForest
    """

    def __init__(self, rows: np.ndarray, *, random_state: int = 0):
        rows = np.asarray(rows, dtype=np.float32)
        self.forest_ = IsolationForest(random_state=random_state, n_jobs=1)
        self.forest_.fit(rows)

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        """Features of shape ``(n_windows, 6 * n_channels + 2)``."""
        windows = np.asarray(windows, dtype=np.float32)
        n, size, channels = windows.shape
        rarity = -self.forest_.score_samples(windows.reshape(-1, channels))
        rarity = rarity.reshape(n, size).astype(np.float32)
        return np.concatenate(
            [
                window_features(windows),
                rarity.max(axis=1)[:, None],
                rarity.mean(axis=1)[:, None],
            ],
            axis=1,
        )


def fit_window_classifier(
    anomalous: np.ndarray,
    normal: np.ndarray,
    *,
    n_estimators: int = 100,
    random_state: int = 0,
    features: Callable[[np.ndarray], np.ndarray] = window_features,
) -> ExtraTreesClassifier:
    """Extremely randomised trees telling anomalous windows from normal ones.

    Parameters
    ----------
    anomalous, normal : ndarray of shape (n, window_size, n_channels)
        Windows of each class (at least one of each).
    n_estimators : int, default=100
    random_state : int, default=0
    features : callable, default=window_features
        Maps samples to the classifier's features (``numpy.asarray`` for
        samples that are features already).

    Returns
    -------
    classifier : ExtraTreesClassifier
        Fitted on ``features`` (:func:`window_features`); classes weighted to
        balance, as a handful of anomalous windows face hundreds of normal
        ones.
    """
    if not len(anomalous) or not len(normal):
        raise ValueError(
            "the window classifier needs windows of both classes; got "
            f"{len(anomalous)} anomalous and {len(normal)} normal."
        )
    inputs = features(np.concatenate([anomalous, normal]))
    target = np.r_[np.ones(len(anomalous)), np.zeros(len(normal))].astype(np.int64)
    classifier = ExtraTreesClassifier(
        n_estimators=n_estimators,
        class_weight="balanced",
        n_jobs=1,
        random_state=random_state,
    )
    return classifier.fit(inputs, target)


def held_out_probabilities(
    anomalous: np.ndarray,
    normal: np.ndarray,
    replay: np.ndarray,
    *,
    n_folds: int = 5,
    n_estimators: int = 100,
    random_state: int = 0,
    features: Callable[[np.ndarray], np.ndarray] = window_features,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Each labelled window's probability from a classifier that did not see it.

    The labelled windows are dealt into ``n_folds`` folds, each class on its
    own so that every fold's training keeps anomalous windows; a classifier
    of :func:`fit_window_classifier` trained on the other folds plus all of
    ``replay`` scores the windows of the fold. What the head would say of
    windows it has not seen, on the only windows whose class is known. A
    single anomalous window cannot be held out and still trained on: it
    stays in every fold's training, its own probability is ``nan``, and the
    normal windows are held out as before.

    Parameters
    ----------
    anomalous, normal : ndarray of shape (n, window_size, n_channels)
        The labelled windows of each class.
    replay : ndarray of shape (n, window_size, n_channels)
        Normal windows nobody labelled (training, quiet pool), always in
        training.
    n_folds : int, default=5
        At most; fewer when fewer windows can be held out.
    n_estimators : int, default=100
    random_state : int, default=0
    features : callable, default=window_features
        The classifier's features of a batch of samples (see
        :func:`fit_window_classifier`).

    Returns
    -------
    (p_anomalous, p_normal) : tuple of ndarray, or None
        Held-out probabilities of the anomalous class: ``nan`` for a single
        anomalous window, and for the windows of a fold whose training would
        hold no normal window (no ``replay``, a single normal one). None
        without an anomalous window, or with one and no normal window.
    """
    check_count(n_folds, "n_folds", minimum=2)  # one fold holds nothing out
    n_a, n_n = len(anomalous), len(normal)
    if n_a == 0 or (n_a == 1 and n_n == 0):
        return None
    # folds over the anomalous windows; over the normal ones where a single
    # anomalous window must stay in every training
    n_folds = min(n_folds, n_a if n_a >= 2 else n_n)
    rng = np.random.default_rng(random_state)
    fold_a = rng.permutation(n_a) % n_folds if n_a >= 2 else np.full(n_a, -1)
    fold_n = rng.permutation(n_n) % n_folds
    p_anomalous, p_normal = np.full(n_a, np.nan), np.full(n_n, np.nan)
    for fold in range(n_folds):
        seed = int(rng.integers(2**31 - 1))
        trained_normal = np.concatenate([normal[fold_n != fold], replay])
        if not len(trained_normal):  # nothing to tell the fold's windows from
            continue
        classifier = fit_window_classifier(
            anomalous[fold_a != fold],
            trained_normal,
            n_estimators=n_estimators,
            random_state=seed,
            features=features,
        )
        if (fold_a == fold).any():
            p_anomalous[fold_a == fold] = window_probabilities(
                classifier, [anomalous[fold_a == fold]], features=features
            )
        if (fold_n == fold).any():
            p_normal[fold_n == fold] = window_probabilities(
                classifier, [normal[fold_n == fold]], features=features
            )
    return p_anomalous, p_normal


def out_of_bag_votes(
    anomalous: np.ndarray,
    normal: np.ndarray,
    replay: np.ndarray,
    *,
    n_estimators: int = 100,
    random_state: int = 0,
    features: Callable[[np.ndarray], np.ndarray] = window_features,
) -> np.ndarray:
    """Every window's probability from the trees that did not see it.

    One forest of :func:`fit_window_classifier`'s trees, each grown on a
    bootstrap sample of all the windows (labelled and replayed); a window's
    probability averages the trees whose sample left it out (about a third
    of them). Classes are balanced within each bootstrap sample
    (``class_weight="balanced_subsample"``): a sample may hold one anomalous
    window of the few labelled, or none (that tree says 0 of everything).
    For the labelled windows it is what :func:`held_out_probabilities`
    estimates, at the cost of one forest instead of one per fold; for the
    replayed ones, what the head, which learnt them as normal and says 0 of
    each, would say had it not seen them.

    Parameters
    ----------
    anomalous, normal, replay : ndarray of shape (n, window_size, n_channels)
        As for :func:`held_out_probabilities`.
    n_estimators : int, default=100
    random_state : int, default=0
    features : callable, default=window_features

    Returns
    -------
    votes : ndarray of float64 of shape (n_anomalous + n_normal + n_replay,)
        In that order; ``nan`` for a window in every tree's sample, and for
        every window when the windows are not of both classes.
    """
    n_a = len(anomalous)
    n = n_a + len(normal) + len(replay)
    if not n_a or n == n_a:
        return np.full(n, np.nan)
    inputs = features(np.concatenate([anomalous, normal, replay]))
    target = np.r_[np.ones(n_a), np.zeros(n - n_a)].astype(np.int64)
    forest = ExtraTreesClassifier(
        n_estimators=n_estimators,
        class_weight="balanced_subsample",
        bootstrap=True,
        oob_score=True,
        n_jobs=1,
        random_state=random_state,
    )
    with warnings.catch_warnings():
        # a window left in every sample has no out-of-bag vote (nan)
        warnings.filterwarnings("ignore", "Some inputs do not have OOB scores")
        warnings.filterwarnings("ignore", "invalid value encountered")
        forest.fit(inputs, target)
    return forest.oob_decision_function_[:, 1].astype(np.float64)


def out_of_bag_probabilities(
    anomalous: np.ndarray,
    normal: np.ndarray,
    replay: np.ndarray,
    *,
    n_estimators: int = 100,
    random_state: int = 0,
    features: Callable[[np.ndarray], np.ndarray] = window_features,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Each labelled window's probability from the trees that did not see it.

    The labelled windows' :func:`out_of_bag_votes` (0.5 for a window no tree
    left out). Parameters and returns as :func:`held_out_probabilities`, but
    None with fewer than two anomalous windows (a tree whose sample left out
    the only one has learnt no anomaly).
    """
    if len(anomalous) < 2:
        return None
    n_a, n_n = len(anomalous), len(normal)
    votes = out_of_bag_votes(
        anomalous,
        normal,
        replay,
        n_estimators=n_estimators,
        random_state=random_state,
        features=features,
    )
    return _labelled_votes(votes, n_a, n_n)


def _labelled_votes(votes, n_anomalous: int, n_normal: int):
    """The labelled windows' votes of :func:`out_of_bag_votes`, anomalous and
    normal, 0.5 (undecided) where no tree left a window out."""
    p = np.nan_to_num(votes[: n_anomalous + n_normal], nan=0.5)
    return p[:n_anomalous], p[n_anomalous:]


#: how :func:`held_out_skill` holds windows out
SKILL_ESTIMATES = {
    "folds": held_out_probabilities,
    "out_of_bag": out_of_bag_probabilities,
}


def held_out_skill(
    anomalous: np.ndarray,
    normal: np.ndarray,
    replay: np.ndarray,
    *,
    random_state: int = 0,
    features: Callable[[np.ndarray], np.ndarray] = window_features,
    estimate: str = "folds",
    votes: np.ndarray | None = None,
) -> float | None:
    """How well the classifier tells labelled windows it has not seen: 0 to 1.

    The Gini coefficient ``2 * AUC - 1`` of the held-out probabilities
    (``estimate``: :func:`held_out_probabilities`, or
    :func:`out_of_bag_probabilities`) on the labelled windows, floored at
    0: 1 when every held-out anomalous window outranks every held-out
    normal one, 0 when the classifier ranks them no better than chance (it
    learnt something that does not carry over to other windows of the
    data).

    Parameters
    ----------
    anomalous, normal, replay : ndarray
        As for :func:`held_out_probabilities`.
    random_state : int, default=0
    features : callable, default=window_features
        The classifier's features of a batch of samples (see
        :func:`fit_window_classifier`).
    estimate : {"folds", "out_of_bag"}, default="folds"
        Hold out by folds (one forest per fold) or out of bag (one forest).
    votes : ndarray or None, default=None
        With ``estimate="out_of_bag"``: the :func:`out_of_bag_votes` of these
        windows when that forest is grown already (the detector reads its
        votes of the replayed windows too), instead of growing it again.

    Returns
    -------
    skill : float or None
        None when it cannot be measured: fewer than two anomalous windows,
        or no normal one, labelled.
    """
    if estimate not in SKILL_ESTIMATES:
        raise ValueError(
            f"estimate must be one of {sorted(SKILL_ESTIMATES)}, got {estimate!r}."
        )
    if len(anomalous) < 2 or not len(normal):  # known before any forest is fitted
        return None
    if votes is not None and estimate == "out_of_bag":
        votes = np.asarray(votes)
        if votes.ndim != 1 or len(votes) != len(anomalous) + len(normal) + len(replay):
            raise ValueError(
                "votes must hold one vote per window of anomalous, normal and replay "
                f"({len(anomalous) + len(normal) + len(replay)}); got shape "
                f"{votes.shape}."
            )
        held_out = _labelled_votes(votes, len(anomalous), len(normal))
    else:
        held_out = SKILL_ESTIMATES[estimate](
            anomalous, normal, replay, random_state=random_state, features=features
        )
    p_anomalous, p_normal = (p[np.isfinite(p)] for p in held_out)
    if not (len(p_anomalous) and len(p_normal)):  # no fold could hold them out
        return None
    # AUC by counting pairs: a handful of windows, ties count half
    wins = (p_anomalous[:, None] > p_normal[None, :]).mean()
    ties = (p_anomalous[:, None] == p_normal[None, :]).mean()
    return max(0.0, float(2 * (wins + 0.5 * ties) - 1))


def window_probabilities(
    classifier,
    batches,
    *,
    features: Callable[[np.ndarray], np.ndarray] = window_features,
) -> np.ndarray:
    """Probability of the anomalous class for each window of ``batches``.

    Parameters
    ----------
    classifier : fitted classifier from :func:`fit_window_classifier`
    batches : iterable of ndarray of shape (n, window_size, n_channels)
    features : callable, default=window_features
        The features the classifier was fitted on, of a batch.

    Returns
    -------
    probabilities : ndarray of float64 of shape (n_windows,)
    """
    # the features batch by batch (they may run a network), the trees on many
    # windows at once: each predict_proba call costs tens of milliseconds of
    # set-up, so one per scoring batch made the head most of a long series'
    # scoring; a window's probability does not depend on its neighbours
    parts, pending, n_pending = [], [], 0
    for batch in batches:
        pending.append(features(batch))
        n_pending += len(pending[-1])
        if n_pending >= PREDICT_CHUNK:
            parts.append(classifier.predict_proba(np.concatenate(pending))[:, 1])
            pending, n_pending = [], 0
    if pending:
        parts.append(classifier.predict_proba(np.concatenate(pending))[:, 1])
    return np.concatenate(parts) if parts else np.empty(0)


class ReferenceRanks:
    """:func:`reference_rank` against one reference, checked and summarised
    once: ranking many chunks of scores costs a search per chunk, not a pass
    over the reference.

    Parameters
    ----------
    reference : ndarray of shape (n,)
        Sorted scores (of the training data), at least one.

    Examples
    --------
    >>> ranks = ReferenceRanks(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> ranks(np.array([2.0, 0.0])).tolist()
    [0.5, 0.0]
    """

    def __init__(self, reference: np.ndarray):
        reference = np.asarray(reference, dtype=np.float64)
        if reference.ndim != 1 or not len(reference):
            raise ValueError(
                f"reference must be a 1-D array of scores, at least one; got shape "
                f"{reference.shape}."
            )
        # O(n) beside the scoring that produced the scores; an unsorted or nan
        # reference would rank silently wrong
        if np.isnan(reference).any() or (reference[1:] < reference[:-1]).any():
            raise ValueError(
                "reference must be sorted in increasing order, without nan."
            )
        self.reference = reference
        median, high = np.percentile(reference, [50, 99])
        self.spread = max(high - median, np.finfo(np.float32).eps)

    def __call__(self, scores) -> np.ndarray:
        """The ranks of ``scores`` (float64, their shape; nan where nan)."""
        reference = self.reference
        scores = np.asarray(scores, dtype=np.float64)
        shape, scores = scores.shape, scores.ravel()
        ranks = np.searchsorted(reference, scores, side="right") / len(reference)
        above = scores > reference[-1]
        ranks[above] = 1 + (scores[above] - reference[-1]) / self.spread
        ranks[np.isnan(scores)] = np.nan
        return ranks.reshape(shape)


def reference_rank(reference: np.ndarray, scores) -> np.ndarray:
    """Share of ``reference`` scores at or below each score, unbounded above.

    Within the reference, the empirical distribution function (0 to 1).
    Above its largest score, ``1 + (score - max) / spread`` with spread the
    99th percentile minus the median of the reference: scores far beyond
    everything seen in training keep their order instead of all tying at 1.

    Parameters
    ----------
    reference : ndarray of shape (n,)
        Sorted scores (of the training data), at least one.
    scores : array-like

    Returns
    -------
    ranks : ndarray of float64 of the shape of ``scores``
        ``nan`` where the score is ``nan``.
    """
    return ReferenceRanks(reference)(scores)
