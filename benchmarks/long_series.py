"""Peak memory of long series: fit and score 450,000 x 51, score 10,000,000 rows.

Each case runs in a fresh subprocess, so its peak resident set size (RSS,
:func:`alad.experiments.machine.peak_rss_mb`) is its own; the baseline is the
peak after the imports and a warm-up fit on 2,000 rows, so that the figure is
the memory the data costs. The series is synthetic (three periodic drivers
mixed into the channels plus noise: the values do not change the cost) and
float64, as a user's data usually is.

- ``fit``: the size of SWaT (450,000 x 51). ``ActiveReconstructionDetector``
  with the default Transformer, one epoch, then ``decision_function`` on the
  same series; then a model fitted with ``stride=5`` on the first 50,000 rows
  scores them with overlapping windows (each timestep averaged over the 10
  windows covering it). The claim checked: peak RSS stays under three times
  the raw data plus the model.
- ``score``: a model fitted on 20,000 rows scores a 10,000,000 x 51 series.

Usage::

    python benchmarks/long_series.py            # both cases
    python benchmarks/long_series.py --case fit --rows 450000 --channels 51
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

from alad.experiments.machine import peak_rss_mb  # noqa: E402
from alad.experiments.store import write_json  # noqa: E402


def series(n_rows: int, n_channels: int, seed: int = 0, dtype="float64"):
    import numpy as np

    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(3, n_channels))
    out = np.empty((n_rows, n_channels), dtype=dtype)
    chunk = 1_000_000  # build it in pieces: no temporary of the full size
    for first in range(0, n_rows, chunk):
        t = np.arange(first, min(first + chunk, n_rows), dtype=np.float64)
        drivers = np.sin(2 * np.pi * t[:, None] / np.array([40.0, 97.0, 230.0]))
        out[first : first + len(t)] = drivers @ mixing
        out[first : first + len(t)] += 0.05 * rng.normal(size=(len(t), n_channels))
    return out


def run_case(case: str, rows: int, channels: int) -> dict:
    import numpy as np
    import torch

    from alad import ActiveReconstructionDetector

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    # warm up on a tiny series first: fitting imports modules lazily (sympy
    # among them, seen with tracemalloc) and fills allocator caches, none of
    # which grows with the data; the baseline is taken after them
    warm = series(2_000, channels, seed=2)
    ActiveReconstructionDetector(max_epochs=1, patience=None).fit(
        warm
    ).decision_function(warm)
    del warm
    baseline = peak_rss_mb()
    result = {"case": case, "rows": rows, "channels": channels}
    if case == "fit":
        X = series(rows, channels)
        result["data_mb"] = X.nbytes / 2**20
        start = time.perf_counter()
        det = ActiveReconstructionDetector(max_epochs=1, patience=None, random_state=0)
        det.fit(X)
        result["fit_s"] = time.perf_counter() - start
        result["peak_after_fit_mb"] = peak_rss_mb() - baseline
        start = time.perf_counter()
        scores = det.decision_function(X)
        result["score_s"] = time.perf_counter() - start
        result["peak_after_score_mb"] = peak_rss_mb() - baseline
        # overlapping windows: a model fitted with stride 5 scores 50,000 rows
        # with 10 windows covering each timestep
        part = X[:50_000]
        overlapped = ActiveReconstructionDetector(
            stride=5, max_epochs=1, patience=None, random_state=0
        ).fit(part)
        start = time.perf_counter()
        overlapping = overlapped.decision_function(part)
        result["score_stride5_50k_s"] = time.perf_counter() - start
        result["peak_after_stride5_mb"] = peak_rss_mb() - baseline
        assert np.isfinite(scores).all() and np.isfinite(overlapping).all()
    else:
        train = series(20_000, channels, seed=1)
        det = ActiveReconstructionDetector(max_epochs=1, patience=None, random_state=0)
        det.fit(train)
        # built in float32 directly: 2 GB at 10M x 51, with no float64 original
        X = series(rows, channels, dtype=np.float32)
        result["data_mb"] = X.nbytes / 2**20
        before = peak_rss_mb() - baseline
        start = time.perf_counter()
        scores = det.decision_function(X)
        result["score_s"] = time.perf_counter() - start
        result["peak_before_score_mb"] = before
        result["peak_after_score_mb"] = peak_rss_mb() - baseline
        assert scores.shape == (rows,) and np.isfinite(scores).all()
    model_mb = sum(p.numel() * 4 for p in det.net_.module_.parameters()) / 2**20
    result["model_mb"] = model_mb
    result["limit_mb"] = 3 * result["data_mb"] + model_mb
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["fit", "score", "all"], default="all")
    parser.add_argument("--rows", type=int, help="default 450000 (fit), 10M (score)")
    parser.add_argument("--channels", type=int, default=51)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_case(args.case, args.rows, args.channels)))
        return
    results = []
    for case in ("fit", "score") if args.case == "all" else (args.case,):
        rows = args.rows or (450_000 if case == "fit" else 10_000_000)
        command = [sys.executable, __file__, "--worker", "--case", case]
        command += ["--rows", str(rows), "--channels", str(args.channels)]
        output = subprocess.run(command, check=True, capture_output=True, text=True)
        result = json.loads(output.stdout.strip().splitlines()[-1])
        results.append(result)
        peak = max(v for k, v in result.items() if k.startswith("peak_"))
        print(
            f"{case}: {rows:,} x {args.channels}, data {result['data_mb']:.0f} MB, "
            f"model {result['model_mb']:.1f} MB, peak RSS over the interpreter "
            f"{peak:.0f} MB = {peak / result['data_mb']:.2f} x data "
            f"(limit 3 x data + model = {result['limit_mb']:.0f} MB)"
        )
        print(
            "   ", {k: round(v, 1) for k, v in result.items() if isinstance(v, float)}
        )
    if args.out:
        write_json(args.out, results)


if __name__ == "__main__":
    main()
