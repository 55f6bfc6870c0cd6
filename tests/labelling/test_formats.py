"""Labels in and out: Label Studio JSON, TRAINSET CSV and ranges CSV.

The fixtures in ``data/`` are written as the tools write them:

- ``label_studio_export.json``, ``label_studio_time_column.json``: Label
  Studio's JSON export of a task of the time-series template, whose
  annotation ``result`` holds ``timeserieslabels`` regions with ``value``
  ``{start, end, instant, timeserieslabels}``, ``id``, ``from_name``,
  ``to_name`` and ``type`` ("Output format example" of
  https://labelstud.io/tags/timeseries, the export page
  https://labelstud.io/guide/export and the time-series template
  https://labelstud.io/templates/time_series: without ``timeColumn`` the
  x-axis is the row index ``0, 1, 2, ...``; the time-column file uses the
  documented example's epoch-millisecond values).
- ``trainset_labeled.csv``: TRAINSET's CSV (https://trainset.geocene.com/help):
  the header ``series,timestamp,value,label``, several series, ISO 8601
  timestamps with ``Z`` or ``+00:00``, label 1 (true) or 0.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from alad.labelling import LabellingSession
from alad.labelling.formats import (
    export_labels,
    import_labels,
    labels_from_ranges,
    ranges_from_labels,
    read_label_studio,
    read_ranges_csv,
    read_trainset,
    write_ranges_csv,
)

DATA = Path(__file__).parent / "data"


def _plain(labels):
    return [(r["window"], r["label"], r["range"]) for r in labels]


@pytest.fixture
def session(fresh, pool, tmp_path):
    return LabellingSession.create(tmp_path / "s", fresh, pool, per_round=4)


@pytest.fixture
def labelled(session):
    session.label(2, "anomaly", anomalous_range=(45, 53))
    session.label(3, "anomaly")
    session.label(4, "normal")
    session.label(5, "normal")
    session.label(9, "unsure")
    session.label(30, "anomaly", anomalous_range=(600, 603))
    return session


def test_label_studio_export_as_the_tool_writes_it(session):
    ranges = read_label_studio(DATA / "label_studio_export.json", len(session.pool))
    assert ranges == [(45, 53, "anomaly"), (60, 100, "normal"), (100, 120, "unsure")]
    summary = import_labels(session, DATA / "label_studio_export.json", "label-studio")
    assert summary == {"labelled": 4, "partial": 0, "kept": 0}
    assert _plain(session.labels()) == [
        (2, "anomaly", [45, 53]),
        (3, "normal", None),
        (4, "normal", None),
        (5, "unsure", None),
    ]


def test_label_studio_time_column(session):
    times = 1592250741000.0 + 1000.0 * np.arange(len(session.pool))
    ranges = read_label_studio(
        DATA / "label_studio_time_column.json", len(session.pool), times=times
    )
    assert ranges == [(11, 31, "anomaly")]  # rows whose time lies in [start, end]
    run = [
        {
            "id": 1,
            "annotations": [
                {
                    "result": [
                        {
                            "type": "timeserieslabels",
                            "value": {
                                "start": 1,
                                "end": 2,
                                "timeserieslabels": ["Run"],
                            },
                        }
                    ]
                }
            ],
        }
    ]
    with pytest.raises(ValueError, match="label_names="):
        read_label_studio(run, 10)
    assert read_label_studio(run, 10, label_names={"Run": "anomaly"}) == [
        (1, 3, "anomaly")
    ]


def test_label_studio_round_trip(labelled, fitted, pool, tmp_path):
    import copy

    out = tmp_path / "ls.json"
    export_labels(labelled, out, "label-studio", data={"csv": "/data/upload/pool.csv"})
    tasks = json.loads(out.read_text())
    region = tasks[0]["annotations"][0]["result"][0]
    assert set(region) >= {"value", "id", "from_name", "to_name", "type"}
    assert region["type"] == "timeserieslabels"
    assert set(region["value"]) == {"start", "end", "instant", "timeserieslabels"}
    other = LabellingSession.create(tmp_path / "o", copy.deepcopy(fitted), pool)
    import_labels(other, out, "label-studio")
    assert _plain(other.labels()) == _plain(labelled.labels())


def test_trainset_as_the_tool_writes_it():
    data = read_trainset(DATA / "trainset_labeled.csv")
    assert data["channel_names"] == ["sensor_a", "sensor_b"]
    assert data["X"].shape == (40, 2) and not np.isnan(data["X"]).any()
    assert np.flatnonzero(data["y"]).tolist() == list(range(22, 30))
    assert str(data["timestamps"][0]) == "2019-03-13T21:11:29.000"


def test_trainset_round_trip(labelled, fitted, pool, tmp_path):
    import copy

    out = tmp_path / "trainset.csv"
    export_labels(labelled, out, "trainset")
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["series", "timestamp", "value", "label"]
    assert rows[1][0] == "channel_0" and rows[1][1] == "2000-01-01T00:00:00.000Z"
    assert len(rows) == 1 + pool.size
    data = read_trainset(out)
    np.testing.assert_array_equal(data["X"], pool)
    assert np.array_equal(data["y"] == 1, labelled.timestep_labels() == 1)

    other = LabellingSession.create(tmp_path / "o", copy.deepcopy(fitted), pool)
    import_labels(other, out, "trainset")  # zeros mean "not labelled"
    anomalies = [x for x in _plain(labelled.labels()) if x[1] == "anomaly"]
    assert _plain(other.labels()) == anomalies
    with pytest.raises(ValueError, match="zeros must be"):
        import_labels(other, out, "trainset", zeros="maybe")


def test_ranges_csv_round_trip(labelled, fitted, pool, tmp_path):
    import copy

    out = tmp_path / "ranges.csv"
    export_labels(labelled, out, "ranges")
    ranges = read_ranges_csv(out)
    assert ranges[0] == (40, 45, "normal") and (45, 53, "anomaly") in ranges
    other = LabellingSession.create(tmp_path / "o", copy.deepcopy(fitted), pool)
    import_labels(other, out, "ranges")
    assert _plain(other.labels()) == _plain(labelled.labels())


def test_common_form_round_trip_and_errors(tmp_path):
    y = np.array([np.nan, 0, 0, 1, 1, np.nan, 0, np.nan])
    unsure = np.zeros(8, dtype=bool)
    unsure[7] = True
    ranges = ranges_from_labels(y, unsure)
    assert ranges == [
        (1, 3, "normal"),
        (3, 5, "anomaly"),
        (6, 7, "normal"),
        (7, 8, "unsure"),
    ]
    back, back_unsure = labels_from_ranges(ranges, 8)
    np.testing.assert_array_equal(back, y)
    np.testing.assert_array_equal(back_unsure, unsure)
    with pytest.raises(ValueError, match="must lie in"):
        labels_from_ranges([(5, 9, "normal")], 8)
    path = tmp_path / "r.csv"
    write_ranges_csv(path, [(0, 2, "anomaly")])
    path.write_text(path.read_text() + "2,4,0\n")
    assert read_ranges_csv(path) == [(0, 2, "anomaly"), (2, 4, "normal")]
    with pytest.raises(ValueError, match="label must be one of"):
        write_ranges_csv(path, [(0, 2, "weird")])


def test_label_studio_date_strings_against_a_datetime_column():
    """A project whose time column holds dates: regions come as ISO 8601 strings."""
    times = np.datetime64("2023-01-10T10:00:00", "ms") + np.arange(20) * np.timedelta64(
        15, "m"
    )
    region = {
        "type": "timeserieslabels",
        "value": {
            "start": "2023-01-10T10:15:00.000Z",
            "end": "2023-01-10T11:45:00.000Z",
            "instant": False,
            "timeserieslabels": ["Anomaly"],
        },
    }
    task = {"id": 3, "annotations": [{"result": [region]}]}
    assert read_label_studio(task, 20, times=times) == [(1, 8, "anomaly")]
    as_text = [str(t) + "Z" for t in times]
    assert read_label_studio([task], 20, times=as_text) == [(1, 8, "anomaly")]


@pytest.mark.parametrize(
    "format, content, message",
    [
        ("label-studio", "5", "must hold a Label Studio task"),
        ("label-studio", '"abc"', "must hold a Label Studio task"),
        ("label-studio", '[{"annotations": "x"}]', "annotations must be a list"),
        (
            "label-studio",
            '[{"annotations": [{"result": [{"type": "timeserieslabels", '
            '"value": {"start": null, "end": 3, "timeserieslabels": ["Anomaly"]}}]}]}]',
            "needs a value with start and end",
        ),
        ("label-studio", "start,end,label\n0,20,normal\n", "is not JSON"),
        ("ranges", "start,end,label\n1\n", "line 2: expected integer start"),
        ("ranges", "start,end,label\n1.5,3,anomaly\n", "line 2: expected integer"),
        ("trainset", "series,timestamp,value,label\nx,2026-01-01\n", "line 2"),
        ("trainset", "series,timestamp,value,label\nx,soon,1,0\n", "line 2"),
    ],
)
def test_a_malformed_import_is_a_value_error_naming_the_file(
    session, tmp_path, format, content, message
):
    path = tmp_path / "in.txt"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as exc:
        import_labels(session, path, format)
    assert str(path) in str(exc.value)
    assert session.labels() == []


def test_an_import_beyond_the_budget_labels_nothing(fresh, pool, tmp_path):
    s = LabellingSession.create(tmp_path / "s", fresh, pool, per_round=4, budget=3)
    s.label(0, "normal")
    path = tmp_path / "r.csv"
    write_ranges_csv(path, [(0, 100, "normal")])  # windows 0-4: four of them new
    with pytest.raises(ValueError, match="budget has 2 left; nothing was imported"):
        import_labels(s, path, "ranges")
    assert _plain(LabellingSession.open(tmp_path / "s").labels()) == [
        (0, "normal", None)
    ]
    write_ranges_csv(path, [(0, 60, "anomaly")])  # window 0 again and two new
    assert import_labels(s, path, "ranges")["labelled"] == 3 and s.budget_left == 0


def test_an_interrupted_export_leaves_the_previous_file(tmp_path):
    path = tmp_path / "r.csv"
    write_ranges_csv(path, [(0, 2, "anomaly")])
    before = path.read_text()

    def ranges():
        yield (0, 4, "normal")
        raise KeyboardInterrupt  # Ctrl+C halfway

    with pytest.raises(KeyboardInterrupt):
        write_ranges_csv(path, ranges())
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]


def test_an_export_never_writes_over_the_session_or_its_pool(fresh, pool, tmp_path):
    pool_file = tmp_path / "pool.csv"
    np.savetxt(pool_file, pool, delimiter=",")
    s = LabellingSession.create(tmp_path / "s", fresh, pool_file, per_round=4)
    s.label(s.pending_query[0], "anomaly")
    files = [pool_file, *(p for p in (tmp_path / "s").rglob("*") if p.is_file())]
    before = {p: p.read_bytes() for p in files}
    for target, format in [
        (tmp_path / "s" / "labels.csv", "ranges"),
        (tmp_path / "s" / "session.json", "label-studio"),
        (tmp_path / "s" / "scores" / "x.csv", "ranges"),
        (pool_file, "trainset"),
    ]:
        with pytest.raises(ValueError, match="a file the session reads"):
            export_labels(s, target, format)
    assert {p: p.read_bytes() for p in files} == before
    export_labels(s, tmp_path / "s" / "labels.json", "label-studio")  # a new name
    assert len(LabellingSession.open(tmp_path / "s").labels()) == 1
