"""BackboneNet: the two-optimiser pretraining of USAD, step for step."""

import copy

import torch
from torch import nn

from alad.backbones import USADBackbone
from alad.training import BackboneNet


def test_two_phase_step_equals_the_plain_two_optimiser_loop():
    torch.manual_seed(0)
    x = torch.randn(16, 10, 3)
    module = USADBackbone(n_channels=3, window_size=10, latent_size=4)
    reference = copy.deepcopy(module)

    net = BackboneNet(
        module,
        criterion=nn.MSELoss,  # unused: the backbone's objective is the loss
        optimizer=torch.optim.Adam,
        lr=1e-2,
        batch_size=16,
        train_split=None,
    ).initialize()
    net.history.new_epoch()  # train_step reads the epoch from the history
    for _ in range(3):
        net.train_step((x, None))

    optimizers = [
        torch.optim.Adam(list(reference.phase_parameters(phase)), lr=1e-2)
        for phase in (0, 1)
    ]
    for _ in range(3):
        for phase, optimizer in enumerate(optimizers):
            optimizer.zero_grad()
            reference.objective(x, phase=phase, epoch=1).backward()
            optimizer.step()

    for (name, trained), expected in zip(
        net.module_.named_parameters(), reference.parameters()
    ):
        torch.testing.assert_close(trained, expected, msg=name)


def test_a_phase_computes_no_gradient_for_what_it_does_not_update():
    x = torch.randn(4, 10, 3)
    module = USADBackbone(n_channels=3, window_size=10, latent_size=4)
    net = BackboneNet(
        module,
        criterion=nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=1e-2,
        batch_size=4,
        train_split=None,
    ).initialize()
    net.history.new_epoch()
    seen = {}
    step0, step1 = net.optimizer_.step, net.optimizer1_.step

    def after_phase(phase, step, other):
        def wrapped(*args, **kwargs):
            seen[phase] = [p.grad is None for p in other.parameters()]
            return step(*args, **kwargs)

        return wrapped

    # before each phase's step: has decoder 2 (idle in phase 0) a gradient?
    net.optimizer_.step = after_phase(0, step0, net.module_.decoder2)
    net.optimizer1_.step = after_phase(1, step1, net.module_.decoder2)
    net.train_step((x, None))
    assert all(seen[0])  # no gradient for decoder 2 in phase 0
    assert not any(seen[1])  # decoder 2 trains in phase 1
