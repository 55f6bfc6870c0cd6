"""Can a handful of labels choose the starting model: plain or window-normalised?

A screen for the committee direction of the labels issue, on the validation
halves of ``benchmarks/label_variants.py`` (same tasks, seeds, splits and
cached fits; the instance-normalised fits are those of
``benchmarks/starting_model.py --run``). The default detector runs the
user's loop, 10 windows a round. Before each round its per-timestep scores
of the pool are kept, so each labelled window has the score of the model
that chose it (a window scored after the feedback has learnt from it would
flatter the plain member). The second member, ``TransformerBackbone(
instance_norm=True)`` without labels, scores the same windows. At 10, 25
and 50 windows each member's skill is the ROC AUC of its window scores
(mean over the window's rows) between the anomalous and the normal
labelled windows; the rules print the metrics of:

- ``plain``: the default detector with its labels;
- ``normalised``: the window-normalised model without labels;
- ``choose``: the member with the higher skill (the plain one on a tie, or
  when the labels hold one class only); ``choose +0.1``: the normalised
  one only if its skill is higher by 0.1;
- ``better of two``: the member better on the half itself (a bound, not a
  rule).

    python benchmarks/backbone_choice.py --run     # ~15 minutes, one core
    python benchmarks/backbone_choice.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from label_head import HEAD_TASKS  # noqa: E402
from label_variants import (  # noqa: E402
    METRICS,
    SEEDS,
    VARIANTS,
    _fitted,
    _halves,
    _metrics,
    _with_params,
    study_parser,
)
from starting_model import _fit  # noqa: E402

RECORDS = Path(__file__).parent / "results" / "backbone_choice.jsonl"
BUDGETS = (10, 25, 50)
RULES = ("plain", "normalised", "choose", "choose +0.1", "better of two")


def _skill(scores: np.ndarray, anomalous: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if anomalous.all() or not anomalous.any():
        return None
    return float(roc_auc_score(anomalous, scores))


def run(tasks, cache: Path) -> None:
    import torch

    from alad.exceptions import PoolExhaustedError
    from alad.experiments.labels import make_label_split
    from alad.experiments.tasks import load_tasks

    torch.set_num_threads(1)
    done = set()
    if RECORDS.exists():
        done = {
            (r["task"], r["seed"])
            for r in map(json.loads, RECORDS.read_text().splitlines())
        }
    for spec in tasks:
        for task in load_tasks(spec):
            for seed in SEEDS:
                if (task.name, seed) in done:
                    continue
                split = make_label_split(task, "anomalous", HEAD_TASKS[spec], seed)
                plain = _with_params(
                    _fitted(task, seed, cache),
                    VARIANTS["steps120+pool+skill+channels+oob"],
                )
                normalised = _fit(task, seed, "instance_norm", cache)
                n_eval = normalised.decision_function(split.X_eval)
                n_pool = normalised.decision_function(split.X_pool)
                w = plain.window_size
                known = np.full(len(split.y_pool), np.nan)
                chosen, p_scores, n_scores, flags = 0, [], [], []
                records = []
                for budget in BUDGETS:
                    while chosen < budget:
                        p_pool = plain.decision_function(split.X_pool)
                        try:
                            idx = plain.query(split.X_pool, y=known, n_queries=10)
                        except PoolExhaustedError:
                            break
                        known[idx] = split.y_pool[idx]
                        plain.partial_fit(split.X_pool[idx], known[idx])
                        rows = idx.reshape(-1, w)
                        chosen += len(rows)
                        p_scores.append(p_pool[rows].mean(axis=1))
                        n_scores.append(n_pool[rows].mean(axis=1))
                        flags.append(split.y_pool[rows].max(axis=1) > 0)
                    anomalous = np.concatenate(flags)
                    skills = {
                        "plain": _skill(np.concatenate(p_scores), anomalous),
                        "normalised": _skill(np.concatenate(n_scores), anomalous),
                    }
                    p_eval = plain.decision_function(split.X_eval)
                    records.append(
                        {
                            "task": task.name,
                            "seed": seed,
                            "budget": budget,
                            "n_labelled": chosen,
                            "n_anomalous": int(anomalous.sum()),
                            "skills": skills,
                            **{
                                f"{member}_{part}": _metrics(split.y_eval, s, rows_)
                                for member, s in (
                                    ("plain", p_eval),
                                    ("normalised", n_eval),
                                )
                                for part, rows_ in _halves(split).items()
                            },
                        }
                    )
                with RECORDS.open("a") as f:
                    for record in records:
                        f.write(json.dumps(record) + "\n")
                print(f"{task.name} seed {seed}: done", file=sys.stderr)


def _pick(record, rule: str, part: str):
    plain, normalised = record[f"plain_{part}"], record[f"normalised_{part}"]
    skills = record["skills"]
    if rule in ("plain", "normalised"):
        return record[f"{rule}_{part}"]
    if rule == "better of two":
        return max(plain, normalised, key=lambda m: m["pa_k_auc"])
    margin = 0.1 if rule == "choose +0.1" else 0.0
    if skills["plain"] is None or skills["normalised"] is None:
        return plain
    return normalised if skills["normalised"] > skills["plain"] + margin else plain


def table(part: str) -> str:
    records = [json.loads(line) for line in RECORDS.read_text().splitlines()]
    records = [r for r in records if r[f"plain_{part}"] is not None]
    lines = []
    groups = {"all": records}
    for r in records:
        name = r["task"].split("/")[0]
        groups.setdefault(name if name != "telemetry" else "telemetry", []).append(r)
    for group, rs in groups.items():
        lines += [
            f"\n{part} halves, {group} (mean over tasks and seeds)",
            "| rule | budget | n | "
            + " | ".join(METRICS.values())
            + " | picks normalised |",
            "|---|---|---|" + "---|" * (len(METRICS) + 1),
        ]
        for budget in BUDGETS:
            cells = [r for r in rs if r["budget"] == budget]
            for rule in RULES:
                ms = [_pick(r, rule, part) for r in cells]
                means = [f"{np.mean([m[k] for m in ms]):.3f}" for k in METRICS]
                picks = sum(
                    _pick(r, rule, part) is r[f"normalised_{part}"] for r in cells
                )
                lines.append(
                    f"| {rule} | {budget} | {len(cells)} | "
                    + " | ".join(means)
                    + f" | {picks} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = study_parser(__doc__)
    parser.add_argument("--task", action="append", choices=list(HEAD_TASKS))
    parser.add_argument("--part", default="validation", choices=("validation", "test"))
    args = parser.parse_args()
    if args.run:
        run(args.task or list(HEAD_TASKS), args.cache)
    print(table(args.part))


if __name__ == "__main__":
    main()
