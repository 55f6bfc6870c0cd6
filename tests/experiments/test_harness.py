"""The reproduction harness: protocol, resume, search on validation, reports."""

import json

import numpy as np
import pytest

from alad.cli import main
from alad.datasets import make_telemetry
from alad.experiments import (
    ResultStore,
    Task,
    average_gains,
    format_report,
    load_labels,
    load_tasks,
    make_split,
    read_records,
    run_benchmark,
    select_configs,
    summarize,
)
from alad.experiments.report import task_wins

TINY = {
    "window_size": 20,
    "max_epochs": 2,
    "backbone_params": {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 8},
}


def _small_task():
    data = make_telemetry(n_train=1200, n_test=2000, random_state=0)
    return Task("telemetry", "small", data.X_train, data.X_test, data.y_test)


SMALL = _small_task()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.jsonl"
    store = run_benchmark(
        [SMALL],
        seeds=[0, 1],
        active={"budget": 6, "top_k": 2, "n_bins": 2, "per_bin": 1},
        ablations=["-masking"],
        params=TINY,
        out=out,
        progress=False,
    )
    return out, store


def test_every_setting_and_baseline_is_recorded(run):
    _, store = run
    seen = {(r["method"], r["setting"], r["seed"]) for r in store}
    for seed in (0, 1):
        for setting in ("w/o unlabeled", "w/ unlabeled", "active", "-masking"):
            assert ("transformer", setting, seed) in seen
        assert ("iforest", "w/o unlabeled", seed) in seen
        assert ("lof", "w/o unlabeled", seed) in seen
    for r in store:
        assert set(r["metrics"]["evaluation"]) >= {"f1", "f1_pa", "pa_k_auc"}


def test_active_history_reaches_the_budget(run):
    _, store = run
    active = [r for r in store if r["setting"] == "active"]
    for r in active:
        labelled = [h["n_labelled"] for h in r["history"]]
        assert labelled[0] == 0 and labelled[-1] == 6
        assert labelled == sorted(labelled)


def test_rerun_resumes_without_new_runs(run):
    out, store = run
    before = out.read_text()
    again = run_benchmark(
        [SMALL],
        seeds=[0, 1],
        active={"budget": 6, "top_k": 2, "n_bins": 2, "per_bin": 1},
        ablations=["-masking"],
        params=TINY,
        out=out,
        progress=False,
    )
    assert out.read_text() == before
    assert len(again) == len(store)


def test_a_truncated_line_is_skipped_and_ended(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"key": "a", "x": 1}) + "\n" + '{"key": "b", "x"')
    store = ResultStore(path)
    assert set(store.records) == {"a"}
    store.add({"key": "c"})
    assert set(ResultStore(path).records) == {"a", "c"}


def test_format_report_has_the_tables(run):
    out, _ = run
    records = read_records([out])
    text = format_report(records, load_labels(records))
    assert "### telemetry" in text and "PA%K AUC" in text
    assert text.count("| transformer | active |") == 1
    assert "Average difference, active - baseline" in text


def test_summary_averages_over_seeds(run):
    _, store = run
    rows = summarize(store)
    row = next(
        r for r in rows if r["method"] == "transformer" and r["setting"] == "active"
    )
    values = [
        r["metrics"]["evaluation"]["pa_k_auc"]
        for r in store
        if r["method"] == "transformer" and r["setting"] == "active"
    ]
    assert row["n_seeds"] == 2
    assert row["pa_k_auc_mean"] == pytest.approx(np.mean(values))
    assert row["pa_k_auc_std"] == pytest.approx(np.std(values))


def test_runs_of_other_params_are_not_averaged_as_seeds(run):
    # a second run into the same file with another --params: its rows
    # stand apart, named by their parameters
    _, store = run
    mine = [r for r in store if r["method"] == "transformer" and r["seed"] == 0]
    other = [{**r, "key": r["key"] + "x", "params": {"max_epochs": 3}} for r in mine]
    rows = summarize([*store, *other])
    active = [r for r in rows if r["setting"] == "active"]
    named = sorted(r["method"] for r in active)
    assert len(named) == 2 and all(m.startswith("transformer {") for m in named)
    assert {r["n_seeds"] for r in active} == {1, 2}
    assert [r["method"] for r in summarize(store) if r["setting"] == "active"] == [
        "transformer"
    ]


def test_figures_of_an_evaluation_part_of_one_class_are_skipped_with_a_word(
    run, tmp_path
):
    from alad.experiments import save_figures

    _, store = run
    one_class = {"telemetry/small": np.zeros(len(SMALL.y_test), int)}
    with pytest.warns(UserWarning, match="holds one class only"):
        assert save_figures(store, one_class, tmp_path / "figs") == []
    moved = [{**r, "scores": str(tmp_path / "gone.npy")} for r in store]
    labels = {"telemetry/small": SMALL.y_test}
    with pytest.warns(UserWarning, match="its score files are gone"):
        assert save_figures(moved, labels, tmp_path / "figs") == []


def test_figures_leave_the_users_open_figures_open(run, tmp_path):
    """save_figures closed every pyplot figure (a notebook's work) and
    switched the backend to Agg; it closes only its own now."""
    import matplotlib.pyplot as plt

    from alad.experiments import save_figures
    from alad.experiments.run import load_labels

    _, store = run
    mine = plt.figure()
    try:
        assert save_figures(store, load_labels(store), tmp_path / "figs")
        assert plt.get_fignums() == [mine.number]
    finally:
        plt.close(mine)


def test_average_gains_is_the_mean_difference_over_datasets():
    def row(dataset, setting, value):
        out = {"dataset": dataset, "method": "m", "setting": setting}
        for metric in ("f1_pa", "f1", "pa_k_auc", "roc_auc", "average_precision"):
            out[f"{metric}_mean"], out[f"{metric}_std"] = value, 0.0
        return out

    rows = [
        row("a", "w/o unlabeled", 0.2),
        row("a", "w/ unlabeled", 0.3),
        row("a", "active", 0.5),
        row("b", "w/o unlabeled", 0.4),
        row("b", "active", 0.4),  # no "w/ unlabeled" on b
    ]
    gains = {g["baseline"]: g for g in average_gains(rows)}
    assert gains["w/o unlabeled"]["n_datasets"] == 2
    assert gains["w/o unlabeled"]["pa_k_auc_mean"] == pytest.approx(0.15)
    assert gains["w/o unlabeled"]["pa_k_auc_std"] == pytest.approx(0.15)
    assert gains["w/ unlabeled"]["n_datasets"] == 1
    assert gains["w/ unlabeled"]["f1_mean"] == pytest.approx(0.2)


def test_report_of_committed_records_without_their_score_cache(tmp_path):
    # records are committed, the per-timestep score cache is not: the tables
    # of a fresh checkout come from the metrics, and the pooled table only
    # pools the tasks whose scores are still there
    rng = np.random.default_rng(0)
    records = []
    for task in ("d/a", "d/b"):
        y = (rng.random(200) < 0.1).astype(np.int8)
        labels = tmp_path / f"{task[-1]}_labels.npy"
        scores = tmp_path / f"{task[-1]}_scores.npy"
        np.save(labels, y)
        np.save(scores, y + rng.random(200))
        metrics = dict.fromkeys(
            ("f1", "f1_pa", "pa_k_auc", "roc_auc", "average_precision"), 0.5
        )
        records.append(
            {
                "dataset": "d",
                "task": task,
                "method": "iforest",
                "setting": "w/o unlabeled",
                "seed": 0,
                "metrics": {"evaluation": metrics},
                "scores": str(scores),
                "labels": str(labels),
                "train_mean": 0.0,
                "train_std": 1.0,
            }
        )
    (tmp_path / "b_scores.npy").unlink()
    text = format_report(records, load_labels(records), fmt="rst")
    pooled = text.split("d, pooled over tasks")[1].split("d, per task")[0]
    assert "\n     - 1 seed\n" in pooled  # one task pooled, not two
    assert "2 tasks x 1 seed" in text.split("d, pooled")[0]  # the mean keeps both
    for path in tmp_path.iterdir():
        path.unlink()
    text = format_report(records, load_labels(records), fmt="rst")
    # no score left: the section says why it is empty, not silently dropped
    pooled = text.split("d, pooled over tasks")[1].split("d, per task")[0]
    assert "Not made here" in pooled and "list-table" not in pooled
    assert "d, per task" in text


def test_task_wins_counts_tasks_and_tests_the_paired_differences():
    rows = []
    for i, gain in enumerate([0.1, 0.2, -0.05, 0.3, 0.15]):
        for setting, value in (("w/o unlabeled", 0.5), ("active", 0.5 + gain)):
            rows.append(
                {
                    "task": f"t{i}",
                    "method": "m",
                    "setting": setting,
                    "pa_k_auc_mean": value,
                }
            )
    (line,) = task_wins(rows)
    assert "higher on 4 of 5 tasks" in line and "+0.1400" in line
    assert "p = 0.125" in line  # exact two-sided signed-rank test, n = 5


def test_selection_reads_the_validation_slice_only():
    def record(config, validation, evaluation):
        metrics = {
            "validation": {"pa_k_auc": validation},
            "evaluation": {"pa_k_auc": evaluation},
        }
        return {
            "dataset": "d",
            "method": "m",
            "setting": "active",
            "config": config,
            "metrics": metrics,
        }

    records = [record({"top_k": 1}, 0.9, 0.1), record({"top_k": 2}, 0.2, 0.99)]
    assert select_configs(records) == {("d", "m"): "top_k=1"}


def test_split_keeps_time_order_and_holds_out_validation():
    task = SMALL
    split = make_split(task, 0.2, 0.25)
    n = len(task.X_test)
    assert len(split.X_pool) == int(0.2 * n)
    np.testing.assert_array_equal(split.X_pool, task.X_test[: len(split.X_pool)])
    rest = n - len(split.X_pool)
    assert len(split.X_val) == int(0.25 * rest)
    np.testing.assert_array_equal(split.X_eval, task.X_test[n - len(split.X_eval) :])


def test_unknown_dataset_and_ablation_are_refused(tmp_path):
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_tasks("nope")
    with pytest.raises(ValueError, match="ablation must be one of"):
        run_benchmark(["telemetry:0"], ablations=["-everything"], out=tmp_path / "x")


def test_command_line_writes_markdown_and_figures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cli.jsonl"
    code = main(
        [
            "benchmark",
            "--dataset",
            "telemetry:0",
            "--seeds",
            "0",
            "--no-baselines",
            "--setting",
            "active",
            "--budget",
            "4",
            "--top-k",
            "2",
            "--n-bins",
            "2",
            "--params",
            json.dumps(TINY),
            "--out",
            str(out),
            "--quiet",
            "--markdown",
            str(tmp_path / "table.md"),
            "--figures",
            str(tmp_path / "fig"),
        ]
    )
    assert code == 0
    assert "| transformer | active |" in (tmp_path / "table.md").read_text()
    assert list((tmp_path / "fig").glob("*_budget.png"))
    assert main(["report", str(out)]) == 0
    assert "### telemetry" in capsys.readouterr().out


def test_runs_differing_in_feedback_parameters_share_the_fitted_model(tmp_path):
    from alad import ActiveReconstructionDetector
    from alad.experiments.han import _pretrained

    assert "top_k" in ActiveReconstructionDetector._feedback_params
    task = _small_task()
    first, _ = _pretrained(tmp_path, task, "transformer", 0, TINY, task.X_train, "t")
    params = {**TINY, "top_k": 3, "feedback_epochs": 1}
    second, _ = _pretrained(tmp_path, task, "transformer", 0, params, task.X_train, "t")
    assert len(list((tmp_path / "models").glob("*.pkl"))) == 1
    assert second.top_k == 3 and second.feedback_epochs == 1
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    _pretrained(
        tmp_path, task, "transformer", 0, {**TINY, "max_epochs": 1}, task.X_train, "t"
    )
    assert len(list((tmp_path / "models").glob("*.pkl"))) == 2


def test_the_han_protocol_keeps_the_table2_feedback_schedule(tmp_path):
    from alad.experiments.han import TABLE2_FEEDBACK, _pretrained

    det, _ = _pretrained(tmp_path, SMALL, "transformer", 0, TINY, SMALL.X_train, "t")
    assert {k: det.get_params()[k] for k in TABLE2_FEEDBACK} == TABLE2_FEEDBACK
    # from the cache too, and --params still wins
    det, _ = _pretrained(
        tmp_path,
        SMALL,
        "transformer",
        0,
        {**TINY, "pool_replay": 0.5},
        SMALL.X_train,
        "t",
    )
    assert det.pool_replay == 0.5 and det.feedback_steps is None


def test_a_changed_series_file_is_run_again(tmp_path):
    # a series file's records and cached fits carry its contents' digest
    data = make_telemetry(n_train=800, n_test=1200, random_state=0)
    path = tmp_path / "mine.npz"
    out = tmp_path / "results.jsonl"

    def bench(y_test):
        np.savez(path, X_train=data.X_train, X_test=data.X_test, y_test=y_test)
        return list(
            run_benchmark(
                [f"file:{path}"],
                settings=("w/o unlabeled",),
                baselines=[],
                params=TINY,
                out=out,
                cache_dir=tmp_path / "cache",
                progress=False,
            )
        )

    first = bench(data.y_test)
    assert {r["data"] for r in first} and len(first) >= 1
    fixed = data.y_test.copy()
    fixed[:5] = 1  # labels corrected, the same file name
    store = bench(fixed)
    assert len(store) == 2 * len(first)
    assert len({r["data"] for r in store}) == 2
