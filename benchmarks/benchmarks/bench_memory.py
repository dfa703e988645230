"""Peak memory (asv ``peakmem_``) of the large-problem paths, at the sizes of issue 22.

* Lasso on a sparse CSC design, 100,000 x 20,000 (20 non-zeros per row);
* Sinkhorn-Newton-Sparse at n = 20,000 (the Hessian is sparse: memory is a
  few ``n x n`` arrays, the cost matrix and the plan, never ``(2n)^2``);
* RobustPCA (IALM) on 5,000 x 5,000;
* SDPKMeans at n = 5,000 through Burer-Monteiro factors (``n x 2K``; no
  ``n x n`` iterate).

The sizes that need more than a few GiB or minutes (SNS at 20,000: about
21 GiB; RobustPCA at 5,000) run only with ``SPARSEOPT_BENCH_LARGE=1`` in
the environment and are reported as skipped otherwise; a small size of each
case always runs. ``benchmarks/compare/memory.py`` measures the same cases
in fresh processes and extrapolates the largest size that fits in 24 GiB.
"""
import os

import numpy as np

from .common import Benchmark

LARGE = os.environ.get("SPARSEOPT_BENCH_LARGE") == "1"


def _require_large(size, threshold):
    if size >= threshold and not LARGE:
        raise NotImplementedError(f"size {size} needs SPARSEOPT_BENCH_LARGE=1 (several GiB)")


class LassoSparseMemory(Benchmark):
    """Lasso on a sparse CSC design with 20,000 columns."""

    params = [20_000, 100_000]
    param_names = ["n_samples"]
    timeout = 1200

    def setup(self, n_samples):
        from sparseopt.datasets import make_sparse_design_regression

        self.X, self.y, _ = make_sparse_design_regression(n_samples, 20_000, density=20 / 20_000,
                                                          n_informative=50, random_state=0)
        self.alpha = float(np.max(np.abs(self.X.T @ self.y))) / n_samples / 10

    def peakmem_fit(self, n_samples):
        from sparseopt.linear_model import Lasso

        Lasso(alpha=self.alpha, max_iter=50).fit(self.X, self.y)


class SNSMemory(Benchmark):
    """Sinkhorn-Newton-Sparse on n x n squared-distance costs."""

    params = [1000, 20_000]
    param_names = ["n"]
    timeout = 3600

    def setup(self, n):
        _require_large(n, 5000)
        rng = np.random.default_rng(0)
        x, z = rng.random((n, 2)), rng.random((n, 2))
        self.M = ((x[:, None, :] - z[None, :, :]) ** 2).sum(-1)
        self.a = np.full(n, 1.0 / n)

    def peakmem_solve(self, n):
        from sparseopt.transport import solve

        solve(self.M, self.a, self.a, reg=0.01, method="sns", tol=1e-8, max_iter=200, warn=False)


class RobustPCAMemory(Benchmark):
    """RobustPCA (IALM) on n x n, rank n / 50, 5% outliers."""

    params = [1000, 5000]
    param_names = ["n"]
    timeout = 3600

    def setup(self, n):
        _require_large(n, 3000)
        from sparseopt.datasets import make_low_rank_sparse

        self.D = make_low_rank_sparse(n, n, rank=n // 50, outlier_fraction=0.05,
                                      random_state=0)[0]

    def peakmem_fit(self, n):
        from sparseopt.decomposition import RobustPCA

        RobustPCA(method="ialm", random_state=0).fit(self.D)


class SDPKMeansMemory(Benchmark):
    """SDPKMeans with Burer-Monteiro factors, 5 features, 3 clusters."""

    params = [5000]
    param_names = ["n"]
    timeout = 1200

    def setup(self, n):
        from sparseopt.datasets import make_heterogeneous_mixture

        self.X = make_heterogeneous_mixture(n, 5, 3, separation=6, covariance="isotropic",
                                            random_state=0)[0]

    def peakmem_fit(self, n):
        from sparseopt.cluster import SDPKMeans

        SDPKMeans(3, solver="bm", random_state=0).fit(self.X)
