"""``alad label``: the parser, the demo session, labels in and out from the shell."""

import argparse
import copy
import json

import pytest

from alad.labelling import LabellingSession
from alad.labelling.cli import add_parser, run
from alad.labelling.demo import create_demo_session

from .conftest import held_by_another_process


def _parse(argv):
    parser = argparse.ArgumentParser(prog="alad")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_export_and_import_from_the_command_line(fitted, pool, tmp_path, capsys):
    path = tmp_path / "s"
    session = LabellingSession.create(path, copy.deepcopy(fitted), pool)
    w = session.pending_query[0]
    session.label(w, "anomaly", anomalous_range=(w * 20 + 2, w * 20 + 8))
    out = tmp_path / "labels.json"
    assert run(_parse(["label", str(path), "--export", str(out)])) == 0
    assert json.loads(out.read_text())[0]["annotations"][0]["result"]
    assert "wrote 1 window labels" in capsys.readouterr().out

    other = tmp_path / "o"
    LabellingSession.create(other, copy.deepcopy(fitted), pool)
    args = _parse(["label", str(other), "--import", str(out)])
    assert run(args) == 0
    assert "1 windows labelled in round 1" in capsys.readouterr().out
    reopened = LabellingSession.open(other)
    assert [(r["window"], r["range"]) for r in reopened.labels()] == [
        (w, [w * 20 + 2, w * 20 + 8])
    ]


def test_requery_unsure_from_the_command_line(fitted, pool, tmp_path, capsys):
    path = tmp_path / "s"
    session = LabellingSession.create(path, copy.deepcopy(fitted), pool, per_round=2)
    for w in session.pending_query:
        session.label(w, "unsure")
    session.submit_round()
    out = tmp_path / "r.csv"
    args = ["label", str(path), "--requery-unsure", "--export", str(out)]
    assert run(_parse([*args, "--format", "ranges"])) == 0
    assert "2 unsure windows may be asked again" in capsys.readouterr().out
    assert LabellingSession.open(path).labels() == []


def test_the_parser_needs_a_session_or_the_demo(capsys):
    with pytest.raises(SystemExit):
        run(_parse(["label"]))
    assert "give a SESSION_DIR, or --demo" in capsys.readouterr().err
    args = _parse(["label", "--demo", "--no-browser", "--port", "8123"])
    assert args.demo and args.no_browser and args.port == 8123


def test_demo_session_is_created_then_reopened(tiny_params, tmp_path, capsys):
    lines = []
    session = create_demo_session(
        tmp_path / "demo",
        detector_params=tiny_params,
        data_params={"n_train": 2000, "n_test": 2000},
        print_fn=lines.append,
    )
    assert (
        "created the demo session" in lines[-1]
        and "label the bursts normal" in (lines[-1])
    )
    # the fit shows its epochs (it is the wait of a first run); the saved
    # detector does not print during the page's rounds
    assert "epoch" in capsys.readouterr().out
    assert session.detector.verbose == 0
    assert session.channel_names[0] == "sensor_0" and len(session.pending_query) == 8
    again = create_demo_session(tmp_path / "demo", print_fn=lines.append)
    assert "reopened the demo session" in lines[-1]
    assert again.pending_query == session.pending_query


def test_the_command_line_part_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys, argparse, alad.labelling.cli as c;"
        "p = argparse.ArgumentParser(); c.add_parser(p.add_subparsers());"
        "print(sorted(m for m in ('numpy', 'torch', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_errors_are_short_messages_not_tracebacks(fitted, pool, tmp_path, capsys):
    pool_file = tmp_path / "pool.npy"
    import numpy as np

    np.save(pool_file, pool)
    LabellingSession.create(tmp_path / "s", copy.deepcopy(fitted), pool_file)
    np.save(pool_file, pool + 1.0)
    with pytest.raises(SystemExit):
        run(_parse(["label", str(tmp_path / "s"), "--export", "x.json"]))
    assert "the data changed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(_parse(["label", str(tmp_path / "nothing")]))
    assert "not a session" in capsys.readouterr().err


def test_the_demo_refuses_a_folder_of_other_files_before_fitting(tmp_path, capsys):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exc:
        run(_parse(["label", "--demo", str(folder), "--no-browser"]))
    assert exc.value.code == 2
    assert "holds files but no session.json" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_a_malformed_import_is_an_argparse_error(fitted, pool, tmp_path, capsys):
    LabellingSession.create(tmp_path / "s", copy.deepcopy(fitted), pool)
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    with pytest.raises(SystemExit) as exc:
        run(_parse(["label", str(tmp_path / "s"), "--import", str(bad)]))
    assert exc.value.code == 2
    assert "must hold a Label Studio task" in capsys.readouterr().err


def test_a_bad_or_taken_port_is_an_argparse_error(
    fitted, pool, tmp_path, capsys, monkeypatch
):
    import socket

    for port in ("-1", "70000", "http"):
        with pytest.raises(SystemExit) as exc:
            _parse(["label", "s", "--port", port])
        assert exc.value.code == 2
    assert "expected a port in [0, 65535]" in capsys.readouterr().err
    pytest.importorskip("uvicorn")
    pytest.importorskip("starlette")
    LabellingSession.create(tmp_path / "s", copy.deepcopy(fitted), pool)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])

        def never(*args, **kwargs):  # said before the pool is rescored, not after
            raise AssertionError("the session was opened before the port was checked")

        monkeypatch.setattr(LabellingSession, "open", never)
        with pytest.raises(SystemExit) as exc:
            run(_parse(["label", str(tmp_path / "s"), "--no-browser", "--port", port]))
    assert exc.value.code == 2
    assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err


def test_a_session_written_by_another_process_is_refused(
    fitted, pool, tmp_path, capsys
):
    path = tmp_path / "s"
    session = LabellingSession.create(path, copy.deepcopy(fitted), pool, per_round=2)
    with held_by_another_process(path):  # the page of another alad label
        with pytest.raises(SystemExit):
            run(_parse(["label", str(path), "--requery-unsure"]))
        assert "in use by another process" in capsys.readouterr().err
        out = tmp_path / "l.json"  # an export only reads: allowed
        assert run(_parse(["label", str(path), "--export", str(out)])) == 0
    argv = ["label", str(path), "--requery-unsure", "--export", str(out)]
    assert run(_parse(argv)) == 0  # released (an export: no page is served)
    assert session.n_rounds == 0


def test_the_labeller_is_recorded_by_import_and_requery(fitted, pool, tmp_path):
    path = tmp_path / "s"
    session = LabellingSession.create(path, copy.deepcopy(fitted), pool, per_round=2)
    first, second = session.pending_query
    session.label(first, "unsure")
    session.submit_round()
    session.label(session.pending_query[0], "unsure")  # this round's: kept
    out = tmp_path / "r.csv"
    with open(out, "w", encoding="utf-8") as f:  # one normal window, by hand
        a, b = session.window_rows(second)
        f.write(f"start,end,label\n{a},{b},normal\n")
    argv = ["label", str(path), "--labeller", "Łukasz", "--requery-unsure"]
    assert run(_parse([*argv, "--import", str(out), "--format", "ranges"])) == 0
    reopened = LabellingSession.open(path)
    by_window = {r["window"]: r for r in reopened.labels()}
    assert first not in by_window  # the submitted unsure one, withdrawn
    assert by_window[second]["labeller"] == "Łukasz"
    assert by_window[session.pending_query[0]]["label"] == "unsure"
    log = (path / "labels.csv").read_text(encoding="utf-8")
    assert log.count("Łukasz") == 2  # the import and the withdrawal


def test_label_paths_expand_the_home_folder(tmp_path, monkeypatch):
    from alad.cli import build_parser

    monkeypatch.setenv("HOME", str(tmp_path))
    argv = ["label", "~/s", "--export=~/x.json", "--import=~/y.json"]
    args = build_parser().parse_args([*argv, "--pool=~/p.npy"])
    assert (args.session, args.export, args.import_, args.pool) == tuple(
        str(tmp_path / name) for name in ("s", "x.json", "y.json", "p.npy")
    )


def test_ctrl_c_during_a_round_ends_the_process_without_its_shutdown(
    fitted, pool, tmp_path, monkeypatch
):
    """A second Ctrl+C while a round is learnt: the interpreter's shutdown
    with the round's thread still in torch aborted the process or printed a
    cut-off traceback, so the command line leaves at once (``os._exit``)."""
    import alad.labelling.cli as cli
    from alad.labelling.server import LabellingServer

    path = tmp_path / "s"
    LabellingSession.create(path, copy.deepcopy(fitted), pool, per_round=2)

    def interrupted(self, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(LabellingServer, "serve_forever", interrupted)

    def left(status=130):
        raise SystemExit(status)

    monkeypatch.setattr(cli, "_exit_during_a_round", left)
    args = _parse(["label", str(path), "--no-browser"])
    monkeypatch.setattr(LabellingServer, "learning", property(lambda self: True))
    with pytest.raises(SystemExit) as exc:
        run(args)
    assert exc.value.code == 130
    # no round being learnt: the interrupt goes on to alad's own message
    monkeypatch.setattr(LabellingServer, "learning", property(lambda self: False))
    with pytest.raises(KeyboardInterrupt):
        run(_parse(["label", str(path), "--no-browser"]))
