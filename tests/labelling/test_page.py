"""The labelling page, end to end in headless Chromium, driven by the keyboard
(and one brush with the mouse).

Needs the ``label`` extra (starlette, uvicorn), Playwright's Python package
and a Chromium binary (Debian's ``chromium``: ``/usr/bin/chromium``, or the
path in ``ALAD_CHROMIUM``); skipped, with the reason, when one is missing.
Playwright only drives the browser it is given: no ``playwright install``.
With ``ALAD_SCREENSHOT_DIR`` set, the run saves its screenshots there (the
docs' ``docs/_static/labelling``).
"""

import copy
import importlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from alad.labelling import LabellingSession

# CI sets ALAD_REQUIRE_BROWSER=1: there a missing piece fails instead of skipping
REQUIRED = os.environ.get("ALAD_REQUIRE_BROWSER") == "1"


def _need(module, reason):
    try:
        return importlib.import_module(module)
    except ImportError:
        if REQUIRED:
            raise
        pytest.skip(reason, allow_module_level=True)


_need("starlette", "the labelling page needs alad[label]")
_need("uvicorn", "the labelling page needs alad[label]")
sync_api = _need("playwright.sync_api", "the browser test needs playwright")

CHROMIUM = (
    os.environ.get("ALAD_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
if CHROMIUM is None and REQUIRED:
    raise RuntimeError(
        "ALAD_REQUIRE_BROWSER=1, but no chromium on PATH or ALAD_CHROMIUM"
    )
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium found (apt-get install chromium, or set ALAD_CHROMIUM)",
)

# what the person does, per round: position in the queue -> action
PLAN = {
    1: {0: "unsure"},
    2: {0: ("brush", 3, 10), 1: "anomaly"},
    3: {2: "anomaly", 3: "drag"},  # drag: brushed with the mouse
}
SHOTS = os.environ.get("ALAD_SCREENSHOT_DIR")


def _shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


@pytest.fixture
def browser(tmp_path):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=FLAGS,  # Playwright gives every launch a fresh empty profile
            timeout=60_000,
        )
        try:
            yield browser
        finally:
            browser.close()


def _wait_label(page, window, label):
    page.wait_for_function(
        "([w, l]) => { const li = document.querySelector("
        "`#queue li[data-window='${w}']`); return li && li.classList.contains(l); }",
        arg=[window, label],
    )


@needs_chromium
def test_three_rounds_with_the_keyboard(browser, fitted, pool, tmp_path):
    from alad.labelling.server import LabellingServer

    path = tmp_path / "session"
    session = LabellingSession.create(
        path, copy.deepcopy(fitted), pool, per_round=4, labeller="tester"
    )
    before = session.scores(0)
    server = LabellingServer(session, labeller="page-tester").start()
    expected = {}  # window -> (round, label, range)
    try:
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.set_default_timeout(60_000)
        page.goto(server.url)
        for round_ in (1, 2, 3):
            page.wait_for_function(
                f"document.body.dataset.round === '{round_}' && "
                "document.body.dataset.busy === '0'"
            )
            queue = [
                int(v)
                for v in page.eval_on_selector_all(
                    "#queue li", "els => els.map(e => e.dataset.window)"
                )
            ]
            assert queue == session.pending_query and len(queue) == 4
            for i, w in enumerate(queue):
                start = w * session.window_size
                # the page shows the first unlabelled window of the queue
                page.wait_for_function(f"document.body.dataset.window === '{w}'")
                action = PLAN[round_].get(i, "normal")
                if action == "drag":
                    box = page.locator("#charts .u-over").first.bounding_box()
                    y = box["y"] + box["height"] / 2
                    page.mouse.move(box["x"] + 0.45 * box["width"], y)
                    page.mouse.down()
                    page.mouse.move(box["x"] + 0.55 * box["width"], y, steps=5)
                    page.mouse.up()
                    _wait_label(page, w, "anomaly")
                    part = next(r for r in session.labels() if r["window"] == w)
                    a, b = part["range"]
                    assert start <= a < b <= start + session.window_size
                    expected[w] = (round_, "anomaly", [a, b])
                elif isinstance(action, tuple):
                    _, a, b = action
                    page.keyboard.press("b")
                    for _ in range(a):
                        page.keyboard.press("ArrowRight")
                    page.keyboard.press("[")
                    for _ in range(b - 1 - a):
                        page.keyboard.press("ArrowRight")
                    if round_ == 2:
                        _shot(page, "brushing.png")
                    page.keyboard.press("]")
                    _wait_label(page, w, "anomaly")
                    page.keyboard.press("j")
                    expected[w] = (round_, "anomaly", [start + a, start + b])
                else:
                    page.keyboard.press(action[0])
                    _wait_label(page, w, action)
                    expected[w] = (round_, action, None)
            if round_ == 1:
                _shot(page, "round.png")
            page.keyboard.press("Enter")
            page.wait_for_selector("#progress:not([hidden])")
        page.wait_for_function(
            "document.body.dataset.round === '4' && document.body.dataset.busy === '0'"
        )
        assert "after round 3" in page.inner_text("#metrics")
        _shot(page, "after_three_rounds.png")
    finally:
        server.stop()

    # the session on disk: labels with round and labeller, three rounds, history
    reopened = LabellingSession.open(path)
    assert reopened.n_rounds == 3
    # one row per label: the mouse drag (mirrored on every chart) sent one
    with open(path / "labels.csv", encoding="utf-8") as f:
        assert len(f.read().splitlines()) == 1 + len(expected)
    got = {r["window"]: (r["round"], r["label"], r["range"]) for r in reopened.labels()}
    assert got == expected
    assert {r["labeller"] for r in reopened.labels()} == {"page-tester"}
    assert [h["n_trained_windows"] for h in reopened.history] == [3, 4, 4]
    assert all(len(h["queried"]) == 4 for h in reopened.history)
    assert reopened.history[1]["metrics"] is not None  # anomalies and normals

    # the same labels through the Python API give the same detector: the
    # user's loop, query (which keeps the pool's quiet windows) then partial_fit
    det = copy.deepcopy(fitted)
    known = np.full(len(pool), np.nan)
    for round_ in (1, 2, 3):
        det.query(pool, y=known, n_queries=4)
        for w, (r, label, part) in expected.items():
            if r == round_:  # what the page marks: labels, unsure rows as 0
                known[w * 20 : w * 20 + 20] = 0.0
                if label == "anomaly":
                    a, b = part if part else (w * 20, w * 20 + 20)
                    known[a:b] = 1.0
        windows = sorted(
            w
            for w, (r, label, _) in expected.items()
            if r == round_ and label != "unsure"
        )
        rows = np.concatenate([np.arange(w * 20, w * 20 + 20) for w in windows])
        y = np.zeros(len(rows))
        for k, w in enumerate(windows):
            _, label, part = expected[w]
            if label == "anomaly":
                a, b = part if part else (w * 20, w * 20 + 20)
                y[k * 20 + a - w * 20 : k * 20 + b - w * 20] = 1.0
        det.partial_fit(pool[rows], y)
    after = reopened.detector.decision_function(pool)
    assert np.array_equal(after, det.decision_function(pool))
    assert not np.array_equal(after, before)


@needs_chromium
def test_a_univariate_series_is_labelled_on_the_page(browser, telemetry, tmp_path):
    # a univariate detector at the defaults scans its scores over widths (a
    # score smoother the session's model files must hold) and shows one channel
    from alad.labelling.server import LabellingServer

    from .conftest import tiny_detector

    series = telemetry.X_test[:1000, :1]
    det = tiny_detector().fit(telemetry.X_train[:, :1])
    session = LabellingSession.create(tmp_path / "s", det, series, per_round=3)
    server = LabellingServer(session, labeller="tester").start()
    errors = []
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.set_default_timeout(60_000)
        page.goto(server.url)
        for round_ in (1, 2):
            page.wait_for_function(
                f"document.body.dataset.round === '{round_}' && "
                "document.body.dataset.busy === '0'"
            )
            assert page.locator("#charts .u-over").count() >= 1
            for i, w in enumerate(session.pending_query):
                page.wait_for_function(f"document.body.dataset.window === '{w}'")
                label = "anomaly" if i == 0 else "normal"
                page.keyboard.press(label[0])
                _wait_label(page, w, label)
            page.keyboard.press("Enter")
            page.wait_for_selector("#progress:not([hidden])")
        page.wait_for_function(
            "document.body.dataset.round === '3' && document.body.dataset.busy === '0'"
        )
    finally:
        server.stop()
    assert errors == []
    reopened = LabellingSession.open(tmp_path / "s")
    assert reopened.n_rounds == 2
    assert reopened.detector.n_labelled_windows_ == 6
    np.testing.assert_array_equal(
        reopened.detector.decision_function(series),
        session.detector.decision_function(series),
    )


def _request(url, data=None, headers=None, host=None):
    """Status and JSON of a request to the live server (urllib, no extra client)."""
    import json
    import urllib.error
    import urllib.request

    # bytes go as they are: what a browser's page would never send
    body = (
        data if isinstance(data, bytes) or data is None else json.dumps(data).encode()
    )
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}))
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if host is not None:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_server_refuses_changes_without_its_token(fitted, pool, tmp_path):
    from alad.labelling.server import LabellingServer

    session = LabellingSession.create(tmp_path / "s", copy.deepcopy(fitted), pool)
    server = LabellingServer(session).start()
    try:
        url, w = server.url, session.pending_query[0]
        token = server.app.state.token
        status, page = _request(url)
        assert status == 200 and token in page and "uPlot.iife.min.js" in page
        import urllib.request

        with urllib.request.urlopen(url, timeout=30) as response:  # not framed
            assert response.headers["X-Frame-Options"] == "DENY"
            policy = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in policy
        assert _request(url + "static/uplot/uPlot.iife.min.js")[0] == 200
        change = {"window": w, "label": "normal"}
        assert _request(url + "api/label", change)[0] == 403
        status, _ = _request(url + "api/label", change, {"X-Alad-Token": token})
        assert status == 200 and session.labels()[0]["label"] == "normal"
        status, text = _request(
            url + "api/label", {"window": w, "label": "maybe"}, {"X-Alad-Token": token}
        )
        assert status == 400 and "label must be one of" in text
        assert _request(url + "api/state", host="evil.example")[0] == 400
    finally:
        server.stop()


def test_a_stopping_server_starts_no_new_round(fitted, pool, tmp_path):
    """A submit that reaches the server as it stops (Ctrl+C) started a round
    after stop() had looked for one, and the process then ended under it:
    it is refused, and its labels stay staged for the next start."""
    from alad.labelling.server import LabellingServer

    session = LabellingSession.create(tmp_path / "s", copy.deepcopy(fitted), pool)
    server = LabellingServer(session).start()
    try:
        token = {"X-Alad-Token": server.app.state.token}
        w = session.pending_query[0]
        change = {"window": w, "label": "normal"}
        assert _request(server.url + "api/label", change, token)[0] == 200
        server.app.state.job.refuse_new_rounds()  # what stop() does first
        status, text = _request(
            server.url + "api/submit", {"round": session.current_round}, token
        )
        assert status == 409 and "server is stopping" in text
        assert not server.learning and session.n_rounds == 0
        assert [r["window"] for r in session.labels()] == [w]
        server.stop()
        server.start()  # serving again, it takes rounds again
        token = {"X-Alad-Token": server.app.state.token}
        status, text = _request(
            server.url + "api/submit", {"round": session.current_round}, token
        )
        assert status == 202, text
        server.wait_idle()
        assert session.n_rounds == 1
    finally:
        server.stop()


def test_the_server_answers_malformed_labels_with_400(fitted, pool, tmp_path):
    from alad.labelling.server import _MAX_BODY, LabellingServer

    session = LabellingSession.create(tmp_path / "s", copy.deepcopy(fitted), pool)
    server = LabellingServer(session).start()
    w = session.pending_query[0]
    start, stop = session.window_rows(w)
    label = '{{"window": {}, "label": "{}"{}}}'.format  # a body as JSON text
    malformed = {
        "[]": "must be a JSON object",
        "null": "must be a JSON object",
        label("1e400", "normal", ""): "window must be an integer",
        label("Infinity", "normal", ""): "window must be an integer",
        label(f"{w}.9", "normal", ""): "window must be an integer",
        label("true", "unsure", ""): "window must be an integer",
        '{"label": "normal"}': "lacks the field 'window'",
        f'{{"window": {w}}}': "lacks the field 'label'",  # not a clear
        label(w, "anomaly", ', "range": "15"'): "anomalous_range must be two integer",
        label(w, "anomaly", f', "range": [{start}.5, {stop}]'): (
            "anomalous_range must be two integer"
        ),
        # a round is a number: true and "1" are not round 1
        label(w, "normal", ', "round": true'): "round must be an integer",
        label(w, "normal", ', "round": "1"'): "round must be an integer",
        label(w, "normal", ', "round": 1.0'): "round must be an integer",
    }
    try:
        headers = {"X-Alad-Token": server.app.state.token}
        for sent, message in malformed.items():
            status, text = _request(server.url + "api/label", sent.encode(), headers)
            assert status == 400 and message in text, (sent, status, text)
        assert session.labels() == []  # nothing was labelled
        status, text = _request(
            server.url + "api/label", b" " * (_MAX_BODY + 1), headers
        )
        assert status == 413 and "request body over" in text
        for window in ("%201", "1_0", "-1", "%D9%A1"):  # " 1", "1_0", -1, Arabic 1
            status, text = _request(server.url + f"api/window/{window}")
            assert status == 400 and "window must be" in text, (window, text)
        assert _request(server.url + f"api/window/{w}")[0] == 200
    finally:
        server.stop()


def test_a_failure_the_server_did_not_foresee_is_told_as_json(
    fitted, pool, tmp_path, monkeypatch
):
    """A full disk while a label is written: the page shows why, not a
    JSON parse error of a plain-text 500."""
    import errno
    import json

    from alad.labelling.server import LabellingServer

    session = LabellingSession.create(tmp_path / "s", copy.deepcopy(fitted), pool)

    def full(record):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(session, "_append_log", full)
    server = LabellingServer(session).start()
    try:
        headers = {"X-Alad-Token": server.app.state.token}
        change = {"window": session.pending_query[0], "label": "normal"}
        status, text = _request(server.url + "api/label", change, headers)
        assert status == 500
        assert json.loads(text) == {
            "error": "OSError: [Errno 28] No space left on device"
        }
        assert session.labels() == []
    finally:
        server.stop()


def test_the_page_serves_its_session_alone(fitted, pool, tmp_path):
    """While the page serves, a script in another process cannot label the
    session (its labels would be lost to the page's rounds); once stopped it
    can."""
    import subprocess
    import sys

    from alad.labelling.server import LabellingServer

    path = tmp_path / "s"
    session = LabellingSession.create(path, copy.deepcopy(fitted), pool)
    w = session.pending_query[0]
    script = (
        "import sys\n"
        "from alad.labelling import LabellingSession\n"
        "LabellingSession.open(sys.argv[1]).label(int(sys.argv[2]), 'anomaly')\n"
    )

    def label_from_a_script():
        argv = [sys.executable, "-c", script, str(path), str(w)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    server = LabellingServer(session).start()
    try:
        refused = label_from_a_script()
        assert refused.returncode != 0 and "in use by another process" in refused.stderr
        headers = {"X-Alad-Token": server.app.state.token}
        change = {"window": w, "label": "normal"}
        assert _request(server.url + "api/label", change, headers)[0] == 200
    finally:
        server.stop()
    assert label_from_a_script().returncode == 0  # the page let go
    assert LabellingSession.open(path).labels()[0]["label"] == "anomaly"


@needs_chromium
def test_a_page_opened_while_a_round_is_learnt_follows_it(
    browser, fitted, pool, tmp_path, monkeypatch
):
    """Reloaded (or opened in a second tab) during a round, the page shows
    the round's progress and the next round when it ends, not the old queue
    with a Submit button that the server refuses."""
    import threading

    from alad.labelling.server import LabellingServer

    session = LabellingSession.create(
        tmp_path / "s", copy.deepcopy(fitted), pool, per_round=2
    )
    release = threading.Event()
    kind = type(session.detector)
    learn = kind.partial_fit

    def slow(self, *args, **kwargs):  # on the class: the model file stores no code
        release.wait(60)
        return learn(self, *args, **kwargs)

    monkeypatch.setattr(kind, "partial_fit", slow)
    server = LabellingServer(session).start()
    try:
        headers = {"X-Alad-Token": server.app.state.token}
        for w in session.pending_query:
            change = {"window": w, "label": "normal", "round": 1}
            assert _request(server.url + "api/label", change, headers)[0] == 200
        assert _request(server.url + "api/submit", {"round": 1}, headers)[0] == 202
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(server.url)  # the round is being learnt
        page.wait_for_function(
            "document.body.dataset.busy === '1' && !document.getElementById"
            "('progress').hidden"
        )
        assert page.is_disabled("#submit")
        release.set()
        page.wait_for_function(
            "document.body.dataset.round === '2' && document.body.dataset.busy === '0'"
        )
        queue = page.eval_on_selector_all(
            "#queue li", "els => els.map(e => Number(e.dataset.window))"
        )
        assert queue == session.pending_query and session.n_rounds == 1
    finally:
        release.set()
        server.stop()


@needs_chromium
def test_clearing_a_window_not_asked_shows_the_window_the_keys_label(
    browser, fitted, pool, tmp_path
):
    """Cleared, a window labelled without being asked leaves the list: the
    page must show the window its next key labels."""
    from alad.labelling.server import LabellingServer

    session = LabellingSession.create(
        tmp_path / "s", copy.deepcopy(fitted), pool, per_round=3
    )
    asked = session.pending_query
    extra = next(w for w in range(session.n_windows) if w not in asked)
    session.label(extra, "normal")  # by hand (an import): listed after the asked
    server = LabellingServer(session).start()
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(server.url)
        page.wait_for_function("document.body.dataset.busy === '0'")
        page.click(f"#queue li[data-window='{extra}']")
        page.wait_for_function(f"document.body.dataset.window === '{extra}'")
        page.keyboard.press("x")
        page.wait_for_function(f"document.body.dataset.window !== '{extra}'")
        shown = int(page.evaluate("document.body.dataset.window"))
        page.keyboard.press("a")
        _wait_label(page, shown, "anomaly")
        assert [(r["window"], r["label"]) for r in session.labels()] == [
            (shown, "anomaly")
        ]
    finally:
        server.stop()


@needs_chromium
def test_a_page_on_an_old_round_is_told_to_reload(fitted, pool, tmp_path):
    """A second tab still showing a round another tab submitted."""
    from alad.labelling.server import LabellingServer

    session = LabellingSession.create(
        tmp_path / "s", copy.deepcopy(fitted), pool, per_round=2
    )
    server = LabellingServer(session).start()
    try:
        headers = {"X-Alad-Token": server.app.state.token}
        w = session.pending_query[0]
        sent = f'{{"window": {w}, "label": "normal", "round": 1}}'.encode()
        assert _request(server.url + "api/label", sent, headers)[0] == 200
        session.submit_round()  # elsewhere
        for path, body in (("api/label", sent), ("api/submit", b'{"round": 1}')):
            status, text = _request(server.url + path, body, headers)
            assert status == 409 and "shows round 1, but round 2" in text
        assert session.staged() == []
    finally:
        server.stop()


def test_closing_waits_for_the_round_being_learnt(fitted, pool, tmp_path, monkeypatch):
    import time

    from alad.labelling.server import LabellingServer

    session = LabellingSession.create(tmp_path / "s", copy.deepcopy(fitted), pool)
    server = LabellingServer(session).start()
    job = server.app.state.job
    ends = time.monotonic() + 0.5  # a round still learning for half a second
    real = job.snapshot
    monkeypatch.setattr(
        job, "snapshot", lambda: {**real(), "running": time.monotonic() < ends}
    )
    said = []
    server.close(said.append)
    assert time.monotonic() >= ends and not server._thread.is_alive()
    assert said and said[0].startswith("a round is being learnt: waiting")
