"""alad: active-learning anomaly detection, scikit-learn compatible."""

from .base import PoolExhaustedError
from .detectors import (
    ActiveReconstructionDetector,
    FeedbackDivergenceWarning,
    FlowDivergenceWarning,
    NAFALDetector,
)

__version__ = "0.1.0"

__all__ = [
    "ActiveReconstructionDetector",
    "FeedbackDivergenceWarning",
    "FlowDivergenceWarning",
    "NAFALDetector",
    "PoolExhaustedError",
    "__version__",
]
