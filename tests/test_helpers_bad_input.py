"""The public helpers (windows, smoothing, queries, thresholds, plots): wrong
input is refused naming the argument, and a NaN or an infinity stays where
it is instead of running on through a running sum (a read-only review,
2026-12-07, found each of these returning a wrong result or a bare numpy
error)."""

import numpy as np
import pytest

from alad.query import select_marginal, select_queries, select_top_and_marginal
from alad.score_smoothing import detrend_scores, smooth_scores
from alad.thresholds import threshold_from_labels
from alad.windows import (
    grid_starts,
    iter_window_batches,
    scoring_starts,
    spread_window_scores,
    window_view,
)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_window_score_reaches_only_the_rows_it_covers(bad):
    scores = np.r_[1.0, bad, np.ones(998)]
    spread = spread_window_scores(scores, 5)
    hit = ~np.isfinite(spread)
    assert np.flatnonzero(hit).tolist() == [1, 2, 3, 4, 5]
    assert np.all(spread[~hit] == 1.0)
    if not np.isnan(bad):
        assert np.all(spread[hit] == bad)
    both = spread_window_scores([1.0, np.inf, -np.inf, 3.0], 2)
    assert np.isnan(both[2]) and both[1] == np.inf and both[3] == -np.inf


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_smoothing_keeps_a_non_finite_score_within_its_width(bad):
    scores = np.r_[np.ones(5), bad, np.ones(10)]
    smoothed = smooth_scores(scores, 3)
    assert np.flatnonzero(~np.isfinite(smoothed)).tolist() == [4, 5, 6]
    assert np.all(smoothed[np.isfinite(smoothed)] == 1.0)


def test_smoothing_width_is_checked_and_never_returns_the_callers_array():
    scores = np.zeros(4)
    for bad in (0, -3, True, 2.5):
        with pytest.raises(ValueError, match="width must be a positive integer"):
            smooth_scores(scores, bad)
    assert smooth_scores(scores, 1) is not scores


def test_detrending_takes_one_series_and_a_span_of_two_or_more():
    with pytest.raises(ValueError, match="scores must be 1-D"):
        detrend_scores(np.arange(10.0).reshape(5, 2), 3)
    for bad in (0, 1, -2):
        with pytest.raises(ValueError, match="span must be an integer >= 2"):
            detrend_scores(np.arange(10.0), bad)


def _query(**changes):
    kwargs = dict(
        strategy="hybrid",
        top_k=2,
        n_bins=2,
        per_bin=1,
        n_queries=None,
        rng=np.random.default_rng(0),
    )
    kwargs.update(changes)
    scores = kwargs.pop("scores", np.arange(10.0))
    candidates = kwargs.pop("candidates", np.ones(10, bool))
    return select_queries(scores, candidates, **kwargs)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"n_queries": -1}, "n_queries must be a positive integer"),
        ({"n_queries": True}, "n_queries must be a positive integer"),
        ({"n_bins": 0}, "n_bins must be a positive integer"),
        ({"top_k": -1}, "top_k must be an integer >= 0"),
        ({"candidates": np.array([0, 1, 2])}, "candidates must be a bool mask"),
        ({"candidates": np.ones(5, bool)}, "candidates must be a bool mask"),
        ({"scores": np.zeros((10, 2))}, "scores must be 1-D"),
        ({"rng": 0}, "rng must be a numpy Generator"),
    ],
)
def test_query_arguments_are_checked(changes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _query(**changes)


def test_marginal_queries_take_one_score_per_candidate_and_a_finite_threshold():
    for select in (select_marginal, select_top_and_marginal):
        with pytest.raises(ValueError, match="must be 1-D"):
            select(np.arange(6.0).reshape(3, 2), 0.0, 2)
        with pytest.raises(ValueError, match="threshold must be a finite number"):
            select(np.arange(6.0), np.nan, 2)
        with pytest.raises(ValueError, match="n must be an integer >= 0"):
            select(np.arange(6.0), 0.0, 1.7)


def test_window_helpers_refuse_sizes_that_give_no_windows_or_wrong_ones():
    series = np.zeros((12, 2))
    with pytest.raises(ValueError, match="window_size must be a positive integer"):
        window_view(series, 0)
    with pytest.raises(ValueError, match="window_size must be at most"):
        window_view(series, 13)
    with pytest.raises(ValueError, match="n_timesteps must be an integer >= 0"):
        grid_starts(4.5, 4, 1)
    with pytest.raises(ValueError, match="stride must be at most window_size"):
        scoring_starts(12, 2, 5)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        list(iter_window_batches(series, np.arange(3), 4, -1))
    with pytest.raises(ValueError, match="starts must be integers from 0 to 8"):
        list(iter_window_batches(series, np.array([-1]), 4, 2))


@pytest.mark.parametrize(
    "scores, labels, rate, match",
    [
        ([0.1, np.nan, 0.3], [0, 0, 1], 0.1, "scores must be finite"),
        ([0.1, 0.2], [0, 0, 1], 0.1, "of one length"),
        ([0.1, 0.2, 0.3], [0, 2, 1], 0.1, "labels must contain only 0"),
        ([0.1, 0.2, 0.3], [0, np.nan, 1], 0.1, "must not contain nan"),
        ([0.1, 0.2, 0.3], [0, 0, 1], 1.5, "false_alarm_rate must be in"),
    ],
)
def test_thresholds_from_labels_check_their_input(scores, labels, rate, match):
    for method in ("f1", "false_alarm"):
        with pytest.raises(ValueError, match=match):
            threshold_from_labels(scores, labels, method=method, false_alarm_rate=rate)


def test_a_pa_k_plot_of_bad_input_leaves_no_figure_open():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from alad.plotting import plot_pa_k_curve

    plt.close("all")
    with pytest.raises(ValueError, match="at least one anomaly"):
        plot_pa_k_curve(np.zeros(100, int), np.random.default_rng(0).random(100))
    with pytest.raises(ValueError, match="empty dict"):
        plot_pa_k_curve(np.r_[np.zeros(99, int), 1], {})
    assert plt.get_fignums() == []
