"""The one place that imports scikit-learn's private helpers."""

# scikit-learn renames its private helpers now and then; keeping every such
# import here makes an upstream rename a one-file fix.
import numbers

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils._param_validation import Interval as _Interval


class Interval(_Interval):
    """scikit-learn's ``Interval``, except that an integer one refuses bools.

    ``True`` is an ``int`` to Python, so ``n_transforms=True`` passed
    scikit-learn's check and failed deep inside torch with a message that
    names no parameter; here it is refused at the entry, with the name.
    """

    def is_satisfied_by(self, val):
        if self.type is numbers.Integral and isinstance(val, (bool, np.bool_)):
            return False
        return super().is_satisfied_by(val)


__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_fit_context",
]
