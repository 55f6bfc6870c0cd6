"""Active augmentation of NAF-AL (Algorithm 1): likelihood and Mahalanobis filters."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.stats import chi2

from .query import select_marginal

__all__ = [
    "augmentation_quota",
    "filter_augmented",
    "fit_gaussians",
    "likelihood_filter",
    "mahalanobis_filter",
    "mahalanobis_sq",
    "mahalanobis_threshold",
]


def _check_level(value, name: str) -> float:
    if not isinstance(value, numbers.Real) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a float in (0, 1), got {value!r}.")
    return float(value)


def likelihood_filter(
    log_prob, reference_log_prob, alpha: float = 0.9
) -> tuple[np.ndarray, float]:
    r"""Keep samples less likely than most training data (Eq. 11, first part).

    A drawn sample is kept when its log-likelihood is below the
    ``(1 - alpha)``-quantile of the training log-likelihoods; equivalently,
    when its anomaly score (negative log-likelihood) exceeds the
    ``alpha``-quantile of the training scores. Samples drawn from a model that
    fits the training data pass with probability ``1 - alpha``: the paper's
    "retain 10% of the samples with lower likelihoods" for ``alpha = 0.9``.

    Parameters
    ----------
    log_prob : array-like of shape (n_samples,)
        Log-likelihoods of the drawn samples.
    reference_log_prob : array-like of shape (n_reference,)
        Log-likelihoods of training data.
    alpha : float, default=0.9
        The quantile level, in (0, 1) (the paper: 0.9 to 0.95).

    Returns
    -------
    keep : ndarray of bool of shape (n_samples,)
    threshold : float
        The log-likelihood level ``Q``; kept samples have ``log_prob < Q``.

    Examples
    --------
    >>> import numpy as np
    >>> keep, q = likelihood_filter([-5.0, -1.0, 0.0], np.linspace(-2, 0, 11), 0.9)
    >>> keep.tolist(), round(q, 2)
    ([True, False, False], -1.8)
    """
    alpha = _check_level(alpha, "alpha")
    log_prob = np.asarray(log_prob, dtype=np.float64)
    reference = np.asarray(reference_log_prob, dtype=np.float64)
    if reference.size == 0:
        raise ValueError("reference_log_prob must hold at least one value.")
    threshold = float(np.quantile(reference, 1.0 - alpha))
    return log_prob < threshold, threshold


def fit_gaussians(
    features, groups=None, n_groups: int | None = None, shrinkage: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and precision matrix of features, one pair per group.

    The covariance is shrunk towards its mean variance,
    ``(1 - shrinkage) * S + shrinkage * trace(S) / d * I``, so that it stays
    invertible with fewer samples than dimensions.

    Parameters
    ----------
    features : array-like of shape (n, d)
    groups : array-like of int of shape (n,) or None, default=None
        Group of each row (e.g. the transformation index); None is one group.
    n_groups : int or None, default=None
        Number of groups; default ``max(groups) + 1``.
    shrinkage : float, default=1e-3
        Weight of the identity target, in [0, 1].

    Returns
    -------
    means : ndarray of shape (n_groups, d)
    precisions : ndarray of shape (n_groups, d, d)
    """
    features = np.asarray(features, dtype=np.float64)
    n, d = features.shape
    groups = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups)
    n_groups = int(groups.max()) + 1 if n_groups is None else n_groups
    counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
    if (counts == 0).any():
        raise ValueError(
            f"every group needs at least one row; groups {np.flatnonzero(counts == 0)}"
            " have none."
        )
    means = np.zeros((n_groups, d))
    np.add.at(means, groups, features)
    means /= counts[:, None]
    centred = features - means[groups]
    cov = np.zeros((n_groups, d, d))
    np.add.at(cov, groups, centred[:, :, None] * centred[:, None, :])
    cov /= counts[:, None, None]
    scale = np.trace(cov, axis1=1, axis2=2) / d
    scale = np.where(scale > 0, scale, 1.0)
    cov = (1 - shrinkage) * cov + shrinkage * scale[:, None, None] * np.eye(d)
    return means, np.linalg.inv(cov)


def mahalanobis_sq(x, means, precisions, groups=None) -> np.ndarray:
    r"""Squared Mahalanobis distance (Eq. 10) of each row to its group.

    .. math:: M(x)^2 = (x - \mu)^T \Sigma^{-1} (x - \mu)

    Parameters
    ----------
    x : array-like of shape (n, d)
    means : array-like of shape (n_groups, d)
    precisions : array-like of shape (n_groups, d, d)
    groups : array-like of int of shape (n,) or None, default=None
        None: every row belongs to group 0.

    Returns
    -------
    distance_sq : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> mahalanobis_sq([[3.0, 4.0]], np.zeros((1, 2)), np.eye(2)[None]).tolist()
    [25.0]
    """
    x = np.asarray(x, dtype=np.float64)
    groups = np.zeros(len(x), dtype=np.int64) if groups is None else np.asarray(groups)
    diff = x - np.asarray(means)[groups]
    return np.einsum("ni,nij,nj->n", diff, np.asarray(precisions)[groups], diff)


def mahalanobis_threshold(dim: int, level: float = 0.95) -> float:
    """``delta_M^2``: the ``level`` quantile of the chi-square law with ``dim`` dofs.

    A Gaussian vector's squared Mahalanobis distance follows that law, so
    ``level=0.95`` (the paper's "chi-square at 0.05") rejects 5% of them.

    Examples
    --------
    >>> round(mahalanobis_threshold(2, 0.95), 3)
    5.991
    """
    return float(chi2.ppf(_check_level(level, "level"), dim))


def mahalanobis_filter(
    x,
    reference,
    level: float = 0.95,
    groups=None,
    reference_groups=None,
    n_groups: int | None = None,
) -> np.ndarray:
    """Reject outliers: keep rows with ``M(x)^2 <= chi2.ppf(level, d)`` (Eq. 11).

    Parameters
    ----------
    x : array-like of shape (n, d)
        Features of the drawn samples.
    reference : array-like of shape (n_reference, d)
        Features of training data, which give the mean and covariance.
    level : float, default=0.95
        Chi-square quantile of the radius.
    groups, reference_groups : array-like of int or None, default=None
        Group of each row of ``x`` and ``reference`` (one Gaussian per group,
        e.g. per transformation); None is a single group.
    n_groups : int or None, default=None
        Number of groups.

    Returns
    -------
    keep : ndarray of bool of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.random.default_rng(0).normal(size=(5000, 2))
    >>> mahalanobis_filter([[0.5, 0.5], [3.0, 3.0]], ref).tolist()
    [True, False]
    """
    x = np.asarray(x, dtype=np.float64)
    means, precisions = fit_gaussians(reference, reference_groups, n_groups)
    distance_sq = mahalanobis_sq(x, means, precisions, groups)
    return distance_sq <= mahalanobis_threshold(x.shape[1], level)


def augmentation_quota(n_train: int, n_augmented: int, max_augment_ratio: float) -> int:
    """How many more samples may be added before ``max_augment_ratio`` is reached.

    Examples
    --------
    >>> augmentation_quota(100, 30, 0.5), augmentation_quota(100, 60, 0.5)
    (20, 0)
    """
    return max(int(np.floor(max_augment_ratio * n_train + 1e-9)) - n_augmented, 0)


def filter_augmented(
    log_prob,
    features,
    reference_log_prob,
    reference_features,
    *,
    alpha: float = 0.9,
    level: float = 0.95,
    quota: int | None = None,
    groups=None,
    reference_groups=None,
    n_groups: int | None = None,
) -> tuple[np.ndarray, dict]:
    """Lines 15-17 of Algorithm 1: choose which drawn samples join the training data.

    A sample is kept when its log-likelihood is below the ``(1 - alpha)``
    training quantile (:func:`likelihood_filter`) and its features lie within
    the chi-square ``level`` Mahalanobis radius of the training features
    (:func:`mahalanobis_filter`). When more samples pass than ``quota``
    allows, those nearest the likelihood boundary are kept
    (:func:`select_marginal`, Eq. 9).

    Parameters
    ----------
    log_prob : array-like of shape (n,)
        Log-likelihoods of the drawn samples.
    features : array-like of shape (n, d)
        Their features.
    reference_log_prob : array-like of shape (n_reference_lp,)
        Log-likelihoods of training data.
    reference_features : array-like of shape (n_reference, d)
        Features of training data.
    alpha : float, default=0.9
    level : float, default=0.95
    quota : int or None, default=None
        Most samples to keep; None: no cap.
    groups, reference_groups : array-like of int or None, default=None
        Groups (transformations) of ``features`` and ``reference_features``
        for the Mahalanobis filter.
    n_groups : int or None, default=None

    Returns
    -------
    kept : ndarray of int64
        Indices of the kept samples, in increasing order.
    info : dict
        ``n_drawn``, ``n_below_quantile``, ``n_within_radius`` (of those below
        the quantile), ``n_kept`` and ``log_prob_threshold``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(4000, 2))
    >>> ref_lp = -0.5 * (ref**2).sum(1)
    >>> x = rng.normal(size=(4000, 2))
    >>> kept, info = filter_augmented(-0.5 * (x**2).sum(1), x, ref_lp, ref)
    >>> 0.03 < info["n_kept"] / 4000 < 0.07  # chi2(2): between the 0.90 and 0.95 radii
    True
    """
    log_prob = np.asarray(log_prob, dtype=np.float64)
    below, threshold = likelihood_filter(log_prob, reference_log_prob, alpha)
    groups_arr = None if groups is None else np.asarray(groups)
    candidates = np.flatnonzero(below)
    within = np.zeros(0, dtype=bool)
    if candidates.size:
        within = mahalanobis_filter(
            np.asarray(features, dtype=np.float64)[candidates],
            reference_features,
            level,
            None if groups_arr is None else groups_arr[candidates],
            reference_groups,
            n_groups,
        )
    passed = candidates[within]
    if quota is not None and passed.size > quota:
        passed = np.sort(passed[select_marginal(log_prob[passed], threshold, quota)])
    info = {
        "n_drawn": int(log_prob.size),
        "n_below_quantile": int(candidates.size),
        "n_within_radius": int(within.sum()),
        "n_kept": int(passed.size),
        "log_prob_threshold": threshold,
    }
    return passed.astype(np.int64), info
