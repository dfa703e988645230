"""CoLiDE / DAGMA on array-API inputs: the namespace path against the compiled loop.

NumPy inputs take the compiled loop, every other namespace the same iterations written with
array-API operations (``xp.linalg.inv`` for the inverse, ``xp.linalg.slogdet`` for h), in
X's namespace and on X's device (``array_path="auto"``). Run on array-api-strict (both of
its devices; ``device1`` refuses implicit NumPy conversion, so it catches hidden host
round-trips) and torch (CPU), in float32 and float64: the fit equals the NumPy fit up to
rounding. ``array_path`` forces either implementation.

The schedules are short (the tests compare the iterates, not the optimum), so every fit
stops at ``max_iter`` and warns; both implementations must say so (``_fit``).
"""
import array_api_compat.numpy as np_compat
import numpy as np
import pytest
import sklearn
from _namespaces import namespace_params
from sklearn.exceptions import ConvergenceWarning

import sparseopt.causal._adam_namespace as namespace_loop
import sparseopt.causal._path_following as engine
from sparseopt._ext import _dag as kernel
from sparseopt.causal import DAGMA, CoLiDE, PathOptions, path_following
from sparseopt.causal._adam_namespace import adam_stage_namespace
from sparseopt.datasets import make_linear_sem
from sparseopt.utils._array_api import get_namespace_and_device, to_numpy


@pytest.fixture(params=namespace_params())
def namespace(request):
    name, device = request.param
    if name == "array_api_strict":
        import array_api_strict as xp

        yield xp, xp.Device(device)
        return
    import torch as xp

    # tiny matrices: torch's thread pool only adds latency (x1000 on a loaded machine)
    threads = xp.get_num_threads()
    xp.set_num_threads(1)
    try:
        yield xp, xp.device(device)
    finally:
        xp.set_num_threads(threads)


def _to(xp, device, a, dtype):
    return xp.asarray(np.asarray(a, dtype=dtype), device=device)


# short paths: the tests compare the two implementations iterate by iterate, not convergence
FAST = dict(T=2, warm_iter=150, max_iter=250, lr=3e-3, checkpoint=50)


def _fit(est, X):
    """Fit with a short schedule: it stops at max_iter and says so."""
    with pytest.warns(ConvergenceWarning, match="did not converge after"):
        return est.fit(X)


@pytest.fixture
def namespace_calls(monkeypatch):
    """Counts the stages run by the namespace path."""
    calls = []
    original = engine.adam_stage_namespace
    monkeypatch.setattr(engine, "adam_stage_namespace",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


# ------------------------------------------------------------ the stage loop, line by line
def _stage_problem(case, seed=3, d=7, n=80):
    rng = np.random.default_rng(seed)
    if case == "logistic":
        X = (rng.random((n, d)) < 0.4).astype(float)
        Sigma = X.T @ X / n
        mode, loss = kernel.SCALE_FIXED, kernel.LOSS_LOGISTIC
    else:
        X = rng.standard_normal((n, d)) @ np.triu(rng.uniform(0.3, 1.2, (d, d)))
        X -= X.mean(0)
        Sigma = X.T @ X / n
        X = np.zeros((0, d))
        mode = {"dagma": kernel.SCALE_FIXED, "ev": kernel.SCALE_EV, "nv": kernel.SCALE_NV,
                "required": kernel.SCALE_EV}[case]
        loss = kernel.LOSS_L2
    free = (rng.random((d, d)) < 0.85).astype(float)
    required = np.zeros((d, d))
    required_floor = 0.0
    if case == "required":
        required[0, 3] = required[2, 5] = 1.0
        free[0, 3] = free[2, 5] = 1.0
        required_floor = 0.3
    starts = ((1.0, np.zeros((d, d)), 5e-3, False),
              (0.95, 0.3 * np.triu(rng.standard_normal((d, d)), 1), 5e-2, True))
    return Sigma, X, free, required, required_floor, mode, loss, starts


@pytest.mark.parametrize("case", ["dagma", "ev", "nv", "logistic", "required"])
def test_namespace_stage_matches_the_compiled_stage(case):
    """adam_stage_namespace (here on NumPy through array_api_compat) == _dag.adam_stage:
    same status, iterations, backtracks, objective and iterates, with checkpoints, the
    scale update, priors and (at s = 0.95 after a warm start) domain backtracking."""
    Sigma, X, free, required, required_floor, mode, loss, starts = _stage_problem(case)
    d = Sigma.shape[0]
    for s, W0, lr, warm in starts:
        sigma, floor = np.full(d, 1.1), np.full(d, 0.05)
        args = (required_floor, 0.5, s, lr, 0.05, 600, 50, 1e-7, 0.99, 0.999, 1e-8, 1e-6,
                mode, loss, warm)
        W_c, sigma_c = W0.copy(), sigma.copy()
        ref = kernel.adam_stage(Sigma, X, W_c, sigma_c, floor, free, required, *args)
        W_in = W0.copy()
        got = adam_stage_namespace(np_compat, Sigma, X, W_in, sigma.copy(), floor, free,
                                   required, *args)
        status, it, lr_out, obj, rel, n_back, W_x, sigma_x = got
        assert (status, it, n_back) == (ref[0], ref[1], ref[5])
        assert lr_out == ref[2]
        assert obj == pytest.approx(ref[3], rel=1e-9)
        np.testing.assert_allclose(W_x, W_c, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(sigma_x, sigma_c, rtol=1e-8)
        np.testing.assert_array_equal(W_in, W0)  # the warm start is not modified


def _backtracking_stage():
    """Seven strongly correlated nodes (the score wants a dense, cyclic W), a large mu and a
    huge step: Adam leaves the domain and backtracks four times (s = 0.95, warm start)."""
    d = 7
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 1)) + 0.3 * rng.standard_normal((200, d))
    X -= X.mean(0)
    arrays = (X.T @ X / 200, np.zeros((0, d)), np.full((d, d), 0.05), np.ones(d),
              np.full(d, 0.05), np.ones((d, d)), np.zeros((d, d)))
    args = (0.0, 5.0, 0.95, 3.0, 0.01, 400, 100, 1e-9, 0.99, 0.999, 1e-8, 1e-6,
            kernel.SCALE_EV, kernel.LOSS_L2, True)
    return arrays, args


def test_blocks_replay_a_failed_domain_test_exactly(monkeypatch):
    """Domain tests are read once per block; a block with a failure is replayed one decision
    per iteration: the stage equals the per-iteration loop (blocks of one) and the
    compiled loop, backtracks included."""
    arrays, args = _backtracking_stage()
    ref_arrays = [a.copy() for a in arrays]
    ref = kernel.adam_stage(*ref_arrays, *args)
    assert ref[5] >= 3  # the case does backtrack
    replays = []
    original = namespace_loop._StageLoop.run_checked
    monkeypatch.setattr(namespace_loop._StageLoop, "run_checked",
                        lambda self, a, b: replays.append((a, b)) or original(self, a, b))
    blocked = adam_stage_namespace(np_compat, *arrays, *args)
    assert replays  # the backtracks were found by replaying blocks
    monkeypatch.setattr(namespace_loop, "_MAX_BLOCK", 1)
    single = adam_stage_namespace(np_compat, *arrays, *args)
    assert blocked[:6] == single[:6]
    np.testing.assert_array_equal(blocked[6], single[6])
    assert (blocked[0], blocked[1], blocked[2], blocked[5]) == (ref[0], ref[1], ref[2], ref[5])
    np.testing.assert_allclose(blocked[6], ref_arrays[2], rtol=1e-8, atol=1e-10)


def test_domain_test_is_read_once_per_block(monkeypatch):
    """Without backtracking, the host reads one boolean per block (blocks double up to
    _MAX_BLOCK and stop at checkpoints), not one per iteration."""
    Sigma, X, free, required, _, mode, loss, starts = _stage_problem("ev")
    d = Sigma.shape[0]
    reads = []
    original = namespace_loop._StageLoop.run_unchecked
    monkeypatch.setattr(namespace_loop._StageLoop, "run_unchecked",
                        lambda self, a, b: reads.append(b - a + 1) or original(self, a, b))
    monkeypatch.setattr(namespace_loop._StageLoop, "run_checked",
                        lambda *a: pytest.fail("no domain test fails in this stage"))
    out = adam_stage_namespace(np_compat, Sigma, X, np.zeros((d, d)), np.full(d, 1.1),
                               np.full(d, 0.05), free, required, 0.0, 0.5, 1.0, 5e-3, 0.05,
                               600, 200, 1e-12, 0.99, 0.999, 1e-8, 1e-6, mode, loss, False)
    assert out[1] == 600 and sum(reads) == 600
    assert len(reads) <= 25 and max(reads) == namespace_loop._MAX_BLOCK


# ------------------------------------------------------------ estimators, every namespace
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make", [
    pytest.param(lambda: CoLiDE("ev", **FAST), id="colide-ev"),
    pytest.param(lambda: CoLiDE("nv", **FAST), id="colide-nv"),
    pytest.param(lambda: DAGMA(**FAST), id="dagma"),
    pytest.param(lambda: CoLiDE("ev", standardize="global", **FAST), id="colide-global"),
])
def test_fit_in_the_namespace_matches_numpy(namespace, namespace_calls, make, dtype):
    """array_path="auto": a non-NumPy X is fitted by the namespace path, in X's namespace
    and on X's device, and gives the compiled loop's NumPy fit up to rounding."""
    xp, device = namespace
    X, W_true, _ = make_linear_sem(6, 8, 300, random_state=0)
    X = X.astype(dtype)
    ref = _fit(make(), X)
    assert not namespace_calls  # NumPy: the compiled loop
    X_xp = _to(xp, device, X, dtype)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(make(), X_xp)
        for name in ("W_", "W_raw_", "adjacency_"):
            ns, is_api, dev = get_namespace_and_device(getattr(est, name))
            assert is_api and dev == device
            assert ns.__name__ == get_namespace_and_device(X_xp)[0].__name__
    assert len(namespace_calls) == 2  # T = 2 stages, in the namespace
    assert str(est.W_.dtype).endswith("float32" if dtype == np.float32 else "float64")
    np.testing.assert_array_equal(to_numpy(est.adjacency_), ref.adjacency_)
    np.testing.assert_allclose(to_numpy(est.W_raw_), ref.W_raw_, rtol=1e-5, atol=1e-6)
    if isinstance(est, CoLiDE):
        np.testing.assert_allclose(to_numpy(est.sigma_) if est.noise == "nv" else est.sigma_,
                                   ref.sigma_, rtol=1e-6)
    assert est.n_iter_ == ref.n_iter_ and est.h_ == pytest.approx(ref.h_, rel=1e-6, abs=1e-12)


def test_logistic_dagma_in_the_namespace_matches_numpy(namespace):
    xp, device = namespace
    X, _, _ = make_linear_sem(5, 6, 300, random_state=1)
    B = (X > 0).astype(np.float64)
    ref = _fit(DAGMA("logistic", **FAST), B)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(DAGMA("logistic", **FAST), _to(xp, device, B, np.float64))
    np.testing.assert_array_equal(to_numpy(est.adjacency_), ref.adjacency_)
    np.testing.assert_allclose(to_numpy(est.W_raw_), ref.W_raw_, rtol=1e-6, atol=1e-8)


def test_priors_in_the_namespace_match_numpy(namespace):
    """Forbidden and required edges (masks applied on the device) as in the compiled loop."""
    xp, device = namespace
    X, _, _ = make_linear_sem(6, 8, 300, random_state=4)
    params = dict(exclude_edges=[(0, 1), (2, 3)], include_edges=[(4, 5)], **FAST)
    ref = _fit(CoLiDE(**params), X)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(CoLiDE(**params), _to(xp, device, X, np.float64))
    W = to_numpy(est.W_raw_)
    assert W[0, 1] == 0.0 and W[2, 3] == 0.0 and abs(W[4, 5]) >= 0.3
    np.testing.assert_array_equal(to_numpy(est.adjacency_), ref.adjacency_)
    np.testing.assert_allclose(W, ref.W_raw_, rtol=1e-6, atol=1e-8)


def test_path_following_stays_in_the_namespace(namespace):
    xp, device = namespace
    X, _, _ = make_linear_sem(5, 6, 200, random_state=2)
    X -= X.mean(0)
    Sigma = X.T @ X / 200
    opts = PathOptions(T=2, warm_iter=300, max_iter=300, checkpoint=100, lr=3e-3)
    ref = path_following(Sigma, opts, score="ev", sigma_init=np.ones(5))
    with sklearn.config_context(array_api_dispatch=True):
        res = path_following(_to(xp, device, Sigma, np.float64), opts, score="ev",
                             sigma_init=np.ones(5))
        _, is_api, dev = get_namespace_and_device(res.x)
        _, sigma_api, sigma_dev = get_namespace_and_device(res.sigma)
    assert is_api and dev == device and sigma_api and sigma_dev == device
    np.testing.assert_allclose(to_numpy(res.x), ref.x, rtol=1e-7, atol=1e-10)
    assert res.n_iter == ref.n_iter and res.h == pytest.approx(ref.h, rel=1e-6, abs=1e-12)


def test_namespace_path_rejects_bad_sigma(namespace):
    xp, device = namespace
    with sklearn.config_context(array_api_dispatch=True):
        for path in ("auto", "native", "compiled"):
            with pytest.raises(ValueError, match="square"):
                path_following(_to(xp, device, np.ones((3, 2)), np.float64), T=1, max_iter=5,
                               array_path=path)
            bad = np.eye(3)
            bad[0, 1] = np.nan
            with pytest.raises(ValueError, match="NaN"):
                path_following(_to(xp, device, bad, np.float64), T=1, max_iter=5,
                               array_path=path)


# ------------------------------------------------------------ forcing either implementation
def test_compiled_forces_the_compiled_loop_on_a_host_copy(namespace, namespace_calls):
    """array_path="compiled": a non-NumPy X gives the NumPy fit bit for bit (compiled loop
    on an explicit host copy), results back in X's namespace and device."""
    xp, device = namespace
    X, _, _ = make_linear_sem(5, 6, 300, random_state=0)
    ref = _fit(CoLiDE(**FAST), X)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(CoLiDE(array_path="compiled", **FAST), _to(xp, device, X, np.float64))
        _, is_api, dev = get_namespace_and_device(est.W_raw_)
    assert is_api and dev == device
    np.testing.assert_array_equal(to_numpy(est.W_raw_), ref.W_raw_)
    assert not namespace_calls


def test_native_forces_the_namespace_path_on_numpy(namespace_calls):
    """array_path="native" on NumPy X: array_api_compat.numpy, NumPy results, the compiled
    fit up to rounding."""
    X, _, _ = make_linear_sem(5, 6, 300, random_state=0)
    for make in (lambda **k: CoLiDE("nv", **k, **FAST), lambda **k: DAGMA(**k, **FAST)):
        ref = _fit(make(), X)
        assert not namespace_calls
        est = _fit(make(array_path="native"), X)
        assert namespace_calls and isinstance(est.W_raw_, np.ndarray)
        np.testing.assert_array_equal(est.adjacency_, ref.adjacency_)
        np.testing.assert_allclose(est.W_raw_, ref.W_raw_, rtol=1e-7, atol=1e-10)
        namespace_calls.clear()


def test_routing_rule():
    from sparseopt.causal._path_following import uses_native_path

    assert uses_native_path("auto", True) and not uses_native_path("auto", False)
    assert uses_native_path("native", False) and uses_native_path("native", True)
    assert not uses_native_path("compiled", True) and not uses_native_path("compiled", False)
    with pytest.raises(ValueError, match="array_path"):
        path_following(np.eye(2), T=1, max_iter=5, array_path="host")
    with pytest.raises(ValueError, match="array_path"):
        CoLiDE(array_path="gpu").fit(np.random.default_rng(0).standard_normal((20, 3)))


def test_tags_say_native_unless_compiled_is_forced():
    from sklearn.utils import get_tags

    for cls in (CoLiDE, DAGMA):
        tags = get_tags(cls())
        assert tags.array_api_support and not getattr(tags, "array_api_host_roundtrip", False)
        tags = get_tags(cls(array_path="compiled"))
        assert tags.array_api_support and tags.array_api_host_roundtrip


# ------------------------------------------------------------ logdet_acyclicity
def _logdet_cases():
    rng = np.random.default_rng(5)
    dag = np.triu(rng.uniform(-1, 1, (6, 6)), 1) * (rng.random((6, 6)) < 0.6)
    cycle = 0.3 * dag
    cycle[4, 1] = 0.4  # closes a cycle through 1 -> ... -> 4 when that path exists
    cycle[1, 4] = 0.5  # and one of length two
    return {"dag": (dag, 1.0), "dag-s": (dag, 0.7), "cycle": (cycle, 1.0),
            "outside": (np.array([[0.0, 1.5], [1.5, 0.0]]), 1.0),
            "singular": (np.array([[0.0, 1.0], [1.0, 0.0]]), 1.0),
            "self-loop": (np.diag([0.5, 0.0, 0.2]), 1.0)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(_logdet_cases()))
def test_logdet_acyclicity_in_the_namespace_matches_numpy(namespace, case, dtype):
    """h, gradient and domain test in W's namespace and device (float64 where the device has
    it) equal the NumPy ones: h = 0 exactly on a DAG, inf outside the domain, a NaN
    gradient when sI - W o W is singular."""
    from sparseopt.causal import logdet_acyclicity

    xp, device = namespace
    W, s = _logdet_cases()[case]
    W = W.astype(dtype)
    h_ref, grad_ref, inside_ref = logdet_acyclicity(W, s)
    with sklearn.config_context(array_api_dispatch=True):
        h, grad, inside = logdet_acyclicity(_to(xp, device, W, dtype), s)
        _, is_api, dev = get_namespace_and_device(grad)
    assert is_api and dev == device and str(grad.dtype).endswith("float64")
    assert inside == inside_ref
    if case.startswith("dag"):
        assert h == 0.0 and h_ref == 0.0
    else:
        assert h == pytest.approx(h_ref, rel=1e-12) and h > 0
    if case == "singular":
        assert h == np.inf and np.all(np.isnan(to_numpy(grad))) and np.all(np.isnan(grad_ref))
    else:
        np.testing.assert_allclose(to_numpy(grad), grad_ref, rtol=1e-12, atol=1e-15)


def test_logdet_acyclicity_rejects_bad_namespace_input(namespace):
    from sparseopt.causal import logdet_acyclicity

    xp, device = namespace
    bad = np.zeros((3, 3))
    bad[0, 1] = np.nan
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="square"):
            logdet_acyclicity(_to(xp, device, np.ones((3, 2)), np.float64))
        with pytest.raises(ValueError, match="NaN"):
            logdet_acyclicity(_to(xp, device, bad, np.float64))
        with pytest.raises(ValueError, match="s"):
            logdet_acyclicity(_to(xp, device, np.zeros((2, 2)), np.float64), s=-1.0)


def test_torch_stage_reads_the_device_once_per_block(monkeypatch):
    """On torch, the host reads device values (bool / float / int / item / numpy) a few times
    per block and per checkpoint, never once per iteration: on a GPU each read is a
    synchronisation. torch CPU stands for the device here."""
    torch = pytest.importorskip("torch")
    import array_api_compat.torch as xp

    reads = []
    for name in ("__bool__", "__float__", "__int__", "__index__", "item", "numpy", "tolist"):
        original = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name,
                            lambda self, *a, _f=original, _n=name, **k: reads.append(_n)
                            or _f(self, *a, **k))
    Sigma, X, free, required, _, mode, loss, _ = _stage_problem("ev")
    d = Sigma.shape[0]
    arrays = [torch.asarray(a) for a in (Sigma, X, np.zeros((d, d)), np.full(d, 1.1),
                                         np.full(d, 0.05), free, required)]
    out = adam_stage_namespace(xp, *arrays, 0.0, 0.5, 1.0, 5e-3, 0.05, 600, 200, 1e-12, 0.99,
                               0.999, 1e-8, 1e-6, mode, loss, False)
    assert out[0] == kernel.STAGE_MAX_ITER and out[1] == 600
    # 3 checkpoints x ~9 blocks x 2 reads (smallest entry, LAPACK status) + the checkpoints'
    # objective reads + one mask test
    assert 0 < len(reads) <= 80, sorted(set(reads))
