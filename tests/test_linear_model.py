"""Sparse regression: one test per property of the estimators and the solver."""
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

import sklearn.linear_model as sklm  # a dependency of the package: never skipped


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
    prob = cp.Problem(cp.Minimize(obj))
    # 1e-10: certified ("optimal"); at 1e-12 CLARABEL reports "optimal_inaccurate"
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert prob.status == cp.OPTIMAL, prob.status
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
    # tol=1e-6: float32 rounds the duality gap at ~6e-7 here (1e-8 stalls and warns, as
    # test_tolerance_below_the_rounding_floor_stops_early_and_warns asserts)
    c = Lasso(alpha=0.1, tol=1e-6).fit(X.astype(np.float32), y.astype(np.float32))
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
    Xc, _, _ = make_correlated_regression(4000, 3, n_informative=3, rho=0.6, random_state=0)
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


# ----------------------------------------------------------------- issue 15 regressions
# (the randomized comparisons of each class are in tests/test_correctness_linear.py)
def test_positive_lasso_reaches_the_optimum_with_a_working_set():
    """Item 1: features pushed below zero were ranked as near-active and filled the
    working set; the solver stopped at 5 non-zeros with a gap of 17."""
    rng = np.random.RandomState(2)
    X = rng.randn(50, 60)
    y = X @ rng.randn(60) + rng.randn(50)
    alpha = 0.05 * abs(X.T @ (y - y.mean())).max() / 50
    ours = Lasso(alpha=alpha, positive=True, tol=1e-10).fit(X, y)
    ref = sklm.Lasso(alpha=alpha, positive=True, tol=1e-14, max_iter=200_000).fit(X, y)
    assert ours.converged_ and ours.dual_gap_ < 1e-8
    assert np.count_nonzero(ours.coef_) == np.count_nonzero(ref.coef_) == 23
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


def test_unpenalised_features_are_fitted_and_certified():
    """Item 2: with weights 0 the gap read 0 at w = 0 (objective 1.838 vs cvxpy 0.611)."""
    import cvxpy as cp

    rng = np.random.RandomState(0)
    n, p = 60, 120
    X = rng.randn(n, p)
    y = X[:, :5] @ rng.randn(5) + rng.randn(n)
    weights = np.ones(p)
    weights[[3, 50, 100]] = 0
    for alpha in (0.8, 2.0):
        reg = SparseLinearRegression(alpha=alpha, weights=weights, fit_intercept=False,
                                     tol=1e-10).fit(X, y)
        b = cp.Variable(p)
        prob = cp.Problem(cp.Minimize(cp.sum_squares(y - X @ b) / (2 * n)
                                      + alpha * weights @ cp.abs(b)))
        prob.solve(solver=cp.CLARABEL)
        obj = np.sum((y - X @ reg.coef_) ** 2) / (2 * n) + alpha * weights @ np.abs(reg.coef_)
        assert obj == pytest.approx(prob.value, rel=1e-6)
        assert np.all(reg.coef_[[3, 50, 100]] != 0)
        # the certificate of the start w = 0 is not 0
        res = working_set_cd(X, y, L1(alpha, weights=weights), max_iter=1, p0=1, tol=0)
        obj0 = np.sum(y ** 2) / (2 * n)
        assert res.history[0]["certificate"] >= obj0 - prob.value - 1e-12


def test_alpha_max_after_fitting_unpenalised_features():
    rng = np.random.RandomState(1)
    X = rng.randn(40, 30)
    y = X[:, 0] * 3 + X[:, 1] + rng.randn(40)
    Xc, yc = X - X.mean(0), y - y.mean()
    weights = np.ones(30)
    weights[0] = 0
    alphas, coefs, _, info = sparse_path(Xc, yc, alphas=3, eps=0.5, weights=weights, tol=1e-12)
    u = Xc[:, 0] @ yc / (Xc[:, 0] @ Xc[:, 0])
    r = yc - u * Xc[:, 0]
    assert info["alpha_max"] == pytest.approx(np.abs(Xc[:, 1:].T @ r).max() / 40, rel=1e-10)
    # (the argmax feature sits exactly on the boundary at alpha_max: a rounding error may move it)
    assert coefs[0, 0] == pytest.approx(u, rel=1e-8) and np.abs(coefs[1:, 0]).max() < 1e-12
    assert np.any(coefs[1:, 1] != 0)


@pytest.mark.parametrize("sparse_input", [False, True])
def test_positive_group_lasso(sparse_input):
    """Item 3: AttributeError on dense X, constraint ignored on CSC X."""
    rng = np.random.RandomState(0)
    X = rng.randn(50, 12)
    y = X @ np.r_[1.0, -2.0, 0.5, 0, 0, 0, -1.0, 0, 0, 2.0, 0, 0] + 0.1 * rng.randn(50)
    Xin = sp.csc_matrix(X) if sparse_input else X
    reg = SparseLinearRegression(penalty="group_lasso", groups=3, alpha=0.05, positive=True,
                                 tol=1e-10, max_iter=500).fit(Xin, y)
    assert reg.coef_.min() >= 0 and reg.converged_
    assert np.count_nonzero(reg.coef_) > 0


def test_positive_with_full_preconditioner_is_rejected():
    """Item 6: w >= 0 on the transformed coefficients is not coef_ >= 0 for a full P."""
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 10), rng.randn(40)
    for P in ("whiten", np.eye(10) + 0.1, -np.ones(10)):
        with pytest.raises(ValueError, match="positive=True needs a diagonal"):
            Lasso(alpha=0.01, positive=True, preconditioner=P).fit(X, y)
    reg = Lasso(alpha=0.01, positive=True, preconditioner="standardize").fit(X * np.linspace(1, 10, 10), y)
    assert reg.coef_.min() >= 0


def test_negative_alphas_are_rejected_without_hanging():
    """Item 7: a negative alpha made CD diverge forever when p > n."""
    rng = np.random.RandomState(0)
    X, y = rng.randn(20, 30), rng.randn(20)
    with pytest.raises(ValueError, match="alphas"):
        sparse_path(X, y, alphas=[-0.1])
    with pytest.raises(ValueError, match="alphas"):
        LassoCV(alphas=(1, -1, -100)).fit(X, y)
    with pytest.raises(ValueError, match="eps"):
        sparse_path(X, y, eps=-1.0)


def test_lasso_cv_grid_uses_weights_and_positive():
    """Item 8: the grid's alpha_max must give the zero model on the weighted data."""
    X = np.array([[3.0, -1], [2, -5], [5, -3], [1, -4]])
    y = X @ [1.0, -2.0]
    sw = [1, 10, 1, 10]
    cv = LassoCV(alphas=1, cv=2, fit_intercept=False).fit(X, y, sample_weight=sw)
    assert np.all(cv.coef_ == 0)
    ref = sklm.LassoCV(alphas=1, cv=2, fit_intercept=False).fit(X, y, sample_weight=sw)
    assert cv.alphas_[0] == pytest.approx(ref.alphas_[0], rel=1e-12)
    pos = LassoCV(alphas=1, cv=2, fit_intercept=False, positive=True).fit(-X, y)
    assert pos.alphas_[0] == pytest.approx(max((-X).T @ y) / 4, rel=1e-12)
    assert np.all(pos.coef_ == 0)


def test_sparse_path_rejects_unknown_keywords():
    """Item 9."""
    X, y = np.random.RandomState(0).randn(10, 4), np.ones(10)
    with pytest.raises(TypeError, match="normalize"):
        sparse_path(X, y, fit_intercept=True, normalize=True)
    with pytest.raises(TypeError, match="penalty name"):
        sparse_path(X, y, penalty=L1(1.0), weights=np.ones(4))


def test_working_set_cd_validates_before_the_kernel():
    """Item 11: a short w_init was written past its end (heap corruption); run in a
    subprocess so that a regression crashes the child, not the test session."""
    import subprocess
    import sys

    code = ("import numpy as np\n"
            "from sparseopt.optimize import working_set_cd\n"
            "from sparseopt.optimize._penalties import L1\n"
            "X = np.random.RandomState(0).randn(50, 2000)\n"
            "try:\n"
            "    working_set_cd(X, X[:, 0], L1(0.001), w_init=np.zeros(1), anderson=False,\n"
            "                   p0=2000, max_iter=2)\n"
            "except ValueError as e:\n"
            "    print('ValueError', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "w_init has shape (1,)" in out.stdout


@pytest.mark.parametrize("case", ["w_init_nan", "w_init_2d", "y_short", "y_nan", "X_nan",
                                  "X_complex", "logistic_weights", "gram_shape", "gram_wrong",
                                  "tol", "p0", "X_mean", "row_scale", "no_rows"])
def test_working_set_cd_input_errors(case):
    """Items 11-13: every argument checked (shape, dtype, finiteness, consistency)."""
    from sparseopt.optimize._datafits import Logistic

    rng = np.random.RandomState(0)
    X, y = rng.randn(30, 8), rng.randn(30)
    kw, args = {}, [X, y, L1(0.01)]
    if case == "w_init_nan":
        kw["w_init"] = np.full(8, np.nan)
    elif case == "w_init_2d":
        kw["w_init"] = np.zeros((8, 1))
    elif case == "y_short":
        args[1] = y[:5]
    elif case == "y_nan":
        args[1] = np.where(np.arange(30) == 3, np.nan, y)
    elif case == "X_nan":
        args[0] = np.where(X > 2, np.inf, X)
    elif case == "X_complex":
        args[0] = X.astype(complex)
    elif case == "logistic_weights":  # item 12: read past a length-1 weight vector
        args = [X, np.sign(y), L1(0.01), Logistic(np.ones(1))]
    elif case == "gram_shape":
        kw.update(gram=True, gram_matrix=np.zeros((7, 7)))
    elif case == "gram_wrong":  # item 13: ran for minutes
        kw.update(gram=True, gram_matrix=np.zeros((8, 8)))
    elif case == "tol":
        kw["tol"] = -1.0
    elif case == "p0":
        kw["p0"] = 0
    elif case == "X_mean":
        args[0] = sp.csc_matrix(X)
        kw["X_mean"] = np.zeros(3)
    elif case == "row_scale":
        args[0] = sp.csc_matrix(X)
        kw["row_scale"] = np.ones(29)
    elif case == "no_rows":
        args[:2] = [X[:0], y[:0]]
    error = TypeError if case == "X_complex" else ValueError
    with pytest.raises(error):
        working_set_cd(*args, **kw)


def test_unsorted_read_only_csc_is_never_modified():
    """Item 15: the caller's CSC indices were sorted in place (and read-only data failed)."""
    rng = np.random.RandomState(0)
    dense = rng.randn(30, 12) * (rng.rand(30, 12) < 0.5)
    X = sp.csc_matrix(dense)
    for j in range(12):  # reverse every column's row order
        a, b = X.indptr[j], X.indptr[j + 1]
        X.indices[a:b] = X.indices[a:b][::-1].copy()
        X.data[a:b] = X.data[a:b][::-1].copy()
    X.has_sorted_indices = False
    for arr in (X.data, X.indices, X.indptr):
        arr.setflags(write=False)
    indices, data = X.indices.copy(), X.data.copy()
    y = rng.randn(30)
    _, coefs, _, _ = sparse_path(X, y, alphas=3, tol=1e-10)
    res = working_set_cd(X, y, L1(0.01), tol=1e-10)
    np.testing.assert_array_equal(X.indices, indices)
    np.testing.assert_array_equal(X.data, data)
    ref = working_set_cd(dense, y, L1(0.01), tol=1e-10)
    np.testing.assert_allclose(res.coef, ref.coef, atol=1e-8)


@pytest.mark.parametrize("case", ["list", "float16", "complex", "short_y", "zero_rows",
                                  "nan", "alphas_nan", "alphas_empty", "alphas_zero_int"])
def test_sparse_path_validates_its_inputs(case):
    """Item 17: sparse_path validated nothing."""
    rng = np.random.RandomState(0)
    X, y = rng.randn(20, 6), rng.randn(20)
    kw = {"alphas": 3}
    if case == "list":  # accepted, as array-likes are elsewhere
        alphas, coefs, _, _ = sparse_path(X.tolist(), y.tolist(), alphas=3)
        assert coefs.shape == (6, 3)
        return
    if case == "float16":  # computed in float64
        _, coefs, _, _ = sparse_path(X.astype(np.float16), y, alphas=3)
        assert coefs.dtype == np.float64
        return
    error = ValueError
    if case == "complex":
        X, error = X.astype(complex), TypeError
    elif case == "short_y":
        y = y[:4]
    elif case == "zero_rows":
        X, y = X[:0], y[:0]
    elif case == "nan":
        X = np.where(X > 1.5, np.nan, X)
    elif case == "alphas_nan":
        kw["alphas"] = [0.1, np.nan]
    elif case == "alphas_empty":
        kw["alphas"] = []
    elif case == "alphas_zero_int":
        kw["alphas"] = 0
    with pytest.raises(error):
        sparse_path(X, y, **kw)


def test_scalar_sample_weight_and_empty_group():
    """Item 17: a scalar sample_weight is a constant weight (scikit-learn); an empty group
    raises a clear ValueError instead of an IndexError."""
    rng = np.random.RandomState(0)
    X, y = rng.randn(30, 6), rng.randn(30)
    a = Lasso(alpha=0.05).fit(X, y, sample_weight=3.0)
    b = Lasso(alpha=0.05).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-10)
    with pytest.raises(ValueError, match="empty group"):
        SparseLinearRegression(penalty="group_lasso", groups=[[0, 1], [], [2, 3, 4, 5]]).fit(X, y)


def test_many_unpenalised_features_fall_back_to_the_kkt_certificate(monkeypatch):
    """Beyond the dense budget of the free block the solvers certify with the KKT
    violation (never with a gap whose dual point ignores the free features)."""
    from sparseopt.optimize import BlockCoordinateDescent
    from sparseopt.optimize.working_set_cd import _FreeFeatures

    rng = np.random.RandomState(0)
    X = rng.randn(40, 30)
    y = X[:, :3] @ [1.0, -2.0, 0.5] + 0.1 * rng.randn(40)
    weights = np.r_[np.zeros(3), np.ones(27)]
    ref = SparseLinearRegression(alpha=0.1, weights=weights, tol=1e-12).fit(X, y)
    assert ref.certificate_name_ == "duality gap"
    monkeypatch.setattr(_FreeFeatures, "BUDGET", 0)
    bcd = BlockCoordinateDescent(partition="variable", selection="gsq", update="matrix",
                                 block_size=3, max_iter=3000, tol=1e-13)
    for solver in ("cd", bcd):
        reg = SparseLinearRegression(alpha=0.1, weights=weights, tol=1e-9, solver=solver).fit(X, y)
        assert reg.certificate_name_ == "KKT violation" and reg.dual_gap_ is None
        assert reg.converged_
        np.testing.assert_allclose(reg.coef_, ref.coef_, atol=1e-7)


@pytest.mark.parametrize("call", [
    "prox_list", "prox_nan", "prox_empty", "prox_w_init", "prox_complex_y", "gap_list",
    "gap_nan_y", "gap_neg_l1", "gap_nan_l2", "enet_neg_l1", "logistic_labels",
    "path_complex_alphas"])
def test_public_solvers_validate_inputs(call):
    """Fuzz findings: every public entry point of the least-squares solvers raises a clear
    ValueError / TypeError up front (lists are accepted as arrays)."""
    from sparseopt.optimize import enet_duality_gap, enet_working_set_cd, prox_gradient
    from sparseopt.optimize._datafits import Logistic

    rng = np.random.RandomState(0)
    X, y = rng.randn(30, 8), rng.randn(30)
    Xnan = np.where(X > 2, np.nan, X)
    cases = {
        "prox_list": lambda: prox_gradient(X.tolist(), y, L1(0.1)),
        "prox_nan": lambda: prox_gradient(Xnan, y, L1(0.1)),
        "prox_empty": lambda: prox_gradient(X[:0], y[:0], L1(0.1)),
        "prox_w_init": lambda: prox_gradient(X, y, L1(0.1), w_init=np.zeros(7)),
        "prox_complex_y": lambda: prox_gradient(X, y.astype(complex), L1(0.1)),
        "gap_list": lambda: enet_duality_gap(X.tolist(), y, np.zeros(8), 0.1),
        "gap_nan_y": lambda: enet_duality_gap(X, np.r_[np.nan, y[1:]], np.zeros(8), 0.1),
        "gap_neg_l1": lambda: enet_duality_gap(X, y, np.zeros(8), -1.0),
        "gap_nan_l2": lambda: enet_duality_gap(X, y, np.zeros(8), 0.1, np.nan),
        "enet_neg_l1": lambda: enet_working_set_cd(X, y, -1.0, 2.0),
        "logistic_labels": lambda: working_set_cd(X, y, L1(0.01), Logistic()),
        "path_complex_alphas": lambda: sparse_path(X, y, alphas=np.array([0.1 + 1j])),
    }
    if call == "prox_list":
        assert prox_gradient(X.tolist(), y, L1(0.1)).coef.shape == (8,)
        return
    if call == "gap_list":
        assert np.isfinite(enet_duality_gap(X.tolist(), y, np.zeros(8), 0.1)[0])
        return
    with pytest.raises((ValueError, TypeError)) as info:
        cases[call]()
    assert not isinstance(info.value, np.linalg.LinAlgError)


def test_extreme_scale_estimators():
    """Fuzz findings: Lasso / MCP on X * 1e200 are equivariant; SCAD (not equivariant in X)
    says why it cannot fit; LassoCV on y * 1e200 selects the same alpha (times 1e200)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    y = X @ rng.standard_normal(8) + rng.standard_normal(60)
    ref = MCPRegression(alpha=0.1, tol=1e-10).fit(X, y)
    # gamma scales as 1 / c^2: c = 2^300 keeps 3 * 2^-600 representable
    c = 2.0 ** 300
    big = MCPRegression(alpha=0.1 * c, gamma=3.0 / c / c, tol=1e-10).fit(X * c, y)
    np.testing.assert_allclose(big.coef_ * c, ref.coef_, atol=1e-8)
    with pytest.raises(ValueError, match="standardise X"):
        SCADRegression(alpha=0.1).fit(X * 1e200, y)
    a = LassoCV(cv=3, alphas=10).fit(X, y)
    # the objective-unit values (~1e400) overflow: said, and the choice is still exact
    with pytest.warns(RuntimeWarning, match="not representable"):
        b = LassoCV(cv=3, alphas=10).fit(X, y * 1e200)
    assert b.alpha_ / 1e200 == pytest.approx(a.alpha_, rel=1e-10)
    np.testing.assert_allclose(b.coef_ / 1e200, a.coef_, atol=1e-10)
    with pytest.warns(RuntimeWarning, match="not representable"):
        las = Lasso(alpha=0.1 * 1e200).fit(X, y * 1e200)
    assert las.converged_
    np.testing.assert_allclose(las.coef_ / 1e200, Lasso(alpha=0.1).fit(X, y).coef_, atol=1e-10)
