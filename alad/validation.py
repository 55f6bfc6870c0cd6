"""Checks of what users pass in: arrays, labels, counts, and the data's scale."""

from __future__ import annotations

import numbers
import sys

import numpy as np
import scipy.sparse as sp

from ._compat import InvalidParameterError

__all__ = [
    "MAX_STANDARDIZED_VALUE",
    "check_count",
    "check_input_shape",
    "check_labels",
    "check_scaled_range",
    "standard_scaling",
    "standardize",
]

#: Largest magnitude input may reach after standardisation, in standard
#: deviations of the training data. The models compute in float32, whose
#: squares overflow near 1.8e19; every backbone and the flow were measured to
#: score finitely up to 1e18, so 1e15 leaves a margin for wide inputs.
MAX_STANDARDIZED_VALUE = 1e15


def check_count(value, name: str, *, minimum: int = 1, allow_none: bool = False):
    """An integer count of at least ``minimum``; bools are refused.

    ``True`` is an ``int`` to Python, but ``n_queries=True`` is a mistake,
    not a request for one window. The error is scikit-learn's
    ``InvalidParameterError``, both a ``ValueError`` and a ``TypeError``, as
    for the estimators' own parameters.

    Examples
    --------
    >>> check_count(3, "n_queries")
    3
    >>> check_count(True, "n_queries")
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: n_queries must be a \
positive integer, got True (a bool).
    """
    if value is None and allow_none:
        return None
    kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if allow_none:
        kind += " or None"
    if isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be {kind}, got {value!r} (a bool).")
    if not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidParameterError(f"{name} must be {kind}, got {value!r}.")
    return int(value)


def check_labels(y, *, name: str = "y", allow_missing: bool = True) -> np.ndarray:
    """Validate labels: 1 = anomaly, 0 = normal, ``np.nan`` = unlabelled.

    Parameters
    ----------
    y : array-like
        Labels of any shape.
    name : str, default="y"
        Name used in error messages.
    allow_missing : bool, default=True
        Whether ``np.nan`` (unlabelled) is allowed.

    Returns
    -------
    y : ndarray of float64
        The labels as floats, ``np.nan`` where unlabelled.
    """
    if y is None:  # np.asarray would make it one unlabelled value
        raise ValueError(
            f"{name} is required: one label per sample, 0 (normal), 1 (anomaly) "
            "or nan (unlabelled); got None."
        )
    raw = np.asarray(y)
    if raw.dtype.kind in "US" or (
        raw.dtype.kind == "O" and any(isinstance(v, str) for v in raw.flat)
    ):
        # "1" would be read as 1 and "anomaly" refused: refuse both alike
        # (labels read from a text file as strings are meant as numbers)
        raise TypeError(
            f"{name} must hold numbers 0 (normal), 1 (anomaly) or nan "
            f"(unlabelled), got strings; convert them first, e.g. "
            f"np.asarray({name}, dtype=float) for '0' and '1'."
        )
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        given = getattr(y, "dtype", type(y).__name__)
        raise TypeError(
            f"{name} must hold numbers 0 (normal), 1 (anomaly) or nan "
            f"(unlabelled), got values of type {given} ({exc})."
        ) from exc
    known = ~np.isnan(y)
    bad = known & (y != 0) & (y != 1)
    if (y[bad] == -1).any():
        raise ValueError(
            f"{name} must contain only 0 (normal), 1 (anomaly)"
            f"{' or nan (unlabelled)' if allow_missing else ''}; it holds -1, as "
            "in scikit-learn's outlier convention (-1 = anomaly, 1 = normal), "
            "which alad does not use. Convert with "
            f"np.where({name} == -1, 1.0, np.where({name} == 1, 0.0, np.nan))."
        )
    if bad.any():
        examples = np.unique(y[bad])[:5]
        raise ValueError(
            f"{name} must contain only 0 (normal), 1 (anomaly)"
            f"{' or nan (unlabelled)' if allow_missing else ''}; "
            f"got {examples.tolist()}."
        )
    if not allow_missing and not known.all():
        raise ValueError(f"{name} must not contain nan (unlabelled) values.")
    return y


def check_input_shape(X, *, name: str = "X") -> tuple[int, ...]:
    """Shape of array-like input, refusing ragged, non-numeric or empty input.

    The first step of every detector's input validation, before the number of
    dimensions is checked and the data are converted (by sklearn's
    ``validate_data`` or ``check_array``, whose own messages do not name the
    argument for these cases). Sparse matrices are passed through, for
    ``validate_data`` to refuse with sklearn's message.

    Parameters
    ----------
    X : array-like
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    shape : tuple of int

    Raises
    ------
    ValueError
        If ``X`` has no regular shape (nested sequences of unequal lengths),
        an axis of length 0, complex values, or masked values (a
        ``numpy.ma.MaskedArray`` with any entry masked).
    TypeError
        If ``X`` holds values that are not numbers (strings, objects).
    """
    if sp.issparse(X):
        return tuple(X.shape)
    if np.ma.isMaskedArray(X) and np.ma.getmaskarray(X).any():
        # np.asarray drops the mask and keeps the hidden values (a reader's
        # fill code such as -9999), which would be scored as data
        raise ValueError(
            f"{name} contains masked values (missing data); fill them, or "
            "drop the rows, before passing it (numpy.ma.filled)."
        )
    try:
        array = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be an array of numbers with a regular shape; got a "
            f"{type(X).__name__} that is not one ({exc})."
        ) from exc
    if array.dtype.kind == "c":  # sklearn's wording, which its checks expect
        raise ValueError(
            f"Complex data not supported: {name} must hold real numbers, got "
            f"dtype {array.dtype}."
        )
    if array.ndim == 0:
        # None, a number, a string: the caller's message names the dimensions
        return array.shape
    if array.dtype.kind == "O" and _holds_pandas_na(array):
        # pandas' nullable columns (Float64, Int64) give pd.NA, not NaN
        raise ValueError(f"{name} contains NaN (a missing value, pandas' NA).")
    if array.dtype.kind in "OUSV":  # strings or objects: they must be numbers
        try:
            array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must hold numbers, got values of dtype {array.dtype} "
                f"that are not ({exc})."
            ) from exc
    if array.ndim and 0 in array.shape:
        # sklearn's wording for rows and features, which its checks expect
        if array.shape[0] == 0:
            found = "0 sample(s)"
        elif array.ndim == 2:
            found = "0 feature(s)"
        else:
            found = "an axis of length 0"
        raise ValueError(
            f"{name} must not be empty: found array with {found} "
            f"(shape={array.shape}) while a minimum of 1 is required."
        )
    return array.shape


def _holds_pandas_na(array: np.ndarray) -> bool:
    """Whether an object array holds pandas' missing value ``pd.NA`` (or
    ``None``, NaN: ``pandas.isna``, vectorised, sees them all)."""
    pandas = sys.modules.get("pandas")  # an array can only hold it if imported
    return pandas is not None and bool(pandas.isna(array).any())


def standard_scaling(X: np.ndarray, standardize: bool = True):
    """Per-channel mean and scale of ``X`` (last axis), as detectors standardise.

    Constant channels (all values equal, or standard deviation at most 1e-12
    of the channel's mean in absolute value) keep a scale of 1, so that
    dividing by ~0 does not explode them;
    ``standardize=False`` gives the identity (mean 0, scale 1).

    Returns
    -------
    mean, scale : ndarray of float64 of shape (n_channels,)

    Raises
    ------
    ValueError
        If the mean or standard deviation of a channel overflows float64.
    """
    flat = X.reshape(-1, X.shape[-1])
    if not standardize:
        return np.zeros(flat.shape[1]), np.ones(flat.shape[1])
    # float64 accumulators whatever the input dtype: float32 data near 1e20
    # would overflow in its own precision although float64 holds it easily
    with np.errstate(over="ignore", invalid="ignore"):
        mean = flat.mean(axis=0, dtype=np.float64)
        scale = flat.std(axis=0, dtype=np.float64)
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise ValueError(
            "X holds values too large to standardise: the mean or standard "
            "deviation of a channel overflows float64 (largest |X| is "
            f"{np.abs(flat).max():.3g}); rescale X."
        )
    # a constant channel away from zero has a rounding error of its mean for
    # standard deviation (about 1e-11 at 1e5), which would pass the 1e-12
    # test: recognised by its minimum and maximum, it keeps a scale of 1 too
    constant = flat.min(axis=0) == flat.max(axis=0)
    # and its mean is its value: the rounding error of a mean at 1e20 is
    # millions, which a scale of 1 would leave as a huge constant input
    mean = np.where(constant, flat[0].astype(np.float64), mean)
    # A deviation counts relative to the channel's level, not in absolute
    # units: data measured in units of 1e-13 must standardise as the same
    # data in units of 1 do, while a deviation of a few rounding steps of a
    # large level (1e-12 of it) is the representation, not the signal.
    varies = (scale > 1e-12 * np.abs(mean)) & (scale > 0) & ~constant
    return mean, np.where(varies, scale, 1.0)


def standardize(X: np.ndarray, mean, scale, *, chunk_rows: int = 65_536) -> np.ndarray:
    """``(X - mean) / scale`` as a new float32 array, computed in float64 chunks.

    The output is the only full-size allocation: the float64 arithmetic (which
    keeps the digits of data with a large offset) runs on ``chunk_rows`` rows
    at a time, so standardising a long series costs its float32 copy and not
    a float64 temporary of the same size.
    """
    out = np.empty(X.shape, dtype=np.float32)
    for first in range(0, len(X), chunk_rows):
        rows = slice(first, first + chunk_rows)
        out[rows] = (X[rows] - mean) / scale
    return out


def check_scaled_range(
    X: np.ndarray,
    mean,
    scale,
    *,
    name: str = "X",
    limit: float = MAX_STANDARDIZED_VALUE,
) -> None:
    """Refuse values that standardisation would take beyond ``limit``.

    The models compute in float32: far beyond the training data, their
    squares overflow and the scores turn into inf or nan. Only the minimum and
    maximum of each channel are computed, so no copy of ``X`` is made.

    Raises
    ------
    ValueError
        If ``|X - mean| / scale`` exceeds ``limit`` anywhere.
    """
    flat = X.reshape(-1, X.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        low = (flat.min(axis=0).astype(np.float64) - mean) / scale
        high = (flat.max(axis=0).astype(np.float64) - mean) / scale
        worst = float(np.max(np.maximum(np.abs(low), np.abs(high))))
    if not worst <= limit:
        raise ValueError(
            f"{name} holds values too far from the training data for the "
            f"model's float32 arithmetic: after standardisation they reach "
            f"{worst:.3g} standard deviations, beyond the limit of {limit:.0e}. "
            f"Rescale {name} or refit on data of its scale."
        )
