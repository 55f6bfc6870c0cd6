"""Scoring time per backbone at two scoring batch sizes, on the CPU.

``ActiveReconstructionDetector(eval_batch_size="auto")`` scores in batches of
64 windows on the CPU and 256 elsewhere. This times each built-in backbone's
``anomaly_score`` (default sizes, windows of 50 timesteps and 9 channels like
GECCO's, 1,536 random windows, no gradient) at each batch size, alternating
which goes first, and prints the best of ``--repeats`` CPU times of each and
their ratio (above 1: the small batch is faster).

    python benchmarks/eval_batch.py [--threads 1] [--sizes 64 256]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from alad.backbones import BACKBONES, make_backbone
from alad.experiments.machine import cpu_model


def score_seconds(model, windows: torch.Tensor, size: int) -> float:
    start = time.process_time()
    with torch.no_grad():
        for first in range(0, len(windows), size):
            model.anomaly_score(windows[first : first + size])
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sizes", type=int, nargs=2, default=(64, 256))
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    small, large = args.sizes
    rng = np.random.default_rng(0)
    windows = torch.from_numpy(rng.normal(size=(1536, 50, 9)).astype(np.float32))
    print(f"{cpu_model()}, {args.threads} thread(s), torch {torch.__version__}")
    print(f"| backbone | {small} (CPU s) | {large} (CPU s) | {large} / {small} |")
    print("|---|---|---|---|")
    for name in BACKBONES:
        model = make_backbone(name, n_channels=9, window_size=50).eval()
        score_seconds(model, windows[:small], small)  # warm-up
        times = {small: [], large: []}
        for repeat in range(args.repeats):
            order = (small, large) if repeat % 2 == 0 else (large, small)
            for size in order:
                times[size].append(score_seconds(model, windows, size))
        a, b = min(times[small]), min(times[large])
        print(f"| {name} | {a:.3f} | {b:.3f} | {b / a:.2f} |", flush=True)


if __name__ == "__main__":
    main()
