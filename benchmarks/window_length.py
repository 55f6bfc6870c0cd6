"""The starting model (no label) at other window lengths: a screen on validation halves.

Series with a period (UCR 001's heartbeat of about 208 rows, the synthetic
telemetry's 200) may want a window of a whole period rather than the
default 50. For each task, seed and window length this fits the default
detector with ``window_size`` changed and prints, as JSON lines, the metrics
of its scores on the two time halves of the label split's evaluation part
(the first decides, as in ``benchmarks/label_variants.py``) and the fit's
CPU seconds. Without ``--run`` it prints the means of the records.

    python benchmarks/window_length.py --run --task ucr:1 --windows 50 100 200
    python benchmarks/window_length.py --run --task telemetry --windows 50 100 200
    python benchmarks/window_length.py

``--stride auto`` fits with the detector's own ``stride="auto"`` instead of
the non-overlapping windows of the first records (``BASE_FIT``), and
``--windows auto`` with ``window_size="auto"`` (a window of one period on a
univariate series that has one); ``--task`` also takes the univariate tasks
of ``label_variants.py`` (``msl1[:E,...]``, ``aeon[:NAME,...]``):

    python benchmarks/window_length.py --run --task ucr:1 --stride auto \\
        --windows 50 auto
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from label_variants import (  # noqa: E402
    BASE_FIT,
    METRICS,
    SEEDS,
    _halves,
    _metrics,
    pool_ratio,
    study_tasks,
    task_spec,
)

RECORDS = Path(__file__).parent / "results" / "window_length.jsonl"


def run(spec: str, windows, seeds, stride, min_windows=None) -> None:
    import torch

    from alad import ActiveReconstructionDetector
    from alad.experiments.labels import make_label_split
    from alad.windows import stride_for_windows

    torch.set_num_threads(1)
    fit = BASE_FIT if stride is None else {"stride": stride}
    for task in study_tasks(spec):
        for seed in seeds:
            split = make_label_split(task, "anomalous", pool_ratio(spec), seed)
            for window in windows:
                start = time.process_time()
                det = ActiveReconstructionDetector(
                    random_state=seed, window_size=window, **fit
                )
                if min_windows:
                    w, step = det._resolved_geometry(task.X_train)
                    step = stride_for_windows(len(task.X_train), w, step, min_windows)
                    det.set_params(window_size=w, stride=step)
                scores = det.fit(task.X_train).decision_function(split.X_eval)
                record = {
                    "task": task.name,
                    "seed": seed,
                    "w": window,
                    "resolved": [det.window_size_, det.stride_],
                    "stride": stride,
                    **({"min_windows": min_windows} if min_windows else {}),
                    "cpu": round(time.process_time() - start, 1),
                    **{
                        part: _metrics(split.y_eval, scores, rows)
                        for part, rows in _halves(split).items()
                    },
                }
                with RECORDS.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                print(json.dumps(record), flush=True)


def _records() -> list[dict]:
    return [json.loads(line) for line in RECORDS.read_text().splitlines()]


def _setting(r) -> tuple[str, str | None]:
    """A record's window and step; the first records have no stride (they
    did not overlap)."""
    stride = r.get("stride")
    if r.get("min_windows"):
        stride = f"{stride}, at least {r['min_windows']} windows"
    return str(r["w"]), stride


def table(part: str) -> str:
    records = _records()
    lines = [
        f"{part} halves: mean over seeds (fit CPU s)",
        "| task | window | n | " + " | ".join(METRICS.values()) + " | fit s |",
        "|---|---|---|" + "---|" * (len(METRICS) + 1),
    ]

    for task in sorted({r["task"] for r in records}):
        settings = {_setting(r) for r in records if r["task"] == task}
        for window, stride in sorted(settings, key=str):
            rows = [
                r
                for r in records
                if r["task"] == task
                and _setting(r) == (window, stride)
                and r[part] is not None
            ]
            if rows:
                means = [f"{np.mean([r[part][m] for r in rows]):.3f}" for m in METRICS]
                cpu = np.mean([r["cpu"] for r in rows])
                # what "auto" resolved to (window, stride) on the last seed
                shown = window if stride is None else f"{window}, stride {stride}"
                if "resolved" in rows[-1]:
                    shown += " ({}/{})".format(*rows[-1]["resolved"])
                lines.append(
                    f"| {task} | {shown} | {len(rows)} | "
                    + " | ".join(means)
                    + f" | {cpu:.0f} |"
                )
    return "\n".join(lines)


def _window(text: str):
    """``--windows``' items: a length, or ``auto``."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"an integer or 'auto'; got {text!r}"
        ) from None


def pooled(part: str, dataset: str, windows) -> str:
    """Means over the (task, seed) pairs of ``dataset`` that every setting run
    with the detector's own stride and one of ``windows`` has (paired)."""
    records = _records()
    cells: dict = {}
    for r in records:
        if (
            r["task"].split("/")[0] == dataset
            and r["w"] in windows
            and r.get("stride")
            and r[part]
        ):
            label = ", stride ".join(_setting(r))
            cells.setdefault((r["task"], r["seed"]), {})[label] = r
    settings = sorted({label for c in cells.values() for label in c})
    cells = [c for c in cells.values() if len(c) == len(settings)]
    lines = [
        f"{dataset}, {part} halves: paired means over {len(cells)} task-seed pairs",
        "| window, step | " + " | ".join(METRICS.values()) + " | fit s |",
        "|---|" + "---|" * (len(METRICS) + 1),
    ]
    for label in settings:
        means = [f"{np.mean([c[label][part][m] for c in cells]):.3f}" for m in METRICS]
        cpu = np.mean([c[label]["cpu"] for c in cells])
        lines.append(f"| {label} | " + " | ".join(means) + f" | {cpu:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="store_true")
    parser.add_argument("--task", type=task_spec, default="telemetry")
    parser.add_argument(
        "--windows", type=_window, nargs="+", default=[50, 100, 200], metavar="W"
    )
    parser.add_argument(
        "--stride",
        choices=["auto"],
        default=None,
        help="the detector's stride='auto' (default: non-overlapping windows)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--part", default="validation", choices=("validation", "test"))
    parser.add_argument(
        "--min-windows",
        type=int,
        default=None,
        help="shorten the step so that the training part gives this many windows",
    )
    parser.add_argument(
        "--pooled",
        metavar="DATASET",
        help="print the paired means of one data set's runs with stride auto "
        "(and one of --windows)",
    )
    args = parser.parse_args()
    if args.run:
        run(args.task, args.windows, args.seeds, args.stride, args.min_windows)
    if args.pooled:
        print(pooled(args.part, args.pooled, args.windows))
        return
    print(table(args.part))


if __name__ == "__main__":
    main()
