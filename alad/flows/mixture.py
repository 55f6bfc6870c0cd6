"""A per-view Gaussian-mixture base distribution for the flow of NAF-AD."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["MixtureBase"]

#: the log-weight of a component a mixture does not use (exp: 1e-13)
UNUSED = -30.0


class MixtureBase(nn.Module):
    r"""Mixtures of full-covariance Gaussians, one per affine view, as a flow's base.

    A normalizing flow maps a view's features ``u`` to a latent ``z = g(u)``
    and scores ``log p(u) = log q_k(z) + log|det J_g(u)|``. With the standard
    normal as ``q_k`` (the paper's NAF), data of several clusters must be
    pulled apart and pushed together by ``g`` alone, which a short training
    run does not achieve: on data of many clusters the flow then stays near
    one Gaussian (``docs/nafal.rst``, held-out check). Here ``q_k`` is a
    mixture of ``n_components`` Gaussians for view ``k``, set from a fit to
    the latents of the training data (:meth:`set_components_`;
    :func:`alad.mixtures.fit_base` does it), then trained with the flow. The
    flow starts from the mixture's fit and only has to refine it.

    Parameters
    ----------
    n_views : int
        ``K``, the number of views (one mixture each).
    features : int
        Size of a latent.
    n_components : int
        Components per mixture, at most (a mixture may use fewer).

    Examples
    --------
    >>> import torch
    >>> base = MixtureBase(3, 2, 4)
    >>> z, k = torch.randn(5, 2), torch.tensor([0, 1, 2, 0, 1])
    >>> base.log_prob(z, k).shape
    torch.Size([5])
    >>> base.sample(k).shape
    torch.Size([5, 2])
    """

    def __init__(self, n_views: int, features: int, n_components: int) -> None:
        super().__init__()
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}.")
        self.logits = nn.Parameter(torch.zeros(n_views, n_components))
        # components spread over the standard normal until they are set
        self.loc = nn.Parameter(torch.randn(n_views, n_components, features))
        self.log_diag = nn.Parameter(torch.zeros(n_views, n_components, features))
        self.lower = nn.Parameter(
            torch.zeros(n_views, n_components, features, features)
        )

    @property
    def n_components(self) -> int:
        """Components per view, at most."""
        return self.logits.shape[1]

    def scale_tril(self) -> Tensor:
        """Cholesky factors ``(K, C, m, m)`` of the components' covariances."""
        return torch.tril(self.lower, -1) + torch.diag_embed(self.log_diag.exp())

    def log_prob(self, z: Tensor, k: Tensor) -> Tensor:
        """Log-density ``(n,)`` of latents ``z`` ``(n, m)`` under mixtures ``k``."""
        tril = self.scale_tril()[k]  # (n, C, m, m)
        diff = (z[:, None, :] - self.loc[k]).unsqueeze(-1)
        whitened = torch.linalg.solve_triangular(tril, diff, upper=False).squeeze(-1)
        features = z.shape[-1]
        component = (
            -0.5 * whitened.pow(2).sum(-1)
            - self.log_diag[k].sum(-1)
            - 0.5 * features * math.log(2 * math.pi)
        )
        return torch.logsumexp(component + F.log_softmax(self.logits[k], -1), -1)

    @torch.no_grad()
    def sample(self, k: Tensor) -> Tensor:
        """One latent ``(n, m)`` from each mixture ``k`` (the global generator)."""
        component = torch.multinomial(F.softmax(self.logits[k], -1), 1).squeeze(-1)
        tril = self.scale_tril()[k, component]
        noise = torch.randn(
            k.shape[0], self.loc.shape[-1], dtype=tril.dtype, device=tril.device
        )
        return self.loc[k, component] + (tril @ noise.unsqueeze(-1)).squeeze(-1)

    @torch.no_grad()
    def set_components_(
        self, weights: Tensor, means: Tensor, covariances: Tensor
    ) -> MixtureBase:
        """Set every view's mixture to given components.

        Parameters
        ----------
        weights : Tensor of shape (K, c)
            Mixing weights of ``c <= n_components`` components per view (each
            row sums to 1); the components beyond ``c`` get a zero weight.
        means : Tensor of shape (K, c, m)
        covariances : Tensor of shape (K, c, m, m)
            Symmetric positive definite.
        """
        used = weights.shape[1]
        if used > self.n_components:
            raise ValueError(
                f"{used} components given; this base holds {self.n_components}."
            )
        tril = torch.linalg.cholesky(covariances.double())
        logits = torch.full_like(self.logits, UNUSED)
        logits[:, :used] = weights.double().clamp_min(1e-12).log().to(logits.dtype)
        self.logits.copy_(logits)
        self.loc[:, :used] = means.to(self.loc.dtype)
        self.log_diag[:, :used] = torch.diagonal(tril, dim1=-2, dim2=-1).log()
        self.lower[:, :used] = torch.tril(tril, -1).to(self.lower.dtype)
        return self
