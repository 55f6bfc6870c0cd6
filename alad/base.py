"""The estimator contract shared by every alad detector (PyOD-style scores)."""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import erf
from scipy.stats import binom
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions

__all__ = [
    "MAX_STANDARDIZED_VALUE",
    "BaseDetector",
    "PoolExhaustedError",
    "check_input_shape",
    "check_labels",
    "check_scaled_range",
    "resolve_device",
    "seeded",
    "standard_scaling",
    "standardize",
]

#: Largest magnitude input may reach after standardisation, in standard
#: deviations of the training data. The models compute in float32, whose
#: squares overflow near 1.8e19; every backbone and the flow were measured to
#: score finitely up to 1e18, so 1e15 leaves a margin for wide inputs.
MAX_STANDARDIZED_VALUE = 1e15


class PoolExhaustedError(ValueError):
    """``query`` found nothing left to ask about: every candidate is labelled."""


def resolve_device(device: str | torch.device) -> str:
    """Turn a ``device`` parameter into the device string a fit runs on.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when available,
        else CPU).

    Returns
    -------
    device : str
        A concrete device such as ``"cpu"`` or ``"cuda:0"``.

    Raises
    ------
    ValueError
        If CUDA is asked for but not available, or the string is not a device.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'cpu', 'auto', 'cuda' or 'cuda:N', got {device!r}."
        ) from exc
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on "
                "this machine; use device='cpu' or device='auto'."
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} names GPU {parsed.index} but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    elif parsed.type != "cpu":
        raise ValueError(
            f"device must be 'cpu', 'auto', 'cuda' or 'cuda:N', got {device!r}."
        )
    return str(parsed)


@contextlib.contextmanager
def seeded(seed: int, device: str = "cpu") -> Iterator[None]:
    """Seed torch inside the block and restore the global RNG state afterwards.

    Users' own torch code must not see its random stream change because an
    estimator was fitted (sklearn's MLP and zuko's tests follow the same rule).
    """
    devices = []
    if device.startswith("cuda") and torch.cuda.is_available():
        devices = [torch.device(device).index or torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


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
        an axis of length 0, or complex values.
    TypeError
        If ``X`` holds values that are not numbers (strings, objects).
    """
    if sp.issparse(X):
        return tuple(X.shape)
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


def standard_scaling(X: np.ndarray, standardize: bool = True):
    """Per-channel mean and scale of ``X`` (last axis), as detectors standardise.

    Constant channels (standard deviation below 1e-12) keep a scale of 1, so
    that dividing by ~0 does not explode them; ``standardize=False`` gives
    the identity (mean 0, scale 1).

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
    with np.errstate(over="ignore", invalid="ignore"):
        mean = flat.mean(axis=0)
        scale = flat.std(axis=0)
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise ValueError(
            "X holds values too large to standardise: the mean or standard "
            "deviation of a channel overflows float64 (largest |X| is "
            f"{np.abs(flat).max():.3g}); rescale X."
        )
    return mean, np.where(scale > 1e-12, scale, 1.0)


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


class BaseDetector(OutlierMixin, BaseEstimator):
    """Thresholding, probabilities and confidence shared by alad detectors.

    Subclasses set ``decision_scores_`` (scores of the training data, higher =
    more anomalous) and call :meth:`_process_decision_scores`; this class then
    provides the PyOD contract: ``threshold_``, ``labels_``, :meth:`predict`,
    :meth:`predict_proba`, :meth:`predict_confidence` and :meth:`fit_predict`.
    """

    _parameter_constraints: dict = {
        "contamination": [Interval(numbers.Real, 0.0, 0.5, closed="right")],
        "device": [StrOptions({"cpu", "auto", "cuda"}), str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.allow_nan = False
        return tags

    # -- thresholding ------------------------------------------------------
    def _process_decision_scores(self) -> None:
        """Derive ``threshold_``, ``labels_`` and the 'unify' statistics.

        The threshold is the ``(1 - contamination)`` quantile of the training
        scores, as in PyOD: the ``contamination`` share of the training data
        with the highest scores is labelled anomalous.
        """
        scores = np.asarray(self.decision_scores_, dtype=np.float64)
        self.threshold_ = float(np.percentile(scores, 100 * (1 - self.contamination)))
        self.labels_ = (scores > self.threshold_).astype(np.int64)
        self._mu = float(np.mean(scores))
        self._sigma = float(np.std(scores))

    def _check_thresholded(self) -> None:
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])

    def _check_value_range(
        self, X: np.ndarray, *, reset: bool, standardize: bool = True
    ) -> np.ndarray:
        """Refuse ``X`` whose standardised values the float32 model cannot score.

        For detectors that standardise with ``scaler_mean_`` and
        ``scaler_scale_``: at fit (``reset=True``) the statistics of ``X``
        itself are used (see :func:`standard_scaling`), afterwards the fitted
        ones. Returns ``X`` unchanged.
        """
        if reset:
            mean, scale = standard_scaling(X, standardize)
        else:
            mean, scale = self.scaler_mean_, self.scaler_scale_
        check_scaled_range(X, mean, scale)
        return X

    # -- labelling budget --------------------------------------------------
    #: What ``budget`` counts, in messages: "windows" or "samples".
    _budget_unit = "samples"

    def _n_labelled(self) -> int:  # pragma: no cover - each detector says
        raise NotImplementedError

    def _capped_queries(self, n_queries: int) -> int:
        """``n_queries`` capped by the budget left; refused once it is spent."""
        if self.budget is None:
            return n_queries
        remaining = self.budget - self._n_labelled()
        if remaining <= 0:
            raise ValueError(
                f"The labelling budget of {self.budget} {self._budget_unit} is "
                "spent; raise budget to keep querying."
            )
        return min(n_queries, remaining)

    def _check_within_budget(self, n_new: int) -> None:
        """Refuse ``n_new`` more labelled windows or samples beyond the budget."""
        if self.budget is None:
            return
        remaining = self.budget - self._n_labelled()
        if n_new > remaining:
            raise ValueError(
                f"These {n_new} labelled {self._budget_unit} exceed the remaining "
                f"budget of {max(remaining, 0)} {self._budget_unit} "
                f"(budget={self.budget})."
            )

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a CUDA-trained net to the CPU when CUDA is missing; keep
        # device_ in step so scoring happens where the weights are.
        net = state.get("net_")
        if net is not None:
            self.device_ = str(net.device)

    # -- predictions -------------------------------------------------------
    def predict(self, X, return_confidence: bool = False):
        """Predict whether each sample is an anomaly (1) or normal (0).

        Parameters
        ----------
        X : array-like
            Data in the layout :meth:`decision_function` accepts.
        return_confidence : bool, default=False
            Also return :meth:`predict_confidence`.

        Returns
        -------
        labels : ndarray of int64
            1 where ``decision_function(X) > threshold_``, else 0.
        confidence : ndarray of float64
            Only when ``return_confidence=True``.
        """
        self._check_thresholded()
        scores = self.decision_function(X)
        labels = (scores > self.threshold_).astype(np.int64)
        if return_confidence:
            return labels, self._confidence(scores)
        return labels

    def predict_proba(self, X, method: str = "linear", return_confidence: bool = False):
        """Probability of each sample being normal and anomalous.

        Parameters
        ----------
        X : array-like
            Data in the layout :meth:`decision_function` accepts.
        method : {"linear", "unify"}, default="linear"
            ``"linear"`` rescales scores to [0, 1] with the minimum and maximum
            of the training scores; ``"unify"`` applies the Gaussian scaling of
            Kriegel et al. (2011), ``erf((s - mean) / (std * sqrt(2)))``.
        return_confidence : bool, default=False
            Also return :meth:`predict_confidence`.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Columns ``[p_normal, p_anomaly]``.
        """
        self._check_thresholded()
        if method not in ("linear", "unify"):
            raise ValueError(f"method must be 'linear' or 'unify', got {method!r}.")
        scores = self.decision_function(X)
        if method == "linear":
            low = float(np.min(self.decision_scores_))
            span = float(np.max(self.decision_scores_)) - low
            p = (scores - low) / span if span > 0 else np.zeros_like(scores)
        else:
            sigma = self._sigma if self._sigma > 0 else 1.0
            p = erf((scores - self._mu) / (sigma * np.sqrt(2)))
        p = np.clip(p, 0.0, 1.0)
        proba = np.column_stack([1.0 - p, p])
        if return_confidence:
            return proba, self._confidence(scores)
        return proba

    def predict_confidence(self, X):
        """Confidence in each prediction, in [0, 1] (Perini et al., 2020).

        The rank of a score among the training scores gives a Bayesian
        estimate of the probability that a sample is predicted anomalous; the
        confidence is the binomial probability that this prediction would stay
        the same on a resampled training set. Vectorised, O(n log n).

        Parameters
        ----------
        X : array-like
            Data in the layout :meth:`decision_function` accepts.

        Returns
        -------
        confidence : ndarray of float64
        """
        self._check_thresholded()
        return self._confidence(self.decision_function(X))

    def _confidence(self, scores: np.ndarray) -> np.ndarray:
        train = np.sort(np.asarray(self.decision_scores_, dtype=np.float64))
        n = train.size
        n_below = np.searchsorted(train, scores, side="right")
        posterior = (1.0 + n_below) / (2.0 + n)
        confidence = 1.0 - binom.cdf(n - int(n * self.contamination), n, posterior)
        predicted_normal = scores <= self.threshold_
        confidence[predicted_normal] = 1.0 - confidence[predicted_normal]
        return confidence

    def fit_predict(self, X, y=None):
        """Fit on ``X`` and return the labels of ``X`` (``labels_``).

        Parameters
        ----------
        X : array-like
            Training data.
        y : ignored
            Present for API consistency.

        Returns
        -------
        labels : ndarray of int64
        """
        return self.fit(X, y).labels_.copy()
