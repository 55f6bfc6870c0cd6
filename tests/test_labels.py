"""What the detectors do with a person's labels: conventions, whole pools, memory,
thresholds.
"""

import copy

import numpy as np
import pytest

from alad import ActiveReconstructionDetector, NAFALDetector, PoolExhaustedError
from alad.exceptions import ThresholdWarning
from alad.thresholds import fingerprints, threshold_from_labels

W = 10
TINY = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16, "dropout": 0.1}
NAF_FAST = dict(
    n_transforms=4,
    transform_dim=2,
    flow_transforms=1,
    flow_hidden_features=8,
    max_epochs=2,
    augment_epochs=1,
    n_iterations=0,
    random_state=0,
)


@pytest.fixture(scope="module")
def data(small_telemetry):
    return small_telemetry


@pytest.fixture(scope="module")
def ard(data):
    return ActiveReconstructionDetector(
        window_size=W,
        max_epochs=2,
        backbone_params=TINY,
        random_state=0,
        top_k=2,
        n_bins=2,
        per_bin=1,
        feedback_epochs=1,
    ).fit(data.X_train)


@pytest.fixture(scope="module")
def tab():
    rng = np.random.default_rng(0)
    pool = np.r_[rng.normal(size=(30, 4)), rng.normal(size=(10, 4)) + 4]
    return rng.normal(size=(64, 4)), pool, np.r_[np.zeros(30), np.ones(10)]


@pytest.fixture(scope="module")
def naf(tab):
    return NAFALDetector(**NAF_FAST).fit(tab[0])


# -- the convention ---------------------------------------------------------------
def test_outlier_convention_labels_are_refused_naming_it(ard, naf, data, tab):
    with pytest.raises(ValueError, match="scikit-learn's outlier convention"):
        copy.deepcopy(ard).partial_fit(data.X_test[:W], -np.ones(W))
    with pytest.raises(ValueError, match=r"-1 = anomaly, 1 = normal"):
        ard.query(data.X_test, y=np.r_[-1.0, np.full(len(data.X_test) - 1, np.nan)])
    with pytest.raises(ValueError, match="outlier convention"):
        copy.deepcopy(naf).partial_fit(tab[1][:2], [-1, 1])


# -- the whole pool with nan ---------------------------------------------------
def test_partial_fit_on_the_whole_pool_counts_only_labelled_windows(ard, data):
    pool = data.X_test[: 60 * W + 7]  # a tail shorter than a window
    idx = ard.query(pool)
    known = np.full(len(pool), np.nan)
    known[idx] = data.y_test[idx]
    whole = copy.deepcopy(ard).partial_fit(pool, known)
    queried = copy.deepcopy(ard).partial_fit(pool[idx], known[idx])
    assert whole.n_labelled_windows_ == queried.n_labelled_windows_ == len(idx) // W
    assert np.array_equal(
        whole.decision_function(data.X_test), queried.decision_function(data.X_test)
    )


def test_a_labelled_tail_shorter_than_a_window_is_refused(ard, data):
    known = np.full(W + 3, np.nan)
    known[-1] = 0
    with pytest.raises(ValueError, match="stack whole windows"):
        copy.deepcopy(ard).partial_fit(data.X_test[: W + 3], known)


def test_naf_partial_fit_on_the_whole_pool_counts_only_labels(naf, tab):
    known = np.full(len(tab[1]), np.nan)
    known[[0, 35]] = [0, 1]
    det = copy.deepcopy(naf).set_params(budget=2).partial_fit(tab[1], known)
    assert det.n_labelled_ == 2


# -- what the detector was told ------------------------------------------------
def test_query_never_reasks_a_window_learnt_from_even_without_y(ard, data):
    det = copy.deepcopy(ard)
    pool = data.X_test
    first = det.query(pool)
    det.partial_fit(pool[first], data.y_test[first])
    second = det.query(pool)
    assert not set(first // W) & set(second // W)
    # a 3-D stack of the same windows is recognised too
    windows = pool[: len(pool) // W * W].reshape(-1, W, 3)
    assert not set(first // W) & set(det.query(windows).tolist())


def test_query_runs_out_when_everything_was_told(ard, data):
    det = copy.deepcopy(ard)
    pool = data.X_test[: 4 * W]
    det.partial_fit(pool, np.zeros(len(pool)))
    with pytest.raises(PoolExhaustedError, match="partial_fit"):
        det.query(pool)


def test_naf_query_never_reasks_a_sample_learnt_from(naf, tab):
    det = copy.deepcopy(naf)
    first = det.query(tab[1], n_queries=5)
    det.partial_fit(tab[1][first], tab[2][first])
    assert not set(first) & set(det.query(tab[1], n_queries=5))


def test_fingerprints_ignore_the_float_dtype():
    rows = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    assert np.array_equal(fingerprints(rows), fingerprints(rows.astype(np.float64)))
    assert len(set(fingerprints(rows).tolist())) == 3


# -- thresholds from labels ---------------------------------------------------------
def test_threshold_from_labels_rules():
    scores, labels = [0.1, 0.3, 0.35, 0.9, 0.8], [0, 0, 1, 1, 1]
    t = threshold_from_labels(scores, labels, method="f1")
    assert 0.3 < t < 0.35  # flags exactly the anomalies
    assert threshold_from_labels(scores, [0, 0, 0, 0, 0], method="f1") is None
    assert threshold_from_labels(scores, [1, 1, 1, 1, 1], method="false_alarm") is None
    t = threshold_from_labels(np.arange(100.0), np.zeros(100), method="false_alarm")
    assert (np.arange(100.0) > t).mean() == pytest.approx(0.01)
    with pytest.raises(ValueError, match="method"):
        threshold_from_labels(scores, labels, method="best")


@pytest.mark.parametrize("rule", ["f1", "false_alarm"])
def test_the_threshold_can_come_from_the_labels(ard, data, rule):
    det = copy.deepcopy(ard).set_params(thresholding=rule, false_alarm_rate=0.05)
    assert det.update_threshold().threshold_source_ == "contamination"  # no label yet
    known = np.full(len(data.X_test), np.nan)
    for _ in range(8):  # until two anomalous windows: one alone is not read
        idx = det.query(data.X_test, y=known)
        known[idx] = data.y_test[idx]
        det.partial_fit(data.X_test[idx], known[idx])
        windows = known[~np.isnan(known)].reshape(-1, W)
        if (windows == 1).any(axis=1).sum() >= 2:
            break
    scores, labels = det._labelled_scores()
    assert (labels == 1).any() and (labels == 0).any()
    assert det.threshold_source_ == rule
    assert det.threshold_ == pytest.approx(
        threshold_from_labels(scores, labels, method=rule, false_alarm_rate=0.05)
    )
    back = copy.deepcopy(det).set_params(thresholding="contamination")
    assert back.update_threshold().threshold_source_ == "contamination"
    assert back.threshold_ == pytest.approx(np.percentile(back.decision_scores_, 90))


def test_naf_threshold_from_labels(naf, tab):
    det = copy.deepcopy(naf).set_params(thresholding="f1")
    det.partial_fit(tab[1][[0, 1, 35, 36]], [0, 0, 1, 1])
    assert det.threshold_source_ == "f1"
    scores, labels = det._labelled_scores()
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    assert det.threshold_ == pytest.approx(
        threshold_from_labels(scores, labels, method="f1")
    )


def test_naf_threshold_reads_what_the_head_says_of_samples_it_did_not_see(naf, tab):
    """The head (trees grown to pure leaves) memorises its training samples:
    in sample it gives two normal-looking samples labelled anomalous a
    probability of 1, and a threshold chosen on that sat in the gap it made."""
    det = copy.deepcopy(naf).set_params(thresholding="f1")
    X, y = tab[1][:8], np.r_[np.zeros(6), 1.0, 1.0]  # the last two mislabelled
    det.partial_fit(X, y)
    scores, labels = det._labelled_scores()
    np.testing.assert_array_equal(labels, y)
    in_sample = det.decision_function(X)
    # the same flow ranks; the head's part is held out (1 in sample)
    assert (in_sample[6:] - scores[6:] > 0.5 * det._head_weight).all()
    assert det.threshold_ == pytest.approx(
        threshold_from_labels(scores, labels, method="f1")
    )


def test_ard_threshold_reads_what_the_head_says_of_windows_it_did_not_see(ard, data):
    det = copy.deepcopy(ard).set_params(
        thresholding="false_alarm", false_alarm_rate=0.2, head_weight=1.0
    )
    normal = np.flatnonzero(data.y_test == 0)[: 6 * W]
    idx = normal[: len(normal) // W * W]
    y = np.zeros(len(idx))
    y[-2 * W :] = 1  # two normal windows labelled anomalous
    det.partial_fit(data.X_test[idx], y)
    windows = det._labelled_windows
    in_sample = det._head_scores(windows, det._head, standardized=True)
    held_out = det._held_out_label_probabilities()
    anomalous = np.nan_to_num(det._labelled_targets).max(axis=1) > 0
    np.testing.assert_array_equal(in_sample[anomalous], 1.0)  # memorised
    assert np.isfinite(held_out).all() and (held_out[anomalous] < 0.5).all()
    scores, labels = det._labelled_scores()
    assert scores.shape == labels.shape == (len(windows) * W,)
    assert det.threshold_source_ == "false_alarm"
    assert det.threshold_ == pytest.approx(
        threshold_from_labels(
            scores, labels, method="false_alarm", false_alarm_rate=0.2
        )
    )


def test_a_single_labelled_anomalous_window_is_left_out_of_the_threshold(ard, data):
    """It cannot be held out from the head and still trained on: the normal
    windows are, and the anomalous one is not read."""
    det = copy.deepcopy(ard).set_params(thresholding="false_alarm", head_weight=1.0)
    normal = np.flatnonzero(data.y_test == 0)[: 4 * W]
    y = np.r_[np.zeros(3 * W), np.ones(W)]
    det.partial_fit(data.X_test[normal], y)
    held_out = det._held_out_label_probabilities()
    assert np.isnan(held_out[-1]) and np.isfinite(held_out[:-1]).all()
    scores, labels = det._labelled_scores()
    assert len(scores) == 3 * W and not labels.any()
    assert det.threshold_source_ == "false_alarm"


def test_a_single_anomalous_window_is_left_out_before_a_series_scores_are_smoothed():
    """A univariate series' scores are smoothed at several widths, which
    ranked the unread window's nan as 1.0: it was read, at 1.0."""
    rng = np.random.default_rng(0)
    t = np.arange(800)
    X = (np.sin(2 * np.pi * t / 25) + 0.1 * rng.normal(size=800))[:, None]
    det = ActiveReconstructionDetector(
        window_size=W,
        max_epochs=1,
        backbone_params=TINY,
        random_state=0,
        feedback_steps=2,
        stride=W,
        thresholding="f1",
        head_weight=1.0,
    ).fit(X[:400])
    assert len(det._smoother.widths) > 1  # score_smoothing="auto": multiscale
    pool = X[400:440].copy()
    pool[-W:] += 3
    det.partial_fit(pool, np.r_[np.zeros(3 * W), np.ones(W)])
    scores, labels = det._labelled_scores()
    assert len(scores) == 3 * W and not labels.any() and np.isfinite(scores).all()
    assert det.threshold_source_ == "contamination"  # "f1" waits for a second one


def _usad_on_windows(**params):
    """A small USAD detector for stacks of windows of 16 timesteps."""
    params = {"feedback_steps": 2, **params}
    return ActiveReconstructionDetector(
        window_size=16,
        backbone="usad",
        max_epochs=1,
        feedback_epochs=1,
        random_state=0,
        **params,
    )


def test_a_single_anomalous_window_of_a_stack_is_not_read_and_not_refused():
    """After a fit on a stack of windows, one anomalous window alone left no
    window to read, and partial_fit raised on the empty stack."""
    rng = np.random.default_rng(0)
    train = rng.normal(size=(40, 16, 2))
    pool = rng.normal(size=(4, 16, 2)) + 3
    for rule in ("f1", "false_alarm"):
        det = _usad_on_windows(thresholding=rule).fit(train)
        det.partial_fit(pool[:1], [1.0])
        assert det._labelled_scores() is None
        assert det.threshold_source_ == "contamination"
        assert det.update_threshold().threshold_source_ == "contamination"


def test_naf_threshold_reads_the_committed_heads_features(naf, tab):
    """head_features set since the round takes effect at the next one: the
    threshold's held-out head reads the features the committed head reads."""
    det = copy.deepcopy(naf).set_params(thresholding="f1")
    det.partial_fit(tab[1][[0, 1, 2, 3, 35, 36, 37]], [0, 0, 0, 0, 1, 1, 1])
    threshold, held_out = det.threshold_, det._held_out_label_probabilities()
    det.set_params(head_features="inputs+rank").update_threshold()
    np.testing.assert_array_equal(det._held_out_label_probabilities(), held_out)
    assert det.threshold_ == threshold


def test_after_a_fit_on_windows_the_threshold_reads_window_scores():
    """Stacks of windows are scored one score per window: a threshold from the
    labels chosen among per-timestep scores flagged none of the labelled
    normal windows at false_alarm_rate=0.3."""
    rng = np.random.default_rng(0)
    t = np.arange(480)
    train = np.c_[np.sin(t / 5), np.cos(t / 7)] + 0.1 * rng.normal(size=(480, 2))
    pool = np.c_[np.sin(t / 5 + 1), np.cos(t / 7 + 1)] + 0.1 * rng.normal(size=(480, 2))
    train, pool = train.reshape(-1, 16, 2), pool.reshape(-1, 16, 2)
    pool[:4] += 3
    y = np.r_[np.ones(4), np.zeros(26)]
    for rule in ("false_alarm", "f1"):
        det = _usad_on_windows(
            thresholding=rule, feedback_steps=3, false_alarm_rate=0.3
        ).fit(train)
        det.partial_fit(pool, y)
        scores, labels = det._labelled_scores()
        np.testing.assert_array_equal(labels, y)  # one score per window
        # as the windows are scored, the head's part held out
        in_sample = det._head_scores(pool, det._head, standardized=False)
        held_out = det._held_out_label_probabilities()
        np.testing.assert_allclose(
            scores - det._head_weight * held_out,
            det.decision_function(pool) - det._head_weight * in_sample,
        )
        assert det.threshold_source_ == rule
        assert det.threshold_ == pytest.approx(
            threshold_from_labels(scores, y, method=rule, false_alarm_rate=0.3)
        )


@pytest.mark.parametrize("rule", ["f1", "false_alarm"])
def test_confidence_reads_the_threshold_from_the_labels(naf, tab, rule):
    """Perini et al.'s confidence counts the training samples the threshold
    flags; with n * contamination instead, a threshold from the labels gave
    predictions a confidence near 0 in their own label."""
    det = copy.deepcopy(naf).set_params(thresholding=rule, false_alarm_rate=0.2)
    det.partial_fit(tab[1][[0, 1, 2, 35, 36]], [0, 0, 0, 1, 1])
    assert det.threshold_source_ == rule
    X = np.r_[tab[0], tab[1]]
    _, confidence = det.predict(X, return_confidence=True)
    assert confidence.min() > 0.3  # was below 0.001 for both rules


def test_fit_predict_passes_fit_params(data):
    known = np.zeros(len(data.X_train), dtype=bool)
    known[:W] = True
    params = dict(window_size=W, backbone="usad", max_epochs=1, random_state=0)
    labels = ActiveReconstructionDetector(**params).fit_predict(
        data.X_train, known_anomalies=known
    )
    det = ActiveReconstructionDetector(**params).fit(
        data.X_train, known_anomalies=known
    )
    np.testing.assert_array_equal(labels, det.labels_)


def test_predict_warns_when_it_flags_most_of_a_series(ard, data):
    det = copy.deepcopy(ard)
    det.threshold_ = float(np.min(det.decision_function(data.X_test))) - 1.0
    with pytest.warns(ThresholdWarning, match="100%"):
        det.predict(data.X_test)


def test_thresholding_is_checked(ard, data):
    det = copy.deepcopy(ard).set_params(thresholding="best")
    with pytest.raises(ValueError, match="thresholding"):
        det.update_threshold()
