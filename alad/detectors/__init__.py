"""The public estimators, one per module."""

from .active_reconstruction import (
    ActiveReconstructionDetector,
    FeedbackDivergenceWarning,
)

__all__ = ["ActiveReconstructionDetector", "FeedbackDivergenceWarning"]
