"""LSTM-VAE of Park, Hoshi and Kemp (2018): a recurrent variational autoencoder."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .base import ReconstructionBackbone

__all__ = ["LSTMVAEBackbone", "gaussian_nll"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def gaussian_nll(x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """Elementwise negative log-density of ``x`` under ``N(mean, std**2)``."""
    return torch.log(std) + 0.5 * ((x - mean) / std) ** 2 + _HALF_LOG_2PI


class LSTMVAEBackbone(ReconstructionBackbone):
    """LSTM variational autoencoder with a Gaussian latent at every timestep.

    The LSTM-VAE of Park et al. (2018): an LSTM encoder maps the window to a
    diagonal Gaussian posterior ``q(z_t | x_{1:t})`` per timestep (mean and
    log-variance), a latent sample is drawn by reparameterisation, and an LSTM
    decoder maps the latent sequence to a diagonal Gaussian over the input
    (mean and softplus standard deviation) at every timestep.

    Parameters
    ----------
    n_channels : int
        Number of input channels.
    window_size : int
        Window length (the model is recurrent and accepts any length; the
        argument is kept for the common constructor signature).
    hidden_size : int, default=60
        Units of the encoder and decoder LSTMs.
    latent_size : int, default=20
        Dimension of the latent variable of each timestep.
    noise_std : float, default=0.1
        Standard deviation of the Gaussian noise added to the input by the
        denoising training criterion (training mode only); 0 switches it off.
    std_epsilon : float, default=1e-4
        Added to the softplus standard deviation of the output distribution,
        so that its density stays bounded.

    Notes
    -----
    **Objective.** The negative evidence lower bound of the window, averaged
    over batch and timesteps: the Gaussian negative log-likelihood of ``x_t``
    (summed over channels) plus ``KL(q(z_t | x) || p(z_t))`` (summed over
    latent dimensions). In training mode the encoder reads a corrupted input
    ``x + noise_std * eps`` while the likelihood is of the clean ``x`` (the
    denoising criterion of the paper). The prior is the paper's
    progress-based prior ``p(z_t) = N(mu_p(t), I)`` whose mean moves linearly
    from a learned ``mu_p(1)`` to a learned ``mu_p(T)`` across the window.

    **Score.** The paper's anomaly score, the negative log-likelihood of each
    timestep under the reconstructed distribution,
    ``-log N(x_t; mu_x(t), diag sigma_x(t)^2)`` summed over channels, with
    ``z`` the posterior mean (so that scoring is deterministic; the paper's
    state-based threshold is replaced by the detector's own thresholding).

    **forward and the feedback.** :meth:`forward` returns the decoder mean
    ``mu_x``: the reconstruction of the window. In training mode ``z`` is
    sampled, in evaluation mode it is the posterior mean. The masked minimax
    feedback compares this mean with the input, so it moves the encoder, the
    decoder and the mean head; the standard-deviation head and the prior get
    no gradient from it, yet the score also depends on the standard
    deviation, which the feedback leaves as pretraining set it.

    **Sizes.** The authors published no code; the defaults are those of the
    port in TimeSeAD (``wagner-d/TimeSeAD``, ``LSTMVAEPark``): 60 LSTM units,
    20 latent dimensions, input noise 0.1. An epoch over GECCO-sized data
    (1,385 windows of 50 x 9, batch 8) takes about 1 s of CPU time.

    References
    ----------
    .. [1] D. Park, Y. Hoshi, C. C. Kemp. A Multimodal Anomaly Detector for
       Robot-Assisted Feeding Using an LSTM-Based Variational Autoencoder.
       IEEE Robotics and Automation Letters 3(3), 1544-1551, 2018.

    Examples
    --------
    >>> import torch
    >>> from alad.backbones import LSTMVAEBackbone
    >>> model = LSTMVAEBackbone(n_channels=3, window_size=10).eval()
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
        hidden_size: int = 60,
        latent_size: int = 20,
        noise_std: float = 0.1,
        std_epsilon: float = 1e-4,
    ) -> None:
        super().__init__()
        self.noise_std = noise_std
        self.std_epsilon = std_epsilon
        self.encoder = nn.LSTM(n_channels, hidden_size, batch_first=True)
        self.posterior = nn.Linear(hidden_size, 2 * latent_size)
        self.decoder = nn.LSTM(latent_size, hidden_size, batch_first=True)
        self.likelihood = nn.Linear(hidden_size, 2 * n_channels)
        # mu_p(1) and mu_p(T) of the progress-based prior
        self.prior_ends = nn.Parameter(torch.zeros(2, latent_size))

    def _encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        hidden, _ = self.encoder(x)
        mean, log_var = self.posterior(hidden).chunk(2, dim=-1)
        return mean, log_var

    def _sample(self, mean: Tensor, log_var: Tensor) -> Tensor:
        if not self.training:
            return mean
        return mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)

    def _decode(self, z: Tensor) -> tuple[Tensor, Tensor]:
        hidden, _ = self.decoder(z)
        mean, raw_std = self.likelihood(hidden).chunk(2, dim=-1)
        return mean, F.softplus(raw_std) + self.std_epsilon

    def _prior_mean(self, length: int, like: Tensor) -> Tensor:
        progress = torch.linspace(
            0.0, 1.0, length, device=like.device, dtype=like.dtype
        ).unsqueeze(-1)
        return (1.0 - progress) * self.prior_ends[0] + progress * self.prior_ends[1]

    def forward(self, x: Tensor) -> Tensor:
        mean, log_var = self._encode(x)
        return self._decode(self._sample(mean, log_var))[0]

    def objective(self, x: Tensor, *, phase: int = 0, epoch: int = 1) -> Tensor:
        """Negative ELBO per timestep (denoising criterion in training mode)."""
        x_in = x
        if self.training and self.noise_std > 0:
            x_in = x + self.noise_std * torch.randn_like(x)
        z_mean, z_log_var = self._encode(x_in)
        x_mean, x_std = self._decode(self._sample(z_mean, z_log_var))
        nll = gaussian_nll(x, x_mean, x_std).sum(dim=-1)
        prior = self._prior_mean(x.shape[1], z_mean)
        kl = 0.5 * (z_log_var.exp() + (z_mean - prior) ** 2 - 1.0 - z_log_var)
        return (nll + kl.sum(dim=-1)).mean()

    def anomaly_score(self, x: Tensor) -> Tensor:
        """Negative log-likelihood of each timestep, summed over channels."""
        z_mean, z_log_var = self._encode(x)
        x_mean, x_std = self._decode(self._sample(z_mean, z_log_var))
        return gaussian_nll(x, x_mean, x_std).sum(dim=-1)
