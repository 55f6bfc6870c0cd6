"""Labelling sessions on disk, label formats and the labelling page (``alad label``)."""

from ._model_store import UnsafeModelError, load_detector, save_detector
from .session import LABELS, LabellingSession, load_pool

__all__ = [
    "LABELS",
    "LabellingSession",
    "UnsafeModelError",
    "load_detector",
    "load_pool",
    "save_detector",
]
