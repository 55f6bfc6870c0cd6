"""Reference values of the range-based metrics, from TSB-AD 1.5 and prts.

For each case: TSB-AD's ``get_metrics(score, labels, slidingWindow=L)`` (the
leaderboard's function), its ``RangeAUC_volume_opt`` for the surface at width
``L`` and its separate ``RangeAUC``, and for a few predictions its range and
affiliation precision and recall and prts's.

Runs in the reference environment (``benchmarks/peers/make_metrics_env.sh``),
never in alad's: it reads the cases written by
``benchmarks/metrics_agreement.py`` (an ``.npz`` of labels and scores and a
JSON list saying what to compute for each) and writes the reference values as
JSON. Usage::

    benchmarks/.venv-metrics/bin/python benchmarks/peers/metrics_reference.py \\
        CASES.npz SPEC.json OUT.json
"""

import json
import sys
import time
import warnings
from importlib import metadata

import numpy as np
from prts import ts_precision, ts_recall
from TSB_AD.evaluation.affiliation.generics import convert_vector_to_events
from TSB_AD.evaluation.affiliation.metrics import pr_from_events
from TSB_AD.evaluation.basic_metrics import basic_metricor
from TSB_AD.evaluation.metrics import get_metrics

PRTS_PARAMS = [
    (alpha, cardinality, bias)
    for alpha in (0.0, 0.2)
    for cardinality in ("one", "reciprocal")
    for bias in ("flat", "front", "middle", "back")
]


def surface_at(tpr, fpr, prec):
    """AUC and AP of one width from the arrays RangeAUC_volume_opt returns."""
    auc = float(np.dot(np.diff(fpr), (tpr[1:] + tpr[:-1]) / 2))
    ap = float(np.dot(tpr[1:-1] - tpr[:-2], prec[1:]))
    return auc, ap


def main(cases_path, spec_path, out_path):
    # sklearn's precision_score warns at TSB-AD's top threshold (no prediction)
    warnings.filterwarnings("ignore", message="Precision is ill-defined")
    data = np.load(cases_path)
    spec = json.loads(open(spec_path).read())
    grader = basic_metricor()
    out = {
        "versions": {d: metadata.version(d) for d in ("TSB-AD", "prts", "numpy")},
        "cases": [],
    }
    for k, case in enumerate(spec):
        y = data[f"y{k}"].astype(int)
        s = data[f"s{k}"].astype(float)
        res = {"name": case["name"], "seconds": {}}
        W = case["window"]
        if case.get("vus"):
            t0 = time.perf_counter()
            tpr, fpr, prec, _, vus_roc, vus_pr = grader.RangeAUC_volume_opt(
                labels_original=y, score=s, windowSize=W, thre=250
            )
            res["seconds"]["vus"] = time.perf_counter() - t0
            res["vus_pr"], res["vus_roc"] = float(vus_pr), float(vus_roc)
            res["range_auc_roc"], res["range_auc_pr"] = surface_at(
                tpr[W], fpr[W], prec[W]
            )
            try:
                auc, ap, *_ = grader.RangeAUC(y, s, window=W, plot_ROC=True)
                res["RangeAUC_roc"], res["RangeAUC_pr"] = float(auc), float(ap)
            except Exception as error:  # noqa: BLE001 - recorded, then shown
                res["RangeAUC_error"] = f"{type(error).__name__}: {error}"
        if case.get("grid"):
            t0 = time.perf_counter()
            res["get_metrics"] = {
                k: float(v) for k, v in get_metrics(s, y, slidingWindow=W).items()
            }
            res["seconds"]["get_metrics"] = time.perf_counter() - t0
        preds = []
        for t in case.get("thresholds", []):
            pred = (s > t).astype(int)
            row = {"threshold": t}
            if pred.any():
                r, _, _ = grader.range_recall_new(y, pred, 0.2)
                p = grader.range_recall_new(pred, y, 0)[0]
                row["tsb_range"] = [float(p), float(r)]
                aff = pr_from_events(
                    convert_vector_to_events(pred),
                    convert_vector_to_events(y),
                    (0, len(y)),
                )
                row["tsb_affiliation"] = [
                    float(aff["Affiliation_Precision"]),
                    float(aff["Affiliation_Recall"]),
                ]
                if case.get("prts"):
                    row["prts"] = [
                        [
                            float(ts_precision(y, pred, 0.0, c, b)),
                            float(ts_recall(y, pred, a, c, b)),
                        ]
                        for a, c, b in PRTS_PARAMS
                    ]
            preds.append(row)
        res["predictions"] = preds
        out["cases"].append(res)
        print(f"reference: {case['name']} done", flush=True)
    out["prts_params"] = PRTS_PARAMS
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
