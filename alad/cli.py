"""The command-line entry point: ``alad demo``, ``benchmark``, ``report``, ``label``.

Arguments are parsed before anything heavy is imported: ``alad --help`` and
``alad --version`` never import torch or scikit-learn, and a wrong argument is
an argparse error (usage, message, exit status 2), not a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .experiments.engine import PROTOCOLS
from .experiments.tasks import DATASETS, NAFAL_DATASETS
from .labelling.cli import add_parser as _add_label_parser

__all__ = ["build_parser", "main"]

#: What ``--dataset`` accepts, per protocol (the part before ``:`` for Han's).
PROTOCOL_DATASETS = {
    "han": tuple(sorted(DATASETS)),
    "nafal": NAFAL_DATASETS,
    "labels": tuple(sorted(DATASETS)),
}

#: Options of one protocol only: name -> protocol.
HAN_ONLY = (
    "backbone",
    "baseline",
    "no_baselines",
    "setting",
    "ablation",
    "unlabeled_ratio",
    "budget",
    "top_k",
    "n_bins",
    "per_bin",
    "feedback_epochs",
    "grid",
    "validation_ratio",
    "cache",
    "figures",
)
NAFAL_ONLY = ("table", "quick", "n_jobs")
LABELS_ONLY = ("split", "budgets", "pool_ratio", "peer", "peer_command", "work")
#: The options each protocol takes, of those above.
PROTOCOL_OPTIONS = {
    "han": HAN_ONLY,
    "nafal": NAFAL_ONLY,
    "labels": (*LABELS_ONLY, "backbone", "figures"),
}


class _Formatter(argparse.HelpFormatter):
    """Paragraphs of descriptions kept; each option's default after its help.

    Options without a default (``None``, ``False``, empty) say nothing, rather
    than ``(default: None)``.
    """

    def _fill_text(self, text, width, indent):
        return "\n\n".join(
            super(_Formatter, self)._fill_text(part, width, indent)
            for part in text.split("\n\n")
        )

    def _get_help_string(self, action):
        help_text = action.help or ""
        default = action.default
        # by identity: ``0 in (None, False)`` is true, and a default of 0 (the
        # demo's seed) must be shown
        if (
            "%(default)" in help_text
            or any(default is empty for empty in (None, False, argparse.SUPPRESS))
            or default in ([], {})
            or not action.option_strings
        ):
            return help_text
        return help_text + " (default: %(default)s)"


def _json_arg(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {text!r} ({exc})") from exc


def _json_dict(text: str) -> dict:
    value = _json_arg(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def _int_at_least(minimum: int, maximum: int | None = None):
    """An argparse type: an integer ``>= minimum`` (and ``<= maximum``)."""
    expected = f"an integer >= {minimum}"
    upper = float("inf") if maximum is None else maximum
    if maximum is not None:
        expected = f"an integer from {minimum} to {maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not minimum <= value <= upper:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


#: an argparse type: a seed NumPy accepts
_seed = _int_at_least(0, 2**32 - 1)


def _grid_arg(text: str):
    """A grid's name (checked later, against the protocol's) or a JSON object."""
    return _json_dict(text) if text.lstrip().startswith("{") else text


def _pool_ratio_arg(text: str) -> tuple[str | None, float]:
    """``0.2`` (every data set) or ``msl=0.5`` (one): ``(name or None, ratio)``."""
    name, sep, value = text.rpartition("=")
    try:
        ratio = float(value)
    except ValueError:
        ratio = None
    if ratio is None or not 0 < ratio < 1 or (sep and not name):
        raise argparse.ArgumentTypeError(
            f"expected RATIO or DATASET=RATIO with RATIO in (0, 1), got {text!r}"
        )
    return (name or None), ratio


def _pool_ratios(given: list[tuple[str | None, float]] | None, default) -> dict:
    """The pool ratios of ``--pool-ratio``: a bare ratio for every data set not named.

    Without a bare ratio, the named ones change the protocol's ``default``.
    """
    bare = [ratio for name, ratio in given or [] if name is None]
    ratios = {"default": bare[-1]} if bare else dict(default)
    ratios.update((name, ratio) for name, ratio in given or [] if name is not None)
    return ratios


def _user_path(text: str) -> str:
    """A path as given, ``~`` expanded: the shell leaves it in ``--out=~/x``."""
    return str(Path(text).expanduser())


def _results_file(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such results file: {text!r}")
    return path


def _writable_folder(folder) -> None:
    """Raise OSError unless ``folder`` (or, where it is not yet, the folder it
    would be made in) takes a file: a place that cannot be written is said
    before the work, not after it. Makes nothing."""
    import tempfile

    folder = Path(folder).absolute()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise NotADirectoryError(f"{existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise OSError(f"{existing} cannot be written ({exc.strerror})") from exc


def _check_out(args: argparse.Namespace, out, **folders) -> None:
    """A ``--out`` that is no results file (a folder, another file) or cannot
    be written, and the folders (option name -> path) the runs write, are
    refused before the first run, rather than with a traceback after it."""
    from .experiments.store import ResultStore

    try:
        ResultStore(out)
        _writable_folder(Path(out).parent)
    except (ValueError, OSError) as exc:
        args.parser.error(f"argument --out: {exc}")
    for option, folder in folders.items():
        try:
            _writable_folder(folder)
        except OSError as exc:
            args.parser.error(f"argument --{option}: {exc}")
    _check_report_outputs(args, [out, *folders.values()])


def _check_report_outputs(args: argparse.Namespace, inputs) -> None:
    """``--markdown``, ``--rst`` and ``--figures`` must not name what the
    runs read or write (a results file overwritten by its own table loses
    hours of runs), nor a place that cannot take them: said before the work."""
    taken = {Path(p).expanduser().resolve() for p in inputs}
    for option in ("markdown", "rst", "figures"):
        path = getattr(args, option, None)
        if not path:
            continue
        here = Path(path).expanduser().resolve()
        if here in taken:
            args.parser.error(
                f"argument --{option}: {path} is a results file or folder of "
                "the runs; the report would overwrite it."
            )
        if option != "figures" and here.is_dir():
            args.parser.error(f"argument --{option}: {path} is a folder.")
        try:
            _writable_folder(here if option == "figures" else here.parent)
        except OSError as exc:
            args.parser.error(f"argument --{option}: {exc}")


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    from .runtime import resolve_device

    try:  # before the data and the fit, not after them
        resolve_device(args.device)
    except ValueError as exc:
        args.parser.error(f"argument --device: {exc}")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        args.parser.error(f"argument --out: {args.out!r} is a file, not a folder")
    try:
        _writable_folder(args.out)
    except OSError as exc:
        args.parser.error(f"argument --out: {exc}")
    run_demo(
        out_dir=args.out,
        rounds=args.rounds,
        per_round=args.per_round,
        random_state=args.random_state,
        device=args.device,
        verbose=args.verbose,
    )
    return 0


def _check_benchmark(args: argparse.Namespace) -> None:
    """Errors argparse cannot see alone: options of the other protocol, names."""
    error = args.parser.error
    mine = PROTOCOL_OPTIONS[args.protocol]
    given = [
        name
        for name in dict.fromkeys(HAN_ONLY + NAFAL_ONLY + LABELS_ONLY)
        # by identity: a value of 0 is given too (0 == False)
        if name not in mine
        and getattr(args, name) is not None
        and getattr(args, name) is not False
    ]
    if given:
        owners = [p for p, names in PROTOCOL_OPTIONS.items() if given[0] in names]
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        error(f"{flags}: only with --protocol {' or '.join(owners)}")
    known = PROTOCOL_DATASETS[args.protocol]
    tasks = args.protocol in ("han", "labels")  # data sets with entities
    for spec in args.dataset or []:
        name = spec.partition(":")[0] if tasks else spec
        if name not in known:
            error(
                f"argument --dataset: unknown data set {spec!r} for --protocol "
                f"{args.protocol}; choose from {', '.join(known)}"
            )
    if tasks and not args.dataset:
        error("the following arguments are required: --dataset")
    # a seed or data set named twice is one (their runs would be made twice)
    args.seeds = list(dict.fromkeys(args.seeds))
    args.dataset = list(dict.fromkeys(args.dataset)) if args.dataset else args.dataset


def _benchmark(args: argparse.Namespace) -> int:
    _check_benchmark(args)
    if args.protocol == "nafal":
        return _benchmark_nafal(args)
    if args.protocol == "labels":
        return _benchmark_labels(args)
    from .experiments import han
    from .experiments.engine import run_jobs
    from .experiments.store import beside

    grid = args.grid or "none"
    if isinstance(grid, str):
        if grid not in han.GRIDS:
            args.parser.error(
                f"argument --grid: expected one of {', '.join(han.GRIDS)} or a JSON "
                f"object, got {grid!r}"
            )
        grid = han.GRIDS[grid]
    if args.no_baselines and args.baseline:
        args.parser.error("--no-baselines and --baseline: give one of them")
    validation = args.validation_ratio
    if validation is None:
        validation = 0.25 if grid else 0.0
    active = {
        k: getattr(args, k)
        for k in ("top_k", "n_bins", "per_bin", "budget", "feedback_epochs")
        if getattr(args, k) is not None
    }
    out = args.out or "alad_output/benchmark.jsonl"
    _check_out(args, out, cache=args.cache or beside(out, ".cache"))
    ratio = args.unlabeled_ratio
    try:  # loads the data: a missing file or entity is the user's error
        work = han.jobs(
            args.dataset,
            backbones=args.backbone or ["transformer"],
            baselines=[] if args.no_baselines else args.baseline or list(han.BASELINES),
            settings=tuple(args.setting or han.SETTINGS),
            ablations=list(han.ABLATIONS) if args.ablation else [],
            seeds=args.seeds,
            unlabeled_ratio=0.2 if ratio is None else ratio,
            grid=grid,
            active=active,
            validation_ratio=validation,
            params=args.params,
            cache_dir=args.cache or beside(out, ".cache"),
            data_home=args.data_home,
        )
    except (ValueError, OSError, ImportError) as exc:  # pyreadr missing ...
        args.parser.error(str(exc))
    store = run_jobs(work, out, protocol="han", progress=not args.quiet)
    return _report_from(list(store), args)


def _benchmark_nafal(args: argparse.Namespace) -> int:
    from .experiments import nafal
    from .experiments.engine import run_jobs

    out = args.out or "alad_output/nafal.jsonl"
    _check_out(args, out)
    try:
        work = nafal.jobs(
            args.table,  # None: the tables that read --dataset (all without it)
            datasets=args.dataset,
            seeds=args.seeds,
            quick=args.quick,
            params=args.params,
            data_home=args.data_home,
        )
    except (ValueError, OSError, ImportError) as exc:  # pyreadr missing ...
        args.parser.error(str(exc))
    store = run_jobs(
        work, out, protocol="nafal", progress=not args.quiet, n_jobs=args.n_jobs or 1
    )
    return _report_from(list(store), args)


def _benchmark_labels(args: argparse.Namespace) -> int:
    from .experiments import labels
    from .experiments.engine import run_jobs
    from .experiments.store import beside

    out = args.out or "alad_output/labels.jsonl"
    _check_out(args, out, work=args.work or beside(out, ".work"))
    try:
        work = labels.jobs(
            args.dataset,
            backbones=args.backbone or ["transformer"],
            splits=tuple(args.split or labels.SPLITS),
            seeds=args.seeds,
            budgets=tuple(args.budgets or labels.BUDGETS),
            pool_ratio=_pool_ratios(args.pool_ratio, labels.POOL_RATIO),
            params=args.params,
            peers=tuple(args.peer or labels.UNSUPERVISED_PEERS + labels.LABEL_PEERS),
            peer_command=args.peer_command,
            work=args.work or beside(out, ".work"),
            data_home=args.data_home,
        )
    except (ValueError, OSError, ImportError) as exc:  # pyreadr missing ...
        args.parser.error(str(exc))
    store = run_jobs(work, out, protocol="labels", progress=not args.quiet)
    status = _report_from(list(store), args)
    errors = [error for job in work for error in job.errors]
    for error in errors:  # said again after the report, where a reader looks
        print(f"alad benchmark: {error}", file=sys.stderr)
    return 1 if errors else status


def _report(args: argparse.Namespace) -> int:
    from .experiments import read_records

    try:
        records = read_records(args.results)
    except (ValueError, KeyError) as exc:
        args.parser.error(f"not a results file of alad benchmark: {exc}")
    if not records:
        args.parser.error(
            "no finished runs in " + ", ".join(str(p) for p in args.results)
        )
    _check_report_outputs(args, args.results)
    try:
        return _report_from(records, args)
    except KeyError as exc:  # JSON lines with keys, but not of a protocol's runs
        args.parser.error(
            f"not a results file of alad benchmark: a record has no field {exc}"
        )


def _report_from(records: list[dict], args: argparse.Namespace) -> int:
    from .experiments import load_labels
    from .experiments.engine import format_records

    labels = load_labels(records)
    text = format_records(records, labels)
    if not text.strip() and getattr(args, "results", None):
        # alad report on records of a protocol, none of which it can tabulate
        args.parser.error("no finished runs to tabulate in these records")
    try:  # written before printing: a reader that stops early (| head) loses none
        _write_report(records, labels, args)
    except OSError as exc:  # a folder given as --rst, a file as --figures ...
        args.parser.error(f"cannot write the report: {exc}")
    print(text)
    return 0


def _write_report(records, labels, args: argparse.Namespace) -> None:
    from .experiments.engine import format_records
    from .experiments.store import atomic_write

    for path, fmt in ((args.markdown, "markdown"), (args.rst, "rst")):
        if path:
            text = format_records(records, labels, fmt) + "\n"
            atomic_write(path, lambda f, text=text: f.write(text))
    if args.figures:
        from .experiments import save_figures

        han = [r for r in records if r.get("protocol", "han") == "han"]
        for path in save_figures(han, labels, args.figures):
            print(f"wrote {path}")
        mine = [r for r in records if r.get("protocol") == "labels"]
        if mine:
            from .experiments.labels import save_figures as label_figures

            for path in label_figures(mine, args.figures):
                print(f"wrote {path}")


def _add_report_options(parser: argparse.ArgumentParser, figures: bool) -> None:
    parser.add_argument(
        "--markdown", type=_user_path, help="also write the tables as markdown here"
    )
    parser.add_argument(
        "--rst", type=_user_path, help="also write the tables as reStructuredText here"
    )
    if figures:
        parser.add_argument(
            "--figures",
            type=_user_path,
            help="write the plots here (han: scores, PA%%K, budget; labels: "
            "metric against labelled windows)",
        )


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``alad`` command line (imports nothing heavy)."""
    parser = argparse.ArgumentParser(
        prog="alad",
        description="Active-learning anomaly detection.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"alad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="the active-learning loop on the embedded telemetry series",
        formatter_class=_Formatter,
        description="Fit a Transformer detector on the embedded telemetry "
        "series, then query, label (with the generator's labels) and learn for "
        "a few rounds, printing F1_PA, F1 and PA%K AUC after each round and "
        "writing PNGs of the scores.",
    )
    demo.add_argument(
        "--out", type=_user_path, default="alad_output", help="folder for the PNGs"
    )
    demo.add_argument("--rounds", type=_int_at_least(1), default=4, help="query rounds")
    demo.add_argument(
        "--per-round", type=_int_at_least(1), default=10, help="windows per round"
    )
    demo.add_argument("--random-state", type=_seed, default=0, help="the seed")
    demo.add_argument("--device", default="cpu", help="cpu, auto, cuda or cuda:N")
    demo.add_argument(
        "--verbose",
        type=_int_at_least(0),
        default=1,
        help="the detector's verbosity (0: rounds only, 1: a line per epoch with "
        "the seconds left, 2: progress bars over batches too)",
    )
    demo.set_defaults(run=_demo, parser=demo)

    bench = commands.add_parser(
        "benchmark",
        help="the papers' experiments (Han et al.'s Table 2, the NAF-AL tables) "
        "and the label-efficiency benchmark against public peers",
        formatter_class=_Formatter,
        description="Run (or resume) a protocol of the papers on real data.\n\n"
        "--protocol han (the default): Han et al.'s Table 2. Each backbone "
        "trained on the training part (w/o unlabeled), on the training part "
        "and the unlabelled pool (w/ unlabeled), and with active learning "
        "until the budget (active), next to IsolationForest and "
        "LocalOutlierFactor; F1_PA, F1, PA%K AUC, ROC AUC and AP on the "
        "evaluation part, over seeds.\n\n"
        "--protocol nafal: Tables 1-3 of NAF-AL (Zhang et al.): NAF-AD, NAF-AL "
        "and NAF-AD trained as long, next to IsolationForest, LOF and "
        "OneClassSVM; F1 on ODDS, one-vs-rest and m-vs-rest ROC AUC on UEA.\n\n"
        "--protocol labels: label efficiency against public peers. Each "
        "backbone without labels, with the pool taken as normal, and with "
        "0 to 100 labelled windows, next to the peers' scores (their own environment, "
        "benchmarks/peers/run_peers.py), on two pools: one holding anomalies "
        "and the paper's.\n\n"
        "Finished runs are appended to --out and skipped when the command is "
        "rerun; the tables are printed at the end.",
    )
    bench.add_argument(
        "--protocol",
        choices=sorted(PROTOCOLS),
        default="han",
        help="which paper's experiment",
    )
    bench.add_argument(
        "--dataset",
        action="append",
        help="data set, repeatable. han and labels (required): "
        + ", ".join(PROTOCOL_DATASETS["han"])
        + ", with entities after a colon (msl:C-1,M-6, ucr:1; file:PATH for a "
        "series of your own: .npz with X_train, X_test, y_test, or TSB-AD's "
        ".csv); nafal (default "
        "all): " + ", ".join(NAFAL_DATASETS),
    )
    bench.add_argument(
        "--seeds", type=_seed, nargs="+", default=[0, 1, 2], help="random seeds"
    )
    bench.add_argument(
        "--params",
        type=_json_dict,
        default={},
        help="detector parameters as JSON, e.g. '{\"max_epochs\": 20}'",
    )
    bench.add_argument(
        "--out",
        type=_user_path,
        help="the JSON-lines results file (default alad_output/benchmark.jsonl, "
        "nafal: alad_output/nafal.jsonl, labels: alad_output/labels.jsonl); a "
        "name ending in .gz is kept gzip-compressed",
    )
    bench.add_argument(
        "--data-home",
        help="the data home (default: ALAD_DATA_HOME, else ~/alad_data)",
    )
    bench.add_argument("--quiet", action="store_true", help="no progress bar")

    han = bench.add_argument_group("--protocol han only")
    han.add_argument(
        "--backbone", action="append", help="backbone, repeatable (default transformer)"
    )
    han.add_argument(
        "--baseline",
        action="append",
        choices=["iforest", "lof"],
        help="sklearn baseline, repeatable (default both)",
    )
    han.add_argument("--no-baselines", action="store_true", help="no baselines")
    han.add_argument(
        "--setting",
        action="append",
        choices=["w/o unlabeled", "w/ unlabeled", "active"],
        help="training setting, repeatable (default all three)",
    )
    han.add_argument(
        "--ablation", action="store_true", help="also run the ablations of Figure 8"
    )
    han.add_argument(
        "--unlabeled-ratio",
        type=float,
        help="share of the test part that is the unlabelled pool (default 0.2)",
    )
    han.add_argument("--budget", type=int, help="windows to label (default 50)")
    han.add_argument("--top-k", type=int, help="k of top-k sampling (default 5)")
    han.add_argument("--n-bins", type=int, help="G of interval sampling (default 5)")
    han.add_argument("--per-bin", type=int, help="g of interval sampling (default 1)")
    han.add_argument(
        "--feedback-epochs", type=int, help="epochs per feedback round (default 10)"
    )
    han.add_argument(
        "--grid",
        type=_grid_arg,
        help="search over the active configuration: none, small, paper, or a JSON "
        "dict of lists such as '{\"top_k\": [5, 10]}' (default none)",
    )
    han.add_argument(
        "--validation-ratio",
        type=float,
        help="share of the part after the pool held out to choose the grid's "
        "configuration (default 0.25 with a grid, else 0)",
    )
    han.add_argument(
        "--cache", type=_user_path, help="models and scores (default: OUT.cache)"
    )

    lab = bench.add_argument_group(
        "--protocol labels only (also --backbone, --figures)"
    )
    lab.add_argument(
        "--split",
        action="append",
        choices=["anomalous", "paper"],
        help="where the pool is: a stretch holding anomalies, or the paper's "
        "first share of the test part; repeatable (default both)",
    )
    lab.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        help="labelled windows at which to score (default 0 10 25 50 100)",
    )
    lab.add_argument(
        "--pool-ratio",
        action="append",
        type=_pool_ratio_arg,
        metavar="[DATASET=]RATIO",
        help="share of the test part in the pool: RATIO for every data set not "
        "named, DATASET=RATIO for one; repeatable (default msl=0.5, 0.2 for the "
        "others; a bare RATIO replaces both)",
    )
    lab.add_argument(
        "--peer", action="append", help="peer whose scores to read, repeatable (all)"
    )
    lab.add_argument(
        "--peer-command",
        help="command run after alad's runs, given --work WORK, e.g. "
        "'benchmarks/.venv-peers/bin/python benchmarks/peers/run_peers.py'; "
        "when it fails, the scores it wrote are read and the exit status is 1",
    )
    lab.add_argument(
        "--work", type=_user_path, help="task and score files (default: OUT.work)"
    )

    naf = bench.add_argument_group("--protocol nafal only")
    naf.add_argument(
        "--table",
        action="append",
        choices=["1", "2", "3"],
        help="table of the paper, repeatable (default: those that read the "
        "--dataset given, all three without one)",
    )
    naf.add_argument(
        "--quick",
        action="store_true",
        help="tiny settings, 1-2 data sets: a smoke test",
    )
    naf.add_argument(
        "--n-jobs",
        type=_int_at_least(1),
        help="runs at once, one process each (default 1)",
    )
    _add_report_options(bench, figures=False)
    han.add_argument(
        "--figures", type=_user_path, help="write score, PA%%K and budget plots here"
    )
    bench.set_defaults(run=_benchmark, parser=bench)

    report = commands.add_parser(
        "report",
        help="tables and figures from benchmark results",
        formatter_class=_Formatter,
        description="Print the tables of finished runs (markdown), and write "
        "them as markdown or reStructuredText, from the results files of "
        "`alad benchmark` (any protocol; also the JSON files of the former "
        "benchmarks/naf_tables.py).",
    )
    report.add_argument("results", nargs="+", type=_results_file, help="results files")
    _add_report_options(report, figures=True)
    report.set_defaults(run=_report, parser=report)
    _add_label_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``alad`` command line; returns the exit status."""
    # its figures go to files: no window, no display needed (a choice of
    # the user's in MPLBACKEND stands); read when matplotlib is imported
    os.environ.setdefault("MPLBACKEND", "Agg")
    args = build_parser().parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()  # a reader that stopped shows here, not at exit
        return status
    except KeyboardInterrupt:
        # Ctrl+C: no traceback; what is saved was written whole (records,
        # rounds), and alad benchmark and alad label go on from it
        print("\nalad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of the output stopped (alad report ... | head): no
        # traceback; stdout goes nowhere, so that its flush at exit is quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13  # as a process killed by SIGPIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
