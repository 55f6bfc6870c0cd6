"""The feedback round's schedule (``feedback_steps``) and the pool's normal replay."""

import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from alad import ActiveReconstructionDetector
from alad.thresholds import fingerprints
from alad.training.nets import FeedbackNet

W = 10
TINY = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16, "dropout": 0.1}


@pytest.fixture(scope="module")
def fitted(data):
    return ActiveReconstructionDetector(
        window_size=W,
        max_epochs=2,
        backbone_params=TINY,
        random_state=0,
        top_k=2,
        n_bins=2,
        per_bin=1,
        feedback_epochs=2,
        feedback_min_anomalous=0,  # the schedule of rounds that train
    ).fit(data.X_train)


def rounds(det, data, n_rounds):
    pool, truth = data.X_test, data.y_test
    known = np.full(len(pool), np.nan)
    for _ in range(n_rounds):
        idx = det.query(pool, y=known)
        known[idx] = truth[idx]
        det.partial_fit(pool[idx], truth[idx])
    return det


@pytest.fixture
def steps_taken(monkeypatch):
    """Optimiser steps of each feedback round (calls of FeedbackNet.train_step)."""
    counts = []
    original = FeedbackNet.train_step

    def counting(self, batch, **fit_params):
        counts[-1] += 1
        return original(self, batch, **fit_params)

    original_fit = FeedbackNet.partial_fit

    def fit(self, *args, **kwargs):
        counts.append(0)
        return original_fit(self, *args, **kwargs)

    monkeypatch.setattr(FeedbackNet, "train_step", counting)
    monkeypatch.setattr(FeedbackNet, "partial_fit", fit)
    return counts


def test_fixed_steps_make_every_round_cost_the_same(fitted, data, steps_taken):
    det = rounds(copy.deepcopy(fitted).set_params(feedback_steps=7), data, 3)
    # 7 steps over 2 reported epochs: ceil(7 / 2) = 4 batches per epoch
    assert steps_taken == [8, 8, 8]
    grown = [r["n_train_windows"] for r in det.feedback_history_]
    assert grown[0] < grown[1] < grown[2]  # the windows grow, the cost does not
    assert all(len(r["train_loss"]) == 2 for r in det.feedback_history_)


def test_a_round_under_the_cap_trains_whole_passes(fitted, data):
    capped = rounds(copy.deepcopy(fitted).set_params(feedback_steps=1000), data, 2)
    whole = rounds(copy.deepcopy(fitted).set_params(feedback_steps=None), data, 2)
    np.testing.assert_array_equal(
        capped.decision_function(data.X_test), whole.decision_function(data.X_test)
    )


def test_whole_passes_grow_with_the_labels(fitted, data, steps_taken):
    det = rounds(copy.deepcopy(fitted).set_params(feedback_steps=None), data, 2)
    sizes = [r["n_train_windows"] for r in det.feedback_history_]
    batch = det.batch_size
    assert steps_taken == [2 * -(-n // batch) for n in sizes]


def test_fixed_steps_are_reproducible(fitted, data):
    a = rounds(
        copy.deepcopy(fitted).set_params(feedback_steps=5, pool_replay=0.5), data, 2
    )
    b = rounds(
        copy.deepcopy(fitted).set_params(feedback_steps=5, pool_replay=0.5), data, 2
    )
    np.testing.assert_array_equal(
        a.decision_function(data.X_test), b.decision_function(data.X_test)
    )


def test_query_keeps_the_pool_windows_scored_below_its_median(fitted, data):
    det = copy.deepcopy(fitted).set_params(pool_replay=0.5)
    pool = data.X_test
    det.query(pool)
    n_windows = len(pool) // W
    assert 0 < len(det._pool_normal) <= n_windows // 2
    windows = pool[: n_windows * W].reshape(n_windows, W, -1)
    scores = det.decision_function(windows)
    kept = np.isin(fingerprints(windows), det._pool_normal_prints)
    assert scores[kept].max() < np.median(scores) + 1e-12
    # standardised like the training data
    expected = (windows[kept] - det.scaler_mean_) / det.scaler_scale_
    np.testing.assert_allclose(det._pool_normal, expected, rtol=1e-5, atol=1e-5)


def test_pool_replay_rehearses_unlabelled_pool_windows_only(fitted, data):
    det = copy.deepcopy(fitted).set_params(pool_replay=1.0)
    pool = data.X_test
    windows = pool[: len(pool) // W * W].reshape(-1, W, pool.shape[1])
    det.query(windows)
    quiet = np.isin(fingerprints(windows), det._pool_normal_prints)
    labelled = windows[quiet][:3]  # three quiet windows labelled now: not replayed
    replay = det._normal_replay(10_000, labelled)

    def rows(a):
        return {w.tobytes() for w in a}

    # asked for more than the pool holds: every quiet window but those three,
    # the rest from the training data
    assert len(rows(replay) & rows(det._pool_normal)) == len(det._pool_normal) - 3
    assert not rows(replay) & rows(det._standardized(labelled))


def test_pool_replay_zero_replays_training_windows_only(fitted, data):
    det = copy.deepcopy(fitted).set_params(pool_replay=0.0)
    det.query(data.X_test)
    assert len(det._pool_normal) == 0  # nothing kept when the replay is off
    replay = det._normal_replay(30, data.X_test[:W][None])
    assert len(replay) == 30


def test_without_a_query_the_replay_comes_from_training(fitted, data):
    det = copy.deepcopy(fitted).set_params(pool_replay=1.0)
    windows = data.X_test[: 4 * W].reshape(4, W, -1)
    det.partial_fit(windows, np.zeros(4))
    assert det.n_feedback_rounds_ == 1


@pytest.mark.parametrize(
    "params",
    [
        {"feedback_steps": 0},
        {"pool_replay": 1.5},
        {"pool_replay": -0.1},
        {"feedback_batch_size": 0},
    ],
)
def test_bad_schedule_parameters_are_named(fitted, data, params):
    det = copy.deepcopy(fitted).set_params(**params)
    name = next(iter(params))
    with pytest.raises(ValueError, match=name):
        det.partial_fit(data.X_test[:W], np.zeros(W))


def test_pool_state_pickles_and_clones(fitted, data):
    det = copy.deepcopy(fitted).set_params(pool_replay=0.5, feedback_steps=3)
    det.query(data.X_test)
    again = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(again._pool_normal, det._pool_normal)
    assert clone(det).get_params()["pool_replay"] == 0.5


def test_an_old_pickle_keeps_the_schedule_it_was_made_with(fitted):
    state = copy.deepcopy(fitted).__getstate__()
    for name in (
        "feedback_steps",
        "pool_replay",
        "feedback_batch_size",
        "_pool_normal",
        "_pool_normal_prints",
    ):
        state.pop(name)
    old = ActiveReconstructionDetector.__new__(ActiveReconstructionDetector)
    old.__setstate__(state)
    assert old.feedback_steps is None and old.pool_replay == 0.0
    assert old.feedback_batch_size is None
    assert len(old._pool_normal) == 0


@pytest.fixture
def batch_sizes(monkeypatch):
    """Windows in each batch the feedback trains on."""
    sizes = []
    original = FeedbackNet.train_step

    def recording(self, batch, **fit_params):
        sizes.append(len(batch[0]))
        return original(self, batch, **fit_params)

    monkeypatch.setattr(FeedbackNet, "train_step", recording)
    return sizes


@pytest.mark.parametrize("feedback_batch_size, expected", [(None, 8), (16, 16)])
def test_feedback_batches_are_feedback_batch_size_or_batch_size(
    fitted, data, batch_sizes, feedback_batch_size, expected
):
    det = copy.deepcopy(fitted).set_params(
        batch_size=8, feedback_batch_size=feedback_batch_size, feedback_steps=4
    )
    rounds(det, data, 1)
    assert max(batch_sizes) == expected


def _labels_with_anomalous_windows(det, data, n_anomalous):
    """The rows ``det`` queries from the pool (whole windows of W), labelled so
    that ``n_anomalous`` windows hold an anomalous timestep, the rest normal."""
    idx = det.query(data.X_test)
    y = np.zeros(len(idx))
    y.reshape(-1, W)[:n_anomalous, W // 2] = 1.0
    return data.X_test[idx], y


@pytest.mark.parametrize("n_anomalous, trained", [(0, False), (1, False), (2, True)])
def test_the_backbone_waits_for_enough_anomalous_windows(
    fitted, data, steps_taken, n_anomalous, trained
):
    det = copy.deepcopy(fitted).set_params(feedback_min_anomalous=2)
    before = {k: v.clone() for k, v in det.net_.module_.state_dict().items()}
    X, y = _labels_with_anomalous_windows(det, data, n_anomalous)
    det.partial_fit(X, y)
    after = det.net_.module_.state_dict()
    unchanged = all(torch.equal(before[k], after[k]) for k in before)
    assert unchanged is not trained
    assert len(steps_taken) == int(trained)  # feedback rounds trained
    (entry,) = det.feedback_history_
    assert entry["backbone_trained"] is trained
    assert (entry["train_loss"] == []) is not trained
    # the labels are kept either way: they count, and train the head later
    assert det.n_labelled_windows_ == len(X) // W


def test_a_round_without_the_backbone_matches_a_frozen_one_in_scores(fitted, data):
    """Below the count the round is the default's with the backbone untouched:
    the training scores and the scores are those of the fitted model."""
    det = copy.deepcopy(fitted).set_params(feedback_min_anomalous=1)
    X, y = _labels_with_anomalous_windows(det, data, 0)
    det.partial_fit(X, y)
    np.testing.assert_array_equal(det.decision_scores_, fitted.decision_scores_)
    np.testing.assert_array_equal(
        det.decision_function(data.X_test), fitted.decision_function(data.X_test)
    )


def test_auto_waits_for_three_anomalous_windows_on_a_multivariate_series_only(
    fitted,
):
    det = copy.deepcopy(fitted).set_params(feedback_min_anomalous="auto")
    assert det._min_anomalous_windows(3) == 3
    assert det._min_anomalous_windows(1) == 0
    assert det.set_params(feedback_min_anomalous=5)._min_anomalous_windows(1) == 5


def test_auto_is_the_default_and_a_multivariate_round_waits(data):
    det = ActiveReconstructionDetector(
        window_size=W, max_epochs=1, backbone_params=TINY, random_state=0, top_k=2
    ).fit(data.X_train)
    assert det.feedback_min_anomalous == "auto"
    X, y = _labels_with_anomalous_windows(det, data, 2)
    det.partial_fit(X, y)
    assert not det.feedback_history_[-1]["backbone_trained"]


def test_a_pickle_made_before_the_rule_trains_from_the_first_label(fitted):
    state = copy.deepcopy(fitted).__getstate__()
    state.pop("feedback_min_anomalous")
    old = ActiveReconstructionDetector.__new__(ActiveReconstructionDetector)
    old.__setstate__(state)
    assert old.feedback_min_anomalous == 0


@pytest.fixture
def training_scored(monkeypatch):
    """The times the training data is scored (``_training_scores``)."""
    calls = []
    real = ActiveReconstructionDetector._training_scores

    def counting(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ActiveReconstructionDetector, "_training_scores", counting)
    return calls


def _waiting_round(det, data, n_anomalous=1):
    det.set_params(feedback_min_anomalous=2)
    det.partial_fit(*_labels_with_anomalous_windows(det, data, n_anomalous))
    return det


def test_a_round_without_the_backbone_keeps_the_training_scores(
    fitted, data, training_scored
):
    """The training data's plain scores are the backbone's alone: a round
    that trains none reuses the committed ones, and commits what scoring
    them again would have."""
    kept = _waiting_round(copy.deepcopy(fitted), data)
    assert training_scored == []
    again = copy.deepcopy(fitted)
    again._plain_training = None  # as a model pickled before they were kept
    _waiting_round(again, data)
    assert training_scored == [1]
    np.testing.assert_array_equal(kept.decision_scores_, again.decision_scores_)
    assert kept.threshold_ == again.threshold_
    np.testing.assert_array_equal(
        kept.decision_function(data.X_test), again.decision_function(data.X_test)
    )


def test_training_scores_are_computed_again_when_labels_scale_the_channels(
    fitted, data, training_scored
):
    _waiting_round(copy.deepcopy(fitted).set_params(scale_with_labels=True), data)
    assert training_scored == [1]


def test_a_round_that_trains_the_backbone_scores_the_training_data(
    fitted, data, training_scored
):
    _waiting_round(copy.deepcopy(fitted), data, n_anomalous=2)
    assert training_scored == [1]
