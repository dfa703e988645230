"""asv benchmarks of sparse regression (issue 3): Lasso / MCP paths on AR(1) designs.

``time_*``: a 10-alpha warm-started path to alpha_max/100 at relative gap 1e-6;
``track_*``: the largest relative duality gap along the path (a regression in
certification shows up even when timing does not) and the per-epoch / BLAS ratio.
"""
import time

import numpy as np
from threadpoolctl import threadpool_limits

from sparseopt.datasets import make_correlated_regression
from sparseopt.linear_model import sparse_path
from sparseopt.optimize import enet_duality_gap

from .common import release_threads, require

_SHAPES = {"a-100x10000": (100, 10_000), "b-1000x5000": (1000, 5000)}


def _grid(X, y):
    amax = np.max(np.abs(X.T @ y)) / X.shape[0]
    return np.geomspace(amax, amax / 100, 10)


class LassoPath:
    params = (list(_SHAPES), ["sparseopt", "celer", "skglm", "sklearn"])
    param_names = ["problem", "solver"]
    timeout = 300

    def setup(self, problem, solver):
        self._limits = threadpool_limits(1)
        n, p = _SHAPES[problem]
        self.X, self.y, _ = make_correlated_regression(n, p, n_informative=10, rho=0.6,
                                                       random_state=0)
        self.alphas = _grid(self.X, self.y)
        if solver != "sparseopt":
            require({"celer": "celer", "skglm": "skglm", "sklearn": "sklearn"}[solver])
        # compile (skglm's Numba kernels are not cached) or load the kernels outside the
        # timings: --quick times a single call, with no warm-up round
        X_head = np.array(self.X[:20], order="K")
        _run_path(solver, X_head, self.y[:20], _grid(X_head, self.y[:20])[:2])

    def teardown(self, problem, solver):
        release_threads(self)

    def time_path(self, problem, solver):
        _run_path(solver, self.X, self.y, self.alphas)

    def peakmem_path(self, problem, solver):
        _run_path(solver, self.X, self.y, self.alphas)

    def track_max_relative_gap(self, problem, solver):
        coefs = _run_path(solver, self.X, self.y, self.alphas)
        yy = float(self.y @ self.y)
        return max(enet_duality_gap(self.X, self.y, coefs[:, i], a)[0] * self.X.shape[0] / yy
                   for i, a in enumerate(self.alphas))

    track_max_relative_gap.unit = "relative gap"


def _run_path(solver, X, y, alphas, tol=1e-6):
    if solver == "sparseopt":
        return sparse_path(X, y, alphas=alphas, tol=tol, max_iter=100)[1]
    if solver == "sklearn":
        from sklearn.linear_model import lasso_path
        return lasso_path(X, y, alphas=alphas, tol=tol, max_iter=100_000)[1]
    mod = require(solver)
    est = mod.Lasso(alpha=alphas[0], fit_intercept=False, warm_start=True,
                    tol=tol if solver == "celer" else tol * 1e-2, max_iter=100)
    out = []
    for a in alphas:
        est.alpha = a
        est.fit(X, y)
        out.append(est.coef_.copy())
    return np.array(out).T


class EpochCost:
    """One CD epoch over all columns of the 1000 x 5000 design vs one BLAS pass."""

    timeout = 120

    def setup(self):
        self._limits = threadpool_limits(1)
        from sparseopt.optimize._datafits import Quadratic
        from sparseopt.optimize._penalties import L1
        from sparseopt.optimize.working_set_cd import _DenseDesign

        X, y, _ = make_correlated_regression(1000, 5000, rho=0.6, random_state=0)
        self.X = np.asfortranarray(X)
        self.design = _DenseDesign(self.X, y, Quadratic())
        self.w = np.zeros(5000)
        self.design.init_state(self.w)
        self.lip = self.design.col_sq_norms / 1000
        self.ws = np.arange(5000, dtype=np.int32)
        self.kernel = L1(1e-3).kernel_arrays(5000, np.dtype(np.float64)) + (False,)
        self.r = self.design.residual().copy()

    def teardown(self):
        release_threads(self)

    def time_cd_epoch(self):
        self.design.epochs(self.w, self.lip, self.ws, self.kernel, 1)

    def time_blas_pass(self):
        self.X.T @ self.r

    def track_epoch_over_blas(self):
        t0 = time.perf_counter()
        for _ in range(3):
            self.design.epochs(self.w, self.lip, self.ws, self.kernel, 1)
        t1 = time.perf_counter()
        for _ in range(3):
            self.X.T @ self.r
        return (t1 - t0) / (time.perf_counter() - t1)

    track_epoch_over_blas.unit = "ratio"


class L1Logistic:
    """L1 logistic regression (no intercept) at 0.1 / 0.02 alpha_max, tol 1e-6 (duality gap);
    ``track_relative_gap``: gap / log 2 at the solution (certification regressions)."""

    params = ([0.1, 0.02],)
    param_names = ["alpha_over_alpha_max"]
    timeout = 300

    def setup(self, frac):
        from sparseopt.linear_model import SparseLogisticRegression

        self._limits = threadpool_limits(1)
        rng = np.random.default_rng(0)
        self.X = rng.standard_normal((500, 1000))
        w0 = np.zeros(1000)
        w0[:20] = rng.standard_normal(20)
        self.y = np.where(self.X @ w0 + 0.5 * rng.standard_normal(500) > 0, 1.0, -1.0)
        alpha = frac * np.max(np.abs(self.X.T @ self.y)) / (2 * 500)
        self.est = SparseLogisticRegression(alpha=alpha, fit_intercept=False, tol=1e-6)

    def teardown(self, frac):
        self._limits.unregister()

    def time_fit(self, frac):
        self.est.fit(self.X, self.y)

    def track_relative_gap(self, frac):
        return self.est.fit(self.X, self.y).dual_gap_ / np.log(2)

    track_relative_gap.unit = "relative gap"


class SparseLogisticOffCentre:
    """SparseLogisticRegression with an intercept on an off-centre CSC design (half the
    columns 90% non-zero at means 20 to 100 with unit spread): the implicit centring of
    those columns keeps it at tens of epochs (thousands without it); ``track_epochs``
    catches a regression of the centring."""

    timeout = 120

    def setup(self):
        import scipy.sparse as sp

        from sparseopt.linear_model import SparseLogisticRegression

        self._limits = threadpool_limits(1)
        rng = np.random.default_rng(0)
        n, p = 1000, 60
        cols = [np.where(rng.random(n) < 0.9, rng.uniform(20, 100) + rng.standard_normal(n), 0.0)
                if j % 2 == 0 else np.where(rng.random(n) < 0.05, rng.standard_normal(n), 0.0)
                for j in range(p)]
        X = np.column_stack(cols)
        w0 = np.zeros(p)
        w0[:10] = rng.standard_normal(10)
        z = X @ w0
        self.y = (z - z.mean() + 0.5 * rng.standard_normal(n) > 0).astype(int)
        self.X = sp.csc_matrix(X)
        alpha = 0.1 * SparseLogisticRegression(tol=1e-8).fit(self.X, self.y).alpha_
        self.est = SparseLogisticRegression(alpha=alpha, tol=1e-8)

    def teardown(self):
        self._limits.unregister()

    def time_fit(self):
        self.est.fit(self.X, self.y)

    def track_epochs(self):
        return self.est.fit(self.X, self.y).n_iter_

    track_epochs.unit = "epochs"
