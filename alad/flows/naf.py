"""The NAF-AD model: random affine views, feature extractor, conditional NAF."""

from __future__ import annotations

import torch
import zuko
from torch import Tensor, nn

from .extractor import ConvFeatureExtractor, FeatureExtractor
from .mixture import MixtureBase
from .transforms import RandomAffineTransforms, SeriesAffineTransforms

__all__ = ["NAFAD", "make_naf"]


def make_naf(
    features: int,
    context: int = 0,
    *,
    transforms: int = 4,
    hidden_features: int = 128,
    hidden_layers: int = 2,
    signal: int = 16,
    mnn_hidden_features: int = 64,
    passes: int | None = None,
) -> zuko.flows.NAF:
    """A zuko neural autoregressive flow (Huang et al., 2018).

    Parameters
    ----------
    features : int
        Size of the modelled vectors.
    context : int, default=0
        Size of the conditioning vector (0: unconditional).
    transforms : int, default=4
        Number of autoregressive flow blocks (the paper: 4 for small data).
    hidden_features : int, default=128
        Width of the hidden layers of each block's conditioner network.
    hidden_layers : int, default=2
        Number of those hidden layers (the paper: 2).
    signal : int, default=16
        Size of the signal passed from the conditioner to each monotonic
        network.
    mnn_hidden_features : int, default=64
        Width of the two hidden layers of the monotonic networks (zuko's 64).
    passes : int or None, default=None
        Sequential passes of the inverse (sampling) per block: None is fully
        autoregressive (``features`` passes); 2 is a coupling-like split that
        makes sampling ``features / 2`` times faster.

    Returns
    -------
    flow : zuko.flows.NAF
        Call it (with a context when ``context > 0``) to get a distribution
        with ``log_prob`` and ``sample``.

    Examples
    --------
    >>> flow = make_naf(3, transforms=2, hidden_features=16, mnn_hidden_features=8)
    >>> flow().log_prob(torch.zeros(5, 3)).shape
    torch.Size([5])
    """
    return zuko.flows.NAF(
        features,
        context=context,
        transforms=transforms,
        signal=signal,
        network={"hidden_features": (mnn_hidden_features,) * 2},
        hidden_features=(hidden_features,) * hidden_layers,
        passes=passes,
    )


class NAFAD(nn.Module):
    r"""NAF anomaly detection: ``x -> T_k(x) -> f_theta -> NAF`` log-likelihoods.

    Each input ``x`` gives ``K`` views ``T_k(x)`` (Eq. 1); the extractor maps
    each view to features and the NAF, conditioned on a learned embedding of
    ``k``, gives their log-density :math:`\log p(T_k(x) \in X_k)` (Eq. 2).
    With ``volume_term=True`` the extractor's ``log|det J|`` is added, so the
    log-likelihood is that of the view itself; without it the likelihood of
    the features can be raised without bound by shrinking them (the collapse
    studied in ``docs/nafal.rst``). ``normalize_volume=True`` also fixes the
    volume of the extractor's linear maps, so that the features cannot drift
    in scale either.

    Parameters
    ----------
    in_features : int
        Size of an input vector.
    n_transforms : int
        ``K``, the number of random affine transformations.
    transform_dim : int
        Size of each view and of its features.
    generator : torch.Generator or None, default=None
        Draws the transformations (the other weights use the global generator).
    n_layers : int, default=1
        Hidden layers of the extractor.
    negative_slope : float, default=0.2
        Leaky-ReLU slope of the extractor.
    context_features : int, default=8
        Size of the learned embedding of the transformation index.
    volume_term : bool, default=True
        Add the extractor's log-determinant to the log-likelihood.
    normalize_volume : bool, default=True
        Rescale the extractor's weight matrices to ``|det| = 1``.
    flow_params : dict or None, default=None
        Keyword arguments of :func:`make_naf`.
    extractor : {"dense", "conv"}, default="dense"
        ``"dense"``: views of the whole (flat) input and the invertible
        :class:`~alad.flows.FeatureExtractor` (the paper as written).
        ``"conv"``: for series, views that mix channels at every timestep
        (:class:`~alad.flows.SeriesAffineTransforms`) and 1-d convolutions
        over time (:class:`~alad.flows.ConvFeatureExtractor`); no inverse, so
        no :meth:`sample`.
    series_shape : tuple of int or None, default=None
        ``(n_timepoints, n_channels)`` of a series, with ``in_features`` their
        product; required by ``extractor="conv"``.
    conv_segments : int, default=1
        ``segments`` of :class:`~alad.flows.ConvFeatureExtractor`.
    base_components : int, default=0
        0: the flow's base is the standard normal (the paper). ``C > 0``: a
        mixture of ``C`` full-covariance Gaussians per view
        (:class:`~alad.flows.MixtureBase`), to be fitted to the training data
        before training (:func:`alad.mixtures.fit_base`).

    Examples
    --------
    >>> import torch
    >>> model = NAFAD(6, n_transforms=4, transform_dim=3,
    ...               flow_params={"transforms": 1, "hidden_features": 8})
    >>> model.score(torch.randn(2, 6)).shape
    torch.Size([2])
    """

    def __init__(
        self,
        in_features: int,
        n_transforms: int,
        transform_dim: int,
        generator: torch.Generator | None = None,
        *,
        n_layers: int = 1,
        negative_slope: float = 0.2,
        context_features: int = 8,
        volume_term: bool = True,
        normalize_volume: bool = True,
        flow_params: dict | None = None,
        extractor: str = "dense",
        series_shape: tuple[int, int] | None = None,
        conv_segments: int = 1,
        base_components: int = 0,
    ) -> None:
        super().__init__()
        if extractor == "dense":
            self.transforms = RandomAffineTransforms(
                in_features, n_transforms, transform_dim, generator
            )
            self.extractor = FeatureExtractor(
                transform_dim, n_layers, negative_slope, normalize_volume
            )
        elif extractor == "conv":
            if series_shape is None or len(series_shape) != 2:
                raise ValueError(
                    "extractor='conv' needs series_shape=(n_timepoints, "
                    f"n_channels); got series_shape={series_shape!r}."
                )
            n_timepoints, n_channels = series_shape
            self.transforms = SeriesAffineTransforms(
                n_timepoints, n_channels, n_transforms, transform_dim, generator
            )
            self.extractor = ConvFeatureExtractor(
                transform_dim,
                transform_dim,
                n_layers,
                negative_slope=negative_slope,
                segments=conv_segments,
            )
        else:
            raise ValueError(f"extractor must be 'dense' or 'conv'; got {extractor!r}.")
        self.embedding = nn.Embedding(n_transforms, context_features)
        self.flow = make_naf(transform_dim, context_features, **(flow_params or {}))
        # made last, so that every other weight is drawn as without it
        self.base = (
            MixtureBase(n_transforms, transform_dim, base_components)
            if base_components
            else None
        )
        self.volume_term = volume_term

    # -- likelihoods -------------------------------------------------------
    def view_log_prob(self, views: Tensor, k: Tensor) -> Tensor:
        """Log-likelihood ``(n,)`` of views ``(n, m)`` made by transformations ``k``."""
        features, logdet = self.extractor(views)
        base = getattr(self, "base", None)  # None in modules pickled before it
        if base is None:
            log_prob = self.flow(self.embedding(k)).log_prob(features)
        else:
            latent, ladj = self.flow.transform(self.embedding(k)).call_and_ladj(
                features
            )
            log_prob = base.log_prob(latent, k) + ladj
        return log_prob + logdet if self.volume_term else log_prob

    @torch.no_grad()
    def base_inputs(
        self, x: Tensor, with_modelled: bool = False, chunk_size: int = 256
    ) -> tuple[Tensor, Tensor | None]:
        """What a mixture base is fitted to, for samples ``x``.

        Computed as training sees them (batch statistics in the convolutional
        extractor's normalisation, whose running statistics and the module's
        mode are restored, whatever happens).

        Returns
        -------
        latents : Tensor of shape (n, K, m)
            The flow's latents of every view.
        modelled : Tensor of shape (n, K, m) or None
            With ``with_modelled``, what the flow models: the views themselves
            with the invertible extractor (the likelihood is theirs), the
            features with the convolutional one. A component count is chosen
            on these, not on the latents, which the untrained flow warps.
        """
        saved = {name: b.clone() for name, b in self.extractor.named_buffers()}
        was_training = self.training
        K = self.transforms.n_transforms
        views_modelled = isinstance(self.extractor, FeatureExtractor)
        latents, modelled = [], []
        try:
            self.train()
            for start in range(0, x.shape[0], chunk_size):
                views = self.views(x[start : start + chunk_size])
                rows = views.shape[0]
                k = torch.arange(K, device=x.device).repeat(rows)
                flat = views.reshape(rows * K, *views.shape[2:])
                features, _ = self.extractor(flat)
                latent = self.flow.transform(self.embedding(k))(features)
                latents.append(latent.reshape(rows, K, -1))
                if with_modelled:
                    what = flat if views_modelled else features
                    modelled.append(what.reshape(rows, K, -1))
        finally:
            for name, b in self.extractor.named_buffers():
                b.copy_(saved[name])
            self.train(was_training)
        return torch.cat(latents), (torch.cat(modelled) if with_modelled else None)

    def views(
        self, x: Tensor, view: Tensor | None = None, is_view: Tensor | None = None
    ) -> Tensor:
        """The views ``(batch, K, m)`` (``(batch, K, T, m)`` with the
        convolutional extractor) of each row: of samples, or given ones.

        The one place where views are made, for training, scoring and
        augmentation alike. A row flagged in ``is_view`` is not a sample but
        one view, ``view``, drawn by active augmentation (its ``x`` is
        ignored): it stands in every slot, and the mask of the caller selects
        the transformation it was drawn for.
        """
        views = self.transforms(x)
        if is_view is not None and bool(is_view.any()):
            views = torch.where(is_view[:, None, None], view[:, None, :], views)
        return views

    def forward(
        self,
        x: Tensor,
        mask: Tensor,
        view: Tensor | None = None,
        is_view: Tensor | None = None,
    ) -> Tensor:
        """Mean negative log-likelihood over the selected views of each row.

        Parameters
        ----------
        x : Tensor of shape (batch, d)
            Samples (standardised, flat).
        mask : bool Tensor of shape (batch, K)
            The views to use; every row needs at least one.
        view : Tensor of shape (batch, m) or None
            Augmented views, for the rows flagged in ``is_view``.
        is_view : bool Tensor of shape (batch,) or None
            Rows that are an augmented view rather than a sample.

        Returns
        -------
        nll : Tensor of shape (batch,)
            With every view of a sample selected, the anomaly score of Eq. 7.
        """
        views = self.views(x, view, is_view)
        rows, k = mask.nonzero(as_tuple=True)
        log_prob = self.view_log_prob(views[rows, k], k)
        total = torch.zeros(x.shape[0], dtype=log_prob.dtype, device=x.device)
        total = total.index_add(0, rows, -log_prob)
        return total / mask.sum(1).clamp_min(1).to(total.dtype)

    def view_scores(self, x: Tensor) -> Tensor:
        """Negative log-likelihood of every view, ``(batch, K)``, of inputs
        ``(batch, d)``: Eq. 7 before the mean over the transformations (the
        mean over ``K`` is :meth:`score`, up to rounding)."""
        views = self.views(x)
        batch, K = views.shape[:2]
        k = torch.arange(K, device=x.device).repeat(batch)
        flat = views.reshape(batch * K, *views.shape[2:])
        return -self.view_log_prob(flat, k).reshape(batch, K)

    def score(self, x: Tensor) -> Tensor:
        """Anomaly score of Eq. 7, ``(batch,)``, of inputs ``(batch, d)``."""
        mask = torch.ones(
            x.shape[0], self.transforms.n_transforms, dtype=torch.bool, device=x.device
        )
        return self(x, mask)

    def features(self, views: Tensor) -> Tensor:
        """Extractor outputs ``(n, m)`` of views ``(n, m)``."""
        return self.extractor(views)[0]

    @torch.no_grad()
    def reference(self, x: Tensor, k: Tensor) -> tuple[Tensor, Tensor]:
        """What the augmentation filters compare draws with, for samples ``x``.

        Returns
        -------
        log_prob : Tensor of shape (batch,)
            Log-likelihood of view ``k[i]`` of each sample.
        features : Tensor of shape (batch, K, m)
            Features of every view of each sample.
        """
        views = self.views(x)
        rows = torch.arange(x.shape[0], device=x.device)
        log_prob = self.view_log_prob(views[rows, k], k)
        batch, K = views.shape[:2]
        features = self.features(views.reshape(batch * K, *views.shape[2:]))
        return log_prob, features.reshape(batch, K, -1)

    # -- sampling ----------------------------------------------------------
    @torch.no_grad()
    def sample(self, k: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Draw one view per entry of ``k`` from the model.

        Features are drawn from the conditional NAF (numerical inversion by
        bisection) and mapped back through the extractor's inverse.

        Returns
        -------
        views : Tensor of shape (n, m)
        features : Tensor of shape (n, m)
        log_prob : Tensor of shape (n,)
            The model's log-likelihood of each drawn view.
        """
        base = getattr(self, "base", None)
        if base is None:
            features = self.flow(self.embedding(k)).sample()
        else:
            latent = base.sample(k)
            features = self.flow.transform(self.embedding(k)).inv(latent)
        views = self.extractor.inverse(features)
        return views, features, self.view_log_prob(views, k)
