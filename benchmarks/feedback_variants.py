"""Cheaper feedback rounds against the default, on Han et al.'s active setting.

A feedback round of the default detector retrains on every window labelled
so far plus ``normal_replay`` (8) normal training windows for each, so each
round costs more than the one before (``benchmarks/interactive_round.py``
times it). Two ways to keep rounds at a constant cost exist as parameters;
this script measures what they cost in accuracy, with the Transformer at its
defaults on GECCO (the paper's split, 50 labelled windows, 3 seeds; the
pretrained models are shared, so the rows differ only in the feedback):

- ``feedback_replay=False``: a round trains on its own windows only;
- ``normal_replay_per="new"``: a round rehearses every labelled window but
  replays normal windows for its new windows only.

    python benchmarks/feedback_variants.py --run      # runs what is missing
    python benchmarks/feedback_variants.py            # prints the table

Records: ``benchmarks/results/round_speed/gecco_feedback_variants.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

RECORDS = (
    Path(__file__).parent / "results" / "round_speed" / "gecco_feedback_variants.jsonl"
)
VARIANTS = {
    "default": {},
    "feedback_replay=False": {"feedback_replay": False},
    "normal_replay_per='new'": {"normal_replay_per": "new"},
}
METRICS = {
    "f1": "F1",
    "f1_pa": "F1_PA",
    "pa_k_auc": "PA%K AUC",
    "roc_auc": "ROC AUC",
    "average_precision": "AP",
    "vus_pr": "VUS-PR",
}


def run(cache: str) -> None:
    for params in VARIANTS.values():
        command = [
            sys.executable,
            "-m",
            "alad.cli",
            "benchmark",
            "--dataset",
            "gecco",
            "--seeds",
            "0",
            "1",
            "2",
            "--setting",
            "active",
            "--no-baselines",
            "--out",
            str(RECORDS),
            "--cache",
            cache,
            "--quiet",
        ]
        if params:
            command += ["--params", json.dumps(params)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def table() -> str:
    by_variant: dict[str, dict[int, dict]] = {}
    for line in RECORDS.read_text().splitlines():
        record = json.loads(line)
        name = next(k for k, v in VARIANTS.items() if v == record["params"])
        by_variant.setdefault(name, {})[record["seed"]] = record
    lines = [
        "| feedback | seeds | "
        + " | ".join(METRICS.values())
        + " | active-learning s |",
        "|---|---|" + "---|" * (len(METRICS) + 1),
    ]
    for name, seeds in by_variant.items():
        runs = [seeds[s] for s in sorted(seeds)]
        cells = [
            f"{np.mean([r['metrics']['evaluation'][m] for r in runs]):.4f}"
            for m in METRICS
        ]
        seconds = np.mean([r["seconds"] for r in runs])
        lines.append(
            f"| {name} | {len(runs)} | " + " | ".join(cells) + f" | {seconds:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run missing records first")
    parser.add_argument("--cache", default="alad_output/speed/cache")
    args = parser.parse_args()
    if args.run:
        run(args.cache)
    print(table())


if __name__ == "__main__":
    main()
