"""Generate the array-API coverage table of the docs (``doc/modules/array_api_coverage.inc``).

Estimators are classified from their scikit-learn tags:

* **native**: ``array_api_support=True`` and no ``array_api_host_roundtrip``
  tag: the linear algebra runs in the namespace and on the device of ``X``
  (torch CUDA, CuPy, ...);
* **host round-trip**: ``array_api_support=True`` with
  ``array_api_host_roundtrip=True``: any namespace is accepted, a compiled
  kernel runs on an explicit NumPy copy and the results go back to ``X``'s
  namespace and device;
* **NumPy**: no array-API support: inputs are converted to NumPy and the
  results are NumPy arrays.

A native estimator is also fitted once on array-api-strict's ``device1``;
when it copies an array as large as ``X`` to the host all the same (e.g.
for an initialisation), its row says so.

Functions have no tags: each public solver function listed in
:data:`FUNCTION_PROBES` is run once on array-api-strict's ``device1`` (a
device that refuses implicit NumPy conversion) and classified by what it did:
native when no array as large as its main input was copied to the host and
the result stayed on ``device1``, host round-trip when such a copy was made
but the result came back, NumPy when the result is a NumPy array, rejected
when the call raised (the note gives the error).

``tests/test_array_api.py`` checks that the committed table is current and
true (each native estimator is fitted on ``device1`` without a host copy of
its data). Regenerate with::

    SCIPY_ARRAY_API=1 python doc/generate_array_api_table.py
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("SCIPY_ARRAY_API", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

TARGET = Path(__file__).resolve().parent / "modules" / "array_api_coverage.inc"

LABELS = {"native": "native (input's namespace and device)",
          "host": "host round-trip (compiled kernel on a NumPy copy)",
          "numpy": "NumPy (inputs converted, NumPy results)",
          "rejected": "NumPy only (array-API inputs are rejected)"}


def estimator_status(estimator):
    """``"native"``, ``"host"`` or ``"numpy"`` from the estimator's tags."""
    from sklearn.utils import get_tags

    tags = get_tags(estimator)
    if not tags.array_api_support:
        return "numpy"
    return "host" if getattr(tags, "array_api_host_roundtrip", False) else "native"


def _public_path(cls):
    parts = cls.__module__.split(".")
    for k in range(2, len(parts) + 1):
        module = sys.modules.get(".".join(parts[:k]))
        if module is not None and getattr(module, cls.__name__, None) is cls:
            return f"{'.'.join(parts[:k])}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__name__}"


def estimator_rows():
    """``(public path, status, note)`` for every registered estimator.

    A native estimator is also fitted on array-api-strict's device1: when it
    copies an array as large as ``X`` to the host all the same, the note says
    so.
    """
    from sparseopt.utils.discovery import all_estimators

    rows = []
    for _, cls in all_estimators():
        status, note = estimator_status(cls()), ""
        if status == "native":
            _, X, sizes = fit_on_device1(cls)
            if max(sizes, default=0) >= X.size:
                note = "X is also copied to the host (measured)"
        rows.append((_public_path(cls), status, note))
    return rows


def fitted_output(est, X):
    """What a user reads: ``predict``/``transform`` of X, else the first fitted array."""
    for method in ("predict", "transform"):
        if hasattr(est, method):
            return getattr(est, method)(X)
    return next(v for k, v in sorted(vars(est).items())
                if k.endswith("_") and not k.startswith("_") and hasattr(v, "shape")
                and getattr(v, "ndim", 0) >= 1)


def fit_on_device1(cls):
    """Fit the first test instance of ``cls`` on device1: ``(output, X, host copy sizes)``."""
    import sklearn

    from sparseopt.utils.discovery import test_instances

    est = test_instances(cls)[0]
    X, y = estimator_data(est)
    X_dev = _strict(X)
    with sklearn.config_context(array_api_dispatch=True), host_copies() as sizes, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X_dev) if y is None else est.fit(X_dev, _strict(y))
        out = fitted_output(est, X_dev)
    return out, X, sizes


def estimator_data(estimator, random_state=0):
    """Small fitting data, as the common tests build it (``_test_data`` first)."""
    from sklearn.base import is_classifier, is_regressor
    from sklearn.utils import get_tags

    cls = type(estimator)
    if hasattr(cls, "_test_data"):
        return cls._test_data(random_state)
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((40, 6))
    if is_regressor(estimator):
        return X, X @ rng.standard_normal(6) + 0.1 * rng.standard_normal(40)
    if is_classifier(estimator) or get_tags(estimator).target_tags.required:
        return X, (X[:, 0] > 0).astype(int)
    return X, None


@contextlib.contextmanager
def host_copies():
    """Record the size of every array sparseopt copies to the host (``to_numpy``)."""
    from sparseopt.utils import _array_api

    original = _array_api.to_numpy
    sizes = []

    def counting(x, dtype=None):
        out = original(x, dtype)
        if out is not None:
            sizes.append(int(np.size(out)))
        return out

    patched = [m for name, m in list(sys.modules.items())
               if name.startswith("sparseopt") and getattr(m, "to_numpy", None) is original]
    for module in patched:
        module.to_numpy = counting
    try:
        yield sizes
    finally:
        for module in patched:
            module.to_numpy = original


def _strict(a):
    import array_api_strict as xp

    return xp.asarray(np.asarray(a), device=xp.Device("device1"))


def _on_device1(x):
    import array_api_compat

    try:
        return (array_api_compat.is_array_api_strict_namespace(array_api_compat.array_namespace(x))
                and str(array_api_compat.device(x)) == str(_strict([0.0]).device))
    except TypeError:
        return False


def _ot_problem():
    rng = np.random.default_rng(0)
    a, b = rng.dirichlet(np.ones(30)), rng.dirichlet(np.ones(25))
    return a, b, rng.random((30, 25))


def _probe_sinkhorn(fn, **kw):
    def probe():
        a, b, M = _ot_problem()
        return fn(_strict(a), _strict(b), _strict(M), 0.1, **kw), M.size
    return probe


def _probe_solve():
    from sparseopt.transport import solve

    a, b, M = _ot_problem()
    return solve(_strict(M), _strict(a), _strict(b), reg=0.1).plan, M.size


def _probe_batched():
    from sparseopt.transport.batched import sinkhorn_batched

    a, b, M = _ot_problem()
    B = np.column_stack([b, b[::-1]])
    return sinkhorn_batched(_strict(a), _strict(B), _strict(M), 0.1), M.size


def _probe_kmeans_sdp():
    from sparseopt.cluster import kmeans_sdp
    from sparseopt.datasets import make_heterogeneous_mixture

    X = make_heterogeneous_mixture(45, 4, 3, separation=6, covariance="isotropic",
                                   random_state=0)[0]
    return kmeans_sdp(_strict(X), 3, random_state=0).embedding, X.size


def _probe_la_sdp():
    from sparseopt.cluster import la_sdp
    from sparseopt.datasets import make_heterogeneous_mixture

    X, labels = make_heterogeneous_mixture(45, 4, 3, separation=6, random_state=0)[:2]
    covs = np.stack([np.cov(X[labels == k].T) + 0.1 * np.eye(4) for k in range(3)])
    return la_sdp(_strict(X), _strict(covs), labels=labels, random_state=0).x, X.size


def _probe_logdet():
    from sparseopt.causal import logdet_acyclicity

    W = 0.1 * np.random.default_rng(0).standard_normal((8, 8))
    return logdet_acyclicity(_strict(W))[1], W.size


def _probe_altmin():
    from sparseopt.decomposition import altmin_completion
    from sparseopt.datasets import make_matrix_completion

    X, mask, _ = make_matrix_completion(30, 20, rank=2, random_state=0)
    return altmin_completion(_strict(X), _strict(mask), 2, random_state=0).x, X.size


def _probe_sparse_path():
    from sparseopt.linear_model import sparse_path

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    return sparse_path(_strict(X), _strict(X[:, 0]), alphas=5)[1], X.size


def _function_probes():
    from sparseopt.transport import sinkhorn, sinkhorn2

    return {
        "sparseopt.transport.sinkhorn": _probe_sinkhorn(sinkhorn),
        "sparseopt.transport.sinkhorn2": _probe_sinkhorn(sinkhorn2),
        "sparseopt.transport.solve": _probe_solve,
        "sparseopt.transport.batched.sinkhorn_batched": _probe_batched,
        "sparseopt.cluster.kmeans_sdp": _probe_kmeans_sdp,
        "sparseopt.cluster.la_sdp": _probe_la_sdp,
        "sparseopt.causal.logdet_acyclicity": _probe_logdet,
        "sparseopt.decomposition.altmin_completion": _probe_altmin,
        "sparseopt.linear_model.sparse_path": _probe_sparse_path,
    }


def function_status(probe):
    """Run ``probe`` on array-api-strict's device1 and classify what happened."""
    import sklearn

    with sklearn.config_context(array_api_dispatch=True), host_copies() as sizes, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out, data_size = probe()
        except Exception as exc:  # noqa: BLE001  (any refusal means: not on this device)
            return "rejected", type(exc).__name__
    if not _on_device1(out):
        return "numpy", ""
    return ("native" if max(sizes, default=0) < data_size else "host"), ""


def function_rows():
    """``(public path, status, note)`` for each probed function."""
    return [(path, *function_status(probe)) for path, probe in _function_probes().items()]


def render(estimators, functions):
    """The reStructuredText of the table (two list-tables)."""
    lines = [".. This file is generated by doc/generate_array_api_table.py; do not edit.", "",
             ".. list-table:: Estimators (from their tags)", "   :header-rows: 1",
             "   :widths: 50 50", "", "   * - estimator", "     - array-API inputs"]
    for path, status, note in estimators:
        lines += [f"   * - :class:`~{path}`",
                  f"     - {LABELS[status]}" + (f"; {note}" if note else "")]
    lines += ["", ".. list-table:: Functions (probed on array-api-strict's device1)",
              "   :header-rows: 1", "   :widths: 50 50", "", "   * - function",
              "     - array-API inputs"]
    for path, status, note in functions:
        lines += [f"   * - :func:`~{path}`",
                  f"     - {LABELS[status]}" + (f" ({note})" if note else "")]
    return "\n".join(lines) + "\n"


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(TARGET))
    args = parser.parse_args(argv)
    text = render(estimator_rows(), function_rows())
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
