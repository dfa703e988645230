"""asv benchmarks of sparse regression under local differential privacy.

``LDPUserSide`` times the streamed user side of the non-interactive protocol
(clip, form ``x x^T`` and ``x y``, draw and add the Gaussian noise, add the
messages up) against ``GaussianDraws``, which only draws the same number of
standard normal numbers with the same per-block generators: their ratio is
the overhead of everything but random-number generation. ``LDPFit`` times
whole fits of both protocols.
"""
import warnings

import numpy as np

from .common import Benchmark


def _data(n, d):
    from sparseopt.datasets import make_ldp_regression

    X, y, _ = make_ldp_regression(n, d, 3, noise=0.5, design="gaussian", random_state=0)
    return X, y


class LDPUserSide(Benchmark):
    """Privatize and aggregate n users' messages (block by block)."""

    params = ([10, 50], [100_000])
    param_names = ["d", "n"]

    def setup(self, d, n):
        from sparseopt.privacy import _local

        self.X, self.y = _data(n, d)
        self.setup_, _ = _local.nldp_setup(n, d, self.X, self.y, epsilon=2.0, delta=1e-5,
                                           clip_x="auto", clip_y="auto", with_covariance=True,
                                           accountant=None)
        self._run(self.X[:100], self.y[:100])  # compile outside the timing

    def _run(self, X, y):
        from sparseopt.privacy import _local
        from sparseopt.privacy._server import MessageAggregator

        agg = MessageAggregator(X.shape[1], True)
        for cov, cross in _local.nldp_message_blocks(X, y, self.setup_, 0):
            agg.receive(cov, cross)
        return agg

    def time_privatize_and_aggregate(self, d, n):
        self._run(self.X, self.y)

    def peakmem_privatize_and_aggregate(self, d, n):
        self._run(self.X, self.y)


class GaussianDraws(Benchmark):
    """The bound: the same number of N(0, 1) draws, same block generators, no other work."""

    params = ([10, 50], [100_000])
    param_names = ["d", "n"]

    def setup(self, d, n):
        from sparseopt.privacy import _local

        self.width = d * (d + 1) // 2 + d
        self.block = _local.block_size(self.width)
        self.buf = np.empty((self.block, self.width))

    def time_draws(self, d, n):
        from sparseopt.privacy import _local

        for b, start in enumerate(range(0, n, self.block)):
            _local.block_rng(0, 0, b).standard_normal(out=self.buf[:min(self.block, n - start)])


class LDPFit(Benchmark):
    """Whole fits with the defaults (epsilon = 2)."""

    params = (["non_interactive", "interactive"], [10], [100_000])
    param_names = ["protocol", "d", "n"]

    def setup(self, protocol, d, n):
        from sparseopt.privacy import LDPSparseRegression

        self.X, self.y = _data(n, d)
        self.est = LDPSparseRegression(protocol=protocol, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.est.fit(self.X[:200], self.y[:200])

    def time_fit(self, protocol, d, n):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.est.fit(self.X, self.y)
