"""A labelled series of your own, from a file, as a training prefix and a test part."""

from __future__ import annotations

import csv
import os
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._fetch import check_finite

__all__ = ["load_series_file"]

#: TSB-AD's file names end in ``_tr_<train end>_<first anomaly>_<...>``
_TRAIN_END = re.compile(r"_tr_(\d+)_[^_]+_[^_]+$")


def load_series_file(path: str | os.PathLike) -> Bunch:
    """Load a labelled multivariate series from a file, split for training.

    Two layouts:

    - ``.npz`` with the arrays ``X_train`` (the anomaly-free training part,
      ``(n_train,)`` or ``(n_train, n_channels)``), ``X_test`` (the rest, the
      same channels) and ``y_test`` (``(n_test,)``, 1 = anomalous timestep);
    - ``.csv`` as TSB-AD ships its series: a header row, one column per
      channel and a last column ``Label`` (0/1 per timestep), the length of the
      training prefix in the file name (``..._tr_<n>_<...>_<...>.csv``, as
      ``001_NAB_id_1_Facility_tr_1007_1st_2014.csv``). As TSB-AD does, rows
      with a missing value are dropped before the prefix is cut. TSB-AD's
      prefix is meant for training; labels inside it are not used.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        X_train : ndarray of shape (n_train, n_channels), dtype float64
            The training part.
        X_test : ndarray of shape (n_test, n_channels), dtype float64
            The rest of the series.
        y_test : ndarray of shape (n_test,), dtype int64
            1 on anomalous timesteps of ``X_test``, else 0.
        train_end : int
            The number of training timesteps.
        name : str
            The file's name without its suffix.

    Raises
    ------
    ValueError
        If the file's layout, labels or split do not fit the above.
    FileNotFoundError
        If there is no such file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "mine.npz")
    >>> np.savez(path, X_train=np.zeros(8), X_test=np.ones(4),
    ...          y_test=np.array([0, 1, 1, 0]))
    >>> data = load_series_file(path)
    >>> data.X_train.shape, data.X_test.shape, int(data.y_test.sum())
    ((8, 1), (4, 1), 2)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or os.PathLike); got {path!r}.")
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no such series file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        X_train, X_test, y_test = _read_npz(path)
    elif suffix == ".csv":
        X_train, X_test, y_test = _read_tsbad_csv(path)
    else:
        raise ValueError(
            f"a series file must be .npz (X_train, X_test, y_test) or TSB-AD's "
            f".csv; got {path.name}."
        )
    if X_train.shape[1] == 0:
        raise ValueError(f"{path.name} holds labels and no channel of data.")
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(
            f"{path.name}: X_train has {X_train.shape[1]} channel(s), X_test "
            f"{X_test.shape[1]}."
        )
    if len(y_test) != len(X_test):
        raise ValueError(
            f"{path.name}: y_test has {len(y_test)} labels for {len(X_test)} test "
            "timesteps."
        )
    if not set(np.unique(y_test)) <= {0, 1}:
        raise ValueError(f"{path.name}: the labels must be 0 (normal) and 1 (anomaly).")
    for name, X in (("X_train", X_train), ("X_test", X_test)):
        if len(X) == 0:
            raise ValueError(f"{path.name}: {name} is empty.")
        check_finite(X, f"{path.name}: {name}")
    return Bunch(
        X_train=X_train,
        X_test=X_test,
        y_test=y_test.astype(np.int64),
        train_end=len(X_train),
        name=path.stem,
    )


def _numbers(array) -> np.ndarray:
    """``array`` as float64, or a ValueError where it is not real numbers:
    numeric strings ("1.5") and complex values converted quietly before."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"an array of {array.dtype}")
    return array.astype(np.float64)


def _as_2d(array) -> np.ndarray:
    array = _numbers(array)
    return array.reshape(-1, 1) if array.ndim == 1 else array


def _read_npz(path: Path):
    not_archive = ValueError(
        f"{path.name} is not a NumPy .npz archive (np.savez) of the arrays "
        "X_train, X_test and y_test."
    )
    try:  # np.load's own message for a file that is no archive speaks of pickles
        arrays = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile):
        raise not_archive from None
    if not isinstance(arrays, np.lib.npyio.NpzFile):
        raise not_archive
    with arrays:
        missing = {"X_train", "X_test", "y_test"} - set(arrays.files)
        if missing:
            raise ValueError(f"{path.name} lacks the arrays {sorted(missing)}.")
        try:
            X_train, X_test = _as_2d(arrays["X_train"]), _as_2d(arrays["X_test"])
            y_test = _numbers(arrays["y_test"])
        except (ValueError, TypeError, zipfile.BadZipFile):
            raise ValueError(
                f"{path.name}: X_train, X_test and y_test must be arrays of real "
                "numbers, not of strings, complex values or Python objects."
            ) from None
    if X_train.ndim != 2 or X_test.ndim != 2:
        raise ValueError(f"{path.name}: X_train and X_test must be 1-D or 2-D.")
    if y_test.ndim == 2 and y_test.shape[1] == 1:
        y_test = y_test[:, 0]
    if y_test.ndim != 1:
        raise ValueError(
            f"{path.name}: y_test must be one label per test timestep, of shape "
            f"(n_test,); got shape {y_test.shape}."
        )
    return X_train, X_test, y_test


def _read_tsbad_csv(path: Path):
    match = _TRAIN_END.search(path.stem)
    if match is None:
        raise ValueError(
            f"{path.name}: the training prefix's length is not in the name (TSB-AD "
            "names end in _tr_<n>_<...>_<...>.csv); rename it or save an .npz "
            "with X_train, X_test and y_test."
        )
    # UTF-8 whatever the locale, a spreadsheet's byte-order mark dropped
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            # blank lines (an editor's or a spreadsheet's last ones) are no
            # rows, as pandas, and so TSB-AD, reads them
            lines = [row for row in csv.reader(f) if any(v.strip() for v in row)]
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path.name} is not UTF-8 text ({err.reason} at byte {err.start}); "
            "save it as UTF-8."
        ) from None
    if not lines:
        raise ValueError(f"{path.name} is empty.")
    header, *rows = lines
    if "Label" not in header:
        raise ValueError(f"{path.name} has no column 'Label'; its columns: {header}.")
    if header.count("Label") > 1:
        # the second would be read as a channel: the labels among the data
        raise ValueError(f"{path.name} has {header.count('Label')} columns 'Label'.")
    if not rows:
        raise ValueError(f"{path.name} has a header and no rows.")
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise ValueError(
                f"{path.name}: data row {number} (blank lines not counted) has "
                f"{len(row)} fields, the header {len(header)}."
            )
    if not header[0].strip():
        warnings.warn(
            f"{path.name}: its first column has no name (a DataFrame's index, "
            "written by to_csv?); it is read as a channel, as TSB-AD reads it. "
            "Save with index=False if it is not data.",
            UserWarning,
            stacklevel=3,
        )
    try:
        # a missing value reads as NaN, and its row is dropped below
        table = np.array(
            [[float(v) if v.strip() else np.nan for v in row] for row in rows],
            dtype=np.float64,
        )
    except ValueError as err:
        raise ValueError(
            f"{path.name} holds a value that is not a number: {err}"
        ) from None
    complete = ~np.isnan(table).any(axis=1)
    if not complete.all():
        warnings.warn(
            f"{path.name}: {int((~complete).sum())} row(s) with a missing value "
            "dropped before the training prefix is cut, as TSB-AD does.",
            UserWarning,
            stacklevel=3,
        )
    table = table[complete]
    label = header.index("Label")
    values, y = np.delete(table, label, axis=1), table[:, label]
    train_end = int(match.group(1))
    if not 0 < train_end < len(table):
        raise ValueError(
            f"{path.name}: a training prefix of {train_end} rows does not fit "
            f"{len(table)} rows."
        )
    return values[:train_end], values[train_end:], y[train_end:]
