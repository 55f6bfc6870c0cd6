"""Overlapping windows at scoring time, on the fitted defaults of label_variants.py.

The detectors fitted (and cached) by ``benchmarks/label_variants.py`` score
the evaluation part of their label split with a scoring stride of 50 (the
default: non-overlapping), 25 and 10 rows; each timestep's score is then the
mean over the windows covering it. No labels; the metrics of the validation
and test halves, as in ``label_variants.py``.

    python benchmarks/label_variants.py --run     # fits and caches the models
    python benchmarks/scoring_stride.py --run     # scores them (minutes)
    python benchmarks/scoring_stride.py           # prints the table
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from label_variants import METRICS, SEEDS, TASKS, _halves, _metrics  # noqa: E402

RECORDS = Path(__file__).parent / "results" / "scoring_stride.jsonl"
STRIDES = (50, 25, 10)


def run(cache: Path) -> None:
    import torch

    from alad.experiments.labels import make_label_split
    from alad.experiments.tasks import load_tasks

    torch.set_num_threads(1)
    with RECORDS.open("w") as f:
        for spec in TASKS:
            for task in load_tasks(spec):
                for seed in SEEDS:
                    path = cache / f"{task.name.replace('/', '_')}_{seed}.pkl"
                    if not path.exists():
                        continue
                    with path.open("rb") as g:
                        det = pickle.load(g)
                    split = make_label_split(task, "anomalous", TASKS[spec], seed)
                    for stride in STRIDES:
                        det.stride_ = stride  # scoring only: the model is fitted
                        scores = det.decision_function(split.X_eval)
                        record = {
                            "task": task.name,
                            "seed": seed,
                            "stride": stride,
                            **{
                                part: _metrics(split.y_eval, scores, rows)
                                for part, rows in _halves(split).items()
                            },
                        }
                        f.write(json.dumps(record) + "\n")


def table(part: str) -> str:
    records = [json.loads(line) for line in RECORDS.read_text().splitlines()]
    lines = [
        f"{part} halves, no labels: mean over the task-seed pairs scored",
        "| stride | n | " + " | ".join(METRICS.values()) + " |",
        "|---|---|" + "---|" * len(METRICS),
    ]
    for stride in STRIDES:
        rows = [r[part] for r in records if r["stride"] == stride and r[part]]
        means = [f"{np.mean([r[m] for r in rows]):.4f}" for m in METRICS]
        lines.append(f"| {stride} | {len(rows)} | " + " | ".join(means) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="store_true")
    parser.add_argument("--cache", default="alad_output/label_variants/cache")
    parser.add_argument("--part", default="validation", choices=("validation", "test"))
    args = parser.parse_args()
    os.environ.setdefault(
        "ALAD_DATA_HOME", str(Path(__file__).parents[2] / "shared" / "datasets")
    )
    if args.run:
        run(Path(args.cache))
    print(table(args.part))


if __name__ == "__main__":
    main()
