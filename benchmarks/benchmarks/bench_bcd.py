"""asv benchmarks of block coordinate descent (issue 4), on scaled-down paper problems.

``time_*``: 500 iterations (the paper's protocol) of a rule/update pair;
``track_*``: relative sub-optimality ``(F - f*) / (F0 - f*)`` reached, so a
regression in convergence shows up even when the timing does not.
"""
import numpy as np
from threadpoolctl import threadpool_limits

from sparseopt.datasets import make_bcd_lattice, make_bcd_least_squares, make_bcd_two_moons
from sparseopt.optimize import BlockCoordinateDescent

from .common import release_threads

_CONFIGS = {
    "cyclic-gradient": dict(partition="sorted", selection="cyclic", update="gradient"),
    "gsl-gradient": dict(partition="variable", selection="gsl", update="gradient"),
    "gsq-matrix": dict(partition="variable", selection="gsq", update="matrix"),
}


def _relative_gap(res, f_star):
    return (res.fun - f_star) / (res.history[0]["fun"] - f_star)


class LeastSquaresA:
    """Problem A, block size 5, 500 iterations: scaled to 500 x 1000 (greedy rules keep
    the gradient through the Gram matrix) and to 1000 x 5000 (no Gram matrix: through the
    touched rows). The fixed partitions' block bounds are part of every solve."""

    params = (list(_CONFIGS), ["500x1000", "1000x5000"])
    param_names = ["config", "size"]
    timeout = 180

    def setup(self, config, size):
        self._limits = threadpool_limits(1)
        n, p = map(int, size.split("x"))
        self.prob = make_bcd_least_squares(n, p, random_state=0)
        self.solver = BlockCoordinateDescent(block_size=5, max_iter=500, tol=0.0,
                                             record_every=500, random_state=0,
                                             **_CONFIGS[config])
        self.solver.solve(self.prob.objective)  # compile kernels, build the Gram matrix

    def teardown(self, config, size):
        release_threads(self)

    def time_500_iterations(self, config, size):
        self.solver.solve(self.prob.objective)

    def peakmem_500_iterations(self, config, size):
        self.solver.solve(self.prob.objective)

    def track_relative_gap(self, config, size):
        return _relative_gap(self.solver.solve(self.prob.objective), self.prob.f_star)

    track_relative_gap.unit = "relative gap"


class LabelPropagationGraphs:
    """Problems D (30 x 30 lattice) and E (1000 two-moons points) with message passing."""

    params = (["D", "E"], ["greedy_tree", "red_black", "cyclic-gradient"])
    param_names = ["problem", "blocks"]
    timeout = 120

    def setup(self, problem, blocks):
        self._limits = threadpool_limits(1)
        self.prob = (make_bcd_lattice(30, 36, random_state=0) if problem == "D"
                     else make_bcd_two_moons(1000, 50, random_state=0))
        n = self.prob.Q.shape[0]
        params = {
            "greedy_tree": dict(partition="variable", selection="greedy_tree",
                                update="message_passing", block_size=n),
            "red_black": dict(partition="red_black", selection="cyclic",
                              update="message_passing"),
            "cyclic-gradient": dict(partition="sorted", selection="cyclic", update="gradient",
                                    block_size=5),
        }[blocks]
        self.solver = BlockCoordinateDescent(max_iter=200, tol=0.0, record_every=200,
                                             random_state=0, **params)
        self.solver.solve(self.prob.objective)

    def teardown(self, problem, blocks):
        release_threads(self)

    def time_200_iterations(self, problem, blocks):
        self.solver.solve(self.prob.objective)

    def track_relative_gap(self, problem, blocks):
        res = self.solver.solve(self.prob.objective)
        return max(_relative_gap(res, self.prob.f_star), np.finfo(float).tiny)

    track_relative_gap.unit = "relative gap"
