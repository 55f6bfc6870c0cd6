"""make_telemetry: the embedded series of the demo and the tests."""

import numpy as np
import pytest

from alad.datasets import make_telemetry


def test_the_same_seed_gives_the_same_series():
    first, again = make_telemetry(random_state=3), make_telemetry(random_state=3)
    np.testing.assert_array_equal(first.X_test, again.X_test)
    np.testing.assert_array_equal(first.y_test, again.y_test)
    assert first.X_train.shape == (10_000, 5) and first.y_test.shape == (10_000,)
    assert first.anomaly_kinds and len(first.anomaly_kinds) == len(
        first.anomaly_segments
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_single_channel_series_is_made(seed):
    """Each anomaly picks one or two channels: with one channel, that one
    (it raised: two channels drawn out of one)."""
    data = make_telemetry(n_train=1000, n_test=3000, n_channels=1, random_state=seed)
    assert data.X_train.shape == (1000, 1) and data.X_test.shape == (3000, 1)
    assert np.isfinite(data.X_test).all()
    for start, stop in data.anomaly_segments:
        assert data.y_test[start:stop].all()


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_train": 0}, "n_train"),
        ({"n_train": 1}, "n_train"),  # no spread to size the anomalies by
        ({"n_train": "100"}, "n_train"),
        ({"n_test": 1000.0}, "n_test"),
        ({"n_channels": 0}, "n_channels"),
        ({"n_channels": True}, "n_channels"),
        ({"n_anomalies": -1}, "n_anomalies"),
        ({"n_bursts": 1.5}, "n_bursts"),
    ],
)
def test_bad_sizes_are_refused_by_name(params, name):
    with pytest.raises((ValueError, TypeError), match=name):
        make_telemetry(**params)
