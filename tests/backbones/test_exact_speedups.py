"""The speed-ups of USAD and OmniAnomaly compute what the plain code computes.

Each test runs a straightforward reference (the formula as first written,
with autograd's own graph) next to the backbone and asks for the same bits:
loss values, gradients and scores compared with ``torch.equal``.
"""

import copy
import math

import pytest
import torch
from torch.nn import functional as F

from alad.backbones import OmniAnomalyBackbone, USADBackbone
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
