"""Bad input to every public method of every detector: refused, clearly, harmlessly.

Each case is answered with a ValueError or TypeError whose message names the
argument (sklearn's NotFittedError subclasses ValueError), and a refused
``partial_fit`` leaves the model exactly as it was.
"""

import copy

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from alad import ActiveReconstructionDetector, NAFALDetector, PoolExhaustedError

W = 4  # window_size of the time-series detector
C = 3  # channels (features) seen in fit
N = 4 * W  # rows of a good input: whole windows for the time-series detector

TINY_TRANSFORMER = {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 8, "dropout": 0}
FAST = {
    "ard": dict(
        feedback_min_anomalous=0,  # the backbone learns from the first label
        window_size=W,
        max_epochs=1,
        patience=None,
        validation_fraction=0.0,
        backbone_params=TINY_TRANSFORMER,
        top_k=1,
        n_bins=1,
        per_bin=1,
        feedback_epochs=1,
        random_state=0,
    ),
    "nafal": dict(
        n_transforms=2,
        transform_dim=2,
        flow_transforms=1,
        flow_hidden_features=8,
        flow_signal=4,
        context_features=2,
        max_epochs=1,
        augment_epochs=1,
        n_iterations=0,
        train_views=None,
        batch_size=32,
        feedback_epochs=1,
        random_state=0,
    ),
}
MAKERS = {"ard": ActiveReconstructionDetector, "nafal": NAFALDetector}
KINDS = list(MAKERS)
METHODS = [
    "fit",
    "decision_function",
    "predict",
    "predict_proba",
    "predict_confidence",
    "query",
    "partial_fit",
]
FITTED_METHODS = METHODS[1:]


def make(kind, **params):
    return MAKERS[kind](**{**FAST[kind], **params})


@pytest.fixture(scope="module")
def good():
    """A good input for every method of both detectors: N rows, C channels."""
    return np.random.default_rng(1).normal(size=(N, C))


@pytest.fixture(scope="module")
def fitted():
    X = np.random.default_rng(0).normal(size=(64, C))
    return {kind: make(kind).fit(X) for kind in KINDS}


@pytest.fixture(scope="module")
def spent(fitted, good):
    """Detectors whose budget of one window (sample) is spent."""
    out = {}
    for kind, det in fitted.items():
        det = copy.deepcopy(det).set_params(budget=1)
        rows = W if kind == "ard" else 1
        det.partial_fit(good[:rows], np.zeros(rows))
        out[kind] = det
    return out


def n_rows(X):
    try:
        return len(X)
    except TypeError:  # a 0-D array or a scalar
        return 1


def call(det, method, X, y=None, **kwargs):
    """Call ``method`` the way a user would; never alters the shared fixtures."""
    if method == "fit":
        return clone(det).fit(X)
    if method == "partial_fit":
        y = np.zeros(n_rows(X)) if y is None else y
        return copy.deepcopy(det).partial_fit(X, y)
    if method == "query":
        return det.query(X, y, **kwargs)
    return getattr(det, method)(X)


# -- X: values -----------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "value, match",
    [
        (np.nan, "X contains NaN"),
        (np.inf, "X contains inf"),
        (-np.inf, "X contains inf"),
    ],
    ids=["nan", "+inf", "-inf"],
)
def test_non_finite_X_is_refused(fitted, good, kind, method, value, match):
    X = good.copy()
    X[3, 1] = value
    with pytest.raises(ValueError, match=match):
        call(fitted[kind], method, X)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_windows_are_refused(good, method, value):
    X = good.reshape(-1, W, C).copy()
    on_windows = make("ard").fit(X)  # predictions read the fit's layout
    X[1, 2, 0] = value
    with pytest.raises(ValueError, match="X contains"):
        call(on_windows, method, X)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "X, error, match",
    [
        (
            np.array([["a", "b", "c"]] * N, dtype=object),
            TypeError,
            "X must hold numbers",
        ),
        (np.ones((N, C), dtype=complex), ValueError, "X must hold real numbers"),
        ([[1.0, 2.0, 3.0], [1.0, 2.0]] * (N // 2), ValueError, "X must be an array"),
    ],
    ids=["strings", "complex", "ragged"],
)
def test_non_numeric_X_is_refused(fitted, kind, method, X, error, match):
    with pytest.raises(error, match=match):
        call(fitted[kind], method, X)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
def test_masked_values_are_refused_not_scored_as_their_fill(good, fitted, kind, method):
    # np.asarray drops a mask and keeps the hidden value (a fill code)
    X = np.ma.masked_array(good.copy(), mask=np.zeros(good.shape, bool))
    X.data[2, 0], X.mask[2, 0] = -9999.0, True
    with pytest.raises(ValueError, match="X contains masked values"):
        call(fitted[kind], method, X)
    unmasked = np.ma.masked_array(good, mask=False)  # a mask hiding nothing
    if method == "decision_function":
        np.testing.assert_array_equal(
            fitted[kind].decision_function(unmasked),
            fitted[kind].decision_function(good),
        )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", FITTED_METHODS)
@pytest.mark.parametrize("scale", [1e20, 1e300])
def test_values_beyond_float32_after_standardising_are_refused(
    fitted, good, kind, method, scale
):
    with pytest.raises(ValueError, match="X holds values too far from the training"):
        call(fitted[kind], method, good * scale)


@pytest.mark.parametrize("kind", KINDS)
def test_fit_refuses_values_whose_variance_overflows(good, kind):
    with pytest.raises(ValueError, match="X holds values too large to standardise"):
        make(kind).fit(good * 1e300)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("level", [0.0, 0.1, 123456.789, 1e8 + 0.3])
def test_a_constant_channel_keeps_a_scale_of_1_at_any_level(good, kind, level):
    """Far from zero, the rounding error of a constant channel's mean is its
    standard deviation (1e-11 at 1e5): the channel must still be scaled by 1,
    so that a later step on it scores as the anomaly it is instead of being
    refused as beyond float32 after dividing by that rounding error."""
    X = good.copy()
    X[:, 1] = level
    det = make(kind).fit(X)
    assert det.scaler_scale_[1] == 1.0
    X[W : 2 * W, 1] += 1e5
    scores = det.decision_function(X)
    assert np.isfinite(scores).all()
    assert scores[W : 2 * W].min() > np.delete(scores, np.s_[W : 2 * W]).max()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("level", [1e20, 1e30])
def test_a_constant_channel_at_a_huge_level_standardises_to_zero(good, kind, level):
    """The float64 mean of a constant channel at 1e20 is off by millions:
    taken as its mean, the channel would be a huge constant input (or, at
    1e30, refused as beyond float32); its value is its mean."""
    X = good.copy()
    X[:, 2] = level
    det = make(kind).fit(X)
    assert det.scaler_mean_[2] == level and det.scaler_scale_[2] == 1.0
    assert np.isfinite(det.decision_function(X)).all()


def test_fit_without_standardising_refuses_values_beyond_float32(good):
    with pytest.raises(ValueError, match="X holds values too far"):
        make("ard", standardize=False).fit(good * 1e20)


# -- X: shape ------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "X",
    # None and a string are no series either: not "contains NaN" (pandas
    # reads None as missing) nor "must hold numbers"
    [np.zeros(N), np.zeros((2, W, C, 1)), np.float64(1.0), None, "abc"],
    ids=["1-D", "4-D", "0-D", "None", "str"],
)
def test_wrong_number_of_dimensions_is_refused(fitted, kind, method, X):
    with pytest.raises(ValueError, match=rf"X must be .*got {np.ndim(X)} dimension"):
        call(fitted[kind], method, X)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", FITTED_METHODS)
@pytest.mark.parametrize("n_channels", [C - 1, C + 1])
def test_another_channel_count_than_in_fit_is_refused(fitted, kind, method, n_channels):
    X = np.zeros((N, n_channels))
    with pytest.raises(ValueError, match=f"X has {n_channels} features"):
        call(fitted[kind], method, X)


@pytest.mark.parametrize("method", FITTED_METHODS)
def test_windows_with_another_channel_count_are_refused(fitted, method):
    with pytest.raises(ValueError, match="X has 2 channels"):
        call(fitted["ard"], method, np.zeros((4, W, 2)))


@pytest.mark.parametrize("method", FITTED_METHODS)
def test_series_after_2d_fit_is_refused_by_nafal(fitted, method):
    with pytest.raises(ValueError, match="X has samples of shape"):
        call(fitted["nafal"], method, np.zeros((4, W, C)))


@pytest.mark.parametrize("kind", KINDS)
def test_a_refit_on_3d_arrays_forgets_the_column_names_of_a_frame(good, kind):
    """3-D arrays have no column names: those of an earlier fit on a DataFrame
    must not outlive a refit on them (and refuse a later frame's names)."""
    det = make(kind).fit(good)
    det.feature_names_in_ = np.array(["a", "b", "c"], dtype=object)  # a frame's
    det.fit(good.reshape(-1, W, C))
    assert not hasattr(det, "feature_names_in_")
    assert det.n_features_in_ == C


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((W - 1, C)), "fewer than window_size=4"),
        (np.zeros((1, C)), "fewer than window_size=4"),
        (np.zeros((3, W - 1, C)), "window_size=4"),
        (np.zeros((3, W + 1, C)), "window_size=4"),
    ],
    ids=["series-of-W-1", "series-of-1", "short-windows", "long-windows"],
)
def test_series_shorter_than_a_window_is_refused(fitted, method, X, match):
    with pytest.raises(ValueError, match=match):
        call(fitted["ard"], method, X)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "shape",
    [(0, C), (N, 0), (0, W, C), (2, W, 0)],
    ids=["no-rows", "no-channels", "no-windows", "windows-without-channels"],
)
def test_empty_X_is_refused(fitted, kind, method, shape):
    with pytest.raises(ValueError, match="X must not be empty"):
        call(fitted[kind], method, np.zeros(shape))


@pytest.mark.parametrize("X", [np.zeros((0, C)), []], ids=["array", "list"])
@pytest.mark.parametrize("kind", KINDS)
def test_empty_pool_is_refused_by_query(fitted, kind, X):
    with pytest.raises(ValueError, match="X must not be empty"):
        fitted[kind].query(X)


# -- y -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("labels", ["zeros", "mixed"])
def test_fully_labelled_pool_is_refused_by_query(fitted, good, kind, labels):
    y = np.zeros(N) if labels == "zeros" else np.arange(N) % 2
    with pytest.raises(PoolExhaustedError, match="y has no nan"):
        fitted[kind].query(good, y)


def test_fully_labelled_windows_are_refused_by_query(fitted, good):
    windows = good.reshape(-1, W, C)
    with pytest.raises(PoolExhaustedError, match="y has no nan"):
        fitted["ard"].query(windows, np.ones(len(windows)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["query", "partial_fit"])
@pytest.mark.parametrize(
    "bad, error, match",
    [
        (2, ValueError, r"y must contain only 0 \(normal\), 1 \(anomaly\)"),
        (-1, ValueError, r"y must contain only 0 \(normal\), 1 \(anomaly\)"),
        (0.5, ValueError, r"y must contain only 0 \(normal\), 1 \(anomaly\)"),
        (np.inf, ValueError, r"y must contain only 0 \(normal\), 1 \(anomaly\)"),
        ("anomaly", TypeError, "y must hold numbers"),
        # a number as text was read as the number: refused alike
        ("1", TypeError, "y must hold numbers.*got strings"),
    ],
    ids=["2", "-1", "0.5", "inf", "string", "numeric string"],
)
def test_labels_outside_0_1_nan_are_refused(
    fitted, good, kind, method, bad, error, match
):
    y = np.full(N, np.nan, dtype=object if isinstance(bad, str) else float)
    y[: W + 1] = 0
    y[1] = bad
    with pytest.raises(error, match=match):
        call(fitted[kind], method, good, y)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["query", "partial_fit"])
@pytest.mark.parametrize(
    "shape", [(N - 1,), (N + W,), (1,), (N, 1)], ids=["N-1", "N+W", "1", "column"]
)
def test_y_of_another_length_than_X_is_refused(fitted, good, kind, method, shape):
    y = np.zeros(shape)
    with pytest.raises(ValueError, match=r"y must have one (entry|label) per"):
        call(fitted[kind], method, good, y)


@pytest.mark.parametrize("method", ["query", "partial_fit"])
def test_window_labels_of_another_shape_are_refused(fitted, good, method):
    windows = good.reshape(-1, W, C)
    with pytest.raises(ValueError, match=r"y must have shape \(4,\) or \(4, 4\)"):
        call(fitted["ard"], method, windows, np.zeros((len(windows), W + 1)))


def test_known_anomalies_of_another_length_are_refused(good):
    with pytest.raises(ValueError, match="known_anomalies must have one entry"):
        make("ard").fit(good, known_anomalies=np.zeros(N - 1, dtype=bool))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layout", ["2-D", "3-D"])
def test_partial_fit_without_any_label_is_refused(fitted, good, kind, layout):
    X = good if layout == "2-D" or kind == "nafal" else good.reshape(-1, W, C)
    with pytest.raises(ValueError, match=r"y holds no label \(all nan\)"):
        call(fitted[kind], "partial_fit", X, np.full(len(X), np.nan))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layout", ["2-D", "3-D"])
def test_partial_fit_without_y_is_refused(fitted, good, kind, layout):
    X = good if layout == "2-D" or kind == "nafal" else good.reshape(-1, W, C)
    with pytest.raises(ValueError, match="y is required"):
        copy.deepcopy(fitted[kind]).partial_fit(X, None)


def test_a_backbone_without_parameters_is_refused(good):
    class Identity(torch.nn.Module):
        def __init__(self, n_channels, window_size):
            super().__init__()

        def forward(self, x):
            return x * 1.0

    with pytest.raises(ValueError, match="backbone Identity has no parameters"):
        make("ard", backbone=Identity, backbone_params=None).fit(good)


@pytest.mark.parametrize("returns", ["tuple", "numpy"])
def test_a_backbone_that_does_not_return_one_tensor_is_refused(good, returns):
    class VAELike(torch.nn.Module):
        def __init__(self, n_channels, window_size):
            super().__init__()
            self.linear = torch.nn.Linear(n_channels, n_channels)

        def forward(self, x):
            out = self.linear(x)
            if returns == "tuple":
                return out, x.mean()
            return out.detach().numpy()

    name = "tuple" if returns == "tuple" else "ndarray"
    with pytest.raises(ValueError, match=f"one tensor .* it returned {name}"):
        make("ard", backbone=VAELike, backbone_params=None).fit(good)


@pytest.mark.parametrize(
    "backbone, params, match",
    [
        ("transformer", {"n_heads": 0}, "do not fit TransformerBackbone"),
        ("transformer", {"d_model": 0}, "do not fit TransformerBackbone"),
        ("transformer", {"d_model": -8}, "do not fit TransformerBackbone"),
        ("transformer", {"d_ff": 0}, "TransformerBackbone layers without weights"),
        ("usad", {"latent_size": 0}, "USADBackbone layers without weights"),
    ],
)
def test_backbone_sizes_that_build_no_model_are_refused_by_name(
    good, backbone, params, match
):
    det = make("ard", backbone=backbone, backbone_params=params)
    with pytest.raises(ValueError, match=f"backbone_params .*{match}"):
        det.fit(good)


def test_automatic_window_of_one_timestep_windows_is_refused(good):
    with pytest.raises(ValueError, match="windows hold 1 timestep"):
        make("ard", window_size="auto").fit(good.reshape(-1, 1, C))


def test_partial_fit_refuses_rows_that_are_not_whole_windows(fitted, good):
    with pytest.raises(ValueError, match="not a multiple of window_size=4"):
        call(fitted["ard"], "partial_fit", good[: W + 1], np.zeros(W + 1))


# -- state: fitted, budget ---------------------------------------------------------
@pytest.mark.parametrize(
    "kind, method",
    [(kind, method) for kind in KINDS for method in FITTED_METHODS]
    + [("nafal", "augment")],
)
def test_methods_before_fit_raise_not_fitted(good, kind, method):
    assert issubclass(NotFittedError, ValueError)
    det = make(kind)
    args = {"partial_fit": (good, np.zeros(N)), "augment": ()}.get(method, (good,))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(det, method)(*args)


@pytest.mark.parametrize("kind", KINDS)
def test_query_after_the_budget_is_spent_is_refused(spent, good, kind):
    with pytest.raises(ValueError, match="The labelling budget of 1 .* is spent"):
        spent[kind].query(good)


@pytest.mark.parametrize("kind", KINDS)
def test_partial_fit_after_the_budget_is_spent_is_refused(spent, good, kind):
    # rows not labelled before (the spent ones, labelled again, cost nothing)
    with pytest.raises(ValueError, match=r"remaining budget of 0 .*\(budget=1\)"):
        call(spent[kind], "partial_fit", good[W : 2 * W], np.zeros(W))


@pytest.mark.parametrize("kind", KINDS)
def test_partial_fit_beyond_the_remaining_budget_is_refused(fitted, good, kind):
    det = copy.deepcopy(fitted[kind]).set_params(budget=2)
    with pytest.raises(ValueError, match=r"remaining budget of 2 .*\(budget=2\)"):
        det.partial_fit(good, np.zeros(N))  # 4 windows (ard), 16 samples (nafal)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "n_queries",
    [0, -1, 1.5, 2.0, "3", [2]],
    ids=["0", "-1", "1.5", "2.0", "'3'", "[2]"],
)
def test_query_refuses_n_queries_that_are_not_positive_integers(
    fitted, good, kind, n_queries
):
    with pytest.raises(ValueError, match="n_queries must be a positive integer"):
        fitted[kind].query(good, n_queries=n_queries)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("count", [3, 1, np.int64(2)], ids=["3", "1", "int64"])
def test_a_count_given_for_the_pools_labels_is_named(fitted, good, kind, count):
    """``query(X, 3)``: the second argument is the pool's labels; a number
    there was read as one label ('y must contain only 0, 1 or nan; got
    [3.0]')."""
    with pytest.raises(TypeError, match=r"pass it by name: query\(X, n_queries="):
        fitted[kind].query(good, count)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "params",
    [{"batch_size": True}, {"max_epochs": np.True_}, {"eval_batch_size": True}],
    ids=["batch_size", "max_epochs", "eval_batch_size"],
)
def test_bools_for_integer_parameters_are_refused_by_name(good, kind, params):
    """``True`` is an ``int`` to Python; as a count it is a mistake, which
    failed deep inside torch with a message naming no parameter."""
    name = next(iter(params))
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        make(kind, **params).fit(good)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("unit", [1e-13, 1e-20])
def test_data_in_tiny_units_scores_as_in_units_of_one(good, kind, unit):
    """A channel's deviation counts against its level, not in absolute units:
    data measured in units of 1e-13 were taken as constant (every score
    equal)."""
    X = np.random.default_rng(0).normal(size=(64, C))
    test = good.copy()
    test[W : 2 * W] += 4
    ones = make(kind).fit(X)
    tiny = make(kind).fit(X * unit)
    np.testing.assert_allclose(tiny.scaler_scale_, ones.scaler_scale_ * unit)
    np.testing.assert_allclose(
        tiny.decision_function(test * unit),
        ones.decision_function(test),
        rtol=1e-4,
        atol=1e-6,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_predict_proba_refuses_an_unknown_method(fitted, good, kind):
    with pytest.raises(ValueError, match="method must be 'linear' or 'unify'"):
        fitted[kind].predict_proba(good, method="softmax")


# -- a refused partial_fit changes nothing ---------------------------------------
def _state(det, reference):
    counters = ("n_feedback_rounds_", "n_labelled_windows_", "n_labelled_")
    return {
        "weights": {
            k: v.detach().clone() for k, v in det.net_.module_.state_dict().items()
        },
        "scores": det.decision_function(reference),
        "decision_scores_": det.decision_scores_.copy(),
        "threshold_": det.threshold_,
        "counters": {c: getattr(det, c) for c in counters if hasattr(det, c)},
        "n_history": len(det.feedback_history_),
        "data": {
            name: getattr(det, name).shape
            for name in ("_labelled_windows", "_train_x", "_anomaly_x")
            if hasattr(det, name)
        },
    }


def _bad_partial_fits(kind):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(N, C))
    zeros = np.zeros(N)
    nan_X, inf_X = X.copy(), X.copy()
    nan_X[0, 0], inf_X[-1, -1] = np.nan, -np.inf
    cases = {
        "nan-X": (nan_X, zeros),
        "inf-X": (inf_X, zeros),
        "huge-X": (X * 1e300, zeros),
        "1-D-X": (X[:, 0], zeros),
        "4-D-X": (X.reshape(1, -1, W, C), zeros),
        "other-channels": (X[:, :2], zeros),
        "empty-X": (X[:0], zeros[:0]),
        "string-X": (X.astype(str).astype(object) + "x", zeros),
        "label-2": (X, np.r_[2.0, zeros[1:]]),
        "label-0.5": (X, np.r_[0.5, zeros[1:]]),
        "label-string": (X, ["normal"] * N),
        "y-too-short": (X, zeros[:-1]),
        "all-nan-y": (X, np.full(N, np.nan)),
        "over-budget": (X, zeros),  # run with budget=1
    }
    if kind == "ard":
        cases["shorter-than-window"] = (X[: W - 1], zeros[: W - 1])
        cases["not-whole-windows"] = (X[: W + 1], zeros[: W + 1])
        cases["window-labels"] = (X.reshape(-1, W, C), np.zeros((N // W, W + 1)))
    return cases


@pytest.mark.parametrize(
    "kind, case",
    [(kind, case) for kind in KINDS for case in _bad_partial_fits(kind)],
)
def test_refused_partial_fit_leaves_the_model_unchanged(fitted, good, kind, case):
    """Nothing is lost and no model is left half-updated or full of NaN."""
    det = copy.deepcopy(fitted[kind])
    if case == "over-budget":
        det.set_params(budget=1)
    before = _state(det, good)
    X, y = _bad_partial_fits(kind)[case]
    with pytest.raises((ValueError, TypeError)):
        det.partial_fit(X, y)
    after = _state(det, good)
    for key, value in before["weights"].items():
        torch.testing.assert_close(after["weights"][key], value, rtol=0, atol=0)
    np.testing.assert_array_equal(after["scores"], before["scores"])
    np.testing.assert_array_equal(after["decision_scores_"], before["decision_scores_"])
    assert np.isfinite(after["scores"]).all()
    for key in ("threshold_", "counters", "n_history", "data"):
        assert after[key] == before[key], key


@pytest.mark.parametrize("kind", KINDS)
def test_detector_still_learns_after_refused_partial_fits(fitted, good, kind):
    det = copy.deepcopy(fitted[kind])
    for case, (X, y) in _bad_partial_fits(kind).items():
        det.set_params(budget=1 if case == "over-budget" else None)
        with pytest.raises((ValueError, TypeError)):
            det.partial_fit(X, y)
    det.set_params(budget=None)
    before = det.decision_function(good)
    rows = W if kind == "ard" else 1
    det.partial_fit(good[:rows], np.zeros(rows))
    assert len(det.feedback_history_) == 1
    after = det.decision_function(good)
    assert np.isfinite(after).all() and not np.array_equal(after, before)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_confidence"])
def test_predictions_are_refused_in_the_other_layout(good, method):
    """threshold_ is a quantile of the fit's scores: a series' per-timestep
    scores or a stack's per-window scores, two scales."""
    on_series = make("ard").fit(good)
    on_windows = make("ard").fit(good.reshape(-1, W, C))
    with pytest.raises(
        ValueError, match="X is a stack of windows .* fitted on a series"
    ):
        getattr(on_series, method)(good.reshape(-1, W, C))
    with pytest.raises(ValueError, match="X is a series .* fitted on a stack"):
        getattr(on_windows, method)(good)
    getattr(on_series, method)(good)  # the fit's layout
    getattr(on_windows, method)(good.reshape(-1, W, C))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["Float64", "Int64"])
def test_pandas_missing_values_are_nan_errors(fitted, good, kind, dtype):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.round(good * 10), columns=["a", "b", "c"]).astype(
        {"b": dtype}
    )
    frame.loc[3, "b"] = pd.NA
    with pytest.raises(ValueError, match="X contains NaN"):
        make(kind).fit(frame)
    with pytest.raises(ValueError, match="X contains NaN"):
        fitted[kind].decision_function(frame)


@pytest.mark.parametrize("kind", KINDS)
def test_a_pool_given_as_a_dataframe_runs_the_loop(kind, good):
    pd = pytest.importorskip("pandas")
    from alad.active import run_active_learning

    rng = np.random.default_rng(3)
    X_train = pd.DataFrame(rng.normal(size=(64, C)), columns=["a", "b", "c"])
    pool = pd.DataFrame(rng.normal(size=(4 * N, C)), columns=["a", "b", "c"])
    y_pool = np.zeros(len(pool))
    y_pool[W : 2 * W] = 1
    det = make(kind).fit(X_train)
    result = run_active_learning(det, pool, y_pool, budget=2, n_queries=1)
    assert result.history[-1]["n_labelled"] == 2
