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
import array_api_compat.numpy as np_compat
import numpy as np

from ..utils.validation import Interval, StrOptions, validate_params, warn_not_converged
from ._log_domain import (l1_norm, log_sweeps, logsumexp, plan_from_potentials, record_iteration,
                          safe_log)
from ._result import OTResult
from .sns import sinkhorn_newton_sparse

__all__ = ["sinkhorn"]


# ------------------------------------------------------------- the stages
def _sinkhorn_scaling(a, b, M, reg, *, xp, tol, max_iter, history, verbose, t0, init=None):
    """Kernel-form Sinkhorn-Knopp; returns ``(f, g, n_iter, numerical_error)``.

    The row marginal of the current scalings, ``u * (K v)``, comes for free
    with the ``u`` update, so the l1 error is checked at every sweep.
    """
    n, m = M.shape
    K = xp.exp(-M / reg)
    # POT's initial scalings, so that both libraries follow the same iterates
    u = xp.ones(n, dtype=M.dtype, device=array_api_compat.device(M)) / n
    v = xp.ones(m, dtype=M.dtype, device=array_api_compat.device(M)) / m
    if init is not None:  # warm start from potentials (f, g): u = exp(f/reg), v = exp(g/reg)
        u, v = xp.exp(init[0] / reg), xp.exp(init[1] / reg)
    col_err = l1_norm(xp, v * (u @ K) - b)
    numerical_error = False
    it = 0
    for it in range(max_iter + 1):
        Kv = K @ v
        err = l1_norm(xp, u * Kv - a) + col_err
        record_iteration(history, verbose, t0, stage="sinkhorn", iteration=it, marginal_error=err)
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
    f = reg * safe_log(xp, u)
    g = reg * safe_log(xp, v)
    # the plan as the iterations see it: where K underflowed, exp((f + g - M)/reg) can
    # differ from (and even overflow) u_i K_ij v_j, so return the kernel form (as POT)
    plan = u[:, None] * K * v[None, :]
    return f, g, it, numerical_error, plan


def _solve_scaling(a, b, M, reg, *, xp, tol, max_iter, history, verbose, t0, init=None, **_):
    f, g, n_iter, numerical_error, plan = _sinkhorn_scaling(
        a, b, M, reg, xp=xp, tol=tol, max_iter=max_iter, history=history, verbose=verbose,
        t0=t0, init=init)
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


def _solve_log(a, b, M, reg, *, xp, tol, max_iter, history, verbose, t0, init=None, **_):
    f = xp.zeros(M.shape[0], dtype=M.dtype, device=array_api_compat.device(M))
    g = xp.zeros(M.shape[1], dtype=M.dtype, device=array_api_compat.device(M))
    if init is not None:  # warm start from potentials (f, g)
        f, g = init
    f, g, n_iter, _ = log_sweeps(a, b, M, reg, f, g, xp=xp, log_a=safe_log(xp, a),
                                  log_b=safe_log(xp, b), tol=tol, max_iter=max_iter,
                                  history=history, verbose=verbose, t0=t0)
    return f, g, n_iter, 0, None


def _solve_sns(a, b, M, reg, **kwargs):
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


def _check_init(xp, init, a, b, M):
    """Starting potentials ``(f, g)``: arrays shaped like ``a`` and ``b``, finite, M's dtype."""
    if len(init) != 2:
        raise ValueError(f"the starting potentials must be a pair (f, g), got {len(init)} item(s).")
    device = array_api_compat.device(M)
    out = []
    for name, p, w in (("first", init[0], a), ("second", init[1], b)):
        p = xp.astype(_as_array(xp, p, f"the {name} starting potential", device), M.dtype)
        if tuple(p.shape) != tuple(w.shape):
            raise ValueError(f"the {name} starting potential must have shape {tuple(w.shape)}, "
                             f"got {tuple(p.shape)}.")
        if not bool(xp.all(xp.isfinite(p))):
            raise ValueError(f"the {name} starting potential contains NaN or inf.")
        out.append(p)
    return tuple(out)


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
        plan = plan_from_potentials(xp, f, g, M, reg)
    row, col = xp.sum(plan, axis=1), xp.sum(plan, axis=0)
    marginal_error = l1_norm(xp, row - a) + l1_norm(xp, col - b)
    # zero-mass bins have f = -inf; report the soft c-transform instead (finite)
    if bool(xp.any(a == 0)):
        f = xp.where(a > 0, f, -reg * logsumexp(xp, (g[None, :] - M) / reg, axis=1))
    if bool(xp.any(b == 0)):
        g = xp.where(b > 0, g, -reg * logsumexp(xp, (f[:, None] - M) / reg, axis=0))
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
    if options.get("init") is not None:  # a warm start given in the caller's units
        f_0, g_0 = options["init"]
        options = {**options, "init": (f_0 - (shift + reg * math.log(mass)), g_0)}
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


def _solve_entropic(a, b, M, reg, method="sns", *, tol=1e-9, max_iter=None, warmup_iter="auto",
                    warmup_tol=3e-2, sparsity=10.0, cg_rtol=1e-10, verbose=False, warn=True,
                    init=None, owner="solve"):
    """The solver behind :func:`solve`, :func:`sinkhorn` and :func:`sinkhorn2`.

    Takes sparseopt's method names (``"sinkhorn"``, ``"log"``, ``"sns"``)
    and options (documented in :func:`sparseopt.transport.solve`); ``init``
    is an optional pair of starting potentials ``(f, g)`` in cost units.
    Returns an :class:`OTResult` with ``plan``, ``cost``, ``value`` (the
    entropic objective ``<P, M> + reg sum P log P``), ``f``, ``g``,
    ``marginal_error``, ``n_iter``, ``n_newton``, ``converged`` and
    ``history``; the public entry points add POT's names.
    """
    validate_params(dict(method=method, tol=tol, max_iter=max_iter, warmup_iter=warmup_iter,
                         warmup_tol=warmup_tol,
                         sparsity=sparsity, cg_rtol=cg_rtol, verbose=verbose, warn=warn),
                    _PARAMS, owner=owner)
    xp, a, b, M = _check_problem(a, b, M, reg)
    if init is not None:
        init = _check_init(xp, init, a, b, M)
    reg = float(reg)
    if max_iter is None:
        max_iter = _DEFAULT_MAX_ITER[method]
    options = dict(tol=tol, max_iter=max_iter, verbose=verbose, init=init)
    if method == "sns":
        options.update(warmup_iter=warmup_iter, warmup_tol=warmup_tol, sparsity=sparsity, cg_rtol=cg_rtol)
    if M.ndim == 2:
        parts = [_solve_one(xp, a, b, M, reg, method, options)]
    else:
        parts = [_solve_one(xp, a[k, :], b[k, :], M[k, ...], reg, method,
                            {**options, "init": None if init is None else
                             (init[0][k, ...], init[1][k, ...])})
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
        result["cost"] = float(result["cost"]) if xp is np_compat else result["cost"]
        result["value"] = float(result["value"]) if xp is np_compat else result["value"]
    if warn and not converged:
        warn_not_converged(f"sinkhorn(method={method!r})", n_iter=result.n_iter,
                           certificate=max(relative_errors), tol=tol,
                           certificate_name="l1 marginal error / total mass",
                           advice="Increase max_iter (or warmup_iter for 'sns'), or use "
                                  "method='log'/'sns' if 'sinkhorn' hit numerical errors.")
    return result


# --------------------------------------------------- POT-compatible API
#: method names accepted by :func:`sinkhorn`, :func:`sinkhorn2` and :func:`solve` (POT's
#: and ours, case-insensitive) -> the solver in :data:`METHODS` that runs them.
#: POT's stabilized Sinkhorn absorbs the scalings into potentials to stay finite at small
#: reg; the log-domain sweeps do the same job exactly, on the same problem.
METHOD_ALIASES = {"sinkhorn": "sinkhorn", "sinkhorn_log": "log",
                  "sinkhorn_stabilized": "log", "log": "log", "sns": "sns"}
#: POT's methods without a counterpart here (they solve the same problem as the above)
_NOT_IMPLEMENTED = ("greenkhorn", "sinkhorn_epsilon_scaling")
#: options of POT's solvers that tune its own algorithms; accepted and ignored here
_POT_ONLY_OPTIONS = ("tau", "print_period")
_SNS_OPTIONS = ("warmup_iter", "warmup_tol", "sparsity", "cg_rtol")


def _resolve_method(method, owner):
    """``(pot_name, solver_name)`` for a user's method name, or a ValueError listing them."""
    if not isinstance(method, str):
        raise TypeError(f"{owner}: method must be a string, got {type(method).__name__}.")
    name = method.lower()
    if name not in METHOD_ALIASES:
        hint = (f" POT's {name!r} is not implemented in sparseopt; 'sinkhorn_log' and 'sns' "
                "solve the same problem." if name in _NOT_IMPLEMENTED else "")
        raise ValueError(f"{owner}: unknown method {method!r}; supported methods are "
                         f"{', '.join(repr(k) for k in METHOD_ALIASES)}.{hint}")
    return name, METHOD_ALIASES[name]


def _extra_options(kwargs, owner):
    """SNS options from ``**kwargs``; POT-only tuning options are dropped."""
    unknown = sorted(set(kwargs) - set(_SNS_OPTIONS) - set(_POT_ONLY_OPTIONS))
    if unknown:
        raise TypeError(f"{owner}() got unexpected keyword argument(s) {unknown}; extra "
                        f"options are {list(_SNS_OPTIONS)} (method='sns'); POT's "
                        f"{list(_POT_ONLY_OPTIONS)} are accepted and ignored.")
    return {k: v for k, v in kwargs.items() if k in _SNS_OPTIONS}


def _ndim(x):
    return x.ndim if array_api_compat.is_array_api_obj(x) else np.ndim(x)


def _pot_log(result, pot_name, n_hists):
    """POT's ``log`` dict of ``ot.sinkhorn(..., method=pot_name, log=True)`` from a result.

    ``err`` holds sparseopt's l1 marginal error (rows and columns) every 10
    iterations and at the last one for the Sinkhorn methods (POT records the l2 norm of the
    column error every 10 iterations), every iteration for ``"sns"``.
    With several histograms the arrays have one column per histogram.
    """
    xp = array_api_compat.array_namespace(result.plan)
    reg = result.reg
    f, g = result.f, result.g
    if n_hists:  # (k, n) -> (n, k), POT's layout
        f, g = xp.permute_dims(f, (1, 0)), xp.permute_dims(g, (1, 0))
    batch = bool(result.history) and isinstance(result.history[0], list)  # one per problem
    histories = result.history if batch else [result.history]
    step = 1 if pot_name == "sns" else 10
    # every step-th iteration and the last one (where the solver stopped)
    errs = [[h["marginal_error"] for k, h in enumerate(hist)
             if h["iteration"] % step == 0 or k == len(hist) - 1] for hist in histories]
    length = max(len(e) for e in errs)
    # several histograms: the largest error over them at each check
    err = [max(e[min(i, len(e) - 1)] for e in errs) for i in range(length)]
    log_u, log_v = f / reg, g / reg
    with np.errstate(over="ignore"):  # u = exp(f / reg) can exceed the float range; POT's too
        u, v = xp.exp(log_u), xp.exp(log_v)
    if pot_name == "sinkhorn":
        return {"err": err, "niter": result.n_iter, "u": u, "v": v}
    if pot_name == "sinkhorn_stabilized":
        return {"err": err, "n_iter": result.n_iter, "logu": log_u, "logv": log_v,
                "alpha": f, "beta": g, "warmstart": (f, g)}
    log = {"err": err, "niter": result.n_iter}
    if n_hists and pot_name in ("sinkhorn_log", "log"):
        log = {}  # POT's sinkhorn_log keeps only the potentials for several histograms
    log.update(log_u=log_u, log_v=log_v, u=u, v=v)
    if pot_name == "sns":
        log["n_newton"] = result.n_newton
    return log


def _sinkhorn_pot(owner, a, b, M, reg, method, numItermax, stopThr, verbose, warn,
                  warmstart, kwargs):
    """Solve as ``ot.sinkhorn`` does; returns ``(result, pot_name, n_hists)``."""
    pot_name, solver = _resolve_method(method, owner)
    validate_params(dict(numItermax=numItermax, stopThr=stopThr),
                    {"numItermax": _PARAMS["max_iter"], "stopThr": _PARAMS["tol"]}, owner=owner)
    options = _extra_options(kwargs, owner)
    if isinstance(b, (list, tuple)):
        b = np.asarray(b)
    n_hists = 0
    if _ndim(b) == 2 and _ndim(M) == 2:
        # POT's (m, k) histograms: k problems sharing a and M
        xp = _namespace(a, b, M)
        b = _as_array(xp, b, "b", None)
        M = _as_array(xp, M, "M", None)
        n_hists = b.shape[1]
        b = xp.permute_dims(b, (1, 0))
        M = xp.broadcast_to(M[None, ...], (n_hists, *M.shape))
    init = None
    if warmstart is not None:
        if len(warmstart) != 2:
            raise ValueError(f"{owner}: warmstart must be a pair (log_u, log_v), got "
                             f"{len(warmstart)} item(s).")
        xp = _namespace(a, b, M)
        init = [_as_array(xp, w, name, None) for w, name in zip(warmstart, ("log_u", "log_v"))]
        if pot_name != "sinkhorn_stabilized":  # POT: (log u, log v); stabilized: (alpha, beta)
            try:
                init = [w * float(reg) for w in init]
            except (TypeError, ValueError):  # a bad reg: the solver names the problem below
                pass
        if n_hists:
            init = [xp.permute_dims(w, (1, 0)) for w in init]
    result = _solve_entropic(a, b, M, reg, solver, tol=stopThr, max_iter=numItermax,
                             verbose=verbose, warn=warn, init=init, owner=owner, **options)
    return result, pot_name, n_hists


def _loss(result):
    """``<P, M>`` as POT returns it: a NumPy float64 scalar, else a 0-d array."""
    cost = result.cost
    return np.float64(cost) if isinstance(cost, float) else cost


def sinkhorn(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False,
             log=False, warn=True, warmstart=None, **kwargs):
    r"""Entropic optimal transport plan, as POT's ``ot.sinkhorn`` (same signature and returns).

    Solves

    .. math::

        \min_{P \geq 0} \langle P, M \rangle + \mathrm{reg} \sum_{ij} P_{ij} \log P_{ij}
        \quad \text{s.t.} \quad P \mathbf{1} = a,\ P^\top \mathbf{1} = b .

    Code written for ``ot.sinkhorn`` runs unchanged. For the plan together
    with the potentials, the certificate and the iteration history, use
    :func:`solve`.

    Parameters
    ----------
    a : array-like of shape (n,)
        Source histogram (non-negative). An empty list means uniform weights.
    b : array-like of shape (m,) or (m, k)
        Target histogram, same total mass as ``a``; empty means uniform.
        With ``k`` columns, ``k`` problems sharing ``a`` and ``M`` are solved
        and, as in POT, their transport costs ``<P_k, M>`` are returned
        instead of the plans.
    M : array of shape (n, m)
        Cost matrix. Its array namespace (NumPy, torch, CuPy,
        array-api-strict, ...) and device are used for the computation and
        the outputs. A stack of shape (batch, n, m) with ``a``, ``b`` of shape
        (batch, n), (batch, m) is also accepted (plans of shape (batch, n, m)).
    reg : float
        Entropic regularisation.
    method : str, default="sinkhorn"
        ``"sinkhorn"``: kernel scaling (POT's ``sinkhorn_knopp``; fast per
        sweep, underflows at small ``reg`` and then stops with a warning).
        ``"sinkhorn_log"`` (alias ``"log"``): log-domain sweeps, stable at any
        ``reg``. ``"sinkhorn_stabilized"``: POT's stabilised Sinkhorn, run
        here with the log-domain sweeps (same problem, same plan).
        ``"sns"``: Sinkhorn-Newton-Sparse, log-domain warm-up then sparse
        Newton steps (fewest iterations at small ``reg``). Case-insensitive.
        POT's ``"greenkhorn"`` and ``"sinkhorn_epsilon_scaling"`` are not
        implemented (ValueError).
    numItermax : int, default=1000
        Cap on the Sinkhorn sweeps (``"sns"``: on the Newton steps).
    stopThr : float, default=1e-9
        Stop when the l1 marginal error ``||P1 - a||_1 + ||P^T 1 - b||_1``
        is at most ``stopThr`` times the total mass ``sum(a)`` (POT checks
        the l2 norm of the column error only, which is never larger: for
        probability vectors this criterion is at least as strict).
    verbose : bool, default=False
        Print the marginal error at every iteration.
    log : bool, default=False
        Also return POT's log dict: ``err``, ``niter``, ``u``, ``v`` for
        ``"sinkhorn"``; ``err``, ``niter``, ``log_u``, ``log_v``, ``u``, ``v``
        for ``"sinkhorn_log"`` (only the potentials with several
        histograms, as POT); ``err``, ``n_iter``, ``logu``, ``logv``,
        ``alpha``, ``beta``, ``warmstart`` for ``"sinkhorn_stabilized"``;
        the ``"sinkhorn_log"`` keys plus ``n_newton`` for ``"sns"``. The
        scalings satisfy ``P = diag(u) exp(-M / reg) diag(v)``; they are
        defined up to a factor ``(c u, v / c)``, so they can differ from
        POT's by such a factor. ``err`` holds the l1 marginal error every 10
        iterations and at the last one (every iteration for ``"sns"``).
    warn : bool, default=True
        Emit a ``ConvergenceWarning`` (a ``UserWarning``, as POT's) when
        ``stopThr`` is not reached.
    warmstart : tuple of arrays, optional
        Starting point ``(log_u, log_v)`` (for ``"sinkhorn_stabilized"``,
        POT's ``(alpha, beta)``), e.g. the entries of a previous log.
    **kwargs
        ``"sns"`` options ``warmup_iter``, ``warmup_tol``, ``sparsity``,
        ``cg_rtol`` (see :func:`solve`); POT's ``tau`` and ``print_period``
        are accepted and ignored.

    Returns
    -------
    plan : array of shape (n, m)
        The transport plan (for ``b`` of shape (m, k): the ``k`` transport
        costs), in the namespace and on the device of ``M``.
    log : dict
        Only with ``log=True``.

    Raises
    ------
    ValueError
        On NaN/inf costs, negative or mismatched histograms, unequal total
        masses, a non-positive ``reg``, an unknown method or arrays from
        different namespaces.

    See Also
    --------
    solve : the same solvers returning an :class:`OTResult`.
    sinkhorn2 : the transport cost instead of the plan.
    ot.sinkhorn : POT's function.

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
    >>> from sparseopt.transport import sinkhorn
    >>> a, b = np.array([0.5, 0.5]), np.array([0.5, 0.5])
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> P = sinkhorn(a, b, M, 0.1)
    >>> np.round(P, 4)
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> P, log = sinkhorn(a, b, M, 0.1, method="sinkhorn_log", log=True)
    >>> sorted(log)
    ['err', 'log_u', 'log_v', 'niter', 'u', 'v']
    """
    result, pot_name, n_hists = _sinkhorn_pot("sinkhorn", a, b, M, reg, method, numItermax,
                                              stopThr, verbose, warn, warmstart, kwargs)
    out = result.cost if n_hists else result.plan
    if log:
        return out, _pot_log(result, pot_name, n_hists)
    return out


def sinkhorn2(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False,
              log=False, warn=False, warmstart=None, **kwargs):
    r"""Entropic transport cost ``<P, M>``, as POT's ``ot.sinkhorn2``.

    Same arguments as :func:`sinkhorn` (``warn`` defaults to False, as in
    POT); returns the linear cost :math:`\langle P, M\rangle` of the entropic
    plan (without the entropy term).

    Returns
    -------
    loss : float or array of shape (k,)
        A NumPy float64 for NumPy input (a 0-d array in other namespaces);
        one cost per histogram when ``b`` has shape (m, k).
    log : dict
        Only with ``log=True``; as in :func:`sinkhorn`.

    See Also
    --------
    sinkhorn : the plan.
    solve : value, linear value, plan and potentials in one result.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.transport import sinkhorn2
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> print(f"{sinkhorn2([], [], M, 0.1):.2e}")
    4.54e-05
    """
    result, pot_name, n_hists = _sinkhorn_pot("sinkhorn2", a, b, M, reg, method, numItermax,
                                              stopThr, verbose, warn, warmstart, kwargs)
    loss = result.cost if n_hists else _loss(result)
    if log:
        return loss, _pot_log(result, pot_name, n_hists)
    return loss
