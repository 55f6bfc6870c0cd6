"""alad: active-learning anomaly detection, scikit-learn compatible."""

from ._lazy import lazy_dir, lazy_getattr

__version__ = "0.1.0"

__all__ = [
    "ActiveReconstructionDetector",
    "DivergenceWarning",
    "FeedbackDivergenceWarning",
    "FlowDivergenceWarning",
    "NAFALDetector",
    "PoolExhaustedError",
    "ThresholdWarning",
    "__version__",
]

# The public names are imported on first use (PEP 562), so that ``import alad``
# and ``alad --version`` do not import torch; ``from alad import X`` works as
# with eager imports.
__exports__ = {
    "ActiveReconstructionDetector": ".detectors",
    "DivergenceWarning": ".exceptions",
    "FeedbackDivergenceWarning": ".exceptions",
    "FlowDivergenceWarning": ".exceptions",
    "NAFALDetector": ".detectors",
    "PoolExhaustedError": ".exceptions",
    "ThresholdWarning": ".exceptions",
}
__getattr__ = lazy_getattr(__name__, __exports__)
__dir__ = lazy_dir(__name__, __exports__)
