"""The protocol of Han et al.'s Table 2: three settings, ablations, seeds, search."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import time
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
from .tasks import Task

__all__ = [
    "ABLATIONS",
    "ACTIVE_DEFAULTS",
    "BASELINES",
    "SETTINGS",
    "Split",
    "evaluate",
    "make_split",
    "run_baseline",
    "run_backbone",
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


def _key(*parts) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


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


#: Detector parameters that only act in query or feedback: the pretrained
#: model does not depend on them, so runs that differ only in these share it.
FEEDBACK_PARAMS = frozenset(
    {
        "top_k",
        "n_bins",
        "per_bin",
        "budget",
        "query_strategy",
        "mask_ratio",
        "feedback_loss",
        "anomaly_weight",
        "anomaly_margin",
        "visible_weight",
        "normal_replay",
        "feedback_epochs",
        "feedback_replay",
        "feedback_lr",
        "max_grad_norm",
    }
)


def _pretrained(
    cache_dir: Path,
    task: Task,
    backbone: str,
    seed: int,
    params: dict,
    X_fit: np.ndarray,
    tag: str,
) -> tuple[ActiveReconstructionDetector, float]:
    """Fit (or load from the cache) the detector of one setting."""
    fit_params = {k: v for k, v in params.items() if k not in FEEDBACK_PARAMS}
    name = _key(task.name, backbone, seed, fit_params, tag)
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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump((detector, seconds), f)
    tmp.replace(path)  # a crash mid-write never leaves a truncated model
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
    emit,
) -> None:
    """Run every missing record of one task, backbone and seed; ``emit`` each.

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
    }

    def record_key(setting, config=None):
        return _key(base, setting, config)

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
        key = record_key(setting)
        if setting not in settings or key in done:
            continue
        model, seconds = pretrained(setting)
        emit(
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
        key = record_key(setting, config)
        if key in done:
            continue
        # the active setting starts from the model trained without the pool
        model, _ = pretrained("w/o unlabeled")
        record = _active_record(model, split, scorer, config, overrides, cache_dir, key)
        emit({**base, "key": key, "setting": setting, "config": config, **record})


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
    emit,
) -> None:
    """IsolationForest or LocalOutlierFactor on standardised timesteps.

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
    }
    key = _key(base)
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

    emit(
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
