"""skorch glue: datasets of windows, nets, losses, callbacks, batched scoring."""

from .callbacks import training_callbacks
from .data import TailSplit, WindowDataset
from .inference import iter_position_scores
from .losses import anomaly_objective, draw_timestep_mask, masked_timestep_mse
from .nets import BackboneNet, FeedbackNet

__all__ = [
    "BackboneNet",
    "FeedbackNet",
    "TailSplit",
    "WindowDataset",
    "anomaly_objective",
    "draw_timestep_mask",
    "iter_position_scores",
    "masked_timestep_mse",
    "training_callbacks",
]
