"""The labelling page: a small Starlette app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
import time
import traceback
from pathlib import Path

import numpy as np

__all__ = ["LabellingServer", "make_app"]

STATIC = Path(__file__).parent / "static"
_MAX_BODY = 64 * 1024  # labels are tiny; refuse anything larger
_OVERVIEW_POINTS = 2000


class _Job:
    """The background ``submit_round`` of the page, one at a time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.thread = None
        self.stopping = False  # the server is stopping: no new round
        self.state = {
            "running": False,
            "stage": "idle",
            "fraction": 0.0,
            "error": None,
            "round": None,
            "started": None,
        }

    def snapshot(self) -> dict:
        with self.lock:
            state = dict(self.state)
        if state["started"] is not None:
            state["elapsed"] = round(time.time() - state["started"], 1)
        return state

    def refuse_new_rounds(self, refuse: bool = True) -> None:
        """Start no round from now on (a submit already started goes on);
        ``refuse=False``: start them again (the server serves again)."""
        with self.lock:
            self.stopping = refuse

    def start(self, session) -> str | None:
        """Start learning the round in a thread; None, or why not."""
        with self.lock:
            if self.stopping:
                return (
                    "the labelling server is stopping; the round was not "
                    "submitted (its labels are saved: submit it once it serves again)"
                )
            if self.state["running"]:
                return "a round is already being learnt"
            self.state.update(
                running=True,
                stage="starting",
                fraction=0.0,
                error=None,
                round=session.current_round,
                started=time.time(),
            )

        def progress(stage, fraction):
            with self.lock:
                self.state.update(stage=stage, fraction=fraction)

        def work():
            try:
                session.submit_round(progress=progress)
                error = None
            except Exception as exc:  # shown on the page, the server goes on
                traceback.print_exc()
                error = f"{type(exc).__name__}: {exc}"
            with self.lock:
                self.state.update(
                    running=False, error=error, stage="error" if error else "done"
                )

        self.thread = threading.Thread(target=work, name="alad-submit", daemon=True)
        self.thread.start()
        return None


def _overview(scores: np.ndarray) -> dict:
    """At most ``_OVERVIEW_POINTS`` points: the maximum of each bucket of rows."""
    n = len(scores)
    bucket = max(1, int(np.ceil(n / _OVERVIEW_POINTS)))
    starts = np.arange(0, n, bucket)
    return {
        "x": starts.tolist(),
        "score": np.maximum.reduceat(scores, starts).round(6).tolist(),
    }


def make_app(session, *, token: str | None = None, labeller: str | None = None):
    """The Starlette app of the labelling page for ``session``.

    Parameters
    ----------
    session : LabellingSession
    token : str or None, default=None
        Sent by the page in the ``X-Alad-Token`` header of every change; a
        request without it is refused, so other sites open in the browser
        cannot label through the page. None: a random token.

    Returns
    -------
    app : starlette.applications.Starlette
    """
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    token = token or secrets.token_urlsafe(16)
    job = _Job()
    cache = {}

    def scores():
        key = session.n_rounds
        if key not in cache:
            cache.clear()
            cache[key] = session.scores()
        return cache[key]

    def error(message, status=400):
        return JSONResponse({"error": message}, status_code=status)

    async def body(request):
        if request.headers.get("x-alad-token") != token:
            return None, error("missing or wrong X-Alad-Token header", 403)
        too_large = error(f"request body over {_MAX_BODY} bytes", 413)
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > _MAX_BODY:
            return None, too_large  # refused before it is read
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > _MAX_BODY:  # a chunked body: stop reading it
                return None, too_large
        try:
            import json

            data = json.loads(raw) if raw else {}
        except ValueError:
            return None, error("request body is not JSON")
        if not isinstance(data, dict):
            return None, error("request body must be a JSON object")
        return data, None

    async def index(request):
        html = (STATIC / "index.html").read_text()
        # never inside another site's frame: the page acts on key presses
        return HTMLResponse(
            html.replace("__ALAD_TOKEN__", token),
            headers={
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": "frame-ancestors 'none'",
            },
        )

    def state_dict():
        s = scores()
        labels = {r["window"]: r for r in session.labels()}
        queue = session.pending_query
        staged = [r["window"] for r in session.staged() if r["window"] not in queue]
        windows = []
        for w in queue + staged:
            start, stop = session.window_rows(w)
            record = labels.get(w)
            windows.append(
                {
                    "window": w,
                    "start": start,
                    "stop": stop,
                    "score": float(s[start:stop].mean()),
                    "label": record["label"] if record else None,
                    "range": record["range"] if record else None,
                    "queried": w in queue,
                }
            )
        curve = [{"round": 0, "n_labelled": 0, "n_anomalies": 0, "metrics": None}]
        curve += [
            {
                "round": h["round"],
                "n_labelled": h["n_labelled_total"],
                "n_anomalies": h["n_anomaly_windows_total"],
                "metrics": h["metrics"],
            }
            for h in session.history
        ]
        return {
            "round": session.current_round,
            "n_rounds": session.n_rounds,
            "window_size": session.window_size,
            "n_windows": session.n_windows,
            "n_rows": len(session.pool),
            "channel_names": session.channel_names,
            "budget": session.budget,
            "budget_left": session.budget_left,
            "n_labelled": session.n_labelled,
            "threshold": float(session.detector.threshold_),
            "windows": windows,
            "labelled": [
                {
                    "window": r["window"],
                    "start": r["start"],
                    "stop": r["stop"],
                    "label": r["label"],
                    "round": r["round"],
                }
                for r in labels.values()
            ],
            "curve": curve,
            "job": job.snapshot(),
            "path": str(session.path),
        }

    async def state(request):
        return JSONResponse(state_dict())

    async def window(request):
        text = request.path_params["window"]
        # digits only: int() would read " 1" as 1 and "1_0" as 10
        if not (text.isascii() and text.isdigit()):
            return error(f"window must be a window's number; got {text!r}")
        try:
            w = int(text)
            start, stop = session.window_rows(w)
        except (TypeError, ValueError) as exc:
            return error(str(exc))
        L = session.window_size
        lo, hi = max(0, start - L), min(len(session.pool), stop + L)
        return JSONResponse(
            {
                "window": w,
                "start": start,
                "stop": stop,
                "lo": lo,
                "hi": hi,
                "x": list(range(lo, hi)),
                "channels": np.round(session.pool[lo:hi].T, 6).tolist(),
                "score": np.round(scores()[lo:hi], 6).tolist(),
            }
        )

    async def overview(request):
        return JSONResponse(_overview(scores()))

    def other_round(data):
        """409 when the page that sent ``data`` shows another round (a second
        tab still on a round another tab submitted); None when it is this one
        or it does not say (a script)."""
        shown = data.get("round")
        if shown is None:
            return None
        if isinstance(shown, bool) or not isinstance(shown, int):
            return error(f"round must be an integer; got {shown!r}")
        if shown == session.current_round:
            return None
        return error(
            f"this page shows round {shown}, but round {session.current_round} "
            "is current (submitted elsewhere): reload the page",
            409,
        )

    async def label(request):
        data, problem = await body(request)
        if problem:
            return problem
        if job.snapshot()["running"]:
            return error("the detector is learning; wait for the round to end", 409)
        stale = other_round(data)
        if stale:
            return stale
        try:
            # the session checks the values as sent: a window of 8.9 or true,
            # a range of "15", is refused rather than read as another window
            if "label" not in data:
                raise KeyError("label")
            if data["label"] is None:
                session.unset(data["window"], labeller=labeller)
            else:
                session.label(
                    data["window"],
                    str(data["label"]),
                    anomalous_range=data.get("range"),
                    labeller=labeller,
                )
        except KeyError as exc:
            return error(f"the request lacks the field {exc}")
        except (TypeError, ValueError) as exc:
            return error(str(exc))
        return JSONResponse(state_dict())

    async def submit(request):
        data, problem = await body(request)
        if problem:
            return problem
        stale = other_round(data)
        if stale:
            return stale
        if not session.staged():
            return error(f"round {session.current_round} has no label yet")
        refused = job.start(session)
        if refused:
            return error(refused, 409)
        return JSONResponse(job.snapshot(), status_code=202)

    async def progress(request):
        return JSONResponse(job.snapshot())

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/window/{window}", window),
        Route("/api/overview", overview),
        Route("/api/label", label, methods=["POST"]),
        Route("/api/submit", submit, methods=["POST"]),
        Route("/api/progress", progress),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        # refuses other Host headers (DNS rebinding)
        Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"]),
    ]

    async def failure(request, exc):
        # any other failure (a full disk while labels are written) as JSON
        # that the page shows, not a plain-text 500 it cannot read
        return error(f"{type(exc).__name__}: {exc}", 500)

    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers={Exception: failure}
    )
    app.state.job = job
    app.state.token = token
    return app


class LabellingServer:
    """Serve the labelling page of a session on ``127.0.0.1``.

    Parameters
    ----------
    session : LabellingSession
    port : int, default=0
        0 picks a free port.
    labeller : str or None, default=None
        Recorded with the labels given on the page; None: the session's.

    Examples
    --------
    >>> server = LabellingServer(session).start()   # doctest: +SKIP
    >>> server.url                                  # doctest: +SKIP
    'http://127.0.0.1:54321/'
    >>> server.stop()                               # doctest: +SKIP
    """

    host = "127.0.0.1"

    def __init__(self, session, *, port: int = 0, labeller: str | None = None):
        self.session = session
        self.port = port
        self.labeller = labeller
        self._thread = None
        self._server = None
        self._held = contextlib.ExitStack()  # the session's folder while serving

    def _prepare(self):
        import uvicorn

        self.app = make_app(self.session, labeller=self.labeller)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if os.name == "posix":
            # a restart may rebind a port in TIME_WAIT; on Windows the same
            # option would bind a port another program listens on
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=5
        )
        self._server = uvicorn.Server(config)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, *, timeout: float = 30.0) -> LabellingServer:
        """Serve from a background thread; returns once the server listens.

        The session's folder is held (:func:`~alad.labelling.session.writer_lock`)
        until :meth:`stop`: another process's labels (a script, a second
        page) are refused while the page serves, not lost to its rounds.
        """
        from .session import writer_lock

        self._held.enter_context(writer_lock(self.session.path))
        try:
            self._start(timeout)
        except BaseException:
            self._held.close()
            raise
        return self

    def _start(self, timeout: float) -> None:
        self._prepare()
        self.app.state.job.refuse_new_rounds(False)  # after a stop, if any
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="alad-label-server",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the labelling server did not start at {self.url}")
            time.sleep(0.05)

    def wait_idle(self, timeout: float | None = 120.0) -> None:
        """Wait until no round is being learnt (for tests and clean stops);
        ``timeout=None`` waits as long as the round takes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.learning:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("a round is still being learnt")
            time.sleep(0.1)

    def stop(self, timeout: float | None = 30.0) -> None:
        """Let a running round finish (saved on disk), then stop the server;
        ``timeout=None`` lets it take as long as it takes.

        Stopped also when the wait ends otherwise (a ``TimeoutError``, a
        Ctrl+C), and that is raised: the round then goes on in its thread,
        which holds the session's folder until it has saved it.
        """
        if self._server is None:
            return
        # a submit in flight now would start a round after the wait below
        self.app.state.job.refuse_new_rounds()
        try:
            self.wait_idle(timeout)
        finally:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout)
            self._socket.close()
            self._held.close()

    @property
    def learning(self) -> bool:
        """Whether a round is being learnt (in the thread of a submit)."""
        return self.app.state.job.snapshot()["running"]

    def serve_forever(self, *, open_browser: bool = True, print_fn=print) -> None:
        """Serve in this thread until Ctrl+C (or SIGTERM)."""
        import signal

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, interrupt)
        self.start()
        print_fn(
            f"labelling page: {self.url}  (Ctrl+C stops; the session is "
            f"saved after every round in {self.session.path})"
        )
        if open_browser:
            import webbrowser

            webbrowser.open(self.url)
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            print_fn("stopping ...")
        finally:
            self.close(print_fn)

    def close(self, print_fn=print) -> None:
        """Stop once the round being learnt, if any, is saved, however long it
        takes (a round of a large model may take minutes): no fixed wait that
        ends in a traceback. Ctrl+C during the wait stops at once; the session
        keeps its last saved round (each is written whole)."""
        self.app.state.job.refuse_new_rounds()
        if self.learning:
            print_fn(
                "a round is being learnt: waiting until it is saved (Ctrl+C "
                "again stops at once; the session keeps its last saved round)"
            )
        self.stop(timeout=None)
