"""Labelling sessions on disk, label formats and the labelling page (``alad label``)."""

from .._lazy import lazy_dir, lazy_getattr

__all__ = [
    "LABELS",
    "LabellingSession",
    "UnsafeModelError",
    "export_labels",
    "import_labels",
    "load_detector",
    "load_pool",
    "save_detector",
]

# imported on first use, so that ``alad label --help`` imports neither numpy
# nor torch; the submodules ``formats``, ``server``, ``cli`` import as usual
__exports__ = {
    "LABELS": ".session",
    "LabellingSession": ".session",
    "UnsafeModelError": "._model_store",
    "export_labels": ".formats",
    "import_labels": ".formats",
    "load_detector": "._model_store",
    "load_pool": ".session",
    "save_detector": "._model_store",
}
__getattr__ = lazy_getattr(__name__, __exports__)
__dir__ = lazy_dir(__name__, __exports__)
