"""How per-channel reconstruction errors become one score per timestep.

Chosen on validation halves only, as ``benchmarks/label_variants.py``
chooses the feedback defaults (same tasks, seeds, splits and cached fitted
detectors, plus the embedded synthetic telemetry of ``label_head.py``): the
evaluation part of each label split is cut in two time halves, the first
decides, the second is printed beside it. No label is used: this is the
unsupervised score that the queries, the feedback and the head start from.

``--run`` stores, for each cached detector (the channel score does not
change training, so any cached fit serves), each channel's absolute
reconstruction error per timestep (folded over the scoring windows as the
detector folds its score) on the training data, the unlabelled pool and the
evaluation part.
Without ``--run`` it prints, for each rule of :data:`RULES` (Eq. 4's mean,
squared errors, channels scaled by a training quantile or standardised,
reduced by mean, top-k mean or maximum; two rules that also read the
unlabelled pool's errors to discount a channel that drifted since training),
the metrics on both halves, per data set and pooled.

    python benchmarks/channel_score.py --run     # ~2 minutes on one core
    python benchmarks/channel_score.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from label_head import HEAD_TASKS  # noqa: E402
from label_variants import (  # noqa: E402
    METRICS,
    SEEDS,
    _fitted,
    _mean_row,
    _metrics,
    study_parser,
)


def _quantile_scaled(q):
    def scaled(train, errors, pool=None):
        return errors / np.maximum(np.quantile(train, q, axis=0), 1e-6)

    return scaled


def _standardised(train, errors, pool=None):
    return (errors - np.median(train, axis=0)) / np.maximum(train.std(axis=0), 1e-6)


def _top(k):
    return lambda e: np.sort(e, axis=1)[:, -k:].mean(axis=1)


def _mean(e):
    return e.mean(axis=1)


def _max(e):
    return e.max(axis=1)


def _squared_mean(e):
    return (e**2).mean(axis=1)


def _raw(train, errors, pool=None):
    return errors


def _pool_median_ratio(train, errors, pool):
    """/q.999, widened where the pool's median error exceeds training's.

    A channel whose level drifted between training and the unlabelled pool
    (GECCO's channel 0) has a large error everywhere in the pool; dividing
    by the ratio of medians would discount it while a short anomaly, a
    small share of the pool, leaves the median alone.
    """
    ratio = np.median(pool, axis=0) / np.maximum(np.median(train, axis=0), 1e-6)
    return _quantile_scaled(0.999)(train, errors) / np.maximum(ratio, 1.0)


def _pool_median_shift(train, errors, pool):
    """/q.999 of the error less the pool's excess median error."""
    excess = np.maximum(np.median(pool, axis=0) - np.median(train, axis=0), 0.0)
    return _quantile_scaled(0.999)(train, np.maximum(errors - excess, 0.0))


#: name -> (scaling of each channel by the training errors, reduction)
RULES = {
    "mean (Eq. 4)": (_raw, _mean),
    "mean of squares": (_raw, _squared_mean),
    "mean, /q.99": (_quantile_scaled(0.99), _mean),
    "max, /q.90": (_quantile_scaled(0.90), _max),
    "max, /q.95": (_quantile_scaled(0.95), _max),
    "max, /q.99": (_quantile_scaled(0.99), _max),
    "max, /q.999 (default)": (_quantile_scaled(0.999), _max),
    "max, /max": (_quantile_scaled(1.0), _max),
    "top 2, /q.99": (_quantile_scaled(0.99), _top(2)),
    "top 3, /q.99": (_quantile_scaled(0.99), _top(3)),
    "mean, standardised": (_standardised, _mean),
    "max, standardised": (_standardised, _max),
    "max, /q.999, pool median ratio": (_pool_median_ratio, _max),
    "max, /q.999, pool median shift": (_pool_median_shift, _max),
}


def _channel_errors(det, X, standardized: bool) -> np.ndarray:
    """``(n_timesteps, n_channels)`` absolute errors, folded as the score is."""
    import torch

    from alad.windows import fold_position_scores

    module = det.net_.module_.eval()
    starts = det._scoring_starts(X)
    with torch.no_grad():
        errors = np.concatenate(
            [
                (torch.from_numpy(b) - module(torch.from_numpy(b))).abs().numpy()
                for b in det._window_batches(X, starts, standardized=standardized)
            ]
        ).astype(np.float64)
    return np.stack(
        [
            fold_position_scores(errors[..., c], starts, len(X), det.window_size)
            for c in range(errors.shape[-1])
        ],
        axis=1,
    )


def run(cache: Path, out: Path) -> None:
    import torch

    from alad.experiments.labels import make_label_split
    from alad.experiments.tasks import load_tasks

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    for spec, ratio in HEAD_TASKS.items():
        for task in load_tasks(spec):
            for seed in SEEDS:
                path = out / f"{task.name.replace('/', '_')}_{seed}.npz"
                if path.exists() and "pool" in np.load(path).files:
                    continue
                det = _fitted(task, seed, cache)  # its errors, whatever its score
                split = make_label_split(task, "anomalous", ratio, seed)
                np.savez_compressed(
                    path,
                    train=_channel_errors(det, det._train_data, True),
                    eval=_channel_errors(det, split.X_eval, False),
                    pool=_channel_errors(det, split.X_pool, False),
                    y_eval=split.y_eval,
                )
                print(f"{task.name} seed {seed}: done", file=sys.stderr)


def table(out: Path) -> str:
    cells = {}  # (part, group, rule) -> list of metric dicts
    for path in sorted(out.glob("*.npz")):
        z = np.load(path)
        name = path.stem.rsplit("_", 1)[0]
        group = "msl" if name.startswith("msl") else name
        half = len(z["y_eval"]) // 2
        parts = {"validation": slice(0, half), "test": slice(half, None)}
        for rule, (scaling, reduce) in RULES.items():
            scores = reduce(scaling(z["train"], z["eval"], z["pool"]))
            for part, rows in parts.items():
                m = _metrics(z["y_eval"], scores, rows)
                if m is not None:
                    for g in (group, "all"):
                        cells.setdefault((part, g, rule), []).append(m)
    lines = []
    groups = sorted({g for _, g, _ in cells} - {"all"}) + ["all"]
    for part in ("validation", "test"):
        for group in groups:
            lines.append(f"\n{part} halves, {group} (mean over tasks and seeds)")
            lines.append("| rule | n | " + " | ".join(METRICS.values()) + " |")
            lines.append("|---|---|" + "---|" * len(METRICS))
            for rule in RULES:
                ms = cells.get((part, group, rule), [])
                if ms:
                    lines.append(_mean_row([rule], ms))
    return "\n".join(lines)


def main() -> None:
    parser = study_parser(__doc__)
    parser.add_argument("--out", default="alad_output/channel_score")
    args = parser.parse_args()
    if args.run:
        run(args.cache, Path(args.out))
    if not any(Path(args.out).glob("*.npz")):
        # the channels' errors are a cache of this machine, not committed
        parser.error(f"no channel errors in {args.out}: make them with --run")
    print(table(Path(args.out)))


if __name__ == "__main__":
    main()
