"""Metrics: recovery errors, structural Hamming distance, OT marginal errors.

One private module per field (``_recovery``, ``_dag``, ``_transport``, ...)
lists its public names in ``__all__``; they are all collected here.
"""
from ..utils._collect import collect_private_modules

__all__ = collect_private_modules(__name__, __path__, globals())
