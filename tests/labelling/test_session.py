"""The labelling session on disk: create, label, submit, reopen, refuse."""

import csv
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from alad.labelling import LabellingSession, load_detector, save_detector
from alad.labelling._model_store import UnsafeModelError

from .conftest import held_by_another_process


def _label_pending(session, truth, *, unsure=()):
    """Label the pending windows from the truth; ``unsure`` positions as unsure."""
    for i, w in enumerate(session.pending_query):
        start, stop = session.window_rows(w)
        if i in unsure:
            session.label(w, "unsure")
        elif truth[start:stop].any():
            ones = np.flatnonzero(truth[start:stop]) + start
            session.label(w, "anomaly", anomalous_range=(ones[0], ones[-1] + 1))
        else:
            session.label(w, "normal")


def test_model_store_round_trips_scores_queries_and_learning(
    fresh, pool, pool_truth, tmp_path
):
    det = fresh
    idx = det.query(pool)
    det.partial_fit(pool[idx], pool_truth[idx])
    manifest = save_detector(det, tmp_path / "model")
    assert sorted(manifest["sha256"]) == ["arrays.npz", "params.json", "state.json"]
    loaded = load_detector(tmp_path / "model", expected_sha256=manifest["sha256"])
    assert np.array_equal(det.decision_function(pool), loaded.decision_function(pool))
    known = np.full(len(pool), np.nan)
    known[idx] = pool_truth[idx]
    q = det.query(pool, y=known)
    assert np.array_equal(q, loaded.query(pool, y=known))
    det.partial_fit(pool[q], pool_truth[q])
    loaded.partial_fit(pool[q], pool_truth[q])
    assert np.array_equal(det.decision_function(pool), loaded.decision_function(pool))
    assert loaded.threshold_ == det.threshold_
    # nothing in the model folder is a pickle
    with np.load(tmp_path / "model" / "arrays.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)


def test_a_model_saved_before_the_pool_replay_loads_and_learns(
    fresh, pool, pool_truth, tmp_path
):
    save_detector(fresh, tmp_path / "m")
    # what an earlier version wrote: neither the parameters nor the pool state
    params = tmp_path / "m" / "params.json"
    meta = json.loads(params.read_text())
    for name in ("feedback_steps", "pool_replay"):
        del meta["params"][name]
    params.write_text(json.dumps(meta))
    state_file = tmp_path / "m" / "state.json"
    state = json.loads(state_file.read_text())
    del state["attribute_names"], state["sha256"]  # written since
    state_file.write_text(json.dumps(state))
    with np.load(tmp_path / "m" / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if "_pool_normal" not in k}
    np.savez(tmp_path / "m" / "arrays.npz", **arrays)
    loaded = load_detector(tmp_path / "m")
    assert loaded.feedback_steps is None and loaded.pool_replay == 0.0
    idx = loaded.query(pool)
    loaded.partial_fit(pool[idx], pool_truth[idx])
    assert loaded.n_feedback_rounds_ == 1


def test_model_store_refuses_code_and_changed_files(fresh, tmp_path):
    from alad.backbones import TransformerBackbone

    odd = fresh.set_params(backbone=TransformerBackbone)
    with pytest.raises(UnsafeModelError, match="backbone must be a name"):
        save_detector(odd, tmp_path / "odd")
    odd.set_params(backbone="transformer")
    manifest = save_detector(odd, tmp_path / "m")
    params = tmp_path / "m" / "params.json"
    params.write_text(params.read_text().replace('"lr": 0.001', '"lr": 0.002'))
    with pytest.raises(ValueError, match="does not match the sha256"):
        load_detector(tmp_path / "m", expected_sha256=manifest["sha256"])


def test_session_holds_labels_rounds_history_and_reopens_identically(
    fresh, pool, pool_truth, tmp_path
):
    path = tmp_path / "session"
    s = LabellingSession.create(
        path, fresh, pool, per_round=6, budget=30, labeller="ada"
    )
    first = s.pending_query
    assert len(first) == 6 and s.current_round == 1
    _label_pending(s, pool_truth, unsure=(0,))
    entry = s.submit_round()
    assert entry["round"] == 1 and entry["counts"]["unsure"] == 1
    assert entry["n_trained_windows"] == 5
    assert entry["queried"] == first
    assert first[0] in entry["labelled"]["unsure"]
    assert not set(s.pending_query) & set(first)  # never re-asked, unsure included

    reopened = LabellingSession.open(path)  # verify=True rescored the pool
    assert reopened.pending_query == s.pending_query
    assert np.array_equal(reopened.scores(), s.scores())
    assert np.array_equal(
        reopened.detector.decision_function(pool), s.detector.decision_function(pool)
    )
    # the same next query, computed afresh by the reopened detector
    rows = reopened.detector.query(pool, y=reopened.known(), n_queries=6)
    assert sorted(set(rows // 20)) == reopened.pending_query
    assert reopened.labels() == s.labels()
    assert reopened.budget_left == 24

    # on disk: open formats, every label with time, labeller and round
    with open(path / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and {r["labeller"] for r in rows} == {"ada"}
    assert {r["round"] for r in rows} == {"1"} and all(r["time"] for r in rows)
    history = json.loads((path / "history.json").read_text())
    assert history[0]["threshold"] == pytest.approx(s.detector.threshold_)
    meta = json.loads((path / "session.json").read_text())
    assert meta["pool"]["copied"] and meta["budget"] == 30
    assert (path / "scores" / "round_001.npy").exists()

    # a second round after reopening, as after a few days
    _label_pending(reopened, pool_truth)
    reopened.submit_round()
    assert LabellingSession.open(path).n_rounds == 2


def test_session_trains_as_the_python_api_would(fitted, pool, pool_truth, tmp_path):
    """Sub-ranges become per-timestep labels; unsure never reaches partial_fit."""
    import copy

    by_session = copy.deepcopy(fitted)
    by_hand = copy.deepcopy(fitted)
    s = LabellingSession.create(tmp_path / "s", by_session, pool, per_round=6)
    windows = s.pending_query
    assert windows == sorted(set(by_hand.query(pool, n_queries=6) // 20))
    s.label(
        windows[0],
        "anomaly",
        anomalous_range=(windows[0] * 20 + 5, windows[0] * 20 + 12),
    )
    s.label(windows[1], "unsure")
    for w in windows[2:]:
        s.label(w, "normal")
    s.submit_round()

    trained = [windows[0], *windows[2:]]
    rows = np.concatenate([np.arange(w * 20, w * 20 + 20) for w in trained])
    y = np.zeros(len(rows))
    y[5:12] = 1.0
    by_hand.partial_fit(pool[rows], y)
    assert np.array_equal(
        s.detector.decision_function(pool), by_hand.decision_function(pool)
    )


def test_session_refuses_a_changed_pool_and_bad_labels(fresh, pool, tmp_path):
    pool_file = tmp_path / "pool.npy"
    np.save(pool_file, pool)
    s = LabellingSession.create(tmp_path / "s", fresh, pool_file, per_round=4)
    assert not (tmp_path / "s" / "pool.npy").exists()  # referenced, not copied
    w = s.pending_query[0]
    with pytest.raises(ValueError, match="label must be one of"):
        s.label(w, "maybe")
    with pytest.raises(ValueError, match="anomalous_range must satisfy"):
        s.label(w, "anomaly", anomalous_range=(0, 5 + w * 20 + 20))
    with pytest.raises(ValueError, match="for label 'anomaly' only"):
        s.label(w, "normal", anomalous_range=(w * 20, w * 20 + 3))
    with pytest.raises(ValueError, match="window must be in"):
        s.label(10_000, "normal")
    with pytest.raises(ValueError, match="has no label"):
        s.submit_round()
    with pytest.raises(FileExistsError):
        LabellingSession.create(tmp_path / "s", fresh, pool_file)

    changed = pool.copy()
    changed[0, 0] += 1.0
    np.save(pool_file, changed)
    with pytest.raises(ValueError, match="the data changed"):
        LabellingSession.open(tmp_path / "s")


def test_unsure_windows_are_asked_again_only_on_request(fresh, pool, tmp_path):
    s = LabellingSession.create(tmp_path / "s", fresh, pool, per_round=4)
    for w in s.pending_query:
        s.label(w, "unsure")
    entry = s.submit_round()
    unsure = entry["labelled"]["unsure"]
    assert entry["n_trained_windows"] == 0 and s.detector.n_feedback_rounds_ == 0
    assert not set(unsure) & set(s.pending_query)
    assert s.requery_unsure() == unsure
    assert s.unsure_mask().sum() == 0
    reopened = LabellingSession.open(tmp_path / "s")
    assert reopened.labels() == [] and reopened.pending_query == s.pending_query


def test_budget_ends_the_queries(fresh, pool, tmp_path):
    s = LabellingSession.create(tmp_path / "s", fresh, pool, per_round=4, budget=6)
    for w in s.pending_query:
        s.label(w, "normal")
    s.submit_round()
    assert len(s.pending_query) == 2
    for w in s.pending_query:
        s.label(w, "normal")
    s.submit_round()
    assert s.pending_query == [] and s.budget_left == 0
    with pytest.raises(ValueError, match="budget of 6 windows is spent"):
        labelled = {r["window"] for r in s.labels()}
        s.label(next(w for w in range(s.n_windows) if w not in labelled), "normal")


def test_the_detectors_own_budget_ends_the_queries(fresh, pool, tmp_path):
    det = fresh.set_params(budget=5)
    s = LabellingSession.create(tmp_path / "s", det, pool, per_round=4)
    assert s.budget == 5
    for w in s.pending_query:
        s.label(w, "normal")
    s.submit_round()
    assert len(s.pending_query) == 1


def test_model_files_cannot_set_parameters_or_dunders(fresh, tmp_path):
    import json as _json

    manifest = save_detector(fresh, tmp_path / "m")
    state_file = tmp_path / "m" / "state.json"
    state = _json.loads(state_file.read_text())
    state["attributes"]["__class__"] = "x"
    state_file.write_text(_json.dumps(state))
    with pytest.raises(ValueError, match="unexpected attribute '__class__'"):
        load_detector(tmp_path / "m")
    del state["attributes"]["__class__"]
    state["attributes"]["lr"] = 0.5
    state_file.write_text(_json.dumps(state))
    with pytest.raises(ValueError, match="unexpected attribute 'lr'"):
        load_detector(tmp_path / "m")
    assert manifest["format"] == "alad-safe-model/1"


def test_a_crash_while_saving_leaves_the_last_round(fresh, pool, tmp_path, monkeypatch):
    path = tmp_path / "s"
    s = LabellingSession.create(path, fresh, pool, per_round=4)
    before = s.detector.decision_function(pool)
    windows = s.pending_query
    for w in windows:
        s.label(w, "normal")

    def crash(self, meta=None):
        raise OSError("disk full")

    monkeypatch.setattr(LabellingSession, "_save_meta", crash)
    with pytest.raises(OSError, match="disk full"):
        s.submit_round()
    monkeypatch.undo()
    # in memory and on disk: round 1 still to submit, with its labels staged
    assert s.n_rounds == 0 and s.pending_query == windows
    assert np.array_equal(s.detector.decision_function(pool), before)
    reopened = LabellingSession.open(path)
    assert reopened.n_rounds == 0 and len(reopened.staged()) == 4
    assert reopened.submit_round()["round"] == 1
    assert sorted(p.name for p in path.glob("model-*")) == ["model-001"]


def test_an_interrupt_after_the_commit_keeps_the_committed_round(
    fresh, pool, tmp_path, monkeypatch
):
    """Ctrl-C while the previous model folder is removed: session.json already
    names the new round, so memory must not go back to the old one."""
    path = tmp_path / "s"
    s = LabellingSession.create(path, fresh, pool, per_round=4)
    for w in s.pending_query:
        s.label(w, "normal")

    def interrupt(self, model_dir):
        raise KeyboardInterrupt

    monkeypatch.setattr(LabellingSession, "_remove_model", interrupt)
    with pytest.raises(KeyboardInterrupt):
        s.submit_round()
    monkeypatch.undo()
    reopened = LabellingSession.open(path)
    assert s.n_rounds == reopened.n_rounds == 1
    assert s.pending_query == reopened.pending_query
    scores = s.detector.decision_function(pool)
    assert np.array_equal(scores, reopened.detector.decision_function(pool))
    for w in s.pending_query:
        s.label(w, "normal")
    assert s.submit_round()["round"] == 2  # and the session goes on
    assert LabellingSession.open(path).n_rounds == 2
    # the unused folder of round 0 is left; the committed one is there
    names = sorted(p.name for p in path.glob("model-*"))
    assert "model-002" in names and "model-001" not in names


def test_an_interrupt_right_after_session_json_is_renamed_keeps_the_round(
    fresh, pool, tmp_path, monkeypatch
):
    """Ctrl-C while the folder is synced, after session.json's rename: the
    disk holds the new round, so memory must too (no staged label left to
    change under a model that learnt it)."""
    from alad.labelling import session as session_module

    path = tmp_path / "s"
    s = LabellingSession.create(path, fresh, pool, per_round=4)
    windows = s.pending_query
    for w in windows:
        s.label(w, "anomaly")
    real = session_module._write_atomic

    def write_then_interrupt(target, text):
        real(target, text)
        if target.name == "session.json":
            raise KeyboardInterrupt

    monkeypatch.setattr(session_module, "_write_atomic", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        s.submit_round()
    monkeypatch.undo()
    reopened = LabellingSession.open(path)
    assert s.n_rounds == reopened.n_rounds == 1 and s.staged() == []
    assert s.pending_query == reopened.pending_query
    with pytest.raises(ValueError, match="already submitted"):
        s.label(windows[0], "normal")
    assert np.array_equal(
        s.detector.decision_function(pool), reopened.detector.decision_function(pool)
    )


def test_a_failed_overwrite_leaves_the_old_session(fresh, pool, tmp_path, monkeypatch):
    from alad.labelling import session as session_module

    path = tmp_path / "s"
    first = LabellingSession.create(path, fresh, pool, per_round=4)
    real = os.replace

    def refuse_the_new_folder(src, dst):
        if Path(src).name == ".s.creating":
            raise OSError("simulated failure of the rename")
        return real(src, dst)

    monkeypatch.setattr(session_module.os, "replace", refuse_the_new_folder)
    with pytest.raises(OSError, match="simulated"):
        LabellingSession.create(path, fresh, pool, per_round=2, overwrite=True)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]
    assert LabellingSession.open(path).pending_query == first.pending_query
    again = LabellingSession.create(path, fresh, pool, per_round=2, overwrite=True)
    assert again.per_round == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_a_withdrawal_that_cannot_be_logged_keeps_the_label(
    fresh, pool, tmp_path, monkeypatch
):
    path = tmp_path / "s"
    s = LabellingSession.create(path, fresh, pool, per_round=4)
    window = s.pending_query[0]
    s.label(window, "anomaly")

    def disk_full(self, record):
        raise OSError("no space left on device")

    monkeypatch.setattr(LabellingSession, "_append_log", disk_full)
    with pytest.raises(OSError, match="no space"):
        s.unset(window)
    monkeypatch.undo()
    assert _windows(s) == _windows(LabellingSession.open(path)) == [window]


def test_requerying_the_unsure_windows_leaves_the_saved_detector(fresh, pool, tmp_path):
    """The query's change (the pool's quiet windows it replays) is saved only
    by a round: asked of a copy, the detector stays the one on the disk."""
    path = tmp_path / "s"
    fresh.set_params(pool_replay=0.5)
    s = LabellingSession.create(path, fresh, pool, per_round=4)
    windows = s.pending_query
    s.label(windows[0], "unsure")
    for w in windows[1:]:
        s.label(w, "normal")
    s.submit_round()
    replayed = s.detector._pool_normal
    assert s.requery_unsure() == [windows[0]]
    assert s.detector._pool_normal is replayed
    # a copy of the folder: one session object writes one folder
    reopened = LabellingSession.open(shutil.copytree(path, tmp_path / "copy"))
    assert reopened.pending_query == s.pending_query
    for session in (s, reopened):
        for w in session.pending_query:
            session.label(w, "normal")
        session.submit_round()
    assert np.array_equal(
        s.detector.decision_function(pool), reopened.detector.decision_function(pool)
    )


def test_an_interrupted_create_leaves_no_folder(fresh, pool, tmp_path, monkeypatch):
    """Neither open (no session.json) nor create (not empty) took a half-made one."""
    path = tmp_path / "s"
    first = LabellingSession.create(path, fresh, pool, per_round=4)

    def interrupt(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(LabellingSession, "_commit", interrupt)
    with pytest.raises(KeyboardInterrupt):
        LabellingSession.create(tmp_path / "new", fresh, pool)
    with pytest.raises(KeyboardInterrupt):
        LabellingSession.create(path, fresh, pool, per_round=2, overwrite=True)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]
    assert LabellingSession.open(path).pending_query == first.pending_query
    assert LabellingSession.create(tmp_path / "new", fresh, pool).n_rounds == 0


def test_a_session_created_in_the_working_directory_takes_labels(
    fresh, pool, tmp_path, monkeypatch
):
    """create renames its folder into place: "." must reach the new one."""
    (tmp_path / "s").mkdir()
    monkeypatch.chdir(tmp_path / "s")
    s = LabellingSession.create(".", fresh, pool, per_round=4)
    s.label(s.pending_query[0], "normal")
    assert _windows(LabellingSession.open(tmp_path / "s")) == [s.pending_query[0]]


def test_a_session_created_through_a_symlink_lands_in_its_folder(fresh, pool, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    s = LabellingSession.create(tmp_path / "link", fresh, pool, per_round=4)
    s.label(s.pending_query[0], "normal")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]
    assert len(LabellingSession.open(tmp_path / "link").labels()) == 1


def test_a_half_written_label_row_is_dropped(fresh, pool, tmp_path):
    path = tmp_path / "s"
    s = LabellingSession.create(path, fresh, pool, per_round=4)
    a, b, c = s.pending_query[:3]
    s.label(a, "normal")
    s.label(b, "anomaly")
    with open(path / "labels.csv", "a") as f:  # the process died mid-row
        f.write(f"2026-01-01T00:00:00+00:00,someone,1,{c},")
    reopened = LabellingSession.open(path)
    assert _windows(reopened) == [a, b]
    reopened.label(c, "unsure")  # starts a line of its own
    assert _windows(LabellingSession.open(path)) == sorted([a, b, c])


def test_the_label_log_is_read_in_the_encoding_it_was_written_in(
    fresh, pool, tmp_path, monkeypatch
):
    """labels.csv is appended in the locale's encoding (cp1252 on many Windows
    machines): a labeller's accented name must not make the session unopenable."""
    from alad.labelling import session as module

    monkeypatch.setattr(module, "_LOG_ENCODING", "cp1252")
    path = tmp_path / "s"
    s = LabellingSession.create(path, fresh, pool, per_round=4)
    s.label(s.pending_query[0], "normal", labeller="Jürgen")
    assert "Jürgen".encode("cp1252") in (path / "labels.csv").read_bytes()
    assert [r["labeller"] for r in LabellingSession.open(path).labels()] == ["Jürgen"]


def _windows(session):
    return sorted(r["window"] for r in session.labels())


def test_a_damaged_session_is_a_value_error_naming_the_file(fresh, pool, tmp_path):
    path = tmp_path / "s"
    LabellingSession.create(path, fresh, pool, per_round=4)
    log = (path / "labels.csv").read_text()
    (path / "labels.csv").write_text(log + "x,y\n")
    with pytest.raises(ValueError, match=r"labels.csv, line 2: not a label row"):
        LabellingSession.open(path)
    (path / "labels.csv").write_text(log)
    meta = json.loads((path / "session.json").read_text())
    (path / "session.json").write_text(json.dumps({"format": meta["format"]}))
    with pytest.raises(ValueError, match="session.json lacks pool, window_size"):
        LabellingSession.open(path)
    (path / "session.json").write_text("")
    with pytest.raises(ValueError, match="session.json is not valid JSON"):
        LabellingSession.open(path)


def test_the_log_is_utf8_and_an_older_session_reads_in_the_locales(
    fresh, pool, tmp_path
):
    import locale

    path = tmp_path / "s"
    s = LabellingSession.create(path, fresh, pool, per_round=2, labeller="José")
    s.label(s.pending_query[0], "normal")
    assert json.loads((path / "session.json").read_text())["log_encoding"] == "utf-8"
    assert "José" in (path / "labels.csv").read_bytes().decode("utf-8")
    assert LabellingSession.open(path).labels()[0]["labeller"] == "José"
    # a session written before the encoding was recorded: the locale's
    meta = json.loads((path / "session.json").read_text())
    del meta["log_encoding"]
    (path / "session.json").write_text(json.dumps(meta))
    legacy = locale.getpreferredencoding(False)
    log = (path / "labels.csv").read_bytes().decode("utf-8").encode(legacy)
    (path / "labels.csv").write_bytes(log)
    assert LabellingSession.open(path).labels()[0]["labeller"] == "José"


def test_a_csv_pool_with_a_byte_order_mark_keeps_its_first_row(tmp_path):
    from alad.labelling.session import load_pool

    plain, marked = tmp_path / "a.csv", tmp_path / "b.csv"
    plain.write_text("1.0,2.0\n3.0,4.0\n5.0,6.0\n", encoding="utf-8")
    marked.write_text("1.0,2.0\n3.0,4.0\n5.0,6.0\n", encoding="utf-8-sig")
    X, names = load_pool(marked)
    assert X.shape == (3, 2) and names is None
    assert np.array_equal(X, load_pool(plain)[0])
    marked.write_text("a,b\n1.0,2.0\n", encoding="utf-8-sig")
    assert load_pool(marked)[1] == ["a", "b"]


def test_reopening_allows_float32_rounding_not_another_model(fresh, pool, tmp_path):
    """A model saved on a GPU scores on a CPU to rounding, not to the bit."""
    path = tmp_path / "s"
    LabellingSession.create(path, fresh, pool, per_round=2)
    saved = path / "scores" / "round_000.npy"
    scores = np.load(saved)
    np.save(saved, scores * (1 + 1e-6))
    LabellingSession.open(path)
    np.save(saved, scores * 1.01)
    with pytest.raises(ValueError, match="do not match the session"):
        LabellingSession.open(path)


def test_reopening_on_another_device_allows_its_kernels_not_another_model(
    fresh, pool, tmp_path
):
    """Scored on a GPU (its convolutions maybe in TF32), reopened on a CPU:
    a percent off is the kernels; a model of another round is farther off."""
    path = tmp_path / "s"
    LabellingSession.create(path, fresh, pool, per_round=2)
    meta_file = path / "session.json"
    meta = json.loads(meta_file.read_text())
    assert meta["scored_on"] == "cpu"
    meta["scored_on"] = "cuda"
    meta_file.write_text(json.dumps(meta))
    saved = path / "scores" / "round_000.npy"
    scores = np.load(saved)
    np.save(saved, scores * 1.01)  # refused on the device it was scored on
    LabellingSession.open(path)
    np.save(saved, scores + 0.2 * np.max(np.abs(scores)))
    with pytest.raises(ValueError, match="do not match the session"):
        LabellingSession.open(path)


def test_a_session_in_use_is_not_replaced_under_its_writer(fresh, pool, tmp_path):
    path = tmp_path / "s"
    first = LabellingSession.create(path, fresh, pool, per_round=2)
    with (
        held_by_another_process(path),
        pytest.raises(OSError, match="in use by another"),
    ):
        LabellingSession.create(path, fresh, pool, per_round=3, overwrite=True)
    assert LabellingSession.open(path).pending_query == first.pending_query
    assert LabellingSession.create(path, fresh, pool, per_round=3, overwrite=True)


def _another_process_takes(path) -> bool:
    """Whether another process can hold the folder now."""
    code = (
        "import sys\n"
        "from alad.labelling.session import writer_lock\n"
        "try:\n"
        "    with writer_lock(sys.argv[1]):\n"
        "        pass\n"
        "except OSError:\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], timeout=120)
    assert done.returncode in (0, 3)
    return done.returncode == 0


def test_the_folder_stays_held_until_its_last_block_ends_in_any_order(tmp_path):
    """The page's server holds the folder and a round's thread holds it
    again; Ctrl+C ends the server's block first. The folder stays held
    until the round's block ends (it was let go at once, and the round's
    end raised KeyError), then it is free."""
    from alad.labelling.session import writer_lock

    server = writer_lock(tmp_path)
    server.__enter__()
    entered, finish, errors = threading.Event(), threading.Event(), []

    def round_thread():
        try:
            with writer_lock(tmp_path):
                entered.set()
                finish.wait(60)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    thread = threading.Thread(target=round_thread)
    thread.start()
    assert entered.wait(60)
    server.__exit__(None, None, None)
    try:
        assert not _another_process_takes(tmp_path)
    finally:
        finish.set()
        thread.join(60)
    assert errors == []
    assert _another_process_takes(tmp_path)


def test_a_session_written_since_it_was_read_is_not_written_over(fresh, pool, tmp_path):
    """Two objects of one folder (a script and the page's, or two opens):
    the stale one's label or round would drop the other's; it is refused."""
    path = tmp_path / "s"
    first = LabellingSession.create(path, fresh, pool, per_round=2)
    second = LabellingSession.open(path)
    a, b = first.pending_query
    first.label(a, "anomaly")
    for write in (
        lambda: second.label(b, "normal"),
        lambda: second.unset(a),
        second.requery_unsure,
        second.submit_round,
    ):
        with pytest.raises(RuntimeError, match="written after this object read it"):
            write()
    first.label(b, "normal")  # its own writes go on
    first.submit_round()
    again = LabellingSession.open(path)
    assert again.n_rounds == 1 and again.n_labelled == 2


def test_a_moved_pool_is_recorded_with_the_next_label(fitted, pool, tmp_path):
    import copy

    pool_file = tmp_path / "pool.npy"
    np.save(pool_file, pool)
    path = tmp_path / "s"
    LabellingSession.create(path, copy.deepcopy(fitted), pool_file, per_round=2)
    moved = pool_file.rename(tmp_path / "moved.npy")
    with pytest.raises(FileNotFoundError, match="alad label --pool NEW_PATH"):
        LabellingSession.open(path)
    session = LabellingSession.open(path, pool=moved)
    session.label(session.pending_query[0], "normal")
    reopened = LabellingSession.open(path)  # no pool given: its new place is known
    assert reopened.labels()[0]["label"] == "normal"
    assert json.loads((path / "session.json").read_text())["pool"]["path"] == str(
        moved.resolve()
    )
