"""skorch glue: datasets of windows, nets, losses, callbacks, batched scoring."""

from .callbacks import train_epochs, training_callbacks
from .data import TailSplit, WindowDataset
from .inference import iter_position_scores
from .losses import (
    ANCHOR,
    anomaly_objective,
    draw_timestep_mask,
    masked_timestep_mse,
    phase_weights,
)
from .nets import BackboneNet, FeedbackNet
from .runs import backbone_net, feedback_round, pretrain

__all__ = [
    "ANCHOR",
    "BackboneNet",
    "FeedbackNet",
    "TailSplit",
    "WindowDataset",
    "backbone_net",
    "anomaly_objective",
    "draw_timestep_mask",
    "feedback_round",
    "iter_position_scores",
    "masked_timestep_mse",
    "phase_weights",
    "pretrain",
    "train_epochs",
    "training_callbacks",
]
