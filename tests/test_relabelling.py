"""A window or sample labelled again is learnt from once, with its latest label."""

import copy
import warnings

import numpy as np
import pytest

from alad import ActiveReconstructionDetector, NAFALDetector
from alad.datasets import make_telemetry
from alad.relabelling import last_of_each, relabelled
from alad.thresholds import fingerprints

W = 10
TINY = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16}


@pytest.fixture(scope="module")
def series():
    return make_telemetry(n_train=800, n_test=1000, n_channels=2, random_state=0)


@pytest.fixture(scope="module")
def ard(series):
    return ActiveReconstructionDetector(
        window_size=W,
        max_epochs=1,
        backbone_params=TINY,
        feedback_steps=5,
        feedback_min_anomalous=0,
        budget=12,
        random_state=0,
    ).fit(series.X_train)


@pytest.fixture(scope="module")
def naf():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    det = NAFALDetector(n_transforms=4, max_steps=10, budget=6, random_state=0)
    return det.fit(X), rng.normal(size=(60, 4))


def test_helpers_keep_the_last_of_each_row_and_count_first_labels():
    rows = np.array([[1.0], [2.0], [1.0], [3.0]])
    assert last_of_each(fingerprints(rows)).tolist() == [1, 2, 3]
    stored, new = rows[[0, 1]], rows[[3, 1]]
    merged, targets, n_first = relabelled(
        stored, np.array([0, 0]), new, np.array([0, 1]), fingerprints(new),
        fingerprints(stored),
    )  # fmt: skip
    # the row labelled again keeps its place under its new label; the new one follows
    assert merged.ravel().tolist() == [1.0, 2.0, 3.0]
    assert targets.tolist() == [0, 1, 0] and n_first == 1


def test_rows_the_scaling_cannot_tell_apart_take_the_last_label_in_place():
    stored = np.array([[5.0], [1.0], [5.0]])  # two given samples, one scaled row
    new = np.array([[5.0], [2.0], [5.0]])
    merged, targets, n_first = relabelled(
        stored, np.array([0, 0, 0]), new, np.array([1, 0, 0]),
        fingerprints(np.array([[7.0], [2.0], [9.0]])), fingerprints(stored),
    )  # fmt: skip
    assert merged.ravel().tolist() == [5.0, 1.0, 5.0, 2.0]
    assert targets.tolist() == [0, 0, 0, 0] and n_first == 3


def test_a_corrected_window_replaces_its_label_and_is_charged_once(ard, series):
    det = copy.deepcopy(ard)
    pool = series.X_test
    idx = det.query(pool, n_queries=5)
    det.partial_fit(pool[idx], np.zeros(len(idx)))
    corrected = np.ones(len(idx))
    det.partial_fit(pool[idx], corrected)  # the same five windows, relabelled
    assert det.n_labelled_windows_ == 5
    assert len(det._labelled_windows) == 5
    np.testing.assert_array_equal(det._labelled_targets, 1.0)
    assert det.n_feedback_rounds_ == 2


def test_the_whole_pool_with_every_label_so_far_round_after_round(ard, series):
    # the docstring's pattern: the whole pool, nan where unlabelled, each round
    det = copy.deepcopy(ard)
    pool = series.X_test[: len(series.X_test) // W * W]
    known = np.full(len(pool), np.nan)
    for _ in range(2):
        idx = det.query(pool, y=known, n_queries=6)
        known[idx] = series.y_test[idx]
        det.partial_fit(pool, known)
    assert det.n_labelled_windows_ == 12  # the budget, reached, not exceeded
    assert len(det._labelled_windows) == 12
    windows = pool.reshape(-1, W, pool.shape[1])
    labelled = ~np.isnan(known.reshape(-1, W)).all(axis=1)
    np.testing.assert_array_equal(
        np.sort(det._labelled_targets.sum(axis=1)),
        np.sort(np.nan_to_num(known.reshape(-1, W)[labelled]).sum(axis=1)),
    )
    assert labelled.sum() == 12 and len(windows) > 12


def test_a_window_twice_in_one_call_keeps_its_last_label(ard, series):
    det = copy.deepcopy(ard)
    window = series.X_test[:W]
    windows = np.stack([window, series.X_test[W : 2 * W], window])
    det.partial_fit(windows, np.array([0.0, 0.0, 1.0]))
    assert det.n_labelled_windows_ == 2
    np.testing.assert_array_equal(det._labelled_targets.max(axis=1), [0.0, 1.0])


def test_labels_beyond_the_budget_count_only_new_windows(ard, series):
    det = copy.deepcopy(ard)
    pool = series.X_test
    first = pool[: 10 * W]
    det.partial_fit(first, np.zeros(len(first)))
    # ten windows again and two new: within the budget of 12
    det.partial_fit(pool[: 12 * W], np.zeros(12 * W))
    assert det.n_labelled_windows_ == 12
    with pytest.raises(ValueError, match="exceed the remaining budget of 0"):
        det.partial_fit(pool[: 13 * W], np.zeros(13 * W))


def test_nafal_moves_a_relabelled_sample_and_charges_it_once(naf):
    fitted, pool = naf
    det = copy.deepcopy(fitted)
    n_fit = len(det._fit_x)
    det.partial_fit(pool[:3], np.zeros(3))
    assert len(det._train_x) == n_fit + 3 and len(det._anomaly_x) == 0
    det.partial_fit(pool[:3], np.array([1.0, 0.0, 1.0]))  # two corrected
    assert det.n_labelled_ == 3
    assert len(det._train_x) == n_fit + 1 and len(det._anomaly_x) == 2
    np.testing.assert_array_equal(det._train_x[:n_fit], fitted._train_x[:n_fit])
    det.partial_fit(pool[:6], np.zeros(6))  # three new: the budget of 6
    assert det.n_labelled_ == 6 and len(det._anomaly_x) == 0
    with pytest.raises(ValueError, match="exceed the remaining budget"):
        det.partial_fit(pool[:7], np.zeros(7))


def test_nafal_counts_its_committed_rounds_as_the_other_detector(naf):
    fitted, pool = naf
    det = copy.deepcopy(fitted)
    assert det.n_feedback_rounds_ == 0
    det.partial_fit(pool[:2], np.zeros(2))
    det.partial_fit(pool[:2], np.array([1.0, 0.0]))  # a correction is a round
    assert det.n_feedback_rounds_ == 2 == len(det.feedback_history_)
    # a detector pickled before the count: its committed rounds
    state = det.__getstate__()
    del state["n_feedback_rounds_"]
    again = NAFALDetector.__new__(NAFALDetector)
    again.__setstate__(state)
    assert again.n_feedback_rounds_ == 2


def test_nafal_charges_samples_by_their_values_not_their_scaled_rows():
    # the quantile scaling maps every sample beyond the training range to one
    # row: the model cannot tell them apart, the budget must
    rng = np.random.default_rng(0)
    det = NAFALDetector(
        n_transforms=4, max_steps=5, budget=6, scaling="quantile", random_state=0
    ).fit(rng.normal(size=(200, 2)))
    a, b = np.array([[10.0, 10.0]]), np.array([[20.0, 30.0]])
    np.testing.assert_array_equal(det._standardized(a), det._standardized(b))
    det.partial_fit(a, [1.0])
    det.partial_fit(b, [1.0])
    assert det.n_labelled_ == 2 and len(det._told) == 2
    det.partial_fit(b, [0.0])  # a correction of b: charged nothing more
    assert det.n_labelled_ == 2


@pytest.mark.parametrize("which", ["ard", "naf"])
def test_a_round_tried_again_after_a_rollback_keeps_its_number(
    which, ard, naf, series, monkeypatch
):
    det = copy.deepcopy(ard if which == "ard" else naf[0])
    X = series.X_test[: 2 * W] if which == "ard" else naf[1][:2]
    answers = iter([False, True, True])  # the first round rolls back
    monkeypatch.setattr(
        type(det), "_is_sound", staticmethod(lambda *args: next(answers))
    )
    for _ in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            det.partial_fit(X, np.zeros(len(X)))
    rounds = [(e["round"], e["rolled_back"]) for e in det.feedback_history_]
    assert rounds == [(1, True), (1, False), (2, False)]
    assert det.n_feedback_rounds_ == 2


def _scores_after_two_rounds(det, pool, first, second, labels, every_label_so_far):
    det = copy.deepcopy(det)
    det.partial_fit(pool[first], labels[first])
    rows = np.concatenate([first, second]) if every_label_so_far else second
    det.partial_fit(pool[rows], labels[rows])
    return det


def test_every_label_so_far_trains_as_the_new_windows_alone(ard, series):
    # a relabelled window keeps its place: the rounds draw the same batches
    pool = series.X_test
    first = np.arange(4 * W)
    second = np.arange(6 * W, 9 * W)
    labels = series.y_test.astype(float)
    labels[first[:W]] = 1.0  # an anomalous window, so that the backbone trains
    new_only, every = (
        _scores_after_two_rounds(ard, pool, first, second, labels, flag)
        for flag in (False, True)
    )
    np.testing.assert_array_equal(new_only._labelled_windows, every._labelled_windows)
    assert all(e["backbone_trained"] for e in every.feedback_history_)
    np.testing.assert_array_equal(
        new_only.decision_function(pool), every.decision_function(pool)
    )
    assert new_only.n_labelled_windows_ == every.n_labelled_windows_ == 7


def test_nafal_every_label_so_far_trains_as_the_new_samples_alone(naf):
    fitted, pool = naf
    labels = np.zeros(len(pool))
    labels[[1, 4]] = 1.0
    first, second = np.arange(3), np.arange(3, 6)
    new_only, every = (
        _scores_after_two_rounds(fitted, pool, first, second, labels, flag)
        for flag in (False, True)
    )
    np.testing.assert_array_equal(new_only._train_x, every._train_x)
    np.testing.assert_array_equal(new_only._anomaly_x, every._anomaly_x)
    np.testing.assert_array_equal(
        new_only.decision_function(pool), every.decision_function(pool)
    )
