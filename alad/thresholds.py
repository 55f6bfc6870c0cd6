"""Thresholds chosen from the labels a person gave, and the fingerprints of what
was told.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .validation import check_labels

__all__ = ["FLAGGED_SHARE_WARNING", "fingerprints", "threshold_from_labels"]

#: ``predict`` warns when it flags more than this share of its input: a
#: threshold that marks most of a series anomalous is almost always a
#: threshold that does not fit the data (scores shifted since fit), not a
#: finding.
FLAGGED_SHARE_WARNING = 0.5


def threshold_from_labels(
    scores, labels, *, method: str, false_alarm_rate: float = 0.01
) -> float | None:
    """A threshold for ``score > threshold`` chosen from labelled scores.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Scores of labelled timesteps or samples under the current model.
    labels : array-like of shape (n,)
        Their labels, 1 anomaly and 0 normal (no ``nan``).
    method : {"f1", "false_alarm"}
        ``"f1"``: the threshold with the best F1 on the labelled scores
        (needs both classes); between the lowest score it flags and the next
        score below, so that ``score > threshold`` flags exactly those.
        ``"false_alarm"``: the ``1 - false_alarm_rate`` quantile of the
        labelled normals' scores (needs a labelled normal), so that about
        that share of normal data is flagged.
    false_alarm_rate : float, default=0.01
        For ``"false_alarm"``.

    Returns
    -------
    threshold : float or None
        None when the labels do not allow the method.

    Examples
    --------
    >>> threshold_from_labels([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1], method="f1")
    0.5
    >>> threshold_from_labels(np.arange(101.0), np.zeros(101), method="false_alarm",
    ...                       false_alarm_rate=0.1)
    90.0
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = check_labels(labels, name="labels", allow_missing=False)
    if scores.ndim != 1 or labels.shape != scores.shape:
        raise ValueError(
            "scores and labels must be 1-D and of one length; got shapes "
            f"{scores.shape} and {labels.shape}."
        )
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite (no NaN or infinity).")
    if not 0.0 < false_alarm_rate < 1.0:
        raise ValueError(
            f"false_alarm_rate must be in (0, 1); got {false_alarm_rate!r}."
        )
    if method == "false_alarm":
        normal = scores[labels == 0]
        if normal.size == 0:
            return None
        return float(np.quantile(normal, 1.0 - false_alarm_rate))
    if method != "f1":
        raise ValueError(f"method must be 'f1' or 'false_alarm', got {method!r}.")
    if not ((labels == 1).any() and (labels == 0).any()):
        return None
    from .metrics import best_f1  # metrics is heavy to import, and needed here only

    _, lowest_flagged = best_f1(labels, scores, return_threshold=True)
    below = scores[scores < lowest_flagged]
    if below.size == 0:
        return float(np.nextafter(lowest_flagged, -np.inf))
    return float((lowest_flagged + below.max()) / 2.0)


def fingerprints(rows: np.ndarray) -> np.ndarray:
    """One 16-byte digest per row of ``rows`` (its values as float64).

    Lets a detector recognise a window or sample it has already been told
    about without keeping the data: equal values give equal digests whatever
    the input's float dtype.

    Parameters
    ----------
    rows : ndarray of shape (n, ...)

    Returns
    -------
    digests : ndarray of dtype ``S16`` and shape (n,)
    """
    rows = np.asarray(rows)
    out = np.empty(len(rows), dtype="S16")
    for i, row in enumerate(rows):  # one hash per window or sample
        data = np.ascontiguousarray(row, dtype=np.float64).tobytes()
        out[i] = hashlib.blake2b(data, digest_size=16).digest()
    return out
