"""The starting model (no label): backbone variants on validation halves.

The label benchmark's starting model (alad without labels) is behind the
best unsupervised peer on GECCO; ``benchmarks/segment_ranks.py`` shows
where: the short anomalies rank among normal timesteps while one channel of
the evaluation part sits far from its training range. This compares
variants of the backbone that need a new fit, on the same tasks, seeds,
splits and halves as ``benchmarks/channel_score.py`` (the first half of each
evaluation part decides, the second is printed beside it; no label is used).

``--run`` fits each variant once per task and seed (cached under
``--cache/<variant>``; the ``default`` variant reuses the fits of
``benchmarks/label_variants.py``) and stores each channel's folded
reconstruction error on the training data and the evaluation part under
``--out/<variant>``; without ``--run`` it prints, per variant, Eq. 4's mean
and the default channel score (the 0.999 quantile, max) on both halves.

    python benchmarks/starting_model.py --run      # fits: ~10 minutes, one core
    python benchmarks/starting_model.py
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from channel_score import RULES, _channel_errors  # noqa: E402
from label_head import HEAD_TASKS  # noqa: E402
from label_variants import (  # noqa: E402
    BASE_FIT,
    METRICS,
    SEEDS,
    _fitted,
    _mean_row,
    _metrics,
    study_parser,
)

#: name -> detector parameters of the fit ("default": the defaults)
VARIANTS = {
    "default": {},
    "instance_norm": {"backbone_params": {"instance_norm": True}},
}
#: the score rules printed (of channel_score.RULES)
SHOWN = ("mean (Eq. 4)", "max, /q.999 (default)")


def _fit(task, seed, variant: str, cache: Path):
    if variant == "default":
        return _fitted(task, seed, cache)
    from alad import ActiveReconstructionDetector

    path = cache / variant / f"{task.name.replace('/', '_')}_{seed}.pkl"
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)
    det = ActiveReconstructionDetector(
        random_state=seed, **BASE_FIT, **VARIANTS[variant]
    )
    det.fit(task.X_train)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(det, f)
    return det


def run(variants, cache: Path, out: Path) -> None:
    import torch

    from alad.experiments.labels import make_label_split
    from alad.experiments.tasks import load_tasks

    torch.set_num_threads(1)
    for variant in variants:
        for spec, ratio in HEAD_TASKS.items():
            for task in load_tasks(spec):
                for seed in SEEDS:
                    path = out / variant / f"{task.name.replace('/', '_')}_{seed}.npz"
                    if path.exists():
                        continue
                    det = _fit(task, seed, variant, cache)
                    split = make_label_split(task, "anomalous", ratio, seed)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.savez_compressed(
                        path,
                        train=_channel_errors(det, det._train_data, True),
                        eval=_channel_errors(det, split.X_eval, False),
                        y_eval=split.y_eval,
                        params=json.dumps(VARIANTS[variant]),
                    )
                    print(f"{variant} {task.name} seed {seed}: done", file=sys.stderr)


def table(out: Path) -> str:
    cells = {}  # (part, group, variant, rule) -> metric dicts
    variants = [v for v in VARIANTS if (out / v).is_dir()]
    # compare on the (task, seed) pairs every variant has
    names = (
        set.intersection(*({p.name for p in (out / v).glob("*.npz")} for v in variants))
        if variants
        else set()
    )
    for variant in variants:
        for name in sorted(names):
            z = np.load(out / variant / name)
            task = Path(name).stem.rsplit("_", 1)[0]
            group = "msl" if task.startswith("msl") else task
            half = len(z["y_eval"]) // 2
            parts = {"validation": slice(0, half), "test": slice(half, None)}
            for rule in SHOWN:
                scaling, reduce = RULES[rule]
                scores = reduce(scaling(z["train"], z["eval"]))
                for part, rows in parts.items():
                    m = _metrics(z["y_eval"], scores, rows)
                    if m is not None:
                        for g in (group, "all"):
                            cells.setdefault((part, g, variant, rule), []).append(m)
    lines = []
    groups = sorted({k[1] for k in cells} - {"all"}) + ["all"]
    for part in ("validation", "test"):
        for group in groups:
            lines.append(f"\n{part} halves, {group} (mean over tasks and seeds)")
            lines.append(
                "| variant | score | n | " + " | ".join(METRICS.values()) + " |"
            )
            lines.append("|---|---|---|" + "---|" * len(METRICS))
            for variant in variants:
                for rule in SHOWN:
                    ms = cells.get((part, group, variant, rule), [])
                    if ms:
                        lines.append(_mean_row([variant, rule], ms))
    return "\n".join(lines)


def main() -> None:
    parser = study_parser(__doc__)
    parser.add_argument("--variant", action="append", choices=list(VARIANTS))
    parser.add_argument("--out", default="alad_output/starting_model")
    args = parser.parse_args()
    if args.run:
        run(args.variant or list(VARIANTS), args.cache, Path(args.out))
    print(table(Path(args.out)))


if __name__ == "__main__":
    main()
