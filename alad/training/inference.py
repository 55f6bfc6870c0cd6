"""Batched, gradient-free scoring of windows on the model's device."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn

__all__ = ["iter_position_scores"]


def iter_position_scores(
    module: nn.Module,
    batches: Iterable[np.ndarray],
    device: str,
    score: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> Iterator[np.ndarray]:
    """Yield the per-timestep score ``(batch, window_size)`` of each batch.

    ``score(x)`` computes it (default: the backbone's ``anomaly_score``). The
    module is put in evaluation mode; scores come back as float64 numpy arrays
    on the CPU whatever the device.
    """
    score = module.anomaly_score if score is None else score
    module.eval()
    for batch in batches:
        # no_grad around each batch, not around the loop: a generator paused
        # at a yield inside the block (its caller interrupted and the frame
        # kept, as IPython keeps a traceback's) would leave autograd off for
        # the whole process
        with torch.no_grad():
            x = torch.from_numpy(batch).to(device, non_blocking=True)
            scores = score(x).to("cpu", torch.float64).numpy()
        yield scores
