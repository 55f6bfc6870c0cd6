"""Range-based metrics of alad.metrics against literal, loop-by-loop references.

Each reference below is written from the papers' definitions (and, for VUS,
from TSB-AD's published definitions of buffers and thresholds), one timestep,
one segment and one threshold at a time, with no shared code with
``alad._range_metrics``.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alad._range_metrics as _rm
from alad.metrics import (
    affiliation_f1,
    affiliation_precision_recall,
    composite_f1,
    detection_report,
    event_f1,
    event_precision_recall,
    range_auc_pr,
    range_auc_roc,
    range_f1,
    range_precision_recall,
    vus_pr,
    vus_roc,
)

# --------------------------------------------------------------------------- #
# Inputs: random runs, ties, segments at both ends, one-point segments
# --------------------------------------------------------------------------- #


@st.composite
def labelled_scores(draw, max_n=60):
    first = draw(st.integers(0, 1))
    runs = draw(st.lists(st.integers(1, 9), min_size=1, max_size=20))
    y = []
    for i, length in enumerate(runs):
        y.extend([(first + i) % 2] * length)
    y = y[:max_n]
    if 1 not in y:
        y[draw(st.integers(0, len(y) - 1))] = 1
    n_levels = draw(st.sampled_from([1, 2, 3, 5, 10, 60]))
    scores = draw(
        st.lists(st.integers(0, n_levels - 1), min_size=len(y), max_size=len(y))
    )
    return y, [float(v) for v in scores]


@st.composite
def labelled_predictions(draw):
    y, _ = draw(labelled_scores())
    pred = draw(st.lists(st.integers(0, 1), min_size=len(y), max_size=len(y)))
    return y, pred


def _segments(y):
    """Inclusive [start, end] of every maximal run of 1s, one step at a time."""
    out, start = [], None
    for i, v in enumerate(y):
        if v and start is None:
            start = i
        if not v and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(y) - 1))
    return out


# --------------------------------------------------------------------------- #
# VUS: literal buffers, ranges and counts for every width and threshold
# --------------------------------------------------------------------------- #


def _literal_surface(y, scores, width, thresholds):
    n = len(y)
    segs = _segments(y)
    h = width // 2
    # soft labels: sum of the contributions of every segment, capped at 1
    label = [float(v) for v in y]
    for s, e in segs:
        for d in range(1, h + 1):
            for p in (s - d, e + d):
                if 0 <= p < n and not y[p]:
                    label[p] += math.sqrt(1 - d / width)
    label = [min(1.0, v) for v in label]
    # buffered ranges, merged when they meet
    ranges = []
    for s, e in segs:
        lo, hi = max(s - h, 0), min(e + h, n - 1)
        if ranges and ranges[-1][1] >= lo:
            ranges[-1][1] = max(ranges[-1][1], hi)
        else:
            ranges.append([lo, hi])
    P = sum(y)
    tpr, fpr, prec = [], [], []
    for t in thresholds:
        pred = [v >= t for v in scores]
        tp = sum(label[i] for i in range(n) if pred[i])
        buffered = sum(label[i] for i in range(n) if pred[i] and not y[i])
        hit = sum(any(pred[lo : hi + 1]) for lo, hi in ranges)
        p_new = P + buffered / 2
        tpr.append(min(tp / p_new, 1) * hit / len(ranges))
        fpr.append((sum(pred) - tp) / (n - p_new))
        prec.append(tp / sum(pred))
    x = [0.0, *fpr, 1.0]
    z = [0.0, *tpr, 1.0]
    roc = sum((x[i + 1] - x[i]) * (z[i + 1] + z[i]) / 2 for i in range(len(x) - 1))
    z = [0.0, *tpr]
    pr = sum((z[i + 1] - z[i]) * prec[i] for i in range(len(prec)))
    return roc, pr


def _literal_vus(y, scores, window, n_thresholds):
    desc = sorted(scores, reverse=True)
    if n_thresholds is None:
        thresholds = sorted(set(scores), reverse=True)
    else:
        ranks = np.linspace(0, len(scores) - 1, n_thresholds).astype(int)
        thresholds = [desc[r] for r in ranks]
    surfaces = [_literal_surface(y, scores, w, thresholds) for w in range(window + 1)]
    return surfaces


@settings(max_examples=60, deadline=None)
@given(
    labelled_scores(),
    st.integers(0, 12),
    st.sampled_from([None, 2, 7, 250]),
)
def test_vus_matches_literal_reference(data, window, n_thresholds):
    y, scores = data
    if all(y):
        with pytest.raises(ValueError, match="normal point"):
            vus_pr(y, scores, sliding_window=window)
        return
    surfaces = _literal_vus(y, scores, window, n_thresholds)
    kw = dict(sliding_window=window, n_thresholds=n_thresholds)
    assert vus_roc(y, scores, **kw) == pytest.approx(
        np.mean([r for r, _ in surfaces]), abs=1e-12
    )
    assert vus_pr(y, scores, **kw) == pytest.approx(
        np.mean([p for _, p in surfaces]), abs=1e-12
    )
    assert range_auc_roc(y, scores, **kw) == pytest.approx(surfaces[-1][0], abs=1e-12)
    assert range_auc_pr(y, scores, **kw) == pytest.approx(surfaces[-1][1], abs=1e-12)


def test_vus_at_width_zero_and_one_is_the_range_auc_at_zero():
    y = [0, 0, 1, 1, 0, 0, 0, 1, 0, 0]
    s = [0.1, 0.5, 0.9, 0.3, 0.2, 0.4, 0.1, 0.8, 0.3, 0.0]
    at0 = range_auc_pr(y, s, sliding_window=0)
    assert range_auc_pr(y, s, sliding_window=1) == at0
    assert vus_pr(y, s, sliding_window=1) == pytest.approx(at0, abs=1e-15)


def test_vus_of_a_perfect_score_is_one_without_buffers():
    y = np.zeros(200, dtype=int)
    y[50:60] = 1
    y[150:151] = 1
    s = y.astype(float)
    assert vus_pr(y, s, sliding_window=0, n_thresholds=None) == pytest.approx(1.0)
    assert vus_roc(y, s, sliding_window=0, n_thresholds=None) == pytest.approx(1.0)


# --------------------------------------------------------------------------- #
# Tatbul et al.: literal existence, overlap, cardinality and bias
# --------------------------------------------------------------------------- #


def _delta(bias, i, length):
    if bias == "flat":
        return 1.0
    if bias == "front":
        return length - i + 1.0
    if bias == "back":
        return float(i)
    return float(i) if i <= length / 2 else length - i + 1.0


def _literal_side(real, pred, alpha, cardinality, bias):
    """Mean reward of the ranges of ``real`` against those of ``pred``."""
    total = 0.0
    r_ranges, p_ranges = _segments(real), _segments(pred)
    for s, e in r_ranges:
        length = e - s + 1
        overlapping = [(ps, pe) for ps, pe in p_ranges if ps <= e and pe >= s]
        weights = [_delta(bias, i, length) for i in range(1, length + 1)]
        covered = sum(
            w
            for i, w in zip(range(s, e + 1), weights, strict=True)
            if any(ps <= i <= pe for ps, pe in overlapping)
        )
        omega = covered / sum(weights)
        gamma = 1.0
        if cardinality == "reciprocal" and len(overlapping) > 1:
            gamma = 1.0 / len(overlapping)
        total += alpha * bool(overlapping) + (1 - alpha) * gamma * omega
    return total / len(r_ranges) if r_ranges else 0.0


@settings(max_examples=150, deadline=None)
@given(
    labelled_predictions(),
    st.sampled_from([0.0, 0.2, 1.0, 0.37]),
    st.sampled_from(["one", "reciprocal"]),
    st.sampled_from(["flat", "front", "middle", "back"]),
)
def test_range_precision_recall_match_literal_reference(data, alpha, cardinality, bias):
    y, pred = data
    p, r = range_precision_recall(
        y, pred, alpha=alpha, cardinality=cardinality, bias=bias
    )
    assert r == pytest.approx(
        _literal_side(y, pred, alpha, cardinality, bias), abs=1e-12
    )
    assert p == pytest.approx(_literal_side(pred, y, 0.0, cardinality, bias), abs=1e-12)


# --------------------------------------------------------------------------- #
# Affiliation: the integrals by the midpoint rule on a 1/8 grid
# --------------------------------------------------------------------------- #

# Every integrand is linear between points that are multiples of 1/4 (zone
# borders are half-integers, the midpoints between predictions and the kinks
# of min(.) quarter-integers), so the midpoint rule on cells of 1/8 is exact.
STEP = 1 / 8


def _literal_affiliation(y, pred):
    n = len(y)
    events = [(s, e + 1) for s, e in _segments(y)]
    preds = [(s, e + 1) for s, e in _segments(pred)]
    borders = [0.0]
    for (_, b), (a, _) in zip(events[:-1], events[1:], strict=True):
        borders.append((b + a) / 2)
    borders.append(float(n))
    precisions, recalls = [], []
    for (a, b), e0, e1 in zip(events, borders[:-1], borders[1:], strict=True):
        cells = np.arange(e0, e1, STEP) + STEP / 2
        size = e1 - e0

        def covered(t):
            return any(c <= t < d for c, d in preds)

        # precision: predicted time of the zone, distance to the event
        in_zone = [t for t in cells if covered(t)]
        if in_zone:
            values = []
            for t in in_zone:
                d = max(a - t, t - b, 0.0)
                closer = min(e1, b + d) - max(e0, a - d) if d > 0 else 0.0
                values.append(1.0 if d == 0 else 1 - closer / size)
            precisions.append(np.mean(values))
        # recall: event time, distance to the nearest predicted time of the zone
        if not in_zone:
            recalls.append(0.0)
            continue
        values = []
        for t in cells[(cells > a) & (cells < b)]:
            d = min(abs(t - u) for u in in_zone)
            d = 0.0 if covered(t) else max(d - STEP / 2, 0.0)
            values.append(1 - (min(t + d, e1) - max(t - d, e0)) / size)
        recalls.append(np.mean(values))
    precision = float(np.mean(precisions)) if precisions else 0.0
    return precision, float(np.mean(recalls))


@settings(max_examples=120, deadline=None)
@given(labelled_predictions())
def test_affiliation_matches_literal_reference(data):
    y, pred = data
    p, r = affiliation_precision_recall(y, pred)
    lp, lr = _literal_affiliation(y, pred)
    assert p == pytest.approx(lp, abs=1e-9)
    assert r == pytest.approx(lr, abs=1e-9)


def test_affiliation_of_a_perfect_prediction_is_one():
    y = [0, 1, 1, 0, 0, 0, 1, 0, 1, 1]
    assert affiliation_precision_recall(y, y) == pytest.approx((1.0, 1.0))


def test_affiliation_rewards_a_near_miss():
    y = [0] * 20
    y[10:12] = [1, 1]
    near = [0] * 20
    near[13] = 1
    far = [0] * 20
    far[19] = 1
    p_near, r_near = affiliation_precision_recall(y, near)
    p_far, r_far = affiliation_precision_recall(y, far)
    assert 0 < p_far < p_near < 1 and 0 < r_far < r_near < 1


# --------------------------------------------------------------------------- #
# Events
# --------------------------------------------------------------------------- #


@settings(max_examples=150, deadline=None)
@given(labelled_predictions())
def test_event_precision_recall_match_literal_reference(data):
    y, pred = data
    events, predicted = _segments(y), _segments(pred)
    recall = np.mean([any(pred[s : e + 1]) for s, e in events])
    event_p = np.mean([any(y[s : e + 1]) for s, e in predicted]) if predicted else 0
    tp = sum(a and b for a, b in zip(y, pred, strict=True))
    point_p = tp / sum(pred) if sum(pred) else 0.0
    assert event_precision_recall(y, pred) == pytest.approx((event_p, recall))
    assert event_precision_recall(y, pred, precision="point") == pytest.approx(
        (point_p, recall)
    )


# --------------------------------------------------------------------------- #
# Threshold searches
# --------------------------------------------------------------------------- #


def _grid(scores, n_thresholds):
    s = np.asarray(scores)
    if n_thresholds is None:
        return [s >= t for t in np.unique(s)]
    return [s > t for t in np.linspace(s.min(), s.max(), n_thresholds)]


def _f1(p, r):
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


@settings(max_examples=50, deadline=None)
@given(labelled_scores(), st.sampled_from([None, 2, 10, 100]))
def test_best_f1_searches_match_a_loop_over_the_grid(data, n_thresholds):
    y, scores = data
    preds = [p.astype(int).tolist() for p in _grid(scores, n_thresholds)]

    def best(pr, **kw):
        return max(_f1(*pr(y, p, **kw)) for p in preds)

    kw = dict(n_thresholds=n_thresholds)
    assert range_f1(y, scores, **kw) == pytest.approx(
        best(range_precision_recall), abs=1e-12
    )
    assert affiliation_f1(y, scores, **kw) == pytest.approx(
        max(_f1(*_literal_affiliation(y, p)) for p in preds), abs=1e-9
    )
    assert event_f1(y, scores, **kw) == pytest.approx(
        best(event_precision_recall), abs=1e-12
    )
    assert composite_f1(y, scores, **kw) == pytest.approx(
        best(event_precision_recall, precision="point"), abs=1e-12
    )
    if not all(y) and n_thresholds == 100:
        report = detection_report(y, scores)
        for name, fn in [
            ("range_f1", range_f1),
            ("affiliation_f1", affiliation_f1),
            ("event_f1", event_f1),
            ("composite_f1", composite_f1),
        ]:
            assert report[name] == pytest.approx(fn(y, scores), abs=1e-12)


def test_return_threshold_gives_the_f1():
    y = [0, 0, 1, 1, 1, 0, 0, 1, 0, 0]
    s = [0.1, 0.2, 0.9, 0.3, 0.8, 0.4, 0.1, 0.7, 0.3, 0.0]
    for fn, pr in [
        (range_f1, range_precision_recall),
        (affiliation_f1, affiliation_precision_recall),
        (event_f1, event_precision_recall),
    ]:
        f1, t = fn(y, s, return_threshold=True)
        assert _f1(*pr(y, (np.asarray(s) > t).astype(int))) == pytest.approx(f1)


@pytest.mark.parametrize("fn", [range_f1, affiliation_f1, event_f1, composite_f1])
def test_scores_at_the_ends_of_float64_keep_their_grid(fn):
    """Finite scores whose span overflows float64 (``np.nan_to_num`` of
    infinities) made every grid threshold NaN: F1 0 with no error. The grid
    now spans them as it spans any other scores."""
    y = np.array([0, 1, 1, 0, 0, 0])
    s = np.nan_to_num(np.array([0.1, np.inf, 0.9, 0.2, 0.1, -np.inf]))
    f1, t = fn(y, s, return_threshold=True)
    assert np.isfinite(t)
    # the same ranking, within float64's span: the same F1
    assert f1 == pytest.approx(fn(y, np.clip(s, -1e300, 1e300)))
    assert f1 > 0.7


# --------------------------------------------------------------------------- #
# Input checks
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: vus_pr([0, 1], [0.1, 0.2], sliding_window=-1), ValueError, "int >= 0"),
        (lambda: vus_pr([0, 1], [0.1, 0.2], sliding_window=2.5), TypeError, "int"),
        (lambda: vus_roc([0, 1], [0.1, 0.2], n_thresholds=1), ValueError, ">= 2"),
        (lambda: vus_pr([0, 0], [0.1, 0.2]), ValueError, "at least one anomaly"),
        (lambda: vus_pr([0, 1], [0.1, np.nan]), ValueError, "finite"),
        (lambda: range_f1([0, 1], [0.1, 0.2], alpha=2), ValueError, "alpha"),
        (lambda: range_f1([0, 1], [0.1, 0.2], bias="mid"), ValueError, "bias"),
        (
            lambda: range_precision_recall([0, 1], [0, 1], cardinality="udf"),
            ValueError,
            "cardinality",
        ),
        (lambda: affiliation_precision_recall([0, 1], [0, 1, 0]), ValueError, "length"),
        (lambda: affiliation_precision_recall([0, 0], [0, 1]), ValueError, "anomaly"),
        (lambda: event_precision_recall([0, 1], [0, 2]), ValueError, "binary"),
        (
            lambda: event_precision_recall([0, 1], [0, 1], precision="x"),
            ValueError,
            "precision",
        ),
        (lambda: composite_f1([0, 1], [0.1, 0.2], n_thresholds=True), TypeError, "int"),
        (
            lambda: detection_report([0, 1], [0.1, 0.2], sliding_window=-3),
            ValueError,
            "0",
        ),
    ],
)
def test_bad_inputs_are_refused_with_the_argument_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_nothing_predicted_gives_zero_precision():
    y = [0, 1, 1, 0]
    nothing = [0, 0, 0, 0]
    assert range_precision_recall(y, nothing) == (0.0, 0.0)
    assert affiliation_precision_recall(y, nothing) == (0.0, 0.0)
    assert event_precision_recall(y, nothing) == (0.0, 0.0)


def test_vus_memory_stays_near_the_input_with_dense_segments_and_wide_buffers():
    # One-point segments every 7th point under a buffer of 500 on each side:
    # listing every segment's buffer took segments x width (72 MB at its peak
    # here, 1.4 GB at 400,000 points); the distances of the normal points take
    # a few arrays of the input's length (1.8 MB).
    import tracemalloc

    n = 20_000
    y = np.zeros(n, dtype=bool)
    y[::7] = True
    s = np.random.default_rng(0).random(n)
    tracemalloc.start()
    try:
        vus_pr(y, s, sliding_window=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * s.nbytes


@settings(max_examples=40, deadline=None)
@given(labelled_scores(), st.sampled_from([2, 10, 100]), st.integers(1, 9))
def test_affiliation_tables_in_blocks_sum_as_one_bincount(data, n_thresholds, block):
    """The precision table taken a few timesteps at a time (zone borders
    falling inside and between blocks) gives the F1 bit for bit."""
    y, scores = data
    whole = affiliation_f1(y, scores, n_thresholds=n_thresholds)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_rm, "_PRECISION_BLOCK", block)
        assert affiliation_f1(y, scores, n_thresholds=n_thresholds) == whole
