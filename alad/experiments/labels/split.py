"""The split of a task's test series: the unlabelled pool and the evaluation part.

A contiguous stretch of ``pool_ratio`` of the test series is the pool, the
rest (before and after it) the evaluation part, whose two pieces every
method scores apart (:func:`score_apart`). The ratio may differ
per data set (:data:`POOL_RATIO`, :func:`pool_ratios`): MSL's test series are
short, and at 20 % its pools hold fewer windows than the budgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from types import MappingProxyType

import numpy as np

from ..tasks import DATASETS, Task

__all__ = [
    "EVAL_SCORING",
    "POOL_RATIO",
    "SPLITS",
    "LabelSplit",
    "make_label_split",
    "PAPER_POOL_RATIO",
    "pool_ratio_of",
    "pool_ratios",
    "pool_rows",
    "pool_start",
    "pool_windows",
    "score_apart",
]

#: How the evaluation part of a pool inside the test series is scored: the
#: rows before the pool and the rows after it, each as a series of its own
#: (:func:`score_apart`). Records made so carry it; the earlier ones scored
#: the two pieces joined, and the join sat on the anomaly the pool cut
#: (docs/label_efficiency.rst, "The seam").
EVAL_SCORING = "pieces apart"

#: How the pool is placed in the test series (see :func:`make_label_split`).
SPLITS = ("anomalous", "paper")

#: Share of the test series in the pool, per data set; ``"default"`` for the
#: others. MSL's test series are short: at 20 % its pools hold 4 to 24 windows
#: of 50 rows, fewer than the budgets; at 50 %, 10 to 61 (median 22)
#: (:func:`pool_windows`, docs/label_efficiency.rst).
POOL_RATIO = MappingProxyType({"default": 0.2, "msl": 0.5})


@dataclass(frozen=True, eq=False)
class LabelSplit:
    """The test series cut into a pool and an evaluation part (rows in time order).

    ``start`` and ``stop`` are the pool's rows in the test series; the
    evaluation part is ``test[:start]`` followed by ``test[stop:]``, joined at
    row ``seam`` of the evaluation part (0 when the pool starts the series).
    ``rule`` says which rule of :func:`pool_start` placed the pool.
    """

    kind: str
    start: int
    stop: int
    rule: str
    X_pool: np.ndarray
    y_pool: np.ndarray
    X_eval: np.ndarray
    y_eval: np.ndarray

    @property
    def seam(self) -> int:
        return self.start

    @property
    def has_seam(self) -> bool:
        """Whether the evaluation part joins two pieces (the pool is inside)."""
        return 0 < self.seam < len(self.y_eval)

    def score(self, score, min_rows: int = 1) -> np.ndarray:
        """``score`` of the evaluation part, its pieces apart (:func:`score_apart`)."""
        return score_apart(score, self.X_eval, self.seam, min_rows)


def score_apart(score, X, seam: int, min_rows: int = 1) -> np.ndarray:
    """Per-row scores of ``X[:seam]`` and ``X[seam:]``, each scored on its own.

    The evaluation part of a pool inside the test series is the rows before
    the pool followed by the rows after it. Scored joined, a detector sees a
    jump at the join that the series never had, and under the ``cut`` rule
    the join sits on the anomaly the pool cut; scored as one series with the
    pool between them, the windows next to the pool hold labelled rows (a
    classifier on window features gained 0.13 PA%K AUC from that on MSL).
    So each piece is a series of its own. A piece shorter than ``min_rows``
    (the scorer's window) is first lengthened at its end away from the pool,
    by repeating its outermost row, and the added rows' scores are dropped:
    no row of the pool or of the other piece enters its scores.

    Parameters
    ----------
    score : callable
        Array of shape ``(m, ...)`` -> ``m`` per-row scores.
    X : ndarray of shape (n, ...)
    seam : int
        The first row after the pool (0 or ``n``: one piece).
    min_rows : int
        The fewest rows ``score`` takes.
    """
    n = len(X)
    if not 0 <= seam <= n:
        raise ValueError(f"seam must be in [0, {n}]; got {seam}.")
    parts = []
    for a, b, front in ((0, seam, True), (seam, n, False)):
        if a == b:
            continue
        piece, short = X[a:b], max(0, min_rows - (b - a))
        if short:
            edge = np.repeat(piece[:1] if front else piece[-1:], short, axis=0)
            piece = np.concatenate([edge, piece] if front else [piece, edge])
        scores = np.asarray(score(piece), dtype=np.float64).ravel()
        if scores.shape != (len(piece),):
            raise ValueError(
                f"score gave {scores.shape[0]} scores for a piece of {len(piece)} rows."
            )
        parts.append(scores[short:] if front else scores[: b - a])
    return np.concatenate(parts) if parts else np.zeros(0)


def _segments(y: np.ndarray) -> np.ndarray:
    """``(n_segments, 2)`` start and stop rows of the runs of 1 in ``y``."""
    d = np.diff(np.concatenate([[0], (np.asarray(y) > 0).astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(d == 1), np.flatnonzero(d == -1)], axis=1)


def pool_start(y: np.ndarray, size: int, seed: int) -> tuple[int, str]:
    """Where a pool of ``size`` rows starts so that it holds anomalies.

    Among the starts ``s`` of a stretch ``[s, s + size)`` of the test labels
    ``y``, the candidates are, in this order of preference:

    1. ``"whole"``: the stretch holds at least one whole anomalous segment,
       and the rest of the series at least one whole segment too;
    2. ``"cut"``: the stretch and the rest each hold at least one anomalous
       row (a segment is cut at the pool's edge; e.g. a series with a single
       anomaly, as UCR's);
    3. ``"none"``: no stretch can give both parts anomalies: the pool starts
       the series (as the paper's).

    One candidate of the first non-empty class is drawn uniformly with
    ``numpy.random.default_rng([seed, 13])``: the rule depends only on the
    positions of the anomalies, ``size`` and the seed.

    Returns
    -------
    start : int
    rule : {"whole", "cut", "none"}
    """
    y = (np.asarray(y) > 0).astype(np.int64)
    n = len(y)
    if not 0 < size < n:
        raise ValueError(f"size must be in (0, {n}) rows; got {size}.")
    starts = np.arange(n - size + 1)
    segs = _segments(y)
    inside = np.zeros(starts.size, dtype=np.int64)
    outside = np.zeros(starts.size, dtype=np.int64)
    for a, b in segs:
        inside += (starts <= a) & (b <= starts + size)
        outside += (b <= starts) | (starts + size <= a)
    csum = np.concatenate([[0], np.cumsum(y)])
    in_pool = csum[starts + size] - csum[starts]
    rng = np.random.default_rng([seed, 13])
    for rule, ok in (
        ("whole", (inside > 0) & (outside > 0)),
        ("cut", (in_pool > 0) & (csum[-1] - in_pool > 0)),
    ):
        if ok.any():
            return int(rng.choice(starts[ok])), rule
    return 0, "none"


def make_label_split(task: Task, kind: str, pool_ratio: float, seed: int) -> LabelSplit:
    """The pool and evaluation part of a task (see :func:`pool_start`).

    ``kind="paper"``: the first ``floor(pool_ratio * n)`` rows are the pool
    (Han et al.'s Figure 3, the same for every seed); ``"anomalous"``: a
    stretch of as many rows placed by :func:`pool_start`.
    """
    size = pool_rows(task, pool_ratio)
    if kind == "paper":
        start, rule = 0, "paper"
    elif kind == "anomalous":
        start, rule = pool_start(task.y_test, size, seed)
    else:
        raise ValueError(f"split must be one of {SPLITS}; got {kind!r}.")
    stop = start + size
    X, y = task.X_test, np.asarray(task.y_test)
    return LabelSplit(
        kind=kind,
        start=start,
        stop=stop,
        rule=rule,
        X_pool=X[start:stop],
        y_pool=y[start:stop],
        X_eval=np.concatenate([X[:start], X[stop:]]),
        y_eval=np.concatenate([y[:start], y[stop:]]),
    )


def pool_ratios(pool_ratio, datasets=DATASETS) -> dict[str, float]:
    """The pool ratio of each data set, checked: ``{"default": r, name: r, ...}``.

    Parameters
    ----------
    pool_ratio : float or mapping of str to float
        A share of the test series for every data set, or data-set names
        (and ``"default"``, for the others; 0.2 when absent) to shares, e.g.
        :data:`POOL_RATIO`. Each in (0, 1).
    datasets : collection of str
        The names a key may take besides ``"default"``.

    Raises
    ------
    ValueError
        A share outside (0, 1), or a key that is no data set.
    """
    if isinstance(pool_ratio, Mapping):
        ratios = {"default": POOL_RATIO["default"], **pool_ratio}
    else:
        ratios = {"default": pool_ratio}
    for name, ratio in ratios.items():
        if name != "default" and name not in datasets:
            raise ValueError(
                f"pool_ratio: unknown data set {name!r}; choose from 'default', "
                + ", ".join(repr(d) for d in sorted(datasets))
                + "."
            )
        if isinstance(ratio, bool) or not isinstance(ratio, Real) or not 0 < ratio < 1:
            of = "" if name == "default" else f" of {name!r}"
            raise ValueError(f"pool_ratio{of} must be in (0, 1); got {ratio!r}.")
    return {name: float(ratio) for name, ratio in ratios.items()}


#: Han et al.'s pool: the first 20 % of every test series (the paper split).
PAPER_POOL_RATIO = 0.2


def pool_ratio_of(
    ratios: Mapping[str, float], task: Task, kind: str = "anomalous"
) -> float:
    """The share of ``task``'s test series in its pool.

    ``ratios`` as :func:`pool_ratios` returns them: the task's data set, else
    ``"default"``. They place the ``"anomalous"`` split; the ``"paper"``
    split is Han et al.'s, :data:`PAPER_POOL_RATIO` of every series.
    """
    if kind == "paper":
        return PAPER_POOL_RATIO
    return ratios.get(task.dataset, ratios["default"])


def pool_rows(task: Task, pool_ratio: float) -> int:
    """Rows of ``task``'s pool: ``floor(pool_ratio * n)`` of its ``n`` test
    rows, whatever the split and the seed."""
    return int(np.floor(pool_ratio * len(task.y_test)))


def pool_windows(
    datasets, pool_ratio=POOL_RATIO, *, window_size: int = 50, data_home=None
) -> dict[str, int]:
    """Whole windows of ``window_size`` rows in each task's pool.

    At most that many windows can be labelled in a task. The pool holds
    ``floor(pool_ratio * n)`` rows of a test series of ``n``, whatever the
    split and the seed; only whole windows are offered to the user. Loads the
    data only (no training)::

        python -c "from alad.experiments.labels import pool_windows as w
        print(w(['msl']))"

    Parameters
    ----------
    datasets : list of str or Task
        Data-set specs of :func:`~alad.experiments.tasks.load_tasks`, or tasks.
    pool_ratio : float or mapping
        As :func:`pool_ratios`; default :data:`POOL_RATIO`.

    Returns
    -------
    windows : dict
        Task name -> whole windows in its pool.
    """
    from ..tasks import load_all_tasks

    tasks = load_all_tasks(datasets, data_home)
    ratios = pool_ratios(pool_ratio, {*DATASETS, *(t.dataset for t in tasks)})
    return {
        t.name: pool_rows(t, pool_ratio_of(ratios, t)) // window_size for t in tasks
    }
