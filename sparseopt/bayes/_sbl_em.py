"""EM engine of sparse Bayesian learning: E-steps (dense and Kronecker) and the loop.

Model: ``y = A x + w``, ``x ~ N(0, diag gamma)``, ``w ~ N(0, sigma^2 I)``; the
type-II cost ``L = log|Sigma_y| + y^H Sigma_y^{-1} y`` with
``Sigma_y = sigma^2 I + A Gamma A^H`` is decreased by EM (Tipping 2001; Wipf &
Rao 2004; He & Joseph 2024 for the Kronecker case). The hyperparameter is a
Kronecker product ``gamma = gamma_1 kron ... kron gamma_I`` over ``I`` modes
(``I = 1``: classic SBL). The M-step and the noise update are callables
supplied by the estimators.

Pruned indices are removed from each mode (``masks``); every array here
lives in the namespace of the data (``xp``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import reduce

import numpy as np

from ._kronecker_design import abs_squared, conj_transpose, multi_mode_product, real_part

__all__ = ["sbl_em", "DenseEStep", "KroneckerEStep", "kron_vectors", "scatter_axis", "noise_em",
           "effective_dof", "initial_gammas"]


def kron_vectors(xp, vectors):
    """``v_1 kron ... kron v_I`` as a tensor of shape ``(len(v_1), ..., len(v_I))``."""
    out = vectors[0]
    for v in vectors[1:]:
        out = out[..., None] * xp.reshape(v, (1,) * out.ndim + (v.shape[0],))
    return out


def scatter_axis(xp, values, mask, axis):
    """Put ``values`` (compressed along ``axis``) at the True entries of ``mask``, 0 elsewhere."""
    position = xp.cumulative_sum(xp.astype(mask, xp.int64)) - 1
    position = xp.where(position < 0, xp.zeros_like(position), position)
    taken = xp.take(values, position, axis=axis)
    shape = [1] * values.ndim
    shape[axis] = mask.shape[0]
    return xp.where(xp.reshape(mask, tuple(shape)), taken, xp.zeros_like(taken))


def _active_index(xp, mask):
    return xp.nonzero(mask)[0]


@dataclass
class Posterior:
    """One E-step: posterior mean and variances on the active set, cost terms."""

    mean: object            # (*active_shape, L)
    variance: object        # (*active_shape,) diag Sigma_x, real
    log_det: float          # log |Sigma_y|
    quadratic: float        # mean over columns of y^H Sigma_y^{-1} y
    residual_sq: float      # mean over columns of ||y - A mu||^2
    covariance: object = None  # full Sigma_x on the active set (dense E-step on request)

    @property
    def cost(self):
        return self.log_det + self.quadratic


class DenseEStep:
    """E-step with a dense design ``X`` (``M x N``), in the smaller dimension.

    With ``n`` active columns: if ``n < M``, eigendecompose
    ``I + sigma^-2 Gamma^1/2 A^H A Gamma^1/2`` (``n x n``), otherwise
    ``Sigma_y = sigma^2 I + A Gamma A^H`` (``M x M``).
    """

    def __init__(self, xp, X, mode_sizes):
        self.xp, self.X = xp, X
        self.mode_sizes = tuple(mode_sizes)
        self.n_samples = int(X.shape[0])
        self.largest_dimension = int(min(X.shape))  # the eigendecompositions are at most this

    def columns(self, masks):
        xp = self.xp
        if len(masks) == 1:
            full = masks[0]
        else:
            full = xp.reshape(kron_vectors(xp, [xp.astype(m, xp.int8) for m in masks]), (-1,))
            full = full > 0
        return xp.take(self.X, _active_index(xp, full), axis=1)

    def __call__(self, gammas, masks, sigma2, Y, covariance=False):
        xp = self.xp
        A = self.columns(masks)
        active_shape = tuple(int(g.shape[0]) for g in gammas)
        gamma = xp.reshape(kron_vectors(xp, gammas), (-1,))
        M, n = A.shape
        n_targets = Y.shape[1]
        AH = conj_transpose(xp, A)
        cov = None
        if n < M:  # primal: Sigma_x = R (I + sigma^-2 R A^H A R)^-1 R, R = Gamma^1/2
            root = xp.sqrt(gamma)
            B = (root[:, None] * (AH @ A) * root[None, :]) / sigma2
            B = B + xp.eye(n, dtype=B.dtype, device=_dev(B))
            b, W = xp.linalg.eigh(B)
            RW = root[:, None] * W                      # Gamma^1/2 W
            variance = xp.sum(abs_squared(xp, RW) / b[None, :], axis=1)
            mean = RW @ ((conj_transpose(xp, RW) @ (AH @ Y)) / b[:, None]) / sigma2
            log_det = M * math.log(sigma2) + float(xp.sum(xp.log(b)))
            if covariance:
                cov = (RW / b[None, :]) @ conj_transpose(xp, RW)
        else:  # dual: Sigma_y = sigma^2 I + A Gamma A^H
            S = (A * gamma[None, :]) @ AH
            S = S + sigma2 * xp.eye(M, dtype=S.dtype, device=_dev(S))
            e, V = xp.linalg.eigh(S)
            VH = conj_transpose(xp, V)
            R = V @ ((VH @ A) / e[:, None])             # Sigma_y^-1 A
            mean = gamma[:, None] * (conj_transpose(xp, R) @ Y)
            AR = xp.conj(A) * R if xp.isdtype(A.dtype, "complex floating") else A * R
            variance = gamma - gamma ** 2 * real_part(xp, xp.sum(AR, axis=0))
            log_det = float(xp.sum(xp.log(e)))
            if covariance:
                cov = _diag(xp, gamma) - gamma[:, None] * (AH @ R) * gamma[None, :]
        variance = xp.where(variance < 0, xp.zeros_like(variance), variance)
        residual = Y - A @ mean
        residual_sq = float(xp.sum(abs_squared(xp, residual))) / n_targets
        # y^H Sigma_y^-1 y = ||y - A mu||^2 / sigma^2 + mu^H Gamma^-1 mu (no cancellation)
        quadratic = residual_sq / sigma2 + float(
            xp.sum(abs_squared(xp, mean) / gamma[:, None])) / n_targets
        mean = xp.reshape(mean, active_shape + (n_targets,))
        variance = xp.reshape(variance, active_shape)
        return Posterior(mean, variance, log_det, quadratic, residual_sq, cov)


def _dev(a):
    import array_api_compat

    return array_api_compat.device(a)


def _diag(xp, v):
    n = v.shape[0]
    return xp.eye(n, dtype=v.dtype, device=_dev(v)) * v[None, :]


class KroneckerEStep:
    """E-step from the factors of ``A = A_1 kron ... kron A_I`` (He & Joseph 2024, Sec. III).

    ``A Gamma A^H = kron_i A_i Gamma_i A_i^H``: one ``m_i x m_i`` Hermitian
    eigendecomposition ``U_i diag(p_i) U_i^H`` per mode diagonalises
    ``Sigma_y``; with ``d = 1 / (sigma^2 + p_1 kron ... kron p_I)`` and
    ``G_i = Gamma_i A_i^H U_i``::

        mu           = (kron G_i) [d * (kron U_i^H) y]
        diag Sigma_x = gamma - (kron |G_i|^2) d

    Memory ``O(M + N + sum m_i n_i)``; the ``M x N`` matrix is never formed.
    """

    def __init__(self, xp, factors):
        self.xp, self.factors = xp, tuple(factors)
        self.measurement_shape = tuple(int(f.shape[0]) for f in factors)
        self.mode_sizes = tuple(int(f.shape[1]) for f in factors)
        self.n_samples = int(np.prod(self.measurement_shape))
        self.largest_dimension = max(max(f.shape) for f in factors)

    def __call__(self, gammas, masks, sigma2, Y, covariance=False):
        xp = self.xp
        n_targets = Y.shape[1]
        factors = [xp.take(A, _active_index(xp, m), axis=1) for A, m in zip(self.factors, masks)]
        eigvals, U_adj, G, G_sq = [], [], [], []
        for A, g in zip(factors, gammas):
            AH = conj_transpose(xp, A)
            K = (A * xp.astype(g, A.dtype)[None, :]) @ AH        # A_i Gamma_i A_i^H
            p, U = xp.linalg.eigh(K)
            eigvals.append(xp.where(p < 0, xp.zeros_like(p), p))
            U_adj.append(conj_transpose(xp, U))
            Gi = xp.astype(g, A.dtype)[:, None] * (AH @ U)      # Gamma_i A_i^H U_i
            G.append(Gi)
            G_sq.append(abs_squared(xp, Gi))
        d = 1.0 / (sigma2 + kron_vectors(xp, eigvals))           # shape (m_1, ..., m_I)
        tensor_y = xp.reshape(Y, self.measurement_shape + (n_targets,))
        rotated = multi_mode_product(xp, tensor_y, U_adj)         # (kron U_i^H) y
        mean = multi_mode_product(xp, xp.astype(d, rotated.dtype)[..., None] * rotated, G)
        gamma = kron_vectors(xp, gammas)
        variance = gamma - multi_mode_product(xp, d, G_sq)
        variance = xp.where(variance < 0, xp.zeros_like(variance), variance)
        log_det = -float(xp.sum(xp.log(d)))
        quadratic = float(xp.sum(d[..., None] * abs_squared(xp, rotated))) / n_targets
        fitted = multi_mode_product(xp, mean, factors)
        residual_sq = float(xp.sum(abs_squared(xp, tensor_y - fitted))) / n_targets
        return Posterior(mean, variance, log_det, quadratic, residual_sq)


@dataclass
class EMResult:
    coef: object                 # (*mode_sizes, L), zeros off the support
    gammas: list                 # full-length per-mode variances (zeros where pruned)
    masks: list                  # active indices per mode (bool)
    noise_variance: float
    n_iter: int
    converged: bool
    certificate: float           # last relative change of gamma
    cost_history: list = field(default_factory=list)
    posterior: Posterior = None  # final E-step (active set)


def effective_dof(xp, post, gamma):
    """``sum_j (1 - Sigma_jj / gamma_j)``: number of well-determined coefficients."""
    return float(xp.sum(1.0 - post.variance / gamma))


def noise_em(xp, post, gamma, sigma2, n_samples):
    """EM noise update (Wipf & Rao 2004): ``[||y - A mu||^2 + sigma^2 dof] / M``."""
    return (post.residual_sq + sigma2 * effective_dof(xp, post, gamma)) / n_samples


# Below this size a multi-threaded BLAS spends more time synchronising than computing
# (a 40 x 40 eigh was over 10x slower with 2 OpenBLAS threads on a busy 2-core machine).
SMALL_BLAS = 256


def blas_threads(xp, largest_dimension):
    """Context limiting NumPy's BLAS to one thread when every dense matrix is small."""
    import contextlib

    if getattr(xp, "__name__", "").endswith("numpy") and largest_dimension <= SMALL_BLAS:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="blas")
    return contextlib.nullcontext()


def sbl_em(xp, e_step, Y, *, m_step, noise_update, noise_variance, prune_threshold, tol,
           max_iter, gamma_init, verbose=0, name="SBL"):
    """Run EM for sparse Bayesian learning with a Kronecker hyperparameter.

    Parameters
    ----------
    xp : namespace
    e_step : DenseEStep or KroneckerEStep
    Y : array of shape (M, L)
    m_step : callable ``(posterior, gammas) -> gammas``
        New per-mode variances on the active set (the Kronecker M-step).
    noise_update : callable ``(xp, posterior, gamma_tensor, sigma2, M) -> sigma2``
    noise_variance : float or None
        Known ``sigma^2`` or None (learned, started at ``0.1 mean|y|^2``).
    prune_threshold : float
        Drop index ``a`` of mode ``i`` when ``gamma_i[a] <= r max gamma_i``.
    tol : float
        Stop when ``||gamma^t - gamma^(t-1)|| <= tol ||gamma^(t-1)||`` (full length).
    max_iter : int
    gamma_init : list of arrays
        Initial per-mode variances (full length).

    Returns
    -------
    EMResult
    """
    with blas_threads(xp, e_step.largest_dimension):
        return _sbl_em(xp, e_step, Y, m_step=m_step, noise_update=noise_update,
                       noise_variance=noise_variance, prune_threshold=prune_threshold, tol=tol,
                       max_iter=max_iter, gamma_init=gamma_init, verbose=verbose, name=name)


def _sbl_em(xp, e_step, Y, *, m_step, noise_update, noise_variance, prune_threshold, tol,
            max_iter, gamma_init, verbose, name):
    sizes = e_step.mode_sizes
    n_samples = e_step.n_samples
    dtype = Y.dtype
    real_dtype = real_part(xp, Y[:1, :1]).dtype
    power = float(xp.sum(abs_squared(xp, Y))) / (Y.shape[0] * Y.shape[1])
    eps = float(np.finfo(np.float32 if real_dtype == xp.float32 else np.float64).eps)
    # floor keeping Sigma_y invertible on noiseless data (relative, so scale-free)
    noise_floor = max(eps, 1e-10) * power
    learn_noise = noise_variance is None
    sigma2 = 0.1 * power if learn_noise else float(noise_variance)
    sigma2 = max(sigma2, noise_floor)
    masks = [xp.ones(n, dtype=xp.bool, device=_dev(Y)) for n in sizes]
    gammas = [xp.astype(g, real_dtype) for g in gamma_init]
    previous_full = xp.reshape(kron_vectors(xp, gammas), (-1,))
    history, converged, change, n_iter = [], False, math.inf, 0
    for n_iter in range(1, max_iter + 1):
        post = e_step(gammas, masks, sigma2, Y)
        history.append(post.cost)
        if not math.isfinite(post.cost):
            raise FloatingPointError(
                f"{name}: the SBL cost became non-finite at iteration {n_iter}; the data may be "
                "badly scaled or degenerate.")
        gamma_tensor = kron_vectors(xp, gammas)
        new_gammas = m_step(post, gammas)
        if learn_noise:
            sigma2 = max(float(noise_update(xp, post, gamma_tensor, sigma2, n_samples)),
                         noise_floor)
        # relative pruning thresholds (scale-free), applied before the next E-step
        if any(not float(xp.max(g)) > 0.0 for g in new_gammas):
            # every variance of a mode vanished: the posterior mean is zero
            return _empty_result(xp, Y, sizes, real_dtype, sigma2, n_iter, history)
        gammas = []
        for i, g in enumerate(new_gammas):
            keep = g > prune_threshold * xp.max(g)
            if not bool(xp.all(keep)):
                idx = _active_index(xp, keep)
                g = xp.take(g, idx)
                masks[i] = scatter_axis(xp, keep, masks[i], 0)
            gammas.append(g)
        full = _full_gamma(xp, gammas, masks)
        change = float(xp.linalg.vector_norm(full - previous_full)) / max(
            float(xp.linalg.vector_norm(previous_full)), np.finfo(np.float64).tiny)
        previous_full = full
        if verbose:
            print(f"[{name}] iter {n_iter:4d}  cost {post.cost:.6e}  sigma^2 {sigma2:.3e}  "
                  f"active {[int(g.shape[0]) for g in gammas]}  change {change:.2e}")
        if change <= tol:
            converged = True
            break
    post = e_step(gammas, masks, sigma2, Y, covariance=True)
    coef = post.mean
    for axis, mask in enumerate(masks):
        coef = scatter_axis(xp, coef, mask, axis)
    full_gammas = [scatter_axis(xp, g, m, 0) for g, m in zip(gammas, masks)]
    return EMResult(coef=coef, gammas=full_gammas, masks=masks, noise_variance=sigma2,
                    n_iter=n_iter, converged=converged, certificate=change,
                    cost_history=history, posterior=post)


def _empty_result(xp, Y, sizes, dtype, sigma2, n_iter, history):
    device = _dev(Y)
    return EMResult(coef=xp.zeros(tuple(sizes) + (Y.shape[1],), dtype=Y.dtype, device=device),
                    gammas=[xp.zeros(n, dtype=dtype, device=device) for n in sizes],
                    masks=[xp.zeros(n, dtype=xp.bool, device=device) for n in sizes],
                    noise_variance=sigma2, n_iter=n_iter, converged=True, certificate=0.0,
                    cost_history=history, posterior=None)


def _full_gamma(xp, gammas, masks):
    full = [scatter_axis(xp, g, m, 0) for g, m in zip(gammas, masks)]
    return xp.reshape(kron_vectors(xp, full), (-1,))


def initial_gammas(xp, sizes, scale, dtype, device):
    """Constant ``gamma``: unit-norm factors except the last, which carries ``scale``."""
    out = []
    for i, n in enumerate(sizes):
        if i < len(sizes) - 1:
            out.append(xp.full((n,), 1.0 / math.sqrt(n), dtype=dtype, device=device))
        else:
            carry = scale * reduce(lambda a, b: a * b, [math.sqrt(m) for m in sizes[:-1]], 1.0)
            out.append(xp.full((n,), carry, dtype=dtype, device=device))
    return out
