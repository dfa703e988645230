"""Array-API helpers: namespaces, devices and explicit host round-trips.

Runs over NumPy, array-api-strict on both of its devices (the fake
``device1`` refuses implicit NumPy conversion, so it catches hidden
round-trips) and torch on the CPU.
"""
import functools

import numpy as np
import pytest
import sklearn
from _namespaces import namespace_params

from sparseopt.linear_model import Lasso
from sparseopt.utils._array_api import (
    from_numpy,
    get_namespace,
    get_namespace_and_device,
    move_to,
    same_namespace_and_device,
    to_numpy,
)


@pytest.fixture(params=namespace_params(include_numpy=True))
def namespace(request):
    name, device = request.param
    if name == "numpy":
        import numpy as xp

        return xp, None
    if name == "array_api_strict":
        import array_api_strict as xp

        return xp, xp.Device(device)
    import torch as xp

    return xp, xp.device(device)


def _make(xp, device, values):
    if device is None:
        return np.asarray(values)
    return xp.asarray(values, device=device)


def test_dispatch_off_gives_numpy(namespace):
    xp, device = namespace
    x = _make(xp, device, [1.0, 2.0])
    ns, is_api = get_namespace(x)
    assert not is_api and "numpy" in ns.__name__


def test_dispatch_on_follows_input(namespace):
    xp, device = namespace
    x = _make(xp, device, [1.0, 2.0])
    with sklearn.config_context(array_api_dispatch=True):
        ns, is_api, dev = get_namespace_and_device(x)
    if device is None:
        assert not is_api
    else:
        assert is_api and dev == device


def test_round_trip_preserves_values_namespace_and_device(namespace):
    xp, device = namespace
    x = _make(xp, device, [1.5, -2.0, 3.25])
    host = to_numpy(x)
    assert isinstance(host, np.ndarray)
    np.testing.assert_array_equal(host, [1.5, -2.0, 3.25])
    with sklearn.config_context(array_api_dispatch=True):
        ns, is_api, dev = get_namespace_and_device(x)
        back = from_numpy(host * 2, ns, dev if is_api else None)
        ns_back, _, dev_back = get_namespace_and_device(back)
    assert ns_back.__name__ == ns.__name__
    if is_api:
        assert dev_back == device
    np.testing.assert_array_equal(to_numpy(back), [3.0, -4.0, 6.5])


def test_strict_device1_refuses_implicit_numpy_conversion():
    xp = pytest.importorskip("array_api_strict")
    x = xp.asarray([1.0, 2.0], device=xp.Device("device1"))
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        np.asarray(x)
    np.testing.assert_array_equal(to_numpy(x), [1.0, 2.0])  # the explicit path works


def test_mixed_namespaces_raise():
    torch = pytest.importorskip("torch")
    xp = pytest.importorskip("array_api_strict")
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="different array namespaces"):
            get_namespace(torch.ones(2, dtype=torch.float64), xp.ones(2))


def test_mixed_devices_raise():
    xp = pytest.importorskip("array_api_strict")
    a = xp.ones(2, device=xp.Device("CPU_DEVICE"))
    b = xp.ones(2, device=xp.Device("device1"))
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="different devices"):
            get_namespace_and_device(a, b)
        with pytest.raises(ValueError, match="same namespace and device"):
            same_namespace_and_device(a, b, "Est.predict()")


def test_move_to(namespace):
    xp, device = namespace
    x = np.arange(3.0)
    with sklearn.config_context(array_api_dispatch=True):
        ns, is_api, dev = get_namespace_and_device(_make(xp, device, [0.0]))
        moved = move_to(x, ns, dev)
        np.testing.assert_array_equal(to_numpy(moved), x)
        assert get_namespace(moved)[0].__name__ == ns.__name__


def test_host_roundtrip_estimator_follows_x(namespace):
    """Lasso's compiled kernel runs on a host copy; results come back to X's device."""
    xp, device = namespace
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5))
    y = X[:, 0] - 2 * X[:, 3]
    ref = Lasso(alpha=0.01, tol=1e-10).fit(X, y)
    assert sklearn.utils.get_tags(ref).array_api_host_roundtrip
    X_xp, y_xp = _make(xp, device, X), _make(xp, device, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = Lasso(alpha=0.01, tol=1e-10).fit(X_xp, y_xp)
        pred = est.predict(X_xp)
        ns, _, dev = get_namespace_and_device(pred)
        ns_x, _, dev_x = get_namespace_and_device(X_xp)
        ns_coef, _, dev_coef = get_namespace_and_device(est.coef_)
    assert ns.__name__ == ns_x.__name__ == ns_coef.__name__
    assert dev == dev_x == dev_coef
    np.testing.assert_allclose(to_numpy(est.coef_), ref.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(pred), ref.predict(X), rtol=1e-10, atol=1e-10)


# ------------------------------------------------ coverage table of the docs
@functools.lru_cache(maxsize=None)
def _coverage():
    """``doc/generate_array_api_table.py`` as a module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "doc" / "generate_array_api_table.py"
    spec = importlib.util.spec_from_file_location("generate_array_api_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=None)
def _estimator_rows():
    return tuple(_coverage().estimator_rows())


def _estimators_by_status(status):
    from sparseopt.utils.discovery import all_estimators

    coverage = _coverage()
    return [pytest.param(cls, id=name) for name, cls in all_estimators()
            if coverage.estimator_status(cls()) == status]


def test_coverage_table_is_current():
    """The committed table equals a fresh run of the generator (regenerate it if not)."""
    pytest.importorskip("array_api_strict")
    coverage = _coverage()
    fresh = coverage.render(_estimator_rows(), coverage.function_rows())
    assert coverage.TARGET.read_text() == fresh, (
        "doc/modules/array_api_coverage.inc is stale: run "
        "SCIPY_ARRAY_API=1 python doc/generate_array_api_table.py")


@pytest.mark.parametrize("cls", _estimators_by_status("native"))
def test_native_estimators_keep_the_data_on_device(cls):
    """"native" in the table is true: a device1 fit copies nothing data-sized to the host,
    unless the table's note says it does."""
    pytest.importorskip("array_api_strict")
    coverage = _coverage()
    out, X, sizes = coverage.fit_on_device1(cls)
    assert coverage._on_device1(out)
    row = next(r for r in _estimator_rows() if r[0].endswith("." + cls.__name__))
    if row[2]:
        assert max(sizes) >= X.size and "copied to the host" in row[2]
    else:
        assert max(sizes, default=0) < X.size, f"host copies of sizes {sorted(sizes)[-3:]}"


@pytest.mark.parametrize("cls", _estimators_by_status("host"))
def test_host_roundtrip_estimators_return_to_the_device(cls):
    """"host round-trip" in the table is true: an explicit host copy, results back on device1."""
    pytest.importorskip("array_api_strict")
    coverage = _coverage()
    out, X, sizes = coverage.fit_on_device1(cls)
    assert max(sizes, default=0) >= X.size  # the kernel's explicit copy of the data
    assert coverage._on_device1(out)


# ------------------------- dense linear algebra on every namespace, float32 and float64
# (NumPy, array-api-strict on CPU_DEVICE and device1, torch on the CPU; the tolerance of
# a comparison with the NumPy run follows the dtype)
DTYPES = [pytest.param("float32", id="float32"), pytest.param("float64", id="float64")]
RTOL = {"float32": 2e-3, "float64": 1e-8}


def _cast(xp, device, a, dtype):
    a = np.asarray(a).astype(dtype)
    return a if device is None else xp.asarray(a, device=device)


def _follows(x, like, dtype):
    """``x`` is in the namespace and on the device of ``like``, with ``dtype``."""
    import array_api_compat

    if isinstance(like, np.ndarray):
        assert isinstance(x, np.ndarray) and x.dtype == np.dtype(dtype)
        return
    assert array_api_compat.array_namespace(x).__name__ == \
        array_api_compat.array_namespace(like).__name__
    assert array_api_compat.device(x) == array_api_compat.device(like)
    assert to_numpy(x).dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["sinkhorn", "log", "sns"])
def test_sinkhorn_family_on_namespace_and_dtype(namespace, dtype, method):
    from sparseopt.transport import solve

    xp, device = namespace
    rng = np.random.default_rng(3)
    a, b = rng.dirichlet(np.ones(18)), rng.dirichlet(np.ones(14))
    M = rng.random((18, 14))
    tol = 1e-5 if dtype == "float32" else 1e-10
    ref = solve(M.astype(dtype), a.astype(dtype), b.astype(dtype), 0.1, method=method, tol=tol)
    M_x = _cast(xp, device, M, dtype)
    res = solve(M_x, _cast(xp, device, a, dtype), _cast(xp, device, b, dtype), 0.1,
                method=method, tol=tol)
    for key in ("plan", "f", "g"):
        _follows(res[key], M_x, dtype)
    assert res.converged and res.certificate <= tol
    np.testing.assert_allclose(to_numpy(res.plan), ref.plan, rtol=RTOL[dtype],
                               atol=RTOL[dtype] * float(ref.plan.max()))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["ialm", "accaltproj"])
def test_robust_pca_on_namespace_and_dtype(namespace, dtype, method):
    from sparseopt.datasets import make_low_rank_sparse
    from sparseopt.decomposition import RobustPCA

    xp, device = namespace
    D, L, _ = make_low_rank_sparse(60, rank=3, outlier_fraction=0.05, random_state=0)
    ref = RobustPCA(method=method, rank=3, random_state=0).fit(D.astype(dtype))
    X = _cast(xp, device, D, dtype)
    with sklearn.config_context(array_api_dispatch=True):
        est = RobustPCA(method=method, rank=3, random_state=0).fit(X)
    for arr in (est.low_rank_, est.sparse_):
        _follows(arr, X, dtype)
    low_rank = to_numpy(est.low_rank_)
    assert np.linalg.norm(low_rank - ref.low_rank_) <= 10 * RTOL[dtype] * np.linalg.norm(L)
    assert np.linalg.norm(low_rank - L) <= (1e-3 if dtype == "float32" else 1e-6) * \
        np.linalg.norm(L)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kronecker_sbl_e_step_on_namespace_and_dtype(namespace, dtype):
    """The Kronecker E-step (eigh per mode, mode products) runs in the factors' namespace and
    dtype and matches the dense posterior of ``np.kron(A1, A2)``."""
    import array_api_compat
    import array_api_compat.numpy as np_xp

    from sparseopt.bayes._sbl_em import DenseEStep, KroneckerEStep

    xp, device = namespace
    rng = np.random.default_rng(5)
    A1, A2 = rng.standard_normal((6, 4)), rng.standard_normal((5, 3))
    g1, g2 = rng.uniform(0.5, 2.0, 4), rng.uniform(0.5, 2.0, 3)
    Y = rng.standard_normal((30, 2))
    masks64 = [np.ones(4, bool), np.array([True, False, True])]
    dense = DenseEStep(np_xp, np.kron(A1, A2[:, masks64[1]]), (4, 2))(
        [g1, g2[masks64[1]]], [np.ones(4, bool), np.ones(2, bool)], 0.3, Y)
    ns = array_api_compat.array_namespace(_cast(xp, device, A1, dtype))
    cast = [_cast(xp, device, v, dtype) for v in (A1, A2, g1, g2[masks64[1]], Y)]
    masks = [_cast(xp, device, m, bool) for m in masks64]
    post = KroneckerEStep(ns, cast[:2])(cast[2:4], masks, 0.3, cast[4])
    _follows(post.mean, cast[0], dtype)
    _follows(post.variance, cast[0], dtype)
    rtol = RTOL[dtype] * 10
    np.testing.assert_allclose(to_numpy(post.mean).reshape(8, 2), dense.mean.reshape(8, 2),
                               rtol=rtol, atol=rtol)
    np.testing.assert_allclose(to_numpy(post.variance).ravel(), dense.variance.ravel(),
                               rtol=rtol, atol=rtol)
    assert post.log_det == pytest.approx(dense.log_det, rel=rtol)
    assert post.quadratic == pytest.approx(dense.quadratic, rel=rtol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kronecker_sbl_fit_on_namespace_and_dtype(namespace, dtype):
    from sparseopt.bayes import KroneckerDesign, KroneckerSBL
    from sparseopt.datasets import make_kronecker_sparse_recovery

    xp, device = namespace
    y, factors, x, _ = make_kronecker_sparse_recovery((8, 8), (10, 10), 2, snr_db=30,
                                                      random_state=1)
    ref = KroneckerSBL().fit(KroneckerDesign(*[f.astype(dtype) for f in factors]),
                             y.astype(dtype))
    design = KroneckerDesign(*[_cast(xp, device, f, dtype) for f in factors])
    y_x = _cast(xp, device, y, dtype)
    with sklearn.config_context(array_api_dispatch=True):
        est = KroneckerSBL().fit(design, y_x)
    _follows(est.coef_, y_x, dtype)
    coef = to_numpy(est.coef_)
    np.testing.assert_array_equal(coef != 0, x != 0)  # the planted support, as with NumPy
    np.testing.assert_array_equal(coef != 0, ref.coef_ != 0)
    np.testing.assert_allclose(coef, ref.coef_, rtol=RTOL[dtype] * 10,
                               atol=RTOL[dtype] * 10 * np.abs(x).max())


# ------------------------- sparse_path: compiled solver, explicit host round-trip
@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_path_follows_the_namespace_and_dtype(namespace, dtype):
    """sparse_path copies X and y to the host for the compiled solver (explicitly: device1
    refuses implicit conversion) and returns the grid, the coefficients and the
    certificates in X's namespace and device, equal to the NumPy run."""
    from sparseopt.linear_model import sparse_path

    xp, device = namespace
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 8))
    y = X[:, 0] - 2 * X[:, 3] + 0.1 * rng.standard_normal(40)
    X, y = X.astype(dtype), y.astype(dtype)
    X_x, y_x = _cast(xp, device, X, dtype), _cast(xp, device, y, dtype)
    tol = 1e-10 if dtype == "float64" else 1e-5  # a gap float32 rounding can certify
    for alphas in (6, [0.5, 0.05, 0.2]):
        ref = sparse_path(X, y, alphas=alphas, tol=tol)
        grid = alphas if isinstance(alphas, int) else _cast(xp, device, alphas, "float64")
        with sklearn.config_context(array_api_dispatch=True):
            out = sparse_path(X_x, y_x, alphas=grid, tol=tol)
        for got, want, kind in zip(out[:3], ref[:3], ("float64", dtype, "float64")):
            _follows(got, X_x, kind)
            np.testing.assert_array_equal(to_numpy(got), want)
        assert out[3]["converged"] == ref[3]["converged"]
        assert all(out[3]["converged"])


def test_sparse_path_rejects_mixed_namespaces():
    from sparseopt.linear_model import sparse_path

    torch = pytest.importorskip("torch")
    xp = pytest.importorskip("array_api_strict")
    X = np.random.default_rng(0).standard_normal((20, 3))
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="different array namespaces"):
            sparse_path(torch.asarray(X), xp.asarray(X[:, 0]), alphas=3)
