"""One command for the reproduction: tasks x methods x seeds, resumable."""

from __future__ import annotations

import itertools
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .protocol import (
    ABLATIONS,
    ACTIVE_DEFAULTS,
    BASELINES,
    SETTINGS,
    make_split,
    run_backbone,
    run_baseline,
)
from .store import ResultStore
from .tasks import Task, load_tasks

__all__ = ["GRIDS", "expand_grid", "machine", "run_benchmark"]

#: Search spaces of the active setting's query and feedback parameters.
#: ``"paper"`` is Section 4.3 of Han et al. (k, g, budget, feedback epochs);
#: ``"small"`` a 2 x 2 x 2 corner of it that a CPU runs in reasonable time.
GRIDS = {
    "none": {},
    "small": {"top_k": [5, 10], "per_bin": [1, 3], "feedback_epochs": [10, 50]},
    "paper": {
        "top_k": [1, 5, 10, 15, 20],
        "per_bin": [1, 3, 5, 10],
        "budget": [10, 50, 100],
        "feedback_epochs": [10, 50, 100],
    },
}


def expand_grid(grid: dict, base: dict) -> list[dict]:
    """Every combination of ``grid`` over ``base``, in a stable order."""
    names = sorted(grid)
    configs = []
    for values in itertools.product(*(grid[n] for n in names)):
        configs.append({**base, **dict(zip(names, values))})
    return configs or [dict(base)]


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """A one-line description of the machine, for the records."""
    threads = torch.get_num_threads()
    return f"{cpu_model()}, {threads} torch threads, torch {torch.__version__}"


def run_benchmark(
    datasets: list[str],
    *,
    backbones: list[str] = ("transformer",),
    baselines: list[str] = BASELINES,
    settings: tuple[str, ...] = SETTINGS,
    ablations: list[str] = (),
    seeds: list[int] = (0,),
    unlabeled_ratio: float = 0.2,
    grid: dict | None = None,
    active: dict | None = None,
    validation_ratio: float = 0.0,
    params: dict | None = None,
    out: str | Path = "alad_output/benchmark.jsonl",
    cache_dir: str | Path | None = None,
    data_home=None,
    progress: bool = True,
) -> ResultStore:
    """Run (or resume) the reproduction protocol and return its records.

    Parameters
    ----------
    datasets : list of str or Task
        Data-set specs for :func:`~alad.experiments.tasks.load_tasks`, e.g.
        ``["gecco", "msl", "ucr:1"]``, or tasks.
    backbones : list of str
        Backbones of :class:`~alad.ActiveReconstructionDetector`.
    baselines : list of str
        ``"iforest"`` and/or ``"lof"``.
    settings : tuple of str
        Among ``"w/o unlabeled"``, ``"w/ unlabeled"``, ``"active"``.
    ablations : list of str
        Names of :data:`~alad.experiments.protocol.ABLATIONS` (Figure 8).
    seeds : list of int
    unlabeled_ratio : float
        Share of the test part that forms the unlabelled pool.
    grid : dict or None
        Lists of values of the active setting's query/feedback parameters;
        None or empty runs the ``active`` configuration only.
    active : dict or None
        The active configuration (``top_k``, ``n_bins``, ``per_bin``,
        ``budget``, ``feedback_epochs``), default
        :data:`~alad.experiments.protocol.ACTIVE_DEFAULTS`.
    validation_ratio : float
        Share of the part after the pool held out as a validation slice for
        choosing among the grid's configurations; 0 evaluates on all of it.
    params : dict or None
        Further :class:`~alad.ActiveReconstructionDetector` parameters.
    out : str or Path
        The JSON-lines results file; runs already in it are skipped.
    cache_dir : str or Path or None
        Trained models and scores, default ``out`` with ``.cache``.
    data_home : str or None
    progress : bool
        Show a progress bar over the runs.

    Returns
    -------
    store : ResultStore
    """
    for name in ablations:
        if name not in ABLATIONS:
            raise ValueError(
                f"ablation must be one of {sorted(ABLATIONS)}; got {name!r}."
            )
    for name in settings:
        if name not in SETTINGS:
            raise ValueError(f"setting must be one of {SETTINGS}; got {name!r}.")
    store = ResultStore(out)
    cache_dir = Path(cache_dir or Path(out).with_suffix(".cache"))
    configs = expand_grid(grid or {}, {**ACTIVE_DEFAULTS, **(active or {})})
    params = dict(params or {})
    tasks = []
    for spec in datasets:
        tasks += [spec] if isinstance(spec, Task) else load_tasks(spec, data_home)
    jobs = [(t, m, s) for t in tasks for m in (*backbones, *baselines) for s in seeds]
    bar = tqdm(jobs, disable=not progress, unit="run", desc="benchmark")
    host = machine()
    for task, method, seed in bar:
        bar.set_postfix_str(f"{task.name} {method} seed {seed}")
        split = make_split(task, unlabeled_ratio, validation_ratio)
        stem = task.name.replace("/", "_")
        labels = (
            cache_dir / "labels" / f"{stem}_{unlabeled_ratio}_{validation_ratio}.npy"
        )
        if not labels.exists():
            labels.parent.mkdir(parents=True, exist_ok=True)
            np.save(labels, split.y_eval.astype(np.int8))

        # absolute, so that reports read the files from any working directory
        labels_path = str(labels.resolve())

        def emit(record, _labels=labels_path):
            store.add(
                {**record, "labels": _labels, "machine": host, "time": time.time()}
            )

        common = dict(
            seed=seed,
            unlabeled_ratio=unlabeled_ratio,
            cache_dir=cache_dir,
            done=store.done,
            emit=emit,
        )
        if method in baselines:
            run_baseline(task, split, name=method, **common)
        else:
            run_backbone(
                task,
                split,
                backbone=method,
                params=params,
                configs=configs,
                ablations=list(ablations),
                settings=tuple(settings),
                **common,
            )
    return store


def load_labels(records) -> dict[str, np.ndarray]:
    """Evaluation labels of each task, from the paths the records name."""
    labels = {}
    for r in records:
        if r["task"] not in labels and Path(r["labels"]).exists():
            labels[r["task"]] = np.load(r["labels"]).astype(np.int64)
    return labels


def read_records(paths) -> list[dict]:
    """Records of one or more JSON-lines result files."""
    records = {}
    for path in paths:
        records.update((r["key"], r) for r in ResultStore(path))
    return list(records.values())


def dump_json(records, path) -> None:
    """All records in one JSON file (the published results)."""
    Path(path).write_text(json.dumps(list(records), indent=1, default=float))
