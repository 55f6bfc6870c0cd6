"""Masked reconstruction and the minimax feedback objective (Eqs. 2-3)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["anomaly_objective", "draw_timestep_mask", "masked_timestep_mse"]


def draw_timestep_mask(
    batch: int, length: int, ratio: float, generator: torch.Generator
) -> Tensor:
    """Mask a fixed number of random timesteps in each window.

    Exactly ``max(1, round(ratio * length))`` timesteps per window are masked
    (all channels of a masked timestep together), drawn without replacement;
    ``ratio == 0`` masks nothing.

    Returns
    -------
    mask : bool tensor of shape (batch, length), on the CPU
    """
    if ratio <= 0:
        return torch.zeros(batch, length, dtype=torch.bool)
    n_masked = min(length, max(1, round(ratio * length)))
    picked = (
        torch.rand(batch, length, generator=generator).topk(n_masked, dim=1).indices
    )
    return torch.zeros(batch, length, dtype=torch.bool).scatter_(1, picked, True)


def masked_timestep_mse(x_hat: Tensor, x: Tensor, selected: Tensor) -> Tensor:
    """Mean over the selected timesteps of the per-timestep MSE over channels.

    ``L(X_t, X̂_t)`` of Eqs. 2-3 is the MSE of timestep ``t``; the sums of the
    paper are averaged over the selected timesteps so that the step size does
    not depend on how many timesteps a batch happens to select.
    """
    per_timestep = ((x_hat - x) ** 2).mean(dim=-1)
    return per_timestep[selected].mean()


def anomaly_objective(
    x_hat: Tensor, x: Tensor, selected: Tensor, margin: float | None
) -> Tensor:
    """The loss the maximise phase minimises on the selected anomalous timesteps.

    ``margin=None`` is Eq. 3 as written: ``-error``, unbounded below, so the
    phase keeps pushing however large the error already is. A float turns it
    into a hinge, ``mean(relu(margin - error))``: errors are pushed up to
    ``margin`` and then left alone, which bounds how far the maximise phase can
    move the model away from the normal data.
    """
    error = ((x_hat - x) ** 2).mean(dim=-1)[selected]
    if margin is None:
        return -error.mean()
    return torch.relu(margin - error).mean()
