"""How to combine the label-trained window classifier with the detector's score.

Chosen on validation halves only, as ``benchmarks/label_variants.py`` chooses
the feedback defaults (same tasks, seeds, splits and cached fitted
detectors): the evaluation part of each label split is cut in two time
halves, the first decides, the second is printed beside it.

``--run`` continues each cached default detector through the user's loop to
10, 25 and 50 labelled windows (with the score head off, so that the
queries are the backbone's) and stores, per budget, the per-timestep scores
of the evaluation part and of the training data from

- the backbone (the detector's score without a head),
- the window classifier of :mod:`alad.label_head` trained on the labelled
  windows and the same normal windows the detector's head uses,
- an IsolationForest on the rows (a free detector for comparison),

and, for the labelled windows, their classes, the rank each had under the
model that queried it, their rank under the IsolationForest and the window
classifier's held-out probability
(:func:`alad.label_head.held_out_probabilities`), in ``--out`` (``.npz``).
Without ``--run`` it prints, for each way of combining them (:data:`RULES`:
fixed weights, and weights the labelled windows measure: the head's held-out
skill, the detector's ``head_weight="skill"``, the weight that ranks the
labelled windows best, or a committee of backbone and IsolationForest weighed
by their skills on the labelled windows), the metrics on both halves.

    python benchmarks/label_head.py --run
    python benchmarks/label_head.py
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from label_variants import (  # noqa: E402
    METRICS,
    SEEDS,
    TASKS,
    _fitted,
    _halves,
    _mean_row,
    _metrics,
    study_parser,
)

BUDGETS = (10, 25, 50)
#: the label benchmark's tasks, and the embedded synthetic series of the demo
HEAD_TASKS = {**TASKS, "telemetry": 0.2}


def _tail_rank(reference: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The detector's rule (:func:`alad.label_head.reference_rank`)."""
    from alad.label_head import reference_rank

    return reference_rank(np.sort(reference), scores)


def _zscore(reference, scores):
    med = np.median(reference)
    spread = max(np.quantile(reference, 0.99) - med, 1e-12)
    return (scores - med) / spread


def _labelled_auc(y, scores) -> float:
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(y, scores) if 0 < y.sum() < len(y) else 0.5


def _gini_weight(d, fallback=1.0) -> float:
    """The head's weight from its held-out skill on the labelled windows."""
    if d["lp"] is None:
        return fallback
    return max(0.0, 2 * _labelled_auc(d["ly"], d["lp"]) - 1)


def _fitted_weight(d, metric="auc", grid=(0.0, 0.25, 0.5, 1.0, 2.0, 4.0)) -> float:
    """The weight whose sum ranks the labelled windows best (ties: nearest 1)."""
    if d["lp"] is None:
        return 1.0
    from sklearn.metrics import average_precision_score

    def skill(w):
        s = d["lr"] + w * d["lp"]
        if metric == "auc":
            return _labelled_auc(d["ly"], s)
        return average_precision_score(d["ly"], s)

    return max(grid, key=lambda w: (round(skill(w), 9), -abs(np.log2(w + 1e-9))))


def _both_skills(d):
    """The head's weight relative to the backbone's, both by skill."""
    head = _gini_weight(d)
    if d["lr"] is None or d["ly"] is None or not 0 < d["ly"].sum() < len(d["ly"]):
        return head
    backbone = max(0.0, 2 * _labelled_auc(d["ly"], d["lr"]) - 1)
    return head / max(backbone, 0.25)


def _forgiving_weight(d) -> float:
    """min(1, 2 * skill): a good but imperfect head keeps its full weight."""
    return min(1.0, 2 * _gini_weight(d))


def _step_weight(d) -> float:
    """1 when the held-out AUC reaches 0.75 (or cannot be measured), else 0."""
    if d["lp"] is None:
        return 1.0
    return 1.0 if _labelled_auc(d["ly"], d["lp"]) >= 0.75 else 0.0


def _member_skills(d):
    """Backbone's and IsolationForest's skills on the labelled windows, max 1.

    Each is measured on ranks neither learnt from: the backbone's rank of a
    window under the model that queried it, the forest's (it never learns).
    Unmeasurable (no anomalous or no normal window): the backbone alone.
    """
    if d.get("li") is None or not 0 < d["ly"].sum() < len(d["ly"]):
        return 1.0, 0.0
    b = max(0.0, 2 * _labelled_auc(d["ly"], d["lr"]) - 1)
    i = max(0.0, 2 * _labelled_auc(d["ly"], d["li"]) - 1)
    top = max(b, i)
    return (1.0, 0.0) if top == 0 else (b / top, i / top)


def _committee(d, choose=False, head=True):
    b, i = _member_skills(d)
    if choose:
        b, i = (1.0, 0.0) if b >= i else (0.0, 1.0)
    score = b * _tail_rank(d["b_train"], d["b_eval"]) + i * _tail_rank(
        d["i_train"], d["i_eval"]
    )
    return score + (_gini_weight(d) * d["h_eval"] if head else 0)


#: name -> f(data) -> evaluation scores; data holds b_eval, b_train, h_eval, ...
RULES = {
    "committee skill-weighted + gini p": _committee,
    "committee best + gini p": lambda d: _committee(d, choose=True),
    "committee skill-weighted": lambda d: _committee(d, head=False),
    "rank + min(1, 2 gini) p": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + _forgiving_weight(d) * d["h_eval"]
    ),
    "rank + 1[auc >= .75] p": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + _step_weight(d) * d["h_eval"]
    ),
    "rank + p * skill / backbone skill": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + _both_skills(d) * d["h_eval"]
    ),
    "rank + gini p": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + _gini_weight(d) * d["h_eval"]
    ),
    "rank + gini p (none: .5)": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + _gini_weight(d, 0.5) * d["h_eval"]
    ),
    "rank + 2 gini p": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + 2 * _gini_weight(d) * d["h_eval"]
    ),
    "rank + auc-fit p": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + _fitted_weight(d) * d["h_eval"]
    ),
    "rank + ap-fit p": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + _fitted_weight(d, "ap") * d["h_eval"]
    ),
    "backbone": lambda d: d["b_eval"],
    "head": lambda d: d["h_eval"] + 1e-6 * _tail_rank(d["b_train"], d["b_eval"]),
    "iforest": lambda d: d["i_eval"],
    "rank + p": lambda d: _tail_rank(d["b_train"], d["b_eval"]) + d["h_eval"],
    "z + p": lambda d: _zscore(d["b_train"], d["b_eval"]) + d["h_eval"],
    "z + 2p": lambda d: _zscore(d["b_train"], d["b_eval"]) + 2 * d["h_eval"],
    "z + 4p": lambda d: _zscore(d["b_train"], d["b_eval"]) + 4 * d["h_eval"],
    "z + 8p": lambda d: _zscore(d["b_train"], d["b_eval"]) + 8 * d["h_eval"],
    "z + 16p": lambda d: _zscore(d["b_train"], d["b_eval"]) + 16 * d["h_eval"],
    "z + 32p": lambda d: _zscore(d["b_train"], d["b_eval"]) + 32 * d["h_eval"],
    "rank * (1 + p)": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) * (1 + d["h_eval"])
    ),
    "max(rank, p)": lambda d: np.maximum(
        _tail_rank(d["b_train"], d["b_eval"]), d["h_eval"]
    ),
    "rank + p^2": lambda d: _tail_rank(d["b_train"], d["b_eval"]) + d["h_eval"] ** 2,
    "rank + (2p - 1)+": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + np.clip(2 * d["h_eval"] - 1, 0, None)
    ),
    "z + 16 p^2": lambda d: _zscore(d["b_train"], d["b_eval"]) + 16 * d["h_eval"] ** 2,
    "rank + p + iforest rank": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"])
        + d["h_eval"]
        + _tail_rank(d["i_train"], d["i_eval"])
    ),
    "rank + iforest rank": lambda d: (
        _tail_rank(d["b_train"], d["b_eval"]) + _tail_rank(d["i_train"], d["i_eval"])
    ),
}


def run(tasks, cache: Path, out: Path) -> None:
    import torch
    from sklearn.ensemble import IsolationForest

    from alad.active import run_active_learning
    from alad.experiments.labels import make_label_split
    from alad.experiments.tasks import load_tasks
    from alad.label_head import held_out_probabilities

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    for spec in tasks:
        for task in load_tasks(spec):
            for seed in SEEDS:
                path = out / f"{task.name.replace('/', '_')}_{seed}.npz"
                if path.exists():
                    continue
                split = make_label_split(task, "anomalous", HEAD_TASKS[spec], seed)
                det = copy.deepcopy(_fitted(task, seed, cache)).set_params(
                    feedback_steps=120, pool_replay=0.5, score_head="none"
                )
                forest = IsolationForest(random_state=seed).fit(det._train_data)
                arrays = {
                    "y_eval": split.y_eval,
                    "i_eval": -forest.score_samples(det._standardized(split.X_eval)),
                    "i_train": -forest.score_samples(det._train_data),
                }
                spent, ranks, flags = 0, [], []
                for budget in BUDGETS:
                    while spent < budget:  # round by round, to rank each
                        # round's windows by the model that chose them
                        before = len(det._labelled_windows)
                        module = copy.deepcopy(det.net_.module_)
                        scale = det.channel_scale_
                        reference = np.sort(det.decision_scores_)
                        result = run_active_learning(
                            det,
                            split.X_pool,
                            split.y_pool,
                            budget=min(10, budget - spent),
                        )
                        if result.history[-1]["n_labelled"] == 0:
                            break  # the pool has no window left to ask
                        spent += result.history[-1]["n_labelled"]
                        new = det._labelled_windows[before:]
                        chunks = det._position_scores(
                            new,
                            np.arange(len(new)),
                            standardized=True,
                            module=module,
                            scale=scale,
                        )
                        ranks += [_tail_rank(reference, c).mean(axis=1) for c in chunks]
                        targets = np.nan_to_num(det._labelled_targets[before:])
                        flags.append(targets.max(axis=1) > 0)
                    # the head the detector would fit after this round
                    quiet = ~np.isin(det._pool_normal_prints, det._told)
                    pool = det._pool_normal[quiet]
                    head = det._fit_head(
                        det._labelled_windows,
                        det._labelled_targets,
                        pool,
                        det.n_labelled_windows_,
                    )
                    arrays[f"b_eval_{budget}"] = det.decision_function(split.X_eval)
                    arrays[f"b_train_{budget}"] = det.decision_scores_
                    arrays[f"n_{budget}"] = spent
                    # what the labelled windows say of backbone and head:
                    # each window's rank under the model that queried it,
                    # and the head's held-out probability
                    anomalous = np.concatenate(flags)
                    arrays[f"ly_{budget}"] = anomalous
                    arrays[f"lr_{budget}"] = np.concatenate(ranks)
                    windows = det._labelled_windows
                    # ... and their mean rank under the IsolationForest
                    rows = -forest.score_samples(windows.reshape(-1, windows.shape[2]))
                    arrays[f"li_{budget}"] = (
                        _tail_rank(arrays["i_train"], rows)
                        .reshape(windows.shape[:2])
                        .mean(axis=1)
                    )
                    held_out = held_out_probabilities(
                        windows[anomalous],
                        windows[~anomalous],
                        np.concatenate([pool, det._normal_training_windows(500)]),
                        random_state=seed,
                    )
                    if held_out is not None:
                        p = np.empty(len(anomalous))
                        p[anomalous], p[~anomalous] = held_out
                        arrays[f"lp_{budget}"] = p
                    if head is not None:
                        arrays[f"h_eval_{budget}"] = det._head_scores(
                            split.X_eval, head, standardized=False
                        )
                np.savez_compressed(path, **arrays)
                print(f"{task.name} seed {seed}: done", file=sys.stderr)


def table(out: Path, only: str = "") -> str:
    cells = {}  # (rule, budget, part) -> list of metric dicts
    for path in sorted(out.glob(f"{only}*.npz")):
        z = np.load(path)
        split = type("S", (), {"y_eval": z["y_eval"]})
        for budget in BUDGETS:
            if f"b_eval_{budget}" not in z:
                continue
            d = {
                "b_eval": z[f"b_eval_{budget}"],
                "b_train": z[f"b_train_{budget}"],
                "i_eval": z["i_eval"],
                "i_train": z["i_train"],
            }
            # no anomalous window labelled: no head, the score is the backbone's
            name = f"h_eval_{budget}"
            d["h_eval"] = z[name] if name in z else 0 * d["b_eval"]
            # the labelled windows (older caches lack them)
            d["ly"] = z[f"ly_{budget}"] if f"ly_{budget}" in z else None
            d["lr"] = z[f"lr_{budget}"] if f"lr_{budget}" in z else None
            d["lp"] = z[f"lp_{budget}"] if f"lp_{budget}" in z else None
            d["li"] = z[f"li_{budget}"] if f"li_{budget}" in z else None
            for rule, f in RULES.items():
                scores = f(d)
                for part, rows in _halves(split).items():
                    m = _metrics(z["y_eval"], scores, rows)
                    if m is not None:
                        cells.setdefault((rule, budget, part), []).append(m)
    lines = []
    for part in ("validation", "test"):
        lines.append(f"\n{part} halves (mean over tasks and seeds)")
        lines.append("| rule | budget | n | " + " | ".join(METRICS.values()) + " |")
        lines.append("|---|---|---|" + "---|" * len(METRICS))
        for budget in BUDGETS:
            for rule in RULES:
                ms = cells.get((rule, budget, part), [])
                if not ms:
                    continue
                lines.append(_mean_row([rule, budget], ms))
    return "\n".join(lines)


def main() -> None:
    parser = study_parser(__doc__)
    parser.add_argument("--task", action="append", choices=list(HEAD_TASKS))
    parser.add_argument("--out", default="alad_output/label_head")
    parser.add_argument("--only", default="", help="tasks whose file starts so")
    args = parser.parse_args()
    if args.run:
        run(args.task or list(HEAD_TASKS), args.cache, Path(args.out))
    if not any(Path(args.out).glob(f"{args.only}*.npz")):
        # the scores are a cache of this machine, not committed
        parser.error(f"no scores in {args.out}: make them with --run")
    print(table(Path(args.out), args.only))


if __name__ == "__main__":
    main()
