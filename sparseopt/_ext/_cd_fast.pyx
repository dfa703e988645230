# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Coordinate-descent kernels for (1/2n)||y - Xw||^2 + l1 ||w||_1 + l2/2 ||w||^2.

Kernels only: they take arrays, scalars and buffers, update ``w`` and the
residual in place and know nothing about estimators. float32 and float64 are
both compiled (fused ``floating``); the loops release the GIL.

Residual convention: ``R = y - X w`` for dense X. For CSC X with implicit
centring (never densified) the residual is stored as ``R = R_s + c * v`` where
``v`` is the row-scaling vector (ones, or sqrt(sample_weight)); see
``enet_cd_epochs_sparse``.
"""
cimport cython
from cython cimport floating
from libc.math cimport fabs, sqrt
from scipy.linalg.cython_blas cimport ddot, sdot, daxpy, saxpy


cdef inline floating _dot(int n, const floating* x, const floating* y) noexcept nogil:
    cdef int inc = 1
    if floating is float:
        return sdot(&n, <float*> x, &inc, <float*> y, &inc)
    else:
        return ddot(&n, <double*> x, &inc, <double*> y, &inc)


cdef inline void _axpy(int n, floating a, const floating* x, floating* y) noexcept nogil:
    cdef int inc = 1
    if floating is float:
        saxpy(&n, &a, <float*> x, &inc, y, &inc)
    else:
        daxpy(&n, &a, <double*> x, &inc, y, &inc)


cdef inline floating soft_threshold(floating z, floating threshold) noexcept nogil:
    """sign(z) * max(|z| - threshold, 0)."""
    if z > threshold:
        return z - threshold
    if z < -threshold:
        return z + threshold
    return 0.


cdef inline floating _enet_prox(floating z, floating lipschitz, floating l1,
                                floating l2, bint positive) noexcept nogil:
    # prox of (l1|t| + l2 t^2/2) / L at z: ST(z, l1/L) / (1 + l2/L)
    cdef floating out
    if positive and z <= 0:
        return 0.
    out = soft_threshold(z, l1 / lipschitz) / (1. + l2 / lipschitz)
    return out


def soft_threshold_inplace(floating[::1] z, floating threshold):
    """Replace ``z`` by ``sign(z) * max(|z| - threshold, 0)`` elementwise."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(z.shape[0]):
            z[i] = soft_threshold(z[i], threshold)


def enet_cd_epochs_dense(const floating[::1, :] X, floating[::1] w,
                         floating[::1] R, const floating[::1] lipschitz,
                         const int[::1] working_set, floating l1, floating l2,
                         bint positive, int n_epochs):
    """Run ``n_epochs`` cyclic CD epochs over ``working_set`` (dense, Fortran X).

    ``lipschitz[j] = ||x_j||^2 / n``; coordinates with zero Lipschitz constant
    are skipped (their coefficient stays 0). Updates ``w`` and ``R = y - Xw``
    in place. Returns the largest absolute coefficient change of the last epoch.
    """
    cdef int n_samples = X.shape[0]
    cdef Py_ssize_t epoch, k, j
    cdef floating w_old, w_new, grad, max_change = 0.
    cdef floating inv_n = 1. / n_samples
    with nogil:
        for epoch in range(n_epochs):
            max_change = 0.
            for k in range(working_set.shape[0]):
                j = working_set[k]
                if lipschitz[j] == 0.:
                    continue
                w_old = w[j]
                grad = _dot(n_samples, &X[0, j], &R[0]) * inv_n
                w_new = _enet_prox(w_old + grad / lipschitz[j], lipschitz[j], l1, l2, positive)
                if w_new != w_old:
                    # R <- R - x_j (w_new - w_old)
                    _axpy(n_samples, w_old - w_new, &X[0, j], &R[0])
                    w[j] = w_new
                    if fabs(w_new - w_old) > max_change:
                        max_change = fabs(w_new - w_old)
    return max_change


def enet_cd_epochs_sparse(const floating[::1] data, const int[::1] indices,
                          const int[::1] indptr, const floating[::1] X_mean,
                          const floating[::1] Xv, floating vv,
                          floating[::1] w, floating[::1] R_s, floating[::1] state,
                          const floating[::1] lipschitz, const int[::1] working_set,
                          floating l1, floating l2, bint positive, int n_samples,
                          int n_epochs):
    """CD epochs on CSC X, centred implicitly by ``X_mean`` (zeros: no centring).

    The design seen by the solver is ``X_c = X - v X_mean^T`` where ``v`` is the
    row-scaling vector and ``Xv[j] = x_j^T v``, ``vv = v^T v``. The residual is
    ``R = R_s + c v`` with ``state = [c, v^T R_s]``; an update touches only the
    non-zeros of column j (O(nnz_j)), never the dense column.
    """
    cdef Py_ssize_t epoch, k, j, p
    cdef floating w_old, w_new, delta, grad, xr, max_change = 0.
    cdef floating c = state[0]
    cdef floating vR = state[1]
    cdef floating inv_n = 1. / n_samples
    with nogil:
        for epoch in range(n_epochs):
            max_change = 0.
            for k in range(working_set.shape[0]):
                j = working_set[k]
                if lipschitz[j] == 0.:
                    continue
                xr = 0.
                for p in range(indptr[j], indptr[j + 1]):
                    xr = xr + data[p] * R_s[indices[p]]
                # x_c^T R = x^T R_s + c x^T v - mean_j (v^T R_s + c v^T v)
                grad = (xr + c * Xv[j] - X_mean[j] * (vR + c * vv)) * inv_n
                w_old = w[j]
                w_new = _enet_prox(w_old + grad / lipschitz[j], lipschitz[j], l1, l2, positive)
                if w_new != w_old:
                    delta = w_new - w_old
                    for p in range(indptr[j], indptr[j + 1]):
                        R_s[indices[p]] -= delta * data[p]
                    vR = vR - delta * Xv[j]
                    c = c + delta * X_mean[j]
                    w[j] = w_new
                    if fabs(delta) > max_change:
                        max_change = fabs(delta)
    state[0] = c
    state[1] = vR
    return max_change
