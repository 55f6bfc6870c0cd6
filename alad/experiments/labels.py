"""Label efficiency: metrics against labelled windows, alad next to its peers.

Issue 13's benchmark as a protocol of the engine
(:mod:`alad.experiments.engine`): ``alad benchmark --protocol labels``. For
each task (a training series and a labelled test series), split and seed:

- **the split**: a contiguous stretch of ``pool_ratio`` of the test series is
  the unlabelled pool, the rest (before and after it, joined) the evaluation
  part. ``"anomalous"`` places the pool by :func:`pool_start`, a rule that
  depends only on the positions of the anomalies and the seed, so that the
  pool holds anomalies; ``"paper"`` is Han et al.'s first ``pool_ratio`` of
  the test series (its pool may hold none);
- **alad**, for each backbone of :class:`~alad.ActiveReconstructionDetector`:
  fitted on the training part (``"w/o labels"``), on the training part and the
  pool taken as normal (``"pool as normal"``), and the first model continued by
  the user's loop (query, label with the ground truth, ``partial_fit``;
  :func:`alad.active.run_active_learning`) up to each budget of labelled
  windows (``"with labels"``), scored on the evaluation part at every budget;
- **a task file** (:func:`write_task_file`): the data of the split and the
  windows the first backbone queried at each budget, for the peers, which run
  in their own virtual environment (``benchmarks/peers/run_peers.py``) and
  write one score per evaluation timestep to ``scores/``;
- **peer records**: the score files found are scored here, by
  :func:`alad.metrics.detection_report`, like alad's; missing ones are
  listed, not fatal.

The report (:func:`format_report`) prints the comparison at 50 labelled
windows against the best unsupervised peer and the best peer that takes
labels, on GECCO, the mean over MSL's entities and UCR 001, and whether labels
ever make a detector worse on average than the same detector without labels
or with the pool taken as normal.
"""

from __future__ import annotations

import copy
import json
import shlex
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engine import Job, record_key
from .store import atomic_write
from .tables import render_table
from .tasks import DATASETS, Task, load_tasks

__all__ = [
    "BUDGETS",
    "COMPARED",
    "DATASETS",
    "LABEL_PEERS",
    "SPLITS",
    "UNSUPERVISED_PEERS",
    "LabelSplit",
    "format_report",
    "jobs",
    "make_label_split",
    "pool_start",
    "read_task_file",
    "save_figures",
    "score_path",
    "task_file",
    "write_task_file",
]

#: Labelled windows at which every method is scored.
BUDGETS = (0, 10, 25, 50, 100)

#: How the pool is placed in the test series (see :func:`make_label_split`).
SPLITS = ("anomalous", "paper")

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

#: The comparison of item 3: these metrics at this budget, on these groups.
COMPARED = {
    "budget": 50,
    "metrics": ("pa_k_auc", "f1", "roc_auc", "vus_pr"),
    "groups": ("gecco", "msl", "ucr/001"),
}

SETTINGS = ("w/o labels", "pool as normal", "with labels")

METRIC_NAMES = {
    "f1": "best F1",
    "f1_pa": "PA-F1",
    "pa_k_auc": "PA%K AUC",
    "roc_auc": "ROC AUC",
    "average_precision": "AP",
    "vus_pr": "VUS-PR",
}


# --------------------------------------------------------------------------- #
# the split
# --------------------------------------------------------------------------- #


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
    n = len(task.y_test)
    size = int(np.floor(pool_ratio * n))
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


# --------------------------------------------------------------------------- #
# the files exchanged with the peers' environment
# --------------------------------------------------------------------------- #


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

    One float per evaluation timestep, aligned so that the score of timestep
    ``t`` is computed from rows up to ``t`` (see docs/label_efficiency.rst).
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
) -> Path:
    """The task file of one task, split and seed, for the peers' runner.

    Arrays: ``X_train``, ``X_pool``, ``y_pool``, ``X_eval``, ``y_eval``
    (float64 / int8); per budget ``b`` of ``queries``, ``idx_b<b>``: the rows of
    ``X_pool`` of the windows queried up to ``b`` windows (whole windows of
    ``window_size`` rows, window after window) and ``y_b<b>`` their labels.
    ``meta``: a JSON string with the task, split, seed, budgets, window size,
    the backbone whose queries these are, the pool's rows in the test series
    and the seam of the evaluation part.
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


# --------------------------------------------------------------------------- #
# the jobs
# --------------------------------------------------------------------------- #


def _evaluate(y_true, scores) -> dict[str, float] | None:
    from ..metrics import detection_report

    y_true = np.asarray(y_true)
    if y_true.min() == y_true.max():
        return None
    return detection_report(y_true, np.asarray(scores, dtype=np.float64))


def _save_scores(path: Path, scores) -> None:
    atomic_write(path, lambda f: np.save(f, np.asarray(scores, np.float32)), "wb")


def _windows_of(idx: np.ndarray, window_size: int) -> int:
    return len(idx) // window_size


def _anomalous_windows(y_pool, idx, window_size) -> int:
    if len(idx) == 0:
        return 0
    return int(np.asarray(y_pool)[idx].reshape(-1, window_size).max(axis=1).sum())


def _run_alad(
    task: Task,
    split: LabelSplit,
    *,
    backbone: str,
    seed: int,
    params: dict,
    budgets: tuple[int, ...],
    base: dict,
    work: Path,
    tid: str,
    query_source: bool,
    done: set[str],
) -> Iterator[dict]:
    """The records of one backbone: w/o labels, pool as normal, with labels."""
    from ..active import run_active_learning
    from ..detectors import ActiveReconstructionDetector

    base = {**base, "family": "alad", "method": f"alad:{backbone}", "params": params}

    def key(setting, budget=None):
        return record_key(base, setting, budget)

    def record(setting, budget, detector, seconds, extra=None):
        scores = detector.decision_function(split.X_eval)
        name = f"alad-{backbone}-{setting.replace(' ', '-').replace('/', '')}"
        _save_scores(score_path(work, tid, base["seed"], name, budget), scores)
        return {
            **base,
            "key": key(setting, budget),
            "setting": setting,
            "budget": budget,
            "metrics": _evaluate(split.y_eval, scores),
            "seconds": seconds,
            **(extra or {}),
        }

    def fit(X):
        start = time.perf_counter()
        det = ActiveReconstructionDetector(
            backbone=backbone, random_state=seed, **params
        ).fit(X)
        return det, time.perf_counter() - start

    labelled = [b for b in budgets if b > 0]
    need_curve = any(key("with labels", b) not in done for b in budgets) or (
        query_source and not task_file(work, tid, seed).exists()
    )
    if key("w/o labels") not in done or need_curve:
        plain, seconds = fit(task.X_train)
        if key("w/o labels") not in done:
            yield record("w/o labels", None, plain, seconds)
    if key("pool as normal") not in done:
        pooled, seconds = fit(np.concatenate([task.X_train, split.X_pool]))
        yield record("pool as normal", None, pooled, seconds)
    if not need_curve:
        return
    W = plain.window_size
    detector = copy.deepcopy(plain)
    known = np.full(len(split.y_pool), np.nan)
    made, spent, seconds = [], 0, 0.0
    queries = {0: np.zeros(0, dtype=np.int64)}
    if 0 in budgets:
        made.append(("with labels", 0, 0.0, queries[0]))
    for budget in labelled:
        start = time.perf_counter()
        if budget > spent:
            # the loop runs to each budget in turn, on the same detector: a
            # round never crosses a budget (10 -> 25 is a round of 10 and one
            # of 5); windows labelled before are never asked again
            result = run_active_learning(
                detector, split.X_pool, split.y_pool, budget=budget - spent
            )
            new = ~np.isnan(result.known)
            known[new] = result.known[new]
            spent += result.history[-1]["n_labelled"]
        seconds += time.perf_counter() - start
        queries[budget] = np.flatnonzero(~np.isnan(known))
        # a snapshot of the detector at this budget is its scores now
        made.append(("with labels", budget, seconds, queries[budget]))
        scores = detector.decision_function(split.X_eval)
        made[-1] = (*made[-1], scores)
    if query_source:
        write_task_file(
            task_file(work, tid, seed),
            task,
            split,
            seed,
            queries,
            window_size=W,
            query_source=f"alad:{backbone}",
        )
    for entry in made:
        setting, budget, secs, idx = entry[:4]
        if key(setting, budget) in done:
            continue
        scores = plain.decision_function(split.X_eval) if len(entry) == 4 else entry[4]
        name = f"alad-{backbone}-with-labels"
        _save_scores(score_path(work, tid, seed, name, budget), scores)
        yield {
            **base,
            "key": key(setting, budget),
            "setting": setting,
            "budget": budget,
            "n_labelled": _windows_of(idx, W),
            "n_anomalous_windows": _anomalous_windows(split.y_pool, idx, W),
            "metrics": _evaluate(split.y_eval, scores),
            "seconds": secs,
        }


def _peer_runs(peers, budgets):
    for peer in peers:
        if peer in LABEL_PEERS:
            yield from ((peer, b) for b in budgets if b > 0)
        else:
            yield peer, None


def _run_peers(
    split: LabelSplit,
    *,
    peers: tuple[str, ...],
    budgets: tuple[int, ...],
    base: dict,
    work: Path,
    tid: str,
    done: set[str],
    missing: list[str],
) -> Iterator[dict]:
    """Records of the peers' score files that exist; the others are listed."""
    for peer, budget in _peer_runs(peers, budgets):
        family = "labels" if peer in LABEL_PEERS else "unsupervised"
        fields = {**base, "family": family, "method": peer}
        key = record_key(fields, "peer", budget)
        if key in done:
            continue
        path = score_path(work, tid, base["seed"], peer, budget)
        if not path.exists():
            err = path.with_suffix(".err")
            why = err.read_text().strip().splitlines()[-1] if err.exists() else ""
            missing.append(f"{path}" + (f" (failed: {why})" if why else ""))
            continue
        scores = np.load(path).astype(np.float64)
        if scores.shape != split.y_eval.shape or not np.isfinite(scores).all():
            missing.append(
                f"{path} (refused: {scores.shape[0]} scores for "
                f"{split.y_eval.shape[0]} timesteps, or not finite)"
            )
            continue
        meta = path.with_suffix(".json")
        info = json.loads(meta.read_text()) if meta.exists() else {}
        yield {
            **fields,
            "key": key,
            "setting": "with labels" if budget is not None else "w/o labels",
            "budget": budget,
            "metrics": _evaluate(split.y_eval, scores),
            "seconds": info.get("seconds"),
            "peer": info,
        }


def jobs(
    datasets: list,
    *,
    backbones: list[str] = ("transformer",),
    splits: tuple[str, ...] = SPLITS,
    seeds: list[int] = (0, 1, 2),
    budgets: tuple[int, ...] = BUDGETS,
    pool_ratio: float = 0.2,
    params: dict | None = None,
    peers: tuple[str, ...] = UNSUPERVISED_PEERS + LABEL_PEERS,
    peer_command: str | None = None,
    work: str | Path = "alad_output/labels.work",
    data_home=None,
) -> list[Job]:
    """The jobs of the label-efficiency benchmark.

    Parameters
    ----------
    datasets : list of str or Task
        Data-set specs of :func:`~alad.experiments.tasks.load_tasks`
        (``"gecco"``, ``"msl"``, ``"ucr:1"``), or tasks.
    backbones : list of str
        Backbones of :class:`~alad.ActiveReconstructionDetector`; the first
        one's queries go to the task files (the windows the peers that take
        labels are fed).
    splits : tuple of str
        Among :data:`SPLITS`.
    seeds : list of int
    budgets : tuple of int
        Labelled windows at which to score; 0 is the model without labels.
    pool_ratio : float
        Share of the test series in the pool.
    params : dict or None
        Further detector parameters (the same for every backbone).
    peers : tuple of str
        Peers whose score files are read (:data:`UNSUPERVISED_PEERS`,
        :data:`LABEL_PEERS`).
    peer_command : str or None
        A command that runs the peers (e.g. ``"benchmarks/.venv-peers/bin/python
        benchmarks/peers/run_peers.py"``), given ``--work WORK``: it runs
        after alad's jobs, before the peers' score files are read. None reads
        the score files that exist.
    work : str or Path
        Task files and score files (``tasks/``, ``scores/``).
    data_home : str or None

    Returns
    -------
    jobs : list of Job
        alad's jobs (one per task, split, seed and backbone), then the peers'
        command (if any), then one job per task, split and seed that reads the
        peers' score files.
    """
    budgets = tuple(sorted({int(b) for b in budgets}))
    if any(b < 0 for b in budgets):
        raise ValueError(f"budgets must be >= 0; got {budgets}.")
    for name in splits:
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}; got {name!r}.")
    for name in peers:
        if name not in UNSUPERVISED_PEERS + LABEL_PEERS:
            raise ValueError(
                f"peer must be one of {UNSUPERVISED_PEERS + LABEL_PEERS}; got {name!r}."
            )
    if not 0 < pool_ratio < 1:
        raise ValueError(f"pool_ratio must be in (0, 1); got {pool_ratio}.")
    work = Path(work)
    params = dict(params or {})
    tasks = []
    for spec in datasets:
        tasks += [spec] if isinstance(spec, Task) else load_tasks(spec, data_home)

    def base_of(task, split, seed):
        return {
            "task": task.name,
            "dataset": task.dataset,
            "split": split,
            "seed": seed,
            "pool_ratio": pool_ratio,
        }

    def meta_of(split):
        return {
            "rule": split.rule,
            "pool_rows": [split.start, split.stop],
            "pool_anomalous_rows": int(np.sum(split.y_pool)),
            "eval_anomalous_rows": int(np.sum(split.y_eval)),
        }

    def alad_job(task, kind, seed, backbone):
        def run(done):
            split = make_label_split(task, kind, pool_ratio, seed)
            records = _run_alad(
                task,
                split,
                backbone=backbone,
                seed=seed,
                params=params,
                budgets=budgets,
                base=base_of(task, kind, seed),
                work=work,
                tid=task_id(task, kind),
                query_source=backbone == backbones[0],
                done=done,
            )
            for r in records:
                yield {**r, **meta_of(split)}

        size = 2 + len(budgets)
        return Job(f"{task.name} {kind} seed {seed} {backbone}", run, size)

    def peer_job(task, kind, seed):
        def run(done):
            split = make_label_split(task, kind, pool_ratio, seed)
            missing: list[str] = []
            records = _run_peers(
                split,
                peers=tuple(peers),
                budgets=budgets,
                base=base_of(task, kind, seed),
                work=work,
                tid=task_id(task, kind),
                done=done,
                missing=missing,
            )
            for r in records:
                yield {**r, **meta_of(split)}
            if missing:
                print(
                    f"{task.name} {kind} seed {seed}: no peer scores yet for "
                    f"{len(missing)} run(s):\n  " + "\n  ".join(missing),
                    file=sys.stderr,
                )

        size = len(list(_peer_runs(peers, budgets)))
        return Job(f"{task.name} {kind} seed {seed} peers", run, size)

    work_list = [
        alad_job(t, k, s, b)
        for t in tasks
        for k in splits
        for s in seeds
        for b in backbones
    ]
    if peer_command:
        work_list.append(_command_job(peer_command, work))
    work_list += [peer_job(t, k, s) for t in tasks for k in splits for s in seeds]
    return work_list


def _command_job(command: str, work: Path) -> Job:
    def run(done):
        argv = [*shlex.split(command), "--work", str(work)]
        print("running the peers: " + shlex.join(argv), file=sys.stderr)
        status = subprocess.run(argv, check=False).returncode
        if status:
            print(f"the peers' command exited with status {status}", file=sys.stderr)
        return iter(())

    return Job("peers' command", run, 0)


# --------------------------------------------------------------------------- #
# the report
# --------------------------------------------------------------------------- #


def _group(record: dict) -> str:
    """GECCO, MSL (mean over entities), each UCR series, other data sets."""
    return record["task"] if record["dataset"] == "ucr" else record["dataset"]


def _label(record: dict) -> str:
    if record["family"] == "alad":
        return f"{record['method']} {record['setting']}"
    return record["method"]


def curves(records, metric: str) -> dict:
    """``{(split, group): {label: {budget: [value per seed]}}}``.

    A value is the mean over the group's tasks of one seed (MSL: the mean over
    its entities); methods without labels have the budget ``None``.
    """
    per = defaultdict(list)
    for r in records:
        if r.get("protocol", "labels") != "labels" or not r.get("metrics"):
            continue
        per[(r["split"], _group(r), _label(r), r["budget"], r["seed"])].append(
            r["metrics"][metric]
        )
    out: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for (split, group, label, budget, _), values in sorted(
        per.items(), key=lambda kv: str(kv[0])
    ):
        out[(split, group)][label][budget].append(float(np.mean(values)))
    return out


def _families(records) -> dict[str, str]:
    return {_label(r): r["family"] for r in records if r.get("family")}


def _mean(values) -> float | None:
    return float(np.mean(values)) if values else None


def _fmt(value, sd=None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if sd is None else f"{value:.3f} ± {sd:.3f}"


def comparison(records, metric: str, budget: int = COMPARED["budget"]) -> dict:
    """Item 3's numbers of one metric: per (split, group), what to compare.

    ``{(split, group): {"alad": {backbone: (with labels, w/o labels, pool as
    normal)}, "unsupervised": (peer, value), "labels": (peer, value)}}``,
    each value the mean over seeds; the best peer of a family is the one of
    highest mean (peers that take labels at ``budget``).
    """
    fam = _families(records)
    out = {}
    for (split, group), methods in curves(records, metric).items():
        row: dict = {"alad": {}, "unsupervised": None, "labels": None}
        for label, by_budget in methods.items():
            family = fam.get(label)
            if family == "alad" and label.endswith(" with labels"):
                name = label[: -len(" with labels")]
                row["alad"][name] = (
                    _mean(by_budget.get(budget, [])),
                    _mean(methods.get(f"{name} w/o labels", {}).get(None, [])),
                    _mean(methods.get(f"{name} pool as normal", {}).get(None, [])),
                )
            elif family in ("unsupervised", "labels"):
                value = _mean(
                    by_budget.get(None if family == "unsupervised" else budget, [])
                )
                best = row[family]
                if value is not None and (best is None or value > best[1]):
                    row[family] = (label, value)
        out[(split, group)] = row
    return out


def _comparison_budget(records) -> int:
    """50 (item 3's budget) when some record has it, else the largest budget."""
    budgets = {r["budget"] for r in records if r.get("budget") is not None}
    if COMPARED["budget"] in budgets or not budgets:
        return COMPARED["budget"]
    return max(budgets)


def _comparison_table(records, split, fmt) -> str:
    budget = _comparison_budget(records)
    header = [
        "data",
        "metric",
        "alad",
        f"with {budget} labels",
        "windows labelled (anomalous)",
        "w/o labels",
        "pool as normal",
        "best unsupervised peer",
        f"best peer with {budget} labels",
        "labels >= w/o, pool",
        "alad >= both peers",
    ]
    groups = sorted(
        {_group(r) for r in records if r.get("split") == split},
        key=lambda g: (g not in COMPARED["groups"], g),
    )
    # a pool may hold fewer windows than the budget (MSL: 4 to 24 at 20 %)
    spent = defaultdict(list)
    for r in records:
        if r.get("family") == "alad" and r.get("budget") == budget:
            spent[(_group(r), r["method"])].append(
                (r.get("n_labelled", 0), r.get("n_anomalous_windows", 0))
            )
    body = []
    for metric in COMPARED["metrics"]:
        table = comparison(records, metric, budget)
        for group in groups:
            row = table.get((split, group))
            if row is None:
                continue
            unsup, lab = row["unsupervised"], row["labels"]
            for name, (w, wo, pool) in sorted(row["alad"].items()):
                ok_self = (
                    "-"
                    if w is None or wo is None or pool is None
                    else ("yes" if w >= wo and w >= pool else "**no**")
                )
                peers = [p[1] for p in (unsup, lab) if p is not None]
                ok_peers = (
                    "-"
                    if w is None or not peers
                    else ("yes" if all(w >= p for p in peers) else "**no**")
                )
                n = (
                    np.mean(spent[(group, name)], axis=0)
                    if spent[(group, name)]
                    else None
                )
                body.append(
                    [
                        group,
                        METRIC_NAMES[metric],
                        name,
                        _fmt(w),
                        "-" if n is None else f"{n[0]:.1f} ({n[1]:.1f})",
                        _fmt(wo),
                        _fmt(pool),
                        "-" if unsup is None else f"{unsup[0]} {unsup[1]:.3f}",
                        "-" if lab is None else f"{lab[0]} {lab[1]:.3f}",
                        ok_self,
                        ok_peers,
                    ]
                )
    title = f"At {budget} labelled windows, split {split!r} (means over seeds)"
    return render_table(header, body, fmt, title=title)


def _curve_table(records, split, metric, fmt) -> str:
    budgets = sorted(
        {r["budget"] for r in records if r.get("budget") is not None} | {0}
    )
    header = ["data", "method", "no labels", *[str(b) for b in budgets]]
    body = []
    for (s, group), methods in sorted(curves(records, metric).items()):
        if s != split:
            continue
        for label, by_budget in sorted(methods.items()):
            flat = by_budget.get(None)
            cells = [
                _fmt(_mean(by_budget[b]), np.std(by_budget[b]))
                if b in by_budget
                else "-"
                for b in budgets
            ]
            body.append(
                [group, label, _fmt(_mean(flat), np.std(flat)) if flat else "-"] + cells
            )
    title = f"{METRIC_NAMES[metric]} against labelled windows, split {split!r}"
    return render_table(header, body, fmt, title=title)


def _split_notes(records, split) -> str:
    seen = {}
    for r in records:
        if r.get("split") == split and "rule" in r:
            seen[(r["task"], r["seed"])] = (
                r["rule"],
                r["pool_anomalous_rows"],
                r["eval_anomalous_rows"],
            )
    rules = defaultdict(int)
    for rule, _pool, _ in seen.values():
        rules[rule] += 1
    empty = sum(1 for _, pool, _ in seen.values() if pool == 0)
    parts = ", ".join(f"{n} by rule {rule!r}" for rule, n in sorted(rules.items()))
    return (
        f"Split {split!r}: {len(seen)} (task, seed) pools, {parts}; "
        f"{empty} without any anomalous row."
    )


def format_report(records, labels=None, fmt: str = "markdown") -> str:
    """Item 3's comparison at 50 windows, then every metric against labels."""
    records = [r for r in records if r.get("protocol", "labels") == "labels"]
    parts = []
    for split in SPLITS:
        mine = [r for r in records if r.get("split") == split]
        if not mine:
            continue
        parts.append(_split_notes(mine, split))
        parts.append(_comparison_table(mine, split, fmt))
        for metric in METRIC_NAMES:
            if any(r.get("metrics") and metric in r["metrics"] for r in mine):
                parts.append(_curve_table(mine, split, metric, fmt))
    return "\n\n".join(parts)


def save_figures(records, out_dir, metrics=None) -> list[Path]:
    """Metric against labelled windows: one figure per split and metric.

    One panel per data set (MSL: the mean over its entities) and one pooled
    (the mean over the data sets where the method has records); lines are
    means over seeds. Methods without
    labels are horizontal lines (dashed: peers; dotted: alad w/o labels and
    pool as normal).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [r for r in records if r.get("protocol", "labels") == "labels"]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fam = _families(records)
    # one colour per method, the same in every panel and figure
    palette = plt.get_cmap("tab20").colors
    colour = {label: palette[i % len(palette)] for i, label in enumerate(sorted(fam))}
    paths = []
    for split in SPLITS:
        for metric in metrics or COMPARED["metrics"]:
            data = {g: m for (s, g), m in curves(records, metric).items() if s == split}
            if not data:
                continue
            pooled: dict = defaultdict(lambda: defaultdict(list))
            for methods in data.values():
                for label, by_budget in methods.items():
                    for b, values in by_budget.items():
                        pooled[label][b].append(float(np.mean(values)))
            panels = [*sorted(data.items()), ("pooled", pooled)]
            fig, axes = plt.subplots(
                1, len(panels), figsize=(4 * len(panels), 3.6), squeeze=False
            )
            budgets = sorted(
                {
                    b
                    for m in data.values()
                    for bb in m.values()
                    for b in bb
                    if b is not None
                }
            )
            for ax, (group, methods) in zip(axes[0], panels):
                for label, by_budget in sorted(methods.items()):
                    family = fam.get(label, "")
                    if None in by_budget:
                        ax.axhline(
                            np.mean(by_budget[None]),
                            ls=":" if family == "alad" else "--",
                            lw=1.5 if family == "alad" else 1,
                            color=colour.get(label),
                            label=label,
                        )
                    xs = [b for b in budgets if b in by_budget]
                    if xs:
                        ax.plot(
                            xs,
                            [np.mean(by_budget[b]) for b in xs],
                            marker="o",
                            lw=2 if family == "alad" else 1,
                            color=colour.get(label),
                            label=label,
                        )
                ax.set_title(group)
                ax.set_xlabel("labelled windows")
            axes[0][0].set_ylabel(METRIC_NAMES[metric])
            axes[0][-1].legend(fontsize=6, loc="center left", bbox_to_anchor=(1, 0.5))
            fig.tight_layout()
            path = out_dir / f"labels_{split}_{metric}.png"
            fig.savefig(path, dpi=120)
            plt.close(fig)
            paths.append(path)
    return paths
