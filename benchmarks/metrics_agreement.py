"""Agreement of alad's range-based metrics with TSB-AD 1.5 and prts.

Scores the package has not seen in its tests:

- real: an :class:`~sklearn.ensemble.IsolationForest` (100 trees,
  ``random_state=0``) fitted on the training part of GECCO and of eight MSL
  entities, scoring their test parts;
- random: labels with segments at both ends, one-point segments and dense
  segments, scores with many ties (3 or 10 levels) or none, buffer widths
  from 0 to 100.

For each case the reference environment (``benchmarks/peers``; made by
``make_metrics_env.sh`` when missing) computes, in its own process, TSB-AD's
``get_metrics(score, labels, slidingWindow=L)`` (VUS-PR, VUS-ROC, AUC-ROC,
AUC-PR and the oracle ``R-based-F1``, ``Affiliation-F`` and
``Event-based-F1``), its ``RangeAUC_volume_opt`` (the surface at the largest
width), its separate ``RangeAUC``, and, for predictions ``score > t`` at
three quantiles ``t``, TSB-AD's range precision and recall, the affiliation
authors' ``pr_from_events`` (vendored in TSB-AD) and prts's
``ts_precision`` / ``ts_recall`` for 16 combinations of existence weight,
cardinality and positional bias. The two environments exchange only files.

Usage, from the repository root::

    ALAD_DATA_HOME=/work/shared/datasets .venv/bin/python \\
        benchmarks/metrics_agreement.py \\
        --out benchmarks/results/metrics_agreement.json \\
        --rst docs/results/metrics_agreement.inc
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from alad import metrics as am

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_PYTHON = ROOT / "benchmarks" / ".venv-metrics" / "bin" / "python"
MSL_ENTITIES = ["C-1", "C-2", "D-14", "F-7", "F-8", "P-11", "T-13", "T-9"]
TOLERANCE = 1e-9


# --------------------------------------------------------------------------- #
# Cases
# --------------------------------------------------------------------------- #


def forest_scores(X_train, X_test):
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=100, random_state=0).fit(X_train)
    return -forest.score_samples(X_test)  # higher = more anomalous


def real_cases():
    from alad.datasets import load_gecco, load_msl

    data = load_gecco()
    yield "GECCO test", data.y_test, forest_scores(data.X_train, data.X_test)
    for entity in MSL_ENTITIES:
        d = load_msl(entity)
        yield f"MSL {entity}", d.y_test, forest_scores(d.X_train, d.X_test)


def random_cases(n_cases, seed):
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        n = int(rng.integers(40, 3000))
        y = np.zeros(n, dtype=np.int64)
        kind = k % 5
        n_seg = int(rng.integers(1, 12))
        for _ in range(n_seg):
            start = int(rng.integers(0, n))
            length = 1 if kind == 1 else int(rng.integers(1, max(2, n // 20)))
            y[start : start + length] = 1
        if kind in (0, 2):
            y[: int(rng.integers(1, 6))] = 1  # a segment at the start
        if kind in (0, 3):
            y[-int(rng.integers(1, 6)) :] = 1  # a segment at the end
        if kind == 4:
            y[-1], y[-2] = 1, 0  # a one-point segment at the end
        if y.all():
            y[n // 2] = 0
        levels = [3, 10, 0][k % 3]
        if levels:
            s = rng.integers(0, levels, n).astype(float)
        else:
            s = rng.normal(size=n) + y * rng.uniform(0, 2)
        window = int([0, 1, 2, 5, 17, 100][k % 6])
        yield f"random {k} (n={n}, L={window})", y, s, window


def build(n_random, seed):
    cases = []
    for name, y, s in real_cases():
        cases.append(dict(name=name, y=y, s=s, window=100, prts=True, real=True))
    for name, y, s, window in random_cases(n_random, seed):
        cases.append(dict(name=name, y=y, s=s, window=window, prts=True, real=False))
    for case in cases:
        q = [0.5, 0.9, 0.99] if case["real"] else [0.3, 0.6, 0.9]
        case["thresholds"] = [float(v) for v in np.quantile(case["s"], q)]
        case["vus"] = case["grid"] = True
    return cases


# --------------------------------------------------------------------------- #
# Reference run
# --------------------------------------------------------------------------- #


def run_reference(cases, python):
    if not Path(python).exists():
        print(f"{python} missing: making the reference environment", flush=True)
        subprocess.run(
            ["bash", str(ROOT / "benchmarks/peers/make_metrics_env.sh")], check=True
        )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.savez(
            tmp / "cases.npz",
            **{f"y{k}": c["y"] for k, c in enumerate(cases)},
            **{f"s{k}": c["s"] for k, c in enumerate(cases)},
        )
        spec = [
            {k: c[k] for k in ("name", "window", "vus", "grid", "prts", "thresholds")}
            for c in cases
        ]
        (tmp / "spec.json").write_text(json.dumps(spec))
        subprocess.run(
            [
                str(python),
                str(ROOT / "benchmarks/peers/metrics_reference.py"),
                str(tmp / "cases.npz"),
                str(tmp / "spec.json"),
                str(tmp / "out.json"),
            ],
            check=True,
        )
        return json.loads((tmp / "out.json").read_text())


# --------------------------------------------------------------------------- #
# TSB-AD's Event-based-F1 with its end-of-series event, to show the cause
# --------------------------------------------------------------------------- #


def tsb_event_f1_emulated(y, s):
    """Composite F1 on TSB-AD's grid with the last event ending at n - 2.

    TSB-AD's ``_get_events`` closes an event still open at the end of the
    series at ``tim - 1`` where ``tim`` is the last index, so that event
    loses its last point (and a one-point event there becomes empty). This
    redoes alad's composite F1 with that one change.
    """
    y = np.asarray(y).astype(bool)
    edges = np.diff(np.r_[0, y.astype(int), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    if y[-1]:
        ends[-1] = len(y) - 2
    best = 0.0
    for t in np.linspace(s.min(), s.max(), 100):
        pred = s > t
        hit = [pred[a : b + 1].any() for a, b in zip(starts, ends, strict=True)]
        recall = float(np.mean(hit))
        n_pred = int(pred.sum())
        precision = float((pred & y).sum()) / n_pred if n_pred else 0.0
        f1 = 2 * recall * precision / (recall + precision + 1e-15)
        best = max(best, f1)
    return best


# --------------------------------------------------------------------------- #
# Comparison
# --------------------------------------------------------------------------- #


def compare(cases, ref):
    rows = {}  # metric -> list of (case, alad, reference, note)

    def add(metric, case, ours, theirs, note=""):
        rows.setdefault(metric, []).append(
            dict(case=case, alad=float(ours), reference=float(theirs), note=note)
        )

    def add_or_error(metric, case, ours, r, key):
        if key in r:
            add(metric, case, ours, r[key])
        else:  # the reference raised; keep its error
            add(metric, case, ours, float("nan"), r.get("RangeAUC_error", ""))

    alad_seconds = {}
    for case, r in zip(cases, ref["cases"], strict=True):
        y, s, W, name = case["y"], case["s"], case["window"], case["name"]
        t0 = time.perf_counter()
        kw = dict(sliding_window=W)
        g = r["get_metrics"]
        add("vus_pr vs get_metrics VUS-PR", name, am.vus_pr(y, s, **kw), g["VUS-PR"])
        add(
            "vus_roc vs get_metrics VUS-ROC", name, am.vus_roc(y, s, **kw), g["VUS-ROC"]
        )
        add(
            "vus_pr vs RangeAUC_volume_opt (mean over widths)",
            name,
            am.vus_pr(y, s, **kw),
            r["vus_pr"],
        )
        add(
            "range_auc_pr vs RangeAUC_volume_opt at width L",
            name,
            am.range_auc_pr(y, s, **kw),
            r["range_auc_pr"],
        )
        add(
            "range_auc_roc vs RangeAUC_volume_opt at width L",
            name,
            am.range_auc_roc(y, s, **kw),
            r["range_auc_roc"],
        )
        add_or_error(
            "range_auc_pr vs TSB-AD RangeAUC (separate function)",
            name,
            am.range_auc_pr(y, s, **kw),
            r,
            "RangeAUC_pr",
        )
        add_or_error(
            "range_auc_roc vs TSB-AD RangeAUC (separate function)",
            name,
            am.range_auc_roc(y, s, **kw),
            r,
            "RangeAUC_roc",
        )
        add("roc_auc vs get_metrics AUC-ROC", name, am.roc_auc(y, s), g["AUC-ROC"])
        add(
            "average_precision vs get_metrics AUC-PR",
            name,
            am.average_precision(y, s),
            g["AUC-PR"],
        )
        add(
            "range_f1 vs get_metrics R-based-F1",
            name,
            am.range_f1(y, s),
            g["R-based-F1"],
        )
        add(
            "affiliation_f1 vs get_metrics Affiliation-F",
            name,
            am.affiliation_f1(y, s),
            g["Affiliation-F"],
        )
        ours = am.composite_f1(y, s)
        note = ""
        if abs(ours - g["Event-based-F1"]) > TOLERANCE:
            emulated = tsb_event_f1_emulated(y, s)
            note = (
                f"last event ends at n-1 (y[-1] = {int(y[-1])}); alad with "
                f"TSB-AD's end event gives {emulated:.12f}, "
                f"|diff| to TSB-AD {abs(emulated - g['Event-based-F1']):.1e}"
            )
        add(
            "composite_f1 vs get_metrics Event-based-F1",
            name,
            ours,
            g["Event-based-F1"],
            note,
        )
        for row in r["predictions"]:
            if "tsb_range" not in row:
                continue
            pred = (s > row["threshold"]).astype(int)
            p, rec = am.range_precision_recall(y, pred)
            tag = f"{name}, t=q"
            add(
                "range precision vs TSB-AD (alpha 0.2, flat)",
                tag,
                p,
                row["tsb_range"][0],
            )
            add(
                "range recall vs TSB-AD (alpha 0.2, flat)",
                tag,
                rec,
                row["tsb_range"][1],
            )
            p, rec = am.affiliation_precision_recall(y, pred)
            add(
                "affiliation precision vs pr_from_events",
                tag,
                p,
                row["tsb_affiliation"][0],
            )
            add(
                "affiliation recall vs pr_from_events",
                tag,
                rec,
                row["tsb_affiliation"][1],
            )
            for (alpha, card, bias), (pp, rr) in zip(
                ref["prts_params"], row.get("prts", []), strict=False
            ):
                p, rec = am.range_precision_recall(
                    y, pred, alpha=alpha, cardinality=card, bias=bias
                )
                add("range precision vs prts (16 settings)", tag, p, pp)
                add("range recall vs prts (16 settings)", tag, rec, rr)
        alad_seconds[name] = time.perf_counter() - t0
    return rows, alad_seconds


WHY = {
    "range_auc_pr vs TSB-AD RangeAUC (separate function)": (
        "RangeAUC is not what get_metrics uses: it buffers from the segment's "
        "last point (x1 = arange(e, ...)) instead of the point after it, and "
        "finds ranges with np.diff(labels) == 1 on the soft labels, so a "
        "buffered range is not found as one (and when none is found it "
        "divides by zero: ZeroDivisionError)"
    ),
    "range_auc_roc vs TSB-AD RangeAUC (separate function)": "as above",
    "composite_f1 vs get_metrics Event-based-F1": (
        "TSB-AD's _get_events ends an event that reaches the end of the series "
        "at n - 2 (a reference bug): its last point does not count; the note "
        "gives alad's value with that change"
    ),
}


def summarise(rows):
    summary = []
    for metric, items in rows.items():
        ok = [i for i in items if np.isfinite(i["reference"])]
        failed = [i for i in items if not np.isfinite(i["reference"])]
        diffs = np.array([abs(i["alad"] - i["reference"]) for i in ok] or [0.0])
        real = [
            abs(i["alad"] - i["reference"])
            for i in ok
            if i["case"].startswith(("GECCO", "MSL"))
        ]
        bad = [i for i in ok if abs(i["alad"] - i["reference"]) > TOLERANCE]
        summary.append(
            dict(
                metric=metric,
                comparisons=len(items),
                max_abs_diff=float(diffs.max()),
                max_abs_diff_real=float(max(real, default=0.0)),
                above_tolerance=len(bad),
                reference_failed=len(failed),
                why=WHY.get(metric, "") if bad or failed else "",
                examples=(bad + failed)[:4],
            )
        )
    return summary


def rst(summary, versions):
    lines = [
        ".. list-table:: Largest absolute difference, alad minus reference "
        f"(TSB-AD {versions['TSB-AD']}, prts {versions['prts']})",
        "   :header-rows: 1",
        "",
        "   * - comparison",
        "     - values compared",
        "     - max abs diff, all",
        "     - max abs diff, real scores",
        f"     - above {TOLERANCE:g}",
        "     - reference raised",
    ]
    for row in summary:
        lines += [
            f"   * - {row['metric']}",
            f"     - {row['comparisons']}",
            f"     - {row['max_abs_diff']:.1e}",
            f"     - {row['max_abs_diff_real']:.1e}",
            f"     - {row['above_tolerance']}",
            f"     - {row['reference_failed']}",
        ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-random", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference-python", type=Path, default=REFERENCE_PYTHON)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--rst", type=Path, default=None)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    cases = build(args.n_random, args.seed)
    print(f"{len(cases)} cases in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    ref = run_reference(cases, args.reference_python)
    ref_seconds = time.perf_counter() - t0
    rows, alad_seconds = compare(cases, ref)
    summary = summarise(rows)

    print()
    print(
        f"{'comparison':<56} {'n':>5} {'max |diff|':>11} {'real':>9} "
        f"{'>1e-9':>6} {'raised':>6}"
    )
    for row in summary:
        print(
            f"{row['metric']:<56} {row['comparisons']:>5} "
            f"{row['max_abs_diff']:11.1e} {row['max_abs_diff_real']:9.1e} "
            f"{row['above_tolerance']:>6} {row['reference_failed']:>6}"
        )
        for ex in row["examples"]:
            print(
                f"    {ex['case']}: alad {ex['alad']:.6f}, reference "
                f"{ex['reference']:.6f} {ex['note']}"
            )
        if row["why"]:
            print(f"    why: {row['why']}")
    print(
        f"\nreference run {ref_seconds:.1f} s, alad {sum(alad_seconds.values()):.1f} s"
    )

    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(
                dict(
                    versions=ref["versions"],
                    python=sys.version.split()[0],
                    numpy=np.__version__,
                    tolerance=TOLERANCE,
                    cases=[
                        dict(
                            name=c["name"],
                            n=int(c["y"].size),
                            segments=int(np.sum(np.diff(np.r_[0, c["y"]]) == 1)),
                            window=c["window"],
                        )
                        for c in cases
                    ],
                    summary=summary,
                    reference_seconds={c["name"]: c["seconds"] for c in ref["cases"]},
                    alad_seconds=alad_seconds,
                ),
                indent=1,
            )
            + "\n"
        )
        print(f"wrote {args.out}")
    if args.rst:
        args.rst.parent.mkdir(parents=True, exist_ok=True)
        args.rst.write_text(rst(summary, ref["versions"]))
        print(f"wrote {args.rst}")


if __name__ == "__main__":
    main()
