"""NAFALDetector's scoring time and peak memory against its scoring batch size.

Fits the default detector (256 transformations) for one epoch on 300 normal
samples of ODDS cardio, then scores the 1,831 samples, once per
``eval_batch_size`` in a fresh process (so each peak resident set size is its
own), with one torch thread. Prints CPU seconds of scoring, the process peak
(reached by the fit's own scoring of the training samples, which uses the
same batches) and a checksum of the scores, which must not change.

    python benchmarks/nafal_eval_batch.py            # 128, 32, 16, 8 and None
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time


def measure(eval_batch_size: int | None) -> None:
    import numpy as np
    import torch

    from alad import NAFALDetector
    from alad.datasets import load_odds
    from alad.experiments.nafal import PINNED

    torch.set_num_threads(1)
    data = load_odds("cardio")
    # the former defaults this was measured with (256 transformations)
    det = NAFALDetector(
        **PINNED,
        n_transforms=256,
        train_views=16,
        batch_size=128,
        max_epochs=1,
        n_iterations=0,
        random_state=0,
        eval_batch_size=eval_batch_size,
    ).fit(data.X[data.y == 0][:300])
    start = time.process_time()
    scores = det.decision_function(data.X)
    seconds = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"eval_batch_size={eval_batch_size}: {len(data.X)} samples scored in "
        f"{seconds:.1f} CPU s, process peak {peak:.0f} MB, "
        f"checksum {np.sum(scores):.6f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("sizes", nargs="*", default=["128", "32", "16", "8", "None"])
    args = parser.parse_args()
    if args.one is not None:
        measure(None if args.one == "None" else int(args.one))
        return
    for size in args.sizes:
        subprocess.run([sys.executable, __file__, "--one", size], check=True)


if __name__ == "__main__":
    main()
