"""Sparse logistic regression against independent references over many random problems.

Objective (scikit-learn's ``C = 1 / (n alpha)`` with unit weights)::

    (1/n) sum_i s_i log(1 + exp(-y_i (x_i^T w + b))) + alpha l1_ratio ||w||_1
        + alpha (1 - l1_ratio) / 2 ||w||^2

References: cvxpy (CLARABEL, exponential cone) for the convex penalties, skglm
for MCP, and a duality gap / KKT residual recomputed here from the formulas
(not through the library) for the certificate.
"""
import warnings

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import entr
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sparseopt.linear_model import SparseLogisticRegression
from sparseopt.optimize import working_set_cd
from sparseopt.optimize._datafits import Logistic
from sparseopt.optimize._penalties import L1, ElasticNetPenalty


def _primal(X, ypm, s, alpha, l1_ratio, w, b):
    z = X @ w + b
    return (float(s @ np.logaddexp(0.0, -ypm * z)) / X.shape[0]
            + alpha * l1_ratio * np.abs(w).sum() + 0.5 * alpha * (1 - l1_ratio) * float(w @ w))


def _independent_gap(X, ypm, s, alpha, l1_ratio, w, b, fit_intercept):
    """P(w, b) - D(theta) with theta from the loss gradient, written out here.

    rho_i = sigma(-y_i z_i); with an intercept, 1^T theta = 0 is restored by scaling
    the larger class sum down; then rho is scaled into the L1 constraints (lasso) or the
    ridge conjugate (l1_ratio < 1) is used. D = sum_i c_i H(rho_i) - sum_j conj_j.
    """
    n = X.shape[0]
    c = s / n
    z = X @ w + b
    rho = 1.0 / (1.0 + np.exp(ypm * z))
    if fit_intercept:
        a_pos, a_neg = c[ypm > 0] @ rho[ypm > 0], c[ypm < 0] @ rho[ypm < 0]
        if a_pos > a_neg:
            rho[ypm > 0] *= a_neg / a_pos
        else:
            rho[ypm < 0] *= a_pos / a_neg
    v = X.T @ (c * ypm * rho)
    lam1, lam2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    if lam2 == 0:
        t = min(1.0, lam1 / np.abs(v).max()) if np.abs(v).max() > 0 else 1.0
        conj = 0.0
    else:
        t = 1.0
        conj = float(np.sum(np.maximum(np.abs(v) - lam1, 0) ** 2) / (2 * lam2))
    dual = float(c @ (entr(t * rho) + entr(1 - t * rho))) - conj
    return _primal(X, ypm, s, alpha, l1_ratio, w, b) - dual


def _cvxpy_reference(X, ypm, s, alpha, l1_ratio, fit_intercept):
    n, p = X.shape
    w = cp.Variable(p)
    b = cp.Variable() if fit_intercept else 0.0
    loss = cp.sum(cp.multiply(s, cp.logistic(-cp.multiply(ypm, X @ w + b)))) / n
    pen = alpha * l1_ratio * cp.norm1(w) + 0.5 * alpha * (1 - l1_ratio) * cp.sum_squares(w)
    prob = cp.Problem(cp.Minimize(loss + pen))
    # 1e-10: the tightest CLARABEL tolerance certified ("optimal", not "optimal_inaccurate")
    # on all 60 problems; well inside the 1e-8 relative tolerance of the comparison
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert prob.status == cp.OPTIMAL, prob.status
    return prob.value


def _random_problem(rng, n_range=(10, 60), p_range=(1, 25)):
    n = int(rng.integers(*n_range))
    p = int(rng.integers(*p_range))
    X = rng.standard_normal((n, p)) * rng.choice([0.1, 1.0, 10.0])
    w0 = rng.standard_normal(p) * (rng.random(p) < 0.4)
    noise = rng.choice([0.3, 1.0, 3.0])
    y = (X @ w0 + noise * rng.standard_normal(n) > rng.choice([0.0, 0.5])).astype(int)
    if np.unique(y).size < 2:
        y[0] = 1 - y[0]
    return X, y, np.where(y == 1, 1.0, -1.0)


def _alpha_max(X, ypm, s, l1_ratio, fit_intercept):
    n = X.shape[0]
    b0 = np.log(s[ypm > 0].sum() / s[ypm < 0].sum()) if fit_intercept else 0.0
    return np.abs(X.T @ (s * ypm / (1 + np.exp(ypm * b0)))).max() / n / l1_ratio


def test_l1_and_elastic_net_logistic_match_cvxpy_with_certificate():
    """60 random problems: intercept or not, weights, sparse X, float32, l1 / elastic net,
    alpha from 2% of alpha_max to above it. Objective equals cvxpy's; dual_gap_ equals
    the gap recomputed here and bounds the suboptimality."""
    rng = np.random.default_rng(0)
    for trial in range(60):
        X, y, ypm = _random_problem(rng)
        n = X.shape[0]
        fit_intercept = bool(rng.random() < 0.6)
        weighted = bool(rng.random() < 0.3)
        s = rng.uniform(0.1, 3.0, n) if weighted else np.ones(n)
        s = s * n / s.sum()  # the estimator rescales weights to sum to n
        l1_ratio = 1.0 if rng.random() < 0.6 else float(rng.uniform(0.1, 0.9))
        alpha = float(_alpha_max(X, ypm, s, l1_ratio, fit_intercept)
                      * rng.choice([0.02, 0.1, 0.5, 1.2]))
        float32 = bool(rng.random() < 0.2)
        Xfit = X.astype(np.float32) if float32 else X
        if rng.random() < 0.3:
            Xfit = sp.csr_matrix(Xfit)
        tol = 1e-5 if float32 else 1e-10
        clf = SparseLogisticRegression(
            penalty="l1" if l1_ratio == 1.0 else "elasticnet", alpha=alpha, l1_ratio=l1_ratio,
            fit_intercept=fit_intercept, tol=tol, max_iter=200,
        ).fit(Xfit, y, sample_weight=s if weighted else None)
        assert clf.converged_, trial
        w, b = clf.coef_[0].astype(np.float64), float(clf.intercept_[0])
        ours = _primal(X, ypm, s, alpha, l1_ratio, w, b)
        ref = _cvxpy_reference(X, ypm, s, alpha, l1_ratio, fit_intercept)
        rtol = 1e-5 if float32 else 1e-8
        assert ours <= ref + rtol * max(1.0, abs(ref)), (trial, ours, ref)
        # the gap of the data the solver saw (float32-rounded X), computed in float64
        X_seen = X.astype(np.float32).astype(np.float64) if float32 else X
        gap = _independent_gap(X_seen, ypm, s, alpha, l1_ratio, w, b, fit_intercept)
        assert gap >= -1e-10 * max(1.0, ours), (trial, gap)
        assert clf.dual_gap_ >= 0
        # the reported gap is the one written out above (float32 fits: in float32 rounding)
        assert abs(clf.dual_gap_ - max(gap, 0)) <= (1e-5 if float32 else 1e-9), \
            (trial, clf.dual_gap_, gap)
        # a duality gap bounds the suboptimality (cvxpy's value is >= the minimum)
        assert ours - ref <= max(clf.dual_gap_, 0) + rtol * max(1.0, abs(ref)), trial


def test_no_intercept_matches_scikit_learn_liblinear():
    """C = 1 / (n alpha): scikit-learn's liblinear L1 logistic (no intercept) agrees."""
    rng = np.random.default_rng(1)
    for trial in range(15):
        X, y, ypm = _random_problem(rng, (20, 60), (2, 15))
        n = X.shape[0]
        alpha = float(_alpha_max(X, ypm, np.ones(n), 1.0, False) * rng.choice([0.05, 0.3]))
        sk = LogisticRegression(C=1.0 / (n * alpha), l1_ratio=1.0, solver="liblinear",
                                fit_intercept=False, tol=1e-12, max_iter=100_000,
                                random_state=0).fit(X, y)  # liblinear shuffles: seeded
        ours = SparseLogisticRegression(alpha=alpha, fit_intercept=False, tol=1e-12).fit(X, y)
        one = np.ones(n)
        p_sk = _primal(X, ypm, one, alpha, 1.0, sk.coef_[0], 0.0)
        p_ours = _primal(X, ypm, one, alpha, 1.0, ours.coef_[0], 0.0)
        assert p_ours <= p_sk + 1e-9, (trial, p_ours, p_sk)
        np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-4)


def test_gap_is_nonnegative_and_decreases_to_zero():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 30))
    y = np.where(X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(80) > 0, 1.0, -1.0)
    Xa = np.hstack([X, np.ones((80, 1))])
    pen = L1(0.02, weights=np.r_[np.ones(30), 0.0])
    res = working_set_cd(Xa, y, pen, Logistic(), tol=1e-12)
    assert res.converged and res.certificate_name == "duality gap"
    gaps = np.array([h["certificate"] for h in res.history])
    assert np.all(gaps >= 0)
    assert gaps[-1] <= 1e-12 * np.log(2) < gaps[0]
    # the gap at the returned w, recomputed independently
    w = np.asarray(res.coef)
    assert _independent_gap(X, y, np.ones(80), 0.02, 1.0, w[:30], w[30], True) \
        == pytest.approx(res.certificate, abs=1e-12)


def _mcp_problem(rng):
    n, p = int(rng.integers(60, 120)), int(rng.integers(2, 12))
    X = rng.standard_normal((n, p))
    y = (X @ (rng.standard_normal(p) * (rng.random(p) < 0.5))
         + 1.5 * rng.standard_normal(n) > 0).astype(int)  # noisy: not separable
    ypm = np.where(y == 1, 1.0, -1.0)
    lam = float(np.abs(X.T @ ypm).max() / (2 * n) * rng.choice([0.1, 0.3, 0.6]))
    return X, y, ypm, lam, float(rng.choice([2.0, 3.0, 5.0]))


def _mcp_objective(X, ypm, lam, gamma, w, b):
    a = np.abs(w)
    pen = np.where(a <= gamma * lam, lam * a - a * a / (2 * gamma), gamma * lam ** 2 / 2)
    return np.mean(np.logaddexp(0, -ypm * (X @ w + b))) + pen.sum()


def _mcp_kkt(X, ypm, lam, gamma, w, b, fit_intercept):
    r = -ypm / (1 + np.exp(ypm * (X @ w + b))) / X.shape[0]
    g = X.T @ r
    a = np.abs(w)
    viol = np.where(a > 0, np.abs(g + np.sign(w) * np.maximum(lam - a / gamma, 0)),
                    np.maximum(np.abs(g) - lam, 0))
    return max(viol.max(), abs(r.sum()) if fit_intercept else 0.0)


def test_mcp_logistic_solutions_are_stationary():
    """30 random MCP logistic problems (dense / sparse X): the KKT residual recomputed
    here is below tol * ||grad f(0)||_inf, and the reported objective is the one written
    out here."""
    rng = np.random.default_rng(3)
    for trial in range(30):
        X, y, ypm, lam, gamma = _mcp_problem(rng)
        fit_intercept = bool(trial % 2)
        Xfit = sp.csc_matrix(X) if trial % 3 == 0 else X
        est = SparseLogisticRegression(penalty="mcp", alpha=lam, gamma=gamma,
                                       fit_intercept=fit_intercept, tol=1e-10).fit(Xfit, y)
        assert est.converged_
        w, b = est.coef_[0], float(est.intercept_[0])
        assert _mcp_kkt(X, ypm, lam, gamma, w, b, fit_intercept) <= 1e-9, trial
        assert est.objective_ == pytest.approx(_mcp_objective(X, ypm, lam, gamma, w, b),
                                               rel=1e-12)


@pytest.mark.slow  # skglm's numba compilation alone takes ~45 s on a loaded machine
def test_mcp_logistic_agrees_with_skglm():
    """MCP is nonconvex: both solvers return stationary points, possibly different ones.
    Checked: skglm's solution is (nearly) a fixed point of our solver (same objective and
    scaling) and ours, started from it, is not worse and stationary."""
    pytest.importorskip("skglm")
    from skglm.datafits import Logistic as SkLogistic
    from skglm.estimators import GeneralizedLinearEstimator
    from skglm.penalties import MCPenalty
    from skglm.solvers import AndersonCD

    rng = np.random.default_rng(4)
    for trial in range(16):
        X, y, ypm, lam, gamma = _mcp_problem(rng)
        fit_intercept = bool(trial % 2)
        ref = GeneralizedLinearEstimator(
            SkLogistic(), MCPenalty(lam, gamma),
            AndersonCD(tol=1e-10, max_iter=100, fit_intercept=fit_intercept)).fit(X, ypm)
        w_ref = np.ravel(ref.coef_)
        b_ref = float(np.ravel(ref.intercept_)[0]) if fit_intercept else 0.0
        assert _mcp_kkt(X, ypm, lam, gamma, w_ref, b_ref, fit_intercept) <= 1e-8
        warm = SparseLogisticRegression(penalty="mcp", alpha=lam, gamma=gamma,
                                        fit_intercept=fit_intercept, tol=1e-10, warm_start=True)
        warm.coef_, warm.intercept_ = w_ref[None, :].copy(), np.array([b_ref])
        warm.fit(X, y)
        # (CD may leave skglm's stationary point for a better one: with 1 / L_j > gamma the
        # coordinate surrogate is nonconvex and its global minimiser can jump)
        w, b = warm.coef_[0], float(warm.intercept_[0])
        assert _mcp_objective(X, ypm, lam, gamma, w, b) \
            <= _mcp_objective(X, ypm, lam, gamma, w_ref, b_ref) + 1e-10
        assert _mcp_kkt(X, ypm, lam, gamma, w, b, fit_intercept) <= 1e-8, trial


def test_elastic_net_intercept_is_unpenalised():
    """Issue 15 item 4: at the solution d(loss)/d(intercept) = 0 (scikit-learn, skglm)."""
    X, y = make_classification(200, 10, random_state=0)
    ypm = np.where(y == 1, 1.0, -1.0)
    for solver_kw in ({}, ):
        clf = SparseLogisticRegression(penalty="elasticnet", alpha=0.1, l1_ratio=0.3,
                                       tol=1e-12, **solver_kw).fit(X, y)
        z = X @ clf.coef_[0] + clf.intercept_[0]
        assert abs(np.mean(-ypm / (1 + np.exp(ypm * z)))) < 1e-7  # was -0.011 (ridge on b)
        ref = _cvxpy_reference(X, ypm, np.ones(200), 0.1, 0.3, True)
        assert _primal(X, ypm, np.ones(200), 0.1, 0.3, clf.coef_[0],
                       clf.intercept_[0]) <= ref + 1e-9


def test_positive_leaves_the_intercept_free():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = (X[:, 0] + 0.3 * rng.standard_normal(200) > 1.0).astype(int)  # needs b < 0
    ypm = np.where(y == 1, 1.0, -1.0)
    clf = SparseLogisticRegression(alpha=0.01, positive=True, tol=1e-12).fit(X, y)
    assert clf.intercept_[0] < -1 and np.all(clf.coef_ >= 0) and clf.converged_
    w, b = cp.Variable(5, nonneg=True), cp.Variable()
    prob = cp.Problem(cp.Minimize(cp.sum(cp.logistic(-cp.multiply(ypm, X @ w + b))) / 200
                                  + 0.01 * cp.sum(w)))
    prob.solve(solver=cp.CLARABEL)
    assert _primal(X, ypm, np.ones(200), 0.01, 1.0, clf.coef_[0], clf.intercept_[0]) \
        <= prob.value + 1e-7


def _fit_recording_warnings(est, X, y):
    """Fit; the ConvergenceWarning messages emitted. Whether a fit stopped early is
    asserted on its iteration count (``n_iter_ < max_iter``: stopped on the cause, not
    on the budget of max_iter outer iterations), not on wall time."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(X, y)
    return [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("penalty", ["mcp", "scad", "l0"])
@pytest.mark.parametrize("tol", [1e-8, 0.0])
def test_separable_classes_with_flat_penalty_stop_fast_and_say_why(penalty, tol):
    """Issue 15 item 13: no minimiser exists (the coefficients beyond gamma * alpha are
    unpenalised and separate the classes); this used to run for 6-120 s."""
    for seed in range(3):
        rng = np.random.RandomState(seed)
        X = rng.randn(60, 6)
        y = (X @ [2, -1.5, 1, 0, 0, 0] > 0).astype(int)
        est = SparseLogisticRegression(penalty=penalty, alpha=0.01, tol=tol)
        messages = _fit_recording_warnings(est, X, y)
        assert est.n_iter_ < est.max_iter, est.n_iter_
        assert not est.converged_
        assert len(messages) == 1 and "No minimiser" in messages[0], messages
        assert est.score(X, y) == 1.0


def test_huge_scale_l1_logistic_stops_fast_with_the_cause():
    """Issue 15 item 13: X * 1e150 used to run 60-84 s (absolute KKT tolerance)."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 6)
    y = (X[:, 0] + 0.5 * rng.randn(60) > 0).astype(int)
    est = SparseLogisticRegression(alpha=0.01)
    messages = _fit_recording_warnings(est, X * 1e150, y)
    assert est.n_iter_ < est.max_iter
    # alpha = 0.01 is 1e-152 of alpha_max: the problem is unpenalised in float64, so the
    # rescaled dual point cannot certify it; the warning says so
    assert not est.converged_
    assert len(messages) == 1 and "rounding floor" in messages[0]
    # the same data, unscaled, with alpha scaled accordingly: the same classifier (and the
    # same cause: alpha = 1e-152 is unpenalised in float64 at unit scale too)
    with pytest.warns(ConvergenceWarning, match="rounding floor"):
        ref = SparseLogisticRegression(alpha=0.01 * 1e-150, tol=1e-10).fit(X, y)
    assert np.mean(est.predict(X * 1e150) == ref.predict(X)) == 1.0


def test_kkt_tolerance_is_relative_to_the_data_scale():
    """X / c, alpha / c, gamma c^2 is the same MCP problem in w c: the same stop."""
    rng = np.random.RandomState(0)
    X = rng.randn(80, 8)
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.randn(80) > 0).astype(int)
    coefs = []
    for scale in (1e-6, 1.0, 1e6):
        est = SparseLogisticRegression(penalty="mcp", alpha=0.05 / scale, gamma=3.0 * scale ** 2,
                                       tol=1e-10)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            est.fit(X / scale, y)
        coefs.append(est.coef_[0] / scale)
    np.testing.assert_allclose(coefs[0], coefs[1], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(coefs[2], coefs[1], rtol=1e-6, atol=1e-8)


def test_default_gives_a_useful_sparse_model():
    """Issue 15 (defaults): alpha='auto' = 0.1 alpha_max, exposed as alpha_."""
    X, y = make_classification(200, 10, random_state=0)
    clf = SparseLogisticRegression().fit(X, y)
    assert clf.score(X, y) >= 0.9
    assert 0 < np.count_nonzero(clf.coef_) < 10
    ypm = np.where(y == 1, 1.0, -1.0)
    assert clf.alpha_ == pytest.approx(0.1 * _alpha_max(X, ypm, np.ones(200), 1.0, True))
    Xs = StandardScaler().fit_transform(X)
    for penalty in ("l1", "elasticnet", "mcp", "scad", "l0", "l_half", "log_sum"):
        est = SparseLogisticRegression(penalty=penalty).fit(Xs, y)
        assert est.score(Xs, y) >= 0.9, penalty
        assert 0 < np.count_nonzero(est.coef_) < 10, penalty


def test_cel0_is_rejected_with_the_logistic_loss():
    X, y = make_classification(50, 5, random_state=0)
    with pytest.raises(ValueError, match="cel0.*least-squares"):
        SparseLogisticRegression(penalty="cel0", alpha=0.01).fit(X, y)


def test_elastic_net_penalty_ridge_weights_in_value_and_prox():
    pen = ElasticNetPenalty(0.5, l1_ratio=0.4, ridge_weights=np.array([1.0, 0.0]))
    w = np.array([2.0, -3.0])
    assert pen.value(w) == pytest.approx(0.5 * 0.4 * 5 + 0.5 * 0.5 * 0.6 * 4)
    # prox of the second coordinate: soft threshold only (no ridge shrinkage)
    z = np.array([2.0, -3.0])
    np.testing.assert_allclose(pen.prox(z, 1.0), [(2 - 0.2) / 1.3, -3 + 0.2])


def test_column_norm_overflow_and_bad_labels_are_clear_errors():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4))
    y = (X[:, 0] > 0).astype(int)
    for scale in (1e200, 1e-200):
        with pytest.raises(ValueError, match="over- or underflows"):
            SparseLogisticRegression(alpha=0.01).fit(X * scale, y)
    with pytest.raises(ValueError, match=r"y in \{-1, 1\}"):
        working_set_cd(X, 2.0 * y, L1(0.01), Logistic())


def test_convergence_warnings_name_the_cause():
    X, y = make_classification(100, 20, random_state=0)
    messages = _fit_recording_warnings(
        SparseLogisticRegression(alpha=0.01, max_iter=1, tol=1e-12), X, y)
    assert len(messages) == 1 and "max_iter" in messages[0]
    est = SparseLogisticRegression(penalty="mcp", alpha=0.005, tol=1e-14)
    messages = _fit_recording_warnings(est, X.astype(np.float32), y)
    assert est.n_iter_ < est.max_iter
    assert len(messages) == 1 and "rounding floor" in messages[0], messages


def test_sublinear_progress_stops_with_stagnation():
    """Separable classes with a penalty whose slope vanishes (log-sum): CD progresses
    sublinearly; the solver stops and says so instead of spending max_iter * max_epochs."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = (X @ rng.standard_normal(3) > 0).astype(int)
    est = SparseLogisticRegression(penalty="log_sum", alpha=1e-6, tol=1e-12)
    messages = _fit_recording_warnings(est, X, y)
    assert est.n_iter_ < est.max_iter
    assert not est.converged_ and len(messages) == 1 and "sublinearly" in messages[0]
    assert est.score(X, y) == 1.0


def shifted_feature_problems(penalty, n_problems=12):
    """``(Xc, y, shift, sample_weight, estimator kwargs)`` of random problems whose
    features ``Xc + shift`` are far off centre (mean up to 100, unit spread; sample
    weights on every third, ``positive`` on every fourth, tol=1e-10)."""
    rng = np.random.default_rng(11)
    for trial in range(n_problems):
        n, p = int(rng.integers(40, 120)), int(rng.integers(2, 8))
        Xc = rng.standard_normal((n, p))
        # noisy labels: not separable, so that MCP (flat beyond gamma alpha) has a minimiser
        y = (Xc @ rng.standard_normal(p) + 3 * rng.standard_normal(n) > 0).astype(int)
        shift = rng.uniform(-100, 100, p) * (rng.random(p) < 0.7)
        sw = rng.uniform(0.2, 2.0, n) if trial % 3 == 0 else None
        kw = dict(penalty=penalty, alpha=float(rng.choice([0.003, 0.01, 0.03])), tol=1e-10,
                  positive=bool(trial % 4 == 1))
        yield Xc, y, shift, sw, kw


@pytest.mark.parametrize("penalty", ["l1", "mcp", "elasticnet"])
def test_intercept_fit_is_invariant_to_shifting_the_features(penalty):
    """With an unpenalised intercept, X + c (any shift) is the same problem in
    (w, b - c^T w): 12 random problems with features far off centre (mean up to 100,
    unit spread; sample weights, positive) give the coefficients of the centred data, the
    shifted intercept and the same objective and certificate. The dense fit is centred
    internally; before, this off-centre design made coordinate descent crawl
    (SparseLogisticRegressionCV() took 8 s on 100 x 2). The same problems as CSC (centred
    inside the kernel) are in tests/test_logistic_sparse_centring.py."""
    for trial, (Xc, y, shift, sw, kw) in enumerate(shifted_feature_problems(penalty)):
        ref = SparseLogisticRegression(**kw).fit(Xc, y, sample_weight=sw)
        assert ref.converged_, trial
        est = SparseLogisticRegression(**kw).fit(Xc + shift, y, sample_weight=sw)
        assert est.converged_, trial
        np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6, rtol=1e-5)
        np.testing.assert_allclose(est.intercept_ + shift @ est.coef_[0],
                                   ref.intercept_, atol=1e-5 * (1 + np.abs(shift).sum()))
        assert est.objective_ == pytest.approx(ref.objective_, rel=1e-8, abs=1e-12)
        assert est.certificate_ <= est.tol * np.log(2) * (1 + 1e-9), trial


def test_logistic_cv_default_on_off_centre_features_converges_quickly():
    """scikit-learn's check data (features at mean 100, unit spread): the default CV fit
    converges on every grid point in few CD epochs (it needed thousands before the
    dense design was centred)."""
    from sparseopt.linear_model import SparseLogisticRegressionCV

    rng = np.random.RandomState(42)
    X = rng.normal(loc=100, size=(100, 2))
    y = rng.randint(low=0, high=2, size=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = SparseLogisticRegressionCV().fit(X, y)
    assert np.max(est.n_iter_) <= 500
    direct = SparseLogisticRegressionCV().fit(X - X.mean(axis=0), y)
    np.testing.assert_allclose(est.coef_, direct.coef_, rtol=1e-4, atol=1e-6)
