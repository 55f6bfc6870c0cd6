"""The command line: answers at once, refuses bad arguments with argparse errors."""

import json
import os
import subprocess
import sys

import pytest

from alad import __version__
from alad.cli import build_parser, main
from alad.experiments import read_records

# what ``alad`` imported, printed by the interpreter that ran it
PROBE = (
    "import sys\n"
    "from alad.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "heavy = sorted(m for m in ('torch', 'sklearn', 'scipy') if m in sys.modules)\n"
    "print('IMPORTED', heavy, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _alad(*args):
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["benchmark", "--help"],
        ["report", "--help"],
        ["demo", "--help"],
        ["benchmark", "--dataset", "nope"],
        ["report", "no-such-file.jsonl"],
    ],
    ids=" ".join,
)
def test_no_heavy_import_before_the_work(args):
    """Parsing, help, version and argument errors never import torch or sklearn."""
    proc = _alad(*args)
    assert "IMPORTED []" in proc.stderr, proc.stderr


def test_version():
    proc = _alad("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"alad {__version__}"


def test_help_renders_percent_signs_and_defaults():
    for command in ("demo", "benchmark", "report"):
        parser = build_parser()
        sub = parser._subparsers._group_actions[0].choices[command]
        text = sub.format_help()
        assert "%%" not in text
    bench = build_parser()._subparsers._group_actions[0].choices["benchmark"]
    text = " ".join(bench.format_help().split())
    assert "PA%K AUC" in text
    assert "(default: han)" in text and "(default: [0, 1, 2])" in text
    assert "(default: None)" not in text
    demo = build_parser()._subparsers._group_actions[0].choices["demo"]
    text = " ".join(demo.format_help().split())
    assert "(default: 4)" in text
    # a default of 0 is a default too (0 == False)
    assert "the seed (default: 0)" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["benchmark", "--dataset", "nope"], "unknown data set 'nope'"),
        (["benchmark", "--protocol", "nafal", "--dataset", "gecco"], "unknown data"),
        (["benchmark"], "required: --dataset"),
        (["benchmark", "--dataset", "gecco", "--table", "1"], "--table: only with"),
        (["benchmark", "--protocol", "nafal", "--backbone", "usad"], "--backbone"),
        (["benchmark", "--dataset", "gecco", "--grid", "huge"], "argument --grid"),
        (["benchmark", "--dataset", "gecco", "--params", "[1]"], "JSON object"),
        (["report", "no-such-file.jsonl"], "no such results file"),
        (
            ["benchmark", "--protocol", "labels", "--dataset", "file:none.npz"],
            "no such series file",
        ),
        (["frobnicate"], "invalid choice"),
        # what a run's detector would refuse, refused before the first run
        (["benchmark", "--dataset", "telemetry", "--params", '{"nope": 1}'], "'nope'"),
        (["benchmark", "--dataset", "telemetry", "--backbone", "nope"], "'backbone'"),
        (["benchmark", "--dataset", "telemetry", "--budget", "0"], "'budget'"),
        (
            ["benchmark", "--dataset", "telemetry", "--validation-ratio", "1"],
            "validation_ratio must be in [0, 1)",
        ),
        (
            ["benchmark", "--dataset", "telemetry", "--grid", '{"top_k": 5}'],
            "grid['top_k'] must be a non-empty list",
        ),
        (
            ["benchmark", "--protocol", "nafal", "--params", '{"max_epochs": 3}'],
            "may not set max_epochs",
        ),
        (
            [
                "benchmark",
                "--protocol",
                "labels",
                "--dataset",
                "telemetry",
                "--seeds",
                "-1",
            ],
            # was sklearn's message on random_state: now named by argparse
            "argument --seeds: expected an integer from 0",
        ),
        (["demo", "--rounds", "0"], "argument --rounds: expected an integer >= 1"),
        (["demo", "--per-round", "-3"], "argument --per-round"),
        (["demo", "--verbose", "-1"], "argument --verbose"),
        (["demo", "--device", "gpu7"], "argument --device: device must be"),
        (["demo", "--out", __file__], "argument --out:"),
        (["demo", "--random-state", "-1"], "argument --random-state: expected an"),
        (["demo", "--random-state", str(2**32)], "from 0 to 4294967295"),
        (["benchmark", "--protocol", "nafal", "--n-jobs", "0"], "argument --n-jobs"),
        # the active runs set these: as params they were recorded, not used
        (
            ["benchmark", "--dataset", "telemetry", "--params", '{"top_k": 10}'],
            "top_k are the active setting's",
        ),
        # a table and data sets of another: it ran nothing and exited 0
        (
            ["benchmark", "--protocol", "nafal", "--table", "1", "--dataset", "NATOPS"],
            "table 1 covers arrhythmia",
        ),
        # a value of 0 is given too (0 == False)
        (
            ["benchmark", "--protocol", "labels", "--dataset", "ucr", "--budget", "0"],
            "--budget: only with --protocol han",
        ),
        (
            ["benchmark", "--dataset", "gecco", "--no-baselines", "--baseline", "lof"],
            "--no-baselines and --baseline",
        ),
    ],
)
def test_bad_arguments_are_argparse_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_results_file_without_records_is_an_error(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["report", str(empty)])
    assert exc.value.code == 2
    assert "no finished runs" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("list.jsonl", b"[1, 2]\n", "line 1: not a record"),
        ("notes.jsonl", b"# notes\n", "line 1: not a record"),
        ("other.jsonl", b'{"key": "a", "protocol": "zzz"}\n', "protocol 'zzz'"),
        ("bare.jsonl", b'{"key": "a"}\n', "a record has no field 'dataset'"),
        ("text.jsonl.gz", b"not gzip", "is not a whole gzip file"),
        ("list.json", b"[1]", "holds a JSON list"),
    ],
)
def test_a_file_of_no_results_is_an_argparse_error(
    tmp_path, capsys, name, content, message
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SystemExit) as exc:
        main(["report", str(path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "not a results file of alad benchmark" in err and message in err


def test_benchmark_refuses_an_out_file_of_no_results_and_leaves_it(tmp_path, capsys):
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"todo": 1}\n[1]')  # no newline at the end
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", "--dataset", "telemetry", "--out", str(notes)])
    assert exc.value.code == 2
    assert "argument --out:" in capsys.readouterr().err
    assert notes.read_text() == '{"todo": 1}\n[1]'  # nothing appended
    text = tmp_path / "notes.md"
    text.write_text("# Notes\n\nnot JSON")
    with pytest.raises(SystemExit):
        main(["benchmark", "--dataset", "telemetry", "--out", str(text)])
    assert "argument --out:" in capsys.readouterr().err
    assert text.read_text() == "# Notes\n\nnot JSON"
    with pytest.raises(SystemExit):
        main(["benchmark", "--protocol", "nafal", "--out", str(tmp_path)])
    assert "argument --out:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, option",
    [
        (["benchmark", "--dataset", "telemetry", "--out", "{f}/r.jsonl"], "--out"),
        (["benchmark", "--protocol", "nafal", "--out", "{f}/r.jsonl"], "--out"),
        (
            ["benchmark", "--dataset", "telemetry", "--cache", "{f}/cache"],
            "--cache",
        ),
        (
            ["benchmark", "--protocol", "labels", "--dataset", "telemetry"]
            + ["--out", "{d}/r.jsonl", "--work", "{f}/work"],
            "--work",
        ),
        (["demo", "--out", "{f}/figures"], "--out"),
    ],
    ids=["out", "nafal out", "cache", "work", "demo"],
)
def test_a_place_that_cannot_be_written_is_said_before_the_work(
    tmp_path, capsys, monkeypatch, args, option
):
    afile = tmp_path / "afile"  # a file where a folder would have to be
    afile.write_text("")

    def no_work(*args, **kwargs):
        raise AssertionError("the work started")

    monkeypatch.setattr("alad.experiments.engine.run_jobs", no_work)
    monkeypatch.setattr("alad.demo.run_demo", no_work)
    argv = [a.format(f=afile, d=tmp_path) for a in args]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert f"argument {option}: {afile} is a file, not a folder" in (
        capsys.readouterr().err
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # nothing made


def test_a_seed_named_twice_is_run_once(monkeypatch, tmp_path):
    from alad.experiments import labels

    seen = {}

    def jobs(datasets, **kwargs):
        seen.update(datasets=datasets, seeds=kwargs["seeds"])
        return []

    monkeypatch.setattr(labels, "jobs", jobs)
    argv = ["benchmark", "--protocol", "labels", "--dataset", "telemetry"]
    argv += ["--dataset", "telemetry", "--seeds", "0", "1", "0", "--quiet"]
    main(argv + ["--out", str(tmp_path / "r.jsonl")])
    assert seen == {"datasets": ["telemetry"], "seeds": [0, 1]}


def test_report_outputs_that_cannot_be_written_are_argparse_errors(tmp_path, capsys):
    row = {"dataset": "cardio", "seed": 0, "task": "-", "NAF-AD": 0.5, "NAF-AL": 0.6}
    row.update(cpu_seconds=1.0, n_augmented=2)
    path = tmp_path / "naf.json"
    path.write_text(json.dumps({"machine": "m", "table1": {"rows": [row]}}))
    folder = tmp_path / "tables"
    folder.mkdir()
    with pytest.raises(SystemExit) as exc:
        main(["report", str(path), "--rst", str(folder)])
    assert exc.value.code == 2
    assert f"argument --rst: {folder} is a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["naf.json", "tables"]


def _legacy_results(tmp_path):
    row = {"dataset": "cardio", "seed": 0, "task": "-", "NAF-AD": 0.5, "NAF-AL": 0.6}
    row.update(cpu_seconds=1.0, n_augmented=2)
    path = tmp_path / "naf.json"
    path.write_text(json.dumps({"machine": "m", "table1": {"rows": [row]}}))
    return path


@pytest.mark.parametrize("option", ["--markdown", "--rst", "--figures"])
def test_a_report_over_its_own_results_file_is_refused(tmp_path, capsys, option):
    path = _legacy_results(tmp_path)
    before = path.read_bytes()
    with pytest.raises(SystemExit) as exc:
        main(["report", str(path), option, str(path)])
    assert exc.value.code == 2
    assert f"argument {option}: {path} is a results file" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_a_benchmark_report_over_its_out_file_is_refused_before_the_work(
    tmp_path, monkeypatch, capsys
):
    def no_work(*args, **kwargs):
        raise AssertionError("the work started")

    monkeypatch.setattr("alad.experiments.engine.run_jobs", no_work)
    out = str(tmp_path / "r.jsonl")
    argv = ["benchmark", "--protocol", "labels", "--dataset", "telemetry", "--quiet"]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--out", out, "--markdown", out])
    assert exc.value.code == 2
    assert "argument --markdown" in capsys.readouterr().err


@pytest.mark.parametrize("n_runs", [1, 2])
def test_results_written_to_a_json_name_are_read_back(tmp_path, capsys, n_runs):
    """``--out results.json`` writes JSON lines; ``alad report`` read every
    ``.json`` as the NAF tables' old one-object files and refused them."""
    from alad.experiments.store import ResultStore

    path = tmp_path / "results.json"
    store = ResultStore(path)
    for seed in range(n_runs):
        row = {"dataset": "cardio", "seed": seed, "task": "-", "table": 1}
        store.add({"key": f"k{seed}", "protocol": "nafal", **row, "NAF-AD": 0.5})
    records = read_records([path])
    assert sorted(r["key"] for r in records) == [f"k{s}" for s in range(n_runs)]


def test_a_legacy_json_of_another_shape_is_an_argparse_error(tmp_path, capsys):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"table1": 5}))
    with pytest.raises(SystemExit) as exc:
        main(["report", str(path)])
    assert exc.value.code == 2
    assert "table1 is not an object with a list of rows" in capsys.readouterr().err


@pytest.mark.parametrize(
    "spec, message",
    [("gecco:1", "gecco is one series, without entities"), ("msl:", "names no entity")],
)
def test_entities_a_data_set_does_not_have_are_argparse_errors(capsys, spec, message):
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", "--dataset", spec, "--quiet"])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_reader_that_stops_early_is_no_traceback(tmp_path, monkeypatch):
    # alad report ... | head: the tables are written first, then printed
    path = _legacy_results(tmp_path)
    read, write = os.pipe()
    os.close(read)  # the reader is gone: printing raises BrokenPipeError
    saved = os.dup(1)
    try:
        with os.fdopen(write, "w") as broken:
            monkeypatch.setattr(sys, "stdout", broken)
            status = main(["report", str(path), "--rst", str(tmp_path / "t.inc")])
            monkeypatch.undo()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    assert status == 141
    assert ".. 1 runs" in (tmp_path / "t.inc").read_text()


def test_a_missing_entity_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", "--dataset", "telemetry:x", "--quiet"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "alad benchmark: error: the entities of telemetry are seeds" in err


def test_report_reads_the_legacy_naf_json(tmp_path, capsys):
    row = {
        "dataset": "cardio",
        "seed": 0,
        "task": "-",
        "cpu_seconds": 1.0,
        "n_augmented": 2,
        "NAF-AD": 0.5,
        "NAF-AL": 0.6,
    }
    legacy = {"machine": "m", "table1": {"rows": [row], "complete": True}}
    path = tmp_path / "naf.json"
    path.write_text(json.dumps(legacy))
    assert main(["report", str(path), "--rst", str(tmp_path / "t.inc")]) == 0
    assert "Table 1: F1 (%) on tabular data" in capsys.readouterr().out
    assert ".. 1 runs, complete: True" in (tmp_path / "t.inc").read_text()


def test_ctrl_c_is_a_word_and_status_130_not_a_traceback(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("alad.demo.run_demo", interrupted)
    assert main(["demo", "--out", str(tmp_path / "figures")]) == 130
    assert capsys.readouterr().err.strip() == "alad: interrupted"


def test_output_paths_expand_the_home_folder(tmp_path, monkeypatch):
    """``--markdown=~/t.md``: the shell leaves the ``~``; it wrote ``./~/t.md``."""
    monkeypatch.setenv("HOME", str(tmp_path))
    args = build_parser().parse_args(
        ["report", __file__, "--markdown=~/t.md", "--rst=~/t.rst", "--figures=~/f"]
    )
    assert (args.markdown, args.rst, args.figures) == tuple(
        str(tmp_path / name) for name in ("t.md", "t.rst", "f")
    )
    args = build_parser().parse_args(["benchmark", "--out=~/r.jsonl", "--work=~/w"])
    assert (args.out, args.work) == (str(tmp_path / "r.jsonl"), str(tmp_path / "w"))
    assert build_parser().parse_args(["demo", "--out=~/d"]).out == str(tmp_path / "d")


def test_python_m_alad_is_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "alad", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and __version__ in done.stdout + done.stderr
