"""The skorch callbacks of alad's training runs, and a run that honours Ctrl-C."""

from __future__ import annotations

from skorch.callbacks import EarlyStopping, GradientNormClipping, ProgressBar

__all__ = ["train_epochs", "training_callbacks"]


def training_callbacks(
    *, patience: int | None, monitor: str, verbose: int, max_grad_norm=None
) -> list:
    """Early stopping, gradient clipping and, when verbose, progress bars.

    Early stopping restores the best weights. Clipping is skorch's
    ``GradientNormClipping``, which every alad net drives through the
    ``on_grad_computed`` notification of each optimiser step (per phase for
    multi-phase objectives), so it clips pretraining and feedback alike.
    ``verbose=1`` prints skorch's table of epochs; ``verbose>=2`` adds a
    progress bar over the batches of each epoch.
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
    rows = net.history[first:]
    finished = len(rows) == epochs and "train_loss" in rows[-1]
    if not (finished or _stopped_early(net)):
        raise KeyboardInterrupt(
            f"training was interrupted after {len(rows)} of {epochs} epochs"
        )
    return [float(row["train_loss"]) for row in rows if "train_loss" in row]
