"""Where each anomalous segment ranks under each method's score: a diagnosis.

A threshold-free metric (ROC AUC, PA%K AUC, VUS-PR) can be low because a
method misses a few long anomalies or because it ranks many short ones
among normal timesteps. This prints, for one task and seed of the label
benchmark's work folder, every anomalous segment of the evaluation part
(its rows and length, and how far its channels depart from the training
part: the median over the segment of ``|x - mean| / std`` per channel),
and for each method the median percentile of the segment's scores among
the scores of the normal timesteps (1.0: above every normal timestep).

    python benchmarks/segment_ranks.py --work alad_output/labels.work \\
        --task gecco__anomalous --seed 1

Methods default to alad without and with 50 labelled windows, TSB-AD's
TimesNet and IsolationForest; ``--methods`` takes other score-file names
(the ``.npy`` files under ``WORK/scores/<task>/seed<k>/``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

METHODS = (
    "alad-transformer-wo-labels",
    "alad-transformer-with-labels_b50",
    "tsbad_timesnet",
    "iforest",
)


def segments(y: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of every run of 1 in ``y``."""
    edges = np.flatnonzero(np.diff(np.r_[0, np.asarray(y, dtype=np.int8), 0]))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def normal_percentiles(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each timestep's score as the share of normal timesteps scoring below it."""
    normal = np.sort(scores[~y.astype(bool)])
    return np.searchsorted(normal, scores, side="left") / max(len(normal), 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--task", required=True, help="e.g. gecco__anomalous")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    args = parser.parse_args(argv)
    task_file = args.work / "tasks" / args.task / f"seed{args.seed}.npz"
    if not task_file.exists():
        parser.error(f"no task file {task_file}")
    data = np.load(task_file)
    y, X = data["y_eval"].astype(bool), data["X_eval"]
    mean, std = data["X_train"].mean(axis=0), data["X_train"].std(axis=0)
    z = np.abs(X - mean) / np.where(std > 0, std, 1.0)
    scores_dir = args.work / "scores" / args.task / f"seed{args.seed}"
    ranks = {}
    for name in args.methods:
        path = scores_dir / f"{name}.npy"
        if path.exists():
            ranks[name] = normal_percentiles(np.load(path), y)
        else:
            print(f"(no scores for {name} under {scores_dir})")
    print(
        f"{args.task} seed {args.seed}: {len(y)} evaluation rows, {y.sum()} anomalous; "
        "normal timesteps' median |z| per channel: "
        + " ".join(f"{v:.1f}" for v in np.median(z[~y], axis=0))
    )
    header = ["rows", "length", *ranks, "median |z| per channel"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for start, stop in segments(y):
        cells = [f"{start}-{stop}", str(stop - start)]
        cells += [f"{np.median(r[start:stop]):.2f}" for r in ranks.values()]
        cells.append(" ".join(f"{v:.1f}" for v in np.median(z[start:stop], axis=0)))
        print("| " + " | ".join(cells) + " |")
    summary = [
        "all segments",
        "",
        *(f"{np.median(r[y]):.2f}" for r in ranks.values()),
        "",
    ]
    print("| " + " | ".join(summary) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
