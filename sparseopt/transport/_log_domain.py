"""Log-domain primitives shared by the Sinkhorn and Sinkhorn-Newton-Sparse solvers.

Potentials ``(f, g)`` stand for the plan ``P_ij = exp((f_i + g_j - M_ij) / reg)``;
:func:`log_sweeps` runs Sinkhorn's updates on them (POT's ``sinkhorn_log``),
safe at any ``reg``. Everything is written against the array namespace ``xp``
of the inputs.
"""
from __future__ import annotations

import math
import time

__all__ = ["logsumexp", "safe_log", "l1_norm", "record_iteration", "plan_from_potentials",
           "log_sweeps"]


def logsumexp(xp, A, axis):
    """log(sum(exp(A), axis)) with the max subtracted; rows of all -inf give -inf."""
    top = xp.max(A, axis=axis, keepdims=True)
    top = xp.where(xp.isfinite(top), top, xp.zeros_like(top))
    # terms below exp(floor) ~ 1e-300 cannot change the sum (its largest term is 1); the
    # floor keeps exp off its slow underflow path (~20x slower on NumPy at small reg)
    floor = math.log(xp.finfo(A.dtype).smallest_normal) + 8.0
    shifted = xp.clip(A - top, min=floor)
    return xp.log(xp.sum(xp.exp(shifted), axis=axis)) + xp.squeeze(top, axis=axis)


def safe_log(xp, x):
    """log(x) with log(0) = -inf and no floating-point warning."""
    positive = x > 0
    logs = xp.log(xp.where(positive, x, xp.ones_like(x)))
    return xp.where(positive, logs, xp.full_like(x, -float("inf")))


def l1_norm(xp, x):
    """Sum of absolute values as a Python float (the marginal errors are l1 norms)."""
    return float(xp.sum(xp.abs(x)))


def record_iteration(history, verbose, t0, **entry):
    """Append ``entry`` (with the elapsed time) to ``history``; print it when ``verbose``."""
    entry["time"] = time.perf_counter() - t0
    history.append(entry)
    if verbose:
        extras = "".join(f" {k}={v:.3g}" if isinstance(v, float) else f" {k}={v}"
                         for k, v in entry.items()
                         if k not in ("stage", "iteration", "marginal_error", "time"))
        print(f"[{entry['stage']:>8}] it {entry['iteration']:5d}  "
              f"marginal error {entry['marginal_error']:.3e}{extras}")


def plan_from_potentials(xp, f, g, M, reg):
    """The plan ``P_ij = exp((f_i + g_j - M_ij) / reg)`` of the potentials ``(f, g)``."""
    return xp.exp((f[:, None] + g[None, :] - M) / reg)


def log_sweeps(a, b, M, reg, f, g, *, xp, log_a, log_b, tol, max_iter, history, verbose,
                t0, stage="log", first_iteration=0, check_columns=True):
    """Log-domain Sinkhorn sweeps from ``(f, g)``; returns ``(f, g, sweeps, err)``.

    ``f_i <- reg (log a_i - LSE_j((g_j - M_ij) / reg))`` then the same for
    ``g``: exactly ``f <- f + reg (log a - log P1)``. The row error of the
    current potentials is read off the same log-sum-exp, so each sweep
    costs two passes over ``M``.
    """
    col_err = 0.0
    if check_columns:  # the column marginal is exact only after a g-update
        col = xp.exp(g / reg + logsumexp(xp, (f[:, None] - M) / reg, axis=0))
        col_err = l1_norm(xp, col - b)
    err = float("inf")
    sweeps = 0
    for sweeps in range(max_iter + 1):
        lse_row = logsumexp(xp, (g[None, :] - M) / reg, axis=1)
        err = l1_norm(xp, xp.exp(f / reg + lse_row) - a) + col_err
        record_iteration(history, verbose, t0, stage=stage, iteration=first_iteration + sweeps,
                marginal_error=err)
        if err <= tol or sweeps == max_iter:
            break
        f = reg * (log_a - lse_row)
        g = reg * (log_b - logsumexp(xp, (f[:, None] - M) / reg, axis=0))
        col_err = 0.0
    return f, g, sweeps, err
