"""Masked reconstruction and the minimax feedback objective (Eqs. 2-3)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "ANCHOR",
    "anomaly_objective",
    "draw_timestep_mask",
    "masked_timestep_mse",
    "phase_weights",
]


#: Label of the replayed normal training windows ("anchors") in a feedback
#: batch: reconstructed unmasked, counted in the minimise phase at every
#: timestep. Users never see it; their labels are 0, 1 or nan.
ANCHOR = 2.0


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


def phase_weights(
    mask: Tensor, labels: Tensor, label: int, visible_weight: float
) -> Tensor:
    """Weight of each timestep in the loss of the phase of ``label``.

    Timesteps with another label (or unlabelled, ``nan``) weigh 0; masked
    timesteps of the label weigh 1 (Eqs. 2-3); visible ones weigh
    ``visible_weight`` (0 is the paper's loss on masked timesteps only). The
    normal phase (``label=0``) also counts every timestep of the
    :data:`ANCHOR` windows with weight 1.

    Returns
    -------
    weights : float tensor of shape (batch, window_size)
    """
    visible = torch.as_tensor(visible_weight, dtype=torch.float32, device=mask.device)
    weights = torch.where(mask, torch.ones_like(visible), visible)
    weights = weights * (labels == label).to(weights.dtype)
    if label == 0:
        weights = weights + (labels == ANCHOR).to(weights.dtype)
    return weights


def masked_timestep_mse(x_hat: Tensor, x: Tensor, weights: Tensor) -> Tensor:
    """Weighted mean over timesteps of the per-timestep MSE over channels.

    ``L(X_t, X̂_t)`` of Eqs. 2-3 is the MSE of timestep ``t``; the sums of the
    paper are divided by the total weight so that the step size does not
    depend on how many timesteps a batch happens to select. ``weights`` may
    be a boolean selection.
    """
    weights = weights.to(x.dtype)
    per_timestep = ((x_hat - x) ** 2).mean(dim=-1)
    return (weights * per_timestep).sum() / weights.sum()


def anomaly_objective(
    x_hat: Tensor, x: Tensor, weights: Tensor, margin: float | None
) -> Tensor:
    """The loss the maximise phase minimises on the weighted anomalous timesteps.

    ``margin=None`` is Eq. 3 as written: ``-error``, unbounded below, so the
    phase keeps pushing however large the error already is. A float turns it
    into a hinge, ``relu(margin - error)``: errors are pushed up to ``margin``
    and then left alone, which bounds how far the maximise phase can move the
    model away from the normal data.
    """
    weights = weights.to(x.dtype)
    error = ((x_hat - x) ** 2).mean(dim=-1)
    objective = -error if margin is None else torch.relu(margin - error)
    return (weights * objective).sum() / weights.sum()
