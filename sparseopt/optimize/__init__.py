"""Solvers shared across fields, each returning a :class:`SolverResult`."""
from ._result import SolverResult
from .working_set_cd import enet_duality_gap, enet_working_set_cd

__all__ = ["SolverResult", "enet_working_set_cd", "enet_duality_gap"]
