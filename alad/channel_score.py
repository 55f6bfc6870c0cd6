"""One score per timestep from per-channel reconstruction errors, channel by channel.

Eq. 4 of Han et al. averages the absolute reconstruction error over channels.
Channels differ in how well a backbone reconstructs them: a noisy channel's
ordinary error can outweigh a quiet channel's large departure, and an
anomaly that moves one channel of many is diluted by the mean. Scaling each
channel's error by its own high quantile on the training data
(:data:`CHANNEL_QUANTILE`), then taking the largest scaled error, makes a
timestep as anomalous as its most surprising channel, in units of that
channel's normal error.

On the validation halves of the label benchmark's tasks (GECCO, UCR 001,
six MSL entities, the synthetic telemetry; 3 seeds, no label) the scaled
maximum raised the mean PA%K AUC from 0.503 to 0.590, ROC AUC from 0.758 to
0.823 and VUS-PR from 0.280 to 0.422; the quantile (0.9 to 1.0) and the
reduction (mean, top 2 or 3, maximum) were chosen there
(``benchmarks/channel_score.py``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from .backbones.base import ReconstructionBackbone, _ModuleBackbone

__all__ = [
    "CHANNEL_QUANTILE",
    "channel_abs_error",
    "channel_scale",
    "scaled_max",
    "scaled_max_of",
    "scaled_max_error",
    "scores_reconstruction_error",
]

#: the training quantile of each channel's error that scales it
CHANNEL_QUANTILE = 0.999
#: smallest scale, in standardised units: a channel the backbone reconstructs
#: exactly in training (a constant one) still gives finite scores
SCALE_FLOOR = 1e-6


def channel_abs_error(x: Tensor, x_hat: Tensor) -> Tensor:
    """``|x - x_hat|``, one error per timestep and channel ``(batch, window, C)``."""
    return (x - x_hat).abs()


def channel_scale(errors) -> np.ndarray:
    """Each channel's :data:`CHANNEL_QUANTILE` of ``errors``, floored.

    ``errors``: an array ``(..., C)`` or a list of such chunks, gathered one
    channel at a time (the extra memory is one channel's, not the errors').
    """
    chunks = [np.asarray(errors)] if isinstance(errors, np.ndarray) else errors
    n_channels = chunks[0].shape[-1]
    scale = np.empty(n_channels)
    for c in range(n_channels):
        values = np.concatenate([chunk[..., c].ravel() for chunk in chunks])
        values = values.astype(np.float64, copy=False)
        scale[c] = np.quantile(values, CHANNEL_QUANTILE)
    return np.maximum(scale, SCALE_FLOOR)


def scores_reconstruction_error(module: nn.Module) -> bool:
    """Whether ``module``'s own anomaly score is Eq. 4's reconstruction error.

    True for backbones that keep :class:`~alad.backbones.ReconstructionBackbone`'s
    default score (the Transformer, plain reconstruction modules); False
    for those with a score of their own (likelihoods, USAD's two errors,
    association weights, squared errors).
    """
    if isinstance(module, _ModuleBackbone):
        return getattr(module.module, "anomaly_score", None) is None
    return (
        isinstance(module, ReconstructionBackbone)
        and type(module).anomaly_score is ReconstructionBackbone.anomaly_score
    )


def scaled_max(errors: Tensor, scale: np.ndarray) -> Tensor:
    """Each timestep's largest channel error, over that channel's ``scale``."""
    scale = torch.as_tensor(scale, dtype=errors.dtype, device=errors.device)
    return (errors / scale).amax(dim=-1)


def scaled_max_of(errors: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """:func:`scaled_max` of float32-valued numpy ``errors``, as float64.

    The same float32 operations as scoring with :func:`scaled_max_error`, so
    the training scores computed from stored errors equal a rescoring.
    """
    errors = torch.from_numpy(np.asarray(errors, dtype=np.float32))
    return scaled_max(errors, scale).to(torch.float64).numpy()


def scaled_max_error(module: nn.Module, scale: np.ndarray):
    """A scoring function of windows: :func:`scaled_max` of ``module``'s errors."""

    def score(x: Tensor) -> Tensor:
        return scaled_max(channel_abs_error(x, module(x)), scale)

    return score
