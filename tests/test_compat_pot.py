"""Drop-in compatibility with POT (issue 21): the same calls against ``ot`` and ``sparseopt``.

Every test runs one call written for POT against POT itself and against
``sparseopt.transport`` (same arguments, same keywords) on several random
problems, and compares what comes back: the plans (to a tight tolerance, both
solvers run to convergence), the log dicts (same keys; values equal, or equal
up to the scaling freedom ``(c u, v / c)`` that every Sinkhorn variant has), the
losses, the multi-histogram form, ``ot.solve``'s result and
``ot.da.SinkhornTransport``'s fitted attributes and maps.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from sparseopt import transport

ot = pytest.importorskip("ot", reason="POT (the anchor library) is not installed")

SEEDS = range(4)
POT_METHODS = ["sinkhorn", "sinkhorn_log", "sinkhorn_stabilized"]
# tight enough for both libraries to sit on the same plan up to ~1e-12
TIGHT = dict(numItermax=100000, stopThr=1e-13)


def _problem(seed, n=None, m=None):
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(5, 25))
    m = m or int(rng.integers(5, 25))
    a = rng.uniform(0.2, 1.0, n)
    b = rng.uniform(0.2, 1.0, m)
    M = rng.uniform(size=(n, m)) * rng.uniform(0.5, 3.0)
    reg = float(rng.uniform(0.05, 0.3)) * M.max()
    return a / a.sum(), b / b.sum(), M, reg


def _quiet(fn, *args, **kwargs):
    """POT warns (and prints) on harmless things (e.g. overflow of -M/reg at M = float max)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _assert_equal_up_to_scale(ours, pot, rtol=1e-8):
    """``ours = c * pot`` for one positive constant ``c`` (per column for 2-D arrays)."""
    ratio = ours / pot
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:1, ...], ratio.shape), rtol=rtol)


def _assert_equal_up_to_shift(ours, pot, atol=1e-8):
    shift = ours - pot
    np.testing.assert_allclose(shift, np.broadcast_to(shift[:1, ...], shift.shape), atol=atol)
    return shift[0, ...]


# ------------------------------------------------------------------- ot.sinkhorn
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", POT_METHODS)
def test_sinkhorn_returns_pots_plan(seed, method):
    a, b, M, reg = _problem(seed)
    P_pot = ot.sinkhorn(a, b, M, reg, method=method, **TIGHT)
    P = transport.sinkhorn(a, b, M, reg, method=method, **TIGHT)
    assert type(P) is type(P_pot) and P.shape == P_pot.shape and P.dtype == P_pot.dtype
    np.testing.assert_allclose(P, P_pot, rtol=0, atol=1e-11)


@pytest.mark.parametrize("seed", SEEDS)
def test_sinkhorn_defaults_and_positional_call_match_pot(seed):
    a, b, M, reg = _problem(seed)
    # POT's defaults: method="sinkhorn", numItermax=1000, stopThr=1e-9; both converge here
    P_pot = ot.sinkhorn(a, b, M, reg)
    P = transport.sinkhorn(a, b, M, reg)
    np.testing.assert_allclose(P, P_pot, rtol=0, atol=1e-8)
    P_pos = transport.sinkhorn(a, b, M, reg, "sinkhorn_log", 1000, 1e-9, False, False, True,
                               None)
    np.testing.assert_allclose(P_pos, ot.sinkhorn(a, b, M, reg, "sinkhorn_log"), atol=1e-8)
    # the plan is a plain 2-D array (it used to be a result object, np.asarray gave 0-d)
    assert np.asarray(P).shape == M.shape and np.asarray(P).dtype == np.float64


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", ["sns", "log", "SINKHORN_LOG"])
def test_our_method_names_give_pots_plan(seed, method):
    a, b, M, reg = _problem(seed)
    P_pot = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", **TIGHT)
    P = transport.sinkhorn(a, b, M, reg, method=method, **TIGHT)
    np.testing.assert_allclose(P, P_pot, rtol=0, atol=1e-11)


def test_lists_and_empty_histograms_as_in_pot():
    a, b, M, reg = _problem(7)
    np.testing.assert_allclose(transport.sinkhorn([], [], M.tolist(), reg, **TIGHT),
                               ot.sinkhorn([], [], M.tolist(), reg, **TIGHT), atol=1e-11)
    np.testing.assert_allclose(transport.sinkhorn(list(a), list(b), M, reg, **TIGHT),
                               ot.sinkhorn(list(a), list(b), M, reg, **TIGHT), atol=1e-11)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", POT_METHODS)
def test_log_dict_has_pots_keys_and_values(seed, method):
    a, b, M, reg = _problem(seed)
    P_pot, log_pot = ot.sinkhorn(a, b, M, reg, method=method, log=True, **TIGHT)
    P, log = transport.sinkhorn(a, b, M, reg, method=method, log=True, **TIGHT)
    assert set(log) == set(log_pot)
    np.testing.assert_allclose(P, P_pot, atol=1e-11)
    n_iter = log["n_iter" if method == "sinkhorn_stabilized" else "niter"]
    assert isinstance(n_iter, int) and n_iter > 0
    assert isinstance(log["err"], list) and log["err"][-1] <= TIGHT["stopThr"]
    if method == "sinkhorn_stabilized":
        # alpha, beta: potentials in cost units, logu = alpha / reg; up to (alpha + t, beta - t)
        t = _assert_equal_up_to_shift(log["alpha"], log_pot["alpha"])
        np.testing.assert_allclose(log["beta"] - log_pot["beta"], -t, atol=1e-8)
        np.testing.assert_allclose(log["logu"], log["alpha"] / reg, rtol=1e-12)
        np.testing.assert_allclose(log["logv"], log["beta"] / reg, rtol=1e-12)
        assert len(log["warmstart"]) == 2
        np.testing.assert_array_equal(log["warmstart"][0], log["alpha"])
        return
    # u, v: P = diag(u) K diag(v), defined up to (c u, v / c)
    _assert_equal_up_to_scale(log["u"], log_pot["u"])
    np.testing.assert_allclose(np.outer(log["u"], log["v"]), np.outer(log_pot["u"], log_pot["v"]),
                               rtol=1e-8)
    if method == "sinkhorn_log":
        t = _assert_equal_up_to_shift(log["log_u"], log_pot["log_u"])
        np.testing.assert_allclose(log["log_v"] - log_pot["log_v"], -t, atol=1e-8)
        np.testing.assert_allclose(np.exp(log["log_u"]), log["u"], rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", POT_METHODS)
def test_sinkhorn2_returns_pots_loss(seed, method):
    a, b, M, reg = _problem(seed)
    loss_pot = ot.sinkhorn2(a, b, M, reg, method=method, **TIGHT)
    loss = transport.sinkhorn2(a, b, M, reg, method=method, **TIGHT)
    assert isinstance(loss, np.float64) and isinstance(loss_pot, np.float64)
    assert loss == pytest.approx(float(loss_pot), rel=1e-10)
    loss_log, log = transport.sinkhorn2(a, b, M, reg, method=method, log=True, **TIGHT)
    _, log_pot = ot.sinkhorn2(a, b, M, reg, method=method, log=True, **TIGHT)
    assert loss_log == loss and set(log) == set(log_pot)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", POT_METHODS)
def test_several_histograms_return_pots_losses(seed, method):
    a, _, M, reg = _problem(seed)
    rng = np.random.default_rng(100 + seed)
    k = int(rng.integers(2, 5))
    B = rng.uniform(0.2, 1.0, (M.shape[1], k))
    B /= B.sum(0)
    for fn in ("sinkhorn", "sinkhorn2"):
        pot = getattr(ot, fn)(a, B, M, reg, method=method, **TIGHT)
        ours = getattr(transport, fn)(a, B, M, reg, method=method, **TIGHT)
        assert ours.shape == pot.shape == (k,)
        np.testing.assert_allclose(ours, pot, rtol=1e-10)
        # each column is the single-histogram problem
        for j in range(k):
            assert ours[j] == pytest.approx(
                transport.sinkhorn2(a, B[:, j], M, reg, method=method, **TIGHT), rel=1e-12)
    losses_pot, log_pot = ot.sinkhorn(a, B, M, reg, method=method, log=True, **TIGHT)
    losses, log = transport.sinkhorn(a, B, M, reg, method=method, log=True, **TIGHT)
    assert set(log) == set(log_pot)
    np.testing.assert_allclose(losses, losses_pot, rtol=1e-10)
    for key in ("u", "v", "log_u", "log_v", "logu", "logv", "alpha", "beta"):
        if key in log:
            assert log[key].shape == log_pot[key].shape, key
    if "u" in log:
        for j in range(k):  # per histogram, the same plan
            P = log["u"][:, j, None] * np.exp(-M / reg) * log["v"][None, :, j]
            P_pot = log_pot["u"][:, j, None] * np.exp(-M / reg) * log_pot["v"][None, :, j]
            np.testing.assert_allclose(P, P_pot, atol=1e-11)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", POT_METHODS)
def test_warmstart_from_a_pot_log_converges_at_once(seed, method):
    a, b, M, reg = _problem(seed)
    _, log_pot = ot.sinkhorn(a, b, M, reg, method=method, log=True, **TIGHT)
    warm = log_pot["warmstart"] if method == "sinkhorn_stabilized" else (
        np.log(log_pot["u"]), np.log(log_pot["v"]))
    cold_iter = transport.sinkhorn(a, b, M, reg, method=method, log=True, stopThr=1e-10)[1]
    P, log = transport.sinkhorn(a, b, M, reg, method=method, log=True, stopThr=1e-10,
                                warmstart=warm)
    key = "n_iter" if method == "sinkhorn_stabilized" else "niter"
    assert log[key] <= 2 < cold_iter[key]
    np.testing.assert_allclose(P, ot.sinkhorn(a, b, M, reg, method=method, **TIGHT),
                               atol=1e-10)


def test_not_converging_warns_a_user_warning_as_pot():
    a, b, M, reg = _problem(3)
    reg = 0.01 * M.max()
    with pytest.warns(UserWarning):
        ot.sinkhorn(a, b, M, reg, numItermax=3)
    with pytest.warns(UserWarning, match="did not converge"):
        transport.sinkhorn(a, b, M, reg, numItermax=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transport.sinkhorn(a, b, M, reg, numItermax=3, warn=False)
        transport.sinkhorn2(a, b, M, reg, numItermax=3)  # sinkhorn2: warn=False by default


@pytest.mark.parametrize("method", ["greenkhorn", "sinkhorn_epsilon_scaling", "foo"])
def test_unsupported_methods_raise_naming_the_supported_ones(method):
    a, b, M, reg = _problem(0)
    for fn in (transport.sinkhorn, transport.sinkhorn2):
        with pytest.raises(ValueError, match="sinkhorn_log.*sns"):
            fn(a, b, M, reg, method=method)
    with pytest.raises(ValueError, match="sinkhorn_log"):
        transport.solve(M, a, b, reg, method=method)
    with pytest.raises(TypeError, match="unexpected keyword"):
        transport.sinkhorn(a, b, M, reg, numitermax=10)  # a misspelt POT option is not ignored


def test_pot_tuning_options_are_accepted():
    a, b, M, reg = _problem(1)
    P = transport.sinkhorn(a, b, M, reg, method="sinkhorn_stabilized", tau=1e3, print_period=20,
                           **TIGHT)
    np.testing.assert_allclose(P, ot.sinkhorn(a, b, M, reg, method="sinkhorn_stabilized",
                                              tau=1e3, **TIGHT), atol=1e-11)


# ---------------------------------------------------------------------- ot.solve
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("reg_type", ["KL", "entropy"])
@pytest.mark.parametrize("method", [None, "sinkhorn", "sinkhorn_log"])
def test_solve_returns_pots_result(seed, reg_type, method):
    a, b, M, reg = _problem(seed)
    pot = ot.solve(M, a, b, reg=reg, reg_type=reg_type, tol=1e-13, max_iter=100000)
    res = transport.solve(M, a, b, reg=reg, reg_type=reg_type, method=method, tol=1e-13,
                          max_iter=100000)
    assert isinstance(res, transport.OTResult) and res.converged
    np.testing.assert_allclose(res.plan, pot.plan, atol=1e-11)
    assert res.value == pytest.approx(float(pot.value), rel=1e-9, abs=1e-12)
    assert res.value_linear == pytest.approx(float(pot.value_linear), rel=1e-10)
    t = _assert_equal_up_to_shift(res.potentials[0], pot.potentials[0])
    np.testing.assert_allclose(res.potentials[1] - pot.potentials[1], -t, atol=1e-8)
    np.testing.assert_array_equal(res.potential_a, res.potentials[0])
    np.testing.assert_array_equal(res.potential_b, res.potentials[1])
    for ours, theirs in zip(res.marginals, pot.marginals):
        np.testing.assert_allclose(ours, theirs, atol=1e-11)
    np.testing.assert_allclose(res.marginal_a, a, atol=1e-12)
    assert sp.issparse(res.sparse_plan) and sp.issparse(pot.sparse_plan)
    np.testing.assert_allclose(res.sparse_plan.toarray(), pot.sparse_plan.toarray(), atol=1e-11)
    assert res.sparse_plan(1e-3).nnz == int(np.sum(res.plan > 1e-3))


def test_solve_default_weights_and_potentials_init():
    _, _, M, reg = _problem(5)
    pot = ot.solve(M, reg=reg, tol=1e-13, max_iter=100000)
    res = transport.solve(M, reg=reg, tol=1e-13, max_iter=100000)
    np.testing.assert_allclose(res.plan, pot.plan, atol=1e-11)
    warm = transport.solve(M, reg=reg, tol=1e-12, potentials_init=pot.potentials,
                           method="sinkhorn_log")
    cold = transport.solve(M, reg=reg, tol=1e-12, method="sinkhorn_log")
    assert warm.n_iter <= 2 < cold.n_iter
    np.testing.assert_allclose(warm.plan, pot.plan, atol=1e-11)


@pytest.mark.parametrize("kwargs, match", [
    (dict(reg=None), "entropic OT only"),
    (dict(reg=0.0), "entropic OT only"),
    (dict(unbalanced=1.0), "unbalanced"),
    (dict(c=np.ones((4, 5))), "reference measure"),
    (dict(reg_type="L2"), "reg_type"),
])
def test_solve_rejects_what_it_does_not_solve(kwargs, match):
    args = dict(reg=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        transport.solve(np.ones((4, 5)), **args)


# ------------------------------------------------------- ot.da.SinkhornTransport
def _clouds(seed, n_source=None, n_target=None):
    rng = np.random.default_rng(seed)
    ns = n_source or int(rng.integers(10, 30))
    nt = n_target or int(rng.integers(10, 30))
    d = int(rng.integers(2, 4))
    Xs = rng.standard_normal((ns, d))
    Xt = rng.standard_normal((nt, d)) * rng.uniform(0.5, 2.0) + rng.uniform(-2, 2, d)
    ys = rng.integers(0, 3, ns)
    yt = rng.integers(0, 3, nt)
    # more than half of each cloud unlabelled: every class can send and receive its mass
    # through unlabelled samples, so infinite costs between classes leave a feasible plan
    ys[rng.permutation(ns)[:ns // 2 + 1]] = -1
    yt[rng.permutation(nt)[:nt // 2 + 1]] = -1
    Xs_new = rng.standard_normal((7, d))
    Xt_new = rng.standard_normal((6, d)) + Xt.mean(0)
    return Xs, ys, Xt, yt, Xs_new, Xt_new


def _fit_both(params, method="sinkhorn_log", fit=None, **ours_extra):
    """The same ``ot.da.SinkhornTransport(**params).fit(**fit)`` in both libraries."""
    pot = ot.da.SinkhornTransport(**params, tol=1e-13, max_iter=100000, method="sinkhorn_log")
    _quiet(pot.fit, **fit)
    ours = transport.SinkhornTransport(**params, tol=1e-12, method=method, **ours_extra)
    ours.fit(**fit)
    return pot, ours


def _assert_same_maps(pot, ours, Xs, ys, Xt, yt, Xs_new, Xt_new, atol=1e-9):
    np.testing.assert_allclose(ours.coupling_, pot.coupling_, atol=1e-11)
    np.testing.assert_allclose(ours.transform(Xs=Xs), pot.transform(Xs=Xs), atol=atol)
    np.testing.assert_allclose(ours.transform(Xs=Xs_new), pot.transform(Xs=Xs_new), atol=atol)
    np.testing.assert_allclose(ours.inverse_transform(Xt=Xt), pot.inverse_transform(Xt=Xt),
                               atol=atol)
    np.testing.assert_allclose(ours.inverse_transform(Xt=Xt_new),
                               pot.inverse_transform(Xt=Xt_new), atol=atol)
    np.testing.assert_allclose(ours.transform_labels(ys=ys), pot.transform_labels(ys=ys),
                               atol=1e-9)
    np.testing.assert_allclose(ours.inverse_transform_labels(yt=yt),
                               pot.inverse_transform_labels(yt=yt), atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("out_of_sample_map", ["continuous", "ferradans"])
@pytest.mark.parametrize("norm", [None, "max", "median", "log", "loglog"])
def test_sinkhorn_transport_matches_pot(seed, out_of_sample_map, norm):
    Xs, ys, Xt, yt, Xs_new, Xt_new = _clouds(seed)
    metric = ["sqeuclidean", "euclidean"][seed % 2]
    reg_e = [0.5, 0.1][seed % 2] if norm in ("max", "median", "log", "loglog") else 1.0
    params = dict(reg_e=reg_e, norm=norm, metric=metric, out_of_sample_map=out_of_sample_map)
    pot, ours = _fit_both(params, fit=dict(Xs=Xs, Xt=Xt))
    np.testing.assert_allclose(ours.cost_, pot.cost_, rtol=1e-12, atol=1e-14)
    assert (ours.norm_cost_ is None) == (pot.norm_cost_ is None)
    if pot.norm_cost_ is not None:
        assert ours.norm_cost_ == pytest.approx(float(pot.norm_cost_), rel=1e-12)
    np.testing.assert_array_equal(ours.xs_, Xs)
    np.testing.assert_array_equal(ours.xt_, Xt)
    np.testing.assert_allclose(ours.mu_s, pot.mu_s)
    np.testing.assert_allclose(ours.mu_t, pot.mu_t)
    assert set(ours.log_) == set(pot.log_)
    if out_of_sample_map == "continuous":  # the potentials the continuous map uses
        t = _assert_equal_up_to_shift(ours.log_["log_u"], pot.log_["log_u"])
        np.testing.assert_allclose(ours.log_["log_v"] - pot.log_["log_v"], -t, atol=1e-8)
    _assert_same_maps(pot, ours, Xs, ys, Xt, yt, Xs_new, Xt_new)
    np.testing.assert_allclose(ours.fit_transform(Xs=Xs, Xt=Xt),
                               _quiet(pot.fit_transform, Xs=Xs, Xt=Xt), atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", ["sns", "sinkhorn", "sinkhorn_stabilized"])
def test_sinkhorn_transport_other_methods_give_pots_coupling(seed, method):
    Xs, ys, Xt, yt, Xs_new, Xt_new = _clouds(seed)
    pot, ours = _fit_both(dict(reg_e=0.2, norm="max"), method=method, fit=dict(Xs=Xs, Xt=Xt))
    _assert_same_maps(pot, ours, Xs, ys, Xt, yt, Xs_new, Xt_new)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("limit_max", [np.inf, 3.0])
def test_semi_supervised_labels_shape_the_cost_and_plan_as_pot(seed, limit_max):
    Xs, ys, Xt, yt, Xs_new, Xt_new = _clouds(seed)
    params = dict(reg_e=0.3, norm="max", limit_max=limit_max)
    pot, ours = _fit_both(params, fit=dict(Xs=Xs, ys=ys, Xt=Xt, yt=yt))
    np.testing.assert_allclose(ours.cost_, pot.cost_, rtol=1e-12)
    labelled = (ys[:, None] != -1) & (yt[None, :] != -1)
    mismatch = labelled & (ys[:, None] != yt[None, :])
    assert mismatch.any()
    if np.isinf(limit_max):  # no mass between labelled samples of different classes
        assert ours.coupling_[mismatch].max() == 0.0
    assert ours.limit_max == limit_max  # the parameter is not overwritten (POT's is)
    assert ours.converged_
    _assert_same_maps(pot, ours, Xs, ys, Xt, yt, Xs_new, Xt_new)
    # POT's positional order fit(Xs, ys, Xt, yt) is scikit-learn's fit(X, y, ...)
    again = transport.SinkhornTransport(**params, tol=1e-12, method="sinkhorn_log").fit(
        Xs, ys, Xt, yt)
    np.testing.assert_array_equal(again.coupling_, ours.coupling_)


def test_custom_distribution_estimation_as_pot():
    Xs, ys, Xt, yt, Xs_new, Xt_new = _clouds(11)

    def weights(X):  # heavier samples far from the origin
        w = 1.0 + np.sum(X ** 2, axis=1)
        return w / w.sum()

    pot, ours = _fit_both(dict(reg_e=0.3, norm="max", distribution_estimation=weights),
                          fit=dict(Xs=Xs, Xt=Xt))
    np.testing.assert_allclose(ours.coupling_.sum(1), weights(Xs), atol=1e-12)
    _assert_same_maps(pot, ours, Xs, ys, Xt, yt, Xs_new, Xt_new)


def test_sinkhorn_transport_takes_pots_positional_parameters():
    Xs, ys, Xt, yt, Xs_new, Xt_new = _clouds(12)
    # reg_e, method, max_iter, tol, verbose, log, metric, norm in POT's order
    args = (0.4, "sinkhorn_log", 100000, 1e-13, False, True, "euclidean", "max")
    pot = ot.da.SinkhornTransport(*args).fit(Xs=Xs, Xt=Xt)
    ours = transport.SinkhornTransport(*args).fit(Xs=Xs, Xt=Xt)
    assert set(ours.log_) == set(pot.log_)
    _assert_same_maps(pot, ours, Xs, ys, Xt, yt, Xs_new, Xt_new)
    # log=False with the ferradans map keeps no log, as POT
    pot = ot.da.SinkhornTransport(0.4, out_of_sample_map="ferradans").fit(Xs=Xs, Xt=Xt)
    ours = transport.SinkhornTransport(0.4, out_of_sample_map="ferradans").fit(Xs=Xs, Xt=Xt)
    assert pot.log_ == {} and ours.log_ == {}


def test_infeasible_labels_warn():
    Xs, _, Xt, _, _, _ = _clouds(13, 10, 10)
    ys = np.zeros(10, dtype=int)  # every source sample in class 0,
    yt = np.r_[np.zeros(5, dtype=int), np.ones(5, dtype=int)]  # half the targets in class 1
    est = transport.SinkhornTransport(reg_e=0.3, norm="max")
    with pytest.warns(UserWarning, match="no feasible plan"):
        est.fit(Xs=Xs, ys=ys, Xt=Xt, yt=yt)
    finite = transport.SinkhornTransport(reg_e=0.3, norm="max", limit_max=10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        finite.fit(Xs=Xs, ys=ys, Xt=Xt, yt=yt)
