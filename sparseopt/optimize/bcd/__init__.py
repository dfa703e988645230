"""Block coordinate descent with greedy rules, matrix updates and message passing.

Solves ``min_x F(x) = f(x) + sum_i psi_i(x_i)`` with ``f`` smooth and ``psi``
separable. One module per axis:

``objectives``
    smooth parts ``f`` (least squares, logistic, softmax, sparse quadratics),
    each keeping its gradient current after a block update;
``penalties``
    separable non-smooth parts ``psi`` (none, L1, bounds);
``partitions``
    fixed block partitions (:data:`~sparseopt.optimize.bcd.partitions.PARTITIONS`);
``selection``
    block selection rules (:data:`~sparseopt.optimize.bcd.selection.SELECTION_RULES`);
``updates``
    block update rules (:data:`~sparseopt.optimize.bcd.updates.UPDATES`);
``solver``
    :class:`BlockCoordinateDescent`, the loop combining the three tables;
``glm``
    the glue that solves the sparse linear models of
    :mod:`sparseopt.linear_model` with a :class:`BlockCoordinateDescent`
    instance (:func:`bcd_linear_model`).

Every public name is also importable from :mod:`sparseopt.optimize`.

References
----------
Nutini, J., Laradji, I. and Schmidt, M. "Let's Make Block Coordinate Descent
Converge Faster: Faster Greedy Rules, Message-Passing, Active-Set Complexity,
and Superlinear Convergence". Journal of Machine Learning Research 23(131), 2022.
"""
from .glm import bcd_linear_model
from .objectives import (
    LinearModelObjective,
    QuadraticObjective,
    graph_quadratic,
    least_squares,
    logistic,
    softmax_regression,
)
from .partitions import PARTITIONS
from .penalties import SeparablePenalty, box, l1_penalty, no_penalty, nonnegative, nonnegative_l1
from .selection import SELECTION_RULES
from .solver import BCDResult, BlockCoordinateDescent, block_coordinate_descent
from .updates import UPDATES

__all__ = [
    "BlockCoordinateDescent", "BCDResult", "block_coordinate_descent",
    "least_squares", "logistic", "softmax_regression", "graph_quadratic",
    "LinearModelObjective", "QuadraticObjective",
    "SeparablePenalty", "no_penalty", "l1_penalty", "nonnegative", "nonnegative_l1", "box",
    "PARTITIONS", "SELECTION_RULES", "UPDATES", "bcd_linear_model",
]
