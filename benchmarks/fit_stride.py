"""Fit time of overlapping against whole-window training windows, side by side.

``ActiveReconstructionDetector(stride="auto")`` overlaps a univariate series'
windows by half; this prints the fit seconds of ``stride=None`` (whole
windows) and ``stride=25`` (windows of 50 overlapping by half) on GECCO and
UCR 001, twice each, alternating which goes first, one torch thread:

    python benchmarks/fit_stride.py            # about 8 minutes here

Needs the shared data (``ALAD_DATA_HOME``, default ``../shared/datasets``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

TASKS = ("gecco", "ucr:1")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    os.environ.setdefault(
        "ALAD_DATA_HOME", str(Path(__file__).parents[2] / "shared" / "datasets")
    )
    import torch

    from alad import ActiveReconstructionDetector
    from alad.experiments.tasks import load_tasks

    torch.set_num_threads(1)
    for spec in TASKS:
        task = load_tasks(spec)[0]
        seconds: dict = {}
        for order in ((None, 25), (25, None)):
            for stride in order:
                start = time.perf_counter()
                det = ActiveReconstructionDetector(random_state=0, stride=stride)
                det.fit(task.X_train)
                seconds.setdefault(stride, []).append(time.perf_counter() - start)
        cells = ", ".join(
            f"stride={k}: " + " / ".join(f"{s:.1f}" for s in v)
            for k, v in seconds.items()
        )
        print(f"{spec}: fit seconds {cells}", flush=True)


if __name__ == "__main__":
    main()
