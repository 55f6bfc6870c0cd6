"""Tests of the loaders of real data against the counts of the SOURCE.md files."""

import gzip
import sys

import numpy as np
import pytest

from alad.datasets import load_gecco, load_msl, load_odds, load_ucr, load_uea
from alad.datasets.msl import MSL_ENTITIES
from alad.datasets.uea import _fill_stripped_zeros, _read_ts, _resample

real_data = pytest.mark.real_data


def _link(data_home, tmp_home, *relative_paths):
    """Make relative_paths of the real data home appear in tmp_home, by symlink."""
    for relative_path in relative_paths:
        target = tmp_home / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(data_home / relative_path)


# GECCO ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gecco(data_home):
    return load_gecco(data_home)


@real_data
def test_gecco_reproduces_the_split_of_lai_et_al(gecco):
    assert gecco.X_train.shape == (69_260, 9)
    assert gecco.X_test.shape == (69_261, 9)
    assert gecco.X_train.dtype == gecco.X_test.dtype == np.float64
    assert gecco.y_train.dtype == gecco.y_test.dtype == np.int64
    assert not np.isnan(gecco.X_train).any() and not np.isnan(gecco.X_test).any()
    assert gecco.feature_names == [
        "Tp", "Cl", "pH", "Redox", "Leit", "Trueb", "Cl_2", "Fm", "Fm_2",
    ]  # fmt: skip
    assert gecco.name == "gecco" and "Lai" in gecco.DESCR
    # SOURCE.md: 1,726 events, none in a row with NaN; 1.438 % / 1.054 %.
    assert gecco.y_train.sum() + gecco.y_test.sum() == 1_726
    assert round(100 * gecco.y_train.mean(), 3) == 1.438
    assert round(100 * gecco.y_test.mean(), 3) == 1.054
    # The first rows of the file (2016-08-03 09:49 and 09:50).
    np.testing.assert_array_equal(
        gecco.X_train[:2],
        [
            [6.5, 0.17, 8.36, 749.0, 211.0, 0.011, 0.118, 1677.0, 695.0],
            [6.5, 0.17, 8.36, 749.0, 211.0, 0.011, 0.118, 1561.0, 696.0],
        ],
    )


@real_data
def test_gecco_rda_gives_the_same_arrays_as_the_csv(gecco, data_home, tmp_path):
    pytest.importorskip("pyreadr")
    _link(data_home, tmp_path, "gecco/geccoIC2018Train.rda")
    from_rda = load_gecco(tmp_path)
    for key in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(from_rda[key], gecco[key])


@real_data
def test_gecco_rda_without_pyreadr_names_the_package(data_home, tmp_path, monkeypatch):
    _link(data_home, tmp_path, "gecco/geccoIC2018Train.rda")
    monkeypatch.setitem(sys.modules, "pyreadr", None)  # makes the import fail
    with pytest.raises(ImportError, match="pyreadr.*geccoIC2018Train.csv.gz"):
        load_gecco(tmp_path)


def test_gecco_missing_names_both_files(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_gecco(tmp_path / "home")
    message = str(info.value)
    assert str(tmp_path / "home" / "gecco" / "geccoIC2018Train.csv.gz") in message
    assert "geccoIC2018Train.rda" in message and "download=True" in message
    assert not (tmp_path / "home").exists()


def test_gecco_rejects_another_table(tmp_path):
    path = tmp_path / "gecco" / "geccoIC2018Train.csv.gz"
    path.parent.mkdir()
    rows = ["Time,Tp,Cl,pH,Redox,Leit,Trueb,Cl_2,Fm,Fm_2,EVENT"]
    rows += ["2016-08-03 09:49:00,6.5,0.17,,749.0,211.0,0.011,0.118,1677.0,695.0,True"]
    rows += [
        "2016-08-03 09:50:00,6.5,0.17,8.3,749.0,211.0,0.011,0.118,1677.0,695.0,False"
    ]
    path.write_bytes(gzip.compress("\n".join(rows).encode()))
    with pytest.raises(ValueError, match="has 1 rows without missing values; expected"):
        load_gecco(tmp_path)
    path.write_bytes(gzip.compress(b"Time,Tp,EVENT\n2016-08-03 09:49:00,6.5,True\n"))
    with pytest.raises(ValueError, match="header of .* must be"):
        load_gecco(tmp_path)


def test_gecco_csv_is_read_without_a_copy_of_every_cell(tmp_path):
    """The CSV's cells, held as lists of strings, took 15 times the memory of
    the values (160 MB for the real table)."""
    import tracemalloc

    from alad.datasets.gecco import _read_csv

    rng = np.random.default_rng(0)
    values = rng.normal(size=(20_000, 9)).round(3)
    values[::100, 2] = np.nan
    events = np.arange(20_000) % 50 == 0
    lines = ["Time,Tp,Cl,pH,Redox,Leit,Trueb,Cl_2,Fm,Fm_2,EVENT"]
    for row, event in zip(values, events):
        cells = ",".join("" if np.isnan(v) else repr(float(v)) for v in row)
        lines.append(f"2016-08-03 09:49:00,{cells},{event}")
    path = tmp_path / "gecco.csv.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    tracemalloc.start()
    got_values, got_events = _read_csv(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    np.testing.assert_array_equal(got_values, values)
    np.testing.assert_array_equal(got_events, events)
    assert got_values.dtype == np.float64 and got_events.dtype == bool
    assert peak < 3 * values.nbytes, f"peak {peak / 1e6:.1f} MB"
    lines[5] = lines[5].replace(",True", "").replace(",False", "")
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    with pytest.raises(
        ValueError, match=r"gecco.csv.gz cannot be read \(line 6 has 10 fields, not 11"
    ):
        _read_csv(path)
    lines[5] += ",yes"
    lines[7] = lines[7].replace(",False", ",0")
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    with pytest.raises(ValueError, match=r"EVENT column of .* got \['0', 'yes'\]"):
        _read_csv(path)


def test_a_damaged_data_file_is_named(data_home, tmp_path):
    """A cut-off download or a malformed file: a ValueError naming the file
    (the bare EOFError / NumPy / float errors named none; the command line
    showed a traceback for the EOFError)."""
    gecco = tmp_path / "gecco" / "geccoIC2018Train.csv.gz"
    gecco.parent.mkdir()
    real = (data_home / "gecco" / "geccoIC2018Train.csv.gz").read_bytes()
    gecco.write_bytes(real[: len(real) // 2])
    with pytest.raises(ValueError, match=r"geccoIC2018Train.csv.gz cannot be read"):
        load_gecco(tmp_path)
    _link(data_home, tmp_path, "msl/labeled_anomalies.csv", "msl/train/C-1.npy")
    cut = tmp_path / "msl" / "test" / "C-1.npy"
    cut.parent.mkdir(parents=True)
    cut.write_bytes((data_home / "msl" / "test" / "C-1.npy").read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"test/C-1.npy cannot be read"):
        load_msl("C-1", tmp_path)
    folder = tmp_path / "ucr_anomaly"
    folder.mkdir()
    (folder / "005_UCR_Anomaly_toy_3_5_12.txt").write_text("1 2 x 4")
    with pytest.raises(ValueError, match=r"005_UCR_Anomaly_toy_3_5_12.txt cannot be"):
        load_ucr(5, tmp_path)
    (folder / "006_UCR_Anomaly_toy_3_5_6.txt").write_text("1 2 3 4 nan 6")
    with pytest.raises(ValueError, match=r"006_UCR_Anomaly_toy_3_5_6.txt holds 1 NaN"):
        load_ucr(6, tmp_path)


# MSL -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def msl(data_home):
    return load_msl(data_home=data_home)


@real_data
def test_msl_totals_match_source(msl):
    assert list(msl) == sorted(MSL_ENTITIES) and len(msl) == 27
    assert sum(len(b.X_train) for b in msl.values()) == 58_317
    n_test = sum(len(b.X_test) for b in msl.values())
    assert n_test == 73_729
    n_anomalous = sum(int(b.y_test.sum()) for b in msl.values())
    assert round(100 * n_anomalous / n_test, 2) == 10.53
    for entity, bunch in msl.items():
        assert bunch.entity == entity and bunch.name == "msl"
        assert bunch.X_train.shape[1] == bunch.X_test.shape[1] == 55
        assert bunch.X_train.dtype == bunch.X_test.dtype == np.float64
        assert bunch.y_train.dtype == bunch.y_test.dtype == np.int64
        assert not bunch.y_train.any()
        assert bunch.y_test.sum() == sum(b - a for a, b in bunch.anomaly_ranges)


@real_data
def test_msl_ranges_are_inclusive(msl):
    # F-8's last sequence [1950, 2486] ends on the last row of its test part.
    f8 = msl["F-8"]
    assert len(f8.X_test) == 2487 and f8.anomaly_ranges == [(1950, 2487)]
    assert f8.y_test[-1] == 1 and f8.y_test[1949] == 0
    # P-11's sequences are listed out of order upstream.
    assert msl["P-11"].anomaly_ranges == [(1238, 1345), (1778, 1899)]


@real_data
def test_msl_single_entity(msl, data_home):
    c1 = load_msl("C-1", data_home)
    assert c1.X_train.shape == (2158, 55) and c1.X_test.shape == (2264, 55)
    assert c1.anomaly_ranges == [(550, 751), (2100, 2211)]
    assert c1.y_test.sum() == 201 + 111
    for key in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(c1[key], msl["C-1"][key])


def test_msl_unknown_entity_lists_the_valid_names(tmp_path):
    with pytest.raises(ValueError, match=r"one of the MSL channels \['C-1'.*got 'A-1'"):
        load_msl("A-1", tmp_path)


@real_data
def test_msl_checks_num_values(data_home, tmp_path):
    _link(data_home, tmp_path, "msl/train/C-1.npy", "msl/test/C-1.npy")
    text = (data_home / "msl" / "labeled_anomalies.csv").read_text()
    bad = text.replace('"[point, contextual]",2264', '"[point, contextual]",2265')
    assert bad != text
    (tmp_path / "msl" / "labeled_anomalies.csv").write_text(bad)
    with pytest.raises(ValueError, match="num_values=2265 for C-1.*2264 rows"):
        load_msl("C-1", tmp_path)


@real_data
@pytest.mark.parametrize(
    "change, match",
    [
        # a label file of another layout: a column missing, a cut cell
        (lambda t: t.replace("num_values", "n_values"), "cannot be read.*num_values"),
        (
            lambda t: t.replace('"[[1850, 2030]]"', '"[[1850, 2030"', 1),
            "labeled_anomalies.csv cannot be read.*SyntaxError",
        ),
        (
            lambda t: t.replace('"[[1850, 2030]]"', '"[1850, 2030]"', 1),
            "anomaly_sequences must be a list of",
        ),
    ],
    ids=["column", "cut cell", "not pairs"],
)
def test_msl_label_file_of_another_layout_is_named(data_home, tmp_path, change, match):
    """These were a KeyError or a SyntaxError naming no file: a traceback from
    the command line, which reports ValueErrors."""
    _link(data_home, tmp_path, "msl/train/C-1.npy", "msl/test/C-1.npy")
    text = (data_home / "msl" / "labeled_anomalies.csv").read_text()
    assert change(text) != text
    (tmp_path / "msl" / "labeled_anomalies.csv").write_text(change(text))
    with pytest.raises(ValueError, match=match):
        load_msl("C-1", tmp_path)


@real_data
def test_msl_values_must_be_finite_and_of_one_width(data_home, tmp_path):
    _link(data_home, tmp_path, "msl/labeled_anomalies.csv", "msl/train/C-1.npy")
    test = np.load(data_home / "msl" / "test" / "C-1.npy")
    path = tmp_path / "msl" / "test" / "C-1.npy"
    path.parent.mkdir(parents=True)
    np.save(path, test[:, :-5])
    with pytest.raises(
        ValueError, match="C-1 must have the same channels; got 55 and 50"
    ):
        load_msl("C-1", tmp_path)
    test[7, 3] = np.nan
    np.save(path, test)
    with pytest.raises(ValueError, match=r"C-1.npy holds 1 NaN .* index \(7, 3\)"):
        load_msl("C-1", tmp_path)


@real_data
def test_msl_label_file_cut_within_a_row_is_named(data_home, tmp_path):
    """A download cut before the num_values cell of the last row was a
    TypeError of int(None) naming no file."""
    _link(data_home, tmp_path, "msl/train/C-1.npy", "msl/test/C-1.npy")
    text = (data_home / "msl" / "labeled_anomalies.csv").read_text().rstrip("\n")
    (tmp_path / "msl" / "labeled_anomalies.csv").write_text(text[: text.rindex(",")])
    with pytest.raises(ValueError, match=r"labeled_anomalies.csv cannot be read"):
        load_msl("C-1", tmp_path)


# UCR -----------------------------------------------------------------------


@real_data
def test_ucr_001(data_home):
    data = load_ucr(1, data_home)
    assert data.X_train.shape == (35_000, 1) and data.X_test.shape == (44_795, 1)
    assert data.X_train.dtype == np.float64 and data.y_test.dtype == np.int64
    assert not data.y_train.any()
    # 1-based inclusive 52000..52620 = 0-based half-open [51999, 52620).
    assert data.anomaly_range == (51_999, 52_620)
    assert data.y_test.sum() == 621
    start, stop = (i - data.train_end for i in data.anomaly_range)
    assert data.y_test[start:stop].all() and data.y_test.sum() == stop - start
    assert round(100 * data.y_test.mean(), 2) == 1.39  # SOURCE.md: 1.38 %, cut
    assert round(100 * 621 / 79_795, 2) == 0.78
    assert (data.number, data.series, data.name) == (1, "DISTORTED1sddb40", "ucr")
    assert data.X_train[0, 0] == pytest.approx(-142.92884)


@pytest.mark.parametrize(
    ("number", "error", "match"),
    [
        ("1", TypeError, "number must be an int from 1 to 250; got str"),
        (True, TypeError, "got bool"),
        (0, ValueError, "from 1 to 250; got 0"),
        (251, ValueError, "got 251"),
    ],
)
def test_ucr_number_is_checked(number, error, match, tmp_path):
    with pytest.raises(error, match=match):
        load_ucr(number, tmp_path)


def test_ucr_missing_series(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"002_UCR_Anomaly_\*\.txt") as exc:
        load_ucr(2, tmp_path)
    # no address is registered for it: download=True is not advised
    assert "No public download address" in str(exc.value)
    assert "download=True" not in str(exc.value)
    home = tmp_path / "a_file"
    home.write_text("")
    with pytest.raises(FileNotFoundError, match="a_file is a file, not a folder"):
        load_ucr(1, home)
    with pytest.raises(FileNotFoundError, match="No public download address"):
        load_ucr(2, tmp_path, download=True)
    with pytest.raises(FileNotFoundError, match="001_UCR_Anomaly_DISTORTED1sddb40"):
        load_ucr(1, tmp_path)


def test_ucr_file_name_must_fit_the_series(tmp_path):
    folder = tmp_path / "ucr_anomaly"
    folder.mkdir()
    (folder / "005_UCR_Anomaly_toy_3_5_12.txt").write_text("1 2 3 4 5 6 7 8 9 10")
    with pytest.raises(ValueError, match="anomEnd <= 10"):
        load_ucr(5, tmp_path)
    (folder / "006_UCR_Anomaly_toy_3_5_6.txt").write_text("1 2 3 4 5\n6 7 8 9 10\n")
    toy = load_ucr(6, tmp_path)
    assert toy.anomaly_range == (4, 6) and toy.y_test.tolist() == [0, 1, 1, 0, 0, 0, 0]


# ODDS ----------------------------------------------------------------------


@real_data
@pytest.mark.parametrize(
    ("name", "shape", "n_outliers", "percent"),
    [
        ("arrhythmia", (452, 274), 66, 14.60),
        ("cardio", (1831, 21), 176, 9.61),
        ("lympho", (148, 18), 6, 4.05),
        ("thyroid", (3772, 6), 93, 2.47),
    ],
)
def test_odds_match_source(name, shape, n_outliers, percent, data_home):
    data = load_odds(name, data_home)
    assert data.X.shape == shape and data.X.dtype == np.float64
    assert data.y.shape == shape[:1] and data.y.dtype == np.int64
    assert data.y.sum() == n_outliers and set(np.unique(data.y)) == {0, 1}
    assert round(100 * data.y.mean(), 2) == percent
    assert data.name == name


@real_data
def test_odds_files_of_another_layout_or_with_nan_are_named(data_home, tmp_path):
    import scipy.io

    arrays = scipy.io.loadmat(data_home / "odds" / "cardio.mat")
    path = tmp_path / "odds" / "cardio.mat"
    path.parent.mkdir()
    scipy.io.savemat(path, {"data": arrays["X"], "labels": arrays["y"]})
    with pytest.raises(ValueError, match=r"cardio.mat cannot be read \(KeyError"):
        load_odds("cardio", tmp_path)
    path.write_bytes((data_home / "odds" / "cardio.mat").read_bytes()[:5000])
    with pytest.raises(ValueError, match="cardio.mat cannot be read"):
        load_odds("cardio", tmp_path)
    X = arrays["X"].copy()
    X[2, 1] = np.inf
    scipy.io.savemat(path, {"X": X, "y": arrays["y"]})
    with pytest.raises(ValueError, match=r"cardio.mat holds 1 NaN or infinite"):
        load_odds("cardio", tmp_path)


def test_odds_cut_or_corrupt_files_are_named(tmp_path):
    """A cut or bit-flipped .npz (zipfile.BadZipFile) and an empty .mat
    (scipy's MatReadError) named no file."""
    folder = tmp_path / "odds"
    folder.mkdir()
    npz = folder / "38_thyroid.npz"
    rng = np.random.default_rng(0)
    np.savez(npz, X=rng.normal(size=(50, 6)), y=np.arange(50) % 2)
    assert load_odds("thyroid", tmp_path).X.shape == (50, 6)
    real = npz.read_bytes()
    npz.write_bytes(real[: len(real) // 2])
    with pytest.raises(
        ValueError, match=r"38_thyroid.npz cannot be read \(BadZipFile: File is not"
    ):
        load_odds("thyroid", tmp_path)
    flipped = bytearray(real)
    start = real.index(b"\x93NUMPY") + 200  # inside the values of X.npy
    flipped[start : start + 8] = bytes(b ^ 0xFF for b in flipped[start : start + 8])
    npz.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"38_thyroid.npz cannot be read.*CRC"):
        load_odds("thyroid", tmp_path)
    (folder / "cardio.mat").write_bytes(b"")
    with pytest.raises(
        ValueError, match=r"cardio.mat cannot be read \(MatReadError: .*truncated"
    ):
        load_odds("cardio", tmp_path)


def test_odds_unknown_name(tmp_path):
    with pytest.raises(ValueError, match=r"one of \['arrhythmia'.*got 'kdd'"):
        load_odds("kdd", tmp_path)


# UEA -----------------------------------------------------------------------

_UEA_TABLE = {
    # name: (n_train, n_test, n_channels, train counts, test counts)
    "Epilepsy": (137, 138, 3, [34, 36, 30, 37], [34, 37, 30, 37]),
    "NATOPS": (180, 180, 24, [30] * 6, [30] * 6),
    "RacketSports": (151, 152, 6, [43, 39, 34, 35], [43, 40, 34, 35]),
}
_UEA_CLASSES = {
    "Epilepsy": ["EPILEPSY", "RUNNING", "SAWING", "WALKING"],
    "NATOPS": ["1.0", "2.0", "3.0", "4.0", "5.0", "6.0"],
    "RacketSports": [
        "Badminton_Clear",
        "Badminton_Smash",
        "Squash_BackhandBoast",
        "Squash_ForehandBoast",
    ],
}
_UEA_LENGTH = {"Epilepsy": 206, "NATOPS": 51, "RacketSports": 30}


@real_data
@pytest.mark.parametrize("name", list(_UEA_TABLE))
def test_uea_equal_length_sets_match_source(name, data_home):
    n_train, n_test, n_channels, train_counts, test_counts = _UEA_TABLE[name]
    length = _UEA_LENGTH[name]
    data = load_uea(name, data_home)
    assert data.X_train.shape == (n_train, length, n_channels)
    assert data.X_test.shape == (n_test, length, n_channels)
    assert data.X_train.dtype == np.float64
    assert not np.isnan(data.X_train).any() and not np.isnan(data.X_test).any()
    assert (data.lengths_train == length).all() and (data.lengths_test == length).all()
    assert data.classes.tolist() == _UEA_CLASSES[name]
    _, counts = np.unique(data.y_train, return_counts=True)
    assert counts.tolist() == train_counts
    _, counts = np.unique(data.y_test, return_counts=True)
    assert counts.tolist() == test_counts
    assert data.name == name


@real_data
def test_uea_epilepsy_first_values(data_home):
    data = load_uea("Epilepsy", data_home)
    np.testing.assert_array_equal(data.X_train[0, :3, 0], [0.35, 0.4, 0.44])
    assert data.y_train[0] == "EPILEPSY"


@pytest.fixture(scope="module")
def character_trajectories(data_home):
    return load_uea("CharacterTrajectories", data_home)


@real_data
def test_uea_character_trajectories_match_source(character_trajectories):
    data = character_trajectories
    assert data.X_train.shape == (1422, 182, 3)
    assert data.X_test.shape == (1436, 182, 3)
    assert (data.lengths_train.min(), data.lengths_train.max()) == (60, 180)
    assert (data.lengths_test.min(), data.lengths_test.max()) == (61, 182)
    assert sorted(data.classes.tolist(), key=int) == [str(i) for i in range(1, 21)]
    _, counts = np.unique(data.y_train, return_counts=True)
    assert (counts.min(), counts.max(), len(counts)) == (59, 93, 20)
    _, counts = np.unique(data.y_test, return_counts=True)
    assert (counts.min(), counts.max(), len(counts)) == (60, 93, 20)
    for X, lengths in (
        (data.X_train, data.lengths_train),
        (data.X_test, data.lengths_test),
    ):
        inside = np.arange(X.shape[1]) < lengths[:, None]
        assert not np.isnan(X[inside]).any()  # NaN only as padding at the end
        assert np.isnan(X[~inside]).all()


@real_data
def test_uea_resampling_equals_np_interp(character_trajectories):
    data = character_trajectories
    resampled = _resample(data.X_train, data.lengths_train, 50)
    assert resampled.shape == (1422, 50, 3) and not np.isnan(resampled).any()
    for i in (0, 1, 700, 1421):
        real = data.lengths_train[i]
        grid = np.linspace(0, real - 1, 50)
        for c in range(3):
            expected = np.interp(grid, np.arange(real), data.X_train[i, :real, c])
            np.testing.assert_allclose(resampled[i, :, c], expected, atol=1e-12)
        # The end points are kept exactly.
        np.testing.assert_array_equal(
            resampled[i, [0, -1]], data.X_train[i, [0, real - 1]]
        )


@real_data
def test_uea_length_argument(data_home):
    data = load_uea("RacketSports", data_home, length=45)
    assert data.X_train.shape == (151, 45, 6) and data.X_test.shape == (152, 45, 6)
    assert (data.lengths_train == 30).all()
    raw = load_uea("RacketSports", data_home)
    np.testing.assert_allclose(data.X_test, _resample(raw.X_test, raw.lengths_test, 45))


def test_fill_stripped_zeros():
    nan = np.nan
    X = np.array([[[1.0, 2.0], [0.5, 2e-6], [0.2, nan], [nan, nan]]])
    _fill_stripped_zeros(X, [])
    np.testing.assert_array_equal(X[0, :, 1], [2.0, 2e-6, 0.0, nan])
    X = np.array([[[1.0, 2.0], [0.5, 0.3], [0.2, nan]]])
    with pytest.raises(ValueError, match="same length in every channel"):
        _fill_stripped_zeros(X, [])


_TS_HEADER = """\
# a comment
@problemName toy
@timeStamps false
@univariate false
@dimensions 2
@equalLength false
@classLabel true a b
@data
"""


def test_read_ts_pads_unequal_lengths(tmp_path):
    path = tmp_path / "toy.ts"
    path.write_text(_TS_HEADER + "1,2,3:4,5,6:a\n1,2:3,4:b\n7,8,?:9,10,?:a\n")
    X, labels = _read_ts(path)
    assert X.shape == (3, 3, 2) and labels.tolist() == ["a", "b", "a"]
    np.testing.assert_array_equal(X[1], [[1, 3], [2, 4], [np.nan, np.nan]])
    np.testing.assert_array_equal(X[2, :, 1], [9, 10, np.nan])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (_TS_HEADER + "1,2:3,4:c\n", "labels must be declared"),
        (_TS_HEADER + "1,2:b\n", "@dimensions=2 channels; got \\[1\\]"),
        ("problem toy\n@data\n1:a\n", "before @data"),
        (
            _TS_HEADER.replace("@timeStamps false", "@timeStamps true") + "1:2:a\n",
            "time",
        ),
    ],
)
def test_read_ts_rejects_malformed_files(text, match, tmp_path):
    path = tmp_path / "toy.ts"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        _read_ts(path)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (
            (_TS_HEADER + "1,abc:3,4:a\n").encode(),
            r"\(could not convert string to float: 'abc'\)",
        ),
        (_TS_HEADER.encode() + b"1,2:3,4:\xff\n", r"\(UnicodeDecodeError"),
        (_TS_HEADER.replace("@dimensions 2", "@dimensions two").encode(), "two"),
    ],
    ids=["not a number", "not utf-8", "dimensions"],
)
def test_uea_damaged_ts_file_is_named(data, match, tmp_path):
    """These escaped as a bare ValueError or UnicodeDecodeError naming no file."""
    folder = tmp_path / "uea" / "Epilepsy"
    folder.mkdir(parents=True)
    (folder / "Epilepsy_TEST.ts").write_text(_TS_HEADER + "1,2:3,4:a\n")
    (folder / "Epilepsy_TRAIN.ts").write_bytes(data)
    with pytest.raises(ValueError, match=r"Epilepsy_TRAIN.ts cannot be read.*" + match):
        load_uea("Epilepsy", tmp_path)


def test_uea_empty_arff_file_is_named(tmp_path):
    """An empty .arff let scipy's StopIteration escape load_uea."""
    folder = tmp_path / "uea" / "CharacterTrajectories"
    folder.mkdir(parents=True)
    for split in ("TRAIN", "TEST"):
        for channel in (1, 2, 3):
            name = f"CharacterTrajectoriesDimension{channel}_{split}.arff"
            (folder / name).write_bytes(b"")
    with pytest.raises(
        ValueError,
        match=r"Dimension1_TRAIN.arff cannot be read \(StopIteration",
    ):
        load_uea("CharacterTrajectories", tmp_path)


def test_uea_names_and_length_are_checked(tmp_path):
    with pytest.raises(ValueError, match="SpokenArabicDigits' is not available"):
        load_uea("SpokenArabicDigits", tmp_path)
    with pytest.raises(ValueError, match=r"one of \['Epilepsy'.*got 'epilepsy'"):
        load_uea("epilepsy", tmp_path)
    with pytest.raises(
        TypeError, match="length must be None or an int >= 2; got float"
    ):
        load_uea("Epilepsy", tmp_path, length=50.0)
    with pytest.raises(ValueError, match="int >= 2; got 1"):
        load_uea("Epilepsy", tmp_path, length=1)


def test_uea_missing_files_say_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("ALAD_DATA_HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError) as info:
        load_uea("Epilepsy")
    message = str(info.value)
    for split in ("TRAIN", "TEST"):
        assert (
            str(tmp_path / "home" / "uea" / "Epilepsy" / f"Epilepsy_{split}.ts")
            in message
        )
    assert "download=True" in message and "ALAD_DATA_HOME" in message
    assert not (tmp_path / "home").exists()  # reading never creates the data home
