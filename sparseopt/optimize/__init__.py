"""Solvers shared across fields, each returning a :class:`SolverResult`.

* working-set coordinate descent for sparse regression (``working_set_cd``)
  over a datafit of :mod:`sparseopt.optimize.datafits` and a penalty of
  :mod:`sparseopt.optimize.penalties` (the problem protocol),
* block coordinate descent with greedy rules (``BlockCoordinateDescent``) and
  its smooth objectives / separable penalties.
"""
from .bcd.objectives import graph_quadratic, least_squares, logistic, softmax_regression
from .bcd.penalties import SeparablePenalty, box, l1_penalty, nonnegative, nonnegative_l1
from ._result import SolverResult
from .bcd import BCDResult, BlockCoordinateDescent, block_coordinate_descent
from . import datafits, penalties
from .working_set_cd import (
    PathCache,
    duality_gap,
    enet_duality_gap,
    enet_working_set_cd,
    prox_gradient,
    working_set_cd,
)

__all__ = [
    "SolverResult",
    # the problem protocol and working-set coordinate descent (a name listed here needs
    # a fuzz case or a reason in tests/_fuzz_cases)
    "datafits", "penalties", "PathCache",
    "working_set_cd", "enet_working_set_cd", "prox_gradient", "duality_gap",
    "enet_duality_gap",
    # block coordinate descent
    "BlockCoordinateDescent", "BCDResult", "block_coordinate_descent", "least_squares",
    "logistic", "softmax_regression", "graph_quadratic", "SeparablePenalty", "l1_penalty",
    "nonnegative", "nonnegative_l1", "box",
]
