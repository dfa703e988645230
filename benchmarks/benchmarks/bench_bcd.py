"""asv benchmarks of block coordinate descent, on scaled-down paper problems.

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
    """Problem A, block size 5, 500 iterations, scaled to 500 x 1000 and 1000 x 5000 (the
    gradient upkeep is the cost model's choice). The fixed partitions' block bounds are
    part of every solve."""

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


class SparseL1ToTolerance:
    """Sparse L1 least squares 500 x 3000 at 5% (lambda = 0.05 lambda_max) solved to the
    solver's residual tolerance 1e-6, objective construction included: the greedy
    configuration the user guide recommends against cyclic at its best block size."""

    params = (["gsl-newton-50", "gsq-newton-50", "cyclic-gradient-50"],)
    param_names = ["config"]
    timeout = 180
    _configs = {
        "gsl-newton-50": dict(partition="variable", selection="gsl", update="newton"),
        "gsq-newton-50": dict(partition="variable", selection="gsq", update="newton"),
        "cyclic-gradient-50": dict(partition="sorted", selection="cyclic", update="gradient"),
    }

    def setup(self, config):
        from sparseopt.optimize import l1_penalty, least_squares

        self._limits = threadpool_limits(1)
        prob = make_bcd_least_squares(500, 3000, density=0.05, random_state=0)
        self.A, self.y = prob.A, prob.y
        self.penalty = l1_penalty(0.05 * float(np.max(np.abs(prob.A.T @ prob.y))))
        self.least_squares = least_squares
        self.solver = BlockCoordinateDescent(block_size=50, max_iter=100000, tol=1e-6,
                                             record_every=10**9, **self._configs[config])

    def teardown(self, config):
        release_threads(self)

    def time_solve_with_setup(self, config):
        self.solver.solve(self.least_squares(self.A, self.y), penalty=self.penalty)

    def track_iterations(self, config):
        return self.solver.solve(self.least_squares(self.A, self.y), penalty=self.penalty).n_iter

    track_iterations.unit = "iterations"


def _selection_state(psi, block_size):
    """A solver state of the 500 x 3000, 5% problem at the point reached by 10 GSL/Newton
    iterations (variable blocks of ``block_size``), with the L1 term or without (psi = 0)."""
    from sparseopt.optimize import SeparablePenalty, l1_penalty, least_squares
    from sparseopt.optimize.bcd.solver import _BCDState

    prob = make_bcd_least_squares(500, 3000, density=0.05, random_state=0)
    lam = 0.05 * float(np.max(np.abs(prob.A.T @ prob.y)))
    pen = l1_penalty(lam) if psi == "l1" else SeparablePenalty()
    obj = least_squares(prob.A, prob.y)
    x = BlockCoordinateDescent(partition="variable", selection="gsl", update="newton",
                               block_size=block_size, max_iter=10, tol=0).solve(
        obj, penalty=pen).x
    obj.start(x, True)
    return _BCDState(obj, pen, block_size, np.random.default_rng(0), "tau_lipschitz", 200)


class GreedySelection:
    """One selection of each greedy rule on variable blocks of 50 (500 x 3000 at 5%), with
    the L1 term and without it (psi = 0: GSQ is IHT, one product H d or more), at the
    point reached by 10 GSL/Newton iterations; the first call (lambda_max, cached rows)
    is made in setup."""

    params = (["gs", "gsl", "gsd", "gsq"], ["l1", "smooth"])
    param_names = ["rule", "psi"]

    def setup(self, rule, psi):
        from sparseopt.optimize.bcd.selection import SELECTION_RULES

        self._limits = threadpool_limits(1)
        self.state = _selection_state(psi, 50)
        self.pick = SELECTION_RULES[rule]().variable
        self.pick(self.state)

    def teardown(self, rule, psi):
        release_threads(self)

    def time_select(self, rule, psi):
        self.pick(self.state)


class FixedBlockSelection:
    """One selection of each greedy rule on sorted fixed blocks (500 x 3000 at 5%), with
    the L1 term (GSQ skips the zero residuals) and without it (GSQ reads every block's
    root of H_b^+), at the point reached by 10 GSL/Newton iterations; the first call
    (block bounds, pseudo-inverses, roots) is made in setup."""

    params = (["gs", "gsq"], ["l1", "smooth"], [5, 50])
    param_names = ["rule", "psi", "block_size"]

    def setup(self, rule, psi, block_size):
        from sparseopt.optimize.bcd.partitions import PARTITIONS
        from sparseopt.optimize.bcd.selection import SELECTION_RULES

        self._limits = threadpool_limits(1)
        self.state = _selection_state(psi, block_size)
        self.state.set_partition(PARTITIONS["sorted"](self.state.objective, block_size))
        self.pick = SELECTION_RULES[rule]().fixed
        self.pick(self.state)

    def teardown(self, rule, psi, block_size):
        release_threads(self)

    def time_select(self, rule, psi, block_size):
        self.pick(self.state)


class DenseEstimatorPath:
    """The fixed costs of a mostly-zero dense design on the BCD estimator path (500 x 3000
    at 5%): its CSC copy (one compiled pass, C or Fortran order, against scipy's
    conversion) and a whole ``SparseLinearRegression(solver=BlockCoordinateDescent(GSQ,
    Newton))`` fit with dense and with CSC input (the difference is what dense input
    adds)."""

    params = (["C", "F"],)
    param_names = ["order"]
    timeout = 180

    def setup(self, order):
        import scipy.sparse as sp

        self._limits = threadpool_limits(1)
        prob = make_bcd_least_squares(500, 3000, density=0.05, random_state=0)
        self.X = np.array(prob.A.toarray(), order=order)
        self.X_csc, self.y = sp.csc_matrix(prob.A), prob.y
        self.alpha = 0.05 * float(np.max(np.abs(prob.A.T @ prob.y))) / 500
        self.sp = sp

    def teardown(self, order):
        release_threads(self)

    def time_dense_to_csc_compiled(self, order):
        from sparseopt.optimize.bcd.objectives import _dense_to_sparse

        _dense_to_sparse(self.X, max_density=0.5, check_finite=False)

    def time_dense_to_csc_scipy(self, order):
        self.sp.csc_matrix(self.X)

    def _fit(self, X):
        import warnings

        from sparseopt.linear_model import SparseLinearRegression

        solver = BlockCoordinateDescent(partition="variable", selection="gsq",
                                        update="newton", block_size=50)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            SparseLinearRegression(penalty="l1", alpha=self.alpha, tol=1e-7,
                                   fit_intercept=False, solver=solver).fit(X, self.y)

    def time_fit_dense(self, order):
        self._fit(self.X)

    def time_fit_csc(self, order):
        self._fit(self.X_csc)
