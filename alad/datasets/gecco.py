"""Loader of the GECCO 2018 drinking-water quality data, split as Lai et al. 2021."""

__all__ = ["load_gecco"]

import array
import csv
import gzip
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._fetch import reading, require_files
from ._home import get_data_home

FEATURE_NAMES = ("Tp", "Cl", "pH", "Redox", "Leit", "Trueb", "Cl_2", "Fm", "Fm_2")

_CSV = "gecco/geccoIC2018Train.csv.gz"
_RDA = "gecco/geccoIC2018Train.rda"
_FRAME = "geccoIC2018Train"
# Rows of geccoIC2018Train without NaN; half of them (rounded down) train.
_N_COMPLETE = 138_521

DESCR = """\
GECCO Industrial Challenge 2018: drinking-water quality
-------------------------------------------------------
Nine water-quality measurements (Tp, Cl, pH, Redox, Leit, Trueb, Cl_2, Fm,
Fm_2) sampled every minute by Thueringer Fernwasserversorgung, with an expert
EVENT label (1 = anomaly), table ``geccoIC2018Train`` of the R package
EventDetectR. Preprocessing of Lai et al. (NeurIPS 2021 benchmarks): rows with
any missing value dropped (138,521 of 139,566 kept), ``Time`` dropped, then a
chronological 50/50 split: 69,260 train rows (1.438 % anomalous) and 69,261
test rows (1.054 % anomalous).

Rehbach, Rebolledo, Moritz, Chandrasekaran, Bartz-Beielstein, "GECCO 2018
Industrial Challenge: Monitoring of drinking-water quality", 2018.
Lai, Zha, Xu, Zhao, Wang, Hu, "Revisiting time series outlier detection:
definitions and benchmarks", NeurIPS Datasets and Benchmarks, 2021.
"""


def load_gecco(
    data_home: str | os.PathLike | None = None, *, download: bool = False
) -> Bunch:
    """Load the GECCO 2018 water-quality data with the split of Lai et al. 2021.

    Reads ``gecco/geccoIC2018Train.csv.gz`` of the data home. Without it, reads
    the upstream original ``gecco/geccoIC2018Train.rda``, which needs the
    optional package ``pyreadr``; ``download=True`` fetches that ``.rda``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data home, see :func:`get_data_home`.
    download : bool, default=False
        Whether to download ``geccoIC2018Train.rda`` when neither file is in the
        data home.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        X_train : ndarray of shape (69260, 9), dtype float64
            The first half of the complete rows, in time order.
        y_train : ndarray of shape (69260,), dtype int64
            Its EVENT labels, 1 = anomaly (1.438 % of the rows). Unsupervised
            detectors usually ignore them; they are kept so that a user can
            choose (e.g. drop the anomalous rows from training).
        X_test : ndarray of shape (69261, 9), dtype float64
            The second half of the complete rows, in time order.
        y_test : ndarray of shape (69261,), dtype int64
            Its EVENT labels, 1 = anomaly (1.054 % of the rows).
        feature_names : list of str
            The nine variable names, in column order.
        name : str
            ``"gecco"``.
        DESCR : str
            Description of the data set.

    Raises
    ------
    FileNotFoundError
        If neither file is in the data home and `download` is False.
    ImportError
        If only the ``.rda`` file can be read and ``pyreadr`` is missing.
    ValueError
        If the table does not have the expected columns or row count.

    Notes
    -----
    The preprocessing is that of Lai et al. 2021 (TODS benchmark): drop the rows
    with a missing value, drop ``Time``, take ``EVENT`` as the label, and split
    the 138,521 remaining rows in time order, the first 69,260 to train and the
    last 69,261 to test. These counts are checked. The paper did not use the
    table ``geccoIC2018Test``, and neither does this loader.

    References
    ----------
    .. [1] Lai, Zha, Xu, Zhao, Wang, Hu, "Revisiting time series outlier
       detection: definitions and benchmarks", NeurIPS Datasets and Benchmarks,
       2021.

    Examples
    --------
    >>> from alad.datasets import load_gecco
    >>> data = load_gecco()  # doctest: +SKIP
    >>> data.X_train.shape, data.X_test.shape  # doctest: +SKIP
    ((69260, 9), (69261, 9))
    """
    home = get_data_home(data_home)
    if (home / _CSV).is_file():
        values, events = _read_csv(home / _CSV)
    elif (home / _RDA).is_file() or download:
        pyreadr = _import_pyreadr(home)
        require_files([_RDA], home, download=download)
        values, events = _read_rda(home / _RDA, pyreadr)
    else:  # neither file: require_files raises, naming both
        require_files(
            [_CSV],
            home,
            hint=(
                "The CSV is derived, not downloadable: download=True fetches the "
                f"upstream original {home / _RDA} instead, which stands in for it "
                "(read with the optional package pyreadr)."
            ),
        )
    complete = ~np.isnan(values).any(axis=1)
    X, y = values[complete], events[complete].astype(np.int64)
    if len(X) != _N_COMPLETE:
        raise ValueError(
            f"The GECCO table in {home / 'gecco'} has {len(X)} rows without "
            f"missing values; expected {_N_COMPLETE} (geccoIC2018Train, as in Lai "
            "et al. 2021). Is it another version of the file?"
        )
    split = len(X) // 2
    return Bunch(
        X_train=X[:split],
        y_train=y[:split],
        X_test=X[split:],
        y_test=y[split:],
        feature_names=list(FEATURE_NAMES),
        name="gecco",
        DESCR=DESCR,
    )


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return the nine variables (NaN where missing) and EVENT of the CSV form."""
    expected = ["Time", *FEATURE_NAMES, "EVENT"]
    # Parsed row by row into a flat array of floats: a list of the rows' string
    # cells took some 160 MB at peak to give 10 MB of values.
    values = array.array("d")
    events = bytearray()
    others: set[str] = set()
    with reading(path), gzip.open(path, "rt", newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader, [])
        if header != expected:
            raise ValueError(f"The header of {path} must be {expected}; got {header}")
        for row in reader:
            if len(row) != len(expected):
                raise ValueError(
                    f"line {reader.line_num} has {len(row)} fields, not {len(expected)}"
                )
            # Missing values are empty fields, which float() does not parse.
            values.extend(float(cell or "nan") for cell in row[1:-1])
            events.append(row[-1] == "True")
            if row[-1] not in ("True", "False"):
                others.add(row[-1])
    if others:
        raise ValueError(
            f"The EVENT column of {path} must hold True or False; got "
            f"{sorted(others)[:5]}"
        )
    values = np.frombuffer(values, dtype=np.float64).reshape(-1, len(FEATURE_NAMES))
    return values, np.frombuffer(events, dtype=bool)


def _import_pyreadr(home: Path):
    try:
        import pyreadr
    except ImportError as exc:
        raise ImportError(
            f"Reading {home / _RDA} needs the optional package pyreadr "
            f"(pip install pyreadr). Alternatively put the CSV form of the table "
            f"at {home / _CSV}."
        ) from exc
    return pyreadr


def _read_rda(path: Path, pyreadr) -> tuple[np.ndarray, np.ndarray]:
    """Return the nine variables and EVENT of the upstream R data file."""
    frames = pyreadr.read_r(str(path))
    if _FRAME not in frames:
        raise ValueError(
            f"{path} must hold the R object {_FRAME!r}; got {list(frames)}"
        )
    frame = frames[_FRAME]
    missing = [name for name in (*FEATURE_NAMES, "EVENT") if name not in frame]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}")
    values = np.column_stack(
        [frame[name].to_numpy(dtype=np.float64) for name in FEATURE_NAMES]
    )
    return values, frame["EVENT"].to_numpy(dtype=bool)
