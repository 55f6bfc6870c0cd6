"""Point-wise, point-adjusted and PA%K metrics for time-series anomaly detection."""

__all__ = [
    "SCORERS",
    "average_precision",
    "best_f1",
    "best_f1_scorer",
    "detection_report",
    "get_scorer",
    "pa_f1",
    "pa_f1_scorer",
    "pa_k_auc",
    "pa_k_auc_scorer",
    "pa_k_curve",
    "point_adjust",
    "roc_auc",
]

import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, make_scorer, roc_auc_score

# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #


def _check_binary(y: ArrayLike, name: str) -> np.ndarray:
    """Validate a 1-D 0/1 array and return it as a boolean array."""
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold 0/1 labels as booleans, integers or floats; "
            f"got an array of dtype {arr.dtype}."
        )
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D of shape (n_samples,); got shape {arr.shape}."
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got 0 samples.")
    if arr.dtype.kind == "b":
        return arr
    # NaN (an unlabelled point) fails both comparisons and is reported here.
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        shown = np.unique(arr[bad])[:5].tolist()
        raise ValueError(
            f"{name} must be binary with 1 = anomaly and 0 = normal; "
            f"got other values such as {shown}."
        )
    return arr == 1


def _check_inputs(
    y_true: ArrayLike, y_score: ArrayLike, *, need_anomaly: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and scores; return a boolean and a float64 array."""
    y = _check_binary(y_true, "y_true")
    s = np.asarray(y_score)
    if s.dtype.kind not in "biuf":
        raise TypeError(
            f"y_score must hold real numbers; got an array of dtype {s.dtype}."
        )
    if s.ndim != 1:
        raise ValueError(
            f"y_score must be 1-D of shape (n_samples,); got shape {s.shape}."
        )
    if s.shape[0] != y.shape[0]:
        raise ValueError(
            "y_true and y_score must have the same length; "
            f"got {y.shape[0]} and {s.shape[0]}."
        )
    s = s.astype(np.float64, copy=False)
    finite = np.isfinite(s)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            "y_score must be finite; got "
            f"{int((~finite).sum())} NaN or infinite value(s), the first at "
            f"index {first} ({s[first]})."
        )
    if need_anomaly and not y.any():
        raise ValueError(
            "y_true must contain at least one anomaly (a 1); got none, and "
            "F1, recall and the point-adjusted metrics are undefined without one."
        )
    return y, s


def _check_k(k: Any, name: str) -> int:
    """Validate a PA%K percentage: an integer-valued number in [0, 100]."""
    if isinstance(k, bool) or not isinstance(k, numbers.Real):
        raise TypeError(
            f"{name} must be an integer percentage in [0, 100]; got {k!r} "
            f"of type {type(k).__name__}."
        )
    if not (np.isfinite(k) and float(k).is_integer() and 0 <= k <= 100):
        raise ValueError(f"{name} must be an integer percentage in [0, 100]; got {k}.")
    return int(k)


def _check_ks(ks: ArrayLike | None) -> np.ndarray:
    """Validate the K grid of the PA%K curve; return it as int64."""
    if ks is None:
        return np.arange(101, dtype=np.int64)
    arr = np.asarray(ks)
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            "ks must hold integer percentages in [0, 100]; "
            f"got an array of dtype {arr.dtype}."
        )
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"ks must be a non-empty 1-D array of percentages; got shape {arr.shape}."
        )
    valid = np.isfinite(arr) & (arr >= 0) & (arr <= 100)
    valid[valid] = arr[valid] == np.floor(arr[valid])
    if not valid.all():
        shown = arr[~valid][:5].tolist()
        raise ValueError(f"ks must hold integer percentages in [0, 100]; got {shown}.")
    return arr.astype(np.int64)


# --------------------------------------------------------------------------- #
# Vectorised core
# --------------------------------------------------------------------------- #


class _Segments(NamedTuple):
    """Ground-truth anomaly segments, indexed through the anomalous points."""

    index: np.ndarray  # positions of the anomalous points, ascending
    segment: np.ndarray  # segment id of each anomalous point
    offsets: np.ndarray  # first position of each segment inside `index`
    lengths: np.ndarray  # number of points of each segment


def _segments(y: np.ndarray) -> _Segments:
    index = np.flatnonzero(y)
    # A segment starts wherever an anomalous point does not follow the previous one.
    starts = np.empty(index.size, dtype=bool)
    starts[:1] = True
    starts[1:] = np.diff(index) != 1
    offsets = np.flatnonzero(starts)
    lengths = np.diff(np.append(offsets, index.size))
    return _Segments(index, np.cumsum(starts) - 1, offsets, lengths)


def _best_f1_effective(
    pos_scores: np.ndarray, neg_sorted: np.ndarray
) -> tuple[float, float]:
    """Best F1 over thresholds given the (effective) anomalous and normal scores.

    Only thresholds equal to an anomalous score need checking: raising any other
    threshold to the next anomalous score keeps TP and cannot add a false
    positive, and above the largest one TP = 0.
    """
    n_pos = pos_scores.size
    pos = np.sort(pos_scores)
    # With ties, TP(t) = #{pos >= t} counts the whole tie, so evaluate each
    # distinct value at the first position of its run.
    first = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
    thresholds = pos[first]
    tp = n_pos - first
    fp = neg_sorted.size - np.searchsorted(neg_sorted, thresholds, side="left")
    f1 = 2.0 * tp / (tp + fp + n_pos)
    # Among thresholds tying for the best F1, report the largest: fewest alarms.
    best = f1.size - 1 - int(np.argmax(f1[::-1]))
    return float(f1[best]), float(thresholds[best])


def _pa_k_core(
    y: np.ndarray, s: np.ndarray, ks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best PA%K F1 and its threshold for every K in `ks`."""
    seg = _segments(y)
    pos = s[seg.index]
    neg_sorted = np.sort(s[~y])
    # Scores ranked in decreasing order inside each segment: the r-th largest
    # score of segment j is ranked[offsets[j] + r - 1].
    ranked = pos[np.lexsort((-pos, seg.segment))]
    f1 = np.empty(ks.size)
    thresholds = np.empty(ks.size)
    previous_rank = None
    for i, k in enumerate(ks):
        # Hits needed so that a segment is adjusted: 100 * n >= k * L and n >= 1,
        # in integers so that k * L / 100 never suffers rounding.
        rank = np.maximum(1, (k * seg.lengths + 99) // 100)
        if previous_rank is not None and np.array_equal(rank, previous_rank):
            f1[i], thresholds[i] = f1[i - 1], thresholds[i - 1]
            continue
        previous_rank = rank
        tau = ranked[seg.offsets + rank - 1]
        effective = np.maximum(pos, np.repeat(tau, seg.lengths))
        f1[i], thresholds[i] = _best_f1_effective(effective, neg_sorted)
    return f1, thresholds


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    # numpy's own formula, written out because we support numpy 1.24, which has
    # no np.trapezoid, while recent numpy has no np.trapz.
    return float((np.diff(x) * (y[1:] + y[:-1]) / 2.0).sum())


# --------------------------------------------------------------------------- #
# Public metrics
# --------------------------------------------------------------------------- #


def point_adjust(y_true: ArrayLike, y_pred: ArrayLike, *, k: int = 0) -> np.ndarray:
    """Apply the point adjustment (PA, or PA%K with ``k > 0``) to a prediction.

    A ground-truth anomaly segment is a maximal run of consecutive 1s in
    `y_true`. Every point of a segment is marked as predicted when at least one
    of its points is predicted and the predicted fraction is at least ``k`` %
    (``100 * n_detected >= k * segment_length``). Points outside anomaly segments
    are left as they are.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal.
    y_pred : array-like of shape (n_samples,)
        Binary prediction, 1 = predicted anomalous, e.g. ``y_score >= threshold``.
    k : int, default=0
        Percentage K in [0, 100]. ``k=0`` is the classic point adjustment,
        ``k=100`` leaves `y_pred` unchanged.

    Returns
    -------
    y_adjusted : ndarray of shape (n_samples,)
        The adjusted prediction, integers 0/1.

    See Also
    --------
    pa_k_curve : Best F1 after this adjustment, for every K.

    Notes
    -----
    The official code of Kim et al. (``tadpak``) adjusts when the hits are
    strictly more than ``k`` % of the segment; this function uses ``>=`` like the
    VTT authors' code. The two differ only when ``k * segment_length / 100`` is an
    integer; see :func:`pa_k_curve`.

    References
    ----------
    .. [1] S. Kim, K. Choi, H.-S. Choi, B. Lee and S. Yoon, "Towards a Rigorous
       Evaluation of Time-series Anomaly Detection", AAAI 2022.

    Examples
    --------
    >>> from alad.metrics import point_adjust
    >>> y_true = [0, 1, 1, 1, 1, 0, 1, 1]
    >>> y_pred = [1, 0, 1, 0, 0, 0, 0, 0]
    >>> point_adjust(y_true, y_pred).tolist()
    [1, 1, 1, 1, 1, 0, 0, 0]
    >>> point_adjust(y_true, y_pred, k=50).tolist()
    [1, 0, 1, 0, 0, 0, 0, 0]
    """
    y = _check_binary(y_true, "y_true")
    pred = _check_binary(y_pred, "y_pred")
    if pred.shape[0] != y.shape[0]:
        raise ValueError(
            "y_true and y_pred must have the same length; "
            f"got {y.shape[0]} and {pred.shape[0]}."
        )
    k = _check_k(k, "k")
    adjusted = pred.astype(np.int64)
    seg = _segments(y)
    if seg.index.size:
        hits = np.add.reduceat(pred[seg.index].astype(np.int64), seg.offsets)
        whole = (hits >= 1) & (100 * hits >= k * seg.lengths)
        adjusted[seg.index] |= np.repeat(whole, seg.lengths)
    return adjusted


def best_f1(
    y_true: ArrayLike, y_score: ArrayLike, *, return_threshold: bool = False
) -> float | tuple[float, float]:
    """Point-wise F1 at the best threshold (oracle threshold, "Best-F1").

    A point is predicted anomalous when ``y_score >= threshold``; every distinct
    score is tried as a threshold and the largest F1 is returned.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    return_threshold : bool, default=False
        Whether to return the threshold reaching the best F1 as well.

    Returns
    -------
    f1 : float
        The best point-wise F1.
    threshold : float
        Only with ``return_threshold=True``: the largest threshold reaching
        `f1`; it is one of the scores.

    See Also
    --------
    pa_f1 : The same after point adjustment.
    pa_k_curve : The same after PA%K adjustment, for every K.

    Examples
    --------
    >>> from alad.metrics import best_f1
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> f1, threshold = best_f1(y_true, y_score, return_threshold=True)
    >>> round(f1, 4), threshold
    (0.6667, 0.2)
    """
    y, s = _check_inputs(y_true, y_score)
    f1, threshold = _best_f1_effective(s[y], np.sort(s[~y]))
    return (f1, threshold) if return_threshold else f1


def pa_f1(
    y_true: ArrayLike, y_score: ArrayLike, *, return_threshold: bool = False
) -> float | tuple[float, float]:
    """F1 after point adjustment (PA) at the best threshold.

    Once a point of a ground-truth anomaly segment (a maximal run of 1s) is
    predicted, the whole segment counts as predicted; see :func:`point_adjust`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    return_threshold : bool, default=False
        Whether to return the threshold reaching the best F1 as well.

    Returns
    -------
    f1 : float
        The best point-adjusted F1.
    threshold : float
        Only with ``return_threshold=True``: the largest threshold on `y_score`
        reaching `f1`, i.e. ``point_adjust(y_true, y_score >= threshold)`` has
        this F1.

    See Also
    --------
    best_f1 : Without adjustment.
    pa_k_curve : With the stricter PA%K adjustment.

    Notes
    -----
    Point adjustment at threshold ``t`` predicts an anomalous point exactly when
    the maximum score of its segment is ``>= t``, so the best PA F1 is the best
    point-wise F1 after replacing anomalous scores by their segment maximum.

    Examples
    --------
    >>> from alad.metrics import pa_f1
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> pa_f1(y_true, y_score, return_threshold=True)
    (1.0, 0.9)
    """
    y, s = _check_inputs(y_true, y_score)
    seg = _segments(y)
    segment_max = np.maximum.reduceat(s[seg.index], seg.offsets)
    f1, threshold = _best_f1_effective(
        np.repeat(segment_max, seg.lengths), np.sort(s[~y])
    )
    return (f1, threshold) if return_threshold else f1


def pa_k_curve(
    y_true: ArrayLike, y_score: ArrayLike, *, ks: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Best F1 after PA%K adjustment as a function of K.

    For each K the threshold is chosen separately, to maximise the F1 after
    :func:`point_adjust` with ``k=K``: a ground-truth segment counts as fully
    detected when at least one of its points is detected and the detected
    fraction is at least K % (``100 * n_detected >= K * segment_length``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    ks : array-like of shape (n_ks,), default=None
        Integer percentages in [0, 100]. ``None`` means ``np.arange(101)``.

    Returns
    -------
    ks : ndarray of shape (n_ks,)
        The percentages, as integers.
    f1 : ndarray of shape (n_ks,)
        The best F1 for each K. K=0 gives :func:`pa_f1` and K=100 gives
        :func:`best_f1`.

    See Also
    --------
    pa_k_auc : Area under this curve.
    point_adjust : The adjustment for one prediction.

    Notes
    -----
    At threshold ``t`` a segment j is adjusted exactly when its ``r_j``-th
    largest score ``tau_j`` is ``>= t``, with ``r_j = max(1, ceil(K * L_j / 100))``
    and ``L_j`` its length. An anomalous point is then predicted exactly when its
    effective score ``max(score, tau_j)`` is ``>= t``, so the best PA%K F1 is the
    best point-wise F1 on effective scores. The ranks inside segments come from
    one sort shared by all K; each K then costs a sort of the anomalous effective
    scores and a binary search into the sorted normal scores.

    Difference from the official code of Kim et al. (``tadpak``, ``pak.py``):
    tadpak adjusts a segment when ``predicts[seg].sum() > k / 100 * len(seg)``
    (strict ``>``), so its K=100 never adjusts a segment and its K=0 needs one
    hit, as here. This function uses ``>=``, like the VTT authors' code
    (``hwk0702/KBS2024-VTT``, ``PA_percentile``), so that K=100 is exactly the
    point-wise F1. The two agree whenever ``K * L / 100`` is not an integer for
    any segment length ``L``. tadpak also predicts ``score > threshold``, where
    this module uses ``>=``; with the best threshold searched over all scores
    this makes no difference to the best F1.

    References
    ----------
    .. [1] S. Kim, K. Choi, H.-S. Choi, B. Lee and S. Yoon, "Towards a Rigorous
       Evaluation of Time-series Anomaly Detection", AAAI 2022.

    Examples
    --------
    >>> from alad.metrics import pa_k_curve
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> ks, f1 = pa_k_curve(y_true, y_score, ks=[0, 25, 50, 75, 100])
    >>> ks.tolist(), f1.round(4).tolist()
    ([0, 25, 50, 75, 100], [1.0, 1.0, 0.8889, 0.8, 0.6667])
    """
    y, s = _check_inputs(y_true, y_score)
    ks = _check_ks(ks)
    f1, _ = _pa_k_core(y, s, ks)
    return ks, f1


def pa_k_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the PA%K curve, for K = 0, 1, ..., 100.

    The trapezoid area of :func:`pa_k_curve` over ``K / 100``, so in [0, 1]; the
    definition of the VTT authors' code (``hwk0702/KBS2024-VTT``) on a grid of
    step 1, as in the active-reconstruction paper.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.

    Returns
    -------
    auc : float
        The area, between :func:`best_f1` and :func:`pa_f1`.

    See Also
    --------
    pa_k_curve : The curve itself.

    Examples
    --------
    >>> from alad.metrics import pa_k_auc
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> round(pa_k_auc(y_true, y_score), 4)
    0.8406
    """
    ks, f1 = pa_k_curve(y_true, y_score)
    return _trapezoid(f1, ks / 100)


def roc_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the ROC curve, validated like the other metrics.

    A thin wrapper of :func:`sklearn.metrics.roc_auc_score`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain both classes.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.

    Returns
    -------
    auc : float
        The ROC AUC.

    Examples
    --------
    >>> from alad.metrics import roc_auc
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, s = _check_inputs(y_true, y_score)
    if y.all():
        raise ValueError(
            "y_true must contain at least one normal point (a 0) for the ROC AUC; "
            "got only anomalies."
        )
    return float(roc_auc_score(y, s))


def average_precision(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Average precision (area under the precision-recall curve).

    A thin wrapper of :func:`sklearn.metrics.average_precision_score`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.

    Returns
    -------
    ap : float
        The average precision.

    Examples
    --------
    >>> from alad.metrics import average_precision
    >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    y, s = _check_inputs(y_true, y_score)
    return float(average_precision_score(y, s))


def detection_report(y_true: ArrayLike, y_score: ArrayLike) -> dict[str, float]:
    """All the detection metrics of the papers, in one dict.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain both classes.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.

    Returns
    -------
    report : dict
        ``"f1"`` (:func:`best_f1`), ``"f1_pa"`` (:func:`pa_f1`), ``"pa_k_auc"``
        (:func:`pa_k_auc`), ``"roc_auc"`` (:func:`roc_auc`) and
        ``"average_precision"`` (:func:`average_precision`), all floats.

    Examples
    --------
    >>> from alad.metrics import detection_report
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> {name: round(value, 4) for name, value in
    ...  detection_report(y_true, y_score).items()}  # doctest: +NORMALIZE_WHITESPACE
    {'f1': 0.6667, 'f1_pa': 1.0, 'pa_k_auc': 0.8406, 'roc_auc': 0.6562,
     'average_precision': 0.6917}
    """
    y, s = _check_inputs(y_true, y_score)
    if y.all():
        raise ValueError(
            "y_true must contain at least one normal point (a 0) for the ROC AUC "
            "of the report; got only anomalies."
        )
    # One pass over the curve gives the raw (K=100) and PA (K=0) F1 as well.
    ks = np.arange(101, dtype=np.int64)
    f1, _ = _pa_k_core(y, s, ks)
    return {
        "f1": float(f1[-1]),
        "f1_pa": float(f1[0]),
        "pa_k_auc": _trapezoid(f1, ks / 100),
        "roc_auc": float(roc_auc_score(y, s)),
        "average_precision": float(average_precision_score(y, s)),
    }


# --------------------------------------------------------------------------- #
# scikit-learn scorers
# --------------------------------------------------------------------------- #

# Our detectors are outlier detectors whose decision_function is higher = more
# anomalous, so sklearn hands those scores straight to the metric.
best_f1_scorer = make_scorer(best_f1, response_method="decision_function")
pa_f1_scorer = make_scorer(pa_f1, response_method="decision_function")
pa_k_auc_scorer = make_scorer(pa_k_auc, response_method="decision_function")

SCORERS: dict[str, Callable[..., float]] = {
    "best_f1": best_f1_scorer,
    "pa_f1": pa_f1_scorer,
    "pa_k_auc": pa_k_auc_scorer,
    "roc_auc": make_scorer(roc_auc, response_method="decision_function"),
    "average_precision": make_scorer(
        average_precision, response_method="decision_function"
    ),
}


def get_scorer(name: str) -> Callable[..., float]:
    """Return the scikit-learn scorer of a metric of this module by name.

    Parameters
    ----------
    name : str
        One of ``"best_f1"``, ``"pa_f1"``, ``"pa_k_auc"``, ``"roc_auc"``,
        ``"average_precision"``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``, scoring ``estimator.decision_function(X)``;
        usable as ``scoring=`` in :class:`~sklearn.model_selection.GridSearchCV`.

    Examples
    --------
    >>> from alad.metrics import get_scorer
    >>> get_scorer("pa_f1")
    make_scorer(pa_f1, response_method='decision_function')
    """
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a str, one of {sorted(SCORERS)}; got {name!r} "
            f"of type {type(name).__name__}."
        )
    if name not in SCORERS:
        raise ValueError(f"name must be one of {sorted(SCORERS)}; got {name!r}.")
    return SCORERS[name]
