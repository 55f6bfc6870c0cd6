"""Where a feedback round starts (``feedback_start``): current or fitted backbone."""

import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

import alad.detectors.active_reconstruction as module_under_test
from alad import ActiveReconstructionDetector

W = 10  # the window of the shared tiny detector (conftest)


@pytest.fixture(scope="module")
def fitted(data, make_tiny):
    return make_tiny(feedback_epochs=1, feedback_min_anomalous=0).fit(data.X_train)


def weights(net):
    return {k: v.clone() for k, v in net.module_.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def labelled_round(det, data, n=0):
    """One round on windows ``det`` queries, window ``n`` anomalous."""
    idx = det.query(data.X_test)
    y = np.zeros(len(idx))
    y.reshape(-1, W)[n, W // 2] = 1.0
    return det.partial_fit(data.X_test[idx], y)


@pytest.fixture
def starts(monkeypatch):
    """The backbone weights each feedback round started from."""
    seen = []
    real = module_under_test.feedback_round

    def recording(module, *args, **kwargs):
        seen.append({k: v.clone() for k, v in module.state_dict().items()})
        return real(module, *args, **kwargs)

    monkeypatch.setattr(module_under_test, "feedback_round", recording)
    return seen


def test_current_is_the_default_and_continues_from_the_last_round(fitted, data, starts):
    det = copy.deepcopy(fitted)
    assert det.feedback_start == "current"
    labelled_round(det, data)
    after_first = weights(det.net_)
    labelled_round(det, data, 1)
    assert same(starts[0], weights(fitted.net_))
    assert same(starts[1], after_first)


def test_fitted_starts_every_round_from_the_fitted_backbone(fitted, data, starts):
    det = copy.deepcopy(fitted).set_params(feedback_start="fitted")
    for n in range(3):
        labelled_round(det, data, n)
    fit_weights = weights(fitted.net_)
    assert len(starts) == 3
    assert all(same(start, fit_weights) for start in starts)
    # the fitted backbone is kept beside the trained one, untouched
    assert same(weights(det._fitted_net), fit_weights)
    assert not same(weights(det.net_), fit_weights)


def test_the_first_round_is_the_same_from_either_start(fitted, data):
    current = labelled_round(copy.deepcopy(fitted), data)
    from_fit = labelled_round(
        copy.deepcopy(fitted).set_params(feedback_start="fitted"), data
    )
    assert same(weights(current.net_), weights(from_fit.net_))
    np.testing.assert_array_equal(current.decision_scores_, from_fit.decision_scores_)


def test_the_fitted_backbone_is_the_net_until_feedback_moves_it(fitted):
    assert fitted._fitted_net is fitted.net_
    again = pickle.loads(pickle.dumps(fitted))
    assert again._fitted_net is again.net_  # one net in the file, not two


def test_the_fitted_backbone_survives_pickle_and_the_safe_model_files(
    fitted, data, tmp_path
):
    from alad.labelling import load_detector, save_detector

    det = labelled_round(
        copy.deepcopy(fitted).set_params(feedback_start="fitted"), data
    )
    fit_weights = weights(fitted.net_)
    save_detector(det, tmp_path / "m")
    for loaded in (pickle.loads(pickle.dumps(det)), load_detector(tmp_path / "m")):
        assert same(weights(loaded._fitted_net), fit_weights)
        assert same(weights(loaded.net_), weights(det.net_))
        a, b = (
            labelled_round(loaded, data, 1),
            labelled_round(copy.deepcopy(det), data, 1),
        )
        assert same(weights(a.net_), weights(b.net_))
    save_detector(fitted, tmp_path / "f")
    fresh = load_detector(tmp_path / "f")
    assert fresh._fitted_net is fresh.net_


@pytest.mark.parametrize("trained", [False, True])
def test_a_pickle_made_before_it_starts_where_it_can(fitted, data, trained):
    det = copy.deepcopy(fitted)
    if trained:
        labelled_round(det, data)
    state = det.__getstate__()
    state.pop("_fitted_net")
    state.pop("feedback_start")
    old = ActiveReconstructionDetector.__new__(ActiveReconstructionDetector)
    old.__setstate__(state)
    assert old.feedback_start == "current"
    if trained:  # the fitted backbone is no longer known: the current one
        assert old._fitted_net is None
        assert old.set_params(feedback_start="fitted")._feedback_start_net() is (
            old.net_
        )
    else:
        assert old._fitted_net is old.net_


def test_feedback_start_clones_and_is_checked(fitted, data):
    assert clone(fitted).set_params(feedback_start="fitted").feedback_start == "fitted"
    det = copy.deepcopy(fitted).set_params(feedback_start="first")
    with pytest.raises(ValueError, match="feedback_start"):
        labelled_round(det, data)


def test_auto_starts_from_the_fitted_backbone_on_a_multivariate_series_only(
    fitted, data, make_tiny
):
    multi = labelled_round(
        copy.deepcopy(fitted).set_params(feedback_start="auto"), data
    )
    assert multi._feedback_start_net() is multi._fitted_net is not multi.net_
    one = make_tiny(feedback_epochs=1, feedback_start="auto")
    one.fit(data.X_train[:, :1])
    idx = one.query(data.X_test[:, :1])
    y = np.zeros(len(idx))
    y[W // 2] = 1.0
    one.partial_fit(data.X_test[idx, :1], y)
    assert one._fitted_net is not one.net_  # the round trained the backbone
    assert one._feedback_start_net() is one.net_
