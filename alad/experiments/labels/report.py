"""The report: curves, the comparison of item 3, markdown or rst tables, figures."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from ..._atomic import save_figure
from ..tables import render_table
from .exchange import ROW_ERROR_PEERS
from .runs import COVERING
from .split import SPLITS

__all__ = [
    "ALIGNMENTS",
    "COMPARED",
    "current",
    "METRIC_NAMES",
    "SETTINGS",
    "comparison",
    "curves",
    "format_report",
    "pooled_curves",
    "save_figures",
]

#: The comparison of item 3: these metrics at this budget, on these groups.
COMPARED = {
    "budget": 50,
    "metrics": ("pa_k_auc", "f1", "roc_auc", "vus_pr"),
    "groups": ("gecco", "msl", "ucr/001"),
}

SETTINGS = ("w/o labels", "pool as normal", "with labels")

#: The alignments of the window-end peers' scores the comparison is made
#: under: their own (each window's score at its last row) and alad's (the
#: mean over the windows covering a row; ``COVERING`` records)
ALIGNMENTS = ("window end", "covering mean")

METRIC_NAMES = {
    "f1": "best F1",
    "f1_pa": "PA-F1",
    "pa_k_auc": "PA%K AUC",
    "roc_auc": "ROC AUC",
    "average_precision": "AP",
    "vus_pr": "VUS-PR",
}


#: what makes two records the same run, measured twice
_RUN_FIELDS = (
    "protocol",
    "task",
    "split",
    "seed",
    "pool_ratio",
    "family",
    "method",
    "params",
    "setting",
    "budget",
)


def current(records) -> list[dict]:
    """The newest record of each run, in the order of the records.

    A rerun after a change of the detector's defaults (its records with
    labels are keyed by them), of the windows it queried (the label peers'
    records are keyed by them) or of a peer's settings adds records beside
    the old ones of the same run; only the newest (by ``time``) speaks for
    it, and a peer's ``--quick`` smoke run never over one made in earnest. A label
    peer's record speaks only while it learnt from windows that a query
    source's newest record names (its ``queries``): one whose rerun on the
    new windows failed or has not run yet is left out rather than compared
    with a detector that asked for other windows. Likewise, in a pool where
    any record scored the evaluation part's two pieces apart
    (``eval_scoring``, :func:`~alad.experiments.labels.split.score_apart`),
    the records that scored them joined are left out until made again. A
    peer's record re-aligned to alad's rule speaks only beside the record of
    the same score file at the window end (:func:`_unpaired_twins`).
    """
    records = list(records)
    newest: dict[str, dict] = {}

    def rank(r: dict) -> tuple:
        # a peer's --quick smoke run never speaks for a real one
        quick = isinstance(r.get("peer"), dict) and bool(r["peer"].get("quick"))
        return (not quick, r.get("time", 0))

    for r in records:
        run = json.dumps([r.get(k) for k in _RUN_FIELDS], sort_keys=True, default=str)
        if run not in newest or rank(r) >= rank(newest[run]):
            newest[run] = r
    # each backbone run as a query source (the peers' task files hold the
    # Transformer's; USAD's runs write their own elsewhere) names its windows
    queried = defaultdict(set)
    for r in newest.values():
        if r.get("family") == "alad" and r.get("queries"):
            queried[_labelled_run(r)].add(r["queries"])
    # the pools whose evaluation part some record scored in pieces apart
    apart = {_pool(r) for r in newest.values() if r.get("eval_scoring")}
    kept = {
        id(r)
        for r in newest.values()
        if (r.get("eval_scoring") or _pool(r) not in apart)
        and (
            r.get("family") != "labels"
            or r.get("queries") in queried.get(_labelled_run(r), {r.get("queries")})
        )
    }
    kept -= _unpaired_twins([r for r in newest.values() if id(r) in kept])
    return [
        r for r in records if id(r) in kept and r.get("method") not in _ROW_ERROR_TWINS
    ]


def _unpaired_twins(records) -> set[int]:
    """The ids of re-aligned records (``COVERING``) whose window-end record
    does not speak, or speaks for another score file (its ``peer`` summary:
    settings, seconds, a ``--quick`` run): each twin reads the same scores
    as the record it stands beside, or none."""

    def run_of(r: dict, method: str) -> str:
        fields = [r.get(k) for k in _RUN_FIELDS if k != "method"]
        return json.dumps([method, r.get("queries"), *fields], default=str)

    plain = {
        run_of(r, r.get("method")): r.get("peer")
        for r in records
        if r.get("family") in ("unsupervised", "labels")
        and not _realigned(r.get("method", ""))
    }
    suffix, alone = COVERING.format(peer=""), object()  # alone: no such record
    return {
        id(r)
        for r in records
        if _realigned(r.get("method", ""))
        and plain.get(run_of(r, r["method"][: -len(suffix)]), alone) != r.get("peer")
    }


def _pool(record: dict) -> tuple:
    """The pool (and so the evaluation part) a record was scored on."""
    return tuple(str(record.get(k)) for k in ("task", "split", "seed", "pool_ratio"))


def _labelled_run(record: dict) -> tuple:
    """What a label peer and the query source share: the pool and the budget."""
    return (*_pool(record), str(record.get("budget")))


def _group(record: dict) -> str:
    """GECCO, MSL (mean over entities), each UCR series, other data sets."""
    return record["task"] if record["dataset"] == "ucr" else record["dataset"]


def _method(record: dict) -> str:
    """The method, with alad's parameters where the run set any: runs of
    other parameters are other lines, never averaged into one."""
    params = record.get("params") or {}
    if record["family"] != "alad" or not params:
        return record["method"]
    given = ",".join(f"{k}={params[k]}" for k in sorted(params))
    return f"{record['method']}[{given}]"


def _label(record: dict) -> str:
    if record["family"] == "alad":
        return f"{_method(record)} {record['setting']}"
    return record["method"]


def curves(records, metric: str) -> dict:
    """``{(split, group): {label: {budget: [value per seed]}}}``.

    A value is the mean over the group's tasks of one seed (MSL: the mean over
    its entities); methods without labels have the budget ``None``.
    """
    per = defaultdict(list)
    for r in current(records):
        if r.get("protocol", "labels") != "labels" or not r.get("metrics"):
            continue
        per[(r["split"], _group(r), _label(r), r["budget"], r["seed"])].append(
            r["metrics"][metric]
        )
    out: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for (split, group, label, budget, _), values in sorted(
        per.items(), key=lambda kv: str(kv[0])
    ):
        out[(split, group)][label][budget].append(float(np.mean(values)))
    return out


def _pool_counts(records) -> dict:
    """``{(split, group): {label: {budget: pools}}}``: how many pools (task
    and seed) stand behind each point of :func:`curves`."""
    out: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for r in current(records):
        if r.get("protocol", "labels") == "labels" and r.get("metrics"):
            out[(r["split"], _group(r))][_label(r)][r["budget"]] += 1
    return out


def _partial_points(counts: dict) -> set[tuple[str, object]]:
    """The (method, budget) points of one data set whose mean rests on fewer
    pools than the most any method has there at that budget: a label peer
    that cannot learn without an anomalous labelled window, or runs not made
    yet (on MSL, a mean over 2 of 81 pools would be drawn as a curve)."""
    most: dict = defaultdict(int)
    for by_budget in counts.values():
        for b, n in by_budget.items():
            most[b] = max(most[b], n)
    return {
        (label, b)
        for label, by_budget in counts.items()
        for b, n in by_budget.items()
        if n < most[b]
    }


def _families(records) -> dict[str, str]:
    return {_label(r): r["family"] for r in records if r.get("family")}


def _mean(values) -> float | None:
    return float(np.mean(values)) if values else None


def _fmt(value, sd=None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if sd is None else f"{value:.3f} ± {sd:.3f}"


def _realigned(label: str) -> bool:
    """A window-end peer's record re-aligned to alad's rule."""
    return label.endswith(COVERING.format(peer=""))


#: Re-aligned twins of the peers that score rows (:data:`ROW_ERROR_PEERS`),
#: made before they were left as they score: no alignment of alad's, not read
_ROW_ERROR_TWINS = frozenset(COVERING.format(peer=peer) for peer in ROW_ERROR_PEERS)


def _compared_labels(methods, alignment: str, runs) -> list[str]:
    """The labels of ``methods`` compared under ``alignment``: every one but
    the re-aligned peers (``"window end"``), or the re-aligned peers in place
    of their window-end records (``"covering mean"``) where they were made
    on the same runs (``runs(label)`` equal for both); otherwise the
    window-end records stay, named as such."""
    if alignment not in ALIGNMENTS:
        raise ValueError(f"alignment must be one of {ALIGNMENTS}; got {alignment!r}.")
    plain = [label for label in methods if not _realigned(label)]
    if alignment == "window end":
        return plain
    out = []
    for label in plain:
        twin = COVERING.format(peer=label)
        out.append(twin if twin in methods and runs(twin) == runs(label) else label)
    return out


def comparison(
    records,
    metric: str,
    budget: int = COMPARED["budget"],
    alignment: str = "window end",
) -> dict:
    """Item 3's numbers of one metric: per (split, group), what to compare.

    ``{(split, group): {"alad": {backbone: (with labels, w/o labels, pool as
    normal)}, "unsupervised": (peer, value), "labels": (peer, value)}}``,
    each value the mean over seeds; the best peer of a family is the one of
    highest mean (peers that take labels at ``budget``). ``"pools"`` maps
    each of these methods to the number of (task, seed) pools its mean is
    over, so that a mean over fewer pools than alad's can be said.
    ``alignment`` picks the window-end peers' records (:data:`ALIGNMENTS`):
    as they score, or re-aligned to alad's rule where those records exist.
    """
    fam = _families(records)
    pools = Counter(
        (r["split"], _group(r), _label(r), r["budget"])
        for r in current(records)
        if r.get("protocol", "labels") == "labels" and r.get("metrics")
    )
    out = {}
    for (split, group), methods in curves(records, metric).items():
        row: dict = {"alad": {}, "unsupervised": None, "labels": None, "pools": {}}

        def runs(label, split=split, group=group, methods=methods):
            return {b: pools[(split, group, label, b)] for b in methods[label]}

        for label in _compared_labels(methods, alignment, runs):
            by_budget = methods[label]
            family = fam.get(label)
            if family == "alad" and label.endswith(" with labels"):
                name = label[: -len(" with labels")]
                row["alad"][name] = (
                    _mean(by_budget.get(budget, [])),
                    _mean(methods.get(f"{name} w/o labels", {}).get(None, [])),
                    _mean(methods.get(f"{name} pool as normal", {}).get(None, [])),
                )
                row["pools"][name] = pools[(split, group, label, budget)]
            elif family in ("unsupervised", "labels"):
                at = None if family == "unsupervised" else budget
                value = _mean(by_budget.get(at, []))
                best = row[family]
                if value is not None and (best is None or value > best[1]):
                    row[family] = (label, value)
                    row["pools"][label] = pools[(split, group, label, at)]
        out[(split, group)] = row
    return out


def _comparison_budget(records) -> int:
    """50 (item 3's budget) when some record has it, else the largest budget."""
    budgets = {r["budget"] for r in records if r.get("budget") is not None}
    if COMPARED["budget"] in budgets or not budgets:
        return COMPARED["budget"]
    return max(budgets)


def _comparison_table(records, split, fmt, alignment: str = "window end") -> str:
    budget = _comparison_budget(records)
    header = [
        "data",
        "metric",
        "alad",
        f"with {budget} labels",
        "windows labelled (anomalous)",
        "w/o labels",
        "pool as normal",
        "best unsupervised peer",
        f"best peer with {budget} labels",
        "labels >= w/o, pool",
        "alad >= both peers",
    ]
    groups = sorted(
        {_group(r) for r in records if r.get("split") == split},
        key=lambda g: (g not in COMPARED["groups"], g),
    )
    # a pool may hold fewer windows than the budget (MSL: 10 to 61 at 50 %)
    spent = defaultdict(list)
    for r in records:
        if r.get("family") == "alad" and r.get("budget") == budget:
            spent[(_group(r), _method(r))].append(
                (r.get("n_labelled", 0), r.get("n_anomalous_windows", 0))
            )
    body = []
    for metric in COMPARED["metrics"]:
        table = comparison(records, metric, budget, alignment)
        for group in groups:
            row = table.get((split, group))
            if row is None:
                continue
            unsup, lab = row["unsupervised"], row["labels"]
            for name, (w, wo, pool) in sorted(row["alad"].items()):
                ok_self = (
                    "-"
                    if w is None or wo is None or pool is None
                    else ("yes" if w >= wo and w >= pool else "**no**")
                )
                peers = [p[1] for p in (unsup, lab) if p is not None]
                ok_peers = (
                    "-"
                    if w is None or not peers
                    else ("yes" if all(w >= p for p in peers) else "**no**")
                )
                n = (
                    np.mean(spent[(group, name)], axis=0)
                    if spent[(group, name)]
                    else None
                )
                body.append(
                    [
                        group,
                        METRIC_NAMES[metric],
                        name,
                        _fmt(w),
                        "-" if n is None else f"{n[0]:.1f} ({n[1]:.1f})",
                        _fmt(wo),
                        _fmt(pool),
                        _peer_cell(unsup, row["pools"], row["pools"].get(name)),
                        _peer_cell(lab, row["pools"], row["pools"].get(name)),
                        ok_self,
                        ok_peers,
                    ]
                )
    title = f"At {budget} labelled windows, split {split!r} (means over seeds)"
    if alignment != "window end":
        title += (
            "; the peers that score windows given alad's alignment (each "
            "window's score spread over its rows, a row's the mean, as alad "
            "averages its windows)"
        )
    return render_table(header, body, fmt, title=title)


def _peer_cell(best, pools: dict, alad_pools: int | None) -> str:
    """A best peer and its mean, with its pools where alad's mean has more
    (a peer that cannot run where the labels hold no anomaly, or failed)."""
    if best is None:
        return "-"
    cell = f"{best[0]} {best[1]:.3f}"
    n = pools.get(best[0])
    if alad_pools and n is not None and n < alad_pools:
        cell += f" ({n}/{alad_pools} pools)"
    return cell


def _curve_table(records, split, metric, fmt) -> str:
    budgets = sorted(
        {r["budget"] for r in records if r.get("budget") is not None} | {0}
    )
    header = ["data", "method", "no labels", *[str(b) for b in budgets]]
    body = []
    for (s, group), methods in sorted(curves(records, metric).items()):
        if s != split:
            continue
        for label, by_budget in sorted(methods.items()):
            flat = by_budget.get(None)
            cells = [
                _fmt(_mean(by_budget[b]), np.std(by_budget[b]))
                if b in by_budget
                else "-"
                for b in budgets
            ]
            body.append(
                [group, label, _fmt(_mean(flat), np.std(flat)) if flat else "-"] + cells
            )
    title = f"{METRIC_NAMES[metric]} against labelled windows, split {split!r}"
    return render_table(header, body, fmt, title=title)


def _labelled_table(records, split, fmt) -> str:
    """Windows really labelled at each budget: a pool may hold fewer (MSL)."""
    spent = defaultdict(lambda: defaultdict(list))
    ratios = defaultdict(set)
    for r in records:
        if (
            r.get("family") == "alad"
            and r.get("split") == split
            and r.get("budget")
            and "n_labelled" in r
        ):
            key = (_group(r), _method(r))
            spent[key][r["budget"]].append(int(r["n_labelled"]))
            if r.get("pool_ratio") is not None:
                ratios[key].add(r["pool_ratio"])
    budgets = sorted({b for by in spent.values() for b in by})
    header = ["data", "alad", "pool ratio", *[str(b) for b in budgets]]
    body = []
    for key, by in sorted(spent.items()):
        cells = []
        for b in budgets:
            n = by.get(b)
            if not n:
                cells.append("-")
            elif min(n) == max(n):
                cells.append(str(n[0]))
            else:
                cells.append(f"{np.mean(n):.1f} ({min(n)}-{max(n)})")
        pool = ", ".join(f"{x:g}" for x in sorted(ratios[key])) or "-"
        body.append([*key, pool, *cells])
    title = (
        f"Windows really labelled at each budget, split {split!r} "
        "(mean, min-max over tasks and seeds)"
    )
    return render_table(header, body, fmt, title=title)


def _runs_table(records, split, fmt) -> str:
    """How many (task, seed) pools each method was scored on, per budget.

    The means of the other tables are over the runs that exist: a peer run
    on a few entities or at one budget only, or one that failed on some
    (TSB-AD's on MSL T-9), is averaged over fewer pools than the detector
    it is compared with. This table shows it, each cell ``runs/pools``.
    """
    pools = defaultdict(set)
    runs = defaultdict(lambda: defaultdict(set))
    for r in records:
        if r.get("split") != split:
            continue
        group, pool = _group(r), (r["task"], r["seed"])
        pools[group].add(pool)
        if r.get("metrics"):
            runs[(group, _label(r))][r.get("budget")].add(pool)
    budgets = sorted({b for by in runs.values() for b in by if b is not None})
    header = ["data", "method", "no labels", *[str(b) for b in budgets]]
    body = []
    for (group, label), by in sorted(runs.items()):
        total = len(pools[group])
        cells = [f"{len(by[b])}/{total}" if b in by else "-" for b in (None, *budgets)]
        body.append([group, label, *cells])
    title = (
        f"Runs behind the means, split {split!r} "
        "(scored (task, seed) pools / pools of the data set)"
    )
    return render_table(header, body, fmt, title=title)


def _split_notes(records, split) -> str:
    seen = {}
    for r in records:
        if r.get("split") == split and "rule" in r:
            seen[(r["task"], r["seed"])] = (
                r["rule"],
                r["pool_anomalous_rows"],
                # no metric: the evaluation part holds one class only (no
                # anomalous row, or, rarer, no normal row)
                r["eval_anomalous_rows"] if r.get("metrics") is not None else 0,
            )
    rules = defaultdict(int)
    for rule, _in_pool, _ in seen.values():
        rules[rule] += 1
    empty = sum(1 for _, pool, _ in seen.values() if pool == 0)
    unscored = sum(1 for _, _, ev in seen.values() if ev == 0)
    parts = ", ".join(f"{n} by rule {rule!r}" for rule, n in sorted(rules.items()))
    ratios = defaultdict(set)
    for r in records:
        if r.get("split") == split and r.get("pool_ratio") is not None:
            ratios[_group(r)].add(r["pool_ratio"])
    apart = {
        _pool(r) for r in records if r.get("split") == split and r.get("eval_scoring")
    }
    mixed = "; ".join(
        f"{group} ({', '.join(f'{x:g}' for x in sorted(found))})"
        for group, found in sorted(ratios.items())
        if len(found) > 1
    )
    return (
        f"Split {split!r}: {len(seen)} (task, seed) pools, {parts}; "
        f"{empty} without any anomalous row."
        + (
            f" {unscored} evaluation part(s) without any anomalous row (or "
            "without any normal row): not scored, left out of the means."
            if unscored
            else ""
        )
        + (
            f" Records of several pool ratios, averaged together: {mixed}."
            if mixed
            else ""
        )
        + (
            f" {len(apart)} pool(s) inside the test series scored in their two "
            "pieces apart; the others' records scored the evaluation part in "
            "one piece, or joined (made before 2026-12-07)."
            if apart
            else ""
        )
    )


def format_report(records, labels=None, fmt: str = "markdown") -> str:
    """Item 3's comparison at 50 windows, the windows really labelled, the runs
    behind the means, every metric."""
    records = current(r for r in records if r.get("protocol", "labels") == "labels")
    parts = []
    for split in SPLITS:
        mine = [r for r in records if r.get("split") == split]
        if not mine:
            continue
        parts.append(_split_notes(mine, split))
        parts.append(_comparison_table(mine, split, fmt))
        if any(_realigned(r.get("method", "")) for r in mine):
            parts.append(_comparison_table(mine, split, fmt, "covering mean"))
        if any(r.get("budget") and "n_labelled" in r for r in mine):
            parts.append(_labelled_table(mine, split, fmt))
        parts.append(_runs_table(mine, split, fmt))
        for metric in METRIC_NAMES:
            if any(r.get("metrics") and metric in r["metrics"] for r in mine):
                parts.append(_curve_table(mine, split, metric, fmt))
    return "\n\n".join(parts)


def pooled_curves(data: dict) -> dict:
    """The mean over data sets of each method's curve, where every data set has it.

    ``data`` maps a data set to ``{method: {budget: values}}`` (as
    :func:`curves` gives per split). A point is the mean of the data sets'
    means, kept only for a (method, budget) that every data set holds: a mean
    over fewer data sets would move with the data sets it lacks, not with
    the labels (a peer run on one data set at one budget only would jump
    there).
    """
    pooled: dict = defaultdict(dict)
    shared = None
    for methods in data.values():
        keys = {(label, b) for label, by_budget in methods.items() for b in by_budget}
        shared = keys if shared is None else shared & keys
    for label, b in shared or ():
        pooled[label][b] = [float(np.mean(m[label][b])) for m in data.values()]
    return dict(pooled)


def save_figures(records, out_dir, metrics=None) -> list[Path]:
    """Metric against labelled windows: one figure per split and metric.

    One panel per data set (MSL: the mean over its entities) and one pooled
    (:func:`pooled_curves`: the mean over the data sets, for the methods and
    budgets that every data set has); lines are means over seeds. Methods without
    labels are horizontal lines (dashed: peers; dotted: alad w/o labels and
    pool as normal). A hollow point is a mean over fewer pools than the most
    any method has at that budget (:func:`_partial_points`; in the pooled
    panel, where it is so in any data set): the tables say how many.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from ...plotting import closing_new_figures

    records = current(r for r in records if r.get("protocol", "labels") == "labels")
    counts = _pool_counts(records)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fam = _families(records)
    # one colour per method, the same in every panel and figure
    palette = plt.get_cmap("tab20").colors
    drawn = sorted(label for label in fam if not _realigned(label))
    colour = {label: palette[i % len(palette)] for i, label in enumerate(drawn)}
    paths = []
    # the backend is the caller's (the command line's is Agg); a failure
    # leaves no figure of ours open
    with closing_new_figures():
        for split in SPLITS:
            for metric in metrics or COMPARED["metrics"]:
                # the re-aligned peers stay in the tables: twice as many lines
                # would hide the curves
                data = {
                    g: {label: c for label, c in m.items() if not _realigned(label)}
                    for (s, g), m in curves(records, metric).items()
                    if s == split
                }
                if not data:
                    continue
                panels = [*sorted(data.items()), ("pooled", pooled_curves(data))]
                partial = {g: _partial_points(counts[(split, g)]) for g in data}
                partial["pooled"] = set().union(*partial.values())
                width = 4 * len(panels) + 2  # and the legend beside the panels
                fig, axes = plt.subplots(
                    1, len(panels), figsize=(width, 3.6), squeeze=False
                )
                budgets = sorted(
                    {
                        b
                        for m in data.values()
                        for bb in m.values()
                        for b in bb
                        if b is not None
                    }
                )
                for ax, (group, methods) in zip(axes[0], panels):
                    for label, by_budget in sorted(methods.items()):
                        family = fam.get(label, "")
                        if None in by_budget:
                            ax.axhline(
                                np.mean(by_budget[None]),
                                ls=":" if family == "alad" else "--",
                                lw=1.5 if family == "alad" else 1,
                                color=colour.get(label),
                                label=label,
                            )
                        xs = [b for b in budgets if b in by_budget]
                        if xs:
                            ys = [np.mean(by_budget[b]) for b in xs]
                            ax.plot(
                                xs,
                                ys,
                                marker="o",
                                lw=2 if family == "alad" else 1,
                                color=colour.get(label),
                                label=label,
                            )
                            few = [(label, b) in partial[group] for b in xs]
                            if any(few):
                                ax.plot(
                                    np.asarray(xs)[few],
                                    np.asarray(ys)[few],
                                    ls="none",
                                    marker="o",
                                    markerfacecolor="white",
                                    color=colour.get(label),
                                )
                    ax.set_title(group)
                    ax.set_xlabel("labelled windows")
                axes[0][0].set_ylabel(METRIC_NAMES[metric])
                handles, labels_ = axes[0][-1].get_legend_handles_labels()
                if any(partial.values()):
                    hollow = Line2D(
                        [],
                        [],
                        ls="none",
                        marker="o",
                        color="grey",
                        markerfacecolor="white",
                    )
                    handles.append(hollow)
                    labels_.append("hollow: over fewer pools")
                axes[0][-1].legend(
                    handles,
                    labels_,
                    fontsize=6,
                    loc="center left",
                    bbox_to_anchor=(1, 0.5),
                )
                fig.tight_layout()
                path = out_dir / f"labels_{split}_{metric}.png"
                save_figure(fig, path, dpi=120)
                plt.close(fig)
                paths.append(path)
    return paths
