"""Labelling sessions on disk, label formats and the labelling page (``alad label``)."""

from . import formats
from ._model_store import UnsafeModelError, load_detector, save_detector
from .formats import export_labels, import_labels
from .session import LABELS, LabellingSession, load_pool

__all__ = [
    "LABELS",
    "LabellingSession",
    "UnsafeModelError",
    "export_labels",
    "formats",
    "import_labels",
    "load_detector",
    "load_pool",
    "save_detector",
]
