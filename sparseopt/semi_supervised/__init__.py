"""Graph-based semi-supervised learning (label propagation by block coordinate descent)."""

__all__ = []
