"""The one place that imports scikit-learn's private helpers."""

# scikit-learn renames its private helpers now and then; keeping every such
# import here makes an upstream rename a one-file fix.
from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_fit_context",
]
