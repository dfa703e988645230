"""The embarrassingly parallel loops run on a real dask.distributed cluster.

A ``LocalCluster`` with two worker processes on the loopback interface;
``joblib.parallel_config(backend="dask")`` sends the joblib loops of
``LassoCV`` (CV folds), ``CoLiDE.bootstrap_edges`` (bootstrap fits),
``sinkhorn_batched`` (chunks of a batch of OT problems) and ``privatize``
(blocks of users of the local-privacy protocol) to it. Each result
must equal the serial one exactly, and the cluster's task stream must show
that the work ran on the workers.
"""
import joblib  # a scikit-learn dependency: a broken install must fail, not skip
import numpy as np
import pytest

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'sparseopt[distributed]')")

from sparseopt.causal import CoLiDE  # noqa: E402
from sparseopt.datasets import make_linear_sem  # noqa: E402
from sparseopt.linear_model import LassoCV  # noqa: E402
from sparseopt.privacy import privatize  # noqa: E402
from sparseopt.transport import sinkhorn  # noqa: E402
from sparseopt.transport.batched import sinkhorn_batched  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                       silence_logs=40)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _on_cluster(client, func, **config):
    """Run ``func()`` with joblib's dask backend; return its result and the task count."""
    with distributed.get_task_stream(client) as stream, \
            joblib.parallel_config(backend="dask", **config):
        out = func()
    return out, len(stream.data)


def test_lasso_cv_folds_on_cluster_equal_serial(client):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 25))
    y = X[:, :3] @ np.array([1.5, -2.0, 1.0]) + 0.1 * rng.standard_normal(120)
    serial = LassoCV(cv=3, alphas=12).fit(X, y)
    # X is scattered to the workers once, not shipped with each fold
    remote, n_tasks = _on_cluster(client, lambda: LassoCV(cv=3, alphas=12, n_jobs=-1).fit(X, y),
                                  scatter=[X])
    assert n_tasks >= 3  # one task per fold at least
    np.testing.assert_array_equal(remote.mse_path_, serial.mse_path_)
    assert remote.alpha_ == serial.alpha_
    np.testing.assert_array_equal(remote.coef_, serial.coef_)


@pytest.mark.filterwarnings("ignore:CoLiDE did not converge")  # short fits: equality is the point
def test_colide_bootstrap_on_cluster_equals_serial(client):
    X, _, _ = make_linear_sem(5, 5, 200, random_state=1)
    est = CoLiDE(warm_iter=300, max_iter=600, lr=3e-3, checkpoint=100, random_state=0)
    serial = est.bootstrap_edges(X, n_bootstrap=4, n_jobs=1)
    remote, n_tasks = _on_cluster(client, lambda: est.bootstrap_edges(X, n_bootstrap=4, n_jobs=-1))
    assert n_tasks >= 2
    np.testing.assert_array_equal(remote, serial)
    assert serial.shape == (5, 5) and 0 < serial.sum()


def test_batched_sinkhorn_on_cluster_equals_serial(client):
    rng = np.random.default_rng(2)
    n, m, k = 30, 25, 6
    a = rng.dirichlet(np.ones(n))
    B = rng.dirichlet(np.ones(m), size=k).T
    M = rng.random((n, m))
    serial = sinkhorn(a, B, M, 0.05)
    remote, n_tasks = _on_cluster(client, lambda: sinkhorn_batched(a, B, M, 0.05, n_jobs=-1))
    assert n_tasks >= 2
    np.testing.assert_array_equal(remote, serial)
    # a stack of problems: plans, split over the workers
    A = rng.dirichlet(np.ones(n), size=k)
    Ms = rng.random((k, n, m))
    serial_plans = sinkhorn(A, B.T, Ms, 0.05, method="sinkhorn_log")
    remote_plans, n_tasks = _on_cluster(
        client, lambda: sinkhorn_batched(A, B.T, Ms, 0.05, method="sinkhorn_log", n_jobs=-1))
    assert n_tasks >= 2
    np.testing.assert_array_equal(remote_plans, serial_plans)


def test_privatize_user_blocks_on_cluster_equal_serial(client):
    rng = np.random.default_rng(3)
    X, y = rng.uniform(-1, 1, (2500, 30)), rng.uniform(-1, 1, 2500)  # 3 blocks of users
    serial = privatize(X, y, 2.0, 1e-5, 1.0, 1.0, random_state=0)
    local = privatize(X, y, 2.0, 1e-5, 1.0, 1.0, random_state=0, n_jobs=2)  # loky processes
    remote, n_tasks = _on_cluster(client, lambda: privatize(X, y, 2.0, 1e-5, 1.0, 1.0,
                                                            random_state=0, n_jobs=-1))
    assert n_tasks >= 3
    for msg in (local, remote):
        np.testing.assert_array_equal(msg.covariance, serial.covariance)
        np.testing.assert_array_equal(msg.cross, serial.cross)
    with pytest.raises(ValueError, match="n_jobs"):
        privatize(X, y, 2.0, 1e-5, 1.0, 1.0, n_jobs=0)
