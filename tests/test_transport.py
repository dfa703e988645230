"""Entropic optimal transport (Sinkhorn, log-domain Sinkhorn, SNS): one test per property."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from sparseopt.datasets import make_grid_densities, make_point_clouds, make_random_assignment
from sparseopt.metrics import entropic_ot_objective, marginal_error
from sparseopt import transport
from sparseopt.transport import OTResult, SinkhornTransport, solve
from sparseopt.transport import sns as sns_module

try:  # the anchor; only the tests comparing against it need it
    import ot
except ImportError:  # pragma: no cover
    ot = None
needs_pot = pytest.mark.skipif(ot is None, reason="POT (the anchor library) is not installed")

METHODS = ["sinkhorn", "log", "sns"]
POT_METHOD = {"sinkhorn": "sinkhorn", "log": "sinkhorn_log", "sns": "sinkhorn_log"}


def _problem(n=40, m=30, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 1.5, n)
    b = rng.uniform(0.5, 1.5, m)
    return a / a.sum(), b / b.sum(), rng.uniform(size=(n, m))


def _dual(a, b, f, g, M, reg):
    P = np.exp((f[:, None] + g[None, :] - M) / reg)
    return a @ f + b @ g - reg * (P.sum() - a.sum())


# ------------------------------------------------------------------ POT agreement
@needs_pot
@pytest.mark.parametrize("method", METHODS)
def test_plan_and_cost_match_pot(method):
    a, b, M = _problem()
    reg = 0.05
    res = solve(M, a, b, reg, method=method, tol=1e-13, max_iter=20000)
    P_pot = ot.sinkhorn(a, b, M, reg, method=POT_METHOD[method], stopThr=1e-15,
                        numItermax=50000)
    assert isinstance(res, OTResult) and res.converged
    np.testing.assert_allclose(res.plan, P_pot, rtol=0, atol=1e-8)
    assert abs(res.cost - float(np.sum(P_pot * M))) < 1e-8
    assert abs(res.cost - ot.sinkhorn2(a, b, M, reg, method=POT_METHOD[method],
                                       stopThr=1e-15, numItermax=50000)) < 1e-8


@needs_pot
def test_potentials_match_pot_log_potentials_up_to_gauge():
    a, b, M = _problem()
    reg = 0.05
    res = solve(M, a, b, reg, method="sns", tol=1e-12)
    _, log = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", stopThr=1e-15,
                         numItermax=50000, log=True)
    shift_f = res.f / reg - log["log_u"]
    shift_g = res.g / reg - log["log_v"]
    assert np.ptp(shift_f) < 1e-7 and np.ptp(shift_g) < 1e-7
    assert abs(shift_f.mean() + shift_g.mean()) < 1e-7  # the two shifts cancel


@needs_pot
def test_empty_marginals_mean_uniform_weights_as_in_pot():
    _, _, M = _problem()
    res = solve(M, [], [], 0.1, method="log", tol=1e-12, max_iter=5000)
    P_pot = ot.sinkhorn([], [], M, 0.1, method="sinkhorn_log", stopThr=1e-15,
                        numItermax=50000)
    np.testing.assert_allclose(res.plan, P_pot, atol=1e-10)
    np.testing.assert_allclose(res.plan.sum(1), np.full(M.shape[0], 1 / M.shape[0]),
                               atol=1e-11)


def test_plan_concentrates_on_the_optimal_assignment_at_small_reg():
    pb = make_random_assignment(60, random_state=1)
    res = solve(pb.M, pb.a, pb.b, 1e-3, method="sns")
    assert res.converged
    np.testing.assert_array_equal(res.plan.argmax(axis=1), pb.assignment)
    assert res.cost == pytest.approx(pb.optimal_cost, abs=5e-3)


# ----------------------------------------------------------- optimality conditions
@pytest.mark.parametrize("method", METHODS)
def test_marginals_are_met_to_tol(method):
    a, b, M = _problem(seed=3)
    for tol in (1e-6, 1e-10):
        res = solve(M, a, b, 0.02, method=method, tol=tol, max_iter=20000)
        assert res.converged
        assert res.marginal_error <= tol
        assert marginal_error(res.plan, a, b) == pytest.approx(res.marginal_error, rel=1e-6,
                                                                abs=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_potentials_satisfy_the_optimality_conditions(method):
    a, b, M = _problem(seed=4)
    reg = 0.03
    res = solve(M, a, b, reg, method=method, tol=1e-12, max_iter=20000)
    # P_ij = exp((f_i + g_j - M_ij)/reg) and both marginals hold: the KKT system
    np.testing.assert_allclose(res.plan, np.exp((res.f[:, None] + res.g[None, :] - M) / reg),
                               rtol=1e-10, atol=0)
    np.testing.assert_allclose(res.plan.sum(1), a, atol=1e-12)
    np.testing.assert_allclose(res.plan.sum(0), b, atol=1e-12)


def test_dual_value_equals_primal_objective_at_convergence():
    a, b, M = _problem(seed=5)
    reg = 0.02
    res = solve(M, a, b, reg, method="sns", tol=1e-12, reg_type="entropy")
    primal = entropic_ot_objective(res.plan, M, reg)
    assert _dual(a, b, res.f, res.g, M, reg) == pytest.approx(primal, abs=1e-11)
    assert res.value == pytest.approx(primal, abs=1e-11)
    # POT's default reg_type="KL": <P, M> + reg KL(P | a b^T), computed from the plan
    P = res.plan
    kl = np.sum(P * np.log(P / np.outer(a, b))) - P.sum() + a.sum() * b.sum()
    kl_value = solve(M, a, b, reg, method="sns", tol=1e-12).value
    assert kl_value == pytest.approx(np.sum(P * M) + reg * kl, abs=1e-11)


def test_gradient_and_hessian_of_the_dual_match_finite_differences():
    rng = np.random.default_rng(6)
    a, b, M = _problem(8, 6, seed=6)
    reg = 0.3
    f, g = 0.1 * rng.standard_normal(8), 0.1 * rng.standard_normal(6)
    backend = sns_module._CompiledBackend(a, b, M, reg)
    state = backend.evaluate(f, g, 0)
    assert state.dual == pytest.approx(_dual(a, b, f, g, M, reg), abs=1e-13)
    z = np.concatenate([f, g])

    def grad_at(z):
        s = backend.evaluate(z[:8].copy(), z[8:].copy(), 1)
        return np.concatenate([a - s.row, b - s.col])

    h = 1e-6
    fd_grad = np.array([(_dual(a, b, *np.split(z + h * e, [8]), M, reg)
                         - _dual(a, b, *np.split(z - h * e, [8]), M, reg)) / (2 * h)
                        for e in np.eye(14)])
    np.testing.assert_allclose(grad_at(z), fd_grad, atol=1e-8)
    P = state.plan
    hessian = -np.block([[np.diag(P.sum(1)), P], [P.T, np.diag(P.sum(0))]]) / reg
    fd_hess = np.array([(grad_at(z + h * e) - grad_at(z - h * e)) / (2 * h) for e in np.eye(14)])
    np.testing.assert_allclose(fd_hess, hessian, atol=1e-6)
    # concave, with the gauge direction (1, -1) in its null space
    assert np.linalg.eigvalsh(hessian).max() < 1e-12
    np.testing.assert_allclose(hessian @ np.r_[np.ones(8), -np.ones(6)], 0, atol=1e-12)


def test_dual_and_plan_are_gauge_invariant():
    rng = np.random.default_rng(7)
    a, b, M = _problem(10, 12, seed=7)
    f, g = rng.standard_normal(10), rng.standard_normal(12)
    for t in (-3.0, 0.7, 10.0):
        assert _dual(a, b, f + t, g - t, M, 0.5) == pytest.approx(_dual(a, b, f, g, M, 0.5),
                                                                   abs=1e-12)
    res = solve(M, a, b, 0.05, method="sns", tol=1e-12)
    P = np.exp((res.f[:, None] + 2.0 + res.g[None, :] - 2.0 - M) / 0.05)
    np.testing.assert_allclose(P, res.plan, rtol=1e-12)


# --------------------------------------------------------------- numerical safety
def test_tiny_reg_stays_finite_in_log_domain():
    pb = make_random_assignment(80, random_state=2)
    # log-domain Sinkhorn is slow at reg = 1e-4 (tens of thousands of sweeps) but stays finite
    res = solve(pb.M, pb.a, pb.b, 1e-4, method="log", max_iter=300, warn=False)
    for key in ("plan", "f", "g"):
        assert np.all(np.isfinite(res[key])), key
    assert res.history[-1]["marginal_error"] < 0.5 * res.history[1]["marginal_error"]
    res = solve(pb.M, pb.a, pb.b, 1e-4, method="sns")
    for key in ("plan", "f", "g"):
        assert np.all(np.isfinite(res[key])), key
    assert res.converged
    # the kernel exp(-M / reg) has all-zero rows at reg = 1e-5: stop with a warning, no NaN
    with pytest.warns(RuntimeWarning, match="numerical errors"):
        res = solve(pb.M, pb.a, pb.b, 1e-5, method="sinkhorn", warn=False)
    assert np.all(np.isfinite(res.plan)) and not res.converged


@needs_pot
def test_zero_mass_bins_give_zero_rows_and_finite_potentials():
    a, b, M = _problem(12, 10, seed=8)
    a[[0, 5]] = 0.0
    b[3] = 0.0
    a, b = a / a.sum(), b / b.sum()
    # POT's log-domain solver takes log(a) of the zero-mass bins on purpose (log 0 = -inf
    # gives them zero rows); NumPy's divide-by-zero warning there is POT's, not ours
    with np.errstate(divide="ignore"):
        P_pot = ot.sinkhorn(a, b, M, 0.05, method="sinkhorn_log", stopThr=1e-15,
                            numItermax=50000)
    for method in METHODS:
        res = solve(M, a, b, 0.05, method=method, tol=1e-12, max_iter=20000)
        assert res.converged, method
        assert np.all(res.plan[[0, 5], :] == 0) and np.all(res.plan[:, 3] == 0)
        assert np.all(np.isfinite(res.f)) and np.all(np.isfinite(res.g))
        np.testing.assert_allclose(res.plan, P_pot, atol=1e-9)


def test_l1_grid_cost_converges_without_overflow():
    pb = make_grid_densities(12, cost="l1", random_state=0)
    reg = 1e-3 * pb.M.max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        kernel = solve(pb.M, pb.a, pb.b, reg, method="sinkhorn", warn=False)
    assert np.all(np.isfinite(kernel.plan))  # never NaN, even when the kernel underflows
    # at the paper's eta = 1200 the kernel scalings overflow: stop, warn, stay finite
    big = make_grid_densities(28, cost="l1", random_state=0)
    with pytest.warns(RuntimeWarning, match="numerical errors"):
        kernel = solve(big.M, big.a, big.b, 1 / 1200, method="sinkhorn", warn=False)
    for key in ("plan", "f", "g"):
        assert np.all(np.isfinite(kernel[key])), key
    assert np.isfinite(kernel.cost) and np.isfinite(kernel.marginal_error)
    for method, options in (("sns", dict(warmup_iter=200)), ("log", dict(max_iter=50000))):
        res = solve(pb.M, pb.a, pb.b, reg, method=method, tol=1e-9, **options)
        assert res.converged, method
        assert np.all(np.isfinite(res.plan)) and np.all(np.isfinite(res.f))


def test_inputs_are_not_mutated():
    a, b, M = _problem()
    copies = a.copy(), b.copy(), M.copy()
    for method in METHODS:
        solve(M, a, b, 0.05, method=method)
    for x, c in zip((a, b, M), copies):
        np.testing.assert_array_equal(x, c)


# ------------------------------------------------------------------------ batches
@pytest.mark.parametrize("method", METHODS)
def test_batched_costs_equal_separate_solves(method):
    rng = np.random.default_rng(9)
    Ms = rng.uniform(size=(3, 15, 12))
    A = rng.dirichlet(np.ones(15), size=3)
    b = np.full(12, 1 / 12)
    res = solve(Ms, A, b, 0.05, method=method, tol=1e-11, max_iter=20000)
    assert res.plan.shape == (3, 15, 12) and res.f.shape == (3, 15) and res.cost.shape == (3,)
    for k in range(3):
        one = solve(Ms[k], A[k], b, 0.05, method=method, tol=1e-11, max_iter=20000)
        np.testing.assert_allclose(res.plan[k], one.plan, atol=1e-14)
        assert res.cost[k] == pytest.approx(one.cost, abs=1e-14)
    assert res.converged and np.all(res.marginal_error <= 1e-11)
    assert len(res.sparse_plan(1e-12)) == 3


# ------------------------------------------------------------------ Newton stage
def test_newton_stage_converges_fast_on_random_assignment():
    """Paper's problem (eta = 1200) at n = 300: a handful of Newton steps, errors shown."""
    pb = make_random_assignment(300, random_state=0)
    res = solve(pb.M, pb.a, pb.b, 1 / 1200, method="sns", tol=1e-11)
    errors = [h["marginal_error"] for h in res.history if h["stage"] == "newton"]
    assert res.converged and res.n_newton <= 15, errors
    # fast finish: the last step gains at least two decades
    assert errors[-1] <= 1e-2 * errors[-2], errors
    duals = [h["dual"] for h in res.history if h["stage"] == "newton"]
    slack = sns_module.ROUNDOFF_SLACK * max(abs(d) for d in duals)
    assert all(d2 >= d1 - slack for d1, d2 in zip(duals, duals[1:])), "dual decreased"


def test_newton_with_full_hessian_is_quadratic():
    """e_{k+1} <= C e_k^2 with one constant C over three decades of e_k.

    A linear rate rho would need C >= rho / e_k, i.e. C > 1e6 at e_k ~ 1e-7.
    """
    pb = make_random_assignment(120, random_state=3)
    res = solve(pb.M, pb.a, pb.b, 1 / 300, method="sns", tol=1e-13, sparsity=1e9,
                cg_rtol=1e-14)
    errors = np.array([h["marginal_error"] for h in res.history if h["stage"] == "newton"])
    assert res.converged
    tail = [(e0, e1) for e0, e1 in zip(errors, errors[1:]) if e0 < 1e-3 and e1 > 1e-14]
    assert min(e0 for e0, _ in tail) < 1e-6, errors  # the quadratic region was reached
    constants = [e1 / e0**2 for e0, e1 in tail]
    assert max(constants) < 1e5, (errors, constants)


def test_sns_takes_far_fewer_iterations_than_sinkhorn():
    pb = make_random_assignment(100, random_state=4)
    reg = 1 / 500
    sns = solve(pb.M, pb.a, pb.b, reg, method="sns")
    ref = solve(pb.M, pb.a, pb.b, reg, method="sinkhorn", max_iter=200000)
    assert sns.converged and ref.converged
    assert sns.n_iter <= 0.01 * ref.n_iter, (sns.n_iter, ref.n_iter)
    np.testing.assert_allclose(sns.plan, ref.plan, atol=1e-8)


def test_line_search_fallback_does_sinkhorn_sweeps_and_warns(monkeypatch):
    a, b, M = _problem(seed=10)
    monkeypatch.setattr(sns_module, "_line_search", lambda *args, **kw: (None, 0.0))
    with pytest.warns(RuntimeWarning, match="replaced by a Sinkhorn sweep"):
        res = solve(M, a, b, 0.05, method="sns", warmup_iter=2, max_iter=3000)
    stages = {h["stage"] for h in res.history}
    assert "fallback" in stages and "newton" not in stages
    assert res.converged and res.history[-1]["n_fallback"] == res.n_newton


def test_line_search_rejects_non_finite_trials():
    a, b, M = _problem(6, 5, seed=11)
    backend = sns_module._CompiledBackend(a, b, M, 0.1)
    state = backend.evaluate(np.zeros(6), np.zeros(5), 0)
    # a direction that overflows exp at every step size tried is never accepted
    trial, step = sns_module._line_search(backend, state, np.full(6, 1e300), np.zeros(5), 1.0, 1)
    assert trial is None and step == 0.0


def test_grid_w2_converges_with_default_parameters():
    pb = make_grid_densities(14, random_state=1)
    res = solve(pb.M, pb.a, pb.b, 1e-3 * pb.M.max(), method="sns")
    assert res.converged and res.marginal_error <= 1e-9
    ref = solve(pb.M, pb.a, pb.b, 1e-3 * pb.M.max(), method="log", tol=1e-12,
                max_iter=100000)
    np.testing.assert_allclose(res.plan, ref.plan, atol=1e-8)


@pytest.mark.parametrize("warmup_tol", [3e-2, 1e-3])
def test_auto_warmup_sweeps_until_the_marginal_error_is_below_warmup_tol(warmup_tol):
    pb = make_grid_densities(14, random_state=1)
    reg = 1e-3 * pb.M.max()
    res = solve(pb.M, pb.a, pb.b, reg, method="sns", warmup_tol=warmup_tol)
    warm = [h["marginal_error"] for h in res.history if h["stage"] == "sinkhorn"]
    assert res.converged and res.n_newton >= 1
    assert warm[-1] <= warmup_tol < warm[-2]
    # a fixed count is honoured exactly
    fixed = solve(pb.M, pb.a, pb.b, reg, method="sns", warmup_iter=5)
    assert sum(h["stage"] == "sinkhorn" for h in fixed.history) == 6  # initial error + 5 sweeps
    np.testing.assert_allclose(res.plan, fixed.plan, atol=1e-8)


def test_auto_warmup_needs_few_newton_steps_on_grid_w2_and_w1():
    # measured: W2 6 Newton steps (15 with warmup_iter=20); W1 23 (warmup_iter=20 does not
    # converge in 100 Newton steps)
    for cost, max_newton in (("sqeuclidean", 10), ("l1", 30)):
        pb = make_grid_densities(20, cost=cost, random_state=0)
        res = solve(pb.M, pb.a, pb.b, 1 / 1200, method="sns")
        assert res.converged and res.n_newton <= max_newton, (cost, res.n_newton)


# ----------------------------------------------------------------------- results
def test_result_reports_convergence_and_warns():
    a, b, M = _problem()
    with pytest.warns(ConvergenceWarning, match="l1 marginal error"):
        res = solve(M, a, b, 0.01, method="log", max_iter=3)
    assert not res.converged and res.n_iter == 3 and not res.success
    assert res.certificate == res.marginal_error > res.tol
    assert "did not converge" in res.message
    assert [h["iteration"] for h in res.history] == [0, 1, 2, 3]
    sparse = solve(M, a, b, 0.01, method="sns").sparse_plan(1e-6)
    assert sparse.shape == M.shape and sparse.nnz < M.size


def test_sparse_plan_is_a_csr_matrix_that_can_also_be_thresholded():
    a, b, M = _problem()
    res = solve(M, a, b, 0.01, method="sns")
    plan = res.sparse_plan  # POT's attribute: the plan as CSR
    assert sp.isspmatrix_csr(plan)
    np.testing.assert_array_equal(plan.toarray(), res.plan)
    # scipy operations work on it (they rebuild the class with csr_matrix's arguments)
    np.testing.assert_allclose((2.0 * plan + plan).toarray(), 3.0 * res.plan)
    np.testing.assert_array_equal(plan[:5].toarray(), res.plan[:5])
    small = plan(1e-4)  # sparseopt's call: drop the entries <= threshold
    assert small.nnz == int(np.sum(res.plan > 1e-4))
    assert (plan * 2.0)(2e-4).nnz == small.nnz


def test_float32_costs_are_solved_in_float32():
    a, b, M = _problem()
    res = solve(M.astype(np.float32), a.astype(np.float32), b.astype(np.float32), 0.05,
                method="log", tol=1e-5)
    assert res.plan.dtype == np.float32 and res.converged


@pytest.mark.parametrize("bad, match", [
    (dict(a=-np.ones(4) / 4), "non-negative"),
    (dict(b=np.ones(5)), "same total mass"),
    (dict(M=np.full((4, 5), np.nan)), "NaN"),
    (dict(reg=0.0), "reg"),
    (dict(reg=-1.0), "reg"),
    (dict(a=np.ones(3) / 3), "shape"),
    (dict(M=np.ones(4)), "2-D"),
    (dict(M=np.ones((4, 0))), "non-empty"),
    (dict(method="greenkhorn"), "method"),
    (dict(a=["x"] * 4), "numbers"),
])
@pytest.mark.parametrize("entry", ["sinkhorn", "sinkhorn2", "solve"])
def test_bad_input_raises_a_clear_error(bad, match, entry):
    args = dict(a=np.ones(4) / 4, b=np.ones(5) / 5, M=np.ones((4, 5)), reg=0.1, method="log")
    args.update(bad)
    a, b, M, reg = args.pop("a"), args.pop("b"), args.pop("M"), args.pop("reg")
    with pytest.raises(ValueError, match=match):
        if entry == "solve":
            solve(M, a, b, reg, **args)
        else:
            getattr(transport, entry)(a, b, M, reg, **args)


# --------------------------------------------------------------------- array API
def _namespaces():
    out = []
    try:
        import array_api_strict as xps

        out += [pytest.param(xps, xps.Device("CPU_DEVICE"), id="strict-cpu"),
                pytest.param(xps, xps.Device("device1"), id="strict-device1")]
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        out.append(pytest.param(torch, "cpu", id="torch-cpu"))
        if torch.cuda.is_available():  # pragma: no cover
            out.append(pytest.param(torch, "cuda", id="torch-cuda"))
    except ImportError:
        out.append(pytest.param(None, None, id="torch-cpu",
                                marks=pytest.mark.skip(reason="torch not installed (opt-in: .ci/run installs the CPU build)")))
    return out


@pytest.mark.parametrize("xp, device", _namespaces())
@pytest.mark.parametrize("method", METHODS)
def test_array_api_namespaces_and_devices(xp, device, method):
    import array_api_compat

    a, b, M = _problem(20, 15, seed=12)
    ref = solve(M, a, b, 0.05, method=method, tol=1e-11, max_iter=20000)
    args = [xp.asarray(x, device=device) for x in (a, b, M)]
    if xp.__name__ == "torch":
        args = [x.to(xp.float64) for x in args]
    res = solve(args[2], args[0], args[1], 0.05, method=method, tol=1e-11, max_iter=20000)
    for key in ("plan", "f", "g"):
        assert array_api_compat.array_namespace(res[key]).__name__.endswith(
            array_api_compat.array_namespace(args[2]).__name__.split(".")[-1])
        assert array_api_compat.device(res[key]) == array_api_compat.device(args[2])
    from sparseopt.utils._array_api import to_numpy

    np.testing.assert_allclose(to_numpy(res.plan), ref.plan, atol=1e-12)
    assert res.converged and res.marginal_error <= 1e-11
    if method == "sns":  # the array-API Newton stage ran (not only the warm-up)
        assert res.n_newton > 0


@pytest.mark.parametrize("xp, device", _namespaces())
def test_pot_api_follows_the_namespace_of_m(xp, device):
    import array_api_compat

    from sparseopt.utils._array_api import to_numpy

    a, b, M = _problem(12, 9, seed=14)
    B = np.stack([b, b[::-1]], axis=1)
    args = [xp.asarray(x, device=device) for x in (a, b, M, B)]
    if xp.__name__ == "torch":
        args = [x.to(xp.float64) for x in args]
    a_x, b_x, M_x, B_x = args

    def check(x):
        assert array_api_compat.array_namespace(x).__name__.endswith(
            array_api_compat.array_namespace(M_x).__name__.split(".")[-1])
        assert array_api_compat.device(x) == array_api_compat.device(M_x)

    P, log = transport.sinkhorn(a_x, b_x, M_x, 0.1, method="sinkhorn_log", log=True,
                                stopThr=1e-11)
    for x in (P, log["log_u"], log["v"]):
        check(x)
    P_numpy = transport.sinkhorn(a, b, M, 0.1, method="sinkhorn_log", stopThr=1e-11)
    np.testing.assert_allclose(to_numpy(P), P_numpy, atol=1e-13)
    loss = transport.sinkhorn2(a_x, b_x, M_x, 0.1, stopThr=1e-11)
    check(loss)
    losses = transport.sinkhorn(a_x, B_x, M_x, 0.1, stopThr=1e-11)
    check(losses)
    assert losses.shape == (2,)
    assert float(losses[0]) == pytest.approx(float(loss), rel=1e-10)


def test_pot_api_keeps_float32():
    a, b, M = (x.astype(np.float32) for x in _problem(seed=15))
    P = transport.sinkhorn(a, b, M, 0.05, method="sinkhorn_log", stopThr=1e-4)
    assert P.dtype == np.float32
    res = solve(M, a, b, 0.05, method="sns", tol=1e-5)
    assert res.plan.dtype == np.float32 and res.converged


@pytest.mark.parametrize("xp, device", _namespaces())
@pytest.mark.parametrize("out_of_sample_map", ["continuous", "ferradans"])
def test_estimator_pot_methods_follow_the_namespace(xp, device, out_of_sample_map):
    import sklearn

    from sparseopt.utils._array_api import to_numpy

    rng = np.random.default_rng(17)
    Xs, Xt, X_new = rng.standard_normal((12, 2)), rng.standard_normal((10, 2)) + 1.0, \
        rng.standard_normal((5, 2))
    ys, yt = rng.integers(0, 3, 12), rng.integers(0, 3, 10)
    ys[:7], yt[:6] = -1, -1
    params = dict(reg_e=0.3, norm="max", out_of_sample_map=out_of_sample_map,
                  method="sinkhorn_log")
    ref = SinkhornTransport(**params).fit(Xs=Xs, ys=ys, Xt=Xt, yt=yt)

    def conv(x):
        x = xp.asarray(x, device=device)
        return x.to(xp.float64) if xp.__name__ == "torch" else x

    with sklearn.config_context(array_api_dispatch=True):
        est = SinkhornTransport(**params).fit(Xs=conv(Xs), ys=ys, Xt=conv(Xt), yt=yt)
        outputs = [est.transform(Xs=conv(Xs)), est.transform(Xs=conv(X_new)),
                   est.inverse_transform(Xt=conv(X_new)), est.transform_labels(ys=ys),
                   est.inverse_transform_labels(yt=yt)]
    expected = [ref.transform(Xs=Xs), ref.transform(Xs=X_new), ref.inverse_transform(Xt=X_new),
                ref.transform_labels(ys=ys), ref.inverse_transform_labels(yt=yt)]
    for out, exp in zip(outputs, expected):
        assert type(out) is type(est.coupling_)
        np.testing.assert_allclose(to_numpy(out), exp, atol=1e-12)


def test_mixed_namespaces_raise():
    torch = pytest.importorskip("torch")
    a, b, M = _problem()
    with pytest.raises(ValueError, match="namespaces"):
        solve(M, torch.asarray(a), b, 0.1)


# --------------------------------------------------------------------- estimator
def test_estimator_maps_a_translated_cloud_onto_the_target():
    rng = np.random.default_rng(13)
    Xs = rng.standard_normal((60, 2))
    Xt = Xs + np.array([4.0, -1.0])
    est = SinkhornTransport(reg_e=3e-4, norm="max").fit(Xs=Xs, Xt=Xt)
    assert est.converged_ and est.coupling_.shape == (60, 60)
    np.testing.assert_allclose(est.transform(Xs=Xs), Xt, atol=0.05)
    np.testing.assert_allclose(est.inverse_transform(Xt=Xt), Xs, atol=0.05)
    # sparseopt's earlier names (reg, X_target) and scikit-learn's positional X still work
    old = SinkhornTransport(reg=3e-4, norm="max").fit(Xs, X_target=Xt)
    np.testing.assert_array_equal(old.coupling_, est.coupling_)
    np.testing.assert_array_equal(old.transform(Xs), est.transform(Xs=Xs))


@needs_pot
def test_transform_on_fitted_samples_is_the_barycentric_projection_of_the_plan():
    pb = make_point_clouds(80, random_state=0)
    est = SinkhornTransport(reg_e=0.02, norm="max", tol=1e-12).fit(Xs=pb.X_source,
                                                                   Xt=pb.X_target)
    P = est.coupling_
    barycentric = (P / P.sum(1, keepdims=True)) @ pb.X_target
    np.testing.assert_allclose(est.transform(pb.X_source), barycentric, atol=1e-9)
    # same plan as POT's estimator
    pot = ot.da.SinkhornTransport(reg_e=0.02, norm="max", tol=1e-14, max_iter=100000)
    pot.fit(Xs=pb.X_source, Xt=pb.X_target)
    np.testing.assert_allclose(P, pot.coupling_, atol=1e-8)
    np.testing.assert_allclose(est.transform(pb.X_source), pot.transform(Xs=pb.X_source),
                               atol=1e-6)


def test_estimator_recovers_the_planted_monge_map_approximately():
    pb = make_point_clouds(400, random_state=1)
    est = SinkhornTransport(reg_e=1e-3, norm="max").fit(Xs=pb.X_source, Xt=pb.X_target)
    X_new = np.random.default_rng(2).standard_normal((50, 2)) * 0.5
    mapped = est.transform(X_new)
    truth = X_new @ pb.A.T + pb.t
    assert np.sqrt(np.mean((mapped - truth) ** 2)) < 0.3 * np.sqrt(np.mean(truth ** 2))


def test_estimator_without_target_transports_x_onto_itself():
    X = np.random.default_rng(3).standard_normal((30, 3))
    est = SinkhornTransport(reg_e=0.05, norm="max").fit(X)
    np.testing.assert_allclose(est.coupling_.sum(0), np.full(30, 1 / 30), atol=1e-9)
    assert est.X_target_ is not None and est.X_target_.shape == X.shape


def test_estimator_rejects_a_target_with_other_features():
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match="features"):
        SinkhornTransport().fit(Xs=X, Xt=np.zeros((5, 2)))


# ----------------------------------------------------------------------- datasets
def test_datasets_are_seeded_and_valid():
    for make in (make_random_assignment, make_point_clouds):
        p1, p2 = make(30, random_state=5), make(30, random_state=5)
        np.testing.assert_array_equal(p1.M, p2.M)
    pb = make_grid_densities(6, cost="l1", random_state=0)
    assert pb.M.shape == (36, 36) and np.all(pb.a > 0) and pb.a.sum() == pytest.approx(1)
    with pytest.raises(ValueError, match="cost"):
        make_grid_densities(4, cost="cosine")


@pytest.mark.parametrize("method", METHODS)
def test_bad_warm_starts_raise_before_the_solver_runs(method):
    a, b, M = _problem(12, 9, seed=16)
    good = (np.zeros(12), np.zeros(9))
    for bad, match in (((np.zeros(11), np.zeros(9)), "shape"),
                       ((np.zeros(12), np.full(9, np.nan)), "NaN"),
                       ((np.zeros(12),), "pair")):
        with pytest.raises(ValueError, match=match):
            transport.sinkhorn(a, b, M, 0.1, method=method, warmstart=bad)
        with pytest.raises(ValueError, match=match):
            solve(M, a, b, 0.1, method=method, potentials_init=bad)
    transport.sinkhorn(a, b, M, 0.1, method=method, warmstart=good)
    with pytest.raises(ValueError, match="numItermax"):
        transport.sinkhorn(a, b, M, 0.1, method=method, numItermax=-1)


# ------------------------------------------------------------ scale equivariance (issue 15)
@pytest.mark.parametrize("method", METHODS)
def test_constant_shift_of_the_costs_does_not_change_the_plan(method):
    # the plan of M + c is the plan of M; "sinkhorn" once overflowed near M = -1000
    a, b, M = _problem(12, 9, seed=3)
    ref = solve(M, a, b, 0.05, method=method, tol=1e-10, max_iter=5000)
    for shift in (-1000.0, -1e5, 1e3, 1e6):
        res = solve(M + shift, a, b, 0.05, method=method, tol=1e-10, max_iter=5000)
        assert res.converged and np.all(np.isfinite(res.plan))
        np.testing.assert_allclose(res.plan, ref.plan, rtol=1e-6, atol=1e-10)
        assert res.cost == pytest.approx(ref.cost + shift * a.sum(), rel=1e-9, abs=1e-9 * abs(shift))
        # potentials still describe the plan of the caller's M
        P = np.exp((res.f[:, None] + res.g[None, :] - (M + shift)) / 0.05)
        np.testing.assert_allclose(P, res.plan, rtol=1e-5, atol=1e-12)


@needs_pot
def test_shifted_costs_keep_the_pot_plan():
    a, b, M = _problem(10, 8, seed=5)
    ours = solve(M - 1000.0, a, b, 0.1, method="sinkhorn", tol=1e-12, max_iter=10000)
    pot = ot.sinkhorn(a, b, M, 0.1, method="sinkhorn", stopThr=1e-13, numItermax=10000)
    np.testing.assert_allclose(ours.plan, pot, rtol=1e-7, atol=1e-13)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("exponent", [-300, -150, -20, 0, 20, 150, 300])
def test_plan_scales_with_the_mass_and_the_tolerance_is_relative(method, exponent):
    a, b, M = _problem(8, 7, seed=1)
    ref = solve(M, a, b, 0.1, method=method, tol=1e-10, max_iter=5000)
    s = 10.0 ** exponent
    res = solve(M, a * s, b * s, 0.1, method=method, tol=1e-10, max_iter=5000)
    assert res.converged and res.n_iter == ref.n_iter  # not "converged" at once at 1e-300
    np.testing.assert_allclose(res.plan / s, ref.plan, rtol=1e-9, atol=0)
    assert res.marginal_error <= 1e-10 * s * 1.0000001
    assert res.cost == pytest.approx(ref.cost * s, rel=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_float16_costs_are_solved_in_float32(method):
    a, b, M = _problem(10, 8, seed=2)
    M16 = M.astype(np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # float32 cannot certify 1e-9
        res = solve(M16, a, b, 0.1, method=method)
    assert res.plan.dtype == np.float32
    ref = solve(M16.astype(np.float32), a, b, 0.1, method=method, warn=False)
    np.testing.assert_allclose(res.plan, ref.plan)
    assert marginal_error(res.plan.astype(np.float64), a, b) < 1e-5


def test_kernel_underflow_warning_names_underflow():
    a, b, M = _problem(6, 5, seed=0)
    with pytest.warns(RuntimeWarning, match="underflows"):
        solve(M * 1000.0, a, b, 1e-3, method="sinkhorn", warn=False)


def test_sns_docstring_states_the_cg_tolerance_and_the_k_doubling_rule():
    # the documented rule is the one the code applies (sns.py: forcing, SLOW_RATE)
    doc = " ".join(solve.__doc__.split())
    assert "max(cg_rtol, min(0.1, ||grad||_1))" in doc
    assert "after any full Newton step (step length 1) that fails to halve" in doc
    assert sns_module.FORCING_CAP == 0.1 and sns_module.SLOW_RATE == 0.5


@pytest.mark.parametrize("method", METHODS)
def test_sinkhorn_is_equivariant_to_mass_and_cost_scales(method):
    # property test: P(s a, s b, c M + t, c reg) = s P(a, b, M, reg) over random s, c, t
    from hypothesis import given, settings, strategies as st

    a, b, M = _problem(7, 6, seed=4)
    ref = solve(M, a, b, 0.1, method=method, tol=1e-11, max_iter=5000)

    @settings(max_examples=12, deadline=None, derandomize=True)
    @given(mass_exp=st.integers(-150, 150), cost_exp=st.integers(-150, 150),
           shift=st.floats(-1e3, 1e3))
    def check(mass_exp, cost_exp, shift):
        s, c = 10.0 ** mass_exp, 10.0 ** cost_exp
        res = solve(c * (M + shift), a * s, b * s, c * 0.1, method=method, tol=1e-11,
                    max_iter=5000)
        assert res.converged
        np.testing.assert_allclose(res.plan / s, ref.plan, rtol=1e-7, atol=1e-14)

    check()


def test_pot_api_solves_a_stack_of_cost_matrices():
    # beyond POT: M of shape (batch, n, m) gives one plan per problem, log arrays per problem
    Ms = np.random.default_rng(18).uniform(size=(3, 6, 5))
    P, log = transport.sinkhorn([], [], Ms, 0.1, method="sinkhorn_log", log=True,
                                stopThr=1e-12)
    assert P.shape == (3, 6, 5) and log["log_u"].shape == (3, 6)
    assert log["err"][-1] <= 1e-12
    for k in range(3):
        np.testing.assert_allclose(P[k], transport.sinkhorn([], [], Ms[k], 0.1, stopThr=1e-12),
                                   atol=1e-12)
    losses = transport.sinkhorn2([], [], Ms, 0.1, stopThr=1e-12)
    np.testing.assert_allclose(losses, np.sum(P * Ms, axis=(1, 2)), rtol=1e-10)
