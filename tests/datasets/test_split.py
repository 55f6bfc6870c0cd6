"""Tests of the experimental splits."""

import numpy as np
import pytest
from sklearn.utils import Bunch

from alad.datasets import (
    load_gecco,
    load_odds,
    load_uea,
    novelty_split,
    one_vs_rest_split,
    split_unlabeled,
)

# split_unlabeled -------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "ratio", "split_index"),
    [(10, 0.2, 2), (10, 0.3, 3), (100, 0.29, 29), (7, 0.5, 3), (5, 0.99, 4)],
)
def test_split_unlabeled_takes_the_first_rows(n, ratio, split_index):
    X = np.arange(2.0 * n).reshape(n, 2)
    y = np.arange(n) % 2
    split = split_unlabeled(X, y, unlabeled_ratio=ratio)
    assert split.split_index == split_index
    np.testing.assert_array_equal(split.X_pool, X[:split_index])
    np.testing.assert_array_equal(split.y_pool, y[:split_index])
    np.testing.assert_array_equal(split.X_eval, X[split_index:])
    np.testing.assert_array_equal(split.y_eval, y[split_index:])
    assert np.shares_memory(split.X_pool, X)  # views, no copy of the series


def test_split_unlabeled_accepts_lists_and_3d():
    split = split_unlabeled([[1], [2], [3], [4], [5]], [0, 0, 1, 0, 0])
    assert split.X_pool.tolist() == [[1]] and split.y_eval.tolist() == [0, 1, 0, 0]
    windows = np.zeros((10, 4, 3))
    assert split_unlabeled(windows, np.zeros(10), 0.4).X_eval.shape == (6, 4, 3)


@pytest.mark.parametrize("ratio", [0, 1, -0.1, 1.5, np.nan])
def test_split_unlabeled_ratio_out_of_range(ratio):
    with pytest.raises(
        ValueError, match=r"unlabeled_ratio must be a float in \(0, 1\)"
    ):
        split_unlabeled(np.zeros((10, 1)), np.zeros(10), ratio)


@pytest.mark.parametrize("ratio", ["0.2", True, None])
def test_split_unlabeled_ratio_type(ratio):
    with pytest.raises(TypeError, match="unlabeled_ratio must be a float"):
        split_unlabeled(np.zeros((10, 1)), np.zeros(10), ratio)


def test_split_unlabeled_needs_both_parts():
    with pytest.raises(ValueError, match="at least one row in the pool.*pool of 0"):
        split_unlabeled(np.zeros((3, 1)), np.zeros(3), 0.2)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        split_unlabeled(np.zeros((3, 1)), np.zeros(4), 0.5)


@pytest.mark.real_data
def test_split_unlabeled_on_gecco(data_home):
    data = load_gecco(data_home)
    split = split_unlabeled(data.X_test, data.y_test, unlabeled_ratio=0.2)
    assert split.split_index == 13_852  # floor(0.2 * 69,261)
    assert len(split.X_eval) == 69_261 - 13_852
    assert split.y_pool.sum() + split.y_eval.sum() == data.y_test.sum()


# novelty_split ---------------------------------------------------------------


def _toy(n_normal=20, n_anomalous=5):
    y = np.array([0] * n_normal + [1] * n_anomalous)
    order = np.random.default_rng(0).permutation(len(y))
    X = np.arange(len(y), dtype=float)[:, None] * np.ones((1, 3))
    return X, y[order]


def test_novelty_split_protocol():
    X, y = _toy()
    split = novelty_split(X, y, random_state=0)
    assert len(split.X_train) == 10 and len(split.X_test) == 15
    assert (y[split.train_indices] == 0).all()
    assert split.y_test.sum() == 5 and (split.y_test == y[split.test_indices]).all()
    together = np.concatenate([split.train_indices, split.test_indices])
    assert sorted(together.tolist()) == list(range(25))  # disjoint, complete
    np.testing.assert_array_equal(split.X_train, X[split.train_indices])
    np.testing.assert_array_equal(split.X_test, X[split.test_indices])
    assert (np.diff(split.test_indices) > 0).all()  # original order kept


def test_novelty_split_random_state():
    X, y = _toy()
    first = novelty_split(X, y, random_state=1).train_indices
    np.testing.assert_array_equal(
        first, novelty_split(X, y, random_state=1).train_indices
    )
    assert not np.array_equal(first, novelty_split(X, y, random_state=2).train_indices)
    rng = np.random.RandomState(1)
    np.testing.assert_array_equal(
        first, novelty_split(X, y, random_state=rng).train_indices
    )


def test_novelty_split_train_fraction():
    X, y = _toy(n_normal=9)
    assert len(novelty_split(X, y, train_fraction=0.5).X_train) == 4  # floor(4.5)
    assert len(novelty_split(X, y, train_fraction=0.8).X_train) == 7


def test_novelty_split_errors():
    X, y = _toy()
    with pytest.raises(
        ValueError, match=r"train_fraction must be a float in \(0, 1\); got 1"
    ):
        novelty_split(X, y, train_fraction=1)
    with pytest.raises(TypeError, match="train_fraction must be a float"):
        novelty_split(X, y, train_fraction="half")
    with pytest.raises(ValueError, match="y must hold 0 .* and 1 .* only"):
        novelty_split(X, np.where(y == 1, -1, 1))
    with pytest.raises(
        ValueError, match="at least one for training and one for testing"
    ):
        novelty_split(X[:3], np.array([0, 1, 1]))


@pytest.mark.real_data
def test_novelty_split_on_cardio(data_home):
    data = load_odds("cardio", data_home)
    split = novelty_split(data.X, data.y, random_state=0)
    assert split.X_train.shape == (827, 21)  # floor(1655 / 2) normal samples
    assert split.X_test.shape == (1831 - 827, 21) and split.y_test.sum() == 176


# one_vs_rest_split -----------------------------------------------------------


@pytest.fixture
def toy_uea():
    return Bunch(
        X_train=np.arange(5)[:, None, None] * np.ones((1, 4, 2)),
        y_train=np.array(["a", "b", "a", "c", "b"]),
        lengths_train=np.array([4, 3, 4, 2, 4]),
        X_test=np.arange(4)[:, None, None] * np.ones((1, 4, 2)),
        y_test=np.array(["c", "a", "b", "a"]),
        lengths_test=np.array([4, 4, 1, 2]),
        classes=np.array(["a", "b", "c"]),
    )


def test_one_vs_rest(toy_uea):
    split = one_vs_rest_split(toy_uea, "a")
    assert split.normal_classes == ("a",)
    assert split.X_train[:, 0, 0].tolist() == [0, 2]
    assert split.lengths_train.tolist() == [4, 4]
    assert split.y_test.tolist() == [1, 0, 1, 0] and split.y_test.dtype == np.int64
    assert split.X_test is toy_uea.X_test
    np.testing.assert_array_equal(split.lengths_test, toy_uea.lengths_test)


def test_m_vs_rest(toy_uea):
    split = one_vs_rest_split(toy_uea, ["a", "b", "a"])
    assert split.normal_classes == ("a", "b")
    assert split.X_train[:, 0, 0].tolist() == [0, 1, 2, 4]
    assert split.y_test.tolist() == [1, 0, 0, 0]


def test_one_vs_rest_without_lengths(toy_uea):
    del toy_uea["lengths_train"], toy_uea["lengths_test"]
    assert "lengths_train" not in one_vs_rest_split(toy_uea, "c")


@pytest.mark.parametrize(
    ("normal_classes", "error", "match"),
    [
        ("d", ValueError, r"among the classes \['a', 'b', 'c'\]; got 'd'"),
        (["a", "b", "c"], ValueError, "at least one and at most 2 of the 3 classes"),
        ([], ValueError, "at least one"),
        ([1], TypeError, "str labels such as 'a'; got int"),
    ],
)
def test_one_vs_rest_errors(toy_uea, normal_classes, error, match):
    with pytest.raises(error, match=match):
        one_vs_rest_split(toy_uea, normal_classes)


def test_one_vs_rest_needs_a_classification_bunch():
    with pytest.raises(TypeError, match=r"lacks \['y_train', 'classes'\]"):
        one_vs_rest_split(Bunch(X_train=0, X_test=0, y_test=0), "a")


@pytest.mark.real_data
def test_one_vs_rest_on_epilepsy(data_home):
    data = load_uea("Epilepsy", data_home)
    split = one_vs_rest_split(data, "EPILEPSY")
    assert split.X_train.shape == (34, 206, 3)
    assert split.X_test.shape == (138, 206, 3) and split.y_test.sum() == 138 - 34
    # m-vs-rest with N - 1 normal classes, as NAF-AL does.
    split = one_vs_rest_split(data, ["RUNNING", "SAWING", "WALKING"])
    assert split.X_train.shape == (36 + 30 + 37, 206, 3) and split.y_test.sum() == 34
