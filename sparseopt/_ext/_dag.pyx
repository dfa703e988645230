# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled inner loop of the log-det path-following DAG learners (CoLiDE, DAGMA).

One call runs one *stage* of the path (fixed ``mu`` and ``s``): Adam steps on
``mu * (score(W, sigma) + lambda1 ||W||_1) + h_s(W)`` with the closed-form
scale update after every step. The kernel is dumb: contiguous float64 arrays,
scalars and output buffers in, a status code and counters out; the loop runs
without the GIL. The stage driver (retries, schedule, thresholding) is
``sparseopt.causal._path_following``.

Per iteration the O(d^3) work is one inverse ``M = (sI - W o W)^-1`` and one
product ``Sigma @ W`` (BLAS ``dgemm``) that serves the score gradient and the
scale update. The inverse is an elimination *without pivoting*
(``domain_inverse``): ``sI - W o W`` is a Z-matrix, and a Z-matrix is a
nonsingular M-matrix exactly when all its leading principal minors are
positive, i.e. when every pivot of the unpivoted elimination is positive. So
the one elimination gives the domain test (pivots), ``log det`` (sum of log
pivots, hence ``h_s``) and the inverse (for the gradient of ``h_s`` and the
reference codes' ``M >= 0`` test). Up to order 64 it is one Gauss-Jordan
sweep, two pivots at a time, in C (``src/gauss_jordan.c``: AVX2/FMA row
updates where the CPU has them); above, a recursive 2 x 2 block elimination
whose Schur-complement products are BLAS ``dgemm`` on half-size blocks, with
such sweeps at the leaves. 1.8-4.1x faster than LAPACK ``getrf`` + ``getri``
at d = 20..200 (see ``benchmarks/results/dag.md``). The inverse is computed
transposed so that the gradient loop reads it row by row. The work buffers of
the iteration are allocated once per stage.

Compiled ahead of time (no JIT on first use). BLAS and LAPACK are scipy's
(``scipy.linalg.cython_blas`` / ``cython_lapack``), the ones numpy and scipy use.
"""
import numpy as np

from libc.math cimport exp, fabs, log, log1p, pow, sqrt, INFINITY, NAN, isfinite
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset
from scipy.linalg.cython_blas cimport dgemm
from scipy.linalg.cython_lapack cimport dgetrf


cdef extern from "src/gauss_jordan.h":
    double sparseopt_gauss_jordan(double *A, int64_t n, int64_t nc, double *r1,
                                  double *r2) nogil

cdef extern from "src/dag_elementwise.h":
    void sparseopt_adam_step(double *W, const double *MT, int64_t ldm, const double *P,
                             double *m, double *v, double *step, double *W_prev,
                             const double *free_mask, int64_t fs0, int64_t fs1,
                             const double *scaled_mu, double mu_lambda, double beta1,
                             double beta2, double inv_bias1, double inv_bias2, double eps,
                             double lr, int64_t d) nogil
    double sparseopt_min_entry(const double *M, int64_t d, int64_t ld) nogil
    int sparseopt_dag_vector_level() nogil


def vector_level():
    """Vector width of the elementwise loops on this CPU: 2 AVX-512, 1 AVX2, 0 baseline."""
    return sparseopt_dag_vector_level()


# status codes returned by adam_stage
STAGE_MAX_ITER = 0      # iteration budget used up
STAGE_CONVERGED = 1     # relative objective change <= tol at a checkpoint
STAGE_DOMAIN_FAIL = 2   # left the M-matrix domain where a retry with larger s is required
STAGE_LR_UNDERFLOW = 3  # backtracking drove lr below 1e-16; current W accepted

# scale modes
SCALE_FIXED = 0  # DAGMA: sigma held (at 1)
SCALE_EV = 1     # CoLiDE-EV: one sigma for all nodes
SCALE_NV = 2     # CoLiDE-NV: one sigma per node

LOSS_L2 = 0
LOSS_LOGISTIC = 1

cdef enum:
    _MAX_ITER = 0
    _CONVERGED = 1
    _DOMAIN_FAIL = 2
    _LR_UNDERFLOW = 3
    _NOT_FINITE = -1  # internal: the checkpoint's slogdet met inf / NaN (raised as LinAlgError)
    _NO_MEMORY = -2   # internal: a work buffer could not be allocated
    _FIXED = 0
    _EV = 1
    _NV = 2
    _L2 = 0
    _LOGISTIC = 1

# order at or below which the inverse is one Gauss-Jordan sweep over a zero-padded buffer
# (measured, domain_inverse with row length rounded up to a multiple of 4 and the C sweep:
# d = 50: 11.7 us, against 16.4 us for the recursion with leaves <= 32; d = 100 / 200:
# 77.5 / 479 us with leaves <= 64, against 83 / 506 us with leaves <= 100 or 128)
cdef enum:
    BASE = 64
_BASE = BASE


cdef inline int64_t _padded(int64_t n) noexcept nogil:
    """Row length of the inverse's buffers: n rounded up to a multiple of 4 (one AVX2
    vector of float64), so the row loops of the sweep have no scalar tail (measured:
    the tail of n = 50 costs ~15% of the sweep)."""
    return (n + 3) // 4 * 4


cdef int64_t _levels(int64_t d) noexcept nogil:
    """Depth of the recursion of :func:`domain_inverse` (1 for d <= BASE)."""
    cdef int64_t levels = 1, n = d
    while n > BASE:
        n -= n // 2  # the larger half
        levels += 1
    return levels


# ----------------------------------------------------------------------------- BLAS
cdef void _gemm_rm(int64_t m, int64_t n, int64_t k, double alpha, const double *A, int64_t lda,
                   const double *B, int64_t ldb, double beta, double *C,
                   int64_t ldc) noexcept nogil:
    """C = alpha A B + beta C for row-major A (m, k), B (k, n), C (m, n) with row strides
    lda, ldb, ldc (in elements; unit column stride).

    A row-major matrix with row stride ``ld`` is the column-major transpose, so this is
    one column-major dgemm ``C^T = alpha B^T A^T + beta C^T`` (no copy).
    """
    cdef char no_trans = b'N'
    cdef int cm = <int>n, cn = <int>m, ck = <int>k
    cdef int la = <int>lda, lb = <int>ldb, lc = <int>ldc
    cdef int64_t i, j
    if m <= 0 or n <= 0:
        return
    if k <= 0:  # no product: C = beta C (BLAS would reject the zero leading dimensions)
        for i in range(m):
            for j in range(n):
                C[i * ldc + j] = beta * C[i * ldc + j] if beta != 0.0 else 0.0
        return
    dgemm(&no_trans, &no_trans, &cm, &cn, &ck, &alpha, <double*>B, &lb, <double*>A, &la,
          &beta, C, &lc)


cdef inline bint _unit_columns(const double[:, :] X) noexcept:
    """Whether the view's columns are adjacent (the stride only matters with >= 2 columns)."""
    return X.shape[0] == 0 or X.shape[1] <= 1 or X.strides[1] == sizeof(double)


def _gemm(double alpha, const double[:, :] A, const double[:, :] B, double beta, double[:, :] C):
    """C = alpha A B + beta C in place, for row-major views with unit column stride
    (one BLAS dgemm on the views, no copy)."""
    cdef int64_t m = A.shape[0], k = A.shape[1], n = B.shape[1]
    if (B.shape[0] != k or C.shape[0] != m or C.shape[1] != n or not _unit_columns(A)
            or not _unit_columns(B) or not _unit_columns(C)):
        raise ValueError("_gemm: shapes must agree and the views need unit column strides")
    if m == 0 or n == 0:
        return
    cdef const double *pa = &A[0, 0] if k > 0 else NULL
    cdef const double *pb = &B[0, 0] if k > 0 else NULL
    _gemm_rm(m, n, k, alpha, pa, A.strides[0] // sizeof(double), pb,
             B.strides[0] // sizeof(double), beta, &C[0, 0], C.strides[0] // sizeof(double))


# -------------------------------------------------------------------------- inverse
cdef double _recursive_inverse(double *A, int64_t lda, int64_t d, double *work,
                               int64_t dp) noexcept nogil:
    """In-place inverse of the Z-matrix A (d, d; row stride lda) by recursive 2 x 2 block
    elimination without pivoting; returns log det A, -inf at a non-positive pivot.

    With ``A = [[A11, A12], [A21, A22]]``, ``X = A11^-1`` and the Schur
    complement ``S = A22 - A21 X A12``: ``A^-1 = [[X + X A12 S^-1 A21 X,
    -X A12 S^-1], [-S^-1 A21 X, S^-1]]`` and ``log det A = log det A11 +
    log det S``. The pivots met on the way are those of the unpivoted
    elimination of A, so ``-inf`` (a pivot ``<= 0``) is the exact M-matrix
    test. All O(n^3) work is four dgemm per split. ``work`` is the
    (levels, 2, d, dp) buffer of :func:`domain_workspace`; slot ``(level, q)``
    starts at ``work + (2 level + q) d dp``. The recursion runs on an explicit
    stack of (offset, order, level, phase); phase 0: invert A11, 1: Schur
    complement and invert it, 2: assemble the inverse.
    """
    cdef int64_t stack[64][4]
    cdef int64_t top = 1, r0, n, level, phase, k, n2, npad, i
    cdef int64_t slot = d * dp
    cdef double logdet = 0.0, ld
    cdef double *block
    cdef double *buf
    cdef double *T
    cdef double *U
    cdef double *A11
    cdef double *A12
    cdef double *A21
    cdef double *A22
    stack[0][0], stack[0][1], stack[0][2], stack[0][3] = 0, d, 0, 0
    while top > 0:
        top -= 1
        r0, n, level, phase = stack[top][0], stack[top][1], stack[top][2], stack[top][3]
        if n <= BASE:
            # a contiguous, zero-padded copy (the slots of this level are free at a leaf)
            # lets the sweep vectorise; the block of A is a strided view
            block = A + r0 * lda + r0
            npad = _padded(n)
            buf = work + (2 * level + 1) * slot
            for i in range(n):
                memcpy(buf + i * npad, block + i * lda, n * sizeof(double))
                memset(buf + i * npad + n, 0, (npad - n) * sizeof(double))
            T = work + 2 * level * slot  # the sweep's two row buffers
            ld = sparseopt_gauss_jordan(buf, n, npad, T, T + dp)
            if ld == -INFINITY:
                return ld
            for i in range(n):
                memcpy(block + i * lda, buf + i * npad, n * sizeof(double))
            logdet += ld
            continue
        k = n // 2
        n2 = n - k
        A11 = A + r0 * lda + r0
        A12 = A11 + k
        A21 = A11 + k * lda
        A22 = A21 + k
        T = work + 2 * level * slot  # (n2, k), row stride dp
        if phase == 0:  # then invert A11 in place (A11 <- X)
            stack[top][3] = 1
            stack[top + 1][0], stack[top + 1][1] = r0, k
            stack[top + 1][2], stack[top + 1][3] = level + 1, 0
            top += 2
        elif phase == 1:  # A22 <- S = A22 - A21 X A12, then invert it (A22 <- S^-1)
            _gemm_rm(n2, k, k, 1.0, A21, lda, A11, lda, 0.0, T, dp)  # T = A21 X
            _gemm_rm(n2, n2, k, -1.0, T, dp, A12, lda, 1.0, A22, lda)
            stack[top][3] = 2
            stack[top + 1][0], stack[top + 1][1] = r0 + k, n2
            stack[top + 1][2], stack[top + 1][3] = level + 1, 0
            top += 2
        else:
            U = work + (2 * level + 1) * slot  # (k, n2), row stride dp
            _gemm_rm(k, n2, k, 1.0, A11, lda, A12, lda, 0.0, U, dp)  # U = X A12
            _gemm_rm(k, n2, n2, -1.0, U, dp, A22, lda, 0.0, A12, lda)  # A12 <- -U S^-1
            # [A11; A21] <- [X; 0] - [A12; A22] T (one dgemm on the two column blocks),
            # i.e. A11 <- X + U S^-1 T and A21 <- -S^-1 T
            for i in range(n2):
                memset(A21 + i * lda, 0, k * sizeof(double))
            _gemm_rm(n, k, n2, -1.0, A12, lda, T, dp, 1.0, A11, lda)
    return logdet


cdef double _domain_inverse(const double *W, int64_t d, double s, double *AT, int64_t dp,
                            double *work) noexcept nogil:
    """AT[:, :d] = ((sI - W o W)^-1)^T (AT is (d, dp), zero padding past column d);
    returns log det(sI - W o W), -inf outside the domain."""
    cdef int64_t i, j
    cdef double *ATi
    for i in range(d):
        ATi = AT + i * dp
        for j in range(d):
            ATi[j] = -W[j * d + i] * W[j * d + i]
        ATi[i] += s
        for j in range(d, dp):  # a failed sweep may have left the padding non-zero
            ATi[j] = 0.0
    if d == 0:
        return 0.0
    if d <= BASE:  # one sweep over the padded buffer
        return sparseopt_gauss_jordan(AT, d, dp, work, work + dp)
    return _recursive_inverse(AT, dp, d, work, dp)


def domain_workspace(int64_t d):
    """Work buffers of :func:`domain_inverse` for a (d, d) W: (AT, work).

    ``AT`` is (d, d') with d' = d rounded up to a multiple of 4; its first d
    columns hold the result, the others are zero padding.
    """
    dp = _padded(d)
    return np.zeros((d, dp)), np.zeros((_levels(d), 2, d, dp))


def domain_inverse(const double[:, ::1] W, double s, double[:, ::1] AT,
                   double[:, :, :, ::1] work):
    """AT[:, :d] = ((sI - W o W)^-1)^T; returns log det(sI - W o W), -inf outside the domain.

    ``-inf`` means a non-positive pivot, i.e. ``sI - W o W`` is not a
    nonsingular M-matrix (the exact domain test). Buffers from
    :func:`domain_workspace` (``AT`` is (d, d') with zero padding past column d).
    """
    cdef int64_t d = W.shape[0]
    if (W.shape[1] != d or AT.shape[0] != d or AT.shape[1] != _padded(d)
            or work.shape[0] < _levels(d) or work.shape[1] != 2 or work.shape[2] != d
            or work.shape[3] != AT.shape[1]):
        raise ValueError("domain_inverse: W must be (d, d) and the buffers those of "
                         "domain_workspace(d)")
    if d == 0:
        return 0.0
    cdef double out
    with nogil:
        out = _domain_inverse(&W[0, 0], d, s, &AT[0, 0], AT.shape[1], &work[0, 0, 0, 0])
    return out


cdef inline double _min_entry(const double *M, int64_t d, int64_t ld) noexcept nogil:
    """Smallest entry of the (d, d) part of M (row stride ld; M is NaN-free: a NaN pivot
    already fails the domain test in domain_inverse). Vectorised C (src/dag_elementwise.c)."""
    return sparseopt_min_entry(M, d, ld)


def _min_entry_py(const double[:, ::1] M):
    """Smallest entry of the (d, d) part of the (d, d') array M."""
    if M.shape[1] < M.shape[0]:
        raise ValueError("_min_entry: M must have at least as many columns as rows")
    if M.shape[0] == 0:
        return INFINITY
    return _min_entry(&M[0, 0], M.shape[0], M.shape[1])


# --------------------------------------------------------------- objective and score
cdef int _logdet_h(const double *W, int64_t d, double s, double *buf, int *ipiv,
                   double *out) noexcept nogil:
    """out = h_s(W) = -log det(sI - W o W) + d log s (inf outside the domain), by LAPACK
    getrf with partial pivoting (``buf`` (d, d), ``ipiv`` d). Returns -1 (out untouched)
    when sI - W o W has an inf or NaN entry."""
    cdef int64_t i, j
    cdef int n = <int>d, info = 0
    cdef int sgn = 1
    cdef double acc = 0.0, v
    if d == 0:
        out[0] = 0.0
        return 0
    for j in range(d):  # column-major copy of A = sI - W o W
        for i in range(d):
            v = -W[i * d + j] * W[i * d + j]
            if i == j:
                v += s
            if not isfinite(v):
                return -1
            buf[j * d + i] = v
    dgetrf(&n, &n, buf, &n, ipiv, &info)
    if info > 0:  # exactly singular: log|det| = -inf
        out[0] = INFINITY
        return 0
    for i in range(d):
        sgn += ipiv[i] != i + 1
    sgn = sgn & 1
    if sgn == 0:
        sgn = -1
    for i in range(d):
        v = buf[i * d + i]
        if v < 0.0:
            sgn = -sgn
            v = -v
        acc = acc + log(v)
    if sgn <= 0:
        out[0] = INFINITY
    else:
        out[0] = -acc + d * log(s)
    return 0


def logdet_h(W, double s):
    """h_s(W) = -log det(sI - W o W) + d log s (inf outside the domain)."""
    cdef const double[:, ::1] Wv = np.ascontiguousarray(W, dtype=np.float64)
    cdef int64_t d = Wv.shape[0]
    if Wv.shape[1] != d:
        raise ValueError("logdet_h: W must be square")
    cdef double[::1] buf = np.empty(d * d)
    cdef int[::1] ipiv = np.empty(d, dtype=np.intc)
    cdef double out = 0.0
    if d == 0:
        return 0.0
    if _logdet_h(&Wv[0, 0], d, s, &buf[0], &ipiv[0], &out) < 0:
        raise np.linalg.LinAlgError("Array must not contain infs or NaNs.")
    return out


cdef void _l2_residual_products(const double *Sigma, const double *W, double *P,
                                int64_t d) noexcept nogil:
    """P = Sigma (I - W) = Sigma - Sigma W (P is the output buffer; one dgemm)."""
    cdef int64_t i
    _gemm_rm(d, d, d, 1.0, Sigma, d, W, d, 0.0, P, d)
    for i in range(d * d):
        P[i] = Sigma[i] - P[i]


cdef void _residual_variances(const double *W, const double *P, double *out,
                              int64_t d) noexcept nogil:
    """out_j = R_jj = [(I - W)^T Sigma (I - W)]_jj from P = Sigma (I - W)."""
    cdef int64_t i, j
    cdef double acc
    for j in range(d):
        acc = P[j * d + j]
        for i in range(d):
            acc -= W[i * d + j] * P[i * d + j]
        out[j] = acc if acc > 0.0 else 0.0


cdef void _update_scale(int scale_mode, const double *R, double *sigma,
                        const double *sigma_floor, int64_t d) noexcept nogil:
    """Closed-form scale: EV sigma = sqrt(tr R / d), NV sigma_j = sqrt(R_jj), floored."""
    cdef int64_t j
    cdef double value, total = 0.0
    if scale_mode == _EV:
        for j in range(d):
            total += R[j]
        value = sqrt(total / d)
        for j in range(d):
            sigma[j] = value if value > sigma_floor[j] else sigma_floor[j]
    elif scale_mode == _NV:
        for j in range(d):
            value = sqrt(R[j])
            sigma[j] = value if value > sigma_floor[j] else sigma_floor[j]


cdef inline double _sigmoid(double z) noexcept nogil:
    cdef double e
    if z >= 0:
        return 1.0 / (1.0 + exp(-z))
    e = exp(z)
    return e / (1.0 + e)


cdef void _xw(const double *X, const double *W, double *Z, int64_t n, int64_t d) noexcept nogil:
    """Z = X W (X (n, d), W (d, d), row-major)."""
    _gemm_rm(n, d, d, 1.0, X, d, W, d, 0.0, Z, d)


cdef void _logistic_gradient(const double *X, const double *W, const double *Sigma, double *P,
                             double *Z, double *G, int64_t n, int64_t d) noexcept nogil:
    """P = -(1/n) X^T sigmoid(XW) + Sigma, so that the score gradient is -P (as for l2).
    Z (n, d) and G (d, d) are work buffers."""
    cdef int64_t i
    cdef char no_trans = b'N', trans = b'T'
    cdef int dd = <int>d, nn = <int>n
    cdef double one = 1.0, zero = 0.0
    _xw(X, W, Z, n, d)
    for i in range(n * d):
        Z[i] = _sigmoid(Z[i])
    # G = X^T Z, i.e. column-major G^T = Z^T X with Z^T and X^T the row-major buffers
    if n > 0:
        dgemm(&no_trans, &trans, &dd, &dd, &nn, &one, Z, &dd, <double*>X, &dd, &zero, G, &dd)
    else:
        memset(G, 0, d * d * sizeof(double))
    for i in range(d * d):
        P[i] = Sigma[i] - G[i] / n


cdef double _logistic_score(const double *X, const double *W, double *Z, int64_t n,
                            int64_t d) noexcept nogil:
    cdef int64_t i
    cdef double total = 0.0, z
    _xw(X, W, Z, n, d)
    for i in range(n * d):
        z = Z[i]
        # log(1 + e^z) computed stably
        if z > 0:
            total += z + log1p(exp(-z)) - X[i] * z
        else:
            total += log1p(exp(z)) - X[i] * z
    return total / n


cdef double _int_power(double a, int64_t b) noexcept nogil:
    """a ** b for b >= 0 by repeated squaring (pow beyond 2^16), the rounding of the bias
    corrections in the reference implementation of this loop."""
    cdef double r = 1.0
    if b > 0x10000:
        return pow(a, <double>b)
    while b != 0:
        if b & 1:
            r *= a
        b >>= 1
        a *= a
    return r


cdef struct Buffers:
    # work buffers of one stage (allocated once; see _alloc_buffers)
    double *AT       # (d, dp) M^T
    double *work     # (levels, 2, d, dp)
    double *P        # (d, d)
    double *R        # (d,)
    double *m        # (d, d) Adam moments
    double *v
    double *step     # (d, d) last Adam step (backtracking)
    double *W_prev   # (d, d)
    double *scaled_mu  # (d,)
    double *Z        # (n, d) logistic X W
    double *G        # (d, d) logistic X^T sigmoid(XW)
    double *lu       # (d, d) slogdet
    int *ipiv        # (d,)
    int64_t dp


cdef void _free_buffers(Buffers *b) noexcept nogil:
    free(b.AT); free(b.work); free(b.P); free(b.R); free(b.m); free(b.v); free(b.step)
    free(b.W_prev); free(b.scaled_mu); free(b.Z); free(b.G); free(b.lu); free(b.ipiv)


cdef int _alloc_buffers(Buffers *b, int64_t n, int64_t d, bint inverse=True) noexcept nogil:
    """Zero-filled buffers (without those of the inverse unless ``inverse``); returns -1 if
    any allocation failed (all freed then)."""
    cdef int64_t dd = d * d + 1  # + 1: malloc(0) may return NULL
    b.dp = _padded(d) if inverse else 0
    b.AT = <double*>malloc((d * b.dp + 1) * sizeof(double))
    b.work = <double*>malloc(((_levels(d) * 2 * d * b.dp) if inverse else 0) * sizeof(double)
                             + sizeof(double))
    b.P = <double*>malloc(dd * sizeof(double))
    b.R = <double*>malloc((d + 1) * sizeof(double))
    b.m = <double*>malloc(dd * sizeof(double))
    b.v = <double*>malloc(dd * sizeof(double))
    b.step = <double*>malloc(dd * sizeof(double))
    b.W_prev = <double*>malloc(dd * sizeof(double))
    b.scaled_mu = <double*>malloc((d + 1) * sizeof(double))
    b.Z = <double*>malloc((n * d + 1) * sizeof(double))
    b.G = <double*>malloc(dd * sizeof(double))
    b.lu = <double*>malloc(dd * sizeof(double))
    b.ipiv = <int*>malloc((d + 1) * sizeof(int))
    if (b.AT == NULL or b.work == NULL or b.P == NULL or b.R == NULL or b.m == NULL
            or b.v == NULL or b.step == NULL or b.W_prev == NULL or b.scaled_mu == NULL
            or b.Z == NULL or b.G == NULL or b.lu == NULL or b.ipiv == NULL):
        _free_buffers(b)
        return -1
    memset(b.AT, 0, d * b.dp * sizeof(double))
    if inverse:  # the stage loop's buffers (the objective alone needs none of them zeroed)
        memset(b.work, 0, _levels(d) * 2 * d * b.dp * sizeof(double))
        memset(b.m, 0, d * d * sizeof(double))
        memset(b.v, 0, d * d * sizeof(double))
        memset(b.step, 0, d * d * sizeof(double))
    return 0


cdef int _stage_objective(const double *Sigma, const double *X, const double *W,
                          const double *sigma, double mu, double s, double lambda1,
                          int scale_mode, int loss_code, int64_t n, int64_t d, Buffers *b,
                          double *out) noexcept nogil:
    """out = (mu * (score + lambda1 ||W||_1) + h_s(W), score, h); -1 if h met inf / NaN."""
    cdef int64_t i, j
    cdef double score = 0.0, l1 = 0.0, h
    if loss_code == _L2:
        _l2_residual_products(Sigma, W, b.P, d)
        _residual_variances(W, b.P, b.R, d)
        for j in range(d):
            score += 0.5 * b.R[j] / sigma[j]
            if scale_mode != _FIXED:
                score += 0.5 * sigma[j]
    else:
        score = _logistic_score(X, W, b.Z, n, d)
    for i in range(d * d):
        l1 += fabs(W[i])
    if _logdet_h(W, d, s, b.lu, b.ipiv, &h) < 0:
        return -1
    out[0] = mu * (score + lambda1 * l1) + h
    out[1] = score
    out[2] = h
    return 0


cdef inline void _adam_step(double *W, const double *MT, int64_t ldm, const double *P, double *m,
                            double *v, double *step, double *W_prev, const double *free_mask,
                            int64_t fs0, int64_t fs1, const double *scaled_mu, double mu_lambda,
                            double beta1, double beta2, double inv_bias1, double inv_bias2,
                            double eps, double lr, int64_t d) noexcept nogil:
    """Gradient ``2 W o M^T - P diag(scaled_mu) + mu_lambda sign(W)`` and one Adam step, in
    place (``MT`` holds ``M^T`` with row stride ldm; free_mask has element strides fs0, fs1).
    The previous W and the step are kept for backtracking. The loop is C compiled per vector
    width (src/dag_elementwise.c; same rounding as the scalar loop)."""
    sparseopt_adam_step(W, MT, ldm, P, m, v, step, W_prev, free_mask, fs0, fs1, scaled_mu,
                        mu_lambda, beta1, beta2, inv_bias1, inv_bias2, eps, lr, d)


cdef void _project_required(double *W, const double *required_mask, int64_t rs0, int64_t rs1,
                            double required_floor, const double *step, int64_t d) noexcept nogil:
    """Hard prior: required entries keep |W_ij| >= floor (sign of the entry, else of -step)."""
    cdef int64_t i, j
    cdef double w
    if required_floor <= 0.0:
        return
    for i in range(d):
        for j in range(d):
            w = W[i * d + j]
            if required_mask[i * rs0 + j * rs1] != 0.0 and fabs(w) < required_floor:
                if w > 0 or (w == 0 and step[i * d + j] <= 0):
                    W[i * d + j] = required_floor
                else:
                    W[i * d + j] = -required_floor


cdef int _adam_loop(const double *Sigma, const double *X, double *W, double *sigma,
                    const double *sigma_floor, const double *free_mask, int64_t fs0,
                    int64_t fs1, const double *required_mask, int64_t rs0, int64_t rs1,
                    double required_floor, double mu, double s, double *lr, double lambda1,
                    int64_t max_iter, int64_t checkpoint, double tol, double beta1, double beta2,
                    double eps, double domain_tol, int scale_mode, int loss_code,
                    bint update_scale_first, int64_t n, int64_t d, Buffers *b, int64_t *it_out,
                    double *obj_out, double *rel_out, int64_t *n_back_out) noexcept nogil:
    """The stage loop of :func:`adam_stage` (status code; counters through the pointers)."""
    cdef int64_t it = 0, i, dp = b.dp
    cdef double obj_prev = 1e16, obj = NAN, rel = INFINITY, logdet
    cdef double inv_bias1, inv_bias2, mu_lambda
    cdef double parts[3]
    cdef int64_t n_backtracks = 0
    cdef int status = _MAX_ITER
    cdef bint done = False
    memcpy(b.W_prev, W, d * d * sizeof(double))
    it = 1
    while it <= max_iter:
        # AT = M^T, M = (sI - W o W)^-1; logdet = -inf on a non-positive pivot
        logdet = _domain_inverse(W, d, s, b.AT, dp, b.work)
        # Domain test (sec. 3): sI - W o W must stay a nonsingular M-matrix, i.e. M >= 0.
        while logdet == -INFINITY or _min_entry(b.AT, d, dp) < -domain_tol:
            if it == 1 or s <= 0.9:
                status, done = _DOMAIN_FAIL, True
                break
            # undo the last step, halve lr, retake it (DAGMA's backtracking)
            lr[0] *= 0.5
            n_backtracks += 1
            if lr[0] <= 1e-16:
                memcpy(W, b.W_prev, d * d * sizeof(double))
                status, done = _LR_UNDERFLOW, True
                break
            for i in range(d * d):
                W[i] = ((b.W_prev[i] - lr[0] * b.step[i])
                        * free_mask[(i // d) * fs0 + (i % d) * fs1])
            _project_required(W, required_mask, rs0, rs1, required_floor, b.step, d)
            logdet = _domain_inverse(W, d, s, b.AT, dp, b.work)
        if done:
            break

        if loss_code == _L2:
            _l2_residual_products(Sigma, W, b.P, d)
            if scale_mode != _FIXED and (it > 1 or update_scale_first):
                _residual_variances(W, b.P, b.R, d)
                _update_scale(scale_mode, b.R, sigma, sigma_floor, d)
        else:
            _logistic_gradient(X, W, Sigma, b.P, b.Z, b.G, n, d)

        # gradient (sec. 5): -mu Sigma(I - W) diag(1/sigma) + mu lambda sign(W) + 2 W o M^T,
        # then one Adam step; reciprocals are hoisted so the loop has a single division
        inv_bias1 = 1.0 / (1.0 - _int_power(beta1, it))
        inv_bias2 = 1.0 / (1.0 - _int_power(beta2, it))
        mu_lambda = mu * lambda1
        for i in range(d):
            b.scaled_mu[i] = mu / sigma[i]
        _adam_step(W, b.AT, dp, b.P, b.m, b.v, b.step, b.W_prev, free_mask, fs0, fs1,
                   b.scaled_mu, mu_lambda, beta1, beta2, inv_bias1, inv_bias2, eps, lr[0], d)
        _project_required(W, required_mask, rs0, rs1, required_floor, b.step, d)

        if it % checkpoint == 0 or it == max_iter:
            if loss_code == _L2 and scale_mode != _FIXED:
                _l2_residual_products(Sigma, W, b.P, d)
                _residual_variances(W, b.P, b.R, d)
                _update_scale(scale_mode, b.R, sigma, sigma_floor, d)
            if _stage_objective(Sigma, X, W, sigma, mu, s, lambda1, scale_mode, loss_code, n, d,
                                b, parts) < 0:
                status, done = _NOT_FINITE, True
                break
            obj = parts[0]
            # max(.., 1e-300): the objective is 0 on constant data
            rel = fabs(obj_prev - obj) / max(fabs(obj_prev), 1e-300)
            if rel <= tol:
                status, done = _CONVERGED, True
                break
            obj_prev = obj
        it += 1
    if not done:
        it = max_iter if max_iter > 0 else 0
        # the scale returned belongs to the returned W
        if loss_code == _L2 and scale_mode != _FIXED:
            _l2_residual_products(Sigma, W, b.P, d)
            _residual_variances(W, b.P, b.R, d)
            _update_scale(scale_mode, b.R, sigma, sigma_floor, d)
    it_out[0] = it
    obj_out[0] = obj
    rel_out[0] = rel
    n_back_out[0] = n_backtracks
    return status


cdef void _check_stage_shapes(const double[:, ::1] Sigma, const double[:, ::1] X,
                              const double[:, ::1] W, const double[::1] sigma,
                              const double[::1] sigma_floor, const double[:, :] free_mask,
                              const double[:, :] required_mask) except *:
    cdef int64_t d = W.shape[0]
    if W.shape[1] != d or Sigma.shape[0] != d or Sigma.shape[1] != d:
        raise ValueError(f"W and Sigma must be (d, d), got ({W.shape[0]}, {W.shape[1]}) and "
                         f"({Sigma.shape[0]}, {Sigma.shape[1]})")
    if X.shape[1] != d:
        raise ValueError(f"X must have d = {d} columns, got {X.shape[1]}")
    if sigma.shape[0] != d or sigma_floor.shape[0] != d:
        raise ValueError(f"sigma and sigma_floor must have length d = {d}")
    if (free_mask.shape[0] != d or free_mask.shape[1] != d or required_mask.shape[0] != d
            or required_mask.shape[1] != d):
        raise ValueError(f"free_mask and required_mask must be (d, d) with d = {d}")


def stage_objective(const double[:, ::1] Sigma, const double[:, ::1] X, const double[:, ::1] W,
                    const double[::1] sigma, double mu, double s, double lambda1, int scale_mode,
                    int loss_code):
    """mu * (score + lambda1 ||W||_1) + h_s(W) and its parts (score, h)."""
    cdef int64_t d = W.shape[0], n = X.shape[0]
    cdef double parts[3]
    cdef Buffers b
    cdef int rc
    if W.shape[1] != d or Sigma.shape[0] != d or Sigma.shape[1] != d or sigma.shape[0] != d:
        raise ValueError("stage_objective: W, Sigma must be (d, d) and sigma (d,)")
    if loss_code == _LOGISTIC and X.shape[1] != d:
        raise ValueError(f"stage_objective: X must have d = {d} columns")
    if d == 0:
        return mu * 0.0, 0.0, 0.0
    if _alloc_buffers(&b, n, d, False) < 0:
        raise MemoryError()
    with nogil:
        rc = _stage_objective(&Sigma[0, 0], &X[0, 0] if n > 0 else NULL, &W[0, 0], &sigma[0],
                              mu, s, lambda1, scale_mode, loss_code, n, d, &b, parts)
        _free_buffers(&b)
    if rc < 0:
        raise np.linalg.LinAlgError("Array must not contain infs or NaNs.")
    return parts[0], parts[1], parts[2]


def adam_stage(const double[:, ::1] Sigma, const double[:, ::1] X, double[:, ::1] W,
               double[::1] sigma, const double[::1] sigma_floor, const double[:, :] free_mask,
               const double[:, :] required_mask, double required_floor, double mu, double s,
               double lr, double lambda1, int64_t max_iter, int64_t checkpoint, double tol,
               double beta1, double beta2, double eps, double domain_tol, int scale_mode,
               int loss_code, bint update_scale_first):
    """One stage of the path: Adam on the stage objective, W and sigma updated in place.

    Parameters
    ----------
    Sigma : (d, d) float64
        Sample covariance of the centred data (l2) or raw second moment (logistic).
    X : (n, d) float64
        Data, used by the logistic loss only (pass a (0, d) array for l2).
    W, sigma : (d, d), (d,) float64
        Warm start on entry, stage solution on exit (modified in place).
    sigma_floor : (d,) float64
        Lower bound of the scale.
    free_mask, required_mask : (d, d) float64 of 0/1
        ``free_mask`` zeroes forbidden entries (and the diagonal) after every
        step; ``required_mask`` entries are projected to ``|W_ij| >= required_floor``.
    update_scale_first : bool
        Whether to recompute sigma from W before the first step (False on
        the first stage, where the warm-start scale is the data-based initial value).

    Returns
    -------
    status, n_iter, lr, objective, relative_change, n_backtracks
    """
    _check_stage_shapes(Sigma, X, W, sigma, sigma_floor, free_mask, required_mask)
    if checkpoint < 1:
        raise ValueError(f"checkpoint must be >= 1, got {checkpoint}")
    cdef int64_t d = W.shape[0], n = X.shape[0], it = 0, n_back = 0
    cdef double obj = NAN, rel = INFINITY
    cdef int status
    cdef Buffers b
    if _alloc_buffers(&b, n, d) < 0:
        raise MemoryError()
    cdef Py_ssize_t isz = sizeof(double)
    with nogil:
        status = _adam_loop(
            &Sigma[0, 0], &X[0, 0] if n > 0 else NULL, &W[0, 0], &sigma[0], &sigma_floor[0],
            &free_mask[0, 0], free_mask.strides[0] // isz, free_mask.strides[1] // isz,
            &required_mask[0, 0], required_mask.strides[0] // isz,
            required_mask.strides[1] // isz, required_floor, mu, s, &lr, lambda1, max_iter,
            checkpoint, tol, beta1, beta2, eps, domain_tol, scale_mode, loss_code,
            update_scale_first, n, d, &b, &it, &obj, &rel, &n_back)
        _free_buffers(&b)
    if status == _NOT_FINITE:
        raise np.linalg.LinAlgError("Array must not contain infs or NaNs.")
    return status, it, lr, obj, rel, n_back


# thin Python faces of the loop's parts (benchmarks/compare/dag.py times them one by one)
def _l2_residual_products_py(const double[:, ::1] Sigma, const double[:, ::1] W,
                             double[:, ::1] P):
    """P = Sigma (I - W) (one dgemm)."""
    cdef int64_t d = W.shape[0]
    if not (W.shape[1] == d and Sigma.shape[0] == d and Sigma.shape[1] == d
            and P.shape[0] == d and P.shape[1] == d):
        raise ValueError("_l2_residual_products: Sigma, W and P must be (d, d)")
    if d > 0:
        _l2_residual_products(&Sigma[0, 0], &W[0, 0], &P[0, 0], d)


def _adam_step_py(double[:, ::1] W, const double[:, ::1] MT, const double[:, ::1] P,
                  double[:, ::1] m, double[:, ::1] v, double[:, ::1] step,
                  double[:, ::1] W_prev, const double[:, :] free_mask,
                  const double[::1] scaled_mu, double mu_lambda, double beta1, double beta2,
                  double inv_bias1, double inv_bias2, double eps, double lr):
    """One gradient + Adam step in place (see the loop of adam_stage)."""
    cdef int64_t d = W.shape[0]
    for rows, cols in ((P.shape[0], P.shape[1]), (m.shape[0], m.shape[1]),
                       (v.shape[0], v.shape[1]), (step.shape[0], step.shape[1]),
                       (W_prev.shape[0], W_prev.shape[1]), (free_mask.shape[0], free_mask.shape[1])):
        if rows != d or cols != d:
            raise ValueError("_adam_step: the (d, d) arrays must agree")
    if W.shape[1] != d or MT.shape[0] != d or MT.shape[1] < d or scaled_mu.shape[0] != d:
        raise ValueError("_adam_step: W (d, d), MT (d, >= d), scaled_mu (d,)")
    if d == 0:
        return
    _adam_step(&W[0, 0], &MT[0, 0], MT.shape[1], &P[0, 0], &m[0, 0], &v[0, 0], &step[0, 0],
               &W_prev[0, 0], &free_mask[0, 0], free_mask.strides[0] // sizeof(double),
               free_mask.strides[1] // sizeof(double), &scaled_mu[0], mu_lambda, beta1, beta2,
               inv_bias1, inv_bias2, eps, lr, d)
