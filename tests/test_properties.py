"""Property-based tests: random shapes and values at every public method.

Whatever hypothesis throws at a detector, each call either succeeds with
finite float64 outputs of the right shape, or raises ValueError or TypeError
(sklearn's NotFittedError included). Any other exception (IndexError, a torch
RuntimeError, ZeroDivisionError, AssertionError, ...) fails the test. Warnings
are not failures here: a feedback round that diverges is rolled back with a
warning by design.
"""

import collections
import copy
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone

from alad import ActiveReconstructionDetector, NAFALDetector

W = 2  # window_size of the time-series detector
C = 3  # channels (features) seen in fit

DETECTORS = {
    "ard": ActiveReconstructionDetector(
        window_size=W,
        max_epochs=1,
        patience=None,
        validation_fraction=0.0,
        backbone_params={
            "d_model": 8,
            "n_heads": 2,
            "n_layers": 1,
            "d_ff": 8,
            "dropout": 0.0,
        },
        top_k=1,
        n_bins=2,
        per_bin=1,
        feedback_epochs=1,
        batch_size=64,
        random_state=0,
    ),
    "nafal": NAFALDetector(
        n_transforms=2,
        transform_dim=2,
        flow_transforms=1,
        flow_hidden_features=8,
        flow_signal=4,
        context_features=2,
        max_epochs=1,
        augment_epochs=1,
        n_iterations=0,
        n_samples=8,
        train_views=None,
        batch_size=64,
        feedback_epochs=1,
        random_state=0,
    ),
}
KINDS = list(DETECTORS)
ALLOWED = (ValueError, TypeError)  # NotFittedError is a ValueError

SPECIAL = [np.nan, np.inf, -np.inf, 1e300, -1e300, 1e20, 1e-300, -0.0, 5e-324]


def common_settings(max_examples):
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


# -- strategies ----------------------------------------------------------------
random_shapes = st.integers(0, 4).flatmap(
    lambda ndim: st.tuples(*[st.sampled_from([0, 1, 2, 3, 4, 7])] * ndim)
)
rows = st.one_of(st.integers(1, 6).map(lambda k: k * W), st.integers(1, 12))
VALID_SHAPES = {  # what each fitted detector accepts, for most values
    "ard": st.one_of(
        st.tuples(rows, st.just(C)),
        st.tuples(st.integers(1, 6), st.just(W), st.just(C)),
    ),
    "nafal": st.tuples(rows, st.just(C)),
}
near_shapes = st.one_of(  # nearly valid: no rows, other channel counts or lengths
    st.tuples(st.integers(0, 12), st.sampled_from([0, 1, C, 4])),
    st.tuples(st.integers(0, 6), st.sampled_from([0, 1, W, 3]), st.integers(0, 4)),
)


@st.composite
def inputs(draw, kind, valid=False):
    """Arrays (or lists) of random shape, dtype and values.

    About half are of a shape the fitted ``kind`` of detector accepts, so
    that both accepted and refused calls are exercised; ``valid=True`` draws
    only finite numbers of such a shape.
    """
    choice = draw(st.integers(0, 9))
    if valid or choice < 6:
        shape = draw(VALID_SHAPES[kind])
    elif choice < 8:
        shape = draw(near_shapes)
    else:
        shape = draw(random_shapes)
    values = draw(
        st.sampled_from(
            ["finite"] * 3
            + ["list", "float32", "small-int", "bool", "int"]
            + ["special", "scaled", "scaled"]
            + ["strings", "numeric-strings", "scalar"]
            if not valid
            else ["finite", "list", "small-int"]
        )
    )
    finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
    if values in ("finite", "list"):
        X = draw(hnp.arrays(np.float64, shape, elements=finite))
        return X.tolist() if values == "list" else X
    if values == "special":
        special = st.one_of(finite, st.sampled_from(SPECIAL))
        return draw(hnp.arrays(np.float64, shape, elements=special))
    if values == "scaled":  # huge or tiny but finite values
        X = draw(hnp.arrays(np.float64, shape, elements=finite))
        near_float32_limits = st.sampled_from([-320, -45, 16, 19, 20, 38, 39, 307])
        return X * 10.0 ** draw(st.one_of(st.integers(-300, 300), near_float32_limits))
    if values == "small-int":
        return draw(hnp.arrays(np.int8, shape, elements=st.integers(-5, 5)))
    if values == "int":  # any value, up to +-9.2e18
        return draw(hnp.arrays(st.sampled_from([np.int64, np.uint16]), shape))
    if values == "bool":
        return draw(hnp.arrays(np.bool_, shape))
    if values == "float32":
        return draw(hnp.arrays(np.float32, shape, elements=st.floats(-5, 5, width=32)))
    if values == "strings":
        return draw(hnp.arrays(object, shape, elements=st.text(max_size=3)))
    if values == "numeric-strings":
        elements = st.sampled_from(["0", "1.5", "-2", "nan", "inf", "1e400", " 3 "])
        return draw(hnp.arrays(object, shape, elements=elements))
    return draw(st.one_of(finite, st.integers(-3, 3), st.none(), st.text(max_size=2)))


def n_rows(X):
    try:
        return len(X)
    except TypeError:
        return 1


@st.composite
def labels_for(draw, X, valid=False):
    """None, valid labels of the right length, or labels that are wrong somehow."""
    n = n_rows(X)
    kinds = ["none"] * 2 + ["valid"] * 5
    kinds += ["bad-values", "length", "strings", "per-timestep", "scalar"]
    kind = "valid" if valid else draw(st.sampled_from(kinds))
    labels = st.sampled_from([0.0, 1.0, np.nan])
    if kind == "none":
        return None
    if valid == "pool":  # mostly unlabelled, as a pool to query from
        y = np.full(n, np.nan)
        known = draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n // 2))
        y[known] = draw(st.sampled_from([0.0, 1.0]))
        return None if draw(st.booleans()) else y
    if kind == "valid":  # with at least one known label (a fit can learn from)
        y = draw(hnp.arrays(np.float64, n, elements=labels))
        if n:
            y[draw(st.integers(0, n - 1))] = draw(st.sampled_from([0.0, 1.0]))
        return y
    if kind == "bad-values":
        bad = st.one_of(labels, st.sampled_from([2.0, -1.0, 0.5, np.inf, 1e300]))
        return draw(hnp.arrays(np.float64, n, elements=bad))
    if kind == "length":
        return draw(hnp.arrays(np.float64, draw(st.integers(0, 20)), elements=labels))
    if kind == "strings":
        elements = st.sampled_from(["0", "1", "nan", "normal", "anomaly", ""])
        return draw(hnp.arrays(object, n, elements=elements)).tolist()
    if kind == "per-timestep":
        shape = (n, draw(st.sampled_from([1, W])))
        return draw(hnp.arrays(np.float64, shape, elements=labels))
    return draw(st.one_of(labels, st.none(), st.text(max_size=1)))


valid_n_queries = st.one_of(st.none(), st.integers(1, 30), st.integers(10**6, 10**20))
bad_n_queries = st.one_of(
    st.integers(-3, 0), st.floats(-2, 5), st.sampled_from(["2", [1], 2.0])
)


# -- fixtures and checks -----------------------------------------------------------
@pytest.fixture(scope="module")
def reference():
    return np.random.default_rng(3).normal(size=(4 * W, C))


@pytest.fixture(scope="module")
def fitted():
    X = np.random.default_rng(0).normal(size=(32, C))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {kind: clone(det).fit(X) for kind, det in DETECTORS.items()}


#: accepted calls of each method and detector kind tried in this module
ACCEPTED: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def every_method_accepts_some_input():
    """A property holds vacuously if every drawn input is refused: each method
    tried here must have accepted at least one (the draws are derandomised)."""
    yield
    never = sorted(name for name, n in ACCEPTED.items() if n == 0)
    assert not never, f"refused every input drawn: {never}"


def attempt(call, name, kind):
    """``(result, True)``, or ``(None, False)`` when ``call()`` raised an allowed error.

    Each outcome is counted (``pytest --hypothesis-show-statistics``), to see
    that both accepted and refused input occur; accepted calls also in
    :data:`ACCEPTED`.
    """
    key = f"{kind}.{name}"
    ACCEPTED[key] += 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call()
    except ALLOWED as exc:
        event(f"{name}: {type(exc).__name__} {str(exc)[:60]}")
        return None, False
    event(f"{name}: accepted")
    ACCEPTED[key] += 1
    return result, True


def n_scores(kind, X):
    """Scores expected for valid X: one per row, window, sample or series."""
    return len(np.asarray(X))


def check_scores(scores, n):
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64
    assert scores.shape == (n,)
    assert np.isfinite(scores).all()


def check_fitted_state(det):
    check_scores(det.decision_scores_, len(det.decision_scores_))
    assert np.isfinite(det.threshold_)
    assert set(np.unique(det.labels_)) <= {0, 1}


# -- scoring methods ---------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@common_settings(max_examples=50)
@given(data=st.data(), return_confidence=st.booleans())
def test_decision_function_and_predict(fitted, kind, data, return_confidence):
    det = fitted[kind]
    X = data.draw(inputs(kind), label="X")
    scores, ok = attempt(lambda: det.decision_function(X), "decision_function", kind)
    if ok:
        check_scores(scores, n_scores(kind, X))
    out, ok_predict = attempt(
        lambda: det.predict(X, return_confidence), "predict", kind
    )
    # predict accepts what decision_function does, in the layout of the fit
    # (a series or a stack of windows: threshold_ is in that one's unit)
    other_layout = kind == "ard" and ok and np.ndim(X) != det._train_data.ndim
    assert ok_predict == (ok and not other_layout)
    if ok_predict:
        labels, confidence = out if return_confidence else (out, None)
        assert labels.dtype == np.int64 and labels.shape == scores.shape
        np.testing.assert_array_equal(labels, (scores > det.threshold_).astype(int))
        if return_confidence:
            check_scores(confidence, len(scores))


@pytest.mark.parametrize("kind", KINDS)
@common_settings(max_examples=30)
@given(data=st.data(), method=st.sampled_from(["linear", "unify"] * 3 + ["?", None]))
def test_predict_proba_and_confidence(fitted, kind, data, method):
    det = fitted[kind]
    X = data.draw(inputs(kind), label="X")
    proba, ok = attempt(
        lambda: det.predict_proba(X, method=method), "predict_proba", kind
    )
    if ok:
        n = n_scores(kind, X)
        assert proba.dtype == np.float64 and proba.shape == (n, 2)
        assert np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    confidence, ok = attempt(
        lambda: det.predict_confidence(X), "predict_confidence", kind
    )
    if ok:
        check_scores(confidence, n_scores(kind, X))
        assert ((confidence >= 0) & (confidence <= 1)).all()


# -- active learning ---------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@common_settings(max_examples=50)
@given(data=st.data())
def test_query(fitted, kind, data):
    det = fitted[kind]
    valid = data.draw(st.booleans(), label="valid X, y and n_queries")
    X = data.draw(inputs(kind, valid), label="X")
    y = data.draw(labels_for(X, "pool" if valid else False), label="y")
    n_queries = data.draw(
        valid_n_queries if valid else st.one_of(valid_n_queries, bad_n_queries),
        label="n_queries",
    )
    idx, ok = attempt(lambda: det.query(X, y, n_queries=n_queries), "query", kind)
    if not ok:
        return
    n = len(np.asarray(X))
    assert isinstance(idx, np.ndarray) and idx.dtype == np.int64 and idx.ndim == 1
    assert len(np.unique(idx)) == len(idx)
    assert ((idx >= 0) & (idx < n)).all()
    if kind == "ard" and np.ndim(X) == 2:
        assert len(idx) % W == 0  # whole windows


@pytest.mark.parametrize("kind", KINDS)
@common_settings(max_examples=25)
@given(
    data=st.data(),
    budget=st.one_of(st.none(), st.integers(1, 3), st.integers(4, 40)),
)
def test_partial_fit(fitted, reference, kind, data, budget):
    det = copy.deepcopy(fitted[kind]).set_params(budget=budget)
    before = det.decision_function(reference)
    valid = data.draw(st.booleans(), label="valid X and y")
    X = data.draw(inputs(kind, valid), label="X")
    y = data.draw(labels_for(X, valid), label="y")
    out, ok = attempt(lambda: det.partial_fit(X, y), "partial_fit", kind)
    if ok:
        assert out is det
        check_fitted_state(det)
        assert np.isfinite(det.decision_function(reference)).all()
    else:  # refused: nothing changed
        np.testing.assert_array_equal(det.decision_function(reference), before)
        assert det.feedback_history_ == []


@common_settings(max_examples=6)
@given(
    n_iterations=st.one_of(st.none(), st.integers(-2, 2), st.sampled_from([1.5, "1"]))
)
def test_nafal_augment(fitted, reference, n_iterations):
    det = copy.deepcopy(fitted["nafal"])
    out, ok = attempt(lambda: det.augment(n_iterations), "augment", "nafal")
    if ok:
        assert out is det
        check_fitted_state(det)
        assert np.isfinite(det.decision_function(reference)).all()


# -- fit -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@common_settings(max_examples=12)
@given(data=st.data(), fit_predict=st.booleans())
def test_fit(kind, data, fit_predict):
    det = clone(DETECTORS[kind])
    X = data.draw(inputs(kind), label="X")
    kwargs = {}
    if kind == "ard" and data.draw(st.booleans(), label="with known_anomalies"):
        flags = st.one_of(
            hnp.arrays(np.bool_, n_rows(X)),
            hnp.arrays(np.bool_, st.integers(0, 12)),
            hnp.arrays(np.float64, n_rows(X)),
        )
        kwargs["known_anomalies"] = data.draw(flags, label="known_anomalies")
    if fit_predict and not kwargs:
        labels, ok = attempt(lambda: det.fit_predict(X), "fit_predict", kind)
        if ok:
            np.testing.assert_array_equal(labels, det.labels_)
    else:
        _, ok = attempt(lambda: det.fit(X, **kwargs), "fit", kind)
    if ok:
        check_fitted_state(det)
        assert len(det.decision_scores_) == n_scores(kind, X)
        check_scores(det.decision_function(X), n_scores(kind, X))
