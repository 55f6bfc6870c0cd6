"""The public estimators, one per module."""

from .active_reconstruction import (
    ActiveReconstructionDetector,
    FeedbackDivergenceWarning,
)
from .nafal import FlowDivergenceWarning, NAFALDetector

__all__ = [
    "ActiveReconstructionDetector",
    "FeedbackDivergenceWarning",
    "FlowDivergenceWarning",
    "NAFALDetector",
]
