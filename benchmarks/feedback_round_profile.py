"""Where a feedback round's time goes, and whether foreach Adam speeds it.

Fits the default detector on one series, runs the README loop until a round
trains the backbone (``feedback_min_anomalous`` anomalous windows labelled),
then times that round's ``partial_fit`` from the same state:

1. under ``cProfile``: the functions of most own time (autograd's backward
   pass, attention, dropout, linear layers, Adam);
2. with Adam's ``foreach`` implementation (the default of alad's nets) and
   with its per-tensor loop, alternating which runs first, ``--runs`` each,
   in CPU seconds of this process.

    python benchmarks/feedback_round_profile.py --dataset msl:P-10 --pool-ratio 0.9

One torch thread by default; run nothing else heavy beside it.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

import alad.training.nets as nets
from alad import ActiveReconstructionDetector
from alad.datasets import split_unlabeled
from alad.experiments.machine import cpu_model

sys.path.insert(0, str(Path(__file__).parent))
from interactive_round import load  # noqa: E402


def _round_that_trains(det, split, per_round: int, max_rounds: int):
    """Rounds of the README loop until the next one trains the backbone; the
    detector, rows and labels of that round (not yet learnt from)."""
    known = np.full(len(split.y_pool), np.nan)
    needed = det._min_anomalous_windows(det.n_features_in_)
    for _ in range(max_rounds):
        idx = det.query(split.X_pool, y=known, n_queries=per_round)
        known[idx] = split.y_pool[idx]
        windows = known[~np.isnan(known)].reshape(-1, det.window_size_)
        if (windows == 1).any(axis=1).sum() >= needed:
            return idx, known[idx]
        det.partial_fit(split.X_pool[idx], known[idx])
    raise SystemExit(f"no round trained the backbone within {max_rounds} rounds")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", default="msl:P-10")
    parser.add_argument("--pool-ratio", type=float, default=0.9)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{cpu_model()}, torch {torch.__version__}, {args.threads} thread(s)")
    data = load(args.dataset)
    split = split_unlabeled(data.X_test, data.y_test, args.pool_ratio)
    det = ActiveReconstructionDetector(random_state=args.seed).fit(data.X_train)
    idx, y = _round_that_trains(det, split, args.per_round, 20)
    X = split.X_pool[idx]
    copy.deepcopy(det).partial_fit(X, y)  # imports and first-call costs

    profile = cProfile.Profile()
    trial = copy.deepcopy(det)
    profile.enable()
    trial.partial_fit(X, y)
    profile.disable()
    print(f"\n{args.dataset}: the round that trains the backbone, under cProfile")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)

    foreach = nets._FOREACH
    times: dict[str, list[float]] = {"foreach": [], "per-tensor loop": []}
    for run in range(args.runs):
        order = list(times) if run % 2 == 0 else list(times)[::-1]
        for mode in order:
            nets._FOREACH = foreach if mode == "foreach" else ()
            trial = copy.deepcopy(det)
            start = time.process_time()
            trial.partial_fit(X, y)
            times[mode].append(time.process_time() - start)
    nets._FOREACH = foreach
    for mode, values in times.items():
        print(
            f"{mode:16s}: median {statistics.median(values):.2f} CPU s "
            f"({', '.join(f'{v:.2f}' for v in values)})"
        )


if __name__ == "__main__":
    main()
