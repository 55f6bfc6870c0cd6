"""What would the look-ahead of alad's scores give the windowed peers?

alad's score of a row is the mean of its windows' scores over the windows
it scores that cover it (``decision_function``; every ``score_stride_``-th
window and one at the end: on a multivariate series windows side by side,
one per row): it reads up to ``W - 1`` rows ahead. The windowed peers' score
files put each window's score at its last row (``ALIGNMENT`` in
``benchmarks/peers/run_peers.py``): they read nothing ahead. This script
re-aligns every windowed peer's score file of a work folder to alad's rule
(row ``t``: the mean over the peer's windows ``[i, i + W)`` with ``i <= t <
i + W``, taken at alad's step in proportion to the windows, as the harness
does: ``peer_stride``), piece by piece where the evaluation part was scored
in two pieces, and prints the metrics both ways, per data set, rule and peer,
so that what alad's alignment is worth can be read off next to the records;
alad's own score files (without labels and at 50 windows) are printed beside
them, as they are.

Run (reads task and score files, trains nothing)::

    python benchmarks/alignment_check.py alad_output/labels.work [--by-rule]

The label benchmark now records both alignments itself (the records
``"<peer> (covering mean)"`` and the report's second comparison table); this
script gives the same figures per rule (``--by-rule``) and per work folder.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from alad.experiments.labels.exchange import (
    WINDOW_END_PEERS,
    covering_from_window_end,
    peer_stride,
    peer_window,
)
from alad.experiments.labels.runs import _task_scoring
from alad.metrics import best_f1, pa_k_auc, roc_auc, vus_pr

#: score files of the peers that score windows (the harness's list)
WINDOWED = re.compile(rf"^({'|'.join(WINDOW_END_PEERS)})(_b\d+)?$")


def _metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {
        "PA%K AUC": float(pa_k_auc(y, scores)),
        "best F1": float(best_f1(y, scores)),
        "ROC AUC": float(roc_auc(y, scores)),
        "VUS-PR": float(vus_pr(y, scores)),
    }


#: alad's own score files (its alignment already), printed beside the peers
ALAD = re.compile(r"^alad-transformer-(wo-labels|with-labels_b50)$")


def check(work: Path, by_rule: bool = False) -> dict:
    """Per (dataset, rule or "all", peer, alignment): the list of metric dicts."""
    found = defaultdict(list)
    for task_file in sorted((work / "tasks").glob("*/seed*.npz")):
        with np.load(task_file) as data:
            y = data["y_eval"].astype(bool)
            meta = json.loads(str(data["meta"]))
        if y.all() or not y.any():
            continue
        folder = work / "scores" / task_file.parent.name / task_file.stem
        rule = meta["rule"] if by_rule else "all"
        data = f"{meta['dataset']}/{meta['split']}"
        for path in sorted(folder.glob("*.npy")):
            match = WINDOWED.match(path.stem)
            if ALAD.match(path.stem):
                scores = np.load(path).astype(np.float64)
                if scores.shape == y.shape:
                    key = (data, rule, path.stem, "alad's own")
                    found[key].append(_metrics(y, scores))
                continue
            if not match:
                continue
            try:
                info = json.loads(path.with_suffix(".json").read_text())
            except (OSError, ValueError):
                continue
            w = peer_window(match.group(1), info, meta["window_size"]) or 0
            scores = np.load(path).astype(np.float64)
            if w < 2 or scores.shape != y.shape:
                continue
            seam = int(meta["eval_seam"]) if info.get("eval_scoring") else 0
            # the peer's windows at alad's step (the harness's rule)
            scoring = _task_scoring(info, work, task_file.parent.name, meta["seed"])
            if scoring is None:
                continue
            stride = peer_stride(w, *scoring)
            ahead = covering_from_window_end(scores, w, seam, stride)
            # a file of a pool inside the series made before the pieces were
            # scored apart says so
            inside = 0 < int(meta["eval_seam"]) < len(y)
            joined = " (joined)" if inside and not info.get("eval_scoring") else ""
            group = (data, rule, path.stem + joined)
            found[(*group, "window end")].append(_metrics(y, scores))
            found[(*group, "covering mean")].append(_metrics(y, ahead))
    return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", nargs="+", type=Path, help="work folders")
    parser.add_argument(
        "--by-rule", action="store_true", help="apart per rule (cut, whole, ...)"
    )
    args = parser.parse_args(argv)
    found = defaultdict(list)
    for work in args.work:
        for key, values in check(work, args.by_rule).items():
            found[key].extend(values)
    for key in sorted(found):
        values = found[key]
        means = {k: np.mean([v[k] for v in values]) for k in values[0]}
        text = ", ".join(f"{k} {v:.3f}" for k, v in means.items())
        name = f"{key[0]:15} {key[1]:5} {key[2]:32} {key[3]:13}"
        print(f"{name} n={len(values):3}  {text}")


if __name__ == "__main__":
    main()
