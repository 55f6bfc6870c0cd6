"""Tests of alad.metrics against literal references, hand computations and peers."""

import csv
import functools
import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator
from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import KFold, cross_val_score

from alad.metrics import (
    SCORERS,
    affiliation_f1,
    average_precision,
    best_f1,
    best_f1_scorer,
    composite_f1,
    detection_report,
    event_f1,
    get_scorer,
    pa_f1,
    pa_f1_scorer,
    pa_k_auc,
    pa_k_auc_scorer,
    pa_k_curve,
    point_adjust,
    range_auc_pr,
    range_auc_roc,
    range_f1,
    roc_auc,
    vus_pr,
    vus_roc,
)

ALL_KS = list(range(101))

# --------------------------------------------------------------------------- #
# The literal reference: every threshold, every segment, sklearn's F1
# --------------------------------------------------------------------------- #


def _literal_segments(y):
    """[start, end) of every maximal run of 1s, found one timestep at a time."""
    segments = []
    start = None
    for i, label in enumerate(y):
        if label == 1 and start is None:
            start = i
        elif label != 1 and start is not None:
            segments.append((start, i))
            start = None
    if start is not None:
        segments.append((start, len(y)))
    return segments


def _literal_adjust(y, pred, k):
    adjusted = list(pred)
    for start, end in _literal_segments(y):
        hits = sum(pred[start:end])
        if hits >= 1 and 100 * hits >= k * (end - start):
            for i in range(start, end):
                adjusted[i] = 1
    return adjusted


@functools.cache
def _sklearn_f1(y, pred):
    # Cached because many (threshold, K) pairs give the same prediction and
    # f1_score costs about a millisecond.
    return f1_score(list(y), list(pred), zero_division=0.0)


def _literal_best_f1(y, scores, k=None):
    """Best F1 over every distinct score as threshold; k=None means no adjustment."""
    best = 0.0
    for threshold in sorted(set(scores)):
        pred = [int(score >= threshold) for score in scores]
        if k is not None:
            pred = _literal_adjust(y, pred, k)
        best = max(best, _sklearn_f1(tuple(y), tuple(pred)))
    return best


@st.composite
def labelled_scores(draw):
    """Labels made of random runs with at least one anomaly, and tied scores."""
    first = draw(st.integers(0, 1))
    runs = draw(st.lists(st.integers(1, 12), min_size=1, max_size=30))
    y = []
    for i, length in enumerate(runs):
        y.extend([(first + i) % 2] * length)
    y = y[:60]
    if 1 not in y:
        y[draw(st.integers(0, len(y) - 1))] = 1
    # Few levels force many ties, between and across classes.
    n_levels = draw(st.sampled_from([1, 2, 3, 5, 10, 60]))
    scores = draw(
        st.lists(st.integers(-2, n_levels - 3), min_size=len(y), max_size=len(y))
    )
    return y, [float(score) for score in scores]


@settings(max_examples=80, deadline=None)
@given(labelled_scores())
def test_best_f1_and_pa_f1_match_literal_reference(data):
    y, scores = data
    f1, threshold = best_f1(y, scores, return_threshold=True)
    assert f1 == pytest.approx(_literal_best_f1(y, scores), abs=1e-12)
    pred = [int(score >= threshold) for score in scores]
    assert _sklearn_f1(tuple(y), tuple(pred)) == pytest.approx(f1, abs=1e-12)

    f1_pa, threshold_pa = pa_f1(y, scores, return_threshold=True)
    assert f1_pa == pytest.approx(_literal_best_f1(y, scores, k=0), abs=1e-12)
    pred = _literal_adjust(y, [int(score >= threshold_pa) for score in scores], 0)
    assert _sklearn_f1(tuple(y), tuple(pred)) == pytest.approx(f1_pa, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(labelled_scores())
def test_pa_k_curve_matches_literal_reference(data):
    y, scores = data
    ks, f1 = pa_k_curve(y, scores)
    assert ks.tolist() == ALL_KS
    expected = [_literal_best_f1(y, scores, k=k) for k in ALL_KS]
    np.testing.assert_allclose(f1, expected, rtol=0, atol=1e-12)
    # The same code path gives the raw and PA F1 bit for bit at the ends, and a
    # larger K can only undo adjustments.
    assert f1[0] == pa_f1(y, scores)
    assert f1[-1] == best_f1(y, scores)
    assert np.all(np.diff(f1) <= 0)


@settings(max_examples=100, deadline=None)
@given(labelled_scores(), st.integers(0, 100), st.data())
def test_point_adjust_matches_literal_reference(data, k, draw):
    y, _ = data
    pred = draw.draw(st.lists(st.integers(0, 1), min_size=len(y), max_size=len(y)))
    adjusted = point_adjust(y, pred, k=k)
    assert adjusted.tolist() == _literal_adjust(y, pred, k)


# --------------------------------------------------------------------------- #
# Hand-computed cases
# --------------------------------------------------------------------------- #

# One segment of length 4, one point of it scored high: at threshold 1 that
# point alone is detected (25 % of the segment); at threshold 0 everything is.
ONE_HIT_Y = [0, 1, 1, 1, 1, 0]
ONE_HIT_SCORES = [0, 1, 0, 0, 0, 0]


@pytest.mark.parametrize(
    "k, expected",
    [
        (0, 1.0),  # PA: 4 TP, 0 FP
        (25, 1.0),  # 1 hit = 25 % of 4, adjusted with ">="
        (26, 0.8),  # best is now threshold 0: 4 TP, 2 FP -> 8 / 10
        (50, 0.8),
        (100, 0.8),  # raw: threshold 1 gives 2 / 5, threshold 0 gives 8 / 10
    ],
)
def test_one_detected_point_in_a_segment_of_four(k, expected):
    _, f1 = pa_k_curve(ONE_HIT_Y, ONE_HIT_SCORES, ks=[k])
    assert f1[0] == pytest.approx(expected, abs=1e-15)


def test_hand_computed_curve_with_ties():
    y = [0, 0, 1, 1, 1, 1, 0, 0]
    scores = [0.1, 0.2, 0.9, 0.3, 0.2, 0.1, 0.1, 0.4]
    # Segment scores ranked: 0.9, 0.3, 0.2, 0.1. Threshold 0.2 predicts the
    # normal 0.2 and 0.4 too: 3 TP, 2 FP -> 6 / 9; threshold 0.1: 8 / 12.
    assert best_f1(y, scores, return_threshold=True) == (pytest.approx(2 / 3), 0.2)
    assert pa_f1(y, scores, return_threshold=True) == (1.0, 0.9)
    ks, f1 = pa_k_curve(y, scores, ks=[0, 25, 26, 50, 51, 75, 76, 100])
    np.testing.assert_allclose(f1, [1, 1, 8 / 9, 8 / 9, 0.8, 0.8, 2 / 3, 2 / 3])
    assert ks.dtype.kind == "i"


@pytest.mark.parametrize(
    "y, pred, k, expected",
    [
        ([1, 1, 0, 1, 1, 1], [0, 1, 0, 0, 0, 0], 0, [1, 1, 0, 0, 0, 0]),
        ([1, 1, 0, 1, 1, 1], [0, 1, 0, 0, 0, 1], 34, [1, 1, 0, 0, 0, 1]),
        ([1, 1, 0, 1, 1, 1], [0, 1, 0, 0, 0, 1], 33, [1, 1, 0, 1, 1, 1]),
        ([0, 1, 1, 0], [1, 0, 0, 1], 0, [1, 0, 0, 1]),  # false positives stay
        ([1, 1, 1, 1], [0, 0, 1, 1], 100, [0, 0, 1, 1]),
        ([1, 1, 1, 1], [0, 0, 1, 1], 50, [1, 1, 1, 1]),
        ([0, 0, 0], [0, 1, 0], 0, [0, 1, 0]),  # no segment: nothing to adjust
    ],
)
def test_point_adjust_hand_cases(y, pred, k, expected):
    assert point_adjust(y, pred, k=k).tolist() == expected


def test_constant_scores_and_all_anomalous_labels():
    # One threshold only: everything predicted, 2 TP and 2 FP.
    assert best_f1([0, 1, 1, 0], [3, 3, 3, 3]) == pytest.approx(2 / 3)
    assert pa_f1([1, 1, 1], [0.5, 0.1, 0.2]) == 1.0
    assert best_f1([1, 1, 1], [0.5, 0.1, 0.2]) == 1.0
    assert pa_k_auc([1], [0.0]) == 1.0


@pytest.mark.parametrize(
    "y", [[0, 1, 1, 0, 1], [False, True, True, False, True], [0.0, 1.0, 1.0, 0, 1]]
)
def test_label_encodings_agree_and_results_are_python_floats(y):
    scores = [0.3, 0.2, 0.9, 0.1, 0.4]
    for metric in (best_f1, pa_f1, pa_k_auc, roc_auc, average_precision):
        assert type(metric(y, scores)) is float
    f1, threshold = best_f1(y, scores, return_threshold=True)
    assert type(f1) is float and type(threshold) is float
    assert best_f1(y, scores) == best_f1([0, 1, 1, 0, 1], scores)
    assert pa_k_curve(y, scores)[1].dtype == np.float64


def test_pa_k_auc_is_the_trapezoid_of_the_curve():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.05).astype(int)
    y[100:140] = 1
    scores = rng.normal(size=500) + y
    ks, f1 = pa_k_curve(y, scores)
    assert pa_k_auc(y, scores) == pytest.approx(np.trapezoid(f1, ks / 100), abs=1e-15)
    assert f1[-1] <= pa_k_auc(y, scores) <= f1[0]


def test_detection_report_agrees_with_the_metrics():
    rng = np.random.default_rng(1)
    y = np.zeros(300, dtype=int)
    y[[10, 50, 51, 52, 200]] = 1
    y[120:160] = 1
    scores = rng.normal(size=300) + 2 * y
    report = detection_report(y, scores)
    assert report == pytest.approx(
        {
            "f1": best_f1(y, scores),
            "f1_pa": pa_f1(y, scores),
            "pa_k_auc": pa_k_auc(y, scores),
            "roc_auc": roc_auc(y, scores),
            "average_precision": average_precision(y, scores),
            "vus_pr": vus_pr(y, scores),
            "vus_roc": vus_roc(y, scores),
            "range_f1": range_f1(y, scores),
            "affiliation_f1": affiliation_f1(y, scores),
            "event_f1": event_f1(y, scores),
            "composite_f1": composite_f1(y, scores),
        },
        abs=1e-15,
    )
    assert all(type(value) is float for value in report.values())


# --------------------------------------------------------------------------- #
# Real data: sklearn's PR curve and the official PA%K code (tadpak)
# --------------------------------------------------------------------------- #

DATA_HOME = Path(
    os.environ.get(
        "ALAD_DATA_HOME", Path(__file__).resolve().parents[2] / "shared" / "datasets"
    )
)
GECCO_TRAIN = DATA_HOME / "gecco" / "geccoIC2018Train.csv.gz"


@pytest.fixture(scope="module")
def gecco():
    """EVENT labels and |z(Tp)| + |z(Cl)| scores (z from the first half)."""
    if not GECCO_TRAIN.exists():
        pytest.skip(f"{GECCO_TRAIN} is absent")
    with gzip.open(GECCO_TRAIN, "rt", newline="") as file:
        rows = [row for row in csv.DictReader(file) if all(row.values())]
    y = np.array([row["EVENT"] == "True" for row in rows], dtype=int)
    features = np.array([[float(row["Tp"]), float(row["Cl"])] for row in rows])
    half = features[: len(features) // 2]
    scores = np.abs((features - half.mean(axis=0)) / half.std(axis=0)).sum(axis=1)
    return y, scores


@pytest.mark.real_data
def test_best_f1_matches_precision_recall_curve_on_gecco(gecco):
    y, scores = gecco
    precision, recall, _ = precision_recall_curve(y, scores)
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall,
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    assert best_f1(y, scores) == pytest.approx(f1.max(), rel=1e-12)


def _segment_lengths(y):
    return {end - start for start, end in _literal_segments(list(y))}


@pytest.mark.real_data
def test_point_adjust_matches_tadpak_on_gecco(gecco):
    pak = pytest.importorskip("tadpak.pak").pak
    y, scores = gecco
    lengths = _segment_lengths(y)
    # tadpak adjusts on "> k %" and we on ">= k %": they agree wherever k * L / 100
    # is never an integer; K = 0 always agrees (both need one hit).
    ks = [0] + [k for k in range(1, 100) if all(k * L % 100 for L in lengths)]
    assert len(ks) > 5
    for threshold in np.quantile(scores, [0.5, 0.9, 0.99]):
        pred = scores > threshold
        for k in ks:
            expected = pak(scores, y, threshold, k=k)
            assert np.array_equal(point_adjust(y, pred, k=k), expected), k

    f1, threshold = pa_f1(y, scores, return_threshold=True)
    # tadpak predicts "score > thres"; the float just below ours gives ">=".
    tadpak_pred = pak(scores, y, np.nextafter(threshold, -np.inf), k=0)
    assert f1_score(y, tadpak_pred) == pytest.approx(f1, rel=1e-12)


def test_tadpak_differs_only_on_the_boundary():
    pak = pytest.importorskip("tadpak.pak").pak
    y = np.array([0, 1, 1, 1, 1, 0])
    scores = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    # 2 hits of 4 at K = 50: 100 * 2 >= 50 * 4 adjusts here, "2 > 2" does not.
    assert point_adjust(y, scores > 0.5, k=50).tolist() == [0, 1, 1, 1, 1, 0]
    assert pak(scores, y, 0.5, k=50).astype(int).tolist() == [0, 1, 1, 0, 0, 0]
    assert point_adjust(y, scores > 0.5, k=49).tolist() == (
        pak(scores, y, 0.5, k=49).astype(int).tolist()
    )


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #

SCORE_METRICS = [best_f1, pa_f1, pa_k_auc, pa_k_curve, roc_auc, average_precision]


@pytest.mark.parametrize("metric", SCORE_METRICS)
@pytest.mark.parametrize(
    "y_true, y_score, error, match",
    [
        ([[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.4]], ValueError, "y_true must be 1-D"),
        ([0, 2, 1], [0.1, 0.2, 0.3], ValueError, "y_true must be binary.*2"),
        ([0, np.nan, 1], [0.1, 0.2, 0.3], ValueError, "y_true must be binary"),
        (["a", "b"], [0.1, 0.2], TypeError, "y_true must hold 0/1 labels"),
        ([], [], ValueError, "y_true must not be empty"),
        ([0, 1, 1], [[0.1], [0.2], [0.3]], ValueError, "y_score must be 1-D"),
        ([0, 1, 1], ["a", "b", "c"], TypeError, "y_score must hold real numbers"),
        ([0, 1, 1], [0.1, 0.2], ValueError, "same length; got 3 and 2"),
        ([0, 1, 1], [0.1, np.nan, 0.3], ValueError, "y_score must be finite"),
        ([0, 1, 1], [0.1, 0.2, np.inf], ValueError, "y_score must be finite"),
        ([0, 0, 0], [0.1, 0.2, 0.3], ValueError, "y_true must contain at least one"),
        (
            [0, 1, 0],
            np.array([2**53, 2**53 + 1, 0], dtype=np.int64),
            ValueError,
            "y_score holds integers beyond 2\\*\\*53",
        ),
    ],
)
def test_invalid_inputs_name_the_argument(metric, y_true, y_score, error, match):
    with pytest.raises(error, match=match):
        metric(y_true, y_score)


def test_large_integer_scores_that_float64_keeps_apart_are_taken():
    y = [0, 1, 0]
    s = np.array([2**60, 2**61, 0], dtype=np.int64)
    assert roc_auc(y, s) == 1.0
    assert best_f1(y, s) == 1.0


def test_roc_auc_and_report_need_a_normal_point():
    with pytest.raises(ValueError, match="y_true must contain at least one normal"):
        roc_auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="y_true must contain at least one normal"):
        detection_report([1, 1], [0.1, 0.2])


@pytest.mark.parametrize(
    "ks, error, match",
    [
        ([0, 101], ValueError, r"ks must hold integer percentages.*101"),
        ([-1, 5], ValueError, r"ks must hold integer percentages.*-1"),
        ([2.5], ValueError, r"ks must hold integer percentages.*2.5"),
        ([np.nan], ValueError, "ks must hold integer percentages"),
        ([[1, 2]], ValueError, "ks must be a non-empty 1-D"),
        ([], ValueError, "ks must be a non-empty 1-D"),
        (["a"], TypeError, "ks must hold integer percentages"),
    ],
)
def test_invalid_ks(ks, error, match):
    with pytest.raises(error, match=match):
        pa_k_curve([0, 1], [0.1, 0.2], ks=ks)


def test_float_integer_ks_are_accepted():
    ks, _ = pa_k_curve([0, 1], [0.1, 0.2], ks=np.array([0.0, 50.0]))
    assert ks.tolist() == [0, 50] and ks.dtype.kind == "i"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"k": 101}, ValueError, "k must be an integer percentage.*101"),
        ({"k": 12.5}, ValueError, "k must be an integer percentage.*12.5"),
        ({"k": "5"}, TypeError, "k must be an integer percentage.*str"),
        ({"k": True}, TypeError, "k must be an integer percentage.*bool"),
        ({"y_pred": [0, 2, 1]}, ValueError, "y_pred must be binary"),
        ({"y_pred": [0, 1]}, ValueError, "y_true and y_pred must have the same"),
    ],
)
def test_invalid_point_adjust_arguments(kwargs, error, match):
    arguments = {"y_true": [0, 1, 1], "y_pred": [0, 1, 0], **kwargs}
    with pytest.raises(error, match=match):
        point_adjust(**arguments)


def test_get_scorer():
    assert get_scorer("pa_k_auc") is pa_k_auc_scorer
    assert set(SCORERS) == {
        "best_f1",
        "pa_f1",
        "pa_k_auc",
        "roc_auc",
        "average_precision",
        "vus_pr",
        "vus_roc",
        "range_auc_pr",
        "range_auc_roc",
        "range_f1",
        "affiliation_f1",
        "event_f1",
        "composite_f1",
    }
    with pytest.raises(ValueError, match=r"name must be one of \[.*'best_f1'.*'nope'"):
        get_scorer("nope")
    with pytest.raises(TypeError, match="name must be a str"):
        get_scorer(["pa_f1"])


# --------------------------------------------------------------------------- #
# scikit-learn scorers
# --------------------------------------------------------------------------- #


class _FirstColumnDetector(BaseEstimator):
    """Outlier detector whose score is the first feature, higher = more anomalous."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def decision_function(self, X):
        return np.asarray(X, dtype=float)[:, 0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "outlier_detector"
        return tags


@pytest.fixture(scope="module")
def folds_with_anomalies():
    rng = np.random.default_rng(2)
    y = np.zeros(90, dtype=int)
    for start in (5, 40, 70):  # one segment in each of the 3 contiguous folds
        y[start : start + 6] = 1
    X = np.column_stack([rng.normal(size=90) + 1.5 * y, rng.normal(size=90)])
    return X, y


@pytest.mark.parametrize(
    "name, metric",
    [
        ("best_f1", best_f1),
        ("pa_f1", pa_f1),
        ("pa_k_auc", pa_k_auc),
        ("roc_auc", roc_auc),
        ("average_precision", average_precision),
        ("vus_pr", vus_pr),
        ("vus_roc", vus_roc),
        ("range_auc_pr", range_auc_pr),
        ("range_auc_roc", range_auc_roc),
        ("range_f1", range_f1),
        ("affiliation_f1", affiliation_f1),
        ("event_f1", event_f1),
        ("composite_f1", composite_f1),
    ],
)
def test_scorers_in_cross_val_score(folds_with_anomalies, name, metric):
    X, y = folds_with_anomalies
    cv = KFold(n_splits=3)
    scores = cross_val_score(
        _FirstColumnDetector(),
        X,
        y,
        cv=cv,
        scoring=get_scorer(name),
        error_score="raise",
    )
    expected = [metric(y[test], X[test, 0]) for _, test in cv.split(X)]
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-15)


def test_scorer_objects_and_sklearn_roc_auc_agree(folds_with_anomalies):
    X, y = folds_with_anomalies
    detector = _FirstColumnDetector().fit(X, y)
    assert best_f1_scorer(detector, X, y) == best_f1(y, X[:, 0])
    assert pa_f1_scorer(detector, X, y) == pa_f1(y, X[:, 0])
    # sklearn's own "roc_auc" reads the same decision_function of an outlier detector.
    ours = cross_val_score(_FirstColumnDetector(), X, y, cv=3, scoring="roc_auc")
    assert ours == pytest.approx(
        [roc_auc_score(y[test], X[test, 0]) for _, test in KFold(3).split(X)]
    )
