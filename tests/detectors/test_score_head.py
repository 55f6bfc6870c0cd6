"""The label-trained window classifier of the reconstruction detector (score_head)."""

import copy
import pickle

import numpy as np
import pytest
import torch

from alad import ActiveReconstructionDetector, label_head
from alad.label_head import (
    ReferenceRanks,
    RowForestFeatures,
    fit_window_classifier,
    held_out_probabilities,
    held_out_skill,
    out_of_bag_probabilities,
    out_of_bag_votes,
    reference_rank,
    window_features,
    window_probabilities,
    window_shape_features,
)
from alad.labelling._model_store import load_detector, save_detector
from alad.thresholds import fingerprints

W = 10
TINY = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16, "dropout": 0.1}


def detector(**params):
    return ActiveReconstructionDetector(
        window_size=W,
        max_epochs=2,
        backbone_params=TINY,
        random_state=0,
        top_k=3,
        n_bins=2,
        per_bin=1,
        feedback_epochs=2,
        **params,
    )


@pytest.fixture(scope="module")
def fitted(data):
    # a fixed weight, so that the head is there whatever its measured skill
    return detector(score_head="window_classifier", head_weight=1.0).fit(data.X_train)


def anomalous_window_rows(data, n_windows=2):
    """Rows of the first ``n_windows`` grid windows of X_test holding an anomaly."""
    labels = data.y_test[: len(data.y_test) // W * W].reshape(-1, W)
    windows = np.flatnonzero(labels.max(axis=1) > 0)[:n_windows]
    return (windows[:, None] * W + np.arange(W)).ravel()


def normal_window_rows(data, n_windows=4):
    labels = data.y_test[: len(data.y_test) // W * W].reshape(-1, W)
    windows = np.flatnonzero(labels.max(axis=1) == 0)[:n_windows]
    return (windows[:, None] * W + np.arange(W)).ravel()


@pytest.fixture(scope="module")
def with_head(fitted, data):
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    det = copy.deepcopy(fitted)
    det.query(data.X_test)  # the pool's quiet windows join the head's normals
    return det.partial_fit(data.X_test[rows], data.y_test[rows])


# -- the classifier --------------------------------------------------------------
def test_window_features_are_per_channel_statistics():
    windows = np.arange(2 * 4 * 3, dtype=np.float64).reshape(2, 4, 3)
    windows[1, :, 2] = [0.0, 2.0, -1.0, 5.0]
    features = window_features(windows)
    assert features.shape == (2, 18) and features.dtype == np.float32
    c = windows[1, :, 2]
    steps = np.abs(np.diff(c)).mean()
    expected = [c.mean(), c.std(), c.min(), c.max(), c[-1] - c[0], steps]
    np.testing.assert_allclose(features[1, 2::3], expected, rtol=1e-6)


def test_shape_features_are_the_profile_less_the_level():
    windows = np.zeros((2, 20, 2))
    windows[0, :, 0] = np.arange(20.0)
    windows[1] = windows[0] + 7.0  # the same shape at another level
    features = window_shape_features(windows)
    assert features.shape == (2, 20) and features.dtype == np.float32
    # stretches of two rows: means 0.5, 2.5, ..., 18.5 less the mean 9.5
    np.testing.assert_allclose(features[0, ::2], np.arange(0.5, 20, 2) - 9.5)
    np.testing.assert_array_equal(features[0, 1::2], 0.0)
    np.testing.assert_array_equal(features[0], features[1])
    # a window shorter than the stretches: one per row
    assert window_shape_features(np.ones((3, 4, 1))).shape == (3, 4)


def test_window_classifier_needs_both_classes():
    windows = np.zeros((3, W, 2))
    with pytest.raises(ValueError, match="both classes"):
        fit_window_classifier(windows[:0], windows)
    with pytest.raises(ValueError, match="both classes"):
        fit_window_classifier(windows, windows[:0])


def _windows(rng, n, level=0.0, spike=0.0):
    windows = rng.normal(level, 1.0, size=(n, W, 2))
    windows[:, W // 2, 0] += spike
    return windows


ESTIMATES = ("folds", "out_of_bag")
HELD_OUT = {"folds": held_out_probabilities, "out_of_bag": out_of_bag_probabilities}


@pytest.mark.parametrize("estimate", ESTIMATES)
def test_held_out_skill_is_one_for_a_kind_that_carries_over(estimate):
    rng = np.random.default_rng(0)
    anomalous = _windows(rng, 6, spike=12.0)
    normal, replay = _windows(rng, 20), _windows(rng, 200)
    skill = held_out_skill(anomalous, normal, replay, estimate=estimate)
    assert skill == pytest.approx(1.0)


@pytest.mark.parametrize("estimate", ESTIMATES)
def test_held_out_skill_is_zero_for_windows_like_the_normal_ones(estimate):
    # "anomalous" windows that no statistic tells from normal ones: chance,
    # give or take the noise of a few dozen windows
    skills = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        anomalous, normal = _windows(rng, 20), _windows(rng, 40)
        skills.append(
            held_out_skill(anomalous, normal, _windows(rng, 200), estimate=estimate)
        )
    assert np.mean(skills) < 0.25 and min(skills) == 0.0


@pytest.mark.parametrize("estimate", ESTIMATES)
def test_held_out_means_each_window_is_scored_by_trees_that_did_not_see_it(estimate):
    """Two anomalous windows of unlike kinds: each, held out, looks normal."""
    rng = np.random.default_rng(2)
    spike, shift = _windows(rng, 1, spike=12.0), _windows(rng, 1, level=6.0)
    anomalous = np.concatenate([spike, shift])
    normal, replay = _windows(rng, 10), _windows(rng, 200)
    p_anomalous, p_normal = HELD_OUT[estimate](anomalous, normal, replay)
    assert p_anomalous.shape == (2,) and p_normal.shape == (10,)
    assert np.isfinite(p_anomalous).all() and np.isfinite(p_normal).all()
    # seen in training, a window is recognised; held out, the other kind is not
    seen = fit_window_classifier(anomalous, np.concatenate([normal, replay]))
    assert seen.predict_proba(window_features(anomalous))[:, 1].min() > 0.5
    assert p_anomalous.max() < 0.5


@pytest.mark.parametrize("estimate", ESTIMATES)
def test_held_out_skill_needs_two_anomalous_and_one_normal_window(estimate):
    rng = np.random.default_rng(3)
    anomalous, normal = _windows(rng, 3, spike=9.0), _windows(rng, 5)
    replay = _windows(rng, 50)
    assert held_out_skill(anomalous[:1], normal, replay, estimate=estimate) is None
    assert held_out_skill(anomalous, normal[:0], replay, estimate=estimate) is None
    # no normal window: None before any forest is fitted, even with no replay
    assert held_out_skill(anomalous, normal[:0], replay[:0], estimate=estimate) is None
    if estimate == "out_of_bag":
        assert HELD_OUT[estimate](anomalous[:1], normal, replay) is None


def test_a_single_anomalous_window_stays_in_training_and_the_normals_are_held_out():
    rng = np.random.default_rng(3)
    anomalous, normal = _windows(rng, 1, spike=9.0), _windows(rng, 5)
    replay = _windows(rng, 50)
    p_anomalous, p_normal = held_out_probabilities(anomalous, normal, replay)
    assert np.isnan(p_anomalous).all() and p_anomalous.shape == (1,)
    assert np.isfinite(p_normal).all() and p_normal.shape == (5,)
    # normal windows labelled anomalous: held out, the trees do not recognise
    # them (in sample they would say 1)
    p_mislabelled, _ = held_out_probabilities(normal[:2], normal[2:], replay)
    assert (p_mislabelled < 0.5).all()
    # nothing to hold out
    assert held_out_probabilities(anomalous[:0], normal, replay) is None
    assert held_out_probabilities(anomalous, normal[:0], replay) is None


def test_replayed_windows_are_scored_by_trees_that_did_not_see_them():
    """Anomalous windows hidden among the replayed normal ones: the head says
    0 of them (it learnt them as normal), trees that left them out do not."""
    rng = np.random.default_rng(5)
    anomalous, normal = _windows(rng, 3, spike=9.0), _windows(rng, 10)
    replay = np.concatenate([_windows(rng, 5, spike=9.0), _windows(rng, 300)])
    head = fit_window_classifier(anomalous, np.concatenate([normal, replay]))
    np.testing.assert_array_equal(
        head.predict_proba(window_features(replay[:5]))[:, 1], 0.0
    )
    votes = out_of_bag_votes(anomalous, normal, replay, random_state=1)
    assert votes.shape == (3 + 10 + len(replay),)
    hidden, quiet = votes[13:18], votes[18:]
    assert hidden.min() > 0.1 and np.nanmean(quiet) < 0.02
    np.testing.assert_array_equal(
        votes, out_of_bag_votes(anomalous, normal, replay, random_state=1)
    )
    # the labelled windows' votes are the out-of-bag skill's
    p_anomalous, p_normal = out_of_bag_probabilities(
        anomalous, normal, replay, random_state=1
    )
    np.testing.assert_array_equal(np.r_[p_anomalous, p_normal], votes[:13])
    skill = held_out_skill(
        anomalous, normal, replay, random_state=1, estimate="out_of_bag"
    )
    assert skill == held_out_skill(
        anomalous, normal, replay, estimate="out_of_bag", votes=votes
    )
    # nothing to learn from
    assert np.isnan(out_of_bag_votes(anomalous[:0], normal, replay)).all()


def test_held_out_probabilities_leave_a_fold_with_nothing_to_train_on_unscored():
    rng = np.random.default_rng(6)
    anomalous, normal = _windows(rng, 1, spike=9.0), _windows(rng, 1)
    # one normal window, no replay: it cannot be held out
    p_anomalous, p_normal = held_out_probabilities(anomalous, normal, normal[:0])
    assert np.isnan(p_anomalous).all() and np.isnan(p_normal).all()
    anomalous = _windows(rng, 3, spike=9.0)
    assert held_out_skill(anomalous, normal, normal[:0]) is None


def test_out_of_bag_skill_is_reproducible_and_names_a_bad_estimate():
    rng = np.random.default_rng(4)
    anomalous, normal = _windows(rng, 4, spike=3.0), _windows(rng, 12)
    replay = _windows(rng, 100)
    args = anomalous, normal, replay
    first = held_out_skill(*args, random_state=7, estimate="out_of_bag")
    assert first == held_out_skill(*args, random_state=7, estimate="out_of_bag")
    with pytest.raises(ValueError, match="estimate must be one of"):
        held_out_skill(*args, estimate="bootstrap")


# -- in the detector -------------------------------------------------------------
def test_no_head_until_an_anomalous_window_is_labelled(fitted, data):
    det = copy.deepcopy(fitted)
    rows = normal_window_rows(data)
    det.partial_fit(data.X_test[rows], data.y_test[rows])
    assert det._head is None and not len(det._head_reference)
    np.testing.assert_array_equal(
        det.decision_function(data.X_test), det._backbone_score(data.X_test)
    )


def test_score_is_backbone_rank_plus_head_probability(with_head, data):
    det = with_head
    assert det._head is not None
    scores = det.decision_function(data.X_test)
    backbone = det._backbone_score(data.X_test)
    head = det._head_scores(data.X_test, det._head, standardized=False)
    assert ((head >= 0) & (head <= 1)).all()
    # the rank among the backbone's training scores
    train_backbone = det._backbone_score(det._train_data, standardized=True)
    np.testing.assert_array_equal(det._head_reference, np.sort(train_backbone))
    ranks = reference_rank(det._head_reference, backbone)
    np.testing.assert_allclose(scores, ranks + det._head_weight * head)


def test_reference_rank_is_the_distribution_function_then_grows():
    reference = np.sort(np.r_[np.arange(100.0), 0.0])
    ranks = reference_rank(reference, [-1.0, 0.0, 49.5, 99.0, 100.0, 200.0])
    median, high = np.percentile(reference, [50, 99])
    spread = high - median
    np.testing.assert_allclose(
        ranks, [0, 2 / 101, 51 / 101, 1, 1 + 1 / spread, 1 + 101 / spread]
    )
    assert np.all(np.diff(ranks) >= 0)
    # nan has no rank; one score keeps its shape
    assert np.isnan(reference_rank(reference, [np.nan, 1.0])[0])
    assert reference_rank(reference, 49.5).shape == ()


@pytest.mark.parametrize(
    ("reference", "match"),
    [
        (np.array([3.0, 1.0, 2.0]), "sorted"),
        (np.array([1.0, np.nan, 2.0]), "sorted"),
        (np.array([np.nan]), "sorted"),
        (np.empty(0), "at least one"),
        (np.zeros((2, 2)), "1-D"),
    ],
)
def test_reference_rank_refuses_a_reference_it_would_misread(reference, match):
    with pytest.raises(ValueError, match=match):
        reference_rank(reference, [1.0])
    with pytest.raises(ValueError, match=match):
        ReferenceRanks(reference)


def test_reference_ranks_read_once_rank_as_reference_rank():
    rng = np.random.default_rng(0)
    reference = np.sort(rng.normal(size=1000))
    ranks = ReferenceRanks(reference)
    for scores in (rng.normal(size=(64, 20)) * 3, np.array([np.nan, 1e9])):
        np.testing.assert_array_equal(ranks(scores), reference_rank(reference, scores))


def test_window_probabilities_ask_the_trees_once_for_many_batches(monkeypatch):
    """A predict_proba call costs tens of milliseconds of set-up: the trees
    get many scoring batches at once, with the same probabilities."""
    rng = np.random.default_rng(0)
    head = fit_window_classifier(
        rng.normal(3, 1, size=(6, W, 3)), rng.normal(size=(40, W, 3)), random_state=0
    )
    batches = [rng.normal(size=(8, W, 3)) for _ in range(10)]
    one_by_one = np.concatenate(
        [head.predict_proba(window_features(b))[:, 1] for b in batches]
    )
    calls = []
    predict = head.predict_proba
    monkeypatch.setattr(
        head, "predict_proba", lambda f: calls.append(len(f)) or predict(f)
    )
    monkeypatch.setattr(label_head, "PREDICT_CHUNK", 32)
    np.testing.assert_array_equal(window_probabilities(head, iter(batches)), one_by_one)
    assert calls == [32, 32, 16]
    assert window_probabilities(head, iter([])).shape == (0,)


def test_training_scores_and_threshold_include_the_head(with_head, data):
    det = with_head
    np.testing.assert_allclose(
        det.decision_scores_, det._score(det._train_data, standardized=True)
    )
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 90))


def test_head_ranks_the_labelled_anomalies_above_normal_windows(with_head, data):
    det = with_head
    anomalous = data.X_test[anomalous_window_rows(data)].reshape(-1, W, 3)
    normal = data.X_test[normal_window_rows(data)].reshape(-1, W, 3)
    p_anomalous = det._head_scores(anomalous, det._head, standardized=False)
    p_normal = det._head_scores(normal, det._head, standardized=False)
    assert p_anomalous.min() > p_normal.max()


def test_windows_scores_match_series_scores(with_head, data):
    """3-D windows get the same lift as the timesteps of the same windows."""
    det = with_head
    windows = data.X_test[: 20 * W].reshape(20, W, 3)
    np.testing.assert_allclose(
        det.decision_function(windows),
        det.decision_function(data.X_test[: 20 * W]).reshape(20, W).mean(axis=1),
        rtol=1e-6,
    )


def test_head_weight_zero_and_none_leave_the_backbone_score(fitted, data):
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    for params in ({"head_weight": 0.0}, {"score_head": "none"}):
        det = copy.deepcopy(fitted).set_params(**params)
        det.partial_fit(data.X_test[rows], data.y_test[rows])
        np.testing.assert_array_equal(
            det.decision_function(data.X_test), det._backbone_score(data.X_test)
        )


def test_switching_the_head_off_applies_at_the_next_round(with_head, data):
    det = copy.deepcopy(with_head).set_params(score_head="none")
    rows = normal_window_rows(data, 6)[-2 * W :]
    det.partial_fit(data.X_test[rows], data.y_test[rows])
    assert det._head is None
    np.testing.assert_array_equal(
        det.decision_function(data.X_test), det._backbone_score(data.X_test)
    )


def test_head_weight_applies_at_the_next_round(with_head, data):
    """Scores and threshold keep describing one model until partial_fit."""
    det = copy.deepcopy(with_head)
    before = det.decision_function(data.X_test)
    det.set_params(head_weight=3.0)
    np.testing.assert_array_equal(det.decision_function(data.X_test), before)
    rows = normal_window_rows(data, 6)[-2 * W :]
    det.partial_fit(data.X_test[rows], data.y_test[rows])
    backbone = det._backbone_score(data.X_test)
    head = det._head_scores(data.X_test, det._head, standardized=False)
    np.testing.assert_allclose(
        det.decision_function(data.X_test),
        reference_rank(det._head_reference, backbone) + 3.0 * head,
    )


def test_queries_rank_by_the_score_with_the_head(with_head, data):
    det = copy.deepcopy(with_head).set_params(query_strategy="top_k", top_k=3)
    idx = det.query(data.X_test)
    n = len(data.X_test) // W
    window_scores = det.decision_function(data.X_test[: n * W].reshape(n, W, 3))
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    told = np.isin(np.arange(n), rows // W)
    window_scores[told] = -np.inf
    top = np.argsort(window_scores)[-3:]
    assert np.isin(top, idx.reshape(-1, W)[:, 0] // W).all()


def test_queries_read_what_trees_that_did_not_see_them_say_of_the_pools_quiet_windows(
    with_head, data
):
    det = copy.deepcopy(with_head)
    pool, held_out = det._head_pool, det._head_pool_votes
    assert len(pool) and held_out.shape == (len(pool),)
    assert np.isfinite(held_out).mean() > 0.9
    # the head learnt them as normal: in sample it says 0 of every one
    features = det._head_feature_map()
    np.testing.assert_array_equal(det._head.predict_proba(features(pool))[:, 1], 0)
    n = len(data.X_test) // W
    starts = np.arange(n) * W
    windows = data.X_test[: n * W].reshape(n, W, 3)
    in_sample = det._head_probabilities(
        data.X_test, starts, det._head, standardized=False
    )
    read = det._unmemorised(fingerprints(windows), in_sample)
    learnt = np.isin(fingerprints(windows), det._head_pool_prints)
    assert learnt.sum() == len(pool)
    np.testing.assert_array_equal(read[~learnt], in_sample[~learnt])
    np.testing.assert_allclose(np.sort(read[learnt]), np.sort(held_out))
    # a quiet window that trees which did not see it call anomalous is asked first
    det._head_pool_votes = np.where(np.arange(len(pool)) == 0, 50.0, held_out)
    first = np.flatnonzero(fingerprints(windows) == det._head_pool_prints[0])
    idx = det.set_params(query_strategy="top_k").query(data.X_test, n_queries=1)
    np.testing.assert_array_equal(idx, first[0] * W + np.arange(W))


def test_same_seed_same_head_scores(fitted, data):
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    runs = []
    for _ in range(2):
        det = copy.deepcopy(fitted)
        det.query(data.X_test)
        det.partial_fit(data.X_test[rows], data.y_test[rows])
        runs.append(det.decision_function(data.X_test))
    np.testing.assert_array_equal(*runs)


def test_pickle_and_model_files_keep_the_head(with_head, data, tmp_path):
    scores = with_head.decision_function(data.X_test)
    unpickled = pickle.loads(pickle.dumps(with_head))
    np.testing.assert_array_equal(unpickled.decision_function(data.X_test), scores)
    save_detector(with_head, tmp_path)
    # the classifier is not written (a file without code); it is fitted again
    loaded = load_detector(tmp_path)
    np.testing.assert_array_equal(loaded.decision_function(data.X_test), scores)
    # a query after the round changes the pool's normals, not the head
    det = copy.deepcopy(with_head)
    det.query(data.X_test[::-1].copy())
    save_detector(det, tmp_path / "after_query")
    loaded = load_detector(tmp_path / "after_query")
    np.testing.assert_array_equal(loaded.decision_function(data.X_test), scores)
    # ... and the queries, which read the head's held-out pool probabilities
    for other in (unpickled, load_detector(tmp_path)):
        np.testing.assert_array_equal(
            other.query(data.X_test), copy.deepcopy(with_head).query(data.X_test)
        )


def test_a_failed_head_fit_leaves_the_detector_as_it_was(fitted, data, monkeypatch):
    import alad.detectors.active_reconstruction as module

    det = copy.deepcopy(fitted)
    before = det.decision_function(data.X_test)
    state = dict(vars(det))

    def fail(*args, **kwargs):
        raise RuntimeError("head failed")

    monkeypatch.setattr(module, "fit_window_classifier", fail)
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    with pytest.raises(RuntimeError, match="head failed"):
        det.partial_fit(data.X_test[rows], data.y_test[rows])
    assert vars(det).keys() == state.keys()
    for name, value in state.items():
        assert vars(det)[name] is value, name
    np.testing.assert_array_equal(det.decision_function(data.X_test), before)


def test_detector_pickled_before_the_head_loads_without_one(fitted, data):
    det = copy.deepcopy(fitted)
    state = det.__getstate__()
    for name in (
        "_head",
        "_head_reference",
        "_head_pool",
        "_head_pool_prints",
        "_head_pool_votes",
        "_head_weight",
        "score_head",
        "head_weight",
        "head_skill",
    ):
        state.pop(name)
    old = ActiveReconstructionDetector.__new__(ActiveReconstructionDetector)
    old.__setstate__(state)
    assert old._head is None and not len(old._head_reference)
    assert old.head_skill == "folds"  # how the skill was measured then
    np.testing.assert_array_equal(
        old.decision_function(data.X_test), fitted.decision_function(data.X_test)
    )


def test_default_weight_is_the_measured_skill():
    params = ActiveReconstructionDetector().get_params()
    assert params["score_head"] == "window_classifier"
    assert params["head_weight"] == "skill"
    assert params["head_skill"] == "out_of_bag"


@pytest.mark.parametrize("skill", [None, 0.0, 0.4])
def test_skill_weight_is_the_heads_held_out_skill(fitted, data, monkeypatch, skill):
    """head_weight="skill": the weight is what the labelled windows measured;
    unmeasurable is full weight, no skill is no head (the backbone's score)."""
    import alad.detectors.active_reconstruction as module

    seen = {}

    def measured(anomalous, normal, replay, *, random_state, features, estimate, votes):
        seen["shapes"] = anomalous.shape[0], normal.shape[0]
        seen["estimate"] = estimate
        return skill

    monkeypatch.setattr(module, "held_out_skill", measured)
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    det = copy.deepcopy(fitted).set_params(head_weight="skill")
    det.partial_fit(data.X_test[rows], data.y_test[rows])
    assert seen["shapes"] == (2, 4) and seen["estimate"] == det.head_skill
    if skill == 0.0:
        assert det._head is None and det._head_weight == 0.0
        assert det.feedback_history_[-1]["head_weight"] == 0.0
        np.testing.assert_array_equal(
            det.decision_function(data.X_test), det._backbone_score(data.X_test)
        )
        return
    expected = 1.0 if skill is None else skill
    assert det._head_weight == expected
    assert det.feedback_history_[-1]["head_weight"] == expected
    backbone = det._backbone_score(data.X_test)
    head = det._head_scores(data.X_test, det._head, standardized=False)
    np.testing.assert_allclose(
        det.decision_function(data.X_test),
        reference_rank(det._head_reference, backbone) + expected * head,
    )


def plain_anomalies(data, n_windows=2):
    """X_test with its first ``n_windows`` anomalous grid windows lifted by 10
    standard deviations: windows whose kind a classifier learns from one
    and recognises in another, so that the head's held-out skill is above 0."""
    X = data.X_test.copy()
    X[anomalous_window_rows(data, n_windows)] += 10.0
    return X


@pytest.mark.parametrize("head_weight", ["skill", "measured_skill"])
def test_one_anomalous_window_weighs_by_the_rule(fitted, data, head_weight):
    """One anomalous window: the skill cannot be measured; "skill" gives the
    head full weight, "measured_skill" none (the backbone's score)."""
    X = plain_anomalies(data)
    rows = np.r_[anomalous_window_rows(data, 1), normal_window_rows(data)]
    det = copy.deepcopy(fitted).set_params(head_weight=head_weight)
    det.partial_fit(X[rows], data.y_test[rows])
    if head_weight == "skill":
        assert det._head is not None and det._head_weight == 1.0
        return
    assert det._head is None and det._head_weight == 0.0
    np.testing.assert_array_equal(
        det.decision_function(data.X_test), det._backbone_score(data.X_test)
    )
    # a second anomalous window of the same kind makes the skill measurable,
    # and above 0: the weight is it, and the head is back
    rows = np.r_[
        anomalous_window_rows(data, 2)[W:], normal_window_rows(data, 6)[-2 * W :]
    ]
    det.partial_fit(X[rows], data.y_test[rows])
    assert (np.nan_to_num(det._labelled_targets) > 0).any(axis=1).sum() == 2
    skill = _measured_skill(det)
    assert skill > 0 and det._head_weight == skill
    assert det._head is not None


def _measured_skill(det):
    """The held-out skill of ``det``'s labelled windows, as its rounds measure it."""
    anomalous, normal, replay, _ = det._head_windows(
        det._labelled_windows,
        det._labelled_targets,
        det._head_pool,
        det.n_labelled_windows_,
    )
    return held_out_skill(
        anomalous,
        normal,
        replay,
        random_state=det._head_seed(det.n_labelled_windows_),
        features=det._head_feature_map(),
        estimate=det.head_skill,
    )


@pytest.mark.parametrize("estimate", ESTIMATES)
def test_skill_weight_is_measured_on_the_labelled_windows(fitted, data, estimate):
    """The committed weight is the skill the labelled windows measure: two
    plain anomalous windows and a subtle one, which held out ranks under
    some normal windows, so the skill is strictly between 0 and 1."""
    X = plain_anomalies(data, 2)
    rows = np.r_[anomalous_window_rows(data, 3), normal_window_rows(data)]
    params = {"head_weight": "skill", "head_skill": estimate}
    det = copy.deepcopy(fitted).set_params(**params)
    det.partial_fit(X[rows], data.y_test[rows])
    skill = _measured_skill(det)
    assert 0 < skill < 1
    assert det._head_weight == skill
    assert det.feedback_history_[-1]["head_weight"] == skill
    again = copy.deepcopy(fitted).set_params(**params)
    again.partial_fit(X[rows], data.y_test[rows])
    assert again._head_weight == det._head_weight  # reproducible


@pytest.mark.parametrize("value", [-1.0, "big"])
def test_bad_head_weight_is_refused(value, data):
    with pytest.raises((ValueError, TypeError), match="head_weight"):
        detector(head_weight=value).fit(data.X_train)


def test_bad_head_skill_is_refused(data):
    with pytest.raises(ValueError, match="head_skill"):
        detector(head_skill="bootstrap").fit(data.X_train)


def test_bad_score_head_is_refused(data):
    with pytest.raises(ValueError, match="score_head"):
        detector(score_head="forest").fit(data.X_train)


def test_training_windows_rank_position_by_position(data):
    """Fitted on 3-D windows: the reference holds every position's score."""
    train = data.X_train[: 100 * W].reshape(100, W, 3)
    det = detector(head_weight=1.0).fit(train)
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    det.partial_fit(data.X_test[rows], data.y_test[rows])
    assert det._head is not None
    assert det._head_reference.shape == (100 * W,)
    np.testing.assert_allclose(
        det.decision_scores_, det.decision_function(train), rtol=1e-6
    )
    assert det.decision_scores_.shape == (100,)


# -- the head's features: windows, and each channel's reconstruction error --------
@pytest.fixture(scope="module")
def with_error_head(fitted, data):
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    det = copy.deepcopy(fitted).set_params(head_features="window+errors")
    det.query(data.X_test)
    return det.partial_fit(data.X_test[rows], data.y_test[rows])


def test_error_features_are_window_statistics_and_channel_errors(with_error_head, data):
    det = with_error_head
    windows = det._standardized(data.X_test[: 4 * W].reshape(4, W, -1))
    features = det._head_feature_map()(windows)
    n_channels = data.X_test.shape[1]
    assert features.shape == (4, 8 * n_channels)
    np.testing.assert_array_equal(
        features[:, : 6 * n_channels], window_features(windows)
    )
    module = det.net_.module_
    with torch.no_grad():
        x = torch.from_numpy(windows.astype(np.float32))
        scale = torch.from_numpy(det.channel_scale_.astype(np.float32))
        scaled = ((module(x) - x).abs() / scale).numpy()
    means = features[:, 6 * n_channels : 7 * n_channels]
    np.testing.assert_allclose(means, scaled.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(
        features[:, 7 * n_channels :], scaled.max(axis=1), rtol=1e-5
    )


def test_error_head_scores_rank_the_labelled_anomalies_and_survive_files(
    with_error_head, data, tmp_path
):
    det = with_error_head
    assert det._head is not None
    scores = det.decision_function(data.X_test)
    anomalous = scores[anomalous_window_rows(data)].mean()
    assert anomalous > np.median(scores)
    save_detector(det, tmp_path)
    loaded = load_detector(tmp_path)
    np.testing.assert_array_equal(loaded.decision_function(data.X_test), scores)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(det)).decision_function(data.X_test), scores
    )


def test_shape_head_sees_statistics_and_profile_and_survives_pickle(fitted, data):
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    det = copy.deepcopy(fitted).set_params(head_features="window+shape")
    det.query(data.X_test)
    det.partial_fit(data.X_test[rows], data.y_test[rows])
    assert det._head is not None
    windows = det._standardized(data.X_test[: 4 * W].reshape(4, W, -1))
    features = det._head_feature_map()(windows)
    np.testing.assert_array_equal(
        features,
        np.concatenate([window_features(windows), window_shape_features(windows)], 1),
    )
    scores = det.decision_function(data.X_test)
    assert scores[anomalous_window_rows(data)].mean() > np.median(scores)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(det)).decision_function(data.X_test), scores
    )


def test_row_forest_features_add_the_rarity_of_the_windows_rows():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(2000, 3)).astype(np.float32)
    features = RowForestFeatures(rows, random_state=1)
    windows = rng.normal(size=(5, 8, 3)).astype(np.float32)
    windows[4, 3] = 8.0  # one row far outside the training rows
    out = features(windows)
    assert out.shape == (5, 6 * 3 + 2)
    np.testing.assert_array_equal(out[:, :18], window_features(windows))
    rarity = -features.forest_.score_samples(windows.reshape(-1, 3)).reshape(5, 8)
    np.testing.assert_allclose(out[:, 18], rarity.max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(out[:, 19], rarity.mean(axis=1), rtol=1e-6)
    assert out[4, 18] > out[:4, 18].max()
    again = RowForestFeatures(rows, random_state=1)(windows)
    np.testing.assert_array_equal(again, out)


def test_forest_head_is_fitted_once_and_survives_files(fitted, data, tmp_path):
    rows = np.r_[anomalous_window_rows(data), normal_window_rows(data)]
    det = copy.deepcopy(fitted).set_params(head_features="window+forest")
    before = copy.deepcopy(det)
    det.query(data.X_test)
    det.partial_fit(data.X_test[rows], data.y_test[rows])
    assert before._head_forest is None  # the round commits it with the head
    assert isinstance(det._head_forest, RowForestFeatures)
    forest = det._head_forest
    windows = det._standardized(data.X_test[: 4 * W].reshape(4, W, -1))
    np.testing.assert_array_equal(det._head_feature_map()(windows), forest(windows))
    scores = det.decision_function(data.X_test)
    assert scores[anomalous_window_rows(data)].mean() > np.median(scores)
    save_detector(det, tmp_path)
    loaded = load_detector(tmp_path)  # the forest is fitted again, the same
    np.testing.assert_array_equal(loaded.decision_function(data.X_test), scores)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(det)).decision_function(data.X_test), scores
    )
    more = np.r_[anomalous_window_rows(data, 3)[2 * W :], normal_window_rows(data, 6)]
    det.partial_fit(data.X_test[more], data.y_test[more])
    assert det._head_forest is forest  # one forest per fit
    det.fit(data.X_train)
    assert det._head_forest is None


def test_new_head_features_wait_for_the_next_round(with_head, data, tmp_path):
    # the committed head read the window statistics: scoring it with other
    # features would be wrong, so a new head_features takes effect at the
    # next partial_fit, when a head is fitted on them
    det = copy.deepcopy(with_head)
    scores = det.decision_function(data.X_test)
    det.set_params(head_features="window+shape")
    np.testing.assert_array_equal(det.decision_function(data.X_test), scores)
    save_detector(det, tmp_path)
    np.testing.assert_array_equal(
        load_detector(tmp_path).decision_function(data.X_test), scores
    )
    rows = np.r_[anomalous_window_rows(data, 3)[2 * W :], normal_window_rows(data, 6)]
    det.partial_fit(data.X_test[rows], data.y_test[rows])
    windows = det._standardized(data.X_test[: 2 * W].reshape(2, W, -1))
    # six statistics and ten stretches per channel
    assert det._head_feature_map()(windows).shape[1] == 16 * windows.shape[2]


def test_bad_head_features_are_refused(data):
    with pytest.raises(ValueError, match="head_features"):
        detector(head_features="errors").fit(data.X_train)


def test_held_out_estimates_refuse_what_they_would_misread():
    """One fold holds nothing out (all nan); votes of other windows were read
    as if they were these windows'."""
    rng = np.random.default_rng(0)
    anomalous, normal, replay = (
        _windows(rng, 3, spike=9.0),
        _windows(rng, 6),
        _windows(rng, 10),
    )
    with pytest.raises(ValueError, match="n_folds"):
        held_out_probabilities(anomalous, normal, replay, n_folds=1)
    votes = out_of_bag_votes(anomalous, normal, replay)
    skill = held_out_skill(
        anomalous, normal, replay, estimate="out_of_bag", votes=votes
    )
    assert 0 <= skill <= 1
    with pytest.raises(ValueError, match="one vote per window"):
        held_out_skill(
            anomalous, normal, replay, estimate="out_of_bag", votes=votes[:-1]
        )
