"""How long a person waits per labelling round: query + partial_fit, round by round.

Runs the README loop with the default ``ActiveReconstructionDetector`` on a
real series: ``fit`` on the training part, then ``--rounds`` rounds of
``--per-round`` windows queried from the unlabelled pool (the first 20 % of
the test part, as in the papers) and labelled with the ground truth. Prints
the fit time beside each round's time (CPU seconds of this process and wall
seconds), split into ``query`` and ``partial_fit`` (whose end refreshes
``threshold_`` from the training data), and the ratios the speed issue asks
for: each round against the fit, and the last round against the first.

    python benchmarks/interactive_round.py --dataset gecco
    python benchmarks/interactive_round.py --dataset msl:P-10 --pool-ratio 0.9

MSL's pools under the papers' 20 % split hold 4-24 windows, too few for ten
rounds of ten: ``--pool-ratio`` takes a larger share of the test part (P-10,
the longest entity, at 0.9 gives 109 windows).

One torch thread by default (``--threads``), so that CPU and wall time agree
on a quiet machine; run nothing else heavy beside it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from alad import ActiveReconstructionDetector
from alad.datasets import load_gecco, load_msl, split_unlabeled
from alad.experiments.machine import cpu_model


def load(name: str):
    if name == "gecco":
        return load_gecco()
    if name.startswith("msl:"):
        return load_msl(name.split(":", 1)[1])
    raise SystemExit(f"--dataset must be gecco or msl:ENTITY, got {name!r}")


class Clock:
    """CPU seconds of this process and wall seconds of a block."""

    def __enter__(self):
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu = time.process_time() - self.cpu
        self.wall = time.perf_counter() - self.wall


def run(
    dataset: str,
    rounds: int,
    per_round: int,
    seed: int,
    params: dict,
    pool_ratio: float,
) -> dict:
    data = load(dataset)
    split = split_unlabeled(data.X_test, data.y_test, pool_ratio)
    det = ActiveReconstructionDetector(random_state=seed, **params)
    with Clock() as fit:
        det.fit(data.X_train)
    record = {
        "dataset": dataset,
        "params": params,
        "seed": seed,
        "pool_ratio": pool_ratio,
        "fit_cpu_s": fit.cpu,
        "fit_wall_s": fit.wall,
        "epochs": len(det.net_.history),
        "rounds": [],
    }
    print(
        f"{dataset}: fit {fit.cpu:.1f} CPU s ({fit.wall:.1f} s wall, "
        f"{record['epochs']} epochs); pool {len(split.X_pool)} rows"
    )
    known = np.full(len(split.y_pool), np.nan)
    for r in range(1, rounds + 1):
        with Clock() as query:
            idx = det.query(split.X_pool, y=known, n_queries=per_round)
        known[idx] = split.y_pool[idx]
        with Clock() as learn:
            det.partial_fit(split.X_pool[idx], known[idx])
        cpu = query.cpu + learn.cpu
        row = {
            "round": r,
            "query_cpu_s": query.cpu,
            "partial_fit_cpu_s": learn.cpu,
            "round_cpu_s": cpu,
            "round_wall_s": query.wall + learn.wall,
            "of_fit": cpu / fit.cpu,
            "n_labelled": det.n_labelled_windows_,
        }
        record["rounds"].append(row)
        print(
            f"  round {r:2d}: query {query.cpu:5.2f} + partial_fit {learn.cpu:6.2f} "
            f"= {cpu:6.2f} CPU s ({row['round_wall_s']:.2f} s wall), "
            f"{100 * row['of_fit']:.1f} % of fit"
        )
    first, last = record["rounds"][0], record["rounds"][-1]
    record["last_over_first"] = last["round_cpu_s"] / first["round_cpu_s"]
    record["max_round_cpu_s"] = max(r["round_cpu_s"] for r in record["rounds"])
    print(
        f"  slowest round {record['max_round_cpu_s']:.2f} CPU s "
        f"({100 * record['max_round_cpu_s'] / fit.cpu:.1f} % of fit); "
        f"round {last['round']} / round 1 = {record['last_over_first']:.2f}"
    )
    return record


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", action="append", help="gecco or msl:ENTITY")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pool-ratio", type=float, default=0.2, help="share of the test part pooled"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--params", type=json.loads, default={}, help="detector parameters, JSON"
    )
    parser.add_argument("--out", type=Path, help="append the records to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    machine = (
        f"{cpu_model()}, {args.threads} torch thread(s), torch {torch.__version__}"
    )
    records = [
        {
            **run(
                name,
                args.rounds,
                args.per_round,
                args.seed,
                args.params,
                args.pool_ratio,
            ),
            "machine": machine,
        }
        for name in args.dataset or ["gecco"]
    ]
    if args.out:
        old = json.loads(args.out.read_text()) if args.out.exists() else []
        args.out.write_text(json.dumps(old + records, indent=1) + "\n")


if __name__ == "__main__":
    main()
