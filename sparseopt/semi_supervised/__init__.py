"""Graph-based semi-supervised learning (label propagation by block coordinate descent)."""
from .label_propagation import LabelPropagation

__all__ = ["LabelPropagation"]
