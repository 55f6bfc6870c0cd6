"""The simulated labelling loop: budget in the detector's units, the labeller."""

import numpy as np
import pytest

from alad.active import run_active_learning
from alad.base import PoolExhaustedError


class _Asker:
    """Asks for the first unlabelled rows; each row costs ``cost`` units."""

    window_size = 50  # a decoy: the loop asks the detector, not its attributes

    def __init__(self, cost=1):
        self.cost = cost
        self.fits = []

    def query(self, X, y=None, n_queries=None):
        free = np.flatnonzero(np.isnan(y))
        if free.size == 0:
            raise PoolExhaustedError("every row is labelled")
        return free[: (n_queries or 3) * self.cost]

    def partial_fit(self, X, y):
        self.fits.append(np.asarray(y))
        return self

    def _budget_units(self, X, idx):
        return len(idx) // self.cost

    def decision_function(self, X):
        return np.zeros(len(X))


def test_the_budget_is_counted_in_the_detectors_units():
    X, y = np.zeros((20, 2)), np.zeros(20)
    result = run_active_learning(_Asker(), X, y, budget=7)
    assert [h["n_labelled"] for h in result.history] == [0, 3, 6, 7]
    windows = run_active_learning(_Asker(cost=2), X, y, budget=5)
    assert [h["n_labelled"] for h in windows.history] == [0, 3, 5]
    assert int((~np.isnan(windows.known)).sum()) == 10  # 5 units of 2 rows


def test_the_loop_stops_when_the_pool_is_exhausted():
    result = run_active_learning(_Asker(), np.zeros((4, 1)), np.zeros(4), budget=10)
    assert result.history[-1]["n_labelled"] == 4


def test_the_labeller_can_withhold_labels():
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0.0])
    asker = _Asker()

    def hide_anomalies(labels):
        labels = labels.astype(float).copy()
        labels[labels == 1] = np.nan
        return labels

    result = run_active_learning(
        asker, np.zeros((9, 1)), y, budget=9, answer=hide_anomalies
    )
    # round 1 holds anomalies only: nothing to learn, no partial_fit
    assert len(asker.fits) == 2
    np.testing.assert_array_equal(asker.fits[0], [0.0, np.nan, 0.0])
    # the truth is still what was asked and counted
    assert result.history[-1]["n_anomalous_labelled"] == 4
    np.testing.assert_array_equal(result.known, y)


class _Budgeted(_Asker):
    """An asker with a budget of its own that counts the rows it learnt, and
    whose rounds roll back while ``diverge`` says so."""

    def __init__(self, budget=None, diverge=()):
        super().__init__()
        self.budget = budget
        self.learnt = 0
        self.diverge = list(diverge)
        self.feedback_history_ = []

    def _n_labelled(self):
        return self.learnt

    def partial_fit(self, X, y):
        if self.budget is not None and self.learnt + len(y) > self.budget:
            raise ValueError("The labelling budget is spent")
        super().partial_fit(X, y)
        rolled_back = bool(self.diverge and self.diverge.pop(0))
        self.learnt += 0 if rolled_back else len(y)
        self.feedback_history_.append({"rolled_back": rolled_back})
        return self


def test_the_loop_stops_at_the_detectors_own_budget():
    """A detector with budget=4 in a loop of 10 raised 'budget is spent' and
    lost the history of the rounds before."""
    asker = _Budgeted(budget=4)
    result = run_active_learning(asker, np.zeros((20, 1)), np.zeros(20), budget=10)
    assert [h["n_labelled"] for h in result.history] == [0, 3, 4]
    assert asker.learnt == 4


def test_a_rolled_back_rounds_labels_are_given_again():
    """A rolled-back round taught the detector nothing: its rows go with the
    next round's instead of being lost (they are never asked again)."""
    y = np.arange(12) % 2.0
    asker = _Budgeted(diverge=[True, False])
    result = run_active_learning(asker, np.zeros((12, 1)), y, budget=6)
    assert [len(fit) for fit in asker.fits] == [3, 6]
    np.testing.assert_array_equal(asker.fits[1], y[:6])
    assert [h["rolled_back"] for h in result.history] == [False, True, False]
    assert asker.learnt == 6


def test_a_rolled_back_last_rounds_rows_are_given_once_more():
    """No round follows the rolled-back one (the loop's budget, or the
    detector's own, is reached): its rows go alone, once more."""
    y = np.arange(12) % 2.0
    asker = _Budgeted(diverge=[True])
    result = run_active_learning(asker, np.zeros((12, 1)), y, budget=3)
    assert [len(fit) for fit in asker.fits] == [3, 3]
    assert asker.learnt == 3
    assert [h["rolled_back"] for h in result.history] == [False, True, False]
    own = _Budgeted(budget=3, diverge=[True])
    run_active_learning(own, np.zeros((12, 1)), y, budget=10)
    assert own.learnt == 3


def test_labels_per_timestep_of_a_stack_of_windows():
    """y_pool of shape (n_windows, window) for a pool of windows: the loop's
    store of rolled-back labels must take its shape."""
    X, y = np.zeros((20, 4, 2)), np.zeros((20, 4))
    y[5] = 1
    asker = _Budgeted()
    result = run_active_learning(asker, X, y, budget=6)
    assert [h["n_labelled"] for h in result.history] == [0, 3, 6]
    assert asker.fits[0].shape == (3, 4)


def test_an_interrupted_loop_hands_over_what_it_recorded():
    asker = _Asker()

    def stop_at_round_two(entry):
        if entry["round"] == 2:
            raise KeyboardInterrupt

    X, y = np.zeros((20, 2)), np.zeros(20)
    try:
        run_active_learning(asker, X, y, budget=9, on_round=stop_at_round_two)
    except KeyboardInterrupt as exc:
        result = exc.partial_result
    else:  # pragma: no cover - the loop must not swallow the interrupt
        raise AssertionError("KeyboardInterrupt was swallowed")
    assert [h["round"] for h in result.history] == [0, 1, 2]
    assert len(asker.fits) == 2  # the two rounds learnt are those recorded
    assert int((~np.isnan(result.known)).sum()) == 6


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"budget": 2.5}, TypeError, "budget"),
        ({"budget": -3}, ValueError, "budget"),
        ({"budget": None}, TypeError, "budget"),
        ({"y_pool": np.full(20, 2.0)}, ValueError, "y_pool"),
        ({"y_pool": np.zeros(19)}, ValueError, "y_pool"),
        ({"y_pool": None}, ValueError, "y_pool"),
        ({"X_eval": np.zeros((5, 2))}, ValueError, "y_eval"),
        ({"y_eval": np.zeros(5)}, ValueError, "X_eval"),
    ],
)
def test_bad_arguments_are_refused_before_the_first_round(kwargs, error, match):
    """A bad y_pool row is refused up front, not when the loop first asks it."""
    asker = _Asker()
    arguments = {"X_pool": np.zeros((20, 2)), "y_pool": np.zeros(20), "budget": 6}
    with pytest.raises(error, match=match):
        run_active_learning(asker, **{**arguments, **kwargs})
    assert asker.fits == []


def test_a_list_pool_is_taken_as_an_array():
    result = run_active_learning(_Asker(), [[0.0, 1.0]] * 10, [0] * 10, budget=6)
    assert [h["n_labelled"] for h in result.history] == [0, 3, 6]
