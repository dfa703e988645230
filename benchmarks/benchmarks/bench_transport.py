"""asv benchmarks of sparseopt.transport (Sinkhorn, log-Sinkhorn, Sinkhorn-Newton-Sparse).

Time and peak memory to an l1 marginal error of 1e-9, plus correctness
trackers (Newton steps, final marginal error, distance to POT's plan) that
catch "fast but wrong". ``backend`` runs the solver on NumPy,
array-api-strict or torch (CPU); ``setup`` raises ``NotImplementedError``
for an unavailable backend or anchor, which asv reports as skipped.
"""
import numpy as np
from threadpoolctl import threadpool_limits

from sparseopt.datasets import make_grid_densities, make_random_assignment
from sparseopt.transport import solve

from .common import release_threads, skip_for_params


PROBLEMS = ["random500", "grid28_w2"]
BACKENDS = ["numpy", "array_api_strict", "torch-cpu", "torch-cuda"]


def _problem(name):
    if name == "random500":
        pb = make_random_assignment(500, random_state=0)
        return pb.a, pb.b, pb.M, 1 / 1200
    pb = make_grid_densities(28, cost="sqeuclidean", random_state=0)
    return pb.a, pb.b, pb.M, 1e-3 * pb.M.max()


def _to_backend(backend, arrays):
    if backend == "numpy":
        return arrays
    if backend == "array_api_strict":
        try:
            import array_api_strict as xp
        except ImportError as exc:
            raise NotImplementedError("array-api-strict is not installed") from exc
        return [xp.asarray(x) for x in arrays]
    if backend.startswith("torch"):
        try:
            import torch
        except ImportError as exc:
            raise NotImplementedError("torch is not installed") from exc
        device = backend.split("-")[1]
        if device == "cuda" and not torch.cuda.is_available():
            raise NotImplementedError("no CUDA device")
        return [torch.asarray(x, dtype=torch.float64, device=device) for x in arrays]
    raise NotImplementedError(backend)


class Sinkhorn:
    """Our three methods on the paper's random assignment and on a W2 grid problem."""

    params = (PROBLEMS, ["sns", "sinkhorn", "log"], BACKENDS)
    param_names = ["problem", "method", "backend"]
    timeout = 300
    processes = 1
    number = 1
    repeat = (1, 3, 30)

    def setup(self, problem, method, backend):
        if method != "sns" and problem == "random500":
            # thousands of O(n^2) sweeps at eta = 1200
            raise NotImplementedError("Sinkhorn needs ~7000 sweeps here (minutes per sample "
                                      "on a loaded machine); see compare/ot.py")
        if backend != "numpy" and method == "sns" and problem == "grid28_w2":
            raise NotImplementedError("dense array-API Newton is too slow at n = 784 on CPU")
        self.a, self.b, self.M, self.reg = _problem(problem)
        self.args = _to_backend(backend, [self.M, self.a, self.b])
        self.kw = dict(method=method, tol=1e-9, warn=False,
                       max_iter=300 if method == "sns" else 100000)
        self._limits = threadpool_limits(limits=1)
        solve(*self.args, self.reg, **{**self.kw, "max_iter": 1})  # JIT outside timings

    def teardown(self, *params):
        release_threads(self)

    def time_solve(self, *params):
        solve(*self.args, self.reg, **self.kw)

    def peakmem_solve(self, *params):
        solve(*self.args, self.reg, **self.kw)

    # the scaling methods take no Newton step: nothing to track
    @skip_for_params([(p, m, b) for p in PROBLEMS for m in ("sinkhorn", "log") for b in BACKENDS])
    def track_newton_steps(self, *params):
        return solve(*self.args, self.reg, **self.kw).n_newton

    track_newton_steps.unit = "Newton steps"

    def track_marginal_err(self, *params):
        return float(solve(*self.args, self.reg, **self.kw).marginal_error)

    track_marginal_err.unit = "l1 marginal error"


class AgainstPOT:
    """Distance between SNS's plan and POT's log-domain plan (moderate reg, n = 200)."""

    params = ["sns", "log"]
    param_names = ["method"]
    timeout = 300

    def setup_cache(self):
        # POT's reference plan, solved once for every method and benchmark of the class
        # (a dict: asv passes no cache argument at all when setup_cache returns None)
        try:
            import ot
        except ImportError:
            return {"plan": None}
        pb = make_random_assignment(200, random_state=1)
        return {"plan": ot.sinkhorn(pb.a, pb.b, pb.M, 0.02, method="sinkhorn_log",
                                    stopThr=1e-14, numItermax=100000)}

    def setup(self, reference, method):
        if reference["plan"] is None:
            raise NotImplementedError("POT is not installed")
        pb = make_random_assignment(200, random_state=1)
        self.a, self.b, self.M, self.reg = pb.a, pb.b, pb.M, 0.02
        self.method = method
        self.reference = reference["plan"]

    def track_plan_max_abs_diff(self, reference, method):
        res = solve(self.M, self.a, self.b, self.reg, method=method, tol=1e-12,
                    max_iter=100000)
        return float(np.abs(res.plan - self.reference).max())

    track_plan_max_abs_diff.unit = "max |P - P_POT|"

    def time_pot_sinkhorn_log(self, reference, method):
        import ot

        ot.sinkhorn(self.a, self.b, self.M, self.reg, method="sinkhorn_log", stopThr=1e-11)

    def time_sparseopt(self, reference, method):
        solve(self.M, self.a, self.b, self.reg, method=method, tol=1e-9, max_iter=100000)


class DomainAdaptation:
    """``SinkhornTransport.fit`` on point clouds (n = 300) against POT's estimator, same call."""

    params = ["sns", "sinkhorn_log"]
    param_names = ["method"]
    timeout = 300

    def setup(self, method):
        try:
            import ot
        except ImportError as exc:
            raise NotImplementedError("POT is not installed") from exc
        from sparseopt.datasets import make_point_clouds

        pb = make_point_clouds(300, random_state=0)
        self.ot = ot
        self.Xs, self.Xt = pb.X_source, pb.X_target
        self.options = dict(reg_e=1e-2, norm="max")
        self._limits = threadpool_limits(limits=1)
        self._fit(method, slice(0, 20))  # load the compiled kernels outside the timings

    def teardown(self, *params):
        release_threads(self)

    def _fit(self, method, rows=slice(None)):
        from sparseopt.transport import SinkhornTransport

        return SinkhornTransport(**self.options, method=method).fit(Xs=self.Xs[rows],
                                                                    Xt=self.Xt[rows])

    def time_fit(self, method):
        self._fit(method)

    def time_pot_fit(self, method):
        # POT's default stopping rule (l2 column error 1e-8), with room to reach it
        self.ot.da.SinkhornTransport(**self.options, max_iter=100000).fit(Xs=self.Xs,
                                                                          Xt=self.Xt)

    def track_coupling_max_abs_diff_to_pot(self, method):
        pot = self.ot.da.SinkhornTransport(**self.options, max_iter=100000, tol=1e-12)
        pot.fit(Xs=self.Xs, Xt=self.Xt)
        return float(np.abs(self._fit(method).coupling_ - pot.coupling_).max())

    track_coupling_max_abs_diff_to_pot.unit = "max |P - P_POT|"
