"""Tests of the torch pieces of NAF-AL: transforms, extractor, NAFAD model."""

import io
import math

import pytest
import torch

from alad.flows import (
    NAFAD,
    ConvFeatureExtractor,
    FeatureExtractor,
    RandomAffineTransforms,
    SeriesAffineTransforms,
    make_naf,
)

TINY_FLOW = {
    "transforms": 1,
    "hidden_features": 16,
    "signal": 4,
    "mnn_hidden_features": 8,
}


def _model(in_features=5, n_transforms=3, transform_dim=2, **kwargs):
    torch.manual_seed(0)
    return NAFAD(
        in_features,
        n_transforms,
        transform_dim,
        torch.Generator().manual_seed(0),
        flow_params=TINY_FLOW,
        **kwargs,
    )


# -- transforms -----------------------------------------------------------
def test_transforms_shapes_and_buffers():
    t = RandomAffineTransforms(7, 4, 3, torch.Generator().manual_seed(0))
    assert t(torch.randn(5, 7)).shape == (5, 4, 3)
    assert t.n_transforms == 4 and t.out_features == 3
    assert list(t.parameters()) == []  # drawn once, never trained
    assert {name for name, _ in t.named_buffers()} == {
        "weight",
        "bias",
        "loc",
        "scale",
    }


def test_transforms_are_affine_and_seeded():
    a = RandomAffineTransforms(4, 2, 3, torch.Generator().manual_seed(1))
    b = RandomAffineTransforms(4, 2, 3, torch.Generator().manual_seed(1))
    x1, x2 = torch.randn(3, 4), torch.randn(3, 4)
    assert torch.equal(a(x1), b(x1))
    mix = a(0.3 * x1 + 0.7 * x2)
    assert torch.allclose(mix, 0.3 * a(x1) + 0.7 * a(x2), atol=1e-5)


def test_standardize_gives_unit_views():
    t = RandomAffineTransforms(6, 5, 3, torch.Generator().manual_seed(0))
    x = torch.randn(2000, 6) * 4 + 10
    t.standardize_(x, chunk_size=300)
    views = t(x)
    assert torch.allclose(views.mean(0), torch.zeros(5, 3), atol=1e-3)
    assert torch.allclose(views.std(0, unbiased=False), torch.ones(5, 3), atol=1e-3)


def test_standardize_keeps_constant_outputs_finite():
    t = RandomAffineTransforms(2, 2, 2, torch.Generator().manual_seed(0))
    t.standardize_(torch.ones(10, 2))
    assert torch.isfinite(t(torch.ones(3, 2))).all()


# -- extractor ------------------------------------------------------------
@pytest.mark.parametrize("normalize_volume", [True, False])
@pytest.mark.parametrize("n_layers", [0, 1, 2])
def test_extractor_inverse_and_logdet_match_autograd(n_layers, normalize_volume):
    torch.manual_seed(0)
    f = FeatureExtractor(3, n_layers, 0.3, normalize_volume)
    with torch.no_grad():  # move away from the orthogonal start
        for p in f.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(6, 3, dtype=torch.float64)
    f = f.double()
    y, logdet = f(x)
    assert torch.allclose(f.inverse(y), x, atol=1e-8)
    for i in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda v: f(v[None])[0][0], x[i])
        assert torch.allclose(logdet[i], torch.linalg.slogdet(jac)[1], atol=1e-8)


def test_normalized_extractor_keeps_volume_when_weights_shrink():
    torch.manual_seed(0)
    f = FeatureExtractor(3, n_layers=1)
    x = torch.randn(5, 3)
    y, logdet = f(x)
    with torch.no_grad():
        for layer in (*f.layers, f.conv):
            layer.weight.mul_(0.1)
    y_small, logdet_small = f(x)
    assert torch.allclose(y, y_small, atol=1e-5)
    assert torch.equal(logdet, logdet_small)


def test_extractor_rejects_non_positive_slope():
    with pytest.raises(ValueError, match="negative_slope"):
        FeatureExtractor(2, negative_slope=0.0)


# -- NAFAD -----------------------------------------------------------------
def test_make_naf_passes_and_shapes():
    flow = make_naf(4, 2, passes=2, **TINY_FLOW)
    c = torch.randn(5, 2)
    assert flow(c).log_prob(torch.randn(5, 4)).shape == (5,)
    assert flow(c).sample().shape == (5, 4)


def test_nafad_forward_is_the_masked_mean_of_view_log_probs():
    model = _model()
    x = torch.randn(4, 5)
    views = model.transforms(x)
    k = torch.arange(3).repeat(4)
    per_view = model.view_log_prob(views.reshape(-1, 2), k).reshape(4, 3)
    full = torch.ones(4, 3, dtype=torch.bool)
    assert torch.allclose(model(x, full), -per_view.mean(1), atol=1e-5)
    assert torch.allclose(model.score(x), -per_view.mean(1), atol=1e-5)
    mask = torch.tensor([[1, 0, 0], [0, 1, 1], [1, 1, 1], [0, 0, 1]], dtype=torch.bool)
    expected = torch.stack(
        [-per_view[i][mask[i]].mean() for i in range(4)]  # mean of selected views
    )
    assert torch.allclose(model(x, mask), expected, atol=1e-5)
    # view_scores: the same per-view NLLs, before the mean of Eq. 7
    assert torch.allclose(model.view_scores(x), -per_view, atol=1e-5)


def test_nafad_rows_can_be_augmented_views_of_one_transformation():
    model = _model()
    x = torch.randn(3, 5)
    drawn = torch.randn(3, 2)
    k = torch.tensor([2, 0, 1])
    mask = torch.nn.functional.one_hot(k, 3).bool()
    is_view = torch.tensor([True, False, True])
    nll = model(x, mask, view=drawn, is_view=is_view)
    views = model.transforms(x)
    expected_views = torch.stack([drawn[0], views[1, 0], drawn[2]])
    assert torch.allclose(nll, -model.view_log_prob(expected_views, k), atol=1e-6)


def test_nafad_reference_gives_one_log_prob_and_every_feature():
    model = _model().eval()
    x, k = torch.randn(4, 5), torch.tensor([0, 2, 1, 1])
    log_prob, features = model.reference(x, k)
    views = model.transforms(x)
    assert torch.allclose(log_prob, model.view_log_prob(views[torch.arange(4), k], k))
    assert features.shape == views.shape
    assert torch.allclose(features[1, 2], model.features(views[1, 2][None])[0])


def test_nafad_gradients_reach_every_parameter():
    model = _model()
    model(torch.randn(8, 5), torch.ones(8, 3, dtype=torch.bool)).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_nafad_sample_maps_back_through_the_extractor():
    model = _model().eval()
    k = torch.tensor([0, 1, 2, 2])
    views, features, log_prob = model.sample(k)
    assert views.shape == features.shape == (4, 2)
    assert torch.allclose(model.features(views), features, atol=1e-4)
    assert torch.allclose(log_prob, model.view_log_prob(views, k))


class _StandardNormal(torch.nn.Module):
    """Stands in for the NAF: a known, exactly normalised density."""

    def forward(self, context):
        zeros = torch.zeros(context.shape[0], 2)
        normal = torch.distributions.Normal(zeros, torch.ones_like(zeros))
        return torch.distributions.Independent(normal, 1)


@pytest.mark.parametrize(
    ("volume_term", "normalize_volume", "n_layers", "expected"),
    [(True, False, 1, 1.0), (False, False, 0, 4.0), (True, True, 1, 1.0)],
)
def test_volume_term_makes_a_normalised_density_of_views(
    volume_term, normalize_volume, n_layers, expected
):
    """Change of variables: with the volume term, exp(log-likelihood) of the
    views integrates to 1 even after the extractor shrinks its weights by 0.5
    (the collapse direction); without it (the paper's literal objective) the
    mass grows to 1 / 0.5**2. Normalised weights are not shrunk at all."""
    model = _model(
        volume_term=volume_term,
        normalize_volume=normalize_volume,
        n_layers=n_layers,
        negative_slope=0.5,
    )
    model.eval()
    model.flow = _StandardNormal()
    with torch.no_grad():
        model.extractor.conv.weight.mul_(0.5)
    grid = torch.linspace(-30, 30, 401)
    step = float(grid[1] - grid[0])
    views = torch.cartesian_prod(grid, grid)
    k = torch.zeros(len(views), dtype=torch.long)
    with torch.no_grad():
        mass = model.view_log_prob(views, k).exp().sum().item() * step**2
    assert math.isclose(mass, expected, rel_tol=0.01)


def test_nafad_state_dict_round_trip():
    model = _model().eval()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    other = NAFAD(5, 3, 2, flow_params=TINY_FLOW)
    other.load_state_dict(torch.load(buffer))
    other.eval()
    x = torch.randn(3, 5)
    assert torch.equal(model.score(x), other.score(x))


# -- the convolutional extractor for series ----------------------------------
def test_series_transforms_mix_channels_per_timestep_and_standardize():
    t = SeriesAffineTransforms(6, 2, 3, 4, torch.Generator().manual_seed(0))
    x = torch.randn(50, 6, 2) * 3 + 1
    views = t(x.reshape(50, -1))
    assert views.shape == (50, 3, 6, 4)
    # timestep t of a view depends on timestep t of the series alone, by one map
    raw = t.raw(x.reshape(50, -1))
    expected = torch.einsum("tc,kcm->ktm", x[0], t.weight) + t.bias[:, None]
    assert torch.allclose(raw[0], expected, atol=1e-5)
    t.standardize_(x.reshape(50, -1), chunk_size=7)
    views = t(x.reshape(50, -1))
    assert torch.allclose(views.mean((0, 2)), torch.zeros(3, 4), atol=1e-4)
    assert torch.allclose(
        views.transpose(1, 2).reshape(-1, 3, 4).std(0, unbiased=False),
        torch.ones(3, 4),
        atol=1e-4,
    )


def test_conv_extractor_is_shift_equivariant_inside_and_has_no_inverse():
    torch.manual_seed(0)
    f = ConvFeatureExtractor(3, 4, n_layers=1, hidden=8, kernel_size=3).eval()
    x = torch.randn(2, 20, 3)
    y, logdet = f(x)
    assert y.shape == (2, 4) and torch.equal(logdet, torch.zeros(2))
    # a circular shift of a zero-padded series only changes the border terms:
    # features of a series padded with zeros on both sides do not move
    padded = torch.zeros(2, 30, 3)
    padded[:, 5:25] = x
    shifted = torch.roll(padded, 3, dims=1)
    assert torch.allclose(f(padded)[0], f(shifted)[0], atol=1e-5)
    with pytest.raises(NotImplementedError, match="no inverse"):
        f.inverse(y)


def test_conv_nafad_scores_series_and_trains_every_parameter():
    torch.manual_seed(0)
    model = NAFAD(
        12,
        3,
        4,
        torch.Generator().manual_seed(0),
        flow_params=TINY_FLOW,
        extractor="conv",
        series_shape=(6, 2),
    )
    x = torch.randn(8, 12)
    assert model.views(x).shape == (8, 3, 6, 4)
    model(x, torch.ones(8, 3, dtype=torch.bool)).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    model.eval()
    log_prob, features = model.reference(x, torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    assert log_prob.shape == (8,) and features.shape == (8, 3, 4)
    assert model.score(x).shape == (8,)
    per_view = model.view_scores(x)
    assert per_view.shape == (8, 3)
    assert torch.allclose(per_view.mean(1), model.score(x), atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"extractor": "conv"}, "series_shape"),
        ({"extractor": "lstm"}, "extractor must be"),
    ],
)
def test_nafad_rejects_bad_extractor_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NAFAD(6, 2, 2, flow_params=TINY_FLOW, **kwargs)


def test_conv_extractor_segments_keep_position():
    torch.manual_seed(0)
    blind = ConvFeatureExtractor(2, 3, hidden=4, kernel_size=3).eval()
    seeing = ConvFeatureExtractor(2, 3, hidden=4, kernel_size=3, segments=4).eval()
    padded = torch.zeros(1, 40, 2)
    padded[:, 4:10] = torch.randn(6, 2)
    moved = torch.roll(padded, 24, dims=1)  # the same pattern, later
    assert torch.allclose(blind(padded)[0], blind(moved)[0], atol=1e-5)
    assert not torch.allclose(seeing(padded)[0], seeing(moved)[0], atol=1e-3)
    with pytest.raises(ValueError, match="segments"):
        ConvFeatureExtractor(2, 3, segments=0)


def test_conv_extractor_trains_on_a_single_row():
    f = ConvFeatureExtractor(2, 3, hidden=4).train()
    y, _ = f(torch.randn(1, 10, 2))
    assert y.shape == (1, 3) and torch.isfinite(y).all()
