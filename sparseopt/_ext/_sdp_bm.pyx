"""Compiled loop of the non-negative Burer-Monteiro solver of the K-means SDP (``sparseopt.cluster``).

Compiled ahead of time (Cython): one iteration costs ``O(n p r)`` flops on an
``n x p`` data matrix and an ``n x r`` factor, a few microseconds at
``n = 200``, where the vectorised NumPy loop paid about ten array calls of
interpreter overhead per iteration.

Problem (Zhuang, Chen, Yang & Zhang, ICLR 2024)::

    min_U  -<X X^T, U U^T>   s.t.  U >= 0,  ||U||_F^2 = total,  U U^T 1 = 1

solved by an augmented Lagrangian on ``U U^T 1 = 1``
(``L = -<X X^T, U U^T> + <y, U U^T 1 - 1> + beta/2 ||U U^T 1 - 1||^2``)
whose primal subproblem is run by projected gradient steps onto
``{U >= 0, ||U||_F^2 = total}`` with Nesterov extrapolation and the gradient
restart of O'Donoghue & Candes (2015). The multiplier is updated when the
gradient-mapping norm falls below ``dual_every`` times the current row-sum
violation (inexact method of multipliers).

The two products ``X^T V`` and ``X (X^T V)`` go through BLAS ``dgemm``
(``scipy.linalg.cython_blas``, single-threaded at these sizes). Callers pass C-contiguous float64 arrays of matching shapes (the typed
memoryviews reject anything else with a ValueError/TypeError).
"""
from libc.math cimport sqrt
from scipy.linalg.cython_blas cimport dgemm

import numpy as np


cdef inline double _multiplier_and_momentum(double *y, const double *res, Py_ssize_t n,
                                            double beta, double step_norm, double violation,
                                            double dual_every, double dot, bint momentum,
                                            double *t_m, Py_ssize_t *n_dual) noexcept nogil:
    """The end of one iteration of both loops: the multiplier step when the gradient
    mapping is small against the row-sum violation (restarting the momentum), a restart
    when the momentum points uphill (``dot > 0``), and the extrapolation weight."""
    cdef Py_ssize_t i
    cdef double t_new, w
    if step_norm < dual_every * violation:
        for i in range(n):
            y[i] = y[i] + beta * res[i]
        n_dual[0] += 1
        t_m[0] = 1.0
    elif dot > 0.0:
        t_m[0] = 1.0
    if not momentum:
        return 0.0
    t_new = 0.5 * (1.0 + sqrt(1.0 + 4.0 * t_m[0] * t_m[0]))
    w = (t_m[0] - 1.0) / t_new
    t_m[0] = t_new
    return w


cdef inline void _extrapolate(double *V, const double *U, const double *U_prev, Py_ssize_t size,
                              double w) noexcept nogil:
    """``V = U + w (U - U_prev)`` over ``size`` contiguous entries."""
    cdef Py_ssize_t i
    for i in range(size):
        V[i] = U[i] + w * (U[i] - U_prev[i])


def kmeans_bm_loop(const double[:, ::1] X, double[:, ::1] U, double[::1] y, double beta,
                   double step, double tol, Py_ssize_t max_iter, double dual_every, double total,
                   bint momentum):
    """Run the augmented-Lagrangian projected-gradient iterations in place on ``U`` and ``y``.

    Stops when the row-sum violation ``||U U^T 1 - 1||_2 / sqrt(n)`` and the
    gradient-mapping norm ``||U_new - U_extrapolated||_F / sqrt(total)`` are
    both at most ``tol``, or after ``max_iter`` iterations.

    Returns
    -------
    (n_iter, violation, step_norm, n_dual_updates)
    """
    cdef Py_ssize_t n = X.shape[0], p = X.shape[1], r = U.shape[1]
    if U.shape[0] != n or y.shape[0] != n:
        raise ValueError(f"kmeans_bm_loop: U has {U.shape[0]} rows and y {y.shape[0]} entries, "
                         f"X has {n} rows.")
    if X.shape[1] == 0:
        raise ValueError("kmeans_bm_loop: X has no column.")
    if n == 0 or r == 0 or not total > 0 or not step > 0 or not beta >= 0:
        raise ValueError("kmeans_bm_loop: empty problem or non-positive total/step/beta.")
    cdef double[:, ::1] XtU = np.zeros((p, r))
    cdef double[:, ::1] XXtU = np.zeros((n, r))
    cdef int bn = <int>n, bp = <int>p, br = <int>r
    cdef double one = 1.0, zero = 0.0
    cdef char *no_t = 'N'
    cdef char *yes_t = 'T'
    cdef double[:, ::1] V = np.array(U, copy=True)        # extrapolated point
    cdef double[:, ::1] U_prev = np.array(U, copy=True)
    cdef double[::1] col = np.zeros(r)
    cdef double[::1] vU = np.zeros(r)
    cdef double[::1] res = np.zeros(n)
    cdef double[::1] v = np.zeros(n)
    cdef double sq_total = sqrt(total)
    cdef double violation = 1e300, step_norm = 1e300, t_m = 1.0, t_new, w, s, g, u
    cdef double ss, nrm, scale, d2, dot
    cdef Py_ssize_t it = 0, i, k, n_dual = 0
    with nogil:
        for it in range(1, max_iter + 1):
            # gradient of L at the extrapolated point V:
            # -2 X (X^T V) + v (1^T V) + 1 (v^T V),  v = y + beta (V V^T 1 - 1)
            for k in range(r):
                s = 0.0
                for i in range(n):
                    s = s + V[i, k]
                col[k] = s
            ss = 0.0
            for i in range(n):
                s = 0.0
                for k in range(r):
                    s = s + V[i, k] * col[k]
                res[i] = s - 1.0
                v[i] = y[i] + beta * res[i]
                ss = ss + res[i] * res[i]
            for k in range(r):
                vU[k] = 0.0
            for i in range(n):
                for k in range(r):
                    vU[k] = vU[k] + v[i] * V[i, k]
            # row-major X^T V (p x r) is column-major (V^T X): r x p
            dgemm(no_t, yes_t, &br, &bp, &bn, &one, &V[0, 0], &br, &X[0, 0], &bp, &zero,
                  &XtU[0, 0], &br)
            # row-major X (X^T V) (n x r) is column-major (X^T V)^T X^T: r x n
            dgemm(no_t, no_t, &br, &bn, &bp, &one, &XtU[0, 0], &br, &X[0, 0], &bp, &zero,
                  &XXtU[0, 0], &br)
            # projected step into U_prev (as scratch), then rescale onto the sphere
            nrm = 0.0
            for i in range(n):
                for k in range(r):
                    g = -2.0 * XXtU[i, k] + v[i] * col[k] + vU[k]
                    u = V[i, k] - step * g
                    if u < 0.0:
                        u = 0.0
                    U_prev[i, k] = u
                    nrm = nrm + u * u
            if nrm > 0.0:
                scale = sq_total / sqrt(nrm)
            else:  # every entry was clipped: restart from the flat point
                scale = 0.0
            d2 = 0.0
            dot = 0.0
            for i in range(n):
                for k in range(r):
                    if scale > 0.0:
                        u = U_prev[i, k] * scale
                    else:
                        u = sq_total / sqrt(<double>(n * r))
                    g = u - V[i, k]                 # gradient mapping (times -step)
                    d2 = d2 + g * g
                    dot = dot + (V[i, k] - u) * (u - U[i, k])
                    U_prev[i, k] = U[i, k]
                    U[i, k] = u
            step_norm = sqrt(d2) / sq_total
            violation = sqrt(ss / n)
            if violation <= tol and step_norm <= tol:
                break
            w = _multiplier_and_momentum(&y[0], &res[0], n, beta, step_norm, violation,
                                         dual_every, dot, momentum, &t_m, &n_dual)
            _extrapolate(&V[0, 0], &U[0, 0], &U_prev[0, 0], n * r, w)
    return int(it), float(violation), float(step_norm), int(n_dual)


def la_sdp_bm_loop(const double[:, :, ::1] Y, const double[::1] c, double[:, :, ::1] U,
                   double[::1] y, double beta, double step, double tol, Py_ssize_t max_iter,
                   double dual_every, bint momentum):
    """The same iterations for the likelihood-adjusted SDP: ``K`` factors, one coupling.

    Problem (Zhuang, Chen & Yang, ICML 2023, lifted to factors ``Z_k = U_k U_k^T``)::

        min  sum_k s_k^T U_k U_k^T 1 - ||Y_k^T U_k||_F^2 + c_k ||U_k^T 1||^2
        s.t. U_k >= 0,  ||U_k||_F = 1,  sum_k U_k U_k^T 1 = 1

    with ``s_k`` the row squared norms of ``Y[k]`` (the objective is
    ``sum_k <D_k / 2 + c_k 1 1^T, Z_k>``, ``D_k`` the squared distances
    between the rows of ``Y[k]``). The gradient of block ``k``,
    ``(s_k + v + 2 c_k 1)(1^T U_k) + 1 ((s_k + v)^T U_k) - 2 Y_k (Y_k^T U_k)``
    with ``v = y + beta (sum_k U_k U_k^T 1 - 1)``, costs ``O(n p r)``; every
    block is projected onto its own sphere. Stops when the row-sum violation
    ``||sum_k U_k U_k^T 1 - 1||_2 / sqrt(n)`` and the gradient-mapping norm
    ``||U_new - U_extrapolated||_F / sqrt(K)`` are both at most ``tol``.

    Returns
    -------
    (n_iter, violation, step_norm, n_dual_updates)
    """
    cdef Py_ssize_t K = Y.shape[0], n = Y.shape[1], p = Y.shape[2], r = U.shape[2]
    if U.shape[0] != K or c.shape[0] != K or U.shape[1] != n or y.shape[0] != n:
        raise ValueError(f"la_sdp_bm_loop: Y has shape {tuple(Y.shape)[:3]}, U "
                         f"{tuple(U.shape)[:3]}, c {c.shape[0]} entries and y {y.shape[0]}: "
                         "they must agree on the number of blocks and of rows.")
    if K == 0 or n == 0 or p == 0 or r == 0:
        raise ValueError("la_sdp_bm_loop: empty problem.")
    if not step > 0 or not beta >= 0:
        raise ValueError("la_sdp_bm_loop: non-positive step or negative beta.")
    cdef double[:, :, ::1] YtU = np.zeros((K, p, r))
    cdef double[:, :, ::1] YYtU = np.zeros((K, n, r))
    cdef double[:, ::1] s = np.zeros((K, n))
    cdef int bn = <int>n, bp = <int>p, br = <int>r
    cdef double one = 1.0, zero = 0.0
    cdef char *no_t = 'N'
    cdef char *yes_t = 'T'
    cdef double[:, :, ::1] V = np.array(U, copy=True)        # extrapolated point
    cdef double[:, :, ::1] U_prev = np.array(U, copy=True)
    cdef double[:, ::1] col = np.zeros((K, r))
    cdef double[:, ::1] wU = np.zeros((K, r))
    cdef double[::1] nrm = np.zeros(K)
    cdef double[::1] res = np.zeros(n)
    cdef double[::1] v = np.zeros(n)
    cdef double sq_blocks = sqrt(<double>K)
    cdef double flat = 1.0 / sqrt(<double>(n * r))
    cdef double violation = 1e300, step_norm = 1e300, t_m = 1.0, t_new, w, acc, g, u, wi
    cdef double ss, scale, d2, dot
    cdef Py_ssize_t it = 0, i, j, k, b, n_dual = 0
    with nogil:
        for b in range(K):
            for i in range(n):
                acc = 0.0
                for j in range(p):
                    acc = acc + Y[b, i, j] * Y[b, i, j]
                s[b, i] = acc
        for it in range(1, max_iter + 1):
            for b in range(K):
                for k in range(r):
                    acc = 0.0
                    for i in range(n):
                        acc = acc + V[b, i, k]
                    col[b, k] = acc
            ss = 0.0
            for i in range(n):
                acc = 0.0
                for b in range(K):
                    for k in range(r):
                        acc = acc + V[b, i, k] * col[b, k]
                res[i] = acc - 1.0
                v[i] = y[i] + beta * res[i]
                ss = ss + res[i] * res[i]
            for b in range(K):
                for k in range(r):
                    wU[b, k] = 0.0
                for i in range(n):
                    wi = s[b, i] + v[i]
                    for k in range(r):
                        wU[b, k] = wU[b, k] + wi * V[b, i, k]
                # row-major Y_k^T V_k (p x r) is column-major (V_k^T Y_k): r x p
                dgemm(no_t, yes_t, &br, &bp, &bn, &one, &V[b, 0, 0], &br, &Y[b, 0, 0], &bp,
                      &zero, &YtU[b, 0, 0], &br)
                # row-major Y_k (Y_k^T V_k) (n x r) is column-major (Y_k^T V_k)^T Y_k^T
                dgemm(no_t, no_t, &br, &bn, &bp, &one, &YtU[b, 0, 0], &br, &Y[b, 0, 0], &bp,
                      &zero, &YYtU[b, 0, 0], &br)
                # projected step into U_prev (as scratch); the block's norm for its sphere
                acc = 0.0
                for i in range(n):
                    wi = s[b, i] + v[i] + 2.0 * c[b]
                    for k in range(r):
                        g = wi * col[b, k] + wU[b, k] - 2.0 * YYtU[b, i, k]
                        u = V[b, i, k] - step * g
                        if u < 0.0:
                            u = 0.0
                        U_prev[b, i, k] = u
                        acc = acc + u * u
                nrm[b] = acc
            d2 = 0.0
            dot = 0.0
            for b in range(K):
                scale = 1.0 / sqrt(nrm[b]) if nrm[b] > 0.0 else 0.0
                for i in range(n):
                    for k in range(r):
                        if scale > 0.0:
                            u = U_prev[b, i, k] * scale
                        else:                       # every entry clipped: the flat point
                            u = flat
                        g = u - V[b, i, k]          # gradient mapping (times -step)
                        d2 = d2 + g * g
                        dot = dot + (V[b, i, k] - u) * (u - U[b, i, k])
                        U_prev[b, i, k] = U[b, i, k]
                        U[b, i, k] = u
            step_norm = sqrt(d2) / sq_blocks
            violation = sqrt(ss / n)
            if violation <= tol and step_norm <= tol:
                break
            w = _multiplier_and_momentum(&y[0], &res[0], n, beta, step_norm, violation,
                                         dual_every, dot, momentum, &t_m, &n_dual)
            _extrapolate(&V[0, 0, 0], &U[0, 0, 0], &U_prev[0, 0, 0], K * n * r, w)
    return int(it), float(violation), float(step_norm), int(n_dual)
