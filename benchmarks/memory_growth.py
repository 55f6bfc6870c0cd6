"""Resident memory across labelling rounds and across benchmark jobs.

Two ways a long-lived process grew, measured on a synthetic series of 55
channels (MSL's width; USAD then has 25 M parameters):

- ``rounds``: one detector, ``--n`` rounds of ``query`` + ``partial_fit``
  (a person labelling for days in one process); each round copies the net.
- ``jobs``: ``--n`` jobs of the label benchmark's shape (fit, one round,
  drop the detector), with and without the harness's
  :func:`alad.experiments.engine.release_memory` after each.

Prints the process's resident memory (MiB) after each step; one torch
thread. Run each mode in its own process (the allocator's state carries
over)::

    python benchmarks/memory_growth.py rounds
    python benchmarks/memory_growth.py rounds --skorch-copy   # before the fix
    python benchmarks/memory_growth.py jobs
    python benchmarks/memory_growth.py jobs --release
"""

from __future__ import annotations

import argparse
import gc

import numpy as np
import torch


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["rounds", "jobs"])
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--backbone", default="usad")
    parser.add_argument("--release", action="store_true")
    parser.add_argument(
        "--skorch-copy",
        action="store_true",
        help="copy nets by skorch's pickling, as before alad's own __deepcopy__",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    from alad import ActiveReconstructionDetector
    from alad.experiments.engine import release_memory
    from alad.training.callbacks import LoggedNet

    if args.skorch_copy:
        del LoggedNet.__deepcopy__

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 55)).astype(np.float32)
    pool = rng.normal(size=(6000, 55)).astype(np.float32)
    y = np.zeros(len(pool))
    y[500:520] = y[3000:3030] = 1

    def detector(seed):
        return ActiveReconstructionDetector(
            backbone=args.backbone, max_epochs=2, random_state=seed
        ).fit(X)

    def round_(det):
        idx = det.query(pool)
        det.partial_fit(pool[idx], y[idx])

    print(f"start {rss_mib():.0f} MiB", flush=True)
    if args.mode == "rounds":
        det = detector(0)
        print(f"fit {rss_mib():.0f} MiB", flush=True)
        for i in range(args.n):
            round_(det)
            print(f"round {i + 1} {rss_mib():.0f} MiB", flush=True)
        return
    for i in range(args.n):
        det = detector(i)
        round_(det)
        del det
        if args.release:
            release_memory()
        else:
            gc.collect()
        print(f"job {i + 1} {rss_mib():.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
