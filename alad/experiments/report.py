"""Tables and figures from the records of a reproduction run."""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .._atomic import save_figure
from .han import BASELINES, SETTINGS, evaluate
from .tables import render_table

__all__ = [
    "METRICS",
    "average_gains",
    "format_report",
    "save_figures",
    "select_configs",
    "summarize",
    "task_wins",
]

#: The metrics of the tables, in column order, with their printed names. A
#: column is left out of a table when none of its records carries the metric
#: (records made before the metric existed).
METRICS = {
    "f1_pa": "F1_PA",
    "f1": "F1",
    "pa_k_auc": "PA%K AUC",
    "roc_auc": "ROC AUC",
    "average_precision": "AP",
    "vus_pr": "VUS-PR",
    "vus_roc": "VUS-ROC",
    "range_f1": "R-F1",
    "affiliation_f1": "Aff-F1",
    "event_f1": "Event-F1",
    "composite_f1": "Composite-F1",
}


def _shown(rows: list[dict]) -> list[str]:
    """The metrics of :data:`METRICS` that some row carries."""
    return [m for m in METRICS if any(f"{m}_mean" in row for row in rows)]


def _config_id(record: dict) -> str:
    config = record.get("config")
    return (
        "" if config is None else ",".join(f"{k}={config[k]}" for k in sorted(config))
    )


def select_configs(records: Iterable[dict]) -> dict[tuple[str, str], str]:
    """The active configuration of each (dataset, method) to report.

    With a validation slice, the configuration with the best mean PA%K AUC on
    the validation slice over tasks and seeds; the evaluation part is never
    looked at. Without one, a run holds a single configuration: that one.
    """
    scores = defaultdict(list)
    for r in records:
        if r["setting"] != "active":
            continue
        metrics = r["metrics"].get("validation") or r["metrics"].get("evaluation")
        value = np.nan if metrics is None else metrics["pa_k_auc"]
        scores[(r["dataset"], r["method"], _config_id(r))].append(value)
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for (dataset, method, config), values in scores.items():
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else -np.inf
        if (dataset, method) not in best or mean > best[(dataset, method)][0]:
            best[(dataset, method)] = (mean, config)
    return {group: config for group, (_, config) in best.items()}


def _params_id(record: dict) -> str:
    return json.dumps(record.get("params") or {}, sort_keys=True, default=str)


def _apart_by_params(records: list[dict]) -> list[dict]:
    """Records of one method run with different ``--params`` (two runs into
    one results file) named apart, ``method {params}``: averaged together
    they would pass for seeds of one setting. A method run with one set of
    parameters keeps its name."""
    variants = defaultdict(set)
    for r in records:
        variants[(r["dataset"], r["method"])].add(_params_id(r))
    return [
        {**r, "method": f"{r['method']} {_params_id(r)}"}
        if len(variants[(r["dataset"], r["method"])]) > 1
        else r
        for r in records
    ]


def _chosen(records: Iterable[dict]) -> list[dict]:
    """Every record but the active runs of the configurations not chosen,
    methods of several parameter sets named apart."""
    records = _apart_by_params(list(records))
    chosen = select_configs(records)
    return [
        r
        for r in records
        if r["setting"] != "active"
        or _config_id(r) == chosen[(r["dataset"], r["method"])]
    ]


def _order(dataset: str, task: str, method: str, setting: str) -> tuple:
    """Rows in the order of Table 2: settings as the protocol lists them."""
    rank = SETTINGS.index(setting) if setting in SETTINGS else len(SETTINGS)
    return dataset, task, method, rank, setting


def summarize(records: Iterable[dict], *, per_task: bool = False) -> list[dict]:
    """Mean and std over seeds (and tasks) of each metric on the evaluation part.

    Parameters
    ----------
    records : iterable of dict
    per_task : bool, default=False
        One row per task (e.g. MSL entity) instead of per dataset; a dataset
        row averages first over seeds within a task, then over tasks.

    Returns
    -------
    rows : list of dict
        ``dataset``, ``task`` (per_task only), ``method``, ``setting``,
        ``n_tasks``, ``n_seeds``, ``config`` and ``<metric>_mean`` /
        ``<metric>_std`` for each of :data:`METRICS`.
    """
    groups = defaultdict(lambda: defaultdict(list))
    configs = {}
    for r in _chosen(records):
        metrics = r["metrics"].get("evaluation")
        group = (r["dataset"], r["task"] if per_task else "", r["method"], r["setting"])
        configs[group] = _config_id(r)
        groups[group][r["task"]].append(metrics)
    rows = []
    for (dataset, task, method, setting), by_task in sorted(
        groups.items(), key=lambda item: _order(*item[0])
    ):
        row = {
            "dataset": dataset,
            "method": method,
            "setting": setting,
            "config": configs[(dataset, task, method, setting)],
            "n_tasks": len(by_task),
            "n_seeds": max(len(v) for v in by_task.values()),
        }
        if per_task:
            row["task"] = task
        for metric in METRICS:
            carried = [m for ms in by_task.values() for m in ms if m is not None]
            if carried and not any(metric in m for m in carried):
                continue  # records made before the metric existed
            # per task: mean over seeds; then mean and std over tasks (or seeds)
            per_seed = [
                [np.nan if m is None else m.get(metric, np.nan) for m in runs]
                for runs in by_task.values()
            ]
            if len(per_seed) == 1:
                values = np.array(per_seed[0], dtype=np.float64)
            else:
                values = np.array(
                    [
                        np.nanmean(v) if np.isfinite(v).any() else np.nan
                        for v in per_seed
                    ]
                )
            finite = values[np.isfinite(values)]
            row[f"{metric}_mean"] = float(finite.mean()) if finite.size else np.nan
            row[f"{metric}_std"] = float(finite.std()) if finite.size else np.nan
        rows.append(row)
    return rows


def pooled(records: Iterable[dict], labels: dict[str, np.ndarray]) -> list[dict]:
    """Metrics of all tasks of a data set at once, per method, setting and seed.

    The evaluation scores of every task are standardised with the mean and
    standard deviation of that task's training scores (each task has its own
    model, whose scores have their own scale), then concatenated with the
    labels; the metrics of the concatenation are averaged over seeds. Records
    whose score file is gone (the records are kept, the score cache need not
    be) are left out; the ``n_tasks`` of a row says how many tasks it pools.
    """
    groups = defaultdict(lambda: defaultdict(list))
    records = list(records)
    # the columns of the records' own tables, so that both tables match
    carried = {m for r in records for m in (r["metrics"].get("evaluation") or {})}
    for r in _chosen(records):
        y = labels.get(r["task"])
        if y is None or not Path(r["scores"]).exists():
            continue
        scores = np.load(r["scores"]).astype(np.float64)
        scores = (scores - r["train_mean"]) / (r["train_std"] or 1.0)
        groups[(r["dataset"], r["method"], r["setting"])][r["seed"]].append((y, scores))
    rows = []
    for (dataset, method, setting), by_seed in sorted(
        groups.items(), key=lambda item: _order(item[0][0], "", *item[0][1:])
    ):
        reports = []
        for parts in by_seed.values():
            y = np.concatenate([p[0] for p in parts])
            s = np.concatenate([p[1] for p in parts])
            reports.append(evaluate(y, s))
        row = {
            "dataset": dataset,
            "method": method,
            "setting": setting,
            "n_tasks": max(len(p) for p in by_seed.values()),
            "n_seeds": len(by_seed),
        }
        for metric in (m for m in METRICS if m in carried or not carried):
            values = np.array([rep[metric] for rep in reports if rep is not None])
            row[f"{metric}_mean"] = float(values.mean()) if values.size else np.nan
            row[f"{metric}_std"] = float(values.std()) if values.size else np.nan
        rows.append(row)
    return rows


def _active_pairs(rows: list[dict], unit: str):
    """``(method, baseline, [(active_row, baseline_row), ...])`` per method and
    unsupervised setting, pairing the rows of the same ``unit`` (data set or
    task); combinations without a pair are left out."""
    by_key = {(r[unit], r["method"], r["setting"]): r for r in rows}
    methods = dict.fromkeys(r["method"] for r in rows if r["setting"] == "active")
    for method in methods:
        for baseline in SETTINGS[:-1]:
            pairs = [
                (row, by_key[(u, m, baseline)])
                for (u, m, setting), row in by_key.items()
                if m == method and setting == "active" and (u, m, baseline) in by_key
            ]
            if pairs:
                yield method, baseline, pairs


def average_gains(rows: list[dict]) -> list[dict]:
    """Han et al.'s Table 3: mean of (active - baseline) over data sets.

    ``rows`` are :func:`summarize` rows. For each method with an active row
    and each of the two unsupervised settings, the difference of the means
    per data set, averaged over the data sets that have both; the ``_std``
    entries are the standard deviations of those differences over data sets.
    """
    out = []
    for method, baseline, pairs in _active_pairs(rows, "dataset"):
        row = {"method": method, "baseline": baseline, "n_datasets": len(pairs)}
        for metric in _shown([r for pair in pairs for r in pair]):
            diff = np.array(
                [
                    a.get(f"{metric}_mean", np.nan) - b.get(f"{metric}_mean", np.nan)
                    for a, b in pairs
                ]
            )
            diff = diff[np.isfinite(diff)]
            row[f"{metric}_mean"] = float(diff.mean()) if diff.size else np.nan
            row[f"{metric}_std"] = float(diff.std()) if diff.size else np.nan
        out.append(row)
    return out


def task_wins(task_rows: list[dict], metric: str = "pa_k_auc") -> list[str]:
    """Per method and baseline: on how many tasks active learning is ahead.

    ``task_rows`` are :func:`summarize` rows with ``per_task=True``. Each line
    counts the tasks where the active mean over seeds beats the baseline's,
    with the two-sided Wilcoxon signed-rank p-value of the paired
    differences (``nan`` when all differences are zero).
    """
    from scipy.stats import wilcoxon

    lines = []
    for method, baseline, pairs in _active_pairs(task_rows, "task"):
        diff = np.array([a[f"{metric}_mean"] - b[f"{metric}_mean"] for a, b in pairs])
        diff = diff[np.isfinite(diff)]
        if diff.size == 0:
            continue
        p = wilcoxon(diff).pvalue if np.any(diff != 0) else np.nan
        lines.append(
            f"{method}, active against {baseline}: {METRICS[metric]} higher on "
            f"{int((diff > 0).sum())} of {diff.size} tasks, mean difference "
            f"{diff.mean():+.4f}, Wilcoxon signed-rank p = {p:.3f}"
        )
    return lines


def _gains_table(rows: list[dict], fmt: str) -> str:
    shown = _shown(rows)
    header = ["method", "baseline", "data sets"] + [METRICS[m] for m in shown]
    body = []
    for row in rows:
        cells = [row["method"], row["baseline"], str(row["n_datasets"])]
        for metric in shown:
            mean, std = row[f"{metric}_mean"], row[f"{metric}_std"]
            if not np.isfinite(mean):
                cells.append("n/a")
            elif row["n_datasets"] > 1:
                cells.append(f"{mean:+.4f} ± {std:.4f}")
            else:
                cells.append(f"{mean:+.4f}")
        body.append(cells)
    return _render(header, body, fmt)


def _cells(row: dict, first: list[str], shown: list[str]) -> list[str]:
    cells = [str(row[c]) for c in first]
    cells.append(f"{row['n_seeds']}" if "task" in first else _n(row))
    for metric in shown:
        mean = row.get(f"{metric}_mean", np.nan)
        std = row.get(f"{metric}_std", np.nan)
        cells.append("n/a" if not np.isfinite(mean) else f"{mean:.4f} ± {std:.4f}")
    return cells


def _table(rows: list[dict], first: list[str], fmt: str) -> str:
    shown = _shown(rows)
    header = first + ["n"] + [METRICS[m] for m in shown]
    return _render(header, [_cells(row, first, shown) for row in rows], fmt)


def _render(header: list[str], body: list[list[str]], fmt: str) -> str:
    return render_table(header, body, fmt)


def _heading(text: str, fmt: str) -> str:
    if fmt == "markdown":
        return f"### {text}\n"
    return f"{text}\n{'-' * len(text)}\n"


def _n(row: dict) -> str:
    seeds = f"{row['n_seeds']} seed{'s' if row['n_seeds'] != 1 else ''}"
    return f"{row['n_tasks']} tasks x {seeds}" if row["n_tasks"] > 1 else seeds


def format_report(
    records: Iterable[dict],
    labels: dict[str, np.ndarray] | None = None,
    fmt: str = "markdown",
) -> str:
    """Tables per data set, pooled over tasks, and per task.

    Means ± standard deviations over seeds; for data sets of several tasks
    (MSL's entities), the data-set row gives the mean and standard deviation
    over tasks of the per-task means over seeds.

    Parameters
    ----------
    records : iterable of dict
    labels : dict of str to ndarray or None
        Evaluation labels per task, for the pooled tables.
    fmt : {"markdown", "rst"}, default="markdown"
        Markdown tables, or reStructuredText list-tables for Sphinx.
    """
    if fmt not in ("markdown", "rst"):
        raise ValueError(f"fmt must be 'markdown' or 'rst', got {fmt!r}.")
    records = list(records)
    out = []
    rows = summarize(records)
    for dataset in sorted({r["dataset"] for r in rows}):
        mine = [r for r in rows if r["dataset"] == dataset]
        out.append(_heading(dataset, fmt))
        out.append(_table(mine, ["method", "setting"], fmt))
        configs = sorted({(r["method"], r["config"]) for r in mine if r["config"]})
        for method, config in configs:
            out.append(f"\nactive configuration of {method}: ``{config}``")
        out.append("")
    gains = average_gains(rows)
    if gains:
        out.append(
            _heading("Average difference, active - baseline, over data sets", fmt)
        )
        out.append(_gains_table(gains, fmt))
        out.append("")
    multi = {r["dataset"] for r in rows if r["n_tasks"] > 1}
    if multi:
        pooled_rows = [
            r for r in pooled(records, labels or {}) if r["dataset"] in multi
        ]
        for dataset in sorted(multi):
            out.append(_heading(f"{dataset}, pooled over tasks", fmt))
            mine = [r for r in pooled_rows if r["dataset"] == dataset]
            if mine:
                out.append(_table(mine, ["method", "setting"], fmt))
            else:
                # said, not left out: a report regenerated from the records
                # alone would otherwise drop the section without a word
                out.append(
                    "Not made here: the pooled table reads the runs' score "
                    "files and evaluation labels, which the records name "
                    "and this machine does not hold (a cache of the runs, "
                    "not committed); run the jobs again to make them."
                )
            out.append("")
    if multi:
        task_rows = [
            r for r in summarize(records, per_task=True) if r["dataset"] in multi
        ]
        for dataset in sorted(multi):
            out.append(_heading(f"{dataset}, per task", fmt))
            mine = [r for r in task_rows if r["dataset"] == dataset]
            bullet = "- " if fmt == "markdown" else "* "
            out.extend(bullet + line for line in task_wins(mine))
            out.append("")
            out.append(_table(mine, ["task", "method", "setting"], fmt))
            out.append("")
    return "\n".join(out)


def save_figures(
    records: Iterable[dict],
    labels: dict[str, np.ndarray],
    out_dir: str | Path,
    tasks: Iterable[str] | None = None,
) -> list[Path]:
    """Scores over time, PA%K curves and budget curves, per task and backbone.

    The score and PA%K plots show all settings of the smallest seed (the
    baselines, with one setting each, get no plots of their own); the budget
    curve shows the mean and standard deviation over seeds.

    Parameters
    ----------
    records : iterable of dict
    labels : dict of str to ndarray
        Evaluation labels per task.
    out_dir : str or Path
    tasks : iterable of str or None
        Tasks to plot; None plots every single-task data set and the first
        task of each data set with several (e.g. MSL's first entity).
    """
    from ..metrics import best_f1
    from ..plotting import closing_new_figures, plot_pa_k_curve, plot_scores

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = [
        r
        for r in _chosen(records)
        if not r["setting"].startswith("-") and r["method"] not in BASELINES
    ]
    if tasks is None:
        first = {}
        for r in sorted(records, key=lambda r: r["task"]):
            first.setdefault(r["dataset"], r["task"])
        tasks = first.values()
    tasks = set(tasks)
    written = []
    by_task = defaultdict(list)
    for r in records:
        if r["task"] in tasks:
            by_task[(r["task"], r["method"])].append(r)
    for (task, method), mine in sorted(by_task.items()):
        y = labels.get(task)
        if y is None:
            continue
        if np.unique(y).size < 2:
            warnings.warn(
                f"no figure of {task}: its evaluation part holds one class only "
                "(no F1 threshold to draw)",
                UserWarning,
                stacklevel=2,
            )
            continue
        stem = f"{task.replace('/', '_')}_{method}"
        seed = min(r["seed"] for r in mine)
        first = {
            r["setting"]: r
            for r in mine
            if r["seed"] == seed and Path(r["scores"]).exists()
        }
        if not first:
            warnings.warn(
                f"no figure of {task}, {method}: its score files are gone (the "
                f"records name {mine[0]['scores']}; moved results?)",
                UserWarning,
                stacklevel=2,
            )
            continue
        scores = {s: np.load(r["scores"]) for s, r in first.items()}
        # the threshold of the reported (best) F1 of each setting
        thresholds = {
            s: best_f1(y, v, return_threshold=True)[1] for s, v in scores.items()
        }
        with closing_new_figures():
            fig = plot_scores(
                scores,
                y,
                threshold=thresholds,
                title=f"{task}, {method}, seed {seed}: scores on the evaluation "
                "part (dashed: the threshold of the best F1)",
            )
            written.append(out_dir / f"{stem}_scores.png")
            save_figure(fig, written[-1], dpi=100)
            fig = plot_pa_k_curve(y, scores, title=f"{task}, {method}: PA%K curves")
            written.append(out_dir / f"{stem}_pa_k.png")
            save_figure(fig, written[-1], dpi=100)
            active = [r for r in mine if r["setting"] == "active" and r.get("history")]
            if active:
                written.append(out_dir / f"{stem}_budget.png")
                save_figure(budget_curve(active), written[-1], dpi=100)
    return written


def budget_curve(active_records: list[dict]):
    """The budget curve (metrics against labelled windows), mean ± std over seeds."""
    from ..plotting import plot_budget_curve

    rounds = defaultdict(list)
    for r in active_records:
        for h in r["history"]:
            if h.get("evaluation") is not None:
                rounds[h["n_labelled"]].append(h["evaluation"])
    points = []
    for n, reports in sorted(rounds.items()):
        point = {"n_labelled": n}
        for metric in ("f1_pa", "f1", "pa_k_auc"):
            values = np.array([rep[metric] for rep in reports])
            point[metric] = float(values.mean())
            point[metric + "_std"] = float(values.std())
        points.append(point)
    task = active_records[0]["task"]
    return plot_budget_curve(
        points, title=f"{task}, {active_records[0]['method']}: metrics against labels"
    )
