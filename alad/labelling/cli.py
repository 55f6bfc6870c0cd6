"""``alad label``: open the labelling page of a session, or move labels in and out."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

__all__ = ["add_parser", "run"]

_FORMATS = ("label-studio", "trainset", "ranges")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"expected a port in [0, 65535] (0: a free one), got {text!r}"
        )
    return port


def _user_path(text: str) -> str:
    """A path as given, ``~`` expanded: the shell leaves it in ``--export=~/x``."""
    return str(Path(text).expanduser())


def _check_port_free(port: int) -> None:
    """Bind ``127.0.0.1:port`` as the page's server will, and let it go;
    raises ``OSError`` when the port is taken."""
    import os
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if os.name == "posix":  # as the server binds (a port in TIME_WAIT)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``label`` command to the ``alad`` command line (imports nothing heavy).

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``parser.add_subparsers()`` returned.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = subparsers.add_parser(
        "label",
        help="label windows in the browser (a session on disk); --demo to try it",
        description="Serve the labelling page of SESSION_DIR on 127.0.0.1 and open "
        "it in the browser: label the windows the detector asks about with the "
        "keyboard, submit the round, and the detector learns. Everything is saved "
        "in the session folder after each round; Ctrl+C stops the server. "
        "With --export or --import, move labels in or out instead.",
    )
    parser.add_argument(
        "session",
        nargs="?",
        type=_user_path,
        help="the session folder (made with alad.labelling.LabellingSession.create; "
        "with --demo, default alad_label_demo)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="create (or reopen) a session on the embedded telemetry series",
    )
    parser.add_argument(
        "--port", type=_port, default=0, help="port (default: a free one)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the address, open nothing"
    )
    parser.add_argument(
        "--labeller", help="name recorded with the labels (default: the session's)"
    )
    parser.add_argument(
        "--pool",
        type=_user_path,
        help="where the pool file is now, if it moved (same sha256)",
    )
    parser.add_argument(
        "--requery-unsure",
        action="store_true",
        help="let the detector ask again about the windows labelled unsure",
    )
    parser.add_argument(
        "--export", type=_user_path, metavar="FILE", help="write the labels to FILE"
    )
    parser.add_argument(
        "--import",
        dest="import_",
        type=_user_path,
        metavar="FILE",
        help="add the labels of FILE to the current round",
    )
    parser.add_argument(
        "--format",
        choices=_FORMATS,
        default="label-studio",
        help="format of --export / --import (default label-studio)",
    )
    parser.add_argument(
        "--zeros",
        choices=("unlabelled", "normal"),
        default="unlabelled",
        help="TRAINSET import: what its label 0 means (default unlabelled)",
    )
    parser.set_defaults(run=run, parser=parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``alad label`` with parsed ``args``; returns the exit status."""
    # what writes the session holds it (writer_lock) until the end
    with contextlib.ExitStack() as held:
        return _run(args, held)


def _run(args: argparse.Namespace, held: contextlib.ExitStack) -> int:
    from .formats import export_labels, import_labels
    from .session import LabellingSession, writer_lock

    if not args.demo and args.session is None:
        args.parser.error("give a SESSION_DIR, or --demo")
    writes = bool(args.import_ or args.requery_unsure or not args.export)
    serves = not (args.export or args.import_)
    if serves and args.port:
        # said before the session is opened and its pool rescored (minutes
        # for a large model), not after
        try:
            _check_port_free(args.port)
        except OSError as exc:
            args.parser.error(f"cannot serve on 127.0.0.1:{args.port}: {exc}")
    try:
        folder = Path(args.session or "alad_label_demo")
        locked = writes and (folder / "session.json").exists()
        if locked:
            # held before the session is read: a process that read it before
            # another's import would write over that import's labels
            held.enter_context(writer_lock(folder))  # an export only reads
        if args.demo:
            from .demo import create_demo_session

            session = create_demo_session(folder)
        else:
            session = LabellingSession.open(args.session, pool=args.pool)
        if writes and not locked:
            held.enter_context(writer_lock(session.path))  # a demo just made
        if args.requery_unsure:
            windows = session.requery_unsure(labeller=args.labeller)
            print(f"{len(windows)} unsure windows may be asked again: {windows}")
        if args.export:
            export_labels(session, args.export, args.format)
        if args.import_:
            summary = import_labels(
                session,
                args.import_,
                args.format,
                zeros=args.zeros,
                labeller=args.labeller,
            )
    except (OSError, ValueError) as exc:  # a missing file, a changed pool ...
        args.parser.error(str(exc))
    if args.export or args.import_:
        if args.export:
            print(f"wrote {len(session.labels())} window labels to {args.export}")
        if args.import_:
            print(
                f"{summary['labelled']} windows labelled in round "
                f"{session.current_round} (submit them on the page); "
                f"{summary['partial']} partly labelled and {summary['kept']} of "
                "submitted rounds left as they were"
            )
        return 0
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from .server import LabellingServer
    except ImportError as exc:
        args.parser.error(
            f"the labelling page needs the label extra ({exc.name} is missing): "
            'pip install "alad[label]"'
        )
    server = LabellingServer(session, port=args.port, labeller=args.labeller)
    try:
        server.serve_forever(open_browser=not args.no_browser)
    except OSError as exc:  # the port is taken (binding is the first thing done)
        args.parser.error(f"cannot serve on 127.0.0.1:{args.port}: {exc}")
    except KeyboardInterrupt:
        if server.learning:
            _exit_during_a_round()
        raise
    return 0


def _exit_during_a_round() -> None:
    """End the process now, without the interpreter's shutdown: a round's
    thread still in torch when the interpreter finalises aborts the process
    (``terminate called without an active exception``) or prints a cut-off
    traceback. Nothing is lost: the session on disk is its last committed
    round (a round commits by renaming ``session.json``), and the operating
    system releases the folder's lock with the process."""
    import os
    import sys

    print(
        "\nalad: interrupted while a round was being learnt; the session "
        "keeps its last saved round",
        file=sys.stderr,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)
