"""Entropic optimal transport (Sinkhorn, log-domain Sinkhorn, Sinkhorn-Newton-Sparse).

The functions and the estimator follow POT's API, so code written for POT runs
unchanged:

- :func:`sinkhorn`, :func:`sinkhorn2`: ``ot.sinkhorn`` / ``ot.sinkhorn2``
  (the plan or the transport cost, optionally POT's log dict);
- :func:`sinkhorn_batched`: a batch of problems (``b`` of shape ``(m, k)`` or
  ``M`` of shape ``(k, n, m)``) split over joblib workers (``n_jobs``);
- :func:`solve`: ``ot.solve`` for entropic OT, returning an :class:`OTResult`
  (plan, potentials, values, certificate, iterations, history);
- :class:`SinkhornTransport`: ``ot.da.SinkhornTransport``, a scikit-learn
  estimator mapping source samples onto a target point cloud.
"""
from ._result import OTResult
from .batched import sinkhorn_batched
from .sinkhorn import sinkhorn, sinkhorn2
from .sinkhorn_transport import SinkhornTransport, distribution_estimation_uniform
from .solve import solve

__all__ = ["OTResult", "SinkhornTransport", "distribution_estimation_uniform", "sinkhorn",
           "sinkhorn2", "sinkhorn_batched", "solve"]
