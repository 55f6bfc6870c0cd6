"""OmniAnomaly of Su et al. (2019): a stochastic recurrent network with planar flows."""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._recurrence import gru_sequence, posterior_sequence
from .base import ReconstructionBackbone
from .lstm_vae import gaussian_nll

__all__ = ["OmniAnomalyBackbone", "PlanarFlow", "random_walk_log_prob"]

_LOG_2PI = math.log(2.0 * math.pi)


class PlanarFlow(nn.Module):
    """A stack of planar transformations ``f(z) = z + u_hat * tanh(w^T z + b)``.

    ``u_hat`` is ``u`` adjusted so that ``w^T u_hat >= -1``, which keeps each
    transformation invertible (Rezende and Mohamed 2015, Appendix A.1).

    Parameters
    ----------
    dim : int
        Dimension of ``z``.
    n_layers : int
        Number of planar transformations.

    References
    ----------
    .. [1] D. J. Rezende, S. Mohamed. Variational Inference with Normalizing
       Flows. ICML 2015.

    Examples
    --------
    >>> import torch
    >>> from alad.backbones.omni_anomaly import PlanarFlow
    >>> flow = PlanarFlow(dim=3, n_layers=4)
    >>> z, log_det = flow(torch.randn(5, 10, 3))
    >>> z.shape, log_det.shape
    (torch.Size([5, 10, 3]), torch.Size([5, 10]))
    """

    def __init__(self, dim: int, n_layers: int) -> None:
        super().__init__()
        self.w = nn.Parameter(0.1 * torch.randn(n_layers, dim))
        self.u = nn.Parameter(0.1 * torch.randn(n_layers, dim))
        self.b = nn.Parameter(torch.zeros(n_layers))

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Return ``f_K(...f_1(z))`` and ``sum_k log|det J_k|`` over the last axis."""
        log_det = torch.zeros(z.shape[:-1], device=z.device, dtype=z.dtype)
        for w, u, b in zip(self.w, self.u, self.b):
            wu = torch.dot(w, u)
            u_hat = u + (F.softplus(wu) - 1.0 - wu) * w / torch.dot(w, w)
            activation = torch.tanh(z @ w + b)
            z = z + activation.unsqueeze(-1) * u_hat
            slope = (1.0 - activation**2) * torch.dot(w, u_hat)
            log_det = log_det + torch.log1p(slope.clamp_min(-1.0 + 1e-6))
        return z, log_det


def random_walk_log_prob(z: Tensor) -> Tensor:
    """Log-density of ``z`` under OmniAnomaly's linear Gaussian state space prior.

    The prior of the reference implementation: a hidden state with identity
    transition and unit transition noise, ``s_1 ~ N(0, I)``,
    ``s_t = s_{t-1} + v_t``, observed as ``z_t = s_t + e_t`` with unit noise.
    Its marginal likelihood is computed exactly by a Kalman filter; with
    identity matrices every latent dimension is an independent scalar filter
    whose variances do not depend on the data.

    Parameters
    ----------
    z : Tensor of shape (batch, length, dim)

    Returns
    -------
    log_prob : Tensor of shape (batch,)

    Examples
    --------
    >>> import torch
    >>> from alad.backbones.omni_anomaly import random_walk_log_prob
    >>> random_walk_log_prob(torch.zeros(2, 1, 3))  # 3 x log N(0; 0, 2)
    tensor([-3.7965, -3.7965])
    """
    length = z.shape[1]
    innovation_filter, innovation_var = _kalman_innovations(length)
    # the gains do not depend on the data, so the innovations z_t - E[z_t |
    # z_<t] are one fixed lower-triangular linear filter of the sequence
    innovations = torch.einsum(
        "ts,bsd->btd", innovation_filter.to(device=z.device, dtype=z.dtype), z
    )
    innovation_var = innovation_var.to(device=z.device, dtype=z.dtype)
    quadratic = (innovations**2 / innovation_var[:, None]).sum(dim=(1, 2))
    constant = z.shape[2] * (innovation_var.log().sum() + length * _LOG_2PI)
    return -0.5 * (quadratic + constant)


@functools.lru_cache(maxsize=32)
def _kalman_innovations(length: int) -> tuple[Tensor, Tensor]:
    """The random-walk prior's innovation filter ``(L, L)`` and variances ``(L,)``.

    With ``mean_t = E[z_t | z_<t]``, the filter's update ``mean_{t+1} =
    (1 - gain_t) mean_t + gain_t z_t`` makes ``mean_t = M[t] @ z`` for a
    strictly lower-triangular ``M``; the innovations are ``(I - M) @ z``.
    """
    mean = torch.zeros(length, length, dtype=torch.float64)
    filter_rows, variances = [], []
    variance = 1.0  # of the predicted state
    for t in range(length):
        innovation_var = variance + 1.0
        row = -mean[t].clone()
        row[t] += 1.0
        filter_rows.append(row)
        variances.append(innovation_var)
        gain = variance / innovation_var
        if t + 1 < length:
            mean[t + 1] = (1.0 - gain) * mean[t]
            mean[t + 1, t] += gain
        variance = (1.0 - gain) * variance + 1.0
    return torch.stack(filter_rows), torch.tensor(variances, dtype=torch.float64)


class OmniAnomalyBackbone(ReconstructionBackbone):
    """Stochastic recurrent VAE with connected latents and a planar-flow posterior.

    OmniAnomaly (Su et al., 2019). The inference network (qnet) runs a GRU
    over the window, ``e_t = GRU(x_t, e_{t-1})``; the latent of each timestep
    depends on the previous one (stochastic variable connection),
    ``z_t ~ N(mu(h_t), diag sigma(h_t)^2)`` with
    ``h_t = ReLU(W [e_t, z_{t-1}] + b)``, and a planar normalizing flow turns
    the Gaussian samples into the posterior latents. The generative network
    (pnet) has a linear Gaussian state space prior over the latent sequence
    (:func:`random_walk_log_prob`), a GRU over the latents,
    ``d_t = GRU(z_t, d_{t-1})``, and a Gaussian output
    ``N(mu_x(d_t), diag sigma_x(d_t)^2)`` through a ReLU dense layer.

    Parameters
    ----------
    n_channels : int
        Number of input channels.
    window_size : int
        Window length (the model is recurrent and accepts any length; the
        argument is kept for the common constructor signature).
    latent_size : int, default=3
        Dimension of ``z_t`` (the reference's ``z_dim``).
    hidden_size : int, default=500
        Units of both GRUs (``rnn_num_hidden``).
    dense_size : int, default=500
        Units of the ReLU dense layers of qnet and pnet (``dense_dim``).
    n_flows : int, default=20
        Planar transformations of the posterior flow (``nf_layers``); 0
        leaves the posterior Gaussian.
    std_epsilon : float, default=1e-4
        Added to every softplus standard deviation (``std_epsilon``).

    Notes
    -----
    **Objective.** The negative evidence lower bound of the window, from one
    reparameterised sample, divided by the window length:
    ``-(log p(x | z) + log p(z) - log q(z | x)) / T`` averaged over the
    batch, where ``log q`` is the Gaussian log-density of the pre-flow
    samples minus the flow's log-determinants. The reference's L2 weight
    regularisation (1e-4) and gradient clipping (norm 10) belong to the
    optimiser and are not part of the objective.

    **Score.** ``-log p(x_t | z)`` for every timestep, summed over channels
    (the reference returns the reconstruction log-probability of the last
    point of each window, averaged over posterior samples; here every
    timestep is scored and the posterior is followed without noise, i.e.
    each ``z_t`` is the mean of its conditional Gaussian before the flow, so
    that scoring is deterministic).

    **forward and the feedback.** :meth:`forward` returns the mean of
    ``p(x | z)``, the reconstruction of the window (``z`` sampled in training
    mode, noise-free in evaluation mode). The masked minimax feedback
    compares this mean with the input, so it trains qnet, the flow, the pnet
    GRU and the mean head as a plain autoencoder: it ignores the standard
    deviation head (which the score also uses) and the prior, and does not
    keep the posterior close to the prior. Han et al. report OmniAnomaly as
    one of the two backbones the feedback does not improve on average
    (Table 3); the probabilistic objective and the reconstruction feedback
    pull the model in different directions.

    **Sizes.** The defaults are the reference's (``z_dim=3``,
    ``rnn_num_hidden=500``, ``dense_dim=500``, ``nf_layers=20``; it uses
    windows of 100). One training epoch over GECCO-sized data (1,385 windows
    of 50 x 9, batch 8) takes about 33 s of CPU time on one core, so nothing
    is scaled down.

    **On CPU** the two GRUs and the posterior loop run through
    :mod:`alad.backbones._recurrence`: one autograd node each with a
    hand-written backward pass through time, the same values as ``nn.GRU``
    and the plain loop up to floating-point order (to ``rtol=1e-5`` in the
    tests); on other devices ``nn.GRU`` and an autograd loop.

    **Differences from the reference.** The qnet and pnet dense layers follow
    the paper (one ReLU layer on ``[e_t, z_{t-1}]``, one on ``d_t``); the
    reference stacks two linear layers after each GRU. ``log q`` is the
    density of the noise actually drawn, and the noise is Gaussian (the
    reference draws truncated normal noise and recomputes the density with
    ``z_t`` in place of ``z_{t-1}``). The prior's matrices and noises are
    fixed, as in the reference (the TimeSeAD port learns them).

    References
    ----------
    .. [1] Y. Su, Y. Zhao, C. Niu, R. Liu, W. Sun, D. Pei. Robust Anomaly
       Detection for Multivariate Time Series through Stochastic Recurrent
       Neural Network. KDD 2019, 2828-2837.
    .. [2] D. J. Rezende, S. Mohamed. Variational Inference with Normalizing
       Flows. ICML 2015.

    Examples
    --------
    >>> import torch
    >>> from alad.backbones import OmniAnomalyBackbone
    >>> model = OmniAnomalyBackbone(
    ...     n_channels=3, window_size=10, hidden_size=16, dense_size=16, n_flows=2
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
        latent_size: int = 3,
        hidden_size: int = 500,
        dense_size: int = 500,
        n_flows: int = 20,
        std_epsilon: float = 1e-4,
    ) -> None:
        super().__init__()
        self.latent_size = latent_size
        self.std_epsilon = std_epsilon
        # qnet
        self.encoder_rnn = nn.GRU(n_channels, hidden_size, batch_first=True)
        # W [e_t, z_{t-1}] + b, split so that the e_t part runs outside the loop
        self.q_from_e = nn.Linear(hidden_size, dense_size)
        self.q_from_z = nn.Linear(latent_size, dense_size, bias=False)
        self.q_mean = nn.Linear(dense_size, latent_size)
        self.q_std = nn.Linear(dense_size, latent_size)
        self.flow = PlanarFlow(latent_size, n_flows)
        # pnet
        self.decoder_rnn = nn.GRU(latent_size, hidden_size, batch_first=True)
        self.p_dense = nn.Linear(hidden_size, dense_size)
        self.p_mean = nn.Linear(dense_size, n_channels)
        self.p_std = nn.Linear(dense_size, n_channels)

    def _fast_path(self, x: Tensor) -> bool:
        """Whether the recurrences run through :mod:`._recurrence` (on CPU).

        On other devices ``nn.GRU`` (cuDNN) and the autograd loop are kept.
        """
        return x.device.type == "cpu"

    def _heads(self) -> tuple[Tensor, Tensor]:
        """Mean and standard deviation heads as one matrix and one bias."""
        return (
            torch.cat((self.q_mean.weight, self.q_std.weight)),
            torch.cat((self.q_mean.bias, self.q_std.bias)),
        )

    def _posterior(
        self, x: Tensor, with_log_q: bool = True
    ) -> tuple[Tensor, Tensor | None]:
        """Posterior latents ``(batch, T, latent)`` and ``log q(z | x)`` per window.

        ``with_log_q=False`` (scoring) returns None for ``log q``; in
        evaluation mode the loop then skips the standard deviations, which
        only ``log q`` and the noise use.
        """
        if not self._fast_path(x):
            return self._posterior_autograd(x, with_log_q)
        batch, length = x.shape[:2]
        noise = None
        if self.training:
            noise = torch.randn(
                batch, length, self.latent_size, device=x.device, dtype=x.dtype
            )
        # time-major from here on: each step reads a contiguous block
        encoded = gru_sequence(x.transpose(0, 1), self.encoder_rnn)
        samples, stds = posterior_sequence(
            self.q_from_e(encoded),
            self.q_from_z.weight,
            *self._heads(),
            None if noise is None else noise.transpose(0, 1),
            self.std_epsilon,
            need_std=with_log_q or self.training,
        )
        z, log_det = self.flow(samples.transpose(0, 1))
        if stds is None:
            return z, None
        # log q of the drawn noise, taken once for the whole window
        log_q = -torch.log(stds).sum(dim=(0, 2))
        if noise is not None:
            log_q = log_q - 0.5 * (noise**2).sum(dim=(1, 2))
        log_q = log_q - 0.5 * _LOG_2PI * length * self.latent_size
        return z, log_q - log_det.sum(dim=-1)

    def _posterior_autograd(
        self, x: Tensor, with_log_q: bool = True
    ) -> tuple[Tensor, Tensor | None]:
        """:meth:`_posterior` with ``nn.GRU`` and an autograd loop (not CPU)."""
        encoded, _ = self.encoder_rnn(x)
        # the e_t part of W [e_t, z_{t-1}] + b for every timestep at once, one
        # view per step (one autograd node for the whole window, not one each)
        from_e = self.q_from_e(encoded).unbind(dim=1)
        batch, length = x.shape[:2]
        z = x.new_zeros(batch, self.latent_size)
        from_z = self.q_from_z.weight.t()
        # mean and standard deviation heads as one matrix product per step
        heads = self._heads()
        samples = []
        if not self.training and not with_log_q:
            # noise-free posterior, no density: z_t is the mean head's output
            for t in range(length):
                hidden = F.relu(torch.addmm(from_e[t], z, from_z))
                z = F.linear(hidden, *heads)[:, : self.latent_size]
                samples.append(z)
            return self.flow(torch.stack(samples, dim=1))[0], None
        noise = None
        if self.training:
            noise = torch.randn(
                batch, length, self.latent_size, device=x.device, dtype=x.dtype
            )
            noise_steps = noise.unbind(dim=1)
        stds = []
        for t in range(length):
            # addmm(a, z, W^T) is a + z W^T in one kernel, the same values
            hidden = F.relu(torch.addmm(from_e[t], z, from_z))
            mean, std = F.linear(hidden, *heads).split(self.latent_size, dim=-1)
            std = F.softplus(std) + self.std_epsilon
            z = mean if noise is None else mean + std * noise_steps[t]
            samples.append(z)
            stds.append(std)
        # log q of the drawn noise, taken once for the whole window
        log_q = -torch.log(torch.stack(stds, dim=1)).sum(dim=(1, 2))
        if noise is not None:
            log_q = log_q - 0.5 * (noise**2).sum(dim=(1, 2))
        log_q = log_q - 0.5 * _LOG_2PI * length * self.latent_size
        z, log_det = self.flow(torch.stack(samples, dim=1))
        return z, log_q - log_det.sum(dim=-1)

    def _likelihood(self, z: Tensor) -> tuple[Tensor, Tensor]:
        if self._fast_path(z):
            decoded = gru_sequence(z.transpose(0, 1), self.decoder_rnn)
            hidden = F.relu(self.p_dense(decoded))
            std = F.softplus(self.p_std(hidden)) + self.std_epsilon
            return self.p_mean(hidden).transpose(0, 1), std.transpose(0, 1)
        decoded, _ = self.decoder_rnn(z)
        hidden = F.relu(self.p_dense(decoded))
        std = F.softplus(self.p_std(hidden)) + self.std_epsilon
        return self.p_mean(hidden), std

    def forward(self, x: Tensor) -> Tensor:
        return self._likelihood(self._posterior(x, with_log_q=False)[0])[0]

    def objective(self, x: Tensor, *, phase: int = 0, epoch: int = 1) -> Tensor:
        """Negative ELBO of the window divided by its length, batch mean."""
        z, log_q = self._posterior(x)
        mean, std = self._likelihood(z)
        log_px = -gaussian_nll(x, mean, std).sum(dim=(1, 2))
        elbo = log_px + random_walk_log_prob(z) - log_q
        return -(elbo / x.shape[1]).mean()

    def anomaly_score(self, x: Tensor) -> Tensor:
        """``-log p(x_t | z)`` of each timestep, summed over channels."""
        mean, std = self._likelihood(self._posterior(x, with_log_q=False)[0])
        return gaussian_nll(x, mean, std).sum(dim=-1)
