"""Data shared by the reconstruction detector's tests."""

import pytest

from alad.datasets import make_telemetry


@pytest.fixture(scope="module")
def data():
    """A short 3-channel telemetry series with spikes and bursts (seed 1)."""
    return make_telemetry(
        n_train=1500,
        n_test=3000,
        n_channels=3,
        n_anomalies=6,
        n_bursts=3,
        random_state=1,
    )
