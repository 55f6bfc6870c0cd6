"""Query strategies: hybrid top-k + interval random sampling, its ablations,
marginal.
"""

from __future__ import annotations

import numpy as np

from .validation import check_count

__all__ = [
    "QUERY_STRATEGIES",
    "select_marginal",
    "select_queries",
    "select_top_and_marginal",
]

#: ``query_strategy`` values. The four cover the ablation of Han et al. (Fig. 8):
#: ``"hybrid"`` is S1 ∪ S2; ``"top_k"`` keeps top-k sampling and replaces interval
#: sampling by uniform random sampling of the same size ("-Interval Random
#: Sampling"); ``"interval"`` keeps interval sampling and replaces top-k by
#: uniform random sampling ("-Top-k sampling"); ``"random"`` samples every query
#: uniformly ("-Top-k & Interval Random Sampling").
QUERY_STRATEGIES = ("hybrid", "top_k", "interval", "random")


def select_queries(
    scores: np.ndarray,
    candidates: np.ndarray,
    *,
    strategy: str,
    top_k: int,
    n_bins: int,
    per_bin: int,
    n_queries: int | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Choose windows to label (Algorithm 1 of Han et al.).

    Parameters
    ----------
    scores : ndarray of shape (n_windows,)
        Mean anomaly score of each window; a NaN ranks below every other
        score (``-inf`` included), ties in time order.
    candidates : bool ndarray of shape (n_windows,)
        Windows that may be queried (not labelled yet).
    strategy : {"hybrid", "top_k", "interval", "random"}
    top_k : int
        ``k``: the windows with the highest scores (S1).
    n_bins, per_bin : int
        ``G`` and ``g``: the remaining candidates, sorted by score, are cut
        into ``G`` intervals holding equally many windows, and ``g`` windows are
        drawn at random from each (S2).
    n_queries : int or None
        How many windows to return; default ``top_k + n_bins * per_bin``.
        The top-k part takes ``min(top_k, n_queries)`` and the interval part
        the rest, spread over the bins as evenly as possible.
    rng : numpy Generator

    Returns
    -------
    chosen : ndarray of int64
        Distinct window indices, top-k part first.
    """
    if strategy not in QUERY_STRATEGIES:
        raise ValueError(
            f"strategy must be one of {QUERY_STRATEGIES}, got {strategy!r}."
        )
    scores = _scores_1d(scores, "scores")
    candidates = np.asarray(candidates)
    if candidates.dtype != bool or candidates.shape != scores.shape:
        raise ValueError(
            f"candidates must be a bool mask of the scores' shape {scores.shape} "
            f"(True: may be queried); got {candidates.dtype} of shape "
            f"{candidates.shape}."
        )
    top_k = check_count(top_k, "top_k", minimum=0)
    n_bins = check_count(n_bins, "n_bins")
    per_bin = check_count(per_bin, "per_bin", minimum=0)
    n_queries = check_count(n_queries, "n_queries", allow_none=True)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)); got "
            f"{type(rng).__name__}."
        )
    pool = np.flatnonzero(candidates)
    n_total = top_k + n_bins * per_bin if n_queries is None else n_queries
    n_total = min(n_total, pool.size)
    n_top = min(top_k, n_total)
    n_interval = n_total - n_top

    # stable sort: ties keep chronological order, so results are reproducible
    ranked = pool[np.argsort(-scores[pool], kind="stable")]
    if strategy in ("hybrid", "top_k"):
        first = ranked[:n_top]
    else:
        first = rng.choice(pool, size=n_top, replace=False)
    rest = ranked[~np.isin(ranked, first)]

    if strategy in ("hybrid", "interval"):
        second = _interval_sample(rest, n_interval, n_bins, rng)
    else:
        second = rng.choice(rest, size=n_interval, replace=False)
    return np.concatenate([first, second]).astype(np.int64)


def _interval_sample(
    ranked: np.ndarray, n: int, n_bins: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``n`` windows spread over ``n_bins`` equal-count score intervals."""
    if n == 0 or ranked.size == 0:
        return np.empty(0, dtype=np.int64)
    bins = np.array_split(ranked, n_bins)
    # even quotas; the remainder goes to the highest-scoring intervals
    quotas = np.full(n_bins, n // n_bins) + (np.arange(n_bins) < n % n_bins)
    picked = [
        rng.choice(b, size=min(q, b.size), replace=False)
        for b, q in zip(bins, quotas)
        if b.size and q
    ]
    chosen = np.concatenate(picked) if picked else np.empty(0, dtype=np.int64)
    shortfall = n - chosen.size
    if shortfall > 0:  # some intervals were smaller than their quota
        left = ranked[~np.isin(ranked, chosen)]
        chosen = np.concatenate(
            [chosen, rng.choice(left, size=shortfall, replace=False)]
        )
    return chosen


def _scores_1d(values, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, one per candidate; got shape {values.shape}."
        )
    return values


def _marginal_args(threshold, n) -> int:
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number; got {threshold}.")
    return check_count(n, "n", minimum=0)


def select_marginal(log_prob, threshold: float, n: int) -> np.ndarray:
    r"""Indices of the ``n`` samples nearest the likelihood boundary (Eq. 9).

    NAF-AL's marginal strategy: its augmentation keeps the drawn samples
    nearest the likelihood level ``Q``, and :meth:`NAFALDetector.query
    <alad.NAFALDetector.query>` asks about the pool samples whose scores are
    nearest ``threshold_`` (any score works in place of the log-likelihood).
    Ranks by :math:`|L(x) - Q| / \Omega` with :math:`\Omega = \max |L(x) - Q|`,
    smallest first (stable: ties keep their order). Dividing by
    :math:`\Omega` does not change the order, so the distance itself is
    ranked: an infinite log-likelihood (a flow's ``-inf``) would make
    :math:`\Omega` infinite and every finite distance 0. Non-finite values
    rank last.

    Examples
    --------
    >>> select_marginal([-9.0, -2.5, -4.0], -2.0, 2).tolist()
    [1, 2]
    >>> select_marginal([-9.0, -2.5, -4.0, -2.1, -np.inf], -2.0, 2).tolist()
    [3, 1]
    """
    n = _marginal_args(threshold, n)
    distance = np.abs(_scores_1d(log_prob, "log_prob") - threshold)
    distance = np.where(np.isfinite(distance), distance, np.inf)  # NaN last too
    return np.argsort(distance, kind="stable")[:n]


def select_top_and_marginal(scores, threshold: float, n: int) -> np.ndarray:
    """Indices of the ``ceil(n / 2)`` highest scores, then those nearest ``threshold``.

    The highest scores are the likeliest anomalies (what a label-trained
    classifier learns from); the others, by :func:`select_marginal` among
    the remaining samples, are those the detector is least sure of.
    :class:`~alad.NAFALDetector`'s ``query_strategy="hybrid"``.

    Examples
    --------
    >>> select_top_and_marginal([0.1, 0.9, 0.45, 0.7, 0.52], 0.5, 3).tolist()
    [1, 3, 4]
    """
    n = _marginal_args(threshold, n)
    scores = _scores_1d(scores, "scores")
    top = np.argsort(-scores, kind="stable")
    n_top = min(-(-n // 2), len(scores))
    rest = top[n_top:]
    near = select_marginal(scores[rest], threshold, n - n_top)
    return np.r_[top[:n_top], rest[near]].astype(np.int64)
