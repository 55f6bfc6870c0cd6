"""Affine transforms, feature extractor and flow wrapper of NAF-AL."""

from .extractor import ConvFeatureExtractor, FeatureExtractor
from .mixture import MixtureBase
from .naf import NAFAD, make_naf
from .transforms import RandomAffineTransforms, SeriesAffineTransforms

__all__ = [
    "NAFAD",
    "ConvFeatureExtractor",
    "FeatureExtractor",
    "MixtureBase",
    "RandomAffineTransforms",
    "SeriesAffineTransforms",
    "make_naf",
]
