"""Optimal-transport metrics: marginal errors and the entropic objective."""
from __future__ import annotations

import array_api_compat

__all__ = ["marginal_error", "entropic_ot_objective"]


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
    a, b = xp.asarray(a, dtype=plan.dtype), xp.asarray(b, dtype=plan.dtype)
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
    positive = plan > 0
    safe = xp.where(positive, plan, xp.ones_like(plan))
    entropy_term = xp.sum(xp.where(positive, plan * xp.log(safe), xp.zeros_like(plan)))
    return float(xp.sum(plan * M) + reg * entropy_term)
