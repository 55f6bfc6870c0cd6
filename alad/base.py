"""The estimator contract shared by every alad detector (PyOD-style scores).

:class:`BaseDetector` holds what both detectors share: the PyOD thresholding
and predictions, the labelling budget, the checks at every public entry, and
the pieces of the transactional training round (seeds, verification before
commit, the divergence warning). Each detector then reads as its paper's
steps.
"""

from __future__ import annotations

import inspect
import numbers
import warnings

import numpy as np
import torch
from scipy.special import erf
from scipy.stats import binom
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions
from ._stack import outside_stacklevel
from .exceptions import DivergenceWarning, PoolExhaustedError, ThresholdWarning
from .runtime import resolve_device
from .thresholds import FLAGGED_SHARE_WARNING, threshold_from_labels
from .transaction import scores_are_sane, transactional, weights_are_finite
from .validation import check_count

__all__ = ["BaseDetector", "PoolExhaustedError"]


class BaseDetector(OutlierMixin, BaseEstimator):
    """What every alad detector shares: the PyOD contract and the round's skeleton.

    Subclasses commit the scores of their training data (higher = more
    anomalous) with :meth:`_set_training_scores`; this class then provides
    the PyOD contract: ``threshold_`` (from ``contamination`` or from the
    labels), ``labels_``, :meth:`predict`, :meth:`predict_proba`,
    :meth:`predict_confidence` and :meth:`fit_predict`. It also holds the
    pieces of a transactional training call (see :mod:`alad.transaction`):
    the checks at every public entry, the seeds of a fit and of each round,
    the verification before commit and the divergence warning, and the
    labelling budget. A subclass says what ``_n_labelled``,
    ``_default_n_queries`` and ``_labelled_scores`` are.
    """

    _parameter_constraints: dict = {
        "contamination": [Interval(numbers.Real, 0.0, 0.5, closed="right")],
        "device": [StrOptions({"cpu", "auto", "cuda"}), str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "thresholding": [StrOptions({"contamination", "f1", "false_alarm"})],
        "false_alarm_rate": [Interval(numbers.Real, 0.0, 1.0, closed="neither")],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.allow_nan = False
        return tags

    #: Parameters that act only in :meth:`query` and :meth:`partial_fit`:
    #: the model :meth:`fit` trains does not depend on them, so fitted models
    #: can be shared between runs that differ only in these.
    _feedback_params: frozenset = frozenset()

    @transactional
    def set_params(self, **params):
        """Set parameters, all or none: a name that is not a parameter (a
        ``ValueError``) leaves the ones before it unset."""
        return super().set_params(**params)

    # -- entries -----------------------------------------------------------
    #: Parameters the fitted model is built around and that later calls
    #: read: changing one after fit would score with a model of another shape.
    _fit_bound_params: tuple = ()

    def _check_entry(self) -> None:
        """Checks at every public entry of a fitted detector.

        ``set_params`` between rounds is the normal workflow, so parameters
        are validated here too, not only in :meth:`fit`; a parameter the
        fitted model is built around (``_fit_bound_params``) must still have
        its value of the fit.
        """
        check_is_fitted(self, "net_")
        self._validate_params()
        for name, fitted in self._fitted_with.items():
            if not self._same_fit_param(name, getattr(self, name), fitted):
                was, now = _brief(fitted), _brief(getattr(self, name))
                raise ValueError(
                    f"{name} was {was} when this detector was fitted and is now "
                    f"{now}; the fitted model is built around it. "
                    f"Refit, or set {name} back to its value at fit."
                )

    @staticmethod
    def _same_fit_param(name: str, now, fitted) -> bool:
        """Whether a fit-bound parameter still has its value of the fit."""
        return bool(now == fitted)

    def _bind_fit_params(self) -> None:
        """Remember the values of ``_fit_bound_params`` a fit used (at commit)."""
        self._fitted_with = {
            name: getattr(self, name) for name in self._fit_bound_params
        }

    def _new_fit(self) -> tuple[str, int]:
        """Device and seed of a new fit (nothing is written to ``self``)."""
        device = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        return device, seed

    def _round_seed(self, *key: int) -> int:
        """A seed of its own for each round and purpose, derived from ``_seed``."""
        return int(np.random.default_rng([self._seed, *key]).integers(2**31 - 1))

    # -- verification before commit ---------------------------------------
    @staticmethod
    def _is_sound(module: torch.nn.Module, training_scores: np.ndarray) -> bool:
        """Weights finite, and the training data's scores finite and bounded.

        See :data:`alad.transaction.MAX_TRAINING_SCORE` for the bound.
        """
        return weights_are_finite(module) and scores_are_sane(training_scores)

    @staticmethod
    def _warn_diverged(what: str, parameter: str) -> None:
        warnings.warn(
            f"{what} diverged (non-finite weights, or scores of the training data "
            "that are not finite or beyond 1e10); it was rolled back and the model "
            f"is as before it. Lower {parameter}.",
            DivergenceWarning,
            stacklevel=outside_stacklevel(),  # the user's call, however deep
        )

    # -- thresholding ------------------------------------------------------
    def _set_training_scores(self, scores: np.ndarray) -> None:
        """Commit ``decision_scores_`` and derive the threshold from them."""
        self.decision_scores_ = scores
        self._process_decision_scores()

    def _process_decision_scores(self) -> None:
        """Derive ``threshold_``, ``labels_`` and the 'unify' statistics.

        By default (``thresholding="contamination"``) the threshold is the
        ``(1 - contamination)`` quantile of the training scores, as in PyOD:
        the ``contamination`` share of the training data with the highest
        scores is labelled anomalous. With ``thresholding="f1"`` or
        ``"false_alarm"`` it is chosen from the labelled windows or samples
        once their labels allow it (see
        :func:`alad.thresholds.threshold_from_labels`); ``threshold_source_``
        says which rule set it.
        """
        scores = np.asarray(self.decision_scores_, dtype=np.float64)
        threshold = float(np.percentile(scores, 100 * (1 - self.contamination)))
        source = "contamination"
        if self.thresholding != "contamination":
            labelled = self._labelled_scores()
            chosen = None
            if labelled is not None:
                chosen = threshold_from_labels(
                    *labelled,
                    method=self.thresholding,
                    false_alarm_rate=self.false_alarm_rate,
                )
            if chosen is not None:
                threshold, source = chosen, self.thresholding
        self.threshold_, self.threshold_source_ = threshold, source
        self.labels_ = (scores > self.threshold_).astype(np.int64)
        self._mu = float(np.mean(scores))
        self._sigma = float(np.std(scores))

    def _labelled_scores(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Scores and labels (0/1) of what was labelled so far, or None."""
        raise NotImplementedError  # pragma: no cover - each detector says

    @transactional
    def update_threshold(self):
        """Derive ``threshold_`` and ``labels_`` again with the current parameters.

        ``thresholding``, ``false_alarm_rate`` and ``contamination`` take
        effect at every :meth:`fit` and :meth:`partial_fit`; after
        ``set_params`` of one of them, call this to apply it at once, without
        training.

        Returns
        -------
        self
        """
        self._check_entry()
        self._process_decision_scores()
        return self

    def _check_thresholded(self) -> None:
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])

    def _thresholded_scores(self, X) -> np.ndarray:
        """``decision_function(X)``, checked to be in the unit of ``threshold_``
        and ``decision_scores_`` (what predictions compare it with)."""
        self._check_thresholded()
        scores = self.decision_function(X)
        self._check_score_unit(X)
        return scores

    def _check_score_unit(self, X) -> None:
        """Raise where scores of a valid ``X`` are not in the training scores'
        unit; every ``X`` is, unless a detector says otherwise."""

    # -- labelling budget and queries -------------------------------------
    #: What ``budget`` counts, in messages: "windows" or "samples".
    _budget_unit = "samples"

    def _n_labelled(self) -> int:  # pragma: no cover - each detector says
        raise NotImplementedError

    def _budget_units(self, X, idx) -> int:
        """Budget units (samples here) that the result ``idx`` of ``query(X)`` costs."""
        return len(idx)

    def _default_n_queries(self) -> int:  # pragma: no cover - each detector says
        raise NotImplementedError

    def _n_queries(self, n_queries, y=None) -> int:
        """``n_queries`` checked, defaulted, and capped by the budget left.

        ``y`` is :meth:`query`'s second argument, the pool's labels: a number
        there is a count given in its place (``query(X, 5)``), refused before
        it can be read as one label.

        Raises
        ------
        TypeError
            If ``y`` is a single number.
        ValueError
            Once the budget is spent, or when the default round is empty.
        """
        if y is not None and np.ndim(y) == 0:
            raise TypeError(
                "y is the pool's labels, an array with one label per sample (or "
                f"None); got the single value {y!r}. To ask for {y!r} queries, "
                f"pass it by name: query(X, n_queries={y!r})."
            )
        n_queries = check_count(n_queries, "n_queries", allow_none=True)
        if n_queries is None:
            n_queries = self._default_n_queries()
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

    #: Fitted state that detectors pickled by earlier versions lack: a
    #: function of the unpickled detector giving the value that reproduces
    #: their behaviour.
    _state_added_later = {
        "threshold_source_": lambda det: "contamination",
        "_told": lambda det: np.empty(0, dtype="S16"),
        "_fitted_with": lambda det: {
            name: getattr(det, name) for name in det._fit_bound_params
        },
    }

    #: Parameters added later whose default changes what a fitted detector
    #: does: a detector pickled before them gets the value that keeps its
    #: behaviour, not the default.
    _params_added_later: dict = {}

    def __setstate__(self, state):
        super().__setstate__(state)
        # a detector pickled by an earlier version: parameters added since
        # take their defaults (or the value that keeps its behaviour), fitted
        # state added since its neutral value
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if (
                name != "self"
                and name not in state
                and param.default is not param.empty
            ):
                setattr(self, name, self._params_added_later.get(name, param.default))
        if "decision_scores_" in state:
            for name, value in self._state_added_later.items():
                if name not in state:
                    setattr(self, name, value(self))
            # a fit-bound parameter added since was bound, in effect, to the
            # value that keeps the old behaviour (set just above)
            self._fitted_with = {
                **{name: getattr(self, name) for name in self._fit_bound_params},
                **self._fitted_with,
            }
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
            Data in the layout :meth:`decision_function` accepts, and in the
            layout of the fit (the time-series detector: a series, or a stack
            of windows), whose scores ``threshold_`` is read from.
        return_confidence : bool, default=False
            Also return :meth:`predict_confidence`.

        Returns
        -------
        labels : ndarray of int64
            1 where ``decision_function(X) > threshold_``, else 0.
        confidence : ndarray of float64
            Only when ``return_confidence=True``.
        """
        scores = self._thresholded_scores(X)
        labels = (scores > self.threshold_).astype(np.int64)
        share = float(labels.mean())
        if labels.size >= 20 and share > FLAGGED_SHARE_WARNING:
            warnings.warn(
                f"predict flags {share:.0%} of X as anomalous (threshold_ = "
                f"{self.threshold_:.4g}, set by {self.threshold_source_}); a "
                "threshold that flags most of a series seldom fits it. Choose it "
                "from labels (set_params(thresholding='f1' or 'false_alarm') and "
                "update_threshold()) or lower contamination's effect by refitting "
                "on data like X.",
                ThresholdWarning,
                stacklevel=2,
            )
        if return_confidence:
            return labels, self._confidence(scores)
        return labels

    def predict_proba(self, X, method: str = "linear", return_confidence: bool = False):
        """Probability of each sample being normal and anomalous.

        Parameters
        ----------
        X : array-like
            Data in the layout :meth:`decision_function` accepts, and in the
            layout of the fit (the time-series detector: a series, or a stack
            of windows), whose scores ``threshold_`` is read from.
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
        scores = self._thresholded_scores(X)
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
        the same on a resampled training set. Vectorised, O(n log n). As in
        PyOD, ``n * (1 - contamination)`` training samples are taken as
        normal; under a threshold from the labels (``thresholding``), those
        at or below ``threshold_``.

        Parameters
        ----------
        X : array-like
            Data in the layout :meth:`decision_function` accepts, and in the
            layout of the fit (the time-series detector: a series, or a stack
            of windows), whose scores ``threshold_`` is read from.

        Returns
        -------
        confidence : ndarray of float64
        """
        return self._confidence(self._thresholded_scores(X))

    def _confidence(self, scores: np.ndarray) -> np.ndarray:
        train = np.sort(np.asarray(self.decision_scores_, dtype=np.float64))
        n = train.size
        n_below = np.searchsorted(train, scores, side="right")
        posterior = (1.0 + n_below) / (2.0 + n)
        # Perini et al. (and PyOD) take n * contamination training samples as
        # flagged, what the contamination rule flags; a threshold from the
        # labels ("f1", "false_alarm") flags another share, so there the
        # training samples at or below threshold_ are counted (at least one
        # on either side: beyond the training scores the estimate degenerates
        # to a confidence of 0 for every sample flagged).
        if self.threshold_source_ == "contamination":
            n_normal = n - int(n * self.contamination)
        else:
            n_normal = int(np.searchsorted(train, self.threshold_, side="right"))
            n_normal = min(max(n_normal, 1), n - 1)
        confidence = 1.0 - binom.cdf(n_normal, n, posterior)
        predicted_normal = scores <= self.threshold_
        confidence[predicted_normal] = 1.0 - confidence[predicted_normal]
        return confidence

    def fit_predict(self, X, y=None, **fit_params):
        """Fit on ``X`` and return the labels of ``X`` (``labels_``).

        Parameters
        ----------
        X : array-like
            Training data.
        y : ignored
            Present for API consistency.
        **fit_params
            Passed to :meth:`fit` (``known_anomalies`` of the time-series
            detector).

        Returns
        -------
        labels : ndarray of int64
        """
        return self.fit(X, y, **fit_params).labels_.copy()


def _brief(value) -> str:
    """A parameter's value for a message: a module by its class, not its repr."""
    if isinstance(value, torch.nn.Module):
        return f"a {type(value).__name__} instance"
    return repr(value)
