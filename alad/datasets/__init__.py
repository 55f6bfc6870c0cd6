"""Data home, loaders of real data and experimental splits."""

from ._fetch import fetch_file
from ._home import get_data_home
from ._split import novelty_split, one_vs_rest_split, split_unlabeled
from .gecco import load_gecco
from .msl import load_msl
from .odds import load_odds
from .series_file import load_series_file
from .synthetic import make_telemetry
from .ucr import load_ucr
from .uea import load_uea

__all__ = [
    "fetch_file",
    "get_data_home",
    "load_gecco",
    "load_msl",
    "load_odds",
    "load_series_file",
    "load_ucr",
    "load_uea",
    "make_telemetry",
    "novelty_split",
    "one_vs_rest_split",
    "split_unlabeled",
]
