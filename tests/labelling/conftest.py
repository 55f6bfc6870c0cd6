"""Fixtures of the labelling tests: one tiny fitted detector and its pool."""

import contextlib
import subprocess
import sys

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


@contextlib.contextmanager
def held_by_another_process(path):
    """Hold the session folder ``path`` from another Python process, as the
    page of a second ``alad label`` (or a script labelling it) would."""
    code = (
        "import sys\n"
        "from alad.labelling.session import writer_lock\n"
        "with writer_lock(sys.argv[1]):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        holder.stdin.close()  # the holder's read ends: it lets go and exits
        holder.wait(timeout=60)
