"""The command-line entry point: ``alad demo`` and ``alad benchmark``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(
        out_dir=args.out,
        rounds=args.rounds,
        per_round=args.per_round,
        random_state=args.random_state,
        device=args.device,
        verbose=args.verbose,
    )
    return 0


def _json_arg(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {text!r} ({exc})") from exc


def _benchmark(args: argparse.Namespace) -> int:
    from .experiments import ABLATIONS, GRIDS, run_benchmark

    if args.grid in GRIDS:
        grid = GRIDS[args.grid]
    else:
        grid = _json_arg(args.grid)
    validation = args.validation_ratio
    if validation is None:
        validation = 0.25 if grid else 0.0
    active = {
        k: getattr(args, k)
        for k in ("top_k", "n_bins", "per_bin", "budget", "feedback_epochs")
        if getattr(args, k) is not None
    }
    store = run_benchmark(
        args.dataset,
        backbones=args.backbone,
        baselines=[] if args.no_baselines else args.baseline,
        settings=tuple(args.setting),
        ablations=list(ABLATIONS) if args.ablation else [],
        seeds=args.seeds,
        unlabeled_ratio=args.unlabeled_ratio,
        grid=grid,
        active=active,
        validation_ratio=validation,
        params=args.params,
        out=args.out,
        cache_dir=args.cache,
        data_home=args.data_home,
        progress=not args.quiet,
    )
    return _report_from(list(store), args)


def _report(args: argparse.Namespace) -> int:
    from .experiments import read_records

    return _report_from(read_records(args.results), args)


def _report_from(records: list[dict], args: argparse.Namespace) -> int:
    from .experiments import format_report, load_labels, save_figures

    labels = load_labels(records)
    print(format_report(records, labels))
    for path, fmt in ((args.markdown, "markdown"), (args.rst, "rst")):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(format_report(records, labels, fmt) + "\n")
    if args.figures:
        for path in save_figures(records, labels, args.figures):
            print(f"wrote {path}")
    return 0


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", help="write the tables to this markdown file")
    parser.add_argument("--rst", help="write the tables as reStructuredText here")
    parser.add_argument("--figures", help="write score, PA%%K and budget plots here")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alad", description="Active-learning anomaly detection."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="the active-learning loop on the embedded telemetry series",
        description="Fit a Transformer detector on the embedded telemetry "
        "series, then query, label (with the generator's labels) and learn for "
        "a few rounds, printing F1_PA, F1 and PA%%K AUC after each round and "
        "writing PNGs of the scores.",
    )
    demo.add_argument("--out", default="alad_output", help="folder for the PNGs")
    demo.add_argument("--rounds", type=int, default=4)
    demo.add_argument("--per-round", type=int, default=10, help="windows per round")
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument("--device", default="cpu", help="cpu, auto, cuda or cuda:N")
    demo.add_argument("--verbose", type=int, default=0)
    demo.set_defaults(run=_demo)

    bench = commands.add_parser(
        "benchmark",
        help="the papers' experiments: Table 2 settings, seeds, search, ablation",
        description="Run (or resume) the protocol of Han et al.'s Table 2 on real "
        "data: each backbone trained on the training part (w/o unlabeled), on the "
        "training part and the unlabelled pool (w/ unlabeled), and with active "
        "learning until the budget (active), next to IsolationForest and "
        "LocalOutlierFactor; F1_PA, F1, PA%%K AUC, ROC AUC and AP on the "
        "evaluation part, over seeds. Finished runs are appended to --out and "
        "skipped when the command is rerun.",
    )
    bench.add_argument(
        "--dataset",
        action="append",
        required=True,
        help="gecco, msl, msl:C-1,M-6, ucr, ucr:1, telemetry (repeatable)",
    )
    bench.add_argument("--backbone", action="append", help="backbone name (repeatable)")
    bench.add_argument(
        "--baseline",
        action="append",
        choices=["iforest", "lof"],
        help="sklearn baseline (repeatable; default both)",
    )
    bench.add_argument("--no-baselines", action="store_true")
    bench.add_argument(
        "--setting",
        action="append",
        choices=["w/o unlabeled", "w/ unlabeled", "active"],
        help="training setting (repeatable; default all three)",
    )
    bench.add_argument(
        "--ablation", action="store_true", help="also run the ablations of Figure 8"
    )
    bench.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    bench.add_argument("--unlabeled-ratio", type=float, default=0.2)
    bench.add_argument("--budget", type=int, help="windows to label (default 50)")
    bench.add_argument("--top-k", type=int, help="k of top-k sampling (default 5)")
    bench.add_argument("--n-bins", type=int, help="G of interval sampling (default 5)")
    bench.add_argument("--per-bin", type=int, help="g of interval sampling (default 1)")
    bench.add_argument("--feedback-epochs", type=int, help="default 10")
    bench.add_argument(
        "--grid",
        default="none",
        help="search over the active configuration: none, small, paper, or a JSON "
        "dict of lists such as '{\"top_k\": [5, 10]}'",
    )
    bench.add_argument(
        "--validation-ratio",
        type=float,
        help="share of the part after the pool held out to choose the grid's "
        "configuration (default 0.25 with a grid, else 0)",
    )
    bench.add_argument(
        "--params",
        type=_json_arg,
        default={},
        help="detector parameters as JSON, e.g. '{\"max_epochs\": 20}'",
    )
    bench.add_argument("--out", default="alad_output/benchmark.jsonl")
    bench.add_argument("--cache", help="models and scores (default: OUT.cache)")
    bench.add_argument("--data-home", help="the data home (default: ALAD_DATA_HOME)")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_report_options(bench)
    bench.set_defaults(run=_benchmark)

    report = commands.add_parser(
        "report", help="tables and figures from benchmark results"
    )
    report.add_argument("results", nargs="+", help="JSON-lines files of `benchmark`")
    _add_report_options(report)
    report.set_defaults(run=_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``alad`` command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "benchmark":
        args.backbone = args.backbone or ["transformer"]
        args.baseline = args.baseline or ["iforest", "lof"]
        args.setting = args.setting or ["w/o unlabeled", "w/ unlabeled", "active"]
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
