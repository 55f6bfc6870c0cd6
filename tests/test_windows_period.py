"""alad.windows.dominant_period and stride_for_windows: the period a window of
window_size="auto" takes, and the step of stride="auto"."""

import numpy as np
import pytest

from alad.windows import dominant_period, grid_starts, stride_for_windows


@pytest.mark.parametrize("period", [5, 24, 208, 399])
def test_the_period_of_a_noisy_cycle(period):
    t = np.arange(12 * period)
    noise = np.random.default_rng(0).normal(scale=0.2, size=t.size)
    x = np.sin(2 * np.pi * t / period) + noise
    assert abs(dominant_period(x) - period) <= max(1, period // 100)


@pytest.mark.parametrize(
    "x",
    [
        np.random.default_rng(0).normal(size=3000),  # noise
        np.zeros(500),  # constant
        np.arange(500.0),  # a trend: its ACF only falls
        np.array([1.0, 2.0, 1.0]),  # too short for any lag
    ],
    ids=["noise", "constant", "trend", "short"],
)
def test_no_period_without_a_clear_cycle(x):
    assert dominant_period(x) is None


def test_a_weak_cycle_is_below_the_strength_floor():
    t = np.arange(4000)
    noise = np.random.default_rng(1).normal(size=t.size)
    x = 0.5 * np.sin(2 * np.pi * t / 40) + noise  # ACF peak about 0.11
    assert dominant_period(x) is None
    assert abs(dominant_period(x, min_strength=0.05) - 40) <= 3


def test_only_the_first_values_are_read():
    t = np.arange(30_000)
    x = np.where(t < 20_000, np.sin(2 * np.pi * t / 30), np.sin(2 * np.pi * t / 70))
    assert dominant_period(x) == 30
    assert dominant_period(x[20_000:]) == 70


@pytest.mark.parametrize(
    ("n", "window", "stride", "expected"),
    [
        (35_000, 50, 25, 25),  # long: the step as given
        (1_200, 50, 25, 2),  # short: (1200 - 50) // 500
        (300, 50, 25, 1),  # shorter than 500 windows at every start
        (50, 50, 25, 1),  # one window
    ],
)
def test_stride_for_windows_keeps_enough_windows(n, window, stride, expected):
    step = stride_for_windows(n, window, stride, 500)
    assert step == expected
    if expected > 1:  # enough windows; one step longer would give no more
        assert len(grid_starts(n, window, step)) > 500
        assert step == stride or len(grid_starts(n, window, step + 1)) <= 500


def test_a_period_is_of_one_channel():
    """Flattened row by row, three channels of a 40-step cycle read as 120."""
    x = np.sin(2 * np.pi * np.arange(2000) / 40)
    assert dominant_period(x[:, None]) == 40
    with pytest.raises(ValueError, match="series must be one channel"):
        dominant_period(np.c_[x, x, x])


@pytest.mark.parametrize(
    ("window_size", "stride", "name"),
    [(10, 0, "stride"), (10, -1, "stride"), (0, 5, "window_size")],
)
def test_grid_starts_refuse_steps_that_are_not_positive(window_size, stride, name):
    """A step of 0 divided by zero; a negative one gave no window, silently."""
    with pytest.raises(ValueError, match=name):
        grid_starts(100, window_size, stride)
    with pytest.raises(ValueError, match=name):
        grid_starts(
            5, window_size, stride
        )  # shorter than a window, refused all the same
    with pytest.raises(ValueError, match="min_windows"):
        stride_for_windows(100, 10, 5, 0)
    with pytest.raises(ValueError, match="stride"):
        stride_for_windows(100, 10, 0, 5)
