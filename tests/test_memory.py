"""Long series: scoring streams windows, nothing holds all overlapping windows."""

import tracemalloc

import numpy as np
import pytest
import sklearn

from alad import ActiveReconstructionDetector
from alad.channel_score import (
    CHANNEL_QUANTILE,
    SCALE_FLOOR,
    ChannelQuantile,
    channel_scale,
)
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


@pytest.mark.parametrize("n_values", [1, 2, 3, 999, 1001, 2500, 12_345])
def test_channel_quantile_is_numpys_bit_for_bit_from_chunks(n_values):
    rng = np.random.default_rng(n_values)
    errors = np.abs(rng.standard_t(3, size=(n_values, 3))).astype(np.float32)
    errors[: n_values // 3, 1] = 0.5  # ties
    expected = np.maximum(
        np.quantile(errors.astype(np.float64), CHANNEL_QUANTILE, axis=0), SCALE_FLOOR
    )
    quantile = ChannelQuantile(n_values, 3)
    for chunk in np.array_split(errors, min(7, n_values)):
        quantile.add(chunk)
    np.testing.assert_array_equal(quantile.scale(), expected)
    np.testing.assert_array_equal(channel_scale(errors), expected)
    # only the largest thousandth of each channel is kept
    assert len(quantile._top) <= n_values // 1000 + 2


def test_channel_quantile_says_nan_and_refuses_a_wrong_count():
    errors = np.ones((3000, 2))
    errors[17, 1] = np.nan
    quantile = ChannelQuantile(3000, 2)
    quantile.add(errors)
    scale = quantile.scale()
    assert scale[0] == 1.0 and np.isnan(scale[1])
    short = ChannelQuantile(10, 1)
    short.add(np.ones((9, 1)))
    with pytest.raises(ValueError, match="told of 10 errors"):
        short.scale()
    with pytest.raises(ValueError, match="told of 10 errors"):
        short.add(np.ones((2, 1)))
    with pytest.raises(ValueError, match="n_values"):
        ChannelQuantile(0, 1)


def test_fit_at_a_small_score_stride_need_not_keep_every_windows_errors():
    # the errors of 3,000 rows x 4 channels in windows of 50 stepped by 1
    # take 2.4 MB: beyond a working_memory of 1 MiB the windows are scored
    # twice instead, to the same scale and scores
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 4)) + np.sin(np.arange(3000) / 7)[:, None]
    params = dict(
        window_size=50,
        score_stride=1,
        max_epochs=1,
        backbone_params=TINY,
        random_state=0,
        score_head="none",
    )
    kept = ActiveReconstructionDetector(**params).fit(X)
    with sklearn.config_context(working_memory=1):
        tracemalloc.start()
        again = ActiveReconstructionDetector(**params).fit(X)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    np.testing.assert_array_equal(again.channel_scale_, kept.channel_scale_)
    np.testing.assert_array_equal(again.decision_scores_, kept.decision_scores_)
    assert again.threshold_ == kept.threshold_
    assert peak < 2_951 * 50 * 4 * 4 / 2, f"peak {peak / 1e6:.1f} MB"
