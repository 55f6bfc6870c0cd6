"""Tests of NAFALDetector: shapes, augmentation, active learning, contracts."""

import copy
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone

from alad.base import PoolExhaustedError
from alad.detectors.nafal import FlowDivergenceWarning, NAFALDetector
from alad.training.flow_nets import FlowNet

# Fast settings, kept in one place: a tiny flow trained for a few epochs.
FAST = {
    "n_transforms": 4,
    "transform_dim": 3,
    "flow_transforms": 1,
    "flow_hidden_features": 16,
    "flow_signal": 4,
    "context_features": 2,
    "max_epochs": 3,
    "augment_epochs": 1,
    "n_iterations": 1,
    "train_views": 2,
    "batch_size": 32,
    "feedback_epochs": 2,
    "random_state": 0,
}


def _data(n=80, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[:, 1] += 0.5 * X[:, 0]
    return X


@pytest.fixture(scope="module")
def X2():
    return _data()


@pytest.fixture(scope="module")
def fitted(X2):
    return NAFALDetector(**FAST).fit(X2)


@pytest.fixture(scope="module")
def X3():
    rng = np.random.default_rng(1)
    t = np.linspace(0, 2 * np.pi, 12)
    phase = rng.uniform(0, 2 * np.pi, size=(60, 1, 1))
    series = np.sin(t[None, :, None] + phase) * np.array([1.0, 2.0])
    return series + 0.05 * rng.normal(size=series.shape)


@pytest.fixture(scope="module")
def fitted3(X3):
    return NAFALDetector(**FAST).fit(X3)


# -- shapes and the PyOD contract -----------------------------------------
def test_tabular_shapes_and_pyod_contract(fitted, X2):
    assert fitted.decision_scores_.shape == (len(X2),)
    assert fitted.decision_scores_.dtype == np.float64
    assert fitted.n_features_in_ == 5 and fitted.input_shape_ == (5,)
    assert fitted.transform_dim_ == 3
    scores = fitted.decision_function(X2[:7])
    assert scores.shape == (7,) and scores.dtype == np.float64
    assert np.allclose(scores, fitted.decision_scores_[:7], rtol=1e-5)
    assert set(np.unique(fitted.predict(X2))) <= {0, 1}
    assert fitted.labels_.mean() == pytest.approx(0.1, abs=0.02)
    proba = fitted.predict_proba(X2[:4])
    assert proba.shape == (4, 2) and np.allclose(proba.sum(1), 1)
    assert fitted.predict_confidence(X2[:4]).shape == (4,)
    assert NAFALDetector(**FAST).fit_predict(X2).shape == (len(X2),)


def test_a_sample_scores_alike_whatever_rows_are_beside_it(fitted, fitted3, X2, X3):
    """A sample's score is its own: reordering the rows, or scoring a subset,
    moves it by float32 rounding only (sklearn's own checks of this are
    expected failures at their 1e-7 tolerance, _FLOAT32 in test_common)."""
    rng = np.random.default_rng(0)
    labelled = copy.deepcopy(fitted)
    y = np.zeros(len(X2))
    y[np.argsort(fitted.decision_scores_)[-4:]] = 1  # a head joins the score
    labelled.partial_fit(X2[:40], y[:40])
    assert labelled._head is not None
    for det, X in ((fitted, X2), (fitted3, X3), (labelled, X2)):
        whole = det.decision_function(X)
        order = rng.permutation(len(X))
        np.testing.assert_allclose(
            det.decision_function(X[order]), whole[order], rtol=1e-5
        )
        subset = order[:9]
        np.testing.assert_allclose(
            det.decision_function(X[subset]), whole[subset], rtol=1e-5
        )


def test_far_points_score_higher(fitted, X2):
    assert fitted.decision_function(X2[:20] + 6).min() > np.median(
        fitted.decision_scores_
    )


def test_series_shapes(fitted3, X3):
    assert fitted3.input_shape_ == (12, 2) and fitted3.n_features_in_ == 2
    assert fitted3.decision_function(X3[:5]).shape == (5,)
    assert fitted3.decision_scores_.shape == (len(X3),)
    idx = fitted3.query(X3, n_queries=3)
    assert idx.shape == (3,)
    with pytest.raises(ValueError, match="shape"):
        fitted3.decision_function(X3[:, :10])
    with pytest.raises(ValueError, match="3-D"):
        fitted3.decision_function(X3[:, :, 0])


def test_bad_dimensions(fitted, X2):
    with pytest.raises(ValueError, match="Reshape your data"):
        fitted.decision_function(X2[0])
    with pytest.raises(ValueError, match="features"):
        fitted.decision_function(X2[:, :3])


def test_transform_dim_capped_by_features():
    X = _data(d=2)
    assert NAFALDetector(**FAST).fit(X).transform_dim_ == 2


@pytest.mark.parametrize("volume", ["logdet", "free"])
def test_extractor_volume_ablations_run(volume):
    """The unconstrained and the paper-literal (collapsing) objectives are kept
    as ablations."""
    det = NAFALDetector(**{**FAST, "extractor_volume": volume}).fit(_data())
    assert np.isfinite(det.decision_scores_).all()


# -- augmentation ----------------------------------------------------------
def test_augmentation_history_and_cap(X2):
    det = NAFALDetector(
        **{**FAST, "n_iterations": 2, "alpha": 0.5, "mahalanobis_level": 0.999}
    ).fit(X2)
    assert 1 <= len(det.augmentation_history_) <= 2
    for h in det.augmentation_history_:
        assert h["n_drawn"] == len(X2)
        assert h["n_kept"] <= h["n_within_radius"] <= h["n_below_quantile"]
        assert h["seconds_sampling"] >= 0
    assert det.n_augmented_ == sum(h["n_added"] for h in det.augmentation_history_)
    assert 0 < det.n_augmented_ <= 0.5 * len(X2)

    capped = NAFALDetector(
        **{
            **FAST,
            "n_iterations": 3,
            "alpha": 0.5,
            "mahalanobis_level": 0.999,
            "max_augment_ratio": 0.05,
        }
    ).fit(X2)
    assert capped.n_augmented_ <= int(0.05 * len(X2))
    none = NAFALDetector(**{**FAST, "max_augment_ratio": 0.0}).fit(X2)
    assert none.augmentation_history_ == [] and none.n_augmented_ == 0


def test_fit_then_augment_equals_fit_with_iterations(X2):
    params = {**FAST, "alpha": 0.5, "mahalanobis_level": 0.999}
    once = NAFALDetector(**{**params, "n_iterations": 2}).fit(X2)
    stepwise = NAFALDetector(**{**params, "n_iterations": 0}).fit(X2).augment(2)
    assert np.array_equal(once.decision_scores_, stepwise.decision_scores_)
    with pytest.raises(ValueError, match="n_iterations"):
        stepwise.augment(-1)


# -- query and partial_fit --------------------------------------------------
def test_query_is_nearest_the_threshold(fitted, X2):
    pool = np.r_[X2[:30], X2[:30] + 4]
    # the marginal strategy of Eq. 9 (the default is "top")
    margin = copy.deepcopy(fitted).set_params(query_strategy="margin")
    idx = margin.query(pool, n_queries=5)
    distance = np.abs(fitted.decision_function(pool) - fitted.threshold_)
    assert np.array_equal(idx, np.argsort(distance, kind="stable")[:5])
    assert idx.dtype == np.int64


def test_query_skips_labelled_and_exhausts(fitted, X2):
    pool = X2[:6]
    y = np.full(6, np.nan)
    y[[0, 2, 4]] = [0, 1, 0]
    idx = fitted.query(pool, y, n_queries=10)
    assert sorted(idx.tolist()) == [1, 3, 5]
    with pytest.raises(PoolExhaustedError):
        fitted.query(pool, np.zeros(6))
    with pytest.raises(ValueError, match="n_queries"):
        fitted.query(pool, n_queries=0)
    with pytest.raises(ValueError, match="one label per sample"):
        fitted.query(pool, np.zeros(5))


def test_query_offers_one_of_equal_samples(fitted, X2):
    """A table's duplicated outlier was offered once per copy in one round,
    while the detector learns one label for them and charges one."""
    pool = np.r_[X2[:10], np.repeat(X2[10:11] + 6, 4, axis=0)]
    top = copy.deepcopy(fitted).set_params(query_strategy="top")
    idx = top.query(pool, n_queries=3)
    assert len(set(idx.tolist()) & {10, 11, 12, 13}) == 1
    y = np.full(len(pool), np.nan)
    y[12] = 1
    again = top.query(pool, y, n_queries=3)
    assert not set(again.tolist()) & {10, 11, 12, 13}


def test_partial_fit_appends_normals_and_uses_anomalies(X2):
    # the flow's own feedback (the hinge), without the label head
    det = NAFALDetector(**{**FAST, "n_iterations": 0, "score_head": "none"}).fit(X2)
    anomalies = X2[:8] * 0.2 + 0.3  # inside the normal region: low scores
    normals = X2[:8] + 2.5
    before_anom = det.decision_function(anomalies).mean()
    before_norm = det.decision_function(normals).mean()
    X = np.r_[normals, anomalies]
    y = np.r_[np.zeros(8), np.ones(8)]
    det.partial_fit(X, y)
    record = det.feedback_history_[-1]
    assert record["n_normal"] == 8 and record["n_anomalous"] == 8
    assert det.n_labelled_ == 16
    assert det.decision_function(anomalies).mean() > before_anom  # y == 1 pushed up
    assert det.decision_function(normals).mean() < before_norm  # y == 0 learnt

    # y == 1 used: the same feedback without the anomalies leaves them lower
    other = NAFALDetector(**{**FAST, "n_iterations": 0, "score_head": "none"}).fit(X2)
    other.partial_fit(X, np.r_[np.zeros(8), np.full(8, np.nan)])
    assert other.n_labelled_ == 8
    assert (
        det.decision_function(anomalies).mean()
        > other.decision_function(anomalies).mean()
    )


def test_partial_fit_validation_and_budget(X2):
    det = NAFALDetector(**{**FAST, "n_iterations": 0, "budget": 3}).fit(X2)
    with pytest.raises(ValueError, match="all nan"):
        det.partial_fit(X2[:2], [np.nan, np.nan])
    with pytest.raises(ValueError, match="0 \\(normal\\)"):
        det.partial_fit(X2[:2], [0, 2])
    with pytest.raises(ValueError, match="budget"):
        det.partial_fit(X2[:4], [0, 0, 0, 0])
    det.partial_fit(X2[:3], [0, 1, np.nan])
    assert det.n_labelled_ == 2
    assert det.query(X2, n_queries=5).shape == (1,)
    det.partial_fit(X2[3:4], [0])
    with pytest.raises(ValueError, match="budget"):
        det.query(X2)


def test_partial_fit_rolls_back_non_finite_weights(X2, monkeypatch):
    det = NAFALDetector(**{**FAST, "n_iterations": 0}).fit(X2)
    before = det.decision_function(X2[:5])

    def poison(net, batch, **kwargs):
        with torch.no_grad():
            next(net.module_.parameters()).fill_(float("nan"))
        return {"loss": torch.zeros(()), "y_pred": None}

    monkeypatch.setattr(FlowNet, "train_step", poison)
    with pytest.warns(FlowDivergenceWarning):
        det.partial_fit(X2[:2], [0, 1])
    assert np.array_equal(det.decision_function(X2[:5]), before)
    assert det.feedback_history_[-1]["rolled_back"] and det.n_labelled_ == 0


def test_divergence_warnings_name_the_callers_line(X2, monkeypatch):
    """The warning points at the user's call, also from an augmentation
    round, raised a frame deeper inside alad than a feedback round."""

    def poison(net, batch, **kwargs):
        with torch.no_grad():
            next(net.module_.parameters()).fill_(float("nan"))
        return {"loss": torch.zeros(()), "y_pred": None}

    det = NAFALDetector(**{**FAST, "n_iterations": 0}).fit(X2)
    monkeypatch.setattr(FlowNet, "train_step", poison)
    with pytest.warns(FlowDivergenceWarning) as seen:
        det.partial_fit(X2[:2], [0, 1])
    assert [w.filename for w in seen] == [__file__]
    monkeypatch.undo()
    # an augmentation round that keeps draws, at a rate that diverges
    det.set_params(lr=1e9, max_grad_norm=None, n_samples=200, alpha=0.01)
    det.set_params(mahalanobis_level=0.999, max_augment_ratio=10)
    with pytest.warns(FlowDivergenceWarning) as seen:
        det.augment(1)
    assert [w.filename for w in seen] == [__file__]


# -- reproducibility, persistence, sklearn ---------------------------------
def test_same_random_state_same_scores_and_global_rng_untouched(X2, fitted):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    again = NAFALDetector(**FAST).fit(X2)
    assert torch.equal(torch.rand(3), expected)
    assert np.array_equal(again.decision_scores_, fitted.decision_scores_)
    other = NAFALDetector(**{**FAST, "random_state": 1}).fit(X2)
    assert not np.allclose(other.decision_scores_, fitted.decision_scores_)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_round_trip(fitted, X2, tmp_path, dump):
    path = tmp_path / "det.bin"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(fitted))
        loaded = pickle.loads(path.read_bytes())
    else:
        joblib.dump(fitted, path)
        loaded = joblib.load(path)
    assert np.array_equal(loaded.decision_function(X2), fitted.decision_function(X2))
    assert loaded.threshold_ == fitted.threshold_
    assert np.array_equal(loaded.query(X2, n_queries=4), fitted.query(X2, n_queries=4))


def test_clone_and_params(fitted):
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params()
    assert not hasattr(fresh, "net_")
    assert fitted.get_params()["alpha"] == 0.9


def test_parameter_validation(X2):
    with pytest.raises(ValueError, match="alpha"):
        NAFALDetector(alpha=1.5).fit(X2)
    with pytest.raises(ValueError, match="n_transforms"):
        NAFALDetector(n_transforms=0).fit(X2)


# -- the convolutional extractor and step-based training length ----------------
def test_conv_extractor_fits_series_and_ranks_a_broken_series_higher(X3):
    det = NAFALDetector(
        **{**FAST, "n_iterations": 0, "max_epochs": 8}, extractor="conv"
    )
    det.fit(X3)
    assert det.transform_dim_ == FAST["transform_dim"]
    assert det.net_.module_.transforms.n_timepoints == X3.shape[1]
    broken = X3[:5].copy()
    broken[:, 4:8] *= -3.0  # a sudden flip inside otherwise smooth sines
    scores = det.decision_function(np.concatenate([X3[:20], broken]))
    assert scores.shape == (25,) and np.isfinite(scores).all()
    assert scores[20:].mean() > scores[:20].mean()
    same = clone(det).fit(X3)
    np.testing.assert_array_equal(same.decision_scores_, det.decision_scores_)


def test_conv_extractor_refuses_tabular_data_and_augmentation(X2, X3):
    with pytest.raises(ValueError, match="extractor='conv'.*3-D series"):
        NAFALDetector(**{**FAST, "n_iterations": 0}, extractor="conv").fit(X2)
    with pytest.raises(ValueError, match="n_iterations must be 0"):
        NAFALDetector(**FAST, extractor="conv").fit(X3)
    det = NAFALDetector(**{**FAST, "n_iterations": 0}, extractor="conv").fit(X3)
    with pytest.raises(ValueError, match="no inverse.*Refit with extractor='dense'"):
        det.augment(1)
    # "auto" chose "conv" for series without augmentation: the error says so
    auto = NAFALDetector(**{**FAST, "n_iterations": 0}).fit(X3)
    assert auto.extractor_ == "conv"
    with pytest.raises(ValueError, match="extractor='auto' chose 'conv'"):
        auto.augment(1)
    with pytest.raises(ValueError, match="extractor"):
        NAFALDetector(extractor="lstm").fit(X3)


@pytest.mark.parametrize(
    ("n", "batch_size", "max_steps", "epochs"),
    [(80, 32, 9, 3), (80, 32, 1, 1), (80, 100, 4, 4)],
)
def test_max_steps_sets_whole_epochs(n, batch_size, max_steps, epochs):
    params = {**FAST, "max_epochs": None, "n_iterations": 0, "batch_size": batch_size}
    det = NAFALDetector(**params, max_steps=max_steps)
    det.fit(_data(n=n))
    assert len(det.net_.history) == epochs
    # max_epochs, when given, wins
    det = NAFALDetector(**{**params, "max_epochs": 2}, max_steps=max_steps)
    assert len(det.fit(_data(n=n)).net_.history) == 2


def test_auto_extractor_is_conv_for_series_without_augmentation(X2, X3):
    params = {**FAST, "n_iterations": 0, "max_epochs": 1}
    assert NAFALDetector(**params, extractor="auto").fit(X3).extractor_ == "conv"
    assert NAFALDetector(**params, extractor="auto").fit(X2).extractor_ == "dense"
    with_rounds = NAFALDetector(**{**params, "n_iterations": 1}, extractor="auto")
    assert with_rounds.fit(X3).extractor_ == "dense"
    det = NAFALDetector(**params, extractor="auto").fit(X3)
    det.set_params(extractor="dense")
    with pytest.raises(ValueError, match="extractor was 'auto'"):
        det.decision_function(X3)


def test_detector_pickled_before_extractor_loads_as_dense(fitted, X2):
    state = pickle.loads(pickle.dumps(fitted)).__dict__.copy()
    for name in (
        "extractor",
        "conv_segments",
        "max_steps",
        "extractor_",
        "scaling",
        "_quantile",
    ):
        state.pop(name)
    state["_fitted_with"] = {"n_transforms": fitted.n_transforms}
    old = NAFALDetector.__new__(NAFALDetector)
    old.__setstate__(state)
    assert old.extractor == "dense" and old.extractor_ == "dense"
    np.testing.assert_array_equal(
        old.decision_function(X2), fitted.decision_function(X2)
    )


# -- input scaling -------------------------------------------------------------
def test_scaling_robust_and_quantile(X2, X3):
    heavy = X2.copy()
    heavy[:4, 0] *= 50.0  # a heavy tail in feature 0
    params = {**FAST, "n_iterations": 0}
    standard = NAFALDetector(**params).fit(heavy)
    robust = NAFALDetector(**params, scaling="robust").fit(heavy)
    low, median, high = np.percentile(heavy, [25, 50, 75], axis=0)
    np.testing.assert_allclose(robust.scaler_mean_, median)
    np.testing.assert_allclose(robust.scaler_scale_, (high - low) / 1.349)
    # the heavy tail inflates the standard deviation, not the quartiles
    assert robust.scaler_scale_[0] < standard.scaler_scale_[0] / 2
    quantile = NAFALDetector(**params, scaling="quantile").fit(heavy)
    flat = quantile._standardized(heavy)
    assert np.abs(flat).max() < 5.3  # normal scores, clipped at the ends
    # beyond the training range: clipped, so no larger than the training end
    far = heavy[:1] + [[1e6, 0, 0, 0, 0]]
    assert quantile._standardized(far)[0, 0] == flat[:, 0].max()
    for det in (robust, quantile):
        assert np.isfinite(det.decision_function(heavy)).all()
        loaded = pickle.loads(pickle.dumps(det))
        np.testing.assert_array_equal(
            loaded.decision_function(heavy), det.decision_function(heavy)
        )
    # per channel for series
    short = {**params, "max_epochs": 1}
    series = NAFALDetector(**short, scaling="robust").fit(X3)
    assert series.scaler_mean_.shape == (X3.shape[2],)
    NAFALDetector(**short, scaling="quantile").fit(X3)
    # the fitted model is built around its scaling
    quantile.set_params(scaling="standard")
    with pytest.raises(ValueError, match="scaling was 'quantile'"):
        quantile.decision_function(heavy)
    with pytest.raises(ValueError, match="scaling"):
        NAFALDetector(scaling="minmax").fit(X2)


# -- the flow's base: standard normal or a mixture per view --------------------
def _three_clusters(n=240, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array(
        [[-6.0, 0.0, 0.0, 0.0], [6.0, 0.0, 0.0, 0.0], [0.0, 8.0, 0.0, 0.0]]
    )
    return centres[np.arange(n) % 3] + rng.normal(size=(n, 4))


def test_mixture_base_fits_clusters_and_scores_the_gap_between_them():
    X = _three_clusters()
    params = {**FAST, "n_iterations": 1, "transform_dim": 4, "max_epochs": 5}
    det = NAFALDetector(**params, base_components=3).fit(X)
    assert det.base_components_ == 3
    assert det.augmentation_history_  # augmentation draws from the mixture
    # the point between the clusters is further from every cluster than
    # the clusters' own points are from theirs
    inside = det.decision_function(X[:30])
    between = det.decision_function(np.array([[0.0, 3.0, 0.0, 0.0]]))
    assert between[0] > np.median(inside)
    same = clone(det).fit(X)
    np.testing.assert_array_equal(same.decision_scores_, det.decision_scores_)
    loaded = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(loaded.decision_function(X), det.decision_function(X))


@pytest.mark.parametrize("setting", ["auto", "bic"])
def test_bic_chooses_a_mixture_only_for_clustered_tabular_data(X2, setting):
    params = {**FAST, "n_iterations": 0, "transform_dim": 4}
    clusters = NAFALDetector(**params, base_components=setting).fit(_three_clusters())
    assert clusters.base_components_ > 1
    assert clusters.net_.module_.base is not None
    gaussian = NAFALDetector(**params, base_components=setting).fit(X2)
    assert gaussian.base_components_ == 0 and gaussian.net_.module_.base is None
    plain = NAFALDetector(**params, base_components=0).fit(X2)
    assert plain.base_components_ == 0
    # one Gaussian chosen: the very model of the standard normal base
    np.testing.assert_allclose(
        gaussian.decision_function(X2), plain.decision_function(X2), rtol=1e-6
    )


def test_auto_base_components_give_series_two_and_bic_lets_them_choose(X3):
    params = {**FAST, "n_iterations": 0, "extractor": "conv"}
    assert NAFALDetector(**params).fit(X3).base_components_ == 2
    assert NAFALDetector(**params, base_components=5).fit(X3).base_components_ == 5
    # two kinds of series, quiet and loud: BIC, on the conv features, sees two
    groups = np.concatenate([X3, 6.0 * X3 + 3.0])
    chosen = NAFALDetector(**params, base_components="bic").fit(groups)
    assert chosen.base_components_ > 1


@pytest.mark.parametrize("bad", [-1, "many", 2.5])
def test_base_components_validation(X2, bad):
    with pytest.raises((ValueError, TypeError), match="base_components"):
        NAFALDetector(**FAST, base_components=bad).fit(X2)


def test_detector_pickled_before_the_mixture_base_keeps_the_standard_normal(X2):
    # such a detector had the standard normal base and did not know the
    # parameter, the fitted attribute or the fit-bound check of it
    before = NAFALDetector(**FAST, base_components=0).fit(X2)
    state = pickle.loads(pickle.dumps(before)).__dict__.copy()
    state.pop("base_components")
    state.pop("base_components_")
    state["_fitted_with"].pop("base_components")
    old = NAFALDetector.__new__(NAFALDetector)
    old.__setstate__(state)
    old.net_.module_.__dict__.pop("base")  # its model had no base either
    assert old.base_components == 0 and old.base_components_ == 0
    np.testing.assert_array_equal(
        old.decision_function(X2), before.decision_function(X2)
    )
    old.partial_fit(X2[:2], np.array([0, 0]))  # the fit-bound check passes


@pytest.mark.parametrize("n", [1, 3])
def test_a_handful_of_samples_fits_with_the_standard_normal(n):
    X = _data(n=n, d=4)
    det = NAFALDetector(**{**FAST, "n_iterations": 0}, base_components=5).fit(X)
    assert det.base_components_ == 0
    assert np.isfinite(det.decision_function(X)).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_and_scoring_on_a_laptop(X2, monkeypatch):
    """Fitted (with its augmentation and a round of labels) on a GPU, saved,
    loaded where CUDA is not: the same scores on the CPU, to the kernels'
    rounding (a score read as a rank may move by a rank or two)."""
    det = NAFALDetector(**{**FAST, "n_iterations": 1}, device="cuda").fit(X2)
    y = np.zeros(len(X2))
    y[np.argsort(det.decision_scores_)[-4:]] = 1
    det.partial_fit(X2, y)
    gpu_scores = det.decision_function(X2)
    assert np.isfinite(gpu_scores).all() and det.device_.startswith("cuda")
    saved = pickle.dumps(det)
    with monkeypatch.context() as patch, warnings.catch_warnings():
        patch.setattr(torch.cuda, "is_available", lambda: False)
        warnings.simplefilter("ignore")
        laptop = pickle.loads(saved)
    assert laptop.device_ == "cpu"
    np.testing.assert_allclose(
        laptop.decision_function(X2), gpu_scores, rtol=1e-4, atol=5e-2
    )
