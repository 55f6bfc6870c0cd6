"""Plots people read instead of tables: scores over time, PA%K curves, budget curves."""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["anomaly_segments", "plot_budget_curve", "plot_pa_k_curve", "plot_scores"]

_SEGMENT_COLOR = "#f4a6b7"  # pink, as the paper's Figures 1 and 9


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "alad.plotting needs matplotlib; install it with "
            "`pip install alad[plot]` (or `pip install matplotlib`)."
        ) from exc
    return plt


@contextlib.contextmanager
def closing_new_figures():
    """Close, on leaving the block, the pyplot figures made inside it, and
    no other: code that saves figures to files leaves a user's open figures
    (a notebook's) and matplotlib's backend as they were."""
    plt = _pyplot()
    before = set(plt.get_fignums())
    try:
        yield
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)


def _numbers(values, name: str) -> np.ndarray:
    """``values`` as float64, or an error naming the argument ``name``."""
    if hasattr(values, "fit") or hasattr(values, "decision_function"):
        raise TypeError(
            f"{name} must be scores, one per timestep (e.g. "
            f"detector.decision_function(X)); got a {type(values).__name__}."
        )
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers: {exc}.") from exc


def _checked_ax(ax):
    """``ax`` if it is a matplotlib Axes (or None)."""
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None; got {ax!r}.")
    return ax


def _checked_threshold(threshold):
    """``threshold`` if it is None, a real number, or a dict of them."""
    lines = threshold.values() if isinstance(threshold, Mapping) else [threshold]
    for line in lines:
        number = isinstance(line, numbers.Real) or (
            np.ndim(line) == 0 and np.issubdtype(np.asarray(line).dtype, np.number)
        )  # a 0-d array too
        if line is not None and (isinstance(line, bool) or not number):
            raise TypeError(
                "threshold must be a number (e.g. detector.threshold_), a dict "
                f"of curve name to number, or None; got {line!r}."
            )
    return threshold


def anomaly_segments(y_true) -> np.ndarray:
    """``(start, stop)`` pairs of the runs of 1s in a 0/1 label array.

    Examples
    --------
    >>> anomaly_segments([0, 1, 1, 0, 1]).tolist()
    [[1, 3], [4, 5]]
    """
    from .metrics import _check_binary

    y = _check_binary(y_true, "y_true").astype(np.int8)
    edges = np.diff(np.concatenate([[0], y, [0]]))
    return np.column_stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)])


def _envelope(values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Thin a long curve to about ``max_points`` while keeping every peak.

    Each bucket contributes its minimum and maximum, so a spike one timestep
    wide still shows on a plot of ten million points.
    """
    n = values.size
    if n <= max_points:
        return np.arange(n), values
    bucket = int(np.ceil(n / (max_points // 2)))
    n_full = (n // bucket) * bucket
    blocks = values[:n_full].reshape(-1, bucket)
    starts = np.arange(0, n_full, bucket)
    x = np.column_stack([starts, starts + bucket // 2]).ravel()
    # NaN-aware: a NaN beside a spike must not hide it (a bucket of NaN only
    # stays NaN, a gap in the curve, without numpy's warning about it)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = np.column_stack([np.nanmin(blocks, axis=1), np.nanmax(blocks, axis=1)])
        if n_full < n:
            x = np.append(x, [n_full, n - 1])
            rest = values[n_full:]
            y = np.append(y.ravel(), [np.nanmin(rest), np.nanmax(rest)])
    return x, y.ravel()


def _shade(axis, segments: np.ndarray) -> None:
    """The anomaly segments as pink bands over the whole height: one
    collection of rectangles, not one artist each (20,000 segments drew in
    20 s as artists)."""
    if not len(segments):
        return
    from matplotlib.collections import PolyCollection

    start, stop = segments[:, :1], segments[:, 1:]
    bottom, top = np.zeros_like(start), np.ones_like(start)
    corners = np.stack(
        [
            np.hstack([start, bottom]),
            np.hstack([start, top]),
            np.hstack([stop, top]),
            np.hstack([stop, bottom]),
        ],
        axis=1,
    ).astype(np.float64)
    axis.add_collection(
        PolyCollection(
            corners,
            facecolors=_SEGMENT_COLOR,
            alpha=0.6,
            linewidths=0,
            transform=axis.get_xaxis_transform(),  # x in data, y in the axes
        ),
        autolim=False,
    )


def plot_scores(
    scores,
    y_true=None,
    *,
    threshold: float | None = None,
    X=None,
    labels: Sequence[str] | None = None,
    ax=None,
    title: str | None = None,
    max_points: int = 20_000,
):
    """Anomaly scores over time with the true anomaly segments shaded.

    Parameters
    ----------
    scores : array-like of shape (n_timesteps,) or dict of such arrays
        One score curve, or several (e.g. ``{"before": s0, "after": s1}``),
        each drawn in its own panel.
    y_true : array-like of shape (n_timesteps,) or None
        Ground truth; its anomaly segments are shaded in pink.
    threshold : float, dict of str to float, or None
        Drawn as a dashed horizontal line (e.g. ``detector.threshold_``); a
        dict gives each curve of ``scores`` its own (missing names: none).
    X : array-like of shape (n_timesteps, n_channels) or None
        The series itself, drawn in a panel above the scores.
    labels : sequence of str or None
        Channel names for the legend of the ``X`` panel.
    ax : matplotlib Axes or None
        Draw a single score curve into this Axes (ignores ``X``; several
        curves are refused). Its figure's layout is left to the caller; a
        figure made here is laid out tightly.
    title : str or None
    max_points : int, default=20000
        Longer curves are thinned to a min/max envelope of about this many
        points, so that every spike stays visible.

    Returns
    -------
    fig : matplotlib Figure
    """
    plt = _pyplot()
    _checked_ax(ax)
    _checked_threshold(threshold)
    curves = dict(scores) if isinstance(scores, Mapping) else {"anomaly score": scores}
    if not curves:
        raise ValueError("scores must hold at least one curve; got an empty dict.")
    if ax is not None and len(curves) > 1:
        raise ValueError(
            f"ax holds a single score curve; scores has {len(curves)} "
            f"({list(curves)}): leave ax out to draw each in its own panel."
        )
    curves = {name: _numbers(s, "scores") for name, s in curves.items()}
    if (
        isinstance(max_points, bool)
        or not isinstance(max_points, numbers.Integral)
        or max_points < 2
    ):
        raise ValueError(f"max_points must be an integer >= 2; got {max_points!r}.")
    n_timesteps = None  # the first curve's length, which every curve must have
    for name, values in curves.items():
        if values.ndim != 1:
            raise ValueError(
                f"scores must be 1-D, one score per timestep; {name!r} has shape "
                f"{values.shape}."
            )
        n_timesteps = len(values) if n_timesteps is None else n_timesteps
        if len(values) != n_timesteps:
            raise ValueError(
                f"every curve of scores must have one score per timestep; {name!r} "
                f"has {len(values)}, the first {n_timesteps}."
            )
    segments = np.empty((0, 2))
    if y_true is not None:
        segments = anomaly_segments(y_true)  # checks the labels are 0/1
        n_labels = len(np.asarray(y_true))
        if n_labels != n_timesteps:
            raise ValueError(
                f"y_true has {n_labels} labels for the {n_timesteps} scores of each "
                "curve."
            )
    if X is not None and ax is None:
        series = _numbers(X, "X")
        if series.ndim not in (1, 2) or len(series) != n_timesteps:
            raise ValueError(
                "X must be the series of the scores, of shape (n_timesteps,) or "
                f"(n_timesteps, n_channels) with n_timesteps = {n_timesteps}; got "
                f"shape {series.shape}."
            )
        n_channels = series.reshape(len(series), -1).shape[1]
        if labels is not None and len(labels) < n_channels:
            raise ValueError(
                f"labels must name each of X's {n_channels} channels; got "
                f"{len(labels)}."
            )

    if ax is not None:
        fig, axes = ax.figure, [ax]
        panels = [("score", next(iter(curves.items())))]
    else:
        panels = ([("series", None)] if X is not None else []) + [
            ("score", item) for item in curves.items()
        ]
        fig, axes = plt.subplots(
            len(panels),
            1,
            sharex=True,
            squeeze=False,
            figsize=(12, 2.2 * len(panels) + 0.6),
        )
        axes = axes[:, 0]
    for axis, (kind, item) in zip(axes, panels):
        _shade(axis, segments)
        if kind == "series":
            series = series.reshape(len(series), -1)
            for c in range(series.shape[1]):
                name = labels[c] if labels is not None else f"channel {c}"
                axis.plot(*_envelope(series[:, c], max_points), lw=0.6, label=name)
            if series.shape[1] <= 10:
                axis.legend(
                    loc="upper right", fontsize="small", ncol=min(5, series.shape[1])
                )
            axis.set_ylabel("value")
            continue
        name, values = item
        axis.plot(*_envelope(values, max_points), lw=0.7, color="#1f4e79")
        line = threshold.get(name) if isinstance(threshold, Mapping) else threshold
        if line is not None:
            axis.axhline(line, ls="--", lw=1, color="#c0392b", label="threshold")
            axis.legend(loc="upper right", fontsize="small")
        axis.set_ylabel(name)
    axes[-1].set_xlabel("timestep")
    if title:
        axes[0].set_title(title)
    if ax is None:  # a figure of the caller's keeps its own layout
        fig.tight_layout()
    return fig


def plot_pa_k_curve(y_true, scores, *, ax=None, title: str | None = None):
    """F1 after PA%K adjustment against K (the paper's Figure 7).

    Parameters
    ----------
    y_true : array-like of shape (n_timesteps,)
    scores : array-like or dict of array-likes
        One score curve or several, labelled by the dict keys; the legend
        shows each curve's PA%K AUC.
    ax : matplotlib Axes or None
        Draw into this Axes (its figure's layout is left to the caller).
    title : str or None

    Returns
    -------
    fig : matplotlib Figure
    """
    from .metrics import _trapezoid, pa_k_curve

    plt = _pyplot()
    _checked_ax(ax)
    curves = dict(scores) if isinstance(scores, Mapping) else {"model": scores}
    if not curves:
        raise ValueError("scores is an empty dict: give at least one curve.")
    # computed before a figure exists: bad input leaves no figure open
    computed = {
        name: pa_k_curve(y_true, _numbers(values, "scores"))
        for name, values in curves.items()
    }
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    for name, (ks, f1) in computed.items():
        auc = _trapezoid(f1, ks / 100)  # pa_k_auc, without a second curve
        ax.plot(ks, f1, lw=1.5, label=f"{name} (AUC {auc:.3f})")
    ax.set_xlabel("K (%)")
    ax.set_ylabel("best F1 after PA%K")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    if own:  # a figure of the caller's keeps its own layout
        fig.tight_layout()
    return fig


def plot_budget_curve(
    records: Sequence[Mapping],
    *,
    metrics: Sequence[str] = ("f1_pa", "f1", "pa_k_auc"),
    x: str = "n_labelled",
    ax=None,
    title: str | None = None,
):
    """Each metric against the number of labelled windows.

    Parameters
    ----------
    records : sequence of dict
        One dict per round, with the key ``x`` (windows labelled so far) and
        the metric keys, e.g. what :func:`alad.active.run_active_learning`
        returns in ``history``. A key ``metric + "_std"`` draws a band.
    metrics : sequence of str
    x : str, default="n_labelled"
    ax : matplotlib Axes or None
        Draw into this Axes (its figure's layout is left to the caller).
    title : str or None

    Returns
    -------
    fig : matplotlib Figure
    """
    plt = _pyplot()
    _checked_ax(ax)
    if isinstance(metrics, str):
        metrics = (metrics,)
    if isinstance(records, Mapping):
        raise TypeError(
            "records must be a sequence of dicts, one per round (e.g. "
            "run_active_learning(...).history); got a single mapping."
        )
    missing = sorted({key for r in records for key in (x, *metrics) if key not in r})
    if missing:
        raise ValueError(
            f"records lack the key(s) {missing} (x={x!r}, metrics={list(metrics)}); "
            "run_active_learning records metrics only when given X_eval and y_eval."
        )
    # read before a figure exists: a record that is not numbers leaves none open
    xs = _numbers([r[x] for r in records], f"records' {x!r}")
    lines = {}
    for metric in metrics:
        ys = _numbers([r[metric] for r in records], f"records' {metric!r}")
        sd = None
        if all(metric + "_std" in r for r in records):
            sd = _numbers([r[metric + "_std"] for r in records], f"{metric}_std")
        lines[metric] = ys, sd
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    for metric, (ys, sd) in lines.items():
        ax.plot(xs, ys, marker="o", lw=1.5, label=metric)
        if sd is not None:
            ax.fill_between(xs, ys - sd, ys + sd, alpha=0.2)
    ax.set_xlabel("labelled windows")
    ax.set_ylabel("score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    if own:  # a figure of the caller's keeps its own layout
        fig.tight_layout()
    return fig
