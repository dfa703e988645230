"""Input checks of the causal functions: every array is validated before a kernel reads it."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

__all__ = ["check_square", "check_vector", "check_mask"]


def check_square(A, name, *, dtype=np.float64, allow_empty=False):
    """A finite, real, 2-D square array (a copy is never made unless needed)."""
    if sp.issparse(A):
        A = A.toarray()
    A = check_array(A, dtype=dtype, input_name=name, ensure_min_samples=0 if allow_empty else 1,
                    ensure_min_features=0 if allow_empty else 1)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) matrix, got shape {A.shape}.")
    return A


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


def check_mask(mask, name, d):
    """A (d, d) 0/1 mask as float64 (a fresh array: kernels may write to it)."""
    if sp.issparse(mask):
        mask = mask.toarray()
    arr = np.asarray(mask)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a 0/1 (or boolean) matrix, got dtype {arr.dtype}.")
    if arr.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}) to match Sigma, got {arr.shape}.")
    arr = arr.astype(np.float64)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold only 0 and 1 (or booleans).")
    return arr.copy()
