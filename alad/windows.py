"""Sliding windows as views, window scores folded back to timesteps, and the
period a window can take."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .validation import check_count

__all__ = [
    "dominant_period",
    "fold_position_scores",
    "fold_window_values",
    "grid_starts",
    "iter_window_batches",
    "scoring_starts",
    "spread_window_scores",
    "stride_for_windows",
    "window_view",
]


def window_view(series: np.ndarray, window_size: int) -> np.ndarray:
    """All overlapping windows of a series, as a read-only view.

    Parameters
    ----------
    series : ndarray of shape (n_timesteps, n_channels)
    window_size : int

    Returns
    -------
    view : ndarray of shape (n_timesteps - window_size + 1, window_size, n_channels)
        ``view[s]`` is ``series[s:s + window_size]``; no data is copied.
    """
    check_count(window_size, "window_size")
    if window_size > len(series):
        raise ValueError(
            f"window_size must be at most the series' length {len(series)}; got "
            f"{window_size}."
        )
    # sliding_window_view puts the window axis last; moving it keeps the view
    view = np.lib.stride_tricks.sliding_window_view(series, window_size, axis=0)
    return np.moveaxis(view, -1, 1)


def grid_starts(n_timesteps: int, window_size: int, stride: int) -> np.ndarray:
    """Starts of the windows ``[s, s + window_size)`` on a regular grid.

    Only windows that fit entirely in the series are returned; the tail after
    the last one is not covered (see :func:`scoring_starts`).

    Parameters
    ----------
    n_timesteps : int
    window_size : int
    stride : int

    Returns
    -------
    starts : ndarray of int64

    Examples
    --------
    >>> grid_starts(10, 4, 4)
    array([0, 4])
    """
    check_count(n_timesteps, "n_timesteps", minimum=0)
    check_count(window_size, "window_size")
    check_count(stride, "stride")
    if n_timesteps < window_size:
        return np.empty(0, dtype=np.int64)
    return np.arange(0, n_timesteps - window_size + 1, stride, dtype=np.int64)


def scoring_starts(n_timesteps: int, window_size: int, stride: int) -> np.ndarray:
    """Grid starts plus one window aligned to the end, so every timestep is covered.

    When the grid leaves a tail shorter than a window, an extra window
    ``[n_timesteps - window_size, n_timesteps)`` is added; it overlaps the
    previous one, and :func:`fold_position_scores` averages the overlap.

    Examples
    --------
    >>> scoring_starts(10, 4, 4)
    array([0, 4, 6])
    >>> scoring_starts(8, 4, 4)
    array([0, 4])
    """
    starts = grid_starts(n_timesteps, window_size, stride)
    if stride > window_size:
        raise ValueError(
            f"stride must be at most window_size={window_size} (the rows between "
            f"windows would have no score); got {stride}."
        )
    if starts.size and starts[-1] + window_size < n_timesteps:
        starts = np.append(starts, n_timesteps - window_size)
    return starts


def stride_for_windows(
    n_timesteps: int, window_size: int, stride: int, min_windows: int
) -> int:
    """``stride``, shortened so that ``n_timesteps`` give ``min_windows`` windows.

    ``(n_timesteps - window_size) // min_windows`` where that is below
    ``stride``: its grid (:func:`grid_starts`) holds more than
    ``min_windows`` windows, one step longer at most ``min_windows``; 1
    where even every start gives fewer. A long series keeps ``stride``.

    Examples
    --------
    >>> stride_for_windows(1200, 50, 25, 500)
    2
    >>> stride_for_windows(35000, 50, 25, 500)
    25
    >>> len(grid_starts(1200, 50, 2))
    576
    """
    check_count(n_timesteps, "n_timesteps", minimum=0)
    check_count(window_size, "window_size")
    check_count(stride, "stride")
    check_count(min_windows, "min_windows")
    return max(1, min(stride, (n_timesteps - window_size) // min_windows))


def iter_window_batches(
    series: np.ndarray, starts: np.ndarray, window_size: int, batch_size: int
) -> Iterator[np.ndarray]:
    """Yield ``(batch, window_size, n_channels)`` float32 copies, one batch at a time.

    Only one batch of windows exists in memory at any moment, whatever the
    stride, so scoring a long series with overlapping windows stays within
    the memory of the series itself.
    """
    check_count(batch_size, "batch_size")
    view = window_view(series, window_size)
    starts = np.asarray(starts)
    if starts.size and (
        starts.dtype.kind not in "iu" or starts.min() < 0 or starts.max() >= len(view)
    ):
        raise ValueError(
            f"starts must be integers from 0 to {len(view) - 1} (the last window "
            f"of {window_size} in {len(series)} timesteps)."
        )
    for first in range(0, starts.size, batch_size):
        batch = view[starts[first : first + batch_size]]
        yield np.ascontiguousarray(batch, dtype=np.float32)


def fold_position_scores(
    position_scores: Iterator[np.ndarray] | np.ndarray,
    starts: np.ndarray,
    n_timesteps: int,
    window_size: int,
) -> np.ndarray:
    """Average per-position window scores into one score per timestep.

    Parameters
    ----------
    position_scores : ndarray of shape (n_windows, window_size) or iterator
        Score of each position of each window, in the order of ``starts``;
        an iterator of consecutive chunks is consumed chunk by chunk.
    starts : ndarray of int64 of shape (n_windows,)
        Strictly increasing window starts.
    n_timesteps : int
    window_size : int

    Returns
    -------
    scores : ndarray of float64 of shape (n_timesteps,)
        Mean of the scores of all windows covering each timestep; ``nan``
        where no window covers it.

    Examples
    --------
    >>> fold_position_scores(np.array([[1., 2.], [4., 6.]]), np.array([0, 1]), 3, 2)
    array([1., 3., 6.])
    """
    if isinstance(position_scores, np.ndarray):
        position_scores = iter([position_scores])
    starts = _checked_starts(starts, n_timesteps, window_size)
    sums = np.zeros(n_timesteps, dtype=np.float64)
    done = 0
    positions = np.arange(window_size)
    for chunk in position_scores:
        if np.ndim(chunk) != 2 or np.shape(chunk)[1] != window_size:
            raise ValueError(
                "position_scores must hold one row of window_size "
                f"({window_size}) scores per window; got a chunk of shape "
                f"{np.shape(chunk)}."
            )
        if done + len(chunk) > len(starts):
            raise ValueError(
                f"position_scores holds more windows than the {len(starts)} starts."
            )
        chunk_starts = starts[done : done + len(chunk)]
        done += len(chunk)
        if not len(chunk):
            continue
        # one bincount over the span the chunk covers: duplicate timesteps
        # (overlapping windows) are summed, and the work is O(chunk + span)
        first = chunk_starts[0]
        span = chunk_starts[-1] + window_size - first
        index = (chunk_starts[:, None] - first + positions).ravel()
        sums[first : first + span] += np.bincount(
            index, weights=np.asarray(chunk, dtype=np.float64).ravel(), minlength=span
        )
    if done != len(starts):
        raise ValueError(
            f"position_scores holds {done} windows for the {len(starts)} starts."
        )
    return _covering_mean(sums, starts, window_size)


def fold_window_values(
    values, starts: np.ndarray, n_timesteps: int, window_size: int
) -> np.ndarray:
    """:func:`fold_position_scores` of windows whose every position holds the
    window's one value, without building the ``(n_windows, window_size)``
    array of them.

    Bit for bit what ``fold_position_scores(np.repeat(values[:, None],
    window_size, axis=1), starts, ...)`` returns: each timestep's sum is
    taken over its covering windows in order, as there, a block of timesteps
    at a time, so that memory stays near the size of the series however much
    the windows overlap.

    Parameters
    ----------
    values : array-like of shape (n_windows,)
        One value per window (a label head's probability), in the order of
        ``starts``.
    starts : ndarray of int of shape (n_windows,)
        Strictly increasing window starts.
    n_timesteps, window_size : int

    Returns
    -------
    scores : ndarray of float64 of shape (n_timesteps,)
        Mean of the values of the windows covering each timestep; ``nan``
        where no window covers it.

    Examples
    --------
    >>> fold_window_values(np.array([1.0, 4.0]), np.array([0, 1]), 3, 2)
    array([1. , 2.5, 4. ])
    """
    check_count(window_size, "window_size")
    starts = _checked_starts(starts, n_timesteps, window_size)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != starts.shape:
        raise ValueError(
            f"values must hold one value per window start ({len(starts)}); got "
            f"shape {values.shape}."
        )
    sums = np.zeros(n_timesteps, dtype=np.float64)
    positions = np.arange(window_size)
    # at most about a million (window, position) pairs a block, whatever the
    # overlap (every window, stride 1: (block + window) x window)
    block = max(window_size, (1 << 20) // window_size)
    for first in range(0, n_timesteps, block):
        stop = min(first + block, n_timesteps)
        lo = np.searchsorted(starts, first - window_size + 1)
        hi = np.searchsorted(starts, stop)
        if lo == hi:
            continue
        index = starts[lo:hi, None] + positions
        inside = (index >= first) & (index < stop)
        weights = np.broadcast_to(values[lo:hi, None], index.shape)[inside]
        sums[first:stop] = np.bincount(
            index[inside] - first, weights=weights, minlength=stop - first
        )
    return _covering_mean(sums, starts, window_size)


def _checked_starts(starts, n_timesteps: int, window_size: int) -> np.ndarray:
    """``starts`` as an array: strictly increasing, each window inside."""
    starts = np.asarray(starts)
    if len(starts) and (
        starts[0] < 0
        or starts[-1] + window_size > n_timesteps
        or (np.diff(starts) <= 0).any()
    ):
        raise ValueError(
            "starts must be strictly increasing window starts, each window within "
            f"the {n_timesteps} timesteps."
        )
    return starts


def _covering_mean(sums: np.ndarray, starts: np.ndarray, window_size: int):
    """Each timestep's ``sums`` over the number of windows covering it
    (``nan`` where none does)."""
    # coverage counts from a difference array: +1 at each start, -1 past each end
    delta = np.zeros(len(sums) + 1, dtype=np.int64)
    delta[starts] += 1  # starts are distinct, so no np.add.at is needed
    delta[starts + window_size] -= 1
    counts = np.cumsum(delta[:-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def spread_window_scores(
    window_scores, window_size: int, stride: int = 1
) -> np.ndarray:
    """One score per window, spread over the timesteps as the mean of the
    scored windows covering each.

    ``window_scores`` are those of the windows of stride 1 (window ``i``
    covers ``[i, i + window_size)``), so ``k`` window scores give ``k +
    window_size - 1`` timesteps. The windows scored are those alad's
    scoring takes at ``stride`` (:func:`scoring_starts`: the grid, and one
    window at the end): every window at ``stride=1``, one window per
    timestep (two at the end) at ``stride=window_size``. It is the rule
    :func:`fold_position_scores` applies to per-position scores, for a
    method that gives a window a single score: a timestep's score then
    reads up to ``window_size - 1`` rows ahead. O(k) time and memory
    whatever the window and step.

    Parameters
    ----------
    window_scores : array-like of shape (k,)
    window_size : int
    stride : int, default=1

    Returns
    -------
    scores : ndarray of float64 of shape (k + window_size - 1,)

    Examples
    --------
    >>> spread_window_scores([1.0, 3.0], 2)
    array([1., 2., 3.])
    >>> spread_window_scores([1.0, 2.0, 3.0, 4.0], 2, stride=2)
    array([1. , 1. , 3. , 3.5, 4. ])
    """
    window_scores = np.asarray(window_scores, dtype=np.float64).ravel()
    check_count(window_size, "window_size")  # the step: by scoring_starts
    k = window_scores.size
    if k == 0:
        raise ValueError("window_scores is empty.")
    n = k + window_size - 1
    # each scored window adds its score to the rows it covers: differences
    # at its two ends, summed up (its starts are distinct, so are its ends)
    starts = scoring_starts(n, window_size, stride)
    scored = window_scores[starts]

    def cover(values):  # the sum over the scored windows covering each row
        sums = np.zeros(n + 1)
        sums[starts] += values
        sums[starts + window_size] -= values
        return np.cumsum(sums)[:n]

    counts = cover(np.ones(starts.size))
    return with_nonfinite(scored, lambda values: cover(values) / counts)


def with_nonfinite(values: np.ndarray, mean_of) -> np.ndarray:
    """``mean_of(values)``, the means of ``values`` over covering sets, where
    a set holding a NaN or an infinity has the mean of the whole set: NaN
    where a NaN or both infinities meet, else that infinity.

    A running sum (a difference array, a moving mean) carries a NaN or an
    infinity on to every later row: where any value is not finite, the
    finite values are averaged apart (the others taken as 0), and where the
    others fall is averaged apart; with all values finite, one call.
    """
    finite = np.isfinite(values)
    if finite.all():
        return mean_of(values)
    means = mean_of(np.where(finite, values, 0.0))
    pos, neg = mean_of(values == np.inf) > 0, mean_of(values == -np.inf) > 0
    nan = mean_of(np.isnan(values)) > 0
    means[pos] = np.inf
    means[neg] = -np.inf
    means[nan | (pos & neg)] = np.nan
    return means


def dominant_period(
    series: np.ndarray,
    *,
    min_lag: int = 3,
    max_lag: int = 400,
    min_strength: float = 0.5,
    max_length: int = 20_000,
) -> int | None:
    """The lag of the strongest autocorrelation peak of a series, if it is clear.

    The autocorrelation of the first ``max_length`` values is computed by FFT
    (O(n log n)); its local maxima between ``min_lag`` and ``max_lag``, after
    it first turns negative, are the candidate periods, and the highest one
    is returned when its autocorrelation reaches ``min_strength``. The search
    follows TSB-AD's ``find_length`` (first 20,000 values, local maxima of
    the ACF, the highest kept); the first negative lag and the strength floor
    are this library's: noise on the ACF's first descent makes local maxima
    near 1 at small lags, and a series without a clear cycle (noise, steps,
    a trend) should get no period rather than the lag of a chance ripple.

    Parameters
    ----------
    series : ndarray of shape (n_timesteps,)
    min_lag, max_lag : int
        The lags searched, both included.
    min_strength : float
        The autocorrelation a peak must reach (1 = a perfect repeat).
    max_length : int
        Only the first values are read: the period of a long series shows in
        its start, and the cost stays bounded.

    Returns
    -------
    period : int or None

    Examples
    --------
    >>> t = np.arange(2000)
    >>> dominant_period(np.sin(2 * np.pi * t / 40))
    40
    >>> dominant_period(np.random.default_rng(0).normal(size=2000)) is None
    True
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(
            "series must be one channel, of shape (n_timesteps,) or (n_timesteps, "
            f"1); got shape {x.shape} (take the period of each channel alone)."
        )
    x = x[:max_length]
    x = x - x.mean()
    power = float(x @ x)
    max_lag = min(max_lag, len(x) - 2)
    if power == 0.0 or not np.isfinite(power) or max_lag <= min_lag:
        return None
    spectrum = np.fft.rfft(x, 2 * len(x))  # zero-padded: linear, not circular
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[: max_lag + 2] / power
    # peaks before the ACF first turns negative are noise on its initial
    # descent (a long cycle's ACF is still near 1 at small lags); a zero-mean
    # cycle's ACF turns negative within its first period
    negative = np.flatnonzero(acf[: max_lag + 1] < 0)
    if negative.size == 0:
        return None  # a trend or a level: no cycle
    lags = np.arange(max(min_lag, negative[0]), max_lag + 1)
    peaks = lags[(acf[lags] > acf[lags - 1]) & (acf[lags] >= acf[lags + 1])]
    if peaks.size == 0:
        return None
    best = peaks[np.argmax(acf[peaks])]
    return int(best) if acf[best] >= min_strength else None
