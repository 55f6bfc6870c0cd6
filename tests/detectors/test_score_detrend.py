"""score_detrend: a series' scores less their moving median, for drifting series."""

import copy
import pickle

import numpy as np
import pytest

from alad import ActiveReconstructionDetector
from alad.metrics import detection_report
from alad.score_smoothing import detrend_scores

SPAN = 300
W = 10  # the window of the tiny detectors (conftest)


def _series(n, seed=0):
    """Two noisy cycles (periods 23 and 17)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    cycles = np.sin(2 * np.pi * t / np.array([23, 17]))
    return cycles + rng.normal(scale=0.1, size=(n, 2))


@pytest.fixture(scope="module")
def drifting():
    """Training series; a test series that drifts out of the training range
    on its first channel, with two short spikes early on; their labels."""
    X = _series(1600)
    test = _series(2400, seed=1)
    test[:, 0] += np.linspace(0.0, 6.0, len(test))
    y = np.zeros(len(test))
    for start in (400, 900):
        test[start : start + 10, 1] += 2.5
        y[start : start + 10] = 1
    return X, test, y


@pytest.fixture(scope="module")
def pair(drifting, make_tiny):
    """The same training, scored raw and detrended."""
    X, _, _ = drifting
    raw = make_tiny(max_epochs=3, score_detrend=None).fit(X)
    return raw, make_tiny(max_epochs=3, score_detrend=SPAN).fit(X)


# -- the function -------------------------------------------------------------
def test_detrend_scores_is_the_scores_less_a_mirrored_moving_median():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=500).astype(np.float32)
    detrended = detrend_scores(scores, 41)
    assert detrended.dtype == np.float64 and detrended.shape == scores.shape
    padded = np.concatenate([scores[20:0:-1], scores, scores[-2:-22:-1]])
    naive = np.array([np.median(padded[i : i + 41]) for i in range(len(scores))])
    np.testing.assert_allclose(detrended, scores - naive, rtol=1e-6)


def test_detrend_scores_removes_a_drift_and_keeps_a_short_anomaly():
    scores = np.linspace(0.0, 8.0, 2000)
    scores[300:320] += 2.0
    detrended = detrend_scores(scores, 400)
    assert detrended[310] > 1.5
    normal = np.r_[0:280, 340:2000]
    assert np.abs(detrended[normal]).max() < 1.0
    # a span longer than the series: the median of the (mirrored) series
    short = detrend_scores(np.r_[np.zeros(50), 5.0, np.zeros(49)], 1000)
    assert short[50] == 5.0 and np.all(short[:50] == 0)


# -- the detector -------------------------------------------------------------
def test_the_backbone_scores_are_detrended_training_and_test(pair, drifting):
    raw, detrended = pair
    _, test, _ = drifting
    np.testing.assert_allclose(
        detrended.decision_function(test),
        detrend_scores(raw.decision_function(test), SPAN),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        detrended.decision_scores_, detrend_scores(raw.decision_scores_, SPAN)
    )
    assert detrended.threshold_ == pytest.approx(
        np.percentile(detrended.decision_scores_, 90)
    )


def test_detrending_ranks_early_anomalies_above_a_late_drift(pair, drifting):
    raw, detrended = pair
    _, test, y = drifting
    late = slice(2000, None)  # normal, far out of the training range
    raw_scores = raw.decision_function(test)
    assert np.median(raw_scores[late]) > np.median(raw_scores[y == 1])
    scores = detrended.decision_function(test)
    assert np.median(scores[y == 1]) > np.quantile(scores[late], 0.75)
    assert (
        detection_report(y, scores)["roc_auc"]
        > detection_report(y, raw_scores)["roc_auc"] + 0.2
    )


def test_shorter_series_and_windows_are_measured_against_the_training_level(
    pair, drifting
):
    """Without a span of series around them, a constant: no ranking changes."""
    raw, detrended = pair
    _, test, _ = drifting
    level = np.median(raw.decision_scores_)
    assert detrended._score_level == pytest.approx(level)
    short = test[: SPAN - 1]
    np.testing.assert_allclose(
        detrended.decision_function(short),
        raw.decision_function(short) - level,
        rtol=1e-6,
        atol=1e-9,
    )
    windows = test[:400].reshape(-1, 10, 2)
    np.testing.assert_allclose(
        detrended.decision_function(windows),
        raw.decision_function(windows) - level,
        rtol=1e-6,
        atol=1e-9,
    )
    # a series of the span reads its own trend
    np.testing.assert_allclose(
        detrended.decision_function(test[:SPAN]),
        detrend_scores(raw.decision_function(test[:SPAN]), SPAN),
        rtol=1e-6,
        atol=1e-9,
    )


@pytest.fixture(scope="module")
def after_a_round(pair, drifting):
    """The pair after the same two rounds, (plain, detrended): windows a
    person chose (both spikes among them: a head joins the score), then the
    query's."""
    _, test, y = drifting
    dets = [copy.deepcopy(d) for d in pair]
    for det in dets:
        idx = np.r_[380:420, 880:920, 2000:2040]
        det.partial_fit(test[idx], y[idx])
        idx = det.query(test)
        det.partial_fit(test[idx], y[idx])
    return dets


def test_queries_read_the_plain_scores_and_learn_alike(pair, after_a_round, drifting):
    """The query ranks the backbone's own score: a detrending detector asks
    for the windows the plain one asks for, learns from them alike, and
    only scores differently."""
    _, test, _ = drifting
    np.testing.assert_array_equal(pair[1].query(test), pair[0].query(test))
    plain, detrended = after_a_round
    assert detrended._head is not None and detrended.n_labelled_windows_ > 0
    np.testing.assert_array_equal(detrended.query(test), plain.query(test))
    # the query's reference: the plain training scores, the head's reference
    # of the plain twin; the head's own reads the detrended ones
    assert plain._query_reference is None
    np.testing.assert_allclose(
        detrended._query_reference, plain._head_reference, rtol=1e-6
    )
    assert not np.allclose(detrended._head_reference, plain._head_reference)


def test_after_the_rounds_the_drift_still_does_not_win(after_a_round, drifting):
    _, test, y = drifting
    plain, detrended = after_a_round
    after = detrended.decision_function(test)
    assert np.median(after[y == 1]) > np.median(after[2000:])
    assert not np.array_equal(after, plain.decision_function(test))


def test_score_detrend_is_fixed_at_fit(pair, drifting):
    det = copy.deepcopy(pair[1]).set_params(score_detrend=None)
    with pytest.raises(ValueError, match="score_detrend was 300"):
        det.decision_function(drifting[1])


@pytest.mark.parametrize("value", [0, 1, -5, 2.5, "auto"])
def test_bad_score_detrend_is_named(value, drifting, make_tiny):
    with pytest.raises((ValueError, TypeError), match="score_detrend"):
        make_tiny(score_detrend=value).fit(drifting[0])


def test_a_threshold_from_labels_reads_the_labelled_windows_at_the_level(
    pair, drifting
):
    """Each labelled window is read as decision_function scores it alone: a
    window is shorter than the span, so less the training scores' level
    (the head aside: its part is held out)."""
    det = copy.deepcopy(pair[1]).set_params(thresholding="f1", score_head="none")
    _, test, y = drifting
    idx = np.r_[380:420, 880:920]  # whole windows, two of them anomalous
    det.partial_fit(test[idx], y[idx])
    assert det.threshold_source_ == "f1"
    scores, labels = det._labelled_scores()
    alone = [det.decision_function(test[idx][i : i + W]) for i in range(0, 80, W)]
    np.testing.assert_allclose(scores, np.concatenate(alone), rtol=1e-5, atol=1e-6)
    assert scores[labels == 1].mean() > scores[labels == 0].mean()


def test_a_detector_pickled_before_score_detrend_is_not_detrended(pair, drifting):
    raw = pair[0]
    state = copy.deepcopy(raw).__getstate__()
    state.pop("score_detrend")
    state["_fitted_with"].pop("score_detrend")
    state.pop("_score_level")
    old = ActiveReconstructionDetector.__new__(ActiveReconstructionDetector)
    old.__setstate__(state)
    assert old.score_detrend is None and old._fitted_with["score_detrend"] is None
    assert old._score_level is None
    test = drifting[1]
    np.testing.assert_array_equal(
        old.decision_function(test), raw.decision_function(test)
    )


def test_the_detrending_survives_pickling(pair, drifting):
    loaded = pickle.loads(pickle.dumps(pair[1]))
    test = drifting[1]
    np.testing.assert_array_equal(
        loaded.decision_function(test), pair[1].decision_function(test)
    )


@pytest.mark.parametrize("rounds", [False, True])
def test_the_safe_model_files_keep_the_detrending(
    rounds, pair, after_a_round, drifting, tmp_path
):
    from alad.labelling import load_detector, save_detector

    det = after_a_round[1] if rounds else pair[1]
    save_detector(det, tmp_path / "model")
    loaded = load_detector(tmp_path / "model")
    assert loaded._score_level == det._score_level
    for X in (drifting[1], drifting[1][:100]):
        np.testing.assert_array_equal(
            loaded.decision_function(X), det.decision_function(X)
        )
    np.testing.assert_array_equal(loaded.query(drifting[1]), det.query(drifting[1]))


def test_a_detector_pickled_before_the_plain_query_gets_its_reference(
    after_a_round, drifting
):
    detrended = after_a_round[1]
    state = copy.deepcopy(detrended).__getstate__()
    state.pop("_query_reference")
    old = ActiveReconstructionDetector.__new__(ActiveReconstructionDetector)
    old.__setstate__(state)
    np.testing.assert_allclose(old._query_reference, detrended._query_reference)
    test = drifting[1]
    np.testing.assert_array_equal(old.query(test), detrended.query(test))
