"""The embedded default: labelled telemetry with noisy normals and subtle anomalies."""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ..validation import check_count

__all__ = ["make_telemetry"]

_ANOMALY_KINDS = ("level_shift", "damping", "decoupling", "frequency")


def make_telemetry(
    n_train: int = 10_000,
    n_test: int = 10_000,
    n_channels: int = 5,
    *,
    n_anomalies: int | None = None,
    n_bursts: int | None = None,
    random_state=None,
) -> Bunch:
    """Generate a multivariate sensor series that is hard for unsupervised detectors.

    The difficulty of Figure 1 of Han et al.: besides subtle anomalies, the
    test part holds bursts of benign noise. An unsupervised reconstruction
    model scores the bursts high (false positives) and reconstructs the
    subtle anomalies well (false negatives); a few labels fix both.

    - Normal behaviour: each channel mixes three shared periodic drivers
      (periods 40, 97 and 230 steps) through a random mixing matrix, plus a
      small Gaussian noise; channels are therefore correlated.
    - Noisy-but-normal bursts (label 0): 40-120 steps of a fast, strong
      oscillation (period 7 steps, peak amplitude 3 channel standard
      deviations times a random loading per channel) that runs
      through all channels together. Such bursts never
      occur in the training part, so an unsupervised model scores them high,
      yet they are benign and always have the same shape: a few labelled
      examples teach the model to reconstruct them.
    - Subtle anomalies (label 1), 30-150 steps each, on one or two channels:
      a level shift of 0.3 standard deviations, damping of the periodic part
      to 55 %, decoupling (a channel stops following one of its drivers), or a
      25 % change of a driver's frequency.

    Parameters
    ----------
    n_train, n_test : int, default=10000
        Length of the anomaly-free training part and of the labelled test part.
    n_channels : int, default=5
    n_anomalies : int or None, default=None
        Anomalous segments in the test part; default ``n_test // 800``.
    n_bursts : int or None, default=None
        Noise bursts in the test part; default ``n_test // 1000``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X_train (n_train, n_channels)``, ``y_train`` (zeros), ``X_test``,
        ``y_test`` (1 = anomaly), ``anomaly_segments`` and ``burst_segments``
        (``(start, stop)`` pairs in test coordinates), ``anomaly_kinds``,
        ``feature_names`` and ``DESCR``.

    Examples
    --------
    >>> from alad.datasets import make_telemetry
    >>> data = make_telemetry(n_train=1000, n_test=2000, random_state=0)
    >>> data.X_train.shape, data.X_test.shape
    ((1000, 5), (2000, 5))
    >>> bool(0 < data.y_test.mean() < 0.2)
    True
    """
    # the training part gives each channel's spread, which sizes the anomalies
    n_train = check_count(n_train, "n_train", minimum=2)
    n_test = check_count(n_test, "n_test")
    n_channels = check_count(n_channels, "n_channels")
    n_anomalies = check_count(n_anomalies, "n_anomalies", minimum=0, allow_none=True)
    n_bursts = check_count(n_bursts, "n_bursts", minimum=0, allow_none=True)
    rng = check_random_state(random_state)
    n_total = n_train + n_test
    t = np.arange(n_total, dtype=np.float64)
    periods = np.array([40.0, 97.0, 230.0])
    phases = rng.uniform(0, 2 * np.pi, size=3)
    drivers = np.sin(2 * np.pi * t[:, None] / periods + phases)  # (n_total, 3)
    mixing = rng.normal(0.0, 1.0, size=(3, n_channels))
    offsets = rng.normal(0.0, 2.0, size=n_channels)
    noise_level = np.full((n_total, 1), 0.05)

    n_anomalies = max(1, n_test // 800) if n_anomalies is None else n_anomalies
    n_bursts = max(1, n_test // 1000) if n_bursts is None else n_bursts
    segments = _place_segments(n_test, n_anomalies + n_bursts, 30, 150, rng)
    order = rng.permutation(len(segments))
    anomaly_segments = sorted(segments[i] for i in order[:n_anomalies])
    burst_segments = sorted(segments[i] for i in order[n_anomalies:])

    periodic = drivers @ mixing
    channel_std = periodic[:n_train].std(axis=0)
    loading = 3.0 * rng.normal(0.0, 1.0, size=n_channels) * channel_std
    for start, stop in burst_segments:
        a, b = n_train + start, n_train + stop
        envelope = np.hanning(b - a)
        wave = np.sin(2 * np.pi * np.arange(b - a) / 7.0 + rng.uniform(0, 2 * np.pi))
        periodic[a:b] += np.outer(envelope * wave, loading)
    kinds = []
    for start, stop in anomaly_segments:
        kind = _ANOMALY_KINDS[rng.randint(len(_ANOMALY_KINDS))]
        kinds.append(kind)
        a, b = n_train + start, n_train + stop
        # one or two channels (the same draws as ever where there are two)
        size = rng.randint(1, min(n_channels, 2) + 1)
        channels = rng.choice(n_channels, size=size, replace=False)
        if kind == "level_shift":
            periodic[a:b, channels] += 0.3 * channel_std[channels] * rng.choice([-1, 1])
        elif kind == "damping":
            periodic[a:b, channels] *= 0.55
        elif kind == "decoupling":
            k = rng.randint(3)
            periodic[a:b, channels] -= np.outer(drivers[a:b, k], mixing[k, channels])
        else:  # frequency: one driver runs 25 % faster in the chosen channels
            k = rng.randint(3)
            fast = np.sin(2 * np.pi * t[a:b] * 1.25 / periods[k] + phases[k])
            periodic[a:b, channels] += np.outer(
                fast - drivers[a:b, k], mixing[k, channels]
            )

    X = offsets + periodic + noise_level * rng.normal(size=(n_total, n_channels))
    y_test = np.zeros(n_test, dtype=np.int64)
    for start, stop in anomaly_segments:
        y_test[start:stop] = 1
    return Bunch(
        X_train=X[:n_train],
        y_train=np.zeros(n_train, dtype=np.int64),
        X_test=X[n_train:],
        y_test=y_test,
        anomaly_segments=anomaly_segments,
        burst_segments=burst_segments,
        anomaly_kinds=kinds,
        feature_names=[f"sensor_{i}" for i in range(n_channels)],
        DESCR=make_telemetry.__doc__.split("\n\n")[1],
    )


def _place_segments(n, count, min_len, max_len, rng):
    """Non-overlapping ``(start, stop)`` segments spread over ``[0, n)``."""
    if count == 0:
        return []
    slot = n // count
    if slot < max_len + 20:
        raise ValueError(
            f"{count} segments of up to {max_len} steps do not fit in {n} steps; "
            "lower n_anomalies / n_bursts or lengthen the series."
        )
    segments = []
    for i in range(count):
        length = rng.randint(min_len, max_len + 1)
        start = i * slot + rng.randint(10, slot - length - 9)
        segments.append((int(start), int(start + length)))
    return segments
