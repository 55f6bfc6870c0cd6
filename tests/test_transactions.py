"""Every training call completes or leaves the detector exactly as it was.

Each reproducer of issue 14 is a test here: Ctrl-C, refused refits, faults
inside training, diverging rounds, parameters changed between rounds, and
bad arguments at every public entry. Failures are injected at several points
of ``fit``, ``partial_fit`` and ``augment`` of both detectors, and the state
is compared attribute by attribute.
"""

import copy

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from torch import nn

from alad import ActiveReconstructionDetector, NAFALDetector
from alad.detectors import active_reconstruction
from alad.exceptions import DivergenceWarning
from alad.training import nets
from alad.training.flow_nets import FlowNet

W = 10
TINY = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16, "dropout": 0.1}
NAF_FAST = dict(
    n_transforms=4,
    transform_dim=2,
    flow_transforms=1,
    flow_hidden_features=8,
    max_epochs=2,
    augment_epochs=1,
    n_iterations=1,
    # a round that trains the flow: the faults below are injected there
    feedback_epochs=1,
    random_state=0,
)


def make_ard(**params):
    # the backbone learns from the first label: its feedback is what can fail
    defaults = dict(
        feedback_min_anomalous=0,
        window_size=W,
        max_epochs=2,
        backbone_params=TINY,
        random_state=0,
        top_k=2,
        n_bins=2,
        per_bin=1,
        feedback_epochs=2,
    )
    return ActiveReconstructionDetector(**{**defaults, **params})


@pytest.fixture(scope="module")
def data(small_telemetry):
    return small_telemetry


@pytest.fixture(scope="module")
def ard(data):
    det = make_ard().fit(data.X_train)
    idx = det.query(data.X_test)
    return det.partial_fit(data.X_test[idx], data.y_test[idx])


@pytest.fixture(scope="module")
def tab():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 4)), rng.normal(size=(16, 4)) + 3


@pytest.fixture(scope="module")
def naf(tab):
    X, pool = tab
    return NAFALDetector(**NAF_FAST).fit(X).partial_fit(pool[:2], [0, 1])


# -- comparing states attribute by attribute ----------------------------------
def _net_state(net) -> dict:
    """Weights, optimiser states and history of a skorch net, as plain values."""
    state = {
        "module": {k: v.detach().clone() for k, v in net.module_.state_dict().items()},
        "history": copy.deepcopy(list(net.history)),
    }
    for name in net._optimizers:
        state[name] = copy.deepcopy(getattr(net, name + "_").state_dict())
    return state


def snapshot(det) -> dict:
    return {
        key: _net_state(value)
        if key in ("net_", "_fitted_net") and value is not None
        else copy.deepcopy(value)
        for key, value in vars(det).items()
    }


def _estimator_state(estimator) -> dict:
    """A scikit-learn estimator's attributes, its trees' node arrays included."""
    state = dict(vars(estimator))
    if hasattr(estimator, "tree_"):
        state["tree_"] = estimator.tree_.__getstate__()
    return state


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        nan = a.dtype.kind in "fc"
        return isinstance(b, np.ndarray) and np.array_equal(a, b, equal_nan=nan)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, BaseEstimator):  # a fitted forest: compare what its trees hold
        return type(a) is type(b) and _equal(_estimator_state(a), _estimator_state(b))
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    try:
        return bool(a == b)
    except Exception:  # objects without value equality: compare their state
        return _equal(vars(a), vars(b)) if hasattr(a, "__dict__") else a is b


def assert_same_state(det, before: dict) -> None:
    after = snapshot(det)
    assert after.keys() == before.keys(), set(after) ^ set(before)
    for key in before:
        assert _equal(after[key], before[key]), f"{key} changed"


class Boom(Exception):
    pass


def fail_on_call(monkeypatch, owner, name, n, exc=Boom):
    """Make ``owner.name`` raise ``exc`` at its ``n``-th call (1-based)."""
    original = getattr(owner, name)
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise exc("injected")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)


# -- Ctrl-C --------------------------------------------------------------------
def test_ctrl_c_in_a_first_fit_propagates_and_leaves_it_unfitted(data, monkeypatch):
    fail_on_call(monkeypatch, nets.BackboneNet, "train_step", 3, KeyboardInterrupt)
    det = make_ard(max_epochs=50)
    with pytest.raises(KeyboardInterrupt):
        det.fit(data.X_train)
    with pytest.raises(NotFittedError):
        check_is_fitted(det)
    with pytest.raises(NotFittedError):
        det.decision_function(data.X_test)
    assert vars(det) == vars(make_ard(max_epochs=50))


def test_ctrl_c_in_a_fit_leaves_a_given_random_state_as_it_was(data, monkeypatch):
    """A RandomState is the user's object: a retried fit draws the same seed."""
    fail_on_call(monkeypatch, nets.BackboneNet, "train_step", 2, KeyboardInterrupt)
    generator = np.random.RandomState(0)
    det = make_ard(max_epochs=2, random_state=generator)
    with pytest.raises(KeyboardInterrupt):
        det.fit(data.X_train)
    monkeypatch.undo()
    retried = det.fit(data.X_train).decision_scores_
    once = make_ard(max_epochs=2, random_state=np.random.RandomState(0))
    assert np.array_equal(retried, once.fit(data.X_train).decision_scores_)


@pytest.mark.parametrize("point", ["train_step", "validation_step"])
def test_ctrl_c_in_a_refit_keeps_the_old_model(ard, data, monkeypatch, point):
    det = copy.deepcopy(ard)
    before = snapshot(det)
    fail_on_call(monkeypatch, nets.BackboneNet, point, 2, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        det.fit(data.X_train * 2 + 1)
    assert_same_state(det, before)


def test_ctrl_c_in_feedback_propagates_and_charges_nothing(ard, data, monkeypatch):
    det = copy.deepcopy(ard).set_params(budget=30)
    idx = det.query(data.X_test)  # query keeps the pool's quiet windows: before
    before = snapshot(det)
    fail_on_call(monkeypatch, nets.FeedbackNet, "train_step", 2, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        det.partial_fit(data.X_test[idx], data.y_test[idx])
    assert_same_state(det, before)
    assert det.n_labelled_windows_ == ard.n_labelled_windows_


@pytest.mark.parametrize("call", ["partial_fit", "augment"])
def test_ctrl_c_in_naf_rounds_propagates(naf, tab, monkeypatch, call):
    det = copy.deepcopy(naf)
    before = snapshot(det)
    fail_on_call(monkeypatch, FlowNet, "train_step", 1, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        if call == "partial_fit":
            det.partial_fit(tab[1][2:4], [0, 0])
        else:
            det.augment(2)
    assert_same_state(det, before)


# -- faults injected at several points -----------------------------------------
ARD_FIT_POINTS = [
    (nets.BackboneNet, "train_step", 2),
    (ActiveReconstructionDetector, "_training_scores", 1),
    (ActiveReconstructionDetector, "_set_training_scores", 1),
]
ARD_ROUND_POINTS = [
    (nets.FeedbackNet, "train_step", 3),
    (ActiveReconstructionDetector, "_normal_training_windows", 1),
    (ActiveReconstructionDetector, "_training_scores", 1),
    (ActiveReconstructionDetector, "_head_windows", 1),
    (active_reconstruction, "held_out_skill", 1),  # the head's weight
    (ActiveReconstructionDetector, "_set_training_scores", 1),
]


@pytest.mark.parametrize("owner, name, n", ARD_FIT_POINTS)
def test_a_fault_in_fit_keeps_the_old_model(ard, data, monkeypatch, owner, name, n):
    det = copy.deepcopy(ard)
    before = snapshot(det)
    fail_on_call(monkeypatch, owner, name, n)
    with pytest.raises(Boom):
        det.fit(data.X_train[:400])
    assert_same_state(det, before)
    monkeypatch.undo()
    assert np.array_equal(
        det.decision_function(data.X_test), ard.decision_function(data.X_test)
    )


@pytest.mark.parametrize("owner, name, n", ARD_FIT_POINTS)
def test_a_fault_in_a_first_fit_leaves_it_unfitted(data, monkeypatch, owner, name, n):
    det = make_ard()
    fail_on_call(monkeypatch, owner, name, n)
    with pytest.raises(Boom):
        det.fit(data.X_train)
    assert vars(det) == vars(make_ard())
    with pytest.raises(NotFittedError):
        det.predict(data.X_test)


def test_query_changes_only_the_pool_windows_it_keeps(ard, data):
    det = copy.deepcopy(ard)
    before = snapshot(det)
    det.query(data.X_test)
    after = snapshot(det)
    changed = {k for k in before if not _equal(after[k], before[k])}
    assert changed == {"_pool_normal", "_pool_normal_prints"}
    det = copy.deepcopy(ard).set_params(pool_replay=0.0)
    before = snapshot(det)
    det.query(data.X_test)
    after = snapshot(det)
    assert all(_equal(after[k], before[k]) for k in before)


def test_ctrl_c_in_a_query_keeps_the_pool_windows_it_had(ard, data, monkeypatch):
    det = copy.deepcopy(ard)
    det.query(data.X_test[:300])
    before = snapshot(det)
    calls = []
    original = ActiveReconstructionDetector._standardized
    monkeypatch.setattr(
        ActiveReconstructionDetector,
        "_standardized",
        lambda self, X: calls.append(1) or original(self, X),
    )
    copy.deepcopy(det).query(data.X_test)
    monkeypatch.undo()
    # the last standardisation of a query is that of the quiet windows it keeps
    fail_on_call(
        monkeypatch,
        ActiveReconstructionDetector,
        "_standardized",
        len(calls),
        KeyboardInterrupt,
    )
    with pytest.raises(KeyboardInterrupt):
        det.query(data.X_test)
    monkeypatch.undo()
    assert_same_state(det, before)
    det.partial_fit(data.X_test[:W], np.zeros(W))  # replays the windows it kept
    assert det.feedback_history_[-1]["round"] == ard.n_feedback_rounds_ + 1


def test_ctrl_c_after_a_query_kept_its_pool_windows_undoes_it(ard, data, monkeypatch):
    # the binding is the query's last change; a signal may still land after it
    det = copy.deepcopy(ard)
    before = snapshot(det)
    keep = ActiveReconstructionDetector._remember_pool_normal

    def keep_then_interrupt(self, *args):
        keep(self, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(
        ActiveReconstructionDetector, "_remember_pool_normal", keep_then_interrupt
    )
    with pytest.raises(KeyboardInterrupt):
        det.query(data.X_test)
    monkeypatch.undo()
    assert_same_state(det, before)


@pytest.mark.parametrize("owner, name, n", ARD_ROUND_POINTS)
def test_a_fault_in_partial_fit_leaves_everything(
    ard, data, monkeypatch, owner, name, n
):
    det = copy.deepcopy(ard)
    idx = det.query(data.X_test)  # query keeps the pool's quiet windows: before
    before = snapshot(det)
    fail_on_call(monkeypatch, owner, name, n)
    with pytest.raises(Boom):
        det.partial_fit(data.X_test[idx], data.y_test[idx])
    assert_same_state(det, before)


# with a fixed weight the head is fitted whatever its measured skill
ARD_HEAD_POINTS = [
    (active_reconstruction, "fit_window_classifier", 1),
    (ActiveReconstructionDetector, "_head_scores", 1),
]


@pytest.mark.parametrize("owner, name, n", ARD_HEAD_POINTS)
def test_a_fault_in_the_heads_fit_leaves_everything(
    ard, data, monkeypatch, owner, name, n
):
    det = copy.deepcopy(ard).set_params(head_weight=1.0)
    idx = det.query(data.X_test)
    before = snapshot(det)
    fail_on_call(monkeypatch, owner, name, n)
    with pytest.raises(Boom):
        det.partial_fit(data.X_test[idx], data.y_test[idx])
    assert_same_state(det, before)


# the options' own steps: the head's isolation forest, the labelled scale
ARD_OPTION_POINTS = [
    ({"head_features": "window+forest"}, active_reconstruction, "RowForestFeatures"),
    (
        {"scale_with_labels": True},
        ActiveReconstructionDetector,
        "_labelled_normal_errors",
    ),
]


@pytest.mark.parametrize("params, owner, name", ARD_OPTION_POINTS)
def test_a_fault_in_an_options_step_leaves_everything(
    ard, data, monkeypatch, params, owner, name
):
    det = copy.deepcopy(ard).set_params(head_weight=1.0, **params)
    idx = det.query(data.X_test)
    before = snapshot(det)
    fail_on_call(monkeypatch, owner, name, 1)
    with pytest.raises(Boom):
        det.partial_fit(data.X_test[idx], data.y_test[idx])
    assert_same_state(det, before)


NAF_POINTS = [
    (FlowNet, "train_step", 2),
    (NAFALDetector, "_score_flat", 1),
    (NAFALDetector, "_set_training_scores", 1),
    (NAFALDetector, "_training_data", 1),
]


@pytest.mark.parametrize("owner, name, n", NAF_POINTS)
@pytest.mark.parametrize("call", ["fit", "partial_fit", "augment"])
def test_a_fault_in_naf_leaves_everything(naf, tab, monkeypatch, owner, name, n, call):
    det = copy.deepcopy(naf)
    before = snapshot(det)
    fail_on_call(monkeypatch, owner, name, n)
    with pytest.raises(Boom):
        if call == "fit":
            det.fit(tab[0] * 3)
        elif call == "partial_fit":
            det.partial_fit(tab[1][4:8], [0, 1, 0, 0])
        else:
            det.augment(2)
    assert_same_state(det, before)


@pytest.mark.parametrize("owner, name, n", NAF_POINTS[:3])
def test_a_fault_in_a_first_naf_fit_leaves_it_unfitted(
    tab, monkeypatch, owner, name, n
):
    det = NAFALDetector(**NAF_FAST)
    fail_on_call(monkeypatch, owner, name, n)
    with pytest.raises(Boom):
        det.fit(tab[0])
    assert vars(det) == vars(NAFALDetector(**NAF_FAST))


def test_a_backbone_that_raises_in_training(ard, data):
    class Fragile(nn.Module):
        def __init__(self, n_channels, window_size):
            super().__init__()
            self.lin = nn.Linear(n_channels, n_channels)

        def forward(self, x):
            if self.training and torch.is_grad_enabled():
                raise RuntimeError("the backbone broke")
            return self.lin(x)

    det = copy.deepcopy(ard)
    before = snapshot(det)
    det.set_params(backbone=Fragile, backbone_params=None)
    with pytest.raises(RuntimeError, match="backbone broke"):
        det.fit(data.X_train)
    det.set_params(backbone=ard.backbone, backbone_params=ard.backbone_params)
    assert_same_state(det, before)


# -- refused refits --------------------------------------------------------------
def test_a_refused_refit_on_other_channels_keeps_the_model(ard, data):
    det = copy.deepcopy(ard)
    before = snapshot(det)
    with pytest.raises(ValueError):
        det.fit(np.full((300, 5), 1e300))
    assert_same_state(det, before)
    assert np.array_equal(
        det.decision_function(data.X_test), ard.decision_function(data.X_test)
    )


def test_a_refit_refused_for_its_known_anomalies_keeps_the_scores(ard, data):
    det = copy.deepcopy(ard)
    before = snapshot(det)
    with pytest.raises(TypeError, match="known_anomalies"):
        det.fit(data.X_train * 100 + 7, known_anomalies=np.zeros(len(data.X_train)))
    with pytest.raises(ValueError, match="known_anomalies"):
        det.fit(data.X_train * 100 + 7, known_anomalies=np.zeros(3, dtype=bool))
    assert_same_state(det, before)


def test_naf_refused_refit_keeps_the_model(naf, tab):
    det = copy.deepcopy(naf)
    before = snapshot(det)
    with pytest.raises(ValueError):
        det.fit(np.full((30, 2, 3), 1e300))
    assert_same_state(det, before)


# -- diverging rounds ------------------------------------------------------------
def test_a_diverging_usad_round_is_rolled_back(data):
    det = make_ard(backbone="usad", backbone_params=None, feedback_lr=10.0)
    det.fit(data.X_train)
    idx = det.query(data.X_test)  # query keeps the pool's quiet windows: before
    before = snapshot(det)
    with pytest.warns(DivergenceWarning, match="feedback_lr"):
        det.partial_fit(data.X_test[idx], data.y_test[idx])
    after = snapshot(det)
    history = after.pop("feedback_history_")
    assert history[-1]["rolled_back"]
    before.pop("feedback_history_")
    for key in before:
        assert _equal(after[key], before[key]), key
    assert np.isfinite(det.decision_scores_).all() and np.isfinite(det.threshold_)
    assert np.isfinite(det.predict_proba(data.X_test)).all()


def test_scores_beyond_the_bound_roll_back_a_round(ard, data, monkeypatch):
    det = copy.deepcopy(ard)
    before = det.decision_function(data.X_test)
    original = ActiveReconstructionDetector._training_scores

    def huge(self, module, *args):
        scale, scores = original(self, module, *args)
        return scale, scores * 1e12

    monkeypatch.setattr(ActiveReconstructionDetector, "_training_scores", huge)
    idx = det.query(data.X_test)
    with pytest.warns(DivergenceWarning, match="rolled back"):
        det.partial_fit(data.X_test[idx], data.y_test[idx])
    monkeypatch.undo()
    assert np.array_equal(det.decision_function(data.X_test), before)
    assert det.n_labelled_windows_ == ard.n_labelled_windows_


def test_pretraining_that_diverges_is_refused_naming_lr(data, monkeypatch):
    def poison(net, batch, **kwargs):
        with torch.no_grad():
            for p in net.module_.parameters():
                p.fill_(float("inf"))
        return {"loss": torch.zeros(()), "y_pred": None}

    monkeypatch.setattr(nets.BackboneNet, "train_step", poison)
    det = make_ard(validation_fraction=0.0, patience=None)
    with pytest.raises(FloatingPointError, match="lr"):
        det.fit(data.X_train)
    assert vars(det) == vars(make_ard(validation_fraction=0.0, patience=None))


# -- parameters checked at every entry -----------------------------------------
def test_a_mistyped_query_strategy_is_refused_at_query(ard, data):
    det = copy.deepcopy(ard).set_params(query_strategy="topk")
    with pytest.raises(ValueError, match="query_strategy"):
        det.query(data.X_test)


def test_feedback_epochs_zero_is_refused_at_partial_fit(ard, data):
    det = copy.deepcopy(ard).set_params(feedback_epochs=0)
    with pytest.raises(ValueError, match="feedback_epochs"):
        det.partial_fit(data.X_test[:W], np.zeros(W))


@pytest.mark.parametrize("entry", ["decision_function", "query"])
def test_parameters_are_checked_when_scoring(ard, data, entry):
    det = copy.deepcopy(ard).set_params(contamination=2.0)
    with pytest.raises(ValueError, match="contamination"):
        getattr(det, entry)(data.X_test)


def test_an_empty_round_is_refused(ard, data):
    det = copy.deepcopy(ard).set_params(top_k=0, per_bin=0)
    with pytest.raises(ValueError, match="top_k"):
        det.query(data.X_test)
    assert len(det.query(data.X_test, n_queries=2)) == 2 * W


@pytest.mark.parametrize("bad", [True, np.True_, 2.0, "3"])
def test_n_queries_must_be_an_int_not_a_bool(ard, naf, tab, data, bad):
    with pytest.raises(TypeError, match="n_queries"):
        ard.query(data.X_test, n_queries=bad)
    with pytest.raises(TypeError, match="n_queries"):
        naf.query(tab[1], n_queries=bad)


@pytest.mark.parametrize("bad", [True, 1.0])
def test_augment_refuses_bools_and_floats(naf, bad):
    with pytest.raises(TypeError, match="n_iterations"):
        copy.deepcopy(naf).augment(bad)


def test_naf_parameters_are_checked_at_every_entry(naf, tab):
    det = copy.deepcopy(naf).set_params(feedback_epochs=-1)
    with pytest.raises(ValueError, match="feedback_epochs"):
        det.partial_fit(tab[1][:2], [0, 0])
    det = copy.deepcopy(naf).set_params(augment_epochs=-1)
    with pytest.raises(ValueError, match="augment_epochs"):
        det.augment(1)


def test_a_module_backbone_of_the_wrong_shape_names_backbone(data):
    det = make_ard(backbone=nn.Linear(3, 2), backbone_params=None)
    with pytest.raises(ValueError, match=r"backbone.*\(1, 10, 3\).*\(1, 10, 2\)"):
        det.fit(data.X_train)
    det = make_ard(backbone=nn.Linear(5, 5), backbone_params=None)
    with pytest.raises(ValueError, match=r"backbone failed.*\(1, 10, 3\)"):
        det.fit(data.X_train)


def test_float32_data_far_from_zero_fits(data):
    X = (data.X_train * 1e28 + 1e30).astype(np.float32)
    det = make_ard(max_epochs=1).fit(X)
    scores = det.decision_function((data.X_test * 1e28 + 1e30).astype(np.float32))
    assert np.isfinite(scores).all()


def test_clipping_reaches_pretraining_and_feedback_through_skorch(data):
    """One mechanism: skorch's GradientNormClipping sees every optimiser step."""
    from skorch.callbacks import Callback

    from alad.backbones import as_backbone
    from alad.training import WindowDataset

    seen = {"backbone": 0, "feedback": 0}

    class Count(Callback):
        def __init__(self, kind):
            self.kind = kind

        def on_grad_computed(self, net, named_parameters, **kwargs):
            assert all(p.grad is not None for _, p in named_parameters)
            seen[self.kind] += 1

    windows = data.X_train[: 4 * W].reshape(4, W, 3).astype(np.float32)
    net = nets.BackboneNet(
        as_backbone(nn.Linear(3, 3)),
        criterion=nn.MSELoss,
        max_epochs=1,
        batch_size=2,
        train_split=None,
        callbacks=[Count("backbone")],
    )
    net.fit(WindowDataset(windows, W))
    feedback = nets.FeedbackNet(
        as_backbone(nn.Linear(3, 3)),
        criterion=nn.MSELoss,
        max_epochs=1,
        batch_size=2,
        train_split=None,
        callbacks=[Count("feedback")],
    )
    labels = np.zeros((4, W), np.float32)
    labels[0, :3] = 1
    feedback.fit(WindowDataset(windows, W, labels=labels))
    assert seen["backbone"] == 2 and seen["feedback"] >= 2


def test_the_divergence_warning_is_one_class():
    from alad import FeedbackDivergenceWarning, FlowDivergenceWarning

    assert FeedbackDivergenceWarning is DivergenceWarning is FlowDivergenceWarning


def test_a_parameter_the_model_is_built_around_cannot_change_after_fit(
    ard, naf, data, tab
):
    det = copy.deepcopy(ard).set_params(window_size=2 * W)
    for call in (
        lambda: det.query(data.X_test),
        lambda: det.decision_function(data.X_test),
    ):
        with pytest.raises(ValueError, match=f"window_size was {W}"):
            call()
    det.set_params(window_size=W)
    assert np.array_equal(
        det.decision_function(data.X_test), ard.decision_function(data.X_test)
    )
    with pytest.raises(ValueError, match="n_transforms was 4"):
        copy.deepcopy(naf).set_params(n_transforms=8).partial_fit(tab[1][:2], [0, 0])


def test_the_backbone_cannot_change_after_fit(ard, data):
    """A saved model's module is rebuilt from backbone and backbone_params."""
    det = copy.deepcopy(ard)
    det.set_params(backbone_params={**(ard.backbone_params or {}), "dropout": 0.5})
    with pytest.raises(ValueError, match="backbone_params was"):
        det.decision_function(data.X_test)
    with pytest.raises(ValueError, match="backbone was"):
        copy.deepcopy(ard).set_params(backbone="usad").query(data.X_test)


def test_set_params_sets_all_or_none(ard, naf):
    for det in (copy.deepcopy(ard), copy.deepcopy(naf)):
        before = det.get_params()
        with pytest.raises(ValueError, match="no_such_parameter"):
            det.set_params(budget=7, no_such_parameter=1)
        assert det.get_params() == before


def test_equivalent_backbone_params_are_the_same_fit(ard):
    same = type(ard)._same_fit_param
    assert same("backbone_params", None, {})  # both build the default module
    assert not same("backbone_params", {"d_model": 8}, None)
    assert same("window_size", 50, 50) and not same("window_size", 50, 100)
