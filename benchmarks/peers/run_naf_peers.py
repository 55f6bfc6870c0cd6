"""Run the label-taking tabular peers of ``benchmarks/naf_labels.py``.

Runs in the peers' own virtual environment (``bash
benchmarks/peers/make_peer_env.sh``), like ``run_peers.py``, whose helpers
(standardising, seeding, DeepOD's torch-2 patch, writing score files) it
reuses; it imports numpy, ``run_peers`` and the peers only, never alad.

``benchmarks/naf_labels.py --run`` writes one task file per task and seed
(``WORK/tasks/<task>/seed<k>.npz``, the keys of
``alad.experiments.labels.exchange.write_task_file``): ``X_train`` (the normal
training part, series flattened), ``X_pool`` / ``y_pool``, ``X_eval`` /
``y_eval`` (the validation part followed by the evaluation part) and, for
each number ``b`` of labelled samples, ``idx_b<b>`` (the rows of the pool the
default NAFALDetector queried, in order) and ``y_b<b>`` (their labels). This
script writes one score per row of ``X_eval`` to
``WORK/scores/<task>/seed<k>/<peer>_b<b>.npy`` (``.err`` when a peer fails).

The semi-supervised setting of ADBench (Han et al., NeurIPS 2022): every
label-taking peer is fitted on the training part followed by the whole pool,
``y = 1`` on the labelled anomalies and ``y = 0`` everywhere else (unlabelled
samples are taken as normal, as ADBench feeds them; labelled normals are 0
too). The plain supervised classifier (``extratrees``) learns from the
labelled samples and the training part (normal by construction of the
novelty split), without the unlabelled pool.

Usage (from the repository root)::

    benchmarks/.venv-peers/bin/python benchmarks/peers/run_naf_peers.py \\
        --work alad_output/naf_labels.work [--peers extratrees]

Runs whose score file (or ``.err``) exists are skipped; ``--force`` reruns.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_peers  # noqa: E402  (the helpers of the series peers)

PEERS = (
    "pyod_xgbod",
    "pyod_devnet",
    "deepod_devnet",
    "deepod_prenet",
    "deepod_deepsad",
    "extratrees",
)

#: CPU-short settings (one thread, 2-core CPU): DeepOD's 100 epochs and
#: PyOD DevNet's 50 cut to 20; network sizes, learning rates and XGBOD's
#: detectors are the packages' defaults.
SETTINGS = {
    "pyod_xgbod": {"n_estimators": 100},
    "pyod_devnet": {"epochs": 20},
    "deepod_devnet": {"epochs": 20},
    "deepod_prenet": {"epochs": 20},
    "deepod_deepsad": {"epochs": 20},
    "extratrees": {"n_estimators": 300},
}
QUICK = {
    "pyod_xgbod": {"n_estimators": 10},
    "pyod_devnet": {"epochs": 1},
    "deepod_devnet": {"epochs": 1},
    "deepod_prenet": {"epochs": 1},
    "deepod_deepsad": {"epochs": 1},
    "extratrees": {"n_estimators": 20},
}


def semi_supervised(data, budget):
    """ADBench's training set: training part and pool, 1 on labelled anomalies."""
    X = np.concatenate([data["X_train"], data["X_pool"]])
    y = np.zeros(len(X), dtype=np.int64)
    idx = data[f"idx_b{budget}"]
    y[len(data["X_train"]) + idx] = data[f"y_b{budget}"]
    if not y.any():
        raise ValueError(
            f"no anomaly among the {len(idx)} samples labelled at {budget}: this "
            "peer learns from labelled anomalies"
        )
    return X, y


def run_pyod_xgbod(data, seed, s, budget):
    from pyod.models.xgbod import XGBOD

    X, y = semi_supervised(data, budget)
    model = XGBOD(random_state=seed, n_jobs=1, **s).fit(X, y)
    return model.decision_function(data["X_eval"])


def run_pyod_devnet(data, seed, s, budget):
    from pyod.models.devnet import DevNet

    run_peers._seed(seed)
    X, y = semi_supervised(data, budget)
    model = DevNet(random_seed=seed, device="cpu", **s).fit(X, y)
    return model.decision_function(data["X_eval"])


def _deepod(cls, data, seed, s, budget):
    X, y = semi_supervised(data, budget)
    model = cls(device="cpu", random_state=seed, verbose=0, **s)
    model.fit(X, y)
    return model.decision_function(data["X_eval"])


def run_deepod_devnet(data, seed, s, budget):
    from deepod.models.tabular import DevNet

    return _deepod(DevNet, data, seed, s, budget)


def run_deepod_prenet(data, seed, s, budget):
    from deepod.models.tabular import PReNet

    return _deepod(PReNet, data, seed, s, budget)


def run_deepod_deepsad(data, seed, s, budget):
    from deepod.models.tabular import DeepSAD

    return _deepod(DeepSAD, data, seed, s, budget)


def run_extratrees(data, seed, s, budget):
    from sklearn.ensemble import ExtraTreesClassifier

    idx = data[f"idx_b{budget}"]
    labels = data[f"y_b{budget}"].astype(np.int64)
    if not labels.any():
        raise ValueError(f"no anomaly among the {len(idx)} samples labelled")
    X = np.concatenate([data["X_train"], data["X_pool"][idx]])
    y = np.r_[np.zeros(len(data["X_train"]), np.int64), labels]
    model = ExtraTreesClassifier(
        class_weight="balanced", n_jobs=1, random_state=seed, **s
    ).fit(X, y)
    return model.predict_proba(data["X_eval"])[:, 1]


def run_task(path: Path, work: Path, peers, quick: bool, force: bool, log) -> int:
    """Every missing score file of one task file; returns the number made."""
    raw = run_peers.read_task_file(path)
    meta, seed = raw["meta"], int(raw["meta"]["seed"])
    data = run_peers.standardised(raw)
    n_eval = len(data["X_eval"])
    out_dir = work / "scores" / path.parent.name / path.stem
    versions = run_peers._versions()
    made = 0
    for peer in peers:
        settings = (QUICK if quick else SETTINGS)[peer]
        for budget in meta["budgets"]:
            target = out_dir / f"{peer}_b{budget}.npy"
            if not force and (target.exists() or target.with_suffix(".err").exists()):
                continue
            log(f"{path.parent.name}/{path.stem}: {peer}_b{budget}")
            start = time.process_time(), time.perf_counter()
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    scores = globals()[f"run_{peer}"](
                        data, seed, dict(settings), budget
                    )
                scores = np.asarray(scores, dtype=np.float64).ravel()
                if scores.shape != (n_eval,) or not np.isfinite(scores).all():
                    raise ValueError(
                        f"{scores.shape} scores for {n_eval} rows, or not finite"
                    )
            except Exception as exc:  # a failed peer is reported, not fatal
                target.parent.mkdir(parents=True, exist_ok=True)
                target.with_suffix(".err").write_text(
                    traceback.format_exc() + f"\n{type(exc).__name__}: {exc}\n"
                )
                log(f"  failed: {type(exc).__name__}: {exc}")
                continue
            info = {
                "peer": peer,
                "budget": budget,
                "settings": settings,
                "quick": quick,
                "cpu_seconds": time.process_time() - start[0],
                "seconds": time.perf_counter() - start[1],
                "versions": versions,
                "task_meta": meta,
            }
            run_peers._write(target, scores, info)
            made += 1
    return made


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, help="the work folder of naf_labels")
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--quick", action="store_true", help="tiny settings (tests)")
    parser.add_argument("--force", action="store_true", help="rerun existing ones")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    work = Path(args.work)
    files = sorted((work / "tasks").glob("*/seed*.npz"))
    if not files:
        print(f"no task files under {work / 'tasks'}", file=sys.stderr)
        return 1

    def log(text):
        print(text, file=sys.stderr, flush=True)

    made = sum(
        run_task(f, work, args.peers, args.quick, args.force, log) for f in files
    )
    log(f"{made} score file(s) written under {work / 'scores'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
