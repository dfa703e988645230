"""Clustering heterogeneous data (SDP K-means, iLA-SDP)."""
from .ila_sdp import ILASDPClustering, la_sdp
from .sdp_kmeans import SDPKMeans, kmeans_sdp

__all__ = ["ILASDPClustering", "SDPKMeans", "kmeans_sdp", "la_sdp"]
