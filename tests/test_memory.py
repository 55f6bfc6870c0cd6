"""Long series: scoring streams windows, nothing holds all overlapping windows."""

import tracemalloc

import numpy as np
import pytest

from alad import ActiveReconstructionDetector
from alad.windows import fold_position_scores, scoring_starts

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
