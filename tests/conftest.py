"""Shared pytest configuration and fixtures."""

import os
from pathlib import Path

import pytest

# Point the loaders at the shared real data when nobody chose a data home, so
# that a plain `pytest` in a checkout beside ../shared finds it.
_SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
if not os.environ.get("ALAD_DATA_HOME") and _SHARED_DATA.is_dir():
    os.environ["ALAD_DATA_HOME"] = str(_SHARED_DATA)


@pytest.fixture(scope="session")
def data_home() -> Path:
    """Return the data home with the real data sets, or skip the test."""
    path = os.environ.get("ALAD_DATA_HOME")
    if not path or not Path(path).is_dir():
        pytest.skip(
            "real data not found: set ALAD_DATA_HOME to a data home "
            "(e.g. ../shared/datasets)"
        )
    return Path(path)


@pytest.fixture(scope="session")
def small_telemetry():
    """A short 3-channel telemetry series for tests of whole labelling rounds."""
    from alad.datasets import make_telemetry

    return make_telemetry(
        n_train=600,
        n_test=1200,
        n_channels=3,
        n_anomalies=4,
        n_bursts=2,
        random_state=1,
    )
