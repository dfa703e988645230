"""Compiled inner loop of the log-det path-following DAG learners (CoLiDE, DAGMA).

One call runs one *stage* of the path (fixed ``mu`` and ``s``): Adam steps on
``mu * (score(W, sigma) + lambda1 ||W||_1) + h_s(W)`` with the closed-form
scale update after every step. The kernel is dumb: contiguous float64 arrays,
scalars and output buffers in, a status code and counters out. The stage
driver (retries, schedule, thresholding) is
``sparseopt.causal._path_following``.

Per iteration the O(d^3) work is one inverse ``M = (sI - W o W)^-1`` and one
product ``Sigma @ W`` (BLAS) that serves the score gradient and the scale
update. The inverse is an elimination *without pivoting* (``domain_inverse``):
``sI - W o W`` is a Z-matrix, and a Z-matrix is a nonsingular M-matrix exactly
when all its leading principal minors are positive, i.e. when every pivot of
the unpivoted elimination is positive. So the one elimination gives the domain
test (pivots), ``log det`` (sum of log pivots, hence ``h_s``) and the inverse
(for the gradient of ``h_s`` and the reference codes' ``M >= 0`` test). Up to
order 64 it is one Gauss-Jordan sweep, two pivots at a time, in C
(``src/gauss_jordan.c``: AVX2/FMA row updates where the CPU has them, called
from the compiled loop by its symbol); above, a recursive 2 x 2 block
elimination whose Schur-complement products are BLAS ``dgemm`` on half-size
blocks, with such sweeps at the leaves. 1.8-4.1x faster than LAPACK ``getrf`` +
``getri`` at d = 20..200 (measured; see ``benchmarks/results/dag.md``).
The inverse is computed transposed so that the gradient loop reads it
row by row. The work buffers of the iteration are allocated once per stage.
"""
import llvmlite.binding as _llvm
import numpy as np
from numba import njit, types

from sparseopt._ext import _blas, _gauss_jordan

# C functions called from compiled code by their symbols (resolved when cached code is loaded):
# the Gauss-Jordan sweep and an in-place row-major dgemm on strided views (scipy's BLAS)
_llvm.add_symbol("sparseopt_gauss_jordan", _gauss_jordan.address())
_c_gauss_jordan = types.ExternalFunction(
    "sparseopt_gauss_jordan",
    types.float64(types.voidptr, types.int64, types.int64, types.voidptr, types.voidptr))
_llvm.add_symbol("sparseopt_dgemm_rowmajor", _blas.address_dgemm_rowmajor())
_c_dgemm_rowmajor = types.ExternalFunction(
    "sparseopt_dgemm_rowmajor",
    types.void(types.int64, types.int64, types.int64, types.float64, types.voidptr, types.int64,
               types.voidptr, types.int64, types.float64, types.voidptr, types.int64))


@njit(cache=True)
def _unit_columns(X):
    """Whether the view's columns are adjacent (the stride only matters with >= 2 columns)."""
    return X.shape[0] == 0 or X.shape[1] <= 1 or X.strides[1] == 8


@njit(cache=True)
def _gemm(alpha, A, B, beta, C):
    """C = alpha A B + beta C in place, for row-major views with unit column stride
    (one BLAS dgemm on the views, no copy; ``_blas.dgemm_rowmajor``)."""
    m, k = A.shape
    n = B.shape[1]
    if (B.shape[0] != k or C.shape[0] != m or C.shape[1] != n or not _unit_columns(A)
            or not _unit_columns(B) or not _unit_columns(C)):
        raise ValueError("_gemm: shapes must agree and the views need unit column strides")
    _c_dgemm_rowmajor(m, n, k, alpha, A.ctypes, A.strides[0] // 8, B.ctypes, B.strides[0] // 8,
                      beta, C.ctypes, C.strides[0] // 8)


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

# order at or below which the inverse is one Gauss-Jordan sweep over a zero-padded buffer
# (measured, domain_inverse with row length rounded up to a multiple of 4 and the C sweep:
# d = 50: 11.7 us, against 16.4 us for the recursion with leaves <= 32; d = 100 / 200:
# 77.5 / 479 us with leaves <= 64, against 83 / 506 us with leaves <= 100 or 128)
_BASE = 64


@njit(cache=True)
def _padded(n):
    """Row length of the inverse's buffers: n rounded up to a multiple of 4 (one AVX2
    vector of float64), so the row loops of the sweep have no scalar tail (measured:
    the tail of n = 50 costs ~15% of the sweep)."""
    return (n + 3) // 4 * 4


@njit(cache=True)
def domain_workspace(d):
    """Work buffers of :func:`domain_inverse` for a (d, d) W: (AT, work).

    ``AT`` is (d, d') with d' = d rounded up to a multiple of 4; its first d
    columns hold the result, the others are zero padding.
    """
    levels = 1
    n = d
    while n > _BASE:
        n -= n // 2  # the larger half
        levels += 1
    dp = _padded(d)
    return np.zeros((d, dp)), np.zeros((levels, 2, d, dp))


@njit(cache=True)
def _gauss_jordan(A, R):
    """In-place inverse of A[:, :n] by Gauss-Jordan without pivoting, two pivots at a time.

    The sweep is C (``src/gauss_jordan.c``, called by its symbol): each step
    inverts the next 2 x 2 diagonal block (its two pivots are those of the
    scalar elimination: ``a`` and ``e - c b / a``), writes the two transformed
    rows to ``R[0]``, ``R[1]`` and subtracts their rank-2 combination from every
    other row, four rows per pass with AVX2/FMA where the CPU has them. A is a
    C-contiguous (n, n') array with n' >= n; the columns past n are zero
    padding (they stay zero; with n' a multiple of 4 the row loops have no
    scalar tail). Returns ``log det A[:, :n]``, or ``-inf`` as soon as a pivot
    is ``<= 0`` (or NaN).
    """
    n, nc = A.shape
    if A.strides[0] != 8 * nc or A.strides[1] != 8 or R.shape[1] < nc or R.strides[1] != 8:
        raise ValueError("_gauss_jordan: A must be C-contiguous and R rows as long as A's")
    if n == 0:
        return 0.0
    return _c_gauss_jordan(A.ctypes, n, nc, R[0].ctypes, R[1].ctypes)


@njit(cache=True)
def _recursive_inverse(A, work):
    """In-place inverse of the Z-matrix A by recursive 2 x 2 block elimination without pivoting.

    With ``A = [[A11, A12], [A21, A22]]``, ``X = A11^-1`` and the Schur
    complement ``S = A22 - A21 X A12``: ``A^-1 = [[X + X A12 S^-1 A21 X,
    -X A12 S^-1], [-S^-1 A21 X, S^-1]]`` and ``log det A = log det A11 +
    log det S``. The pivots met on the way are those of the unpivoted
    elimination of A, so ``-inf`` (a pivot ``<= 0``) is the exact M-matrix
    test. All O(n^3) work is four dgemm per split. The recursion runs on an
    explicit stack (numba cannot cache self-recursive functions).
    """
    # stack of (offset, order, level, phase); phase 0: invert A11, 1: Schur complement and
    # invert it, 2: assemble the inverse
    stack = np.empty((64, 4), dtype=np.int64)
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = 0, A.shape[0], 0, 0
    top = 1
    logdet = 0.0
    while top > 0:
        top -= 1
        r0, n, level, phase = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
        if n <= _BASE:
            # a contiguous, zero-padded copy (the slots work[level] are free at a leaf)
            # lets the sweep vectorise; the block of A is a strided view
            block = A[r0:r0 + n, r0:r0 + n]
            npad = _padded(n)
            buf = work[level, 1].ravel()[:n * npad].reshape((n, npad))
            buf[:, :n] = block
            buf[:, n:] = 0.0
            ld = _gauss_jordan(buf, work[level, 0])
            if ld == -np.inf:
                return ld
            block[:, :] = buf[:, :n]
            logdet += ld
            continue
        k = n // 2
        n2 = n - k
        A11 = A[r0:r0 + k, r0:r0 + k]
        A12 = A[r0:r0 + k, r0 + k:r0 + n]
        A21 = A[r0 + k:r0 + n, r0:r0 + k]
        A22 = A[r0 + k:r0 + n, r0 + k:r0 + n]
        T = work[level, 0, :n2, :k]
        if phase == 0:  # then invert A11 in place (A11 <- X)
            stack[top, 3] = 1
            stack[top + 1, 0], stack[top + 1, 1] = r0, k
            stack[top + 1, 2], stack[top + 1, 3] = level + 1, 0
            top += 2
        elif phase == 1:  # A22 <- S = A22 - A21 X A12, then invert it (A22 <- S^-1)
            _gemm(1.0, A21, A11, 0.0, T)  # T = A21 X
            _gemm(-1.0, T, A12, 1.0, A22)
            stack[top, 3] = 2
            stack[top + 1, 0], stack[top + 1, 1] = r0 + k, n2
            stack[top + 1, 2], stack[top + 1, 3] = level + 1, 0
            top += 2
        else:
            U = work[level, 1, :k, :n2]
            _gemm(1.0, A11, A12, 0.0, U)  # U = X A12
            _gemm(-1.0, U, A22, 0.0, A12)  # A12 <- -U S^-1
            # [A11; A21] <- [X; 0] - [A12; A22] T (one dgemm on the two column blocks),
            # i.e. A11 <- X + U S^-1 T and A21 <- -S^-1 T
            A21[:, :] = 0.0
            _gemm(-1.0, A[r0:r0 + n, r0 + k:r0 + n], T, 1.0, A[r0:r0 + n, r0:r0 + k])
    return logdet


@njit(cache=True)
def domain_inverse(W, s, AT, work):
    """AT[:, :d] = ((sI - W o W)^-1)^T; returns log det(sI - W o W), -inf outside the domain.

    ``-inf`` means a non-positive pivot, i.e. ``sI - W o W`` is not a
    nonsingular M-matrix (the exact domain test). Buffers from
    :func:`domain_workspace` (``AT`` is (d, d') with zero padding past column d).
    """
    d = W.shape[0]
    for i in range(d):
        ATi = AT[i]
        for j in range(d):
            ATi[j] = -W[j, i] * W[j, i]
        ATi[i] += s
        for j in range(d, AT.shape[1]):  # a failed sweep may have left the padding non-zero
            ATi[j] = 0.0
    if d <= _BASE:  # one sweep over the padded buffer
        return _gauss_jordan(AT, work[0, 0])
    return _recursive_inverse(AT[:, :d], work)


@njit(cache=True, fastmath=True)
def _min_entry(M):
    """Smallest entry of the (d, d) part of M; fastmath and per-row selects let the
    reduction vectorise (M is NaN-free: a NaN pivot already fails the domain test in
    :func:`domain_inverse`)."""
    d = M.shape[0]
    out = np.inf
    for i in range(d):
        Mi = M[i]
        row_min = np.inf
        for j in range(d):
            x = Mi[j]
            row_min = x if x < row_min else row_min
        out = row_min if row_min < out else out
    return out


@njit(cache=True)
def logdet_h(W, s):
    """h_s(W) = -log det(sI - W o W) + d log s (inf outside the domain)."""
    d = W.shape[0]
    A = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            A[i, j] = -W[i, j] * W[i, j]
        A[i, i] += s
    sign, logabsdet = np.linalg.slogdet(A)
    if sign <= 0:
        return np.inf
    return -logabsdet + d * np.log(s)


@njit(cache=True)
def _l2_residual_products(Sigma, W, P):
    """P = Sigma (I - W) = Sigma - Sigma W (P is the output buffer; one dgemm)."""
    np.dot(Sigma, W, P)
    d = W.shape[0]
    for i in range(d):
        for j in range(d):
            P[i, j] = Sigma[i, j] - P[i, j]


@njit(cache=True)
def _residual_variances(W, P, out):
    """out_j = R_jj = [(I - W)^T Sigma (I - W)]_jj from P = Sigma (I - W)."""
    d = W.shape[0]
    for j in range(d):
        acc = P[j, j]
        for i in range(d):
            acc -= W[i, j] * P[i, j]
        out[j] = max(acc, 0.0)


@njit(cache=True)
def _update_scale(scale_mode, R, sigma, sigma_floor):
    """Closed-form scale: EV sigma = sqrt(tr R / d), NV sigma_j = sqrt(R_jj), floored."""
    d = R.shape[0]
    if scale_mode == SCALE_EV:
        value = np.sqrt(R.sum() / d)
        for j in range(d):
            sigma[j] = max(value, sigma_floor[j])
    elif scale_mode == SCALE_NV:
        for j in range(d):
            sigma[j] = max(np.sqrt(R[j]), sigma_floor[j])


@njit(cache=True)
def _logistic_gradient(X, W, Sigma, P):
    """P = -(1/n) X^T sigmoid(XW) + Sigma, so that the score gradient is -P (as for l2)."""
    n = X.shape[0]
    Z = X @ W
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j]
            if z >= 0:
                Z[i, j] = 1.0 / (1.0 + np.exp(-z))
            else:
                e = np.exp(z)
                Z[i, j] = e / (1.0 + e)
    G = X.T @ Z
    d = W.shape[0]
    for i in range(d):
        for j in range(d):
            P[i, j] = Sigma[i, j] - G[i, j] / n


@njit(cache=True)
def _logistic_score(X, W):
    n = X.shape[0]
    Z = X @ W
    total = 0.0
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j]
            # log(1 + e^z) computed stably
            if z > 0:
                total += z + np.log1p(np.exp(-z)) - X[i, j] * z
            else:
                total += np.log1p(np.exp(z)) - X[i, j] * z
    return total / n


@njit(cache=True)
def stage_objective(Sigma, X, W, sigma, mu, s, lambda1, scale_mode, loss_code):
    """mu * (score + lambda1 ||W||_1) + h_s(W) and its parts (score, h)."""
    d = W.shape[0]
    if loss_code == LOSS_L2:
        P = np.empty((d, d))
        _l2_residual_products(Sigma, W, P)
        R = np.empty(d)
        _residual_variances(W, P, R)
        score = 0.0
        for j in range(d):
            score += 0.5 * R[j] / sigma[j]
            if scale_mode != SCALE_FIXED:
                score += 0.5 * sigma[j]
    else:
        score = _logistic_score(X, W)
    l1 = 0.0
    for i in range(d):
        for j in range(d):
            l1 += abs(W[i, j])
    h = logdet_h(W, s)
    return mu * (score + lambda1 * l1) + h, score, h


@njit(cache=True, error_model="numpy")
def _adam_step(W, MT, P, m, v, step, W_prev, free_mask, scaled_mu, mu_lambda, beta1, beta2,
               inv_bias1, inv_bias2, eps, lr):
    """Gradient ``2 W o M^T - P diag(scaled_mu) + mu_lambda sign(W)`` and one Adam step, in place.

    ``MT`` holds ``M^T``, read row by row; the
    previous W and the step are kept for backtracking.
    """
    d = W.shape[0]
    for i in range(d):
        Wi, MTi, Pi, mi, vi = W[i], MT[i], P[i], m[i], v[i]
        st_i, prev_i, free_i = step[i], W_prev[i], free_mask[i]
        for j in range(d):
            w = Wi[j]
            # sign(w) as a select and error_model="numpy" (no zero-division branch; the
            # denominator is >= eps > 0) let the loop vectorise; same rounding as before
            sign = 1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0)
            g = 2.0 * w * MTi[j] - scaled_mu[j] * Pi[j] + mu_lambda * sign
            mij = beta1 * mi[j] + (1.0 - beta1) * g
            vij = beta2 * vi[j] + (1.0 - beta2) * g * g
            mi[j] = mij
            vi[j] = vij
            st = (mij * inv_bias1) / (np.sqrt(vij * inv_bias2) + eps)
            st_i[j] = st
            prev_i[j] = w
            Wi[j] = (w - lr * st) * free_i[j]


@njit(cache=True)
def adam_stage(Sigma, X, W, sigma, sigma_floor, free_mask, required_mask, required_floor,
               mu, s, lr, lambda1, max_iter, checkpoint, tol, beta1, beta2, eps,
               domain_tol, scale_mode, loss_code, update_scale_first):
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
    d = W.shape[0]
    AT, work = domain_workspace(d)
    P = np.empty((d, d))
    R = np.empty(d)
    m = np.zeros((d, d))
    v = np.zeros((d, d))
    step = np.zeros((d, d))
    scaled_mu = np.empty(d)
    W_prev = W.copy()
    obj_prev = 1e16
    obj = np.nan
    rel = np.inf
    n_backtracks = 0
    it = 0
    for it in range(1, max_iter + 1):
        # AT = M^T, M = (sI - W o W)^-1; logdet = -inf on a non-positive pivot
        logdet = domain_inverse(W, s, AT, work)
        # Domain test (sec. 3): sI - W o W must stay a nonsingular M-matrix, i.e. M >= 0.
        while logdet == -np.inf or _min_entry(AT) < -domain_tol:
            if it == 1 or s <= 0.9:
                return STAGE_DOMAIN_FAIL, it, lr, obj, rel, n_backtracks
            # undo the last step, halve lr, retake it (DAGMA's backtracking)
            lr *= 0.5
            n_backtracks += 1
            if lr <= 1e-16:
                for i in range(d):
                    for j in range(d):
                        W[i, j] = W_prev[i, j]
                return STAGE_LR_UNDERFLOW, it, lr, obj, rel, n_backtracks
            for i in range(d):
                for j in range(d):
                    W[i, j] = (W_prev[i, j] - lr * step[i, j]) * free_mask[i, j]
            _project_required(W, required_mask, required_floor, step)
            logdet = domain_inverse(W, s, AT, work)

        if loss_code == LOSS_L2:
            _l2_residual_products(Sigma, W, P)
            if scale_mode != SCALE_FIXED and (it > 1 or update_scale_first):
                _residual_variances(W, P, R)
                _update_scale(scale_mode, R, sigma, sigma_floor)
        else:
            _logistic_gradient(X, W, Sigma, P)

        # gradient (sec. 5): -mu Sigma(I - W) diag(1/sigma) + mu lambda sign(W) + 2 W o M^T,
        # then one Adam step; reciprocals are hoisted so the loop has a single division
        inv_bias1 = 1.0 / (1.0 - beta1 ** it)
        inv_bias2 = 1.0 / (1.0 - beta2 ** it)
        mu_lambda = mu * lambda1
        for j in range(d):
            scaled_mu[j] = mu / sigma[j]
        _adam_step(W, AT, P, m, v, step, W_prev, free_mask, scaled_mu, mu_lambda, beta1, beta2,
                   inv_bias1, inv_bias2, eps, lr)
        _project_required(W, required_mask, required_floor, step)

        if it % checkpoint == 0 or it == max_iter:
            if loss_code == LOSS_L2 and scale_mode != SCALE_FIXED:
                _l2_residual_products(Sigma, W, P)
                _residual_variances(W, P, R)
                _update_scale(scale_mode, R, sigma, sigma_floor)
            obj, _, _ = stage_objective(Sigma, X, W, sigma, mu, s, lambda1, scale_mode, loss_code)
            # max(.., 1e-300): the objective is 0 on constant data
            rel = abs(obj_prev - obj) / max(abs(obj_prev), 1e-300)
            if rel <= tol:
                return STAGE_CONVERGED, it, lr, obj, rel, n_backtracks
            obj_prev = obj
    # the scale returned belongs to the returned W
    if loss_code == LOSS_L2 and scale_mode != SCALE_FIXED:
        _l2_residual_products(Sigma, W, P)
        _residual_variances(W, P, R)
        _update_scale(scale_mode, R, sigma, sigma_floor)
    return STAGE_MAX_ITER, it, lr, obj, rel, n_backtracks


@njit(cache=True)
def _project_required(W, required_mask, required_floor, step):
    """Hard prior: required entries keep |W_ij| >= floor (sign of the entry, else of -step)."""
    if required_floor <= 0.0:
        return
    d = W.shape[0]
    for i in range(d):
        for j in range(d):
            if required_mask[i, j] != 0.0 and abs(W[i, j]) < required_floor:
                if W[i, j] > 0 or (W[i, j] == 0 and step[i, j] <= 0):
                    W[i, j] = required_floor
                else:
                    W[i, j] = -required_floor

