"""Linear DAG estimation (CoLiDE, DAGMA) on one log-det path-following engine.

- :class:`CoLiDE`: concomitant scale, equal (``noise="ev"``) or per-node
  (``noise="nv"``) noise variances.
- :class:`DAGMA`: the same engine with the scale held at 1 (l2 or logistic).
- :func:`logdet_acyclicity`, :func:`path_following`: the engine.
- :func:`bootstrap_edges`, :func:`threshold_to_dag`, :func:`is_dag`.
- :func:`sem_log_likelihood`: the scorer for ``GridSearchCV``.
"""
from ._graph import is_dag, threshold_to_dag
from ._path_following import DAGResult, PathOptions, logdet_acyclicity, path_following
from .bootstrap import bootstrap_edges
from .colide import CoLiDE
from .dagma import DAGMA
from .scoring import sem_log_likelihood

__all__ = [
    "CoLiDE",
    "DAGMA",
    "DAGResult",
    "PathOptions",
    "bootstrap_edges",
    "is_dag",
    "logdet_acyclicity",
    "path_following",
    "sem_log_likelihood",
    "threshold_to_dag",
]
