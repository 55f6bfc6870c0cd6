"""The protocol every reconstruction backbone follows, built-in or user-supplied."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

__all__ = ["ReconstructionBackbone", "as_backbone", "timestep_abs_error"]


def timestep_abs_error(x: Tensor, x_hat: Tensor) -> Tensor:
    """Eq. 4 of Han et al.: mean over channels of ``sqrt((x - x_hat)^2)``.

    Returns a ``(batch, window_size)`` tensor, one score per timestep.
    """
    return (x - x_hat).abs().mean(dim=-1)


class ReconstructionBackbone(nn.Module):
    """Base class of the backbones of :class:`~alad.ActiveReconstructionDetector`.

    A backbone maps a batch of windows ``(batch, window_size, n_channels)`` to
    a reconstruction of the same shape with :meth:`forward`. That is all the
    active-learning feedback needs: it masks timesteps of the input and
    compares the reconstruction with the original, whatever the backbone.

    The unsupervised pretraining and the anomaly score are the backbone's own:

    - :meth:`objective` is the training loss of the original model (default:
      mean squared reconstruction error). Models trained by several optimisers
      in turn (USAD) set ``n_objective_phases`` and return one loss per phase;
      :meth:`phase_parameters` says which parameters each phase updates.
    - :meth:`anomaly_score` is the model's intrinsic per-timestep score
      (default: Eq. 4, the mean absolute reconstruction error over channels).
    - :meth:`validation_loss` is what early stopping watches (default: the sum
      of the phase objectives).

    Built-in backbones take ``(n_channels, window_size, **size_params)`` in
    their constructor. A user's own module may subclass this class, or be any
    ``nn.Module`` whose ``forward`` reconstructs windows: :func:`as_backbone`
    then fills in the defaults.
    """

    n_objective_phases: int = 1

    def forward(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def objective(self, x: Tensor, *, phase: int = 0, epoch: int = 1) -> Tensor:
        """Training loss of phase ``phase`` at (1-based) ``epoch``."""
        return torch.mean((self(x) - x) ** 2)

    def phase_parameters(self, phase: int) -> Iterator[nn.Parameter]:
        """Parameters updated in phase ``phase`` (default: all)."""
        return self.parameters()

    def validation_loss(self, x: Tensor, *, epoch: int = 1) -> Tensor:
        """Loss monitored by early stopping."""
        return sum(
            self.objective(x, phase=p, epoch=epoch)
            for p in range(self.n_objective_phases)
        )

    def anomaly_score(self, x: Tensor) -> Tensor:
        """Per-timestep anomaly score ``(batch, window_size)``, higher = worse."""
        return timestep_abs_error(x, self(x))


class _ModuleBackbone(ReconstructionBackbone):
    """Gives a plain reconstruction ``nn.Module`` the backbone defaults."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module
        self.n_objective_phases = getattr(module, "n_objective_phases", 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.module(x)

    def objective(self, x: Tensor, *, phase: int = 0, epoch: int = 1) -> Tensor:
        own = getattr(self.module, "objective", None)
        if own is None:
            return super().objective(x, phase=phase, epoch=epoch)
        return own(x, phase=phase, epoch=epoch)

    def phase_parameters(self, phase: int) -> Iterator[nn.Parameter]:
        own = getattr(self.module, "phase_parameters", None)
        return self.module.parameters() if own is None else own(phase)

    def anomaly_score(self, x: Tensor) -> Tensor:
        own = getattr(self.module, "anomaly_score", None)
        return super().anomaly_score(x) if own is None else own(x)


def as_backbone(module: nn.Module) -> ReconstructionBackbone:
    """Return ``module`` itself if it is a backbone, else wrap it with the defaults."""
    if isinstance(module, ReconstructionBackbone):
        return module
    if not isinstance(module, nn.Module):
        raise TypeError(
            "backbone must be a name, a ReconstructionBackbone, or a torch.nn.Module "
            f"that reconstructs windows; got {type(module).__name__}."
        )
    return _ModuleBackbone(module)
