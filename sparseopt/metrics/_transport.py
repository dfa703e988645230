"""Optimal-transport metrics: marginal errors and the entropic objective."""
from __future__ import annotations

import math
import numbers

import array_api_compat

__all__ = ["marginal_error", "entropic_ot_objective"]


def _real_finite(xp, x, name):
    """``x`` as a real floating array of its namespace; NaN, inf and complex raise."""
    if xp.isdtype(x.dtype, "complex floating"):
        raise ValueError(f"{name} must be real, got complex values.")
    if not xp.isdtype(x.dtype, "real floating"):
        x = xp.astype(x, xp.float64)
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"{name} contains NaN or inf.")
    return x


def marginal_error(plan, a, b, *, ord=1):
    """Violation of the marginal constraints of a transport plan.

    ``||P 1 - a|| + ||P^T 1 - b||`` in the l1 (``ord=1``, sparseopt's
    stopping rule) or l2 (``ord=2``) norm. Follows the namespace of
    ``plan``; returns a Python float.

    Parameters
    ----------
    plan : array of shape (n, m)
    a : array of shape (n,)
    b : array of shape (m,)
    ord : {1, 2}, default=1

    Returns
    -------
    error : float

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.metrics import marginal_error
    >>> P = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> round(marginal_error(P, np.array([0.5, 0.5]), np.array([0.6, 0.4])), 12)
    0.2
    """
    if ord not in (1, 2):
        raise ValueError(f"ord must be 1 or 2, got {ord!r}.")
    xp = array_api_compat.array_namespace(plan)
    plan = _real_finite(xp, plan, "plan")
    a = _real_finite(xp, xp.asarray(a, device=array_api_compat.device(plan)), "a")
    b = _real_finite(xp, xp.asarray(b, device=array_api_compat.device(plan)), "b")
    a, b = xp.astype(a, plan.dtype), xp.astype(b, plan.dtype)
    if plan.ndim != 2 or a.shape != (plan.shape[0],) or b.shape != (plan.shape[1],):
        raise ValueError(f"plan of shape {tuple(plan.shape)} does not match a {tuple(a.shape)} "
                         f"and b {tuple(b.shape)}.")
    row, col = xp.sum(plan, axis=1) - a, xp.sum(plan, axis=0) - b
    if ord == 1:
        return float(xp.sum(xp.abs(row)) + xp.sum(xp.abs(col)))
    return float(xp.sqrt(xp.sum(row * row)) + xp.sqrt(xp.sum(col * col)))


def entropic_ot_objective(plan, M, reg):
    """POT's entropic objective ``<P, M> + reg * sum_ij P_ij log P_ij`` (with 0 log 0 = 0).

    Parameters
    ----------
    plan, M : arrays of shape (n, m)
    reg : float

    Returns
    -------
    value : float

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.metrics import entropic_ot_objective
    >>> P = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> round(entropic_ot_objective(P, np.ones((2, 2)), 0.1), 6)
    0.930685
    """
    xp = array_api_compat.array_namespace(plan)
    plan = _real_finite(xp, plan, "plan")
    M = _real_finite(xp, xp.asarray(M, device=array_api_compat.device(plan)), "M")
    if plan.ndim != 2 or tuple(M.shape) != tuple(plan.shape):
        raise ValueError(f"plan and M must be 2-D of the same shape, got {tuple(plan.shape)} "
                         f"and {tuple(M.shape)}.")
    if bool(xp.any(plan < 0)):
        raise ValueError("plan must be non-negative (P log P is undefined below 0).")
    if (isinstance(reg, bool) or not isinstance(reg, numbers.Real) or not math.isfinite(reg)
            or reg < 0):
        raise ValueError(f"reg must be a non-negative finite float, got {reg!r}.")
    positive = plan > 0
    safe = xp.where(positive, plan, xp.ones_like(plan))
    entropy_term = xp.sum(xp.where(positive, plan * xp.log(safe), xp.zeros_like(plan)))
    return float(xp.sum(plan * M) + reg * entropy_term)
