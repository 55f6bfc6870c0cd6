"""The figure of docs/user_guide/which_metric.rst: one score series, five metrics.

An :class:`~sklearn.ensemble.IsolationForest` (100 trees, ``random_state=0``)
fitted on the training part of MSL's P-11 scores the test part; a
uniform random score (``default_rng(0)``) of the same length is the
reference. The figure shows both series with the anomaly segments shaded,
and point-wise F1, PA-F1, the PA%K AUC, VUS-PR and affiliation F1 of each.
PA-F1 ranks the random score first. Usage::

    ALAD_DATA_HOME=/work/shared/datasets .venv/bin/python \\
        benchmarks/metrics_figure.py docs/results/fig/which_metric.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402

from alad.datasets import load_msl  # noqa: E402
from alad.metrics import detection_report  # noqa: E402
from alad.plotting import anomaly_segments  # noqa: E402

SHOWN = {
    "f1": "F1",
    "f1_pa": "PA-F1",
    "pa_k_auc": "PA%K AUC",
    "vus_pr": "VUS-PR",
    "affiliation_f1": "affiliation F1",
}


def main(out):
    data = load_msl("P-11")
    forest = IsolationForest(n_estimators=100, random_state=0).fit(data.X_train)
    series = {
        "IsolationForest": -forest.score_samples(data.X_test),
        "random": np.random.default_rng(0).random(data.y_test.size),
    }
    reports = {name: detection_report(data.y_test, s) for name, s in series.items()}
    for name, rep in reports.items():
        print(name, {SHOWN[k]: round(rep[k], 3) for k in SHOWN})

    fig = plt.figure(figsize=(10, 5.2), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[2.2, 1])
    for row, (name, s) in enumerate(series.items()):
        ax = fig.add_subplot(grid[row, 0])
        for start, stop in anomaly_segments(data.y_test):
            ax.axvspan(start, stop, color="tab:red", alpha=0.2, lw=0)
        ax.plot(s, lw=0.6, color="tab:blue" if row == 0 else "tab:gray")
        ax.set_title(f"MSL P-11, {name} score", fontsize=10, loc="left")
        ax.set_yticks([])
        if row == 1:
            ax.set_xlabel("time step (anomalies shaded)")
    ax = fig.add_subplot(grid[:, 1])
    x = np.arange(len(SHOWN))
    for k, (name, rep) in enumerate(reports.items()):
        values = [rep[m] for m in SHOWN]
        bars = ax.barh(
            x + (0.2 if k else -0.2),
            values,
            height=0.4,
            label=name,
            color="tab:blue" if k == 0 else "tab:gray",
        )
        ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    ax.set_yticks(x, list(SHOWN.values()))
    ax.invert_yaxis()
    ax.set_xlim(0, 1.15)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.05), ncol=2, fontsize=8)
    ax.set_title("same labels, five metrics", fontsize=10, loc="left")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("out", nargs="?", default="which_metric.png", help="PNG file")
    main(parser.parse_args().out)
