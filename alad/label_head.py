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
classifier's weight. The detector adds the weighted probability to
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

__all__ = [
    "RowForestFeatures",
    "fit_window_classifier",
    "held_out_probabilities",
    "held_out_skill",
    "out_of_bag_probabilities",
    "out_of_bag_replay_probabilities",
    "reference_rank",
    "window_features",
    "window_probabilities",
    "window_shape_features",
]

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
        Held-out probabilities of the anomalous class (``nan`` for a single
        anomalous window); None without an anomalous window, or with one and
        no normal window.
    """
    n_a, n_n = len(anomalous), len(normal)
    if n_a == 0 or (n_a == 1 and n_n == 0):
        return None
    # folds over the anomalous windows; over the normal ones where a single
    # anomalous window must stay in every training
    n_folds = min(n_folds, n_a if n_a >= 2 else n_n)
    rng = np.random.default_rng(random_state)
    fold_a = rng.permutation(n_a) % n_folds if n_a >= 2 else np.full(n_a, -1)
    fold_n = rng.permutation(n_n) % n_folds
    p_anomalous, p_normal = np.full(n_a, np.nan), np.empty(n_n)
    for fold in range(n_folds):
        classifier = fit_window_classifier(
            anomalous[fold_a != fold],
            np.concatenate([normal[fold_n != fold], replay]),
            n_estimators=n_estimators,
            random_state=int(rng.integers(2**31 - 1)),
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

    One forest of :func:`fit_window_classifier`'s trees, each grown on a
    bootstrap sample of the labelled windows plus ``replay``; a window's
    probability averages the trees whose sample left it out (about a third
    of them). The same question as :func:`held_out_probabilities` asks, at
    the cost of one forest instead of one per fold. Classes are balanced
    within each bootstrap sample (``class_weight="balanced_subsample"``): a
    sample may hold one anomalous window of the few labelled.

    Parameters and returns as :func:`held_out_probabilities`, but None with
    fewer than two anomalous windows (a tree whose sample left out the only
    one has learnt no anomaly).
    """
    if len(anomalous) < 2:
        return None
    n_a, n_n = len(anomalous), len(normal)
    inputs = features(np.concatenate([anomalous, normal, replay]))
    target = np.r_[np.ones(n_a), np.zeros(len(inputs) - n_a)].astype(np.int64)
    forest = ExtraTreesClassifier(
        n_estimators=n_estimators,
        class_weight="balanced_subsample",
        bootstrap=True,
        oob_score=True,
        n_jobs=1,
        random_state=random_state,
    )
    with warnings.catch_warnings():
        # a replayed window left in every sample has no out-of-bag vote; only
        # the labelled windows' votes are read
        warnings.filterwarnings("ignore", "Some inputs do not have OOB scores")
        warnings.filterwarnings("ignore", "invalid value encountered")
        forest.fit(inputs, target)
    p = np.nan_to_num(forest.oob_decision_function_[: n_a + n_n, 1], nan=0.5)
    return p[:n_a], p[n_a:]


def out_of_bag_replay_probabilities(
    anomalous: np.ndarray,
    normal: np.ndarray,
    replay: np.ndarray,
    *,
    n_estimators: int = 100,
    random_state: int = 0,
    features: Callable[[np.ndarray], np.ndarray] = window_features,
) -> np.ndarray:
    """Each replayed window's probability from trees that did not see it.

    The head learns the replayed windows as normal and, its trees grown to
    pure leaves, says 0 of each of them: a subtle anomaly among the pool's
    quiet windows would be pushed down in the next query by its own
    replay. This forest grows each tree on a bootstrap sample of all the
    windows (classes balanced within it, as :func:`out_of_bag_probabilities`);
    a replayed window's probability averages the trees whose sample left it
    out and held an anomalous window (a tree without one learnt no anomaly).

    Parameters
    ----------
    anomalous, normal, replay : ndarray of shape (n, window_size, n_channels)
        The head's training windows: labelled anomalous, labelled normal,
        replayed normal.
    n_estimators : int, default=100
    random_state : int, default=0
    features : callable, default=window_features

    Returns
    -------
    probabilities : ndarray of float64 of shape (len(replay),)
        ``nan`` for a window no such tree left out.
    """
    n_labelled = len(anomalous) + len(normal)
    if not len(anomalous) or not len(replay):
        return np.full(len(replay), np.nan)
    inputs = features(np.concatenate([anomalous, normal, replay]))
    target = np.r_[np.ones(len(anomalous)), np.zeros(len(inputs) - len(anomalous))]
    forest = ExtraTreesClassifier(
        n_estimators=n_estimators,
        class_weight="balanced_subsample",
        bootstrap=True,
        n_jobs=1,
        random_state=random_state,
    )
    forest.fit(inputs, target.astype(np.int64))
    replayed = inputs[n_labelled:]
    votes, counts = np.zeros(len(replay)), np.zeros(len(replay))
    for tree, drawn in zip(forest.estimators_, forest.estimators_samples_):
        in_bag = np.zeros(len(inputs), dtype=bool)
        in_bag[drawn] = True
        out = ~in_bag[n_labelled:]
        if not in_bag[: len(anomalous)].any() or not out.any():
            continue
        votes[out] += tree.predict_proba(replayed[out])[:, 1]
        counts[out] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, votes / counts, np.nan)


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
    held_out = SKILL_ESTIMATES[estimate](
        anomalous, normal, replay, random_state=random_state, features=features
    )
    if held_out is None:
        return None
    p_anomalous, p_normal = held_out
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
    parts = [classifier.predict_proba(features(b))[:, 1] for b in batches]
    return np.concatenate(parts) if parts else np.empty(0)


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
    """
    scores = np.asarray(scores, dtype=np.float64)
    ranks = np.searchsorted(reference, scores, side="right") / len(reference)
    median, high = np.percentile(reference, [50, 99])
    spread = max(high - median, np.finfo(np.float32).eps)
    above = scores > reference[-1]
    ranks[above] = 1 + (scores[above] - reference[-1]) / spread
    return ranks
