"""Block coordinate descent as the ``solver=`` of the sparse linear estimators (issue 4)."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sparseopt.linear_model import (
    ElasticNet,
    Lasso,
    MCPRegression,
    SparseLinearRegression,
    SparseLogisticRegression,
)
from sparseopt.optimize import BlockCoordinateDescent

SOLVERS = {
    "gsq-matrix-variable": dict(partition="variable", selection="gsq", update="matrix",
                                block_size=5),
    "gs-gradient-sorted": dict(partition="sorted", selection="gs", update="gradient",
                               block_size=3),
    "cyclic-gradient-order": dict(partition="order", selection="cyclic", update="gradient",
                                  block_size=4),
}


def _bcd(name, max_iter=20000):
    return BlockCoordinateDescent(max_iter=max_iter, tol=1e-13, **SOLVERS[name])


def _data(n=60, p=15, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([1.5, -2.0, 1.0]) + 0.5 + 0.1 * rng.standard_normal(n)
    return X, y


def _assert_same_fit(a, b, atol=1e-6):
    np.testing.assert_allclose(a.coef_, b.coef_, atol=atol)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=atol)


@pytest.mark.parametrize("name", SOLVERS)
@pytest.mark.parametrize("est", [Lasso(alpha=0.05), ElasticNet(alpha=0.05, l1_ratio=0.6),
                                 Lasso(alpha=0.05, positive=True),
                                 Lasso(alpha=0.05, fit_intercept=False)],
                         ids=["lasso", "enet", "positive", "no-intercept"])
def test_bcd_solver_matches_working_set_cd_dense(name, est):
    X, y = _data()
    cd = clone(est).set_params(tol=1e-12).fit(X, y)
    bcd = clone(est).set_params(tol=1e-10, solver=_bcd(name)).fit(X, y)
    _assert_same_fit(bcd, cd)
    assert bcd.converged_ and bcd.dual_gap_ * X.shape[0] <= 1e-10 * float(
        (y - y.mean()) @ (y - y.mean()) if est.fit_intercept else y @ y)
    assert bcd.n_iter_ >= 1


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_bcd_solver_on_sparse_design_with_sample_weight(fit_intercept):
    X, y = _data(80, 20, seed=1)
    X[np.abs(X) < 0.8] = 0.0
    Xs = sp.csc_matrix(X)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0])
    est = ElasticNet(alpha=0.03, l1_ratio=0.8, fit_intercept=fit_intercept, tol=1e-12)
    cd = clone(est).fit(Xs, y, sample_weight=sw)
    bcd = clone(est).set_params(tol=1e-9, solver=_bcd("gsq-matrix-variable")).fit(
        Xs, y, sample_weight=sw)
    _assert_same_fit(bcd, cd)
    dense = clone(est).set_params(tol=1e-9, solver=_bcd("gsq-matrix-variable")).fit(
        X, y, sample_weight=sw)
    _assert_same_fit(bcd, dense)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_sparse_linear_regression_accepts_bcd(penalty):
    X, y = _data(seed=3)
    est = SparseLinearRegression(penalty=penalty, alpha=0.04, l1_ratio=0.5, tol=1e-12)
    cd = clone(est).fit(X, y)
    bcd = clone(est).set_params(tol=1e-10, solver=_bcd("gs-gradient-sorted")).fit(X, y)
    _assert_same_fit(bcd, cd)
    assert bcd.certificate_name_ == "duality gap" and bcd.dual_gap_ <= 1e-8


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_logistic_regression_accepts_bcd(fit_intercept):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((120, 10))
    y = (X[:, 0] - 2 * X[:, 1] + 0.3 + 0.5 * rng.standard_normal(120) > 0).astype(int)
    est = SparseLogisticRegression(alpha=0.02, fit_intercept=fit_intercept, tol=1e-10)
    cd = clone(est).fit(X, y)
    bcd = clone(est).set_params(tol=1e-8, solver=_bcd("gsq-matrix-variable")).fit(X, y)
    _assert_same_fit(bcd, cd, atol=1e-5)
    assert bcd.converged_ and bcd.certificate_name_ == "KKT violation"
    assert bcd.certificate_ <= 1e-8
    np.testing.assert_array_equal(bcd.predict(X), cd.predict(X))


def test_unsupported_combinations_raise_clear_errors():
    X, y = _data()
    with pytest.raises(ValueError, match="'l1' and 'elasticnet'.*'mcp'"):
        SparseLinearRegression(penalty="mcp", solver=_bcd("gs-gradient-sorted")).fit(X, y)
    yb = (y > 0).astype(int)
    with pytest.raises(ValueError, match="sample_weight"):
        SparseLogisticRegression(alpha=0.01, solver=_bcd("gs-gradient-sorted")).fit(
            X, yb, sample_weight=np.linspace(0.5, 2, X.shape[0]))
    with pytest.raises(ValueError, match="solver"):
        Lasso(solver="bcd").fit(X, y)
    # nonconvex estimators keep their fixed solver (not a parameter)
    assert "solver" not in MCPRegression().get_params()


def test_too_few_bcd_iterations_warn_and_report_the_gap():
    X, y = _data()
    est = Lasso(alpha=0.01, tol=1e-10, solver=BlockCoordinateDescent(
        selection="cyclic", partition="order", block_size=1, max_iter=5))
    with pytest.warns(ConvergenceWarning, match="duality gap"):
        est.fit(X, y)
    assert not est.converged_ and est.n_iter_ == 5 and est.dual_gap_ > 0


def test_clone_get_set_params_and_grid_search_over_the_solver():
    X, y = _data()
    bcd = _bcd("gs-gradient-sorted", max_iter=5000)
    est = Lasso(alpha=0.05, solver=bcd)
    params = est.get_params(deep=True)
    assert params["solver"] is bcd and params["solver__selection"] == "gs"
    twin = clone(est)
    assert twin.solver is not bcd and twin.solver.get_params() == bcd.get_params()
    est.set_params(solver__selection="gsl")
    assert est.solver.selection == "gsl"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        search = GridSearchCV(Lasso(alpha=0.05, tol=1e-6, solver=bcd),
                              {"solver__selection": ["gs", "gsq", "cyclic"]}, cv=3).fit(X, y)
    assert search.best_params_["solver__selection"] in ("gs", "gsq", "cyclic")
    # fitting never modifies the estimator's solver parameter
    before = bcd.get_params()
    Lasso(alpha=0.05, solver=bcd).fit(X, y)
    assert bcd.get_params() == before
