"""Sparse Bayesian learning (classic and Kronecker-structured).

- :class:`SparseBayesianRegression`: classic SBL (EM or MacKay updates),
  one prior variance per coefficient, several targets sharing a support.
- :class:`KroneckerSBL`: SBL with a Kronecker-structured prior (AM or SVD
  M-step, optional block coupling), for a dense design or a
  :class:`KroneckerDesign` whose full dictionary is never formed.
"""
from ._kronecker_design import KroneckerDesign
from .kronecker_sbl import KroneckerSBL
from .sbl import SparseBayesianRegression

__all__ = ["KroneckerDesign", "KroneckerSBL", "SparseBayesianRegression"]
