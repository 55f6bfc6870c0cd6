"""The active-learning loop with a simulated oracle, for demos and benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from sklearn.utils import Bunch

from .base import PoolExhaustedError
from .metrics import detection_report
from .validation import check_count, check_labels

__all__ = ["run_active_learning"]


def run_active_learning(
    estimator,
    X_pool,
    y_pool,
    *,
    budget: int,
    X_eval=None,
    y_eval=None,
    n_queries: int | None = None,
    evaluate: Callable | None = None,
    on_round: Callable | None = None,
    answer: Callable | None = None,
) -> Bunch:
    """Query, label with the ground truth, learn; round after round until a budget.

    This is the user's loop with ``y_pool`` standing in for the person who
    labels: ``idx = est.query(X_pool, y=known); est.partial_fit(X_pool[idx],
    y_pool[idx])``, exactly as a user writes it.

    Parameters
    ----------
    estimator : fitted alad detector
        Its ``query`` and ``partial_fit`` are called; what the rows of a query
        cost of the budget (windows or samples) is its ``_budget_units``.
    X_pool, y_pool : array-like
        The unlabelled pool and its true labels (the oracle).
    budget : int
        Windows (or samples) to label in all.
    X_eval, y_eval : array-like or None
        Evaluation data; when given, metrics are recorded before the first
        round and after each round.
    n_queries : int or None
        Windows per round; default the estimator's own round size.
    evaluate : callable or None
        ``evaluate(y_true, scores) -> dict``; default
        :func:`alad.metrics.detection_report`.
    on_round : callable or None
        Called with each round's record (e.g. to print progress).
    answer : callable or None
        ``answer(labels) -> labels``: what the person tells ``partial_fit``
        about the true ``labels`` of a round's rows, ``nan`` where they say
        nothing (e.g. ``labels`` with the anomalies hidden, to learn from
        normal labels only). The rows count as asked either way; a round
        whose answers are all ``nan`` does not train. Default: the truth.

    The loop stops early when the pool has nothing left to ask, or when the
    estimator's own ``budget`` is spent. A round the estimator rolls back
    (its training diverged; ``feedback_history_``) has taught it nothing, so
    its labelled rows are given again with the next round's, or alone once
    more when no round follows.

    Rounds are learnt one after the other: an exception or Ctrl-C in a
    round leaves the estimator with the rounds before it (each
    ``partial_fit`` completes or changes nothing), and the exception carries
    what was recorded so far as ``partial_result`` (the Bunch below; its
    ``known`` holds the rows of the interrupted round too).

    Returns
    -------
    result : sklearn.utils.Bunch
        ``history``: one dict per evaluation (``round``, ``n_labelled``
        windows or samples asked so far, ``n_anomalous_labelled`` the
        anomalous labels among them in ``y_pool``'s unit (timesteps of a
        series or of windows labelled per timestep; windows labelled one
        label each; samples), ``rolled_back``, ``seconds`` and the
        metrics); ``known``: the true labels of the rows asked, ``nan``
        elsewhere (what ``answer`` told the estimator may hold less).
    """
    evaluate = detection_report if evaluate is None else evaluate
    # checked before the first round, not when a bad row is first asked
    budget = check_count(budget, "budget", minimum=0)
    if not hasattr(X_pool, "iloc"):  # a DataFrame keeps its columns
        X_pool = np.asarray(X_pool)
    y_pool = check_labels(y_pool, name="y_pool")
    if np.ndim(X_pool) == 0 or y_pool.shape[:1] != np.shape(X_pool)[:1]:
        raise ValueError(
            "y_pool must hold the labels of X_pool's rows (or windows): got "
            f"shapes {np.shape(X_pool)} and {y_pool.shape}."
        )
    if (X_eval is None) != (y_eval is None):
        raise ValueError(
            "X_eval and y_eval go together: the metrics need both, got "
            f"{'X_eval' if y_eval is None else 'y_eval'} alone."
        )
    known = np.full(y_pool.shape, np.nan)
    history = []

    def record(round_, n_labelled, seconds, rolled_back=False):
        entry = {
            "round": round_,
            "n_labelled": n_labelled,
            "n_anomalous_labelled": int(np.nansum(known)),
            "rolled_back": rolled_back,
            "seconds": seconds,
        }
        if X_eval is not None:
            entry.update(evaluate(y_eval, estimator.decision_function(X_eval)))
        history.append(entry)
        if on_round is not None:
            on_round(entry)

    def units(idx) -> int:
        # what the rows cost is the detector's to say: windows or samples
        return estimator._budget_units(X_pool, idx)

    def room(pending) -> float:
        """What the estimator's own budget still takes, beyond ``pending``."""
        own = getattr(estimator, "budget", None)
        if own is None:
            return np.inf
        return own - estimator._n_labelled() - units(pending)

    def learn(rows_idx, labels) -> bool:
        """``partial_fit`` on the pool's rows ``rows_idx``; whether the
        estimator rolled the round back."""
        # rows of a DataFrame as of an array (X_pool[idx] picks its columns)
        rows = X_pool.iloc[rows_idx] if hasattr(X_pool, "iloc") else X_pool[rows_idx]
        rounds_before = len(getattr(estimator, "feedback_history_", ()))
        estimator.partial_fit(rows, labels)
        rounds = getattr(estimator, "feedback_history_", ())
        return len(rounds) > rounds_before and bool(rounds[-1].get("rolled_back"))

    def rounds() -> None:
        record(0, 0, 0.0)
        n_labelled, round_ = 0, 0
        # rows of a rolled-back round with their answers, given again next round
        pending = np.empty(0, dtype=np.intp)
        pending_labels = np.empty((0, *y_pool.shape[1:]))
        while n_labelled < budget:
            start = time.perf_counter()
            left = min(budget - n_labelled, room(pending))
            if left <= 0:
                break  # the estimator's own budget is spent
            try:
                idx = estimator.query(X_pool, y=known, n_queries=n_queries)
                if units(idx) > left:  # last round: only what is left
                    idx = estimator.query(X_pool, y=known, n_queries=int(left))
            except PoolExhaustedError:
                break  # every window of the pool is labelled before the budget is spent
            known[idx] = y_pool[idx]
            answers = y_pool[idx] if answer is None else answer(y_pool[idx])
            rows_idx = np.concatenate([pending, idx])
            labels = np.concatenate([pending_labels, np.asarray(answers, np.float64)])
            rolled_back = False
            if not np.isnan(labels).all():
                rolled_back = learn(rows_idx, labels)
                pending = rows_idx if rolled_back else pending[:0]
                pending_labels = labels if rolled_back else pending_labels[:0]
            n_labelled += units(idx)
            round_ += 1
            record(round_, n_labelled, time.perf_counter() - start, rolled_back)
        if pending.size and room(pending) >= 0:
            # no round follows: the rolled-back rows once more, alone
            start = time.perf_counter()
            rolled_back = learn(pending, pending_labels)
            round_ += 1
            record(round_, n_labelled, time.perf_counter() - start, rolled_back)

    try:
        rounds()
    except BaseException as exc:
        # the rounds before this one are learnt (each partial_fit completes
        # or changes nothing): what they recorded goes with the exception
        exc.partial_result = Bunch(history=history, known=known)
        raise
    return Bunch(history=history, known=known)
