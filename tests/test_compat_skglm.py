"""skglm drop-in compatibility: the same calls against skglm and against sparseopt.

Each test builds the estimator from the same (positional) arguments in both
libraries, fits the same random problems and compares coefficients (convex
problems: both solved to high accuracy, the minimiser is unique up to the
tolerance) or objectives evaluated here, independently of both libraries
(nonconvex problems: both return stationary points; ours must be at least as
good up to the tolerance, and usually they coincide).
"""
import inspect
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

skglm = pytest.importorskip("skglm")
from skglm import datafits as sk_datafits  # noqa: E402
from skglm import penalties as sk_penalties  # noqa: E402
from skglm.solvers import AndersonCD  # noqa: E402

from sparseopt import linear_model as so  # noqa: E402
from sparseopt.optimize._datafits import Logistic, Quadratic  # noqa: E402
from sparseopt.optimize._penalties import MCP, SCAD, L1, ElasticNetPenalty  # noqa: E402

SEEDS = range(3)
TIGHT = 1e-10


def _regression(seed, n=60, p=30):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:4] = rng.choice([-2.0, 2.0], 4) * rng.uniform(0.5, 1.5, 4)
    y = X @ w + 0.5 * rng.standard_normal(n) + 1.0
    return X, y


def _classification(seed, n=80, p=20):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    score = X[:, :3] @ np.array([1.5, -1.0, 1.0]) + 0.7 * rng.standard_normal(n)
    return X, (score > 0).astype(int)


def _alpha_max(X, y):
    yc = y - y.mean()
    return np.max(np.abs((X - X.mean(0)).T @ yc)) / X.shape[0]


# independent objective (not either library's): datafit + penalty at (w, b)
def _penalty_value(kind, w, alpha, gamma=None, l1_ratio=1.0, weights=None):
    a = np.abs(w)
    if kind == "l1":
        wts = np.ones_like(a) if weights is None else weights
        return alpha * np.sum(wts * a)
    if kind == "elasticnet":
        return alpha * (l1_ratio * a.sum() + 0.5 * (1 - l1_ratio) * w @ w)
    if kind == "mcp":
        inner = alpha * a - a ** 2 / (2 * gamma)
        return np.sum(np.where(a <= gamma * alpha, inner, gamma * alpha ** 2 / 2))
    if kind == "scad":
        mid = (2 * gamma * alpha * a - a ** 2 - alpha ** 2) / (2 * (gamma - 1))
        out = np.where(a <= alpha, alpha * a,
                       np.where(a <= gamma * alpha, mid, alpha ** 2 * (gamma + 1) / 2))
        return np.sum(out)
    raise AssertionError(kind)


def _objective(datafit, X, y, w, b, **pen):
    w = np.ravel(w)
    b = float(np.ravel(b)[0]) if np.ndim(b) else float(b)
    z = X @ w + b
    if datafit == "quadratic":
        f = np.sum((y - z) ** 2) / (2 * X.shape[0])
    else:
        ypm = np.where(y == 1, 1.0, -1.0)
        f = np.mean(np.logaddexp(0.0, -ypm * z))
    return f + _penalty_value(w=w, **pen)


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


# ---------------------------------------------------------------- positional calls

# (class name, skglm positional arguments): every argument differs from its default
_POSITIONAL = {
    "Lasso": (0.3, 7, 1234, 5, 0, 1e-5, True, False, True),
    "ElasticNet": (0.3, 0.7, 7, 1234, 5, 0, 1e-5, True, False, True),
    "MCPRegression": (0.3, 2.5, np.linspace(0.5, 1.5, 5), 7, 1234, 5, 0, 1e-5, True, False,
                      True),
    "SparseLogisticRegression": (0.3, 0.7, 1e-5, 7, 1234, 0, False, True),
}


@pytest.mark.parametrize("name", sorted(_POSITIONAL))
def test_positional_arguments_mean_what_they_mean_in_skglm(name):
    args = _POSITIONAL[name]
    theirs = getattr(skglm, name)(*args)
    ours = getattr(so, name)(*args)
    names = list(inspect.signature(getattr(skglm, name).__init__).parameters)[1:]
    mine = ours.get_params()
    for key, value in zip(names, args):
        assert key in mine, f"{name}: skglm's positional parameter {key!r} missing"
        np.testing.assert_array_equal(mine[key], value, err_msg=f"{name}.{key}")
        np.testing.assert_array_equal(theirs.get_params()[key], value)


def test_scikit_learn_calls_still_work():
    # scikit-learn's Lasso / ElasticNet take alpha positionally, the rest by keyword
    X, y = _regression(0)
    for cls in (so.Lasso, so.ElasticNet):
        est = cls(0.1, fit_intercept=True, max_iter=100, tol=1e-8, warm_start=False,
                  positive=False)
        assert est.get_params()["alpha"] == 0.1 and est.get_params()["max_iter"] == 100
        assert _fit(est, X, y).coef_.shape == (X.shape[1],)
    assert so.SparseLogisticRegression(penalty="mcp").get_params()["penalty"] == "mcp"


def test_skglm_ws_strategy_is_not_a_parameter():
    # skglm's 10th / 11th positional argument (ws_strategy) has no counterpart here:
    # a positional call that passes it fails loudly instead of shifting meanings
    with pytest.raises(TypeError):
        so.Lasso(0.3, 7, 1234, 5, 0, 1e-5, True, False, True, "subdiff")


# ---------------------------------------------------------------- estimators side by side

@pytest.mark.parametrize("seed", SEEDS)
def test_lasso_and_elastic_net_match_skglm(seed):
    X, y = _regression(seed)
    alpha = 0.1 * _alpha_max(X, y)
    for name, args in (("Lasso", (alpha,)), ("ElasticNet", (alpha, 0.6))):
        kwargs = {"tol": TIGHT, "max_iter": 200}
        theirs = _fit(getattr(skglm, name)(*args, **kwargs), X, y)
        ours = _fit(getattr(so, name)(*args, **kwargs), X, y)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6)
        pen = {"kind": "l1", "alpha": alpha} if name == "Lasso" else {
            "kind": "elasticnet", "alpha": alpha, "l1_ratio": 0.6}
        f_ours = _objective("quadratic", X, y, ours.coef_, ours.intercept_, **pen)
        f_theirs = _objective("quadratic", X, y, theirs.coef_, theirs.intercept_, **pen)
        assert f_ours <= f_theirs + 1e-9
        assert ours.dual_gap_ <= 1e-8


@pytest.mark.parametrize("seed", SEEDS)
def test_mcp_regression_matches_skglm(seed):
    X, y = _regression(seed)
    alpha = 0.1 * _alpha_max(X, y)
    for gamma in (1.5, 3.0):
        theirs = _fit(skglm.MCPRegression(alpha, gamma, tol=TIGHT, max_iter=200), X, y)
        ours = _fit(so.MCPRegression(alpha, gamma, tol=TIGHT, max_iter=200), X, y)
        pen = {"kind": "mcp", "alpha": alpha, "gamma": gamma}
        f_ours = _objective("quadratic", X, y, ours.coef_, ours.intercept_, **pen)
        f_theirs = _objective("quadratic", X, y, theirs.coef_, theirs.intercept_, **pen)
        assert f_ours <= f_theirs + 1e-8 * max(1.0, abs(f_theirs))
        assert ours.converged_ and ours.certificate_ <= 1e-8
        np.testing.assert_array_equal(ours.coef_ != 0, theirs.coef_ != 0)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_gamma_inf_is_the_lasso_limit(seed):
    from sklearn.linear_model import Lasso as SkLasso

    X, y = _regression(seed)
    alpha = 0.2 * _alpha_max(X, y)
    ref = SkLasso(alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    theirs = _fit(skglm.MCPRegression(alpha, np.inf, tol=TIGHT), X, y)
    for cls in (so.MCPRegression, so.SCADRegression):
        ours = _fit(cls(alpha, np.inf, tol=TIGHT), X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-7)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-7)
        assert ours.converged_
    # the same limit through the penalty objects and the logistic loss
    Xc, yc = _classification(seed)
    a = 0.05
    l1 = _fit(so.SparseLogisticRegression(a, tol=TIGHT), Xc, yc)
    for pen in ("mcp", "scad"):
        lim = _fit(so.SparseLogisticRegression(a, tol=TIGHT, penalty=pen, gamma=np.inf), Xc, yc)
        np.testing.assert_allclose(lim.coef_, l1.coef_, atol=1e-6)
    glm = _fit(so.GeneralizedLinearEstimator(Quadratic(), MCP(alpha, np.inf), tol=TIGHT), X, y)
    np.testing.assert_allclose(glm.coef_, ref.coef_, atol=1e-7)


def test_gamma_must_still_be_positive():
    X, y = _regression(0)
    for bad in (0.0, -1.0, -np.inf, np.nan):
        with pytest.raises(ValueError, match="gamma"):
            so.MCPRegression(0.1, bad).fit(X, y)


@pytest.mark.parametrize("seed", SEEDS)
# skglm's own prox-Newton solver (the anchor) warns about its Numba code; nothing of ours
@pytest.mark.filterwarnings("ignore:'@' is faster on contiguous arrays")
def test_sparse_logistic_regression_matches_skglm(seed):
    X, y = _classification(seed)
    for args in ((0.05,), (0.05, 0.5), (0.01, 1.0)):
        # skglm's default solver settings stop early: give both a tight tolerance
        theirs = _fit(skglm.SparseLogisticRegression(*args, tol=TIGHT, max_iter=200,
                                                     max_epochs=100_000), X, y)
        ours = _fit(so.SparseLogisticRegression(*args, tol=TIGHT, max_iter=200), X, y)
        l1_ratio = args[1] if len(args) > 1 else 1.0
        pen = {"kind": "elasticnet", "alpha": args[0], "l1_ratio": l1_ratio}
        f_ours = _objective("logistic", X, y, ours.coef_, ours.intercept_, **pen)
        f_theirs = _objective("logistic", X, y, theirs.coef_, theirs.intercept_, **pen)
        assert f_ours <= f_theirs + 1e-8
        np.testing.assert_allclose(ours.coef_.ravel(), np.ravel(theirs.coef_), atol=1e-4)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        assert ours.dual_gap_ is not None and ours.dual_gap_ <= 1e-8


# ---------------------------------------------------------------- GeneralizedLinearEstimator

def _pairs(alpha):
    """(skglm penalty, our penalty, independent penalty spec)."""
    w = np.linspace(0.0, 2.0, 30)
    return [
        (sk_penalties.L1(alpha), L1(alpha), {"kind": "l1", "alpha": alpha}),
        (sk_penalties.WeightedL1(alpha, w), L1(alpha, weights=w),
         {"kind": "l1", "alpha": alpha, "weights": w}),
        (sk_penalties.L1_plus_L2(alpha, 0.7), ElasticNetPenalty(alpha, 0.7),
         {"kind": "elasticnet", "alpha": alpha, "l1_ratio": 0.7}),
        (sk_penalties.MCPenalty(alpha, 3.0), MCP(alpha, 3.0),
         {"kind": "mcp", "alpha": alpha, "gamma": 3.0}),
        (sk_penalties.SCAD(alpha, 3.7), SCAD(alpha, 3.7),
         {"kind": "scad", "alpha": alpha, "gamma": 3.7}),
    ]


@pytest.mark.parametrize("datafit", ["quadratic", "logistic"])
@pytest.mark.parametrize("seed", SEEDS[:2])
def test_glm_matches_skglm_for_each_datafit_and_penalty(datafit, seed):
    if datafit == "quadratic":
        X, y = _regression(seed)
        alpha = 0.1 * _alpha_max(X, y)
        sk_df, our_df = sk_datafits.Quadratic(), Quadratic()
    else:
        X, y = _classification(seed, n=200, p=30)  # not separable: minimisers exist
        alpha = 0.03
        sk_df, our_df = sk_datafits.Logistic(), Logistic()
    for sk_pen, our_pen, spec in _pairs(alpha):
        solver = AndersonCD(tol=TIGHT, max_iter=200, max_epochs=5000, fit_intercept=True)
        theirs = _fit(skglm.GeneralizedLinearEstimator(sk_df, sk_pen, solver), X, y)
        objectives = [_objective(datafit, X, y, theirs.coef_, theirs.intercept_, **spec)]
        # our objects, and skglm's own objects translated
        for est in (so.GeneralizedLinearEstimator(our_df, our_pen, tol=TIGHT, max_iter=200),
                    so.GeneralizedLinearEstimator(sk_df, sk_pen,
                                                  AndersonCD(tol=TIGHT, max_iter=200))):
            ours = _fit(est, X, y)
            f = _objective(datafit, X, y, ours.coef_, ours.intercept_, **spec)
            np.testing.assert_allclose(f, ours.objective_, rtol=1e-9, atol=1e-12)
            convex = spec["kind"] in ("l1", "elasticnet")
            if convex or datafit == "quadratic":
                # nonconvex logistic: both reach (different) stationary points, measured
                # both ways round; only the certificate is compared below
                assert f <= objectives[0] + 1e-7 * max(1.0, objectives[0]), (spec, f, objectives)
            assert ours.converged_ and ours.n_iter_ >= 1 and ours.certificate_ <= 1e-8
            if convex:
                if spec.get("weights") is None:
                    assert ours.dual_gap_ is not None and ours.dual_gap_ <= 1e-8
                # skglm's logistic fits stop ~1e-4 away in coefficients (objective higher)
                np.testing.assert_allclose(np.ravel(ours.coef_), np.ravel(theirs.coef_),
                                           atol=1e-4 if datafit == "quadratic" else 1e-3)
            objectives.append(f)
        # the two spellings are the same fit
        np.testing.assert_allclose(objectives[1], objectives[2], rtol=1e-12, atol=1e-14)
        if datafit == "logistic":
            np.testing.assert_array_equal(ours.classes_, [0, 1])
            assert ours.predict_proba(X).shape == (X.shape[0], 2)
        else:
            assert not hasattr(ours, "predict_proba")


def test_glm_matches_the_dedicated_estimators():
    X, y = _regression(1)
    glm = so.GeneralizedLinearEstimator(Quadratic(), MCP(0.1, 2.0), tol=1e-8).fit(X, y)
    ref = so.MCPRegression(0.1, 2.0, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(glm.coef_, ref.coef_)
    assert glm.certificate_ == ref.certificate_ and glm.n_iter_ == ref.n_iter_


def test_glm_solver_settings_from_an_skglm_solver():
    X, y = _regression(2)
    est = so.GeneralizedLinearEstimator(None, L1(0.1), AndersonCD(fit_intercept=False))
    _fit(est, X, y)
    assert est.intercept_ == 0.0
    assert isinstance(est.solver, AndersonCD)  # the parameter is stored untouched


def test_glm_rejects_unsupported_objects_with_the_list():
    X, y = _regression(0)
    with pytest.raises(TypeError, match="unsupported datafit.*Huber.*Logistic"):
        so.GeneralizedLinearEstimator(sk_datafits.Huber(1.0)).fit(X, y)
    with pytest.raises(TypeError, match="unsupported penalty.*IndicatorBox.*MCPenalty"):
        so.GeneralizedLinearEstimator(None, sk_penalties.IndicatorBox(1.0)).fit(X, y)
    with pytest.raises(TypeError, match="unsupported penalty"):
        so.GeneralizedLinearEstimator(None, "l1").fit(X, y)
    with pytest.raises(TypeError, match="unsupported solver"):
        so.GeneralizedLinearEstimator(None, None, "newton").fit(X, y)
    with pytest.raises(ValueError, match="weights"):
        so.GeneralizedLinearEstimator(None, L1(0.1, weights=np.ones(3))).fit(X, y)


def test_glm_follows_the_array_namespace_as_sparse_linear_regression():
    xp = pytest.importorskip("array_api_strict")
    import sklearn

    X, y = _regression(3)
    ref = so.GeneralizedLinearEstimator(None, L1(0.1)).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = so.GeneralizedLinearEstimator(None, L1(0.1)).fit(xp.asarray(X), xp.asarray(y))
        pred = est.predict(xp.asarray(X))
    assert type(est.coef_) is type(xp.asarray(X)) and type(pred) is type(xp.asarray(X))
    np.testing.assert_allclose(np.asarray(est.coef_), ref.coef_, rtol=1e-12, atol=1e-14)
