"""The epoch table (colours only on a terminal, seconds left) and Ctrl-C detection."""

import io
import sys

import numpy as np
import pytest
import torch
from torch import nn

from alad.backbones import as_backbone
from alad.training import BackboneNet, WindowDataset, train_epochs, training_callbacks


def _net(verbose, max_epochs=3, **kwargs):
    return BackboneNet(
        as_backbone(nn.Linear(2, 2)),
        criterion=nn.MSELoss,
        max_epochs=max_epochs,
        batch_size=4,
        train_split=None,
        callbacks=training_callbacks(
            patience=None, monitor="train_loss", verbose=verbose, max_epochs=max_epochs
        ),
        verbose=verbose,
        **kwargs,
    )


def _data():
    rng = np.random.default_rng(0)
    return WindowDataset(rng.normal(size=(8, 5, 2)).astype(np.float32), 5)


def test_epoch_table_has_no_colour_codes_off_a_terminal_and_says_time_left(capsys):
    net = _net(verbose=1)
    net.fit(_data())
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    assert "left" in out.splitlines()[0]
    assert [row["left"] for row in net.history][-1] == 0


def test_epoch_table_keeps_colours_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stdout", tty)
    _net(verbose=1).fit(_data())
    assert "\x1b[" in tty.getvalue()


def test_a_quiet_net_records_no_time_left():
    net = _net(verbose=0)
    net.fit(_data())
    assert "left" not in net.history[-1]


def test_train_epochs_reraises_a_ctrl_c_that_skorch_swallows(monkeypatch):
    net = _net(verbose=0, max_epochs=5)
    calls = {"n": 0}
    original = BackboneNet.train_step

    def interrupted(self, batch, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, batch, **kwargs)

    monkeypatch.setattr(BackboneNet, "train_step", interrupted)
    with pytest.raises(KeyboardInterrupt, match="after 1 of 5 epochs"):
        train_epochs(net, _data(), epochs=5)


def test_train_epochs_accepts_early_stopping():
    torch.manual_seed(0)
    net = BackboneNet(
        as_backbone(nn.Linear(2, 2)),
        criterion=nn.MSELoss,
        max_epochs=50,
        lr=0.0,  # nothing improves: early stopping ends the run
        batch_size=4,
        train_split=None,
        callbacks=training_callbacks(patience=2, monitor="train_loss", verbose=0),
    )
    losses = train_epochs(net, _data(), epochs=50)
    assert len(losses) < 50


def test_train_epochs_reraises_a_ctrl_c_in_the_last_epochs_callbacks(monkeypatch):
    """Every loss recorded, yet the user pressed Ctrl-C: still an interrupt."""
    from alad.training.callbacks import EpochLog

    net = _net(verbose=1, max_epochs=2)
    calls = {"n": 0}
    original = EpochLog.on_epoch_end

    def interrupted(self, net, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, net, **kwargs)

    monkeypatch.setattr(EpochLog, "on_epoch_end", interrupted)
    with pytest.raises(KeyboardInterrupt, match="after 2 of 2 epochs"):
        train_epochs(net, _data(), epochs=2)
