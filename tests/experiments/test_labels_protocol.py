"""The label-efficiency protocol: splits, records, resume, task and score files."""

import importlib.util
import json
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from alad.cli import main
from alad.datasets import make_telemetry
from alad.experiments import Task, labels
from alad.experiments.engine import PROTOCOLS, Job, format_records, run_jobs
from alad.experiments.store import ResultStore

TINY = {
    "window_size": 10,
    "max_epochs": 1,
    "top_k": 1,
    "n_bins": 1,
    "per_bin": 1,
    "feedback_epochs": 1,
    "backbone_params": {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 8},
}
BUDGETS = (0, 2, 4)
RUNNER = Path(__file__).resolve().parents[2] / "benchmarks" / "peers" / "run_peers.py"


def _task():
    data = make_telemetry(n_train=800, n_test=1500, random_state=0)
    return Task("telemetry", "tiny", data.X_train, data.X_test, data.y_test)


TASK = _task()


def _jobs(work, **kw):
    return labels.jobs([TASK], seeds=[0], budgets=BUDGETS, params=TINY, work=work, **kw)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("labels")
    out, work = root / "results.jsonl", root / "work"
    store = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    return out, work, store


def _runner():
    spec = importlib.util.spec_from_file_location("run_peers", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- #
# the split
# --------------------------------------------------------------------------- #


def test_the_protocol_is_registered():
    assert PROTOCOLS["labels"] == "alad.experiments.labels"


def test_pool_holds_a_whole_segment_and_leaves_one_for_evaluation():
    y = np.zeros(1000, dtype=int)
    y[100:110] = y[500:520] = y[900:905] = 1
    for seed in range(5):
        start, rule = labels.pool_start(y, 200, seed)
        assert rule == "whole"
        pool, rest = (
            y[start : start + 200],
            np.concatenate([y[:start], y[start + 200 :]]),
        )
        assert pool.any() and rest.any()
        assert labels.pool_start(y, 200, seed) == (start, rule)  # deterministic
    assert len({labels.pool_start(y, 200, s)[0] for s in range(10)}) > 1


def test_a_single_anomaly_is_cut_between_pool_and_evaluation():
    y = np.zeros(1000, dtype=int)
    y[600:700] = 1  # as UCR: one event
    start, rule = labels.pool_start(y, 200, 0)
    assert rule == "cut"
    assert y[start : start + 200].any()
    assert np.concatenate([y[:start], y[start + 200 :]]).any()


def test_without_anomalies_the_pool_starts_the_series():
    assert labels.pool_start(np.zeros(100, dtype=int), 20, 0) == (0, "none")


def test_paper_split_is_the_first_share_and_anomalous_split_holds_anomalies():
    paper = labels.make_label_split(TASK, "paper", 0.2, 0)
    assert paper.start == 0 and paper.stop == 300
    np.testing.assert_array_equal(paper.X_pool, TASK.X_test[:300])
    anomalous = labels.make_label_split(TASK, "anomalous", 0.2, 0)
    assert anomalous.y_pool.any() and anomalous.y_eval.any()
    assert len(anomalous.y_pool) + len(anomalous.y_eval) == len(TASK.y_test)
    with pytest.raises(ValueError, match="split must be one of"):
        labels.make_label_split(TASK, "middle", 0.2, 0)


# --------------------------------------------------------------------------- #
# records, resume, task files
# --------------------------------------------------------------------------- #


def test_every_setting_and_budget_is_recorded(run):
    _, _, store = run
    seen = {(r["split"], r["setting"], r["budget"]) for r in store}
    for split in labels.SPLITS:
        assert (split, "w/o labels", None) in seen
        assert (split, "pool as normal", None) in seen
        for b in BUDGETS:
            assert (split, "with labels", b) in seen
    for r in store:
        assert r["protocol"] == "labels" and r["family"] == "alad"
        assert set(r["metrics"]) >= {"f1", "f1_pa", "pa_k_auc", "roc_auc", "vus_pr"}
        if r["setting"] == "with labels":
            assert r["n_labelled"] == r["budget"]


def test_budget_zero_is_the_model_without_labels(run):
    _, _, store = run
    by = {(r["split"], r["setting"], r["budget"]): r["metrics"] for r in store}
    for split in labels.SPLITS:
        assert by[(split, "with labels", 0)] == by[(split, "w/o labels", None)]


def test_rerun_skips_done_keys(run, monkeypatch):
    out, work, store = run
    before = Path(out).read_text()

    def refuse(*args, **kwargs):
        raise AssertionError("a done run was trained again")

    monkeypatch.setattr("alad.detectors.ActiveReconstructionDetector.fit", refuse)
    again = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    assert len(again) == len(store)
    assert Path(out).read_text() == before


def test_label_peers_of_other_queries_are_set_aside(run, tmp_path, capsys):
    from alad.experiments.labels.runs import _retire_label_peers_of_other_queries

    _, work, _ = run
    work = Path(shutil.copytree(work, tmp_path / "work"))
    tid = labels.task_id(TASK, "anomalous")
    data = labels.read_task_file(labels.task_file(work, tid, 0))
    queries = {b: data[f"idx_b{b}"] for b in BUDGETS}
    folder = labels.score_path(work, tid, 0, "x").parent
    folder.mkdir(parents=True, exist_ok=True)
    names = ("extratrees_b2.npy", "extratrees_b4.err", "iforest.npy")
    made = [folder / name for name in names]
    for path in made:
        path.write_text("x")
    # the same queries: the score files stand
    _retire_label_peers_of_other_queries(work, tid, 0, queries)
    assert all(path.exists() for path in made)
    # other queries: the label peers' files are set aside, the others stay
    other = {**queries, 2: queries[2][::-1]}
    _retire_label_peers_of_other_queries(work, tid, 0, other)
    aside = folder.with_name("seed0.other-queries")
    assert sorted(p.name for p in aside.iterdir()) == [
        "extratrees_b2.npy",
        "extratrees_b4.err",
    ]
    assert (folder / "iforest.npy").exists() and not made[0].exists()
    assert "the queries changed" in capsys.readouterr().err


def test_label_peer_records_are_keyed_by_the_queries(run, tmp_path):
    """Other queries, a new score file: the label peer is scored again."""
    from alad.experiments.labels.runs import queries_digest

    out, work, _ = run
    work = Path(shutil.copytree(work, tmp_path / "work"))
    out = Path(shutil.copy(out, tmp_path / "r.jsonl"))
    tid = labels.task_id(TASK, "anomalous")
    cut = labels.make_label_split(TASK, "anomalous", 0.2, 0)
    score = labels.score_path(work, tid, 0, "extratrees", 4)
    score.parent.mkdir(parents=True, exist_ok=True)
    np.save(score, np.asarray(cut.y_eval, np.float32))
    # as the runner writes it: the pool is inside, its pieces scored apart
    score.with_suffix(".json").write_text('{"eval_scoring": "pieces apart"}')
    first = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    old = [r for r in first if r["method"] == "extratrees"]
    old = [r for r in old if r["split"] == "anomalous"]
    assert len(old) == 1 and old[0]["queries"] == queries_digest(work, tid, 0, 4)
    # the detector queried other windows: a new task file, a new score file
    path = labels.task_file(work, tid, 0)
    with np.load(path, allow_pickle=True) as data:
        arrays = dict(data)
    arrays["idx_b4"] = arrays["idx_b4"][::-1].copy()
    np.savez(path, **arrays)
    np.save(score, 1 - np.asarray(cut.y_eval, np.float32))
    again = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    both = [r for r in again if r["method"] == "extratrees"]
    both = [r for r in both if r["split"] == "anomalous"]
    assert len(both) == 2 and both[0]["key"] != both[1]["key"]
    # the report speaks for the newest, once the query source's newest
    # record names the windows it learnt from (here the rerun is mimicked)
    queried = [
        r
        for r in again
        if r["method"] == "alad:transformer"
        and r["split"] == "anomalous"
        and r["budget"] == 4
    ]
    assert queried and queried[-1]["queries"] == old[0]["queries"]
    assert not [r for r in labels.current(again) if r["key"] == both[1]["key"]]
    rerun = {**queried[-1], "queries": both[1]["queries"], "time": time.time()}
    kept = [r for r in labels.current([*again, rerun]) if r["method"] == "extratrees"]
    kept = [r for r in kept if r["split"] == "anomalous"]
    assert len(kept) == 1 and kept[0]["metrics"]["roc_auc"] == 0.0


def test_current_keeps_the_newest_record_of_each_run():
    base = {
        "protocol": "labels",
        "task": "t",
        "split": "s",
        "seed": 0,
        "family": "alad",
        "method": "alad:transformer",
        "params": {},
        "setting": "with labels",
        "budget": 10,
    }
    old = {**base, "key": "a", "time": 1.0}
    new = {**base, "key": "b", "time": 2.0}
    other = {**base, "key": "c", "time": 0.5, "budget": 25}
    assert labels.current([old, other, new]) == [other, new]
    assert labels.current(iter([new, old])) == [new]


def test_current_leaves_out_label_peers_of_other_queries():
    """A label peer speaks only for the windows the query source now asks."""
    base = {"protocol": "labels", "task": "t", "split": "s", "seed": 0}
    base = {**base, "pool_ratio": 0.2, "budget": 10, "setting": "with labels"}
    source = {**base, "family": "alad", "method": "alad:transformer"}
    peer = {**base, "family": "labels", "method": "extratrees"}
    asked = {**source, "queries": "new", "time": 2.0}
    same = {**peer, "queries": "new", "key": "p1", "time": 3.0}
    stale = {**peer, "queries": "old", "key": "p0", "time": 1.0}
    elsewhere = {**stale, "budget": 25, "key": "p2"}
    unnamed = {**source, "method": "alad:usad", "time": 2.5}
    # the stale record of budget 10 is left out even where no new one exists;
    # a budget whose query source names no windows keeps its peers; a record
    # without a digest (made before the field) names none
    assert labels.current([stale, asked]) == [asked]
    assert labels.current([stale, same, asked]) == [same, asked]
    assert labels.current([elsewhere, asked, unnamed]) == [elsewhere, asked, unnamed]
    # a second backbone run as the query source of its own task files (USAD
    # beside the Transformer) names other windows: the peers of either stand
    usad = {**unnamed, "queries": "usad's"}
    assert labels.current([same, asked, usad]) == [same, asked, usad]
    assert labels.current([stale, asked, usad]) == [asked, usad]


def test_current_leaves_out_joined_records_of_a_pool_scored_apart():
    """Once any record of a pool scored its evaluation part's pieces apart,
    the records that scored them joined stop speaking for that pool only."""
    base = {"protocol": "labels", "task": "t", "split": "anomalous", "seed": 0}
    base = {**base, "pool_ratio": 0.5, "setting": "w/o labels", "budget": None}
    alad_old = {**base, "family": "alad", "method": "alad:transformer", "time": 1.0}
    peer_old = {**base, "family": "unsupervised", "method": "iforest", "time": 1.0}
    alad_new = {**alad_old, "key": "n", "time": 2.0, "eval_scoring": "pieces apart"}
    other_pool = {**peer_old, "seed": 1}
    assert labels.current([alad_old, peer_old, other_pool]) == [
        alad_old,
        peer_old,
        other_pool,
    ]
    assert labels.current([alad_old, peer_old, other_pool, alad_new]) == [
        other_pool,
        alad_new,
    ]
    peer_new = {**peer_old, "key": "m", "time": 3.0, "eval_scoring": "pieces apart"}
    assert labels.current([peer_old, alad_new, peer_new]) == [alad_new, peer_new]


def test_score_apart_scores_each_piece_as_a_series_of_its_own():
    X = np.arange(20.0)[:, None]
    seen = []

    def score(piece):
        seen.append(piece[:, 0].copy())
        return piece[:, 0] * 10

    out = labels.score_apart(score, X, 8, min_rows=5)
    np.testing.assert_array_equal(out, X[:, 0] * 10)
    assert [s.tolist() for s in seen] == [list(range(8)), list(range(8, 20))]
    # a short piece is lengthened at its end away from the pool (the before
    # piece at its start, the after piece at its end), never with the other's
    seen.clear()
    out = labels.score_apart(score, X, 3, min_rows=5)
    np.testing.assert_array_equal(out, X[:, 0] * 10)
    assert seen[0].tolist() == [0, 0, 0, 1, 2]
    seen.clear()
    labels.score_apart(score, X, 18, min_rows=5)
    assert seen[1].tolist() == [18, 19, 19, 19, 19]
    # one piece (the pool starts or ends the series): one call
    seen.clear()
    np.testing.assert_array_equal(labels.score_apart(score, X, 0), X[:, 0] * 10)
    assert len(seen) == 1
    with pytest.raises(ValueError, match="seam"):
        labels.score_apart(score, X, 21)
    with pytest.raises(ValueError, match="3 scores"):
        labels.score_apart(lambda p: np.zeros(3), X, 8)
    # the peers' runner does the same (it cannot import alad)
    runner = _runner()
    for seam in (0, 3, 8, 18, 20):
        np.testing.assert_array_equal(
            runner.score_pieces(score, X, seam, 5),
            labels.score_apart(score, X, seam, 5),
        )


def test_alad_scores_the_pieces_apart_and_says_so(run):
    """The module's run: its anomalous split has a seam, so the records and
    score files are of the two pieces scored apart; the paper split's are not
    marked (one piece, scored as before)."""
    _, work, store = run
    marked = {(r["split"], r.get("eval_scoring")) for r in store}
    assert marked == {("anomalous", "pieces apart"), ("paper", None)}
    cut = labels.make_label_split(TASK, "anomalous", 0.2, 0)
    assert cut.has_seam
    from alad import ActiveReconstructionDetector

    det = ActiveReconstructionDetector(random_state=0, **TINY).fit(TASK.X_train)
    tid = "telemetry_tiny__anomalous"
    saved = np.load(labels.score_path(work, tid, 0, "alad-transformer-wo-labels"))
    np.testing.assert_allclose(
        saved, cut.score(det.decision_function, det.window_size_), rtol=1e-5
    )
    joined = det.decision_function(cut.X_eval)
    assert not np.allclose(saved, joined, rtol=1e-5)


def test_task_file_round_trips(run):
    _, work, _ = run
    for split in labels.SPLITS:
        cut = labels.make_label_split(TASK, split, 0.2, 0)
        path = labels.task_file(work, f"telemetry_tiny__{split}", 0)
        data = labels.read_task_file(path)
        np.testing.assert_array_equal(data["X_train"], TASK.X_train)
        np.testing.assert_array_equal(data["X_pool"], cut.X_pool)
        np.testing.assert_array_equal(data["X_eval"], cut.X_eval)
        np.testing.assert_array_equal(data["y_eval"], cut.y_eval)
        meta = data["meta"]
        assert meta["budgets"] == list(BUDGETS)
        assert meta["window_size"] == TINY["window_size"]
        assert meta["query_source"] == "alad:transformer"
        assert meta["pool_rows"] == [cut.start, cut.stop]
        previous = set()
        for b in BUDGETS:
            idx = data[f"idx_b{b}"]
            assert len(idx) == b * TINY["window_size"]  # whole windows
            starts = idx[:: TINY["window_size"]]
            assert np.all(starts % TINY["window_size"] == 0)
            np.testing.assert_array_equal(data[f"y_b{b}"], cut.y_pool[idx])
            assert previous <= set(idx)  # a budget extends the one before
            previous = set(idx)


def test_pool_ratio_is_per_data_set_recorded_and_keyed(tmp_path, monkeypatch):
    msl = Task("msl", "tiny", TASK.X_train, TASK.X_test, TASK.y_test)
    out, work = tmp_path / "r.jsonl", tmp_path / "work"

    def some_jobs(pool_ratio=labels.POOL_RATIO, tasks=(TASK, msl)):
        return labels.jobs(
            list(tasks),
            splits=("anomalous",),
            seeds=[0],
            budgets=(0, 2),
            params=TINY,
            peers=(),
            work=work,
            pool_ratio=pool_ratio,
        )

    store = run_jobs(some_jobs(), out, protocol="labels", progress=False)
    # the protocol's default: half of MSL's test series, 20 % of the others'
    sizes = {
        (r["task"], r["pool_ratio"], r["pool_rows"][1] - r["pool_rows"][0])
        for r in store
    }
    assert sizes == {("telemetry/tiny", 0.2, 300), ("msl/tiny", 0.5, 750)}
    with_labels = [r for r in store if r["budget"] == 2]
    assert {r["n_labelled"] for r in with_labels} == {2}
    data = labels.read_task_file(labels.task_file(work, "msl_tiny__anomalous", 0))
    assert len(data["X_pool"]) == 750
    text = labels.format_report(list(store))
    assert "Windows really labelled at each budget, split 'anomalous'" in text
    # the run's parameters name its line (runs of others are other lines)
    assert re.search(
        r"\| msl \| alad:transformer\[[^|]*window_size=10\] \| 0.5 \| 2 \|", text
    )
    assert "several pool ratios" not in text

    def refuse(*args, **kwargs):
        raise AssertionError("a done run was trained again")

    monkeypatch.setattr("alad.detectors.ActiveReconstructionDetector.fit", refuse)
    before = Path(out).read_text()
    assert len(run_jobs(some_jobs(), out, protocol="labels", progress=False)) == len(
        store
    )
    # one ratio for every data set keys telemetry's runs as before: done
    run_jobs(some_jobs(0.2, tasks=(TASK,)), out, protocol="labels", progress=False)
    assert Path(out).read_text() == before
    # MSL at another ratio is another pool: not taken for done
    with pytest.raises(AssertionError, match="trained again"):
        jobs = some_jobs({"msl": 0.2}, tasks=(msl,))
        run_jobs(jobs, out, protocol="labels", progress=False)
    # and its task and score files of the pool at 50 % were set aside, not reused
    tasks = work / "tasks" / "msl_tiny__anomalous"
    assert not (tasks / "seed0.npz").exists()
    (old,) = tasks.glob("seed0.npz.pool*-*")
    pool = old.name.removeprefix("seed0.npz.")
    assert (work / "scores" / "msl_tiny__anomalous" / f"seed0.{pool}").is_dir()
    assert (work / "tasks" / "telemetry_tiny__anomalous" / "seed0.npz").exists()


def _record_keys(task, folder, budgets, params=TINY):
    """The keys of alad's records of ``task`` (anomalous split, seed 0)."""
    jobs = labels.jobs(
        [task],
        splits=("anomalous",),
        seeds=[0],
        budgets=budgets,
        params=params,
        peers=(),
        work=folder / "work",
    )
    out = folder / "results.jsonl"
    return {r["key"] for r in run_jobs(jobs, out, progress=False, protocol="labels")}


def test_the_budgets_below_one_key_its_records(tmp_path):
    # rounds never cross a budget: (0, 2, 4) queries in rounds of 2, (0, 4)
    # may not, so their records at 4 are other runs; the default schedule's
    # keys stay as they were (budget 4 is none of its own: keyed either way)
    def keys(budgets, name):
        return _record_keys(TASK, tmp_path / name, budgets=budgets)

    both, alone = keys((0, 2, 4), "both"), keys((0, 4), "alone")
    assert len(both) == len(alone) + 1  # the record at 2
    assert len(both & alone) == 3  # w/o labels, pool as normal, with labels at 0
    assert labels.runs._default_below(50) == (10, 25)
    assert labels.runs._default_below(10) == ()
    assert labels.runs._default_below(4) is None


@pytest.mark.parametrize(
    ("method", "as_before"),
    [
        # stride="auto" overlaps a univariate series' windows: as if the step
        # were the window, as before it
        ("_resolved_geometry", lambda det, X: (det.window_size, det.window_size)),
        # score_smoothing="auto" scans a univariate series' scores: as if
        # nothing were smoothed, as before it
        ("_smoothing_widths", lambda det, window, n_channels: ()),
    ],
)
def test_what_auto_changes_on_a_univariate_series_keys_its_records(
    tmp_path, monkeypatch, method, as_before
):
    """A univariate series' records are keyed by what stride="auto" and
    score_smoothing="auto" resolve to there (made again after the change of
    default); a multivariate series, which neither changes, keeps its keys."""
    univariate = Task(
        "telemetry", "one", TASK.X_train[:, :1], TASK.X_test[:, :1], TASK.y_test
    )

    def keys(task, name):
        return _record_keys(task, tmp_path / name, budgets=(0,))

    now = keys(univariate, "auto")
    multivariate = keys(TASK, "multi")
    monkeypatch.setattr(
        f"alad.detectors.ActiveReconstructionDetector.{method}", as_before
    )
    assert keys(univariate, "before").isdisjoint(now)
    assert keys(TASK, "multi_before") == multivariate


def test_window_size_auto_keys_its_records_by_the_window(tmp_path, monkeypatch):
    """window_size="auto" resolves on the data: the records say the window
    it took, so a change of the rule makes them again."""
    univariate = Task(
        "telemetry", "one", TASK.X_train[:, :1], TASK.X_test[:, :1], TASK.y_test
    )
    auto = {**TINY, "window_size": "auto"}

    def keys(period, name):
        monkeypatch.setattr(
            "alad.detectors.active_reconstruction.dominant_period",
            lambda x: period,
        )
        return _record_keys(univariate, tmp_path / name, (0,), params=auto)

    assert keys(12, "a").isdisjoint(keys(16, "b"))
    assert keys(12, "a") == keys(12, "c")


@pytest.mark.parametrize("option", ["scale_with_labels", "feedback_start"])
def test_a_feedback_option_added_later_keeps_the_keys_at_its_old_behaviour(
    tmp_path, monkeypatch, option
):
    """scale_with_labels=False and feedback_start="current" are how detectors
    behaved before the options: the records made then keep their keys (a
    rerun does not redo them)."""
    from alad.detectors import ActiveReconstructionDetector as ARD

    def keys(name):
        return _record_keys(TASK, tmp_path / name, budgets=(0, 2))

    now = keys("now")
    monkeypatch.setattr(ARD, "_feedback_params", ARD._feedback_params - {option})
    assert keys("before") == now


def test_the_paper_split_is_han_et_als_20_percent_on_every_data_set(tmp_path):
    msl = Task("msl", "tiny", TASK.X_train, TASK.X_test, TASK.y_test)
    jobs = labels.jobs(
        [msl],
        splits=("paper",),
        seeds=[0],
        budgets=(0,),
        params=TINY,
        peers=(),
        work=tmp_path / "work",
    )
    store = run_jobs(jobs, tmp_path / "r.jsonl", protocol="labels", progress=False)
    assert {(r["pool_ratio"], tuple(r["pool_rows"])) for r in store} == {
        (0.2, (0, 300))
    }


def test_pool_ratios_are_checked():
    assert labels.pool_ratios(0.3) == {"default": 0.3}
    assert labels.pool_ratios({"msl": 0.4}) == {"default": 0.2, "msl": 0.4}
    assert labels.pool_ratios(labels.POOL_RATIO) == {"default": 0.2, "msl": 0.5}
    for bad, message in (
        (1.0, r"pool_ratio must be in \(0, 1\); got 1.0"),
        ({"msl": 0}, r"pool_ratio of 'msl' must be in \(0, 1\)"),
        ({"gecko": 0.3}, "pool_ratio: unknown data set 'gecko'"),
        ("0.2", "pool_ratio must be in"),
    ):
        with pytest.raises(ValueError, match=message):
            labels.pool_ratios(bad)
        with pytest.raises(ValueError, match=message):
            labels.jobs([TASK], pool_ratio=bad)


def test_pool_windows_counts_whole_windows_of_the_pool():
    assert labels.pool_windows([TASK], 0.2, window_size=10) == {"telemetry/tiny": 30}
    assert labels.pool_windows([TASK], {"telemetry": 0.5}, window_size=40) == {
        "telemetry/tiny": 18
    }


# --------------------------------------------------------------------------- #
# the peers' score files
# --------------------------------------------------------------------------- #


def _write_good_peer_files(work) -> np.ndarray:
    """IsolationForest's perfect scores and ExtraTrees' reversed ones (4
    windows) of the anomalous split, as the runner writes them: this pool is
    inside the test series, its pieces scored apart. Returns the perfect
    scores."""
    tid = "telemetry_tiny__anomalous"
    perfect = labels.make_label_split(TASK, "anomalous", 0.2, 0).y_eval
    perfect = perfect.astype(np.float32)
    apart = {"eval_scoring": "pieces apart"}
    path = labels.score_path(work, tid, 0, "iforest")
    np.save(path, perfect)
    path.with_suffix(".json").write_text(json.dumps(apart))
    path = labels.score_path(work, tid, 0, "extratrees", 4)
    np.save(path, perfect[::-1].copy())
    path.with_suffix(".json").write_text(json.dumps({"seconds": 1.5, **apart}))
    return perfect


def test_peer_score_files_are_scored_and_missing_ones_listed(run, capsys):
    out, work, store = run
    cut = labels.make_label_split(TASK, "anomalous", 0.2, 0)
    tid = "telemetry_tiny__anomalous"
    perfect = _write_good_peer_files(work)
    np.save(labels.score_path(work, tid, 0, "pyod_ecod"), perfect[:-1])  # too short
    # a runner stopped while writing: no array, or no JSON beside a good array
    labels.score_path(work, tid, 0, "pyod_autoencoder").write_bytes(b"garbage")
    np.save(labels.score_path(work, tid, 0, "tsbad_cnn"), perfect * np.nan)
    tcned = labels.score_path(work, tid, 0, "deepod_tcned")
    np.save(tcned, perfect)
    tcned.with_suffix(".json").write_text("{")
    # made before the pieces were scored apart: listed, not scored
    joined = labels.score_path(work, tid, 0, "tsbad_timesnet")
    np.save(joined, perfect)
    joined.with_suffix(".json").write_text(json.dumps({"seconds": 1.0}))
    err = labels.score_path(work, tid, 0, "deepod_devnet", 2).with_suffix(".err")
    err.write_text("Traceback ...\nValueError: no anomalous row\n")
    before = len(store)
    store = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    peers = {(r["method"], r["budget"]): r for r in store if r["family"] != "alad"}
    # ExtraTrees puts a window's score at its end: also scored by alad's rule
    realigned = "extratrees (covering mean)"
    assert set(peers) == {("iforest", None), ("extratrees", 4), (realigned, 4)}
    assert len(store) == before + 3
    assert peers[("iforest", None)]["metrics"]["roc_auc"] == 1.0
    assert peers[("iforest", None)]["family"] == "unsupervised"
    assert peers[("extratrees", 4)]["family"] == "labels"
    assert peers[("extratrees", 4)]["seconds"] == 1.5
    assert "alignment" not in peers[("extratrees", 4)]
    covering = peers[(realigned, 4)]
    assert covering["family"] == "labels"
    assert covering["queries"] == peers[("extratrees", 4)]["queries"]
    # alad scores this multivariate task's windows side by side: so the peer's
    assert (covering["alignment"], covering["window"]) == ("covering mean", 10)
    assert covering["stride"] == 10
    expected = labels.covering_from_window_end(perfect[::-1], 10, cut.seam, 10)
    assert covering["metrics"]["roc_auc"] == pytest.approx(
        labels.runs._evaluate(cut.y_eval, expected)["roc_auc"]
    )
    err_text = capsys.readouterr().err
    assert "no peer scores yet" in err_text
    assert f"pyod_ecod.npy (refused: {len(perfect) - 1} scores for" in err_text
    assert "pyod_autoencoder.npy (refused: not a NumPy array" in err_text
    assert "tsbad_cnn.npy (refused: scores not finite)" in err_text
    assert "deepod_tcned.npy (refused: deepod_tcned.json is not a JSON" in err_text
    assert "deepod_devnet_b2.npy (failed: ValueError: no anomalous row)" in err_text
    assert "tsbad_timesnet.npy (scored the evaluation part joined" in err_text


def test_window_end_peers_are_also_scored_by_alads_rule(run, tmp_path, capsys):
    """Every windowed peer's file gives a second record, re-aligned by the
    window its settings name, made once; a file naming none is listed."""
    out, work, _ = run
    out = Path(shutil.copy(out, tmp_path / "r.jsonl"))
    tid = "telemetry_tiny__anomalous"
    cut = labels.make_label_split(TASK, "anomalous", 0.2, 0)
    end_aligned = np.roll(cut.y_eval.astype(np.float32), 4)  # late by 4 rows
    for peer, settings in (
        ("deepod_usad", {"seq_len": 5}),
        ("tsbad_omnianomaly", {"win_size": 5}),
        ("tsbad_cnn", {"epochs": 1}),  # scores rows, not windows: no twin
        ("tsbad_timesnet", {"win_size": 5}),  # a row's own error: no twin
        ("deepod_tcned", {"epochs": 1}),  # no window: listed, not re-aligned
    ):
        path = labels.score_path(work, tid, 0, peer)
        np.save(path, end_aligned)
        info = {"settings": settings, "eval_scoring": "pieces apart"}
        path.with_suffix(".json").write_text(json.dumps(info))
    store = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    found = {r["method"]: r for r in store if r["family"] == "unsupervised"}
    for peer in ("deepod_usad", "tsbad_omnianomaly"):
        twin = found[f"{peer} (covering mean)"]
        assert twin["window"] == 5 and twin["alignment"] == "covering mean"
        assert twin["stride"] == 5  # alad's step of 10 for its window of 10
        realigned = labels.covering_from_window_end(end_aligned, 5, cut.seam, 5)
        assert twin["metrics"] == labels.runs._evaluate(cut.y_eval, realigned)
        assert twin["metrics"] != found[peer]["metrics"]
    for peer in ("tsbad_cnn", "tsbad_timesnet", "deepod_tcned"):
        assert peer in found and f"{peer} (covering mean)" not in found
    assert "no window to re-align by" not in capsys.readouterr().err
    n = len(store)
    assert len(run_jobs(_jobs(work), out, protocol="labels", progress=False)) == n


def test_covering_from_window_end_spreads_each_piece_apart():
    # one piece: row t of the file is the window [t - 2, t]
    windows = np.array([1.0, 4.0, 7.0])  # windows starting at 0, 1, 2 (w = 3)
    file = np.concatenate([[1.0, 1.0], windows])  # edge-padded as the runner does
    np.testing.assert_allclose(
        labels.covering_from_window_end(file, 3), [1, 2.5, 4, 5.5, 7]
    )
    # two pieces: no window spans the seam; a piece shorter than w stays as is
    both = labels.covering_from_window_end(np.r_[file, 9.0, 9.0], 3, seam=5)
    np.testing.assert_allclose(both, [1, 2.5, 4, 5.5, 7, 9, 9])
    # a front piece of 3 rows padded in front to w + 1 = 6 by the runner:
    # its first rows hold a window that starts in the padding; every row
    # gets the window that covers the piece whole, as alad scores it
    runner = _runner()

    def window_sums(X):  # a window's score: the sum of its rows, at its end
        return runner.window_end(np.convolve(X[:, 0], np.ones(5), "valid"), len(X), 5)

    front = runner.score_pieces(window_sums, np.arange(8.0)[:, None], 3, 6)[:3]
    np.testing.assert_allclose(front, [1, 1, 3])  # [0 0 0 0 1], [0 0 0 1 2]
    np.testing.assert_allclose(
        labels.covering_from_window_end(front, 5, seam=3), [3, 3, 3]
    )


def test_side_by_side_windows_give_a_spike_to_its_window_only():
    # a window-end peer (window 10) whose windows holding row 105 score 1:
    # alad's rule on a multivariate series (windows side by side) gives the
    # rows of the one scored window that holds it, not a spread over 19 rows
    file = np.zeros(300)
    file[105:115] = 1.0  # row t: the window [t - 9, t]
    twin = labels.covering_from_window_end(file, 10, 0, stride=10)
    assert np.flatnonzero(twin).tolist() == list(range(100, 110))
    spread = labels.covering_from_window_end(file, 10)  # every window
    assert np.flatnonzero(spread).tolist() == list(range(96, 115))
    assert labels.peer_stride(10, 50, 50) == 10 and labels.peer_stride(96, 50, 25) == 48
    assert labels.peer_stride(10, 50, 80) == 10  # never past the peer's window


def test_spread_window_scores_is_the_fold_of_constant_windows():
    from alad.windows import fold_position_scores, scoring_starts, spread_window_scores

    rng = np.random.default_rng(0)
    for k, w in ((1, 1), (1, 5), (40, 1), (40, 7), (6, 30)):
        s = rng.normal(size=k)
        folded = fold_position_scores(
            np.repeat(s[:, None], w, axis=1), np.arange(k), k + w - 1, w
        )
        np.testing.assert_allclose(spread_window_scores(s, w), folded)
        for stride in (min(2, w), w):  # the windows alad's scoring takes
            starts = scoring_starts(k + w - 1, w, stride)
            folded = fold_position_scores(
                np.repeat(s[starts, None], w, axis=1), starts, k + w - 1, w
            )
            np.testing.assert_allclose(spread_window_scores(s, w, stride), folded)
    with pytest.raises(ValueError, match="window_size"):
        spread_window_scores([1.0], 0)
    with pytest.raises(ValueError, match="stride must be at most window_size=3"):
        spread_window_scores([1.0, 2.0], 3, stride=4)  # rows with no window
    with pytest.raises(ValueError, match="empty"):
        spread_window_scores([], 3)


def test_the_comparison_under_alads_alignment_takes_the_realigned_peers():
    rec = _gecco_record
    records = [
        rec("alad:transformer", "alad", "w/o labels", None, 0.5),
        rec("alad:transformer", "alad", "pool as normal", None, 0.5),
        rec("alad:transformer", "alad", "with labels", 50, 0.6),
        rec("iforest", "unsupervised", "w/o labels", None, 0.45),
        rec("tsbad_omnianomaly", "unsupervised", "w/o labels", None, 0.4),
        rec(
            "tsbad_omnianomaly (covering mean)", "unsupervised", "w/o labels", None, 0.7
        ),
        rec("deepod_usad", "unsupervised", "w/o labels", None, 0.55),  # no twin
        rec("extratrees", "labels", "with labels", 50, 0.58),
        rec("extratrees (covering mean)", "labels", "with labels", 50, 0.52),
    ]
    records[-1]["alignment"] = records[-4]["alignment"] = "covering mean"
    end = labels.comparison(records, "roc_auc")[("anomalous", "gecco")]
    assert end["unsupervised"] == ("deepod_usad", 0.55)
    assert end["labels"] == ("extratrees", 0.58)
    ahead = labels.comparison(records, "roc_auc", alignment="covering mean")
    ahead = ahead[("anomalous", "gecco")]
    assert ahead["unsupervised"] == ("tsbad_omnianomaly (covering mean)", 0.7)
    # the twin replaces its peer even where it scores lower
    assert ahead["labels"] == ("extratrees (covering mean)", 0.52)
    with pytest.raises(ValueError, match="alignment"):
        labels.comparison(records, "roc_auc", alignment="centre")
    text = labels.format_report(records)
    tables = text.split("### At 50 labelled windows")
    assert len(tables) == 3 and "given alad's alignment" in tables[2]
    line = next(x for x in tables[2].splitlines() if x.startswith("| gecco | VUS-PR"))
    assert line.endswith("| yes | **no** |")
    no_twins = [r for r in records if "covering" not in r["method"]]
    assert "alad's alignment" not in labels.format_report(no_twins)


def test_a_twin_speaks_only_beside_its_own_score_files_record():
    rec = _gecco_record
    plain = rec("tsbad_omnianomaly", "unsupervised", "w/o labels", None, 0.4)
    plain["peer"] = {"settings": {"epochs": 10}, "seconds": 5.0}
    twin = rec("tsbad_omnianomaly (covering mean)", "unsupervised", "w/o labels", None)
    twin["peer"] = dict(plain["peer"])
    assert labels.current([plain, twin]) == [plain, twin]
    # a --quick twin beside the earnest record that speaks: another file
    quick = {**twin, "peer": {"settings": {"epochs": 1}, "quick": True}, "time": 9}
    quick_plain = {**plain, "peer": quick["peer"], "time": 9}
    assert labels.current([plain, quick_plain, quick]) == [plain]
    # a twin whose window-end record is gone
    assert labels.current([twin]) == []
    # a twin of a peer that scores rows (made before they were left as they
    # score) is no rule of alad's
    row = rec("tsbad_timesnet", "unsupervised", "w/o labels", None, 0.4)
    row_twin = {**rec("tsbad_timesnet (covering mean)", "unsupervised",
                      "w/o labels", None), "peer": None}  # fmt: skip
    assert labels.current([row, row_twin]) == [row]


def test_a_twin_over_fewer_runs_leaves_the_peer_in_place():
    rec = _gecco_record
    records = [
        rec("alad:transformer", "alad", "with labels", 50, 0.6),
        *(rec("extratrees", "labels", "with labels", 50, 0.3, seed=s) for s in (0, 1)),
        rec("extratrees (covering mean)", "labels", "with labels", 50, 0.9, seed=1),
    ]
    ahead = labels.comparison(records, "roc_auc", alignment="covering mean")
    assert ahead[("anomalous", "gecco")]["labels"] == ("extratrees", 0.3)
    records.append(
        rec("extratrees (covering mean)", "labels", "with labels", 50, 0.5, seed=0)
    )
    ahead = labels.comparison(records, "roc_auc", alignment="covering mean")
    assert ahead[("anomalous", "gecco")]["labels"] == (
        "extratrees (covering mean)",
        0.7,
    )


def test_a_peer_made_again_with_other_settings_is_recorded_anew(run, tmp_path):
    """run_peers.py --force --max-epochs 50 into the same results file: the
    key left the settings out, so the new score file was taken for done and
    the old record stood."""
    out, work, _ = run
    out = Path(shutil.copy(out, tmp_path / "r.jsonl"))
    tid = "telemetry_tiny__anomalous"
    y = labels.make_label_split(TASK, "anomalous", 0.2, 0).y_eval
    path = labels.score_path(work, tid, 0, "pyod_lstmad")
    np.save(path, y.astype(np.float32))
    info = {"settings": {"max_epochs": 10}, "quick": False, "seconds": 1.0}
    info["eval_scoring"] = "pieces apart"  # as the runner writes it here
    path.with_suffix(".json").write_text(json.dumps(info))
    first = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    n = len(first)
    again = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    assert len(again) == n  # the same file again: done
    np.save(path, y[::-1].astype(np.float32))
    info["settings"] = {"max_epochs": 50}
    path.with_suffix(".json").write_text(json.dumps(info))
    store = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    assert len(store) == n + 1

    def speaks():
        newest = labels.current(list(ResultStore(out)))
        return [r["peer"]["settings"] for r in newest if r["method"] == "pyod_lstmad"]

    assert speaks() == [{"max_epochs": 50}]
    # and back to the first settings: they speak again
    np.save(path, y.astype(np.float32))
    info["settings"] = {"max_epochs": 10}
    path.with_suffix(".json").write_text(json.dumps(info))
    run_jobs(_jobs(work), out, protocol="labels", progress=False)
    assert speaks() == [{"max_epochs": 10}]
    run_jobs(_jobs(work), out, protocol="labels", progress=False)
    assert speaks() == [{"max_epochs": 10}]  # and is then done


def test_report_prints_the_comparison(run, tmp_path):
    # a copy of the run with its own peer files: the test reads no file
    # that another test writes, so it passes alone and in any order
    out, work, _ = run
    out = Path(shutil.copy(out, tmp_path / "r.jsonl"))
    work = Path(shutil.copytree(work, tmp_path / "work"))
    _write_good_peer_files(work)
    store = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    text = labels.format_report(list(store))
    assert "At 4 labelled windows, split 'anomalous'" in text
    assert "1 pool(s) inside the test series scored in their two pieces" in text
    assert "At 4 labelled windows, split 'paper'" in text
    lines = [
        line
        for line in text.splitlines()
        if line.startswith("| telemetry | PA%K AUC | alad:transformer")
    ]
    # anomalous (the peers as they align, then by alad's rule), then paper
    assert len(lines) == 3
    assert "iforest" in lines[0]  # the best unsupervised peer of the split
    assert "extratrees (covering mean)" in lines[1]
    assert all("| 4.0 (" in line for line in lines)  # windows really labelled
    assert "PA%K AUC against labelled windows" in text
    assert text == format_records(list(store))  # the engine's report is this one
    rst = labels.format_report(list(store), fmt="rst")
    assert ".. list-table:: At 4 labelled windows" in rst


def _gecco_record(method, family, setting, budget, value=0.5, seed=0):
    """A record of GECCO's anomalous split, every metric ``value`` (None: unscored)."""
    return {
        "protocol": "labels",
        "task": "gecco",
        "dataset": "gecco",
        "split": "anomalous",
        "seed": seed,
        "method": method,
        "family": family,
        "setting": setting,
        "budget": budget,
        "metrics": None if value is None else {m: value for m in labels.METRIC_NAMES},
    }


def test_comparison_says_whether_labels_help():
    rec = _gecco_record
    records = [
        rec("alad:usad", "alad", "w/o labels", None, 0.5),
        rec("alad:usad", "alad", "pool as normal", None, 0.6),
        rec("alad:usad", "alad", "with labels", 50, 0.55),
        rec("iforest", "unsupervised", "w/o labels", None, 0.4),
        rec("pyod_ecod", "unsupervised", "w/o labels", None, 0.45),
        rec("extratrees", "labels", "with labels", 50, 0.7),
    ]
    row = labels.comparison(records, "pa_k_auc")[("anomalous", "gecco")]
    assert row["alad"]["alad:usad"] == (0.55, 0.5, 0.6)
    assert row["unsupervised"] == ("pyod_ecod", 0.45)
    assert row["labels"] == ("extratrees", 0.7)
    text = labels.format_report(records)
    line = next(x for x in text.splitlines() if x.startswith("| gecco | VUS-PR"))
    assert line.endswith("| **no** | **no** |")


def test_runs_of_other_parameters_are_other_lines_not_one_mean():
    rec = _gecco_record
    records = []
    for params, value in (({}, 0.6), ({"window_size": "auto"}, 0.2)):
        for setting, budget in (("w/o labels", None), ("pool as normal", None)):
            records.append({**rec("alad:usad", "alad", setting, budget, value)})
        records.append(rec("alad:usad", "alad", "with labels", 50, value))
        for r in records[-3:]:
            r["params"] = params
    records.append(rec("iforest", "unsupervised", "w/o labels", None, 0.4))
    row = labels.comparison(records, "pa_k_auc")[("anomalous", "gecco")]
    assert row["alad"] == {
        "alad:usad": (0.6, 0.6, 0.6),
        "alad:usad[window_size=auto]": (0.2, 0.2, 0.2),
    }
    assert row["pools"]["alad:usad"] == row["pools"]["iforest"] == 1


def test_pooled_curves_keep_what_every_data_set_has():
    data = {
        "gecco": {"alad": {0: [0.2, 0.4], 50: [0.6]}, "peer": {50: [0.9]}},
        "msl": {"alad": {0: [0.5], 50: [0.7]}, "peer": {10: [0.1]}},
    }
    pooled = labels.pooled_curves(data)
    # the mean of the data sets' means; the peer shares no budget: left out
    assert pooled == {"alad": {0: pytest.approx([0.3, 0.5]), 50: [0.6, 0.7]}}
    assert labels.pooled_curves({}) == {}


def test_points_over_fewer_pools_are_marked():
    """On MSL a peer's mean over 2 of 81 pools was drawn as a curve beside
    means over all 81: such points are drawn hollow."""
    from alad.experiments.labels.report import _partial_points

    counts = {
        "alad": {10: 81, 50: 81, None: 81},
        "deepsad": {10: 2, 50: 81},
        "iforest": {None: 81},
    }
    assert _partial_points(counts) == {("deepsad", 10)}
    assert _partial_points({}) == set()


def test_figures_are_written(run, tmp_path):
    out, work, _ = run
    store = run_jobs(_jobs(work), out, protocol="labels", progress=False)
    paths = labels.save_figures(list(store), tmp_path, metrics=["pa_k_auc"])
    assert {p.name for p in paths} == {
        "labels_anomalous_pa_k_auc.png",
        "labels_paper_pa_k_auc.png",
    }


# --------------------------------------------------------------------------- #
# the peers' runner (imports numpy and the peers only; sklearn's peers run here)
# --------------------------------------------------------------------------- #


def test_runner_knows_the_same_peers():
    runner = _runner()
    assert runner.UNSUPERVISED == labels.UNSUPERVISED_PEERS
    assert runner.WITH_LABELS == labels.LABEL_PEERS
    assert set(runner.ALIGNMENT) == set(runner.PEERS)
    # the window a window-end peer's records are re-aligned by is a setting
    # its score file states (ExtraTrees': alad's window, in the task file)
    for peer, name in labels.WINDOW_END_PEERS.items():
        assert name is None or name in runner.SETTINGS[peer], peer
        assert name is None or name in runner.QUICK[peer], peer


def test_runner_caps_the_deep_peers_epochs():
    runner = _runner()
    assert runner.capped({"seq_len": 100, "epochs": 100}, 10) == {
        "seq_len": 100,
        "epochs": 10,
    }
    assert runner.capped({"epoch_num": 5}, 10) == {"epoch_num": 5}  # a cap only
    assert runner.capped({"epochs": 50}, None) == {"epochs": 50}
    # every deep peer states its epochs, so that the cap reaches it
    for peer, settings in runner.SETTINGS.items():
        if peer not in runner.NOT_EPOCHS:
            assert {"epochs", "epoch_num"} & set(settings), peer


def test_runner_set_changes_one_setting_of_one_peer():
    runner = _runner()
    changed = runner.overrides(
        ["deepod_devnet.d_model=64", "deepod_devnet.hidden_dims=16,8", "extratrees.x=1"]
    )
    assert changed == {
        "deepod_devnet": {"d_model": 64, "hidden_dims": "16,8"},
        "extratrees": {"x": 1},
    }
    for bad in ("deepod_devnet=64", "deepod_devnet.d_model", "nobody.d_model=1"):
        with pytest.raises(ValueError, match="--set"):
            runner.overrides([bad])
    # a peer that runs with its library's defaults would record and not use it
    with pytest.raises(ValueError, match="iforest takes no settings"):
        runner.overrides(["iforest.n_estimators=500"])


def test_runner_runs_the_tasks_it_is_given(tmp_path, capsys):
    runner = _runner()
    (tmp_path / "tasks" / "gecco__anomalous").mkdir(parents=True)
    status = runner.main(["--work", str(tmp_path), "--tasks", "msl*"])
    assert status == 1 and "match --tasks 'msl*'" in capsys.readouterr().err


def test_runner_alignment_puts_windows_at_their_end():
    runner = _runner()
    n, w = 10, 3
    windows = np.arange(n - w + 1, dtype=float)  # window [i, i+3) scores i
    np.testing.assert_array_equal(
        runner.window_end(windows, n, w), [0, 0, 0, 1, 2, 3, 4, 5, 6, 7]
    )
    # TSB-AD multivariate: one item per row, the last w repeat the last window
    raw = np.concatenate([windows, [7, 7]])
    np.testing.assert_array_equal(runner.tsbad_items(raw, n, w, 3), windows)
    # TSB-AD univariate: ceil((w-1)/2) in front, (w-1)//2 behind
    raw = np.concatenate([[0], windows, [7]])
    np.testing.assert_array_equal(runner.tsbad_items(raw, n, w, 1), windows)
    np.testing.assert_array_equal(runner.edge_pad([9, 9, 2, 3], 2), [2, 2, 2, 3])


def test_task_files_without_the_scoring_step_take_the_defaults(tmp_path):
    # written before the step was recorded: the defaults' on the training
    # part, where their window is the task's; else unknown (not re-aligned)
    cut = labels.make_label_split(TASK, "anomalous", 0.2, 0)
    tid = "telemetry_tiny__anomalous"
    for window, expected in ((50, (50, 50)), (10, None)):
        labels.write_task_file(
            labels.task_file(tmp_path, tid, 0), TASK, cut, 0, {},
            window_size=window, query_source="test",
        )  # fmt: skip
        assert labels.runs._task_scoring({}, tmp_path, tid, 0) == expected
    info = {"task_meta": {"window_size": 10, "score_stride": 5}}
    assert labels.runs._task_scoring(info, tmp_path, tid, 0) == (10, 5)


def test_runner_writes_score_files_that_the_protocol_reads(tmp_path):
    """End to end with the runner: an unsupervised and a label-taking peer."""
    runner = _runner()
    work = tmp_path / "work"
    cut = labels.make_label_split(TASK, "anomalous", 0.2, 0)
    w = TINY["window_size"]
    starts = np.arange(0, len(cut.y_pool) - w + 1, w)
    anomalous = [s for s in starts if cut.y_pool[s : s + w].any()][:1]
    normal = [s for s in starts if not cut.y_pool[s : s + w].any()][:3]
    idx = np.concatenate([np.arange(s, s + w) for s in sorted(anomalous + normal)])
    labels.write_task_file(
        labels.task_file(work, "telemetry_tiny__anomalous", 0),
        TASK,
        cut,
        0,
        {0: idx[:0], 4: idx},
        window_size=w,
        query_source="test",
        score_stride=w,
    )
    status = runner.main(
        ["--work", str(work), "--quick", "--peers", "iforest", "extratrees"]
    )
    assert status == 0
    tid = "telemetry_tiny__anomalous"
    for peer, budget in (("iforest", None), ("extratrees", 4)):
        path = labels.score_path(work, tid, 0, peer, budget)
        assert np.load(path).shape == cut.y_eval.shape
        info = json.loads(path.with_suffix(".json").read_text())
        assert info["alignment"] == runner.ALIGNMENT[peer]
        assert info["eval_scoring"] == "pieces apart"
    # IsolationForest scores rows: apart or joined, the same scores
    path = labels.score_path(work, tid, 0, "iforest")
    from sklearn.ensemble import IsolationForest

    data = runner.standardised(runner.read_task_file(labels.task_file(work, tid, 0)))
    forest = IsolationForest(random_state=0).fit(data["X_train"])
    np.testing.assert_allclose(
        np.load(path), -forest.score_samples(data["X_eval"]), rtol=1e-6
    )
    # a score file made before the pieces were scored apart is made again;
    # one made after them is kept
    info = json.loads(path.with_suffix(".json").read_text())
    del info["eval_scoring"]
    path.with_suffix(".json").write_text(json.dumps(info))
    assert runner.main(["--work", str(work), "--quick", "--peers", "iforest"]) == 0
    assert json.loads(path.with_suffix(".json").read_text())["eval_scoring"]
    before = path.stat().st_mtime_ns
    assert runner.main(["--work", str(work), "--quick", "--peers", "iforest"]) == 0
    assert path.stat().st_mtime_ns == before
    # ... but only with the settings it was made with: a --quick smoke run
    # never replaces an earnest file (nor other --set / --max-epochs)
    info.update(quick=False)
    path.with_suffix(".json").write_text(json.dumps(info))
    before = path.stat().st_mtime_ns
    assert runner.main(["--work", str(work), "--quick", "--peers", "iforest"]) == 0
    assert path.stat().st_mtime_ns == before
    # ... and not again after its re-make failed (the .err is newer)
    info.update(quick=True)
    path.with_suffix(".json").write_text(json.dumps(info))
    path.with_suffix(".err").write_text("ValueError: failed\n")
    assert runner.main(["--work", str(work), "--quick", "--peers", "iforest"]) == 0
    assert path.stat().st_mtime_ns == before
    argv = ["--work", str(work), "--quick", "--force", "--peers", "iforest"]
    assert runner.main(argv) == 0  # --force does
    assert json.loads(path.with_suffix(".json").read_text())["eval_scoring"]
    assert not path.with_suffix(".err").exists()
    jobs = labels.jobs(
        [TASK],
        splits=("anomalous",),
        seeds=[0],
        budgets=(0, 4),
        peers=("iforest", "extratrees"),
        work=work,
    )
    peer_jobs = [j for j in jobs if j.label.endswith("peers")]
    store = run_jobs(peer_jobs, tmp_path / "r.jsonl", protocol="labels", progress=False)
    assert {(r["method"], r["budget"], r["eval_scoring"]) for r in store} == {
        ("iforest", None, "pieces apart"),
        ("extratrees", 4, "pieces apart"),
        ("extratrees (covering mean)", 4, "pieces apart"),  # by alad's window
    }
    assert {r.get("window") for r in store} == {None, TINY["window_size"]}


# --------------------------------------------------------------------------- #
# the command line
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--protocol", "labels", "--dataset", "gecco", "--table", "1"], "--table"),
        (["--dataset", "gecco", "--split", "paper"], "only with --protocol labels"),
        (["--protocol", "labels"], "required: --dataset"),
        (["--protocol", "labels", "--dataset", "odds"], "unknown data set"),
        (
            ["--protocol", "labels", "--dataset", "telemetry", "--peer", "nope"],
            "peer must be one of",
        ),
    ],
)
def test_cli_refuses_what_the_protocol_does_not_take(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["1.5"], "argument --pool-ratio: expected RATIO or DATASET=RATIO"),
        (["msl=x"], "argument --pool-ratio: expected RATIO or DATASET=RATIO"),
        (["=0.3"], "argument --pool-ratio: expected RATIO or DATASET=RATIO"),
        (["gecko=0.3"], "pool_ratio: unknown data set 'gecko'"),
    ],
)
def test_cli_refuses_bad_pool_ratios(given, message, capsys):
    argv = ["benchmark", "--protocol", "labels", "--dataset", "telemetry"]
    for value in given:
        argv += ["--pool-ratio", value]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given", "ratios"),
    [
        ([], {"default": 0.2, "msl": 0.5}),
        (["0.3"], {"default": 0.3}),
        (["gecco=0.3"], {"default": 0.2, "msl": 0.5, "gecco": 0.3}),
        (["msl=0.6", "0.25"], {"default": 0.25, "msl": 0.6}),
    ],
)
def test_cli_pool_ratio_per_data_set(given, ratios, monkeypatch, capsys):
    seen = {}

    def fake_jobs(datasets, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(labels, "jobs", fake_jobs)
    argv = ["benchmark", "--protocol", "labels", "--dataset", "telemetry"]
    for value in given:
        argv += ["--pool-ratio", value]
    with pytest.raises(SystemExit):
        main(argv)
    assert "stop here" in capsys.readouterr().err
    assert seen["pool_ratio"] == ratios


def test_cli_runs_the_protocol_and_reports(tmp_path, capsys):
    out = tmp_path / "labels.jsonl"
    argv = [
        "benchmark",
        "--protocol",
        "labels",
        "--dataset",
        "telemetry",
        "--split",
        "paper",
        "--seeds",
        "0",
        "--budgets",
        "0",
        "2",
        "--params",
        json.dumps(TINY),
        "--out",
        str(out),
        "--quiet",
        "--figures",
        str(tmp_path / "figures"),
        "--peer-command",
        f"{sys.executable} {RUNNER} --quick --peers iforest",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "At 2 labelled windows, split 'paper'" in text
    # the peers' command ran between alad's runs and the reading of the scores
    methods = {json.loads(line)["method"] for line in out.read_text().splitlines()}
    assert methods == {"alad:transformer", "iforest"}
    assert (tmp_path / "labels.work" / "tasks" / "telemetry_0__paper").is_dir()
    assert (tmp_path / "figures" / "labels_paper_pa_k_auc.png").exists()
    assert main(["report", str(out)]) == 0
    assert "At 2 labelled windows" in capsys.readouterr().out


def test_a_peer_command_that_cannot_start_is_reported_not_raised(tmp_path, capsys):
    """alad's runs are done by then: the peers' scores are read as after a failure."""
    work = _jobs(tmp_path / "work", peer_command="no-such-program-of-alad --quick")
    (command,) = [job for job in work if job.label == "peers' command"]
    assert list(command.run(set())) == []
    assert "the peers' command could not start" in capsys.readouterr().err
    assert len(command.errors) == 1
    with pytest.raises(ValueError, match="No closing quotation"):
        _jobs(tmp_path / "work", peer_command="python 'run_peers.py")


def test_a_failing_peer_command_makes_the_benchmark_exit_non_zero(
    tmp_path, monkeypatch, capsys
):
    """The jobs after it still run (its scores so far are read), then the exit
    status says the peers' runs are incomplete: a script or CI must see it."""
    from alad.experiments.labels import runs

    failing = f"{sys.executable} -c 'import sys; sys.exit(3)'"
    work = tmp_path / "work"
    ran = []

    def fake_jobs(*args, **kw):
        after = Job("after", lambda done: ran.append(1) or iter(()), 0)
        return [runs._command_job(kw["peer_command"], work), after]

    monkeypatch.setattr(labels, "jobs", fake_jobs)
    argv = ["benchmark", "--protocol", "labels", "--dataset", "telemetry"]
    argv += ["--out", str(tmp_path / "r.jsonl"), "--quiet", "--peer-command", failing]
    assert main(argv) == 1
    assert ran == [1]
    err = capsys.readouterr().err
    assert "alad benchmark: the peers' command exited with status 3" in err


def test_score_detrend_keys_the_records_where_the_evaluation_part_shows_a_trend(
    tmp_path, monkeypatch
):
    """Detrending changes the metrics only where a piece of the evaluation
    part is at least the span long (a shorter one is shifted by a constant):
    there the records are keyed by it (made again after it became the
    default); a shorter part keeps its keys."""
    from alad.detectors import ActiveReconstructionDetector as ARD
    from alad.experiments.labels import make_label_split

    short = len(make_label_split(TASK, "anomalous", 0.2, 0).X_eval)
    span = ARD.__init__.__kwdefaults__["score_detrend"]
    data = make_telemetry(n_train=800, n_test=span * 3, random_state=0)
    long = Task("telemetry", "long", data.X_train, data.X_test, data.y_test)
    cut = make_label_split(long, "anomalous", 0.2, 0)
    assert short < span <= max(cut.seam, len(cut.X_eval) - cut.seam)

    def keys(task, name):
        return _record_keys(task, tmp_path / name, budgets=(0,))

    now = {task: keys(task, f"now_{task.entity}") for task in (TASK, long)}
    # as before the default: not detrended
    monkeypatch.setitem(ARD.__init__.__kwdefaults__, "score_detrend", None)
    assert keys(long, "before_long").isdisjoint(now[long])
    assert keys(TASK, "before_short") == now[TASK]


def test_the_backbones_wait_keys_the_multivariate_records_with_labels(
    tmp_path, monkeypatch
):
    """feedback_min_anomalous="auto" (the default since) waits for three
    labelled anomalous windows on a multivariate series and changes nothing
    on a univariate one: the first's records with labels are keyed by it
    (made again), the second's keep their keys."""
    from alad.detectors import ActiveReconstructionDetector as ARD

    uni = Task("telemetry", "uni", TASK.X_train[:, :1], TASK.X_test[:, :1], TASK.y_test)

    def keys(task, name):
        return _record_keys(task, tmp_path / name, budgets=(0,))

    now = {task: keys(task, f"now_{task.entity}") for task in (TASK, uni)}
    monkeypatch.setitem(ARD.__init__.__kwdefaults__, "feedback_min_anomalous", 0)
    before = {task: keys(task, f"before_{task.entity}") for task in (TASK, uni)}
    assert before[uni] == now[uni]
    # the records with labels are made again; those without keep their keys
    assert now[TASK] - before[TASK] and now[TASK] & before[TASK]


def test_feedback_start_auto_is_keyed_as_what_it_resolves_to(tmp_path, monkeypatch):
    """Were feedback_start="auto" the default, it is "current" on a univariate
    series (its records keep their keys) and "fitted" on a multivariate one
    (its records with labels are made again, those without keep their keys)."""
    from alad.detectors import ActiveReconstructionDetector as ARD

    uni = Task("telemetry", "uni", TASK.X_train[:, :1], TASK.X_test[:, :1], TASK.y_test)

    def keys(task, name):
        return _record_keys(task, tmp_path / name, budgets=(0, 2))

    now = {task: keys(task, f"now_{task.entity}") for task in (TASK, uni)}
    monkeypatch.setitem(ARD.__init__.__kwdefaults__, "feedback_start", "auto")
    auto = {task: keys(task, f"auto_{task.entity}") for task in (TASK, uni)}
    assert auto[uni] == now[uni]
    assert auto[TASK] - now[TASK] and auto[TASK] & now[TASK]


# --------------------------------------------------------------------------- #
# series files of your own
# --------------------------------------------------------------------------- #


def _series_file(path, n_anomalous=20, *, n_train=800, n_test=1500):
    data = make_telemetry(n_train=n_train, n_test=n_test, random_state=0)
    y = np.zeros(n_test, dtype=int)
    y[700 : 700 + n_anomalous] = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, X_train=data.X_train, X_test=data.X_test, y_test=y)
    return path


def test_two_series_files_of_one_name_are_refused(tmp_path):
    a = _series_file(tmp_path / "a" / "mine.npz")
    b = _series_file(tmp_path / "b" / "mine.npz", n_anomalous=30)
    with pytest.raises(ValueError, match="more than one task is named 'file/mine'"):
        labels.jobs([f"file:{a},{b}"], params=TINY, work=tmp_path / "w")
    with pytest.raises(ValueError, match="more than one task"):
        labels.jobs([f"file:{a}", f"file:{b}"], params=TINY, work=tmp_path / "w")


def test_a_changed_series_file_is_run_again_and_its_old_files_set_aside(
    tmp_path, capsys
):
    path = _series_file(tmp_path / "mine.npz")
    out, work = tmp_path / "r.jsonl", tmp_path / "w"

    def jobs():
        return labels.jobs(
            [f"file:{path}"],
            splits=("paper",),
            seeds=[0],
            budgets=(0, 2),
            params=TINY,
            peers=(),
            work=work,
        )

    first = list(run_jobs(jobs(), out, protocol="labels", progress=False))
    (old,) = {r["data"] for r in first}
    _series_file(path, n_anomalous=40)  # the labels fixed, the same name
    store = list(run_jobs(jobs(), out, protocol="labels", progress=False))
    assert len(store) == 2 * len(first)  # every run made again
    assert len({r["data"] for r in store}) == 2
    assert "the series file's contents changed; set aside" in capsys.readouterr().err
    tid = "file_mine__paper"
    assert (work / "tasks" / tid / f"seed0.npz.data{old}").exists()


@pytest.mark.parametrize(
    "n_train, n_test, split, message",
    [
        (5, 1500, "paper", "training part holds 5 rows, fewer than one window"),
        (800, 40, "paper", r"'paper' split's pool \(20% of 40 test rows: 8\)"),
    ],
)
def test_a_series_too_short_for_its_windows_is_refused_before_any_run(
    tmp_path, n_train, n_test, split, message
):
    path = tmp_path / "short.npz"
    data = make_telemetry(n_train=800, n_test=1500, random_state=0)
    y = np.zeros(n_test, dtype=int)
    y[n_test // 2] = 1
    np.savez(
        path, X_train=data.X_train[:n_train], X_test=data.X_test[:n_test], y_test=y
    )
    with pytest.raises(ValueError, match=message):
        labels.jobs([f"file:{path}"], splits=(split,), params=TINY, work=tmp_path)


@pytest.mark.parametrize(
    "value, message", [(0, "no anomalous row"), (1, "no normal row")]
)
def test_a_test_part_of_one_class_is_refused_before_any_fit(tmp_path, value, message):
    """It was accepted, and every detector fitted for records without
    metrics (no F1, PA%K or ROC AUC without both classes)."""
    path = _series_file(tmp_path / "one.npz")
    with np.load(path) as data:
        arrays = dict(data)
    arrays["y_test"] = np.full(len(arrays["y_test"]), value)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=rf"test part \(1500 rows\) holds {message}"):
        labels.jobs([f"file:{path}"], params=TINY, work=tmp_path / "w")


def test_the_notes_count_evaluation_parts_of_one_class():
    def rec(task, eval_anomalous, metrics):
        return {
            "protocol": "labels",
            "task": task,
            "dataset": "file",
            "split": "anomalous",
            "seed": 0,
            "method": "alad:transformer",
            "family": "alad",
            "setting": "w/o labels",
            "budget": None,
            "rule": "whole",
            "pool_anomalous_rows": 5,
            "eval_anomalous_rows": eval_anomalous,
            "metrics": metrics,
        }

    scored = {m: 0.5 for m in labels.METRIC_NAMES}
    records = [
        rec("file/a", 10, scored),
        rec("file/b", 0, None),
        rec("file/c", 90, None),
    ]
    text = labels.format_report(records)
    # no anomalous row (b) or no normal row (c): neither can be scored
    assert "2 evaluation part(s) without any anomalous row (or without" in text


def test_the_report_counts_the_runs_behind_each_mean():
    def rec(method, family, setting, budget, seed, scored=True):
        value = 0.5 if scored else None
        return _gecco_record(method, family, setting, budget, value, seed)

    records = [rec("alad:transformer", "alad", "w/o labels", None, s) for s in range(3)]
    records += [rec("alad:transformer", "alad", "with labels", 50, s) for s in range(3)]
    # a label peer that could not learn on seed 2 (no anomalous window labelled)
    records += [rec("extratrees", "labels", "with labels", 50, s) for s in range(2)]
    records += [rec("extratrees", "labels", "with labels", 50, 2, scored=False)]
    text = labels.format_report(records)
    assert "Runs behind the means, split 'anomalous'" in text
    lines = text.splitlines()
    assert "| gecco | extratrees | - | 2/3 |" in lines
    assert "| gecco | alad:transformer with labels | - | 3/3 |" in lines
    assert "| gecco | alad:transformer w/o labels | 3/3 | - |" in lines


def test_a_best_peer_over_fewer_pools_than_alad_says_so():
    """A peer that ran on 1 of alad's 3 pools (it cannot learn where the labels
    hold no anomaly) is the best peer of a mean over other pools: the cell
    says how many."""
    records = [
        _gecco_record("alad:transformer", "alad", s, b, seed=seed)
        for seed in (0, 1, 2)
        for s, b in (
            ("with labels", 50),
            ("w/o labels", None),
            ("pool as normal", None),
        )
    ]
    records += [
        _gecco_record("iforest", "unsupervised", "w/o labels", None, 0.4, seed)
        for seed in (0, 1, 2)
    ]
    records.append(_gecco_record("extratrees", "labels", "with labels", 50, 0.7, 0))
    row = labels.comparison(records, "pa_k_auc")[("anomalous", "gecco")]
    assert row["pools"] == {"alad:transformer": 3, "iforest": 3, "extratrees": 1}
    line = next(
        x
        for x in labels.format_report(records).splitlines()
        if x.startswith("| gecco | PA%K AUC")
    )
    assert "| extratrees 0.700 (1/3 pools) |" in line
    assert "| iforest 0.400 |" in line


def test_a_quick_smoke_run_never_speaks_over_a_real_one():
    real = {**_gecco_record("iforest", "unsupervised", "w/o labels", None, 0.4)}
    real.update(time=1.0, peer={"quick": False})
    smoke = {**_gecco_record("iforest", "unsupervised", "w/o labels", None, 0.9)}
    smoke.update(time=2.0, peer={"quick": True})
    assert labels.current([real, smoke]) == [real]
    assert labels.current([smoke]) == [smoke]
