"""A window or sample labelled again: its latest label replaces the earlier one.

A detector learns from each labelled window (time series) or sample (tabular
data) once. Passing one again to ``partial_fit`` (a corrected label, or the
whole pool with every label given so far and ``nan`` elsewhere, round after
round) must neither store it twice, with two labels that may contradict each
other, nor charge it to the budget twice. Rows are recognised by their
values (:func:`~alad.thresholds.fingerprints`), as ``query`` recognises the
windows it has been told about.
"""

from __future__ import annotations

import numpy as np

from .thresholds import fingerprints

__all__ = ["last_of_each", "labelled_again"]


def last_of_each(prints: np.ndarray) -> np.ndarray:
    """Positions of the last of each distinct digest of ``prints``, in order.

    ``prints``: the rows' :func:`~alad.thresholds.fingerprints`, which the
    caller keeps (they are what ``query`` is told about).

    Examples
    --------
    >>> last_of_each(fingerprints(np.array([[1.0], [2.0], [1.0]])))
    array([1, 2])
    """
    _, from_end = np.unique(prints[::-1], return_index=True)
    return np.sort(len(prints) - 1 - from_end)


def labelled_again(
    stored: np.ndarray, new: np.ndarray, prints: np.ndarray, told: np.ndarray
) -> tuple[np.ndarray, int]:
    """Which ``stored`` rows the distinct rows ``new`` label again.

    Parameters
    ----------
    stored : ndarray of shape (n, ...)
        Rows labelled before, as the detector keeps them (scaled).
    new : ndarray of shape (m, ...)
        Rows labelled now, distinct (:func:`last_of_each`), scaled alike.
    prints : ndarray of shape (m,)
        The :func:`~alad.thresholds.fingerprints` of ``new`` as given,
        before scaling.
    told : ndarray
        The fingerprints of every row labelled before, as given.

    Returns
    -------
    kept : ndarray of bool of shape (n,)
        The stored rows that ``new`` does not label again: those the model
        cannot tell from a row of ``new`` (a scaling that clips, such as
        ``NAFALDetector(scaling="quantile")``, maps samples beyond the
        training range to one row) take its label.
    n_first : int
        Rows of ``new`` labelled for the first time, by their values as
        given: what the budget is charged. Two samples that the scaling
        maps to one row are two labels of the person's.

    Examples
    --------
    >>> stored, new = np.array([[1.0], [2.0]]), np.array([[2.0], [3.0]])
    >>> told = fingerprints(stored)
    >>> kept, n_first = labelled_again(stored, new, fingerprints(new), told)
    >>> kept.tolist(), n_first
    ([True, False], 1)
    """
    kept = ~np.isin(fingerprints(stored), fingerprints(new))
    return kept, len(prints) - int(np.isin(prints, told).sum())
