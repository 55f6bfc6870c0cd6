"""How much of the label benchmark's anomalous split is its seam?

The evaluation part of a pool inside the test series is the rows before the
pool followed by the rows after it. Where a series holds a single anomaly
(the ``cut`` rule: UCR 001, 19 of MSL's 27 entities), the pool takes part of
the event and the evaluation part keeps the rest, which then starts or ends
right at the join. A score that knows nothing but where the join is
(minus the distance to it) finds that anomaly; so does any detector that
reacts to the jump the join makes in the series.

For every task file of a work folder this prints, per data set and rule:

- the metrics of the seam-only score ``-|row - seam|``;
- for every score file found beside the task file (alad's, the peers'), its
  metrics on the whole evaluation part, and, on the (task, seed) pairs that
  keep anomalous rows farther than ``--margin`` from the seam, its metrics
  on the whole part ("kept pairs") and with the rows within the margin left
  out ("beyond"), so that what a method owes to the join can be read off.

Run (reads task and score files, trains nothing)::

    python benchmarks/seam_check.py alad_output/labels.work --margin 100
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from alad.metrics import best_f1, pa_k_auc, roc_auc, vus_pr

METRICS = {"PA%K AUC": pa_k_auc, "best F1": best_f1, "ROC AUC": roc_auc}


def _metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    out = {name: float(f(y, scores)) for name, f in METRICS.items()}
    out["VUS-PR"] = float(vus_pr(y, scores))
    return out


def _score_files(folder: Path) -> dict[str, Path]:
    """Method name -> score file of one (task, seed) folder."""
    return {p.stem: p for p in sorted(folder.glob("*.npy"))}


def check(work: Path, margin: int) -> dict:
    """Per (dataset, rule, method, part): the list of metric dicts."""
    found = defaultdict(list)
    for task_file in sorted((work / "tasks").glob("*__anomalous/seed*.npz")):
        with np.load(task_file) as data:
            y = data["y_eval"].astype(bool)
            meta = json.loads(str(data["meta"]))
        seam = meta["pool_rows"][0]  # rows of the evaluation part before the join
        if seam == 0 or not y.any() or y.all():
            continue  # no join: the pool starts the series
        rows = np.arange(len(y))
        far = np.abs(rows - seam) >= margin
        group = (meta["dataset"], meta["rule"])
        found[(*group, "seam only", "all rows")].append(
            _metrics(y, -np.abs(rows - seam).astype(float))
        )
        found[(*group, "anomalous rows within margin", "share")].append(
            {"share": float(y[~far].sum() / y.sum())}
        )
        scores_dir = work / "scores" / task_file.parent.name / task_file.stem
        for method, path in _score_files(scores_dir).items():
            scores = np.load(path)
            if scores.shape != y.shape or not np.isfinite(scores).all():
                continue
            found[(*group, method, "all rows")].append(_metrics(y, scores))
            if y[far].any() and not y[far].all():
                # the same pairs both ways: only these keep an anomaly far out
                found[(*group, method, "kept pairs")].append(_metrics(y, scores))
                found[(*group, method, f"beyond {margin}")].append(
                    _metrics(y[far], scores[far])
                )
    return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "work", nargs="+", type=Path, help="label benchmark work folders"
    )
    parser.add_argument(
        "--margin",
        type=int,
        default=100,
        help="rows on each side of the seam left out (default: 100, the widest "
        "window of the peers)",
    )
    args = parser.parse_args(argv)
    found = defaultdict(list)
    for work in args.work:
        for key, values in check(work, args.margin).items():
            found[key].extend(values)
    for key in sorted(found):
        values = found[key]
        means = {k: np.mean([v[k] for v in values]) for k in values[0]}
        text = ", ".join(f"{k} {v:.3f}" for k, v in means.items())
        name = f"{key[0]:6} {key[1]:6} {key[2]:40} {key[3]:11}"
        print(f"{name} n={len(values):3}  {text}")


if __name__ == "__main__":
    main()
