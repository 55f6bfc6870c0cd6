"""What scoring and seeding leave behind in torch's global state."""

import contextlib

import numpy as np
import torch

from alad import runtime
from alad.training.inference import iter_position_scores


def test_a_scoring_generator_paused_mid_way_leaves_autograd_on():
    """A caller interrupted between two batches keeps the generator paused
    (IPython keeps the traceback and its frames): with no_grad around the
    whole loop, autograd stayed off for the whole process."""
    module = torch.nn.Linear(4, 4)
    batches = [np.zeros((2, 4), dtype=np.float32)] * 3
    scores = iter_position_scores(module, batches, "cpu", score=module)
    first = next(scores)
    assert first.shape == (2, 4) and first.dtype == np.float64
    assert torch.is_grad_enabled()
    out = torch.nn.Linear(2, 1)(torch.ones(2)).sum()
    out.backward()  # raised "does not require grad" before
    assert len(list(scores)) == 2


def test_seeded_keeps_every_gpus_random_state(monkeypatch):
    """torch.manual_seed seeds every GPU; the first GPU, index 0, was taken
    for "no index" and the current device's state kept instead."""
    kept = []

    @contextlib.contextmanager
    def fork_rng(devices):
        kept.append(list(devices))
        yield

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    monkeypatch.setattr(torch.random, "fork_rng", fork_rng)
    seeded_all = []
    monkeypatch.setattr(torch, "manual_seed", seeded_all.append)
    # the fake fork_rng keeps nothing: the CPU's stream is put back by hand
    cpu_stream = torch.random.get_rng_state()
    for device in ("cuda:0", "cuda", "cuda:2"):
        with runtime.seeded(0, device):
            pass
    with runtime.seeded(5, "cpu"):
        pass
    torch.random.set_rng_state(cpu_stream)
    assert kept == [[0, 1, 2]] * 3 + [[]]
    # a CPU fit seeds the CPU's stream alone: torch.manual_seed would reseed
    # the GPUs too, whose states it does not keep
    assert seeded_all == [0, 0, 0]


def test_seeded_on_the_cpu_is_torch_manual_seeds_cpu_stream():
    before = torch.random.get_rng_state()
    with runtime.seeded(3, "cpu"):
        inside = torch.rand(4)
    after = torch.rand(4)
    torch.manual_seed(3)
    np.testing.assert_array_equal(inside.numpy(), torch.rand(4).numpy())
    # the stream outside the block goes on as if the block had not run
    torch.random.set_rng_state(before)
    np.testing.assert_array_equal(after.numpy(), torch.rand(4).numpy())
