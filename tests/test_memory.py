"""Long series: scoring streams windows, nothing holds all overlapping windows."""

import tracemalloc

import numpy as np
import pytest

from alad import ActiveReconstructionDetector
from alad.windows import fold_position_scores, fold_window_values, scoring_starts

TINY = {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 8, "dropout": 0.0}


@pytest.fixture(scope="module")
def detector():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8))
    return ActiveReconstructionDetector(
        window_size=50, stride=1, max_epochs=1, backbone_params=TINY, random_state=0
    ).fit(X)


def test_overlapping_scoring_allocates_far_less_than_all_windows(detector):
    rng = np.random.default_rng(1)
    series = rng.normal(size=(20_000, 8))  # 1.3 MB of float64
    all_windows = (len(series) - 49) * 50 * 8 * 4  # 32 MB of float32 windows
    tracemalloc.start()
    scores = detector.decision_function(series)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert scores.shape == (20_000,) and np.isfinite(scores).all()
    # a batch of windows and per-timestep buffers, not every overlapping window
    assert peak < all_windows / 8, f"peak {peak / 1e6:.1f} MB"
    assert peak < 4 * series.nbytes


def test_fold_is_exact_for_every_stride():
    rng = np.random.default_rng(2)
    n, w = 103, 10
    for stride in (1, 3, 10):
        starts = scoring_starts(n, w, stride)
        position = rng.normal(size=(len(starts), w))
        expected_sum, expected_count = np.zeros(n), np.zeros(n)
        for i, s in enumerate(starts):  # the slow reference
            expected_sum[s : s + w] += position[i]
            expected_count[s : s + w] += 1
        chunks = np.array_split(position, 4)
        got = fold_position_scores(iter(chunks), starts, n, w)
        np.testing.assert_allclose(got, expected_sum / expected_count)


@pytest.mark.parametrize(
    ("rows", "starts", "match"),
    [
        (np.ones((3, 3)), np.array([0, 3, 6, 7]), "3 windows for the 4 starts"),
        (np.ones((5, 3)), np.array([0, 3, 6, 7]), "more windows than the 4 starts"),
        (np.ones((4, 2)), np.array([0, 3, 6, 7]), "window_size"),
        (np.ones((2, 3)), np.array([3, 0]), "strictly increasing"),
        (np.ones((2, 3)), np.array([0, 8]), "within the 10 timesteps"),
    ],
)
def test_fold_refuses_scores_that_do_not_match_their_starts(rows, starts, match):
    """A missing window would count as zeros, silently."""
    with pytest.raises(ValueError, match=match):
        fold_position_scores(rows, starts, 10, 3)


@pytest.mark.parametrize(
    ("n", "w", "stride"),
    [(103, 10, 1), (5000, 50, 1), (997, 7, 3), (60, 60, 60), (3000, 1, 1)],
)
def test_fold_of_window_values_is_the_fold_of_their_repeats_bit_for_bit(n, w, stride):
    # the head's probabilities: one value a window, folded a block of
    # timesteps at a time instead of through an (n_windows, w) array
    rng = np.random.default_rng(3)
    starts = scoring_starts(n, w, stride)
    values = rng.random(len(starts))
    values[rng.random(len(values)) < 0.3] = 0.37  # ties, as trees' votes give
    expected = fold_position_scores(np.repeat(values[:, None], w, axis=1), starts, n, w)
    np.testing.assert_array_equal(fold_window_values(values, starts, n, w), expected)


def test_fold_of_window_values_stays_near_the_size_of_the_series():
    n, w = 200_000, 50
    starts = scoring_starts(n, w, 1)
    values = np.random.default_rng(4).random(len(starts))
    tracemalloc.start()
    fold_window_values(values, starts, n, w)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    repeated = len(starts) * w * 8  # 80 MB: what np.repeat alone would take
    assert peak < repeated / 2, f"peak {peak / 1e6:.1f} MB"


def test_fold_of_window_values_refuses_values_that_do_not_match_their_starts():
    with pytest.raises(ValueError, match="one value per window start"):
        fold_window_values(np.ones(3), np.array([0, 3, 6, 7]), 10, 3)
    with pytest.raises(ValueError, match="strictly increasing"):
        fold_window_values(np.ones(2), np.array([3, 0]), 10, 3)
