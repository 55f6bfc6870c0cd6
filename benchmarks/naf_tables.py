"""Reproduce Tables 1-3 of NAF-AL (Zhang et al.) next to sklearn baselines.

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
that of the longer training. IsolationForest, LocalOutlierFactor(novelty=True) and
OneClassSVM are measured in the same run, on the same splits (standardised
with training statistics, 3-D series flattened).

The runs are scaled to a 2-core CPU (see ``SETTINGS`` and docs/nafal.rst):
training length is set in optimiser steps, not epochs, so that large and
small training sets cost about the same.

Studies (``--study``) print the figures quoted in docs/nafal.rst:
``collapse`` (feature variance and log-likelihood over epochs with and
without the extractor's volume term, cardio), ``timing`` (the augmentation
step on cardio) and ``feedback`` (does ``partial_fit`` with ``y == 1`` help?).

Usage::

    python benchmarks/naf_tables.py --table all --seeds 0 1 2 --out results.json
    python benchmarks/naf_tables.py --table 1 --quick
    python benchmarks/naf_tables.py --study collapse
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.neighbors import LocalOutlierFactor  # noqa: E402
from sklearn.svm import OneClassSVM  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from alad.datasets import (  # noqa: E402
    load_odds,
    load_uea,
    novelty_split,
    one_vs_rest_split,
)
from alad.detectors.nafal import NAFALDetector  # noqa: E402
from alad.experiments.run import cpu_model  # noqa: E402

ODDS = ("arrhythmia", "cardio", "lympho", "thyroid")
UEA = ("Epilepsy", "NATOPS", "RacketSports", "CharacterTrajectories")
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
QUICK = {"steps": 10, "augment_steps": 3, "n_transforms": 8, "n_iterations": 2}
N_ITERATIONS = 5


def _epochs(steps: int, n_train: int, batch_size: int) -> int:
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


def _baselines(X_train, X_test, seed):
    mean = _flat(X_train).mean(0)
    std = _flat(X_train).std(0)
    std[std < 1e-12] = 1.0
    A, B = (_flat(X_train) - mean) / std, (_flat(X_test) - mean) / std
    models = {
        "IForest": IsolationForest(random_state=seed),
        "LOF": LocalOutlierFactor(novelty=True),
        "OC-SVM": OneClassSVM(gamma="scale", nu=0.1),
    }
    # sklearn: lower decision_function = more abnormal, so negate
    return {name: -m.fit(A).decision_function(B) for name, m in models.items()}


def _setup(kind, n_train, quick, overrides):
    """Detector parameters, epochs, rounds and metric of one run."""
    settings = SETTINGS[kind]
    params = {**settings["detector"], **(overrides or {})}
    steps, augment_steps = settings["steps"], settings["augment_steps"]
    n_iterations = N_ITERATIONS
    if quick:
        steps, augment_steps = QUICK["steps"], QUICK["augment_steps"]
        params["n_transforms"] = QUICK["n_transforms"]
        n_iterations = QUICK["n_iterations"]
    if params["n_samples"] is not None:  # a cap, never more than the paper's
        params["n_samples"] = min(params["n_samples"], n_train)
    bs = params["batch_size"]
    max_epochs = _epochs(steps, n_train, bs)
    augment_epochs = _epochs(augment_steps, n_train, bs)
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
    for name, scores in _baselines(X_train, X_test, seed).items():
        out[name] = metric(y_test, scores)
    return out


def _tabular_jobs(seeds, datasets):
    for name in datasets:
        data = load_odds(name)
        for seed in seeds:
            split = novelty_split(data.X, data.y, random_state=seed)
            yield (
                (name, seed, "-"),
                ("tabular", split.X_train, split.X_test, split.y_test, seed),
            )


def _series_jobs(table, seeds, datasets, quick):
    for name in datasets:
        data = load_uea(
            name, length=CT_LENGTH if name == "CharacterTrajectories" else None
        )
        classes = [str(c) for c in data.classes]
        for c in classes[:2] if quick else classes:
            normal = c if table == "2" else [o for o in classes if o != c]
            split = one_vs_rest_split(data, normal)
            for seed in seeds:
                yield (
                    (name, seed, c),
                    ("series", split.X_train, split.X_test, split.y_test, seed),
                )


def _row_key(row):
    return (row["dataset"], int(row["seed"]), str(row["task"]))


def run_table(
    table,
    seeds,
    quick,
    n_jobs,
    datasets=None,
    overrides=None,
    done=(),
    on_row=None,
    with_control=True,
):
    """Run (the missing runs of) one table; return its rows in job order.

    ``done`` holds rows of an earlier, interrupted run with the same settings;
    their jobs are skipped, except that rows without the control (or with a
    control from before ``control_rounds`` was recorded) get it computed.
    ``on_row(rows)`` is called after every finished run, so the caller can
    save as it goes.
    """
    if table == "1":
        jobs = list(_tabular_jobs(seeds, datasets or (ODDS[:2] if quick else ODDS)))
    else:
        jobs = list(
            _series_jobs(table, seeds, datasets or (UEA[:1] if quick else UEA), quick)
        )
    previous = {_row_key(r): r for r in done}
    keys = [key for key, _ in jobs]
    # (job, earlier row or None): an earlier row without the control (or from
    # before ``control_rounds`` was recorded) only needs the control
    todo = []
    for key, args in jobs:
        row = previous.get(key)
        if row is None:
            todo.append((key, args, None))
        elif with_control and "control_rounds" not in row:
            todo.append((key, args, row))
    print(
        f"Table {table}: {len(jobs)} runs, {len(previous)} already done, "
        f"{sum(r is not None for *_, r in todo)} of them still need the control",
        file=sys.stderr,
        flush=True,
    )
    finished = dict(previous)

    def job(args, row):
        if row is None:
            return run_one(
                *args, quick=quick, with_control=with_control, overrides=overrides
            )
        return {**row, **run_control(*args, quick, overrides, row)}

    if n_jobs == 1:  # in this process, one run after the other
        results = (job(args, row) for _, args, row in todo)
    else:
        results = Parallel(n_jobs=n_jobs, verbose=5, return_as="generator")(
            delayed(job)(args, row) for _, args, row in todo
        )
    for ((name, seed, task), _, _), res in zip(todo, results):
        finished[(name, seed, task)] = {
            **res,
            "dataset": name,
            "seed": seed,
            "task": task,
        }
        if on_row is not None:
            on_row([finished[k] for k in keys if k in finished])
    return [finished[k] for k in keys]


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


def markdown(table, summary):
    title = {
        "1": "Table 1: F1 (%) on tabular data",
        "2": "Table 2: ROC AUC (%) one-vs-rest",
        "3": "Table 3: ROC AUC (%) m-vs-rest",
    }[table]
    header, *rows = _table_rows(table, summary)
    rows.append(
        [
            "CPU seconds, all runs",
            *(f"{v['cpu_seconds']:.0f}" for v in summary.values()),
        ]
    )
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("|---" * len(header) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def rst(table, summary):
    """The same table as :func:`markdown`, as an RST list-table (docs/nafal.rst)."""
    title = {
        "1": "Table 1: F1 (%), ODDS, mean ± std over seeds",
        "2": "Table 2: ROC AUC (%), one-vs-rest, mean ± std over seeds",
        "3": "Table 3: ROC AUC (%), m-vs-rest (m = N - 1), mean ± std over seeds",
    }[table]
    lines = [f".. list-table:: {title}", "   :header-rows: 1", ""]
    for row in _table_rows(table, summary, bold="**"):
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" if cell else "     -" for cell in row[1:])
    return "\n".join(lines)


def report(path):
    """Print the RST tables of a results file (no computing)."""
    with open(path) as f:
        result = json.load(f)
    wall = result.get("wall_seconds")
    hours = f", {wall / 3600:.1f} h of wall-clock time in all" if wall else ""
    print(f"Measured on {result['machine']}{hours}.")
    for table in ("1", "2", "3"):
        part = result.get(f"table{table}")
        if not part:
            continue
        summary = summarize(table, part["rows"])
        runs = len(part["rows"])
        print(f"\n.. {runs} runs, complete: {part.get('complete', False)}\n")
        print(rst(table, summary))


# -- studies -------------------------------------------------------------------
class _Probe(Callback):
    """skorch callback: features and log-likelihoods of fixed views per epoch."""

    def __init__(self, views, k, log):
        self.views, self.k, self.log = views, k, log

    def on_epoch_end(self, net, **kwargs):
        module = net.module_
        module.eval()
        with torch.no_grad():
            views = torch.as_tensor(self.views)
            k = torch.as_tensor(self.k)
            feats = module.features(views)
            lp = module.view_log_prob(views, k)
            flow_lp = module.flow(module.embedding(k)).log_prob(feats)
        self.log.append(
            {
                "epoch": len(net.history),
                "feature_variance": float(feats.var(0).mean()),
                "log_lik": float(lp.mean()),
                "flow_log_lik": float(flow_lp.mean()),
                "train_loss": float(net.history[-1, "train_loss"]),
            }
        )
        module.train()


def study_collapse(seed=0, epochs=40):
    """Feature variance and log-likelihood per epoch for each extractor_volume."""
    torch.set_num_threads(1)
    data = load_odds("cardio")
    split = novelty_split(data.X, data.y, random_state=seed)
    records = {}
    for volume in ("free", "logdet", "fixed"):
        log = []

        det = NAFALDetector(
            n_transforms=64,
            train_views=8,
            batch_size=64,
            max_epochs=1,
            n_iterations=0,
            extractor_volume=volume,
            random_state=seed,
        ).fit(split.X_train)  # builds the model; training continues below
        views = det._views(det._train_x)
        rng = np.random.default_rng(seed)
        probe_k = rng.integers(views.shape[1], size=len(views))
        probe_views = views[np.arange(len(views)), probe_k]
        det.net_.callbacks_.append(("probe", _Probe(probe_views, probe_k, log)))
        for e in range(epochs):
            det._train(1, seed + e)
            s = det.decision_function(split.X_test) if (e + 1) % 10 == 0 else None
            if s is not None:
                log[-1]["test_auc"] = float(roc_auc_score(split.y_test, s))
                log[-1]["test_f1"] = f1_at_ratio(split.y_test, s)
            print(volume, log[-1], flush=True)
        records[volume] = log
    return records


def study_timing(seed=0, passes=(2, None)):
    """Seconds per augmentation round on cardio (draw + filters, and training)."""
    torch.set_num_threads(1)
    out = {}
    # raw zuko NAF sampling (untrained, the paper's small-data size: 4 blocks,
    # 2 x 128 hidden units): seconds for 512 draws, by feature size and passes
    from alad.flows import make_naf

    for features in (16, 8):
        for p in (None, 2):
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                flow = make_naf(features, 8, passes=p)
                context = torch.randn(512, 8)
                flow(context).sample()  # warm-up
                wall = time.perf_counter()
                with torch.no_grad():
                    flow(context).sample()
                wall = time.perf_counter() - wall
            key = f"raw NAF, 512 draws, features={features}, passes={p}"
            out[key] = {"sampling_s": wall}
            print(key, out[key], flush=True)
    data = load_odds("cardio")
    split = novelty_split(data.X, data.y, random_state=seed)
    for p in passes:
        for K in (64, 256):
            det = NAFALDetector(
                n_transforms=K,
                flow_passes=p,
                train_views=8,
                batch_size=64,
                max_epochs=_epochs(200, len(split.X_train), 64),
                augment_epochs=_epochs(40, len(split.X_train), 64),
                n_iterations=0,
                random_state=seed,
            ).fit(split.X_train)
            wall, cpu = time.perf_counter(), time.process_time()
            det.augment(5)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            hist = det.augmentation_history_
            key = f"passes={p}, n_transforms={K}"
            out[key] = {
                "rounds": len(hist),
                "drawn_per_round": hist[0]["n_drawn"],
                "sampling_s": sum(h["seconds_sampling"] for h in hist),
                "filtering_s": sum(h["seconds_filtering"] for h in hist),
                "training_s": sum(h["seconds_training"] for h in hist),
                "augment_total_wall_s": wall,
                "augment_total_cpu_s": cpu,
                "views_added": det.n_augmented_,
            }
            print(key, out[key], flush=True)
    return out


def study_feedback(seeds=(0, 1, 2), rounds=5, n_queries=10):
    """Query/partial_fit on cardio: labels of both classes vs normals only.

    Train on 50% of the normals; the test split of the protocol is halved into
    a pool (queried, labelled by the simulated oracle) and an evaluation part.
    Two arms from one fitted NAF-AD and the same queries policy: ``y`` as
    labelled, and ``y == 1`` hidden (set to nan, so only the normals are
    learnt from; a round that queried anomalies only trains nothing).
    """
    torch.set_num_threads(1)
    data = load_odds("cardio")
    rows = []
    for seed in seeds:
        split = novelty_split(data.X, data.y, random_state=seed)
        rng = np.random.default_rng(seed)
        pool = rng.random(len(split.y_test)) < 0.5
        Xp, yp = split.X_test[pool], split.y_test[pool]
        Xe, ye = split.X_test[~pool], split.y_test[~pool]
        base = NAFALDetector(
            n_transforms=64,
            train_views=8,
            batch_size=64,
            n_iterations=0,
            max_epochs=_epochs(200, len(split.X_train), 64),
            feedback_epochs=3,
            random_state=seed,
        ).fit(split.X_train)
        row = {
            "seed": seed,
            "before": roc_auc_score(ye, base.decision_function(Xe)),
            "before_f1": f1_at_ratio(ye, base.decision_function(Xe)),
        }
        for arm in ("both", "normals_only"):
            det = copy.deepcopy(base)
            known = np.full(len(yp), np.nan)
            n_anom = 0
            for _ in range(rounds):
                idx = det.query(Xp, known, n_queries=n_queries)
                known[idx] = yp[idx]
                n_anom += int(yp[idx].sum())
                labels = yp[idx].astype(float)
                if arm == "normals_only":
                    labels[labels == 1] = np.nan
                if not np.isnan(labels).all():
                    det.partial_fit(Xp[idx], labels)
            s = det.decision_function(Xe)
            row[arm] = roc_auc_score(ye, s)
            row[arm + "_f1"] = f1_at_ratio(ye, s)
            row[arm + "_anomalies_queried"] = n_anom
        print(row, flush=True)
        rows.append(row)
    return rows


def _machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"


def _save(path, result):
    """Write ``result`` as JSON atomically (an interruption keeps the old file)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1, default=float)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", choices=("1", "2", "3", "all"), default=None)
    parser.add_argument(
        "--study", choices=("collapse", "timing", "feedback"), default=None
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny settings, 1-2 data sets: a smoke test",
    )
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="parallel runs (default 1: one compute process, one thread)",
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="PARAM=JSON",
        help="override NAFALDetector parameters, e.g. mahalanobis_level=0.9999",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="write results as JSON here, after every finished run",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in --out (same settings) and do the rest",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the tables of --out as RST and exit (no computing)",
    )
    args = parser.parse_args(argv)
    if args.report:
        report(args.out)
        return
    if args.table is None and args.study is None:
        args.table = "all"
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    argv_used = sys.argv[1:] if argv is None else list(argv)
    result = {
        "command": " ".join(["python", "benchmarks/naf_tables.py", *argv_used]),
        "machine": _machine(),
        "settings": SETTINGS,
        "quick": args.quick,
        "overrides": overrides,
    }
    previous = {}
    if args.resume and args.out and os.path.exists(args.out):
        with open(args.out) as f:
            previous = json.load(f)
        same = all(
            previous.get(k) == json.loads(json.dumps(result[k]))
            for k in ("settings", "quick", "overrides")
        )
        if not same:
            raise SystemExit(
                f"--resume: {args.out} was made with other settings; "
                "use another --out or drop --resume."
            )
        for key in ("collapse", "timing", "feedback"):
            if key in previous:
                result[key] = previous[key]
        print(f"resuming from {args.out}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    base_wall = float(previous.get("wall_seconds", 0.0))
    if args.study == "collapse":
        result["collapse"] = study_collapse()
    elif args.study == "timing":
        result["timing"] = study_timing()
    elif args.study == "feedback":
        result["feedback"] = study_feedback(tuple(args.seeds))
    if args.study and args.out:
        _save(args.out, result)
    if args.table is not None:
        tables = ("1", "2", "3") if args.table == "all" else (args.table,)
        for table in tables:
            key = f"table{table}"
            done = previous.get(key, {}).get("rows", [])

            def on_row(rows, key=key):
                # save after every run: tables 2 and 3 take hours on 1 core
                result[key] = {"rows": rows, "complete": False}
                result["wall_seconds"] = base_wall + time.perf_counter() - start
                if args.out:
                    _save(args.out, result)

            rows = run_table(
                table,
                args.seeds,
                args.quick,
                args.n_jobs,
                args.datasets,
                overrides,
                done=done,
                on_row=on_row,
            )
            summary = summarize(table, rows)
            result[key] = {"rows": rows, "summary": summary, "complete": True}
            print(markdown(table, summary), "\n", flush=True)
            if args.out:
                _save(args.out, result)
    result["wall_seconds"] = base_wall + time.perf_counter() - start
    if args.out:
        _save(args.out, result)


if __name__ == "__main__":
    main()
