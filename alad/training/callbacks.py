"""The skorch callbacks of alad's training runs, and a run that honours Ctrl-C."""

from __future__ import annotations

import copy
import sys

from skorch.callbacks import (
    Callback,
    EarlyStopping,
    GradientNormClipping,
    PrintLog,
    ProgressBar,
)
from skorch.utils import Ansi

__all__ = ["EpochLog", "TimeLeft", "train_epochs", "training_callbacks"]


class TimeLeft(Callback):
    """Record ``left``: seconds until the last epoch, at the mean epoch duration.

    An upper bound when early stopping may end the run sooner; the epoch
    table of ``verbose=1`` shows it, so a person sees how long to wait.
    """

    def __init__(self, max_epochs: int) -> None:
        self.max_epochs = max_epochs

    def on_train_begin(self, net, **kwargs):
        self.first_ = len(net.history)

    def on_epoch_end(self, net, **kwargs):
        rows = net.history[self.first_ :]
        mean = sum(row["dur"] for row in rows) / len(rows)
        net.history.record("left", round(mean * (self.max_epochs - len(rows)), 1))


class EpochLog(PrintLog):
    """skorch's table of epochs, with colour codes only on a terminal.

    skorch marks each best value with ANSI colour codes whatever the output;
    in a log file or a notebook's captured output they are noise.
    """

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not (self.sink is print and sys.stdout.isatty()):
            text = text.replace(color, "").replace(Ansi.ENDC.value, "")
        return text


class LoggedNet:
    """Mixin of alad's nets: the epoch table is :class:`EpochLog`,
    ``copy.deepcopy`` copies the attributes themselves (:meth:`__deepcopy__`),
    and a Ctrl-C that skorch swallows is noted (:meth:`fit_loop`).
    """

    def fit_loop(self, *args, **kwargs):
        """skorch's loop, noting a ``KeyboardInterrupt`` that early stopping
        did not raise (``interrupted_``): skorch's ``partial_fit`` swallows
        both, and one landing in the last epoch's end-of-epoch callbacks
        leaves every epoch's loss recorded (:func:`train_epochs` reads it)."""
        self.interrupted_ = False
        try:
            return super().fit_loop(*args, **kwargs)
        except KeyboardInterrupt:
            self.interrupted_ = not _stopped_early(self)
            raise

    def __deepcopy__(self, memo):
        """A copy of every attribute with ``copy.deepcopy``, not skorch's pickling.

        skorch copies a net by pickling it: ``__getstate__`` writes the
        module, optimiser and criterion with ``torch.save`` into an in-memory
        file, and the objects of the loader form reference cycles that keep
        that file (a whole copy of the weights and of the optimiser's state)
        alive until the cyclic garbage collector runs. Every feedback round
        copies the net: with USAD on MSL's 55 channels (25 M parameters) a
        round left about 400 MB behind, and a long benchmark ran out of
        memory. Copying the attributes with one ``memo`` keeps the copy
        consistent as pickling does (the copied optimiser steps the copied
        module's parameters) and frees the source's copies as soon as they
        are dropped.
        """
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        for name, value in self.__dict__.items():
            copied.__dict__[name] = copy.deepcopy(value, memo)
        return copied

    def get_default_callbacks(self):
        return [
            (name, EpochLog() if name == "print_log" else callback)
            for name, callback in super().get_default_callbacks()
        ]


def training_callbacks(
    *,
    patience: int | None,
    monitor: str,
    verbose: int,
    max_grad_norm=None,
    max_epochs: int | None = None,
) -> list:
    """Early stopping, gradient clipping and, when verbose, progress.

    Early stopping restores the best weights. Clipping is skorch's
    ``GradientNormClipping``, which every alad net drives through the
    ``on_grad_computed`` notification of each optimiser step (per phase for
    multi-phase objectives), so it clips pretraining and feedback alike.
    ``verbose=1`` prints the table of epochs (with ``left``, the seconds
    until ``max_epochs`` at the mean epoch duration, when it is given);
    ``verbose>=2`` adds a progress bar over the batches of each epoch.
    """
    callbacks = []
    if patience:
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    # prints only when the net is verbose
                    monitor=monitor,
                    patience=patience,
                    load_best=True,
                    sink=print,
                ),
            )
        )
    if max_grad_norm is not None:
        callbacks.append(("clip", GradientNormClipping(max_grad_norm)))
    if verbose >= 1 and max_epochs:
        callbacks.append(("time_left", TimeLeft(max_epochs)))
    if verbose >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks


def _stopped_early(net) -> bool:
    return any(
        isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience
        for _, cb in getattr(net, "callbacks_", [])
    )


def train_epochs(net, X, y=None, *, epochs: int) -> list[float]:
    """``net.partial_fit(X, y, epochs=epochs)``, re-raising a Ctrl-C.

    skorch ends training quietly on ``KeyboardInterrupt`` (its early stopping
    raises one to stop); a user's Ctrl-C would then look like a finished
    run. Here a run counts as finished when all ``epochs`` epochs completed
    or early stopping ended it; anything else was interrupted, and
    ``KeyboardInterrupt`` is raised so the caller rolls back and the user
    sees the interruption.

    Returns
    -------
    train_loss : list of float
        The training loss of each epoch of this run.
    """
    first = len(net.history) if net.initialized_ else 0
    net.partial_fit(X, y, epochs=epochs)
    losses = [
        float(row["train_loss"]) for row in net.history[first:] if "train_loss" in row
    ]
    if getattr(net, "interrupted_", False) or not (
        len(losses) == epochs or _stopped_early(net)
    ):
        raise KeyboardInterrupt(
            f"training was interrupted after {len(losses)} of {epochs} epochs"
        )
    return losses
