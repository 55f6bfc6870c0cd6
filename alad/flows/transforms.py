"""Random affine transformations T_k(x) = A_k x + b_k (Eq. 1 of NAF-AL)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["RandomAffineTransforms", "SeriesAffineTransforms"]


class RandomAffineTransforms(nn.Module):
    r"""A fixed set of ``K`` random affine maps of ``R^d`` into ``R^m``.

    .. math:: T_k(x) = A_k x + b_k, \qquad (A_k)_{ij}, (b_k)_j \sim \mathcal{N}(0, 1)

    Each map then standardises its ``m`` outputs with statistics of the
    training data (:meth:`standardize_`), which keeps the affine form:
    ``(A_k x + b_k - mu_k) / s_k = A'_k x + b'_k``. Only the scale of
    ``A_k`` changes, which the flow needs (zuko's NAF is invertible on
    ``[-10, 10]`` only). The maps are buffers, not parameters: they are drawn
    once and never trained.

    Parameters
    ----------
    in_features : int
        ``d``, the size of an input vector.
    n_transforms : int
        ``K``, the number of transformations.
    out_features : int
        ``m``, the size of a transformed view.
    generator : torch.Generator or None, default=None
        Source of the random draws (None: the global torch generator).

    Examples
    --------
    >>> import torch
    >>> t = RandomAffineTransforms(5, 3, 2, torch.Generator().manual_seed(0))
    >>> t(torch.randn(4, 5)).shape
    torch.Size([4, 3, 2])
    """

    def __init__(
        self,
        in_features: int,
        n_transforms: int,
        out_features: int,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        weight = torch.randn(
            n_transforms, in_features, out_features, generator=generator
        )
        bias = torch.randn(n_transforms, out_features, generator=generator)
        # 1/sqrt(d) only sets a sane scale before standardize_ runs
        self.register_buffer("weight", weight / math.sqrt(in_features))
        self.register_buffer("bias", bias)
        self.register_buffer("loc", torch.zeros(n_transforms, out_features))
        self.register_buffer("scale", torch.ones(n_transforms, out_features))

    @property
    def n_transforms(self) -> int:
        """``K``, the number of transformations."""
        return self.weight.shape[0]

    @property
    def out_features(self) -> int:
        """``m``, the size of one view."""
        return self.weight.shape[2]

    def raw(self, x: Tensor) -> Tensor:
        """``A_k x + b_k`` for every ``k``: ``(batch, d) -> (batch, K, m)``."""
        return torch.einsum("bi,kio->bko", x, self.weight) + self.bias

    def forward(self, x: Tensor) -> Tensor:
        """Standardised views ``(batch, K, m)`` of inputs ``(batch, d)``."""
        return (self.raw(x) - self.loc) / self.scale

    @torch.no_grad()
    def standardize_(self, x: Tensor, chunk_size: int = 1024) -> RandomAffineTransforms:
        """Set each output's mean and scale from the training inputs ``x``.

        Outputs constant over ``x`` keep a scale of 1.
        """
        n = x.shape[0]
        total = torch.zeros_like(self.loc, dtype=torch.float64)
        total_sq = torch.zeros_like(self.loc, dtype=torch.float64)
        for start in range(0, n, chunk_size):
            views = self.raw(x[start : start + chunk_size]).double()
            total += views.sum(0)
            total_sq += (views**2).sum(0)
        mean = total / n
        var = (total_sq / n - mean**2).clamp_min(0.0)
        std = var.sqrt()
        std = torch.where(std > 1e-6 * (1.0 + mean.abs()), std, torch.ones_like(std))
        self.loc.copy_(mean)
        self.scale.copy_(std)
        return self


class SeriesAffineTransforms(RandomAffineTransforms):
    r"""``K`` random affine maps of the channels, applied at every timestep.

    .. math:: T_k(x)_t = A_k x_t + b_k, \qquad
              (A_k)_{ij}, (b_k)_j \sim \mathcal{N}(0, 1)

    A view of a series ``(T, C)`` is a series ``(T, m)``: Eq. 1 with one
    block-diagonal ``A_k`` that mixes channels, the same at every timestep, so
    that time keeps its order and a convolution over time
    (:class:`~alad.flows.ConvFeatureExtractor`) can read it. Each output
    channel is standardised over the training series and timesteps.

    Parameters
    ----------
    n_timepoints : int
        ``T``, the length of a series.
    n_channels : int
        ``C``, its channels.
    n_transforms : int
        ``K``, the number of transformations.
    out_features : int
        ``m``, the channels of a view.
    generator : torch.Generator or None, default=None
        Source of the random draws.

    Examples
    --------
    >>> import torch
    >>> t = SeriesAffineTransforms(6, 2, 3, 4, torch.Generator().manual_seed(0))
    >>> t(torch.randn(5, 12)).shape
    torch.Size([5, 3, 6, 4])
    """

    def __init__(
        self,
        n_timepoints: int,
        n_channels: int,
        n_transforms: int,
        out_features: int,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(n_channels, n_transforms, out_features, generator)
        self.n_timepoints = n_timepoints
        self.n_channels = n_channels

    def raw(self, x: Tensor) -> Tensor:
        """``A_k x_t + b_k``: flat series ``(batch, T * C)`` -> ``(batch, K, T, m)``."""
        series = x.reshape(x.shape[0], self.n_timepoints, self.n_channels)
        out = torch.einsum("btc,kcm->bktm", series, self.weight)
        return out + self.bias[None, :, None, :]

    def forward(self, x: Tensor) -> Tensor:
        """Standardised views ``(batch, K, T, m)`` of flat series ``(batch, T * C)``."""
        return (self.raw(x) - self.loc[:, None, :]) / self.scale[:, None, :]

    @torch.no_grad()
    def standardize_(self, x: Tensor, chunk_size: int = 1024) -> SeriesAffineTransforms:
        """Set each output channel's mean and scale over series and timesteps."""
        n = x.shape[0] * self.n_timepoints
        total = torch.zeros_like(self.loc, dtype=torch.float64)
        total_sq = torch.zeros_like(self.loc, dtype=torch.float64)
        for start in range(0, x.shape[0], chunk_size):
            views = self.raw(x[start : start + chunk_size]).double()
            total += views.sum((0, 2))
            total_sq += (views**2).sum((0, 2))
        mean = total / n
        std = (total_sq / n - mean**2).clamp_min(0.0).sqrt()
        std = torch.where(std > 1e-6 * (1.0 + mean.abs()), std, torch.ones_like(std))
        self.loc.copy_(mean)
        self.scale.copy_(std)
        return self
