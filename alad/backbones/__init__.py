"""Reconstruction backbones: pure torch modules, one per file."""

from .anomaly_transformer import AnomalyTransformerBackbone
from .base import ReconstructionBackbone, as_backbone, timestep_abs_error
from .lstm_vae import LSTMVAEBackbone
from .omni_anomaly import OmniAnomalyBackbone
from .registry import BACKBONES, make_backbone
from .transformer import TransformerBackbone
from .usad import USADBackbone
from .vtt import VTTPATBackbone, VTTSATBackbone

__all__ = [
    "BACKBONES",
    "AnomalyTransformerBackbone",
    "LSTMVAEBackbone",
    "OmniAnomalyBackbone",
    "ReconstructionBackbone",
    "TransformerBackbone",
    "USADBackbone",
    "VTTPATBackbone",
    "VTTSATBackbone",
    "as_backbone",
    "make_backbone",
    "timestep_abs_error",
]
