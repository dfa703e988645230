"""Sparse Bayesian learning (classic and Kronecker-structured)."""

__all__ = []
