"""Data and detectors shared by the reconstruction detector's tests."""

import pytest

from alad import ActiveReconstructionDetector
from alad.datasets import make_telemetry

#: windows of the tiny detectors, and their Transformer
W = 10
TINY = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16, "dropout": 0.1}


def tiny_detector(**params):
    """A detector small enough to fit in a second: windows of W, 2 epochs."""
    defaults = dict(
        window_size=W,
        max_epochs=2,
        backbone_params=TINY,
        random_state=0,
        top_k=2,
        n_bins=2,
        per_bin=1,
    )
    return ActiveReconstructionDetector(**{**defaults, **params})


@pytest.fixture(scope="session")
def make_tiny():
    """:func:`tiny_detector`, for test modules (conftest is not importable)."""
    return tiny_detector


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
