"""Per-timestep scores over time: smoothed at one width or several, detrended.

A detector's per-timestep score is noisy where an anomaly lasts (some of
its timesteps are reconstructed well) and spiky where the series is only
noisy. Averaging each timestep's score with its neighbours raises a lasting
anomaly and lowers a lone spike, the reason Hundman et al. smooth their
detector's errors before thresholding them (KDD 2018, the paper of the MSL
and SMAP data sets). A mean over a fixed width drowns anomalies shorter than
it, so :class:`ScoreSmoother` can also scan several widths, as a scan
statistic does: each width's smoothed score is ranked among the training
scores smoothed at that width, and the largest rank is kept, so a short
anomaly stands out at the short widths and a long one at the long widths.

A slow drift of the series (a season, a sensor that ages) that the model
never saw in training raises every score of the later part, until its
normal timesteps outscore the earlier anomalies. :func:`detrend_scores`
takes each score relative to the median of its neighbourhood, far wider
than an anomaly, which removes the drift and leaves the anomalies.
"""

from __future__ import annotations

import numpy as np

from .label_head import reference_rank
from .validation import check_count
from .windows import with_nonfinite

__all__ = ["ScoreSmoother", "detrend_scores", "multiscale_widths", "smooth_scores"]


def smooth_scores(scores: np.ndarray, width: int, axis: int = -1) -> np.ndarray:
    """Centred moving mean of per-timestep scores over ``width`` timesteps.

    Each timestep's score becomes the mean of the ``width`` scores around it,
    in O(n) whatever the width. The series is mirrored past its ends without
    repeating its end values (``d c b | a b c d``): repeating the first and
    last score past the ends instead made each weigh about half of its own
    mean, so a spike on the first or last timestep, the newest of a live
    stream, scored up to 9 times one in the middle.

    Parameters
    ----------
    scores : ndarray
        Scores along ``axis``, consecutive timesteps.
    width : int
        Timesteps averaged, at least 1; 1 returns a float64 copy of the
        scores. A NaN or an infinity makes the mean of each window that holds
        it NaN or that infinity, and no other.
    axis : int, default=-1

    Returns
    -------
    smoothed : ndarray of float64, the shape of ``scores``

    Examples
    --------
    >>> smooth_scores(np.array([0., 0., 3., 0., 0.]), 3)
    array([0., 1., 1., 1., 0.])
    >>> smooth_scores(np.array([6., 0., 0., 0., 0.]), 3)  # the edge counts once
    array([2., 2., 0., 0., 0.])
    """
    from scipy.ndimage import uniform_filter1d

    width = check_count(width, "width")
    scores = np.array(scores, dtype=np.float64)  # a copy: never the caller's

    def cover(values):
        return uniform_filter1d(
            np.asarray(values, dtype=np.float64), size=width, axis=axis, mode="mirror"
        )

    if width == 1:
        return scores
    return with_nonfinite(scores, cover)


def detrend_scores(scores: np.ndarray, span: int) -> np.ndarray:
    """Per-timestep scores less the centred moving median over ``span`` timesteps.

    The median, not the mean: an anomaly shorter than half of ``span`` does
    not move it, so the anomaly keeps its height above the scores around
    it, while a level that changes slower than ``span`` is taken away. The
    series is mirrored past its ends (an anomaly at an end is not repeated
    into a baseline of its own). O(n log span).

    Parameters
    ----------
    scores : ndarray of shape (n_timesteps,)
        Consecutive timesteps' scores.
    span : int
        Timesteps the median reads, centred on each; at least 2.

    Returns
    -------
    detrended : ndarray of float64 of shape (n_timesteps,)

    Examples
    --------
    >>> scores = np.linspace(0.0, 8.0, 1000)  # scores rising with a drift
    >>> scores[600:610] += 2.0  # a short anomaly, below the late normal scores
    >>> detrended = detrend_scores(scores, 200)
    >>> bool(scores[605] < scores[-1] and detrended[605] > 1.5 > detrended[-1])
    True
    """
    from scipy.ndimage import median_filter

    span = check_count(span, "span", minimum=2)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:  # a 2-D median would mix the columns
        raise ValueError(
            f"scores must be 1-D, one per timestep; got shape {scores.shape}."
        )
    return scores - median_filter(scores, size=span, mode="mirror")


def multiscale_widths(window: int) -> tuple[int, ...]:
    """The widths a scan over ``window``-long windows reads: 1 (the scores
    themselves), a quarter, half and the whole window.

    Examples
    --------
    >>> multiscale_widths(50)
    (1, 12, 25, 50)
    >>> multiscale_widths(3)
    (1, 3)
    """
    return tuple(sorted({max(1, window // 4), max(1, window // 2), window, 1}))


class ScoreSmoother:
    """Smooth a series' per-timestep scores at one width, or scan several.

    Parameters
    ----------
    widths : tuple of int
        One width: the centred moving mean over it (:func:`smooth_scores`).
        Several: at each width the smoothed score's rank among the training
        scores smoothed alike (:func:`~alad.label_head.reference_rank`,
        unbounded above the largest), the largest rank over the widths.

    Attributes
    ----------
    references_ : list of ndarray
        With several widths, the sorted smoothed training scores of each.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=1000)
    >>> test = rng.normal(size=200)
    >>> test[100:103] += 8  # a short anomaly: the width 1 finds it
    >>> test[150:190] += 1  # a long, faint one: the wider widths find it
    >>> scores = ScoreSmoother((1, 10, 40)).fit(train).transform(test)
    >>> bool(scores[101] > 1 and scores[170] > 1 and np.median(scores[:90]) < 1)
    True
    """

    def __init__(self, widths: tuple[int, ...]):
        self.widths = tuple(widths)

    def fit(self, training_scores: np.ndarray) -> ScoreSmoother:
        """Keep the training scores smoothed at each width (several widths)."""
        self.references_ = (
            [np.sort(smooth_scores(training_scores, w)) for w in self.widths]
            if len(self.widths) > 1
            else []
        )
        return self

    def transform(self, scores: np.ndarray, axis: int = -1) -> np.ndarray:
        """The smoothed scores, along ``axis`` (float64, the shape of ``scores``)."""
        if len(self.widths) == 1:
            return smooth_scores(scores, self.widths[0], axis)
        # a running maximum: one width's ranks alive at a time, not all
        top = None
        for width, reference in zip(self.widths, self.references_, strict=True):
            ranks = reference_rank(reference, smooth_scores(scores, width, axis))
            top = ranks if top is None else np.maximum(top, ranks, out=top)
        return top
