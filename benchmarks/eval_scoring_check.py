"""Three ways to score the evaluation part of a pool inside the test series.

The label benchmark's evaluation part is the rows before the pool followed by
the rows after it. This script scores it, with three cheap peers (scikit-
learn's IsolationForest, PyOD's ECOD, ExtraTrees on the windows alad queried,
50 windows), three ways, on every task file of the work folders:

- ``joined``: the two pieces joined, as the records before 2026-12-07 did (a
  jump at the join, which under the ``cut`` rule sits on the anomaly the pool
  cut);
- ``series``: the whole test series scored as one stream (the pool between
  the pieces), then the pool's rows dropped; the windows beside the pool then
  hold rows whose labels a label-taking peer learnt from;
- ``apart``: each piece on its own (``run_peers.score_pieces``, what the
  benchmark does now).

Two steps, as the peers need their own environment::

    benchmarks/.venv-peers/bin/python benchmarks/eval_scoring_check.py score \\
        --out alad_output/eval_scoring alad_output/labels.work
    python benchmarks/eval_scoring_check.py report alad_output/eval_scoring

``score`` writes one ``.npz`` per task file; ``report`` prints PA%K AUC, ROC
AUC and VUS-PR per data set, rule, peer and way (means over the task files).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

PEERS = (("iforest", None), ("pyod_ecod", None), ("extratrees", 50))


def score(works, out: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent / "peers"))
    import run_peers as rp

    out.mkdir(parents=True, exist_ok=True)
    for work in works:
        for path in sorted(Path(work).glob("tasks/*__anomalous/seed*.npz")):
            raw = rp.read_task_file(path)
            meta, n = raw["meta"], len(raw["y_eval"])
            seam = int(meta["eval_seam"])
            if seam in (0, n):
                continue  # one piece: the three ways are one
            data, seed = rp.standardised(raw), int(meta["seed"])
            test = np.concatenate(
                [data["X_eval"][:seam], data["X_pool"], data["X_eval"][seam:]]
            )
            pool = len(data["X_pool"])
            found = {"y": raw["y_eval"], "rule": meta["rule"]}
            found["dataset"] = meta["dataset"]
            for peer, budget in PEERS:
                settings = dict(rp.SETTINGS.get(peer, {}))
                fn = getattr(rp, f"run_{peer}")
                try:
                    scorer = fn(data, seed, settings, *([budget] if budget else []))
                except ValueError as exc:  # e.g. no anomalous labelled window
                    print(f"{path}: {peer}: {exc}", file=sys.stderr)
                    continue
                whole = scorer(test)
                found[f"{peer}/joined"] = scorer(data["X_eval"])
                found[f"{peer}/series"] = np.concatenate(
                    [whole[:seam], whole[seam + pool :]]
                )
                found[f"{peer}/apart"] = rp.score_pieces(
                    scorer, data["X_eval"], seam, rp.fewest_rows(peer, settings, meta)
                )
            name = f"{path.parent.name}_{path.stem}.npz"
            np.savez(out / name, **found)
            print(name, meta["rule"], flush=True)


def report(folder: Path) -> None:
    from alad.metrics import pa_k_auc, roc_auc, vus_pr

    found = defaultdict(list)
    for path in sorted(folder.glob("*.npz")):
        with np.load(path) as data:
            y = data["y"]
            for name in data.files:
                if "/" not in name:
                    continue
                peer, way = name.split("/")
                s = data[name]
                group = (str(data["dataset"]), str(data["rule"]), peer, way)
                found[group].append((pa_k_auc(y, s), roc_auc(y, s), vus_pr(y, s)))
    print("data   rule   peer         way      n   PA%K AUC  ROC AUC  VUS-PR")
    for (dataset, rule, peer, way), values in sorted(found.items()):
        m = np.mean(values, axis=0)
        print(
            f"{dataset:6} {rule:6} {peer:12} {way:7} {len(values):3}   "
            f"{m[0]:.3f}     {m[1]:.3f}    {m[2]:.3f}"
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    s = sub.add_parser("score", help="score the task files (peers' environment)")
    s.add_argument("work", nargs="+", type=Path)
    s.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("report", help="print the metrics (alad's environment)")
    r.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.step == "score":
        score(args.work, args.out)
    else:
        report(args.folder)


if __name__ == "__main__":
    main()
