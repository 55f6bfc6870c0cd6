"""alad: active-learning anomaly detection, scikit-learn compatible."""

from .base import PoolExhaustedError
from .detectors import ActiveReconstructionDetector, FeedbackDivergenceWarning

__version__ = "0.1.0"

__all__ = [
    "ActiveReconstructionDetector",
    "FeedbackDivergenceWarning",
    "PoolExhaustedError",
    "__version__",
]
