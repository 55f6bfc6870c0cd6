"""The NAF-AL tables (Zhang et al.) as a protocol, next to scikit-learn baselines.

Table 1: F1 on the ODDS sets arrhythmia, cardio, lympho and thyroid with the
protocol of Zong et al. (train on a random 50% of the normal samples, test on
the other normal samples and all anomalies; the top ``ratio`` share of test
scores is predicted anomalous, ``ratio`` = the test set's anomaly ratio).
Tables 2 and 3: ROC AUC on the UEA sets Epilepsy, NATOPS, RacketSports and
CharacterTrajectories, one-vs-rest (one normal class) and m-vs-rest (all
classes but one normal, m = N - 1); train on the normal classes of TRAIN,
test on all of TEST, average over the N tasks.

Each run fits one NAFALDetector with ``n_iterations=0`` (NAF-AD), scores the
test data, then runs the augmentation rounds with ``augment()`` and scores
again (NAF-AL): ``fit(n_iterations=0)`` followed by ``augment(r)`` is the
same model as ``fit(n_iterations=r)``. Every table also reports "NAF-AD,
same epochs": NAF-AD trained for as many epochs as NAF-AL in total (the
initial ones plus ``augment_epochs`` for every round that added views),
without augmentation, which separates the effect of the augmented views from
that of the longer training. IsolationForest, LocalOutlierFactor(novelty=True)
and OneClassSVM are measured in the same run, on the same splits
(standardised with training statistics, 3-D series flattened).

The runs are scaled to a 2-core CPU (see ``SETTINGS`` and docs/nafal.rst):
training length is set in optimiser steps, not epochs, so that large and
small training sets cost about the same.

The second configuration of the engine (:mod:`alad.experiments.engine`):
``alad benchmark --protocol nafal`` runs it, ``alad report`` prints its
tables, also from the JSON files of the script that ran it before.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

from ..datasets import load_odds, load_uea, novelty_split, one_vs_rest_split
from ..detectors import NAFALDetector
from .engine import Job, check_params, record_key, run_jobs
from .machine import machine
from .store import ResultStore
from .tables import render_table
from .tasks import NAFAL_DATASETS as DATASETS
from .tasks import ODDS, UEA

__all__ = [
    "DATASETS",
    "PAPER",
    "PINNED",
    "SETTINGS",
    "TABLES",
    "baseline_scores",
    "f1_at_ratio",
    "format_report",
    "jobs",
    "read_legacy",
    "run_one",
    "run_tables",
    "steps_to_epochs",
    "summarize",
]

UEA_SHORT = {
    "Epilepsy": "EPSY",
    "NATOPS": "NATOPS",
    "RacketSports": "RS",
    "CharacterTrajectories": "CT",
}
#: CharacterTrajectories has unequal lengths (60-182); all are resampled to this
CT_LENGTH = 182

#: Paper figures (NAF-AD, NAF-AL, IForest, LOF, OC-SVM), in %.
PAPER = {
    "1": {
        "arrhythmia": (55.2, 61.1, 57.4, 50.0, 45.8),
        "cardio": (81.3, 84.0, 79.5, 75.3, 72.6),
        "lympho": (67.3, 71.3, 60.4, 62.9, 58.7),
        "thyroid": (77.8, 79.8, 46.9, 52.7, 38.9),
    },
    "2": {
        "Epilepsy": (90.4, 93.2, 67.7, 56.1, 61.1),
        "NATOPS": (91.9, 95.7, 85.4, 89.2, 86.0),
        "RacketSports": (85.4, 88.2, 69.3, 57.4, 70.0),
        "CharacterTrajectories": (97.8, 99.5, 94.3, 97.8, 97.4),
    },
    "3": {
        "Epilepsy": (77.3, 81.7, 55.3, 54.7, 50.2),
        "NATOPS": (71.3, 75.8, 56.0, 71.2, 57.6),
        "RacketSports": (78.9, 82.7, 58.4, 59.4, 55.9),
        "CharacterTrajectories": (86.7, 89.3, 57.9, 90.3, 57.8),
    },
}

#: The scaled settings run on a 2-core CPU. Changed from the paper: 64 (tabular)
#: and 32 (series) transformations instead of 256, 8 random views per sample
#: and step, training length set in optimiser steps, and for series at most
#: ``n_samples`` views drawn per augmentation round (the paper: as many as
#: there are training samples).
SETTINGS = {
    "tabular": {
        "detector": {
            "n_transforms": 64,
            "train_views": 8,
            "batch_size": 64,
            "eval_batch_size": 256,
            "n_samples": None,
        },
        "steps": 200,
        "augment_steps": 40,
    },
    "series": {
        "detector": {
            "n_transforms": 32,
            "train_views": 8,
            "batch_size": 64,
            "eval_batch_size": 256,
            "n_samples": 256,
        },
        "steps": 100,
        "augment_steps": 20,
    },
}
#: Parameters of the tables whose defaults changed after they were run (the
#: ablation of docs/nafal.rst chose new defaults): pinned, so that the tables
#: regenerate with the model they were made with.
PINNED = {
    "extractor": "dense",
    "conv_segments": 1,
    "transform_dim": 8,
    "flow_transforms": 4,
    "flow_hidden_features": 128,
    # the feedback the studies were made with (the label head and the hybrid
    # query came later; docs/nafal.rst, "Labels that pay")
    "score_head": "none",
    "query_strategy": "margin",
    "feedback_epochs": 5,
    # the flow's base of the paper (the mixture per view came later)
    "base_components": 0,
}
QUICK = {"steps": 10, "augment_steps": 3, "n_transforms": 8, "n_iterations": 2}
N_ITERATIONS = 5


def steps_to_epochs(steps: int, n_train: int, batch_size: int) -> int:
    """Epochs that give about ``steps`` optimiser steps on ``n_train`` samples."""
    return max(1, round(steps / math.ceil(n_train / batch_size)))


def f1_at_ratio(y_true, scores) -> float:
    """F1 when the top ``ratio`` share of scores is predicted anomalous.

    ``ratio`` is the share of anomalies in ``y_true`` (the protocol of Zong et
    al., GOAD and NeuTraL-AD).
    """
    y_true = np.asarray(y_true)
    n_pred = int(round(y_true.mean() * len(y_true)))
    order = np.argsort(-np.asarray(scores), kind="stable")
    pred = np.zeros(len(y_true), dtype=bool)
    pred[order[:n_pred]] = True
    tp = int((pred & (y_true == 1)).sum())
    return 2 * tp / (n_pred + int(y_true.sum()))


def _flat(X):
    return X.reshape(len(X), -1)


def standardized(X_train, X_test):
    """``X_train`` and ``X_test`` flattened and standardised with the training
    part's mean and deviation (a constant feature keeps a scale of 1): the
    inputs of the shallow baselines."""
    A, B = _flat(X_train), _flat(X_test)
    mean, std = A.mean(0), A.std(0)
    std[std < 1e-12] = 1.0
    return (A - mean) / std, (B - mean) / std


def baseline_scores(X_train, X_test, seed, timings=None):
    """IsolationForest, LOF and OC-SVM scores of ``X_test`` (higher = more
    anomalous), fitted on ``X_train`` standardised with its statistics, series
    flattened: the baselines of every NAF-AL table.

    ``timings``, a dict, receives ``{name: (fit CPU s, score CPU s)}``.
    """
    A, B = standardized(X_train, X_test)
    models = {
        "IForest": IsolationForest(random_state=seed),
        "LOF": LocalOutlierFactor(novelty=True),
        "OC-SVM": OneClassSVM(gamma="scale", nu=0.1),
    }
    # sklearn: lower decision_function = more abnormal, so negate
    scores = {}
    for name, model in models.items():
        start = time.process_time()
        model.fit(A)
        fitted = time.process_time()
        scores[name] = -model.decision_function(B)
        if timings is not None:
            timings[name] = (fitted - start, time.process_time() - fitted)
    return scores


def _setup(kind, n_train, quick, overrides):
    """Detector parameters, epochs, rounds and metric of one run."""
    settings = SETTINGS[kind]
    params = {**PINNED, **settings["detector"], **(overrides or {})}
    steps, augment_steps = settings["steps"], settings["augment_steps"]
    n_iterations = N_ITERATIONS
    if quick:
        steps, augment_steps = QUICK["steps"], QUICK["augment_steps"]
        params["n_transforms"] = QUICK["n_transforms"]
        n_iterations = QUICK["n_iterations"]
    if params["n_samples"] is not None:  # a cap, never more than the paper's
        params["n_samples"] = min(params["n_samples"], n_train)
    bs = params["batch_size"]
    max_epochs = steps_to_epochs(steps, n_train, bs)
    augment_epochs = steps_to_epochs(augment_steps, n_train, bs)
    metric = f1_at_ratio if kind == "tabular" else roc_auc_score
    return params, max_epochs, augment_epochs, n_iterations, metric


def trained_rounds(augmentation):
    """Augmentation rounds that trained: a round that kept no view (or was
    rolled back) adds nothing and trains nothing."""
    return sum(1 for h in augmentation if h["n_added"] > 0)


def run_control(kind, X_train, X_test, y_test, seed, quick, overrides, row):
    """ "NAF-AD, same epochs": NAF-AD trained as many epochs as NAF-AL in all.

    NAF-AL trains ``augment_epochs`` more after every round that added views;
    the control trains as long without augmentation, which separates the
    effect of the augmented views from that of the longer training. With no
    such round it is the NAF-AD model itself (same seed, same epochs).
    """
    torch.set_num_threads(1)
    params, max_epochs, augment_epochs, _, metric = _setup(
        kind, len(X_train), quick, overrides
    )
    rounds = trained_rounds(row["augmentation"])
    out = {"control_rounds": rounds}
    if rounds == 0:
        out["NAF-AD, same epochs"] = row["NAF-AD"]
        return out
    control = NAFALDetector(
        **params,
        max_epochs=max_epochs + rounds * augment_epochs,
        n_iterations=0,
        random_state=seed,
    ).fit(X_train)
    out["NAF-AD, same epochs"] = metric(y_test, control.decision_function(X_test))
    return out


def run_one(kind, X_train, X_test, y_test, seed, quick, with_control, overrides=None):
    """Fit NAF-AD, then NAF-AL, (and the control); return metrics and timings."""
    torch.set_num_threads(1)
    params, max_epochs, augment_epochs, n_iterations, metric = _setup(
        kind, len(X_train), quick, overrides
    )
    out = {"n_train": len(X_train), "n_test": len(X_test)}

    start, wall = time.process_time(), time.perf_counter()
    det = NAFALDetector(
        **params,
        max_epochs=max_epochs,
        augment_epochs=augment_epochs,
        n_iterations=0,
        random_state=seed,
    ).fit(X_train)
    out["NAF-AD"] = metric(y_test, det.decision_function(X_test))
    det.augment(n_iterations)
    out["NAF-AL"] = metric(y_test, det.decision_function(X_test))
    out["cpu_seconds"] = time.process_time() - start
    out["wall_seconds"] = time.perf_counter() - wall
    out["n_augmented"] = det.n_augmented_
    out["augmentation"] = [
        {k: v for k, v in h.items() if k != "train_loss"}
        for h in det.augmentation_history_
    ]
    if with_control:
        out.update(
            run_control(kind, X_train, X_test, y_test, seed, quick, overrides, out)
        )
    for name, scores in baseline_scores(X_train, X_test, seed).items():
        out[name] = metric(y_test, scores)
    return out


#: The data sets of each table, in the order of the paper's columns.
TABLES = {"1": ODDS, "2": UEA, "3": UEA}


def _tasks(table, datasets, quick, data_home):
    """``(dataset, task, task_index, data or split, kind)`` of a table."""
    for name in datasets:
        if table == "1":
            yield name, "-", 0, load_odds(name, data_home), "tabular"
            continue
        length = CT_LENGTH if name == "CharacterTrajectories" else None
        data = load_uea(name, data_home, length=length)
        classes = [str(c) for c in data.classes]
        for i, c in enumerate(classes[:2] if quick else classes):
            normal = c if table == "2" else [o for o in classes if o != c]
            yield name, c, i, one_vs_rest_split(data, normal), "series"


def jobs(
    tables=None,
    *,
    datasets=None,
    seeds=(0, 1, 2),
    quick: bool = False,
    params: dict | None = None,
    data_home=None,
) -> list[Job]:
    """One job per table, data set, task and seed, in the paper's order.

    Parameters
    ----------
    tables : iterable of {"1", "2", "3"} or None
        None: every table that reads one of ``datasets`` (all three when
        ``datasets`` is None).
    datasets : iterable of str or None
        Data sets of :data:`DATASETS`; each table runs those it reads (all of
        them when None; with ``quick``, the first two ODDS sets and Epilepsy).
    seeds : iterable of int
    quick : bool
        Tiny settings (:data:`QUICK`) and two tasks per UEA set: a smoke test.
    params : dict or None
        :class:`~alad.NAFALDetector` parameters over :data:`SETTINGS`
        (the old script's ``--set``).
    data_home : str or None
        The data home of :func:`~alad.datasets.load_odds` and
        :func:`~alad.datasets.load_uea`.
    """
    params = dict(params or {})
    for kind in SETTINGS:  # tabular (Table 1) and series (Tables 2, 3)
        check_params(
            NAFALDetector,
            {**PINNED, **SETTINGS[kind]["detector"], **params},
            # set from the steps of SETTINGS (or QUICK) and the seed
            fixed=("max_epochs", "augment_epochs", "n_iterations", "random_state"),
            variants=[{"random_state": seed} for seed in seeds],
        )
    if tables is None:
        tables = [
            t
            for t, names in TABLES.items()
            if datasets is None or set(names) & set(datasets)
        ]
        if not tables:
            raise ValueError(
                f"no table reads the data sets given ({', '.join(datasets)}); "
                f"they are {', '.join(d for t in TABLES.values() for d in t)}."
            )
    work = []
    for table in tables:
        if table not in TABLES:
            raise ValueError(f"table must be one of {sorted(TABLES)}; got {table!r}.")
        names = [d for d in TABLES[table] if datasets is None or d in datasets]
        if not names:
            # an explicit table and data sets of another table: nothing to run
            raise ValueError(
                f"table {table} covers {', '.join(TABLES[table])}; none of the "
                f"data sets given ({', '.join(datasets)})."
            )
        if datasets is None and quick:
            names = list(ODDS[:2] if table == "1" else UEA[:1])
        for name, task, index, split, kind in _tasks(table, names, quick, data_home):
            if table == "1":
                splits = [
                    (seed, novelty_split(split.X, split.y, random_state=seed))
                    for seed in seeds
                ]
            else:
                splits = [(seed, split) for seed in seeds]
            for seed, part in splits:
                work.append(
                    _job(table, kind, name, task, index, seed, part, quick, params)
                )
    return work


def _job(table, kind, name, task, index, seed, split, quick, params) -> Job:
    key = record_key("nafal", table, name, task, seed, SETTINGS[kind], quick, params)

    def run(done):
        if key in done:
            return
        start = time.perf_counter()
        row = run_one(
            kind,
            split.X_train,
            split.X_test,
            split.y_test,
            seed,
            quick,
            with_control=True,
            overrides=params,
        )
        yield {
            **row,
            "key": key,
            "table": table,
            "dataset": name,
            "seed": seed,
            "task": task,
            "task_index": index,
            "settings": SETTINGS[kind],
            "quick": quick,
            "overrides": params,
            "job_seconds": time.perf_counter() - start,
            "machine": machine(),  # after run_one set one torch thread
        }

    return Job(f"table {table} {name} {task} seed {seed}", run)


def run_tables(
    tables=("1", "2", "3"),
    *,
    datasets=None,
    seeds=(0, 1, 2),
    quick: bool = False,
    params: dict | None = None,
    out: str | Path = "alad_output/nafal.jsonl",
    data_home=None,
    n_jobs: int = 1,
    progress: bool = True,
) -> ResultStore:
    """Run (or resume) the NAF-AL tables; finished runs in ``out`` are skipped.

    Parameters are those of :func:`jobs`, and ``out`` (the JSON-lines results
    file), ``n_jobs`` and ``progress`` of :func:`~alad.experiments.run_jobs`.
    """
    work = jobs(
        tables,
        datasets=datasets,
        seeds=seeds,
        quick=quick,
        params=params,
        data_home=data_home,
    )
    return run_jobs(work, out, protocol="nafal", progress=progress, n_jobs=n_jobs)


METHODS = ("IForest", "LOF", "OC-SVM", "NAF-AD", "NAF-AD, same epochs", "NAF-AL")
#: Differences reported under the methods: (label, minuend, subtrahend).
GAINS = {
    "gain": ("NAF-AL - NAF-AD", "NAF-AL", "NAF-AD"),
    "gain_control": ("NAF-AL - NAF-AD, same epochs", "NAF-AL", "NAF-AD, same epochs"),
}


def _value(row, method):
    """A method's metric in a row, or a difference of two (``GAINS``)."""
    if method not in GAINS:
        return row.get(method)
    _, a, b = GAINS[method]
    if a not in row or b not in row:
        return None
    return row[a] - row[b]


def summarize(table, rows):
    """Mean and std over seeds (of the mean over tasks) per dataset and method."""
    summary = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        summary[name] = {}
        for method in METHODS + tuple(GAINS):
            per_seed = []
            for seed in sorted({r["seed"] for r in mine}):
                vals = [_value(r, method) for r in mine if r["seed"] == seed]
                if None not in vals:
                    per_seed.append(100 * float(np.mean(vals)))
            if per_seed:
                summary[name][method] = (
                    float(np.mean(per_seed)),
                    float(np.std(per_seed)),
                )
        summary[name]["cpu_seconds"] = float(sum(r["cpu_seconds"] for r in mine))
        summary[name]["n_augmented"] = float(np.mean([r["n_augmented"] for r in mine]))
    return summary


def _table_rows(table, summary, bold=""):
    """Header and rows (lists of cells) of a summarised table, with the paper's.

    ``bold`` wraps the labels of the difference rows (``"**"`` in RST).
    """
    names = list(summary)
    rows = [["method", *(UEA_SHORT.get(n, n) for n in names)]]
    for method in METHODS + tuple(GAINS):
        if not any(method in summary[n] for n in names):
            continue
        fmt = "{:+.1f} ± {:.1f}" if method in GAINS else "{:.1f} ± {:.1f}"
        cells = [
            fmt.format(*summary[n][method]) if method in summary[n] else ""
            for n in names
        ]
        label = f"{bold}{GAINS[method][0]}{bold}" if method in GAINS else method
        rows.append([label, *cells])
    paper = PAPER[table]
    for i, method in enumerate(("NAF-AD", "NAF-AL", "IForest", "LOF", "OC-SVM")):
        cells = [f"{paper[n][i]:.1f}" if n in paper else "" for n in names]
        rows.append([f"paper {method}", *cells])
    rows.append(
        ["views added by NAF-AL", *(f"{summary[n]['n_augmented']:.1f}" for n in names)]
    )
    return rows


TITLES = {
    "markdown": {
        "1": "Table 1: F1 (%) on tabular data",
        "2": "Table 2: ROC AUC (%) one-vs-rest",
        "3": "Table 3: ROC AUC (%) m-vs-rest",
    },
    "rst": {
        "1": "Table 1: F1 (%), ODDS, mean ± std over seeds",
        "2": "Table 2: ROC AUC (%), one-vs-rest, mean ± std over seeds",
        "3": "Table 3: ROC AUC (%), m-vs-rest (m = N - 1), mean ± std over seeds",
    },
}


def _table(table, summary, fmt):
    """A summarised table with the paper's figures, markdown or RST."""
    header, *rows = _table_rows(table, summary, bold="**" if fmt == "rst" else "")
    if fmt == "markdown":
        rows.append(
            [
                "CPU seconds, all runs",
                *(f"{v['cpu_seconds']:.0f}" for v in summary.values()),
            ]
        )
    return render_table(header, rows, fmt, title=TITLES[fmt][table])


def _job_order(record):
    order = TABLES[record["table"]]
    rank = order.index(record["dataset"]) if record["dataset"] in order else 99
    return record["table"], rank, record.get("task_index", 0), record["seed"]


def format_report(records, labels=None, fmt: str = "markdown") -> str:
    """The tables of the records: the machine, then Tables 1-3 as present.

    ``labels`` is unused (the rows hold their metrics). Records read from a
    legacy JSON file (:func:`read_legacy`) keep its order and its wall-clock
    total; new records are put in the order of the jobs.
    """
    if fmt not in ("markdown", "rst"):
        raise ValueError(f"fmt must be 'markdown' or 'rst', got {fmt!r}.")
    records = list(records)
    legacy = [r["legacy"] for r in records if "legacy" in r]
    if not legacy:
        records = sorted(records, key=_job_order)
        wall = sum(r.get("job_seconds", 0.0) for r in records)
    else:
        wall = legacy[0]["wall_seconds"]
    hosts = ", ".join(dict.fromkeys(r["machine"] for r in records))
    hours = f", {wall / 3600:.1f} h of wall-clock time in all" if wall else ""
    out = [f"Measured on {hosts}{hours}."]
    for table in TABLES:
        rows = [r for r in records if r["table"] == table]
        if not rows:
            continue
        if legacy:
            complete = next(r["legacy"]["complete"] for r in rows)
            note = f".. {len(rows)} runs, complete: {complete}"
        else:
            note = f".. {len(rows)} runs"
        if fmt == "rst":
            out += ["", note, ""]
        else:
            out.append("")
        out.append(_table(table, summarize(table, rows), fmt))
    return "\n".join(out)


def read_legacy(path) -> list[dict]:
    """Records of a JSON file of ``benchmarks/naf_tables.py`` (before the engine).

    The committed ``benchmarks/results/naf_tables*.json``: one JSON object
    with the machine, the settings, the whole run's wall-clock seconds and
    ``table1`` ... ``table3``, each with its rows in job order.
    """
    result = json.loads(Path(path).read_text())
    if not isinstance(result, dict):
        raise ValueError(
            f"{path} holds a JSON {type(result).__name__}; the files of "
            "benchmarks/naf_tables.py hold one object with table1 ... table3."
        )
    records = []
    for table in TABLES:
        part = result.get(f"table{table}")
        if not part:
            continue
        if not isinstance(part, dict) or not isinstance(part.get("rows"), list):
            raise ValueError(
                f"{path}: table{table} is not an object with a list of rows, "
                "as the files of benchmarks/naf_tables.py hold."
            )
        meta = {
            "wall_seconds": result.get("wall_seconds"),
            "complete": part.get("complete", False),
        }
        for row in part["rows"]:
            key = record_key(
                "nafal-legacy",
                str(path),
                table,
                row["dataset"],
                row["task"],
                row["seed"],
            )
            records.append(
                {
                    **row,
                    "key": key,
                    "table": table,
                    "protocol": "nafal",
                    "machine": result["machine"],
                    "legacy": meta,
                }
            )
    return records
