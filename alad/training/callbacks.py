"""The skorch callbacks of alad's training runs."""

from __future__ import annotations

from skorch.callbacks import EarlyStopping, ProgressBar

__all__ = ["training_callbacks"]


def training_callbacks(*, patience: int | None, monitor: str, verbose: int) -> list:
    """Early stopping (restoring the best weights) and, when verbose, progress bars.

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
    if verbose >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks
