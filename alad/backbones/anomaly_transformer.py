"""Anomaly Transformer of Xu et al. (2022): reconstruction with anomaly-attention."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .base import ReconstructionBackbone
from .transformer import sinusoidal_positions

__all__ = ["AnomalyTransformerBackbone", "association_kl"]

_KL_EPS = 1e-4


def association_kl(p: Tensor, q: Tensor) -> Tensor:
    """``KL(p || q)`` of each row of attention, averaged over heads.

    ``p`` and ``q`` are ``(batch, heads, length, length)`` row-stochastic
    associations; returns ``(batch, length)``. Both are offset by ``1e-4``
    inside the logarithms, as in the reference implementation.
    """
    kl = p * (torch.log(p + _KL_EPS) - torch.log(q + _KL_EPS))
    return kl.sum(dim=-1).mean(dim=1)


def symmetric_kl(p: Tensor, q: Tensor) -> Tensor:
    """``association_kl(p, q) + association_kl(q, p)`` with two logarithms, not four.

    ``p log(p/q) + q log(q/p) = (p - q) (log p - log q)``, with the same
    ``1e-4`` offsets inside the logarithms.
    """
    kl = (p - q) * (torch.log(p + _KL_EPS) - torch.log(q + _KL_EPS))
    return kl.sum(dim=-1).mean(dim=1)


class _AnomalyAttention(nn.Module):
    """Multi-head attention that also returns the series and prior associations."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.sigma = nn.Linear(d_model, n_heads)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        batch, length, d_model = x.shape
        heads = self.n_heads

        def split(t: Tensor) -> Tensor:
            return t.reshape(batch, length, heads, -1).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        series = torch.softmax(scores, dim=-1)
        attended = (self.dropout(series) @ v).transpose(1, 2).reshape(batch, length, -1)

        # learned scale of the Gaussian prior of each position and head
        sigma = torch.sigmoid(5.0 * self.sigma(x).transpose(1, 2)) + 1e-5
        sigma = torch.pow(3.0, sigma) - 1.0  # (batch, heads, length)
        positions = torch.arange(length, device=x.device, dtype=x.dtype)
        distance = (positions.unsqueeze(0) - positions.unsqueeze(1)).abs()
        sigma = sigma.unsqueeze(-1)
        # the Gaussian kernel normalised over each row: its constant
        # 1 / (sqrt(2 pi) sigma) cancels, so a softmax of the exponent is it
        prior = torch.softmax(-(distance**2) / (2.0 * sigma**2), dim=-1)
        return self.out(attended), series, prior


class _EncoderLayer(nn.Module):
    """Post-norm encoder layer with anomaly-attention and a GELU feed-forward."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.attention = _AnomalyAttention(d_model, n_heads, dropout)
        self.ff_in = nn.Linear(d_model, d_ff)
        self.ff_out = nn.Linear(d_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        attended, series, prior = self.attention(x)
        x = self.norm1(x + self.dropout(attended))
        y = self.dropout(F.gelu(self.ff_in(x)))
        y = self.dropout(self.ff_out(y))
        return self.norm2(x + y), series, prior


class AnomalyTransformerBackbone(ReconstructionBackbone):
    """Anomaly Transformer: reconstruction with anomaly-attention.

    The model of Xu et al. (2022). The window is embedded by a circular 1-d
    convolution (kernel 3) plus sinusoidal positions, then passes a stack of
    post-norm encoder layers whose attention is *anomaly-attention*: besides
    the usual softmax attention (the *series association* ``S``) each layer
    learns, per position and head, the scale ``sigma`` of a Gaussian kernel
    over the distance to the other positions (the *prior association*
    ``P``), with ``sigma = 3 ** (sigmoid(5 s) + 1e-5) - 1`` from a linear
    projection ``s`` of the layer input. A final LayerNorm and a linear head
    map back to the channels.

    Parameters
    ----------
    n_channels : int
        Number of input channels.
    window_size : int
        Window length (positions are encoded up to this length and extended
        on demand; the prior is built for the length of each input).
    d_model : int, default=512
        Width of the encoder.
    n_heads : int, default=8
        Attention heads; must divide ``d_model``.
    n_layers : int, default=3
        Encoder layers.
    d_ff : int, default=512
        Width of the feed-forward blocks.
    dropout : float, default=0.0
        Dropout of the embedding, attention and feed-forward blocks (the
        reference model's default).
    k : float, default=3.0
        Weight ``lambda`` of the association discrepancy in the minimax
        objective (the reference's ``--k``).
    temperature : float, default=50.0
        Multiplies the association discrepancy before the softmax of the
        anomaly score, as in the reference's ``test()``.

    Notes
    -----
    **Objective.** With ``rec`` the mean squared reconstruction error and,
    averaged over layers, ``series_loss = KL(S, sg(P)) + KL(sg(P), S)`` and
    ``prior_loss = KL(P, sg(S)) + KL(sg(S), P)`` (``sg`` stops gradients, each
    KL averaged over heads and positions), the minimax strategy minimises
    ``loss1 = rec - k * series_loss`` (maximise phase: the series association
    moves away from the prior) and ``loss2 = rec + k * prior_loss`` (minimise
    phase: the prior moves towards the series association). The reference
    calls ``loss1.backward()`` and ``loss2.backward()`` and then takes one
    optimiser step, which is the step of the gradient of ``loss1 + loss2``;
    so this backbone has one phase whose objective is ``loss1 + loss2``. In
    value, ``series_loss`` and ``prior_loss`` are equal, so the objective
    (and the early-stopping loss) equals ``2 * rec``; only the gradients
    differ. The reference halves the learning rate every epoch and stops
    when either loss stops improving; here the detector's own schedule and
    early stopping apply.

    **Score.** Per timestep, ``softmax(-temperature * AssDis) * mse_c``: the
    association discrepancy ``AssDis = sum_layers KL(S, P) + KL(P, S)`` of
    each position is turned into weights over the positions of the window by
    a softmax of its negative, and multiplies the squared reconstruction
    error averaged over channels (the reference's ``test()``).

    **forward and the feedback.** :meth:`forward` returns the reconstruction.
    The masked minimax feedback compares it with the input, so it trains the
    embedding, the attention and the head as a reconstruction Transformer;
    the ``sigma`` projections that shape the prior association get no
    gradient from it (the reconstruction does not depend on the prior), yet
    the score's weights still change with the series association.

    **Sizes.** The defaults are the reference model's (``d_model=512,
    n_heads=8, e_layers=3, d_ff=512, dropout=0.0``); one training epoch over
    GECCO-sized data (1,385 windows of 50 x 9, batch 8) takes about 35 s of
    CPU time on one core, so nothing is scaled down.

    **Differences from the reference.** The distances and the prior are
    created on the device of the input (the reference hard-codes
    ``.cuda()``, so it cannot run on a CPU). The association used in the
    losses and the score is the softmax before attention dropout (the
    reference uses it after dropout; both agree at the default dropout 0).
    The 1x1 convolutions of the feed-forward block are written as the
    equivalent linear layers.

    References
    ----------
    .. [1] J. Xu, H. Wu, J. Wang, M. Long. Anomaly Transformer: Time Series
       Anomaly Detection with Association Discrepancy. ICLR 2022.

    Examples
    --------
    >>> import torch
    >>> from alad.backbones import AnomalyTransformerBackbone
    >>> model = AnomalyTransformerBackbone(
    ...     n_channels=3, window_size=10, d_model=16, n_heads=2, d_ff=16
    ... ).eval()
    >>> x = torch.randn(4, 10, 3)
    >>> model(x).shape
    torch.Size([4, 10, 3])
    >>> model.anomaly_score(x).shape
    torch.Size([4, 10])
    """

    def __init__(
        self,
        n_channels: int,
        window_size: int,
        d_model: int = 512,
        n_heads: int = 8,
        n_layers: int = 3,
        d_ff: int = 512,
        dropout: float = 0.0,
        k: float = 3.0,
        temperature: float = 50.0,
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(
                f"d_model must be divisible by n_heads, got d_model={d_model} and "
                f"n_heads={n_heads}."
            )
        self.k = k
        self.temperature = temperature
        self.embedding = nn.Conv1d(
            n_channels,
            d_model,
            kernel_size=3,
            padding=1,
            padding_mode="circular",
            bias=False,
        )
        nn.init.kaiming_normal_(
            self.embedding.weight, mode="fan_in", nonlinearity="leaky_relu"
        )
        self.register_buffer(
            "positions", sinusoidal_positions(window_size, d_model), persistent=False
        )
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            _EncoderLayer(d_model, n_heads, d_ff, dropout) for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_channels)

    def _positions(self, length: int) -> Tensor:
        if length > self.positions.shape[0]:
            self.positions = sinusoidal_positions(length, self.positions.shape[1]).to(
                self.positions.device
            )
        return self.positions[:length]

    def _run(self, x: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """Reconstruction and the series and prior associations of every layer."""
        hidden = self.embedding(x.transpose(1, 2)).transpose(1, 2)
        hidden = self.dropout(hidden + self._positions(x.shape[1]))
        series, prior = [], []
        for layer in self.layers:
            hidden, s, p = layer(hidden)
            series.append(s)
            prior.append(p)
        return self.head(self.norm(hidden)), series, prior

    def forward(self, x: Tensor) -> Tensor:
        return self._run(x)[0]

    def objective(self, x: Tensor, *, phase: int = 0, epoch: int = 1) -> Tensor:
        """``loss1 + loss2`` of the minimax strategy (one optimiser step)."""
        x_hat, series, prior = self._run(x)
        rec = torch.mean((x_hat - x) ** 2)
        series_loss = x.new_zeros(())
        prior_loss = x.new_zeros(())
        for s, p in zip(series, prior):
            s_fixed, p_fixed = s.detach(), p.detach()
            series_loss = series_loss + (
                association_kl(s, p_fixed).mean() + association_kl(p_fixed, s).mean()
            )
            prior_loss = prior_loss + (
                association_kl(p, s_fixed).mean() + association_kl(s_fixed, p).mean()
            )
        series_loss = series_loss / len(series)
        prior_loss = prior_loss / len(prior)
        loss1 = rec - self.k * series_loss
        loss2 = rec + self.k * prior_loss
        return loss1 + loss2

    def anomaly_score(self, x: Tensor) -> Tensor:
        """Association-based criterion: softmax(-AssDis) times the error."""
        x_hat, series, prior = self._run(x)
        error = ((x - x_hat) ** 2).mean(dim=-1)
        discrepancy = sum(symmetric_kl(s, p) for s, p in zip(series, prior))
        return torch.softmax(-self.temperature * discrepancy, dim=-1) * error
