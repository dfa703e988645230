"""Compiled inner loop of the log-det path-following DAG learners (CoLiDE, DAGMA).

One call runs one *stage* of the path (fixed ``mu`` and ``s``): Adam steps on
``mu * (score(W, sigma) + lambda1 ||W||_1) + h_s(W)`` with the closed-form
scale update after every step. The kernel is dumb: contiguous float64 arrays,
scalars and output buffers in, a status code and counters out. The stage
driver (retries, schedule, thresholding) is
``sparseopt.causal._path_following``.

Per iteration the O(d^3) work is one inverse ``M = (sI - W o W)^-1`` (LAPACK
getrf + getri), reused for the M-matrix domain test and the gradient of
``h_s``, plus one product ``Sigma @ W`` (BLAS) that serves the score gradient
and the scale update. ``h_s`` itself (a log-determinant) is only needed at
checkpoints, every ``checkpoint`` iterations.
"""
import numpy as np
from numba import njit

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
def _inverse_of_domain_matrix(W, s, A):
    """M = (sI - W o W)^-1, A is a (d, d) work buffer."""
    d = W.shape[0]
    for i in range(d):
        for j in range(d):
            A[i, j] = -W[i, j] * W[i, j]
        A[i, i] += s
    return np.linalg.inv(A)


@njit(cache=True)
def _min_entry(M):
    d = M.shape[0]
    out = np.inf
    for i in range(d):
        for j in range(d):
            if M[i, j] < out:
                out = M[i, j]
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
    """P = Sigma (I - W); returns nothing (P is the output buffer)."""
    SW = Sigma @ W
    d = W.shape[0]
    for i in range(d):
        for j in range(d):
            P[i, j] = Sigma[i, j] - SW[i, j]


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
    A = np.empty((d, d))
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
        M = _inverse_of_domain_matrix(W, s, A)
        # Domain test (sec. 3): sI - W o W must stay a nonsingular M-matrix, i.e. M >= 0.
        while _min_entry(M) < -domain_tol:
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
            M = _inverse_of_domain_matrix(W, s, A)

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
        for i in range(d):
            for j in range(d):
                w = W[i, j]
                g = 2.0 * w * M[j, i] - scaled_mu[j] * P[i, j]
                if w > 0:
                    g += mu_lambda
                elif w < 0:
                    g -= mu_lambda
                mij = beta1 * m[i, j] + (1.0 - beta1) * g
                vij = beta2 * v[i, j] + (1.0 - beta2) * g * g
                m[i, j] = mij
                v[i, j] = vij
                st = (mij * inv_bias1) / (np.sqrt(vij * inv_bias2) + eps)
                step[i, j] = st
                W_prev[i, j] = w
                W[i, j] = (w - lr * st) * free_mask[i, j]
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

