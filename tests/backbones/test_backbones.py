"""Tests of the built-in backbones: shapes, gradients, modes, persistence, feedback."""

import io
import re

import numpy as np
import pytest
import torch
from torch import nn

from alad.backbones import BACKBONES, ReconstructionBackbone, as_backbone
from alad.backbones.omni_anomaly import PlanarFlow, random_walk_log_prob
from alad.training.losses import draw_timestep_mask, masked_timestep_mse

N_CHANNELS, WINDOW, BATCH = 3, 12, 5

#: Sizes small enough to run every test in milliseconds.
TINY = {
    "transformer": {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16},
    "lstm_vae": {"hidden_size": 8, "latent_size": 3},
    "usad": {"latent_size": 4},
    "omni_anomaly": {"hidden_size": 8, "dense_size": 8, "n_flows": 2},
    "anomaly_transformer": {
        "d_model": 16,
        "n_heads": 2,
        "n_layers": 2,
        "d_ff": 16,
        "dropout": 0.1,
    },
    "vtt_sat": {"hidden_size": 8, "n_heads": 2, "n_layers": 2},
    "vtt_pat": {"hidden_size": 8, "n_heads": 2, "n_layers": 2},
}

#: Parameters that ``forward`` does not use, so the masked feedback cannot
#: train them (regex on the parameter name); the objective trains them.
NOT_IN_FORWARD = {
    "lstm_vae": r"prior_ends$",  # the prior enters only the KL term
    "usad": r"decoder2\.",  # forward is AE1
    "omni_anomaly": r"p_std\.",  # forward is the mean of p(x | z)
    "anomaly_transformer": r"layers\.\d+\.attention\.sigma\.",  # the prior's scale
}

#: Backbones without dropout or sampling: training mode is deterministic too.
DETERMINISTIC_IN_TRAINING = {"usad"}

NAMES = sorted(BACKBONES)


def build(name, seed=0, **overrides):
    torch.manual_seed(seed)
    params = {**TINY[name], **overrides}
    return BACKBONES[name](n_channels=N_CHANNELS, window_size=WINDOW, **params)


@pytest.fixture
def x():
    return torch.randn(
        BATCH, WINDOW, N_CHANNELS, generator=torch.Generator().manual_seed(1)
    )


def test_every_backbone_has_tiny_sizes():
    assert set(TINY) == set(BACKBONES)


@pytest.mark.parametrize("name", NAMES)
def test_is_a_backbone_with_the_common_constructor(name):
    model = build(name)
    assert isinstance(model, ReconstructionBackbone)
    assert as_backbone(model) is model
    assert model.n_objective_phases >= 1


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("training", [True, False])
def test_output_shapes_and_dtype(name, training, x):
    model = build(name).train(training)
    out = model(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    with torch.no_grad():
        score = model.anomaly_score(x)
    assert score.shape == (BATCH, WINDOW) and score.dtype == torch.float32
    assert torch.isfinite(out).all() and torch.isfinite(score).all()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("training", [True, False])
def test_objective_is_a_finite_scalar_for_each_phase(name, training, x):
    model = build(name).train(training)
    for phase in range(model.n_objective_phases):
        for epoch in (1, 3):
            loss = model.objective(x, phase=phase, epoch=epoch)
            assert loss.shape == () and torch.isfinite(loss)
    model.eval()
    with torch.no_grad():
        loss = model.validation_loss(x, epoch=2)
    assert loss.shape == () and torch.isfinite(loss)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_of_the_objective_reach_every_parameter(name, x):
    model = build(name).train()
    total = sum(
        model.objective(x, phase=p, epoch=2) for p in range(model.n_objective_phases)
    )
    total.backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None, param_name
        assert torch.isfinite(param.grad).all(), param_name


@pytest.mark.parametrize("name", NAMES)
def test_each_phase_reaches_its_own_parameters(name, x):
    model = build(name).train()
    covered = set()
    for phase in range(model.n_objective_phases):
        model.zero_grad(set_to_none=True)
        model.objective(x, phase=phase, epoch=2).backward()
        for param in model.phase_parameters(phase):
            assert param.grad is not None
            covered.add(id(param))
    assert covered == {id(p) for p in model.parameters()}


@pytest.mark.parametrize("name", NAMES)
def test_evaluation_mode_is_deterministic(name, x):
    model = build(name).eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
        assert torch.equal(model.anomaly_score(x), model.anomaly_score(x))
        assert torch.equal(model.validation_loss(x), model.validation_loss(x))


@pytest.mark.parametrize("name", NAMES)
def test_training_mode_is_stochastic_where_the_model_is(name, x):
    model = build(name).train()
    first, second = model(x), model(x)
    if name in DETERMINISTIC_IN_TRAINING:
        assert torch.equal(first, second)
        assert torch.equal(first, model.eval()(x))
    else:  # dropout or latent sampling
        assert not torch.equal(first, second)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip(name, x):
    model, other = build(name, seed=0).eval(), build(name, seed=1).eval()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    with torch.no_grad():
        assert torch.equal(model(x), other(x))
        assert torch.equal(model.anomaly_score(x), other.anomaly_score(x))


@pytest.mark.parametrize("name", NAMES)
def test_masked_feedback_trains_what_forward_uses(name, x):
    model = build(name).train()
    mask = draw_timestep_mask(BATCH, WINDOW, 0.25, torch.Generator().manual_seed(0))
    x_hat = model(x.masked_fill(mask.unsqueeze(-1), 0.0))
    normal, anomalous = mask.clone(), mask.clone()
    normal[::2], anomalous[1::2] = False, False
    # minimise on "normal" windows, maximise on "anomalous" ones (Eqs. 2-3)
    loss = masked_timestep_mse(x_hat, x, normal) - masked_timestep_mse(
        x_hat, x, anomalous
    )
    loss.backward()
    untouched = {n for n, p in model.named_parameters() if p.grad is None}
    pattern = NOT_IN_FORWARD.get(name)
    expected = {
        n
        for n, _ in model.named_parameters()
        if pattern is not None and re.search(pattern, n)
    }
    assert untouched == expected
    for param_name, param in model.named_parameters():
        if param.grad is not None:
            assert torch.isfinite(param.grad).all(), param_name


@pytest.mark.parametrize("name", NAMES)
def test_one_optimiser_step_per_phase_changes_the_model(name, x):
    model = build(name).train()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for phase in range(model.n_objective_phases):
        optimizer = torch.optim.Adam(list(model.phase_parameters(phase)), lr=1e-2)
        optimizer.zero_grad()
        model.objective(x, phase=phase, epoch=2).backward()
        optimizer.step()
    changed = [not torch.equal(before[n], p) for n, p in model.named_parameters()]
    assert all(changed)


class _PlainReconstructor(nn.Module):
    """A user's module: any nn.Module that maps windows to windows."""

    def __init__(self, n_channels: int, window_size: int, hidden: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_channels, hidden), nn.Tanh(), nn.Linear(hidden, n_channels)
        )

    def forward(self, x):
        return self.net(x)


class _PlainWithHooks(_PlainReconstructor):
    """A user's module that brings its own objective and score (duck-typed)."""

    def objective(self, x, *, phase=0, epoch=1):
        return torch.mean(torch.abs(self(x) - x))

    def anomaly_score(self, x):
        return ((self(x) - x) ** 2).sum(dim=-1)


def test_plain_module_works_through_as_backbone(x):
    torch.manual_seed(0)
    plain = _PlainReconstructor(N_CHANNELS, WINDOW)
    model = as_backbone(plain)
    assert isinstance(model, ReconstructionBackbone) and model.module is plain
    assert model.n_objective_phases == 1
    loss = model.objective(x, phase=0, epoch=1)
    assert torch.allclose(loss, torch.mean((plain(x) - x) ** 2))
    loss.backward()
    assert all(p.grad is not None for p in model.phase_parameters(0))
    with torch.no_grad():
        assert torch.allclose(model.anomaly_score(x), (plain(x) - x).abs().mean(dim=-1))
    assert torch.isfinite(model.validation_loss(x))


def test_plain_module_hooks_are_used(x):
    torch.manual_seed(0)
    plain = _PlainWithHooks(N_CHANNELS, WINDOW)
    model = as_backbone(plain)
    assert torch.equal(model.objective(x), plain.objective(x))
    assert torch.equal(model.anomaly_score(x), plain.anomaly_score(x))


def test_as_backbone_rejects_what_is_not_a_module():
    with pytest.raises(TypeError, match="backbone must be"):
        as_backbone(lambda x: x)


def test_usad_objective_follows_the_epoch_schedule(x):
    model = build("usad")
    flat = x.reshape(BATCH, -1)
    w1 = model.decoder1(model.encoder(flat))
    w2 = model.decoder2(model.encoder(flat))
    w3 = model.decoder2(model.encoder(w1))
    mse = [torch.mean((flat - w) ** 2) for w in (w1, w2, w3)]
    n = 4
    assert torch.allclose(
        model.objective(x, phase=0, epoch=n), mse[0] / n + (1 - 1 / n) * mse[2]
    )
    assert torch.allclose(
        model.objective(x, phase=1, epoch=n), mse[1] / n - (1 - 1 / n) * mse[2]
    )
    with pytest.raises(ValueError, match="window_size"):
        model(x[:, :-1])


def test_usad_default_layout_is_the_reference_one():
    model = BACKBONES["usad"](n_channels=9, window_size=50)
    widths = [m.out_features for m in model.encoder if isinstance(m, nn.Linear)]
    assert widths == [225, 112, 5000]
    widths = [m.out_features for m in model.decoder2 if isinstance(m, nn.Linear)]
    assert widths == [112, 225, 450]


def test_usad_hidden_sizes_set_the_layers_and_decoders_mirror_them():
    model = BACKBONES["usad"](
        n_channels=9, window_size=50, latent_size=5, hidden_sizes=(16, 16)
    )
    # TSB-AD's fixed layout, 450-16-16-5 / 5-16-16-450
    assert sum(p.numel() for p in model.parameters()) == 23_609
    assert isinstance(model.encoder[-1], nn.ReLU)
    assert isinstance(model.decoder1[-1], nn.Linear)
    for bad in ((), (16, 0), (16.0,), (True,), "16"):
        with pytest.raises(ValueError, match="hidden_sizes"):
            BACKBONES["usad"](n_channels=2, window_size=4, hidden_sizes=bad)


def test_anomaly_transformer_objective_equals_twice_the_reconstruction(x):
    # series_loss and prior_loss are equal in value; only gradients differ
    model = build("anomaly_transformer").eval()
    with torch.no_grad():
        rec = torch.mean((model(x) - x) ** 2)
        assert torch.allclose(model.objective(x), 2 * rec, rtol=1e-5, atol=1e-6)
        score = model.anomaly_score(x)
    assert (score >= 0).all()


def test_transformer_instance_norm_reconstructs_shape_not_level(x):
    """instance_norm: each window normalised by its own mean and deviation per
    channel, undone on the output: shifting or scaling a window's channels
    shifts or scales the reconstruction the same way (a drift is not an
    error); off by default, and modules pickled before it read it off."""
    import pickle

    from alad.backbones.transformer import TransformerBackbone

    torch.manual_seed(0)
    model = TransformerBackbone(
        N_CHANNELS, WINDOW, **TINY["transformer"], instance_norm=True
    ).eval()
    level, scale = torch.tensor([5.0, -3.0, 0.5]), torch.tensor([3.0, 0.5, 2.0])
    with torch.no_grad():
        torch.testing.assert_close(
            model(x * scale + level), model(x) * scale + level, atol=1e-4, rtol=1e-4
        )
    plain = TransformerBackbone(N_CHANNELS, WINDOW, **TINY["transformer"])
    assert plain.instance_norm is False
    del plain.__dict__["instance_norm"]  # as pickled before the parameter
    assert pickle.loads(pickle.dumps(plain)).instance_norm is False


def test_anomaly_transformer_rejects_heads_not_dividing_width():
    with pytest.raises(ValueError, match="divisible"):
        BACKBONES["anomaly_transformer"](n_channels=2, window_size=8, d_model=10)


def test_planar_flow_log_det_matches_autograd():
    torch.manual_seed(0)
    flow = PlanarFlow(3, 4)
    z = torch.randn(3)
    _, log_det = flow(z)
    jacobian = torch.autograd.functional.jacobian(lambda v: flow(v)[0], z)
    assert torch.allclose(log_det, torch.linalg.slogdet(jacobian)[1], atol=1e-5)


def test_random_walk_prior_matches_the_gaussian_marginal():
    # z_t = s_t + e_t, s_t = s_{t-1} + v_t, s_1 ~ N(0, 1): cov(z_i, z_j) =
    # min(i, j) + [i == j]
    length = 6
    index = torch.arange(1, length + 1, dtype=torch.float64)
    cov = torch.minimum(index[:, None], index[None, :]) + torch.eye(length)
    z = torch.randn(4, length, 2, dtype=torch.float64)
    marginal = torch.distributions.MultivariateNormal(torch.zeros(length), cov)
    expected = marginal.log_prob(z.transpose(1, 2)).sum(dim=-1)
    assert torch.allclose(random_walk_log_prob(z), expected)


def test_vtt_embedding_is_causal():
    model = build("vtt_sat", dropout=0.0, attn_dropout=0.0).eval()
    x = torch.randn(2, WINDOW, N_CHANNELS)
    changed = x.clone()
    changed[:, 7:] += 1.0
    with torch.no_grad():
        before, after = model._embed(x), model._embed(changed)
    assert torch.equal(before[:, :7], after[:, :7])
    assert not torch.equal(before[:, 7:], after[:, 7:])


def test_vtt_training_attention_is_the_evaluation_attention_without_dropout():
    # training with attention dropout takes an explicit softmax path; with a
    # dropout too small to drop anything it must equal the fused attention
    from alad.backbones.vtt import _SelfAttention

    torch.manual_seed(0)
    attention = _SelfAttention(dim=8, n_heads=2, dim_head=4, dropout=1e-12)
    tokens = torch.randn(3, 5, 8)
    trained = attention.train()(tokens)
    evaluated = attention.eval()(tokens)
    assert torch.allclose(trained, evaluated, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", NAMES)
def test_runs_on_cuda(name, x):
    model = build(name).eval()
    with torch.no_grad():
        expected = model(x)
    model = model.to("cuda")
    xc = x.to("cuda")
    with torch.no_grad():
        out = model(xc)
        score = model.anomaly_score(xc)
    assert out.device.type == "cuda" and score.shape == (BATCH, WINDOW)
    assert torch.isfinite(score).all()
    # loose: cuDNN may use TF32 for convolutions
    assert torch.allclose(out.cpu(), expected, rtol=1e-2, atol=1e-2)
    model.train()
    total = sum(
        model.objective(xc, phase=p, epoch=2) for p in range(model.n_objective_phases)
    )
    assert total.device.type == "cuda" and torch.isfinite(total)
    total.backward()
    assert all(p.grad is not None for p in model.parameters())


# -- every backbone through the estimator, on real data ---------------------


@pytest.fixture(scope="module")
def gecco(data_home):
    from alad.datasets import load_gecco

    return load_gecco(data_home)


@pytest.mark.real_data
@pytest.mark.parametrize("name", NAMES)
def test_trains_scores_and_learns_from_feedback_on_gecco(name, gecco):
    from alad import ActiveReconstructionDetector

    detector = ActiveReconstructionDetector(
        backbone=name,
        window_size=20,
        max_epochs=2,
        backbone_params=TINY[name],
        feedback_epochs=2,
        random_state=0,
    ).fit(gecco.X_train[:2000])
    pool, labels = gecco.X_test[:1000], gecco.y_test[:1000].astype(float)
    scores = detector.decision_function(pool)
    assert scores.shape == (1000,) and np.isfinite(scores).all()
    idx = detector.query(pool)
    assert idx.size > 0 and idx.size % 20 == 0
    detector.partial_fit(pool[idx], labels[idx])
    assert detector.n_feedback_rounds_ == 1
    assert np.isfinite(detector.decision_function(pool)).all()
