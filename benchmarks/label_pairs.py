"""alad against one peer of the label benchmark, pair by pair.

The report (``alad report benchmarks/results/labels.jsonl.gz``) gives means
over whatever each method has; a peer that failed on some (task, seed)
pairs, or learns only once an anomalous window is labelled, is averaged over
other pairs than alad. This script compares the two on the pairs both have:
for each budget, the means over those pairs, how many pairs alad is at or
above the peer on, and the tasks (MSL's entities) whose mean the peer leads
on PA%K AUC.

    python benchmarks/label_pairs.py --peer deepod_deepsad
    python benchmarks/label_pairs.py --dataset ucr --peer deepod_prenet
    python benchmarks/label_pairs.py --dataset gecco --peer tsbad_timesnet
    python benchmarks/label_pairs.py --peer deepod_deepsad --by-anomalous

A peer without labels (one record per pair, ``budget`` None) is set beside
alad at every budget. Records pass through
:func:`alad.experiments.labels.current`, as in the report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from alad.experiments.labels import METRIC_NAMES, current
from alad.experiments.run import read_records

RECORDS = Path(__file__).parent / "results" / "labels.jsonl.gz"
METRICS = ("pa_k_auc", "f1", "roc_auc", "vus_pr")


def by_pair(records, dataset, split, method, budget, setting="with labels") -> dict:
    """``{(task, seed): record}`` of ``method`` at ``budget``.

    alad's records of ``setting``; a peer's at ``budget`` or without labels.
    """
    out = {}
    for r in records:
        if (r["dataset"], r["split"], r["method"]) != (dataset, split, method):
            continue
        if method.startswith("alad:") and r["setting"] != setting:
            continue
        if setting == "with labels" and r["budget"] not in (budget, None):
            continue
        out[(r["task"], r["seed"])] = r
    return out


def by_anomalous_windows(records, dataset, split, method, peer, budgets) -> list[str]:
    """PA%K AUC and VUS-PR grouped by how many anomalous windows alad labelled.

    alad without labels, with them, and the peer on the same pairs: where
    the labels pay and where they cost, by what the windows held.
    """
    lines = []
    before = by_pair(records, dataset, split, method, None, "w/o labels")
    for budget in budgets:
        mine = by_pair(records, dataset, split, method, budget)
        theirs = by_pair(records, dataset, split, peer, budget)
        groups: dict[int, list] = {}
        for pair in sorted(set(mine) & set(theirs) & set(before)):
            n = min(mine[pair].get("n_anomalous_windows", 0), 4)
            groups.setdefault(n, []).append(pair)
        for n, pairs in sorted(groups.items()):
            cells = []
            for m in ("pa_k_auc", "vus_pr"):
                means = [
                    np.mean([src[p]["metrics"][m] for p in pairs])
                    for src in (before, mine, theirs)
                ]
                cells.append(
                    f"{METRIC_NAMES[m]} " + " / ".join(f"{x:.3f}" for x in means)
                )
            lines.append(
                f"{budget} windows, {n}{'+' if n == 4 else ''} anomalous: "
                f"{len(pairs)} pairs; w/o labels / with / {peer}: " + "; ".join(cells)
            )
    return lines


def compare(records, dataset, split, method, peer, budgets) -> list[str]:
    lines = []
    for budget in budgets:
        mine = by_pair(records, dataset, split, method, budget)
        theirs = by_pair(records, dataset, split, peer, budget)
        pairs = sorted(set(mine) & set(theirs))
        if not pairs:
            continue
        lines.append(f"{budget} windows: {len(pairs)} (task, seed) pairs")
        for m in METRICS:
            a = np.array([mine[p]["metrics"][m] for p in pairs])
            b = np.array([theirs[p]["metrics"][m] for p in pairs])
            lines.append(
                f"  {METRIC_NAMES[m]:9s} {method} {a.mean():.3f}, {peer} "
                f"{b.mean():.3f}; {method} at or above on {(a >= b).sum()} pairs"
            )
        tasks = sorted({t for t, _ in pairs})
        led = [
            t
            for t in tasks
            if np.mean([mine[p]["metrics"]["pa_k_auc"] for p in pairs if p[0] == t])
            < np.mean([theirs[p]["metrics"]["pa_k_auc"] for p in pairs if p[0] == t])
        ]
        names = " ".join(t.split("/")[-1] for t in led) or "none"
        lines.append(
            f"  {peer} ahead on PA%K AUC on {len(led)} of {len(tasks)} tasks: {names}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--records", type=Path, default=RECORDS)
    parser.add_argument("--dataset", default="msl")
    parser.add_argument("--split", default="anomalous", choices=("anomalous", "paper"))
    parser.add_argument("--method", default="alad:transformer")
    parser.add_argument("--peer", required=True)
    parser.add_argument("--budgets", type=int, nargs="+", default=[10, 25, 50, 100])
    parser.add_argument(
        "--by-anomalous",
        action="store_true",
        help="group the pairs by how many anomalous windows alad labelled",
    )
    args = parser.parse_args()
    records = list(current(read_records([args.records])))
    table = by_anomalous_windows if args.by_anomalous else compare
    lines = table(
        records, args.dataset, args.split, args.method, args.peer, args.budgets
    )
    if not lines:
        parser.error(f"no pair holds both {args.method} and {args.peer}")
    print(f"{args.dataset}, split {args.split!r}:")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
