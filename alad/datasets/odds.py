"""Loader of four tabular ODDS outlier-detection sets (Rayana 2016)."""

__all__ = ["ODDS_NAMES", "load_odds"]

import os

import numpy as np
import scipy.io
from sklearn.utils import Bunch

from ._fetch import check_finite, reading, require_files

_FILES = {
    "arrhythmia": "odds/arrhythmia.mat",
    "cardio": "odds/cardio.mat",
    "lympho": "odds/lympho.mat",
    # No ODDS thyroid.mat is fetchable; ADBench ships the same table as .npz.
    "thyroid": "odds/38_thyroid.npz",
}

#: The names `load_odds` accepts.
ODDS_NAMES = tuple(_FILES)

DESCR = """\
ODDS: Outlier Detection DataSets (Rayana 2016, Stony Brook University)
---------------------------------------------------------------------
Tabular sets derived from UCI data, with outliers labelled 1:
arrhythmia 452 x 274 (66 outliers), cardio (Cardiotocography) 1,831 x 21 (176),
lympho (Lymphography) 148 x 18 (6), thyroid (ann-thyroid) 3,772 x 6 (93).
arrhythmia, cardio and lympho are the .mat files of ODDS (as shipped by PyOD);
thyroid is ADBench's 38_thyroid.npz, which has the ODDS shape and outlier count.

Rayana, "ODDS Library", http://odds.cs.stonybrook.edu, 2016.
"""


def load_odds(
    name: str,
    data_home: str | os.PathLike | None = None,
    *,
    download: bool = False,
) -> Bunch:
    """Load one of four tabular ODDS outlier-detection sets.

    Parameters
    ----------
    name : {"arrhythmia", "cardio", "lympho", "thyroid"}
        The data set.
    data_home : str or path-like, default=None
        The data home, see :func:`get_data_home`.
    download : bool, default=False
        Whether to download the file when it is not in the data home.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        X : ndarray of shape (n_samples, n_features), dtype float64
            The samples: arrhythmia (452, 274), cardio (1831, 21),
            lympho (148, 18), thyroid (3772, 6).
        y : ndarray of shape (n_samples,), dtype int64
            1 = outlier (66, 176, 6 and 93 of them), 0 = inlier.
        name : str
            The data set name.
        DESCR : str
            Description of the data sets.

    Raises
    ------
    ValueError
        If `name` is not one of the four names, or the file's labels are not
        0/1.
    FileNotFoundError
        If the file is missing and `download` is False.

    See Also
    --------
    novelty_split : The train/test protocol of Zong et al. 2018 for these sets.

    References
    ----------
    .. [1] Rayana, "ODDS Library", http://odds.cs.stonybrook.edu, 2016.
    .. [2] Han, Hu, Huang, Jiang, Zhao, "ADBench: anomaly detection benchmark",
       NeurIPS 2022.

    Examples
    --------
    >>> from alad.datasets import load_odds
    >>> data = load_odds("cardio")  # doctest: +SKIP
    >>> data.X.shape, int(data.y.sum())  # doctest: +SKIP
    ((1831, 21), 176)
    """
    if not isinstance(name, str) or name not in _FILES:
        raise ValueError(f"name must be one of {list(ODDS_NAMES)}; got {name!r}")
    relative_path = _FILES[name]
    home = require_files([relative_path], data_home, download=download)
    path = home / relative_path
    with reading(path):
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                X, y = arrays["X"], arrays["y"]
        else:
            arrays = scipy.io.loadmat(path)
            X, y = arrays["X"], arrays["y"]
    y = np.ravel(y)
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"The labels y of {path} must be 0 or 1; got {np.unique(y)}")
    return Bunch(
        X=check_finite(np.asarray(X, dtype=np.float64), path),
        y=y.astype(np.int64),
        name=name,
        DESCR=DESCR,
    )
