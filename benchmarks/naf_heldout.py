"""Held-out check: the default NAFALDetector against IsolationForest, LOF and
OC-SVM on tabular data its defaults were never chosen on.

The defaults of :class:`~alad.NAFALDetector` were chosen on validation
halves of the four ODDS sets and four UEA sets (docs/nafal.rst). This script
measures them, untouched, on other tabular data, next to the shallow
baselines a user already has, in the same run and on the same splits:

- by default, three sets bundled with scikit-learn (no download), made
  into outlier-detection sets the way ODDS made its versions of them: one
  class is the anomalies, drawn once (``numpy.random.default_rng(0)``,
  whatever the seed) down to a small share:

  - ``wdbc``: the Wisconsin diagnostic breast cancer data (569 x 30),
    benign normal, 21 malignant anomalies (ODDS's ``wbc`` is made the same
    way, 378 samples, 21 outliers; which 21 differs);
  - ``wine``: the wine recognition data (178 x 13), cultivars 2 and 3
    normal, 10 of cultivar 1 anomalous (as ODDS's ``wine``, 129 samples, 10
    outliers; which 10 differs);
  - ``digits``: the UCI handwritten digits, 8 x 8 (1,797 x 64), digits 1-9
    normal, 3 % zeros anomalous (ODDS's ``optdigits``, made from the larger
    32 x 32 version: 5,216 samples, 150 outliers);

- or any labelled file of your own (``--data``): ``.csv`` (a header row;
  ``--label-column`` names the 0/1 column, 1 = anomaly, the other columns
  are the features), ``.npz`` (arrays ``X`` and ``y``, as ADBench ships its
  sets) or ``.mat`` (``X`` and ``y``, as ODDS ships its sets).

Protocol as Table 1 of docs/nafal.rst (:func:`alad.datasets.novelty_split`):
train on a random half of the normal samples (drawn from the seed), test on
the other normal samples and all anomalies; ROC AUC, average precision and
F1 of the top ``r`` share of test scores, ``r`` the test anomaly ratio.
Baselines standardised with training statistics
(:func:`alad.experiments.nafal.baseline_scores`). One CPU thread; seeds 0,
1, 2; the table gives the mean over seeds, and how many of the three
baselines the default is at or above on each metric.

Usage::

    python benchmarks/naf_heldout.py                   # the bundled sets
    python benchmarks/naf_heldout.py --data mine.csv --label-column outlier
    python benchmarks/naf_heldout.py --out benchmarks/results/naf_heldout.json \\
        --rst docs/results/naf_heldout.inc
    python benchmarks/naf_heldout.py --report benchmarks/results/naf_heldout.json
    python benchmarks/naf_heldout.py --sets digits --params '{"transform_dim": 64}'
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn import datasets as sk_datasets  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from alad.datasets import novelty_split  # noqa: E402
from alad.detectors.nafal import NAFALDetector  # noqa: E402
from alad.experiments.machine import machine  # noqa: E402
from alad.experiments.nafal import baseline_scores, f1_at_ratio  # noqa: E402
from alad.experiments.tables import render_table  # noqa: E402

SEEDS = (0, 1, 2)
METHODS = ("NAFALDetector()", "IForest", "LOF", "OC-SVM")
METRICS = {"roc_auc": "ROC AUC", "ap": "AP", "f1": "F1"}


def _outlier_set(X, y_normal, n_anomalies):
    """Rows of ``X`` whose ``y_normal`` is False made anomalies, drawn once
    down to ``n_anomalies`` (a fixed draw: the data set, not the split)."""
    anomalous = np.flatnonzero(~y_normal)
    keep = np.random.default_rng(0).choice(anomalous, n_anomalies, replace=False)
    rows = np.sort(np.concatenate([np.flatnonzero(y_normal), keep]))
    return X[rows].astype(np.float64), (~y_normal[rows]).astype(np.int64)


def bundled(name):
    """``(X, y)`` of a scikit-learn set made an outlier-detection set."""
    if name == "wdbc":
        data = sk_datasets.load_breast_cancer()
        return _outlier_set(data.data, data.target == 1, 21)  # 1 = benign
    if name == "wine":
        data = sk_datasets.load_wine()
        return _outlier_set(data.data, data.target != 0, 10)
    if name == "digits":
        data = sk_datasets.load_digits()
        normal = data.target != 0
        return _outlier_set(data.data, normal, round(0.03 * normal.sum()))
    raise ValueError(f"unknown bundled set {name!r}; choose from {BUNDLED}.")


BUNDLED = ("wdbc", "wine", "digits")


def from_file(path, label_column=None):
    """``(X, y)`` of a labelled ``.csv``, ``.npz`` or ``.mat`` file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if label_column is None:
            raise ValueError("a .csv file needs --label-column (1 = anomaly).")
        with path.open(newline="") as f:
            header, *rows = list(csv.reader(f))
        if label_column not in header:
            raise ValueError(
                f"--label-column {label_column!r} is not a column of {path}; "
                f"its columns: {header}."
            )
        try:
            data = np.array(rows, dtype=np.float64)
        except ValueError as err:
            raise ValueError(
                f"{path} holds a value that is not a number: {err}"
            ) from None
        j = header.index(label_column)
        X, y = np.delete(data, j, axis=1), data[:, j]
    elif suffix in (".npz", ".mat"):
        if suffix == ".npz":
            arrays = np.load(path)
        else:
            from scipy.io import loadmat

            arrays = loadmat(path)
        missing = {"X", "y"} - set(arrays.keys())
        if missing:
            raise ValueError(
                f"{path} lacks the arrays {sorted(missing)} (need X and y)."
            )
        X, y = np.asarray(arrays["X"], dtype=np.float64), np.ravel(arrays["y"])
    else:
        raise ValueError(f"--data must be a .csv, .npz or .mat file; got {path}.")
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError(f"the labels of {path} must be 0 (normal) and 1 (anomaly).")
    return X, y.astype(np.int64)


def _metrics(y, scores):
    return {
        "roc_auc": float(roc_auc_score(y, scores)),
        "ap": float(average_precision_score(y, scores)),
        "f1": float(f1_at_ratio(y, scores)),
    }


def run_one(name, X, y, seed, params=None):
    """One split: a record of every method's metrics and CPU seconds;
    ``params`` (a dict) departs from the defaults of NAFALDetector."""
    torch.set_num_threads(1)
    split = novelty_split(X, y, random_state=seed)
    det = NAFALDetector(**(params or {}), random_state=seed)
    start = time.process_time()
    det.fit(split.X_train)
    fitted = time.process_time()
    scores = {"NAFALDetector()": det.decision_function(split.X_test)}
    timings = {"NAFALDetector()": (fitted - start, time.process_time() - fitted)}
    scores.update(baseline_scores(split.X_train, split.X_test, seed, timings))
    return {
        "dataset": name,
        "seed": seed,
        "params": params or {},
        "shape": list(X.shape),
        "n_anomalies": int(y.sum()),
        "metrics": {m: _metrics(split.y_test, s) for m, s in scores.items()},
        "cpu_s": timings,
    }


def run(sets, seeds=SEEDS, params=None):
    records = []
    for name, (X, y) in sets.items():
        for seed in seeds:
            record = run_one(name, X, y, seed, params)
            row = {
                m: round(100 * v["roc_auc"], 1) for m, v in record["metrics"].items()
            }
            print(name, seed, "ROC AUC", row, flush=True)
            records.append(record)
    return {"machine": machine(), "records": records}


def table(result, fmt="markdown"):
    """Mean over seeds per data set and metric; the last column counts the
    baselines NAFALDetector (the run's parameters, in the title) is at or
    above."""
    names = list(dict.fromkeys(r["dataset"] for r in result["records"]))
    header = [
        "data (samples x features, anomalies)",
        "metric",
        "NAFALDetector",
        *METHODS[1:],
        "NAF >= baselines",
    ]
    body = []
    for name in names:
        runs = [r for r in result["records"] if r["dataset"] == name]
        shape, n_anom = runs[0]["shape"], runs[0]["n_anomalies"]
        for metric, label in METRICS.items():
            mean = {
                m: 100 * np.mean([r["metrics"][m][metric] for r in runs])
                for m in METHODS
            }
            # compare what the table shows (one decimal), as a reader would
            shown = {m: round(v, 1) for m, v in mean.items()}
            wins = sum(shown["NAFALDetector()"] >= shown[m] for m in METHODS[1:])
            body.append(
                [
                    f"{name} ({shape[0]} x {shape[1]}, {n_anom})",
                    label,
                    *(f"{mean[m]:.1f}" for m in METHODS),
                    f"{wins} of 3",
                ]
            )
    seeds = sorted({r["seed"] for r in result["records"]})
    params = result["records"][0].get("params") or "the defaults"
    title = (
        f"Held-out tabular sets, NAFALDetector with {params}, mean over seeds "
        f"{seeds} (%); {result['machine']}"
    )
    return render_table(header, body, fmt, title=title)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", help="labelled .csv, .npz or .mat files")
    parser.add_argument("--label-column", help="the 0/1 column of a .csv (1 = anomaly)")
    parser.add_argument(
        "--sets",
        nargs="+",
        choices=BUNDLED,
        default=None,
        help="bundled scikit-learn sets (default: all, unless --data is given)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument(
        "--params",
        type=json.loads,
        default=None,
        help="NAFALDetector parameters as JSON, to measure a departure from "
        "the defaults, e.g. '{\"transform_dim\": 64}'",
    )
    parser.add_argument("--out", type=Path, help="write the records here (JSON)")
    parser.add_argument("--report", type=Path, help="print the table of a results file")
    parser.add_argument("--rst", type=Path, help="also write the table as reST here")
    args = parser.parse_args(argv)
    if args.report:
        result = json.loads(args.report.read_text())
    else:
        sets = {}
        for path in args.data or []:
            try:
                sets[Path(path).stem] = from_file(path, args.label_column)
            except (OSError, ValueError) as err:
                parser.error(str(err))
        for name in args.sets or ([] if args.data else BUNDLED):
            sets[name] = bundled(name)
        result = run(sets, args.seeds, args.params)
        if args.out:
            args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(table(result))
    if args.rst:
        args.rst.write_text(table(result, "rst") + "\n")


if __name__ == "__main__":
    main()
