"""The files exchanged with the peers' environment: task files and score files.

The peers run in their own virtual environment (``benchmarks/peers/run_peers.py``):
they read a task file per task, split and seed (:func:`write_task_file`) and
write one score per evaluation timestep to :func:`score_path`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...windows import spread_window_scores
from ..store import atomic_write
from ..tasks import Task
from .split import LabelSplit

__all__ = [
    "LABEL_PEERS",
    "ROW_ERROR_PEERS",
    "WINDOW_END_PEERS",
    "covering_from_window_end",
    "peer_stride",
    "peer_window",
    "UNSUPERVISED_PEERS",
    "read_task_file",
    "score_path",
    "task_file",
    "task_id",
    "write_task_file",
]

#: Peers that learn from the training part only (one score file each).
UNSUPERVISED_PEERS = (
    "iforest",
    "pyod_ecod",
    "pyod_autoencoder",
    "pyod_lstmad",
    "deepod_tcned",
    "deepod_usad",
    "tsbad_timesnet",
    "tsbad_cnn",
    "tsbad_omnianomaly",
)

#: Peers fed the windows alad queried (one score file per budget above 0).
LABEL_PEERS = ("deepod_devnet", "deepod_prenet", "deepod_deepsad", "extratrees")


#: Window-end peers whose score at a row is that row's own error (the error
#: of the window's last row): alad too gives each row its own error, so they
#: are compared as they score, without a re-aligned twin (spreading one
#: row's error over a window, or averaging W rows' errors, is no rule of
#: alad's)
ROW_ERROR_PEERS = ("deepod_tcned", "tsbad_timesnet")

#: Peers that give each window one score, put at the window's last row
#: (``ALIGNMENT`` in ``benchmarks/peers/run_peers.py``), and the setting of
#: their score file that holds the window (None: alad's window, the task's)
WINDOW_END_PEERS = {
    "deepod_tcned": "seq_len",
    "deepod_usad": "seq_len",
    "tsbad_timesnet": "win_size",
    "tsbad_omnianomaly": "win_size",
    "deepod_devnet": "seq_len",
    "deepod_prenet": "seq_len",
    "deepod_deepsad": "seq_len",
    "extratrees": None,
}


def peer_window(peer: str, info: dict, task_window: int) -> int | None:
    """The window of a window-end peer's scores (None: not such a peer, or
    a score file that does not say it)."""
    if peer not in WINDOW_END_PEERS:
        return None
    name = WINDOW_END_PEERS[peer]
    if name is None:
        return int(task_window) if task_window else None
    value = (info.get("settings") or {}).get(name)
    return int(value) if isinstance(value, int | float) and value >= 1 else None


def covering_from_window_end(
    scores, window: int, seam: int = 0, stride: int = 1
) -> np.ndarray:
    """A window-end peer's scores re-aligned to alad's rule.

    In a peer's score file row ``t`` holds the score of the window ``[t -
    window + 1, t]`` (rows before the first whole window repeat its score);
    alad gives row ``t`` the mean over the windows it scores that cover it,
    reading up to ``window - 1`` rows ahead (``decision_function``): every
    ``score_stride_``-th window and one at the end. This gives the peer the
    same look-ahead over its own windows, those at ``stride``
    (:func:`~alad.windows.spread_window_scores`; :func:`peer_stride` makes it
    alad's step in proportion to the windows: on a multivariate series,
    where alad scores windows side by side, one window of the peer's per
    row), piece by piece when the evaluation part was scored in two pieces
    apart (``seam``: the first row of the second; 0 for one piece). A piece
    shorter than a window gets, on every row, the score of the window that
    covers it whole, as alad scores such a piece (one window): its last
    row's. (The runner lengthens a short piece by repeating its outermost
    row; a front piece padded to more than a window holds, on its other
    rows, windows that start in the padding and miss its last rows.)
    """
    scores = np.asarray(scores, dtype=np.float64)
    parts = []
    for piece in (scores[:seam], scores[seam:]):
        if len(piece) >= window:
            piece = spread_window_scores(piece[window - 1 :], window, stride)
        elif len(piece):
            piece = np.full(len(piece), piece[-1])
        parts.append(piece)
    return np.concatenate(parts)


def peer_stride(peer_window: int, alad_window: int, alad_stride: int) -> int:
    """The step between a peer's windows that matches alad's scoring: alad's
    step as a share of its window, applied to the peer's (at least 1, at most
    the peer's window: no row is left between two windows).

    >>> peer_stride(100, 50, 50), peer_stride(100, 40, 5), peer_stride(96, 50, 1)
    (100, 12, 2)
    """
    step = round(peer_window * alad_stride / alad_window)
    return min(peer_window, max(1, step))


def task_id(task: Task, split: str) -> str:
    """The folder name of a task and split: ``msl_C-1__anomalous``."""
    return f"{task.name.replace('/', '_')}__{split}"


def task_file(work: str | Path, tid: str, seed: int) -> Path:
    """``WORK/tasks/<task>__<split>/seed<seed>.npz``."""
    return Path(work) / "tasks" / tid / f"seed{seed}.npz"


def score_path(
    work: str | Path, tid: str, seed: int, peer: str, budget: int | None = None
) -> Path:
    """``WORK/scores/<task>__<split>/seed<seed>/<peer>[_b<budget>].npy``.

    One float per evaluation timestep. The peers' runner aligns a windowed
    peer's scores so that the score of timestep ``t`` is computed from rows
    up to ``t``; alad's are its ``decision_function``, the mean over the
    windows that cover ``t`` (rows up to ``t + W - 1``), smoothed or
    detrended around ``t`` where its defaults do (docs/label_efficiency.rst,
    "TSB-AD's look-ahead").
    A peer that failed writes ``<same stem>.err`` with the reason instead.
    """
    name = peer if budget is None else f"{peer}_b{budget}"
    return Path(work) / "scores" / tid / f"seed{seed}" / f"{name}.npy"


def write_task_file(
    path: str | Path,
    task: Task,
    split: LabelSplit,
    seed: int,
    queries: dict[int, np.ndarray],
    *,
    window_size: int,
    query_source: str,
    score_stride: int | None = None,
) -> Path:
    """The task file of one task, split and seed, for the peers' runner.

    Arrays: ``X_train``, ``X_pool``, ``y_pool``, ``X_eval``, ``y_eval``
    (float64 / int8); per budget ``b`` of ``queries``, ``idx_b<b>``: the rows of
    ``X_pool`` of the windows queried up to ``b`` windows (whole windows of
    ``window_size`` rows, window after window) and ``y_b<b>`` their labels.
    ``meta``: a JSON string with the task, split, seed, budgets, window size
    and scoring step (``score_stride``, where given), the backbone whose
    queries these are, the pool's rows in the test series,
    the seam of the evaluation part and, for a series file, the digest of
    its contents (``data``).
    """
    meta = {
        "task": task.name,
        "dataset": task.dataset,
        "split": split.kind,
        "rule": split.rule,
        "seed": seed,
        "budgets": sorted(int(b) for b in queries),
        "window_size": int(window_size),
        "query_source": query_source,
        "pool_rows": [split.start, split.stop],
        "eval_seam": split.seam,
    }
    if score_stride is not None:  # how alad's peers are re-aligned
        meta["score_stride"] = int(score_stride)
    if task.digest is not None:  # a series file's contents (Task.digest)
        meta["data"] = task.digest
    arrays = {
        "X_train": np.asarray(task.X_train, dtype=np.float64),
        "X_pool": np.asarray(split.X_pool, dtype=np.float64),
        "y_pool": np.asarray(split.y_pool, dtype=np.int8),
        "X_eval": np.asarray(split.X_eval, dtype=np.float64),
        "y_eval": np.asarray(split.y_eval, dtype=np.int8),
        "meta": np.array(json.dumps(meta)),
    }
    for b, idx in queries.items():
        idx = np.asarray(idx, dtype=np.int64)
        arrays[f"idx_b{b}"] = idx
        arrays[f"y_b{b}"] = np.asarray(split.y_pool, dtype=np.int8)[idx]
    return atomic_write(path, lambda f: np.savez_compressed(f, **arrays), "wb")


def read_task_file(path: str | Path) -> dict:
    """A task file as a dict of arrays, ``meta`` decoded."""
    with np.load(path) as data:
        out = {k: data[k] for k in data.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out
