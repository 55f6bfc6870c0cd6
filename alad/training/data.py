"""Torch datasets of windows, and the chronological validation split."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

__all__ = ["TailSplit", "WindowDataset"]


class WindowDataset(Dataset):
    """Windows of a series (or a stack of windows) with optional per-timestep labels.

    Windows of a 2-D series are cut on access, so the dataset holds the series
    once whatever the stride; a 3-D array is taken as windows already.

    Parameters
    ----------
    data : ndarray of float32, 2-D or 3-D
        A series ``(n_timesteps, n_channels)`` or windows
        ``(n_windows, window_size, n_channels)``.
    window_size : int
    starts : ndarray of int64 or None
        Window starts into a 2-D ``data``; ignored for 3-D ``data``.
    labels : ndarray of float32 or None
        Per-timestep labels aligned with ``data`` (``nan`` = unlabelled);
        each item then yields its window's labels, else a dummy 0.
    """

    def __init__(
        self,
        data: np.ndarray,
        window_size: int,
        starts: np.ndarray | None = None,
        labels: np.ndarray | None = None,
    ) -> None:
        self.data = data
        self.window_size = window_size
        self.labels = labels
        self.starts = np.arange(len(data)) if data.ndim == 3 else starts

    def __len__(self) -> int:
        return len(self.starts)

    def _cut(self, array: np.ndarray, i: int) -> np.ndarray:
        if self.data.ndim == 3:
            return array[i]
        start = self.starts[i]
        return array[start : start + self.window_size]

    def __getitem__(self, i: int):
        x = torch.from_numpy(self._cut(self.data, i))
        if self.labels is None:
            return x, 0
        return x, torch.from_numpy(self._cut(self.labels, i))


class TailSplit:
    """Hold out the last ``fraction`` of the windows for validation.

    Time series are split chronologically (as the VTT and TSB-AD reference
    code do) so that early stopping is judged on data the model has not seen
    in time, not on windows interleaved with the training ones.
    """

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def __call__(self, dataset, y=None, **fit_params):
        n_valid = int(round(len(dataset) * self.fraction))
        if n_valid < 1 or n_valid >= len(dataset):
            return dataset, None
        n_train = len(dataset) - n_valid
        return (
            Subset(dataset, range(n_train)),
            Subset(dataset, range(n_train, len(dataset))),
        )

    def __repr__(self) -> str:
        return f"TailSplit(fraction={self.fraction})"
