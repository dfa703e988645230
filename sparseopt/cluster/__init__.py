"""Clustering heterogeneous data (SDP K-means, iLA-SDP)."""

__all__ = []
