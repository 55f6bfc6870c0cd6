"""The two training runs of the reconstruction detector: pretraining and feedback."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import RandomSampler

from .callbacks import train_epochs, training_callbacks
from .data import TailSplit, WindowDataset
from .losses import ANCHOR
from .nets import BackboneNet, FeedbackNet

__all__ = ["backbone_net", "feedback_round", "pretrain"]


def backbone_net(
    module: nn.Module,
    *,
    lr: float,
    max_epochs: int,
    batch_size: int,
    patience: int | None,
    split,
    seed: int,
    device: str,
    verbose: int,
) -> BackboneNet:
    """The skorch net that pretrains ``module`` (untrained, not initialised).

    ``split`` holds out validation windows (a :class:`TailSplit`), or None to
    monitor the training loss. Also used to rebuild a fitted detector's net
    around saved weights.
    """
    return BackboneNet(
        module,
        criterion=nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        train_split=split,
        callbacks=training_callbacks(
            patience=patience,
            monitor="train_loss" if split is None else "valid_loss",
            verbose=verbose,
            max_epochs=max_epochs,
        ),
        iterator_train__shuffle=True,
        iterator_train__generator=torch.Generator().manual_seed(seed),
        device=device,
        verbose=verbose,
    )


def pretrain(
    module: nn.Module,
    dataset: WindowDataset,
    *,
    lr: float,
    max_epochs: int,
    batch_size: int,
    patience: int | None,
    validation_fraction: float,
    seed: int,
    device: str,
    verbose: int,
) -> BackboneNet:
    """Train ``module`` unsupervised by its own objective (Stage 1).

    The last ``validation_fraction`` of the windows, in time order, is held
    out for early stopping (the training loss is monitored when nothing is
    held out). A Ctrl-C raises ``KeyboardInterrupt`` (see
    :func:`~alad.training.callbacks.train_epochs`).

    Returns
    -------
    net : BackboneNet
        The trained net; its history is the pretraining's.
    """
    split = TailSplit(validation_fraction)
    net = backbone_net(
        module,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        patience=patience,
        split=split if split(dataset)[1] is not None else None,
        seed=seed,
        device=device,
        verbose=verbose,
    )
    train_epochs(net, dataset, epochs=max_epochs)
    return net


def feedback_round(
    module: nn.Module,
    windows: np.ndarray,
    labels: np.ndarray,
    replay: np.ndarray,
    *,
    mask_ratio: float,
    loss: str,
    anomaly_weight: float,
    anomaly_margin: float | None,
    visible_weight: float,
    lr: float,
    epochs: int,
    batch_size: int,
    max_grad_norm: float | None,
    seed: int,
    device: str,
    verbose: int,
    steps: int | None = None,
) -> list[float]:
    """Train ``module`` in place on labelled windows (Stage 3, Eqs. 2-3).

    Parameters
    ----------
    module : nn.Module
        The backbone, already on ``device``; trained in place (the detector
        passes a copy and keeps it only if the round is sound).
    windows : ndarray of float32 (n, window_size, n_channels)
        Labelled windows, standardised.
    labels : ndarray of float32 (n, window_size)
        Their per-timestep labels: 1 anomaly, 0 normal, ``nan`` unknown.
    replay : ndarray of float32 (m, window_size, n_channels)
        Normal training windows rehearsed unmasked in the minimise phase.
    seed : int
        Seeds the batch order and the masks.
    steps : int or None
        The most optimiser steps of the round. ``epochs`` passes over the
        windows when they take no more (or when None); else about ``steps``
        (rounded up to a multiple of ``epochs``), spread over ``epochs``
        reports, each batch drawn from the windows in shuffled passes (the
        last pass of a report may be left unfinished): the round then costs
        the same however many windows it holds.

    Returns
    -------
    train_loss : list of float
        Mean loss of each epoch.
    """
    if len(replay):
        windows = np.concatenate([windows, replay])
        labels = np.concatenate([labels, np.full(replay.shape[:2], ANCHOR, np.float32)])
    window_size = windows.shape[1]
    dataset = WindowDataset(windows, window_size, labels=labels)
    generator = torch.Generator().manual_seed(seed)
    per_pass = -(-len(dataset) // batch_size)
    if steps is None or steps >= epochs * per_pass:
        order = {"iterator_train__shuffle": True}
    else:
        per_epoch = -(-steps // epochs) * batch_size
        # without replacement: a draw longer than the data chains permutations
        order = {
            "iterator_train__shuffle": False,
            "iterator_train__sampler": RandomSampler(
                dataset, num_samples=per_epoch, generator=generator
            ),
        }
    net = FeedbackNet(
        module,
        criterion=nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=lr,
        max_epochs=epochs,
        batch_size=batch_size,
        train_split=None,
        callbacks=training_callbacks(
            patience=None,
            monitor="train_loss",
            verbose=verbose,
            max_grad_norm=max_grad_norm,
            max_epochs=epochs,
        ),
        iterator_train__generator=generator,
        **order,
        device=device,
        verbose=verbose,
        mask_ratio=mask_ratio,
        loss=loss,
        anomaly_weight=anomaly_weight,
        anomaly_margin=anomaly_margin,
        visible_weight=visible_weight,
        mask_seed=seed,
    )
    return train_epochs(net, dataset, epochs=epochs)
