"""The NAF-AL studies of docs/nafal.rst: collapse, augmentation timing, feedback.

The tables of the paper are a protocol of the harness
(``alad benchmark --protocol nafal``, :mod:`alad.experiments.nafal`); these
studies print the other figures quoted in docs/nafal.rst:

- ``collapse``: feature variance and log-likelihood over epochs with and
  without the extractor's volume term (cardio);
- ``timing``: the augmentation step on cardio;
- ``feedback``: does ``partial_fit`` with ``y == 1`` help? (the user's loop,
  :func:`alad.active.run_active_learning`, with both labels or normals only);
- ``densities``: is it the views or the flow? ``NAFALDetector()``'s flow
  against a Gaussian and a 10-component Gaussian mixture fitted to the same
  views (the digits of the held-out check, wdbc, cardio).

Usage::

    python benchmarks/naf_studies.py --study collapse \\
        --out benchmarks/results/naf_study_collapse.json
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from alad.active import run_active_learning  # noqa: E402
from alad.datasets import load_odds, novelty_split  # noqa: E402
from alad.detectors.nafal import NAFALDetector  # noqa: E402
from alad.experiments.machine import cpu_model  # noqa: E402
from alad.experiments.nafal import (  # noqa: E402
    PINNED,
    f1_at_ratio,
    steps_to_epochs,
)
from alad.experiments.store import write_json  # noqa: E402


# -- studies -------------------------------------------------------------------
class _Probe(Callback):
    """skorch callback: features and log-likelihoods of fixed views per epoch."""

    def __init__(self, views, k, log):
        self.views, self.k, self.log = views, k, log

    def on_epoch_end(self, net, **kwargs):
        module = net.module_
        module.eval()
        with torch.no_grad():
            views = torch.as_tensor(self.views)
            k = torch.as_tensor(self.k)
            feats = module.features(views)
            lp = module.view_log_prob(views, k)
            flow_lp = module.flow(module.embedding(k)).log_prob(feats)
        self.log.append(
            {
                "epoch": len(net.history),
                "feature_variance": float(feats.var(0).mean()),
                "log_lik": float(lp.mean()),
                "flow_log_lik": float(flow_lp.mean()),
                "train_loss": float(net.history[-1, "train_loss"]),
            }
        )
        module.train()


def study_collapse(seed=0, epochs=40):
    """Feature variance and log-likelihood per epoch for each extractor_volume."""
    torch.set_num_threads(1)
    data = load_odds("cardio")
    split = novelty_split(data.X, data.y, random_state=seed)
    records = {}
    for volume in ("free", "logdet", "fixed"):
        log = []

        det = NAFALDetector(
            **PINNED,
            n_transforms=64,
            train_views=8,
            batch_size=64,
            max_epochs=1,
            n_iterations=0,
            extractor_volume=volume,
            random_state=seed,
        ).fit(split.X_train)  # builds the model; training continues below
        with torch.no_grad():
            module = det.net_.module_
            views = module.views(torch.as_tensor(det._train_x)).numpy()
        rng = np.random.default_rng(seed)
        probe_k = rng.integers(views.shape[1], size=len(views))
        probe_views = views[np.arange(len(views)), probe_k]
        det.net_.callbacks_.append(("probe", _Probe(probe_views, probe_k, log)))
        for e in range(epochs):
            # one more epoch through the detector's own transactional round;
            # the round trains a copy of the net, the probe's log with it
            state, _, _ = det._train_round(det._state(), 1, seed + e)
            det._commit(state)
            log = dict(det.net_.callbacks_)["probe"].log
            s = det.decision_function(split.X_test) if (e + 1) % 10 == 0 else None
            if s is not None:
                log[-1]["test_auc"] = float(roc_auc_score(split.y_test, s))
                log[-1]["test_f1"] = f1_at_ratio(split.y_test, s)
            print(volume, log[-1], flush=True)
        records[volume] = log
    return records


def study_timing(seed=0, passes=(2, None)):
    """Seconds per augmentation round on cardio (draw + filters, and training)."""
    torch.set_num_threads(1)
    out = {}
    # raw zuko NAF sampling (untrained, the paper's small-data size: 4 blocks,
    # 2 x 128 hidden units): seconds for 512 draws, by feature size and passes
    from alad.flows import make_naf

    for features in (16, 8):
        for p in (None, 2):
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                flow = make_naf(features, 8, passes=p)
                context = torch.randn(512, 8)
                flow(context).sample()  # warm-up
                wall = time.perf_counter()
                with torch.no_grad():
                    flow(context).sample()
                wall = time.perf_counter() - wall
            key = f"raw NAF, 512 draws, features={features}, passes={p}"
            out[key] = {"sampling_s": wall}
            print(key, out[key], flush=True)
    data = load_odds("cardio")
    split = novelty_split(data.X, data.y, random_state=seed)
    for p in passes:
        for K in (64, 256):
            det = NAFALDetector(
                **PINNED,
                n_transforms=K,
                flow_passes=p,
                train_views=8,
                batch_size=64,
                max_epochs=steps_to_epochs(200, len(split.X_train), 64),
                augment_epochs=steps_to_epochs(40, len(split.X_train), 64),
                n_iterations=0,
                random_state=seed,
            ).fit(split.X_train)
            wall, cpu = time.perf_counter(), time.process_time()
            det.augment(5)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            hist = det.augmentation_history_
            key = f"passes={p}, n_transforms={K}"
            out[key] = {
                "rounds": len(hist),
                "drawn_per_round": hist[0]["n_drawn"],
                "sampling_s": sum(h["seconds_sampling"] for h in hist),
                "filtering_s": sum(h["seconds_filtering"] for h in hist),
                "training_s": sum(h["seconds_training"] for h in hist),
                "augment_total_wall_s": wall,
                "augment_total_cpu_s": cpu,
                "views_added": det.n_augmented_,
            }
            print(key, out[key], flush=True)
    return out


def _hide_anomalies(labels):
    """The labeller of the ``normals_only`` arm: anomalies left unlabelled."""
    labels = np.asarray(labels, dtype=np.float64).copy()
    labels[labels == 1] = np.nan
    return labels


def study_feedback(seeds=(0, 1, 2), rounds=5, n_queries=10):
    """Query/partial_fit on cardio: labels of both classes vs normals only.

    Train on 50% of the normals; the test split of the protocol is halved into
    a pool (queried, labelled by the simulated oracle) and an evaluation part.
    Two arms from one fitted NAF-AD and the same queries policy: ``y`` as
    labelled, and ``y == 1`` hidden (set to nan, so only the normals are
    learnt from; a round that queried anomalies only trains nothing).
    """
    torch.set_num_threads(1)
    data = load_odds("cardio")
    rows = []
    for seed in seeds:
        split = novelty_split(data.X, data.y, random_state=seed)
        rng = np.random.default_rng(seed)
        pool = rng.random(len(split.y_test)) < 0.5
        Xp, yp = split.X_test[pool], split.y_test[pool]
        Xe, ye = split.X_test[~pool], split.y_test[~pool]
        base = NAFALDetector(
            **{**PINNED, "feedback_epochs": 3},  # the study's 3 epochs per round
            n_transforms=64,
            train_views=8,
            batch_size=64,
            n_iterations=0,
            max_epochs=steps_to_epochs(200, len(split.X_train), 64),
            random_state=seed,
        ).fit(split.X_train)
        row = {
            "seed": seed,
            "before": roc_auc_score(ye, base.decision_function(Xe)),
            "before_f1": f1_at_ratio(ye, base.decision_function(Xe)),
        }
        for arm in ("both", "normals_only"):
            det = copy.deepcopy(base)
            run = run_active_learning(
                det,
                Xp,
                yp,
                budget=rounds * n_queries,
                n_queries=n_queries,
                answer=_hide_anomalies if arm == "normals_only" else None,
            )
            s = det.decision_function(Xe)
            row[arm] = roc_auc_score(ye, s)
            row[arm + "_f1"] = f1_at_ratio(ye, s)
            row[arm + "_anomalies_queried"] = run.history[-1]["n_anomalous_labelled"]
        print(row, flush=True)
        rows.append(row)
    return rows


def _view_arrays(det, X):
    """The fitted detector's views ``(n, K, m)`` of ``X`` and its NLL of each
    view ``(n, K)`` (Eq. 7 before the mean over the views)."""
    module = det.net_.module_
    module.eval()
    flat = torch.as_tensor(det._standardized(X), dtype=torch.float32)
    with torch.no_grad():
        return (
            module.views(flat).double().numpy(),
            module.view_scores(flat).double().numpy(),
        )


def study_densities(sets=("digits", "wdbc", "cardio"), seeds=(0, 1, 2), steps=None):
    """Per data set and seed: the training NLL per view (nats) and the test
    ROC AUC of the flow of ``NAFALDetector()`` and of a Gaussian and a
    10-component Gaussian mixture (full covariances) fitted to each of the
    same views, every model scored by Eq. 7's mean over the views."""
    from naf_heldout import BUNDLED, bundled
    from sklearn.mixture import GaussianMixture

    torch.set_num_threads(1)
    # the study of the standard normal base the mixture base answers
    params = {"base_components": 0}
    if steps is not None:
        params["max_steps"] = steps
    rows = []
    for name in sets:
        data = bundled(name) if name in BUNDLED else load_odds(name)
        X, y = data if isinstance(data, tuple) else (data.X, data.y)
        for seed in seeds:
            split = novelty_split(X, y, random_state=seed)
            start = time.process_time()
            det = NAFALDetector(random_state=seed, **params).fit(split.X_train)
            fit_s = time.process_time() - start
            train_views, train_nll = _view_arrays(det, split.X_train)
            test_views, test_nll = _view_arrays(det, split.X_test)
            row = {
                "dataset": name,
                "seed": seed,
                "params": params,
                "fit_cpu_s": fit_s,
                "flow_train_nll": float(train_nll.mean()),
                "flow_roc_auc": roc_auc_score(split.y_test, test_nll.mean(1)),
            }
            for label, n in (("gauss", 1), ("gmm10", 10)):
                fitted = [
                    GaussianMixture(n, reg_covar=1e-3, random_state=seed).fit(
                        train_views[:, k]
                    )
                    for k in range(train_views.shape[1])
                ]
                train = [
                    -g.score_samples(train_views[:, k]) for k, g in enumerate(fitted)
                ]
                test = [
                    -g.score_samples(test_views[:, k]) for k, g in enumerate(fitted)
                ]
                row[f"{label}_train_nll"] = float(np.mean(train))
                row[f"{label}_roc_auc"] = roc_auc_score(split.y_test, np.mean(test, 0))
            print(row, flush=True)
            rows.append(row)
    return rows


def _machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--study",
        choices=("collapse", "timing", "feedback", "densities"),
        required=True,
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="max_steps of densities' detector"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="seeds of feedback and densities",
    )
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    used = sys.argv[1:] if argv is None else list(argv)
    result = {
        "command": " ".join(["python", "benchmarks/naf_studies.py", *used]),
        "machine": _machine(),
    }
    if args.study == "collapse":
        result["collapse"] = study_collapse()
    elif args.study == "timing":
        result["timing"] = study_timing()
    elif args.study == "densities":
        result["densities"] = study_densities(seeds=tuple(args.seeds), steps=args.steps)
    else:
        result["feedback"] = study_feedback(tuple(args.seeds))
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
