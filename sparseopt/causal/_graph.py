"""The graph helpers live in :mod:`sparseopt.utils.graph` (metrics and datasets use them too)."""
from ..utils.graph import is_dag, threshold_to_dag, topological_order

__all__ = ["is_dag", "topological_order", "threshold_to_dag"]
