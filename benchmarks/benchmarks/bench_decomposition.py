"""asv benchmarks for robust PCA and matrix completion (sparseopt.decomposition).

Correctness trackers catch "converged but wrong": ``track_relerr_L`` reports
``||L - L*||_F / ||L*||_F`` on planted problems, including the large-outlier
case (uniform [-500, 500]) where the residual alone is misleading.
"""
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # array-API backends need it before SciPy

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sparseopt.datasets import make_low_rank_sparse, make_matrix_completion  # noqa: E402

from .common import release_threads  # noqa: E402

BACKENDS = ["numpy", "array_api_strict", "torch-cpu"]
OUTLIERS = {"mean": ("mean", 1.0), "large": ("uniform", 500.0)}


def _to_backend(D, backend):
    if backend == "numpy":
        return D, None
    if backend == "array_api_strict":
        try:
            import array_api_strict
        except ImportError as exc:
            raise NotImplementedError("array_api_strict is not installed") from exc
        return array_api_strict.asarray(D), array_api_strict
    if backend == "torch-cpu":
        try:
            import torch
        except ImportError as exc:
            raise NotImplementedError("torch is not installed") from exc
        return torch.asarray(D), torch
    raise NotImplementedError(backend)


def _to_numpy(x):
    from sparseopt.utils._array_api import to_numpy

    return to_numpy(x)


class RobustPCASuite:
    """Fit time, peak memory and recovery error of RobustPCA on planted problems."""

    params = (["ialm", "accaltproj"], [500, 1000], ["mean", "large"], BACKENDS)
    param_names = ["method", "n", "outliers", "backend"]
    timeout = 500
    processes = 1
    number = 1
    repeat = 1

    def setup_cache(self):
        data = {}
        for n in self.params[1]:
            for key, (kind, scale) in OUTLIERS.items():
                D, L, _ = make_low_rank_sparse(n, rank=n // 20, outlier_fraction=0.1,
                                               outliers=kind, outlier_scale=scale,
                                               random_state=0)
                data[(n, key)] = (D, L)
        return data

    def setup(self, data, method, n, outliers, backend):
        if backend != "numpy" and n > 500:
            raise NotImplementedError("array-API backends are benchmarked at n=500 only")
        D, self.L = data[(n, outliers)]
        self.X, _ = _to_backend(D, backend)
        self.backend = backend
        self.rank = n // 20
        self.method = method
        self._limits = threadpool_limits(1)

    def teardown(self, *args):
        release_threads(self)

    def _fit(self):
        import sklearn

        from sparseopt.decomposition import RobustPCA

        est = RobustPCA(method=self.method, rank=self.rank if self.method == "accaltproj"
                        else None, random_state=0)
        with sklearn.config_context(array_api_dispatch=self.backend != "numpy"):
            return est.fit(self.X)

    def time_fit(self, *args):
        self._fit()

    def peakmem_fit(self, *args):
        self._fit()

    def track_relerr_L(self, *args):
        est = self._fit()
        L_hat = _to_numpy(est.low_rank_)
        return float(np.linalg.norm(L_hat - self.L) / np.linalg.norm(self.L))

    track_relerr_L.unit = "relative error"

    def track_n_iter(self, *args):
        return self._fit().n_iter_

    track_n_iter.unit = "iterations"


class MatrixCompletionSuite:
    """Alternating minimisation: exact vs preconditioned-CG half-steps."""

    params = (["exact", "iterative"], [500, 1000], [5, 20])
    param_names = ["solver", "n", "rank"]
    timeout = 500
    processes = 1
    number = 1
    repeat = 1

    def setup(self, solver, n, rank):
        self.X, self.mask, self.M = make_matrix_completion(n, rank=rank, oversampling=1.0,
                                                           random_state=0)
        self.solver, self.rank = solver, rank
        self._limits = threadpool_limits(1)

    def teardown(self, *args):
        release_threads(self)

    def _fit(self):
        from sparseopt.decomposition import RobustMatrixCompletion

        return RobustMatrixCompletion(rank=self.rank, solver=self.solver, tol=1e-10,
                                      random_state=0).fit(self.X, mask=self.mask)

    def time_fit(self, *args):
        self._fit()

    def track_relerr(self, *args):
        est = self._fit()
        return float(np.linalg.norm(est.low_rank_ - self.M) / np.linalg.norm(self.M))

    track_relerr.unit = "relative error"
