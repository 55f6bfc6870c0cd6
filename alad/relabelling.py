"""A window or sample labelled again: its latest label replaces the earlier one.

A detector learns from each labelled window (time series) or sample (tabular
data) once. Passing one again to ``partial_fit`` (a corrected label, or the
whole pool with every label given so far and ``nan`` elsewhere, round after
round) must neither store it twice, with two labels that may contradict each
other, nor charge it to the budget twice, and it keeps its place among the
labelled rows: rounds draw their batches from that order, so passing every
label so far trains as passing the new rows alone. Rows are recognised by
their values (:func:`~alad.thresholds.fingerprints`), as ``query``
recognises the windows it has been told about.
"""

from __future__ import annotations

import numpy as np

from .thresholds import fingerprints

__all__ = ["first_unknown_copy", "last_of_each", "relabelled"]


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


def first_unknown_copy(prints: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Which rows a query may offer: one of each set of equal rows.

    A detector learns the last label given to equal rows and charges the
    budget once, so a query offers the first unknown copy only, and no copy
    of a row whose label is known: a stuck sensor's flat windows, or a
    table's duplicated samples, would otherwise fill a round with one row
    asked many times.

    Parameters
    ----------
    prints : ndarray of shape (n,)
        The rows' :func:`~alad.thresholds.fingerprints`.
    unknown : bool ndarray of shape (n,)
        Rows whose label is not known (those the query may offer).

    Returns
    -------
    offer : bool ndarray of shape (n,)

    Examples
    --------
    >>> rows = np.array([[1.0], [2.0], [1.0], [3.0], [3.0]])
    >>> first_unknown_copy(fingerprints(rows), np.array([1, 1, 1, 0, 1], bool))
    array([ True,  True, False, False, False])
    """
    labelled = np.isin(prints, prints[~unknown])
    candidates = np.flatnonzero(unknown & ~labelled)
    offer = np.zeros(len(prints), dtype=bool)
    offer[candidates[np.unique(prints[candidates], return_index=True)[1]]] = True
    return offer


def relabelled(
    stored: np.ndarray,
    stored_targets: np.ndarray,
    new: np.ndarray,
    new_targets: np.ndarray,
    prints: np.ndarray,
    told: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The labelled rows once the distinct rows ``new`` are labelled.

    Parameters
    ----------
    stored : ndarray of shape (n, ...)
        Rows labelled before, as the detector keeps them (scaled), in order.
    stored_targets : ndarray of shape (n, ...)
        Their labels.
    new : ndarray of shape (m, ...)
        Rows labelled now, distinct (:func:`last_of_each`), scaled alike.
    new_targets : ndarray of shape (m, ...)
        Their labels.
    prints : ndarray of shape (m,)
        The :func:`~alad.thresholds.fingerprints` of ``new`` as given,
        before scaling.
    told : ndarray
        The fingerprints of every row labelled before, as given.

    Returns
    -------
    rows, targets : ndarray
        ``stored`` with the rows that ``new`` labels again in their places,
        under their new labels, then the other rows of ``new`` in the order
        given. A stored row is one of ``new`` when the model cannot tell them
        apart: a scaling that clips, such as
        ``NAFALDetector(scaling="quantile")``, maps samples beyond the
        training range to one row, which takes the label of the last of them.
    n_first : int
        Rows of ``new`` labelled for the first time, by their values as
        given: what the budget is charged. Two samples that the scaling
        maps to one row are two labels of the person's.

    Examples
    --------
    >>> stored, new = np.array([[1.0], [2.0]]), np.array([[3.0], [1.0]])
    >>> rows, targets, n_first = relabelled(
    ...     stored, np.array([0, 0]), new, np.array([0, 1]),
    ...     fingerprints(new), fingerprints(stored))
    >>> rows.ravel().tolist(), targets.tolist(), n_first
    ([1.0, 2.0, 3.0], [1, 0, 0], 1)
    """
    stored_prints, new_prints = fingerprints(stored), fingerprints(new)
    again = np.isin(new_prints, stored_prints)
    targets = stored_targets.copy()
    if again.any():
        # the last row of new for each scaled row it labels again
        last = np.flatnonzero(again)[last_of_each(new_prints[again])]
        order = np.argsort(new_prints[last])
        known = new_prints[last][order]
        at = np.minimum(np.searchsorted(known, stored_prints), len(known) - 1)
        hit = known[at] == stored_prints
        targets[hit] = new_targets[last[order[at[hit]]]]
    n_first = len(prints) - int(np.isin(prints, told).sum())
    return (
        np.concatenate([stored, new[~again]]),
        np.concatenate([targets, new_targets[~again]]),
        n_first,
    )
