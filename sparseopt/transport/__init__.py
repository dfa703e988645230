"""Entropic optimal transport (Sinkhorn, log-domain Sinkhorn, Sinkhorn-Newton-Sparse).

- :func:`sinkhorn`: POT-compatible functional API returning an :class:`OTResult`;
- :class:`SinkhornTransport`: estimator mapping source samples onto a target
  point cloud by barycentric projection of the entropic plan.
"""
from ._result import OTResult
from .sinkhorn import sinkhorn
from .sinkhorn_transport import SinkhornTransport

__all__ = ["OTResult", "SinkhornTransport", "sinkhorn"]
