"""asv benchmarks for SDP K-means and iLA-SDP (sparseopt.cluster).

``track_error`` reports the mis-clustering error against the planted labels,
``track_violation`` the largest constraint violation of the SDP solution, so
that a faster but wrong solver shows up.
"""
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import warnings  # noqa: E402

from .common import Benchmark  # noqa: E402


def _mixture(n, p, K, separation, covariance, seed=0, **kw):
    from sparseopt.datasets import make_heterogeneous_mixture

    return make_heterogeneous_mixture(n, p, K, separation=separation, covariance=covariance,
                                      random_state=seed, **kw)


class SDPKMeansSuite(Benchmark):
    """Peng-Wei SDP: ADMM and Burer-Monteiro on separated isotropic mixtures."""

    params = (["admm", "bm"], [200, 1000])
    param_names = ["solver", "n"]
    repeat = 1

    def setup(self, solver, n):
        if solver == "admm" and n > 500:
            raise NotImplementedError("dense ADMM is benchmarked at n <= 500 (O(n^3) per step)")
        self.X, self.y, _, _ = _mixture(n, 10, 3, 6.0, "isotropic")
        self.solver = solver

    def _fit(self):
        from sparseopt.cluster import SDPKMeans

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SDPKMeans(3, solver=self.solver, random_state=0).fit(self.X)

    def time_fit(self, *args):
        self._fit()

    def track_error(self, *args):
        from sparseopt.metrics import misclustering_error

        return misclustering_error(self.y, self._fit().labels_)

    track_error.unit = "fraction mislabelled"

    def track_violation(self, *args):
        return self._fit().constraint_violation_

    track_violation.unit = "constraint violation"


class ILASDPSuite(Benchmark):
    """iLA-SDP on a tight cluster next to a broad one (where K-means fails).

    LA-SDP solver: Burer-Monteiro (the default) or the dense ADMM.
    """

    params = (["bm", "admm"], [60, 120, 500])
    param_names = ["solver", "n"]
    repeat = 1

    def setup(self, solver, n):
        if solver == "admm" and n > 200:
            raise NotImplementedError("dense ADMM is benchmarked at n <= 200 (K n x n blocks)")
        self.X, self.y, _, _ = _mixture(n, 2, 2, 3.0, "scale", covariance_scales=[0.05, 4.0])
        self.solver = solver

    def _fit(self):
        from sparseopt.cluster import ILASDPClustering

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ILASDPClustering(2, solver=self.solver, random_state=0).fit(self.X)

    def time_fit(self, *args):
        self._fit()

    def track_error(self, *args):
        from sparseopt.metrics import misclustering_error

        return misclustering_error(self.y, self._fit().labels_)

    track_error.unit = "fraction mislabelled"
