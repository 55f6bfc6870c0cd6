"""Copies of alad's nets: consistent, and freed as soon as they are dropped."""

import copy
import gc

import numpy as np
import pytest
import torch

from alad import ActiveReconstructionDetector, NAFALDetector


@pytest.fixture(scope="module")
def nets():
    rng = np.random.default_rng(0)
    series = rng.normal(size=(400, 3)).astype(np.float32)
    ard = ActiveReconstructionDetector(
        window_size=10, max_epochs=1, backbone="usad", random_state=0
    ).fit(series)
    naf = NAFALDetector(max_steps=5, n_transforms=2, random_state=0).fit(
        rng.normal(size=(100, 4))
    )
    return {"ard": ard.net_, "naf": naf.net_}


@pytest.mark.parametrize("name", ["ard", "naf"])
def test_a_copied_net_leaves_no_cyclic_garbage(nets, name):
    # skorch's own copy pickles the net through torch.save into an in-memory
    # file that reference cycles keep alive: a whole copy of the weights per
    # copy until the cyclic collector runs (a feedback round copies the net)
    gc.collect()
    gc.disable()
    try:
        copied = copy.deepcopy(nets[name])
        del copied
        garbage = []
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        garbage = [o for o in gc.garbage if isinstance(o, torch.Tensor)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert garbage == []


@pytest.mark.parametrize("name", ["ard", "naf"])
def test_a_copied_nets_optimisers_step_its_own_parameters(nets, name):
    net = nets[name]
    copied = copy.deepcopy(net)
    own = {id(p) for p in copied.module_.parameters()}
    source = {id(p) for p in net.module_.parameters()}
    assert own and own.isdisjoint(source)
    for attr in copied._optimizers:
        optimiser = getattr(copied, attr + "_")
        stepped = {id(p) for group in optimiser.param_groups for p in group["params"]}
        assert stepped <= own
    for a, b in zip(net.module_.parameters(), copied.module_.parameters()):
        assert torch.equal(a, b)
