"""Reconstruction backbones: pure torch modules, one per file."""

from .base import ReconstructionBackbone, as_backbone
from .registry import BACKBONES, make_backbone
from .transformer import TransformerBackbone

__all__ = [
    "BACKBONES",
    "ReconstructionBackbone",
    "TransformerBackbone",
    "as_backbone",
    "make_backbone",
]
