"""USAD of Audibert et al. (2020): two autoencoders trained adversarially."""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

from .base import ReconstructionBackbone

__all__ = ["USADBackbone"]


def _mlp(sizes: list[int], *, relu_last: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if relu_last or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class _SquaredError(torch.autograd.Function):
    """``torch.mean((a - b) ** 2)`` in one kernel forward and two backward.

    The same values, bit for bit, as autograd's graph of ``sub``, ``pow`` and
    ``mean`` (five full-size kernels backward: the mean's division, the
    power's two products, the subtraction's negation): with ``s = g / N``,
    autograd's gradient for ``b`` is ``-(s * (2 * (a - b)))`` and this one
    ``(b - a) * (2 * s)``; doubling and negation are exact, so both round the
    same real number ``-2 s (a - b)``. ``F.mse_loss`` squares as ``d * d``,
    which is what ``pow(d, 2)`` computes, and takes the same mean.
    """

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        return F.mse_loss(a, b)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        scale = 2 * (grad / a.numel())
        grad_a = (a - b).mul_(scale) if ctx.needs_input_grad[0] else None
        grad_b = (b - a).mul_(scale) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


def _mse(a: Tensor, b: Tensor) -> Tensor:
    """``torch.mean((a - b) ** 2)``, the same value and gradients, fewer kernels."""
    return _SquaredError.apply(a, b)


def _hidden_sizes(size: int, hidden_sizes: Sequence[int] | None) -> list[int]:
    if hidden_sizes is None:  # the reference's in/2, in/4
        return [max(1, size // 2), max(1, size // 4)]
    sizes = [] if isinstance(hidden_sizes, str) else list(hidden_sizes)
    if not sizes or not all(
        isinstance(h, numbers.Integral) and not isinstance(h, bool) and h > 0
        for h in sizes
    ):
        raise ValueError(
            "hidden_sizes must be None or a non-empty sequence of positive "
            f"ints; got {hidden_sizes!r}."
        )
    return [int(h) for h in sizes]


class USADBackbone(ReconstructionBackbone):
    """UnSupervised Anomaly Detection: one encoder, two adversarial decoders.

    The model of Audibert et al. (2020). A window is flattened to a vector of
    ``window_size * n_channels`` values; a shared encoder (by default
    ``in -> in/2 -> in/4 -> latent``, ReLU after each layer) feeds two
    decoders (``latent -> in/4 -> in/2 -> in``), giving the autoencoders
    ``AE1 = D1(E(.))`` and ``AE2 = D2(E(.))``.

    Parameters
    ----------
    n_channels : int
        Number of input channels.
    window_size : int
        Window length; windows are flattened, so every window must have it.
    latent_size : int or None, default=None
        Width of the latent layer. None uses ``100 * window_size``, the
        reference implementation's ``z_size = window_size * hidden_size``
        with ``hidden_size = 100`` (5,000 for windows of 50; the narrowest
        layer is then the ``in/4`` one).
    hidden_sizes : sequence of int or None, default=None
        Widths of the encoder's hidden layers, from the input side; the
        decoders mirror them. None uses the reference's ``(in/2, in/4)``
        with ``in = window_size * n_channels``. ``(16, 16)`` with
        ``latent_size=5`` is TSB-AD's fixed layout (450-16-16-5 for windows
        of 50 x 9).
    alpha : float, default=0.5
        Weight of ``||x - AE1(x)||^2`` in the anomaly score.
    beta : float, default=0.5
        Weight of ``||x - AE2(AE1(x))||^2`` in the anomaly score.

    Notes
    -----
    **Objective.** Two phases per batch with two optimisers, at (1-based)
    epoch ``n``, with ``w1 = AE1(x)``, ``w2 = AE2(x)``, ``w3 = AE2(w1)``:

    - phase 0 updates the encoder and decoder 1 on
      ``1/n * mse(x, w1) + (1 - 1/n) * mse(x, w3)``;
    - phase 1 updates the encoder and decoder 2 on
      ``1/n * mse(x, w2) - (1 - 1/n) * mse(x, w3)``.

    At epoch 1 the ``mse(x, w3)`` terms have weight ``1 - 1/1 = 0``: they
    add exactly nothing to the losses or the gradients and are not computed,
    so the first epoch costs about half of a later one.

    Each phase recomputes its loss after the previous step, as the reference
    training loop does. Gradients are cleared before each phase; the
    reference clears them only after each step, so there the gradient that
    ``loss1`` leaves in decoder 2 (and ``loss2`` in decoder 1) leaks into the
    next step of the other optimiser, a side effect not reproduced here.
    Early stopping watches the mean anomaly score on the validation windows
    (the two losses depend on the epoch and are not comparable across
    epochs; the reference trains a fixed number of epochs).

    **Score.** ``alpha * mse_c(x_t, w1_t) + beta * mse_c(x_t, w3_t)`` per
    timestep, the mean over channels of the reference's window score.

    **Output layer.** The reference decoders end with a sigmoid because the
    reference scales data to [0, 1]; :class:`~alad.ActiveReconstructionDetector`
    standardises channels to zero mean and unit variance, which a sigmoid
    cannot reach, so the decoders end with a linear layer.

    **forward and the feedback.** :meth:`forward` returns ``w1 = AE1(x)``,
    the autoencoder's reconstruction of the input (``w3`` reconstructs a
    reconstruction). The masked minimax feedback, which uses only
    :meth:`forward` and one optimiser over all parameters, therefore moves
    the encoder and decoder 1; decoder 2 gets no gradient, but the ``beta``
    term of the score still changes because ``w3 = D2(E(w1))`` depends on
    both. The feedback replaces the adversarial game by a plain (minimax)
    reconstruction objective on AE1, which can undo the balance the two
    phases reached; Han et al. report USAD as one of the two backbones the
    feedback does not improve on average (Table 3).

    **Sizes.** The reference notebook's latent size (see ``latent_size``).
    An epoch over GECCO-sized data (1,385 windows of 50 x 9, batch 8, both
    phases) takes about 5 s of CPU time.

    References
    ----------
    .. [1] J. Audibert, P. Michiardi, F. Guyard, S. Marti, M. A. Zuluaga.
       USAD: UnSupervised Anomaly Detection on Multivariate Time Series.
       KDD 2020, 3395-3404.

    Examples
    --------
    >>> import torch
    >>> from alad.backbones import USADBackbone
    >>> model = USADBackbone(n_channels=3, window_size=10, latent_size=8)
    >>> x = torch.randn(4, 10, 3)
    >>> model(x).shape
    torch.Size([4, 10, 3])
    >>> model.anomaly_score(x).shape
    torch.Size([4, 10])
    >>> model.objective(x, phase=1, epoch=2).shape  # loss2 of epoch 2
    torch.Size([])
    """

    n_objective_phases = 2

    def __init__(
        self,
        n_channels: int,
        window_size: int,
        latent_size: int | None = None,
        hidden_sizes: Sequence[int] | None = None,
        alpha: float = 0.5,
        beta: float = 0.5,
    ) -> None:
        super().__init__()
        size = n_channels * window_size
        latent = 100 * window_size if latent_size is None else latent_size
        self.window_size = window_size
        self.n_channels = n_channels
        self.alpha = alpha
        self.beta = beta
        widths = [size, *_hidden_sizes(size, hidden_sizes), latent]
        self.encoder = _mlp(widths, relu_last=True)
        # no sigmoid at the end: inputs are standardised, see Notes
        self.decoder1 = _mlp(widths[::-1], relu_last=False)
        self.decoder2 = _mlp(widths[::-1], relu_last=False)

    def _flatten(self, x: Tensor) -> Tensor:
        if x.shape[1:] != (self.window_size, self.n_channels):
            raise ValueError(
                "USAD takes windows of shape (batch, window_size="
                f"{self.window_size}, n_channels={self.n_channels}); got "
                f"{tuple(x.shape)}."
            )
        return x.reshape(x.shape[0], -1)

    def _ae1_ae2ae1(self, flat: Tensor) -> tuple[Tensor, Tensor]:
        w1 = self.decoder1(self.encoder(flat))
        return w1, self.decoder2(self.encoder(w1))

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder1(self.encoder(self._flatten(x))).reshape(x.shape)

    def objective(self, x: Tensor, *, phase: int = 0, epoch: int = 1) -> Tensor:
        """``loss1`` (phase 0) or ``loss2`` (phase 1) of epoch ``epoch``."""
        if phase not in (0, 1):
            raise ValueError(f"USAD has phases 0 and 1; got phase={phase!r}.")
        weight = 1.0 / max(int(epoch), 1)
        flat = self._flatten(x)
        z = self.encoder(flat)  # shared by w1 and w2: encode the input once
        if weight == 1.0:
            # epoch 1: the adversarial term has weight 1 - 1/1 = 0, so it adds
            # exactly 0 to the loss and to every gradient; not computed
            return _mse(flat, (self.decoder1 if phase == 0 else self.decoder2)(z))
        if phase == 0:
            w1 = self.decoder1(z)
            adversarial = _mse(flat, self.decoder2(self.encoder(w1)))
            return weight * _mse(flat, w1) + (1 - weight) * adversarial
        adversarial = _mse(flat, self.decoder2(self.encoder(self.decoder1(z))))
        return weight * _mse(flat, self.decoder2(z)) - (1 - weight) * adversarial

    def phase_parameters(self, phase: int) -> Iterator[nn.Parameter]:
        """Encoder and decoder 1 (phase 0), or encoder and decoder 2 (phase 1)."""
        yield from self.encoder.parameters()
        yield from (self.decoder1 if phase == 0 else self.decoder2).parameters()

    def validation_loss(self, x: Tensor, *, epoch: int = 1) -> Tensor:
        """Mean anomaly score: comparable across epochs, unlike the two losses."""
        return self.anomaly_score(x).mean()

    def anomaly_score(self, x: Tensor) -> Tensor:
        """``alpha * |x_t - w1_t|^2 + beta * |x_t - w3_t|^2``, mean over channels."""
        w1, w3 = self._ae1_ae2ae1(self._flatten(x))
        w1, w3 = w1.reshape(x.shape), w3.reshape(x.shape)
        return self.alpha * ((x - w1) ** 2).mean(dim=-1) + self.beta * (
            (x - w3) ** 2
        ).mean(dim=-1)
