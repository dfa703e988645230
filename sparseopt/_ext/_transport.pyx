# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of the Sinkhorn-Newton-Sparse solver (``sparseopt.transport``).

Dumb and fast: float64 arrays, scalars and output buffers in, a scalar out;
no Python objects and no allocation inside the loops, which run without the
GIL. The callers in ``sparseopt/transport/sns.py`` own the buffers and the
logic, and check the shapes (these functions do no bounds checking).

Units: the plan is ``P_ij = exp((f_i + g_j - M_ij) / reg)`` (POT's
``sinkhorn_log`` convention with ``f = reg * log u``), ``inv_reg = 1 / reg``.
Compiled ahead of time (no JIT on first use).
"""
from libc.stdint cimport int64_t

__all__ = [
    "plan_exponent",
    "sparsify_plan",
    "conjugate_gradient",
]


def plan_exponent(const double[:] f, const double[:] g, const double[:, ::1] M, double inv_reg,
                  double floor, double[:, ::1] out):
    """Fill ``out`` with max((f_i + g_j - M_ij) / reg, floor).

    The caller exponentiates ``out`` in place with NumPy's vectorised exp.
    ``floor`` (about log of the smallest normal float plus a margin) keeps
    the exp off its slow underflow/subnormal path, which costs ~20x more at
    small ``reg`` where most entries underflow; the plan entries changed by
    it are below 1e-300.
    """
    cdef int64_t n = M.shape[0], m = M.shape[1], i, j
    cdef double fi, x
    if f.shape[0] != n or g.shape[0] != m or out.shape[0] != n or out.shape[1] != m:
        raise ValueError("plan_exponent: f (n,), g (m,), M and out (n, m) must agree")
    with nogil:
        for i in range(n):
            fi = f[i]
            for j in range(m):
                x = (fi + g[j] - M[i, j]) * inv_reg
                out[i, j] = x if x > floor else floor
    return None


def sparsify_plan(const double[:, ::1] plan, double threshold, int64_t[::1] indptr,
                  int64_t[::1] indices, double[::1] data):
    """CSR of the plan entries ``>= threshold`` (row-major), at most ``len(data)`` kept.

    Returns the number of kept entries. The diagonal blocks of the Hessian
    are not built here: the caller keeps them exact from the dense marginals.
    """
    cdef int64_t n = plan.shape[0], m = plan.shape[1], capacity = data.shape[0]
    cdef int64_t nnz = 0, i, j
    cdef double v
    if indptr.shape[0] != n + 1 or indices.shape[0] < capacity:
        raise ValueError("sparsify_plan: indptr needs n + 1 entries and indices len(data)")
    with nogil:
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


cdef void _hessian_matvec(const int64_t[::1] indptr, const int64_t[::1] indices,
                          const double[::1] data, const double[::1] diag, double inv_reg,
                          int64_t n, const double[::1] x, double[::1] out) noexcept nogil:
    # out = (1/reg) [[diag(P1), P_s], [P_s^T, diag(P^T 1)]] x + shift x ; diag holds
    # (marginal / reg + shift) for the n + m unknowns
    cdef int64_t total = diag.shape[0], i, j, p
    cdef double acc, xi, w
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


def conjugate_gradient(const int64_t[::1] indptr, const int64_t[::1] indices,
                       const double[::1] data, const double[::1] diag, double inv_reg, int64_t n,
                       const double[::1] rhs, double[::1] x, double rtol, int64_t max_iter,
                       double[::1] r, double[::1] z, double[::1] p, double[::1] Ap):
    """Jacobi-preconditioned CG for the shifted sparsified Newton system, from x = 0.

    Stops when ``||r||_2 <= rtol * ||rhs||_2``. Returns the iteration count;
    ``x`` holds the solution. ``r, z, p, Ap`` are work buffers of size n + m.
    """
    cdef int64_t total = rhs.shape[0], t, it = 0
    cdef double rhs_norm2 = 0.0, target2, rz = 0.0, r_norm2, pAp, alpha, rz_new, beta
    for buf in (diag.shape[0], x.shape[0], r.shape[0], z.shape[0], p.shape[0], Ap.shape[0]):
        if buf != total:
            raise ValueError("conjugate_gradient: diag, rhs, x and the work buffers need n + m "
                             "entries")
    if indptr.shape[0] != n + 1 or n > total:
        raise ValueError("conjugate_gradient: indptr needs n + 1 entries")
    with nogil:
        for t in range(total):
            x[t] = 0.0
            r[t] = rhs[t]
            z[t] = rhs[t] / diag[t]
            p[t] = z[t]
            rhs_norm2 += rhs[t] * rhs[t]
        target2 = rtol * rtol * rhs_norm2
        for t in range(total):
            rz += r[t] * z[t]
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
