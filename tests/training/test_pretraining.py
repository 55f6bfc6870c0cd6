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


def _usad_net(module, lr=1e-2):
    return BackboneNet(
        module,
        criterion=nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=lr,
        batch_size=16,
        train_split=None,
    ).initialize()


def test_two_phase_steps_are_bitwise_the_plain_loop_over_epochs():
    # foreach Adam, cached phase parameters, the fused squared error and the
    # epoch-1 shortcut: the same parameters, bit for bit, as the plain
    # two-optimiser loop (per-tensor Adam, autograd's own mean of squares)
    torch.manual_seed(0)
    batches = [torch.randn(16, 10, 3) for _ in range(3)]
    module = USADBackbone(n_channels=3, window_size=10, latent_size=4)
    reference = copy.deepcopy(module)
    net = _usad_net(module)
    assert all(
        group["foreach"]
        for opt in (net.optimizer_, net.optimizer1_)
        for group in opt.param_groups
    )
    optimizers = [
        torch.optim.Adam(
            list(reference.phase_parameters(phase)), lr=1e-2, foreach=False
        )
        for phase in (0, 1)
    ]
    for epoch in (1, 2, 3):
        net.history.new_epoch()
        for x in batches:
            net.train_step((x, None))
            for phase, optimizer in enumerate(optimizers):
                optimizer.zero_grad()
                weight = 1.0 / epoch
                flat = x.reshape(len(x), -1)
                z = reference.encoder(flat)
                w1 = reference.decoder1(z)
                w3 = reference.decoder2(reference.encoder(w1))
                adversarial = torch.mean((flat - w3) ** 2)
                if phase == 0:
                    loss = (
                        weight * torch.mean((flat - w1) ** 2)
                        + (1 - weight) * adversarial
                    )
                else:
                    w2 = reference.decoder2(z)
                    loss = (
                        weight * torch.mean((flat - w2) ** 2)
                        - (1 - weight) * adversarial
                    )
                loss.backward()
                optimizer.step()
    for (name, trained), expected in zip(
        net.module_.named_parameters(), reference.parameters()
    ):
        assert torch.equal(trained, expected), name


def test_a_pickled_net_keeps_no_parameter_cache_and_trains_on():
    import pickle

    torch.manual_seed(0)
    x = torch.randn(16, 10, 3)
    net = _usad_net(USADBackbone(n_channels=3, window_size=10, latent_size=4))
    net.history.new_epoch()
    net.history.new_epoch()
    net.train_step((x, None))
    assert net._phase_named_cache  # filled by the step
    blob = pickle.dumps(net)
    copy_ = pickle.loads(blob)
    assert "_phase_named_cache" not in copy_.__dict__
    net.train_step((x, None))
    copy_.train_step((x, None))  # steps the unpickled module, not stale copies
    for (name, a), b in zip(net.module_.named_parameters(), copy_.module_.parameters()):
        assert torch.equal(a, b), name
    # a new optimiser (re-initialisation) finds its parameters again
    net.initialize_optimizer()
    named = net._phase_named(0, net.optimizer_)
    assert [id(p) for _, p in named] == [id(p) for p in net.module_.phase_parameters(0)]
