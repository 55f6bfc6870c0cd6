"""Tests of the data home and of downloads, against a local HTTP server."""

import csv
import functools
import hashlib
import http.server
import io
import re
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from alad.datasets import fetch_file, get_data_home, load_gecco, load_msl, load_odds
from alad.datasets._fetch import ENV_DATA_URL, REGISTRY

# get_data_home ---------------------------------------------------------------


def test_data_home_argument_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("ALAD_DATA_HOME", str(tmp_path / "from_env"))
    assert get_data_home(tmp_path / "given") == tmp_path / "given"
    assert get_data_home(str(tmp_path / "given")) == tmp_path / "given"


def test_data_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ALAD_DATA_HOME", str(tmp_path / "from_env"))
    assert get_data_home() == tmp_path / "from_env"
    # an empty argument (--data-home=) is no path, as an empty variable: it
    # was the current folder
    assert get_data_home("") == tmp_path / "from_env"


def test_data_home_default_is_not_created(tmp_path, monkeypatch):
    monkeypatch.delenv("ALAD_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == tmp_path / "alad_data"
    assert get_data_home("~/elsewhere") == tmp_path / "elsewhere"
    assert not (tmp_path / "alad_data").exists()


def test_data_home_type():
    with pytest.raises(
        TypeError, match="data_home must be a str, a path-like.*got int"
    ):
        get_data_home(3)


# the registry ----------------------------------------------------------------


def test_registry_addresses_are_pinned():
    for relative_path, (url, sha256) in REGISTRY.items():
        assert re.fullmatch(
            r"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/.+", url
        )
        assert url.endswith("/" + relative_path.rsplit("/", 1)[-1])
        assert re.fullmatch(r"[0-9a-f]{64}", sha256)
    assert len(REGISTRY) == 1 + 4 + 1 + 1 + 2 * 27 + 12


@pytest.mark.real_data
def test_registry_hashes_match_the_real_data(data_home):
    for relative_path, (_, sha256) in REGISTRY.items():
        if relative_path.endswith(".rda") and not (data_home / relative_path).exists():
            continue
        digest = hashlib.sha256((data_home / relative_path).read_bytes()).hexdigest()
        assert digest == sha256, relative_path


def test_fetch_file_rejects_unregistered_paths(tmp_path):
    with pytest.raises(
        ValueError, match="relative_path must be a file of the download"
    ):
        fetch_file("odds/kdd.mat", tmp_path)


# downloads from a local server -----------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve a temporary folder over HTTP on 127.0.0.1; yield (folder, url)."""
    root = tmp_path_factory.mktemp("www")
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def mirror(server, request, monkeypatch):
    """A fresh mirror folder on the server; yield (folder, base_url)."""
    root, url = server
    folder = root / request.node.name.replace("[", "_").replace("]", "_")
    folder.mkdir()
    monkeypatch.delenv(ENV_DATA_URL, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # never send local requests to a proxy
    return folder, f"{url}/{folder.name}"


def _serve(data_home, folder, relative_path):
    target = folder / relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data_home / relative_path, target)
    return target


@pytest.mark.real_data
def test_loader_downloads_and_checks(data_home, mirror, tmp_path, monkeypatch):
    folder, url = mirror
    _serve(data_home, folder, "odds/lympho.mat")
    monkeypatch.setenv(ENV_DATA_URL, url)
    home = tmp_path / "home"
    data = load_odds("lympho", home, download=True)
    arrived = home / "odds" / "lympho.mat"
    assert arrived.read_bytes() == (data_home / "odds" / "lympho.mat").read_bytes()
    original = load_odds("lympho", data_home)
    np.testing.assert_array_equal(data.X, original.X)
    np.testing.assert_array_equal(data.y, original.y)


@pytest.mark.real_data
def test_corrupted_download_raises_and_leaves_nothing(data_home, mirror, tmp_path):
    folder, url = mirror
    served = _serve(data_home, folder, "odds/lympho.mat")
    served.write_bytes(served.read_bytes()[:-1] + b"\0")
    home = tmp_path / "home"
    with pytest.raises(ValueError, match="failed its sha256 check"):
        fetch_file("odds/lympho.mat", home, base_url=url)
    assert not (home / "odds" / "lympho.mat").exists()


@pytest.mark.real_data
def test_a_file_in_place_is_kept_or_replaced(data_home, mirror, tmp_path):
    folder, url = mirror
    home = tmp_path / "home"
    (home / "odds").mkdir(parents=True)
    shutil.copyfile(data_home / "odds" / "lympho.mat", home / "odds" / "lympho.mat")
    # Right hash: no request is made (nothing is served).
    assert (
        fetch_file("odds/lympho.mat", home, base_url=url)
        == home / "odds" / "lympho.mat"
    )
    # Wrong hash: downloaded again.
    (home / "odds" / "lympho.mat").write_bytes(b"stale")
    _serve(data_home, folder, "odds/lympho.mat")
    fetch_file("odds/lympho.mat", home, base_url=url)
    assert (home / "odds" / "lympho.mat").read_bytes() == (
        data_home / "odds" / "lympho.mat"
    ).read_bytes()


def test_failed_download_says_where_to_put_the_file(mirror, tmp_path):
    _, url = mirror  # serves nothing: every request gets 404
    home = tmp_path / "home"
    with pytest.raises(FileNotFoundError) as info:
        fetch_file("odds/cardio.mat", home, base_url=url)
    message = str(info.value)
    assert f"Could not download 'odds/cardio.mat' from {url}/odds/cardio.mat" in message
    assert str(home / "odds" / "cardio.mat") in message and "ALAD_DATA_HOME" in message
    assert not (home / "odds" / "cardio.mat").exists()


def test_unreachable_server(tmp_path, monkeypatch):
    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv(ENV_DATA_URL, f"http://127.0.0.1:{port}")
    with pytest.raises(FileNotFoundError) as info:
        load_odds("cardio", tmp_path / "home", download=True)
    message = str(info.value)
    assert str(tmp_path / "home" / "odds" / "cardio.mat") in message
    assert "ALAD_DATA_HOME" in message


def _with_smap_rows(text):
    """telemanom's form of labeled_anomalies.csv: SMAP rows too, \\n line ends."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows[0])
    writer.writerow(["P-1", "SMAP", "[[2149, 2349]]", "[contextual]", "8505"])
    writer.writerows(rows[1:3])
    writer.writerow(
        ["E-1", "SMAP", "[[5000, 5030], [5610, 6086]]", "[point, point]", "8516"]
    )
    writer.writerows(rows[3:])
    return out.getvalue()


@pytest.mark.real_data
def test_labeled_anomalies_are_filtered_then_checked(data_home, mirror, tmp_path):
    folder, url = mirror
    stored = (data_home / "msl" / "labeled_anomalies.csv").read_bytes()
    upstream = folder / "msl" / "labeled_anomalies.csv"
    upstream.parent.mkdir(parents=True)
    upstream.write_text(_with_smap_rows(stored.decode()), newline="")
    home = tmp_path / "home"
    fetch_file("msl/labeled_anomalies.csv", home, base_url=url)
    assert (home / "msl" / "labeled_anomalies.csv").read_bytes() == stored
    # A mirror of a data home serves the filtered file, which passes as well.
    (home / "msl" / "labeled_anomalies.csv").unlink()
    upstream.write_bytes(stored)
    fetch_file("msl/labeled_anomalies.csv", home, base_url=url)
    assert (home / "msl" / "labeled_anomalies.csv").read_bytes() == stored
    # A changed MSL row fails the check and leaves nothing behind.
    (home / "msl" / "labeled_anomalies.csv").unlink()
    upstream.write_bytes(stored.replace(b"[[550, 750]", b"[[551, 750]"))
    with pytest.raises(ValueError, match="failed its sha256 check"):
        fetch_file("msl/labeled_anomalies.csv", home, base_url=url)
    assert list((home / "msl").iterdir()) == []


@pytest.mark.real_data
def test_load_msl_downloads_an_entity(data_home, mirror, tmp_path, monkeypatch):
    folder, url = mirror
    for relative_path in (
        "msl/labeled_anomalies.csv",
        "msl/train/C-1.npy",
        "msl/test/C-1.npy",
    ):
        _serve(data_home, folder, relative_path)
    monkeypatch.setenv(ENV_DATA_URL, url)
    data = load_msl("C-1", tmp_path / "home", download=True)
    assert sorted(p.name for p in (tmp_path / "home" / "msl").rglob("*.*")) == [
        "C-1.npy",
        "C-1.npy",
        "labeled_anomalies.csv",
    ]
    original = load_msl("C-1", data_home)
    np.testing.assert_array_equal(data.X_test, original.X_test)
    np.testing.assert_array_equal(data.y_test, original.y_test)


@pytest.mark.real_data
def test_load_gecco_downloads_the_rda(data_home, mirror, tmp_path, monkeypatch):
    pytest.importorskip("pyreadr")
    folder, url = mirror
    _serve(data_home, folder, "gecco/geccoIC2018Train.rda")
    monkeypatch.setenv(ENV_DATA_URL, url)
    data = load_gecco(tmp_path / "home", download=True)
    assert [p.name for p in (tmp_path / "home" / "gecco").iterdir()] == [
        "geccoIC2018Train.rda"
    ]
    np.testing.assert_array_equal(data.y_test, load_gecco(data_home).y_test)
    assert data.X_train.shape == (69_260, 9)


def test_download_false_creates_nothing(tmp_path):
    home = tmp_path / "home"
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_msl("C-1", home)
    assert not home.exists()


def test_registry_paths_are_relative():
    for relative_path in REGISTRY:
        assert not Path(relative_path).is_absolute() and ".." not in relative_path


def test_base_url_must_be_http(tmp_path):
    with pytest.raises(ValueError, match="base_url .*ALAD_DATA_URL.* must be an http"):
        fetch_file("odds/cardio.mat", tmp_path, base_url="ftp://example.org/mirror")
    assert not (tmp_path / "odds").exists()
