"""Numba kernels of the Sinkhorn-Newton-Sparse solver (``sparseopt.transport``).

Dumb and fast: contiguous float64 arrays, scalars and output buffers in, a
scalar out; no Python objects and no allocation inside the loops. The
callers in ``sparseopt/transport/sns.py`` own the buffers and the logic.

Units: the plan is ``P_ij = exp((f_i + g_j - M_ij) / reg)`` (POT's
``sinkhorn_log`` convention with ``f = reg * log u``), ``inv_reg = 1 / reg``.
"""
from numba import njit

__all__ = [
    "plan_exponent",
    "sparsify_plan",
    "conjugate_gradient",
]


@njit(cache=True)
def plan_exponent(f, g, M, inv_reg, floor, out):
    """Fill ``out`` with max((f_i + g_j - M_ij) / reg, floor).

    The caller exponentiates ``out`` in place with NumPy's vectorised exp.
    ``floor`` (about log of the smallest normal float plus a margin) keeps
    the exp off its slow underflow/subnormal path, which costs ~20x more at
    small ``reg`` where most entries underflow; the plan entries changed by
    it are below 1e-300.
    """
    n, m = M.shape
    for i in range(n):
        fi = f[i]
        for j in range(m):
            x = (fi + g[j] - M[i, j]) * inv_reg
            out[i, j] = x if x > floor else floor


@njit(cache=True)
def sparsify_plan(plan, threshold, indptr, indices, data):
    """CSR of the plan entries ``>= threshold`` (row-major), at most ``len(data)`` kept.

    Returns the number of kept entries. The diagonal blocks of the Hessian
    are not built here: the caller keeps them exact from the dense marginals.
    """
    n, m = plan.shape
    capacity = data.shape[0]
    nnz = 0
    indptr[0] = 0
    for i in range(n):
        for j in range(m):
            v = plan[i, j]
            if v >= threshold and nnz < capacity:
                indices[nnz] = j
                data[nnz] = v
                nnz += 1
        indptr[i + 1] = nnz
    return nnz


@njit(cache=True)
def _hessian_matvec(indptr, indices, data, diag, inv_reg, n, x, out):
    # out = (1/reg) [[diag(P1), P_s], [P_s^T, diag(P^T 1)]] x + shift x ; diag holds
    # (marginal / reg + shift) for the n + m unknowns
    total = diag.shape[0]
    for j in range(n, total):
        out[j] = diag[j] * x[j]
    for i in range(n):
        acc = diag[i] * x[i]
        xi = x[i] * inv_reg
        for p in range(indptr[i], indptr[i + 1]):
            j = n + indices[p]
            w = data[p]
            acc += w * inv_reg * x[j]
            out[j] += w * xi
        out[i] = acc


@njit(cache=True)
def conjugate_gradient(indptr, indices, data, diag, inv_reg, n, rhs, x, rtol, max_iter,
                       r, z, p, Ap):
    """Jacobi-preconditioned CG for the shifted sparsified Newton system, from x = 0.

    Stops when ``||r||_2 <= rtol * ||rhs||_2``. Returns the iteration count;
    ``x`` holds the solution. ``r, z, p, Ap`` are work buffers of size n + m.
    """
    total = rhs.shape[0]
    rhs_norm2 = 0.0
    for t in range(total):
        x[t] = 0.0
        r[t] = rhs[t]
        z[t] = rhs[t] / diag[t]
        p[t] = z[t]
        rhs_norm2 += rhs[t] * rhs[t]
    target2 = rtol * rtol * rhs_norm2
    rz = 0.0
    for t in range(total):
        rz += r[t] * z[t]
    it = 0
    r_norm2 = rhs_norm2
    while it < max_iter and r_norm2 > target2:
        _hessian_matvec(indptr, indices, data, diag, inv_reg, n, p, Ap)
        pAp = 0.0
        for t in range(total):
            pAp += p[t] * Ap[t]
        if not pAp > 0.0:  # breakdown (or NaN): keep the current iterate
            break
        alpha = rz / pAp
        r_norm2 = 0.0
        for t in range(total):
            x[t] += alpha * p[t]
            r[t] -= alpha * Ap[t]
            r_norm2 += r[t] * r[t]
        rz_new = 0.0
        for t in range(total):
            z[t] = r[t] / diag[t]
            rz_new += r[t] * z[t]
        beta = rz_new / rz
        rz = rz_new
        for t in range(total):
            p[t] = z[t] + beta * p[t]
        it += 1
    return it
