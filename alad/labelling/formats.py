"""Labels in and out: Label Studio JSON, TRAINSET CSV and a plain CSV of ranges.

Every format goes through one common form, a list of ranges
``(start, stop, label)`` of pool rows, ``stop`` exclusive, ``label`` one of
``"anomaly"``, ``"normal"``, ``"unsure"``; :func:`export_labels` and
:func:`import_labels` connect it to a :class:`LabellingSession`.
"""

from __future__ import annotations

import csv
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from .._atomic import replacing
from .session import LABELS

__all__ = [
    "FORMATS",
    "export_labels",
    "import_labels",
    "labels_from_ranges",
    "ranges_from_labels",
    "read_label_studio",
    "read_ranges_csv",
    "read_trainset",
    "write_label_studio",
    "write_ranges_csv",
    "write_trainset",
]

FORMATS = ("label-studio", "trainset", "ranges")
LABEL_STUDIO_NAMES = {"anomaly": "Anomaly", "normal": "Normal", "unsure": "Unsure"}
_CODES = {"normal": 0, "anomaly": 1, "unsure": 2}


# -- the common form ----------------------------------------------------------
def ranges_from_labels(y, unsure=None) -> list[tuple[int, int, str]]:
    """Runs of equal labels: ``y`` 1/0/nan per row, ``unsure`` a boolean mask."""
    y = np.asarray(y, dtype=np.float64)
    code = np.full(len(y), -1)
    code[y == 0] = _CODES["normal"]
    code[y == 1] = _CODES["anomaly"]
    if unsure is not None:
        code[np.asarray(unsure, dtype=bool)] = _CODES["unsure"]
    names = {v: k for k, v in _CODES.items()}
    edges = np.flatnonzero(np.diff(code)) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(code)]])
    return [
        (int(a), int(b), names[int(code[a])])
        for a, b in zip(starts, stops)
        if len(code) and code[a] >= 0
    ]


def labels_from_ranges(ranges, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row labels ``y`` (1/0/nan) and ``unsure`` mask of ``n`` rows.

    Where ranges overlap, anomaly wins over unsure, and unsure over normal.
    """
    y = np.full(n, np.nan)
    unsure = np.zeros(n, dtype=bool)
    order = {"normal": 0, "unsure": 1, "anomaly": 2}
    for start, stop, label in sorted(ranges, key=lambda r: order[_check_label(r[2])]):
        start, stop = int(start), int(stop)
        if not 0 <= start < stop <= n:
            raise ValueError(
                f"range ({start}, {stop}) must lie in [0, {n}] with start < stop."
            )
        if label == "unsure":
            unsure[start:stop] = True
            y[start:stop] = np.nan
        else:
            y[start:stop] = _CODES[label]
            unsure[start:stop] = False
    return y, unsure


def _check_label(label: str) -> str:
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}; got {label!r}.")
    return label


# -- plain CSV of ranges ------------------------------------------------------
def write_ranges_csv(path, ranges) -> None:
    """``start,end,label`` per line: 0-based pool rows, ``end`` exclusive."""
    with replacing(path, newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["start", "end", "label"])
        for start, stop, label in ranges:
            writer.writerow([int(start), int(stop), _check_label(label)])


def read_ranges_csv(path) -> list[tuple[int, int, str]]:
    """Read :func:`write_ranges_csv` files (labels also accepted as 1/0)."""
    aliases = {"1": "anomaly", "0": "normal"}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"start", "end", "label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{path} must have the columns start, end, label; missing "
                f"{sorted(missing)}."
            )
        ranges = []
        for row in reader:
            try:
                start, stop = int(row["start"]), int(row["end"])
                label = row["label"].strip()
            except (TypeError, ValueError, AttributeError) as exc:  # None: too few
                raise ValueError(
                    f"{path}, line {reader.line_num}: expected integer start and "
                    f"end rows and a label; got {row}."
                ) from exc
            ranges.append((start, stop, _check_label(aliases.get(label, label))))
        return ranges


# -- Label Studio -------------------------------------------------------------
def write_label_studio(
    path,
    ranges,
    *,
    times=None,
    data=None,
    label_names=None,
    from_name: str = "label",
    to_name: str = "ts",
) -> list[dict]:
    """Write ranges as a Label Studio JSON export of one time-series task.

    Each range is one ``timeserieslabels`` region of the annotation's
    ``result``, as Label Studio's ``TimeSeriesLabels`` tag writes it
    (``value``: ``start``, ``end``, ``instant``, ``timeserieslabels``).
    Without ``times``, the x-axis is the row index (Label Studio's default
    when the ``TimeSeries`` tag has no ``timeColumn``), and ``end`` is the
    last row of the range (inclusive).

    Parameters
    ----------
    path : str, Path or None
        None: only return the tasks.
    ranges : list of (start, stop, label)
    times : array-like of float or None, default=None
        The time column's value of each pool row, for a project with a
        ``timeColumn`` (Label Studio writes epoch milliseconds for dates).
    data : dict or None, default=None
        The task's ``data`` (e.g. ``{"csv": "/data/upload/pool.csv"}``).
    label_names : dict or None, default=None
        alad label -> Label Studio label; default Anomaly / Normal / Unsure.
    from_name, to_name : str
        Names of the ``TimeSeriesLabels`` and ``TimeSeries`` tags.

    Returns
    -------
    tasks : list of dict
    """
    names = {**LABEL_STUDIO_NAMES, **(label_names or {})}
    axis = None if times is None else np.asarray(times)
    result = []
    for start, stop, label in ranges:
        first, last = int(start), int(stop) - 1
        if axis is None:
            a, b = first, last
        else:
            a, b = axis[first].item(), axis[last].item()
        result.append(
            {
                "value": {
                    "start": a,
                    "end": b,
                    "instant": first == last,
                    "timeserieslabels": [names[_check_label(label)]],
                },
                "id": uuid.uuid4().hex[:10],
                "from_name": from_name,
                "to_name": to_name,
                "type": "timeserieslabels",
                "origin": "manual",
            }
        )
    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    tasks = [
        {
            "id": 1,
            "data": data or {},
            "annotations": [
                {
                    "id": 1,
                    "completed_by": 1,
                    "result": result,
                    "was_cancelled": False,
                    "ground_truth": False,
                    "created_at": now,
                    "updated_at": now,
                    "lead_time": 0,
                }
            ],
            "predictions": [],
        }
    ]
    if path is not None:
        with replacing(path, newline="", encoding="utf-8") as f:
            f.write(json.dumps(tasks, indent=2) + "\n")
    return tasks


def read_label_studio(
    source, n: int, *, times=None, label_names=None, task: int | None = None
) -> list[tuple[int, int, str]]:
    """Ranges of the ``timeserieslabels`` regions of a Label Studio JSON export.

    Parameters
    ----------
    source : str, Path, list or dict
        An export file (a list of tasks), or its parsed content, or one task.
    n : int
        Rows of the pool.
    times : array-like or None, default=None
        The time column of the pool (increasing), when the project has a
        ``timeColumn``; numbers, or ISO 8601 strings / datetime64 when the
        export holds date strings. None: regions are row indices.
    label_names : dict or None, default=None
        Label Studio label -> alad label, compared without case; default
        Anomaly / Normal / Unsure (and Outlier for anomaly).
    task : int or None, default=None
        ``id`` of the task to read when the export holds several.

    Returns
    -------
    ranges : list of (start, stop, label)
        A region covers the rows whose time lies in ``[start, end]``. The
        latest annotation of the task that was not cancelled is read.
    """
    where = str(source) if isinstance(source, (str, Path)) else "the export"
    if isinstance(source, (str, Path)):
        try:
            source = json.loads(Path(source).read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{where} is not JSON, so not a Label Studio export ({exc})."
            ) from exc
    if isinstance(source, dict):
        tasks = [source]
    elif isinstance(source, list) and all(isinstance(t, dict) for t in source):
        tasks = list(source)
    else:
        raise ValueError(
            f"{where} must hold a Label Studio task (a JSON object) or a list of "
            f"them; got {_preview(source)}."
        )
    if task is not None:
        tasks = [t for t in tasks if t.get("id") == task]
    if len(tasks) != 1:
        raise ValueError(
            f"the export holds {len(tasks)} tasks; pass task=ID to pick the one of "
            "this pool."
        )
    annotations = tasks[0].get("annotations", tasks[0].get("completions", []))
    if not _list_of_dicts(annotations):
        raise ValueError(
            f"{where}: a task's annotations must be a list of objects; got "
            f"{_preview(annotations)}."
        )
    annotations = [a for a in annotations if not a.get("was_cancelled", False)]
    if not annotations:
        return []
    annotation = max(
        enumerate(annotations),
        key=lambda ia: (
            ia[1].get("updated_at") or ia[1].get("created_at") or "",
            ia[0],
        ),
    )[1]
    mapping = {v.lower(): k for k, v in LABEL_STUDIO_NAMES.items()}
    mapping["outlier"] = "anomaly"
    mapping.update({k.lower(): v for k, v in (label_names or {}).items()})
    axis = _time_axis(times, n)
    regions = annotation.get("result", [])
    if not _list_of_dicts(regions):
        raise ValueError(
            f"{where}: an annotation's result must be a list of objects; got "
            f"{_preview(regions)}."
        )
    ranges = []
    for region in regions:
        if region.get("type") != "timeserieslabels":
            continue
        value = region.get("value")
        if not (
            isinstance(value, dict)
            and all(_is_point(value.get(k)) for k in ("start", "end"))
            and _list_of_str(value.get("timeserieslabels", []))
        ):
            raise ValueError(
                f"{where}: a timeserieslabels region needs a value with start and "
                "end (numbers or dates) and a list of timeserieslabels; got "
                f"{_preview(value)}."
            )
        for name in value.get("timeserieslabels", []):
            if name.lower() not in mapping:
                raise ValueError(
                    f"Label Studio label {name!r} has no alad meaning; pass "
                    f"label_names={{{name!r}: 'anomaly'}} (or 'normal', 'unsure')."
                )
            label = mapping[name.lower()]
            a, b = _to_axis(value["start"], axis), _to_axis(value["end"], axis)
            if a > b:
                a, b = b, a
            first = int(np.searchsorted(axis, a, side="left"))
            stop = int(np.searchsorted(axis, b, side="right"))
            if first < stop:
                ranges.append((first, stop, label))
    return ranges


def _list_of_dicts(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _list_of_str(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_point(value) -> bool:
    """A region's start or end: a number (a row, a time) or a date string."""
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def _preview(value, limit: int = 80) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _time_axis(times, n):
    if times is None:
        return np.arange(n, dtype=np.float64)
    axis = np.asarray(times)
    if axis.dtype.kind in "UO":
        axis = np.array([_parse_time(t) for t in axis], dtype="datetime64[ms]")
    if axis.dtype.kind == "M":
        axis = axis.astype("datetime64[ms]").astype(np.int64).astype(np.float64)
    if axis.shape != (n,):
        raise ValueError(
            f"times must have one entry per pool row, ({n},); got {axis.shape}."
        )
    return axis.astype(np.float64)


def _to_axis(value, axis):
    if isinstance(value, str):
        return float(np.datetime64(_parse_time(value), "ms").astype(np.int64))
    return float(value)


def _parse_time(text: str) -> np.datetime64:
    """ISO 8601 with ``Z`` or an offset, as UTC."""
    moment = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return np.datetime64(moment, "ms")


# -- TRAINSET -----------------------------------------------------------------
def write_trainset(
    path,
    X,
    y,
    *,
    channel_names=None,
    timestamps=None,
    start: str = "2000-01-01T00:00:00Z",
    step_seconds: float = 1.0,
) -> None:
    """Write a pool and its anomaly labels as a TRAINSET CSV.

    TRAINSET reads and writes four columns, ``series,timestamp,value,label``,
    one line per series (channel) and timestamp; ``label`` is 1 (true) or 0,
    so normal, unsure and unlabelled rows are all written 0.

    Parameters
    ----------
    path : str or Path
    X : ndarray of shape (n_timesteps, n_channels)
    y : array-like of shape (n_timesteps,)
        1 where anomalous (nan counts as 0).
    channel_names : list of str or None
    timestamps : array-like of datetime64 or ISO 8601 str, or None
        None: ``start`` plus ``step_seconds`` per row.
    """
    X = np.asarray(X, dtype=np.float64)
    flags = (np.nan_to_num(np.asarray(y, dtype=np.float64)) == 1).astype(int)
    names = channel_names or [f"channel_{i}" for i in range(X.shape[1])]
    stamps = _timestamps(len(X), timestamps, start, step_seconds)
    with replacing(path, newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["series", "timestamp", "value", "label"])
        for c, name in enumerate(names):
            for i in range(len(X)):
                writer.writerow([name, stamps[i], repr(float(X[i, c])), flags[i]])


def _timestamps(n, timestamps, start, step_seconds) -> list[str]:
    if timestamps is None:
        origin = _parse_time(start).astype(datetime)
        moments = [origin + timedelta(seconds=step_seconds * i) for i in range(n)]
    else:
        moments = [_parse_time(str(t)).astype(datetime) for t in timestamps]
    return [
        m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}Z"
        for m in moments
    ]


def read_trainset(path) -> dict:
    """Read a TRAINSET CSV.

    Returns
    -------
    data : dict
        ``channel_names``, ``timestamps`` (datetime64[ms], sorted), ``X``
        ``(n_timesteps, n_series)`` and ``y`` (1 where any series is
        labelled 1, else 0).
    """
    rows = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        expected = ["series", "timestamp", "value", "label"]
        if [c.strip() for c in (reader.fieldnames or [])] != expected:
            raise ValueError(
                f"{path} must have the header series,timestamp,value,label (TRAINSET's "
                f"format); got {reader.fieldnames}."
            )
        for row in reader:
            try:
                stamp = _parse_time(row["timestamp"])
                value, label = float(row["value"]), int(float(row["label"]))
            except (TypeError, ValueError) as exc:  # None: too few columns
                raise ValueError(
                    f"{path}, line {reader.line_num}: expected a timestamp, a "
                    f"number and a label; got {row}."
                ) from exc
            rows.setdefault(row["series"], {})[stamp] = (value, label)
    names = list(rows)
    stamps = sorted(set().union(*(r.keys() for r in rows.values())))
    X = np.full((len(stamps), len(names)), np.nan)
    y = np.zeros(len(stamps), dtype=np.int64)
    index = {s: i for i, s in enumerate(stamps)}
    for c, name in enumerate(names):
        for stamp, (value, label) in rows[name].items():
            X[index[stamp], c] = value
            y[index[stamp]] = max(y[index[stamp]], label)
    return {
        "channel_names": names,
        "timestamps": np.array(stamps, dtype="datetime64[ms]"),
        "X": X,
        "y": y,
    }


# -- sessions -----------------------------------------------------------------
def export_labels(session, path, format: str, **kwargs) -> None:
    """Write a session's current labels (submitted and staged) to a file.

    Parameters
    ----------
    session : LabellingSession
    path : str or Path
    format : {"label-studio", "trainset", "ranges"}
    **kwargs
        Passed to the writer (``times``, ``label_names``, ``timestamps``...).
    """
    if session._reads(path):
        raise ValueError(
            f"{path} is a file the session reads (its own or the pool); export "
            "the labels to another file."
        )
    y, unsure = session.timestep_labels(), session.unsure_mask()
    if format == "ranges":
        write_ranges_csv(path, ranges_from_labels(y, unsure))
    elif format == "label-studio":
        write_label_studio(path, ranges_from_labels(y, unsure), **kwargs)
    elif format == "trainset":
        kwargs.setdefault("channel_names", session.channel_names)
        write_trainset(path, session.pool, y, **kwargs)
    else:
        raise ValueError(f"format must be one of {FORMATS}; got {format!r}.")


def import_labels(
    session,
    path,
    format: str,
    *,
    zeros: str = "unlabelled",
    labeller: str | None = None,
    **kwargs,
) -> dict:
    """Give a session the labels of a file, window by window, in the current round.

    A window holding an anomalous row becomes ``"anomaly"`` with the span of
    its anomalous rows as sub-range (its other rows are then normal); a
    window whose rows are all normal becomes ``"normal"``, all unsure
    ``"unsure"``. Windows only partly labelled, and windows of submitted
    rounds, are left as they are and counted. A file that would label more
    new windows than the budget has left is refused whole: nothing is labelled.

    Parameters
    ----------
    session : LabellingSession
    path : str or Path
    format : {"label-studio", "trainset", "ranges"}
    zeros : {"unlabelled", "normal"}, default="unlabelled"
        TRAINSET only: its label 0 means both "normal" and "not labelled";
        say which.
    labeller : str or None, default=None
        The name recorded with the labels; default the session's.
    **kwargs
        Passed to the reader (``times``, ``label_names``, ``task``).

    Returns
    -------
    summary : dict
        ``labelled`` (windows), ``partial`` (windows partly labelled, skipped),
        ``kept`` (windows of submitted rounds, skipped).
    """
    n = len(session.pool)
    if format == "ranges":
        y, unsure = labels_from_ranges(read_ranges_csv(path), n)
    elif format == "label-studio":
        y, unsure = labels_from_ranges(read_label_studio(path, n, **kwargs), n)
    elif format == "trainset":
        if zeros not in ("unlabelled", "normal"):
            raise ValueError(f"zeros must be 'unlabelled' or 'normal'; got {zeros!r}.")
        data = read_trainset(path)
        if len(data["y"]) != n:
            raise ValueError(
                f"{path} has {len(data['y'])} timestamps; the session's pool has {n} "
                "rows."
            )
        y = data["y"].astype(np.float64)
        if zeros == "unlabelled":
            anomalous = np.zeros(n, dtype=bool)
            anomalous[y == 1] = True
            windows = np.unique(np.flatnonzero(anomalous) // session.window_size)
            keep = np.zeros(n, dtype=bool)
            for w in windows:
                keep[slice(*session.window_rows(int(w)))] = True
            y[~keep] = np.nan
        unsure = np.zeros(n, dtype=bool)
    else:
        raise ValueError(f"format must be one of {FORMATS}; got {format!r}.")
    summary = {"labelled": 0, "partial": 0, "kept": 0}
    labelled = {r["window"]: r["round"] for r in session.labels()}
    plan = []  # (window, label, anomalous_range)
    for w in range(session.n_windows):
        start, stop = session.window_rows(w)
        rows, flags = y[start:stop], unsure[start:stop]
        if np.isnan(rows).all() and not flags.any():
            continue
        if labelled.get(w, session.current_round) < session.current_round:
            summary["kept"] += 1
            continue
        if np.any(rows == 1):
            ones = np.flatnonzero(rows == 1)
            plan.append((w, "anomaly", (start + ones[0], start + ones[-1] + 1)))
        elif np.all(rows == 0):
            plan.append((w, "normal", None))
        elif flags.all():
            plan.append((w, "unsure", None))
        else:
            summary["partial"] += 1
    # all or nothing: a budget that runs out halfway would leave some of the
    # file's labels in the session and report an error
    new = sum(w not in labelled for w, _, _ in plan)
    if session.budget_left is not None and new > session.budget_left:
        raise ValueError(
            f"{path} labels {new} windows not labelled yet, but the budget has "
            f"{session.budget_left} left; nothing was imported."
        )
    for w, label, anomalous_range in plan:
        session.label(w, label, anomalous_range=anomalous_range, labeller=labeller)
    summary["labelled"] = len(plan)
    return summary
