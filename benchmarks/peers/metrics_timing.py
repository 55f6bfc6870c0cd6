"""Time TSB-AD 1.5's range-based metrics for ``benchmarks/metrics_speed.py --range``.

Runs in the reference environment (``benchmarks/peers/make_metrics_env.sh``):
reads labels and scores from an ``.npz`` and a JSON list of tasks, times each
task once (they take seconds to minutes) and writes seconds and values as
JSON. Usage::

    benchmarks/.venv-metrics/bin/python benchmarks/peers/metrics_timing.py \\
        DATA.npz TASKS.json OUT.json
"""

import json
import resource
import sys
import time
import warnings
from importlib import metadata

import numpy as np
from TSB_AD.evaluation.affiliation.generics import convert_vector_to_events
from TSB_AD.evaluation.affiliation.metrics import pr_from_events
from TSB_AD.evaluation.basic_metrics import basic_metricor


def affiliation_one(y, s, threshold):
    pred = (s > threshold).astype(int)
    out = pr_from_events(
        convert_vector_to_events(pred), convert_vector_to_events(y), (0, len(y))
    )
    p, r = out["Affiliation_Precision"], out["Affiliation_Recall"]
    return 2 * p * r / (p + r)


def main(data_path, tasks_path, out_path):
    warnings.filterwarnings("ignore", message="Precision is ill-defined")
    data = np.load(data_path)
    tasks = json.loads(open(tasks_path).read())
    grader = basic_metricor()
    results = []
    for task in tasks:
        y = data[f"y_{task['data']}"].astype(int)
        s = data[f"s_{task['data']}"].astype(float)
        fn = task["fn"]
        if fn == "vus_pr":
            W = task["window"]

            def call(y=y, s=s, W=W):
                return grader.RangeAUC_volume_opt(y, s, W, thre=250)[5]
        elif fn == "affiliation_f1":

            def call(y=y, s=s):
                return grader.metric_Affiliation(y, s)
        elif fn == "affiliation_one":

            def call(y=y, s=s, t=task["threshold"]):
                return affiliation_one(y, s, t)
        elif fn == "range_f1":

            def call(y=y, s=s):
                return grader.metric_RF1(y, s)
        elif fn == "composite_f1":

            def call(y=y, s=s):
                return grader.metric_EventF1PA(y, s)
        else:
            raise ValueError(f"unknown task {fn!r}")
        start = time.perf_counter()
        value = float(call())
        seconds = time.perf_counter() - start
        results.append(dict(task, seconds=seconds, value=value))
        print(f"TSB-AD {task['label']:<44} {seconds:9.3f} s", flush=True)
    versions = {d: metadata.version(d) for d in ("TSB-AD", "numpy", "scikit-learn")}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(out_path, "w") as f:
        json.dump(dict(versions=versions, peak_rss_mb=peak, results=results), f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
