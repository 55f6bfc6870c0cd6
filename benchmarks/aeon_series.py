"""Two anomaly-detection series from aeon's wheel: validation data the
shared data sets do not hold.

aeon (https://www.aeon-toolkit.org, BSD-3-Clause) ships, inside its PyPI
wheel, a few series from public anomaly benchmarks; two are used here to
check rules about univariate series (never to report a result):

- ``ib16``: UCR anomaly archive 135, InternalBleeding16 (a physiological
  signal; train rows 0-1199, one anomaly at rows 4187-4198);
- ``ecgdiff``: GutenTAG's ecg-diff-count-3 (synthetic ECG; its anomaly-free
  training series and its test series, three anomalies).

The wheel is downloaded once with pip (``pip download aeon==1.6.0
--no-deps``) into ``alad_output/aeon_series`` (git-ignored) and read from
there; nothing is committed.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

WHEEL_VERSION = "1.6.0"
CACHE = Path(__file__).parent.parent / "alad_output" / "aeon_series"
_DATA = "aeon/datasets/data/"
FILES = {
    "ib16": ("KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TEST.csv", None, 1200),
    "ecgdiff": (
        "UnitTest/ecg-diff-count-3_TEST.csv",
        "UnitTest/ecg-diff-count-3_TRAIN_NA.csv",
        None,
    ),
}


def wheel(cache: Path = CACHE) -> Path:
    """aeon's wheel, downloaded with pip into ``cache`` the first time."""
    found = sorted(cache.glob(f"aeon-{WHEEL_VERSION}-*.whl"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q"]
            + ["-d", str(cache), f"aeon=={WHEEL_VERSION}"],
            check=True,
        )
        found = sorted(cache.glob(f"aeon-{WHEEL_VERSION}-*.whl"))
    return found[0]


def _read(archive: zipfile.ZipFile, member: str) -> np.ndarray:
    with archive.open(_DATA + member) as f:
        # columns: timestamp, value, is_anomaly (header skipped)
        return np.loadtxt(f, delimiter=",", skiprows=1, usecols=(1, 2))


def load(names=None, cache: Path = CACHE):
    """Tasks ``aeon/<name>`` (univariate train, test and test labels)."""
    from alad.experiments.tasks import Task

    tasks = []
    with zipfile.ZipFile(wheel(cache)) as archive:
        for name in names or FILES:
            test_file, train_file, split_at = FILES[name]
            test = _read(archive, test_file)
            if train_file is None:  # one series: the archive's training prefix
                train, test = test[:split_at], test[split_at:]
            else:
                train = _read(archive, train_file)
            tasks.append(
                Task(
                    "aeon",
                    name,
                    train[:, :1],
                    test[:, :1],
                    test[:, 1].astype(np.int64),
                )
            )
    return tasks
