"""GridSearchCV over a detector on a dask.distributed cluster, through joblib.

The search runs once locally and once under joblib's Dask backend on a
LocalCluster; the cross-validation results must be equal.
"""

import logging

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from alad import ActiveReconstructionDetector
from alad.datasets import make_telemetry
from alad.metrics import get_scorer

distributed = pytest.importorskip("dask.distributed")

TINY = {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 8, "dropout": 0.0}
GRID = {"window_size": [8, 16]}


@pytest.fixture(scope="module")
def data():
    d = make_telemetry(
        n_train=600,
        n_test=1200,
        n_channels=2,
        n_anomalies=4,
        n_bursts=2,
        random_state=0,
    )
    X = np.concatenate([d.X_train, d.X_test])
    y = np.concatenate([np.zeros(len(d.X_train)), d.y_test])
    return X, y


@pytest.fixture(scope="module")
def client():
    # Worker processes, not threads: each fit seeds torch's global RNG inside
    # torch.random.fork_rng, which threads of one process would share.
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def make_search():
    return GridSearchCV(
        ActiveReconstructionDetector(
            max_epochs=2,
            batch_size=32,
            patience=None,
            validation_fraction=0.0,
            backbone_params=TINY,
            random_state=0,
        ),
        GRID,
        scoring=get_scorer("pa_k_auc"),
        cv=TimeSeriesSplit(n_splits=2),
        error_score="raise",
    )


@pytest.fixture
def one_torch_thread():
    """Run torch on one thread here, as dask's worker processes do.

    Workers start with OMP_NUM_THREADS=1; the local fits and the refits of
    ``best_estimator_`` (which GridSearchCV runs in this process) then do
    their float32 reductions in the same order as the workers.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.mark.slow
def test_grid_search_on_a_dask_cluster_equals_the_local_run(
    data, client, one_torch_thread
):
    X, y = data
    local = make_search().set_params(n_jobs=1).fit(X, y)

    remote = make_search()
    with distributed.get_task_stream(client) as tasks:
        with joblib.parallel_backend("dask"):
            remote.fit(X, y)
    assert len(tasks.data) >= 2 * 2  # the fits ran on the cluster's workers

    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        assert np.isfinite(local.cv_results_[key]).all()
        np.testing.assert_allclose(
            remote.cv_results_[key], local.cv_results_[key], rtol=1e-12, atol=0
        )
    assert remote.best_params_ == local.best_params_
    assert remote.best_index_ == local.best_index_
    np.testing.assert_allclose(
        remote.best_estimator_.decision_function(X[:200]),
        local.best_estimator_.decision_function(X[:200]),
        rtol=1e-12,
        atol=0,
    )
