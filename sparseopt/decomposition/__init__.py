"""Robust PCA and robust matrix completion."""

__all__ = []
