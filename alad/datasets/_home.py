"""The data home: the folder where the loaders of real data find their files."""

__all__ = ["ENV_DATA_HOME", "get_data_home"]

import os
from pathlib import Path

#: Environment variable that points the loaders at a data home.
ENV_DATA_HOME = "ALAD_DATA_HOME"


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the path of the alad data home.

    The data home holds the files of the real data sets, one sub-folder per
    source, with the upstream file names (see Notes). The folder is not created
    here: reading never creates it, only a download (``download=True`` in a
    loader, or :func:`~alad.datasets.fetch_file`) does.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data home to use. When None, the environment variable
        ``ALAD_DATA_HOME`` is used if it is set and non-empty, else
        ``~/alad_data``. A leading ``~`` is expanded.

    Returns
    -------
    data_home : pathlib.Path
        The path of the data home, which need not exist.

    Notes
    -----
    The layout inside the data home is::

        gecco/geccoIC2018Train.csv.gz       (or gecco/geccoIC2018Train.rda)
        msl/labeled_anomalies.csv           (the MSL rows of telemanom's file)
        msl/train/<channel>.npy, msl/test/<channel>.npy
        ucr_anomaly/001_UCR_Anomaly_DISTORTED1sddb40_35000_52000_52620.txt
        odds/arrhythmia.mat, odds/cardio.mat, odds/lympho.mat
        odds/38_thyroid.npz
        uea/Epilepsy/Epilepsy_TRAIN.ts, uea/Epilepsy/Epilepsy_TEST.ts
        uea/NATOPS/NATOPS_{TRAIN,TEST}.ts
        uea/RacketSports/RacketSports_{TRAIN,TEST}.ts
        uea/CharacterTrajectories/CharacterTrajectoriesDimension{1,2,3}_{TRAIN,TEST}.arff

    Examples
    --------
    >>> from alad.datasets import get_data_home
    >>> get_data_home("/tmp/my_alad_data").as_posix()
    '/tmp/my_alad_data'
    """
    if data_home is None or data_home == "":
        # "" as the variable's: --data-home= is no path, not the current folder
        data_home = os.environ.get(ENV_DATA_HOME) or Path("~", "alad_data")
    elif not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(
            "data_home must be a str, a path-like object or None; "
            f"got {type(data_home).__name__}: {data_home!r}"
        )
    return Path(data_home).expanduser()
