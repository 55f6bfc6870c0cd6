"""The safe model files: every default detector round-trips; damage is refused."""

import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import alad
from alad.labelling import LabellingSession, load_detector, save_detector
from alad.labelling._model_store import UnsafeModelError
from alad.score_smoothing import ScoreSmoother

from .conftest import tiny_detector


@pytest.fixture(scope="module")
def univariate(telemetry):
    """A univariate detector at the defaults: its scores are scanned over
    widths (``score_smoothing="auto"``), a smoother of sorted references."""
    return tiny_detector().fit(telemetry.X_train[:, :1])


def _round(det, pool, truth):
    idx = det.query(pool)
    det.partial_fit(pool[idx], truth[idx])


def test_a_univariate_detector_round_trips_with_its_smoother(
    univariate, pool, pool_truth, tmp_path
):
    det = copy.deepcopy(univariate)
    assert isinstance(det._smoother, ScoreSmoother) and len(det._smoother.widths) > 1
    series = pool[:, :1]
    _round(det, series, pool_truth)
    manifest = save_detector(det, tmp_path / "m")
    loaded = load_detector(tmp_path / "m", expected_sha256=manifest["sha256"])
    assert loaded._smoother.widths == det._smoother.widths
    for ours, theirs in zip(det._smoother.references_, loaded._smoother.references_):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(
        det.decision_function(series), loaded.decision_function(series)
    )
    _round(det, series, pool_truth)
    _round(loaded, series, pool_truth)
    np.testing.assert_array_equal(
        det.decision_function(series), loaded.decision_function(series)
    )
    assert loaded.threshold_ == det.threshold_


def test_a_labelling_session_holds_a_univariate_detector(
    univariate, pool, pool_truth, tmp_path
):
    series = pool[:, :1]
    s = LabellingSession.create(tmp_path / "s", copy.deepcopy(univariate), series)
    for w in s.pending_query:
        start, stop = s.window_rows(w)
        s.label(w, "anomaly" if pool_truth[start:stop].any() else "normal")
    s.submit_round()
    again = LabellingSession.open(tmp_path / "s")
    np.testing.assert_array_equal(
        s.detector.decision_function(series), again.detector.decision_function(series)
    )


def test_column_names_round_trip_as_strings(fresh, pool, tmp_path):
    # what fitting on a DataFrame leaves: an object array of str
    fresh.feature_names_in_ = np.array([f"c{i}" for i in range(pool.shape[1])], object)
    save_detector(fresh, tmp_path / "m")
    loaded = load_detector(tmp_path / "m")
    assert loaded.feature_names_in_.dtype == object
    assert list(loaded.feature_names_in_) == list(fresh.feature_names_in_)
    fresh.feature_names_in_ = np.array([1, "a"], object)
    with pytest.raises(UnsafeModelError, match="objects other than strings"):
        save_detector(fresh, tmp_path / "odd")


def _saved(fresh, folder):
    save_detector(fresh, folder)
    return folder


def _edit_state(folder, change):
    state = json.loads((folder / "state.json").read_text())
    change(state)
    (folder / "state.json").write_text(json.dumps(state))


def _unrecorded(folder):
    """The folder as saved before ``state.json`` recorded the other files'
    hashes: a changed file then reaches the checks of its contents."""
    _edit_state(folder, lambda state: state.pop("sha256"))


def _rewrite_arrays(folder, change):
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    np.savez(folder / "arrays.npz", **arrays)
    _unrecorded(folder)


def _first(arrays, prefix):
    return next(k for k in sorted(arrays) if k.startswith(prefix))


def _one_array(path):
    with open(path, "wb") as f:  # np.save(path) would add ".npy" to the name
        np.save(f, np.zeros(3))


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: _truncate(f / "arrays.npz"), "not a NumPy .npz archive"),
        (lambda f: (f / "arrays.npz").write_bytes(b""), "not a NumPy .npz archive"),
        (lambda f: (f / "arrays.npz").write_bytes(b"garbage"), "not a NumPy .npz"),
        (lambda f: _one_array(f / "arrays.npz"), "a single array"),
        (lambda f: (f / "params.json").write_text("[]"), "a JSON list, not an object"),
        (lambda f: _truncate(f / "state.json"), "state.json: not valid JSON"),
        (lambda f: _truncate(f / "params.json"), "params.json: not valid JSON"),
        (
            lambda f: _edit_state(f, lambda s: s.update(attribute_names="abc")),
            "state.json: attribute_names is not a list",
        ),
        (
            lambda f: _edit_state(
                f, lambda s: s["attributes"].update(threshold_={"__tuple__": 5})
            ),
            "state.json: threshold_ cannot be read",
        ),
        (
            lambda f: _rewrite_arrays(f, lambda a: a.pop(_first(a, "attr."))),
            "fitted attributes missing",
        ),
        (
            lambda f: _rewrite_arrays(f, lambda a: a.pop(_first(a, "net_."))),
            "the backbone's weights do not fit it",
        ),
        (
            lambda f: _rewrite_arrays(
                f, lambda a: a.update({_first(a, "net_."): np.zeros(3, np.float32)})
            ),
            "the backbone's weights do not fit it",
        ),
    ],
    ids=[
        "truncated arrays",
        "empty arrays",
        "garbage arrays",
        "one array",
        "params a list",
        "truncated state",
        "truncated params",
        "names not a list",
        "tag around a number",
        "attribute removed",
        "weight removed",
        "weight misshapen",
    ],
)
def test_damaged_model_files_are_refused_by_name(fresh, tmp_path, damage, message):
    folder = _saved(fresh, tmp_path / "m")
    damage(folder)
    with pytest.raises(ValueError, match=message) as caught:
        load_detector(folder)
    assert "corrupt or incomplete" in str(caught.value)
    assert "allow_pickle" not in str(caught.value)  # never an invitation to pickle


@pytest.mark.parametrize("replaced", ["arrays.npz", "params.json"])
def test_a_folder_mixing_two_saves_is_refused(fresh, univariate, tmp_path, replaced):
    # a save of one model into the folder of another, interrupted after it
    # replaced one file: that file no longer matches the state beside it
    other = copy.deepcopy(fresh).set_params(budget=7)  # other parameters
    if replaced == "arrays.npz":
        other = univariate  # other weights and fitted arrays
    first, second = _saved(fresh, tmp_path / "a"), _saved(other, tmp_path / "b")
    (first / replaced).write_bytes((second / replaced).read_bytes())
    with pytest.raises(ValueError, match=f"{replaced}: not the file that state.json"):
        load_detector(first)
    # files saved before the hashes were recorded load as they did
    _unrecorded(second)
    assert load_detector(second).get_params() == other.get_params()


def test_saving_replaces_each_file_whole_and_leaves_no_temporary_file(fresh, tmp_path):
    folder = _saved(fresh, tmp_path / "m")
    before = {p.name for p in folder.iterdir()}
    save_detector(fresh, folder)  # again, over the same files
    assert {p.name for p in folder.iterdir()} == before
    assert before == {"params.json", "state.json", "arrays.npz"}


def _assert_the_model_that_was_there(folder, pool, scores):
    """The folder holds the model saved before, its three files, nothing else."""
    assert np.array_equal(load_detector(folder).decision_function(pool), scores)
    assert {p.name for p in folder.iterdir()} == {
        "params.json",
        "state.json",
        "arrays.npz",
    }  # no temporary file left


def test_an_interrupted_save_leaves_the_model_that_was_there(
    fresh, univariate, pool, tmp_path, monkeypatch
):
    from alad.labelling import _model_store

    folder = _saved(fresh, tmp_path / "m")
    scores = load_detector(folder).decision_function(pool)
    written = []

    def interrupt_at_the_last_file(path, write):
        written.append(path)
        if len(written) == 3:  # arrays and params written: state.json's turn
            raise KeyboardInterrupt
        return real(path, write)

    real = _model_store._write_synced
    monkeypatch.setattr(_model_store, "_write_synced", interrupt_at_the_last_file)
    with pytest.raises(KeyboardInterrupt):
        save_detector(univariate, folder)
    monkeypatch.undo()
    _assert_the_model_that_was_there(folder, pool, scores)


def test_a_failed_rename_puts_the_files_that_were_there_back(
    fresh, univariate, pool, tmp_path, monkeypatch
):
    from alad.labelling import _model_store

    folder = _saved(fresh, tmp_path / "m")
    scores = load_detector(folder).decision_function(pool)
    real, renames = os.replace, []

    def fail_on_the_second_file(src, dst):
        if Path(src).name.endswith(".tmp"):
            renames.append(src)
            if len(renames) == 2:  # arrays.npz in place, params.json refused
                raise OSError(5, "simulated input/output error")
        return real(src, dst)

    monkeypatch.setattr(_model_store.os, "replace", fail_on_the_second_file)
    with pytest.raises(OSError, match="simulated"):
        save_detector(univariate, folder)
    monkeypatch.undo()
    _assert_the_model_that_was_there(folder, pool, scores)


def test_ctrl_c_between_the_renames_waits_for_the_last(
    fresh, univariate, tmp_path, monkeypatch
):
    """The three renames happen together: Ctrl-C comes after them."""
    import os
    import signal

    from alad.labelling import _model_store

    folder = _saved(fresh, tmp_path / "m")
    replace, renamed = _model_store.os.replace, []

    def ctrl_c_at_the_first(src, dst):
        if not renamed:
            os.kill(os.getpid(), signal.SIGINT)
        renamed.append(dst)
        return replace(src, dst)

    monkeypatch.setattr(_model_store.os, "replace", ctrl_c_at_the_first)
    with pytest.raises(KeyboardInterrupt):
        save_detector(univariate, folder)
    monkeypatch.undo()
    # the three into place (the files there before went aside first)
    into_place = [Path(d).name for d in renamed if not Path(d).name.startswith(".")]
    assert into_place == ["arrays.npz", "params.json", "state.json"]
    assert load_detector(folder).n_features_in_ == univariate.n_features_in_


def test_a_folder_with_files_of_its_own_keeps_them(fresh, tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    save_detector(fresh, folder)
    names = {p.name for p in folder.iterdir()}
    assert names == {"notes.txt", "params.json", "state.json", "arrays.npz"}
    assert load_detector(folder).get_params() == fresh.get_params()
    monkeypatch.chdir(folder)  # the working directory, as "."
    save_detector(fresh, ".")
    assert load_detector(".").get_params() == fresh.get_params()


def test_a_device_given_as_a_torch_device_is_saved_by_its_name(fresh, tmp_path):
    det = copy.deepcopy(fresh).set_params(device=torch.device("cpu"))
    loaded = load_detector(_saved(det, tmp_path / "m"))
    assert loaded.device == "cpu"
    np.testing.assert_array_equal(loaded.decision_scores_, fresh.decision_scores_)


def test_a_detector_whose_backbone_changed_since_its_fit_is_not_saved(fresh, tmp_path):
    changed = copy.deepcopy(fresh)
    params = {**changed.backbone_params, "dropout": 0.9}
    changed.set_params(backbone_params=params)
    with pytest.raises(ValueError, match="backbone_params was"):
        save_detector(changed, tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"no_such_parameter": 1}, "parameters refused.*no_such_parameter"),
        ({"window_size": "huge"}, "parameters refused.*window_size"),
    ],
)
def test_parameters_are_checked_when_loaded(fresh, tmp_path, change, message):
    folder = _saved(fresh, tmp_path / "m")
    meta = json.loads((folder / "params.json").read_text())
    meta["params"].update(change)
    (folder / "params.json").write_text(json.dumps(meta))
    _unrecorded(folder)
    with pytest.raises(ValueError, match=message):
        load_detector(folder)


def test_a_model_of_a_newer_alad_says_so(fresh, tmp_path):
    """A parameter this version does not know, in a folder another version
    saved, is a newer alad's model, not a damaged file."""
    folder = _saved(fresh, tmp_path / "m")
    meta = json.loads((folder / "params.json").read_text())
    assert meta["alad_version"] == alad.__version__
    meta["alad_version"] = "99.0"
    meta["params"]["a_later_parameter"] = 1
    (folder / "params.json").write_text(json.dumps(meta))
    _unrecorded(folder)
    with pytest.raises(ValueError, match=r"saved by alad 99\.0.*alad 99\.0 or later"):
        load_detector(folder)
    # an older alad's model whose parameters this one refuses is not "newer"
    meta["alad_version"] = "0.0.1"
    (folder / "params.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="parameters refused"):
        load_detector(folder)


def test_loading_leaves_torchs_random_stream_as_it_was(fresh, tmp_path):
    folder = _saved(fresh, tmp_path / "m")
    before = torch.get_rng_state()
    load_detector(folder)
    assert torch.equal(torch.get_rng_state(), before)


def test_model_files_cannot_replace_methods(fresh, tmp_path):
    folder = _saved(fresh, tmp_path / "m")
    _rewrite_arrays(folder, lambda a: a.update({"attr.predict": np.zeros(1)}))
    with pytest.raises(ValueError, match="unexpected attribute 'predict'"):
        load_detector(folder)


def test_a_smoother_without_its_references_is_refused(univariate, tmp_path):
    folder = _saved(copy.deepcopy(univariate), tmp_path / "m")
    _rewrite_arrays(folder, lambda a: a.pop(_first(a, "smoother.")))
    with pytest.raises(ValueError, match="smoother's references"):
        load_detector(folder)


def test_a_model_saved_on_a_gpu_opens_on_the_cpu(
    univariate, pool, tmp_path, monkeypatch
):
    """device_ as a GPU fit leaves it, read where CUDA is not: the CPU."""
    save_detector(univariate, tmp_path / "m")
    state_file = tmp_path / "m" / "state.json"
    state = json.loads(state_file.read_text())
    state["attributes"]["device_"] = "cuda:1"
    state_file.write_text(json.dumps(state))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = load_detector(tmp_path / "m")  # its own sha256 is of the CPU's
    assert loaded.device_ == "cpu"
    series = pool[:, :1]
    np.testing.assert_array_equal(
        loaded.decision_function(series), univariate.decision_function(series)
    )


def test_a_model_of_a_gpu_this_machine_lacks_goes_to_its_first(monkeypatch):
    from alad.labelling._model_store import _device_here

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert _device_here("cuda:1") == "cuda:1"
    assert _device_here("cuda:3") == "cuda"  # was called corrupt weights
    assert _device_here("cuda") == "cuda" and _device_here("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _device_here("cuda:1") == "cpu"
