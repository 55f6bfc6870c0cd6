"""Point-wise, point-adjusted, PA%K, VUS, range, affiliation and event metrics."""

__all__ = [
    "SCORERS",
    "affiliation_f1",
    "affiliation_precision_recall",
    "average_precision",
    "best_f1",
    "best_f1_scorer",
    "composite_f1",
    "detection_report",
    "event_f1",
    "event_precision_recall",
    "get_scorer",
    "pa_f1",
    "pa_f1_scorer",
    "pa_k_auc",
    "pa_k_auc_scorer",
    "pa_k_curve",
    "point_adjust",
    "range_auc_pr",
    "range_auc_roc",
    "range_f1",
    "range_precision_recall",
    "roc_auc",
    "vus_pr",
    "vus_roc",
]

import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, make_scorer, roc_auc_score

from . import _range_metrics as _rm

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
    exact = s
    s = s.astype(np.float64, copy=False)
    if exact.dtype.kind in "iu" and np.abs(s).max(initial=0.0) >= 2.0**53:
        # float64 holds integers exactly only up to 2**53; beyond it distinct
        # scores can become ties and every metric would rank them wrongly.
        if np.unique(exact).size != np.unique(s).size:
            raise ValueError(
                "y_score holds integers beyond 2**53 that float64 cannot tell "
                "apart; pass their ranks (scipy.stats.rankdata) or floats."
            )
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
            "every metric of anomalies (recall, F1, the ROC and PR curves and "
            "their areas and volumes) is undefined without one."
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


def _check_pred(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels with an anomaly and a 0/1 prediction of the same length."""
    y = _check_binary(y_true, "y_true")
    pred = _check_binary(y_pred, "y_pred")
    if pred.shape[0] != y.shape[0]:
        raise ValueError(
            "y_true and y_pred must have the same length; "
            f"got {y.shape[0]} and {pred.shape[0]}."
        )
    if not y.any():
        raise ValueError(
            "y_true must contain at least one anomaly (a 1); got none, and "
            "recall is undefined without one."
        )
    return y, pred


def _check_int(value: Any, name: str, low: int) -> int:
    """Validate an integer parameter ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an int >= {low}; got {value!r} of type "
            f"{type(value).__name__}."
        )
    if value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value}.")
    return int(value)


def _check_n_thresholds(n_thresholds: Any, *, allow_none: bool = True) -> int | None:
    """Validate the size of a threshold grid; None means every distinct score."""
    if n_thresholds is None and allow_none:
        return None
    return _check_int(n_thresholds, "n_thresholds", 2)


def _check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}.")
    return value


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(
            f"alpha must be a real number in [0, 1]; got {alpha!r} of type "
            f"{type(alpha).__name__}."
        )
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be a real number in [0, 1]; got {alpha}.")
    return float(alpha)


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


# --------------------------------------------------------------------------- #
# Range-based metrics: VUS, range AUC, Tatbul et al., affiliation, events
# --------------------------------------------------------------------------- #


def _vus(y_true, y_score, sliding_window, n_thresholds):
    y, s = _check_inputs(y_true, y_score)
    if y.all():
        raise ValueError(
            "y_true must contain at least one normal point (a 0) for the range "
            "ROC and PR surfaces; got only anomalies."
        )
    sliding_window = _check_int(sliding_window, "sliding_window", 0)
    n_thresholds = _check_n_thresholds(n_thresholds)
    return _rm.vus_surfaces(y, s, sliding_window, n_thresholds)


def vus_pr(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sliding_window: int = 100,
    n_thresholds: int | None = 250,
) -> float:
    """Volume under the range-based precision-recall surface (VUS-PR).

    The mean, over buffer widths ``w = 0, 1, ..., sliding_window``, of the
    range-based average precision :func:`range_auc_pr` at width ``w``
    (Paparrizos et al. 2022). The definitions, threshold grid included, are
    those of TSB-AD's ``get_metrics`` (``RangeAUC_volume_opt``, version 1.5),
    so that figures compare with its leaderboard.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain both classes.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    sliding_window : int, default=100
        The largest buffer width ``L``. TSB-AD's ``get_metrics`` default is 100;
        its benchmark scripts pass the period estimated by
        ``find_length_rank`` instead.
    n_thresholds : int or None, default=250
        TSB-AD's grid: the scores of rank ``np.linspace(0, n - 1,
        n_thresholds).astype(int)`` in decreasing order, each predicting
        ``y_score >= threshold``. None: every distinct score (the exact
        surface; it differs from the grid by the operating points between
        grid thresholds, so it is not comparable with TSB-AD's figures).

    Returns
    -------
    vus : float
        The volume, in [0, 1].

    See Also
    --------
    vus_roc : The same for the range ROC surface.
    range_auc_pr : The surface at a single width.

    Notes
    -----
    At buffer width ``w`` with ``h = w // 2``, a normal point at distance
    ``d <= h`` from the nearest segment edge gets the soft label
    ``sqrt(1 - d / w)``, or 1 when it lies within ``h`` of two segment edges;
    segments whose buffers meet form one range. At a threshold, with ``B`` the
    sum of the soft labels of the predicted buffer points, ``TP = TP_points +
    B``, ``P' = P + B / 2``, ``recall = min(TP / P', 1)`` times the fraction
    of ranges with a predicted point, ``FPR = (n_predicted - TP) / (n - P')``
    and ``precision = TP / n_predicted``. The PR area is ``sum (recall_i -
    recall_{i-1}) precision_i`` from recall 0; the ROC area is the trapezoid
    from (0, 0) to (1, 1). Widths 0 and 1 are identical (``h = 0``).

    Every count is a count of points whose score reaches a threshold, and a
    buffer point's label depends only on its distances to the two nearest
    segment edges, so one sort of the scores and one table of (threshold,
    distance) counts give the surfaces of every width: O(n log n + widths x
    thresholds x distances), with memory of the order of the input. TSB-AD's
    implementation costs O(widths x thresholds x n).

    References
    ----------
    .. [1] J. Paparrizos, P. Boniol, T. Palpanas, R. S. Tsay, A. Elmore and
       M. J. Franklin, "Volume Under the Surface: A New Accuracy Evaluation
       Measure for Time-Series Anomaly Detection", PVLDB 15(11), 2022.
    .. [2] Q. Liu and J. Paparrizos, "The Elephant in the Room: Towards A
       Reliable Time-Series Anomaly Detection Benchmark", NeurIPS 2024
       Datasets and Benchmarks (TSB-AD).

    Examples
    --------
    >>> from alad.metrics import vus_pr
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> round(vus_pr(y_true, y_score, sliding_window=2), 4)
    0.7204
    """
    _, pr = _vus(y_true, y_score, sliding_window, n_thresholds)
    return float(pr.mean())


def vus_roc(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sliding_window: int = 100,
    n_thresholds: int | None = 250,
) -> float:
    """Volume under the range-based ROC surface (VUS-ROC).

    The mean, over buffer widths ``w = 0, 1, ..., sliding_window``, of
    :func:`range_auc_roc` at width ``w``; the definitions of TSB-AD's
    ``get_metrics``. See :func:`vus_pr` for the buffers and the grid.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain both classes.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    sliding_window : int, default=100
        The largest buffer width.
    n_thresholds : int or None, default=250
        TSB-AD's grid of score ranks, or None for every distinct score.

    Returns
    -------
    vus : float
        The volume, in [0, 1].

    See Also
    --------
    vus_pr : The precision-recall volume, TSB-AD's headline metric.

    Examples
    --------
    >>> from alad.metrics import vus_roc
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> round(vus_roc(y_true, y_score, sliding_window=2), 4)
    0.6864
    """
    roc, _ = _vus(y_true, y_score, sliding_window, n_thresholds)
    return float(roc.mean())


def range_auc_pr(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sliding_window: int = 100,
    n_thresholds: int | None = 250,
) -> float:
    """Range-based area under the PR curve (R-AUC-PR) at one buffer width.

    The slice at width ``sliding_window`` of the surface whose mean is
    :func:`vus_pr`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain both classes.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    sliding_window : int, default=100
        The buffer width.
    n_thresholds : int or None, default=250
        TSB-AD's grid of score ranks, or None for every distinct score.

    Returns
    -------
    auc : float
        The range-based average precision.

    See Also
    --------
    vus_pr : The mean over widths 0 to ``sliding_window``.

    Notes
    -----
    This is the width-``L`` curve of TSB-AD's ``RangeAUC_volume_opt`` (what
    VUS averages). TSB-AD's separate ``RangeAUC`` function differs: its
    buffer starts on the segment's last point instead of the point after it,
    and it finds ranges by ``np.diff(labels) == 1`` on the soft labels, which
    misses buffered ranges; ``benchmarks/metrics_agreement.py`` shows both.

    Examples
    --------
    >>> from alad.metrics import range_auc_pr
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> round(range_auc_pr(y_true, y_score, sliding_window=2), 4)
    0.7778
    """
    _, pr = _vus(y_true, y_score, sliding_window, n_thresholds)
    return float(pr[-1])


def range_auc_roc(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sliding_window: int = 100,
    n_thresholds: int | None = 250,
) -> float:
    """Range-based area under the ROC curve (R-AUC-ROC) at one buffer width.

    The slice at width ``sliding_window`` of the surface whose mean is
    :func:`vus_roc`; see :func:`range_auc_pr`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain both classes.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    sliding_window : int, default=100
        The buffer width.
    n_thresholds : int or None, default=250
        TSB-AD's grid of score ranks, or None for every distinct score.

    Returns
    -------
    auc : float
        The range-based ROC AUC.

    See Also
    --------
    vus_roc : The mean over widths 0 to ``sliding_window``.

    Examples
    --------
    >>> from alad.metrics import range_auc_roc
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> round(range_auc_roc(y_true, y_score, sliding_window=2), 4)
    0.7466
    """
    roc, _ = _vus(y_true, y_score, sliding_window, n_thresholds)
    return float(roc[-1])


_CARDINALITIES = ("one", "reciprocal")
_BIASES = ("flat", "front", "middle", "back")


def range_precision_recall(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    alpha: float = 0.2,
    cardinality: str = "reciprocal",
    bias: str = "flat",
) -> tuple[float, float]:
    """Range-based precision and recall of a prediction (Tatbul et al. 2018).

    Ranges are maximal runs of 1s. The recall of a true range ``R`` is
    ``alpha * existence + (1 - alpha) * cardinality_factor * overlap``:
    existence is 1 when a predicted point falls in ``R``; overlap is the
    positionally weighted fraction of ``R`` that is predicted; the
    cardinality factor is 1 when at most one predicted range overlaps ``R``
    and, with ``cardinality="reciprocal"``, ``1 / k`` when ``k > 1`` do.
    Recall is the mean over true ranges; precision is the same over
    predicted ranges with the roles swapped and no existence term.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_pred : array-like of shape (n_samples,)
        Binary prediction, 1 = predicted anomalous.
    alpha : float, default=0.2
        Weight of the existence reward in recall, in [0, 1]. TSB-AD uses 0.2;
        the paper's examples use 0.
    cardinality : {"reciprocal", "one"}, default="reciprocal"
        Penalty of a range overlapped by several ranges: ``1 / k`` or none.
    bias : {"flat", "front", "middle", "back"}, default="flat"
        Positional weight of the ``i``-th of ``L`` points of a range: 1,
        ``L - i + 1``, ``min(i, L - i + 1)`` or ``i``.

    Returns
    -------
    precision : float
        Range-based precision; 0.0 when nothing is predicted.
    recall : float
        Range-based recall.

    See Also
    --------
    range_f1 : Their harmonic mean at the best threshold of a score.

    Notes
    -----
    With the defaults this is the ``R-based-F1`` of TSB-AD's ``get_metrics``.
    TSB-AD weights a non-flat bias by the absolute position in the series
    instead of the position in the range (it only ever uses ``"flat"``); the
    ``prts`` package follows the paper, as this function does. Cost O(n).

    References
    ----------
    .. [1] N. Tatbul, T. J. Lee, S. Zdonik, M. Alam and J. Gottschlich,
       "Precision and Recall for Time Series", NeurIPS 2018.

    Examples
    --------
    >>> from alad.metrics import range_precision_recall
    >>> y_true = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
    >>> y_pred = [0, 0, 1, 1, 0, 0, 0, 0, 0, 1]
    >>> p, r = range_precision_recall(y_true, y_pred)
    >>> round(p, 4), round(r, 4)
    (0.5, 0.3)
    """
    y, pred = _check_pred(y_true, y_pred)
    alpha = _check_alpha(alpha)
    cardinality = _check_choice(cardinality, "cardinality", _CARDINALITIES)
    bias = _check_choice(bias, "bias", _BIASES)
    return _rm.range_pr(y, pred, alpha, cardinality, bias)


def _best_f1_on_grid(y_true, y_score, n_thresholds, pr, return_threshold):
    y, s = _check_inputs(y_true, y_score)
    n_thresholds = _check_n_thresholds(n_thresholds)
    f1, threshold = _rm.best_over_grid(s, n_thresholds, lambda pred: pr(y, pred))
    return (max(f1, 0.0), threshold) if return_threshold else max(f1, 0.0)


def range_f1(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    alpha: float = 0.2,
    cardinality: str = "reciprocal",
    bias: str = "flat",
    n_thresholds: int | None = 100,
    return_threshold: bool = False,
) -> float | tuple[float, float]:
    """Range-based F1 (Tatbul et al. 2018) at the best threshold of a score.

    The harmonic mean of :func:`range_precision_recall`, maximised over a
    threshold grid; with the defaults, TSB-AD's ``R-based-F1``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    alpha : float, default=0.2
        Weight of the existence reward in recall.
    cardinality : {"reciprocal", "one"}, default="reciprocal"
        Penalty of fragmented detections.
    bias : {"flat", "front", "middle", "back"}, default="flat"
        Positional weight inside a range.
    n_thresholds : int or None, default=100
        TSB-AD's oracle grid: ``y_score > t`` for ``t`` in
        ``np.linspace(min(y_score), max(y_score), n_thresholds)``. None:
        ``y_score >= t`` for every distinct score ``t`` (the exact best, at
        O(n) per distinct score).
    return_threshold : bool, default=False
        Whether to return the first threshold of the grid reaching the F1.

    Returns
    -------
    f1 : float
        The best range-based F1.
    threshold : float
        Only with ``return_threshold=True``.

    See Also
    --------
    range_precision_recall : For one prediction.

    Examples
    --------
    >>> from alad.metrics import range_f1
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> round(range_f1(y_true, y_score), 4)
    0.5714
    """
    alpha = _check_alpha(alpha)
    cardinality = _check_choice(cardinality, "cardinality", _CARDINALITIES)
    bias = _check_choice(bias, "bias", _BIASES)
    return _best_f1_on_grid(
        y_true,
        y_score,
        n_thresholds,
        lambda y, pred: _rm.range_pr(y, pred, alpha, cardinality, bias),
        return_threshold,
    )


def affiliation_precision_recall(
    y_true: ArrayLike, y_pred: ArrayLike
) -> tuple[float, float]:
    """Affiliation precision and recall of a prediction (Huet et al. 2022).

    Each timestep ``i`` is the interval ``[i, i + 1)`` of the series ``[0,
    n)``. The affiliation zone of a true event runs to the midpoints between
    it and its neighbouring events. In each zone, precision is the mean,
    over the predicted time, of the probability that a random time of the
    zone lies at least as far from the true event; recall is the mean, over
    the event's time, of the probability that a random time of the zone lies
    at least as far from it as the nearest prediction of the zone. Precision
    is averaged over the zones holding a prediction, recall over all zones.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_pred : array-like of shape (n_samples,)
        Binary prediction, 1 = predicted anomalous.

    Returns
    -------
    precision : float
        Affiliation precision; 0.0 when nothing is predicted (the authors'
        code returns NaN).
    recall : float
        Affiliation recall.

    See Also
    --------
    affiliation_f1 : Their harmonic mean at the best threshold of a score.

    Notes
    -----
    The integrands are piecewise linear in time, so every piece (a
    predicted event cut at the zone borders, and its part before, inside and
    after the true event) integrates in closed form: O(n) in all, where the
    authors' code loops over zones and events in Python.

    References
    ----------
    .. [1] A. Huet, J. M. Navarro and D. Rossi, "Local Evaluation of Time
       Series Anomaly Detection Algorithms", KDD 2022.

    Examples
    --------
    >>> from alad.metrics import affiliation_precision_recall
    >>> y_true = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
    >>> y_pred = [0, 0, 1, 1, 0, 0, 0, 0, 0, 1]
    >>> p, r = affiliation_precision_recall(y_true, y_pred)
    >>> round(p, 4), round(r, 4)
    (0.625, 0.724)
    """
    y, pred = _check_pred(y_true, y_pred)
    return _rm.affiliation_pr(y, pred)


def affiliation_f1(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    n_thresholds: int | None = 100,
    return_threshold: bool = False,
) -> float | tuple[float, float]:
    """Affiliation F1 (Huet et al. 2022) at the best threshold of a score.

    The harmonic mean of :func:`affiliation_precision_recall`, maximised over
    a threshold grid; with the defaults, TSB-AD's ``Affiliation-F``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    n_thresholds : int or None, default=100
        TSB-AD's oracle grid: ``y_score > t`` for ``t`` in
        ``np.linspace(min(y_score), max(y_score), n_thresholds)``. None:
        ``y_score >= t`` for every distinct score ``t`` (the exact best, at
        O(n) per distinct score).
    return_threshold : bool, default=False
        Whether to return the first threshold of the grid reaching the F1.

    Returns
    -------
    f1 : float
        The best affiliation F1.
    threshold : float
        Only with ``return_threshold=True``.

    See Also
    --------
    affiliation_precision_recall : For one prediction.

    Notes
    -----
    Affiliation rewards predictions close to an event even without overlap,
    and a detector that flags everything scores a high recall and a
    precision near 0.5 rather than near the anomaly rate; read it next to
    :func:`vus_pr`.

    Examples
    --------
    >>> from alad.metrics import affiliation_f1
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> round(affiliation_f1(y_true, y_score), 4)
    0.8416
    """
    y, s = _check_inputs(y_true, y_score)
    n_thresholds = _check_n_thresholds(n_thresholds)
    f1, threshold = _rm.affiliation_best(y, s, n_thresholds)
    return (f1, threshold) if return_threshold else f1


def event_precision_recall(
    y_true: ArrayLike, y_pred: ArrayLike, *, precision: str = "event"
) -> tuple[float, float]:
    """Event-wise recall with event-wise or point-wise precision.

    An event is a maximal run of 1s. Event recall is the fraction of true
    events with at least one predicted point. With ``precision="event"``,
    precision is the fraction of predicted events that overlap a true event
    (segment-level precision and recall); with ``precision="point"``, it is
    the point-wise precision, which gives the composite F1 of Garg et al.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_pred : array-like of shape (n_samples,)
        Binary prediction, 1 = predicted anomalous.
    precision : {"event", "point"}, default="event"
        Which precision to return.

    Returns
    -------
    precision : float
        The precision; 0.0 when nothing is predicted.
    recall : float
        The event recall.

    See Also
    --------
    event_f1, composite_f1 : The F1 at the best threshold of a score.

    References
    ----------
    .. [1] A. Garg, W. Zhang, J. Samaran, R. Savitha and C.-S. Foo, "An
       Evaluation of Anomaly Detection and Diagnosis in Multivariate Time
       Series", IEEE TNNLS 33(6), 2021.

    Examples
    --------
    >>> from alad.metrics import event_precision_recall
    >>> y_true = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
    >>> y_pred = [0, 0, 1, 1, 0, 0, 0, 0, 0, 1]
    >>> event_precision_recall(y_true, y_pred)
    (0.5, 0.5)
    >>> p, r = event_precision_recall(y_true, y_pred, precision="point")
    >>> round(p, 4), r
    (0.6667, 0.5)
    """
    y, pred = _check_pred(y_true, y_pred)
    kind = _check_choice(precision, "precision", ("event", "point"))
    if kind == "event":
        return _rm.event_pr(y, pred)
    return _rm.composite_pr(y, pred)


def event_f1(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    n_thresholds: int | None = 100,
    return_threshold: bool = False,
) -> float | tuple[float, float]:
    """Event-wise (segment-level) F1 at the best threshold of a score.

    The harmonic mean of event precision (predicted events that overlap a
    true event) and event recall (true events with a predicted point); see
    :func:`event_precision_recall`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    n_thresholds : int or None, default=100
        TSB-AD's oracle grid: ``y_score > t`` for ``t`` in
        ``np.linspace(min(y_score), max(y_score), n_thresholds)``. None:
        ``y_score >= t`` for every distinct score ``t`` (the exact best, at
        O(n) per distinct score).
    return_threshold : bool, default=False
        Whether to return the first threshold of the grid reaching the F1.

    Returns
    -------
    f1 : float
        The best event-wise F1.
    threshold : float
        Only with ``return_threshold=True``.

    See Also
    --------
    composite_f1 : With point-wise precision instead.

    Examples
    --------
    >>> from alad.metrics import event_f1
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> round(event_f1(y_true, y_score), 4)
    1.0
    """
    return _best_f1_on_grid(
        y_true, y_score, n_thresholds, _rm.event_pr, return_threshold
    )


def composite_f1(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    n_thresholds: int | None = 100,
    return_threshold: bool = False,
) -> float | tuple[float, float]:
    """Composite F1 of Garg et al. at the best threshold of a score.

    The harmonic mean of point-wise precision and event-wise recall (true
    events with at least one predicted point); with the defaults, TSB-AD's
    ``Event-based-F1``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain an anomaly.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    n_thresholds : int or None, default=100
        TSB-AD's oracle grid: ``y_score > t`` for ``t`` in
        ``np.linspace(min(y_score), max(y_score), n_thresholds)``. None:
        ``y_score >= t`` for every distinct score ``t`` (the exact best, at
        O(n) per distinct score).
    return_threshold : bool, default=False
        Whether to return the first threshold of the grid reaching the F1.

    Returns
    -------
    f1 : float
        The best composite F1.
    threshold : float
        Only with ``return_threshold=True``.

    See Also
    --------
    event_f1 : With event-wise precision instead.
    pa_f1 : Point adjustment, whose recall is event-like but weighted by
        segment length.

    Notes
    -----
    TSB-AD 1.5 (``metric_EventF1PA``) drops the last point of an event that
    reaches the end of the series (``_get_events`` ends it at ``n - 2``), so
    a detection of that point alone does not count there and a one-point
    event at the end is never detected; this function counts it.

    Examples
    --------
    >>> from alad.metrics import composite_f1
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> round(composite_f1(y_true, y_score), 4)
    1.0
    """
    return _best_f1_on_grid(
        y_true, y_score, n_thresholds, _rm.composite_pr, return_threshold
    )


def detection_report(
    y_true: ArrayLike, y_score: ArrayLike, *, sliding_window: int = 100
) -> dict[str, float]:
    """All the detection metrics of the papers and of TSB-AD, in one dict.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth, 1 = anomaly and 0 = normal. Must contain both classes.
    y_score : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous. Must be finite.
    sliding_window : int, default=100
        The largest buffer width of ``"vus_pr"`` and ``"vus_roc"``.

    Returns
    -------
    report : dict
        ``"f1"`` (:func:`best_f1`), ``"f1_pa"`` (:func:`pa_f1`), ``"pa_k_auc"``
        (:func:`pa_k_auc`), ``"roc_auc"`` (:func:`roc_auc`),
        ``"average_precision"`` (:func:`average_precision`), ``"vus_pr"``
        (:func:`vus_pr`), ``"vus_roc"`` (:func:`vus_roc`), ``"range_f1"``
        (:func:`range_f1`), ``"affiliation_f1"`` (:func:`affiliation_f1`),
        ``"event_f1"`` (:func:`event_f1`) and ``"composite_f1"``
        (:func:`composite_f1`), all floats, each with its function's defaults
        (TSB-AD's grids for the last six).

    Notes
    -----
    The last four share one pass over TSB-AD's 100 thresholds (each
    prediction and its runs made once; affiliation takes all thresholds in
    one pass of its own).

    Examples
    --------
    >>> from alad.metrics import detection_report
    >>> y_true = [0, 0, 1, 1, 1, 1, 0, 0]
    >>> y_score = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    >>> {name: round(value, 4) for name, value in
    ...  detection_report(y_true, y_score).items()}  # doctest: +NORMALIZE_WHITESPACE
    {'f1': 0.6667, 'f1_pa': 1.0, 'pa_k_auc': 0.8406, 'roc_auc': 0.6562,
     'average_precision': 0.6917, 'vus_pr': 0.9803, 'vus_roc': 0.9803,
     'range_f1': 0.5714, 'affiliation_f1': 0.8416, 'event_f1': 1.0,
     'composite_f1': 1.0}
    """
    y, s = _check_inputs(y_true, y_score)
    if y.all():
        raise ValueError(
            "y_true must contain at least one normal point (a 0) for the ROC AUC "
            "of the report; got only anomalies."
        )
    sliding_window = _check_int(sliding_window, "sliding_window", 0)
    # One pass over the curve gives the raw (K=100) and PA (K=0) F1 as well.
    ks = np.arange(101, dtype=np.int64)
    f1, _ = _pa_k_core(y, s, ks)
    vus_roc_, vus_pr_ = _rm.vus_surfaces(y, s, sliding_window, 250)
    grid = _rm.best_f1s_over_grid(y, s, 100)
    return {
        "f1": float(f1[-1]),
        "f1_pa": float(f1[0]),
        "pa_k_auc": _trapezoid(f1, ks / 100),
        "roc_auc": float(roc_auc_score(y, s)),
        "average_precision": float(average_precision_score(y, s)),
        "vus_pr": float(vus_pr_.mean()),
        "vus_roc": float(vus_roc_.mean()),
        "range_f1": grid["range_f1"],
        "affiliation_f1": grid["affiliation_f1"],
        "event_f1": grid["event_f1"],
        "composite_f1": grid["composite_f1"],
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
    **{
        metric.__name__: make_scorer(metric, response_method="decision_function")
        for metric in (
            vus_pr,
            vus_roc,
            range_auc_pr,
            range_auc_roc,
            range_f1,
            affiliation_f1,
            event_f1,
            composite_f1,
        )
    },
}


def get_scorer(name: str) -> Callable[..., float]:
    """Return the scikit-learn scorer of a metric of this module by name.

    Parameters
    ----------
    name : str
        One of ``"best_f1"``, ``"pa_f1"``, ``"pa_k_auc"``, ``"roc_auc"``,
        ``"average_precision"``, ``"vus_pr"``, ``"vus_roc"``,
        ``"range_auc_pr"``, ``"range_auc_roc"``, ``"range_f1"``,
        ``"affiliation_f1"``, ``"event_f1"``, ``"composite_f1"``; each scores
        with its function's defaults (``functools.partial`` and
        :func:`~sklearn.metrics.make_scorer` give other parameters).

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
