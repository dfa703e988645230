"""Linear DAG estimation (CoLiDE, DAGMA) on one log-det path-following engine.

- :class:`CoLiDE`: concomitant scale, equal (``noise="ev"``) or per-node
  (``noise="nv"``) noise variances.
- :class:`DAGMA`: the same engine with the scale held at 1 (l2 or logistic).
- :func:`logdet_acyclicity`, :func:`path_following`: the engine.
- :func:`bootstrap_edges`, :func:`threshold_to_dag`, :func:`is_dag`.
"""
from ._graph import is_dag, threshold_to_dag
from ._path_following import DAGResult, logdet_acyclicity, path_following
from .bootstrap import bootstrap_edges
from .colide import CoLiDE
from .dagma import DAGMA

__all__ = [
    "CoLiDE",
    "DAGMA",
    "DAGResult",
    "bootstrap_edges",
    "is_dag",
    "logdet_acyclicity",
    "path_following",
    "threshold_to_dag",
]
