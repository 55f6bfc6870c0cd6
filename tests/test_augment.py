"""Tests of the augmentation filters of NAF-AL on cases with known answers."""

import numpy as np
import pytest
from scipy.stats import chi2

from alad.augment import (
    augmentation_quota,
    filter_augmented,
    fit_gaussians,
    likelihood_filter,
    mahalanobis_filter,
    mahalanobis_sq,
    mahalanobis_threshold,
)
from alad.query import select_marginal, select_top_and_marginal


@pytest.mark.parametrize("alpha", [0.9, 0.95, 0.5])
def test_likelihood_filter_keeps_one_minus_alpha_of_same_law(alpha):
    rng = np.random.default_rng(0)
    reference = rng.normal(size=50_000)
    samples = rng.normal(size=50_000)
    keep, threshold = likelihood_filter(samples, reference, alpha)
    assert abs(keep.mean() - (1 - alpha)) < 0.01
    assert np.isclose(threshold, np.quantile(reference, 1 - alpha))
    assert (samples[keep] < threshold).all() and (samples[~keep] >= threshold).all()


def test_likelihood_filter_validates_alpha_and_reference():
    with pytest.raises(ValueError, match="alpha"):
        likelihood_filter([0.0], [0.0], alpha=1.0)
    with pytest.raises(ValueError, match="reference"):
        likelihood_filter([0.0], [], alpha=0.9)


def test_mahalanobis_threshold_is_the_chi2_quantile():
    assert np.isclose(mahalanobis_threshold(8, 0.95), chi2.ppf(0.95, 8))
    with pytest.raises(ValueError, match="level"):
        mahalanobis_threshold(3, 0.0)


def test_mahalanobis_sq_matches_brute_force():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 3))
    cov = A @ A.T + np.eye(3)
    mean = rng.normal(size=3)
    x = rng.normal(size=(10, 3))
    expected = [(v - mean) @ np.linalg.inv(cov) @ (v - mean) for v in x]
    got = mahalanobis_sq(x, mean[None], np.linalg.inv(cov)[None])
    assert np.allclose(got, expected)


def test_fit_gaussians_per_group():
    rng = np.random.default_rng(2)
    a = rng.normal(loc=5, scale=2, size=(20_000, 2))
    b = rng.normal(loc=-1, scale=0.5, size=(20_000, 2))
    groups = np.r_[np.zeros(len(a), int), np.ones(len(b), int)]
    means, precisions = fit_gaussians(np.r_[a, b], groups, shrinkage=0.0)
    assert np.allclose(means, [[5, 5], [-1, -1]], atol=0.05)
    assert np.allclose(np.linalg.inv(precisions[0]), 4 * np.eye(2), atol=0.1)
    assert np.allclose(np.linalg.inv(precisions[1]), 0.25 * np.eye(2), atol=0.01)
    with pytest.raises(ValueError, match="group"):
        fit_gaussians(a[:3], np.array([0, 0, 2]))


def test_mahalanobis_filter_rejects_beyond_the_chi2_radius():
    """Gaussian features: the filter keeps ~95%, and exactly the points within
    the chi-square(0.95, d) radius of the true law."""
    d = 4
    rng = np.random.default_rng(3)
    cov = np.diag([1.0, 4.0, 0.25, 9.0])
    reference = rng.multivariate_normal(np.zeros(d), cov, size=200_000)
    x = rng.multivariate_normal(np.zeros(d), cov, size=20_000)
    keep = mahalanobis_filter(x, reference, level=0.95)
    assert abs(keep.mean() - 0.95) < 0.01
    true_d2 = np.einsum("ni,ij,nj->n", x, np.linalg.inv(cov), x)
    radius = chi2.ppf(0.95, d)
    clear = np.abs(true_d2 - radius) > 0.2  # estimation error only near the edge
    assert np.array_equal(keep[clear], true_d2[clear] <= radius)
    # points just inside and outside along an axis
    r = np.sqrt(radius)
    probe = np.array([[0.98 * r, 0, 0, 0], [1.02 * r, 0, 0, 0]])
    assert mahalanobis_filter(probe, reference).tolist() == [True, False]


def test_mahalanobis_filter_uses_the_group_gaussian():
    rng = np.random.default_rng(4)
    reference = np.r_[rng.normal(size=(5000, 2)), rng.normal(10, 1, size=(5000, 2))]
    ref_groups = np.repeat([0, 1], 5000)
    x = np.array([[0.0, 0.0], [10.0, 10.0], [10.0, 10.0]])
    keep = mahalanobis_filter(
        x, reference, groups=[0, 1, 0], reference_groups=ref_groups, n_groups=2
    )
    assert keep.tolist() == [True, True, False]


def test_select_marginal_orders_by_distance_to_threshold():
    lp = np.array([-10.0, -3.0, -2.2, -7.0, -2.2])
    assert select_marginal(lp, -2.0, 3).tolist() == [2, 4, 1]
    assert select_marginal(lp, -2.0, 0).tolist() == []


def test_select_marginal_ranks_infinite_and_nan_likelihoods_last():
    """A flow's -inf made the scale infinite: every finite distance became 0
    and the samples came back in index order."""
    lp = [-9.0, -2.5, -4.0, -2.1, -np.inf, np.nan]
    assert select_marginal(lp, -2.0, 6).tolist() == [3, 1, 2, 0, 4, 5]


@pytest.mark.parametrize("n", [0, 1, 4, 5, 9])
def test_top_and_marginal_takes_the_top_half_then_the_nearest(n):
    scores = np.array([0.1, 0.9, 0.45, 0.7, 0.52, 0.3, 0.95, 0.49])
    idx = select_top_and_marginal(scores, 0.5, n)
    n = min(n, len(scores))
    n_top = -(-n // 2)
    assert len(idx) == n and len(set(idx.tolist())) == n
    top = np.argsort(-scores, kind="stable")
    assert idx[:n_top].tolist() == top[:n_top].tolist()
    rest = top[n_top:]
    nearest = rest[np.argsort(np.abs(scores[rest] - 0.5), kind="stable")]
    assert idx[n_top:].tolist() == nearest[: n - n_top].tolist()


def test_augmentation_quota_stopping_rule():
    assert augmentation_quota(10, 0, 0.5) == 5
    assert augmentation_quota(10, 4, 0.5) == 1
    assert augmentation_quota(10, 7, 0.5) == 0
    assert augmentation_quota(10, 0, 0.0) == 0


def test_filter_augmented_gaussian_band_and_quota():
    """Exact Gaussian model: kept samples are those whose squared radius lies
    between the chi2 quantiles 0.90 (likelihood filter) and 0.95 (Mahalanobis
    filter), about 5% of them; the quota keeps those nearest the boundary."""
    d = 3
    rng = np.random.default_rng(5)
    reference = rng.normal(size=(100_000, d))
    x = rng.normal(size=(20_000, d))

    def log_prob(v):
        return -0.5 * (v**2).sum(1)

    kept, info = filter_augmented(
        log_prob(x), x, log_prob(reference), reference, alpha=0.9, level=0.95
    )
    assert abs(len(kept) / len(x) - 0.05) < 0.006
    r2 = (x[kept] ** 2).sum(1)
    assert (r2 >= chi2.ppf(0.90, d) - 0.1).all()
    assert (r2 <= chi2.ppf(0.95, d) + 0.1).all()
    assert info["n_drawn"] == len(x)
    assert info["n_kept"] == len(kept) == info["n_within_radius"]
    assert abs(info["n_below_quantile"] / len(x) - 0.1) < 0.01

    capped, info = filter_augmented(
        log_prob(x), x, log_prob(reference), reference, quota=7
    )
    assert len(capped) == info["n_kept"] == 7
    assert set(capped) <= set(kept)
    nearest = np.sort(log_prob(x[kept]))[-7:]  # highest log-lik below the level
    assert np.allclose(np.sort(log_prob(x[capped])), nearest)
