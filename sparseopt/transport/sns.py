"""Sinkhorn-Newton-Sparse (SNS): sparse Newton steps on the entropic OT dual.

Tang, Shavlovsky, Rahmanian, Tardini, Thekumparampil, Xiao, Ying,
"Accelerating Sinkhorn Algorithm with Sparse Newton Iterations", ICLR 2024.

In sparseopt's units (``P_ij = exp((f_i + g_j - M_ij) / reg)``) the concave
dual (the paper's Lyapunov function up to a constant) is

    D(f, g) = <a, f> + <b, g> - reg * (sum_ij P_ij - sum_i a_i),

with gradient ``(a - P1, b - P^T 1)`` and Hessian
``-(1/reg) [[diag(P1), P], [P^T, diag(P^T 1)]]``.

Stage 1 runs Sinkhorn sweeps (``warmup_iter`` of them, or until the
marginal error is at most ``warmup_tol``); stage 2 repeats
``newton_direction`` (top-k sparsified Hessian, exact diagonal, shift,
preconditioned CG) and ``_line_search`` (Armijo with a round-off slack,
non-finite trials rejected), falling back to one Sinkhorn sweep when no
step is accepted. CG stops at the relative residual
``max(cg_rtol, min(0.1, ||grad||_1))`` (inexact Newton). The number ``k``
of plan entries kept in the Hessian doubles after any full step (length 1)
that fails to halve the marginal error and after two fallbacks in a row.
Two interchangeable back-ends implement the few
operations that touch ``n x m`` arrays (:data:`NEWTON_BACKENDS`): compiled
kernels for NumPy input, and a dense masked Hessian written with the array
API for any other namespace (torch, CuPy, ...), on the input's device.
"""
from __future__ import annotations

import math
import warnings

import array_api_compat
import numpy as np

from .._ext import _transport as _kernels
from ._log_domain import l1_norm, log_sweeps, record_iteration, safe_log

__all__ = ["sinkhorn_newton_sparse"]

ARMIJO_C1 = 1e-4  # sufficient-increase constant of the Armijo line search
MAX_HALVINGS = 30
# double precision cannot resolve D's gain once ||grad|| ~ 1e-9: allow this relative slack
# when the trial also lowers the marginal error
ROUNDOFF_SLACK = 1e-13
STABILIZED_BLOCK = 10  # kernel sweeps between two absorptions in the NumPy warm-up
FORCING_CAP = 0.1  # CG relative tolerance far from the solution
SLOW_RATE = 0.5  # a Newton step reducing the marginal error less than this doubles k
DIAG_FLOOR = 1e-30  # relative floor of the Jacobi preconditioner (zero-mass bins)
PLAN_FLOOR = 1e-30  # relative size below which plan entries are left out of the Hessian
EXP_FLOOR = -700.0  # exp(-700) ~ 1e-304: the smallest exponent worth the fast exp path


class _State:
    """Plan-derived quantities at one point (f, g)."""

    __slots__ = ("f", "g", "plan", "row", "col", "dual", "err", "slot")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


class _CompiledBackend:
    """Newton-stage operations on NumPy arrays with the compiled kernels (``_ext/_transport``).

    Owns two plan buffers (current point and line-search trial) and the CSR
    and CG work buffers, so a Newton step allocates only the top-k copy.
    """

    name = "compiled"

    def __init__(self, a, b, M, reg):
        self.M = np.ascontiguousarray(M, dtype=np.float64)
        self.a = np.ascontiguousarray(a, dtype=np.float64)
        self.b = np.ascontiguousarray(b, dtype=np.float64)
        self.reg = float(reg)
        self.mass = float(self.a.sum())
        n, m = self.M.shape
        self.n, self.m = n, m
        self.plans = [np.empty((n, m)), np.empty((n, m))]
        self.rows = [np.empty(n), np.empty(n)]
        self.cols = [np.empty(m), np.empty(m)]
        self.work = [np.empty(n + m) for _ in range(7)]
        self.indptr = np.empty(n + 1, dtype=np.int64)
        self.capacity = 0

    def evaluate(self, f, g, slot):
        plan = self.plans[slot]
        _kernels.plan_exponent(f, g, self.M, 1.0 / self.reg, EXP_FLOOR, plan)
        # overflowing trials (inf or nan dual / error) are rejected by the caller
        with np.errstate(over="ignore", invalid="ignore"):
            np.exp(plan, out=plan)
            row, col = plan.sum(axis=1), plan.sum(axis=0)
            fa = np.where(self.a > 0, f, 0.0)  # zero-mass bins carry f = -inf
            gb = np.where(self.b > 0, g, 0.0)
            dual = float(self.a @ fa + self.b @ gb - self.reg * (row.sum() - self.mass))
            err = float(np.abs(row - self.a).sum() + np.abs(col - self.b).sum())
        return _State(f=f, g=g, plan=plan, row=row, col=col, dual=dual, err=err, slot=slot)

    def newton_direction(self, state, keep, shift, cg_rtol):
        """Solve (H_s + shift I) delta = grad by CG; return (df, dg, cg_iter, nnz)."""
        n, m = self.n, self.m
        plan = state.plan
        flat = plan.reshape(-1)
        # entries below PLAN_FLOOR * max(P) never matter and their products in CG
        # underflow to subnormals, which are ~100x slower
        threshold = PLAN_FLOOR * float(flat.max())
        if keep < flat.size:
            # the keep-th largest entry: O(nm) introselect (top-k by partition)
            threshold = max(threshold,
                            float(np.partition(flat, flat.size - keep)[flat.size - keep]))
        if keep > self.capacity:
            self.capacity = min(int(keep * 1.25) + 16, flat.size)
            self.indices = np.empty(self.capacity, dtype=np.int64)
            self.data = np.empty(self.capacity)
        nnz = _kernels.sparsify_plan(plan, threshold, self.indptr, self.indices, self.data)
        diag, rhs, x, r, z, p, Ap = self.work
        # exact diagonal blocks from the dense marginals (keeps M_s diagonally dominant)
        diag[:n] = state.row * ((1.0 + shift) / self.reg)
        diag[n:] = state.col * ((1.0 + shift) / self.reg)
        np.maximum(diag, DIAG_FLOOR * diag.max(), out=diag)  # zero-mass bins: keep CG finite
        rhs[:n] = self.a - state.row
        rhs[n:] = self.b - state.col
        cg_iter = _kernels.conjugate_gradient(
            self.indptr, self.indices, self.data, diag, 1.0 / self.reg, n, rhs, x, cg_rtol,
            10 * (n + m), r, z, p, Ap)
        return x[:n].copy(), x[n:].copy(), int(cg_iter), int(nnz), float(rhs @ x)

    def warmup(self, f, g, sweeps, tol, history, verbose, t0, log_a, log_b):
        """Sinkhorn warm-up: one log-domain sweep, then kernel sweeps on absorbed kernels.

        Each block of kernel sweeps rescales ``K = exp((f + g - M)/reg)``,
        i.e. the current plan, by ``u, v`` and absorbs them back into
        ``(f, g)``: the iterates are the log-domain ones (up to entries below
        1e-300), at two BLAS matvecs per sweep instead of two exp passes. A
        block whose scalings reach 0 or inf (possible only far from the
        solution) is redone with log-domain sweeps.
        """
        a, b, reg = self.a, self.b, self.reg
        f, g, done, err = log_sweeps(a, b, self.M, reg, f, g, xp=np, log_a=log_a, log_b=log_b,
                                      tol=tol, max_iter=min(1, sweeps), history=history,
                                      verbose=verbose, t0=t0, stage="sinkhorn")
        kernel = self.plans[1]
        while done < sweeps and err > tol:
            block = min(STABILIZED_BLOCK, sweeps - done)
            _kernels.plan_exponent(f, g, self.M, 1.0 / reg, EXP_FLOOR, kernel)
            np.exp(kernel, out=kernel)
            u, v = np.ones(self.n), np.ones(self.m)
            ok = True
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                for k in range(block):
                    Kv = kernel @ v
                    err = float(np.abs(u * Kv - a).sum())  # row error before this sweep
                    record_iteration(history, verbose, t0, stage="sinkhorn", iteration=done + k,
                            marginal_error=err)
                    if err <= tol:
                        break
                    u = a / Kv
                    v = b / (u @ kernel)
                    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(v))
                            and np.all(u[a > 0] > 0) and np.all(v[b > 0] > 0)):
                        ok = False
                        break
            if ok:
                f = f + reg * safe_log(np, u)
                g = g + reg * safe_log(np, v)
                done += k + (err > tol)
            else:
                f, g, k, err = log_sweeps(a, b, self.M, reg, f, g, xp=np, log_a=log_a,
                                           log_b=log_b, tol=tol, max_iter=block,
                                           history=history, verbose=verbose, t0=t0,
                                           stage="sinkhorn", first_iteration=done,
                                           check_columns=False)
                done += max(k, 1)
        return f, g, done


class _ArrayAPIBackend:
    """Newton-stage operations written with the array API (any namespace and device).

    The sparsified Hessian is kept as a dense masked copy of the plan
    (``where(P >= threshold, P, 0)``), so no backend-specific sparse format
    is needed; the top-k threshold comes from ``xp.sort``. A step costs a
    few dense matvecs per CG iteration instead of O(k): fine on GPUs, slower
    than the compiled back-end on CPUs.
    """

    name = "array_api"

    def __init__(self, a, b, M, reg, xp):
        self.xp, self.a, self.b, self.M, self.reg = xp, a, b, M, float(reg)
        self.mass = float(xp.sum(a))
        self.n, self.m = M.shape

    def evaluate(self, f, g, slot):
        xp = self.xp
        plan = xp.exp((f[:, None] + g[None, :] - self.M) / self.reg)
        row, col = xp.sum(plan, axis=1), xp.sum(plan, axis=0)
        zero = xp.zeros_like(f)
        fa = xp.where(self.a > 0, f, zero)
        gb = xp.where(self.b > 0, g, xp.zeros_like(g))
        dual = float(xp.sum(self.a * fa) + xp.sum(self.b * gb)
                     - self.reg * (xp.sum(row) - self.mass))
        err = l1_norm(xp, row - self.a) + l1_norm(xp, col - self.b)
        return _State(f=f, g=g, plan=plan, row=row, col=col, dual=dual, err=err, slot=slot)

    def newton_direction(self, state, keep, shift, cg_rtol):
        xp, reg = self.xp, self.reg
        plan = state.plan
        size = self.n * self.m
        threshold = PLAN_FLOOR * xp.max(plan)
        if keep < size:
            flat = xp.sort(xp.reshape(plan, (-1,)))
            threshold = xp.maximum(threshold, flat[size - keep])
        sparse = xp.where(plan >= threshold, plan, xp.zeros_like(plan))
        nnz = int(xp.sum(xp.astype(sparse > 0, xp.int64)))
        diag_f, diag_g = state.row * ((1.0 + shift) / reg), state.col * ((1.0 + shift) / reg)
        floor = DIAG_FLOOR * xp.maximum(xp.max(diag_f), xp.max(diag_g))
        diag_f, diag_g = xp.maximum(diag_f, floor), xp.maximum(diag_g, floor)
        rhs_f, rhs_g = self.a - state.row, self.b - state.col

        def matvec(x, y):
            return diag_f * x + (sparse @ y) / reg, diag_g * y + (x @ sparse) / reg

        x, y = xp.zeros_like(rhs_f), xp.zeros_like(rhs_g)
        r_f, r_g = rhs_f, rhs_g
        z_f, z_g = r_f / diag_f, r_g / diag_g
        p_f, p_g = z_f, z_g
        rz = float(xp.sum(r_f * z_f) + xp.sum(r_g * z_g))
        target = cg_rtol ** 2 * float(xp.sum(rhs_f * rhs_f) + xp.sum(rhs_g * rhs_g))
        r2 = float("inf")
        it = 0
        while it < 10 * (self.n + self.m) and r2 > target:
            q_f, q_g = matvec(p_f, p_g)
            pq = float(xp.sum(p_f * q_f) + xp.sum(p_g * q_g))
            if not pq > 0:
                break
            alpha = rz / pq
            x, y = x + alpha * p_f, y + alpha * p_g
            r_f, r_g = r_f - alpha * q_f, r_g - alpha * q_g
            r2 = float(xp.sum(r_f * r_f) + xp.sum(r_g * r_g))
            z_f, z_g = r_f / diag_f, r_g / diag_g
            rz_new = float(xp.sum(r_f * z_f) + xp.sum(r_g * z_g))
            p_f, p_g = z_f + (rz_new / rz) * p_f, z_g + (rz_new / rz) * p_g
            rz = rz_new
            it += 1
        slope = float(xp.sum(rhs_f * x) + xp.sum(rhs_g * y))
        return x, y, it, nnz, slope

    def warmup(self, f, g, sweeps, tol, history, verbose, t0, log_a, log_b):
        f, g, k, _ = log_sweeps(self.a, self.b, self.M, self.reg, f, g, xp=self.xp,
                                 log_a=log_a, log_b=log_b, tol=tol, max_iter=sweeps,
                                 history=history, verbose=verbose, t0=t0, stage="sinkhorn")
        return f, g, k


#: which back-end runs the Newton stage for a namespace
NEWTON_BACKENDS = {"numpy": _CompiledBackend, "array_api": _ArrayAPIBackend}


def _make_backend(a, b, M, reg, xp):
    if array_api_compat.is_numpy_namespace(xp) and M.dtype == np.float64:
        return NEWTON_BACKENDS["numpy"](a, b, M, reg)
    return NEWTON_BACKENDS["array_api"](a, b, M, reg, xp)


def _line_search(backend, state, df, dg, slope, trial_slot):
    """Armijo backtracking for ascent on D along (df, dg); None if no step is accepted.

    A trial is accepted when D(z + t d) >= D(z) + c1 t <grad, d>, or when
    it lowers the marginal error while D drops by no more than round-off
    (``ROUNDOFF_SLACK |D|``). Non-finite trials are rejected.
    """
    step = 1.0
    slack = ROUNDOFF_SLACK * max(abs(state.dual), 1.0)
    for _ in range(MAX_HALVINGS):
        trial = backend.evaluate(state.f + step * df, state.g + step * dg, trial_slot)
        if math.isfinite(trial.dual) and math.isfinite(trial.err):
            if trial.dual >= state.dual + ARMIJO_C1 * step * slope:
                return trial, step
            if trial.err < state.err and trial.dual >= state.dual - slack:
                return trial, step
        step *= 0.5
    return None, 0.0


#: cap on the sweeps of an ``warmup_iter="auto"`` warm-up
AUTO_WARMUP_MAX_SWEEPS = 5000


def sinkhorn_newton_sparse(a, b, M, reg, *, xp, tol, max_iter, warmup_iter, warmup_tol, sparsity,
                           cg_rtol, history, verbose, t0, init=None):
    """Stage 1 (Sinkhorn warm-up) and stage 2 (sparse Newton) on one problem.

    Called by :func:`sparseopt.transport.sinkhorn` with validated arrays;
    returns ``(f, g, n_iter, n_newton)``.
    """
    n, m = M.shape
    backend = _make_backend(a, b, M, reg, xp)
    if backend.name == "compiled":
        a, b, M = backend.a, backend.b, backend.M
    log_a, log_b = safe_log(xp, a), safe_log(xp, b)
    device = array_api_compat.device(M)
    f = xp.zeros(n, dtype=M.dtype, device=device)
    g = xp.zeros(m, dtype=M.dtype, device=device)
    if init is not None:  # warm start from potentials (f, g)
        f, g = (xp.asarray(v, dtype=M.dtype, device=device) for v in init)

    if warmup_iter == "auto":  # sweep until the marginal error is below warmup_tol
        sweeps, warmup_stop = AUTO_WARMUP_MAX_SWEEPS, max(tol, warmup_tol)
    else:
        sweeps, warmup_stop = warmup_iter, tol
    f, g, n_sweeps = backend.warmup(f, g, sweeps, warmup_stop, history, verbose, t0, log_a,
                                    log_b)
    keep = min(math.ceil(sparsity * max(n, m)), n * m)
    state = backend.evaluate(f, g, 0)
    n_newton = n_fallback = consecutive_fallbacks = 0
    for n_newton in range(max_iter + 1):
        if state.err <= tol or n_newton == max_iter:
            break
        grad_norm = state.err
        # shift: RegOT's min(||g||, 1e-3), applied relative to each diagonal entry
        # (H_s + shift diag(H)): a uniform shift swamps the Newton step of low-mass
        # bins (grid densities span 3 decades of mass) and makes the rate linear
        shift = min(grad_norm, 1e-3)
        # inexact Newton: a forcing term proportional to the error keeps the local
        # quadratic rate while saving CG iterations far from the solution
        forcing = max(cg_rtol, min(FORCING_CAP, grad_norm))
        df, dg, cg_iter, nnz, slope = backend.newton_direction(state, keep, shift, forcing)
        trial, step = (None, 0.0)
        if math.isfinite(slope) and slope > 0:
            trial, step = _line_search(backend, state, df, dg, slope, 1 - state.slot)
        if trial is not None:
            if step == 1.0 and trial.err > SLOW_RATE * state.err:
                # full steps that barely help: the sparsified Hessian drops too much
                # mass for a superlinear rate (grid costs at 10 entries per row), so
                # keep more entries, as RegOT's adaptive density does
                keep = min(2 * keep, n * m)
            state = trial
            consecutive_fallbacks = 0
            stage = "newton"
            if step < 1.0:
                # damped step: Newton is outside its quadratic region, where a
                # Sinkhorn sweep (exact block ascent on D) makes more global progress;
                # doing both keeps the ascent monotone at the price of one sweep
                # as many sweeps as the line search spent evaluations (same cost)
                n_extra = int(round(-math.log2(step)))
                f, g, _, _ = log_sweeps(a, b, M, reg, state.f, state.g, xp=xp, log_a=log_a,
                                         log_b=log_b, tol=0.0, max_iter=n_extra, history=[],
                                         verbose=False, t0=t0, check_columns=False)
                state = backend.evaluate(f, g, state.slot)
                n_sweeps += n_extra
                stage = "newton+sweeps"
        else:
            # no acceptable Newton step: one Sinkhorn sweep (f then g)
            n_fallback += 1
            consecutive_fallbacks += 1
            if consecutive_fallbacks >= 2:
                keep = min(2 * keep, n * m)
            f, g, _, _ = log_sweeps(a, b, M, reg, state.f, state.g, xp=xp, log_a=log_a,
                                     log_b=log_b, tol=0.0, max_iter=1, history=[],
                                     verbose=False, t0=t0, check_columns=False)
            state = backend.evaluate(f, g, state.slot)
            stage = "fallback"
        record_iteration(history, verbose, t0, stage=stage, iteration=n_sweeps + n_newton + 1,
                marginal_error=state.err, dual=state.dual, step=step, cg_iter=cg_iter,
                density=nnz / (n * m), n_fallback=n_fallback)
    if n_fallback:
        warnings.warn(
            f"sinkhorn(method='sns'): {n_fallback} Newton step(s) were rejected by the line "
            "search and replaced by a Sinkhorn sweep; consider a larger warmup_iter or "
            "sparsity.", RuntimeWarning, stacklevel=5)
    f, g = state.f, state.g
    if backend.name == "compiled":
        f, g = np.asarray(f), np.asarray(g)
    return f, g, n_sweeps + n_newton, n_newton
