"""Compiled inner loop of the log-det path-following DAG learners (CoLiDE, DAGMA).

One call runs one *stage* of the path (fixed ``mu`` and ``s``): Adam steps on
``mu * (score(W, sigma) + lambda1 ||W||_1) + h_s(W)`` with the closed-form
scale update after every step. The kernel is dumb: contiguous float64 arrays,
scalars and output buffers in, a status code and counters out. The stage
driver (retries, schedule, thresholding) is
``sparseopt.causal._path_following``.

Per iteration the O(d^3) work is one inverse ``M = (sI - W o W)^-1`` and one
product ``Sigma @ W`` (BLAS) that serves the score gradient and the scale
update. The inverse is a block Gauss-Jordan elimination *without pivoting*
(``domain_inverse``): ``sI - W o W`` is a Z-matrix, and a Z-matrix is a
nonsingular M-matrix exactly when all its leading principal minors are
positive, i.e. when every pivot of the unpivoted elimination is positive. So
the one elimination gives the domain test (pivots), ``log det`` (sum of log
pivots, hence ``h_s``) and the inverse (for the gradient of ``h_s`` and the
reference codes' ``M >= 0`` test); almost all of its flops are rank-``b``
updates done by BLAS ``dgemm``, which at d = 50..200 is 2-3x faster than
LAPACK ``getrf`` + ``getri`` (measured; see ``benchmarks/results/dag.md``).
The inverse is computed transposed so that the gradient loop reads it
row by row. The work buffers of the iteration are allocated once per stage.
"""
import numpy as np
from numba import njit, types

try:  # numba's (private) wrapper of BLAS dgemm: C = alpha op(A) op(B) + beta C, column-major
    from numba.np.linalg import _BLAS

    _dgemm = _BLAS().numba_xxgemm(types.float64)
    _KIND_D = ord("d")
    _NO_TRANS = ord("N")

    @njit(cache=True)
    def _subtract_product(A, C, R, alpha, beta):
        """A -= C @ R in place, as the column-major product A^T -= R^T C^T (one dgemm)."""
        D = A.shape[0]
        b = R.shape[0]
        _dgemm(_KIND_D, _NO_TRANS, _NO_TRANS, D, D, b, alpha.ctypes, R.ctypes, D, C.ctypes, b,
               beta.ctypes, A.ctypes, D)

    HAVE_INPLACE_GEMM = True
except (ImportError, AttributeError):  # pragma: no cover - a numba without the private wrapper
    @njit(cache=True)
    def _subtract_product(A, C, R, alpha, beta):
        """A -= C @ R (numba's public np.dot allocates the product)."""
        A -= np.dot(C, R)

    HAVE_INPLACE_GEMM = False

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


@njit(cache=True)
def inverse_block_size(d):
    """Block size of :func:`domain_inverse` (measured best on this code: 4, 8, 16)."""
    return 4 if d <= 32 else (8 if d <= 128 else 16)


@njit(cache=True)
def domain_workspace(d):
    """Work buffers of :func:`domain_inverse` for a (d, d) W: (AT, C, R, P, alpha, beta)."""
    b = inverse_block_size(d)
    D = -(-d // b) * b  # padded with an identity block to a multiple of b
    return (np.empty((D, D)), np.empty((D, b)), np.empty((b, D)), np.empty((b, b)),
            np.full(1, -1.0), np.ones(1))


@njit(cache=True, error_model="numpy")
def _invert_diagonal_block(Ak, k0, b, P):
    """P = inverse of the block Ak[:, k0:k0+b] by scalar Gauss-Jordan; returns log det or -inf."""
    for i in range(b):
        for j in range(b):
            P[i, j] = Ak[i, k0 + j]
    logdet = 0.0
    for k in range(b):
        p = P[k, k]
        if not p > 0.0:  # also catches NaN
            return -np.inf
        logdet += np.log(p)
        ip = 1.0 / p
        for j in range(b):
            P[k, j] *= ip
        P[k, k] = ip
        for i in range(b):
            if i != k:
                f = P[i, k]
                if f != 0.0:
                    for j in range(b):
                        P[i, j] -= f * P[k, j]
                    P[i, k] = -f * ip
    return logdet


@njit(cache=True)
def _block_gauss_jordan(A, C, R, P, alpha, beta):
    """In-place inverse of the (D, D) Z-matrix A by block Gauss-Jordan without pivoting.

    D must be a multiple of the block size ``b = P.shape[0]``. Returns
    ``log det A``, or ``-inf`` as soon as a pivot is ``<= 0`` (A is then not a
    nonsingular M-matrix and its content is garbage).
    """
    D = A.shape[0]
    b = P.shape[0]
    nb = D // b
    A3 = A.reshape(nb, b, D)
    logdet = 0.0
    for kb in range(nb):
        k0 = kb * b
        Ak = A3[kb]  # the k-th block row, C-contiguous
        ld = _invert_diagonal_block(Ak, k0, b, P)
        if ld == -np.inf:
            return -np.inf
        logdet += ld
        np.dot(P, Ak, R)  # R = P^-1 A[k rows, :], then its k block becomes P^-1
        for i in range(b):
            for j in range(b):
                R[i, k0 + j] = P[i, j]
        # C = the k block column of the other rows; zero it in A
        for i in range(D):
            for j in range(b):
                C[i, j] = A[i, k0 + j]
                A[i, k0 + j] = 0.0
        for i in range(b):
            for j in range(b):
                C[k0 + i, j] = 0.0
        _subtract_product(A, C, R, alpha, beta)  # A -= C R
        for i in range(b):
            for j in range(D):
                Ak[i, j] = R[i, j]
    return logdet


@njit(cache=True)
def domain_inverse(W, s, AT, C, R, P, alpha, beta):
    """AT[:d, :d] = ((sI - W o W)^-1)^T; returns log det(sI - W o W), -inf outside the domain.

    ``-inf`` means a non-positive pivot, i.e. ``sI - W o W`` is not a
    nonsingular M-matrix (the exact domain test). Buffers from
    :func:`domain_workspace`.
    """
    d = W.shape[0]
    D = AT.shape[0]
    for i in range(D):
        for j in range(D):
            AT[i, j] = 0.0
    for i in range(d):
        for j in range(d):
            AT[i, j] = -W[j, i] * W[j, i]
        AT[i, i] += s
    for i in range(d, D):
        AT[i, i] = 1.0
    return _block_gauss_jordan(AT, C, R, P, alpha, beta)


@njit(cache=True, fastmath=True)
def _min_entry(M, d):
    """Smallest entry of M[:d, :d]; fastmath and per-row selects let the reduction vectorise
    (M is NaN-free: a NaN pivot already fails the domain test in :func:`domain_inverse`)."""
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

    ``MT`` holds ``M^T`` in its top-left (d, d) block, read row by row; the
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
    AT, C, Rb, Pb, alpha, beta = domain_workspace(d)
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
        # AT[:d, :d] = M^T, M = (sI - W o W)^-1; logdet = -inf on a non-positive pivot
        logdet = domain_inverse(W, s, AT, C, Rb, Pb, alpha, beta)
        # Domain test (sec. 3): sI - W o W must stay a nonsingular M-matrix, i.e. M >= 0.
        while logdet == -np.inf or _min_entry(AT, d) < -domain_tol:
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
            logdet = domain_inverse(W, s, AT, C, Rb, Pb, alpha, beta)

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

