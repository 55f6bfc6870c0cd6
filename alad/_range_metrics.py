"""Vectorised cores of the range-based metrics: VUS, Tatbul et al., affiliation, events.

Private: the functions here take validated arrays (a boolean ``y`` with at
least one anomaly, a float64 score or a boolean prediction) and do no input
checking; :mod:`alad.metrics` validates and documents them.
"""

__all__ = [
    "affiliation_best",
    "affiliation_pr",
    "best_f1s_over_grid",
    "best_over_grid",
    "composite_pr",
    "event_pr",
    "grid_predictions",
    "range_pr",
    "runs",
    "vus_surfaces",
]

from collections.abc import Callable, Iterator

import numpy as np

# --------------------------------------------------------------------------- #
# Runs of 1s
# --------------------------------------------------------------------------- #


def runs(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops (half-open) of the maximal runs of True in ``b``."""
    bounds = np.flatnonzero(b[1:] != b[:-1]) + 1
    if b[0]:
        bounds = np.r_[0, bounds]
    if b[-1]:
        bounds = np.r_[bounds, b.size]
    return bounds[0::2], bounds[1::2]


def grid_predictions(
    s: np.ndarray, n_thresholds: int | None
) -> Iterator[tuple[float, np.ndarray]]:
    """The threshold searches of the oracle metrics, as ``(threshold, y_pred)``.

    ``n_thresholds`` int: TSB-AD's grid, ``s > t`` for ``t`` in
    ``np.linspace(s.min(), s.max(), n_thresholds)``; None: ``s >= t`` for every
    distinct score ``t``.
    """
    if n_thresholds is None:
        for t in np.unique(s)[::-1]:
            yield float(t), s >= t
    else:
        for t in threshold_grid(s, n_thresholds):
            yield float(t), s > t


def threshold_grid(s: np.ndarray, n_thresholds: int) -> np.ndarray:
    """``np.linspace(s.min(), s.max(), n_thresholds)``, TSB-AD's grid, also
    where ``s.max() - s.min()`` overflows float64 (finite scores near
    +-1.8e308, as ``np.nan_to_num`` makes of infinities): there linspace
    gives NaN and infinities, and every threshold would predict nothing."""
    lo, hi = s.min(), s.max()
    with np.errstate(over="ignore", invalid="ignore"):
        grid = np.linspace(lo, hi, n_thresholds)
    if np.isfinite(grid).all():
        return grid
    t = np.linspace(0.0, 1.0, n_thresholds)
    grid = lo * (1.0 - t) + hi * t  # each term finite, the sum between them
    grid[0], grid[-1] = lo, hi
    return grid


def best_over_grid(
    s: np.ndarray,
    n_thresholds: int | None,
    pr: Callable[[np.ndarray], tuple[float, float]],
) -> tuple[float, float]:
    """Largest F1 of ``pr(y_pred)`` over the grid and its (first) threshold."""
    best, best_t = -1.0, float("nan")
    for t, pred in grid_predictions(s, n_thresholds):
        p, r = pr(pred)
        f1 = 2.0 * p * r / (p + r) if p + r > 0 else 0.0
        if f1 > best:
            best, best_t = f1, t
    return best, best_t


def best_f1s_over_grid(
    y: np.ndarray, s: np.ndarray, n_thresholds: int | None
) -> dict[str, float]:
    """Best range (TSB-AD's parameters), affiliation, event and composite F1.

    One pass over the thresholds for range, event and composite F1: each
    prediction and its runs are made once and shared; affiliation has its own
    pass over all thresholds at once.
    """
    y_runs = runs(y)
    metrics = {
        "range_f1": lambda p, r: range_pr(y, p, 0.2, "reciprocal", "flat", y_runs, r),
        "event_f1": lambda p, r: event_pr(y, p, y_runs, r),
        "composite_f1": lambda p, r: composite_pr(y, p, y_runs, r),
    }
    best = dict.fromkeys(metrics, 0.0)
    for _, pred in grid_predictions(s, n_thresholds):
        p_runs = runs(pred)
        for name, pr in metrics.items():
            p, r = pr(pred, p_runs)
            if p + r > 0:
                best[name] = max(best[name], 2.0 * p * r / (p + r))
    best["affiliation_f1"] = affiliation_best(y, s, n_thresholds)[0]
    return best


# --------------------------------------------------------------------------- #
# VUS (Paparrizos et al. 2022), TSB-AD's buffer and threshold definitions
# --------------------------------------------------------------------------- #


def _buffer_points(
    starts: np.ndarray, ends: np.ndarray, n: int, y: np.ndarray, h_max: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal points within ``h_max`` of a segment, with their two edge distances.

    Returns the positions, the distance to the nearest segment edge and the
    distance to the second nearest (a large number when there is none). An
    edge is the last point of a segment to the left or the first point of a
    segment to the right. Every normal point's distances are computed and the
    far ones dropped, so memory stays of the order of ``n`` however many
    segments there are and however wide the buffer (listing ``h_max`` points
    on each side of every segment took segments x ``h_max``).
    """
    if h_max < 1:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    pos = np.flatnonzero(~y)
    far = np.int64(4 * (n + h_max + 2))
    k = np.searchsorted(starts, pos, side="right")  # segments starting before
    n_seg = starts.size
    ends_pad = np.concatenate([[-far, -far], ends])
    starts_pad = np.concatenate([starts, [far, far]])
    dl1 = pos - ends_pad[k + 1]
    dr1 = starts_pad[np.minimum(k, n_seg + 1)] - pos
    d1 = np.minimum(dl1, dr1)
    near = d1 <= h_max
    pos, k, dl1, dr1, d1 = pos[near], k[near], dl1[near], dr1[near], d1[near]
    dl2 = pos - ends_pad[k]
    dr2 = starts_pad[np.minimum(k + 1, n_seg + 1)] - pos
    d2 = np.minimum(np.maximum(dl1, dr1), np.minimum(dl2, dr2))
    return pos, d1, d2


def vus_surfaces(
    y: np.ndarray, s: np.ndarray, sliding_window: int, n_thresholds: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Range-ROC and range-PR AUC for every buffer width 0..sliding_window.

    The definitions are those of TSB-AD's ``RangeAUC_volume_opt``: with ``h =
    w // 2``, the normal points at distance ``d <= h`` of a segment get the
    label ``sqrt(1 - d / w)`` (1 when near two segment edges), buffered
    segments closer than that merge into one range, and at each threshold

    - ``TP = TP_points + B`` and ``P' = P + B / 2``, with ``B`` the labels of
      the predicted buffer points,
    - ``TPR = min(TP / P', 1) * (ranges hit) / (ranges)``,
      ``FPR = (N_pred - TP) / (n - P')``, ``precision = TP / N_pred``.

    Every quantity is a count of points whose score reaches a threshold, so
    one sort of the scores gives all thresholds; a buffer point's label
    depends only on its distances to the nearest two segment edges, so the
    buffered counts of all widths come from one table of (threshold, distance)
    counts.
    """
    n = s.size
    W = int(sliding_window)
    h_max = W // 2
    starts, stops = runs(y)
    ends = stops - 1
    # Thresholds in decreasing order and, for each point, the index of the first
    # threshold its score reaches.
    if n_thresholds is None:
        thr = np.unique(s)[::-1]
    else:
        s_desc = np.sort(s)[::-1]
        thr = s_desc[np.linspace(0, n - 1, n_thresholds).astype(int)]
    T = thr.size
    J = T - np.searchsorted(thr[::-1], s, side="right")
    n_pred = np.cumsum(np.bincount(J, minlength=T)).astype(np.float64)
    tp_points = np.cumsum(np.bincount(J[y], minlength=T)).astype(np.float64)
    P = float(y.sum())

    # Buffer points, grouped by (threshold index, nearest distance, second
    # nearest distance capped at h_max + 1).
    pos, d1, d2 = _buffer_points(starts, ends, n, y, h_max)
    cap = h_max + 1
    d2c = np.minimum(d2, cap)
    keys = (J[pos].astype(np.int64) * (cap + 1) + d1) * (cap + 1) + d2c
    keys, counts = np.unique(keys, return_counts=True)
    kd2 = keys % (cap + 1)
    kd1 = (keys // (cap + 1)) % (cap + 1)
    kj = keys // ((cap + 1) * (cap + 1))
    counts = counts.astype(np.float64)

    segmin = np.minimum.reduceat(J[y], np.r_[0, np.cumsum(stops - starts)[:-1]])
    # smallest threshold index within distance 1..h outside each segment,
    # widened one step at a time as h grows with the width (positions beyond
    # the series fall back onto its first or last point, within h anyway):
    # one value per segment, not a segments x h_max table
    outside = np.full(starts.size, np.iinfo(np.int64).max, dtype=np.int64)
    widened = 0
    gaps = starts[1:] - ends[:-1]

    auc_roc = np.empty(W + 1)
    auc_pr = np.empty(W + 1)
    for w in range(W + 1):
        h = w // 2
        # Buffered labels of the predicted buffer points, cumulated over thresholds.
        if h >= 1:
            lab = np.where(
                kd2 <= h,
                1.0,
                np.where(kd1 <= h, np.sqrt(np.maximum(1.0 - kd1 / w, 0.0)), 0.0),
            )
            B = np.cumsum(np.bincount(kj, weights=lab * counts, minlength=T))
        else:
            B = np.zeros(T)
        # Merged ranges, and the first threshold at which each is hit.
        separate = ends[:-1] + h < starts[1:] - h if h else gaps > 0
        first = np.flatnonzero(np.r_[True, separate])
        while widened < h:
            widened += 1
            np.minimum(outside, J[np.maximum(starts - widened, 0)], out=outside)
            np.minimum(outside, J[np.minimum(ends + widened, n - 1)], out=outside)
        member = np.minimum(segmin, outside)
        range_min = np.minimum.reduceat(member, first)
        existence = np.cumsum(np.bincount(range_min, minlength=T)) / first.size

        tp = tp_points + B
        p_new = P + B / 2.0
        tpr = np.minimum(tp / p_new, 1.0) * existence
        fpr = (n_pred - tp) / (n - p_new)
        precision = tp / n_pred
        x = np.concatenate([[0.0], fpr, [1.0]])
        yy = np.concatenate([[0.0], tpr, [1.0]])
        auc_roc[w] = np.dot(np.diff(x), (yy[1:] + yy[:-1]) / 2.0)
        auc_pr[w] = np.dot(np.diff(np.concatenate([[0.0], tpr])), precision)
    return auc_roc, auc_pr


# --------------------------------------------------------------------------- #
# Range-based precision and recall (Tatbul et al. 2018)
# --------------------------------------------------------------------------- #


def _bias_weights(lengths: np.ndarray, bias: str) -> np.ndarray:
    """Positional weight of every point of ranges of ``lengths``, concatenated."""
    L = np.repeat(lengths, lengths)
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    i = np.arange(L.size) - np.repeat(offsets, lengths) + 1  # 1-based position
    if bias == "flat":
        return np.ones(L.size)
    if bias == "front":
        return (L - i + 1).astype(np.float64)
    if bias == "back":
        return i.astype(np.float64)
    return np.where(i <= L / 2.0, i, L - i + 1).astype(np.float64)  # middle


def _covered(starts: np.ndarray, stops: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Number of points before each ``x`` covered by the ranges [starts, stops)."""
    if starts.size == 0:
        return np.zeros(x.size, dtype=np.int64)
    done = np.r_[0, np.cumsum(stops - starts)]
    k = np.searchsorted(starts, x, side="left")  # ranges starting before x
    last = np.maximum(k - 1, 0)
    partial = np.where(
        k > 0, np.minimum(x - starts[last], stops[last] - starts[last]), 0
    )
    return done[np.maximum(k - 1, 0)] * (k > 0) + partial


def _overlap_rewards(
    a_starts: np.ndarray,
    a_stops: np.ndarray,
    b_starts: np.ndarray,
    b_stops: np.ndarray,
    b_mask: np.ndarray,
    cardinality: str,
    bias: str,
) -> tuple[np.ndarray, np.ndarray]:
    """For each range of A: how many ranges of B overlap it, and its overlap reward."""
    lengths = a_stops - a_starts
    count = np.searchsorted(b_starts, a_stops, side="left") - np.searchsorted(
        b_stops, a_starts, side="right"
    )
    if cardinality == "reciprocal":
        gamma = 1.0 / np.maximum(count, 1)
    else:
        gamma = np.ones(count.size)
    if bias == "flat":
        # Overlap of [start, stop) with the B ranges, from their sorted bounds.
        covered = _covered(b_starts, b_stops, a_stops) - _covered(
            b_starts, b_stops, a_starts
        )
        return count, gamma * covered / lengths
    idx = np.repeat(a_starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(
        lengths.sum()
    )
    weights = _bias_weights(lengths, bias)
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    hit = np.add.reduceat(weights * b_mask[idx], offsets)
    total = np.add.reduceat(weights, offsets)
    return count, gamma * hit / total


def range_pr(
    y: np.ndarray,
    pred: np.ndarray,
    alpha: float,
    cardinality: str,
    bias: str,
    y_runs: tuple[np.ndarray, np.ndarray] | None = None,
    p_runs: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, float]:
    """Range-based precision (existence weight 0) and recall (weight ``alpha``)."""
    r_starts, r_stops = runs(y) if y_runs is None else y_runs
    p_starts, p_stops = runs(pred) if p_runs is None else p_runs
    count, reward = _overlap_rewards(
        r_starts, r_stops, p_starts, p_stops, pred, cardinality, bias
    )
    recall = float(np.mean(alpha * (count > 0) + (1.0 - alpha) * reward))
    if p_starts.size == 0:
        return 0.0, recall
    _, reward_p = _overlap_rewards(
        p_starts, p_stops, r_starts, r_stops, y, cardinality, bias
    )
    return float(np.mean(reward_p)), recall


# --------------------------------------------------------------------------- #
# Events: composite (Garg et al. 2021) and segment-level precision and recall
# --------------------------------------------------------------------------- #


def _events_hit(y_starts: np.ndarray, y_stops: np.ndarray, pred: np.ndarray):
    c = np.r_[0, np.cumsum(pred, dtype=np.int64)]
    return c[y_stops] - c[y_starts] > 0


def composite_pr(
    y: np.ndarray, pred: np.ndarray, y_runs=None, p_runs=None
) -> tuple[float, float]:
    """Point-wise precision and event-wise recall."""
    starts, stops = runs(y) if y_runs is None else y_runs
    recall = float(np.mean(_events_hit(starts, stops, pred)))
    n_pred = int(pred.sum())
    precision = float(np.count_nonzero(pred & y)) / n_pred if n_pred else 0.0
    return precision, recall


def event_pr(
    y: np.ndarray, pred: np.ndarray, y_runs=None, p_runs=None
) -> tuple[float, float]:
    """Event-wise precision (predicted events touching a true one) and recall."""
    starts, stops = runs(y) if y_runs is None else y_runs
    recall = float(np.mean(_events_hit(starts, stops, pred)))
    p_starts, p_stops = runs(pred) if p_runs is None else p_runs
    if p_starts.size == 0:
        return 0.0, recall
    precision = float(np.mean(_events_hit(p_starts, p_stops, y)))
    return precision, recall


# --------------------------------------------------------------------------- #
# Affiliation (Huet, Navarro and Rossi 2022)
# --------------------------------------------------------------------------- #


def _int_min_half(u: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Antiderivative of min(u, m) in u (for 0 <= u)."""
    return np.where(u <= m, u * u / 2.0, m * u - m * m / 2.0)


def _int_min_double(u: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Antiderivative of min(2u, c) in u (for 0 <= u)."""
    return np.where(2.0 * u <= c, u * u, c * u - c * c / 4.0)


def affiliation_pr(
    y: np.ndarray, pred: np.ndarray, y_runs=None, p_runs=None
) -> tuple[float, float]:
    """Affiliation precision and recall of a prediction, in closed form.

    Points are the unit intervals ``[i, i + 1)``; the series is ``[0, n)``.
    The affiliation zone of a true event runs to the midpoints between it and
    its neighbours. Precision averages, over the zones that hold a
    prediction, the mean over predicted time of the probability that a random
    time of the zone is at least as far from the true event; recall averages,
    over all zones, the mean over the event's time of the probability that a
    random time of the zone is at least as far from that time as the nearest
    prediction of the zone is. Every integrand is piecewise linear in time, so
    each piece integrates exactly.
    """
    n = y.size
    a, b = runs(y) if y_runs is None else y_runs
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    zb = np.concatenate([[0.0], (b[:-1] + a[1:]) / 2.0, [float(n)]])
    e0, e1 = zb[:-1], zb[1:]
    n_zones = a.size

    c, d = runs(pred) if p_runs is None else p_runs
    if c.size == 0:
        return 0.0, 0.0
    c = c.astype(np.float64)
    d = d.astype(np.float64)
    # Cut the predicted events at the zone borders.
    z_first = np.searchsorted(zb, c, side="right") - 1
    z_last = np.searchsorted(zb, d, side="left") - 1
    n_pieces = z_last - z_first + 1
    owner = np.repeat(np.arange(c.size), n_pieces)
    z = np.repeat(z_first, n_pieces) + (
        np.arange(owner.size) - np.repeat(np.r_[0, np.cumsum(n_pieces)[:-1]], n_pieces)
    )
    x0 = np.maximum(c[owner], zb[z])
    x1 = np.minimum(d[owner], zb[z + 1])
    keep = x1 > x0
    z, x0, x1 = z[keep], x0[keep], x1[keep]

    A, B, E0, E1 = a[z], b[z], e0[z], e1[z]
    dE = E1 - E0
    lenJ = B - A

    # Precision: survival of the distance to the true event over predicted time.
    m = np.minimum(A - E0, E1 - B)
    inside = np.maximum(np.minimum(x1, B) - np.maximum(x0, A), 0.0)
    total = inside.copy()
    for lo, hi, present in (
        (np.maximum(A - np.minimum(x1, A), 0.0), A - x0, x0 < A),  # left of J
        (np.maximum(x0, B) - B, x1 - B, x1 > B),  # right of J
    ):
        lo = np.where(present, lo, 0.0)
        hi = np.where(present, hi, 0.0)
        length = hi - lo
        integral = (
            length
            - (
                lenJ * length
                + (hi * hi - lo * lo) / 2.0
                + _int_min_half(hi, m)
                - _int_min_half(lo, m)
            )
            / dE
        )
        total += np.where(present, integral, 0.0)
    num = np.bincount(z, weights=total, minlength=n_zones)
    den = np.bincount(z, weights=x1 - x0, minlength=n_zones)
    has = den > 0
    precision = float(np.mean(num[has] / den[has]))

    # Recall: each time of J against its nearest prediction piece of the zone.
    first_in_zone = np.r_[True, z[1:] != z[:-1]]
    last_in_zone = np.r_[z[1:] != z[:-1], True]
    mid = np.r_[(x1[:-1] + x0[1:]) / 2.0, 0.0]
    cell_lo = np.where(first_in_zone, E0, np.r_[0.0, mid[:-1]])
    cell_hi = np.where(last_in_zone, E1, mid)
    j0 = np.maximum(A, cell_lo)
    j1 = np.minimum(B, cell_hi)
    valid = j1 > j0
    j0 = np.where(valid, j0, 0.0)
    j1 = np.where(valid, j1, 0.0)
    rec = np.maximum(np.minimum(j1, x1) - np.maximum(j0, x0), 0.0)
    # before the piece: pivot x0, u = x0 - t
    before = valid & (j0 < x0)
    bhi = np.where(before, x0 - j0, 0.0)
    blo = np.where(before, x0 - np.minimum(j1, x0), 0.0)
    cb = x0 - E0
    rec += np.where(
        before,
        (bhi - blo) - (_int_min_double(bhi, cb) - _int_min_double(blo, cb)) / dE,
        0.0,
    )
    # after the piece: pivot x1, u = t - x1
    after = valid & (j1 > x1)
    ahi = np.where(after, j1 - x1, 0.0)
    alo = np.where(after, np.maximum(j0, x1) - x1, 0.0)
    ca = E1 - x1
    rec += np.where(
        after,
        (ahi - alo) - (_int_min_double(ahi, ca) - _int_min_double(alo, ca)) / dE,
        0.0,
    )
    rec_zone = np.bincount(z, weights=rec, minlength=n_zones) / (b - a)
    recall = float(np.mean(rec_zone))
    return precision, recall


def _recall_after(t0, t1, u, E1, dE):
    """Recall integrand over [t0, t1), the nearest prediction ending at u."""
    c = E1 - u
    return (t1 - t0) - (_int_min_double(t1 - u, c) - _int_min_double(t0 - u, c)) / dE


def _recall_before(t0, t1, v, E0, dE):
    """Recall integrand over [t0, t1), the nearest prediction starting at v."""
    c = v - E0
    return (t1 - t0) - (_int_min_double(v - t0, c) - _int_min_double(v - t1, c)) / dE


def _first_reaching(K_scan, lengths, T):
    """For each zone and threshold j, the scan position of the first K > j.

    ``K_scan`` holds each zone's points in scan order (outwards from its
    event), zones concatenated with ``lengths``. Returns an int array of shape
    (zones, T), equal to the zone's length when no point reaches j.
    """
    n_zones = lengths.size
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    zone = np.repeat(np.arange(n_zones), lengths)
    run_max = K_scan.copy()
    if K_scan.size:
        # Cumulative maximum restarted at each zone: shift by the zone id so
        # that a plain cumulative maximum never carries across zones.
        shifted = zone * (T + 2) + K_scan
        run_max = np.maximum.accumulate(shifted)
    queries = np.arange(n_zones)[:, None] * (T + 2) + np.arange(T)[None, :]
    pos = np.searchsorted(run_max, queries, side="right") - offsets[:, None]
    return np.minimum(pos, lengths[:, None])


# Entries of the (zone, threshold) tables of the one-pass search, above which
# the thresholds are tried one by one. A dozen float64 tables of that size
# are alive at once: 100,000 one-point events of a 400,000-row series (10
# million entries) peaked at +620 MiB for 3.4 MiB of input, in the same 4.4
# CPU s as the loop (+51 MiB); at 10,000 events (1 million entries) the
# tables take 0.6 s and +117 MiB against the loop's 2.5 s (2026-12-07, AMD
# EPYC: python benchmarks/affiliation_memory.py).
_TABLE_LIMIT = 1_000_000


def affiliation_best(
    y: np.ndarray, s: np.ndarray, n_thresholds: int | None
) -> tuple[float, float]:
    """Best affiliation F1 over the thresholds of :func:`grid_predictions`."""
    n_zones = runs(y)[0].size
    if n_thresholds is not None and n_zones * (n_thresholds + 1) <= _TABLE_LIMIT:
        return affiliation_best_on_grid(y, s, threshold_grid(s, n_thresholds))
    best, t = best_over_grid(s, n_thresholds, lambda pred: affiliation_pr(y, pred))
    return max(best, 0.0), t


# Timesteps of the precision table taken at once: a dozen float64 arrays of
# that length are alive while a block is summed, whatever the series' length.
_PRECISION_BLOCK = 1 << 17


def _precision_sums(K, a, b, zb, T):
    """The (zone, threshold) tables of precision integrals and lengths.

    ``num[z, k]`` and ``den[z, k]`` sum, over the pieces of timesteps in
    zone ``z`` whose score first falls below threshold ``k`` (``K``), the
    precision integrand and the piece's length; a timestep holding a zone
    border is cut in two there. Timesteps are taken a block at a time and
    added in their order, the border pieces last: the same additions in
    the same order as one ``np.bincount`` over all of them.
    """
    Z, n = a.size, K.size
    e0, e1 = zb[:-1], zb[1:]
    num = np.zeros(Z * (T + 1))
    den = np.zeros(Z * (T + 1))

    def add(x0, x1, hz, hk):
        g = x1 - x0  # inside the event: the whole length
        A, B, E0, E1 = a[hz], b[hz], e0[hz], e1[hz]
        m = np.minimum(A - E0, E1 - B)
        left = np.flatnonzero(x1 <= A)
        right = np.flatnonzero(x0 >= B)
        for k, lo, hi in (
            (left, A[left] - x1[left], A[left] - x0[left]),
            (right, x0[right] - B[right], x1[right] - B[right]),
        ):
            length = hi - lo
            g[k] = length - (
                (B[k] - A[k]) * length
                + (hi * hi - lo * lo) / 2.0
                + _int_min_half(hi, m[k])
                - _int_min_half(lo, m[k])
            ) / (E1[k] - E0[k])
        flat = hz * (T + 1) + hk
        np.add.at(num, flat, g)  # in order, as np.bincount adds
        np.add.at(den, flat, x1 - x0)

    borders = []
    for first in range(0, n, _PRECISION_BLOCK):
        x0 = np.arange(first, min(n, first + _PRECISION_BLOCK), dtype=np.float64)
        hk = K[first : first + x0.size]
        hz = np.searchsorted(zb, x0, side="right") - 1
        x1 = np.minimum(x0 + 1.0, zb[hz + 1])
        cut = np.flatnonzero(x1 < x0 + 1.0)  # the timestep holding a zone border
        borders.append((x1[cut], x0[cut] + 1.0, hz[cut] + 1, hk[cut]))
        add(x0, x1, hz, hk)
    add(*(np.concatenate(parts) for parts in zip(*borders, strict=True)))
    return num.reshape(Z, T + 1), den.reshape(Z, T + 1)


def affiliation_best_on_grid(
    y: np.ndarray, s: np.ndarray, thresholds: np.ndarray
) -> tuple[float, float]:
    """Best affiliation F1 over ``s > t`` for ascending ``thresholds``.

    Precision: each half timestep lies in one zone and contributes a fixed
    integral whenever predicted, so a (zone, threshold) table of sums gives
    every threshold at once. Recall: only the predicted points inside each
    event and the nearest predicted point on either side of it matter, found
    for all thresholds by cumulative maxima scanned outwards from each event.
    The cost is O(n log n + thresholds x (anomalies + zones)).
    """
    n = y.size
    T = thresholds.size
    K = np.searchsorted(thresholds, s, side="left")  # predicted at j iff j < K
    a_i, b_i = runs(y)
    a = a_i.astype(np.float64)
    b = b_i.astype(np.float64)
    Z = a.size
    zb = np.concatenate([[0.0], (b[:-1] + a[1:]) / 2.0, [float(n)]])
    e0, e1 = zb[:-1], zb[1:]
    dE = e1 - e0

    num, den = _precision_sums(K, a, b, zb, T)
    # predicted at j: K > j, i.e. columns j + 1 .. T
    num = np.cumsum(num[:, ::-1], axis=1)[:, ::-1][:, 1:]
    den = np.cumsum(den[:, ::-1], axis=1)[:, ::-1][:, 1:]
    has = den > 0
    n_has = has.sum(axis=0)
    ratio = np.where(has, num / np.where(has, den, 1.0), 0.0)
    precision = np.where(n_has > 0, ratio.sum(axis=0) / np.maximum(n_has, 1), 0.0)

    # ---- nearest predicted point left and right of each event -------------
    lo = np.floor(e0).astype(np.int64)  # first point meeting the zone
    hi = np.ceil(e1).astype(np.int64) - 1  # last point meeting the zone
    len_l = a_i - lo
    len_r = hi - b_i + 1
    off_l = np.r_[0, np.cumsum(len_l)[:-1]]
    off_r = np.r_[0, np.cumsum(len_r)[:-1]]
    pos_l = np.repeat(a_i - 1, len_l) - (
        np.arange(len_l.sum()) - np.repeat(off_l, len_l)
    )
    pos_r = np.repeat(b_i, len_r) + (np.arange(len_r.sum()) - np.repeat(off_r, len_r))
    step_l = _first_reaching(K[pos_l], len_l, T)  # distance - 1 to the left
    step_r = _first_reaching(K[pos_r], len_r, T)

    # ---- anomalous points: predicted runs inside each event ---------------
    idx = np.flatnonzero(y)
    seg = np.repeat(np.arange(Z), b_i - a_i)
    new_seg = np.r_[True, seg[1:] != seg[:-1]]
    Ka = K[idx]

    best, best_t = 0.0, float("nan")
    zones = np.arange(Z)
    for j in range(T):
        pa = Ka > j
        prev = np.r_[False, pa[:-1]] & ~new_seg
        nxt = np.r_[pa[1:], False] & ~np.r_[new_seg[1:], True]
        r_start = idx[pa & ~prev].astype(np.float64)
        r_end = idx[pa & ~nxt].astype(np.float64) + 1.0
        r_zone = seg[pa & ~prev]
        has_l = step_l[:, j] < len_l
        has_r = step_r[:, j] < len_r
        pL = (a_i - 1 - step_l[:, j] + 1).astype(np.float64)
        pR = (b_i + step_r[:, j]).astype(np.float64)
        # All predicted intervals that matter, sorted by zone then position;
        # the left anchor ends at pL, the right anchor starts at pR.
        iz = np.concatenate([zones[has_l], r_zone, zones[has_r]])
        i_start = np.concatenate([pL[has_l] - 1.0, r_start, pR[has_r]])
        i_end = np.concatenate([pL[has_l], r_end, pR[has_r] + 1.0])
        order = np.lexsort((i_start, iz))
        iz, i_start, i_end = iz[order], i_start[order], i_end[order]
        if iz.size == 0:
            continue
        A, B, E0, E1, D = a[iz], b[iz], e0[iz], e1[iz], dE[iz]
        # covered time of the event
        rec = np.maximum(np.minimum(i_end, B) - np.maximum(i_start, A), 0.0)
        first = np.r_[True, iz[1:] != iz[:-1]]
        last = np.r_[iz[1:] != iz[:-1], True]
        # head: from the event start to the first interval, if it starts inside
        head = first & (i_start > A)
        t1 = np.minimum(i_start, B)
        rec += np.where(head, _recall_before(A, t1, i_start, E0, D), 0.0)
        # tail: from the last interval to the event end
        tail = last & (i_end < B)
        t0 = np.maximum(i_end, A)
        rec += np.where(tail, _recall_after(t0, B, i_end, E1, D), 0.0)
        # gaps between consecutive intervals of a zone, split at the midpoint
        gap = ~last
        u = i_end
        v = np.r_[i_start[1:], 0.0]
        mid = (u + v) / 2.0
        g0 = np.maximum(u, A)
        g1 = np.minimum(mid, B)
        rec += np.where(
            gap & (g1 > g0), _recall_after(g0, np.maximum(g1, g0), u, E1, D), 0.0
        )
        h0 = np.maximum(mid, A)
        h1 = np.minimum(v, B)
        rec += np.where(
            gap & (h1 > h0), _recall_before(np.minimum(h0, h1), h1, v, E0, D), 0.0
        )
        recall = float(np.sum(np.bincount(iz, weights=rec, minlength=Z) / (b - a)) / Z)
        p = float(precision[j])
        if p + recall > 0:
            f1 = 2.0 * p * recall / (p + recall)
            if f1 > best:
                best, best_t = f1, float(thresholds[j])
    return best, best_t
