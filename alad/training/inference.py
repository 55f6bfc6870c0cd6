"""Batched, gradient-free scoring of windows on the model's device."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch
from torch import nn

__all__ = ["iter_position_scores"]


def iter_position_scores(
    module: nn.Module, batches: Iterable[np.ndarray], device: str
) -> Iterator[np.ndarray]:
    """Yield the backbone's per-timestep score ``(batch, window_size)`` per batch.

    The module is put in evaluation mode; scores come back as float64 numpy
    arrays on the CPU whatever the device.
    """
    module.eval()
    with torch.no_grad():
        for batch in batches:
            x = torch.from_numpy(batch).to(device, non_blocking=True)
            yield module.anomaly_score(x).to("cpu", torch.float64).numpy()
