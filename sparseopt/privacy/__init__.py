"""Sparse linear regression under local differential privacy."""

__all__ = []
