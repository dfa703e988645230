"""Seeded generators of every benchmark problem, each returning its ground truth.

One private module per field (``_regression``, ``_lowrank``, ``_dag``,
``_mixture``, ``_kronecker``, ``_transport``, ``_bcd``, ...) lists its public
names in ``__all__``; they are all collected here. Every generator takes
``random_state`` and returns the ground truth with the data.
"""
from ..utils._collect import collect_private_modules

__all__ = collect_private_modules(__name__, __path__, globals())
