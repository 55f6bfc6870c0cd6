"""The new metrics as columns of ``alad report``, and records made before them."""

import numpy as np

from alad.experiments.report import format_report
from alad.experiments.run import load_labels
from alad.metrics import detection_report

OLD = ("f1", "f1_pa", "pa_k_auc", "roc_auc", "average_precision")
NEW_COLUMNS = ("VUS-PR", "VUS-ROC", "R-F1", "Aff-F1", "Event-F1", "Composite-F1")


def _records(tmp_path, metrics_of):
    rng = np.random.default_rng(0)
    records = []
    for task in ("d/a", "d/b"):
        for setting in ("w/o unlabeled", "active"):
            y = (rng.random(200) < 0.1).astype(np.int8)
            y[50:60] = 1
            scores = y + rng.random(200)
            name = f"{task[-1]}_{setting[0]}"
            np.save(tmp_path / f"{name}_labels.npy", y)
            np.save(tmp_path / f"{name}_scores.npy", scores)
            records.append(
                {
                    "dataset": "d",
                    "task": task,
                    "method": "iforest",
                    "setting": setting,
                    "seed": 0,
                    "metrics": {"evaluation": metrics_of(y, scores)},
                    "scores": str(tmp_path / f"{name}_scores.npy"),
                    "labels": str(tmp_path / f"{name}_labels.npy"),
                    "train_mean": 0.0,
                    "train_std": 1.0,
                }
            )
    return records


def test_records_without_the_new_metrics_keep_their_columns(tmp_path):
    def old_report(y, s):
        full = detection_report(y, s)
        return {k: full[k] for k in OLD}

    records = _records(tmp_path, old_report)
    text = format_report(records, load_labels(records), fmt="rst")
    assert "PA%K AUC" in text and "pooled" in text
    for column in NEW_COLUMNS:
        assert column not in text  # per data set, pooled, gains and per task


def test_records_with_the_new_metrics_show_them(tmp_path):
    records = _records(tmp_path, detection_report)
    text = format_report(records, load_labels(records))
    header = next(line for line in text.splitlines() if "| method |" in line)
    for column in NEW_COLUMNS:
        assert column in header
    # the pooled table (recomputed from the scores) has the same columns
    pooled = text.split("d, pooled over tasks")[1]
    assert "VUS-PR" in pooled.split("\n\n")[1]
