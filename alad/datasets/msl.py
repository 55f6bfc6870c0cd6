"""Loader of the NASA MSL rover telemetry (Hundman et al. 2018), one entity each."""

__all__ = ["MSL_ENTITIES", "load_msl"]

import ast
import csv
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._fetch import check_finite, reading, require_files

#: The 27 MSL channels, sorted by name.
MSL_ENTITIES = (
    "C-1", "C-2", "D-14", "D-15", "D-16", "F-4", "F-5", "F-7", "F-8",
    "M-1", "M-2", "M-3", "M-4", "M-5", "M-6", "M-7", "P-10", "P-11",
    "P-14", "P-15", "S-2", "T-12", "T-13", "T-4", "T-5", "T-8", "T-9",
)  # fmt: skip

_LABELS = "msl/labeled_anomalies.csv"

DESCR = """\
MSL: NASA Mars Science Laboratory rover telemetry
-------------------------------------------------
27 channels (entities) of expert-labelled telemetry, 55 variables each: column 0
is the telemetry value, columns 1-54 are one-hot command indicators. The
training part of each channel is unlabelled and taken as normal; the test part
is labelled from ``anomaly_sequences`` of telemanom's labeled_anomalies.csv.
In all, 58,317 training rows and 73,729 test rows, 10.53 % of them anomalous.

Hundman, Constantinou, Laporte, Colwell, Soderstrom, "Detecting spacecraft
anomalies using LSTMs and nonparametric dynamic thresholding", KDD 2018.
"""


def load_msl(
    entity: str | None = None,
    data_home: str | os.PathLike | None = None,
    *,
    download: bool = False,
) -> Bunch | dict[str, Bunch]:
    """Load the MSL telemetry of one entity, or of all 27.

    Parameters
    ----------
    entity : str, default=None
        A channel name such as ``"C-1"``, one of ``MSL_ENTITIES``. When None,
        all entities are loaded.
    data_home : str or path-like, default=None
        The data home, see :func:`get_data_home`.
    download : bool, default=False
        Whether to download the missing files into the data home.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch` or dict of str to Bunch
        For one entity, a dictionary-like object with the following
        attributes; for ``entity=None``, a dict of such objects keyed by entity
        name, in sorted order.

        X_train : ndarray of shape (n_train, 55), dtype float64
            The training part, in time order.
        y_train : ndarray of shape (n_train,), dtype int64
            Zeros: the training part is unlabelled and taken as normal.
        X_test : ndarray of shape (n_test, 55), dtype float64
            The test part, in time order.
        y_test : ndarray of shape (n_test,), dtype int64
            1 inside a labelled anomaly sequence, else 0.
        anomaly_ranges : list of tuple of int
            The anomaly sequences as 0-based half-open ``(start, stop)`` row
            ranges of the test part, sorted.
        entity : str
            The channel name.
        name : str
            ``"msl"``.
        DESCR : str
            Description of the data set.

    Raises
    ------
    ValueError
        If `entity` is not an MSL channel, or a channel's labels disagree with
        its test file.
    FileNotFoundError
        If files are missing and `download` is False.

    Notes
    -----
    The ``[start, end]`` pairs of ``anomaly_sequences`` are 0-based and
    inclusive of ``end``: F-8's last sequence ends at 2486, the last row of
    its 2,487-row test part, and only inclusive ends give the 10.53 % anomalous
    test rows measured for the data set (exclusive ends give 10.48 %). It is
    also how the widely copied OmniAnomaly preprocessing reads them
    (``label[start:end + 1] = True``). The ``num_values`` column is checked
    against each test length.

    Only the rows whose ``spacecraft`` is ``MSL`` are read, so the upstream
    file with its SMAP rows serves as well as the filtered one. The test files of
    P-10 and P-14 are identical upstream; their labels differ.

    References
    ----------
    .. [1] Hundman, Constantinou, Laporte, Colwell, Soderstrom, "Detecting
       spacecraft anomalies using LSTMs and nonparametric dynamic
       thresholding", KDD 2018.

    Examples
    --------
    >>> from alad.datasets import load_msl
    >>> data = load_msl("C-1")  # doctest: +SKIP
    >>> data.X_train.shape, data.X_test.shape, int(data.y_test.sum())  # doctest: +SKIP
    ((2158, 55), (2264, 55), 312)
    """
    if entity is None:
        entities = MSL_ENTITIES
    elif isinstance(entity, str) and entity in MSL_ENTITIES:
        entities = (entity,)
    else:
        raise ValueError(
            f"entity must be None or one of the MSL channels {list(MSL_ENTITIES)}; "
            f"got {entity!r}"
        )
    paths = [_LABELS]
    for name in entities:
        paths += [f"msl/train/{name}.npy", f"msl/test/{name}.npy"]
    home = require_files(paths, data_home, download=download)
    sequences = _read_sequences(home / _LABELS)
    data = {name: _load_entity(home, name, *sequences[name]) for name in entities}
    return data if entity is None else data[entity]


def _read_sequences(path: Path) -> dict[str, tuple[list[list[int]], int]]:
    """Return ``{channel: (anomaly_sequences, num_values)}`` for the MSL rows."""
    with reading(path), open(path, newline="", encoding="utf-8") as file:
        # A row cut short (a cut download) gets empty cells, not None: int()
        # and literal_eval refuse "" with errors that reading() names the
        # file in, but int(None) is a TypeError it leaves alone.
        reader = csv.DictReader(file, restval="")
        rows = [row for row in reader if row["spacecraft"] == "MSL"]
        sequences = {
            row["chan_id"]: (
                _pairs(ast.literal_eval(row["anomaly_sequences"]), path),
                int(row["num_values"]),
            )
            for row in rows
        }
    if sorted(sequences) != list(MSL_ENTITIES):
        raise ValueError(
            f"{path} must have one MSL row for each of {list(MSL_ENTITIES)}; "
            f"got rows for {sorted(sequences)}"
        )
    return sequences


def _pairs(value, path: Path) -> list[list[int]]:
    """An ``anomaly_sequences`` cell: a list of ``[start, end]`` integer pairs."""
    if not (
        isinstance(value, list)
        and all(
            isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(v, int) for v in pair)
            for pair in value
        )
    ):
        raise ValueError(
            f"{path}: anomaly_sequences must be a list of [start, end] integer "
            f"pairs; got {value!r}"
        )
    return [list(pair) for pair in value]


def _load_array(path: Path) -> np.ndarray:
    with reading(path):
        values = np.load(path, allow_pickle=False)
    if values.ndim != 2:
        raise ValueError(
            f"{path} must hold a 2-D array (timesteps x channels); got shape "
            f"{values.shape}"
        )
    return check_finite(values, path)


def _load_entity(
    home: Path, entity: str, sequences: list[list[int]], num_values: int
) -> Bunch:
    X_train, X_test = (
        _load_array(home / "msl" / part / f"{entity}.npy") for part in ("train", "test")
    )
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(
            f"The train and test files of {entity} must have the same channels; "
            f"got {X_train.shape[1]} and {X_test.shape[1]}"
        )
    if len(X_test) != num_values:
        raise ValueError(
            f"labeled_anomalies.csv gives num_values={num_values} for {entity}, "
            f"but its test file has {len(X_test)} rows"
        )
    # Inclusive [start, end] pairs become half-open ranges (see Notes of load_msl).
    ranges = sorted((start, end + 1) for start, end in sequences)
    y_test = np.zeros(len(X_test), dtype=np.int64)
    for start, stop in ranges:
        if not 0 <= start < stop <= len(X_test):
            raise ValueError(
                f"The anomaly sequence [{start}, {stop - 1}] of {entity} must lie "
                f"within its {len(X_test)} test rows"
            )
        y_test[start:stop] = 1
    return Bunch(
        X_train=X_train.astype(np.float64, copy=False),
        y_train=np.zeros(len(X_train), dtype=np.int64),
        X_test=X_test.astype(np.float64, copy=False),
        y_test=y_test,
        anomaly_ranges=ranges,
        entity=entity,
        name="msl",
        DESCR=DESCR,
    )
