"""The result object of the entropic optimal-transport solvers."""
from __future__ import annotations

import array_api_compat
import numpy as np
import scipy.sparse as sp

from ..optimize import SolverResult
from ..utils._array_api import to_numpy

__all__ = ["OTResult"]


class _SparsePlan(sp.csr_matrix):
    """A CSR plan (POT's ``OTResult.sparse_plan``) that can also be called.

    ``res.sparse_plan`` is the plan with its zero entries dropped, as in
    POT; ``res.sparse_plan(threshold)`` drops the entries ``<= threshold``.
    """

    def __init__(self, arg1, *args, dense=None, **kwargs):
        # scipy builds results of operations through the class with csr_matrix's arguments
        super().__init__(arg1, *args, **kwargs)
        self._dense = dense

    def __call__(self, threshold=0.0):
        return _thresholded(self.toarray() if self._dense is None else self._dense, threshold)


def _thresholded(plan, threshold):
    if plan.ndim == 3:
        return [sp.csr_matrix(np.where(p > threshold, p, 0.0)) for p in plan]
    return sp.csr_matrix(np.where(plan > threshold, plan, 0.0))


class OTResult(SolverResult):
    """Solution of an entropic optimal-transport problem (see :func:`solve`).

    A :class:`~sparseopt.optimize.SolverResult` (a dict with attribute access)
    carrying POT's ``ot.utils.OTResult`` attribute names and sparseopt's
    certificate and history. All arrays are in the namespace and on the
    device of ``M``.

    plan : array of shape (n, m) or (batch, n, m)
        The transport plan ``P`` (also under ``x``).
    potentials : tuple of arrays of shape (n,) and (m,)
        ``(f / reg, g / reg)``: the ``(log_u, log_v)`` that POT's
        ``ot.solve`` returns for entropic OT, so that
        ``P = exp(log_u_i + log_v_j - M_ij / reg)``; also as
        ``potential_a``, ``potential_b``.
    value : float or array of shape (batch,)
        The objective at the returned plan: ``<P, M> + reg KL(P | a b^T)``
        with ``reg_type="KL"`` (POT's default), ``<P, M> + reg sum P log P``
        with ``reg_type="entropy"``. The KL form contains ``sum(a) sum(b)``:
        for masses beyond about 1e154 it is out of the float range (inf).
    value_linear : float or array of shape (batch,)
        The linear transport cost ``<P, M>`` (POT's ``sinkhorn2`` value),
        also under ``cost``; a 0-d array for non-NumPy namespaces.
    marginals, marginal_a, marginal_b : arrays
        ``(P 1, P^T 1)``, computed on access.
    sparse_plan : scipy.sparse.csr_matrix
        The plan as CSR (on the host); ``sparse_plan(threshold)`` drops the
        entries ``<= threshold``.
    f, g : arrays of shape (n,) and (m,) (or with a batch axis)
        Dual potentials in cost units, ``P_ij = exp((f_i + g_j - M_ij) / reg)``.
        The Lyapunov variables of Tang et al. (2024) are ``x = f + reg / 2``,
        ``y = g + reg / 2``. Potentials are defined up to the shift
        ``(f + t, g - t)``. For a zero-mass bin the potential is the soft
        c-transform of the other potential (a finite value) and the plan
        row or column is exactly zero.
    marginal_error : float or array of shape (batch,)
        ``||P 1 - a||_1 + ||P^T 1 - b||_1`` at the returned plan (also under
        ``certificate``).
    n_iter : int
        Total iterations: Sinkhorn sweeps plus Newton steps (for a batch,
        the largest over the problems).
    n_newton : int
        Newton steps (0 for the Sinkhorn methods).
    converged : bool
        Whether ``marginal_error <= tol`` (for every problem of a batch).
    history : list of dict
        One entry per iteration: ``stage`` (``"sinkhorn"``, ``"log"``,
        ``"newton"``, ``"fallback"``), ``iteration``, ``marginal_error``,
        ``time`` (seconds since the start) and, for Newton steps, ``dual``
        (the concave dual objective), ``step``, ``cg_iter``, ``density``
        (fraction of plan entries kept in the Hessian), ``n_fallback``.
    method, reg, reg_type, tol : str, float, str, float
        The arguments used (``method`` is the solver that ran: ``"sinkhorn"``,
        ``"log"`` or ``"sns"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.transport import solve
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = solve(M, reg=0.1, method="sinkhorn_log")
    >>> res.converged, f"{res.value_linear:.2e}"
    (True, '4.54e-05')
    >>> res.sparse_plan(1e-3).nnz
    2
    """

    @property
    def potential_a(self):
        """First potential, ``f / reg`` (POT's name)."""
        return self["potentials"][0]

    @property
    def potential_b(self):
        """Second potential, ``g / reg`` (POT's name)."""
        return self["potentials"][1]

    @property
    def marginal_a(self):
        """Row marginal ``P 1`` of the plan."""
        xp = array_api_compat.array_namespace(self["plan"])
        return xp.sum(self["plan"], axis=-1)

    @property
    def marginal_b(self):
        """Column marginal ``P^T 1`` of the plan."""
        xp = array_api_compat.array_namespace(self["plan"])
        return xp.sum(self["plan"], axis=-2)

    @property
    def marginals(self):
        """``(P 1, P^T 1)``."""
        return self.marginal_a, self.marginal_b

    @property
    def sparse_plan(self):
        """The plan as a ``scipy.sparse`` CSR matrix on the host (POT's attribute).

        Calling it, ``sparse_plan(threshold)``, drops the entries
        ``<= threshold`` (at small ``reg`` about ``n + m`` entries carry all
        but a tiny fraction of the mass). For a batched result, calling it
        gives a list of CSR matrices.
        """
        plan = to_numpy(self["plan"])
        if plan.ndim == 3:
            return lambda threshold=0.0: _thresholded(plan, threshold)
        return _SparsePlan(sp.csr_matrix(plan), dense=plan)
