"""Labels that pay for NAFALDetector, in ADBench's semi-supervised setting.

The protocol (docs/nafal.rst, *Labels that pay*), after ADBench's
semi-supervised setting (Han et al., "ADBench: Anomaly Detection Benchmark",
NeurIPS 2022 Datasets and Benchmarks):

- Tasks: the four ODDS sets of Table 1 (``novelty_split``: a random half of
  the normal samples trains, drawn from the seed) and, for the UEA sets of
  Table 2, one-vs-rest with the first ``--classes`` classes normal in turn
  (``one_vs_rest_split``: the TRAIN series of the class train). Seeds 0, 1, 2.
- The test part is dealt, stratified by label with
  ``numpy.random.default_rng([seed, 11])``, into a **pool** (half), a
  **validation** part and an **evaluation** part (a quarter each). Labels
  come from the pool only; every figure is measured on the validation and the
  evaluation parts, and anything chosen is chosen on validation.
- ``NAFALDetector`` (one thread) is fitted once per task, seed and fit of
  ``FITS``: "NAF, no labels" with the flow's standard normal base (the
  default when most arms were measured), "NAF (mixture base), no labels"
  with 5 Gaussians per view, "NAF (auto base), no labels" with today's
  default. Each arm then labels the pool of its fit
  (``ARM_FIT``) through the README loop, ``query`` then ``partial_fit`` with
  the oracle's labels, until 1 %, 2 % and 5 % of the pool is labelled (at
  least one sample), and is scored at each. Arms: ``ARMS``.
- The label-taking peers get exactly the samples the default arm
  (``default_arm()``) labelled, in ADBench's way: fitted on the training part and
  the whole pool, 1 on the labelled anomalies, 0 elsewhere (unlabelled taken
  as normal). They run in their own environment
  (``benchmarks/peers/run_naf_peers.py``; the settings are its ``SETTINGS``);
  scores travel as files (``alad.experiments.labels.exchange``). A peer that
  fails (no anomaly among the labelled samples) gets a constant score, i.e.
  ROC AUC 0.5 and AP the anomaly ratio: what a user would have.
- Metrics: ROC AUC, average precision, and F1 when the top ``r`` share of
  scores is called anomalous, ``r`` the part's anomaly ratio (the oracle
  threshold of docs/nafal.rst's Table 1).

Where it differs from ADBench: the labelled samples are those the detector
asks for (``query``), normal and anomalous, not a random share of the
anomalies; the training part holds normals only (the novelty split of the
NAF-AL paper) and the pool is unlabelled test data; the peers' training
lengths are cut for CPU time.

Usage, from the repository root (resumable: rerun to continue)::

    export ALAD_DATA_HOME=../shared/datasets OMP_NUM_THREADS=1
    python benchmarks/naf_labels.py --run      # NAF, then the peers (venv)
    python benchmarks/naf_labels.py            # print the tables
    python benchmarks/naf_labels.py --rst docs/results/naf_labels.inc
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from alad import NAFALDetector
from alad.datasets import load_odds, load_uea, novelty_split, one_vs_rest_split
from alad.experiments.labels.exchange import read_task_file, score_path, task_file
from alad.experiments.machine import machine
from alad.experiments.nafal import CT_LENGTH, f1_at_ratio
from alad.experiments.store import atomic_write
from alad.experiments.tables import render_table

ODDS = ("arrhythmia", "cardio", "lympho", "thyroid")
UEA = ("Epilepsy", "NATOPS", "RacketSports", "CharacterTrajectories")
SEEDS = (0, 1, 2)
FRACTIONS = (0.01, 0.02, 0.05)
#: gzip-compressed JSON lines (a plain ``.jsonl`` path works too)
OUT = Path("benchmarks/results/naf_labels.jsonl.gz")
WORK = Path("alad_output/naf_labels.work")
PEER_PYTHON = Path("benchmarks/.venv-peers/bin/python")

#: the fits without labels: record name -> parameters of the fit (the flow's
#: base is fixed at fit); the arms start from one of them
FITS = {
    "NAF, no labels": {"base_components": 0},
    "NAF (mixture base), no labels": {"base_components": 5},
    "NAF (auto base), no labels": {"base_components": "auto"},
}

#: the feedback settings compared (``set_params`` on the fitted detector);
#: the first is the feedback of earlier versions (``docs/nafal.rst``'s study)
ARMS = {
    "NAF, flow feedback, margin query": {
        "score_head": "none",
        "query_strategy": "margin",
        "feedback_epochs": 5,
    },
    "NAF + head, margin query": {
        "score_head": "classifier",
        "query_strategy": "margin",
        "feedback_epochs": 5,
    },
    "NAF + head, top query": {
        "score_head": "classifier",
        "query_strategy": "top",
        "feedback_epochs": 5,
    },
    "NAF + head, hybrid query": {
        "score_head": "classifier",
        "query_strategy": "hybrid",
        "feedback_epochs": 5,
    },
    "NAF + head (weight 0.5), hybrid query": {
        "score_head": "classifier",
        "query_strategy": "hybrid",
        "head_weight": 0.5,
        "feedback_epochs": 5,
    },
    "NAF + head (inputs and rank), hybrid query": {
        "score_head": "classifier",
        "query_strategy": "hybrid",
        "head_features": "inputs+rank",
        "feedback_epochs": 5,
    },
    "NAF + head (skill weight), hybrid query": {
        "score_head": "classifier",
        "query_strategy": "hybrid",
        "head_weight": "skill",
        "feedback_epochs": 5,
    },
    # the head alone: no flow training in a round (the default since it was
    # measured here; the arms above train the flow 5 epochs, the default then)
    "NAF + head, no flow feedback, hybrid query": {
        "score_head": "classifier",
        "query_strategy": "hybrid",
        "feedback_epochs": 0,
    },
    # the same from a mixture base of 5 Gaussians per view, and from the
    # default base (BIC's count on tabular data, 2 on series)
    "NAF (mixture base) + head, no flow feedback, hybrid query": {
        "score_head": "classifier",
        "query_strategy": "hybrid",
        "feedback_epochs": 0,
    },
    "NAF (auto base) + head, no flow feedback, hybrid query": {
        "score_head": "classifier",
        "query_strategy": "hybrid",
        "feedback_epochs": 0,
    },
}

#: the fit each arm starts from (the others: "NAF, no labels")
ARM_FIT = {
    "NAF (mixture base) + head, no flow feedback, hybrid query": (
        "NAF (mixture base), no labels"
    ),
    "NAF (auto base) + head, no flow feedback, hybrid query": (
        "NAF (auto base), no labels"
    ),
}


def arm_fit(arm):
    """The name, in ``FITS``, of the fit ``arm`` starts from."""
    return ARM_FIT.get(arm, "NAF, no labels")


def default_arm():
    """The arm of ``NAFALDetector()``'s defaults: its labels go to the peers.

    The arm that sets the most parameters, of those whose settings (and
    those of their fit) are all the defaults.
    """
    defaults = NAFALDetector().get_params()
    matching = [
        arm
        for arm, params in ARMS.items()
        if all(defaults[k] == v for k, v in {**FITS[arm_fit(arm)], **params}.items())
    ]
    if not matching:
        raise ValueError("no arm has the detector's default feedback settings")
    return max(matching, key=lambda arm: len(ARMS[arm]))


PEERS = {
    "pyod_xgbod": "XGBOD (PyOD)",
    "pyod_devnet": "DevNet (PyOD)",
    "deepod_devnet": "DevNet (DeepOD)",
    "deepod_prenet": "PReNet (DeepOD)",
    "deepod_deepsad": "DeepSAD (DeepOD)",
    "extratrees": "ExtraTrees (supervised)",
}
METRICS = ("roc_auc", "ap", "f1")


# -- splits -------------------------------------------------------------------
def tasks(n_classes, data_home=None):
    """``(dataset, task, split)``: ODDS per seed, UEA one-vs-rest per class."""
    for name in ODDS:
        data = load_odds(name, data_home)
        for seed in SEEDS:
            yield name, "-", seed, novelty_split(data.X, data.y, random_state=seed)
    for name in UEA:
        length = CT_LENGTH if name == "CharacterTrajectories" else None
        data = load_uea(name, data_home, length=length)
        for c in [str(c) for c in data.classes][:n_classes]:
            split = one_vs_rest_split(data, c)
            for seed in SEEDS:
                yield name, c, seed, split


def parts(y, seed):
    """Pool, validation and evaluation indices of a test part, by label."""
    rng = np.random.default_rng([seed, 11])
    out = ([], [], [])
    for label in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == label))
        half, three = len(idx) // 2, (3 * len(idx)) // 4
        for part, chunk in zip(out, (idx[:half], idx[half:three], idx[three:])):
            part.append(chunk)
    return tuple(np.sort(np.concatenate(p)) for p in out)


def counts(n_pool):
    """Labelled samples at each of ``FRACTIONS`` of the pool (at least one)."""
    return [max(1, round(f * n_pool)) for f in FRACTIONS]


def metrics(y, scores):
    out = {}
    for part, idx in (("val", y["val"]), ("eval", y["eval"])):
        yt, s = idx[0], scores[idx[1]]
        out[f"{part}_roc_auc"] = float(roc_auc_score(yt, s))
        out[f"{part}_ap"] = float(average_precision_score(yt, s))
        out[f"{part}_f1"] = float(f1_at_ratio(yt, s))
    return out


# -- records --------------------------------------------------------------------
def load_records(path=OUT):
    path = Path(path)
    if not path.exists():
        return []
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode()
    return [json.loads(line) for line in text.splitlines() if line]


def append(path, records):
    """Append ``records``; a ``.gz`` file is rewritten whole, atomically and
    without a time stamp, so its bytes depend on the records only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    if path.suffix != ".gz":
        with path.open("a") as f:
            f.write(lines)
        return
    old = gzip.decompress(path.read_bytes()).decode() if path.exists() else ""
    data = gzip.compress((old + lines).encode(), mtime=0)
    atomic_write(path, lambda f: f.write(data), "wb")


def tid(dataset, task):
    return f"{dataset}_{task}".replace("/", "_").replace(".", "_")


# -- runs -----------------------------------------------------------------------
def run_naf(dataset, task, seed, split, arms=None, fit="NAF, no labels"):
    """NAF without labels (fit ``fit`` of ``FITS``), then the arms of
    ``ARMS`` that start from it, from the same fit.

    ``arms``: the names of the arms to run (default all of that fit); the
    no-labels row is recorded when ``arms`` is None or holds ``fit`` (the
    fit is the same either way: it is seeded).
    """
    torch.set_num_threads(1)
    pool, val, ev = parts(split.y_test, seed)
    X_pool, y_pool = split.X_test[pool], split.y_test[pool]
    X_ve = split.X_test[np.r_[val, ev]]
    n_val = len(val)
    y_ve = split.y_test[np.r_[val, ev]]
    where = {
        "val": (y_ve[:n_val], np.arange(n_val)),
        "eval": (y_ve[n_val:], np.arange(n_val, len(y_ve))),
    }
    base = {"dataset": dataset, "task": task, "seed": seed, "n_pool": len(pool)}
    start = time.process_time()
    det = NAFALDetector(**FITS[fit], random_state=seed).fit(split.X_train)
    fit_s = time.process_time() - start
    rows = [
        {
            **base,
            "method": fit,
            "n_labelled": 0,
            "n_anomalies": 0,
            "cpu_s": fit_s,
            **metrics(where, det.decision_function(X_ve)),
        }
    ][: int(arms is None or fit in arms)]
    targets = counts(len(pool))
    for arm, params in ARMS.items():
        if arm_fit(arm) != fit or (arms is not None and arm not in arms):
            continue
        model = copy.deepcopy(det).set_params(**params)
        known = np.full(len(pool), np.nan)
        order = []
        for level, n in enumerate(targets):
            start = time.process_time()
            missing = n - len(order)
            if missing > 0:
                idx = model.query(X_pool, y=known, n_queries=missing)
                known[idx] = y_pool[idx]
                order.extend(int(i) for i in idx)
                model.partial_fit(X_pool[idx], known[idx])
            rows.append(
                {
                    **base,
                    "method": arm,
                    "params": params,
                    "level": level,
                    "n_labelled": len(order),
                    "n_anomalies": int(y_pool[order].sum()),
                    "queried": list(order),
                    # the head's weight after the last round (0: no head)
                    "head_weight": model.feedback_history_[-1]["head_weight"],
                    "cpu_s": time.process_time() - start,
                    **metrics(where, model.decision_function(X_ve)),
                }
            )
    return rows


def write_task_files(records, work, arm, n_classes, data_home=None):
    """The peers' task files: each task's split and the samples ``arm`` labelled."""
    flat = lambda X: np.asarray(X, np.float32).reshape(len(X), -1)  # noqa: E731
    for dataset, task, seed, split in tasks(n_classes, data_home):
        rows = sorted(
            (
                r
                for r in records
                if (r["dataset"], r["task"], r["seed"], r["method"])
                == (dataset, task, seed, arm)
            ),
            key=lambda r: r["level"],
        )
        path = task_file(work, tid(dataset, task), seed)
        if not rows or path.exists():
            continue
        pool, val, ev = parts(split.y_test, seed)
        ve = np.r_[val, ev]
        y_pool = split.y_test[pool]
        meta = {
            "task": task,
            "dataset": dataset,
            "seed": seed,
            "budgets": [r["n_labelled"] for r in rows],
            "n_val": len(val),
            "n_pool": len(pool),
            "query_source": arm,
        }
        arrays = {
            "X_train": flat(split.X_train),
            "X_pool": flat(split.X_test[pool]),
            "y_pool": y_pool.astype(np.int8),
            "X_eval": flat(split.X_test[ve]),
            "y_eval": split.y_test[ve].astype(np.int8),
            "meta": np.array(json.dumps(meta)),
        }
        for r in rows:
            idx = np.asarray(r["queried"], dtype=np.int64)
            arrays[f"idx_b{r['n_labelled']}"] = idx
            arrays[f"y_b{r['n_labelled']}"] = y_pool[idx].astype(np.int8)
        atomic_write(path, lambda f, a=arrays: np.savez_compressed(f, **a), "wb")


def collect_peers(work, records):
    """Records of the peers' score files not yet recorded."""
    done = {
        (r["dataset"], r["task"], r["seed"], r["method"])
        for r in records
        if r.get("labels_of", "-") in ("-", read_arm(work))
    }
    out = []
    for path in sorted(Path(work, "tasks").glob("*/seed*.npz")):
        data = read_task_file(path)
        meta = data["meta"]
        n_val = meta["n_val"]
        y = data["y_eval"]
        where = {
            "val": (y[:n_val], np.arange(n_val)),
            "eval": (y[n_val:], np.arange(n_val, len(y))),
        }
        for peer, label in PEERS.items():
            key = (meta["dataset"], meta["task"], meta["seed"], label)
            if key in done:
                continue
            rows = []
            for level, b in enumerate(meta["budgets"]):
                target = score_path(work, path.parent.name, meta["seed"], peer, b)
                if target.exists():
                    scores = np.load(target).astype(np.float64)
                    info = json.loads(target.with_suffix(".json").read_text())
                    failed, cpu = None, info["cpu_seconds"]
                elif target.with_suffix(".err").exists():
                    scores = np.zeros(len(y))  # constant: what a user would have
                    err = target.with_suffix(".err").read_text().strip()
                    failed, cpu = err.splitlines()[-1][:200], None
                else:
                    break
                rows.append(
                    {
                        "dataset": meta["dataset"],
                        "task": meta["task"],
                        "seed": meta["seed"],
                        "method": label,
                        "labels_of": meta["query_source"],
                        "level": level,
                        "n_labelled": b,
                        "n_anomalies": int(data[f"y_b{b}"].sum()),
                        "cpu_s": cpu,
                        "failed": failed,
                        **metrics(where, scores),
                    }
                )
            else:
                out.extend(rows)
    return out


def run(n_classes, out=OUT, work=WORK, data_home=None, peers=True):
    records = load_records(out)
    done = {(r["dataset"], r["task"], r["seed"], r["method"]) for r in records}
    for dataset, task, seed, split in tasks(n_classes, data_home):
        missing = [m for m in (*FITS, *ARMS) if (dataset, task, seed, m) not in done]
        if not missing:
            continue
        start = time.perf_counter()
        for fit in FITS:
            if any(m == fit or (m in ARMS and arm_fit(m) == fit) for m in missing):
                rows = run_naf(dataset, task, seed, split, missing, fit)
                for r in rows:
                    r["machine"] = machine()
                append(out, rows)
        print(
            f"{dataset} {task} seed {seed}: {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    if not peers:
        return
    arm = default_arm()
    work = Path(work) / arm_slug(arm)
    write_task_files(load_records(out), work, arm, n_classes, data_home)
    subprocess.run(
        [str(PEER_PYTHON), "benchmarks/peers/run_naf_peers.py", "--work", str(work)],
        check=True,
    )
    append(out, collect_peers(work, load_records(out)))


def read_arm(work):
    for path in Path(work, "tasks").glob("*/seed*.npz"):
        return read_task_file(path)["meta"]["query_source"]
    return None


def arm_slug(arm):
    return "".join(c if c.isalnum() else "_" for c in arm.lower())


# -- tables ---------------------------------------------------------------------
def summarize(records):
    """``{(dataset, method, fraction index): {metric: mean over tasks and seeds}}``."""
    groups = {}
    for r in records:
        if r["method"] in FITS:
            levels = range(len(FRACTIONS))
        else:
            levels = [r["level"]]
        for i in levels:
            groups.setdefault((r["dataset"], r["method"], i), []).append(r)
    return {
        key: {
            **{
                m: float(np.mean([r[m] for r in rows]))
                for m in rows[0]
                if m.startswith(("val_", "eval_"))
            },
            "n": len(rows),
            "anomalies": float(np.mean([r["n_anomalies"] for r in rows])),
            "labelled": float(np.mean([r["n_labelled"] for r in rows])),
            "failed": sum(bool(r.get("failed")) for r in rows),
        }
        for key, rows in groups.items()
    }


def methods_in(records):
    order = [*FITS, *ARMS, *PEERS.values()]
    present = {r["method"] for r in records}
    return [m for m in order if m in present]


def tables(records, fmt="markdown", part="eval", with_counts=True):
    summary = summarize(records)
    datasets = [d for d in (*ODDS, *UEA) if any(k[0] == d for k in summary)]
    out = []
    for metric, name in (("roc_auc", "ROC AUC"), ("ap", "AP"), ("f1", "F1")):
        header = ["method", *(f"{int(f * 100)} %" for f in FRACTIONS)]
        header += [d for d in datasets]
        body = []
        for method in methods_in(records):
            cells = []
            for i in range(len(FRACTIONS)):
                vals = [
                    summary[(d, method, i)][f"{part}_{metric}"]
                    for d in datasets
                    if (d, method, i) in summary
                ]
                cells.append(
                    f"{100 * np.mean(vals):.1f}" if len(vals) == len(datasets) else "-"
                )
            for d in datasets:
                s = summary.get((d, method, len(FRACTIONS) - 1))
                cells.append(f"{100 * s[f'{part}_{metric}']:.1f}" if s else "-")
            body.append([method, *cells])
        title = (
            f"{name} (%), {'evaluation' if part == 'eval' else 'validation'} parts: "
            "mean over the data sets at 1 / 2 / 5 % of the pool labelled, then per "
            "data set at 5 %"
        )
        out.append(render_table(header, body, fmt, title=title))
    if not with_counts:
        return "\n\n".join(out)
    # labelled anomalies and failures
    header = ["method", *(f"{int(f * 100)} %" for f in FRACTIONS)]
    body = []
    for method in methods_in(records):
        if method in FITS:
            continue
        cells = []
        for i in range(len(FRACTIONS)):
            rows = [
                summary[(d, method, i)] for d in datasets if (d, method, i) in summary
            ]
            lab = np.mean([r["labelled"] for r in rows])
            an = np.mean([r["anomalies"] for r in rows])
            failed = sum(r["failed"] for r in rows)
            cells.append(
                f"{an:.1f} of {lab:.1f}" + (f" ({failed} failed)" if failed else "")
            )
        body.append([method, *cells])
    out.append(
        render_table(
            header,
            body,
            fmt,
            title="Labelled anomalies of labelled samples, mean per run "
            "(runs where the peer failed)",
        )
    )
    return "\n\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true", help="run what is missing")
    parser.add_argument("--no-peers", action="store_true", help="NAF only")
    parser.add_argument(
        "--classes", type=int, default=1, help="UEA classes normal in turn"
    )
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--work", default=str(WORK))
    parser.add_argument("--part", choices=("eval", "val"), default="eval")
    parser.add_argument("--rst", help="write the tables (both parts) as RST here")
    args = parser.parse_args(argv)
    if args.run:
        run(args.classes, args.out, args.work, peers=not args.no_peers)
    records = load_records(args.out)
    if not records:
        parser.error(f"no records in {args.out}; run with --run first")
    arm = default_arm()  # the peers' rows of the labels of the default arm
    records = [r for r in records if r.get("labels_of", arm) == arm]
    if args.rst:
        text = "\n\n".join(
            [tables(records, "rst", "val", with_counts=False), tables(records, "rst")]
        )
        Path(args.rst).write_text(text + "\n")
    print(tables(records, "markdown", args.part))
    return 0


if __name__ == "__main__":
    sys.exit(main())
