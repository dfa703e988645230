# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Coordinate-descent kernels for penalised least squares and logistic regression.

Kernels only: they take arrays, scalars and buffers, update ``w`` and the
residual (or ``Xw``) in place and know nothing about estimators. float32 and
float64 are both compiled (fused ``floating``); the loops release the GIL.

Every scalar penalty's prox is inlined here and selected by a
:class:`PenaltyKind` (a ``cpdef enum``: one member per compiled prox, named by
the penalty classes of ``sparseopt.optimize.penalties``). Per-coordinate strengths
``lam[j]`` (0 = unpenalised) and shape parameters ``gamma[j]`` (MCP gamma,
SCAD a, log-sum epsilon) are arrays so that weighted penalties (CEL0 as a
weighted MCP, feature weights) cost nothing extra.

Residual convention: ``R = y - X w`` for dense X. For CSC X with implicit
centring (never densified) the residual is stored as ``R = R_s + c * v`` where
``v`` is the row-scaling vector (ones, or sqrt(sample_weight)); see
``cd_epochs_sparse``. The logistic kernel on CSC X keeps the margins of the
centred design ``X - 1 X_mean^T`` (see ``cd_epochs_logistic_sparse``).
"""
cimport cython
from cython cimport floating
from libc.math cimport fabs, sqrt, cos, acos, acosh, cosh, log, exp, pow, M_PI
from scipy.linalg.cython_blas cimport ddot, sdot, daxpy, saxpy, dnrm2, snrm2

import numpy as np

cpdef enum PenaltyKind:
    # the scalar penalties whose prox is inlined in the epochs below (``_prox`` and
    # ``_penalty_value`` switch on it); the Python classes in
    # sparseopt/optimize/penalties.py name theirs with ``kind = PenaltyKind.<member>``
    L1 = 0            # lam|t| + gamma l2 t^2/2 (elastic net when l2 > 0; gamma = ridge weight)
    MCP = 1           # lam|t| - t^2/(2 gamma) on |t| <= gamma lam, gamma lam^2/2 beyond
    SCAD = 2          # gamma = a
    L_HALF = 3        # lam |t|^(1/2)
    L_TWO_THIRDS = 4  # lam |t|^(2/3)
    LOG_SUM = 5       # lam log(1 + |t|/gamma)
    L0 = 6            # lam 1{t != 0}


# the members under their former module-level names
PENALTY_L1, PENALTY_MCP, PENALTY_SCAD = PenaltyKind.L1, PenaltyKind.MCP, PenaltyKind.SCAD
PENALTY_L_HALF, PENALTY_L_TWO_THIRDS = PenaltyKind.L_HALF, PenaltyKind.L_TWO_THIRDS
PENALTY_LOG_SUM, PENALTY_L0 = PenaltyKind.LOG_SUM, PenaltyKind.L0


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


cdef inline floating _csc_dot(const floating* data, const int* indices, int start,
                                int stop, const floating* vec) noexcept nogil:
    """``x_j^T vec`` over the non-zeros ``start:stop`` of a CSC column."""
    cdef floating acc = 0.
    cdef int p
    for p in range(start, stop):
        acc = acc + data[p] * vec[indices[p]]
    return acc


cdef inline void _csc_axpy(const floating* data, const int* indices, int start, int stop,
                           floating a, floating* vec) noexcept nogil:
    """``vec += a x_j`` over the non-zeros ``start:stop`` of a CSC column."""
    cdef int p
    for p in range(start, stop):
        vec[indices[p]] += a * data[p]


cdef inline floating soft_threshold(floating z, floating threshold) noexcept nogil:
    """sign(z) * max(|z| - threshold, 0)."""
    if z > threshold:
        return z - threshold
    if z < -threshold:
        return z + threshold
    return 0.


cdef inline double _sign(double z) noexcept nogil:
    return 1. if z > 0 else (-1. if z < 0 else 0.)


cdef inline double _penalty_value(PenaltyKind kind, double t, double lam,
                                  double gamma) noexcept nogil:
    """p(t) for the scalar penalties (l2 part of the elastic net excluded)."""
    cdef double a = fabs(t)
    if kind == L1:
        return lam * a
    if kind == MCP:
        if a <= gamma * lam:
            return lam * a - a * a / (2. * gamma)
        return gamma * lam * lam / 2.
    if kind == SCAD:
        if a <= lam:
            return lam * a
        if a <= gamma * lam:
            return (2. * gamma * lam * a - a * a - lam * lam) / (2. * (gamma - 1.))
        return lam * lam * (gamma + 1.) / 2.
    if kind == L_HALF:
        return lam * sqrt(a)
    if kind == L_TWO_THIRDS:
        return lam * pow(a, 2. / 3.)
    if kind == LOG_SUM:
        return lam * log(1. + a / gamma)
    if kind == L0:
        return lam if a != 0. else 0.
    return 0.


cdef inline double _obj1d(PenaltyKind kind, double x, double z, double step, double lam,
                          double gamma) noexcept nogil:
    return 0.5 * (x - z) * (x - z) + step * _penalty_value(kind, x, lam, gamma)


cdef inline double _best(PenaltyKind kind, double z, double step, double lam, double gamma,
                         double c1, double c2, double c3, int n_cand) noexcept nogil:
    """Candidate with the smallest 1-d objective; x = 0 wins ties (ties return 0)."""
    cdef double best = 0., best_obj = _obj1d(kind, 0., z, step, lam, gamma), o
    o = _obj1d(kind, c1, z, step, lam, gamma)
    if o < best_obj:
        best, best_obj = c1, o
    if n_cand > 1:
        o = _obj1d(kind, c2, z, step, lam, gamma)
        if o < best_obj:
            best, best_obj = c2, o
    if n_cand > 2:
        o = _obj1d(kind, c3, z, step, lam, gamma)
        if o < best_obj:
            best, best_obj = c3, o
    return best


cdef inline double _prox(PenaltyKind kind, double z, double step, double lam, double gamma,
                         double l2, bint positive) noexcept nogil:
    """argmin_x 0.5 (x - z)^2 + step * p(x), x >= 0 if ``positive``.

    The penalties are even and non-decreasing in |x|, so the positive prox is
    the plain prox for z > 0 and 0 otherwise.
    """
    cdef double a = fabs(z), s = _sign(z), mu = step * lam, x, phi, nu, A, disc
    if positive and z <= 0:
        return 0.
    if kind == L1:  # soft threshold, ridge shrinkage; gamma = the coordinate's ridge weight
        return soft_threshold(z, mu) / (1. + step * l2 * gamma)
    if lam == 0.:
        return z
    if kind == MCP:  # MCP; firm threshold when gamma > step, else piecewise concave
        if gamma > step:
            if a <= gamma * lam:
                return soft_threshold(z, mu) / (1. - step / gamma)
            return z
        if a > gamma * lam:
            return _best(kind, z, step, lam, gamma, s * gamma * lam, z, 0., 2)
        return _best(kind, z, step, lam, gamma, s * gamma * lam, 0., 0., 1)
    if kind == SCAD:  # SCAD (gamma = a)
        if gamma > 1. + step:
            if a <= lam * (1. + step):
                return soft_threshold(z, mu)
            if a <= gamma * lam:
                return ((gamma - 1.) * z - s * step * gamma * lam) / (gamma - 1. - step)
            return z
        x = soft_threshold(z, mu)
        if fabs(x) > lam:
            x = s * lam
        if a > gamma * lam:
            return _best(kind, z, step, lam, gamma, x, s * gamma * lam, z, 3)
        return _best(kind, z, step, lam, gamma, x, s * gamma * lam, 0., 2)
    if kind == L_HALF:  # half thresholding (Xu et al. 2012) for 0.5(x-z)^2 + mu|x|^(1/2)
        if a <= 1.5 * pow(mu, 2. / 3.):
            return 0.
        phi = acos((mu / 4.) * pow(a / 3., -1.5))
        x = (2. / 3.) * z * (1. + cos(2. * M_PI / 3. - (2. / 3.) * phi))
        return _best(kind, z, step, lam, gamma, x, 0., 0., 1)
    if kind == L_TWO_THIRDS:  # two-thirds thresholding (Cao, Sun & Xu 2013), nu = 2 mu
        if a <= 2. * pow(2. * mu / 3., 0.75):
            return 0.
        nu = 2. * mu
        phi = acosh(27. * z * z / (16. * pow(nu, 1.5)))
        A = (2. / sqrt(3.)) * pow(nu, 0.25) * sqrt(cosh(phi / 3.))
        disc = 2. * a / A - A * A
        if disc < 0.:
            disc = 0.
        x = (A + sqrt(disc)) / 2.
        x = s * x * x * x
        return _best(kind, z, step, lam, gamma, x, 0., 0., 1)
    if kind == LOG_SUM:  # log-sum: larger root of the stationarity quadratic, vs 0
        disc = (a + gamma) * (a + gamma) - 4. * mu
        if disc < 0.:
            return 0.
        x = 0.5 * ((a - gamma) + sqrt(disc))
        if x <= 0.:
            return 0.
        return _best(kind, z, step, lam, gamma, s * x, 0., 0., 1)
    if kind == L0:  # hard threshold
        if a > sqrt(2. * mu):
            return z
        return 0.
    return z


def prox_scalar(PenaltyKind kind, double[::1] z, double[::1] step, double[::1] lam,
                double[::1] gamma, double l2=0., bint positive=False):
    """Elementwise prox ``argmin_x 0.5 (x - z_i)^2 + step_i p_i(x)`` (testing, Python side)."""
    cdef Py_ssize_t i, n = z.shape[0]
    out = np.empty(n)
    cdef double[::1] o = out
    with nogil:
        for i in range(n):
            o[i] = _prox(kind, z[i], step[i], lam[i], gamma[i], l2, positive)
    return out


def penalty_value(PenaltyKind kind, double[::1] t, double[::1] lam, double[::1] gamma):
    """Sum over i of p_i(t_i) (the l2 part of the elastic net excluded)."""
    cdef Py_ssize_t i
    cdef double total = 0.
    with nogil:
        for i in range(t.shape[0]):
            total += _penalty_value(kind, t[i], lam[i], gamma[i])
    return total


# ------------------------------------------------------------- least squares, dense
def cd_epochs_dense(const floating[::1, :] X, floating[::1] w, floating[::1] R,
                    const floating[::1] lipschitz, const int[::1] working_set,
                    PenaltyKind kind, const floating[::1] lam, const floating[::1] gamma,
                    floating l2, bint positive, int n_epochs):
    """Run ``n_epochs`` cyclic CD epochs over ``working_set`` (dense, Fortran X).

    ``lipschitz[j] = ||x_j||^2 / n``; coordinates with zero Lipschitz constant
    are skipped. Update: ``w_j <- prox_{p_j/L_j}(w_j +
    x_j^T R / (n L_j))``, ``R <- R - x_j dw``. Returns the largest absolute
    coefficient change of the last epoch.
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
                w_new = <floating> _prox(kind, w_old + grad / lipschitz[j], 1. / lipschitz[j],
                                         lam[j], gamma[j], l2, positive)
                if w_new != w_old:
                    _axpy(n_samples, w_old - w_new, &X[0, j], &R[0])
                    w[j] = w_new
                    if fabs(w_new - w_old) > max_change:
                        max_change = fabs(w_new - w_old)
    return max_change


# ------------------------------------------------------------- least squares, Gram
def cd_epochs_gram(const floating[::1, :] G, floating[::1] w, floating[::1] XtR,
                   const floating[::1] lipschitz, const int[::1] working_set,
                   PenaltyKind kind, const floating[::1] lam, const floating[::1] gamma,
                   floating l2, bint positive, int n_samples, int n_epochs):
    """CD epochs on the Gram matrix ``G = X^T X`` (n >> p), keeping ``XtR = X^T R``.

    Same update as ``cd_epochs_dense`` with ``x_j^T R`` read from ``XtR`` and
    ``XtR <- XtR - G[:, j] dw`` (cost O(p) per update instead of O(n)).
    """
    cdef int p = G.shape[0]
    cdef Py_ssize_t epoch, k, j
    cdef floating w_old, w_new, max_change = 0.
    cdef floating inv_n = 1. / n_samples
    with nogil:
        for epoch in range(n_epochs):
            max_change = 0.
            for k in range(working_set.shape[0]):
                j = working_set[k]
                if lipschitz[j] == 0.:
                    continue
                w_old = w[j]
                w_new = <floating> _prox(kind, w_old + XtR[j] * inv_n / lipschitz[j],
                                         1. / lipschitz[j], lam[j], gamma[j], l2, positive)
                if w_new != w_old:
                    _axpy(p, w_old - w_new, &G[0, j], &XtR[0])
                    w[j] = w_new
                    if fabs(w_new - w_old) > max_change:
                        max_change = fabs(w_new - w_old)
    return max_change


# ------------------------------------------------------------- least squares, CSC
def cd_epochs_sparse(const floating[::1] data, const int[::1] indices,
                     const int[::1] indptr, const floating[::1] X_mean,
                     const floating[::1] Xv, floating vv,
                     floating[::1] w, floating[::1] R_s, floating[::1] state,
                     const floating[::1] lipschitz, const int[::1] working_set,
                     PenaltyKind kind, const floating[::1] lam, const floating[::1] gamma,
                     floating l2, bint positive, int n_samples, int n_epochs):
    """CD epochs on CSC X, centred implicitly by ``X_mean`` (zeros: no centring).

    The design seen by the solver is ``X_c = X - v X_mean^T`` where ``v`` is the
    row-scaling vector and ``Xv[j] = x_j^T v``, ``vv = v^T v``. The residual is
    ``R = R_s + c v`` with ``state = [c, v^T R_s]``; an update touches only the
    non-zeros of column j (O(nnz_j)), never the dense column.
    """
    cdef Py_ssize_t epoch, k, j
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
                xr = _csc_dot(&data[0], &indices[0], indptr[j], indptr[j + 1], &R_s[0])
                # x_c^T R = x^T R_s + c x^T v - mean_j (v^T R_s + c v^T v)
                grad = (xr + c * Xv[j] - X_mean[j] * (vR + c * vv)) * inv_n
                w_old = w[j]
                w_new = <floating> _prox(kind, w_old + grad / lipschitz[j], 1. / lipschitz[j],
                                         lam[j], gamma[j], l2, positive)
                if w_new != w_old:
                    delta = w_new - w_old
                    _csc_axpy(&data[0], &indices[0], indptr[j], indptr[j + 1], -delta, &R_s[0])
                    vR = vR - delta * Xv[j]
                    c = c + delta * X_mean[j]
                    w[j] = w_new
                    if fabs(delta) > max_change:
                        max_change = fabs(delta)
    state[0] = c
    state[1] = vR
    return max_change


# ------------------------------------------------------------- logistic loss
cdef inline floating _logistic_grad_coef(floating y, floating xw) noexcept nogil:
    # d/d(xw) log(1 + exp(-y xw)) = -y / (1 + exp(y xw))
    return -y / (1. + exp(y * xw))


def cd_epochs_logistic_dense(const floating[::1, :] X, const floating[::1] y,
                             const floating[::1] sample_weight, floating[::1] w, floating[::1] Xw,
                             const floating[::1] lipschitz, const int[::1] working_set,
                             PenaltyKind kind, const floating[::1] lam, const floating[::1] gamma,
                             floating l2, bint positive, int n_epochs):
    """CD epochs for ``(1/n) sum s_i log(1 + exp(-y_i x_i^T w)) + sum p_j(w_j)``, y in {-1, 1}.

    ``s`` = ``sample_weight``; ``lipschitz[j] = sum_i s_i x_ij^2 / (4 n)``; ``Xw`` is kept current.
    """
    cdef int n_samples = X.shape[0]
    cdef Py_ssize_t epoch, k, j, i
    cdef floating w_old, w_new, grad, max_change = 0.
    cdef floating inv_n = 1. / n_samples
    with nogil:
        for epoch in range(n_epochs):
            max_change = 0.
            for k in range(working_set.shape[0]):
                j = working_set[k]
                if lipschitz[j] == 0.:
                    continue
                grad = 0.
                for i in range(n_samples):
                    grad = grad + sample_weight[i] * X[i, j] * _logistic_grad_coef(y[i], Xw[i])
                grad = grad * inv_n
                w_old = w[j]
                w_new = <floating> _prox(kind, w_old - grad / lipschitz[j], 1. / lipschitz[j],
                                         lam[j], gamma[j], l2, positive)
                if w_new != w_old:
                    _axpy(n_samples, w_new - w_old, &X[0, j], &Xw[0])
                    w[j] = w_new
                    if fabs(w_new - w_old) > max_change:
                        max_change = fabs(w_new - w_old)
    return max_change


cdef inline double _logistic_csc_col_grad(const floating* data, const int* indices,
                                          int start, int stop, const floating* y,
                                          const floating* sample_weight,
                                          const double* z) noexcept nogil:
    """``sum_i s_i x_ij l'(z_i)`` over the non-zeros of column j (an uncentred one)."""
    cdef double acc = 0.
    cdef int p, i
    for p in range(start, stop):
        i = indices[p]
        acc = acc + (<double> sample_weight[i]) * (<double> data[p]) * _logistic_grad_coef(
            <double> y[i], z[i])
    return acc


cdef inline double _centred_col_dot(const floating* data, const int* indices, int start,
                                   int stop, double mean, int n_samples,
                                   const double* r) noexcept nogil:
    """``(x_j - mean 1)^T r`` over every row, walking column j's sorted non-zeros alongside:
    each centred entry is formed first (a zero gives ``-mean``), as in a centred dense
    column, so that a nearly constant column gets a product at its own scale, not the
    rounding error of ``x_j^T r - mean 1^T r``. Unsorted indices give a wrong sum, never
    a read out of bounds."""
    cdef double acc = 0.
    cdef int p = start, i
    for i in range(n_samples):
        if p < stop and indices[p] == i:
            acc = acc + ((<double> data[p]) - mean) * r[i]
            p += 1
        else:
            acc = acc - mean * r[i]
    return acc


cdef inline void _centred_col_axpy(const floating* data, const int* indices, int start,
                                   int stop, double mean, int n_samples, double a,
                                   double* z) noexcept nogil:
    """``z += a (x_j - mean 1)`` over every row (the walk of ``_centred_col_dot``)."""
    cdef int p = start, i
    for i in range(n_samples):
        if p < stop and indices[p] == i:
            z[i] += a * ((<double> data[p]) - mean)
            p += 1
        else:
            z[i] -= a * mean


cdef _check_logistic_sparse_args(Py_ssize_t n_data, Py_ssize_t n_indices, Py_ssize_t n_indptr,
                                 Py_ssize_t n_mean, Py_ssize_t n_y, Py_ssize_t n_weight,
                                 Py_ssize_t n_w, Py_ssize_t n_Xw, Py_ssize_t n_lipschitz,
                                 Py_ssize_t n_lam, Py_ssize_t n_gamma, Py_ssize_t n_buffer,
                                 int n_samples, const int[::1] indptr,
                                 const int[::1] working_set):
    """ValueError before the loop reads past an array (the epochs run unchecked): every
    length, ``indptr``'s ends and the working set's range, in O(1) + a vectorised min / max
    over the working set per call (every epoch calls this). ``indptr`` non-decreasing and
    the row indices < n_samples, sorted within each column (O(nnz) to check) are the
    caller's: the solver's CSC design guarantees them."""
    cdef Py_ssize_t k, n_cols = n_indptr - 1
    cdef int lo = 0, hi = 0, v
    cdef const int* ws = &working_set[0] if working_set.shape[0] else NULL
    if working_set.shape[0]:
        lo = hi = ws[0]
        for k in range(working_set.shape[0]):  # (a plain min / max loop: vectorised)
            v = ws[k]
            lo = v if v < lo else lo
            hi = v if v > hi else hi
    if n_cols >= 0 and n_data == n_indices and indptr[0] == 0 and indptr[n_cols] == n_data \
            and (n_mean == n_cols or n_mean == 0) and n_w == n_cols and n_lipschitz == n_cols \
            and n_lam == n_cols and n_gamma == n_cols and n_y == n_samples \
            and n_weight == n_samples and n_Xw == n_samples and n_buffer == n_samples \
            and 0 <= lo and hi < n_cols:
        return
    if n_cols < 0 or n_data != n_indices or indptr[0] != 0 or indptr[n_cols] != n_data:
        raise ValueError("cd_epochs_logistic_sparse: data, indices and indptr are not a CSC "
                         f"matrix (len(data)={n_data}, len(indices)={n_indices}, "
                         f"len(indptr)={n_indptr}).")
    for name, size in (("X_mean", n_mean), ("w", n_w), ("lipschitz", n_lipschitz),
                       ("lam", n_lam), ("gamma", n_gamma)):
        if size != n_cols and not (name == "X_mean" and size == 0):
            raise ValueError(f"cd_epochs_logistic_sparse: {name} has length {size}, expected "
                             f"{n_cols} (one per column).")
    for name, size in (("y", n_y), ("sample_weight", n_weight), ("Xw", n_Xw),
                       ("g_buffer", n_buffer)):
        if size != n_samples:
            raise ValueError(f"cd_epochs_logistic_sparse: {name} has length {size}, expected "
                             f"n_samples={n_samples}.")
    raise ValueError(f"cd_epochs_logistic_sparse: working_set holds {lo if lo < 0 else hi}, "
                     f"outside [0, {n_cols}).")


def cd_epochs_logistic_sparse(const floating[::1] data, const int[::1] indices,
                              const int[::1] indptr, const floating[::1] X_mean,
                              const floating[::1] y, const floating[::1] sample_weight,
                              floating[::1] w, double[::1] Xw, double[::1] g_buffer,
                              const floating[::1] lipschitz, const int[::1] working_set,
                              PenaltyKind kind, const floating[::1] lam, const floating[::1] gamma,
                              floating l2, bint positive, int n_samples, int n_epochs):
    """Logistic CD epochs on CSC X, centred implicitly by ``X_mean`` (empty or zeros: none).

    The design seen by the solver is ``X_c = X - 1 X_mean^T`` (the convention of
    ``cd_epochs_sparse`` with ``v = 1``: the sample weights enter the loss, not the
    rows); ``Xw`` holds its margins ``X_c w`` (float64 whatever the data's dtype),
    updated in place. ``lipschitz[j] = sum_i s_i (x_ij - X_mean[j])^2 / (4 n)``.
    A column with ``X_mean[j] == 0`` costs O(nnz_j) (gradient over its non-zeros, margins
    updated on them); a centred one O(n_samples), its centred entries formed on the fly
    from the non-zeros, as a dense column would give them (see ``_centred_col_dot``;
    ``indices`` sorted within each column), against ``g_i = s_i l'(z_i)`` kept in
    ``g_buffer`` (length n_samples, scratch) until a coefficient moves. Arithmetic in
    float64. Lengths and the working set are checked before the loop (see
    ``_check_logistic_sparse_args``).
    """
    _check_logistic_sparse_args(data.shape[0], indices.shape[0], indptr.shape[0],
                                X_mean.shape[0], y.shape[0], sample_weight.shape[0], w.shape[0],
                                Xw.shape[0], lipschitz.shape[0], lam.shape[0],
                                gamma.shape[0], g_buffer.shape[0], n_samples, indptr,
                                working_set)
    cdef Py_ssize_t epoch, k, j
    cdef int p, i
    cdef floating w_old, w_new, delta, max_change = 0.
    cdef double grad
    cdef double inv_n = 1. / n_samples
    cdef bint g_stale = True
    cdef double* g = &g_buffer[0] if n_samples else NULL
    cdef bint centring = X_mean.shape[0] > 0  # (empty: no column is read as centred)
    cdef const floating* data_p = &data[0] if data.shape[0] else NULL
    cdef const int* indices_p = &indices[0] if indices.shape[0] else NULL
    with nogil:
        for epoch in range(n_epochs):
            max_change = 0.
            for k in range(working_set.shape[0]):
                j = working_set[k]
                if lipschitz[j] == 0.:
                    continue
                if centring and X_mean[j] != 0.:
                    if g_stale:  # g_i = s_i l'(z_i), valid until a coefficient moves
                        for i in range(n_samples):
                            g[i] = (<double> sample_weight[i]) * _logistic_grad_coef(
                                <double> y[i], Xw[i])
                        g_stale = False
                    grad = _centred_col_dot(data_p, indices_p, indptr[j], indptr[j + 1],
                                            X_mean[j], n_samples, g)
                else:
                    grad = _logistic_csc_col_grad(data_p, indices_p, indptr[j], indptr[j + 1],
                                                  &y[0], &sample_weight[0], &Xw[0])
                grad = grad * inv_n
                w_old = w[j]
                w_new = <floating> _prox(kind, w_old - grad / lipschitz[j], 1. / lipschitz[j],
                                         lam[j], gamma[j], l2, positive)
                if w_new != w_old:
                    delta = w_new - w_old
                    g_stale = True
                    if centring and X_mean[j] != 0.:
                        _centred_col_axpy(data_p, indices_p, indptr[j], indptr[j + 1],
                                          X_mean[j], n_samples, delta, &Xw[0])
                    else:
                        for p in range(indptr[j], indptr[j + 1]):  # Xw += delta x_j
                            Xw[indices_p[p]] += (<double> delta) * data_p[p]
                    w[j] = w_new
                    if fabs(delta) > max_change:
                        max_change = fabs(delta)
    return max_change


# ------------------------------------------------------------- group lasso, dense
def group_cd_epochs_dense(const floating[::1, :] X, floating[::1] w, floating[::1] R,
                          const int[::1] group_ptr, const int[::1] group_features,
                          const floating[::1] group_lipschitz, const int[::1] working_set,
                          const floating[::1] group_lam, floating[::1] buffer, int n_epochs,
                          bint positive=False):
    """Block CD epochs for ``sum_g lam_g ||w_g||_2``.

    Group g holds features ``group_features[group_ptr[g]:group_ptr[g+1]]``;
    ``group_lipschitz[g] = ||X_g||_2^2 / n``. Update: ``z = w_g + X_g^T R/(n L_g)``,
    ``w_g <- (1 - lam_g/(L_g ||z||))_+ z``. ``buffer`` holds the group's new block.
    ``positive``: ``z`` is first projected on ``z >= 0`` (prox of the group norm plus
    the orthant's indicator).
    """
    cdef int n_samples = X.shape[0]
    cdef Py_ssize_t epoch, k, g, i, j, start, stop
    cdef floating L, norm, scale, delta, max_change = 0.
    cdef floating inv_n = 1. / n_samples
    with nogil:
        for epoch in range(n_epochs):
            max_change = 0.
            for k in range(working_set.shape[0]):
                g = working_set[k]
                L = group_lipschitz[g]
                if L == 0.:
                    continue
                start = group_ptr[g]
                stop = group_ptr[g + 1]
                norm = 0.
                for i in range(start, stop):
                    j = group_features[i]
                    buffer[i - start] = w[j] + _dot(n_samples, &X[0, j], &R[0]) * inv_n / L
                    if positive and buffer[i - start] < 0.:
                        buffer[i - start] = 0.
                    norm = norm + buffer[i - start] * buffer[i - start]
                norm = sqrt(norm)
                scale = 0.
                if norm > group_lam[g] / L:
                    scale = 1. - group_lam[g] / (L * norm)
                for i in range(start, stop):
                    j = group_features[i]
                    delta = scale * buffer[i - start] - w[j]
                    if delta != 0.:
                        _axpy(n_samples, -delta, &X[0, j], &R[0])
                        w[j] = w[j] + delta
                        if fabs(delta) > max_change:
                            max_change = fabs(delta)
    return max_change


# ------------------------------------------------------------- gradients on a subset
def xtr_subset_dense(const floating[::1, :] X, const floating[::1] R, const int[::1] cols,
                     floating[::1] out):
    """``out[k] = x_{cols[k]}^T R`` without copying the columns."""
    cdef int n_samples = X.shape[0]
    cdef Py_ssize_t k
    with nogil:
        for k in range(cols.shape[0]):
            out[k] = _dot(n_samples, &X[0, cols[k]], &R[0])


def xtr_subset_sparse(const floating[::1] data, const int[::1] indices,
                      const int[::1] indptr, const floating[::1] X_mean,
                      const floating[::1] Xv, floating vv, const floating[::1] R_s,
                      const floating[::1] state, const int[::1] cols, floating[::1] out):
    """``out[k] = x_c^T R`` for centred CSC columns, with ``R = R_s + c v`` (see above)."""
    cdef Py_ssize_t k, j
    cdef floating xr, c = state[0], vR = state[1]
    with nogil:
        for k in range(cols.shape[0]):
            j = cols[k]
            xr = _csc_dot(&data[0], &indices[0], indptr[j], indptr[j + 1], &R_s[0])
            out[k] = xr + c * Xv[j] - X_mean[j] * (vR + c * vv)


def xtr_subset_centred(const floating[::1] data, const int[::1] indices,
                       const int[::1] indptr, const floating[::1] X_mean,
                       const double[::1] r, const int[::1] cols, double[::1] out):
    """``out[k] = (x_j - X_mean[j] 1)^T r`` for ``j = cols[k]``, in float64 (the logistic
    CSC design's products): a centred column over every row (``_centred_col_dot``), an
    uncentred one over its non-zeros. Lengths, ``indptr``'s ends and ``cols`` are checked
    first (``indptr`` non-decreasing, row indices < len(r) and sorted within each column:
    the caller's, as the solver's CSC design guarantees)."""
    cdef Py_ssize_t k, j, n_cols = indptr.shape[0] - 1
    cdef int p, n_samples = r.shape[0]
    cdef double acc
    if n_cols < 0 or X_mean.shape[0] != n_cols or out.shape[0] != cols.shape[0] \
            or data.shape[0] != indices.shape[0] or indptr[0] != 0 \
            or indptr[n_cols] != data.shape[0]:
        raise ValueError("xtr_subset_centred: inconsistent lengths of data, indices, indptr, "
                         "X_mean, cols and out.")
    for k in range(cols.shape[0]):
        if cols[k] < 0 or cols[k] >= n_cols:
            raise ValueError(f"xtr_subset_centred: cols holds {cols[k]}, outside [0, {n_cols}).")

    cdef const floating* data_p = &data[0] if data.shape[0] else NULL
    cdef const int* indices_p = &indices[0] if indices.shape[0] else NULL
    with nogil:
        for k in range(cols.shape[0]):
            j = cols[k]
            if X_mean[j] != 0.:
                out[k] = _centred_col_dot(data_p, indices_p, indptr[j], indptr[j + 1],
                                          X_mean[j], n_samples, &r[0])
            else:
                acc = 0.
                for p in range(indptr[j], indptr[j + 1]):
                    acc = acc + (<double> data_p[p]) * r[indices_p[p]]
                out[k] = acc
