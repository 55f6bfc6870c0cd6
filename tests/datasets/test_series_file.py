"""load_series_file: a labelled series of your own, as training prefix and test."""

import numpy as np
import pytest

from alad.datasets import load_series_file
from alad.experiments import load_tasks

TSBAD_NAME = "001_NAB_id_1_Facility_tr_6_1st_7.csv"


def _tsbad_csv(tmp_path, rows, name=TSBAD_NAME, header="Data,Other,Label"):
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_npz_layout_gives_the_arrays_with_univariate_ones_as_a_column(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, X_train=np.arange(10.0), X_test=np.ones(5), y_test=[0, 1, 1, 0, 0])
    data = load_series_file(path)
    assert data.X_train.shape == (10, 1) and data.X_test.shape == (5, 1)
    assert data.y_test.dtype == np.int64 and data.y_test.tolist() == [0, 1, 1, 0, 0]
    assert data.train_end == 10 and data.name == "mine"


def test_tsbad_csv_cuts_the_prefix_named_in_the_file_after_dropping_missing_rows(
    tmp_path,
):
    rows = [f"{i},{10 * i},{int(i >= 8)}" for i in range(10)]
    rows.insert(2, "99,,0")  # a missing value: the row goes, as in TSB-AD
    with pytest.warns(UserWarning, match="1 row"):
        data = load_series_file(_tsbad_csv(tmp_path, rows))
    assert data.train_end == 6
    np.testing.assert_array_equal(data.X_train[:, 0], np.arange(6.0))
    np.testing.assert_array_equal(data.X_test, [[6, 60], [7, 70], [8, 80], [9, 90]])
    assert data.y_test.tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize(
    "name, header, rows, message",
    [
        ("series_without_split.csv", "Data,Label", ["1,0"] * 9, "not in the name"),
        (TSBAD_NAME, "Data,Anomaly", ["1,0"] * 9, "no column 'Label'"),
        (TSBAD_NAME, "Data,Label", ["x,0"] * 9, "not a number"),
        (TSBAD_NAME, "Data,Label", ["1,2"] * 9, r"0 \(normal\) and 1"),
        (TSBAD_NAME, "Data,Label", ["1,0"] * 4, "does not fit"),
        (TSBAD_NAME, "Data,Label", [], "a header and no rows"),
        (TSBAD_NAME, "Data,Label", ["1,0"] * 4 + ["1"] + ["1,0"] * 4, "row 5 .* has 1"),
        (TSBAD_NAME, "Label", ["0"] * 9, "labels and no channel"),
        (TSBAD_NAME, "Data,Label,Label", ["1,0,0"] * 9, "2 columns 'Label'"),
    ],
)
def test_a_csv_that_does_not_fit_names_the_file_and_why(
    tmp_path, name, header, rows, message
):
    path = _tsbad_csv(tmp_path, rows, name=name, header=header)
    with pytest.raises(ValueError, match=message):
        load_series_file(path)


def test_npz_faults_are_value_errors(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, X_train=np.zeros((5, 2)), X_test=np.zeros((3, 3)), y_test=[0, 1, 0])
    with pytest.raises(ValueError, match="channel"):
        load_series_file(path)
    np.savez(path, X_train=np.zeros(5), X_test=np.zeros(3))
    with pytest.raises(ValueError, match="y_test"):
        load_series_file(path)
    np.savez(path, X_train=np.zeros(5), X_test=np.zeros(3), y_test=[0, 1])
    with pytest.raises(ValueError, match="2 labels for 3"):
        load_series_file(path)
    np.savez(path, X_train=[0.0, np.nan], X_test=np.zeros(2), y_test=[0, 1])
    with pytest.raises(ValueError, match="NaN"):
        load_series_file(path)
    with pytest.raises(ValueError, match="must be .npz"):
        load_series_file(_tsbad_csv(tmp_path, [], name="x.txt"))
    with pytest.raises(FileNotFoundError):
        load_series_file(tmp_path / "nothing.npz")
    # labels of two columns were flattened into twice as many, silently
    np.savez(path, X_train=np.zeros(5), X_test=np.zeros(3), y_test=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"y_test must be one label per test timestep"):
        load_series_file(path)
    np.savez(path, X_train=np.zeros(5), X_test=np.zeros(3), y_test=np.zeros((3, 1)))
    assert load_series_file(path).y_test.shape == (3,)
    with pytest.raises(TypeError, match="path must be a file path"):
        load_series_file(None)


def test_file_spec_makes_one_task_per_path(tmp_path):
    for name in ("a", "b"):
        np.savez(
            tmp_path / f"{name}.npz",
            X_train=np.zeros(8),
            X_test=np.ones(4),
            y_test=[0, 1, 0, 0],
        )
    tasks = load_tasks(f"file:{tmp_path / 'a.npz'},{tmp_path / 'b.npz'}")
    assert [t.name for t in tasks] == ["file/a", "file/b"]
    assert tasks[0].X_train.shape == (8, 1)
    with pytest.raises(ValueError, match="needs the path"):
        load_tasks("file")


def test_an_empty_csv_is_named(tmp_path):
    path = tmp_path / TSBAD_NAME
    path.write_text("")
    with pytest.raises(ValueError, match=f"{TSBAD_NAME} is empty"):
        load_series_file(path)


def test_blank_lines_are_no_rows(tmp_path):
    # an editor's or a spreadsheet's last lines, as pandas (and TSB-AD) reads
    rows = [f"{i},{int(i >= 8)}" for i in range(10)] + ["", "  ", ","]
    data = load_series_file(_tsbad_csv(tmp_path, rows, header="Data,Label"))
    assert data.train_end == 6 and len(data.X_test) == 4


def test_an_unnamed_first_column_is_read_with_a_warning(tmp_path):
    rows = [f"{i},{i},{int(i >= 8)}" for i in range(10)]  # to_csv's index first
    with pytest.warns(UserWarning, match="first column has no name"):
        data = load_series_file(_tsbad_csv(tmp_path, rows, header=",Data,Label"))
    assert data.X_train.shape == (6, 2)  # read as a channel, as TSB-AD does


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda p: p.write_text("not an archive"), "not a NumPy .npz archive"),
        (lambda p: p.write_bytes(b""), "not a NumPy .npz archive"),
        (lambda p: np.save(open(p, "wb"), np.zeros(3)), "not a NumPy .npz archive"),
        (
            lambda p: np.savez(
                p,
                X_train=np.array([object()] * 3),
                X_test=np.zeros(3),
                y_test=np.zeros(3),
            ),
            "must be arrays of real numbers",
        ),
        # numeric strings and complex values were converted quietly
        (
            lambda p: np.savez(
                p, X_train=np.array(["1.5"] * 3), X_test=np.zeros(3), y_test=np.zeros(3)
            ),
            "must be arrays of real numbers",
        ),
        (
            lambda p: np.savez(
                p, X_train=np.zeros(3) + 1j, X_test=np.zeros(3), y_test=np.zeros(3)
            ),
            "must be arrays of real numbers",
        ),
        (
            lambda p: np.savez(
                p, X_train=np.zeros(3), X_test=np.zeros(3), y_test=np.array(["0"] * 3)
            ),
            "must be arrays of real numbers",
        ),
    ],
    ids=["text", "empty", "one array", "objects", "strings", "complex", "string y"],
)
def test_an_npz_that_is_no_archive_of_numbers_is_named(tmp_path, write, message):
    path = tmp_path / "mine.npz"
    write(path)
    with pytest.raises(ValueError, match=message) as caught:
        load_series_file(path)
    assert "mine.npz" in str(caught.value) and "pickle" not in str(caught.value)


def test_a_path_from_the_home_folder_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    np.savez(
        tmp_path / "mine.npz",
        X_train=np.zeros(8),
        X_test=np.ones(4),
        y_test=[0, 1, 0, 0],
    )
    assert load_series_file("~/mine.npz").name == "mine"


def test_an_npz_without_channels_is_named(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, X_train=np.zeros((8, 0)), X_test=np.zeros((4, 0)), y_test=[0] * 4)
    with pytest.raises(ValueError, match="mine.npz holds labels and no channel"):
        load_series_file(path)


def test_a_csv_in_another_encoding_is_named(tmp_path):
    path = tmp_path / TSBAD_NAME
    rows = [f"{i},{int(i >= 8)}" for i in range(10)]
    path.write_bytes(("Tempé,Label\n" + "\n".join(rows) + "\n").encode("latin-1"))
    with pytest.raises(ValueError, match=f"{TSBAD_NAME} is not UTF-8 text"):
        load_series_file(path)


def test_a_spreadsheets_byte_order_mark_is_not_part_of_the_header(tmp_path):
    # Excel's "CSV UTF-8" starts with a byte-order mark; the index column's
    # empty name must still be seen as empty
    path = tmp_path / TSBAD_NAME
    rows = [f"{i},{i},{int(i >= 8)}" for i in range(10)]
    path.write_text(",Data,Label\n" + "\n".join(rows) + "\n", encoding="utf-8-sig")
    with pytest.warns(UserWarning, match="first column has no name"):
        data = load_series_file(path)
    assert data.X_train.shape == (6, 2)
