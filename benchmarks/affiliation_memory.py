"""Time and peak memory of the affiliation F1's threshold search, both ways.

:func:`alad.metrics.affiliation_f1` searches its thresholds in one pass over
(event zone, threshold) tables while they hold at most
``alad._range_metrics._TABLE_LIMIT`` entries, and tries the thresholds one
by one above that. This measures both ways on the same series (random
scores, one-point events on a grid of every fourth row), each in a fresh
process so that the peak resident memory is its own, and prints CPU seconds
and the peak above the process's start:

    python benchmarks/affiliation_memory.py [--rows 400000] [--events 10000 100000]
    python benchmarks/affiliation_memory.py --rows 4000000 --events 100 --way tables

The cap was set from these figures (docs, *Which metric*, speed). The
tables' own per-timestep work is taken a block of timesteps at a time, so
that a long series with few events stays near its size (the second command).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_MEASURE = """
import json, resource, sys, time
import numpy as np
import alad._range_metrics as rm
from alad.metrics import affiliation_f1
rows, events, limit = (int(a) for a in sys.argv[1:4])
rm._TABLE_LIMIT = limit
rng = np.random.default_rng(0)
y = np.zeros(rows, np.int64)
y[rng.choice(np.arange(0, rows, 4), events, replace=False)] = 1
s = rng.random(rows)
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.process_time()
f1 = affiliation_f1(y, s)
seconds = time.process_time() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start
print(json.dumps({"f1": f1, "cpu_s": seconds, "peak_mib": peak / 1024}))
"""


def _measure(rows: int, events: int, limit: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(rows), str(events), str(limit)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--events", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--way", choices=["tables", "loop", "both"], default="both", help="which search"
    )
    args = parser.parse_args(argv)
    from alad.experiments.machine import cpu_model

    ways = [("tables (one pass)", 10**12), ("thresholds one by one", 0)]
    ways = {"tables": ways[:1], "loop": ways[1:], "both": ways}[args.way]
    print(
        f"{cpu_model()}, {args.rows} rows ({args.rows * 8 / 2**20:.0f} MiB of "
        "float64 scores), 100 thresholds"
    )
    print("events   way                     F1        CPU s   peak MiB")
    for events in args.events:
        for way, limit in ways:
            m = _measure(args.rows, events, limit)
            print(
                f"{events:<8} {way:<23} {m['f1']:.6f} {m['cpu_s']:>7.1f} "
                f"{m['peak_mib']:>10.0f}"
            )


if __name__ == "__main__":
    main()
