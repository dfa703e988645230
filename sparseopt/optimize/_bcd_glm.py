"""Former location of :func:`sparseopt.optimize.bcd.bcd_linear_model` (kept importable)."""
from .bcd.glm import bcd_linear_model

__all__ = ["bcd_linear_model"]
