"""Sparse regression: one test per property of the spec (sparse_regression.md)."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sparseopt.datasets import (make_correlated_regression, make_random_support_regression,
                                make_sparse_design_regression)
from sparseopt.linear_model import (ElasticNet, Lasso, LassoCV, MCPRegression, SCADRegression,
                                    SparseLinearRegression, SparseLinearRegressionCV,
                                    SparseLogisticRegression, sparse_path)
from sparseopt.optimize import enet_duality_gap, working_set_cd
from sparseopt.optimize._penalties import L1

sklm = pytest.importorskip("sklearn.linear_model")


@pytest.fixture(scope="module")
def problem():
    X, y, w = make_correlated_regression(60, 150, n_informative=5, rho=0.6, random_state=0)
    return X, y, w


# ----------------------------------------------------------------- anchors
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("sparse_input", [False, True])
def test_lasso_matches_sklearn(problem, fit_intercept, sparse_input):
    X, y, _ = problem
    Xin = sp.csc_matrix(X * (np.abs(X) > 0.5)) if sparse_input else X
    alpha = 0.05 * np.max(np.abs(X.T @ y)) / X.shape[0]
    ours = Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=200).fit(Xin, y)
    ref = sklm.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14,
                     max_iter=100_000).fit(Xin, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)


def test_elastic_net_matches_sklearn_with_sample_weight(problem):
    X, y, _ = problem
    sw = np.random.default_rng(1).uniform(0.2, 2.0, X.shape[0])
    ours = ElasticNet(alpha=0.1, l1_ratio=0.7, tol=1e-12, max_iter=200).fit(X, y, sw)
    ref = sklm.ElasticNet(alpha=0.1, l1_ratio=0.7, tol=1e-14, max_iter=100_000).fit(X, y, sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


def test_sparse_path_matches_lasso_path(problem):
    X, y, _ = problem
    Xc, yc = X - X.mean(0), y - y.mean()
    alphas, coefs, gaps, info = sparse_path(Xc, yc, alphas=10, eps=1e-2, tol=1e-12)
    _, ref, _ = sklm.lasso_path(Xc, yc, alphas=alphas, tol=1e-14, max_iter=100_000)
    np.testing.assert_allclose(coefs, ref, atol=1e-6)
    assert all(info["converged"]) and np.all(gaps * Xc.shape[0] <= 1e-12 * (yc @ yc) + 1e-15)


def test_logistic_l1_matches_sklearn():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 15))
    y = (X[:, 0] - 2 * X[:, 1] + 0.5 * rng.standard_normal(120) > 0).astype(int)
    alpha = 0.03
    ours = SparseLogisticRegression(alpha=alpha, tol=1e-10, max_iter=200).fit(X, y)
    # independent reference: the same objective written in cvxpy
    import cvxpy as cp
    w, b = cp.Variable(15), cp.Variable()
    ypm = 2 * y - 1
    obj = cp.sum(cp.logistic(-cp.multiply(ypm, X @ w + b))) / 120 + alpha * cp.norm1(w)
    cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL)
    np.testing.assert_allclose(ours.coef_[0], w.value, atol=1e-5)
    assert ours.intercept_[0] == pytest.approx(b.value, abs=1e-5)


# ----------------------------------------------------------------- cvxpy on convex problems
def _cvxpy_solve(X, y, penalty_fn):
    cp = pytest.importorskip("cvxpy")
    w = cp.Variable(X.shape[1])
    obj = cp.sum_squares(y - X @ w) / (2 * X.shape[0]) + penalty_fn(cp, w)
    cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                       tol_gap_rel=1e-12, tol_feas=1e-12)
    return w.value


def test_lasso_enet_group_lasso_match_cvxpy():
    X, y, _ = make_correlated_regression(40, 12, n_informative=4, random_state=3)
    kw = {"fit_intercept": False, "tol": 1e-14, "max_iter": 500}
    w = Lasso(alpha=0.1, **kw).fit(X, y).coef_
    np.testing.assert_allclose(w, _cvxpy_solve(X, y, lambda cp, v: 0.1 * cp.norm1(v)), atol=1e-6)
    w = ElasticNet(alpha=0.2, l1_ratio=0.6, **kw).fit(X, y).coef_
    ref = _cvxpy_solve(X, y, lambda cp, v: 0.12 * cp.norm1(v) + 0.04 * cp.sum_squares(v))
    np.testing.assert_allclose(w, ref, atol=1e-6)
    groups = [[0, 1, 2], [3, 4], [5, 6, 7, 8], [9, 10, 11]]
    w = SparseLinearRegression("group_lasso", alpha=0.15, groups=groups, **kw).fit(X, y).coef_
    ref = _cvxpy_solve(X, y, lambda cp, v: 0.15 * sum(np.sqrt(len(g)) * cp.norm(v[g], 2)
                                                      for g in groups))
    np.testing.assert_allclose(w, ref, atol=1e-6)


# ----------------------------------------------------------------- alpha_max
@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "mcp", "scad", "log_sum", "cel0",
                                     "group_lasso"])
def test_zero_at_alpha_max(problem, penalty):
    X, y, _ = problem
    Xc, yc = X - X.mean(0), y - y.mean()
    alphas, coefs, _, info = sparse_path(Xc, yc, penalty=penalty, alphas=3, eps=0.5,
                                         groups=3, tol=1e-10)
    assert np.all(coefs[:, 0] == 0.0), "w must be exactly 0 at alpha_max"
    assert np.any(coefs[:, 1] != 0.0), "w must leave 0 below alpha_max"
    est = SparseLinearRegression(penalty, alpha=1.0001 * alphas[0], groups=3).fit(X, y)
    assert np.all(est.coef_ == 0.0)


# ----------------------------------------------------------------- nonconvex KKT
@pytest.mark.parametrize("penalty", ["mcp", "scad", "log_sum", "cel0", "l_half",
                                     "l_two_thirds", "l0"])
def test_nonconvex_stops_on_kkt_and_recovers_support(penalty):
    X, y, w_true = make_correlated_regression(150, 60, n_informative=4, rho=0.3, snr=20,
                                              random_state=2)
    alpha = {"l0": 0.05, "cel0": 0.05, "l_half": 0.1, "l_two_thirds": 0.1}.get(penalty, 0.2)
    est = SparseLinearRegression(penalty, alpha=alpha, tol=1e-8, fit_intercept=False).fit(X, y)
    assert est.converged_ and est.certificate_name_ == "KKT violation"
    assert est.certificate_ <= 1e-8
    assert set(np.flatnonzero(est.coef_)) == set(np.flatnonzero(w_true))


def test_mcp_kkt_recomputed_independently(problem):
    X, y, _ = problem
    est = MCPRegression(alpha=0.3, gamma=3.0, fit_intercept=False, tol=1e-10).fit(X, y)
    w, n = est.coef_, X.shape[0]
    grad = -X.T @ (y - X @ w) / n
    nz = w != 0
    deriv = np.sign(w[nz]) * np.maximum(0.3 - np.abs(w[nz]) / 3.0, 0)
    assert np.max(np.abs(grad[nz] + deriv)) <= 1e-9
    assert np.max(np.maximum(np.abs(grad[~nz]) - 0.3, 0)) <= 1e-9


def test_scad_regression_and_convergence_warning(problem):
    X, y, _ = problem
    with pytest.warns(ConvergenceWarning):
        SCADRegression(alpha=0.01, max_iter=1, max_epochs=1, tol=1e-12).fit(X, y)


# ----------------------------------------------------------------- solver features
def test_screening_anderson_and_gram_do_not_change_the_solution(problem):
    X, y, _ = problem
    pen = L1(0.02 * np.max(np.abs(X.T @ y)) / X.shape[0])
    base = working_set_cd(X, y, pen, tol=1e-12, screening=False, anderson=False,
                          dual_extrapolation=False)
    fast = working_set_cd(X, y, pen, tol=1e-12)
    np.testing.assert_allclose(fast.coef, base.coef, atol=1e-9)
    strong = working_set_cd(X, y, L1(0.5 * pen.alpha * 20), tol=1e-12)
    assert strong.n_screened > 0
    Xt, yt, _ = make_correlated_regression(2000, 40, random_state=0)
    g = working_set_cd(Xt, yt, L1(0.01), tol=1e-12, gram=True)
    d = working_set_cd(Xt, yt, L1(0.01), tol=1e-12, gram=False)
    assert g.design == "gram" and d.design == "dense"
    np.testing.assert_allclose(g.coef, d.coef, atol=1e-9)


def test_duality_gap_certifies_anchor_outputs(problem):
    X, y, _ = problem
    alpha = 0.1
    ref = sklm.Lasso(alpha=alpha, fit_intercept=False, tol=1e-10, max_iter=100_000).fit(X, y)
    gap, primal, dual = enet_duality_gap(X, y, ref.coef_, alpha)
    assert gap == pytest.approx(ref.dual_gap_, rel=1e-6, abs=1e-12)
    assert dual <= primal


def test_group_lasso_zeroes_whole_groups():
    X, y, _ = make_correlated_regression(80, 30, n_informative=3, random_state=4)
    est = SparseLinearRegression("group_lasso", alpha=0.3, groups=5, tol=1e-10).fit(X, y)
    norms = np.linalg.norm(est.coef_.reshape(6, 5), axis=1)
    assert np.all((norms == 0) | np.all(est.coef_.reshape(6, 5) != 0, axis=1))
    assert est.dual_gap_ is not None and est.converged_


def test_sef_recovers_k_sparse_signal():
    X, y, w_true = make_correlated_regression(200, 40, n_informative=3, rho=0.2, snr=50,
                                              random_state=5)
    est = SparseLinearRegression("sef", alpha=0.05, k=3, nonconvex=True, tol=1e-7,
                                 max_iter=200, fit_intercept=False).fit(X, y)
    top3 = set(np.argsort(-np.abs(est.coef_))[:3])
    assert top3 == set(np.flatnonzero(w_true))


def test_float32_and_sparse_agree(problem):
    X, y, _ = problem
    Xs = sp.csc_matrix(X * (np.abs(X) > 0.7))
    a = SparseLinearRegression("mcp", alpha=0.1, tol=1e-10).fit(Xs, y)
    b = SparseLinearRegression("mcp", alpha=0.1, tol=1e-10).fit(Xs.toarray(), y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
    c = Lasso(alpha=0.1, tol=1e-8).fit(X.astype(np.float32), y.astype(np.float32))
    d = Lasso(alpha=0.1, tol=1e-12).fit(X, y)
    assert c.coef_.dtype == np.float32
    np.testing.assert_allclose(c.coef_, d.coef_, atol=1e-3)


@pytest.mark.parametrize("case", ["scad-sparse", "logistic-l1", "logistic-mcp"])
def test_tolerance_below_the_rounding_floor_stops_early_and_warns(case):
    """float32 data with tol=1e-10: the certificate stalls at float32 rounding; the solver
    stops on stagnation with a ConvergenceWarning instead of running its whole budget of
    max_iter outer iterations of up to 50,000 epochs (50-90 s on this 60 x 15 problem before)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 15)).astype(np.float32)
    y = (X[:, :3] @ np.ones(3) + 0.1 * rng.standard_normal(60)).astype(np.float32)
    if case == "scad-sparse":
        est, Xin, yin = SCADRegression(alpha=0.01, tol=1e-10), sp.csc_matrix(X), y
    else:
        est = SparseLogisticRegression(penalty=case.split("-")[1], alpha=0.01, tol=1e-10)
        # label noise: not separable, so the MCP problem has a finite minimiser
        Xin, yin = X, (y + 2 * rng.standard_normal(60) > 0).astype(np.float32)
    with pytest.warns(ConvergenceWarning):
        est.fit(Xin, yin)
    assert est.coef_.dtype == np.float32 and np.all(np.isfinite(est.coef_))
    assert est.n_iter_ < est.max_iter  # stopped on stagnation, not on the budget
    # the stalled fit is still a float32-accurate solution: the float64 fit agrees
    ref = clone(est).set_params(tol=1e-8).fit(Xin.astype(np.float64), yin.astype(np.float64))
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-3)


# ----------------------------------------------------------------- CV and preconditioner
def test_lasso_cv_selects_like_sklearn(problem):
    X, y, _ = problem
    ours = LassoCV(alphas=10, cv=3, tol=1e-8).fit(X, y)
    ref = sklm.LassoCV(alphas=10, cv=3, tol=1e-8, max_iter=100_000).fit(X, y)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-10)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-3)


def test_sparse_linear_regression_cv_runs_each_penalty():
    X, y, w = make_correlated_regression(90, 30, n_informative=3, snr=10, random_state=6)
    est = SparseLinearRegressionCV("scad", alphas=8, cv=3).fit(X, y)
    assert est.mse_path_.shape == (8, 3) and set(np.flatnonzero(est.coef_)) >= set(
        np.flatnonzero(w))


def test_preconditioner_identity_and_back_transform():
    X, y, _ = make_random_support_regression(60, 20, 3, cond=10.0, random_state=0)
    plain = Lasso(alpha=0.01, tol=1e-12).fit(X, y)
    ident = Lasso(alpha=0.01, tol=1e-12, preconditioner=np.eye(20)).fit(X, y)
    np.testing.assert_allclose(ident.coef_, plain.coef_, atol=1e-10)
    P = np.diag(np.linspace(0.5, 2.0, 20))
    pre = Lasso(alpha=0.01, tol=1e-12, preconditioner=P).fit(X, y)
    # equals a weighted Lasso: coef = P w~ with w~ the Lasso on X P
    inner = Lasso(alpha=0.01, tol=1e-12).fit(X @ P, y)
    np.testing.assert_allclose(pre.coef_, P @ inner.coef_, atol=1e-10)
    diag = Lasso(alpha=0.01, tol=1e-12, preconditioner=np.linspace(0.5, 2.0, 20)).fit(X, y)
    np.testing.assert_allclose(diag.coef_, pre.coef_, atol=1e-10)
    std = Lasso(alpha=0.01, tol=1e-12, preconditioner="standardize").fit(X, y)
    assert std.coef_.shape == (20,) and np.all(np.isfinite(std.coef_))
    with pytest.raises(ValueError, match="shape"):
        Lasso(preconditioner=np.eye(3)).fit(X, y)


def test_datasets_return_ground_truth():
    X, y, w = make_sparse_design_regression(200, 500, density=0.01, random_state=0)
    assert sp.isspmatrix_csc(X) and (w != 0).sum() == 20
    X2, _, _ = make_sparse_design_regression(200, 500, density=0.01, random_state=0)
    assert (X != X2).nnz == 0
    Xc, _, _ = make_correlated_regression(4000, 3, rho=0.6, random_state=0)
    assert np.corrcoef(Xc.T)[0, 1] == pytest.approx(0.6, abs=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_random_support_regression(30, 10, 2, design="ar1", random_state=0)


def test_path_cache_reuses_sparse_design_without_changing_results():
    # a path passes one cache dict: X-only preprocessing, the last residual and the last
    # full gradient are reused at the next alpha; coefficients must not change
    rng = np.random.default_rng(0)
    X = sp.random(80, 120, density=0.1, format="csc", random_state=1)
    y = rng.standard_normal(80)
    X_mean = np.asarray(X.mean(axis=0)).ravel()
    row_scale = rng.uniform(0.5, 1.5, 80)
    amax = np.max(np.abs(X.T @ y)) / 80
    cache, w_c, w_n = {}, np.zeros(120), np.zeros(120)
    for a in np.geomspace(amax, amax / 50, 6):
        r_c = working_set_cd(X, y, L1(a), w_init=w_c, X_mean=X_mean, row_scale=row_scale,
                             tol=1e-10, cache=cache)
        r_n = working_set_cd(X, y, L1(a), w_init=w_n, X_mean=X_mean, row_scale=row_scale,
                             tol=1e-10)
        # both are certified to a relative gap of 1e-10: same objective, coefficients
        # equal up to the accuracy the gap implies (the cached residual carries the CD
        # updates' rounding instead of a fresh y - Xw)
        assert r_c.converged and r_n.converged
        assert r_c.objective == pytest.approx(r_n.objective, rel=1e-9)
        np.testing.assert_allclose(r_c.coef, r_n.coef, atol=1e-6)
        w_c, w_n = r_c.coef, r_n.coef
    assert "sparse_design" in cache and "last_state" in cache


def test_no_l1_part_is_certified_by_the_smooth_dual_not_by_w_equal_0():
    # alpha=0 / l1_ratio=0 used to return w = 0 with a zero "gap" (the rescaled dual point
    # of the L1 case is not feasible without an L1 part)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 15))
    y = X @ rng.standard_normal(15) + 0.1 * rng.standard_normal(60)
    with pytest.warns(UserWarning, match="alpha=0"):
        ols = Lasso(alpha=0.0, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ols.coef_, sklm.LinearRegression().fit(X, y).coef_, atol=1e-8)
    enet = ElasticNet(alpha=0.1, l1_ratio=0.0, tol=1e-12).fit(X, y)
    ridge = sklm.Ridge(alpha=0.1 * 60).fit(X, y)
    np.testing.assert_allclose(enet.coef_, ridge.coef_, atol=1e-5)
    assert enet.converged_ and enet.dual_gap_ < 1e-10
    # at w = 0 the certificates are positive (exact suboptimality for least squares)
    Xc, yc = X - X.mean(0), y - y.mean()
    gap_ridge = enet_duality_gap(Xc, yc, np.zeros(15), l1=0.0, l2=0.1)[0]
    gap_ls = enet_duality_gap(Xc, yc, np.zeros(15), l1=0.0, l2=0.0)[0]
    w_ls = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    exact = (yc @ yc - (yc - Xc @ w_ls) @ (yc - Xc @ w_ls)) / (2 * 60)
    assert gap_ridge > 1.0 and gap_ls == pytest.approx(exact, rel=1e-10)
