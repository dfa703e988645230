"""Entropic optimal transport: ``sinkhorn(a, b, M, reg, method=...)``.

Solves POT's problem ``min_P <P, M> + reg * sum_ij P_ij log P_ij`` subject to
``P 1 = a`` and ``P^T 1 = b`` with three methods registered in
:data:`METHODS`:

* ``"sinkhorn"``: kernel-form Sinkhorn-Knopp scaling, ``u = a / (K v)``,
  ``v = b / (K^T u)`` with ``K = exp(-M / reg)`` (POT's ``sinkhorn_knopp``);
* ``"log"``: the same sweeps on the potentials, with log-sum-exp
  (POT's ``sinkhorn_log``), safe at any ``reg``;
* ``"sns"``: Sinkhorn-Newton-Sparse (Tang et al., ICLR 2024): log-domain
  warm-up then Newton steps on the concave dual with a sparsified Hessian
  (``sparseopt/transport/sns.py``).

The Sinkhorn stages are written against the array namespace of ``M``
(NumPy, torch, CuPy, array-api-strict, ...) and run on its device.
"""
from __future__ import annotations

import math
import numbers
import time
import warnings

import array_api_compat
import numpy as np

from ..utils.validation import Interval, StrOptions, validate_params
from ._result import OTResult

__all__ = ["sinkhorn"]


# ----------------------------------------------------------------- helpers
def _logsumexp(xp, A, axis):
    """log(sum(exp(A), axis)) with the max subtracted; rows of all -inf give -inf."""
    top = xp.max(A, axis=axis, keepdims=True)
    top = xp.where(xp.isfinite(top), top, xp.zeros_like(top))
    # terms below exp(floor) ~ 1e-300 cannot change the sum (its largest term is 1); the
    # floor keeps exp off its slow underflow path (~20x slower on NumPy at small reg)
    floor = math.log(xp.finfo(A.dtype).smallest_normal) + 8.0
    shifted = xp.clip(A - top, min=floor)
    return xp.log(xp.sum(xp.exp(shifted), axis=axis)) + xp.squeeze(top, axis=axis)


def _safe_log(xp, x):
    """log(x) with log(0) = -inf and no floating-point warning."""
    positive = x > 0
    logs = xp.log(xp.where(positive, x, xp.ones_like(x)))
    return xp.where(positive, logs, xp.full_like(x, -float("inf")))


def _l1(xp, x):
    return float(xp.sum(xp.abs(x)))


def _record(history, verbose, t0, **entry):
    entry["time"] = time.perf_counter() - t0
    history.append(entry)
    if verbose:
        extras = "".join(f" {k}={v:.3g}" if isinstance(v, float) else f" {k}={v}"
                         for k, v in entry.items()
                         if k not in ("stage", "iteration", "marginal_error", "time"))
        print(f"[{entry['stage']:>8}] it {entry['iteration']:5d}  "
              f"marginal error {entry['marginal_error']:.3e}{extras}")


def _plan_from_potentials(xp, f, g, M, reg):
    # P_ij = exp((f_i + g_j - M_ij) / reg)
    return xp.exp((f[:, None] + g[None, :] - M) / reg)


# ------------------------------------------------------------- the stages
def _sinkhorn_scaling(a, b, M, reg, *, xp, tol, max_iter, history, verbose, t0):
    """Kernel-form Sinkhorn-Knopp; returns ``(f, g, n_iter, numerical_error)``.

    The row marginal of the current scalings, ``u * (K v)``, comes for free
    with the ``u`` update, so the l1 error is checked at every sweep.
    """
    n, m = M.shape
    K = xp.exp(-M / reg)
    # POT's initial scalings, so that both libraries follow the same iterates
    u = xp.ones(n, dtype=M.dtype, device=array_api_compat.device(M)) / n
    v = xp.ones(m, dtype=M.dtype, device=array_api_compat.device(M)) / m
    col_err = _l1(xp, v * (u @ K) - b)
    numerical_error = False
    it = 0
    for it in range(max_iter + 1):
        Kv = K @ v
        err = _l1(xp, u * Kv - a) + col_err
        _record(history, verbose, t0, stage="sinkhorn", iteration=it, marginal_error=err)
        if err <= tol or it == max_iter:
            break
        # a positive mass facing an underflowed kernel row: the scaling blows up
        if not err < float("inf") or bool(xp.any((Kv <= 0) & (a > 0))):
            numerical_error = True
            break
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            u_new = a / xp.where(Kv > 0, Kv, xp.ones_like(Kv))
            KTu = u_new @ K
            v_new = b / xp.where(KTu > 0, KTu, xp.ones_like(KTu))
        if (bool(xp.any((KTu <= 0) & (b > 0))) or not bool(xp.all(xp.isfinite(u_new)))
                or not bool(xp.all(xp.isfinite(v_new)))):
            numerical_error = True  # keep the last finite scalings
            break
        u, v = u_new, v_new
        col_err = 0.0
    f = reg * _safe_log(xp, u)
    g = reg * _safe_log(xp, v)
    # the plan as the iterations see it: where K underflowed, exp((f + g - M)/reg) can
    # differ from (and even overflow) u_i K_ij v_j, so return the kernel form (as POT)
    plan = u[:, None] * K * v[None, :]
    return f, g, it, numerical_error, plan


def _log_sweeps(a, b, M, reg, f, g, *, xp, log_a, log_b, tol, max_iter, history, verbose,
                t0, stage="log", first_iteration=0, check_columns=True):
    """Log-domain Sinkhorn sweeps from ``(f, g)``; returns ``(f, g, sweeps, err)``.

    ``f_i <- reg (log a_i - LSE_j((g_j - M_ij) / reg))`` then the same for
    ``g``: exactly ``f <- f + reg (log a - log P1)``. The row error of the
    current potentials is read off the same log-sum-exp, so each sweep
    costs two passes over ``M``.
    """
    col_err = 0.0
    if check_columns:  # the column marginal is exact only after a g-update
        col = xp.exp(g / reg + _logsumexp(xp, (f[:, None] - M) / reg, axis=0))
        col_err = _l1(xp, col - b)
    err = float("inf")
    sweeps = 0
    for sweeps in range(max_iter + 1):
        lse_row = _logsumexp(xp, (g[None, :] - M) / reg, axis=1)
        err = _l1(xp, xp.exp(f / reg + lse_row) - a) + col_err
        _record(history, verbose, t0, stage=stage, iteration=first_iteration + sweeps,
                marginal_error=err)
        if err <= tol or sweeps == max_iter:
            break
        f = reg * (log_a - lse_row)
        g = reg * (log_b - _logsumexp(xp, (f[:, None] - M) / reg, axis=0))
        col_err = 0.0
    return f, g, sweeps, err


def _solve_scaling(a, b, M, reg, *, xp, tol, max_iter, history, verbose, t0, **_):
    f, g, n_iter, numerical_error, plan = _sinkhorn_scaling(
        a, b, M, reg, xp=xp, tol=tol, max_iter=max_iter, history=history, verbose=verbose,
        t0=t0)
    if numerical_error:
        # M is shifted to min 0, so K <= 1: the failure is a kernel entry (or a scaling)
        # leaving the floating-point range, named as it happened
        K_min = float(xp.min(xp.exp(-M / reg)))
        what = ("the kernel exp(-M / reg) underflows" if K_min == 0.0 else
                "the scalings u = a / (K v), v = b / (K^T u) overflow")
        warnings.warn(
            f"sinkhorn(method='sinkhorn'): numerical errors at iteration {n_iter}: {what} at "
            f"reg={reg:g}; the last finite iterate is returned. "
            "Use method='log' or method='sns' for small reg.", RuntimeWarning, stacklevel=4)
    return f, g, n_iter, 0, plan


def _solve_log(a, b, M, reg, *, xp, tol, max_iter, history, verbose, t0, **_):
    f = xp.zeros(M.shape[0], dtype=M.dtype, device=array_api_compat.device(M))
    g = xp.zeros(M.shape[1], dtype=M.dtype, device=array_api_compat.device(M))
    f, g, n_iter, _ = _log_sweeps(a, b, M, reg, f, g, xp=xp, log_a=_safe_log(xp, a),
                                  log_b=_safe_log(xp, b), tol=tol, max_iter=max_iter,
                                  history=history, verbose=verbose, t0=t0)
    return f, g, n_iter, 0, None


def _solve_sns(a, b, M, reg, **kwargs):
    from .sns import sinkhorn_newton_sparse

    return (*sinkhorn_newton_sparse(a, b, M, reg, **kwargs), None)


#: method name -> solver(a, b, M, reg, **options) -> (f, g, n_iter, n_newton, plan or None)
METHODS = {"sinkhorn": _solve_scaling, "log": _solve_log, "sns": _solve_sns}
_DEFAULT_MAX_ITER = {"sinkhorn": 1000, "log": 1000, "sns": 100}


# ------------------------------------------------------------ validation
def _namespace(a, b, M):
    arrays = [x for x in (a, b, M) if array_api_compat.is_array_api_obj(x)
              and not isinstance(x, (int, float))]
    if not arrays:
        return array_api_compat.array_namespace(np.asarray(0.0))
    try:
        return array_api_compat.array_namespace(*arrays)
    except TypeError as exc:
        raise ValueError(
            "a, b and M use different array namespaces "
            f"({sorted({type(x).__module__ for x in arrays})}); pass arrays from one library."
        ) from exc


def _as_array(xp, x, name, device, dtype=None):
    if isinstance(x, (list, tuple)) or (not array_api_compat.is_array_api_obj(x)):
        try:
            x = np.asarray(x)
        except Exception as exc:  # ragged lists and the like
            raise ValueError(f"{name} must be array-like, got {type(x).__name__}.") from exc
        if x.dtype.kind in "OUS":
            raise ValueError(f"{name} must hold numbers, got dtype {x.dtype}.")
        if x.dtype.kind == "c":
            raise ValueError(f"{name} must be real, got complex values.")
        x = xp.asarray(x, device=device) if x.size or dtype is None else xp.asarray(
            x, dtype=dtype, device=device)
    elif xp.isdtype(x.dtype, "complex floating"):
        raise ValueError(f"{name} must be real, got complex values.")
    if dtype is not None:
        x = xp.astype(x, dtype)
    return x


def _check_problem(a, b, M, reg):
    xp = _namespace(a, b, M)
    device = array_api_compat.device(M) if array_api_compat.is_array_api_obj(M) else None
    M = _as_array(xp, M, "M", device)
    if device is None:
        device = array_api_compat.device(M)
    if M.ndim not in (2, 3):
        raise ValueError(f"M must be a 2-D cost matrix or a 3-D stack of them, got "
                         f"{M.ndim} dimension(s).")
    if not (xp.isdtype(M.dtype, "real floating")):
        M = xp.astype(M, xp.float64)
    elif M.dtype == getattr(xp, "float16", None):
        # float16 has 3 significant digits and overflows at 65504: at least float32
        M = xp.astype(M, xp.float32)
    if M.shape[-1] == 0 or M.shape[-2] == 0 or (M.ndim == 3 and M.shape[0] == 0):
        raise ValueError(f"M must be non-empty, got shape {tuple(M.shape)}.")
    if not bool(xp.all(xp.isfinite(M))):
        raise ValueError("M contains NaN or inf; entropic OT needs finite costs.")
    if (isinstance(reg, (bool, np.bool_)) or not isinstance(reg, numbers.Real)
            or not np.isfinite(reg) or reg <= 0):
        raise ValueError(f"reg must be a positive finite float, got {reg!r}.")
    n, m = M.shape[-2], M.shape[-1]
    batch = M.shape[0] if M.ndim == 3 else None
    out = []
    for name, w, size in (("a", a, n), ("b", b, m)):
        w = _as_array(xp, w, name, device)
        if w.ndim == 1 and w.shape[0] == 0:
            w = xp.full(size, 1.0 / size, dtype=M.dtype, device=device)
        w = xp.astype(w, M.dtype)
        shapes = [(size,)] + ([(batch, size)] if batch is not None else [])
        if tuple(w.shape) not in shapes:
            raise ValueError(
                f"{name} must have shape {' or '.join(map(str, shapes))} to match M of shape "
                f"{tuple(M.shape)}, got {tuple(w.shape)}.")
        if not bool(xp.all(xp.isfinite(w))):
            raise ValueError(f"{name} contains NaN or inf.")
        if bool(xp.any(w < 0)):
            raise ValueError(f"{name} must be non-negative (it is a histogram of masses).")
        if bool(xp.any(xp.sum(w, axis=-1) <= 0)):
            raise ValueError(f"{name} must have a positive total mass.")
        if batch is not None and w.ndim == 1:
            w = xp.broadcast_to(w[None, :], (batch, size))
        out.append(w)
    a, b = out
    mass_a, mass_b = xp.sum(a, axis=-1), xp.sum(b, axis=-1)
    if bool(xp.any(xp.abs(mass_a - mass_b) > 1e-6 * xp.maximum(mass_a, mass_b))):
        raise ValueError(
            "a and b must have the same total mass (balanced transport); got "
            f"{float(xp.max(mass_a)):.8g} and {float(xp.max(mass_b)):.8g}. Normalise them.")
    return xp, a, b, M


# -------------------------------------------------------------- public API
_PARAMS = {
    "method": [StrOptions({"sinkhorn", "log", "sns"})],
    "tol": [Interval(numbers.Real, 0, None, closed="left")],
    "max_iter": [Interval(numbers.Integral, 0, None, closed="left"), None],
    "warmup_iter": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
    "warmup_tol": [Interval(numbers.Real, 0, None, closed="neither")],
    "sparsity": [Interval(numbers.Real, 0, None, closed="neither")],
    "cg_rtol": [Interval(numbers.Real, 0, 1, closed="neither")],
    "verbose": ["verbose"],
    "warn": ["boolean"],
}


def _finish(xp, a, b, M, reg, f, g, plan=None):
    """Plan, marginal error, cost, objective and finite potentials from (f, g)."""
    if plan is None:
        plan = _plan_from_potentials(xp, f, g, M, reg)
    row, col = xp.sum(plan, axis=1), xp.sum(plan, axis=0)
    marginal_error = _l1(xp, row - a) + _l1(xp, col - b)
    # zero-mass bins have f = -inf; report the soft c-transform instead (finite)
    if bool(xp.any(a == 0)):
        f = xp.where(a > 0, f, -reg * _logsumexp(xp, (g[None, :] - M) / reg, axis=1))
    if bool(xp.any(b == 0)):
        g = xp.where(b > 0, g, -reg * _logsumexp(xp, (f[:, None] - M) / reg, axis=0))
    cost = xp.sum(plan * M)
    # <P, M> + reg sum P log P = sum_i (P1)_i f_i + sum_j (P^T 1)_j g_j since log P = (f+g-M)/reg
    value = xp.sum(row * f) + xp.sum(col * g)
    return plan, f, g, marginal_error, cost, value


def _solve_one(xp, a, b, M, reg, method, options):
    """Solve one problem in normalised form and map the solution back.

    The plan is invariant to a constant shift of ``M`` and proportional to
    the common mass of ``a`` and ``b``, so the solvers see ``M - min(M)``
    (kernel entries <= 1: no overflow however negative the costs) and
    histograms of mass 1 (the tolerance is relative to the mass). With
    ``c = min(M)`` and ``s = sum(a)``: ``P = s P_1``, ``f = f_1 + c +
    reg log s``, ``g = g_1``.
    """
    t0 = time.perf_counter()
    history = []
    shift = float(xp.min(M))
    mass = float(xp.sum(a))
    a_1, b_1, M_1 = a / mass, b / mass, M - shift
    if isinstance(M_1, np.ndarray):  # one memory layout for the compiled SNS kernels
        M_1 = np.ascontiguousarray(M_1)
    f, g, n_iter, n_newton, plan = METHODS[method](a_1, b_1, M_1, reg, xp=xp, history=history,
                                                   t0=t0, **options)
    plan, f, g, error_1, cost, value = _finish(xp, a_1, b_1, M_1, reg, f, g, plan)
    f = f + (shift + reg * math.log(mass))
    row_mass = float(xp.sum(plan))
    value = mass * (float(value) + (shift + reg * math.log(mass)) * row_mass)
    cost = mass * (float(cost) + shift * row_mass)
    device = array_api_compat.device(M)
    value = xp.asarray(value, dtype=M.dtype, device=device)
    cost = xp.asarray(cost, dtype=M.dtype, device=device)
    return dict(plan=plan * mass, f=f, g=g, marginal_error=error_1 * mass, relative_error=error_1,
                cost=cost, value=value, n_iter=int(n_iter), n_newton=int(n_newton),
                history=history, seconds=time.perf_counter() - t0)


def sinkhorn(a, b, M, reg, method="sns", *, tol=1e-9, max_iter=None, warmup_iter="auto",
             warmup_tol=3e-2, sparsity=10.0, cg_rtol=1e-10, verbose=False, warn=True):
    r"""Entropic optimal transport with Sinkhorn, log-domain Sinkhorn or Sinkhorn-Newton-Sparse.

    Solves, as POT's ``ot.sinkhorn`` (same argument order and meaning),

    .. math::

        \min_{P \geq 0} \langle P, M \rangle + \mathrm{reg} \sum_{ij} P_{ij} \log P_{ij}
        \quad \text{s.t.} \quad P \mathbf{1} = a,\ P^\top \mathbf{1} = b .

    Parameters
    ----------
    a : array-like of shape (n,) or (batch, n)
        Source histogram (non-negative). An empty list means uniform weights.
    b : array-like of shape (m,) or (batch, m)
        Target histogram, same total mass as ``a``. Empty means uniform.
    M : array of shape (n, m) or (batch, n, m)
        Cost matrix, or a stack of cost matrices solved one after the other.
        Its array namespace (NumPy, torch, CuPy, array-api-strict, ...) and
        device are used for the computation and for the outputs.
    reg : float
        Entropic regularisation (POT's ``reg``; the paper's ``1 / eta``).
    method : {"sns", "sinkhorn", "log"}, default="sns"
        ``"sinkhorn"``: kernel scaling (fast per sweep, underflows at small
        ``reg``: it then stops with a warning). ``"log"``: log-domain sweeps
        (stable at any ``reg``). ``"sns"``: log-domain warm-up then sparse
        Newton steps (fewest iterations at small ``reg``).
    tol : float, default=1e-9
        Stop when the l1 marginal error ``||P1 - a||_1 + ||P^T 1 - b||_1``
        is at most ``tol`` times the total mass ``sum(a)`` (for probability
        vectors, the error itself; POT checks the l2 norm of the column
        error).
    max_iter : int, optional
        Cap on the main stage: Sinkhorn sweeps for ``"sinkhorn"``/``"log"``
        (default 1000, POT's ``numItermax``), Newton steps for ``"sns"``
        (default 100).
    warmup_iter : int or "auto", default="auto"
        Sinkhorn sweeps before the first Newton step (``"sns"`` only).
        ``"auto"``: sweep until the l1 marginal error is at most
        ``warmup_tol`` (at most 5000 sweeps), which adapts the warm-up to the
        problem (about 20 sweeps on random assignment, a few hundred on grid
        densities and l1 costs; see the user guide). An int gives a fixed
        count (the spec's default is 20).
    warmup_tol : float, default=3e-2
        Marginal error ending an ``"auto"`` warm-up.
    sparsity : float, default=10.0
        Plan entries kept in the sparsified Hessian, per row: the
        ``ceil(sparsity * max(n, m))`` largest entries of ``P`` are kept
        (the spec's ``keep_per_row``; Hessian density about
        ``sparsity / min(n, m)``). The count kept doubles (up to ``n m``)
        after any full Newton step (step length 1) that fails to halve the
        marginal error, and after two Newton steps in a row rejected by the
        line search (each replaced by a Sinkhorn sweep).
    cg_rtol : float, default=1e-10
        Floor of the relative residual at which conjugate gradients stop
        (``"sns"``). The effective tolerance is the inexact-Newton forcing
        term ``max(cg_rtol, min(0.1, ||grad||_1))``, with ``||grad||_1`` the
        current l1 marginal error: loose far from the solution, ``cg_rtol``
        only once the marginal error is below it.
    verbose : bool or int, default=False
        Print the marginal error at every iteration.
    warn : bool, default=True
        Emit a ``ConvergenceWarning`` when ``tol`` is not reached.

    Returns
    -------
    result : OTResult
        ``plan``, ``cost``, ``value``, ``f``, ``g``, ``marginal_error``,
        ``n_iter``, ``n_newton``, ``converged``, ``history``; for a batch
        the arrays gain a leading batch axis. See :class:`OTResult`.

    Raises
    ------
    ValueError
        On NaN/inf costs, negative or mismatched histograms, unequal total
        masses, a non-positive ``reg`` or arrays from different namespaces.

    See Also
    --------
    SinkhornTransport : the estimator (barycentric mapping of point clouds).
    ot.sinkhorn : POT's function with the same arguments.

    Notes
    -----
    The dual potentials satisfy ``P_ij = exp((f_i + g_j - M_ij) / reg)``.
    ``"sns"`` maximises the concave dual
    ``D(f, g) = <a, f> + <b, g> - reg (sum_ij P_ij - sum_i a_i)`` by Newton
    steps whose Hessian ``(1/reg) [[diag(P1), P_s], [P_s^T, diag(P^T 1)]]``
    keeps the exact diagonal and only the largest plan entries ``P_s``,
    solved by Jacobi-preconditioned conjugate gradients, with an Armijo line
    search that falls back to a Sinkhorn sweep (Tang et al., "Accelerating
    Sinkhorn Algorithm with Sparse Newton Iterations", ICLR 2024). On NumPy
    input its Newton stage runs in compiled kernels; other namespaces use a
    dense masked Hessian written with the array API (on the device).

    float32 costs are solved in float32, which cannot reach tolerances
    much below ``1e-6``; float16 costs are solved in float32.

    The solvers work on a normalised problem: ``M - min(M)`` (the plan does
    not change under a constant shift of the costs, and the shifted kernel
    ``exp(-(M - min M) / reg)`` cannot overflow) and histograms divided by
    their total mass (the plan is proportional to it). The solution is
    mapped back exactly: ``plan``, ``cost``, ``value`` and
    ``marginal_error`` are those of the caller's problem, ``f`` absorbs
    ``min(M) + reg log(sum(a))``, and ``certificate`` is the marginal error
    relative to the mass.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.transport import sinkhorn
    >>> rng = np.random.default_rng(0)
    >>> M = rng.uniform(size=(50, 50))
    >>> res = sinkhorn([], [], M, reg=0.01, method="sns")
    >>> res.converged, res.marginal_error <= 1e-9
    (True, True)
    >>> ref = sinkhorn([], [], M, reg=0.01, method="log", max_iter=5000)
    >>> bool(np.abs(res.plan - ref.plan).max() < 1e-9)
    True
    """
    validate_params(dict(method=method, tol=tol, max_iter=max_iter, warmup_iter=warmup_iter,
                         warmup_tol=warmup_tol,
                         sparsity=sparsity, cg_rtol=cg_rtol, verbose=verbose, warn=warn),
                    _PARAMS, owner="sinkhorn")
    xp, a, b, M = _check_problem(a, b, M, reg)
    reg = float(reg)
    if max_iter is None:
        max_iter = _DEFAULT_MAX_ITER[method]
    options = dict(tol=tol, max_iter=max_iter, verbose=verbose)
    if method == "sns":
        options.update(warmup_iter=warmup_iter, warmup_tol=warmup_tol, sparsity=sparsity, cg_rtol=cg_rtol)
    if M.ndim == 2:
        parts = [_solve_one(xp, a, b, M, reg, method, options)]
    else:
        parts = [_solve_one(xp, a[k, :], b[k, :], M[k, ...], reg, method, options)
                 for k in range(M.shape[0])]
    errors = [p["marginal_error"] for p in parts]
    relative_errors = [p["relative_error"] for p in parts]
    converged = all(e <= tol for e in relative_errors)

    def stacked(key):
        if M.ndim == 2:
            return parts[0][key]
        return xp.stack([p[key] for p in parts])

    batch = M.ndim == 3
    marginal_error = (xp.asarray(errors, dtype=xp.float64, device=array_api_compat.device(M))
                      if batch else errors[0])
    result = OTResult(
        x=stacked("plan"), plan=stacked("plan"), cost=stacked("cost"), value=stacked("value"),
        f=stacked("f"), g=stacked("g"), marginal_error=marginal_error,
        n_iter=max(p["n_iter"] for p in parts), n_newton=max(p["n_newton"] for p in parts),
        converged=converged, certificate=max(relative_errors),
        certificate_name="l1 marginal error / total mass",
        tol=tol, history=parts[0]["history"] if not batch else [p["history"] for p in parts],
        method=method, reg=reg, seconds=sum(p["seconds"] for p in parts))
    if not batch:
        result["cost"] = float(result["cost"]) if xp is _np_compat() else result["cost"]
        result["value"] = float(result["value"]) if xp is _np_compat() else result["value"]
    if warn and not converged:
        from ..utils.validation import warn_not_converged

        warn_not_converged(f"sinkhorn(method={method!r})", n_iter=result.n_iter,
                           certificate=max(relative_errors), tol=tol,
                           certificate_name="l1 marginal error / total mass",
                           advice="Increase max_iter (or warmup_iter for 'sns'), or use "
                                  "method='log'/'sns' if 'sinkhorn' hit numerical errors.")
    return result


def _np_compat():
    import array_api_compat.numpy as np_compat

    return np_compat
