"""Fixtures of the labelling tests: one tiny fitted detector and its pool."""

import numpy as np
import pytest

from alad import ActiveReconstructionDetector
from alad.datasets import make_telemetry

TINY = {
    "window_size": 20,
    "max_epochs": 1,
    "feedback_epochs": 2,
    "backbone_params": {"d_model": 16, "d_ff": 16, "n_heads": 2, "n_layers": 1},
    "random_state": 0,
}


def tiny_detector(**params):
    return ActiveReconstructionDetector(**{**TINY, **params})


@pytest.fixture
def tiny_params():
    """The tiny detector's parameters, without its random_state."""
    return {k: v for k, v in TINY.items() if k != "random_state"}


@pytest.fixture(scope="module")
def telemetry():
    return make_telemetry(n_train=2000, n_test=2000, random_state=0)


@pytest.fixture(scope="module")
def fitted(telemetry):
    """A fitted detector; clone-free copies come from ``fresh`` below."""
    return tiny_detector().fit(telemetry.X_train)


@pytest.fixture
def fresh(fitted):
    """An independent copy of the fitted detector (deep copy, no refit)."""
    import copy

    return copy.deepcopy(fitted)


@pytest.fixture(scope="module")
def pool(telemetry):
    return np.ascontiguousarray(telemetry.X_test[:1000])


@pytest.fixture(scope="module")
def pool_truth(telemetry):
    return telemetry.y_test[:1000].astype(np.float64)
