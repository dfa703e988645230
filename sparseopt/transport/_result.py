"""The result object of the entropic optimal-transport solvers."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..optimize import SolverResult
from ..utils._array_api import to_numpy

__all__ = ["OTResult"]


class OTResult(SolverResult):
    """Solution of an entropic optimal-transport problem (see :func:`sinkhorn`).

    A :class:`~sparseopt.optimize.SolverResult` (a dict with attribute access)
    with these keys, all in the namespace and on the device of ``M``:

    plan : array of shape (n, m) or (batch, n, m)
        The transport plan ``P`` (also under ``x``).
    cost : float or array of shape (batch,)
        The linear transport cost ``<P, M>`` (POT's ``sinkhorn2`` value,
        without the entropy term); a 0-d array for non-NumPy namespaces.
    value : float or array of shape (batch,)
        The regularised objective ``<P, M> + reg * sum(P log P)`` that is
        minimised (POT's objective); it equals the dual value at convergence.
    f, g : arrays of shape (n,) and (m,) (or with a batch axis)
        Dual potentials, ``P_ij = exp((f_i + g_j - M_ij) / reg)``. POT's
        ``sinkhorn_log`` returns ``log_u = f / reg`` and ``log_v = g / reg``.
        The spec's Lyapunov variables are ``x = f + reg / 2``,
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
        Newton steps (0 for ``"sinkhorn"`` and ``"log"``).
    converged : bool
        Whether ``marginal_error <= tol`` (for every problem of a batch).
    history : list of dict
        One entry per iteration: ``stage`` (``"sinkhorn"``, ``"log"``,
        ``"newton"``, ``"fallback"``), ``iteration``, ``marginal_error``,
        ``time`` (seconds since the start) and, for Newton steps, ``dual``
        (the concave dual objective), ``step``, ``cg_iter``, ``density``
        (fraction of plan entries kept in the Hessian), ``n_fallback``.
    method, reg, tol : str, float, float
        The arguments used.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.transport import sinkhorn
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = sinkhorn([], [], M, 0.1, method="log")
    >>> res.converged, f"{res.cost:.2e}"
    (True, '4.54e-05')
    >>> res.sparse_plan(1e-3).nnz
    2
    """

    def sparse_plan(self, threshold=0.0):
        """The plan as a ``scipy.sparse`` CSR matrix (on the host).

        Parameters
        ----------
        threshold : float, default=0.0
            Entries ``<= threshold`` are dropped. At small ``reg`` the plan
            has about ``n + m`` entries carrying all but a tiny fraction of
            the mass.

        Returns
        -------
        plan : scipy.sparse.csr_matrix of shape (n, m)
            For a batched result, a list of CSR matrices.
        """
        plan = to_numpy(self["plan"])
        if plan.ndim == 3:
            return [sp.csr_matrix(np.where(p > threshold, p, 0.0)) for p in plan]
        return sp.csr_matrix(np.where(plan > threshold, plan, 0.0))
