"""Entropic optimal transport (Sinkhorn, Sinkhorn-Newton-Sparse)."""

__all__ = []
