"""skorch net for maximum-likelihood training of NAF-AD, with a hinge for anomalies."""

from __future__ import annotations

import torch
from skorch import NeuralNet
from torch import Tensor, nn

from .callbacks import LoggedNet
from .nets import ForeachOptimizerMixin

__all__ = ["FlowNet", "LikelihoodHingeLoss", "subsample_views"]


class LikelihoodHingeLoss(nn.Module):
    r"""Negative log-likelihood of normal samples, hinge on known anomalies.

    For a batch of per-sample scores ``s`` (mean negative log-likelihood over
    a sample's views) and targets ``y`` (``nan`` for a normal sample, the
    hinge target :math:`\tau_i` for a known anomaly):

    .. math:: \frac{1}{B}\Big[\sum_{y_i = \mathrm{nan}} s_i
              + w \sum_{y_i \ne \mathrm{nan}} \max(0,\ \tau_i - s_i)\Big]

    The first sum is Eq. 6 (maximum likelihood); the second pushes a known
    anomaly's score above its target (the detector's threshold plus a
    margin) and then stops, so the likelihood of anomalies is lowered only
    as far as needed, never without bound. The target travels with the data
    (``y``) rather than in the criterion, so it can change between rounds
    without re-initialising the net.

    Parameters
    ----------
    anomaly_weight : float, default=1.0
        ``w``.
    """

    def __init__(self, anomaly_weight: float = 1.0):
        super().__init__()
        self.anomaly_weight = anomaly_weight

    def forward(self, scores: Tensor, targets: Tensor) -> Tensor:
        targets = targets.to(scores.device, scores.dtype).reshape(-1)
        normal = torch.isnan(targets)
        loss = scores[normal].sum()
        if not normal.all():
            hinge = torch.relu(targets[~normal] - scores[~normal]).sum()
            loss = loss + self.anomaly_weight * hinge
        return loss / scores.shape[0]


def subsample_views(
    mask: Tensor, n_views: int | None, generator: torch.Generator
) -> Tensor:
    """Keep at most ``n_views`` of the selected views of each row, at random.

    Parameters
    ----------
    mask : bool Tensor of shape (batch, K)
    n_views : int or None
        None keeps the mask as it is.
    generator : torch.Generator
        CPU generator of the draws.

    Returns
    -------
    mask : bool Tensor of shape (batch, K)
        A subset of ``mask``, each row with ``min(n_views, row count)`` views.

    Examples
    --------
    >>> import torch
    >>> mask = torch.ones(2, 5, dtype=torch.bool)
    >>> subsample_views(mask, 3, torch.Generator().manual_seed(0)).sum(1).tolist()
    [3, 3]
    """
    if n_views is None or n_views >= mask.shape[1]:
        return mask
    noise = torch.rand(mask.shape, generator=generator).to(mask.device)
    noise = noise.masked_fill(~mask, 2.0)  # unselected views rank last
    ranks = noise.argsort(dim=1).argsort(dim=1)
    return mask & (ranks < n_views)


class FlowNet(ForeachOptimizerMixin, LoggedNet, NeuralNet):
    """Maximum-likelihood training of :class:`alad.flows.NAFAD` (Eq. 6).

    ``X`` is a dict with ``views`` ``(n, K, m)`` and ``mask`` ``(n, K)``; ``y``
    holds ``nan`` (normal) or a known anomaly's hinge target per row (see
    :class:`LikelihoodHingeLoss`). In training, each row uses
    ``train_views`` of its selected views drawn at random per batch (an
    unbiased estimate of the mean over all its views); scoring uses them all.

    Parameters
    ----------
    module : alad.flows.NAFAD instance
    train_views : int or None, default=None
        Views per sample and batch in training; None uses every view.
    view_seed : int, default=0
        Seeds the view draws.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, module, *args, train_views=None, view_seed=0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.train_views = train_views
        self.view_seed = view_seed

    def initialize(self):
        super().initialize()
        self.view_generator_ = torch.Generator().manual_seed(self.view_seed)
        return self

    def train_step_single(self, batch, **fit_params):
        Xi, yi = batch
        Xi = dict(Xi)
        Xi["mask"] = subsample_views(Xi["mask"], self.train_views, self.view_generator_)
        return super().train_step_single((Xi, yi), **fit_params)
