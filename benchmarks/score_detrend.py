"""Scores less their moving median (``score_detrend``), without labels.

GECCO's evaluation part is a year of water quality whose temperature and
conductivity drift away from their training range: the backbone's error on
normal timesteps rises through the year until the late normal timesteps
outscore the early anomalies, and PA%K AUC over the whole part falls far
below that of either of its halves. ``score_detrend`` takes each score less
the median of the scores around it. This script measures, on the cached
fitted detectors of ``benchmarks/label_variants.py`` (same tasks, seeds and
splits; no label), each span's metrics on the whole evaluation part (what
the label benchmark reports) and on its two time halves (the first one
decides, as everywhere in these studies). Each span rescores the training
data as a fit with it would (``threshold_``), then scores the evaluation
part with the detector's own ``decision_function``.

    python benchmarks/score_detrend.py --run      # ~10 minutes on one core
    python benchmarks/score_detrend.py            # prints the tables
    python benchmarks/score_detrend.py --round-cost   # a round's seconds, ~3 min

``--round-cost`` times the user's rounds (``query`` + ``partial_fit`` of 10
windows) on GECCO (seed 0) with and without the detrending, side by side
from the same fitted detector, alternating which goes first, three rounds
each (the first version of the option read the pool's trend in the query;
the query now reads the plain score and costs what it costs without it).

Records: ``benchmarks/results/score_detrend.jsonl`` (one line per task,
seed and span).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from label_variants import (  # noqa: E402
    METRICS,
    SEEDS,
    VARIANTS,
    _fitted,
    _halves,
    _mean_row,
    _metrics,
    _with_params,
    pool_ratio,
    study_parser,
    study_tasks,
)

RECORDS = Path(__file__).parent / "results" / "score_detrend.jsonl"
#: the spans measured, in timesteps (None: not detrended)
SPANS = (None, 1000, 2000, 5000, 10000)
#: the label benchmark's data sets: GECCO, UCR 001, all 27 MSL entities and
#: their telemetry channels alone, two aeon series
TASKS = ("gecco", "ucr:1", "msl", "msl1", "aeon")
PARTS = ("all", "validation", "test")
#: the variants ``--round-cost`` times: the multivariate defaults, detrended
DEFAULT, DETRENDED = "steps120+pool+skill+channels+oob", "defaults, detrend 5000"


def run(tasks, cache: Path, records: Path = RECORDS) -> None:
    import torch

    from alad.experiments.labels import make_label_split

    torch.set_num_threads(1)
    done = set()
    if records.exists():
        for line in records.read_text().splitlines():
            r = json.loads(line)
            done.add((r["task"], r["seed"], r["span"]))
    for spec in tasks:
        for task in study_tasks(spec):
            for seed in SEEDS:
                spans = [s for s in SPANS if (task.name, seed, s) not in done]
                if not spans:
                    continue
                split = make_label_split(task, "anomalous", pool_ratio(spec), seed)
                parts = {"all": slice(None), **_halves(split)}
                base = _fitted(task, seed, cache)
                with records.open("a") as f:
                    for span in spans:
                        det = _with_params(base, {"score_detrend": span})
                        scores = det.decision_function(split.X_eval)
                        record = {"task": task.name, "seed": seed, "span": span}
                        for part, rows in parts.items():
                            record[part] = _metrics(split.y_eval, scores, rows)
                        f.write(json.dumps(record) + "\n")
                print(f"{task.name} seed {seed}: done", file=sys.stderr)


def table(records: Path = RECORDS) -> str:
    rows = [json.loads(line) for line in records.read_text().splitlines()]
    lines = [
        "Mean over tasks and seeds, no label (the tasks and seeds every span has)",
        "",
        "| data | part | span | n | " + " | ".join(METRICS.values()) + " |",
        "|---|---|---|---|" + "---|" * len(METRICS),
    ]
    sets = sorted({r["task"].split("/")[0] for r in rows})
    for data in sets:
        mine = [r for r in rows if r["task"].split("/")[0] == data]
        for part in PARTS:
            by_pair = {}
            for r in mine:
                if r[part] is not None:
                    by_pair.setdefault((r["task"], r["seed"]), {})[r["span"]] = r[part]
            pairs = [p for p in by_pair.values() if all(s in p for s in SPANS)]
            for span in SPANS:
                if pairs:
                    lines.append(
                        _mean_row([data, part, span], [p[span] for p in pairs])
                    )
    return "\n".join(lines)


def round_cost(cache: Path, rounds: int = 3) -> str:
    """Seconds of the user's rounds with and without the detrending, side by
    side (the variants of ``label_variants.py``: the cached fits predate
    today's feedback defaults, which the variants state)."""
    import torch

    from alad.experiments.labels import make_label_split
    from alad.experiments.machine import cpu_model

    torch.set_num_threads(1)
    task = study_tasks("gecco")[0]
    split = make_label_split(task, "anomalous", pool_ratio("gecco"), 0)
    base = _fitted(task, 0, cache)
    plain, detrended = VARIANTS[DEFAULT], VARIANTS[DETRENDED]
    span = detrended["score_detrend"]
    dets = {None: _with_params(base, plain), span: _with_params(base, detrended)}
    seconds = {key: [] for key in dets}
    for r in range(rounds):
        for key in list(dets)[:: 1 if r % 2 == 0 else -1]:  # alternate the order
            det = dets[key]
            start = time.process_time()
            idx = det.query(split.X_pool, n_queries=10)
            det.partial_fit(split.X_pool[idx], split.y_pool[idx])
            seconds[key].append(time.process_time() - start)
    mean = {key: float(np.mean(s)) for key, s in seconds.items()}
    return (
        f"{cpu_model()}, 1 torch thread, GECCO seed 0, rounds of 10 windows "
        f"(CPU s): not detrended {np.round(seconds[None], 2).tolist()}, "
        f"score_detrend={span} {np.round(seconds[span], 2).tolist()}; "
        f"ratio of the means {mean[span] / mean[None]:.2f}"
    )


def main() -> None:
    parser = study_parser(__doc__)
    parser.add_argument("--task", action="append", help=f"default: {TASKS}")
    parser.add_argument(
        "--round-cost", action="store_true", help="time rounds with and without it"
    )
    args = parser.parse_args()
    if args.round_cost:
        print(round_cost(args.cache))
        return
    if args.run:
        run(args.task or TASKS, args.cache)
    print(table())


if __name__ == "__main__":
    main()
