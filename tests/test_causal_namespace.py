"""CoLiDE / DAGMA on non-NumPy arrays: the path runs in the input's namespace and device.

NumPy inputs take the compiled loop; arrays outside host memory (GPUs) take the same iterations written
with array-API operations (``xp.linalg.inv`` for the inverse, ``xp.linalg.slogdet`` for h),
host-memory arrays the compiled loop (``array_path="auto"``). Here the namespace
path is forced (``array_path="native"``) on array-api-strict (both of its devices;
``device1`` refuses implicit NumPy conversion, so it catches hidden host round-trips) and
torch (CPU), in float32 and float64: it gives the NumPy fit up to rounding.
"""
import array_api_compat.numpy as np_compat
import numpy as np
import pytest
import sklearn
from _namespaces import namespace_params

from sparseopt._ext import _dag as kernel
from sparseopt.causal import DAGMA, CoLiDE, PathOptions, path_following
from sparseopt.causal._base import _LinearDAGBase
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


@pytest.fixture
def native(monkeypatch):
    """Estimators run the namespace path on CPU arrays too."""
    monkeypatch.setattr(_LinearDAGBase, "_array_path", "native")


def _to(xp, device, a, dtype):
    return xp.asarray(np.asarray(a, dtype=dtype), device=device)


# short paths: the tests compare the two implementations iterate by iterate, not convergence
FAST = dict(T=2, warm_iter=150, max_iter=250, lr=3e-3, checkpoint=50)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ------------------------------------------------------------ the stage loop, line by line
@pytest.mark.parametrize("case", ["dagma", "ev", "nv", "logistic", "required"])
def test_namespace_stage_matches_the_compiled_stage(case):
    """adam_stage_namespace (here on NumPy through array_api_compat) == _dag.adam_stage:
    same status, iterations, backtracks, objective and iterates, with checkpoints, the
    scale update, priors and (at s = 0.95 after a warm start) domain backtracking."""
    rng = np.random.default_rng(3)
    d, n = 7, 80
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
    for s, W0, lr, warm in ((1.0, np.zeros((d, d)), 5e-3, False),
                            (0.95, 0.3 * np.triu(rng.standard_normal((d, d)), 1), 5e-2, True)):
        sigma, floor = np.full(d, 1.1), np.full(d, 0.05)
        args = (required_floor, 0.5, s, lr, 0.05, 600, 50, 1e-7, 0.99, 0.999, 1e-8, 1e-6,
                mode, loss, warm)
        W_c, sigma_c = W0.copy(), sigma.copy()
        ref = kernel.adam_stage(Sigma, X, W_c, sigma_c, floor, free, required, *args)
        got = adam_stage_namespace(np_compat, Sigma, X, W0.copy(), sigma.copy(), floor, free,
                                   required, *args)
        status, it, lr_out, obj, rel, n_back, W_x, sigma_x = got
        assert (status, it, n_back) == (ref[0], ref[1], ref[5])
        assert lr_out == ref[2]
        assert obj == pytest.approx(ref[3], rel=1e-9)
        np.testing.assert_allclose(W_x, W_c, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(sigma_x, sigma_c, rtol=1e-8)


# ------------------------------------------------------------ estimators, every namespace
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make", [
    pytest.param(lambda: CoLiDE("ev", **FAST), id="colide-ev"),
    pytest.param(lambda: CoLiDE("nv", **FAST), id="colide-nv"),
    pytest.param(lambda: DAGMA(**FAST), id="dagma"),
    pytest.param(lambda: CoLiDE("ev", standardize="global", **FAST), id="colide-global"),
])
def test_fit_in_the_namespace_matches_numpy(namespace, native, make, dtype):
    xp, device = namespace
    X, W_true, _ = make_linear_sem(6, 8, 300, random_state=0)
    X = X.astype(dtype)
    ref = make().fit(X)
    X_xp = _to(xp, device, X, dtype)
    with sklearn.config_context(array_api_dispatch=True):
        est = make().fit(X_xp)
        for name in ("W_", "W_raw_", "adjacency_"):
            ns, is_api, dev = get_namespace_and_device(getattr(est, name))
            assert is_api and dev == device and ns.__name__ == get_namespace_and_device(X_xp)[0].__name__
    assert str(est.W_.dtype).endswith("float32" if dtype == np.float32 else "float64")
    np.testing.assert_array_equal(to_numpy(est.adjacency_), ref.adjacency_)
    np.testing.assert_allclose(to_numpy(est.W_raw_), ref.W_raw_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(est.sigma_) if est.noise == "nv" else est.sigma_,
                               ref.sigma_, rtol=1e-6) if isinstance(est, CoLiDE) else None
    assert est.n_iter_ == ref.n_iter_ and est.h_ == pytest.approx(ref.h_, rel=1e-6, abs=1e-12)


def test_logistic_dagma_in_the_namespace_matches_numpy(namespace, native):
    xp, device = namespace
    X, _, _ = make_linear_sem(5, 6, 300, random_state=1)
    B = (X > 0).astype(np.float64)
    ref = DAGMA("logistic", **FAST).fit(B)
    with sklearn.config_context(array_api_dispatch=True):
        est = DAGMA("logistic", **FAST).fit(_to(xp, device, B, np.float64))
    np.testing.assert_array_equal(to_numpy(est.adjacency_), ref.adjacency_)
    np.testing.assert_allclose(to_numpy(est.W_raw_), ref.W_raw_, rtol=1e-6, atol=1e-8)


def test_path_following_stays_in_the_namespace(namespace):
    xp, device = namespace
    X, _, _ = make_linear_sem(5, 6, 200, random_state=2)
    X -= X.mean(0)
    Sigma = X.T @ X / 200
    opts = PathOptions(T=2, warm_iter=300, max_iter=300, checkpoint=100, lr=3e-3,
                       array_path="native")
    ref = path_following(Sigma, opts, score="ev", sigma_init=np.ones(5))
    with sklearn.config_context(array_api_dispatch=True):
        res = path_following(_to(xp, device, Sigma, np.float64), opts, score="ev",
                             sigma_init=np.ones(5))
        _, is_api, dev = get_namespace_and_device(res.x)
    assert is_api and dev == device
    np.testing.assert_allclose(to_numpy(res.x), ref.x, rtol=1e-7, atol=1e-10)
    assert res.n_iter == ref.n_iter and res.h == pytest.approx(ref.h, rel=1e-6, abs=1e-12)


def test_namespace_path_rejects_bad_sigma(namespace):
    xp, device = namespace
    with sklearn.config_context(array_api_dispatch=True):
        for path in ("native", "host"):
            with pytest.raises(ValueError, match="square"):
                path_following(_to(xp, device, np.ones((3, 2)), np.float64), T=1, max_iter=5,
                               array_path=path)
            bad = np.eye(3)
            bad[0, 1] = np.nan
            with pytest.raises(ValueError, match="NaN"):
                path_following(_to(xp, device, bad, np.float64), T=1, max_iter=5,
                               array_path=path)


def test_auto_takes_the_compiled_loop_in_host_memory(monkeypatch):
    """array_path="auto": a torch CPU tensor and array-api-strict's second device give the
    NumPy fit bit for bit (compiled loop on an explicit host copy, results moved back)."""
    import sparseopt.causal._path_following as engine

    X, _, _ = make_linear_sem(5, 6, 300, random_state=0)
    ref = CoLiDE(**FAST).fit(X)
    calls = []
    monkeypatch.setattr(engine, "adam_stage_namespace",
                        lambda *a, **k: calls.append(1) or adam_stage_namespace(*a, **k))
    with sklearn.config_context(array_api_dispatch=True):
        torch = pytest.importorskip("torch")
        est = CoLiDE(**FAST).fit(torch.asarray(X))
        assert isinstance(est.W_raw_, torch.Tensor)
        np.testing.assert_array_equal(to_numpy(est.W_raw_), ref.W_raw_)
        strict = pytest.importorskip("array_api_strict")
        est = CoLiDE(**FAST).fit(strict.asarray(X, device=strict.Device("device1")))
        assert est.W_raw_.device == strict.Device("device1")
        np.testing.assert_array_equal(to_numpy(est.W_raw_), ref.W_raw_)
    assert not calls


def test_auto_runs_the_namespace_path_outside_host_memory():
    from sparseopt.causal._path_following import in_host_memory, uses_native_path

    class Cuda:  # stands for torch.device("cuda") on a machine without a GPU
        type = "cuda"

    assert not in_host_memory(Cuda()) and uses_native_path("auto", Cuda())
    assert in_host_memory("cpu") and not uses_native_path("auto", "cpu")
    assert uses_native_path("native", "cpu") and not uses_native_path("host", Cuda())
    torch = pytest.importorskip("torch")
    assert in_host_memory(torch.device("cpu")) and not in_host_memory(torch.device("cuda"))
