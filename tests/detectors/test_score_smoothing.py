"""score_smoothing: a series' scores averaged over a window around each timestep."""

import copy
import pickle

import numpy as np
import pytest

from alad import ActiveReconstructionDetector
from alad.score_smoothing import ScoreSmoother, multiscale_widths, smooth_scores

W = 10  # the window of the tiny detectors (conftest)


def _series(n, channels=1, seed=0):
    """A noisy cycle of 23 rows on each of ``channels`` channels."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    noise = rng.normal(scale=0.1, size=(n, channels))
    return np.sin(2 * np.pi * t / 23 + np.arange(channels)) + noise


@pytest.fixture(scope="module")
def univariate():
    """Training series, a test series with a level shift of 30 rows, its labels."""
    X = _series(1600)
    test = _series(400, seed=1)
    test[300:330] += 2.0
    y = np.zeros(len(test))
    y[300:330] = 1
    return X, test, y


@pytest.fixture(scope="module")
def pair(univariate, make_tiny):
    """The default detector and its unsmoothed twin (the same training)."""
    X, _, _ = univariate
    return make_tiny().fit(X), make_tiny(score_smoothing=None).fit(X)


# -- the function -----------------------------------------------------------
def test_smooth_scores_is_a_centred_moving_mean():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=200)
    width = 7
    # mirrored past the ends, the end values not repeated: d c b | a b c d
    padded = np.concatenate([scores[3:0:-1], scores, scores[-2:-5:-1]])
    naive = np.array([padded[i : i + width].mean() for i in range(len(scores))])
    np.testing.assert_allclose(smooth_scores(scores, width), naive)


@pytest.mark.parametrize("width", [3, 10, 25])
def test_a_spike_at_either_end_counts_as_one_in_the_middle(width):
    """The last timestep is the newest of a stream: repeating the end values
    past the ends made a spike there weigh about half of its own mean."""
    where = {"first": 0, "middle": 100, "last": 199}
    smoothed = {}
    for name, row in where.items():
        scores = np.zeros(200)
        scores[row] = 1.0
        smoothed[name] = smooth_scores(scores, width)[row]
    assert smoothed["first"] == pytest.approx(smoothed["middle"])
    assert smoothed["last"] == pytest.approx(smoothed["middle"])


def test_smooth_scores_of_width_one_is_the_scores_and_rows_are_apart():
    scores = np.arange(12, dtype=np.float32).reshape(2, 6)
    same = smooth_scores(scores, 1)
    assert same.dtype == np.float64 and np.array_equal(same, scores)
    rows = smooth_scores(scores, 3, axis=1)
    np.testing.assert_allclose(rows[1], smooth_scores(scores[1], 3))
    assert smooth_scores(np.full(50, 2.5), 9).tolist() == [2.5] * 50


# -- the detector -------------------------------------------------------------
def _scanned(raw, X):
    """``raw``'s scores of ``X`` scanned over the widths of the window."""
    smoother = ScoreSmoother(multiscale_widths(W)).fit(raw.decision_scores_)
    return smoother.transform(raw.decision_function(X))


def test_the_scan_keeps_a_short_and_finds_a_long_faint_anomaly():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=2000), rng.normal(size=400)
    test[100:102] += 6  # two timesteps: a mean over 40 would drown them
    test[250:330] += 0.8  # long and faint: no single timestep stands out
    one = ScoreSmoother((40,)).fit(train).transform(test)
    scan = ScoreSmoother((1, 10, 20, 40)).fit(train).transform(test)
    normal = np.r_[0:90, 140:240, 340:400]
    assert scan[100] > np.max(scan[normal])
    assert np.max(one[normal]) > one[100]  # the mean alone loses the short one
    assert np.median(scan[250:330]) > np.quantile(scan[normal], 0.95)
    assert np.median(test[250:330]) < np.quantile(test[normal], 0.95)


def test_multiscale_widths_are_distinct_and_end_at_the_window():
    assert multiscale_widths(50) == (1, 12, 25, 50)
    assert multiscale_widths(2) == (1, 2)
    assert multiscale_widths(1) == (1,)


def test_a_univariate_series_is_scanned_over_widths_by_default(pair, univariate):
    smoothed, raw = pair
    X, test, _ = univariate
    assert smoothed.score_smoothing == "auto"
    assert smoothed._smoother.widths == multiscale_widths(W) == (1, 2, 5, 10)
    np.testing.assert_allclose(smoothed.decision_function(test), _scanned(raw, test))
    # the training scores, and the threshold drawn from them, are scanned too
    np.testing.assert_allclose(smoothed.decision_scores_, _scanned(raw, X))
    assert smoothed.threshold_ == pytest.approx(
        np.percentile(smoothed.decision_scores_, 90)
    )


def test_a_multivariate_series_is_not_smoothed_by_default(make_tiny):
    X = _series(600, channels=3)
    auto = make_tiny(max_epochs=1).fit(X)
    none = make_tiny(max_epochs=1, score_smoothing=None).fit(X)
    assert auto._smoother is None
    np.testing.assert_array_equal(auto.decision_function(X), none.decision_function(X))
    window = make_tiny(max_epochs=1, score_smoothing="window").fit(X)
    np.testing.assert_allclose(
        window.decision_function(X), smooth_scores(none.decision_function(X), W)
    )


def test_an_integer_width_and_windows_input(pair, univariate, make_tiny):
    _, raw = pair
    X, test, _ = univariate
    seven = make_tiny(score_smoothing=7).fit(X)
    np.testing.assert_allclose(
        seven.decision_function(test), smooth_scores(raw.decision_function(test), 7)
    )
    # a stack of windows: one score per window, never smoothed across them
    windows = test[: 8 * W].reshape(8, W, 1)
    np.testing.assert_array_equal(
        seven.decision_function(windows), raw.decision_function(windows)
    )


def test_labels_change_nothing_but_the_smoothing(pair, univariate):
    """Queries and training do not read it: a labelled loop stays paired."""
    smoothed, raw = (copy.deepcopy(det) for det in pair)
    _, test, y = univariate
    for _ in range(2):
        idx = smoothed.query(test)
        assert np.array_equal(idx, raw.query(test))
        smoothed.partial_fit(test[idx], y[idx])
        raw.partial_fit(test[idx], y[idx])
    np.testing.assert_allclose(
        smoothed.decision_function(test), _scanned(raw, test), rtol=1e-6
    )


def test_score_smoothing_is_fixed_at_fit(pair, univariate):
    det = copy.deepcopy(pair[0]).set_params(score_smoothing=None)
    with pytest.raises(ValueError, match="score_smoothing was 'auto'"):
        det.decision_function(univariate[1])


@pytest.mark.parametrize("value", [0, -3, 2.5, "mean"])
def test_bad_score_smoothing_is_named(value, univariate, make_tiny):
    with pytest.raises((ValueError, TypeError), match="score_smoothing"):
        make_tiny(score_smoothing=value).fit(univariate[0])


def test_a_detector_pickled_before_score_smoothing_keeps_its_scores(pair, univariate):
    _, raw = pair
    state = copy.deepcopy(raw).__getstate__()
    state.pop("score_smoothing")
    state["_fitted_with"].pop("score_smoothing")
    old = ActiveReconstructionDetector.__new__(ActiveReconstructionDetector)
    old.__setstate__(state)
    assert old.score_smoothing is None
    assert old._fitted_with["score_smoothing"] is None
    test = univariate[1]
    np.testing.assert_array_equal(
        old.decision_function(test), raw.decision_function(test)
    )
    # the parameter is bound to the fit like any other
    with pytest.raises(ValueError, match="score_smoothing was None"):
        old.set_params(score_smoothing="auto").decision_function(test)


def test_the_smoothing_survives_pickling(pair, univariate):
    smoothed = pair[0]
    loaded = pickle.loads(pickle.dumps(smoothed))
    test = univariate[1]
    np.testing.assert_array_equal(
        loaded.decision_function(test), smoothed.decision_function(test)
    )


def test_a_threshold_from_labels_reads_the_labelled_windows_scanned(pair, univariate):
    """thresholding="f1" ranks the labelled timesteps as the series' are:
    each labelled window scored as decision_function scores it alone,
    scanned over the widths (the head aside: its part is held out)."""
    smoothed = copy.deepcopy(pair[0]).set_params(thresholding="f1", score_head="none")
    _, test, y = univariate
    idx = np.r_[280:290, 290:300, 300:310, 310:320]  # whole windows, two anomalous
    smoothed.partial_fit(test[idx], y[idx])
    scores, labels = smoothed._labelled_scores()
    windows = smoothed._labelled_windows
    assert scores.shape == labels.shape == (windows.shape[0] * W,)
    assert smoothed.threshold_source_ == "f1"
    assert np.isfinite(smoothed.threshold_)
    alone = [smoothed.decision_function(test[idx][i : i + W]) for i in range(0, 40, W)]
    np.testing.assert_allclose(scores, np.concatenate(alone), rtol=1e-5, atol=1e-6)
    # the anomalous timesteps rank above the normal ones they were labelled with
    assert scores[labels == 1].mean() > scores[labels == 0].mean()
