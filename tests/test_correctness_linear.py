"""Many random small least-squares problems against independent references.

Each test draws seeded random problems over the options (p > n and n > p, ``positive``,
feature ``weights`` with zeros, ``sample_weight`` with zeros, ``fit_intercept``, CSC X,
float32) and checks three things:

* the answer: objective (and coefficients where the solution is unique) against
  scikit-learn or cvxpy;
* the certificate at the solution: a duality gap computed here, from the centred and
  weighted problem written out in NumPy (its own dual point: the residual refitted on the
  unpenalised columns by least squares / NNLS and rescaled, or for the elastic net the
  Fenchel dual at ``R / n``), not read back from the solver;
* the honesty of the reported certificate: a run stopped after one outer iteration
  reports a gap at least as large as its true suboptimality against the reference.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls
from sklearn.exceptions import ConvergenceWarning

from sparseopt.linear_model import ElasticNet, Lasso, LassoCV, SparseLinearRegression, sparse_path

import sklearn.linear_model as sklm  # a dependency of the package: never skipped
cp = pytest.importorskip("cvxpy")


# ----------------------------------------------------------------- the reference problem
def _centred(X, y, sample_weight, fit_intercept):
    """Dense (Xc, yc) with ``(1/2n)||yc - Xc w||^2`` the estimators' data term at the
    optimal intercept (weights rescaled to sum to n, as scikit-learn)."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight * (n / sample_weight.sum())
    if fit_intercept:
        X = X - s @ X / s.sum()
        y = y - s @ y / s.sum()
    r = np.sqrt(s)
    return X * r[:, None], y * r


def _objective(Xc, yc, w, lam, l2, groups=None):
    R = yc - Xc @ w
    if groups is None:
        pen = float(lam @ np.abs(w))
    else:
        pen = float(sum(lam[g] * np.linalg.norm(w[idx]) for g, idx in enumerate(groups)))
    return float(R @ R) / (2 * yc.size) + pen + 0.5 * l2 * float(w @ w)


def _independent_gap(Xc, yc, w, lam, l2=0.0, positive=False, groups=None):
    """``P(w) - D(theta)`` with a feasible dual point built here (see the module docstring).

    ``lam``: per feature (or per group with ``groups``) L1 strengths, 0 = unpenalised.
    """
    n = yc.size
    w = np.asarray(w, dtype=np.float64)
    primal = _objective(Xc, yc, w, lam, l2, groups)
    R = yc - Xc @ w
    if l2 > 0:  # elastic net: every theta is feasible, D at theta = R / n
        theta = R / n
        u = Xc.T @ theta
        excess = np.maximum(u - lam, 0.0) if positive else np.maximum(np.abs(u) - lam, 0.0)
        dual = float(yc @ theta) - 0.5 * n * float(theta @ theta) - float(excess @ excess) / (2 * l2)
        return primal - dual
    if groups is None:
        free = lam == 0
    else:
        free = np.zeros(Xc.shape[1], bool)
        for g, idx in enumerate(groups):
            free[idx] = lam[g] == 0
    if np.any(free):  # the dual constraint on free columns is x_j^T theta = 0 (<= 0 if positive)
        XU = Xc[:, free]
        if positive:
            u, _ = nnls(XU, R + XU @ w[free])
            R = R + XU @ (w[free] - u)
        else:
            R = R - XU @ np.linalg.lstsq(XU, R, rcond=None)[0]
    corr = Xc.T @ R / n
    if positive:
        corr = np.maximum(corr, 0.0)
    if groups is None:
        pen = ~free
        ratio = np.abs(corr[pen]) / lam[pen]
    else:
        ratio = np.array([np.linalg.norm(corr[idx]) / lam[g] for g, idx in enumerate(groups)
                          if lam[g] > 0])
    s = min(1.0, 1.0 / ratio.max()) if ratio.size and ratio.max() > 0 else 1.0
    theta = s * R / n
    dual = float(yc @ theta) - 0.5 * n * float(theta @ theta)
    return primal - dual


def _draw(rng, case):
    """A random problem: shape, design, target, options."""
    n, p = [(15, 40), (40, 15), (25, 25), (12, 60)][case % 4]
    X = rng.standard_normal((n, p))
    if rng.random() < 0.5:  # correlated columns
        X = X + 0.7 * rng.standard_normal((n, 1))
    beta = np.zeros(p)
    support = rng.choice(p, size=min(5, p), replace=False)
    beta[support] = rng.standard_normal(support.size) * 2
    y = X @ beta + 0.5 * rng.standard_normal(n) + (3.0 if rng.random() < 0.5 else 0.0)
    sw = None
    if rng.random() < 0.5:
        sw = rng.uniform(0.2, 3.0, n)
        sw[rng.choice(n, size=2, replace=False)] = 0.0  # zero weights are allowed
    return X, y, sw


def _design(X, rng, sparse_input, float32):
    if sparse_input:
        X = X * (rng.random(X.shape) < 0.6)
        X = sp.csc_matrix(X)
    if float32:
        X = X.astype(np.float32)
    return X


def _lam_max(Xc, yc, weights, positive):
    """A scale for alpha (the positive one, or the two-sided one when every correlation
    is negative)."""
    corr = Xc.T @ yc / yc.size
    pen = weights > 0
    one_sided = float(np.max(np.maximum(corr[pen], 0.0) / weights[pen]))
    return one_sided if positive and one_sided > 0 else float(np.max(np.abs(corr[pen]) / weights[pen]))


def _quiet_fit(est, X, y, sw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, sample_weight=sw)


# ----------------------------------------------------------------- items 1: Lasso / ElasticNet
@pytest.mark.parametrize("seed", range(48))
def test_lasso_enet_random_problems_match_sklearn_and_are_certified(seed):
    rng = np.random.default_rng(1000 + seed)
    X, y, sw = _draw(rng, seed)
    positive = bool(seed % 2)
    fit_intercept = bool((seed // 2) % 2)
    sparse_input = seed % 6 == 5
    float32 = seed % 8 == 7
    l1_ratio = 1.0 if (seed // 4) % 3 else 0.6
    Xin = _design(X, rng, sparse_input, float32)
    Xc, yc = _centred(Xin, y, sw, fit_intercept)
    n, p = Xc.shape
    alpha = float(rng.choice([0.5, 0.1, 0.02])) * _lam_max(Xc, yc, np.ones(p), positive) / l1_ratio
    Est, SkEst = (Lasso, sklm.Lasso) if l1_ratio == 1.0 else (ElasticNet, sklm.ElasticNet)
    extra = {} if l1_ratio == 1.0 else {"l1_ratio": l1_ratio}
    ours = _quiet_fit(Est(alpha=alpha, positive=positive, fit_intercept=fit_intercept,
                          tol=1e-6 if float32 else 1e-12, max_iter=200, **extra), Xin, y, sw)
    ref = SkEst(alpha=alpha, positive=positive, fit_intercept=fit_intercept, tol=1e-14,
                max_iter=200_000, **extra).fit(Xin.astype(np.float64), y, sample_weight=sw)
    lam = np.full(p, alpha * l1_ratio)
    l2 = alpha * (1 - l1_ratio)
    coef = np.asarray(ours.coef_, dtype=np.float64)
    scale = float(yc @ yc) / n + 1e-300
    rtol = 1e-4 if float32 else 1e-9
    P_ours, P_ref = _objective(Xc, yc, coef, lam, l2), _objective(Xc, yc, ref.coef_, lam, l2)
    assert P_ours <= P_ref + rtol * scale
    assert P_ref <= P_ours + max(rtol, 1e-7) * scale  # scikit-learn agrees
    if positive:
        assert np.all(coef >= 0)
    gap = _independent_gap(Xc, yc, coef, lam, l2, positive)
    assert -1e-12 * scale <= gap <= rtol * scale
    if not float32:
        np.testing.assert_allclose(coef, ref.coef_, atol=1e-4 * (1 + np.abs(ref.coef_).max()))
        assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-4 * (1 + abs(ref.intercept_)))
        assert ours.converged_
    # an early stop reports a gap that bounds its true suboptimality
    early = _quiet_fit(Est(alpha=alpha, positive=positive, fit_intercept=fit_intercept,
                           tol=1e-14, max_iter=1, p0=3, **extra), Xin, y, sw)
    P_early = _objective(Xc, yc, np.asarray(early.coef_, np.float64), lam, l2)
    assert early.dual_gap_ >= P_early - min(P_ref, P_ours) - max(rtol, 1e-10) * scale


# ----------------------------------------------------------------- item 2: weighted L1, free features
def _cvxpy_weighted(Xc, yc, lam, l2, positive, groups=None):
    n, p = Xc.shape
    w = cp.Variable(p, nonneg=positive)
    if groups is None:
        pen = lam @ cp.abs(w)
    else:
        pen = sum(lam[g] * cp.norm(w[idx], 2) for g, idx in enumerate(groups) if lam[g] > 0)
    obj = cp.sum_squares(yc - Xc @ w) / (2 * n) + pen + 0.5 * l2 * cp.sum_squares(w)
    prob = cp.Problem(cp.Minimize(obj))
    prob.solve(solver=cp.CLARABEL)
    return np.asarray(w.value).ravel(), float(prob.value)


@pytest.mark.parametrize("seed", range(32))
def test_weighted_l1_with_unpenalised_features_matches_cvxpy(seed):
    rng = np.random.default_rng(2000 + seed)
    X, y, sw = _draw(rng, seed)
    n, p = X.shape
    positive = bool(seed % 2)
    fit_intercept = bool((seed // 2) % 2)
    sparse_input = seed % 4 == 3
    float32 = seed % 8 == 6
    penalty = "l1" if seed % 3 else "elasticnet"
    l1_ratio = 0.7
    weights = rng.uniform(0.3, 2.0, p)
    weights[rng.choice(p, size=1 + seed % 3, replace=False)] = 0.0  # unpenalised features
    Xin = _design(X, rng, sparse_input, float32)
    Xc, yc = _centred(Xin, y, sw, fit_intercept)
    lmax = _lam_max(Xc, yc, weights, positive)  # a scale only (before the free fit)
    alpha = float(rng.choice([2.0, 0.3, 0.05])) * lmax  # 2.0: the penalised part may be 0
    est = SparseLinearRegression(penalty=penalty, alpha=alpha, weights=weights,
                                 l1_ratio=l1_ratio, positive=positive,
                                 fit_intercept=fit_intercept, tol=1e-6 if float32 else 1e-12,
                                 max_iter=200)
    ours = _quiet_fit(est, Xin, y, sw)
    ratio = 1.0 if penalty == "l1" else l1_ratio
    lam, l2 = alpha * ratio * weights, alpha * (1 - ratio)
    w_ref, P_ref = _cvxpy_weighted(Xc, yc, lam, l2, positive)
    coef = np.asarray(ours.coef_, np.float64)
    scale = float(yc @ yc) / n + 1e-300
    rtol = 1e-4 if float32 else 1e-7
    P_ours = _objective(Xc, yc, coef, lam, l2)
    assert P_ours <= P_ref + rtol * scale
    assert P_ref <= P_ours + 1e-6 * scale
    gap = _independent_gap(Xc, yc, coef, lam, l2, positive)
    assert gap <= max(rtol, 1e-9) * scale
    if positive:
        assert np.all(coef >= 0)
    if not float32:
        assert ours.converged_
    early = _quiet_fit(est.set_params(max_iter=1, p0=2, tol=1e-14), Xin, y, sw)
    P_early = _objective(Xc, yc, np.asarray(early.coef_, np.float64), lam, l2)
    assert early.dual_gap_ >= P_early - P_ref - rtol * scale


@pytest.mark.parametrize("seed", range(8))
def test_block_coordinate_descent_solver_with_unpenalised_features(seed):
    """The same weighted problems through ``solver=BlockCoordinateDescent``: the reported
    gap (dual point after refitting the free features and the centring column) bounds
    the true suboptimality, early or converged."""
    from sparseopt.optimize import BlockCoordinateDescent

    rng = np.random.default_rng(7000 + seed)
    X, y, sw = _draw(rng, seed)
    n, p = X.shape
    positive, fit_intercept, sparse_input = seed % 2 == 1, seed % 4 < 2, seed % 3 == 0
    weights = rng.uniform(0.5, 2.0, p)
    weights[:2] = 0.0
    Xin = _design(X, rng, sparse_input, False)
    Xc, yc = _centred(Xin, y, sw, fit_intercept)
    alpha = 0.3 * _lam_max(Xc, yc, weights, positive)
    penalty, ratio = ("l1", 1.0) if seed % 4 else ("elasticnet", 0.5)
    lam, l2 = alpha * ratio * weights, alpha * (1 - ratio)
    _, P_ref = _cvxpy_weighted(Xc, yc, lam, l2, positive)
    scale = float(yc @ yc) / n
    for bcd in (BlockCoordinateDescent(partition="order", selection="cyclic",
                                       update="gradient", block_size=2, max_iter=1),
                BlockCoordinateDescent(partition="variable", selection="gsq", update="matrix",
                                       block_size=3, max_iter=3000, tol=1e-13)):
        est = SparseLinearRegression(penalty=penalty, l1_ratio=0.5, alpha=alpha, weights=weights,
                                     positive=positive, fit_intercept=fit_intercept,
                                     solver=bcd, tol=1e-10)
        ours = _quiet_fit(est, Xin, y, sw)
        P = _objective(Xc, yc, np.asarray(ours.coef_, np.float64), lam, l2)
        assert ours.dual_gap_ >= P - P_ref - 1e-9 * scale
    assert P <= P_ref + 1e-7 * scale
    assert ours.dual_gap_ <= 1e-8 * scale

@pytest.mark.parametrize("seed", range(8))
def test_sparse_path_starts_at_a_solution_with_unpenalised_features(seed):
    """The first grid point (alpha_max) is the least-squares fit of the free features, with
    every penalised coefficient at 0, and alpha_max is the smallest such alpha."""
    rng = np.random.default_rng(3000 + seed)
    n, p = (30, 50) if seed % 2 else (50, 20)
    X = rng.standard_normal((n, p))
    y = X[:, :4] @ rng.standard_normal(4) + rng.standard_normal(n)
    Xc, yc = X - X.mean(0), y - y.mean()
    weights = np.ones(p)
    free = rng.choice(p, size=2, replace=False)
    weights[free] = 0.0
    positive = seed % 4 >= 2
    alphas, coefs, gaps, info = sparse_path(Xc, yc, alphas=4, eps=0.1, weights=weights,
                                            positive=positive, tol=1e-12)
    first = coefs[:, 0]
    # (at alpha_max exactly, the argmax feature may move by a rounding error)
    assert np.abs(first[weights > 0]).max() <= 1e-9 * np.abs(first).max()
    lam = alphas[0] * weights
    assert _independent_gap(Xc, yc, first, lam, 0.0, positive) <= 1e-10 * float(yc @ yc) / n
    # just below alpha_max some penalised coefficient moves
    assert np.any(coefs[weights > 0, 1] != 0)
    _, P_ref = _cvxpy_weighted(Xc, yc, lam, 0.0, positive)
    assert _objective(Xc, yc, first, lam, 0.0) <= P_ref + 1e-8 * float(yc @ yc) / n


@pytest.mark.parametrize("seed", range(12))
def test_sparse_path_matches_enet_path(seed):
    """Grid (alpha_max one-sided with positive) and coefficients along the path."""
    rng = np.random.default_rng(3500 + seed)
    n, p = [(20, 50), (50, 20), (30, 30)][seed % 3]
    X = rng.standard_normal((n, p))
    y = X[:, :4] @ rng.standard_normal(4) + rng.standard_normal(n)
    Xc, yc = X - X.mean(0), y - y.mean()
    positive = seed % 2 == 1
    l1_ratio = 1.0 if seed % 4 < 2 else 0.5
    kw = {} if l1_ratio == 1.0 else {"penalty": "elasticnet", "l1_ratio": l1_ratio}
    Xin = sp.csc_matrix(Xc) if seed % 5 == 0 else Xc
    alphas, coefs, gaps, info = sparse_path(Xin, yc, alphas=8, eps=1e-2, positive=positive,
                                            tol=1e-12, **kw)
    ref_alphas, ref, _ = sklm.enet_path(Xc, yc, l1_ratio=l1_ratio, alphas=8, eps=1e-2,
                                        positive=positive, tol=1e-14, max_iter=100_000)
    np.testing.assert_allclose(alphas, ref_alphas, rtol=1e-10)
    np.testing.assert_allclose(coefs, ref, atol=1e-6)
    assert all(info["converged"])
    for k, alpha in enumerate(alphas):  # the certificates, recomputed here
        lam = np.full(p, alpha * l1_ratio)
        gap = _independent_gap(Xc, yc, coefs[:, k], lam, alpha * (1 - l1_ratio), positive)
        assert gap <= 1e-10 * float(yc @ yc) / n

# ----------------------------------------------------------------- item 3: positive group lasso
@pytest.mark.parametrize("seed", range(16))
def test_positive_group_lasso_matches_cvxpy(seed):
    rng = np.random.default_rng(4000 + seed)
    X, y, sw = _draw(rng, seed)
    n, p = X.shape
    fit_intercept = bool(seed % 2)
    sparse_input = seed % 4 >= 2
    positive = seed % 8 != 7  # mostly positive; one unconstrained case per 8
    perm = rng.permutation(p)
    cuts = np.sort(rng.choice(np.arange(1, p), size=p // 3, replace=False))
    groups = [g.tolist() for g in np.split(perm, cuts)]
    gw = np.sqrt([len(g) for g in groups])
    if seed % 3 == 0:
        gw[0] = 0.0  # an unpenalised group
    Xin = _design(X, rng, sparse_input, False)
    Xc, yc = _centred(Xin, y, sw, fit_intercept)
    corr = Xc.T @ yc / n
    corr = np.maximum(corr, 0) if positive and np.any(corr > 0) else corr
    gmax = max(np.linalg.norm(corr[g]) / gw[k] for k, g in enumerate(groups) if gw[k] > 0)
    alpha = float(rng.choice([0.5, 0.1])) * gmax
    est = SparseLinearRegression(penalty="group_lasso", alpha=alpha, groups=groups,
                                 group_weights=gw, positive=positive,
                                 fit_intercept=fit_intercept,
                                 tol=1e-9 if sparse_input else 1e-12, max_iter=400)
    ours = _quiet_fit(est, Xin, y, sw)
    coef = np.asarray(ours.coef_, np.float64)
    lam = alpha * gw
    _, P_ref = _cvxpy_weighted(Xc, yc, lam, 0.0, positive, groups)
    scale = float(yc @ yc) / n
    P_ours = _objective(Xc, yc, coef, lam, 0.0, groups)
    if positive:
        assert coef.min() >= 0
    assert P_ours <= P_ref + 1e-7 * scale
    assert P_ref <= P_ours + 1e-6 * scale
    # CSC X goes to proximal gradient (fixed-point residual); dense X to block CD (gap)
    assert _independent_gap(Xc, yc, coef, lam, 0.0, positive, groups) <= 1e-6 * scale
    if not sparse_input:
        assert ours.converged_ and ours.certificate_name_ == "duality gap"
        early = _quiet_fit(est.set_params(max_iter=1, p0=1, tol=1e-14), Xin, y, sw)
        P_early = _objective(Xc, yc, np.asarray(early.coef_, np.float64), lam, 0.0, groups)
        assert early.dual_gap_ >= P_early - P_ref - 1e-7 * scale


# ----------------------------------------------------------------- item 8: cross-validation
@pytest.mark.parametrize("seed", range(8))
def test_lasso_cv_matches_sklearn_with_weights_and_positive(seed):
    rng = np.random.default_rng(5000 + seed)
    n, p = (40, 25) if seed % 2 else (30, 45)
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([2.0, -1.0, 1.5]) + rng.standard_normal(n) + 1.0
    sw = rng.uniform(0.2, 3.0, n) if seed % 4 < 2 else None
    positive = seed % 4 in (1, 2)
    fit_intercept = seed % 3 != 0
    Xin = sp.csc_matrix(X * (rng.random(X.shape) < 0.7)) if seed % 4 == 3 else X
    folds = list(__import__("sklearn.model_selection").model_selection.KFold(
        3, shuffle=True, random_state=seed).split(X))
    kw = dict(alphas=6, eps=1e-2, cv=folds, positive=positive, fit_intercept=fit_intercept)
    ours = LassoCV(tol=1e-12, max_iter=200, **kw).fit(Xin, y, sample_weight=sw)
    ref = sklm.LassoCV(tol=1e-14, max_iter=200_000, **kw).fit(Xin, y, sample_weight=sw)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-10)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6, atol=1e-9)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-10)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    # the grid's first alpha gives the zero model on the full data
    top = Lasso(alpha=ours.alphas_[0], positive=positive, fit_intercept=fit_intercept,
                tol=1e-12).fit(Xin, y, sample_weight=sw)
    assert np.all(top.coef_ == 0)


def test_lasso_cv_weights_equal_repeated_rows():
    """Integer sample weights vs repeated rows, with the same folds: identical mse_path_
    (scikit-learn: equal to 1e-14)."""
    rng = np.random.default_rng(7)
    n, p = 24, 10
    X = rng.standard_normal((n, p))
    y = X[:, :2] @ [1.0, -2.0] + 0.5 * rng.standard_normal(n)
    sw = rng.integers(1, 4, n)
    fold_of = np.arange(n) % 3
    X_rep, y_rep = np.repeat(X, sw, axis=0), np.repeat(y, sw)
    fold_rep = np.repeat(fold_of, sw)
    folds = [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(3)]
    folds_rep = [(np.flatnonzero(fold_rep != k), np.flatnonzero(fold_rep == k)) for k in range(3)]
    for positive in (False, True):
        a = LassoCV(alphas=8, cv=folds, tol=1e-13, positive=positive).fit(X, y, sample_weight=sw)
        b = LassoCV(alphas=8, cv=folds_rep, tol=1e-13, positive=positive).fit(X_rep, y_rep)
        np.testing.assert_allclose(a.alphas_, b.alphas_, rtol=1e-12)
        np.testing.assert_allclose(a.mse_path_, b.mse_path_, rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)


# ----------------------------------------------------------------- scale equivariance
@pytest.mark.parametrize("seed", range(12))
def test_extreme_scales_give_equivariant_answers(seed):
    """``fit(c X, d y)`` with ``l1 -> c d l1`` and ``l2 -> c^2 l2`` returns ``(d / c) w``:
    at |X| ~ 1e+-155..250 the squared norms over/underflow, so the solver works on data
    rescaled by powers of 2 (exact) and maps back."""
    rng = np.random.default_rng(6000 + seed)
    X, y, sw = _draw(rng, seed)
    sparse_input = seed % 3 == 2
    Xin = _design(X, rng, sparse_input, False)
    c = 10.0 ** int(rng.choice([-250, -160, 155, 250]))  # Python floats: inf, no warning
    d = 10.0 ** int(rng.choice([-100, 0, 100]))
    if not (1e-280 < c * d < 1e280 and 1e-280 < d / c < 1e280):
        d = 1.0  # alpha or the coefficients would not be representable
    kind = seed % 3
    if kind == 0:
        est, scaled = Lasso(alpha=0.05, tol=1e-10), Lasso(alpha=0.05 * c * d, tol=1e-10)
    elif kind == 1:
        l1, l2 = 0.05 * c * d, 0.02 * c * c
        est = ElasticNet(alpha=0.07, l1_ratio=5 / 7, tol=1e-10)
        scaled = ElasticNet(alpha=l1 + l2, l1_ratio=l1 / (l1 + l2), tol=1e-10)
    else:
        est = SparseLinearRegression(penalty="group_lasso", groups=2, alpha=0.05, tol=1e-10)
        scaled = SparseLinearRegression(penalty="group_lasso", groups=2, alpha=0.05 * c * d,
                                        tol=1e-10)
    if kind == 1 and not 1e-300 < c * c < 1e300:
        return  # l2 itself is not representable
    ref = _quiet_fit(est, Xin, y, sw)
    out = _quiet_fit(scaled, Xin * c, y * d, sw)
    np.testing.assert_allclose(np.asarray(out.coef_) * (c / d), ref.coef_,
                               atol=1e-7 * (1 + np.abs(ref.coef_).max()))
    assert out.intercept_ / d == pytest.approx(ref.intercept_, abs=1e-7 * (1 + abs(ref.intercept_)))
    if not sparse_input or kind != 2:
        assert out.converged_


# penalty: (alpha exponents in (c, d), shape parameter and its exponents, X may be scaled)
_NONCONVEX_SCALING = {
    "mcp": ((1, 1), ("gamma", 3.0, -2, 0), True),
    "scad": ((1, 1), None, False),  # lam^2 g(|t| / lam): only y can be rescaled
    "log_sum": ((0, 2), ("eps", 1.0, -1, 1), True),
    "l0": ((0, 2), None, True),
    "l_half": ((0.5, 1.5), None, True),
}


@pytest.mark.parametrize("seed", range(10))
def test_extreme_scales_nonconvex_penalties(seed):
    """The same for the nonconvex penalties (KKT-certified): ``fit(c X, d y)`` with the
    penalty's own rescaling rule gives ``(d / c)`` times the coefficients."""
    rng = np.random.default_rng(6500 + seed)
    n, p = (40, 12) if seed % 2 else (20, 30)
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([2.0, -1.5, 1.0]) + 0.1 * rng.standard_normal(n)
    penalty = sorted(_NONCONVEX_SCALING)[seed % 5]
    (a, b), shape, x_ok = _NONCONVEX_SCALING[penalty]
    ec = int(rng.choice([-600, 600])) if x_ok else 0  # c = 2^ec, d = 2^ed
    if penalty == "mcp":
        ec //= 2  # gamma scales as c^-2
    ed = int(rng.choice([-400, 400]))
    c, d = 2.0 ** ec, 2.0 ** ed
    alpha = 0.01 if penalty in ("l0", "l_half") else 0.1
    e_alpha = a * ec + b * ed
    kw = {} if shape is None else {shape[0]: shape[1]}
    e_shape = 0 if shape is None else shape[2] * ec + shape[3] * ed
    if max(abs(e_alpha), abs(e_shape)) > 1000:
        return  # the rescaled parameters are not representable
    scaled_alpha = alpha * 2.0 ** e_alpha
    kw_scaled = {} if shape is None else {shape[0]: shape[1] * 2.0 ** e_shape}
    ref = SparseLinearRegression(penalty=penalty, alpha=alpha, tol=1e-10, **kw).fit(X, y)
    out = _quiet_fit(SparseLinearRegression(penalty=penalty, alpha=scaled_alpha, tol=1e-10,
                                            **kw_scaled), X * c, y * d, None)
    np.testing.assert_allclose(np.asarray(out.coef_) * (c / d), ref.coef_,
                               atol=1e-7 * (1 + np.abs(ref.coef_).max()))
    assert np.isfinite(out.certificate_)

@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 400))
def test_larger_sweep(seed):
    """The same comparisons on 300 more seeds each (``-m slow``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # cvxpy's accuracy notes
        test_lasso_enet_random_problems_match_sklearn_and_are_certified(seed)
        test_weighted_l1_with_unpenalised_features_matches_cvxpy(seed)
        test_positive_group_lasso_matches_cvxpy(seed)
        if seed % 4 == 0:
            test_lasso_cv_matches_sklearn_with_weights_and_positive(seed)
