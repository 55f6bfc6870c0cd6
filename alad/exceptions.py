"""The warnings and errors alad raises that are its own."""

from __future__ import annotations

__all__ = [
    "DivergenceWarning",
    "FeedbackDivergenceWarning",
    "FlowDivergenceWarning",
    "PoolExhaustedError",
    "ThresholdWarning",
]


class PoolExhaustedError(ValueError):
    """``query`` found nothing left to ask about: every candidate is labelled."""


class DivergenceWarning(RuntimeWarning):
    """A training round diverged and was rolled back; the model is as before it.

    Raised by ``partial_fit`` and the augmentation rounds when the weights or
    the scores of the training data stop being finite (or exceed
    :data:`alad.transaction.MAX_TRAINING_SCORE`). The message names the
    parameter to change.
    """


class ThresholdWarning(UserWarning):
    """``predict`` flagged more than half of its input: the threshold may not fit.

    See :data:`alad.thresholds.FLAGGED_SHARE_WARNING`.
    """


#: Former names of :class:`DivergenceWarning`, one per detector; kept so that
#: code filtering them keeps working.
FeedbackDivergenceWarning = DivergenceWarning
FlowDivergenceWarning = DivergenceWarning
