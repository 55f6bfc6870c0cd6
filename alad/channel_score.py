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
    "ChannelQuantile",
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

    ``errors``: an array ``(..., C)`` or a list of such chunks (the extra
    memory is the few largest errors of each channel, :class:`ChannelQuantile`).
    """
    chunks = [np.asarray(errors)] if isinstance(errors, np.ndarray) else errors
    quantile = ChannelQuantile(
        sum(chunk[..., 0].size for chunk in chunks), chunks[0].shape[-1]
    )
    for chunk in chunks:
        quantile.add(chunk)
    return quantile.scale()


class ChannelQuantile:
    """Each channel's :data:`CHANNEL_QUANTILE` of errors given chunk by chunk.

    The same value as ``np.quantile`` (its default, linear interpolation)
    over all of a channel's ``n_values`` errors at once, to the last bit,
    while keeping only the largest ``n_values`` less the quantile's lower
    index of each channel (a thousandth of them, plus one): a series' scoring
    windows at a small stride hold the series' errors many times over, and
    the scale must be known before any of them becomes a score.

    Parameters
    ----------
    n_values : int
        How many errors of each channel :meth:`add` will be given in all.
    n_channels : int
    """

    def __init__(self, n_values: int, n_channels: int):
        if n_values < 1:
            raise ValueError(f"n_values must be at least 1, got {n_values}.")
        self.n_values = int(n_values)
        # the virtual index of numpy's linear method, computed as numpy does
        index = (self.n_values - 1) * np.float64(CHANNEL_QUANTILE)
        self._below = int(np.floor(index))  # order statistics left out
        self._gamma = index - np.floor(index)
        self._top = np.empty((0, n_channels), dtype=np.float64)
        self._seen = 0

    def add(self, errors) -> None:
        """Take a chunk of errors ``(..., C)`` into account."""
        errors = np.asarray(errors)
        values = errors.reshape(-1, errors.shape[-1]).astype(np.float64)
        if self._seen + len(values) > self.n_values:  # refused, nothing taken
            raise ValueError(
                f"ChannelQuantile was told of {self.n_values} errors per "
                f"channel and has been given {self._seen + len(values)}."
            )
        self._seen += len(values)
        values = np.concatenate([self._top, values])
        keep = self.n_values - self._below
        if len(values) > keep:
            # ascending along each channel; NaN sorts last, so it is kept
            values = np.partition(values, len(values) - keep, axis=0)[-keep:]
        self._top = values

    def scale(self) -> np.ndarray:
        """The channels' quantiles (``NaN`` where a channel had one), floored."""
        if self._seen != self.n_values:
            raise ValueError(
                f"ChannelQuantile was told of {self.n_values} errors per "
                f"channel and has been given {self._seen}."
            )
        top = np.sort(self._top, axis=0)
        # numpy's _lerp between the two order statistics, in its order of
        # operations (one kept value: a single error, numpy's clipped index)
        below, above = top[0], top[min(1, len(top) - 1)]
        diff = above - below
        if self._gamma >= 0.5:
            quantile = above - diff * (1 - self._gamma)
        else:
            quantile = below + diff * self._gamma
        quantile[np.isnan(top).any(axis=0)] = np.nan
        return np.maximum(quantile, SCALE_FLOOR)


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
