"""Fitting the flow's Gaussian-mixture base of NAF-AD by EM (scikit-learn).

The model (:class:`~alad.flows.MixtureBase`) is pure torch; the EM fits and
the choice of a component count by BIC live here, where numpy and
scikit-learn may be used.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.mixture import GaussianMixture

__all__ = [
    "CANDIDATES",
    "fit_base",
    "fit_view_mixtures",
    "max_components",
    "select_components",
]

#: component counts :func:`select_components` chooses among by default
CANDIDATES = (1, 2, 3, 5, 10)

#: ridge added to every covariance: latents have unit scale, so it only keeps
#: a component of few samples invertible
REG_COVAR = 1e-3


def max_components(n_samples: int, n_features: int) -> int:
    """At most one component per ``2 m`` distinct samples (at least one), so
    that a small set gets few full covariances (``m (m + 3) / 2`` parameters
    each); :func:`fit_base` keeps the standard normal below ``2 m`` samples.

    Distinct, because duplicated rows add no spread: counting them let a
    component sit on one repeated point, with the ridge alone for its
    variance, and the training data themselves scored hundreds of nats.
    """
    return max(1, n_samples // (2 * n_features))


def _distinct_rows(views) -> int:
    """The fewest distinct rows among ``views`` (arrays ``(n, m)``).

    EM starts from k-means, which cannot place more components than there
    are distinct points and warns (a ConvergenceWarning about a count the
    user never chose) when asked to: data with duplicated rows (binary or
    one-hot features, a constant set) cap the count of components.
    """
    return min(len(np.unique(v, axis=0)) for v in views)


def _mixture(n_components: int, random_state: int) -> GaussianMixture:
    return GaussianMixture(
        n_components,
        covariance_type="full",
        reg_covar=REG_COVAR,
        random_state=random_state,
    )


def select_components(
    data: np.ndarray, candidates=CANDIDATES, random_state: int = 0, n_views: int = 4
) -> int:
    """The component count of least BIC, summed over the first views.

    Parameters
    ----------
    data : ndarray of shape (n, K, m)
        What the flow models, for every view of the training samples.
    candidates : sequence of int
        Counts to choose among; those above :func:`max_components` of the
        distinct samples are skipped.
    random_state : int
        Seed of the EM fits.
    n_views : int, default=4
        Views whose BIC is summed: every view sees the same samples, so a few
        decide as well as all, at a fraction of the cost.

    Returns
    -------
    n_components : int
        1 when no mixture fits the views better than one Gaussian, by BIC.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> select_components(rng.normal(size=(300, 1, 2)))
    1
    """
    _, n_all, features = data.shape
    views = [data[:, k] for k in range(min(n_views, n_all))]
    most = max_components(_distinct_rows(views), features)
    usable = [c for c in candidates if c <= most] or [1]
    if usable == [1]:
        return 1
    bic = {
        c: sum(_mixture(c, random_state).fit(v).bic(v) for v in views) for c in usable
    }
    return min(bic, key=bic.get)


def fit_view_mixtures(latents: np.ndarray, n_components: int, random_state: int = 0):
    """One mixture per view, fitted by EM to latents ``(n, K, m)``.

    Uses at most :func:`max_components` components of the fewest distinct
    latents of a view.

    Returns
    -------
    weights : ndarray of shape (K, c)
    means : ndarray of shape (K, c, m)
    covariances : ndarray of shape (K, c, m, m)
    """
    _, n_views, features = latents.shape
    views = [latents[:, k] for k in range(n_views)]
    used = min(n_components, max_components(_distinct_rows(views), features))
    fits = [_mixture(used, random_state).fit(v) for v in views]
    return (
        np.stack([f.weights_ for f in fits]),
        np.stack([f.means_ for f in fits]),
        np.stack([f.covariances_ for f in fits]),
    )


def fit_base(
    module, x: torch.Tensor, random_state: int = 0, select: bool = False
) -> int:
    """Fit the mixture base of a :class:`~alad.flows.NAFAD` to samples ``x``.

    With ``select=True`` the number of components is chosen by BIC
    (:func:`select_components`, at most the base's) on what the flow models;
    when one Gaussian is chosen, the mixture is dropped and the flow keeps
    the standard normal base, as it does with fewer than ``2 m`` samples.
    Does nothing with the standard normal base.

    Returns
    -------
    n_components : int
        Components in use per view; 0 for the standard normal base.
    """
    if module.base is None:
        return 0
    latents, modelled = module.base_inputs(x, with_modelled=select)
    n, _, features = latents.shape
    if n < 2 * features:
        # too few samples for one full covariance: the standard normal
        module.base = None
        return 0
    n_components = module.base.n_components
    if select:
        candidates = [c for c in CANDIDATES if c <= n_components]
        n_components = select_components(
            modelled.double().cpu().numpy(), candidates, random_state
        )
        if n_components == 1:
            module.base = None
            return 0
    weights, means, covariances = fit_view_mixtures(
        latents.double().cpu().numpy(), n_components, random_state
    )
    module.base.set_components_(
        torch.from_numpy(weights),
        torch.from_numpy(means),
        torch.from_numpy(covariances),
    )
    return weights.shape[1]
