"""Han et al.'s Table 2 as a protocol: three settings, ablations, seeds, search.

The first configuration of the engine (:mod:`alad.experiments.engine`):
tasks are time series with a training and a labelled test part
(:mod:`alad.experiments.tasks`); methods are the backbones of
:class:`~alad.ActiveReconstructionDetector` in three training settings and
the scikit-learn baselines; metrics are :func:`~alad.metrics.detection_report`
on the evaluation part.
"""

from __future__ import annotations

import copy
import itertools
import pickle
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler

from ..active import run_active_learning
from ..datasets import split_unlabeled
from ..detectors import ActiveReconstructionDetector
from ..metrics import detection_report
from .engine import Job, check_params, record_key, run_jobs
from .store import ResultStore, atomic_write, beside
from .tasks import DATASETS, Task, load_all_tasks

__all__ = [
    "ABLATIONS",
    "ACTIVE_DEFAULTS",
    "BASELINES",
    "DATASETS",
    "GRIDS",
    "TABLE2_FEEDBACK",
    "SETTINGS",
    "Split",
    "evaluate",
    "expand_grid",
    "format_report",
    "jobs",
    "make_split",
    "run_baseline",
    "run_backbone",
    "run_benchmark",
]

#: The three training setups of Table 2.
SETTINGS = ("w/o unlabeled", "w/ unlabeled", "active")

#: The ablation of Figure 8: each removes one component of the active setting.
ABLATIONS = {
    "-minimax": {"feedback_loss": "weighted"},
    "-top-k": {"query_strategy": "interval"},
    "-interval": {"query_strategy": "top_k"},
    "-top-k & interval": {"query_strategy": "random"},
    "-masking": {"mask_ratio": 0.0},
}

#: Query and feedback settings of the active setting unless a grid says otherwise.
ACTIVE_DEFAULTS = {
    "top_k": 5,
    "n_bins": 5,
    "per_bin": 1,
    "budget": 50,
    "feedback_epochs": 10,
}

#: The scikit-learn baselines, fitted on the rows (timesteps) of the training part.
BASELINES = ("iforest", "lof")


@dataclass(frozen=True, eq=False)
class Split:
    """The test part cut in time order: pool | validation (optional) | evaluation."""

    X_pool: np.ndarray
    y_pool: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_eval: np.ndarray
    y_eval: np.ndarray


def _data(task: Task) -> tuple[str, ...]:
    """A series file's digest (:class:`~alad.experiments.tasks.Task`), or
    nothing: the shared data sets' records and caches keep their names."""
    return () if task.digest is None else (task.digest,)


def _data_field(task: Task) -> dict:
    """A series file's records carry the digest of its contents (``data``):
    after the file changes, its runs are made again."""
    return {} if task.digest is None else {"data": task.digest}


def make_split(task: Task, unlabeled_ratio: float, validation_ratio: float) -> Split:
    """The paper's partition (Figure 3), with an optional validation slice.

    The first ``unlabeled_ratio`` of the test part is the unlabelled pool. The
    rest is evaluation; with ``validation_ratio > 0`` its first
    ``validation_ratio`` share is held out as a validation slice for choosing
    hyper-parameters, and only the remainder is evaluation.
    """
    part = split_unlabeled(task.X_test, task.y_test, unlabeled_ratio)
    if validation_ratio <= 0:
        return Split(part.X_pool, part.y_pool, None, None, part.X_eval, part.y_eval)
    rest = split_unlabeled(part.X_eval, part.y_eval, validation_ratio)
    return Split(
        part.X_pool, part.y_pool, rest.X_pool, rest.y_pool, rest.X_eval, rest.y_eval
    )


def evaluate(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float] | None:
    """:func:`~alad.metrics.detection_report`, or None without both classes."""
    y_true = np.asarray(y_true)
    if y_true.min() == y_true.max():
        return None
    return detection_report(y_true, scores)


class _Scorer:
    """Scores the validation and evaluation slices, keeping the evaluation scores."""

    def __init__(self, split: Split) -> None:
        self.split = split

    def __call__(self, scores_of) -> dict:
        out = {"evaluation": evaluate(self.split.y_eval, scores_of(self.split.X_eval))}
        if self.split.X_val is not None:
            out["validation"] = evaluate(self.split.y_val, scores_of(self.split.X_val))
        return out


def _train_stats(detector) -> dict[str, float]:
    scores = np.asarray(detector.decision_scores_, dtype=np.float64)
    return {"train_mean": float(scores.mean()), "train_std": float(scores.std())}


#: The feedback schedule and score of the committed Table 2 runs, made before
#: the detector's defaults bounded a round's steps, replayed pool windows,
#: added the label-trained score head (the paper scores with the backbone),
#: scaled the channels' errors (the paper's Eq. 4 is their mean), overlapped
#: a univariate series' windows (the paper's do not overlap), smoothed its
#: scores (the paper's are per timestep), detrended them (the paper's are
#: the backbone's) and let a multivariate backbone wait for three labelled
#: anomalous windows (the paper's learns from the first): the protocol keeps
#: them, so that its records regenerate
#: (``--params`` overrides).
TABLE2_FEEDBACK = {
    "stride": None,
    "score_smoothing": None,
    "score_detrend": None,
    "feedback_min_anomalous": 0,
    "feedback_steps": None,
    "pool_replay": 0.0,
    "score_head": "none",
    "channel_score": "mean",
}


def _pretrained(
    cache_dir: Path,
    task: Task,
    backbone: str,
    seed: int,
    params: dict,
    X_fit: np.ndarray,
    tag: str,
) -> tuple[ActiveReconstructionDetector, float]:
    """Fit (or load from the cache) the detector of one setting.

    Runs that differ only in parameters that act in ``query`` or
    ``partial_fit`` (the detector's ``_feedback_params``) share the model.
    """
    feedback = ActiveReconstructionDetector._feedback_params
    fit_params = {k: v for k, v in params.items() if k not in feedback}
    params = {**TABLE2_FEEDBACK, **params}
    name = record_key(task.name, backbone, seed, fit_params, tag, *_data(task))
    path = cache_dir / "models" / f"{name}.pkl"
    if path.exists():
        with path.open("rb") as f:
            detector, seconds = pickle.load(f)
        return detector.set_params(**params), seconds
    start = time.perf_counter()
    detector = ActiveReconstructionDetector(
        backbone=backbone, random_state=seed, **params
    ).fit(X_fit)
    seconds = time.perf_counter() - start
    atomic_write(path, lambda f: pickle.dump((detector, seconds), f), "wb")
    return detector, seconds


def _save_scores(cache_dir: Path, key: str, scores: np.ndarray) -> str:
    path = cache_dir / "scores" / f"{key}.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(scores, dtype=np.float32))
    return str(path.resolve())  # reports may run from another directory


def run_backbone(
    task: Task,
    split: Split,
    *,
    backbone: str,
    seed: int,
    params: dict,
    configs: list[dict],
    ablations: list[str],
    settings: tuple[str, ...],
    unlabeled_ratio: float,
    cache_dir: Path,
    done: set[str],
) -> Iterator[dict]:
    """Yield every missing record of one task, backbone and seed.

    ``w/o unlabeled`` fits on the training part; ``w/ unlabeled`` on the
    training part followed by the pool, taken as normal; ``active`` starts
    from the ``w/o unlabeled`` model and runs the user's loop (query, label
    with the pool's ground truth, ``partial_fit``) until the budget, once per
    query/feedback configuration and once per ablation.
    """
    scorer = _Scorer(split)
    base = {
        "task": task.name,
        "dataset": task.dataset,
        "method": backbone,
        "seed": seed,
        "params": params,
        "unlabeled_ratio": unlabeled_ratio,
        "validation": split.X_val is not None,
        **_data_field(task),
    }

    def key_of(setting, config=None):
        return record_key(base, setting, config)

    cache: dict = {}

    def pretrained(setting):
        """The fitted model of a setting, trained (or loaded) on first use."""
        if setting not in cache:
            if setting == "w/ unlabeled":
                X_fit = np.concatenate([task.X_train, split.X_pool])
                tag = f"train+pool:{unlabeled_ratio}"
            else:
                X_fit, tag = task.X_train, "train"
            cache[setting] = _pretrained(
                cache_dir, task, backbone, seed, params, X_fit, tag
            )
        return cache[setting]

    for setting in ("w/o unlabeled", "w/ unlabeled"):
        key = key_of(setting)
        if setting not in settings or key in done:
            continue
        model, seconds = pretrained(setting)
        yield (
            {
                **base,
                "key": key,
                "setting": setting,
                "metrics": scorer(model.decision_function),
                "scores": _save_scores(
                    cache_dir, key, model.decision_function(split.X_eval)
                ),
                "seconds": seconds,
                "epochs": len(model.net_.history),
                **_train_stats(model),
            }
        )
    if "active" not in settings:
        return
    runs = [("active", c, {}) for c in configs]
    runs += [(name, configs[0], ABLATIONS[name]) for name in ablations]
    for setting, config, overrides in runs:
        key = key_of(setting, config)
        if key in done:
            continue
        # the active setting starts from the model trained without the pool
        model, _ = pretrained("w/o unlabeled")
        record = _active_record(model, split, scorer, config, overrides, cache_dir, key)
        yield {**base, "key": key, "setting": setting, "config": config, **record}


def _active_record(fitted, split, scorer, config, overrides, cache_dir, key) -> dict:
    detector = copy.deepcopy(fitted)
    query = {k: v for k, v in config.items() if k != "budget"}
    detector.set_params(budget=config["budget"], **query, **overrides)
    history = []

    def on_round(entry):
        entry = dict(entry)
        entry.update(scorer(detector.decision_function))
        history.append(entry)

    start = time.perf_counter()
    # scoring happens in on_round, so run_active_learning gets no X_eval
    run_active_learning(
        detector, split.X_pool, split.y_pool, budget=config["budget"], on_round=on_round
    )
    seconds = time.perf_counter() - start
    last = history[-1]
    return {
        "metrics": {k: last[k] for k in ("evaluation", "validation") if k in last},
        "history": [
            {
                "round": h["round"],
                "n_labelled": h["n_labelled"],
                "n_anomalous_labelled": h["n_anomalous_labelled"],
                **{k: h[k] for k in ("evaluation", "validation") if k in h},
            }
            for h in history
        ],
        "scores": _save_scores(
            cache_dir, key, detector.decision_function(split.X_eval)
        ),
        "seconds": seconds,
        "n_rolled_back": sum(r["rolled_back"] for r in detector.feedback_history_),
        **_train_stats(detector),
    }


def run_baseline(
    task: Task,
    split: Split,
    *,
    name: str,
    seed: int,
    unlabeled_ratio: float,
    cache_dir: Path,
    done: set[str],
) -> Iterator[dict]:
    """IsolationForest or LocalOutlierFactor on standardised timesteps (one record).

    Each row of the series is a sample (the point-wise baseline of the TODS
    and TSB-AD benchmarks); the detector is fitted on the training part and
    scores the slices, higher = more anomalous.
    """
    base = {
        "task": task.name,
        "dataset": task.dataset,
        "method": name,
        "seed": seed,
        "params": {},
        "unlabeled_ratio": unlabeled_ratio,
        "validation": split.X_val is not None,
        "setting": "w/o unlabeled",
        **_data_field(task),
    }
    key = record_key(base)
    if key in done:
        return
    start = time.perf_counter()
    scaler = StandardScaler().fit(task.X_train)
    X_train = scaler.transform(task.X_train)
    if name == "iforest":
        model = IsolationForest(random_state=seed).fit(X_train)
        train_scores = -model.score_samples(X_train)
    elif name == "lof":
        model = LocalOutlierFactor(novelty=True).fit(X_train)
        train_scores = -model.negative_outlier_factor_
    else:
        raise ValueError(f"baseline must be one of {BASELINES}; got {name!r}.")

    def scores_of(X):
        return -model.score_samples(scaler.transform(X))

    yield (
        {
            **base,
            "key": key,
            "metrics": _Scorer(split)(scores_of),
            "scores": _save_scores(cache_dir, key, scores_of(split.X_eval)),
            "seconds": time.perf_counter() - start,
            "train_mean": float(train_scores.mean()),
            "train_std": float(train_scores.std()),
        }
    )


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
    for name, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(
                f"grid[{name!r}] must be a non-empty list of values; got {values!r}."
            )
    names = sorted(grid)
    configs = []
    for values in itertools.product(*(grid[n] for n in names)):
        configs.append({**base, **dict(zip(names, values))})
    return configs or [dict(base)]


def jobs(
    datasets: list,
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
    cache_dir: str | Path = "alad_output/benchmark.cache",
    data_home=None,
) -> list[Job]:
    """One job per task, method and seed (see :func:`run_benchmark`)."""
    for name in ablations:
        if name not in ABLATIONS:
            raise ValueError(
                f"ablation must be one of {sorted(ABLATIONS)}; got {name!r}."
            )
    for name in settings:
        if name not in SETTINGS:
            raise ValueError(f"setting must be one of {SETTINGS}; got {name!r}.")
    if not 0 < unlabeled_ratio < 1:
        raise ValueError(f"unlabeled_ratio must be in (0, 1); got {unlabeled_ratio}.")
    if not 0 <= validation_ratio < 1:
        raise ValueError(f"validation_ratio must be in [0, 1); got {validation_ratio}.")
    cache_dir = Path(cache_dir)
    configs = expand_grid(grid or {}, {**ACTIVE_DEFAULTS, **(active or {})})
    params = dict(params or {})
    # the active runs set these from their configuration: given as params
    # they would be recorded and silently replaced
    clash = sorted(set(params) & set(ACTIVE_DEFAULTS))
    if clash:
        raise ValueError(
            f"params: {', '.join(clash)} are the active setting's (set them with "
            "active= or grid=; on the command line --top-k, --n-bins, --per-bin, "
            "--budget, --feedback-epochs or --grid)."
        )
    # a new list: the ablations below must not join the active configs
    variants = [{}] if "active" not in settings else list(configs)
    variants += [{**configs[0], **ABLATIONS[name]} for name in ablations]
    check_params(
        ActiveReconstructionDetector,
        {**TABLE2_FEEDBACK, **params},
        fixed=("backbone", "random_state"),
        variants=[
            {**v, "backbone": b, "random_state": s}
            for v in variants
            for b in backbones
            for s in seeds
        ],
    )
    tasks = load_all_tasks(datasets, data_home)

    def job(task, method, seed):
        def run(done):
            split = make_split(task, unlabeled_ratio, validation_ratio)
            stem = "_".join([task.name.replace("/", "_"), *_data(task)])
            labels = (
                cache_dir
                / "labels"
                / f"{stem}_{unlabeled_ratio}_{validation_ratio}.npy"
            )
            if not labels.exists():
                atomic_write(
                    labels, lambda f: np.save(f, split.y_eval.astype(np.int8)), "wb"
                )
            common = dict(
                seed=seed,
                unlabeled_ratio=unlabeled_ratio,
                cache_dir=cache_dir,
                done=done,
            )
            if method in baselines:
                records = run_baseline(task, split, name=method, **common)
            else:
                records = run_backbone(
                    task,
                    split,
                    backbone=method,
                    params=params,
                    configs=configs,
                    ablations=list(ablations),
                    settings=tuple(settings),
                    **common,
                )
            # absolute, so that reports read the files from any working directory
            for record in records:
                yield {**record, "labels": str(labels.resolve())}

        if method in baselines:
            size = 1
        else:
            size = len([s for s in settings if s != "active"])
            size += (len(configs) + len(ablations)) if "active" in settings else 0
        return Job(f"{task.name} {method} seed {seed}", run, size)

    methods = (*backbones, *baselines)
    return [job(t, m, s) for t in tasks for m in methods for s in seeds]


def run_benchmark(
    datasets: list,
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
    """Run (or resume) Han et al.'s Table 2 protocol and return its records.

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
        Names of :data:`ABLATIONS` (Figure 8).
    seeds : list of int
    unlabeled_ratio : float
        Share of the test part that forms the unlabelled pool.
    grid : dict or None
        Lists of values of the active setting's query/feedback parameters;
        None or empty runs the ``active`` configuration only.
    active : dict or None
        The active configuration (``top_k``, ``n_bins``, ``per_bin``,
        ``budget``, ``feedback_epochs``), default :data:`ACTIVE_DEFAULTS`.
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
    work = jobs(
        datasets,
        backbones=backbones,
        baselines=baselines,
        settings=settings,
        ablations=ablations,
        seeds=seeds,
        unlabeled_ratio=unlabeled_ratio,
        grid=grid,
        active=active,
        validation_ratio=validation_ratio,
        params=params,
        cache_dir=cache_dir or beside(out, ".cache"),
        data_home=data_home,
    )
    return run_jobs(work, out, protocol="han", progress=progress)


def format_report(records, labels=None, fmt: str = "markdown") -> str:
    """The tables of :func:`alad.experiments.report.format_report`."""
    from .report import format_report as report

    return report(records, labels, fmt)
