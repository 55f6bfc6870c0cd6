"""Tests of the flow's Gaussian-mixture base: the torch model (MixtureBase),
its EM fit (alad.mixtures) and its use in NAFAD."""

import math
import warnings

import pytest
import torch
from torch import distributions as D

from alad.flows import NAFAD, MixtureBase
from alad.mixtures import fit_base, fit_view_mixtures, select_components

TINY_FLOW = {
    "transforms": 1,
    "hidden_features": 16,
    "signal": 4,
    "mnn_hidden_features": 8,
}


def _clusters(n=400, centres=((-4.0, 0.0), (4.0, 0.0)), seed=0):
    """Points ``(n, 2)`` around each centre in turn, unit spread."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor(centres)
    return centres[torch.arange(n) % len(centres)] + torch.randn(n, 2, generator=g)


def test_log_prob_is_the_mixture_density():
    torch.manual_seed(0)
    base = MixtureBase(3, 2, 4)
    with torch.no_grad():
        base.logits.normal_()
        base.log_diag.normal_(std=0.3)
        base.lower.normal_(std=0.5)
    z, k = torch.randn(7, 2), torch.tensor([0, 1, 2, 0, 1, 2, 2])
    for row in range(7):
        kk = int(k[row])
        expected = D.MixtureSameFamily(
            D.Categorical(logits=base.logits[kk]),
            D.MultivariateNormal(base.loc[kk], scale_tril=base.scale_tril()[kk]),
        ).log_prob(z[row])
        assert torch.allclose(
            base.log_prob(z[row : row + 1], k[row : row + 1]), expected
        )


def _fitted(z, slots, n_components):
    base = MixtureBase(z.shape[1], z.shape[2], slots)
    weights, means, covariances = fit_view_mixtures(z.double().numpy(), n_components)
    base.set_components_(
        torch.from_numpy(weights),
        torch.from_numpy(means),
        torch.from_numpy(covariances),
    )
    return base, weights.shape[1]


def test_fit_finds_the_clusters_and_leaves_unused_components_empty():
    z = torch.stack([_clusters(seed=0), _clusters(seed=1)], 1)  # two views
    base, used = _fitted(z, 5, 2)
    assert used == 2
    weights = torch.softmax(base.logits, -1)
    assert torch.allclose(weights[:, :2].sum(-1), torch.ones(2), atol=1e-6)
    assert (weights[:, 2:] < 1e-10).all()
    centres = base.loc[0, :2, 0].sort().values
    assert torch.allclose(centres, torch.tensor([-4.0, 4.0]), atol=0.3)
    # the fitted density beats one Gaussian's on its data
    one, _ = _fitted(z, 1, 1)
    k = torch.zeros(len(z), dtype=torch.long)
    assert base.log_prob(z[:, 0], k).mean() > one.log_prob(z[:, 0], k).mean() + 0.5


def test_fit_uses_at_most_one_component_per_two_m_samples():
    z = _clusters(n=12)[:, None, :]  # 12 samples of 2 features: 3 components
    assert _fitted(z, 10, 10)[1] == 3
    with pytest.raises(ValueError, match="this base holds 2"):
        _fitted(z, 2, 3)


def test_select_components_by_bic():
    one = torch.randn(300, 1, 2, generator=torch.Generator().manual_seed(0))
    assert select_components(one.numpy()) == 1
    three = _clusters(300, ((-5.0, 0.0), (5.0, 0.0), (0.0, 8.0)))[:, None, :]
    three = three.numpy()
    assert select_components(three) == 3
    # too few samples for any mixture
    assert select_components(three[:3]) == 1


def test_sample_follows_the_fitted_mixture():
    base, _ = _fitted(_clusters(600)[:, None, :], 2, 2)
    torch.manual_seed(0)
    draws = base.sample(torch.zeros(2000, dtype=torch.long))
    assert draws.shape == (2000, 2)
    left = (draws[:, 0] < 0).float().mean()
    assert abs(float(left) - 0.5) < 0.05
    assert torch.allclose(
        draws[draws[:, 0] < 0].mean(0), torch.tensor([-4.0, 0.0]), atol=0.2
    )


def test_base_components_must_be_positive():
    with pytest.raises(ValueError, match="n_components"):
        MixtureBase(2, 2, 0)


# -- in the model --------------------------------------------------------------
def _model(base_components, **kwargs):
    torch.manual_seed(0)
    return NAFAD(
        2,
        2,
        2,
        torch.Generator().manual_seed(0),
        flow_params=TINY_FLOW,
        base_components=base_components,
        **kwargs,
    )


def _conv_model():
    """A convolutional NAFAD of series of 6 steps x 2 channels, 2 Gaussians."""
    torch.manual_seed(0)
    return NAFAD(
        12,
        3,
        2,
        torch.Generator().manual_seed(0),
        flow_params=TINY_FLOW,
        extractor="conv",
        series_shape=(6, 2),
        base_components=2,
    )


def test_other_weights_are_drawn_as_without_the_mixture():
    plain, mixed = _model(0), _model(3)
    assert plain.base is None and isinstance(mixed.base, MixtureBase)
    mixed_state = mixed.state_dict()
    for name, value in plain.state_dict().items():
        assert torch.equal(value, mixed_state[name]), name


def test_mixture_base_gives_a_normalised_density_of_views():
    """Change of variables through the extractor and the flow into the
    mixture: exp(log-likelihood) of the views integrates to 1."""
    model = _model(3)
    model.transforms.standardize_(_clusters())
    fit_base(model, _clusters())
    model.eval()
    grid = torch.linspace(-8, 8, 321)
    step = float(grid[1] - grid[0])
    views = torch.cartesian_prod(grid, grid)
    k = torch.zeros(len(views), dtype=torch.long)
    with torch.no_grad():
        mass = model.view_log_prob(views, k).exp().sum().item() * step**2
    assert math.isclose(mass, 1.0, rel_tol=0.02)


def test_fit_base_selects_or_drops_the_mixture():
    x = _clusters(400, ((-5.0, 0.0), (5.0, 0.0), (0.0, 8.0)))
    model = _model(10)
    model.transforms.standardize_(x)
    n_used = fit_base(model, x, select=True)
    assert 1 < n_used <= 10 and model.base is not None
    gaussian = torch.randn(400, 2, generator=torch.Generator().manual_seed(0))
    model = _model(10)
    model.transforms.standardize_(gaussian)
    assert fit_base(model, gaussian, select=True) == 0
    assert model.base is None
    assert fit_base(_model(0), gaussian) == 0


def test_mixture_model_trains_every_parameter_and_samples_back():
    x = _clusters()
    model = _model(2)
    model.transforms.standardize_(x)
    fit_base(model, x)
    model(x[:16], torch.ones(16, 2, dtype=torch.bool)).mean().backward()
    for name, p in model.named_parameters():
        if name == "base.lower":  # only the strictly lower triangle is used
            assert p.grad[..., 1, 0].abs().sum() > 0
            continue
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    model.eval()
    k = torch.tensor([0, 1, 1, 0])
    views, features, log_prob = model.sample(k)
    assert views.shape == features.shape == (4, 2)
    assert torch.allclose(model.features(views), features, atol=1e-4)
    assert torch.allclose(log_prob, model.view_log_prob(views, k))


def test_base_inputs_give_the_views_or_the_conv_features():
    x = _clusters()
    dense = _model(2)
    dense.transforms.standardize_(x)
    latents, modelled = dense.base_inputs(x, with_modelled=True)
    assert latents.shape == modelled.shape == (len(x), 2, 2)
    assert torch.allclose(modelled, dense.views(x))
    assert dense.base_inputs(x)[1] is None
    conv = _conv_model()
    series = torch.randn(20, 12)
    conv.transforms.standardize_(series)
    latents, modelled = conv.base_inputs(series, with_modelled=True)
    # the features (n, K, m), not the flattened view series (n, K, T * m)
    assert latents.shape == modelled.shape == (20, 3, 2)


def test_too_few_samples_keep_the_standard_normal():
    x = _clusters(n=3)  # fewer than 2 m = 4 samples
    model = _model(2)
    model.transforms.standardize_(x)
    assert fit_base(model, x) == 0 and model.base is None
    assert select_components(x[:, None, :].numpy()) == 1


@pytest.mark.parametrize("select", [True, False], ids=["bic", "fixed"])
def test_duplicated_samples_cap_the_components_without_a_warning(select):
    """k-means, which starts EM, cannot place more components than there are
    distinct samples: binary features or repeated rows must not ask it to."""
    x = _clusters(n=3).repeat(40, 1)  # 3 distinct samples, 120 rows
    model = _model(10)
    model.transforms.standardize_(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn's ConvergenceWarning included
        n_used = fit_base(model, x, select=select)
    assert n_used <= 3
    assert select_components(x[:, None, :].numpy()) <= 3
    one = _clusters(n=1).repeat(120, 1)  # a single distinct sample
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert select_components(one[:, None, :].numpy()) == 1
        assert fit_view_mixtures(one[:, None, :].double().numpy(), 5)[0].shape == (
            1,
            1,
        )


def test_duplicated_samples_count_once_for_the_component_cap():
    """One component per 2 m *distinct* samples: 12 distinct samples of 2
    features repeated 10 times give 3 components, not 30 (one per repeated
    point, whose variance is the ridge alone)."""
    z = _clusters(n=12).repeat(10, 1)[:, None, :]
    assert _fitted(z, 10, 10)[1] == 3
    assert fit_view_mixtures(z.double().numpy(), 10)[0].shape == (1, 3)


def test_repeated_series_score_their_training_data_as_normal():
    """Series repeated ten times: a component per repeated series scored the
    training series themselves 126 to 567 nats per view."""
    import numpy as np

    from alad import NAFALDetector

    rng = np.random.default_rng(0)
    X = np.repeat(rng.normal(size=(4, 24, 3)), 10, axis=0)
    tiny = dict(n_transforms=4, transform_dim=2, flow_transforms=1)
    tiny.update(flow_hidden_features=8, flow_signal=4, max_steps=30, random_state=0)
    det = NAFALDetector(**tiny).fit(X)
    standard = NAFALDetector(**tiny, base_components=0).fit(X)
    assert det.decision_scores_.max() < 10 * max(1.0, standard.decision_scores_.max())


def test_fit_base_keeps_the_conv_extractors_running_statistics():
    model = _conv_model().eval()
    x = torch.randn(64, 12)
    model.transforms.standardize_(x)
    before = {n: b.clone() for n, b in model.named_buffers()}
    assert fit_base(model, x) == 2
    assert not model.training
    for name, value in model.named_buffers():
        assert torch.equal(value, before[name]), name
    assert torch.isfinite(model.score(x)).all()
