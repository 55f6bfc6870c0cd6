"""Behaviour of ActiveReconstructionDetector: contract, active loop, persistence."""

import copy
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alad import (
    ActiveReconstructionDetector,
    FeedbackDivergenceWarning,
    PoolExhaustedError,
)
from alad.active import run_active_learning
from alad.detectors.active_reconstruction import MIN_TRAINING_WINDOWS
from alad.metrics import pa_k_auc_scorer
from alad.windows import grid_starts

W = 10
TINY = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16, "dropout": 0.1}


def make_detector(**params):
    # the backbone's score as it is: these tests check its formulas, and
    # score_detrend (the default) has its own module, test_score_detrend.py;
    # the backbone learns from the first label (feedback_min_anomalous="auto"
    # waits for three anomalous windows: test_feedback_schedule.py)
    defaults = dict(
        score_detrend=None,
        feedback_min_anomalous=0,
        window_size=W,
        max_epochs=3,
        backbone_params=TINY,
        random_state=0,
        top_k=2,
        n_bins=2,
        per_bin=1,
    )
    return ActiveReconstructionDetector(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted(data):
    return make_detector().fit(data.X_train)


def fresh(fitted):
    """A private copy of the module-scoped fitted detector."""
    return copy.deepcopy(fitted)


# -- fit and scores ---------------------------------------------------------
def test_fit_returns_self_and_sets_attributes(data):
    det = make_detector()
    assert det.fit(data.X_train) is det
    assert det.n_features_in_ == 3
    assert det.device_ == "cpu"
    assert det.stride_ == W
    assert det.decision_scores_.shape == (len(data.X_train),)
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 90))
    assert det.labels_.mean() == pytest.approx(0.1, abs=0.02)


def test_scores_cover_every_timestep_including_the_tail(fitted, data):
    X = data.X_test[: 5 * W + 7]  # a tail of 7 rows after the last full window
    scores = fitted.decision_function(X)
    assert scores.shape == (len(X),) and scores.dtype == np.float64
    assert np.isfinite(scores).all()
    # the tail comes from a window aligned to the end of the series
    end_window = fitted.decision_function(X[-W:])
    np.testing.assert_allclose(scores[-7:], end_window[-7:], rtol=1e-6)


def _windows_of(det, X):
    return torch.from_numpy(det._standardized(X).reshape(-1, W, X.shape[1]))


def test_scores_are_the_largest_channel_error_over_its_training_quantile(fitted, data):
    X = data.X_test[: 3 * W]
    module = fitted.net_.module_.eval()
    x = _windows_of(fitted, X)
    with torch.no_grad():
        errors = (module(x) - x).abs()
    scale = torch.as_tensor(fitted.channel_scale_, dtype=torch.float32)
    expected = (errors / scale).amax(dim=-1).reshape(-1).double().numpy()
    np.testing.assert_allclose(fitted.decision_function(X), expected, rtol=1e-5)


def test_channel_scale_is_the_training_quantile_of_each_channels_error(fitted, data):
    module = fitted.net_.module_.eval()
    x = _windows_of(fitted, data.X_train[: len(data.X_train) // W * W])
    with torch.no_grad():
        errors = (module(x) - x).abs().reshape(-1, x.shape[-1]).double().numpy()
    assert fitted.channel_scale_.shape == (data.X_train.shape[1],)
    np.testing.assert_allclose(
        fitted.channel_scale_, np.quantile(errors, 0.999, axis=0), rtol=1e-4
    )
    # the training scores are a rescoring of the training data
    np.testing.assert_allclose(
        fitted.decision_function(data.X_train), fitted.decision_scores_, rtol=1e-6
    )


def _channel_errors(det, windows):
    module = det.net_.module_.eval()
    x = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32))
    with torch.no_grad():
        return (module(x) - x).abs().reshape(-1, x.shape[-1]).double().numpy()


@pytest.mark.parametrize("with_labels", [False, True])
def test_scale_with_labels_adds_timesteps_labelled_normal(fitted, data, with_labels):
    det = fresh(fitted).set_params(scale_with_labels=with_labels, head_weight=0)
    rows = np.arange(6 * W)
    X, y = data.X_test[rows].copy(), np.zeros(len(rows))
    X[:, 0] += 5 * data.X_train[:, 0].std()  # a level training never had
    y[2 * W : 2 * W + 3] = 1  # one window holds anomalous timesteps too
    det.partial_fit(X, y)
    n = len(data.X_train) // W * W
    training = det._standardized(data.X_train[:n]).reshape(-1, W, 3)
    errors = _channel_errors(det, training)
    if with_labels:
        labelled = _channel_errors(det, det._labelled_windows)
        normal = det._labelled_targets.ravel() == 0
        errors = np.concatenate([errors, labelled[normal]])
    np.testing.assert_allclose(
        det.channel_scale_, np.quantile(errors, 0.999, axis=0), rtol=1e-4
    )
    np.testing.assert_allclose(
        det.decision_function(data.X_train), det.decision_scores_, rtol=1e-6
    )


def test_scale_with_labels_weighs_a_channel_the_labels_call_normal_less(fitted, data):
    X = data.X_test[: 6 * W].copy()
    X[:, 0] += 5 * data.X_train[:, 0].std()
    scales = [
        fresh(fitted)
        .set_params(scale_with_labels=flag)
        .partial_fit(X, np.zeros(len(X)))
        .channel_scale_
        for flag in (False, True)
    ]
    assert scales[1][0] > 2 * scales[0][0]
    with pytest.raises(ValueError, match="scale_with_labels"):
        make_detector(scale_with_labels="yes").fit(data.X_train)


def assert_scores_are_eq4(det, X):
    """Eq. 4: the mean over channels of the absolute reconstruction error."""
    x = _windows_of(det, X)
    with torch.no_grad():
        expected = (det.net_.module_(x) - x).abs().mean(dim=-1)
    np.testing.assert_allclose(
        det.decision_function(X), expected.reshape(-1).double().numpy(), rtol=1e-5
    )


def test_mean_channel_score_is_eq4_mean_absolute_error(data):
    det = make_detector(channel_score="mean", max_epochs=1).fit(data.X_train)
    assert det.channel_scale_ is None
    assert_scores_are_eq4(det, data.X_test[: 3 * W])


def test_backbones_with_a_score_of_their_own_keep_it(data):
    det = make_detector(backbone="usad", backbone_params=None, max_epochs=1)
    det.fit(data.X_train)
    assert det.channel_scale_ is None  # USAD's two errors, as its paper
    # ... unless the score asked for is the reconstruction error
    det.set_params(anomaly_score="reconstruction").fit(data.X_train)
    assert det.channel_scale_ is not None


def test_feedback_refreshes_the_channel_scale(fitted, data):
    det = fresh(fitted)
    before = det.channel_scale_.copy()
    idx = det.query(data.X_test)
    det.partial_fit(data.X_test[idx], data.y_test[idx])
    assert not np.allclose(det.channel_scale_, before)
    np.testing.assert_allclose(
        det._backbone_score(data.X_train),
        det._training_scores(det.net_.module_)[1],
        rtol=1e-6,
    )


def test_channel_score_is_fixed_at_fit(fitted, data):
    det = fresh(fitted).set_params(channel_score="mean")
    with pytest.raises(ValueError, match="channel_score"):
        det.decision_function(data.X_test)


def test_overlapping_stride_averages_windows(data):
    """Windows every half window (and one aligned to the end): a timestep's
    score is the mean of its position's score in each window covering it."""
    det = make_detector(stride=W // 2, max_epochs=1).fit(data.X_train)
    X = data.X_test[:203]
    scores = det.decision_function(X)
    assert scores.shape == (203,) and np.isfinite(scores).all()
    starts = np.r_[np.arange(0, 203 - W + 1, W // 2), 203 - W]
    module = det.net_.module_.eval()
    x = torch.from_numpy(np.stack([det._standardized(X)[s : s + W] for s in starts]))
    with torch.no_grad():
        errors = (module(x) - x).abs()
    scale = torch.as_tensor(det.channel_scale_, dtype=torch.float32)
    per_position = (errors / scale).amax(dim=-1).double().numpy()
    total, count = np.zeros(len(X)), np.zeros(len(X))
    for start, window_scores in zip(starts, per_position):
        total[start : start + W] += window_scores
        count[start : start + W] += 1
    np.testing.assert_allclose(scores, total / count, rtol=1e-5)


@pytest.mark.parametrize(
    ("stride", "rows", "channels", "expected"),
    [
        # a univariate series long enough for MIN_TRAINING_WINDOWS windows
        # overlapping by half: half the window
        ("auto", 2600, 1, W // 2),
        # a shorter one: the step that still gives them ((1300 - 10) // 500)
        ("auto", 1300, 1, 2),
        # too short for them even at every start: every start
        ("auto", 300, 1, 1),
        ("auto", 300, 3, W),  # a multivariate one: windows do not overlap
        (None, 300, 1, W),  # the paper's non-overlapping windows
        (3, 300, 1, 3),
    ],
)
def test_stride_auto_overlaps_univariate_windows(stride, rows, channels, expected):
    X = _cycles(rows, 37, channels)
    det = make_detector(stride=stride, max_epochs=1).fit(X)
    assert det.stride_ == expected and det.score_stride_ == expected
    assert det.stride == stride  # the parameter is left as given
    if stride == "auto" and channels == 1:
        assert len(grid_starts(rows, W, det.stride_)) >= min(
            MIN_TRAINING_WINDOWS, rows - W + 1
        )
    scores = det.decision_function(X[:100])
    assert scores.shape == (100,) and np.isfinite(scores).all()


def _cycles(n, period, channels=1, seed=0):
    """A noisy cycle of ``period`` rows (a clear autocorrelation peak)."""
    t = np.arange(n)[:, None]
    noise = np.random.default_rng(seed).normal(scale=0.1, size=(n, channels))
    return np.sin(2 * np.pi * t / period + np.arange(channels)) + noise


@pytest.mark.parametrize(
    ("X", "expected"),
    [
        # a univariate cycle: one period per window, stepped by an eighth
        (_cycles(4100, 24), (24, 3)),
        # ... shortened on a short series (MIN_TRAINING_WINDOWS)
        (_cycles(600, 24), (24, 1)),
        # no cycle: the paper's 50, overlapping by half (stride="auto")
        (np.random.default_rng(0).normal(size=(12600, 1)), (50, 25)),
        # several channels: no period is read, windows do not overlap
        (_cycles(600, 24, channels=3), (50, 50)),
    ],
)
def test_window_size_auto_takes_a_univariate_period(X, expected):
    det = make_detector(window_size="auto", max_epochs=1).fit(X)
    assert (det.window_size_, det.stride_) == expected
    assert det.window_size == "auto"  # the parameter is left as given
    scores = det.decision_function(X[:100])
    assert scores.shape == (100,) and np.isfinite(scores).all()
    # queries and labels come in windows of the resolved length
    idx = det.query(X[:300])
    assert len(idx) % det.window_size_ == 0
    det.partial_fit(X[:300][idx], np.zeros(len(idx), dtype=int))
    assert det.n_labelled_windows_ == len(idx) // det.window_size_


def test_window_size_auto_on_windows_takes_their_length(data):
    windows = data.X_train[: 40 * 7].reshape(40, 7, 3)
    det = make_detector(window_size="auto", max_epochs=1).fit(windows)
    assert det.window_size_ == 7
    assert det.decision_function(windows[:5]).shape == (5,)
    with pytest.raises(ValueError, match="window_size=7"):
        det.decision_function(data.X_test[: 4 * W].reshape(4, W, 3))


def test_window_size_auto_survives_pickling_and_set_params(data):
    X = _cycles(600, 24)
    det = make_detector(window_size="auto", max_epochs=1).fit(X)
    loaded = pickle.loads(pickle.dumps(det))
    assert loaded.window_size_ == 24
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))
    with pytest.raises(ValueError, match="window_size was 'auto'"):
        det.set_params(window_size=24).decision_function(X)


def test_a_failed_refit_with_window_size_auto_keeps_the_fitted_window():
    X = _cycles(600, 24)
    det = make_detector(max_epochs=1).fit(X)
    det.set_params(window_size="auto")
    with pytest.raises(TypeError, match="known_anomalies"):
        det.fit(X, known_anomalies=np.zeros(len(X)))  # fails after the window
    assert (det.window_size_, det.stride_) == (W, 1)


def test_window_size_auto_needs_a_series_as_long_as_its_window():
    with pytest.raises(ValueError, match="fewer than window_size=50"):
        make_detector(window_size="auto").fit(np.zeros((30, 2)))


def test_windows_input_gives_one_score_per_window(fitted, data):
    windows = data.X_test[: 6 * W].reshape(6, W, 3)
    scores = fitted.decision_function(windows)
    series_scores = fitted.decision_function(data.X_test[: 6 * W])
    np.testing.assert_allclose(
        scores, series_scores.reshape(6, W).mean(axis=1), rtol=1e-6
    )


def test_fit_on_windows(data):
    windows = data.X_train[: 100 * W].reshape(100, W, 3)
    det = make_detector(max_epochs=1).fit(windows)
    assert det.decision_scores_.shape == (100,)


def test_known_anomalies_are_left_out_of_training(data):
    flags = np.zeros(len(data.X_train), dtype=bool)
    flags[: len(flags) // 2] = True
    det = make_detector(max_epochs=1, validation_fraction=0).fit(
        data.X_train, known_anomalies=flags
    )
    assert det._clean_starts.min() >= len(flags) // 2
    assert det.decision_scores_.shape == (len(data.X_train),)
    with pytest.raises(TypeError, match="known_anomalies"):
        make_detector().fit(data.X_train, known_anomalies=flags.astype(int))
    with pytest.raises(ValueError, match="no normal window"):
        make_detector().fit(data.X_train, known_anomalies=np.ones_like(flags))


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((W - 1, 3)), "fewer than window_size"),
        (np.zeros((50, 4)), "4 features"),
        (np.zeros(50), "Reshape your data"),
        (np.full((50, 3), np.nan), "NaN"),
        (np.full((50, 3), np.inf), "infinity"),
        (np.zeros((4, W + 1, 3)), "window_size=10"),
        (np.zeros((4, W, 2)), "2 channels"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(fitted, X, match):
    with pytest.raises(ValueError, match=match):
        fitted.decision_function(X)


def test_methods_before_fit_raise_not_fitted(data):
    det = make_detector()
    for call in (
        lambda: det.decision_function(data.X_test),
        lambda: det.query(data.X_test),
        lambda: det.partial_fit(data.X_test[:W], np.zeros(W)),
        lambda: det.predict(data.X_test),
    ):
        with pytest.raises(NotFittedError):
            call()


def test_invalid_parameters_are_named(data):
    with pytest.raises(ValueError, match="window_size"):
        make_detector(window_size=1).fit(data.X_train)
    with pytest.raises(ValueError, match="query_strategy"):
        make_detector(query_strategy="best").fit(data.X_train)
    with pytest.raises(ValueError, match="stride must be at most"):
        make_detector(stride=W + 1).fit(data.X_train)
    with pytest.raises(ValueError, match="backbone"):
        make_detector(backbone="nope").fit(data.X_train)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            make_detector(device="cuda").fit(data.X_train)


def test_eval_batch_size_auto_is_64_on_the_cpu_and_changes_no_score(fitted, data):
    from alad.detectors.active_reconstruction import (
        ACCELERATOR_EVAL_BATCH,
        CPU_EVAL_BATCH,
    )

    assert fitted.eval_batch_size == "auto" and fitted.device_ == "cpu"
    assert fitted._eval_batch() == CPU_EVAL_BATCH == 64
    other = fresh(fitted)
    other.device_ = "cuda:0"  # how "auto" reads an accelerator (nothing runs)
    assert other._eval_batch() == ACCELERATOR_EVAL_BATCH == 256
    for size in (7, 256):
        sized = fresh(fitted).set_params(eval_batch_size=size)
        assert sized._eval_batch() == size
        np.testing.assert_allclose(
            sized.decision_function(data.X_test),
            fitted.decision_function(data.X_test),
            rtol=1e-5,
            atol=1e-7,
        )
    with pytest.raises(ValueError, match="eval_batch_size"):
        make_detector(eval_batch_size="big").fit(data.X_train)


# -- PyOD contract ------------------------------------------------------------
def test_pyod_contract(fitted, data):
    X = data.X_test[:500]
    scores = fitted.decision_function(X)
    labels = fitted.predict(X)
    np.testing.assert_array_equal(labels, (scores > fitted.threshold_).astype(int))
    for method in ("linear", "unify"):
        proba = fitted.predict_proba(X, method=method)
        assert proba.shape == (500, 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert ((proba >= 0) & (proba <= 1)).all()
    with pytest.raises(ValueError, match="method"):
        fitted.predict_proba(X, method="softmax")
    confidence = fitted.predict_confidence(X)
    assert confidence.shape == (500,) and ((confidence >= 0) & (confidence <= 1)).all()
    labels2, confidence2 = fitted.predict(X, return_confidence=True)
    np.testing.assert_array_equal(labels, labels2)
    np.testing.assert_allclose(confidence, confidence2)


def test_fit_predict_returns_training_labels(data):
    det = make_detector(max_epochs=1)
    labels = det.fit_predict(data.X_train)
    np.testing.assert_array_equal(labels, det.labels_)


# -- query --------------------------------------------------------------------
def test_query_returns_whole_windows_in_time_order(fitted, data):
    pool = data.X_test[:1000]
    idx = fitted.query(pool)
    assert idx.dtype == np.int64
    windows = idx.reshape(-1, W)
    assert len(windows) == 2 + 2 * 1  # top_k + n_bins * per_bin
    np.testing.assert_array_equal(
        windows - windows[:, :1], np.tile(np.arange(W), (4, 1))
    )
    assert (windows[:, 0] % W == 0).all()
    assert (np.diff(windows[:, 0]) > 0).all()
    assert pool[idx].reshape(-1, W, 3).shape == (4, W, 3)


def test_query_top_k_part_holds_the_highest_scoring_windows(fitted, data):
    pool = data.X_test[:1000]
    det = fresh(fitted).set_params(query_strategy="top_k", n_bins=1, per_bin=0)
    idx = det.query(pool)
    window_scores = det.decision_function(pool.reshape(-1, W, 3))
    expected = np.sort(np.argsort(-window_scores, kind="stable")[:2])
    np.testing.assert_array_equal(idx.reshape(-1, W)[:, 0] // W, expected)


def test_query_skips_labelled_rows_and_exhausts(fitted, data):
    pool = data.X_test[: 8 * W]
    known = np.full(len(pool), np.nan)
    seen = set()
    for _ in range(2):
        idx = fitted.query(pool, y=known)
        starts = set(idx.reshape(-1, W)[:, 0].tolist())
        assert not starts & seen
        seen |= starts
        known[idx] = 0
    with pytest.raises(PoolExhaustedError):
        fitted.query(pool, y=known)
    # a window with a single labelled row is not offered again
    known = np.full(len(pool), np.nan)
    known[np.arange(0, len(pool), W)] = 0
    with pytest.raises(PoolExhaustedError):
        fitted.query(pool, y=known)


def test_query_asks_about_one_of_equal_windows(fitted, data):
    """A stuck sensor's flat windows score alike and ranked side by side:
    one round asked about each copy, while the detector learns one label
    for all and charges one (a person labelled 15 windows under budget=10)."""
    pool = data.X_test[: 12 * W].copy()
    pool[2 * W : 8 * W] = 5.0  # six equal windows, far above the rest
    det = fresh(fitted).set_params(query_strategy="top_k", n_bins=1, per_bin=0)
    first = det.query(pool, n_queries=3).reshape(-1, W)[:, 0] // W
    assert 2 in first and not set(first) & {3, 4, 5, 6, 7}
    # none of the copies once one is labelled
    y = np.full(len(pool), np.nan)
    y[2 * W : 3 * W] = 1
    again = det.query(pool, y=y, n_queries=3).reshape(-1, W)[:, 0] // W
    assert not set(again) & {2, 3, 4, 5, 6, 7}


def test_query_on_windows_returns_window_indices(fitted, data):
    windows = data.X_test[: 30 * W].reshape(30, W, 3)
    y = np.full(30, np.nan)
    y[:10] = 0
    idx = fitted.query(windows, y=y, n_queries=5)
    assert len(idx) == 5 and (idx >= 10).all() and len(set(idx)) == 5


@pytest.mark.parametrize("strategy", ["hybrid", "top_k", "interval", "random"])
def test_query_is_reproducible(data, fitted, strategy):
    det = fresh(fitted).set_params(query_strategy=strategy)
    pool = data.X_test[:2000]
    np.testing.assert_array_equal(det.query(pool), det.query(pool))
    assert len(np.unique(det.query(pool, n_queries=7))) == 7 * W


def test_query_bad_arguments(fitted, data):
    pool = data.X_test[:500]
    with pytest.raises(ValueError, match="n_queries"):
        fitted.query(pool, n_queries=0)
    with pytest.raises(ValueError, match="one entry per row"):
        fitted.query(pool, y=np.zeros(10))
    with pytest.raises(ValueError, match="only 0"):
        fitted.query(pool, y=np.full(len(pool), 2.0))


def test_budget_caps_and_then_stops_queries(fitted, data):
    det = fresh(fitted).set_params(budget=5)
    pool, labels = data.X_test[:1000], data.y_test[:1000]
    idx = det.query(pool)
    assert len(idx) == 4 * W
    det.partial_fit(pool[idx], labels[idx])
    known = np.full(len(pool), np.nan)
    known[idx] = labels[idx]
    idx = det.query(pool, y=known)
    assert len(idx) == 1 * W
    det.partial_fit(pool[idx], labels[idx])
    with pytest.raises(ValueError, match="budget"):
        det.query(pool)
    with pytest.raises(ValueError, match="budget"):
        det.partial_fit(pool[:W], labels[:W])


# -- partial_fit --------------------------------------------------------------
def test_partial_fit_continues_and_keeps_threshold_consistent(fitted, data):
    det = fresh(fitted)
    before = {k: v.clone() for k, v in det.net_.module_.state_dict().items()}
    pool, labels = data.X_test[:1000], data.y_test[:1000]
    idx = det.query(pool)
    assert det.partial_fit(pool[idx], labels[idx]) is det
    after = det.net_.module_.state_dict()
    moved = [float((after[k] - before[k]).abs().max()) for k in before]
    assert max(moved) > 0  # the model learnt
    assert max(moved) < 0.1  # from where it was, not from a fresh start
    assert det.n_feedback_rounds_ == 1 and det.n_labelled_windows_ == 4
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 90))
    np.testing.assert_array_equal(det.labels_, det.decision_scores_ > det.threshold_)
    record = det.feedback_history_[-1]
    assert record["n_windows"] == 4 and len(record["train_loss"]) == det.feedback_epochs


def test_partial_fit_accepts_windows_with_window_or_timestep_labels(fitted, data):
    det = fresh(fitted).set_params(feedback_epochs=1)
    windows = data.X_test[: 4 * W].reshape(4, W, 3)
    det.partial_fit(windows, np.array([0, 1, 0, np.nan]))
    assert det.n_labelled_windows_ == 3  # the window labelled nan is not counted
    det.partial_fit(windows, np.zeros((4, W)))
    # the same windows, labelled per timestep: three labelled again, one new
    assert det.n_labelled_windows_ == 4
    np.testing.assert_array_equal(det._labelled_targets, 0.0)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.zeros((W + 3, 3)), np.zeros(W + 3), "multiple of window_size"),
        (np.zeros((W, 3)), np.zeros(W - 1), "one label per row"),
        (np.zeros((W, 3)), np.full(W, 2.0), "only 0"),
        (np.zeros((W, 3)), np.full(W, np.nan), "no label"),
        (np.zeros((2, W, 3)), np.zeros(3), r"shape \(2,\)"),
    ],
)
def test_partial_fit_bad_input(fitted, X, y, match):
    det = fresh(fitted)
    with pytest.raises(ValueError, match=match):
        det.partial_fit(X, y)
    assert det.n_feedback_rounds_ == 0


@pytest.mark.parametrize(
    "params",
    [
        {"feedback_loss": "weighted", "anomaly_weight": 0.5},
        {"mask_ratio": 0.0},
        {"anomaly_margin": 1.0},
        {"normal_replay": 1.0},
        {"feedback_replay": False},
    ],
)
def test_feedback_variants_train(fitted, data, params):
    det = fresh(fitted).set_params(feedback_epochs=2, **params)
    pool, labels = data.X_test[:1000], data.y_test[:1000]
    for _ in range(2):
        known = np.full(len(pool), np.nan)
        idx = det.query(pool, y=known)
        det.partial_fit(pool[idx], labels[idx])
    assert det.n_feedback_rounds_ == 2
    assert np.isfinite(det.decision_function(pool)).all()


def test_diverging_feedback_is_rolled_back(fitted, data):
    det = fresh(fitted).set_params(
        feedback_lr=1e30, max_grad_norm=None, mask_ratio=0.0, feedback_epochs=3
    )
    before = {k: v.clone() for k, v in det.net_.module_.state_dict().items()}
    windows = data.X_test[: 4 * W].reshape(4, W, 3)
    with pytest.warns(FeedbackDivergenceWarning, match="rolled back"):
        det.partial_fit(windows, np.array([1, 1, 0, 0]))
    for key, value in det.net_.module_.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert det.n_feedback_rounds_ == 0 and det.feedback_history_[-1]["rolled_back"]
    assert np.isfinite(det.decision_function(data.X_test[:200])).all()


def test_interrupted_feedback_restores_weights(fitted, data, monkeypatch):
    det = fresh(fitted)
    before = {k: v.clone() for k, v in det.net_.module_.state_dict().items()}
    from alad.training import nets

    def explode(self, batch, **kwargs):
        self.module_.head[0].weight.data.fill_(3.0)  # half an update
        raise RuntimeError("power cut")

    monkeypatch.setattr(nets.FeedbackNet, "train_step", explode)
    with pytest.raises(RuntimeError, match="power cut"):
        det.partial_fit(data.X_test[:W], np.zeros(W))
    for key, value in det.net_.module_.state_dict().items():
        torch.testing.assert_close(value, before[key])


def test_the_users_loop_runs_until_the_budget(fitted, data):
    det = fresh(fitted).set_params(feedback_epochs=2)
    pool, labels = data.X_test[:1500], data.y_test[:1500]
    result = run_active_learning(
        det,
        pool,
        labels,
        budget=10,
        X_eval=data.X_test[1500:],
        y_eval=data.y_test[1500:],
    )
    assert [r["n_labelled"] for r in result.history] == [0, 4, 8, 10]
    assert det.n_labelled_windows_ == 10
    assert {"f1", "f1_pa", "pa_k_auc", "roc_auc"} <= set(result.history[-1])
    assert np.isfinite(result.known).sum() == 10 * W


# -- reproducibility, persistence, devices ---------------------------------
def test_same_random_state_gives_identical_scores(data):
    a = make_detector(max_epochs=2).fit(data.X_train).decision_function(data.X_test)
    b = make_detector(max_epochs=2).fit(data.X_train).decision_function(data.X_test)
    np.testing.assert_array_equal(a, b)


def test_fit_leaves_the_global_torch_rng_alone(data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_detector(max_epochs=1).fit(data.X_train[:300])
    torch.testing.assert_close(torch.rand(3), expected)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_round_trip_gives_identical_scores_and_keeps_learning(fitted, data, dump):
    det = fresh(fitted)
    buffer = io.BytesIO()
    if dump == "pickle":
        pickle.dump(det, buffer)
        buffer.seek(0)
        loaded = pickle.load(buffer)
    else:
        joblib.dump(det, buffer)
        buffer.seek(0)
        loaded = joblib.load(buffer)
    X = data.X_test[:500]
    np.testing.assert_array_equal(det.decision_function(X), loaded.decision_function(X))
    idx = loaded.query(X)
    loaded.partial_fit(X[idx], data.y_test[:500][idx])
    assert loaded.n_feedback_rounds_ == 1


def test_cuda_model_loads_on_a_cpu_only_machine(fitted, data, monkeypatch):
    """Simulate a GPU-trained pickle opened where CUDA is missing."""
    det = fresh(fitted)
    det.device_ = "cuda"
    det.net_.device = "cuda"
    buffer = io.BytesIO()
    with monkeypatch.context() as patch:
        # pretend the tensors came from a GPU: skorch maps them by net.device
        patch.setattr(torch.cuda, "is_available", lambda: False)
        pickle.dump(det, buffer)
        buffer.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = pickle.load(buffer)
    assert loaded.device_ == "cpu" and str(loaded.net_.device) == "cpu"
    X = data.X_test[:300]
    np.testing.assert_allclose(loaded.decision_function(X), fitted.decision_function(X))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_and_cpu_scoring(data, monkeypatch):
    # float32 proper on the GPU: its convolutions would otherwise run in TF32
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    det = make_detector(device="cuda").fit(data.X_train)
    idx = det.query(data.X_test[:1000])
    det.partial_fit(data.X_test[:1000][idx], data.y_test[:1000][idx])
    gpu_scores = det.decision_function(data.X_test)
    assert gpu_scores.dtype == np.float64 and np.isfinite(gpu_scores).all()
    again = pickle.loads(pickle.dumps(det))  # on the GPU still
    assert again.device_.startswith("cuda")
    np.testing.assert_allclose(again.decision_function(data.X_test), gpu_scores)
    # where CUDA is not available (a laptop), skorch maps the weights to the CPU
    saved = pickle.dumps(det)
    with monkeypatch.context() as patch, warnings.catch_warnings():
        patch.setattr(torch.cuda, "is_available", lambda: False)
        warnings.simplefilter("ignore")
        laptop = pickle.loads(saved)
    assert laptop.device_ == "cpu" and str(laptop.net_.device) == "cpu"
    # float32 on both: equal to the kernels' rounding, where a score read as
    # a rank among the training scores (the head's) may move by a rank or two
    np.testing.assert_allclose(
        laptop.decision_function(data.X_test), gpu_scores, rtol=1e-4, atol=1e-2
    )


# -- scikit-learn integration -------------------------------------------------
def test_clone_and_params():
    det = make_detector(top_k=7)
    clone_ = clone(det)
    assert clone_.get_params() == det.get_params()
    assert clone_.set_params(top_k=3).top_k == 3
    assert "backbone_params" in det.get_params()


def test_pipeline_with_scaler(data):
    pipe = make_pipeline(
        StandardScaler(), make_detector(max_epochs=1, standardize=False)
    )
    pipe.fit(data.X_train)
    scores = pipe.decision_function(data.X_test)
    assert scores.shape == (len(data.X_test),)
    # query and partial_fit live on the last step, fed with transformed data
    pool = pipe[:-1].transform(data.X_test[:1000])
    idx = pipe[-1].query(pool)
    pipe[-1].partial_fit(pool[idx], data.y_test[:1000][idx])
    assert pipe[-1].n_labelled_windows_ == 4


def test_grid_search_with_time_series_split_and_alad_scorer(data):
    X = np.concatenate([data.X_train[:1000], data.X_test[:2000]])
    y = np.concatenate([np.zeros(1000), data.y_test[:2000]])
    search = GridSearchCV(
        make_detector(max_epochs=1),
        {"backbone_params": [TINY, {**TINY, "d_model": 8, "d_ff": 8}]},
        scoring=pa_k_auc_scorer,
        cv=TimeSeriesSplit(n_splits=2, test_size=1000),
        error_score="raise",
    )
    search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert 0.0 <= search.best_score_ <= 1.0
    assert search.best_estimator_.decision_function(X[:100]).shape == (100,)


def test_reconstruction_score_is_eq4_for_any_backbone(data):
    usad = {"backbone": "usad", "backbone_params": {"latent_size": 4}, "max_epochs": 1}
    X = data.X_test[: 4 * W]
    intrinsic = make_detector(**usad).fit(data.X_train).decision_function(X)
    det = make_detector(**usad, anomaly_score="reconstruction", channel_score="mean")
    eq4 = det.fit(data.X_train).decision_function(X)
    windows = det._standardized(X).reshape(4, W, -1)
    module = det.net_.module_.eval()
    with torch.no_grad():
        x = torch.from_numpy(windows)
        expected = (x - module(x)).abs().mean(dim=-1).reshape(-1).double().numpy()
    np.testing.assert_allclose(eq4, expected, rtol=1e-5)
    assert not np.allclose(eq4, intrinsic)  # USAD's own score has two terms


def test_both_scores_agree_for_the_transformer(fitted, data):
    X = data.X_test[:100]
    reconstruction = clone(fitted).set_params(anomaly_score="reconstruction")
    reconstruction.fit(data.X_train)
    np.testing.assert_allclose(
        reconstruction.decision_function(X), fitted.decision_function(X)
    )


def test_anomaly_score_is_fixed_at_fit(fitted, data):
    # the training scores, threshold and channel scale are the fitted score's
    det = fresh(fitted).set_params(anomaly_score="reconstruction")
    with pytest.raises(ValueError, match="anomaly_score was 'intrinsic'"):
        det.decision_function(data.X_test)


def test_a_detector_pickled_before_newer_parameters_loads(fitted, data):
    state = fresh(fitted).__getstate__()
    for name in (
        "normal_replay_per",
        "thresholding",
        "false_alarm_rate",
        "score_stride",
    ):
        state.pop(name)
    for name in ("threshold_source_", "_told", "score_stride_", "window_size_"):
        state.pop(name)
    old = ActiveReconstructionDetector.__new__(ActiveReconstructionDetector)
    old.__setstate__(state)
    assert old.window_size_ == W
    assert old.get_params()["thresholding"] == "contamination"
    assert old.threshold_source_ == "contamination"
    assert np.array_equal(old.query(data.X_test), fitted.query(data.X_test))
    assert np.array_equal(
        old.decision_function(data.X_test), fitted.decision_function(data.X_test)
    )


def test_a_detector_pickled_before_the_channel_score_keeps_eq4(fitted, data):
    state = fresh(fitted).__getstate__()
    state.pop("channel_score"), state.pop("channel_scale_")
    state["_fitted_with"].pop("channel_score")
    old = ActiveReconstructionDetector.__new__(ActiveReconstructionDetector)
    old.__setstate__(state)
    assert old.channel_score == "mean" and old.channel_scale_ is None
    assert_scores_are_eq4(old, data.X_test[: 3 * W])


def test_score_stride_scores_with_overlapping_windows(fitted, data):
    det = make_detector(score_stride=3).fit(data.X_train)
    # the same training (the stride of training is unchanged), scored at 3
    same = fresh(fitted)
    same.score_stride_ = 3
    # the channels' scale comes from the positions of the scoring windows
    same.channel_scale_ = det.channel_scale_
    np.testing.assert_array_equal(
        det.decision_function(data.X_test), same.decision_function(data.X_test)
    )
    np.testing.assert_array_equal(
        det.decision_scores_, same.decision_function(data.X_train)
    )
    assert det.stride_ == W and det.score_stride_ == 3
    assert not np.array_equal(
        det.decision_function(data.X_test), fitted.decision_function(data.X_test)
    )


def test_score_stride_is_fixed_at_fit_and_checked(fitted, data):
    det = fresh(fitted).set_params(score_stride=2)
    with pytest.raises(ValueError, match="score_stride was None"):
        det.decision_function(data.X_test)
    with pytest.raises(ValueError, match="score_stride must be at most window_size"):
        make_detector(score_stride=W + 1).fit(data.X_train)
