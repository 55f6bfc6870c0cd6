"""Calls that complete or leave the estimator as it was, and the check before commit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch
from torch import nn

__all__ = [
    "MAX_TRAINING_SCORE",
    "scores_are_sane",
    "transactional",
    "weights_are_finite",
]

#: Largest magnitude a score of the training data may have after a training
#: call. The data are standardised (unit scale per channel), so a trained
#: model's reconstruction errors and negative log-likelihoods of its own
#: training data are of order 1 to 1e3; 1e10 is ten orders of magnitude past
#: that, yet nine below where the models' float32 squares overflow (1.8e19):
#: a model there has diverged, and its next step would yield inf.
MAX_TRAINING_SCORE = 1e10

Method = TypeVar("Method", bound=Callable)


def transactional(method: Method) -> Method:
    """The estimator method completes, or the estimator is left as it was.

    Every attribute is restored after any exception, ``KeyboardInterrupt``
    included, and so is the state of a ``numpy.random.RandomState`` given
    as ``random_state``. The restore is of the attribute bindings: a method so wrapped
    must never change an object it found in place (no ``list.append`` on a
    fitted list, no training of the fitted net's module); it builds new
    objects beside the old ones and binds them at the end. The detectors
    train a copy of their net and swap it in once it is verified.
    """

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        before = dict(self.__dict__)
        # a RandomState given as random_state is the user's object, which a
        # fit draws its seed from: its state is put back too, so that a
        # retried call draws what the failed one drew
        generator = before.get("random_state")
        drawn = (
            generator.get_state()
            if isinstance(generator, np.random.RandomState)
            else None
        )
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            # one binding: a second Ctrl-C cannot land between a clear and
            # an update and leave the estimator empty
            object.__setattr__(self, "__dict__", before)
            if drawn is not None:
                generator.set_state(drawn)
            raise

    return call  # type: ignore[return-value]


def weights_are_finite(module: nn.Module) -> bool:
    """Whether every parameter and buffer of ``module`` is finite."""
    tensors = [*module.parameters(), *module.buffers()]
    return all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point())


def scores_are_sane(scores: np.ndarray, limit: float = MAX_TRAINING_SCORE) -> bool:
    """Whether training scores are finite and within ``limit`` in magnitude."""
    scores = np.asarray(scores, dtype=np.float64)
    return bool(scores.size) and bool(np.all(np.abs(scores) <= limit))
