"""What the label head costs on a long series: scoring, a query and a round.

Once an anomalous window is labelled, :class:`~alad.ActiveReconstructionDetector`
adds a window classifier (the head, ``score_head``) to its score. This script
fits a small Transformer on a synthetic periodic series, labels windows with
an anomaly so that the head exists, then measures ``decision_function`` and
``query`` on a long series and one more ``partial_fit`` (CPU seconds and the
peak resident memory above the process's before each call), beside the same
calls of the detector before its first round (no head)::

    python benchmarks/head_cost.py --rows 300000 --channels 4
    python benchmarks/head_cost.py --rows 300000 --channels 1 --score-stride 1

One torch thread, the model tiny on purpose: the figures are the head's and
the scoring's own work, not the network's. Run two code versions side by
side (``git worktree``, ``PYTHONPATH``) to compare them; the script prints
the figures and a digest of the scores, so that two versions can be checked
to score alike.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from alad import ActiveReconstructionDetector  # noqa: E402
from alad.experiments.machine import (  # noqa: E402
    cpu_model,
    current_rss_mb,
    peak_rss_mb,
    reset_peak_rss,
)

TINY = {"d_model": 8, "d_ff": 8, "n_heads": 1, "n_layers": 1}


def tiny_params(score_stride, **more) -> dict:
    """The detector's parameters here: a tiny Transformer, one epoch."""
    return dict(
        window_size=50,
        max_epochs=1,
        validation_fraction=0.0,
        random_state=0,
        backbone_params=TINY,
        score_stride=score_stride,
        **more,
    )


def periodic(n: int, channels: int, seed: int) -> np.ndarray:
    """A noisy sine per channel (period 37), phase-shifted channel by channel."""
    t = np.arange(n)[:, None]
    noise = np.random.default_rng(seed).normal(scale=0.1, size=(n, channels))
    return np.sin(2 * np.pi * t / 37 + np.arange(channels)) + noise


def measure(name: str, call, data_mib: float):
    """Run ``call``, print its CPU seconds and peak memory; return its result."""
    gc.collect()
    base = current_rss_mb()
    reset_peak_rss()
    start = time.process_time()
    out = call()
    seconds = time.process_time() - start
    peak = max(0.0, peak_rss_mb() - base)
    print(
        f"  {name:34s} {seconds:7.2f} CPU s   peak +{peak:7.1f} MiB "
        f"({peak / data_mib:5.2f} x the series)",
        flush=True,
    )
    return out


def digest(scores: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(scores).tobytes()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="the long series")
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--score-stride", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    params = tiny_params(args.score_stride)
    det = ActiveReconstructionDetector(**params).fit(periodic(20_000, args.channels, 1))
    X = periodic(args.rows, args.channels, 2)
    anomaly = slice(args.rows // 3, args.rows // 3 + 200)
    X[anomaly] += 3.0
    y = np.zeros(args.rows)
    y[anomaly] = 1.0
    mib = X.nbytes / 2**20
    print(
        f"{cpu_model()}; torch {torch.__version__}, one thread; series "
        f"{args.rows} x {args.channels} ({mib:.1f} MiB), score_stride "
        f"{det.score_stride_}"
    )
    print("before the first round (no head):")
    measure("decision_function", lambda: det.decision_function(X), mib)
    measure("query", lambda: det.query(X), mib)
    # the queried windows and those of the anomaly, so that the head is fitted
    w = det.window_size_
    first = anomaly.start // w * w
    anomalous = np.arange(first, min(anomaly.stop // w * w + w, args.rows))
    rows = np.unique(np.concatenate([det.query(X), anomalous]))
    measure(
        "partial_fit (the head's first)", lambda: det.partial_fit(X[rows], y[rows]), mib
    )
    assert det._head is not None, "no head: no anomalous window was labelled"
    print("with the head:")
    scores = measure("decision_function", lambda: det.decision_function(X), mib)
    rows = measure("query", lambda: det.query(X), mib)
    measure(
        "partial_fit (a second round)", lambda: det.partial_fit(X[rows], y[rows]), mib
    )
    print(f"scores digest {digest(scores)}, threshold_ {det.threshold_!r}")


if __name__ == "__main__":
    main()
