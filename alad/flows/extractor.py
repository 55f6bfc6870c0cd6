"""The feature extractor f_theta of NAF-AL: leaky-ReLU layers and a 1-d convolution."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["ConvFeatureExtractor", "FeatureExtractor"]


class FeatureExtractor(nn.Module):
    r"""Square fully-connected leaky-ReLU layers with a 1-d convolution on top.

    The paper's extractor for small data sets: fully-connected hidden layers
    with leaky-ReLU activations and one 1-d convolution on top. As in GOAD
    (whose tabular network it follows), the convolution has kernel size 1 and
    runs along the axis of the ``K`` transformations, so every view is mapped
    by the same weights: ``conv(h)[:, :, k] = W h[:, :, k] + c``.

    Every layer is square (``features -> features``) and the leaky-ReLU slope
    is positive, so the map is a bijection with a cheap Jacobian:

    .. math:: \log |\det J_f(x)| = \sum_l \log |\det W_l|
              + \log(\text{slope}) \cdot \#\{\text{negative pre-activations}\}
              + \log |\det W_\text{conv}|.

    :meth:`forward` returns this log-determinant with the features, so that a
    flow on the features plus this term is the exact log-density of the
    views (change of variables). :meth:`inverse` maps features back to views.

    With ``normalize_volume=True`` every weight matrix is used divided by
    ``|det W|^(1 / features)``, so the linear maps preserve volume
    (``log|det W| = 0``) and only the leaky-ReLU term remains: the features
    cannot be shrunk (or blown up) as a whole, whatever the training
    objective, while their shape stays free to learn. The flow on top can
    rescale them itself, so no expressivity is lost.

    Parameters
    ----------
    features : int
        Size of a view and of its features.
    n_layers : int, default=1
        Number of fully-connected hidden layers (the paper: 1 for small data).
    negative_slope : float, default=0.2
        Slope of the leaky-ReLU for negative inputs (GOAD's 0.2).
    normalize_volume : bool, default=True
        Use every weight matrix rescaled to ``|det| = 1``.

    Examples
    --------
    >>> import torch
    >>> f = FeatureExtractor(4)
    >>> x = torch.randn(3, 4)
    >>> y, logdet = f(x)
    >>> torch.allclose(f.inverse(y), x, atol=1e-5), logdet.shape
    (True, torch.Size([3]))
    """

    def __init__(
        self,
        features: int,
        n_layers: int = 1,
        negative_slope: float = 0.2,
        normalize_volume: bool = True,
    ) -> None:
        super().__init__()
        if negative_slope <= 0:
            raise ValueError(
                "negative_slope must be > 0 for an invertible map, got "
                f"{negative_slope}."
            )
        self.negative_slope = float(negative_slope)
        self.normalize_volume = normalize_volume
        self.layers = nn.ModuleList(
            nn.Linear(features, features) for _ in range(n_layers)
        )
        self.conv = nn.Conv1d(features, features, kernel_size=1)
        for layer in (*self.layers, self.conv):
            # orthogonal start: volume-preserving, unit-scale features
            nn.init.orthogonal_(layer.weight.view(features, features))
            nn.init.zeros_(layer.bias)

    def _weights(self) -> tuple[list[Tensor], Tensor]:
        """The weight matrices in use and the sum of their ``log|det|``."""
        raw = [layer.weight for layer in self.layers] + [self.conv.weight.squeeze(-1)]
        logdets = [torch.linalg.slogdet(w)[1] for w in raw]
        if not self.normalize_volume:
            return raw, sum(logdets)
        n = raw[0].shape[0]
        used = [w * torch.exp(-ld / n) for w, ld in zip(raw, logdets)]
        return used, torch.zeros((), dtype=raw[0].dtype, device=raw[0].device)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Features ``(n, features)`` and ``log|det J|`` ``(n,)`` of views ``x``."""
        weights, volume = self._weights()
        log_slope = torch.log(torch.tensor(self.negative_slope, dtype=x.dtype))
        logdet = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        h = x
        for layer, w in zip(self.layers, weights):
            h = F.linear(h, w, layer.bias)
            logdet = logdet + (h < 0).sum(-1).to(x.dtype) * log_slope
            h = F.leaky_relu(h, self.negative_slope)
        # the kernel-1 convolution over the transformation axis, on (n, features, 1)
        y = F.conv1d(h.unsqueeze(-1), weights[-1].unsqueeze(-1), self.conv.bias)
        return y.squeeze(-1), logdet + volume

    def inverse(self, y: Tensor) -> Tensor:
        """Views ``(n, features)`` whose features are ``y``."""
        weights, _ = self._weights()
        h = torch.linalg.solve(weights[-1], (y - self.conv.bias).T).T
        for layer, w in zip(reversed(self.layers), reversed(weights[:-1])):
            h = torch.where(h >= 0, h, h / self.negative_slope)
            h = torch.linalg.solve(w, (h - layer.bias).T).T
        return h


class ConvFeatureExtractor(nn.Module):
    r"""1-d convolutions over time, averaged over time: a view series to features.

    For whole series, the paper's "1-d convolution on top" read along time:
    ``n_layers`` convolutions (kernel ``kernel_size``, ``hidden`` channels,
    leaky-ReLU) over a view ``(T, m)``
    (:class:`~alad.flows.SeriesAffineTransforms`), one more to ``features``
    channels, the mean over time (over each of ``segments`` equal stretches of
    time, then a linear map to ``features``), and a batch normalisation
    without learned scale. The map is not invertible, so the flow's
    likelihood is that of the features (the paper's Eq. 6 as written); the
    normalisation fixes the scale of each feature, so that maximum likelihood
    cannot raise it by shrinking them all. :meth:`forward` returns a zero
    log-determinant to keep the interface of :class:`FeatureExtractor`; there
    is no inverse, so active augmentation (which maps drawn features back to
    views) is not available with it.

    Parameters
    ----------
    in_channels : int
        ``m``, the channels of a view.
    features : int
        Size of the features.
    n_layers : int, default=1
        Hidden convolutions.
    hidden : int, default=32
        Their channels.
    kernel_size : int, default=5
        Their kernel size (odd; "same" padding).
    negative_slope : float, default=0.2
        Leaky-ReLU slope.
    segments : int, default=1
        Stretches of time averaged separately: 1 is invariant to where in
        the series a pattern lies; more keep its rough position.

    Examples
    --------
    >>> import torch
    >>> f = ConvFeatureExtractor(3, 4)
    >>> y, logdet = f(torch.randn(5, 20, 3))
    >>> y.shape, logdet.shape
    (torch.Size([5, 4]), torch.Size([5]))
    """

    def __init__(
        self,
        in_channels: int,
        features: int,
        n_layers: int = 1,
        hidden: int = 32,
        kernel_size: int = 5,
        negative_slope: float = 0.2,
        segments: int = 1,
    ) -> None:
        super().__init__()
        if segments < 1:
            raise ValueError(f"segments must be >= 1, got {segments}.")
        self.negative_slope = float(negative_slope)
        self.segments = segments
        widths = [in_channels] + [hidden] * n_layers
        self.layers = nn.ModuleList(
            nn.Conv1d(a, b, kernel_size, padding=kernel_size // 2)
            for a, b in zip(widths[:-1], widths[1:])
        )
        self.conv = nn.Conv1d(
            widths[-1], features, kernel_size, padding=kernel_size // 2
        )
        self.mix = nn.Linear(features * segments, features) if segments > 1 else None
        self.norm = nn.BatchNorm1d(features, affine=False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Features ``(n, features)`` and a zero ``(n,)`` of views ``(n, T, m)``."""
        h = x.transpose(1, 2)
        for layer in self.layers:
            h = F.leaky_relu(layer(h), self.negative_slope)
        h = self.conv(h)
        if self.mix is None:
            y = h.mean(-1)
        else:
            y = self.mix(F.adaptive_avg_pool1d(h, self.segments).flatten(1))
        if self.training and y.shape[0] == 1:
            # batch statistics need two rows; one row is scaled as in eval
            y = F.batch_norm(y, self.norm.running_mean, self.norm.running_var)
        else:
            y = self.norm(y)
        return y, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)

    def inverse(self, y: Tensor) -> Tensor:
        """Not available: the map is not invertible."""
        raise NotImplementedError(
            "ConvFeatureExtractor has no inverse; active augmentation needs "
            "the dense extractor (extractor='dense')."
        )
