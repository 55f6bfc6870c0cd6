"""Fit and scoring throughput and peak memory of NAFALDetector on real data.

One fresh subprocess per case, so that each peak resident set size
(:func:`alad.experiments.machine.peak_rss_mb`) is its own, counted from
after the imports. Cases: cardio
(ODDS, tabular: 827 training samples of 21 features, the Table 1 split) and
Epilepsy (UEA, one-vs-rest with the first class normal: whole series), at
the settings of ``alad benchmark --protocol nafal`` (64 and 32
transformations, 8 views per step) with 20 epochs, no augmentation
(``n_iterations=0``), then ``augment(1)``: one round of Algorithm 1.

Usage::

    ALAD_DATA_HOME=../shared/datasets python benchmarks/nafal_throughput.py \\
        --out benchmarks/results/nafal_throughput.json
    ... --eval-batch-size 32 --out benchmarks/results/nafal_throughput_eval32.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from alad.experiments.machine import peak_rss_mb  # noqa: E402
from alad.experiments.store import write_json  # noqa: E402

CASES = ("cardio", "Epilepsy")


def run_case(case: str, eval_batch_size: int = 256) -> dict:
    import numpy as np
    import torch

    from alad import NAFALDetector
    from alad.datasets import load_odds, load_uea, novelty_split, one_vs_rest_split
    from alad.experiments.nafal import PINNED

    torch.set_num_threads(1)
    if case == "cardio":
        data = load_odds("cardio")
        split = novelty_split(data.X, data.y, random_state=0)
        n_transforms = 64
    else:
        data = load_uea("Epilepsy")
        split = one_vs_rest_split(data, str(data.classes[0]))
        n_transforms = 32
    X_train, X_test = split.X_train, split.X_test
    baseline = peak_rss_mb()
    det = NAFALDetector(
        **PINNED,  # the model measured in docs/benchmarks.rst (dense extractor)
        n_transforms=n_transforms,
        train_views=8,
        batch_size=64,
        eval_batch_size=eval_batch_size,
        max_epochs=20,
        n_iterations=0,
        random_state=0,
    )
    # the peak only grows: read after each step, it says which step raised it
    start = time.process_time()
    det.fit(X_train)
    fit_cpu = time.process_time() - start
    peak_fit = peak_rss_mb() - baseline
    start = time.process_time()
    scores = det.decision_function(X_test)
    score_cpu = time.process_time() - start
    peak_score = peak_rss_mb() - baseline
    start = time.process_time()
    det.augment(1)
    augment_cpu = time.process_time() - start
    assert np.isfinite(scores).all()
    return {
        "case": case,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "sample_shape": list(np.shape(X_train)[1:]),
        "n_transforms": n_transforms,
        "eval_batch_size": eval_batch_size,
        "fit_cpu_s": fit_cpu,
        "train_samples_per_cpu_s": 20 * len(X_train) / fit_cpu,
        "score_samples_per_cpu_s": len(X_test) / score_cpu,
        "augment_round_cpu_s": augment_cpu,
        "peak_rss_mb_after_fit": peak_fit,
        "peak_rss_mb_after_scoring": peak_score,
        "peak_rss_mb": peak_rss_mb() - baseline,
    }


def _worker_result(case: str, eval_batch_size: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        case,
        "--eval-batch-size",
        str(eval_batch_size),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument(
        "--eval-batch-size",
        type=int,
        default=256,
        help="samples per scoring batch (each gives n_transforms views)",
    )
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_case(args.worker, args.eval_batch_size)))
        return
    results = [_worker_result(case, args.eval_batch_size) for case in CASES]
    for r in results:
        print(
            f"{r['case']}: {r['n_train']} x {r['sample_shape']} train, "
            f"{r['n_transforms']} transforms, scoring batches of "
            f"{r['eval_batch_size']}: fit {r['fit_cpu_s']:.1f} CPU s "
            f"({r['train_samples_per_cpu_s']:.0f} samples/CPU s over 20 epochs), "
            f"scoring {r['score_samples_per_cpu_s']:.0f} samples/CPU s, one "
            f"augmentation round {r['augment_round_cpu_s']:.1f} CPU s, peak RSS "
            f"+{r['peak_rss_mb_after_fit']:.0f} MB after fit, "
            f"+{r['peak_rss_mb_after_scoring']:.0f} after scoring, "
            f"+{r['peak_rss_mb']:.0f} after the round"
        )
    if args.out:
        write_json(args.out, results)


if __name__ == "__main__":
    main()
