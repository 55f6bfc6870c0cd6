"""The feedback objective: phase weights, the bounded maximise phase, anchors."""

import copy

import numpy as np
import torch
from torch import nn

from alad.training import (
    ANCHOR,
    FeedbackNet,
    WindowDataset,
    anomaly_objective,
    masked_timestep_mse,
    phase_weights,
)


def test_phase_weights_count_masked_visible_and_anchor_timesteps():
    mask = torch.tensor(
        [[True, False, False], [False, True, False], [True, True, False]]
    )
    labels = torch.tensor([[0.0, 0.0, 1.0], [1.0, 1.0, float("nan")], [ANCHOR] * 3])
    normal = phase_weights(mask, labels, 0, 0.25)
    anomalous = phase_weights(mask, labels, 1, 0.25)
    torch.testing.assert_close(
        normal, torch.tensor([[1.0, 0.25, 0], [0, 0, 0], [1, 1, 1]])
    )
    torch.testing.assert_close(
        anomalous, torch.tensor([[0, 0, 0.25], [0.25, 1, 0], [0, 0, 0]])
    )


def test_paper_weights_select_masked_timesteps_only():
    mask = torch.tensor([[True, False]])
    labels = torch.tensor([[0.0, 0.0]])
    torch.testing.assert_close(
        phase_weights(mask, labels, 0, 0.0), torch.tensor([[1.0, 0.0]])
    )


def test_weighted_mse_is_the_weighted_mean_of_timestep_errors():
    x = torch.zeros(1, 2, 2)
    x_hat = torch.tensor([[[1.0, 1.0], [2.0, 2.0]]])  # per-timestep MSE 1 and 4
    weights = torch.tensor([[1.0, 3.0]])
    assert masked_timestep_mse(x_hat, x, weights).item() == (1 + 3 * 4) / 4


def test_margin_bounds_the_maximise_phase():
    x = torch.zeros(1, 2, 1)
    x_hat = torch.tensor([[[0.5], [3.0]]], requires_grad=True)  # errors 0.25 and 9
    weights = torch.ones(1, 2)
    loss = anomaly_objective(x_hat, x, weights, margin=1.0)
    loss.backward()
    # the timestep already beyond the margin gets no gradient
    assert x_hat.grad[0, 1, 0].item() == 0.0 and x_hat.grad[0, 0, 0].item() != 0.0
    assert loss.item() == (1 - 0.25) / 2
    unbounded = anomaly_objective(x_hat.detach(), x, weights, margin=None)
    assert unbounded.item() == -(0.25 + 9) / 2


class _Recorder(nn.Module):
    """Identity plus a weight, remembering the inputs it saw."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.seen = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.scale * x


def _feedback_net(module, subset_rows=None, **params):
    """One epoch of SGD in batch order, 30 % of timesteps masked, initialised."""
    params = {
        "lr": 0.1,
        "batch_size": 8,
        "optimizer": torch.optim.SGD,
        "max_epochs": 1,
        **params,
    }
    net = FeedbackNet(
        module,
        criterion=nn.MSELoss,
        train_split=None,
        iterator_train__shuffle=False,
        mask_ratio=0.3,
        mask_seed=3,
        verbose=0,
        **params,
    ).initialize()
    if subset_rows is not None:
        net.subset_rows_ = subset_rows
    return net


def test_anchor_windows_are_not_masked():
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(4, 10, 2)).astype(np.float32) + 5.0  # no zeros
    labels = np.zeros((4, 10), np.float32)
    labels[2:] = ANCHOR
    module = _Recorder()
    net = _feedback_net(module, lr=0.0, batch_size=4)
    net.fit(WindowDataset(windows, 10, labels=labels))
    seen = module.seen[0]
    masked_rows = (seen == 0).all(dim=-1).sum(dim=1)
    assert masked_rows[:2].tolist() == [3, 3]  # 30 % of 10 timesteps
    assert masked_rows[2:].tolist() == [0, 0]


def _one_anomalous_batch():
    rng = np.random.default_rng(1)
    windows = rng.normal(size=(8, 10, 2)).astype(np.float32) + 5.0
    labels = np.zeros((8, 10), np.float32)
    labels[1] = 1.0  # one window labelled anomalous throughout
    labels[4:] = ANCHOR
    return WindowDataset(windows, 10, labels=labels)


def test_each_phase_reconstructs_only_the_windows_its_loss_reads():
    module = _Recorder()
    _feedback_net(module).partial_fit(_one_anomalous_batch())
    minimise, maximise = module.seen
    assert len(minimise) == 7  # all but the anomalous window
    assert len(maximise) == 1  # only the anomalous window


def test_reading_fewer_rows_keeps_the_update():
    torch.manual_seed(0)
    module = nn.Linear(2, 2)
    reference = [p.detach().clone() for p in module.parameters()]
    updated = {}
    for subset in (True, False):
        copy = nn.Linear(2, 2)
        with torch.no_grad():
            for p, q in zip(copy.parameters(), reference):
                p.copy_(q)
        _feedback_net(copy, subset).partial_fit(_one_anomalous_batch())
        updated[subset] = [p.detach() for p in copy.parameters()]
    for a, b, before in zip(updated[True], updated[False], reference):
        torch.testing.assert_close(a, b)
        assert not torch.equal(a, before)


def test_batch_norm_keeps_the_whole_batch():
    module = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(10))
    assert not _feedback_net(module).subset_rows_
    assert _feedback_net(nn.Linear(2, 2)).subset_rows_


def test_adam_runs_foreach_and_updates_as_the_per_tensor_loop():
    # foreach Adam (one call per operation for all tensors): the same
    # parameters, bit for bit, as torch's per-tensor loop over three epochs
    torch.manual_seed(0)
    start = nn.Sequential(nn.Linear(2, 8), nn.GELU(), nn.Linear(8, 2))
    updated = {}
    for foreach in (None, False):
        module = copy.deepcopy(start)
        params = {"optimizer": torch.optim.Adam, "lr": 1e-2, "max_epochs": 3}
        if foreach is not None:
            params["optimizer__foreach"] = foreach
        net = _feedback_net(module, **params)
        assert net.optimizer_.param_groups[0]["foreach"] is (foreach is None)
        net.partial_fit(_one_anomalous_batch())
        updated[foreach] = list(module.parameters())
    for fast, loop, before in zip(updated[None], updated[False], start.parameters()):
        assert torch.equal(fast, loop)
        assert not torch.equal(fast, before)
