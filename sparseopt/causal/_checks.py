"""Input checks of the causal functions: every array is validated before a kernel reads it."""
from __future__ import annotations

import numpy as np

from ..utils.graph import check_mask, check_square

__all__ = ["check_square", "check_vector", "check_mask"]


def check_vector(v, name, d, *, positive=False, non_negative=False, scalar_ok=False):
    """A finite float vector of length ``d`` (a scalar is broadcast when ``scalar_ok``)."""
    arr = np.asarray(v)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    if arr.ndim == 0 and scalar_ok:
        arr = np.full(d, float(arr))
    if arr.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},) to match the {d} nodes, got "
                         f"{arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf.")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be positive.")
    if non_negative and np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative.")
    return arr.copy()
