"""asv benchmarks of the linear DAG learners (CoLiDE, DAGMA) and the ``dagma`` package.

A shortened path (T = 4 stages of 2000 Adam iterations, early stop off) keeps
each timing under a few seconds while exercising the same per-iteration work as
a full fit: one (sI - W o W) inverse, one Sigma @ W product and one Adam step.
``DAGDomainInverse`` times that inverse alone: the kernel's recursive block elimination
(which also gives log det and the domain test) against LAPACK getrf + getri.
"""
from .common import Benchmark, require

_SHORT = dict(T=4, s=(1.0, 0.9, 0.8, 0.7), warm_iter=2000, max_iter=2000, tol=0.0)


def _data(d):
    from sparseopt.datasets import make_linear_sem

    X, W_true, _ = make_linear_sem(d, 4 * d, 1000, random_state=0)
    return X, W_true


class DAGShortPath(Benchmark):
    """Time of a fixed 8000-iteration path (per-iteration cost x 8000)."""

    params = ([20, 50], ["CoLiDE-EV", "CoLiDE-NV", "DAGMA", "dagma-package"])
    param_names = ["d", "method"]

    def setup(self, d, method):
        from sparseopt.causal import DAGMA, CoLiDE

        self.X, _ = _data(d)
        if method == "dagma-package":
            self.pkg = require("dagma.linear")
        else:
            self.est = {"CoLiDE-EV": CoLiDE("ev", **_SHORT), "CoLiDE-NV": CoLiDE("nv", **_SHORT),
                        "DAGMA": DAGMA(**_SHORT)}[method]
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.est.fit(self.X[:50])  # compile the kernel outside the timing

    def time_fit(self, d, method):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "dagma-package":
                self.pkg.DagmaLinear("l2").fit(self.X.copy(), lambda1=0.05, T=4,
                                               s=[1.0, 0.9, 0.8, 0.7], warm_iter=2000,
                                               max_iter=2000)
            else:
                self.est.fit(self.X)


class DAGDomainInverse(Benchmark):
    """One (sI - W o W)^-1 at a mid-path W: recursive block elimination vs LAPACK (numpy)."""

    params = ([50, 100, 200], ["block-gauss-jordan", "lapack"])
    param_names = ["d", "method"]

    def setup(self, d, method):
        import numpy as np

        from sparseopt._ext import _dag as kernel

        _, W_true = _data(d)
        W = W_true + 0.5 * W_true.T  # a cyclic W, scaled into the domain: rho(W o W) = 0.5
        rho = np.max(np.abs(np.linalg.eigvals(W * W)))
        self.W = np.ascontiguousarray(W * np.sqrt(0.5 / rho))
        self.A = np.eye(d) - self.W * self.W
        self.kernel = kernel
        self.work = kernel.domain_workspace(d)
        kernel.domain_inverse(self.W, 1.0, *self.work)  # warm the caches

    def time_inverse(self, d, method):
        import numpy as np

        if method == "lapack":
            np.linalg.inv(self.A)
        else:
            self.kernel.domain_inverse(self.W, 1.0, *self.work)


class DAGRecovery(Benchmark):
    """SHD of a full paper-schedule fit on one ER4 graph (d = 20, unit noise)."""

    params = (["CoLiDE-EV", "CoLiDE-NV", "DAGMA"],)
    param_names = ["method"]
    timeout = 900

    def setup(self, method):
        from sparseopt.causal import DAGMA, CoLiDE

        self.X, self.W_true = _data(20)
        self.est = {"CoLiDE-EV": CoLiDE("ev"), "CoLiDE-NV": CoLiDE("nv"), "DAGMA": DAGMA()}[method]

    def track_shd(self, method):
        import warnings

        from sparseopt.metrics import count_accuracy

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.est.fit(self.X)
        return count_accuracy(self.W_true != 0, self.est.adjacency_)["shd"]

    track_shd.unit = "edges"

    def peakmem_fit(self, method):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.est.set_params(warm_iter=500, max_iter=500).fit(self.X)


class DAGNamespaceStage(Benchmark):
    """200 Adam iterations of one CoLiDE-EV stage (early stop off): the compiled loop (NumPy
    input) against the namespace path that serves every other array-API input, run on the
    CPU through array_api_compat's NumPy and torch (one thread)."""

    params = ([20, 50, 200], ["compiled", "namespace-numpy", "namespace-torch"])
    param_names = ["d", "implementation"]
    n_iter = 200

    def setup(self, d, implementation):
        import numpy as np

        from sparseopt._ext import _dag as kernel

        X, _ = _data(d)
        X = X - X.mean(0)
        self.arrays = (X.T @ X / X.shape[0], np.zeros((0, d)), np.zeros((d, d)), np.ones(d),
                       np.zeros(d), np.ones((d, d)), np.zeros((d, d)))
        self.stage = (0.0, 1.0, 1.0, 3e-4, 0.05, self.n_iter, 10 ** 9, 0.0, 0.99, 0.999, 1e-8,
                      1e-6, kernel.SCALE_EV, kernel.LOSS_L2, False)
        if implementation == "compiled":
            self.run = lambda: kernel.adam_stage(*[a.copy() for a in self.arrays], *self.stage)
            return
        from sparseopt.causal._adam_namespace import adam_stage_namespace

        if implementation == "namespace-numpy":
            import array_api_compat.numpy as xp

            arrays = self.arrays
        else:
            torch = require("torch")
            import array_api_compat.torch as xp

            torch.set_num_threads(1)
            arrays = [torch.asarray(a) for a in self.arrays]
        self.run = lambda: adam_stage_namespace(xp, *arrays, *self.stage)

    def time_stage(self, d, implementation):
        self.run()
