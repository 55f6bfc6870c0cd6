"""One-factor-at-a-time ablation of NAFALDetector (NAF-AD) on ODDS and UEA.

What moves NAF-AD's figures, and which setting to make the default: each
variant changes one factor of a base setting (number of transformations,
training length, the extractor for series, feature size, flow size), plus
candidate defaults that combine factors. Then, from the defaults (what might
close the gap to the baselines on ODDS): how the per-transformation scores
are combined into one (``rules``: one fit of the defaults per task, several
rules of its view NLLs, each recorded as a variant ``rule_*``) and the input
scaling (``robust``, ``quantile``); for the series, the convolutional
features over more stretches of time (``seg8``, ``seg16``). Last, wider
views of tabular data (``wide32*``, ``dim16_tab``) and a gentler extractor
(``slope*_tab``), on ODDS and on the bundled
scikit-learn sets of ``benchmarks/naf_heldout.py`` (the ``heldout`` part,
split and halved as ODDS), where the held-out check found the defaults
near chance on the 8 x 8 digits. Last, the default's score summed with
IsolationForest's or per-feature tails' (``fusion``: one fit per task,
a row per sum of :data:`FUSIONS`).
IsolationForest, LocalOutlierFactor
(``novelty=True``) and OneClassSVM (``gamma="scale"``, ``nu=0.1``) are
measured in the same run on the same splits (standardised with training
statistics, series flattened), as in ``alad benchmark --protocol nafal``.

Splits (honest measurement). The protocols of docs/nafal.rst:

- ODDS arrhythmia, cardio, lympho, thyroid: train on a random 50 % of the
  normal samples (``novelty_split`` with ``random_state=seed``), the rest
  and all anomalies are the test part;
- UEA Epilepsy, NATOPS, RacketSports, CharacterTrajectories (resampled to
  182 points) one-vs-rest: train on the TRAIN series of one class, test on
  all TEST series. To fit one core in about an hour, only the first
  ``--classes`` classes (default 2) of each set are normal in turn (the
  docs' tables use all 4 / 6 / 4 / 20).

The test part is then split in two halves, stratified by label, with
``numpy.random.default_rng([seed, 7])``: the **validation** half, on which
the defaults were chosen, and the **evaluation** half, reported beside it
and never used to choose. Every method is scored on both halves of the same
split. Seeds 0, 1, 2; the figure of a data set is the mean over seeds of the
mean over its tasks, ROC AUC and F1 (top share of scores at the half's
anomaly ratio, as in the docs' Table 1).

NAF-AD is ``NAFALDetector(n_iterations=0)``: the active augmentation adds
nothing measurable (docs/nafal.rst, Tables 1-3) and is left out of the
ablation. One CPU thread per run.

Usage::

    export ALAD_DATA_HOME=../shared/datasets OMP_NUM_THREADS=1
    python benchmarks/naf_ablation.py            # run or resume all variants
    python benchmarks/naf_ablation.py --variants base conv   # some of them
    python benchmarks/naf_ablation.py --report   # print the tables
    python benchmarks/naf_ablation.py --report --rst docs/results/naf_ablation.inc

Records are added to ``benchmarks/results/naf_ablation.jsonl.gz`` (one JSON
line per variant, data set, task and seed; baselines under the variant
``"baselines"``; gzip-compressed and rewritten whole by the harness's
:class:`~alad.experiments.ResultStore`); a rerun skips what is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from naf_heldout import BUNDLED, bundled  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from alad.datasets import (  # noqa: E402
    load_odds,
    load_uea,
    novelty_split,
    one_vs_rest_split,
)
from alad.detectors.nafal import NAFALDetector  # noqa: E402
from alad.experiments import ResultStore  # noqa: E402
from alad.experiments.machine import machine  # noqa: E402
from alad.experiments.nafal import (  # noqa: E402
    CT_LENGTH,
    UEA_SHORT,
    baseline_scores,
    f1_at_ratio,
    standardized,
)
from alad.experiments.tables import render_table  # noqa: E402

ODDS = ("arrhythmia", "cardio", "lympho", "thyroid")
#: scikit-learn's bundled sets of benchmarks/naf_heldout.py
HELDOUT = BUNDLED
UEA = ("Epilepsy", "NATOPS", "RacketSports", "CharacterTrajectories")
SEEDS = (0, 1, 2)
OUT = Path("benchmarks/results/naf_ablation.jsonl.gz")

#: The base setting every variant departs from (NAF-AD, dense extractor).
BASE = {
    "n_transforms": 32,
    "max_steps": 100,
    "transform_dim": 8,
    "extractor": "dense",
    "flow_transforms": 4,
    "flow_hidden_features": 128,
    "train_views": 8,
    "batch_size": 64,
    "eval_batch_size": 256,
    "n_iterations": 0,
}

#: Every variant ran with the paper's standard normal base unless it sets
#: ``base_components`` (the mixture came after them): pinned at fit, and left
#: out of BASE so that the keys of the records stay.
STANDARD_NORMAL = {"base_components": 0}

#: The defaults of ``NAFALDetector()`` as changes to BASE before the mixture
#: base (the candidate ``cand200``; on ODDS its model is ``steps200``'s): the
#: variants of issue 18 item 3 depart from it. Today's defaults are
#: ``mixauto``.
DEFAULT = {"extractor": "auto", "conv_segments": 4, "max_steps": 200}

#: How the per-transformation scores of the default model are combined into
#: one score, measured on one fit per task (``--variants rules``; see
#: :func:`combine`): name -> label.
RULES = {
    "rule_mean": "mean view NLL (Eq. 7, the default)",
    "rule_zmean": "mean of view NLLs standardised by the training views'",
    "rule_median": "median view NLL",
    "rule_rank": "mean training rank of the view NLLs",
    "rule_latent": "mean squared norm of the flow's latent (no log-determinants)",
}

#: The default model's score fused with a shallow detector's, each
#: standardised by the mean and deviation of its own scores of the training
#: samples, then summed (``--variants fusion``: one fit per task; see
#: :func:`fuse`): does adding what IsolationForest or per-feature tails see
#: carry NAF-AD past the baselines? ``tails`` alone is the reference.
#: name -> (label, weight of each score in the sum).
FUSIONS = {
    "fuse_iforest": ("+ IsolationForest", {"naf": 1, "iforest": 1}),
    "fuse_2iforest": ("+ 2 x IsolationForest", {"naf": 1, "iforest": 2}),
    "fuse_tails": ("+ per-feature tails", {"naf": 1, "tails": 1}),
    "fuse_tails_iforest": (
        "+ per-feature tails + IsolationForest",
        {"naf": 1, "tails": 1, "iforest": 1},
    ),
    "tails": ("per-feature tails alone, no NAF", {"tails": 1}),
}

#: name -> (factor, changes to BASE, applies to "odds" / "uea" / both).
VARIANTS = {
    "base": ("base", {}, ("odds", "uea")),
    "conv": ("extractor", {"extractor": "conv"}, ("uea",)),
    "conv_seg4": (
        "extractor",
        {"extractor": "conv", "conv_segments": 4},
        ("uea",),
    ),
    "conv_seg8": (
        "extractor",
        {"extractor": "conv", "conv_segments": 8},
        ("uea",),
    ),
    "K64": ("transforms", {"n_transforms": 64}, ("odds", "uea")),
    "steps200": ("training length", {"max_steps": 200}, ("odds", "uea")),
    "dim16": ("feature size", {"transform_dim": 16}, ("odds", "uea")),
    "flow_small": (
        "flow size",
        {"flow_transforms": 2, "flow_hidden_features": 64},
        ("odds", "uea"),
    ),
    "K256": ("transforms", {"n_transforms": 256}, ("odds", "uea")),
    "steps400": ("training length", {"max_steps": 400}, ("odds", "uea")),
    # candidate defaults, combining the factors that helped on validation
    # ("auto": the dense extractor on tabular data, conv on series; on ODDS
    # cand200 is the steps200 model, so it runs on UEA only)
    "cand200": (
        "candidate",
        {"extractor": "auto", "conv_segments": 4, "max_steps": 200},
        ("uea",),
    ),
    "cand_small400": (
        "candidate",
        {
            "extractor": "auto",
            "conv_segments": 4,
            "flow_transforms": 2,
            "flow_hidden_features": 64,
            "max_steps": 400,
        },
        ("odds", "uea"),
    ),
    # issue 18 item 3: from the defaults, what might close the ODDS gap
    "rules": ("score rule", DEFAULT, ("odds",)),
    "robust": ("input scaling", {**DEFAULT, "scaling": "robust"}, ("odds", "uea")),
    "quantile": ("input scaling", {**DEFAULT, "scaling": "quantile"}, ("odds", "uea")),
    # the UEA set the defaults lose (CharacterTrajectories): the conv
    # features over more stretches of time (series only; ODDS is dense)
    "seg8": ("extractor", {**DEFAULT, "conv_segments": 8}, ("uea",)),
    "seg16": ("extractor", {**DEFAULT, "conv_segments": 16}, ("uea",)),
    # the held-out check (benchmarks/naf_heldout.py) found the defaults near
    # chance on scikit-learn's 8 x 8 digits: views of 8 of 64 dimensions.
    # Wider views of tabular data (``transform_dim`` is capped at the number
    # of features, so 32 makes the views of ODDS's cardio, lympho and thyroid
    # full-rank), with fewer of them to keep the fit time; the bundled sets
    # join as a third part ("heldout") with their own validation halves
    "defaults": ("defaults", DEFAULT, ("heldout",)),
    "wide32": (
        "view width",
        {**DEFAULT, "transform_dim": 32, "n_transforms": 8, "train_views": 4},
        ("odds", "heldout"),
    ),
    "wide32_views8": (
        "view width",
        {**DEFAULT, "transform_dim": 32, "n_transforms": 8},
        ("odds", "heldout"),
    ),
    "dim16_tab": (
        "view width",
        {**DEFAULT, "transform_dim": 16},
        ("odds", "heldout"),
    ),
    "slope05_tab": (
        "extractor slope",
        {**DEFAULT, "negative_slope": 0.5},
        ("odds", "heldout"),
    ),
    "slope1_tab": (
        "extractor slope",
        {**DEFAULT, "negative_slope": 1.0},
        ("odds", "heldout"),
    ),
    # the flow's base: a mixture of Gaussians per view fitted to the
    # training latents, against the standard normal that folds the digits'
    # nine clusters into one (benchmarks/naf_studies.py --study densities);
    # 2, 5 or 10 components, or the count of least BIC (1: the standard
    # normal); mixauto, run after them, became the default
    "mix10": (
        "flow base",
        {**DEFAULT, "base_components": 10},
        ("odds", "uea", "heldout"),
    ),
    "mixbic": (
        "flow base",
        {**DEFAULT, "base_components": "bic"},
        ("odds", "uea", "heldout"),
    ),
    "mix2": (
        "flow base",
        {**DEFAULT, "base_components": 2},
        ("odds", "uea", "heldout"),
    ),
    "mix5": (
        "flow base",
        {**DEFAULT, "base_components": 5},
        ("odds", "uea", "heldout"),
    ),
    # BIC's count on tabular data, 2 on series: what the four above suggest
    # (small tabular sets of one cluster lose with a mixture, series gain,
    # most with 2; the same with 5 on series equals mixbic + mix5 exactly)
    "mixauto": (
        "flow base",
        {**DEFAULT, "base_components": "auto"},
        ("odds", "uea", "heldout"),
    ),
    # one Gaussian fitted to each view's latents as the base, on tabular data:
    # where BIC picks one component the defaults keep the standard normal,
    # although the flow after its 200 steps fits the views worse than one
    # fitted Gaussian does (benchmarks/naf_studies.py --study densities)
    "mix1": (
        "flow base",
        {**DEFAULT, "base_components": 1},
        ("odds", "heldout"),
    ),
    # the defaults fused with a shallow detector (FUSIONS), tabular data only
    "fusion": (
        "score fusion",
        {**DEFAULT, "base_components": "auto"},
        ("odds", "heldout"),
    ),
}
ORDER = list(VARIANTS)
#: variants whose one fit per task records several rows
FAMILIES = {"rules": RULES, "fusion": FUSIONS}
#: rows of the tables: the score rules and fusions stand in for their variant
ROWS = [r for v in ORDER for r in FAMILIES.get(v, [v])]

METRICS = ("roc_auc", "f1")
BASELINES = ("IForest", "LOF", "OC-SVM")


# -- splits ----------------------------------------------------------------
def halves(y, seed):
    """Validation and evaluation index halves of a test part, by label."""
    rng = np.random.default_rng([seed, 7])
    val = []
    for label in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == label))
        val.append(idx[: len(idx) // 2])
    val = np.sort(np.concatenate(val))
    return val, np.setdiff1d(np.arange(len(y)), val)


def tasks(part, n_classes, data_home=None):
    """``(dataset, task, seed, split)`` of the ODDS, UEA or held-out part."""
    if part == "heldout":
        for name in HELDOUT:
            X, y = bundled(name)
            for seed in SEEDS:
                yield name, "-", seed, novelty_split(X, y, random_state=seed)
        return
    if part == "odds":
        for name in ODDS:
            data = load_odds(name, data_home)
            for seed in SEEDS:
                split = novelty_split(data.X, data.y, random_state=seed)
                yield name, "-", seed, split
        return
    for name in UEA:
        length = CT_LENGTH if name == "CharacterTrajectories" else None
        data = load_uea(name, data_home, length=length)
        for c in [str(c) for c in data.classes][:n_classes]:
            split = one_vs_rest_split(data, c)
            for seed in SEEDS:
                yield name, c, seed, split


def _metrics(y, scores, seed):
    val, ev = halves(y, seed)
    out = {}
    for half, idx in (("val", val), ("eval", ev)):
        out[f"{half}_roc_auc"] = float(roc_auc_score(y[idx], scores[idx]))
        out[f"{half}_f1"] = float(f1_at_ratio(y[idx], scores[idx]))
    return out


# -- runs ------------------------------------------------------------------
def fit_timed(params, split, seed):
    """NAFALDetector with ``params`` fitted on the split's training part, one
    thread, and the CPU seconds of its fit."""
    torch.set_num_threads(1)
    det = NAFALDetector(**{**STANDARD_NORMAL, **params}, random_state=seed)
    start = time.process_time()
    det.fit(split.X_train)
    return det, time.process_time() - start


def run_naf(params, split, seed):
    det, fit_s = fit_timed(params, split, seed)
    start = time.process_time()
    scores = det.decision_function(split.X_test)
    score_s = time.process_time() - start
    return {
        **_metrics(split.y_test, scores, seed),
        "fit_cpu_s": fit_s,
        "score_cpu_s": score_s,
    }


def combine(rule, test, train):
    """One score per sample of ``test`` by ``rule``: ``test`` and ``train``
    hold ``(nll, latent)``, the (n, K) view NLLs and halved squared latent
    norms of the test and training samples."""
    if rule == "rule_latent":
        return test[1].mean(1)
    test, train = test[0], train[0]
    if rule == "rule_mean":
        return test.mean(1)
    if rule == "rule_zmean":
        scale = train.std(0)
        scale[scale < 1e-12] = 1.0
        return ((test - train.mean(0)) / scale).mean(1)
    if rule == "rule_median":
        return np.median(test, 1)
    if rule == "rule_rank":
        ref = np.sort(train, 0)
        ranks = [
            np.searchsorted(ref[:, k], test[:, k], side="right")
            for k in range(test.shape[1])
        ]
        return np.mean(ranks, 0) / len(train)
    raise ValueError(rule)


def view_nll(det, X):
    """The fitted detector's NLL of every view of ``X`` and half the squared
    norm of the flow's latent of each (the base distribution's NLL up to a
    constant, without the flow's and extractor's log-determinants): two
    (n, K) float64 arrays."""
    flat = det._standardized(X)
    module = det.net_.module_
    module.eval()
    nll, latent = [], []
    with torch.no_grad():
        for s in range(0, len(flat), 64):
            chunk = torch.as_tensor(flat[s : s + 64], dtype=torch.float32)
            nll.append(module.view_scores(chunk).double().numpy())
            views = module.views(chunk)
            batch, K = views.shape[:2]
            k = torch.arange(K).repeat(batch)
            features = module.features(views.reshape(batch * K, *views.shape[2:]))
            z = module.flow(module.embedding(k)).transform(features)
            latent.append((0.5 * (z.double() ** 2).sum(1)).reshape(batch, K).numpy())
    return np.concatenate(nll), np.concatenate(latent)


def run_rules(params, split, seed):
    """One fit of ``params``; a row per score rule of :data:`RULES`."""
    det, fit_s = fit_timed(params, split, seed)
    start = time.process_time()
    test = view_nll(det, split.X_test)
    score_s = time.process_time() - start
    train = view_nll(det, split.X_train)
    return {
        rule: {
            **_metrics(split.y_test, combine(rule, test, train), seed),
            "fit_cpu_s": fit_s,
            "score_cpu_s": score_s,
        }
        for rule in RULES
    }


def tail_scores(A, B):
    """Per-feature tails (the idea of ECOD, Li et al. 2022): for each feature,
    minus the log of the smaller of the two empirical tail probabilities of
    ``B``'s values among ``A``'s (add-one smoothed), summed over features."""
    n = len(A)
    ref = np.sort(A, 0)
    out = np.zeros(len(B))
    for j in range(A.shape[1]):
        below = np.searchsorted(ref[:, j], B[:, j], side="right")
        above = n - np.searchsorted(ref[:, j], B[:, j], side="left")
        out -= np.log((np.minimum(below, above) + 1) / (n + 2))
    return out


def fuse(test, train, weights):
    """Sum of ``weights[name]`` times each score of ``test`` standardised by
    the mean and deviation of the same score of the training samples."""
    total = 0.0
    for name, w in weights.items():
        scale = train[name].std()
        total = total + w * (test[name] - train[name].mean()) / (scale or 1.0)
    return total


def run_fusion(params, split, seed):
    """One fit of ``params``; a row per fusion of :data:`FUSIONS`."""
    from sklearn.ensemble import IsolationForest

    det, fit_s = fit_timed(params, split, seed)
    start = time.process_time()
    test = {"naf": det.decision_function(split.X_test)}
    score_s = time.process_time() - start
    train = {"naf": det.decision_function(split.X_train)}
    A, B = standardized(split.X_train, split.X_test)  # the baselines' inputs
    forest = IsolationForest(random_state=seed).fit(A)
    test["iforest"] = -forest.score_samples(B)
    train["iforest"] = -forest.score_samples(A)
    test["tails"], train["tails"] = tail_scores(A, B), tail_scores(A, A)
    return {
        name: {
            **_metrics(split.y_test, fuse(test, train, weights), seed),
            "fit_cpu_s": fit_s,
            "score_cpu_s": score_s,  # NAF's alone
        }
        for name, (_, weights) in FUSIONS.items()
    }


def run_baselines(split, seed):
    out = {}
    start = time.process_time()
    for name, scores in baseline_scores(split.X_train, split.X_test, seed).items():
        for k, v in _metrics(split.y_test, scores, seed).items():
            out[f"{name} {k}"] = v
    out["cpu_s"] = time.process_time() - start
    return out


def _key(variant, dataset, task, seed, params):
    return json.dumps([variant, dataset, task, seed, params], sort_keys=True)


def load_records(path=OUT):
    return list(ResultStore(path))


def run(variants, n_classes, out=OUT, data_home=None):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out)
    done = set(store.done)
    host = machine()
    for variant in ["baselines", *variants]:
        if variant == "baselines":
            factor, changes, parts = "baselines", {}, ("odds", "uea", "heldout")
        else:
            factor, changes, parts = VARIANTS[variant]
        params = {**BASE, **changes}
        for part in parts:
            for name, task, seed, split in tasks(part, n_classes, data_home):
                names = list(FAMILIES.get(variant, [variant]))
                keys = {
                    v: _key(v, name, task, seed, {} if v == "baselines" else params)
                    for v in names
                }
                if all(k in done for k in keys.values()):
                    continue
                start = time.perf_counter()
                if variant == "baselines":
                    rows = {variant: run_baselines(split, seed)}
                elif variant == "rules":
                    rows = run_rules(params, split, seed)
                elif variant == "fusion":
                    rows = run_fusion(params, split, seed)
                else:
                    rows = {variant: run_naf(params, split, seed)}
                wall = time.perf_counter() - start
                for v, row in rows.items():
                    if keys[v] in done:  # a rule added since: only it is new
                        continue
                    row.update(
                        key=keys[v],
                        variant=v,
                        factor=factor,
                        params=params,
                        part=part,
                        dataset=name,
                        task=task,
                        seed=seed,
                        n_train=len(split.X_train),
                        n_test=len(split.X_test),
                        wall_s=wall,
                        machine=host,
                    )
                    store.add(row)
                    done.add(keys[v])
                    print(
                        f"{v:>10} {name:>22} {task:>12} seed {seed}: "
                        + (
                            f"val AUC {row['val_roc_auc']:.3f} F1 {row['val_f1']:.3f} "
                            f"fit {row['fit_cpu_s']:.1f} s"
                            if v != "baselines"
                            else f"{row['cpu_s']:.1f} s"
                        ),
                        flush=True,
                    )


# -- report ----------------------------------------------------------------
def summarize(records):
    """{(method, dataset): {metric: mean over seeds of the mean over tasks}}."""
    table = {}
    groups = {}
    for r in records:
        if r["variant"] == "baselines":
            for b in BASELINES:
                groups.setdefault((b, r["dataset"]), []).append((r, f"{b} "))
        else:
            groups.setdefault((r["variant"], r["dataset"]), []).append((r, ""))
    for (method, dataset), rows in groups.items():
        cell = {}
        for half in ("val", "eval"):
            for metric in METRICS:
                per_seed = []
                for seed in SEEDS:
                    vals = [
                        r[f"{prefix}{half}_{metric}"]
                        for r, prefix in rows
                        if r["seed"] == seed
                    ]
                    if vals:
                        per_seed.append(100 * float(np.mean(vals)))
                cell[f"{half}_{metric}"] = float(np.mean(per_seed))
        cell["n"] = len(rows)
        if method not in BASELINES:
            cell["fit_cpu_s"] = float(np.mean([r["fit_cpu_s"] for r, _ in rows]))
            cell["score_cpu_s"] = float(np.mean([r["score_cpu_s"] for r, _ in rows]))
        table[(method, dataset)] = cell
    return table


def _label(method):
    if method in BASELINES:
        return method
    if method in RULES:
        return f"{method} (defaults; score: {RULES[method]})"
    if method == "tails":
        return f"tails ({FUSIONS[method][0]})"
    if method in FUSIONS:
        return f"{method} (NAFALDetector() {FUSIONS[method][0]})"
    factor, changes, _ = VARIANTS[method]
    # "defaults" are those before the mixture base, the standard normal's
    if method == "defaults":
        return "defaults (base_components=0)"
    if method not in ("cand200",) and DEFAULT.items() <= changes.items():
        extra = {k: v for k, v in changes.items() if k not in DEFAULT}
        what = "".join(f", {k}={v}" for k, v in extra.items())
        if method == "mixauto":
            what += ": NAFALDetector()"
        return f"{method} (defaults{what})"
    what = ", ".join(f"{k}={v}" for k, v in changes.items()) or "base"
    return f"{method} ({what})"


def tables(records, fmt="markdown"):
    summary = summarize(records)
    methods = [m for m in (*BASELINES, *ROWS) if any(k[0] == m for k in summary)]
    out = []
    for part, names, metric in (
        ("odds", ODDS, "f1"),
        ("odds", ODDS, "roc_auc"),
        ("uea", UEA, "roc_auc"),
        ("heldout", HELDOUT, "f1"),
        ("heldout", HELDOUT, "roc_auc"),
    ):
        for half in ("val", "eval"):
            header = [
                "setting",
                *(UEA_SHORT.get(n, n) for n in names),
                "fit s",
                "score s",
                "runs",
            ]
            rows = []
            for m in methods:
                cells = [summary.get((m, n)) for n in names]
                if not any(cells):
                    continue
                fit = [c["fit_cpu_s"] for c in cells if c and "fit_cpu_s" in c]
                score = [c["score_cpu_s"] for c in cells if c and "score_cpu_s" in c]
                rows.append(
                    [
                        _label(m),
                        *(f"{c[f'{half}_{metric}']:.1f}" if c else "" for c in cells),
                        f"{np.mean(fit):.1f}" if fit else "",
                        f"{np.mean(score):.1f}" if score else "",
                        str(sum(c["n"] for c in cells if c)),
                    ]
                )
            name = "F1" if metric == "f1" else "ROC AUC"
            which = "validation" if half == "val" else "evaluation"
            label = {"odds": "ODDS", "uea": "UEA one-vs-rest", "heldout": "held-out"}
            title = f"{label[part]}: {name} (%), {which} halves, mean over 3 seeds"
            out.append(render_table(header, rows, fmt, title=title))
    hosts = ", ".join(dict.fromkeys(r["machine"] for r in records))
    return f"Measured on {hosts}.\n\n" + "\n\n".join(out)


# -- spread over the methods' own random draws ------------------------------------
def spread(out, n_iforest=10, n_naf=4):
    """ODDS figures of IsolationForest and ``NAFALDetector()`` over their own
    random draws, on the same splits and halves.

    Draw ``r`` uses ``random_state = seed + 100 * r`` (``r = 0`` is the
    ablation's run); the split and the halves stay those of ``seed``. Writes
    ``{method: {dataset: {"val_f1": [per draw], ...}}}`` as JSON, each entry
    the mean over the 3 seeds of one draw.
    """
    from sklearn.ensemble import IsolationForest

    torch.set_num_threads(1)
    rows = {}
    for name, _, seed, split in tasks("odds", 1):
        train, test = standardized(split.X_train, split.X_test)
        for r in range(n_iforest):
            model = IsolationForest(random_state=seed + 100 * r).fit(train)
            scores = -model.decision_function(test)
            rows.setdefault(("IForest", name, r), []).append(
                _metrics(split.y_test, scores, seed)
            )
        for r in range(n_naf):
            # measured with the standard normal base, the default then
            det = NAFALDetector(**STANDARD_NORMAL, random_state=seed + 100 * r)
            det.fit(split.X_train)
            scores = det.decision_function(split.X_test)
            rows.setdefault(("NAFALDetector()", name, r), []).append(
                _metrics(split.y_test, scores, seed)
            )
            print(f"{name} seed {seed} draw {r}", flush=True)
    result = {"machine": machine(), "draws": {}}
    for (method, name, _r), per_seed in rows.items():
        cell = result["draws"].setdefault(method, {}).setdefault(name, {})
        for key in per_seed[0]:
            cell.setdefault(key, []).append(
                100 * float(np.mean([m[key] for m in per_seed]))
            )
    Path(out).write_text(json.dumps(result, indent=1) + "\n")
    return result


def spread_table(result, fmt="markdown"):
    header = ["method, figure", *ODDS]
    body = []
    for method, cells in result["draws"].items():
        for key, what in (
            ("val_f1", "F1 validation"),
            ("eval_f1", "F1 evaluation"),
            ("val_roc_auc", "ROC AUC validation"),
        ):
            row = [f"{method}, {what} ({len(cells[ODDS[0]][key])} draws)"]
            for name in ODDS:
                v = cells[name][key]
                row.append(f"{min(v):.1f}-{max(v):.1f} (mean {np.mean(v):.1f})")
            body.append(row)
    title = (
        "ODDS over the methods' own random draws: lowest-highest (mean) over "
        f"draws of the mean over 3 seeds ({result['machine']})"
    )
    return render_table(header, body, fmt, title=title)


# -- speed of the defaults -----------------------------------------------------
def speed(out):
    """Fit and score CPU seconds of ``NAFALDetector()`` and the baselines.

    One task per data set (ODDS: the seed-0 split; UEA: the first class
    normal), and cardio fitted on all its 1,655 normal samples (the 30 s
    target of the speed issue). One thread, ``random_state=0``.
    """
    torch.set_num_threads(1)
    cases = []
    cardio = load_odds("cardio")
    cases.append(("cardio, all normals", cardio.X[cardio.y == 0], cardio.X))
    for name, _, seed, split in tasks("odds", 1):
        if seed == 0:
            cases.append((name, split.X_train, split.X_test))
    for name, task, seed, split in tasks("uea", 1):
        if seed == 0:
            cases.append((f"{name} ({task})", split.X_train, split.X_test))
    rows = []
    for name, X_train, X_test in cases:
        det = NAFALDetector(random_state=0)
        start = time.process_time()
        det.fit(X_train)
        fit_s = time.process_time() - start
        start = time.process_time()
        det.decision_function(X_test)
        score_s = time.process_time() - start
        timings = {}
        baseline_scores(X_train, X_test, 0, timings)
        row = {
            "case": name,
            "n_train": len(X_train),
            "n_test": len(X_test),
            "NAFALDetector()": (fit_s, score_s),
            **timings,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {
        "machine": machine(),
        "params": NAFALDetector().get_params(),
        "rows": rows,
    }
    Path(out).write_text(json.dumps(result, indent=1) + "\n")
    return result


def speed_table(result, fmt="markdown"):
    methods = ("NAFALDetector()", *BASELINES)
    header = ["case", "n train / test", *(f"{m} fit / score s" for m in methods)]
    body = [
        [
            r["case"],
            f"{r['n_train']} / {r['n_test']}",
            *(f"{r[m][0]:.2f} / {r[m][1]:.2f}" for m in methods),
        ]
        for r in result["rows"]
    ]
    title = f"CPU seconds at the defaults, one thread ({result['machine']})"
    return render_table(header, body, fmt, title=title)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", nargs="+", default=ORDER, choices=ORDER)
    parser.add_argument("--classes", type=int, default=2)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--rst", default=None, help="write the tables as RST here")
    parser.add_argument(
        "--speed",
        nargs="?",
        const=str(OUT.with_name("naf_speed.json")),
        default=None,
        metavar="JSON",
        help="time NAFALDetector() and the baselines (writes JSON; with "
        "--report, print its table)",
    )
    parser.add_argument(
        "--spread",
        nargs="?",
        const=str(OUT.with_name("naf_spread.json")),
        default=None,
        metavar="JSON",
        help="ODDS figures of IsolationForest (10 draws) and NAFALDetector() "
        "(4 draws) over their own random_state (writes JSON; with --report, "
        "print its table)",
    )
    args = parser.parse_args(argv)
    # the side studies: measure into their JSON, or (--report) print its table
    for path, measure, table in (
        (args.spread, spread, spread_table),
        (args.speed, speed, speed_table),
    ):
        if not path:
            continue
        if not args.report:
            measure(path)
            return 0
        result = json.loads(Path(path).read_text())
        print(table(result))
        if args.rst:
            Path(args.rst).write_text(table(result, "rst") + "\n")
        return 0
    if args.classes < 1:
        parser.error(f"--classes must be >= 1, got {args.classes}")
    if args.report:
        records = load_records(args.out)
        if not records:
            parser.error(f"no records in {args.out}")
        print(tables(records))
        if args.rst:
            Path(args.rst).write_text(tables(records, "rst") + "\n")
        return 0
    run(args.variants, args.classes, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
