"""Proximal operators of the sparse-regression penalties, against independent references."""
import numpy as np
import pytest

from sparseopt._ext import _cd_fast
from sparseopt.optimize._penalties import (
    MCP, SCAD, L0, L1, ElasticNetPenalty, LHalf, LogSum, LTwoThirds, WeightedMCP, cel0,
    k_support_prox, k_support_sq_norm,
)


def _penalty_numpy(name, t, lam, g):
    """Independent NumPy transcription of p(t) from the penalties' closed forms in the papers."""
    a = np.abs(t)
    if name == "l1":
        return lam * a
    if name == "mcp":
        return np.where(a <= g * lam, lam * a - a * a / (2 * g), g * lam * lam / 2)
    if name == "scad":
        return np.where(a <= lam, lam * a, np.where(
            a <= g * lam, (2 * g * lam * a - a * a - lam * lam) / (2 * (g - 1)),
            lam * lam * (g + 1) / 2))
    if name == "l_half":
        return lam * np.sqrt(a)
    if name == "l_two_thirds":
        return lam * a ** (2 / 3)
    if name == "log_sum":
        return lam * np.log1p(a / g)
    if name == "l0":
        return lam * (a != 0)
    raise ValueError(name)


CASES = [("l1", L1, {}, 1.0), ("mcp", MCP, {"gamma": 3.0}, 3.0),
         ("mcp", MCP, {"gamma": 0.5}, 0.5),  # gamma <= step: piecewise-concave branch
         ("scad", SCAD, {"gamma": 3.7}, 3.7), ("scad", SCAD, {"gamma": 1.5}, 1.5),
         ("l_half", LHalf, {}, 1.0), ("l_two_thirds", LTwoThirds, {}, 1.0),
         ("log_sum", LogSum, {"eps": 0.5}, 0.5), ("l0", L0, {}, 1.0)]


@pytest.mark.parametrize("name,cls,kw,g", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_scalar_prox_matches_brute_force(name, cls, kw, g):
    grid = np.linspace(-10, 10, 40_001)
    lam = 0.8
    pen = cls(lam, **kw)
    pg = _penalty_numpy(name, grid, lam, g)
    rng = np.random.default_rng(0)
    for step in (0.3, 1.0, 2.5):
        z = np.concatenate([rng.uniform(-7, 7, 25), [0.0, 1e-12]])
        x = pen.prox(z, step)
        for zi, xi in zip(z, x):
            obj = 0.5 * (grid - zi) ** 2 + step * pg
            ours = 0.5 * (xi - zi) ** 2 + step * _penalty_numpy(name, np.array([xi]), lam, g)[0]
            # the closed form is at least as good as the grid minimum (up to its spacing)
            assert ours <= obj.min() + 1e-7, (name, zi, step, xi, grid[np.argmin(obj)])


def test_prox_positive_and_unpenalised():
    z = np.array([-2.0, -0.1, 0.5, 3.0])
    out = _cd_fast.prox_scalar(_cd_fast.PENALTY_MCP, z, np.ones(4), np.full(4, 0.3),
                               np.full(4, 3.0), 0.0, True)
    assert np.all(out[:2] == 0) and np.all(out[2:] > 0)
    # lam = 0 is the identity for every kind
    for kind in range(7):
        out = _cd_fast.prox_scalar(kind, z, np.ones(4), np.zeros(4), np.full(4, 3.0), 0.0, False)
        np.testing.assert_array_equal(out, z)


def test_elastic_net_prox_formula():
    pen = ElasticNetPenalty(2.0, l1_ratio=0.25)
    z = np.linspace(-3, 3, 13)
    expected = np.sign(z) * np.maximum(np.abs(z) - 0.7 * 0.5, 0) / (1 + 0.7 * 1.5)
    np.testing.assert_allclose(pen.prox(z, 0.7), expected, rtol=1e-14)


def test_cel0_equals_weighted_mcp():
    """CEL0 penalty (Soubies et al.) == weighted MCP with lam_i = a_i sqrt(2 lam), gamma_i = 1/a_i^2."""
    rng = np.random.default_rng(0)
    a2 = rng.uniform(0.2, 3.0, 7)  # ||a_i||^2 (already /n)
    lam = 0.37
    pen = cel0(lam, a2)
    assert isinstance(pen, WeightedMCP)
    for u in rng.uniform(-3, 3, (50, 7)):
        a = np.sqrt(a2)
        thr = np.sqrt(2 * lam) / a
        cel0_value = np.sum(lam - (a2 / 2) * (np.abs(u) - thr) ** 2 * (np.abs(u) <= thr))
        assert pen.value(u) == pytest.approx(cel0_value, rel=1e-12, abs=1e-12)
    # at the exact CD step tau = 1/a^2 the prox is hard thresholding at sqrt(2 lam)/a
    z = rng.uniform(-3, 3, 7)
    out = pen.prox(z, 1.0 / a2)
    np.testing.assert_allclose(out, np.where(np.abs(z) > np.sqrt(2 * lam / a2), z, 0.0))


def test_k_support_norm_special_cases():
    x = np.array([3.0, -1.0, 0.5, 0.0, 2.0])
    assert k_support_sq_norm(x, 1) == pytest.approx(np.sum(np.abs(x)) ** 2)
    assert k_support_sq_norm(x, 5) == pytest.approx(x @ x)


def test_k_support_prox_matches_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(1)
    for _ in range(6):
        d, k = 7, int(rng.integers(1, 7))
        w, beta = 2 * rng.standard_normal(d), 10 ** rng.uniform(-1, 1)
        x, theta = cp.Variable(d), cp.Variable(d)
        # variational form ||x||_(k)^2 = min_{0 <= theta <= 1, sum theta <= k} sum x_i^2 / theta_i
        obj = 0.5 * cp.sum_squares(x - w) + sum(cp.quad_over_lin(x[i], theta[i])
                                                for i in range(d)) / (2 * beta)
        cp.Problem(cp.Minimize(obj), [theta >= 0, theta <= 1, cp.sum(theta) <= k]).solve(
            solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
        np.testing.assert_allclose(k_support_prox(w, k, beta), x.value, atol=2e-4)


def test_k_support_prox_is_the_minimiser_numerically():
    """Random perturbations never decrease the prox objective (numerical minimiser check)."""
    rng = np.random.default_rng(2)
    for _ in range(20):
        d, k = 6, int(rng.integers(1, 6))
        w, beta = rng.standard_normal(d) * 3, 10 ** rng.uniform(-1, 1)
        q = k_support_prox(w, k, beta)

        def f(x):
            return 0.5 * np.sum((x - w) ** 2) + k_support_sq_norm(x, k) / (2 * beta)

        fq = f(q)
        for _ in range(200):
            assert f(q + 1e-3 * rng.standard_normal(d)) >= fq - 1e-12


def _random_groups(rng, n_groups, max_size=3):
    sizes = rng.integers(1, max_size + 1, n_groups)
    bounds = np.cumsum(sizes)[:-1]
    return [g.tolist() for g in np.split(np.arange(int(sizes.sum())), bounds)]


def test_wgsef_prox_matches_a_numerical_prox_for_any_group_weights():
    """Issue 15 item 5: the prox of step * WGSEF is the minimiser of step * value(x) +
    1/2 ||x - v||^2 (scipy, several starts) for random weights, k, sizes, both variants."""
    from scipy.optimize import minimize

    from sparseopt.optimize._penalties import WGSEF

    rng = np.random.default_rng(5)
    for trial in range(30):
        n_groups = int(rng.integers(1, 5))
        groups = _random_groups(rng, n_groups)
        p = sum(len(g) for g in groups)
        gw = rng.uniform(0.2, 5.0, n_groups)
        k = int(rng.integers(1, n_groups + 1))
        nonconvex = bool(trial % 3 == 0)
        alpha, step = rng.exponential(), rng.uniform(0.05, 1.0)
        if nonconvex:
            step = min(step, 0.9 * gw.min() / alpha)
        pen = WGSEF(alpha, k=k, nonconvex=nonconvex, groups=groups, group_weights=gw,
                    n_features=p)
        v = rng.standard_normal(p) * rng.exponential()
        x = pen.prox(v, step)

        def F(z):
            return step * pen.value(z) + 0.5 * np.sum((z - v) ** 2)

        best = min(minimize(F, x0, method="Powell",
                            options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 50_000}).fun
                   for x0 in (x, v, np.zeros(p)))
        assert F(x) <= best + 1e-9, (trial, F(x), best)


def test_weighted_k_support_prox_reduces_to_the_unweighted_one():
    from sparseopt.optimize._penalties import weighted_k_support_prox

    rng = np.random.default_rng(6)
    for _ in range(100):
        d = int(rng.integers(1, 9))
        k, mu = int(rng.integers(1, d + 1)), rng.exponential()
        a = np.abs(rng.standard_normal(d))
        np.testing.assert_allclose(weighted_k_support_prox(a, np.ones(d), k, mu),
                                   k_support_prox(a, k, 1 / mu), atol=1e-10)


def test_wgsef_estimator_matches_cvxpy_and_depends_on_the_weights():
    """Least squares + WGSEF against cvxpy's variational form
    ||u||_(k)^2 = min {sum_g ||w_g||^2 / (c_g theta_g) : 0 <= theta <= 1, sum theta <= k};
    the group weights change the answer (they used not to: issue 15 item 5)."""
    cp = pytest.importorskip("cvxpy")
    from sparseopt.linear_model import SparseLinearRegression

    rng = np.random.default_rng(7)
    n, groups = 40, [[0, 1], [2, 3], [4, 5, 6], [7]]
    X = rng.standard_normal((n, 8))
    y = X @ np.array([1.5, -1.0, 0, 0, 0.8, 0.5, 0, -0.7]) + 0.3 * rng.standard_normal(n)
    coefs = []
    for gw in ([1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0], [1.0, 4.0, 9.0, 0.5]):
        for k in (1, 2):
            alpha = 0.2
            est = SparseLinearRegression(penalty="wgsef", alpha=alpha, k=k, groups=groups,
                                         group_weights=gw, fit_intercept=False,
                                         tol=1e-10, max_iter=200).fit(X, y)
            w, theta = cp.Variable(8), cp.Variable(len(groups))
            pen = sum(cp.quad_over_lin(w[g], theta[i]) / gw[i] for i, g in enumerate(groups))
            obj = cp.sum_squares(y - X @ w) / (2 * n) + alpha / 2 * pen
            prob = cp.Problem(cp.Minimize(obj), [theta >= 0, theta <= 1, cp.sum(theta) <= k])
            # 1e-8: the tightest tolerances at which CLARABEL certifies all six references
            # ("optimal"; at 1e-10 four end "optimal_inaccurate" with a warning)
            prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-8, tol_gap_rel=1e-8, tol_feas=1e-8)
            assert prob.status == "optimal", prob.status
            assert est.objective_ <= prob.value + 1e-7, (gw, k, est.objective_, prob.value)
            np.testing.assert_allclose(est.coef_, w.value, atol=1e-3)
            coefs.append(est.coef_)
    assert not np.allclose(coefs[0], coefs[2], atol=1e-3)  # weights 1 vs 2
    assert not np.allclose(coefs[0], coefs[4], atol=1e-3)  # weights 1 vs (1, 4, 9, 0.5)


def test_wgsef_rejects_zero_group_weights():
    from sparseopt.optimize._penalties import WGSEF

    with pytest.raises(ValueError, match="positive group_weights"):
        WGSEF(0.1, groups=2, group_weights=[1.0, 0.0], n_features=4)


def test_positive_sef_and_wgsef_prox_are_the_constrained_minimisers():
    """With w >= 0 the prox is that of max(z, 0) (it used to clip the unconstrained prox,
    up to 1.19 above the constrained minimum on these draws)."""
    from scipy.optimize import minimize

    from sparseopt.optimize._penalties import SEF, WGSEF

    rng = np.random.default_rng(8)
    for trial in range(20):
        p, step = 6, rng.uniform(0.1, 1.0)
        if trial % 2:
            pen = WGSEF(rng.exponential(), k=int(rng.integers(1, 4)), groups=2,
                        group_weights=rng.uniform(0.5, 3.0, 3), n_features=p)
        else:
            pen = SEF(rng.exponential(), k=int(rng.integers(1, 4)))
        v = 2 * rng.standard_normal(p)
        x = pen.prox(v, step, positive=True)
        assert np.all(x >= 0)

        def F(z):
            return step * pen.value(z) + 0.5 * np.sum((z - v) ** 2)

        best = min(minimize(F, x0, bounds=[(0, None)] * p, method="L-BFGS-B",
                            options={"ftol": 1e-15, "gtol": 1e-12}).fun
                   for x0 in (x, np.maximum(v, 0), np.zeros(p)))
        assert F(x) <= best + 1e-9, (trial, F(x), best)
