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
same model as ``fit(n_iterations=r)``. Table 1 also reports "NAF-AD, same
epochs": NAF-AD trained for as many steps as NAF-AL in total, without
augmentation, which separates the effect of the augmented views from that of
the longer training. IsolationForest, LocalOutlierFactor(novelty=True) and
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
import platform
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


def run_one(kind, X_train, X_test, y_test, seed, quick, with_control, overrides=None):
    """Fit NAF-AD, then NAF-AL, (and the control); return metrics and timings."""
    torch.set_num_threads(1)
    settings = SETTINGS[kind]
    params = {**settings["detector"], **(overrides or {})}
    steps, augment_steps = settings["steps"], settings["augment_steps"]
    n_iterations = N_ITERATIONS
    if quick:
        steps, augment_steps = QUICK["steps"], QUICK["augment_steps"]
        params["n_transforms"] = QUICK["n_transforms"]
        n_iterations = QUICK["n_iterations"]
    if params["n_samples"] is not None:  # a cap, never more than the paper's
        params["n_samples"] = min(params["n_samples"], len(X_train))
    bs = params["batch_size"]
    max_epochs = _epochs(steps, len(X_train), bs)
    augment_epochs = _epochs(augment_steps, len(X_train), bs)
    metric = f1_at_ratio if kind == "tabular" else roc_auc_score
    out = {"n_train": len(X_train), "n_test": len(X_test)}

    start = time.process_time()
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
    out["n_augmented"] = det.n_augmented_
    out["augmentation"] = [
        {k: v for k, v in h.items() if k != "train_loss"}
        for h in det.augmentation_history_
    ]
    if with_control:
        rounds = len(det.augmentation_history_)
        control = NAFALDetector(
            **params,
            max_epochs=max_epochs + rounds * augment_epochs,
            n_iterations=0,
            random_state=seed,
        ).fit(X_train)
        out["NAF-AD, same epochs"] = metric(y_test, control.decision_function(X_test))
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


def run_table(table, seeds, quick, n_jobs, datasets=None, overrides=None):
    if table == "1":
        jobs = list(_tabular_jobs(seeds, datasets or (ODDS[:2] if quick else ODDS)))
    else:
        jobs = list(
            _series_jobs(table, seeds, datasets or (UEA[:1] if quick else UEA), quick)
        )
    print(f"Table {table}: {len(jobs)} runs", file=sys.stderr, flush=True)
    results = Parallel(n_jobs=n_jobs, verbose=5)(
        delayed(run_one)(
            *args, quick=quick, with_control=table == "1", overrides=overrides
        )
        for _, args in jobs
    )
    rows = []
    for (name, seed, task), res in zip((key for key, _ in jobs), results):
        rows.append({"dataset": name, "seed": seed, "task": task, **res})
    return rows


METHODS = ("IForest", "LOF", "OC-SVM", "NAF-AD", "NAF-AD, same epochs", "NAF-AL")


def summarize(table, rows):
    """Mean and std over seeds (of the mean over tasks) per dataset and method."""
    summary = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        summary[name] = {}
        for method in METHODS + ("gain",):
            per_seed = []
            for seed in sorted({r["seed"] for r in mine}):
                vals = [
                    (r["NAF-AL"] - r["NAF-AD"]) if method == "gain" else r.get(method)
                    for r in mine
                    if r["seed"] == seed
                ]
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


def markdown(table, summary):
    title = {
        "1": "Table 1: F1 (%) on tabular data",
        "2": "Table 2: ROC AUC (%) one-vs-rest",
        "3": "Table 3: ROC AUC (%) m-vs-rest",
    }[table]
    names = list(summary)
    short = [UEA_SHORT.get(n, n) for n in names]
    lines = [
        f"### {title}",
        "",
        "| method | " + " | ".join(short) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for method in METHODS + ("gain",):
        if not any(method in summary[n] for n in names):
            continue
        label = "NAF-AL - NAF-AD" if method == "gain" else method
        cells = []
        for n in names:
            if method in summary[n]:
                m, s = summary[n][method]
                cells.append(
                    f"{m:+.1f} ± {s:.1f}" if method == "gain" else f"{m:.1f} ± {s:.1f}"
                )
            else:
                cells.append("")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    paper = PAPER[table]
    for i, method in enumerate(("NAF-AD", "NAF-AL", "IForest", "LOF", "OC-SVM")):
        cells = [f"{paper[n][i]:.1f}" if n in paper else "" for n in names]
        lines.append(f"| paper {method} | " + " | ".join(cells) + " |")
    lines.append(
        "| views added by NAF-AL (mean per run) | "
        + " | ".join(f"{summary[n]['n_augmented']:.1f}" for n in names)
        + " |"
    )
    lines.append(
        "| CPU seconds, all runs | "
        + " | ".join(f"{summary[n]['cpu_seconds']:.0f}" for n in names)
        + " |"
    )
    return "\n".join(lines)


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
    data = load_odds("cardio")
    split = novelty_split(data.X, data.y, random_state=seed)
    out = {}
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
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="PARAM=JSON",
        help="override NAFALDetector parameters, e.g. mahalanobis_level=0.9999",
    )
    parser.add_argument("--out", default=None, help="write results as JSON here")
    args = parser.parse_args(argv)
    if args.table is None and args.study is None:
        args.table = "all"
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    result = {
        "command": " ".join(["python", "benchmarks/naf_tables.py", *sys.argv[1:]]),
        "machine": f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPU cores, torch {torch.__version__}",
        "settings": SETTINGS,
        "overrides": overrides,
    }
    start = time.perf_counter()
    if args.study == "collapse":
        result["collapse"] = study_collapse()
    elif args.study == "timing":
        result["timing"] = study_timing()
    elif args.study == "feedback":
        result["feedback"] = study_feedback(tuple(args.seeds))
    if args.table is not None:
        tables = ("1", "2", "3") if args.table == "all" else (args.table,)
        for table in tables:
            rows = run_table(
                table, args.seeds, args.quick, args.n_jobs, args.datasets, overrides
            )
            summary = summarize(table, rows)
            result[f"table{table}"] = {"rows": rows, "summary": summary}
            print(markdown(table, summary), "\n", flush=True)
            if args.out:  # save as we go: tables 2 and 3 take long
                with open(args.out, "w") as f:
                    json.dump(result, f, indent=1, default=float)
    result["wall_seconds"] = time.perf_counter() - start
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1, default=float)


if __name__ == "__main__":
    main()
