"""Affine transforms, feature extractor and flow wrapper of NAF-AL."""

from .extractor import FeatureExtractor
from .naf import NAFAD, make_naf
from .transforms import RandomAffineTransforms

__all__ = ["NAFAD", "FeatureExtractor", "RandomAffineTransforms", "make_naf"]
