"""Loader of four UEA multivariate time-series classification sets (Bagnall 2018)."""

__all__ = ["UEA_NAMES", "load_uea"]

import numbers
import os
from pathlib import Path

import numpy as np
import scipy.io.arff
from sklearn.utils import Bunch

from ._fetch import reading, require_files

#: The names `load_uea` accepts.
UEA_NAMES = ("Epilepsy", "NATOPS", "RacketSports", "CharacterTrajectories")

_SPLITS = ("TRAIN", "TEST")

DESCR = """\
UEA multivariate time-series classification archive 2018 (four sets)
--------------------------------------------------------------------
Classification sets used for anomaly detection by taking some classes as
normal (one-vs-rest, m-vs-rest). Cases (train/test), channels, length, classes:
Epilepsy 137/138, 3, 206, 4 classes; NATOPS 180/180, 24, 51, 6 classes;
RacketSports 151/152, 6, 30, 4 classes; CharacterTrajectories 1,422/1,436, 3,
60 to 182 (unequal lengths), 20 classes.

Bagnall, Dau, Lines, Flynn, Large, Bostrom, Southam, Keogh, "The UEA
multivariate time series classification archive, 2018", arXiv:1811.00075.
"""


def load_uea(
    name: str,
    data_home: str | os.PathLike | None = None,
    *,
    download: bool = False,
    length: int | None = None,
) -> Bunch:
    """Load one of four UEA multivariate time-series classification sets.

    Epilepsy, NATOPS and RacketSports are read from sktime's ``.ts`` files,
    CharacterTrajectories from the archive's three per-channel ``.arff`` files.

    Parameters
    ----------
    name : {"Epilepsy", "NATOPS", "RacketSports", "CharacterTrajectories"}
        The data set.
    data_home : str or path-like, default=None
        The data home, see :func:`get_data_home`.
    download : bool, default=False
        Whether to download the missing files into the data home.
    length : int, default=None
        When given, every series is linearly resampled from its real length to
        `length` points, so that the arrays hold no NaN. When None, series keep
        their length and shorter ones are padded with NaN at the end.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        X_train : ndarray of shape (n_train, n_timestamps, n_channels)
            The training series, dtype float64; ``n_timestamps`` is the longest
            length, or `length`.
        y_train : ndarray of shape (n_train,), dtype str
            The class labels of the training series.
        lengths_train : ndarray of shape (n_train,), dtype int64
            The real length of each training series, before any resampling.
        X_test : ndarray of shape (n_test, n_timestamps, n_channels)
            The test series.
        y_test : ndarray of shape (n_test,), dtype str
            The class labels of the test series.
        lengths_test : ndarray of shape (n_test,), dtype int64
            The real length of each test series.
        classes : ndarray of str
            The class labels, sorted as strings (so ``"10"`` precedes ``"2"``).
        name : str
            The data set name.
        DESCR : str
            Description of the data sets.

    Raises
    ------
    ValueError
        If `name` is not one of the four names (SpokenArabicDigits, also used
        by the NAF-AL paper, has no fetchable copy), `length` is below 2, or a
        file is malformed.
    TypeError
        If `length` is not an int.
    FileNotFoundError
        If files are missing and `download` is False.

    See Also
    --------
    one_vs_rest_split : Normal classes versus the rest, for anomaly detection.

    Notes
    -----
    The resampling puts `length` points evenly on ``[0, real length - 1]`` and
    interpolates linearly between the two nearest samples, all series and
    channels at once; the result equals ``np.interp`` applied to each series
    and channel over its real length.

    In CharacterTrajectories each case has 182 value slots, the unused ones
    ``?`` at the end; the real lengths are 60 to 180 (train) and 61 to 182
    (test). The three channel files must agree on labels case by case, which is
    checked. In 21 TRAIN and 19 TEST cases one channel stops 10 to 27 steps
    before the other two, on a value of at most 4e-6 in magnitude (full-length
    channels end at 1.3e-3 or more): the values, written with 6 decimals, had
    decayed to 0.000000 and were cut off as if they were padding. They are
    restored as zeros, so a case has one length for all its channels.

    References
    ----------
    .. [1] Bagnall, Dau, Lines, Flynn, Large, Bostrom, Southam, Keogh, "The UEA
       multivariate time series classification archive, 2018",
       arXiv:1811.00075.

    Examples
    --------
    >>> from alad.datasets import load_uea
    >>> data = load_uea("Epilepsy")  # doctest: +SKIP
    >>> data.X_train.shape, list(data.classes)  # doctest: +SKIP
    ((137, 206, 3), ['EPILEPSY', 'RUNNING', 'SAWING', 'WALKING'])
    """
    if name == "SpokenArabicDigits":
        raise ValueError(
            "name='SpokenArabicDigits' is not available: no fetchable copy of it "
            f"was found; name must be one of {list(UEA_NAMES)}"
        )
    if not isinstance(name, str) or name not in UEA_NAMES:
        raise ValueError(f"name must be one of {list(UEA_NAMES)}; got {name!r}")
    if length is not None:
        if not isinstance(length, numbers.Integral) or isinstance(length, bool):
            raise TypeError(
                f"length must be None or an int >= 2; got "
                f"{type(length).__name__}: {length!r}"
            )
        if length < 2:
            raise ValueError(f"length must be None or an int >= 2; got {length}")
    files = {split: _files(name, split) for split in _SPLITS}
    home = require_files(
        [path for paths in files.values() for path in paths],
        data_home,
        download=download,
    )
    data = Bunch(name=name, DESCR=DESCR)
    for split, key in zip(_SPLITS, ("train", "test")):
        paths = [home / path for path in files[split]]
        if name == "CharacterTrajectories":
            X, labels = _read_arff_channels(paths)
        else:
            X, labels = _read_ts(paths[0])
        lengths = _real_lengths(X, paths[0])
        if length is not None:
            X = _resample(X, lengths, int(length))
        data[f"X_{key}"] = X
        data[f"y_{key}"] = labels
        data[f"lengths_{key}"] = lengths
    data.classes = np.unique(np.concatenate([data.y_train, data.y_test]))
    return data


def _files(name: str, split: str) -> list[str]:
    if name == "CharacterTrajectories":
        return [
            f"uea/{name}/{name}Dimension{channel}_{split}.arff" for channel in (1, 2, 3)
        ]
    return [f"uea/{name}/{name}_{split}.ts"]


def _read_ts(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an sktime ``.ts`` file into NaN-padded (n, T, C) values and labels."""
    header: dict[str, str] = {}
    series: list[list[np.ndarray]] = []
    labels: list[str] = []
    with reading(path), open(path, encoding="utf-8") as file:
        for line in file:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "data" not in header:
                if not line.startswith("@"):
                    raise ValueError(
                        f"{path}: before @data, lines must be comments (#) or "
                        f"headers (@); got {line[:40]!r}"
                    )
                key, _, value = line[1:].partition(" ")
                header[key.lower()] = value.strip()
                continue
            *channels, label = line.split(":")
            # '?' marks a missing value; numpy parses "nan" but not "?".
            series.append(
                [
                    np.array(values.replace("?", "nan").split(","), dtype=np.float64)
                    for values in channels
                ]
            )
            labels.append(label.strip())
    if header.get("timestamps", "false").lower() != "false":
        raise ValueError(f"{path}: time-stamped .ts files are not supported")
    n_channels = {len(channels) for channels in series}
    with reading(path):
        expected = int(header.get("dimensions", next(iter(n_channels), 0)))
    if not series or n_channels != {expected}:
        raise ValueError(
            f"{path}: every case must have @dimensions={expected} channels; got "
            f"{sorted(n_channels)}"
        )
    declared = header.get("classlabel", "").split()
    if declared[:1] != ["true"] or not set(labels) <= set(declared[1:]):
        raise ValueError(
            f"{path}: labels must be declared by '@classLabel true ...'; got "
            f"@classLabel {header.get('classlabel')!r} and labels {sorted(set(labels))}"
        )
    n_timestamps = max(len(values) for channels in series for values in channels)
    X = np.full((len(series), n_timestamps, expected), np.nan)
    for i, channels in enumerate(series):
        for c, values in enumerate(channels):
            X[i, : len(values), c] = values
    return X, np.array(labels)


def _read_arff_channels(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Stack univariate ``.arff`` files, one per channel, into (n, T, C) values."""
    channels, labels = [], None
    for path in paths:
        with reading(path):
            data, meta = scipy.io.arff.loadarff(path)
        names = meta.names()
        if meta.types()[-1] != "nominal":
            raise ValueError(
                f"{path}: the last attribute must be the nominal class label; got "
                f"{names[-1]!r} of type {meta.types()[-1]!r}"
            )
        values = np.column_stack([data[column] for column in names[:-1]])
        channel_labels = np.array([label.decode() for label in data[names[-1]]])
        if labels is None:
            labels = channel_labels
        elif not np.array_equal(labels, channel_labels):
            raise ValueError(
                f"{path}: the cases must have the same order and labels as in "
                f"{paths[0]}; the labels differ"
            )
        channels.append(values.astype(np.float64))
    X = np.stack(channels, axis=-1)
    _fill_stripped_zeros(X, paths)
    return X, labels


# Values are written with 6 decimals: a channel that decays to zero ends on a
# value this small before its stripped tail.
_STRIPPED_TAIL_ATOL = 1e-5


def _fill_stripped_zeros(X: np.ndarray, paths: list[Path]) -> None:
    """Put back, in place, the zeros cut from the end of some channels.

    In some cases of the per-channel files one channel stops earlier than the
    others (21 TRAIN and 19 TEST channels of CharacterTrajectories, 10 to 27
    steps early). Each such channel ends on a value of at most 4e-6 in
    magnitude, whereas channels that run to the end of their case end at 1.3e-3
    or more: the velocity had decayed to 0.000000 and the conversion stripped
    those zeros as if they were padding. They are restored as 0.0.
    """
    n_timestamps = X.shape[1]
    observed = ~np.isnan(X)
    # Per case and channel: index of the last observed step, plus one.
    ends = n_timestamps - np.argmax(observed[:, ::-1, :], axis=1)
    ends[~observed.any(axis=1)] = 0
    case_ends = ends.max(axis=1, keepdims=True)
    cases, channels = np.nonzero(ends < case_ends)
    last = X[cases, ends[cases, channels] - 1, channels]
    if np.any(ends[cases, channels] == 0) or np.any(np.abs(last) > _STRIPPED_TAIL_ATOL):
        raise ValueError(
            f"The channel files {[path.name for path in paths]} must give each case "
            "the same length in every channel, up to trailing zeros cut off; "
            f"case {cases[0]} differs"
        )
    steps = np.arange(n_timestamps)[None, :, None]
    X[(steps >= ends[:, None, :]) & (steps < case_ends[:, :, None])] = 0.0


def _real_lengths(X: np.ndarray, path: Path) -> np.ndarray:
    """Return the length of each series without its NaN padding at the end."""
    observed = ~np.isnan(X).all(axis=2)
    # Index of the last observed step, counted from the end.
    lengths = X.shape[1] - np.argmax(observed[:, ::-1], axis=1)
    lengths[~observed.any(axis=1)] = 0
    inside = np.arange(X.shape[1]) < lengths[:, None]
    if (lengths == 0).any() or np.isnan(X[inside]).any():
        raise ValueError(
            f"{path}: series must be non-empty with missing values only as "
            "padding at the end"
        )
    return lengths.astype(np.int64)


def _resample(X: np.ndarray, lengths: np.ndarray, length: int) -> np.ndarray:
    """Linearly resample each series of X over its real length to `length` points."""
    last = (lengths - 1)[:, None]
    positions = np.linspace(0.0, 1.0, length) * last  # (n, length)
    left = np.floor(positions).astype(np.int64)
    right = np.minimum(left + 1, last)
    weight = (positions - left)[:, :, None]
    rows = np.arange(len(X))[:, None]
    return X[rows, left] * (1.0 - weight) + X[rows, right] * weight
