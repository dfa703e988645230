"""``solve(M, a, b, reg, ...)``: entropic OT with a rich result, modelled on POT's ``ot.solve``."""
from __future__ import annotations

import array_api_compat
import numpy as np

from ._result import OTResult
from .sinkhorn import _check_problem, _resolve_method, _solve_entropic

__all__ = ["solve"]

_REG_TYPES = ("kl", "entropy")
_GRADS = ("autodiff", "envelope", "last_step", "detach")


def _entropic_values(xp, result, a, b, reg):
    """``(value_kl, value_entropy)`` of the returned plan.

    With ``log P = (f + g - M) / reg`` the entropic objective is
    ``<P, M> + reg sum P log P = <P1, f> + <P^T 1, g>`` (the core's
    ``value``), and ``KL(P | a b^T) = sum P log P - <P1, log a>
    - <P^T 1, log b> - sum P + sum(a) sum(b)``.
    """
    plan = result.plan
    row, col = xp.sum(plan, axis=-1), xp.sum(plan, axis=-2)
    # zero-mass bins carry no plan mass: log(1) = 0 keeps 0 * log 0 out of the sums
    log_a = xp.log(xp.where(a > 0, a, xp.ones_like(a)))
    log_b = xp.log(xp.where(b > 0, b, xp.ones_like(b)))
    entropy = result.value
    # sum(a) sum(b) is the square of the mass: beyond ~1e154 the KL value is out of the
    # float range and is reported as inf (the plan and the certificate are unaffected)
    with np.errstate(over="ignore"):
        kl_shift = (xp.sum(row * log_a, axis=-1) + xp.sum(col * log_b, axis=-1)
                    + xp.sum(row, axis=-1) - xp.sum(a, axis=-1) * xp.sum(b, axis=-1))
    if isinstance(entropy, float):
        return entropy - reg * float(kl_shift), entropy
    return entropy - reg * kl_shift, entropy


def solve(M, a=None, b=None, reg=None, c=None, reg_type="KL", unbalanced=None,
          unbalanced_type="KL", method=None, n_threads=1, max_iter=None, plan_init=None,
          potentials_init=None, tol=None, verbose=False, grad="autodiff", *, warmup_iter="auto",
          warmup_tol=3e-2, sparsity=10.0, cg_rtol=1e-10, warn=True):
    r"""Solve entropic optimal transport and return an :class:`OTResult` (POT's ``ot.solve``).

    Solves, with POT's default ``reg_type="KL"``,

    .. math::

        \min_{P \geq 0} \langle P, M \rangle + \mathrm{reg}\,
        \mathrm{KL}(P \,|\, a b^\top)
        \quad \text{s.t.} \quad P \mathbf{1} = a,\ P^\top \mathbf{1} = b ,

    whose plan is that of ``reg * sum P log P`` (``reg_type="entropy"``;
    the two objectives differ by a constant on the feasible set). Same
    argument names and order as ``ot.solve``; only the balanced entropic
    problem is solved here.

    Parameters
    ----------
    M : array of shape (n, m) or (batch, n, m)
        Cost matrix, or a stack of them solved one after the other. Its
        array namespace (NumPy, torch, CuPy, array-api-strict, ...) and
        device are used for the computation and the outputs; float32 costs
        are solved in float32.
    a, b : array-like of shape (n,) and (m,) (or with a batch axis), optional
        Histograms of equal total mass; uniform when None (or empty).
    reg : float
        Entropic regularisation (required: sparseopt does not solve exact
        OT, POT's ``reg=None``).
    c : None
        Reference measure; only the default ``a b^T`` is supported.
    reg_type : {"KL", "entropy"}, default="KL"
        Which objective ``value`` reports (the plan is the same).
    unbalanced, unbalanced_type : None, str
        Only balanced transport (``unbalanced=None``) is supported.
    method : str, optional
        ``"sns"`` (default): Sinkhorn-Newton-Sparse, log-domain warm-up then
        sparse Newton steps (fewest iterations at small ``reg``).
        ``"sinkhorn"``: kernel scaling (fast per sweep, underflows at small
        ``reg``: it then stops with a warning). ``"sinkhorn_log"`` or
        ``"log"``: log-domain sweeps, stable at any ``reg``;
        ``"sinkhorn_stabilized"`` runs them too.
    n_threads : int, default=1
        Accepted for POT compatibility (POT uses it for exact OT only).
    max_iter : int, optional
        Cap on the main stage: Sinkhorn sweeps (default 1000, POT's) or
        Newton steps for ``"sns"`` (default 100).
    plan_init : None
        Accepted for POT compatibility and ignored (as POT's entropic
        solver does).
    potentials_init : tuple of arrays, optional
        Starting potentials in the units of ``potentials`` (POT's
        ``(log_u, log_v)``).
    tol : float, optional
        Stop when the l1 marginal error ``||P1 - a||_1 + ||P^T 1 - b||_1``
        is at most ``tol`` times the total mass ``sum(a)`` (for probability
        vectors, the error itself; default 1e-9, POT's; POT checks the l2
        norm of the column error only).
    verbose : bool or int, default=False
        Print the marginal error at every iteration.
    grad : str, default="autodiff"
        Accepted for POT compatibility; sparseopt's solvers are not written
        for automatic differentiation (use POT for gradients through OT).
    warmup_iter : int or "auto", default="auto"
        Sinkhorn sweeps before the first Newton step (``"sns"`` only).
        ``"auto"``: sweep until the l1 marginal error is at most
        ``warmup_tol`` (at most 5000 sweeps), which adapts the warm-up to the
        problem (about 20 sweeps on random assignment, a few hundred on grid
        densities and l1 costs; see the user guide). An int gives a fixed
        count (the paper's default is 20).
    warmup_tol : float, default=3e-2
        Marginal error ending an ``"auto"`` warm-up.
    sparsity : float, default=10.0
        Plan entries kept in the sparsified Hessian: the
        ``ceil(sparsity * max(n, m))`` largest entries of ``P`` (the paper's
        ``keep_per_row``; Hessian density about ``sparsity / min(n, m)``).
        The count kept doubles (up to ``n m``) after any full Newton step
        (step length 1) that fails to halve the marginal error, and after
        two Newton steps in a row rejected by the line search (each
        replaced by a Sinkhorn sweep).
    cg_rtol : float, default=1e-10
        Floor of the relative residual at which conjugate gradients stop
        (``"sns"``). The effective tolerance is the inexact-Newton forcing
        term ``max(cg_rtol, min(0.1, ||grad||_1))``, with ``||grad||_1`` the
        current l1 marginal error: loose far from the solution, ``cg_rtol``
        only once the marginal error is below it.
    warn : bool, default=True
        Emit a ``ConvergenceWarning`` when ``tol`` is not reached.

    Returns
    -------
    result : OTResult
        POT's attributes ``plan``, ``potentials``, ``potential_a``,
        ``potential_b``, ``value``, ``value_linear``, ``marginals``,
        ``marginal_a``, ``marginal_b``, ``sparse_plan``, and sparseopt's
        ``f``, ``g`` (potentials in cost units), ``marginal_error``,
        ``n_iter``, ``n_newton``, ``converged``, ``history``; for a batch
        the arrays gain a leading batch axis. See :class:`OTResult`.

    Raises
    ------
    ValueError
        On NaN/inf costs, negative or mismatched histograms, unequal total
        masses, a missing or non-positive ``reg``, an unknown method, an
        unsupported ``c``/``unbalanced``/``reg_type`` or arrays from
        different namespaces.

    See Also
    --------
    sinkhorn : POT's ``ot.sinkhorn`` (the plan, optionally a log dict).
    SinkhornTransport : the estimator (barycentric mapping of point clouds).
    ot.solve : POT's function.

    Notes
    -----
    The dual potentials in cost units satisfy
    ``P_ij = exp((f_i + g_j - M_ij) / reg)``; ``potentials`` is
    ``(f / reg, g / reg)``, the ``(log_u, log_v)`` that ``ot.solve`` returns
    for entropic OT. Potentials are defined up to the shift ``(f + t, g - t)``.

    ``"sns"`` maximises the concave dual
    ``D(f, g) = <a, f> + <b, g> - reg (sum_ij P_ij - sum_i a_i)`` by Newton
    steps whose Hessian ``(1/reg) [[diag(P1), P_s], [P_s^T, diag(P^T 1)]]``
    keeps the exact diagonal and only the largest plan entries ``P_s``,
    solved by Jacobi-preconditioned conjugate gradients, with an Armijo line
    search that falls back to a Sinkhorn sweep [2]_. On NumPy input its
    Newton stage runs in compiled kernels; other namespaces use a dense masked
    Hessian written with the array API (on the device).

    float32 costs are solved in float32, which cannot reach tolerances
    much below ``1e-6``; float16 costs are solved in float32.

    The solvers work on a normalised problem: ``M - min(M)`` (the plan does
    not change under a constant shift of the costs, and the shifted kernel
    ``exp(-(M - min M) / reg)`` cannot overflow) and histograms divided by
    their total mass (the plan is proportional to it). The solution is
    mapped back exactly: ``plan``, ``value``, ``value_linear`` and
    ``marginal_error`` are those of the caller's problem, ``f`` absorbs
    ``min(M) + reg log(sum(a))``, and ``certificate`` is the marginal error
    relative to the mass.

    References
    ----------
    .. [1] M. Cuturi, "Sinkhorn Distances: Lightspeed Computation of Optimal
       Transport", NeurIPS 2013.
    .. [2] X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K. K.
       Thekumparampil, T. Xiao, L. Ying, "Accelerating Sinkhorn Algorithm
       with Sparse Newton Iterations", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.transport import solve
    >>> rng = np.random.default_rng(0)
    >>> M = rng.uniform(size=(50, 50))
    >>> res = solve(M, reg=0.01, method="sns")
    >>> res.converged, res.marginal_error <= 1e-9
    (True, True)
    >>> ref = solve(M, reg=0.01, method="sinkhorn_log", max_iter=5000)
    >>> bool(np.abs(res.plan - ref.plan).max() < 1e-9)
    True
    >>> log_u, log_v = res.potentials
    >>> bool(np.allclose(res.plan, np.exp(log_u[:, None] + log_v[None, :] - M / 0.01)))
    True
    """
    if reg is None or (isinstance(reg, (int, float)) and not isinstance(reg, bool) and reg == 0):
        raise ValueError("solve: reg must be a positive float; sparseopt solves entropic OT "
                         "only (POT's ot.solve solves exact OT when reg is None: use ot.solve "
                         "or ot.emd for it).")
    if c is not None:
        raise ValueError("solve: a reference measure c is not supported; the regularisation is "
                         "KL(P | a b^T) (reg_type='KL') or sum P log P (reg_type='entropy').")
    if unbalanced is not None:
        raise ValueError("solve: unbalanced transport is not supported (unbalanced must be "
                         "None); use POT's ot.solve for it.")
    if not isinstance(reg_type, str) or reg_type.lower() not in _REG_TYPES:
        raise ValueError(f"solve: reg_type must be 'KL' or 'entropy', got {reg_type!r}.")
    if grad not in _GRADS:
        raise ValueError(f"solve: grad must be one of {list(_GRADS)}, got {grad!r}.")
    _, solver = _resolve_method("sns" if method is None else method, "solve")
    xp, a, b, M = _check_problem([] if a is None else a, [] if b is None else b, M, reg)
    init = None
    if potentials_init is not None:
        if len(potentials_init) != 2:
            raise ValueError("solve: potentials_init must be a pair (log_u, log_v), got "
                             f"{len(potentials_init)} item(s).")
        device = array_api_compat.device(M)
        init = [xp.astype(xp.asarray(np.asarray(p) if isinstance(p, (list, tuple)) else p,
                                     device=device), M.dtype) * float(reg)
                for p in potentials_init]
    result = _solve_entropic(a, b, M, reg, solver, tol=1e-9 if tol is None else tol,
                             max_iter=max_iter, warmup_iter=warmup_iter, warmup_tol=warmup_tol,
                             sparsity=sparsity, cg_rtol=cg_rtol, verbose=verbose, warn=warn,
                             init=init)
    value_kl, value_entropy = _entropic_values(xp, result, a, b, result.reg)
    result["value"] = value_kl if reg_type.lower() == "kl" else value_entropy
    result["value_linear"] = result.cost
    result["reg_type"] = reg_type
    result["potentials"] = (result.f / result.reg, result.g / result.reg)
    return result
