"""The runs: alad's three settings, the peers' score files, and the jobs.

For each task, split and seed: each backbone of
:class:`~alad.ActiveReconstructionDetector` w/o labels, with the pool as
normal and with labels up to each budget (:func:`_run_alad`), the first
backbone's queries written to the task file; then the peers' command, if any;
then the peers' score files found, scored here (:func:`_run_peers`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import numbers
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from ..engine import Job, check_params, record_key
from ..store import atomic_write
from ..tasks import DATASETS, Task, load_all_tasks
from .exchange import (
    LABEL_PEERS,
    ROW_ERROR_PEERS,
    UNSUPERVISED_PEERS,
    WINDOW_END_PEERS,
    covering_from_window_end,
    peer_stride,
    peer_window,
    read_task_file,
    score_path,
    task_file,
    task_id,
    write_task_file,
)
from .split import (
    EVAL_SCORING,
    POOL_RATIO,
    SPLITS,
    LabelSplit,
    make_label_split,
    pool_ratio_of,
    pool_ratios,
    pool_rows,
)

__all__ = ["BUDGETS", "COVERING", "jobs"]

#: Labelled windows at which every method is scored.
BUDGETS = (0, 10, 25, 50, 100)


#: feedback parameters added after records were made, and the value the
#: detector behaved as before them: in a key only when set to another, so
#: that the records made before them keep their keys
_KEYED_WHEN_SET = {
    "feedback_batch_size": None,
    "scale_with_labels": False,
    "feedback_min_anomalous": 0,
    "feedback_start": "current",
}


def _evaluate(y_true, scores) -> dict[str, float] | None:
    from ...metrics import detection_report

    y_true = np.asarray(y_true)
    if y_true.min() == y_true.max():
        return None
    report = detection_report(y_true, np.asarray(scores, dtype=np.float64))
    # six decimals are far below seed noise and halve the records' size
    return {
        name: round(float(value), 6) if value is not None else None
        for name, value in report.items()
    }


def peer_summary(info: dict) -> dict:
    """What a record keeps of a peer's score-file metadata.

    The task's fields (``task_meta``), the peer's name and budget are the
    record's own, and how its scores are aligned is a constant of the peer
    (``ALIGNMENT`` in ``benchmarks/peers/run_peers.py``, documented in
    ``docs/label_efficiency.rst``); the package versions become one short
    string, as they repeat in every record.
    """
    dropped = ("task_meta", "versions", "alignment", "peer", "budget")
    summary = {k: v for k, v in info.items() if k not in dropped}
    versions = info.get("versions")
    if isinstance(versions, dict):
        summary["versions"] = ", ".join(f"{k} {v}" for k, v in versions.items())
    return summary


def _save_scores(path: Path, scores) -> None:
    atomic_write(path, lambda f: np.save(f, np.asarray(scores, np.float32)), "wb")


def _windows_of(idx: np.ndarray, window_size: int) -> int:
    return len(idx) // window_size


def _anomalous_windows(y_pool, idx, window_size) -> int:
    if len(idx) == 0:
        return 0
    return int(np.asarray(y_pool)[idx].reshape(-1, window_size).max(axis=1).sum())


def _retire_other_pool(
    work: Path, tid: str, seed: int, split: LabelSplit, digest: str | None
) -> None:
    """Set aside a task file and score files made for another pool or data.

    A task file's folder names the task, split and seed, not the pool nor
    the data: a run at another pool ratio, or on a series file whose
    contents changed (``digest``, :class:`~alad.experiments.tasks.Task`),
    finds the files of the earlier one, which the peers' runner would take
    for done. Renamed (nothing is deleted) to
    ``tasks/<task>/seed<k>.npz.<tag>`` and ``scores/<task>/seed<k>.<tag>/``,
    which nothing reads; the tag is ``pool<start>-<stop>`` or ``data<digest>``.
    """
    path = task_file(work, tid, seed)
    if not path.exists():
        return
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
    rows, data_was = meta["pool_rows"], meta.get("data")
    if data_was != digest:
        tag, why = f"data{data_was}", "the series file's contents changed"
    elif rows != [split.start, split.stop]:
        tag = f"pool{rows[0]}-{rows[1]}"
        now = f"{split.start}-{split.stop}"
        why = f"the pool is now rows {now}, not {rows[0]}-{rows[1]}"
    else:
        return
    scores = score_path(work, tid, seed, "x").parent
    moved = [path.rename(path.with_name(f"{path.name}.{tag}"))]
    if scores.exists():
        moved.append(scores.rename(scores.with_name(f"{scores.name}.{tag}")))
    print(
        f"{tid} seed {seed}: {why}; set aside: " + ", ".join(map(str, moved)),
        file=sys.stderr,
    )


def _retire_label_peers_of_other_queries(
    work: Path, tid: str, seed: int, queries: dict[int, np.ndarray]
) -> None:
    """Set aside the label peers' score files made from other queries.

    The peers that take labels learn from the windows in the task file; when
    a rerun queries other windows (other defaults of the detector), their
    score files no longer match it and would be taken for done. Renamed into
    ``scores/<task>/seed<k>.other-queries/`` (nothing is deleted).
    """
    path = task_file(work, tid, seed)
    if not path.exists():
        return
    with np.load(path) as data:
        same = all(
            f"idx_b{b}" in data.files and np.array_equal(data[f"idx_b{b}"], idx)
            for b, idx in queries.items()
        )
    folder = score_path(work, tid, seed, "x").parent
    if same or not folder.exists():
        return
    aside = folder.with_name(f"{folder.name}.other-queries")
    moved = []
    for peer in LABEL_PEERS:
        for old in sorted(folder.glob(f"{peer}_b*.*")):
            aside.mkdir(exist_ok=True)
            moved.append(old.rename(aside / old.name))
    if moved:
        print(
            f"{tid} seed {seed}: the queries changed; the label peers' score files "
            f"made from the earlier ones are set aside in {aside}",
            file=sys.stderr,
        )


def _run_alad(
    task: Task,
    split: LabelSplit,
    *,
    backbone: str,
    seed: int,
    params: dict,
    budgets: tuple[int, ...],
    base: dict,
    work: Path,
    tid: str,
    query_source: bool,
    done: set[str],
) -> Iterator[dict]:
    """The records of one backbone: w/o labels, pool as normal, with labels."""
    from ...active import run_active_learning
    from ...detectors import ActiveReconstructionDetector
    from ...detectors.active_reconstruction import AUTO_WINDOW

    base = {**base, "family": "alad", "method": f"alad:{backbone}", "params": params}
    # the learning from labels changes with the detector's feedback defaults
    # (score_head, feedback_steps, ...): its records' keys hold them, so that
    # a rerun after a change of defaults makes them again
    detector = ActiveReconstructionDetector(backbone=backbone, **params)
    defaults = detector.get_params()
    # ("auto" keyed as what it resolves to on this series)
    n_channels = task.X_train.shape[-1]
    resolved = {
        "feedback_min_anomalous": detector._min_anomalous_windows(n_channels),
        "feedback_start": detector._feedback_start(n_channels),
    }
    feedback = {
        name: value
        for name, value in {**defaults, **resolved}.items()
        if name in ActiveReconstructionDetector._feedback_params
        and not (name in _KEYED_WHEN_SET and value == _KEYED_WHEN_SET[name])
    }
    # ... and every record with the score (channel_score); the records made
    # before it existed scored with Eq. 4's mean and keep their keys
    scoring = (
        ()
        if defaults["channel_score"] == "mean"
        else ({"channel_score": defaults["channel_score"]},)
    )
    # ... and with the windows' step where stride="auto" overlaps them (a
    # univariate series); non-overlapping windows keep the earlier keys
    window, stride = detector._resolved_geometry(task.X_train)
    if defaults["stride"] == "auto" and stride != window:
        scoring = (*scoring, {"stride": stride})
    # ... and with the window where window_size="auto" resolves it to a
    # period; where it resolves to the former fixed default, the keys stay
    if defaults["window_size"] == "auto" and window != AUTO_WINDOW:
        scoring = (*scoring, {"window_size": window})
    # ... and with the width the scores are smoothed over, where they are (a
    # univariate series, by default); the records made before it kept theirs
    widths = detector._smoothing_widths(window, task.X_train.shape[-1])
    if widths:
        scoring = (*scoring, {"score_smoothing": list(widths)})
    # ... and with the span its scores are detrended over, where a piece of
    # the evaluation part (each is scored on its own) is long enough to show
    # its trend; a shorter one is only shifted by a constant (the training
    # scores' median), and where all are, the records keep their keys
    span = defaults["score_detrend"]
    if span is not None and max(split.seam, len(split.X_eval) - split.seam) >= span:
        scoring = (*scoring, {"score_detrend": span})

    # ... and with how the evaluation part is scored, where the pool is
    # inside the test series: its two pieces apart (split.score); the records
    # that scored them joined keep their keys and give way to these
    if split.has_seam:
        scoring = (*scoring, {"eval": EVAL_SCORING})
        base = {**base, "eval_scoring": EVAL_SCORING}

    def key(setting, budget=None):
        if setting == "with labels":
            # rounds never cross a budget, so the windows queried up to one
            # depend on the budgets below it: said where they are not the
            # default's (whose records keep their keys)
            below = tuple(b for b in sorted(budgets) if 0 < b < budget)
            schedule = () if below == _default_below(budget) else ({"below": below},)
            return record_key(base, setting, budget, feedback, *scoring, *schedule)
        return record_key(base, setting, budget, *scoring)

    def record(setting, budget, detector, seconds, extra=None):
        scores = split.score(detector.decision_function, detector.window_size_)
        name = f"alad-{backbone}-{setting.replace(' ', '-').replace('/', '')}"
        _save_scores(score_path(work, tid, base["seed"], name, budget), scores)
        return {
            **base,
            "key": key(setting, budget),
            "setting": setting,
            "budget": budget,
            "metrics": _evaluate(split.y_eval, scores),
            "seconds": seconds,
            **(extra or {}),
        }

    def fit(X):
        start = time.perf_counter()
        det = ActiveReconstructionDetector(
            backbone=backbone, random_state=seed, **params
        ).fit(X)
        return det, time.perf_counter() - start

    if query_source:
        _retire_other_pool(work, tid, seed, split, task.digest)
    labelled = [b for b in budgets if b > 0]
    need_curve = any(key("with labels", b) not in done for b in budgets) or (
        query_source and not task_file(work, tid, seed).exists()
    )
    if key("w/o labels") not in done or need_curve:
        plain, seconds = fit(task.X_train)
        if key("w/o labels") not in done:
            yield record("w/o labels", None, plain, seconds)
    if key("pool as normal") not in done:
        pooled, seconds = fit(np.concatenate([task.X_train, split.X_pool]))
        yield record("pool as normal", None, pooled, seconds)
    if not need_curve:
        return
    W = plain.window_size_
    detector = copy.deepcopy(plain)
    known = np.full(len(split.y_pool), np.nan)
    made, spent, seconds = [], 0, 0.0
    queries = {0: np.zeros(0, dtype=np.int64)}
    if 0 in budgets:
        made.append(("with labels", 0, 0.0, queries[0]))
    for budget in labelled:
        start = time.perf_counter()
        if budget > spent:
            # the loop runs to each budget in turn, on the same detector: a
            # round never crosses a budget (10 -> 25 is a round of 10 and one
            # of 5); windows labelled before are never asked again
            result = run_active_learning(
                detector, split.X_pool, split.y_pool, budget=budget - spent
            )
            new = ~np.isnan(result.known)
            known[new] = result.known[new]
            spent += result.history[-1]["n_labelled"]
        seconds += time.perf_counter() - start
        queries[budget] = np.flatnonzero(~np.isnan(known))
        # a snapshot of the detector at this budget is its scores now
        made.append(("with labels", budget, seconds, queries[budget]))
        made[-1] = (*made[-1], split.score(detector.decision_function, W))
    if query_source:
        _retire_label_peers_of_other_queries(work, tid, seed, queries)
        write_task_file(
            task_file(work, tid, seed),
            task,
            split,
            seed,
            queries,
            window_size=W,
            query_source=f"alad:{backbone}",
            score_stride=plain.score_stride_,
        )
    for entry in made:
        setting, budget, secs, idx = entry[:4]
        if key(setting, budget) in done:
            continue
        if len(entry) == 4:
            scores = split.score(plain.decision_function, W)
        else:
            scores = entry[4]
        name = f"alad-{backbone}-with-labels"
        _save_scores(score_path(work, tid, seed, name, budget), scores)
        # the query source's records name the windows it queried, so that the
        # report can leave out label peers' records learnt from other ones
        yield {
            **base,
            "key": key(setting, budget),
            "setting": setting,
            "budget": budget,
            **({"queries": digest_of_rows(idx)} if query_source and budget else {}),
            "n_labelled": _windows_of(idx, W),
            "n_anomalous_windows": _anomalous_windows(split.y_pool, idx, W),
            "metrics": _evaluate(split.y_eval, scores),
            "seconds": secs,
        }


def _peer_runs(peers, budgets):
    for peer in peers:
        if peer in LABEL_PEERS:
            yield from ((peer, b) for b in budgets if b > 0)
        else:
            yield peer, None


def queries_digest(work: Path, tid: str, seed: int, budget: int) -> str | None:
    """A short hash of the rows alad queried at ``budget`` (None: no task file).

    What a label-taking peer learnt from: its records are keyed by it, so
    that after a change of the queries (other defaults of the detector) its
    new score files are scored again instead of being taken for done.
    """
    path = task_file(work, tid, seed)
    if not path.exists():
        return None
    with np.load(path) as data:
        name = f"idx_b{budget}"
        if name not in data.files:
            return None
        return digest_of_rows(data[name])


def digest_of_rows(idx) -> str:
    """The short hash :func:`queries_digest` gives the queried rows ``idx``."""
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    return hashlib.sha1(idx.tobytes()).hexdigest()[:12]


def _read_peer_scores(path: Path, shape: tuple) -> tuple[str, np.ndarray | None, dict]:
    """A peer's scores and the ``.json`` beside them, or why they are refused.

    Refused (the reason, a non-empty string): a file that is no NumPy array
    (a runner stopped while writing it), scores of another length than the
    evaluation part or not finite, a ``.json`` that is no JSON object.
    """
    try:
        scores = np.load(path, allow_pickle=False)
        scores = np.asarray(scores, dtype=np.float64)
    except (OSError, EOFError, ValueError, TypeError):
        return "not a NumPy array of scores", None, {}
    if scores.shape != shape:
        return f"{len(scores)} scores for {shape[0]} timesteps", None, {}
    if not np.isfinite(scores).all():
        return "scores not finite", None, {}
    meta = path.with_suffix(".json")
    try:
        info = json.loads(meta.read_text()) if meta.exists() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        info = None
    if not isinstance(info, dict):
        return f"{meta.name} is not a JSON object; run the peer again", None, {}
    return "", scores, info


def _made_with(info) -> dict | None:
    """The settings a peer's scores were made with: ``settings`` and ``quick``
    of its metadata (a score file's JSON, or a record's ``peer``); None when
    there is none to read."""
    if not isinstance(info, dict):
        return None
    made = {"settings": info.get("settings", {}), "quick": bool(info.get("quick"))}
    # how the evaluation part was scored, where the peer says (pieces apart)
    if info.get("eval_scoring"):
        made["eval_scoring"] = info["eval_scoring"]
    return made


def _score_file_info(path: Path) -> dict | None:
    """The JSON metadata beside a score file, or None."""
    try:
        return json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return None


def _newest_of_run(records, fields: dict, budget) -> dict | None:
    """The newest of ``records`` of the peer run that ``fields`` and
    ``budget`` name, whatever settings keyed it."""
    same = [
        r
        for r in records
        if r.get("budget") == budget and all(r.get(k) == v for k, v in fields.items())
    ]
    return max(same, key=lambda r: r.get("time", 0), default=None)


#: the method name of a window-end peer's records re-aligned to alad's rule
COVERING = "{peer} (covering mean)"


def _task_window(info: dict, work: Path, tid: str, seed: int) -> int | None:
    """alad's window (what ExtraTrees' features span): the one of the task
    file the score file was made from, else the task file's now."""
    meta = info.get("task_meta")
    if isinstance(meta, dict) and isinstance(meta.get("window_size"), int):
        return meta["window_size"]
    try:
        with np.load(task_file(work, tid, seed)) as data:
            return int(json.loads(str(data["meta"]))["window_size"])
    except (OSError, KeyError, ValueError):
        return None


def _default_below(budget) -> tuple | None:
    """The budgets of the default schedule (:data:`BUDGETS`) below ``budget``,
    or None where ``budget`` is not one of its own."""
    if budget not in BUDGETS:
        return None
    return tuple(b for b in BUDGETS if 0 < b < budget)


def _task_scoring(info: dict, work: Path, tid: str, seed: int):
    """alad's window and scoring step on the task, ``(window, step)``: the
    task file's, else (task files written before it was recorded) those the
    defaults take on its training part; None where they are not the task's
    window."""
    meta = info.get("task_meta")
    if not (isinstance(meta, dict) and "score_stride" in meta):
        try:
            data = read_task_file(task_file(work, tid, seed))
        except (OSError, KeyError, ValueError):
            return None
        meta = data["meta"]
    window = meta.get("window_size")
    if "score_stride" in meta:
        return int(window), int(meta["score_stride"])
    from ...detectors import ActiveReconstructionDetector

    defaults = ActiveReconstructionDetector()
    resolved, stride = defaults._resolved_geometry(np.asarray(data["X_train"]))
    if resolved != window:
        return None
    return int(window), int(defaults.score_stride or stride)


def _key_to_record(
    fields: dict, budget, path: Path, pool: list[dict], done
) -> str | None:
    """The key a record of the score file at ``path`` gets, None when done.

    A key that is done is done unless the score file was made again with
    other settings (``--force``, another ``--max-epochs`` or ``--set``, a
    ``--quick`` smoke run) than the run's newest record: then a record of its
    own, keyed by them (or the first key's again, when they are its), which
    becomes the newest.
    """
    key = record_key(fields, "peer", budget)
    if key not in done:
        return key
    # done maps keys to records in the engine (a set of keys elsewhere)
    newest = _newest_of_run(pool, fields, budget)
    made = _made_with(_score_file_info(path))
    recorded = _made_with(newest.get("peer") if newest else None)
    if made is None or recorded is None or made == recorded:
        return None
    if made != _made_with(done[key].get("peer")):
        key = record_key({**fields, "made_with": made}, "peer", budget)
    return key


def _run_peers(
    split: LabelSplit,
    *,
    peers: tuple[str, ...],
    budgets: tuple[int, ...],
    base: dict,
    work: Path,
    tid: str,
    done: set[str],
    missing: list[str],
) -> Iterator[dict]:
    """Records of the peers' score files that exist; the others are listed.

    A peer that puts each window's score at the window's last row
    (:data:`WINDOW_END_PEERS`) gets a second record, its scores re-aligned
    to alad's rule (:func:`covering_from_window_end`; method
    ``"<peer> (covering mean)"``, ``alignment`` in the record), so that
    every method can be compared under one alignment.
    """
    # this pool's records, when done maps keys to records (the engine's);
    # with keys only, a score file whose key is done is taken as done
    pool = [
        r
        for r in (done.values() if hasattr(done, "values") else ())
        if all(r.get(k) == base[k] for k in ("task", "split", "seed"))
    ]
    for peer, budget in _peer_runs(peers, budgets):
        family = "labels" if peer in LABEL_PEERS else "unsupervised"
        fields = {**base, "family": family, "method": peer}
        if peer in LABEL_PEERS:
            fields["queries"] = queries_digest(work, tid, base["seed"], budget)
        path = score_path(work, tid, base["seed"], peer, budget)
        if split.has_seam and path.exists():
            info = _score_file_info(path)
            if isinstance(info, dict) and not info.get("eval_scoring"):
                # made before the pieces were scored apart: the report would
                # leave its record out beside alad's; said, not scored
                missing.append(
                    f"{path} (scored the evaluation part joined: run the peers again)"
                )
                continue
        runs = [(fields, None)]
        if peer in WINDOW_END_PEERS and peer not in ROW_ERROR_PEERS:
            runs.append(({**fields, "method": COVERING.format(peer=peer)}, "covering"))
        runs = [
            (key, these, how)
            for these, how in runs
            if (key := _key_to_record(these, budget, path, pool, done)) is not None
        ]
        if not runs or (not path.exists() and runs[0][2] is not None):
            # done; or only the re-aligned record is left to make, and the
            # score file it needs is gone (records merged from elsewhere)
            continue
        if not path.exists():
            err = path.with_suffix(".err")
            why = err.read_text().strip().splitlines()[-1] if err.exists() else ""
            missing.append(f"{path}" + (f" (failed: {why})" if why else ""))
            continue
        refused, scores, info = _read_peer_scores(path, split.y_eval.shape)
        if refused:
            missing.append(f"{path} (refused: {refused})")
            continue
        for key, these, how in runs:
            extra = {}
            if how == "covering":
                window = peer_window(
                    peer, info, _task_window(info, work, tid, base["seed"])
                )
                if window is None:
                    missing.append(f"{path} (no window to re-align by)")
                    continue
                scoring = _task_scoring(info, work, tid, base["seed"])
                if scoring is None:
                    missing.append(f"{path} (alad's scoring step unknown)")
                    continue
                stride = peer_stride(window, *scoring)
                seam = split.seam if info.get("eval_scoring") else 0
                scores_now = covering_from_window_end(scores, window, seam, stride)
                extra = {
                    "alignment": "covering mean",
                    "window": window,
                    "stride": stride,
                }
            else:
                scores_now = scores
            record = {
                **these,
                "key": key,
                "setting": "with labels" if budget is not None else "w/o labels",
                "budget": budget,
                "metrics": _evaluate(split.y_eval, scores_now),
                "seconds": info.get("seconds"),
                "peer": peer_summary(info),
                **extra,
            }
            if info.get("eval_scoring"):
                record["eval_scoring"] = info["eval_scoring"]
            yield record


def _check_measurable(tasks) -> None:
    """Refuse now a task whose test part holds no anomalous row, or no normal
    one: every metric of the benchmark (F1, PA%K, ROC AUC, VUS) is undefined
    there, and its runs would fit every detector for records without
    figures."""
    for task in tasks:
        anomalous = int(np.sum(task.y_test))
        if anomalous in (0, len(task.y_test)):
            kind = "no anomalous row (label 1)" if not anomalous else "no normal row"
            raise ValueError(
                f"{task.name}: its test part ({len(task.y_test)} rows) holds "
                f"{kind}, so no detector can be measured on it; the label "
                "benchmark needs both in the test part."
            )


def _check_windows_fit(tasks, splits, ratios, params) -> None:
    """Refuse now a task whose training part or pool holds no whole window.

    Its runs would fail at the first ``fit`` or ``query``, after the runs
    before them, with a traceback: said here, before anything is trained.
    """
    from ...detectors import ActiveReconstructionDetector

    window = params.get("window_size", ActiveReconstructionDetector().window_size)
    if not isinstance(window, numbers.Integral):
        return  # "auto": a period found in each series, at most its length
    for task in tasks:
        if len(task.X_train) < window:
            raise ValueError(
                f"{task.name}: its training part holds {len(task.X_train)} rows, "
                f"fewer than one window of {window} (window_size in --params)."
            )
        for kind in splits:
            ratio = pool_ratio_of(ratios, task, kind)
            pool = pool_rows(task, ratio)
            if pool < window or pool == len(task.y_test):
                raise ValueError(
                    f"{task.name}: the {kind!r} split's pool ({ratio:.0%} of "
                    f"{len(task.y_test)} test rows: {pool}) holds no window of "
                    f"{window} rows with an evaluation part beside it; give "
                    f"--pool-ratio {task.dataset}=R, another --split, or a "
                    "smaller window_size in --params."
                )


def jobs(
    datasets: list,
    *,
    backbones: list[str] = ("transformer",),
    splits: tuple[str, ...] = SPLITS,
    seeds: list[int] = (0, 1, 2),
    budgets: tuple[int, ...] = BUDGETS,
    pool_ratio: float | Mapping[str, float] = POOL_RATIO,
    params: dict | None = None,
    peers: tuple[str, ...] = UNSUPERVISED_PEERS + LABEL_PEERS,
    peer_command: str | None = None,
    work: str | Path = "alad_output/labels.work",
    data_home=None,
) -> list[Job]:
    """The jobs of the label-efficiency benchmark.

    Parameters
    ----------
    datasets : list of str or Task
        Data-set specs of :func:`~alad.experiments.tasks.load_tasks`
        (``"gecco"``, ``"msl"``, ``"ucr:1"``), or tasks.
    backbones : list of str
        Backbones of :class:`~alad.ActiveReconstructionDetector`; the first
        one's queries go to the task files (the windows the peers that take
        labels are fed).
    splits : tuple of str
        Among :data:`SPLITS`.
    seeds : list of int
    budgets : tuple of int
        Labelled windows at which to score; 0 is the model without labels.
    pool_ratio : float or mapping of str to float
        Share of the test series in the pool: one for every data set, or per
        data set with ``"default"`` for the others
        (:func:`~alad.experiments.labels.pool_ratios`); default
        :data:`~alad.experiments.labels.POOL_RATIO`, half of MSL's test series
        and 20 % of the others'. Each record says the share of its task
        (``pool_ratio``), which is part of its key.
    params : dict or None
        Further detector parameters (the same for every backbone).
    peers : tuple of str
        Peers whose score files are read (:data:`UNSUPERVISED_PEERS`,
        :data:`LABEL_PEERS`).
    peer_command : str or None
        A command that runs the peers (e.g. ``"benchmarks/.venv-peers/bin/python
        benchmarks/peers/run_peers.py"``), given ``--work WORK``: it runs
        after alad's jobs, before the peers' score files are read. None reads
        the score files that exist.
    work : str or Path
        Task files and score files (``tasks/``, ``scores/``).
    data_home : str or None

    Returns
    -------
    jobs : list of Job
        alad's jobs (one per task, split, seed and backbone), then the peers'
        command (if any), then one job per task, split and seed that reads the
        peers' score files.
    """
    budgets = tuple(sorted({int(b) for b in budgets}))
    if any(b < 0 for b in budgets):
        raise ValueError(f"budgets must be >= 0; got {budgets}.")
    for name in splits:
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}; got {name!r}.")
    for name in peers:
        if name not in UNSUPERVISED_PEERS + LABEL_PEERS:
            raise ValueError(
                f"peer must be one of {UNSUPERVISED_PEERS + LABEL_PEERS}; got {name!r}."
            )
    given = {spec.dataset for spec in datasets if isinstance(spec, Task)}
    ratios = pool_ratios(pool_ratio, {*DATASETS, *given})
    work = Path(work)
    params = dict(params or {})
    from ...detectors import ActiveReconstructionDetector

    check_params(
        ActiveReconstructionDetector,
        params,
        fixed=("backbone", "random_state"),
        variants=[{"backbone": b, "random_state": s} for b in backbones for s in seeds],
    )
    tasks = load_all_tasks(datasets, data_home)
    _check_measurable(tasks)
    _check_windows_fit(tasks, splits, ratios, params)

    def base_of(task, split, seed):
        base = {
            "task": task.name,
            "dataset": task.dataset,
            "split": split,
            "seed": seed,
            "pool_ratio": pool_ratio_of(ratios, task, split),
        }
        if task.digest is not None:  # a series file: its contents, not its name
            base["data"] = task.digest
        return base

    def meta_of(split):
        return {
            "rule": split.rule,
            "pool_rows": [split.start, split.stop],
            "pool_anomalous_rows": int(np.sum(split.y_pool)),
            "eval_anomalous_rows": int(np.sum(split.y_eval)),
        }

    def alad_job(task, kind, seed, backbone):
        def run(done):
            split = make_label_split(
                task, kind, pool_ratio_of(ratios, task, kind), seed
            )
            records = _run_alad(
                task,
                split,
                backbone=backbone,
                seed=seed,
                params=params,
                budgets=budgets,
                base=base_of(task, kind, seed),
                work=work,
                tid=task_id(task, kind),
                query_source=backbone == backbones[0],
                done=done,
            )
            for r in records:
                yield {**r, **meta_of(split)}

        size = 2 + len(budgets)
        return Job(f"{task.name} {kind} seed {seed} {backbone}", run, size)

    def peer_job(task, kind, seed):
        def run(done):
            split = make_label_split(
                task, kind, pool_ratio_of(ratios, task, kind), seed
            )
            missing: list[str] = []
            records = _run_peers(
                split,
                peers=tuple(peers),
                budgets=budgets,
                base=base_of(task, kind, seed),
                work=work,
                tid=task_id(task, kind),
                done=done,
                missing=missing,
            )
            for r in records:
                yield {**r, **meta_of(split)}
            if missing:
                print(
                    f"{task.name} {kind} seed {seed}: no peer scores yet for "
                    f"{len(missing)} run(s):\n  " + "\n  ".join(missing),
                    file=sys.stderr,
                )

        # a window-end peer's file gives two records (its own alignment, alad's)
        size = sum(1 + (p in WINDOW_END_PEERS) for p, _ in _peer_runs(peers, budgets))
        return Job(f"{task.name} {kind} seed {seed} peers", run, size)

    work_list = [
        alad_job(t, k, s, b)
        for t in tasks
        for k in splits
        for s in seeds
        for b in backbones
    ]
    if peer_command:
        work_list.append(_command_job(peer_command, work))
    work_list += [peer_job(t, k, s) for t in tasks for k in splits for s in seeds]
    return work_list


def _command_job(command: str, work: Path) -> Job:
    # split now: an unbalanced quote is refused before alad's runs, not after
    argv = [*shlex.split(command), "--work", str(work)]
    errors: list[str] = []

    def run(done):
        print("running the peers: " + shlex.join(argv), file=sys.stderr)
        try:
            status = subprocess.run(argv, check=False).returncode
        except OSError as exc:  # no such program: as a failed command, reported
            error = f"the peers' command could not start: {exc}"
        else:
            error = status and f"the peers' command exited with status {status}"
        if error:
            # the scores it wrote before failing are still read by the jobs
            # after it; the failure is said now and makes the exit non-zero
            print(error, file=sys.stderr)
            errors.append(error)
        return iter(())

    return Job("peers' command", run, 0, errors)
