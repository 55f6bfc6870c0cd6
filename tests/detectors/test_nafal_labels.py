"""NAFALDetector's label head (score_head) and top query: labels that pay."""

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone

from alad.detectors import nafal
from alad.detectors.nafal import NAFALDetector
from alad.label_head import (
    fit_window_classifier,
    held_out_skill,
    reference_rank,
    window_probabilities,
)

FAST = {
    "n_transforms": 4,
    "transform_dim": 3,
    "flow_transforms": 1,
    "flow_hidden_features": 16,
    "flow_signal": 4,
    "context_features": 2,
    "max_epochs": 3,
    "train_views": 2,
    "batch_size": 32,
    "feedback_epochs": 1,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    pool = np.r_[rng.normal(size=(40, 5)), rng.normal(size=(10, 5)) + 3]
    y = np.r_[np.zeros(40), np.ones(10)]
    return X, pool, y


@pytest.fixture(scope="module")
def fitted(data):
    return NAFALDetector(**FAST).fit(data[0])


@pytest.fixture(scope="module")
def with_head(fitted, data):
    _, pool, y = data
    rows = np.r_[0, 1, 2, 40, 41]
    return copy.deepcopy(fitted).partial_fit(pool[rows], y[rows])


def flow_scores(det, X):
    return det._score_flat(det._standardized(np.asarray(X, dtype=np.float64)))


def test_defaults_and_clone():
    det = NAFALDetector()
    params = det.get_params()
    assert params["score_head"] == "classifier"
    assert params["head_weight"] == 1.0
    assert params["query_strategy"] == "hybrid"
    assert params["head_features"] == "inputs"
    assert clone(det.set_params(score_head="none")).score_head == "none"


def test_the_head_joins_the_score(with_head, data):
    X, pool, _ = data
    det = with_head
    assert det._head is not None and det._head_weight == 1.0
    flow = flow_scores(det, pool)
    expected = (
        reference_rank(det._head_reference, flow)
        + det._head.predict_proba(det._standardized(pool))[:, 1]
    )
    np.testing.assert_allclose(det.decision_function(pool), expected)
    # the training scores and the threshold are in the same unit
    np.testing.assert_allclose(det.decision_function(X), det.decision_scores_)
    assert det.decision_scores_.min() >= 0
    # the labelled anomalies now score above every labelled normal
    scores = det.decision_function(pool[[0, 1, 2, 40, 41]])
    assert scores[3:].min() > scores[:3].max()


def test_the_head_can_also_see_the_flow_rank(fitted, data):
    X, pool, y = data
    det = copy.deepcopy(fitted).set_params(head_features="inputs+rank")
    det.partial_fit(pool[[0, 1, 40, 41]], y[[0, 1, 40, 41]])
    assert det._head_features == "inputs+rank"
    assert det._head.n_features_in_ == X.shape[1] + 1
    ranks = reference_rank(det._head_reference, flow_scores(det, pool))
    features = np.c_[det._standardized(pool), ranks.astype(np.float32)]
    expected = ranks + det._head.predict_proba(features)[:, 1]
    np.testing.assert_allclose(det.decision_function(pool), expected)
    np.testing.assert_allclose(det.decision_function(X), det.decision_scores_)
    # a later set_params does not change how the committed head scores
    det.set_params(head_features="inputs")
    np.testing.assert_allclose(det.decision_function(pool), expected)


def test_no_feedback_epochs_leaves_the_flow_and_fits_the_head(fitted, data):
    X, pool, y = data
    det = copy.deepcopy(fitted).set_params(feedback_epochs=0)
    rows = np.r_[0, 1, 2, 40, 41]
    det.partial_fit(pool[rows], y[rows])
    # the flow is the fitted one: its scores of the pool did not move
    np.testing.assert_array_equal(flow_scores(det, pool), flow_scores(fitted, pool))
    assert det.feedback_history_[-1]["train_loss"] == []
    assert det.n_labelled_ == 5 and len(det._train_x) == len(fitted._train_x) + 3
    assert det._head is not None
    np.testing.assert_allclose(det.decision_function(X), det.decision_scores_)
    scores = det.decision_function(pool[rows])
    assert scores[3:].min() > scores[:3].max()


def test_a_round_without_flow_training_does_not_rescore_the_training_data(
    fitted, data, monkeypatch
):
    X, pool, y = data
    det = copy.deepcopy(fitted).set_params(feedback_epochs=0)
    scored = []
    real = NAFALDetector._score_flat
    monkeypatch.setattr(
        NAFALDetector,
        "_score_flat",
        lambda self, flat, module=None: (
            scored.append(len(flat)) or real(self, flat, module)
        ),
    )
    det.partial_fit(pool[[0, 1, 40, 41]], y[[0, 1, 40, 41]])
    assert len(X) not in scored  # the flow's training scores were reused
    # and they are the flow's scores of the training data all the same
    np.testing.assert_allclose(det._fit_flow_scores, flow_scores(det, X))
    np.testing.assert_allclose(det.decision_function(X), det.decision_scores_)
    # a round that trains the flow rescores them
    scored.clear()
    det.set_params(feedback_epochs=1).partial_fit(pool[[2, 42]], y[[2, 42]])
    assert len(X) in scored
    np.testing.assert_allclose(det._fit_flow_scores, flow_scores(det, X), rtol=1e-6)


def test_no_anomaly_labelled_leaves_the_flow_score(fitted, data):
    _, pool, _ = data
    det = copy.deepcopy(fitted).partial_fit(pool[:4], np.zeros(4))
    assert det._head is None
    np.testing.assert_array_equal(det.decision_function(pool), flow_scores(det, pool))


@pytest.mark.parametrize("params", [{"score_head": "none"}, {"head_weight": 0.0}])
def test_no_head_when_switched_off(fitted, data, params):
    _, pool, y = data
    det = copy.deepcopy(fitted).set_params(**params)
    det.partial_fit(pool[[0, 40]], y[[0, 40]])
    assert det._head is None
    np.testing.assert_array_equal(det.decision_function(pool), flow_scores(det, pool))


def test_switching_the_head_off_drops_it_at_the_next_round(with_head, data):
    _, pool, y = data
    det = copy.deepcopy(with_head).set_params(score_head="none")
    det.partial_fit(pool[[3]], y[[3]])
    assert det._head is None
    np.testing.assert_array_equal(det.decision_function(pool), flow_scores(det, pool))


def test_the_flow_feedback_target_stays_in_the_flows_unit_after_a_head(with_head, data):
    # with a head, threshold_ and decision_scores_ are a rank plus a
    # probability; the hinge reads the flow's score, so its target must come
    # from the flow's own training scores, not from threshold_
    _, pool, y = data
    det = copy.deepcopy(with_head)
    flow = det._score_flat(det._fit_x)  # the flow's scores of its training data
    det.partial_fit(pool[[42, 3]], y[[42, 3]])
    target = det.feedback_history_[-1]["hinge_target"]
    expected = np.percentile(flow, 100 * (1 - det.contamination)) + np.std(flow)
    np.testing.assert_allclose(target, expected)
    assert target > np.median(flow) > det.threshold_


def test_top_query_offers_the_highest_scores(with_head, data):
    _, pool, _ = data
    known = np.full(len(pool), np.nan)
    known[[0, 1, 2, 40, 41]] = [0, 0, 0, 1, 1]
    det = copy.deepcopy(with_head).set_params(query_strategy="top")
    idx = det.query(pool, y=known, n_queries=4)
    scores = det.decision_function(pool)
    candidates = np.flatnonzero(np.isnan(known))
    top = candidates[np.argsort(-scores[candidates], kind="stable")[:4]]
    assert np.array_equal(idx, top)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_hybrid_query_is_half_top_half_margin(with_head, data, n):
    _, pool, _ = data
    fresh = np.delete(pool, [0, 1, 2, 40, 41], axis=0)  # never asked again
    idx = with_head.query(fresh, n_queries=n)
    scores = with_head.decision_function(fresh)
    n_top = (n + 1) // 2
    order = np.argsort(-scores, kind="stable")
    assert np.array_equal(idx[:n_top], order[:n_top])
    rest = order[n_top:]
    distance = np.abs(scores[rest] - with_head.threshold_)
    expected = rest[np.argsort(distance, kind="stable")[: n - n_top]]
    assert np.array_equal(idx[n_top:], expected)
    assert len(set(idx.tolist())) == n and idx.dtype == np.int64


def test_pickle_keeps_the_head(with_head, data):
    _, pool, _ = data
    loaded = pickle.loads(pickle.dumps(with_head))
    np.testing.assert_array_equal(
        loaded.decision_function(pool), with_head.decision_function(pool)
    )
    assert np.array_equal(
        loaded.query(pool, n_queries=3), with_head.query(pool, n_queries=3)
    )


def test_detector_pickled_before_the_head_keeps_the_old_feedback(with_head, data):
    _, pool, y = data
    # a detector of the earlier version: fitted and fed back without any head
    old_style = copy.deepcopy(with_head)
    state = old_style.__getstate__()
    for name in (
        "score_head",
        "head_weight",
        "head_features",
        "query_strategy",
        "_head",
        "_head_reference",
        "_head_weight",
        "_head_features",
        "_fit_flow_scores",
    ):
        state.pop(name)
    old = NAFALDetector.__new__(NAFALDetector)
    old.__setstate__(state)
    assert old._fit_flow_scores is None  # rescored at its next round
    assert old.score_head == "none" and old.query_strategy == "margin"
    assert old.head_weight == 1.0  # the first heads' fixed weight, not "skill"
    assert old._head is None
    np.testing.assert_array_equal(old.decision_function(pool), flow_scores(old, pool))
    old.partial_fit(pool[[42]], y[[42]])  # and its later rounds fit none either
    assert old._head is None
    np.testing.assert_array_equal(old.decision_scores_, old._fit_flow_scores)


@pytest.mark.parametrize("weight", [1.0, "skill"])
def test_a_failed_head_fit_leaves_the_detector_as_it_was(
    fitted, data, monkeypatch, weight
):
    import sklearn.ensemble

    _, pool, y = data
    det = copy.deepcopy(fitted).set_params(head_weight=weight)
    before = det.decision_function(pool)
    state = dict(vars(det))

    def fail(*args, **kwargs):
        raise RuntimeError("head failed")

    monkeypatch.setattr(sklearn.ensemble.ExtraTreesClassifier, "fit", fail)
    with pytest.raises(RuntimeError, match="head failed"):
        det.partial_fit(pool[[0, 40, 41]], y[[0, 40, 41]])
    assert vars(det).keys() == state.keys()
    for name, value in state.items():
        assert vars(det)[name] is value, name
    np.testing.assert_array_equal(det.decision_function(pool), before)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"score_head": "forest"}, "score_head"),
        ({"head_weight": -1.0}, "head_weight"),
        ({"head_weight": "big"}, "head_weight"),
        ({"head_weight": "Skill"}, "head_weight"),
        ({"head_weight": None}, "head_weight"),
        ({"query_strategy": "random"}, "query_strategy"),
        ({"head_features": "rank"}, "head_features"),
    ],
)
def test_bad_parameters_are_refused_at_every_entry(fitted, data, params, name):
    X, pool, y = data
    with pytest.raises((ValueError, TypeError), match=name):
        NAFALDetector(**{**FAST, **params}).fit(X[:40])
    det = copy.deepcopy(fitted).set_params(**params)
    with pytest.raises((ValueError, TypeError), match=name):
        det.partial_fit(pool[[0, 40]], y[[0, 40]])
    with pytest.raises((ValueError, TypeError), match=name):
        det.query(pool)


def test_augmentation_after_labels_refits_the_head(with_head, data):
    X, pool, _ = data
    det = copy.deepcopy(with_head).augment(1)
    assert det._head is not None and det._head is not with_head._head
    np.testing.assert_allclose(det.decision_function(X), det.decision_scores_)
    ranks = reference_rank(det._head_reference, flow_scores(det, pool))
    expected = ranks + det._head.predict_proba(det._standardized(pool))[:, 1]
    np.testing.assert_allclose(det.decision_function(pool), expected)


# -- head_weight="skill": the head weighed by its held-out skill ---------------
SKILL_ROWS = np.r_[0, 1, 2, 3, 40, 41, 42]  # 4 normal, 3 anomalous


def test_the_history_records_the_heads_weight(fitted, with_head, data):
    _, pool, _ = data
    assert with_head.feedback_history_[-1]["head_weight"] == 1.0
    det = copy.deepcopy(fitted).partial_fit(pool[:2], np.zeros(2))
    assert det.feedback_history_[-1]["head_weight"] == 0.0  # no head


@pytest.mark.parametrize("skill", [None, 0.0, 0.4])
def test_skill_weight_is_the_heads_held_out_skill(fitted, data, monkeypatch, skill):
    """The weight is what the labelled samples measured; unmeasurable is full
    weight, no skill is no head (the flow's own score)."""
    X, pool, y = data
    monkeypatch.setattr(nafal, "held_out_skill", lambda *a, **k: skill)
    det = copy.deepcopy(fitted).set_params(head_weight="skill")
    det.partial_fit(pool[SKILL_ROWS], y[SKILL_ROWS])
    flow = flow_scores(det, pool)
    if skill == 0.0:
        assert det._head is None and det._head_weight == 0.0
        np.testing.assert_array_equal(det.decision_function(pool), flow)
        np.testing.assert_array_equal(det.decision_scores_, flow_scores(det, X))
    else:
        weight = 1.0 if skill is None else skill
        assert det._head is not None and det._head_weight == weight
        expected = (
            reference_rank(det._head_reference, flow)
            + weight * det._head.predict_proba(det._standardized(pool))[:, 1]
        )
        np.testing.assert_allclose(det.decision_function(pool), expected)
        np.testing.assert_allclose(det.decision_function(X), det.decision_scores_)
    assert det.feedback_history_[-1]["head_weight"] == det._head_weight
    assert type(det.feedback_history_[-1]["head_weight"]) is float


def test_skill_weight_is_measured_on_the_labelled_samples(fitted, data, monkeypatch):
    X, pool, y = data
    calls = []

    def measured(*args, **kwargs):
        calls.append((args, kwargs))
        return held_out_skill(*args, **kwargs)

    monkeypatch.setattr(nafal, "held_out_skill", measured)
    det = copy.deepcopy(fitted).set_params(head_weight="skill")
    det.partial_fit(pool[SKILL_ROWS], y[SKILL_ROWS])
    (anomalous, normal, replay), kwargs = calls[-1]
    flat = det._standardized(pool[SKILL_ROWS])
    np.testing.assert_array_equal(anomalous, flat[y[SKILL_ROWS] == 1])
    np.testing.assert_array_equal(normal, flat[y[SKILL_ROWS] == 0])
    # the replayed training samples, always in the trees' training
    assert len(replay) == len(X)
    assert np.isin(fingerprint(replay), fingerprint(det._fit_x)).all()
    assert kwargs["features"] is np.asarray
    # anomalies 3 standard deviations away: every held-out one is recognised
    skill = measured(anomalous, normal, replay, **kwargs)
    assert skill == 1.0 and det._head_weight == skill
    assert det.feedback_history_[-1]["head_weight"] == skill


def fingerprint(rows):
    return [r.tobytes() for r in np.asarray(rows)]


@pytest.mark.parametrize(
    "rows", [np.r_[0, 1, 40], np.r_[40, 41]], ids=["one anomaly", "no normal"]
)
def test_unmeasurable_skill_is_full_weight(fitted, data, rows):
    _, pool, y = data
    det = copy.deepcopy(fitted).set_params(head_weight="skill")
    det.partial_fit(pool[rows], y[rows])
    assert det._head is not None and det._head_weight == 1.0
    fixed = copy.deepcopy(fitted).partial_fit(pool[rows], y[rows])
    np.testing.assert_array_equal(
        det.decision_function(pool), fixed.decision_function(pool)
    )


def test_skill_weight_is_reproducible_and_pickles(fitted, data, monkeypatch):
    _, pool, y = data
    runs = [
        copy.deepcopy(fitted)
        .set_params(head_weight="skill")
        .partial_fit(pool[SKILL_ROWS], y[SKILL_ROWS])
        for _ in range(2)
    ]
    assert runs[0]._head_weight == runs[1]._head_weight
    np.testing.assert_array_equal(
        runs[0].decision_function(pool), runs[1].decision_function(pool)
    )
    # with a head, and without one (skill 0)
    monkeypatch.setattr(nafal, "held_out_skill", lambda *a, **k: 0.0)
    headless = copy.deepcopy(fitted).set_params(head_weight="skill")
    headless.partial_fit(pool[SKILL_ROWS], y[SKILL_ROWS])
    for det in (runs[0], headless):
        loaded = pickle.loads(pickle.dumps(det))
        assert loaded.head_weight == "skill"
        assert loaded._head_weight == det._head_weight
        np.testing.assert_array_equal(
            loaded.decision_function(pool), det.decision_function(pool)
        )
        assert clone(loaded).head_weight == "skill"


def test_the_shared_skill_takes_flat_samples():
    """label_head's classifier, probabilities and skill on samples that are
    features already (features=np.asarray), as NAF's head uses them."""
    rng = np.random.default_rng(1)
    anomalous = rng.normal(size=(6, 5)).astype(np.float32) + 4
    normal = rng.normal(size=(8, 5)).astype(np.float32)
    replay = rng.normal(size=(60, 5)).astype(np.float32)
    classifier = fit_window_classifier(anomalous, replay, features=np.asarray)
    assert classifier.n_features_in_ == 5
    p = window_probabilities(classifier, [anomalous, normal], features=np.asarray)
    assert p.shape == (14,) and p[:6].min() > p[6:].max()
    assert held_out_skill(anomalous, normal, replay, features=np.asarray) == 1.0
    alike = rng.normal(size=(6, 5)).astype(np.float32)
    assert held_out_skill(alike, normal, replay, features=np.asarray) < 0.6


def test_anomaly_weight_set_after_fit_reaches_the_next_round(fitted, data):
    # anomaly_weight acts in partial_fit only (a feedback parameter: runs that
    # differ in it share one fitted model), so setting it after fit must be the
    # same as building the detector with it.
    X, pool, y = data
    rows = np.r_[0:4, 40:44]
    params = {"score_head": "none", "anomaly_weight": 50.0}
    later = copy.deepcopy(fitted).set_params(**params)
    later.partial_fit(pool[rows], y[rows])
    built = NAFALDetector(**{**FAST, **params}).fit(X)
    built.partial_fit(pool[rows], y[rows])
    np.testing.assert_array_equal(
        later.decision_function(pool), built.decision_function(pool)
    )


@pytest.mark.parametrize(
    "params",
    [{"lr": 0.05}, {"batch_size": 7}, {"train_views": 1}, {"max_grad_norm": 1e-6}],
)
def test_training_settings_changed_after_fit_reach_the_next_round(fitted, data, params):
    # A diverged round says "lower lr or max_grad_norm": the round that follows
    # must train with the new values.
    X, pool, y = data
    rows = np.r_[0:4, 40:44]
    kept = copy.deepcopy(fitted).set_params(score_head="none")
    kept.partial_fit(pool[rows], y[rows])
    changed = copy.deepcopy(fitted).set_params(score_head="none", **params)
    changed.partial_fit(pool[rows], y[rows])
    assert not np.array_equal(
        changed.decision_function(pool), kept.decision_function(pool)
    )
    round_net = changed.net_
    assert round_net.batch_size == changed.batch_size
    assert round_net.optimizer_.param_groups[0]["lr"] == changed.lr
    assert dict(round_net.callbacks_)["clip"].gradient_clip_value == (
        changed.max_grad_norm
    )
