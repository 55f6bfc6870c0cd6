"""The speed-ups of USAD and OmniAnomaly compute what the plain code computes.

Each test runs a straightforward reference (the formula as first written,
with autograd's own graph) next to the backbone. USAD and OmniAnomaly's
autograd path (other devices than CPU) are asked for the same bits (loss
values, gradients and scores compared with ``torch.equal``); OmniAnomaly's
CPU path (:mod:`alad.backbones._recurrence`, hand-written backward passes
through time) sums in another order and is asked for the same values to a
relative tolerance of 1e-5 (float32).
"""

import copy
import math

import pytest
import torch
from torch.nn import functional as F

from alad.backbones import OmniAnomalyBackbone, USADBackbone
from alad.backbones._recurrence import gru_sequence, posterior_sequence
from alad.backbones.usad import _mse

_LOG_2PI = math.log(2.0 * math.pi)


def _usad_reference(model, x, phase, epoch):
    """Audibert et al.'s two losses, written out with sub, pow and mean.

    Both terms of each phase, whatever the epoch (at epoch 1 the adversarial
    one has weight 0); the input encoded once, as the backbone does.
    """
    weight = 1.0 / max(int(epoch), 1)
    flat = x.reshape(x.shape[0], -1)
    z = model.encoder(flat)
    w1 = model.decoder1(z)
    adversarial = torch.mean((flat - model.decoder2(model.encoder(w1))) ** 2)
    if phase == 0:
        return weight * torch.mean((flat - w1) ** 2) + (1 - weight) * adversarial
    w2 = model.decoder2(z)
    return weight * torch.mean((flat - w2) ** 2) - (1 - weight) * adversarial


@pytest.mark.parametrize("scale", [1.0, 0.3, -2.5])
def test_squared_error_has_autograd_values_and_gradients(scale):
    torch.manual_seed(0)
    a = torch.randn(33, 70, requires_grad=True)
    b = torch.randn(33, 70, requires_grad=True)
    plain = torch.mean((a - b) ** 2)
    ours = _mse(a, b)
    assert torch.equal(plain, ours)
    expected = torch.autograd.grad(scale * plain, (a, b))
    got = torch.autograd.grad(scale * ours, (a, b))
    for e, g in zip(expected, got):
        assert torch.equal(e, g)
    # only the input that asks for a gradient gets one
    (grad,) = torch.autograd.grad(_mse(a.detach(), b), b)
    assert torch.equal(
        grad, torch.autograd.grad(torch.mean((a.detach() - b) ** 2), b)[0]
    )


@pytest.mark.parametrize("epoch", [1, 2, 7])
@pytest.mark.parametrize("phase", [0, 1])
def test_usad_objective_has_the_plain_values_and_gradients(phase, epoch):
    torch.manual_seed(1)
    model = USADBackbone(
        n_channels=3, window_size=10, latent_size=4, hidden_sizes=(8, 6)
    )
    x = torch.randn(16, 10, 3)
    params = list(model.phase_parameters(phase))
    plain = _usad_reference(model, x, phase, epoch)
    ours = model.objective(x, phase=phase, epoch=epoch)
    assert torch.equal(plain, ours)
    for e, g in zip(
        torch.autograd.grad(plain, params), torch.autograd.grad(ours, params)
    ):
        assert torch.equal(e, g)


def _omni_reference_posterior(model, x):
    """OmniAnomaly's posterior as a plain loop over timesteps (select, add)."""
    encoded, _ = model.encoder_rnn(x)
    from_e = model.q_from_e(encoded)
    batch, length = x.shape[:2]
    z = x.new_zeros(batch, model.latent_size)
    noise = None
    if model.training:
        noise = torch.randn(batch, length, model.latent_size)
    heads = (
        torch.cat((model.q_mean.weight, model.q_std.weight)),
        torch.cat((model.q_mean.bias, model.q_std.bias)),
    )
    samples, stds = [], []
    for t in range(length):
        hidden = F.relu(from_e[:, t] + model.q_from_z(z))
        mean, std = F.linear(hidden, *heads).split(model.latent_size, dim=-1)
        std = F.softplus(std) + model.std_epsilon
        z = mean if noise is None else mean + std * noise[:, t]
        samples.append(z)
        stds.append(std)
    log_q = -torch.log(torch.stack(stds, dim=1)).sum(dim=(1, 2))
    if noise is not None:
        log_q = log_q - 0.5 * (noise**2).sum(dim=(1, 2))
    log_q = log_q - 0.5 * _LOG_2PI * length * model.latent_size
    z, log_det = model.flow(torch.stack(samples, dim=1))
    return z, log_q - log_det.sum(dim=-1)


@pytest.mark.parametrize("n_flows", [0, 2])
def test_omni_anomaly_trains_and_scores_as_the_plain_loop(n_flows, monkeypatch):
    torch.manual_seed(2)
    model = OmniAnomalyBackbone(
        n_channels=3,
        window_size=12,
        latent_size=4,
        hidden_size=8,
        dense_size=6,
        n_flows=n_flows,
    )
    # the autograd path (used off CPU), bit for bit
    monkeypatch.setattr(model, "_fast_path", lambda x: False)
    reference = copy.deepcopy(model)
    monkeypatch.setattr(
        reference,
        "_posterior",
        lambda x, with_log_q=True: _omni_reference_posterior(reference, x),
    )
    batches = [torch.randn(5, 12, 3) for _ in range(3)]
    for m in (model, reference):
        optimizer = torch.optim.Adam(m.parameters(), lr=1e-2)
        torch.manual_seed(3)  # the same noise for both
        m.losses = []
        for x in batches * 2:
            optimizer.zero_grad()
            loss = m.objective(x)
            loss.backward()
            optimizer.step()
            m.losses.append(loss.detach())
    assert all(torch.equal(a, b) for a, b in zip(model.losses, reference.losses))
    for (name, a), b in zip(model.named_parameters(), reference.parameters()):
        assert torch.equal(a, b), name
    model.eval()
    reference.eval()
    with torch.no_grad():
        for x in batches:
            assert torch.equal(model.anomaly_score(x), reference.anomaly_score(x))
            assert torch.equal(model(x), reference(x))
            # evaluation with log q (validation) keeps the density too
            z, log_q = model._posterior(x)
            z_ref, log_q_ref = _omni_reference_posterior(reference, x)
            assert torch.equal(z, z_ref) and torch.equal(log_q, log_q_ref)


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol)


def _plain_likelihood(model, z):
    decoded, _ = model.decoder_rnn(z)
    hidden = F.relu(model.p_dense(decoded))
    std = F.softplus(model.p_std(hidden)) + model.std_epsilon
    return model.p_mean(hidden), std


@pytest.mark.parametrize("channels", [3, 9])
def test_gru_sequence_matches_nn_gru(channels):
    torch.manual_seed(4)
    gru = torch.nn.GRU(channels, 16, batch_first=True)
    x = torch.randn(7, 20, channels, requires_grad=True)
    grad = torch.randn(7, 20, 16)
    expected = gru(x)[0]
    expected_grads = torch.autograd.grad(expected, [x, *gru.parameters()], grad)
    got = gru_sequence(x.transpose(0, 1), gru).transpose(0, 1)
    got_grads = torch.autograd.grad(got, [x, *gru.parameters()], grad)
    _close(got, expected)
    for g, e in zip(got_grads, expected_grads):
        # a weight gradient sums 140 products in another order: compare to the
        # tensor's scale (float32 near its largest entries differs by ~1e-7 of it)
        _close(g, e, atol=2e-6 * max(1.0, float(e.abs().max())))
    with torch.no_grad():
        _close(gru_sequence(x.transpose(0, 1), gru).transpose(0, 1), expected)


@pytest.mark.parametrize("with_noise", [True, False])
def test_posterior_sequence_matches_the_autograd_loop(with_noise):
    torch.manual_seed(5)
    length, batch, dense, latent = 15, 6, 10, 4
    from_e = torch.randn(length, batch, dense, requires_grad=True)
    w_z = (0.3 * torch.randn(dense, latent)).requires_grad_()
    heads_w = (0.3 * torch.randn(2 * latent, dense)).requires_grad_()
    heads_b = torch.randn(2 * latent, requires_grad=True)
    noise = torch.randn(length, batch, latent) if with_noise else None
    inputs = (from_e, w_z, heads_w, heads_b)

    def plain():
        z = from_e.new_zeros(batch, latent)
        samples, stds = [], []
        for t in range(length):
            hidden = F.relu(from_e[t] + z @ w_z.t())
            mean, std = F.linear(hidden, heads_w, heads_b).split(latent, dim=-1)
            std = F.softplus(std) + 1e-4
            z = mean if noise is None else mean + std * noise[t]
            samples.append(z)
            stds.append(std)
        return torch.stack(samples), torch.stack(stds)

    g_samples, g_stds = (
        torch.randn(length, batch, latent),
        torch.rand(length, batch, latent),
    )
    got, expected = posterior_sequence(*inputs, noise, 1e-4), plain()
    _close(got[0], expected[0])
    _close(got[1], expected[1])
    got_grads = torch.autograd.grad(
        (got[0] * g_samples).sum() + (got[1] * g_stds).sum(), inputs
    )
    expected_grads = torch.autograd.grad(
        (expected[0] * g_samples).sum() + (expected[1] * g_stds).sum(), inputs
    )
    for g, e in zip(got_grads, expected_grads):
        _close(g, e)
    with torch.no_grad():
        samples, stds = posterior_sequence(*inputs, noise, 1e-4, need_std=False)
    _close(samples, expected[0])


@pytest.mark.parametrize("n_flows", [0, 2])
def test_omni_anomaly_cpu_path_trains_and_scores_as_the_plain_model(
    n_flows, monkeypatch
):
    """Losses, gradients, six Adam steps and scores against nn.GRU and the plain
    loop.
    """
    torch.manual_seed(6)
    model = OmniAnomalyBackbone(
        n_channels=9,
        window_size=30,
        latent_size=8,
        hidden_size=32,
        dense_size=32,
        n_flows=n_flows,
    )
    reference = copy.deepcopy(model)
    monkeypatch.setattr(
        reference,
        "_posterior",
        lambda x, with_log_q=True: _omni_reference_posterior(reference, x),
    )
    monkeypatch.setattr(
        reference, "_likelihood", lambda z: _plain_likelihood(reference, z)
    )
    batches = [torch.randn(16, 30, 9) for _ in range(3)]
    params = list(model.parameters())
    ref_params = list(reference.parameters())
    for m in (model, reference):
        optimizer = torch.optim.Adam(m.parameters(), lr=1e-3)
        torch.manual_seed(7)  # the same noise for both
        m.losses, m.grads = [], []
        for x in batches * 2:
            optimizer.zero_grad()
            loss = m.objective(x)
            loss.backward()
            m.grads.append([p.grad.clone() for p in m.parameters() if p.numel()])
            optimizer.step()
            m.losses.append(loss.detach())
    for a, b in zip(model.losses, reference.losses):
        _close(a, b)
    # the first step's gradients (later ones start from slightly other weights)
    for a, b in zip(model.grads[0], reference.grads[0]):
        _close(a, b, atol=1e-5 * b.abs().max().item())
    for (_name, a), b in zip(model.named_parameters(), ref_params):
        _close(a, b, atol=1e-5)
    assert len(params) == len(ref_params)
    model.eval()
    reference.eval()
    with torch.no_grad():
        for x in batches:
            _close(model.anomaly_score(x), reference.anomaly_score(x))
            _close(model(x), reference(x))
            z, log_q = model._posterior(x)
            z_ref, log_q_ref = _omni_reference_posterior(reference, x)
            _close(z, z_ref)
            _close(log_q, log_q_ref)


def test_omni_anomaly_cpu_path_is_reproducible():
    """The same seed gives the same bits: losses, parameters and scores."""
    runs = []
    for _ in range(2):
        torch.manual_seed(8)
        model = OmniAnomalyBackbone(
            n_channels=4, window_size=12, hidden_size=16, dense_size=16, n_flows=2
        )
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        x = torch.randn(10, 12, 4)
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = model.objective(x)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
        model.eval()
        with torch.no_grad():
            scores = model.anomaly_score(x)
        runs.append((losses, [p.detach().clone() for p in model.parameters()], scores))
    (l1, p1, s1), (l2, p2, s2) = runs
    assert all(torch.equal(a, b) for a, b in zip(l1, l2))
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))
    assert torch.equal(s1, s2)
