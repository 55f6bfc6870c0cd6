"""Do a rerun's label-benchmark records reproduce the committed ones?

Run ``alad benchmark --protocol labels`` into a fresh results file (so that
nothing is taken from the committed records), then compare: every record of
the rerun whose key the committed file holds must carry the same metrics.

    alad benchmark --protocol labels --dataset msl --split anomalous \\
        --seeds 0 1 2 --out /tmp/rerun.jsonl.gz --work /tmp/rerun.work
    python benchmarks/label_records_check.py /tmp/rerun.jsonl.gz

Prints how many records are equal, differ (the first few shown) or are not
committed; exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

COMMITTED = Path(__file__).parent / "results" / "labels.jsonl.gz"


def _records(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rerun", type=Path, help="the rerun's results file")
    parser.add_argument("--committed", type=Path, default=COMMITTED)
    parser.add_argument("--show", type=int, default=5, help="differences printed")
    args = parser.parse_args()
    committed: dict[str, list[dict]] = {}
    for r in _records(args.committed):
        committed.setdefault(r["key"], []).append(r["metrics"])
    equal, differ, absent = 0, [], 0
    for r in _records(args.rerun):
        known = committed.get(r["key"])
        if known is None:
            absent += 1
        elif r["metrics"] in known:
            equal += 1
        else:
            differ.append(r)
    print(
        f"{equal} records equal to the committed, {len(differ)} differ, "
        f"{absent} not committed ({args.rerun} against {args.committed})"
    )
    for r in differ[: args.show]:
        old = committed[r["key"]][-1]
        shown = {m: (old[m], r["metrics"][m]) for m in ("pa_k_auc", "roc_auc")}
        print(f"  {r['task']} seed {r['seed']} {r['method']} {r['setting']}", shown)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
