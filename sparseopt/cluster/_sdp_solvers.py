"""Solvers for the K-means SDP of Peng & Wei (2007) and its likelihood-adjusted form.

Every solver minimises a linear cost over membership matrices::

    min  sum_b <C_b, Z_b>
    s.t. Z_b = Z_b^T PSD,  tr Z_b = t_b,  Z_b >= 0 (entrywise),  sum_b Z_b 1 = 1

One block (``t = K``, ``C = -X X^T``) is the Peng-Wei relaxation; ``K`` blocks
(``t_b = 1``) are the likelihood-adjusted SDP (LA-SDP) of Zhuang, Chen & Yang
(2023).

* :func:`sdp_admm`: two-block ADMM with closed-form projections (an
  eigendecomposition per block and iteration, a row-wise simplex projection),
  residual balancing; written against the array namespace of the costs.
* :func:`kmeans_sdp_bm`: non-negative low-rank Burer-Monteiro factorisation
  ``Z = U U^T`` (Zhuang, Chen, Yang & Zhang 2024) by projected gradient on an
  augmented Lagrangian; ``O(n p r)`` per iteration, the ``n x n`` matrix is
  never formed.
* :func:`la_sdp_bm`: the same factorisation for the ``K`` blocks of LA-SDP
  (``Z_k = U_k U_k^T``, one coupling constraint), on whitened data; ``O(n p r)``
  per block and iteration.
* :func:`sdp_cvxpy`: the conic reference (cvxpy), for small problems.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..optimize._result import SolverResult

__all__ = ["project_rows_simplex", "project_spectraplex", "sdp_admm", "kmeans_sdp_bm",
           "la_sdp_bm", "sdp_cvxpy", "squared_distances"]


# ----------------------------------------------------------------------- projections
def project_rows_simplex(xp, V, total=1.0):
    """Project every row of ``V`` onto ``{w >= 0, sum(w) = total}`` (sort-based).

    The threshold is ``theta = max_j (sum_{i<=j} u_(i) - total) / j`` over the
    row sorted in decreasing order ``u_(1) >= u_(2) >= ...`` (Held, Wolfe &
    Crowder 1974): every partial sum bounds it from below and the support of
    the projection attains it.
    """
    m = V.shape[-1]
    desc = xp.flip(xp.sort(V, axis=-1), axis=-1)
    partial = xp.cumulative_sum(desc, axis=-1)
    counts = xp.arange(1, m + 1, dtype=V.dtype, device=_device(V))
    theta = xp.max((partial - total) / counts, axis=-1, keepdims=True)
    return xp.clip(V - theta, min=0.0)


def project_spectraplex(xp, M, total):
    """Project ``sym(M)`` onto ``{Z PSD, tr Z = total}``.

    ``Z = V diag(lambda^+) V^T`` with ``lambda^+`` the projection of the
    eigenvalues onto ``{lambda >= 0, sum = total}``; only the eigenvectors with
    a positive ``lambda^+`` are multiplied back. Returns ``(Z, rank)``.
    """
    Z, rank = _project_spectraplex_batch(xp, M[None, ...], total)
    return Z[0, ...], rank


def _project_spectraplex_batch(xp, M, totals):
    """:func:`project_spectraplex` of every ``M[b]`` (one batched ``eigh``).

    ``totals`` is a float or an array of shape ``(B, 1)``. Returns the
    projections and the largest number of kept eigenvectors.
    """
    n = M.shape[-1]
    S = (M + xp.permute_dims(M, (0, 2, 1))) / 2
    eigenvalues, eigenvectors = xp.linalg.eigh(S)
    lam = project_rows_simplex(xp, eigenvalues, totals)
    rank = int(xp.max(xp.sum(xp.astype(lam > 0, xp.int32), axis=-1)))
    rank = max(rank, 1)
    V = eigenvectors[:, :, n - rank:]
    return (V * lam[:, None, n - rank:]) @ xp.permute_dims(V, (0, 2, 1)), rank


def _device(x):
    import array_api_compat

    return array_api_compat.device(x)


def squared_distances(xp, X):
    """Matrix ``D_ij = ||x_i - x_j||^2`` (clipped at 0 against round-off)."""
    sq = xp.sum(X * X, axis=1)
    D = sq[:, None] + sq[None, :] - 2.0 * (X @ X.T)
    return xp.clip(D, min=0.0)


# ----------------------------------------------------------------------- ADMM
def _fro(xp, M):
    return float(xp.linalg.vector_norm(M))


def sdp_admm(xp, costs, traces, *, tol=1e-6, max_iter=5000, rho=1.0, warm_start=None,
             relaxation=1.6, verbose=0):
    """ADMM for ``min sum_b <C_b, Z_b>`` over the membership-matrix constraints.

    Splitting ``Z_b`` (in ``C1 = {PSD, tr = t_b}``) and ``W_b`` (in
    ``C2 = {W >= 0, sum_b W_b 1 = 1}``) with the consensus ``Z_b = W_b``::

        Z_b <- Pi_C1(W_b - Y_b - C_b / rho)
        W   <- Pi_C2(Z + Y)              (row-wise simplex of [W_1 ... W_B])
        Y_b <- Y_b + Z_b - W_b

    Parameters
    ----------
    xp : array namespace
    costs : list of arrays of shape (n, n)
        Symmetric costs, ideally scaled to unit magnitude.
    traces : list of float
        ``tr Z_b`` of every block.
    tol : float
        Stop when the primal residual ``||Z - W||_F`` and the dual residual
        ``rho ||W - W_prev||_F``, both relative to ``max(||Z||_F, ||W||_F)``,
        are at most ``tol``.
    max_iter : int
    rho : float
        Initial penalty; adapted by residual balancing (doubled or halved,
        with the scaled dual rescaled, when one residual exceeds ten times
        the other).
    warm_start : dict, optional
        ``{"W": W, "Y": Y, "rho": float}`` from a previous result (``W`` and
        ``Y`` of shape ``(B, n, n)``).
    relaxation : float
        Over-relaxation factor in ``[1, 2)`` (1: plain ADMM).
    verbose : int

    Returns
    -------
    SolverResult
        ``x`` (list of symmetrised ``W_b``: non-negative, rows of the sum
        stochastic up to symmetrisation), ``Z_psd`` (the PSD copies),
        ``W``, ``Y`` (stacked ``(B, n, n)``), ``rho``, ``n_iter``, ``converged``, ``primal_residual``,
        ``dual_residual``, ``certificate`` (their maximum).
    """
    # BLAS runs single-threaded, as in scikit-learn's KMeans: threaded LAPACK on the
    # small n x n eigendecompositions is slower, several-fold on a loaded machine
    from ._base import single_threaded

    with single_threaded("blas"):
        return _sdp_admm(xp, costs, traces, tol=tol, max_iter=max_iter, rho=rho,
                         warm_start=warm_start, verbose=verbose, relaxation=relaxation)


def _sdp_admm(xp, costs, traces, *, tol, max_iter, rho, warm_start, verbose, relaxation):
    # the blocks live in one (B, n, n) array: one batched eigh per iteration
    C = xp.stack(list(costs))
    n_blocks, n = C.shape[0], C.shape[1]
    dtype, device = C.dtype, _device(C)
    totals = xp.reshape(xp.asarray(list(traces), dtype=dtype, device=device), (n_blocks, 1))
    if warm_start is not None:
        W, Y, rho = warm_start["W"], warm_start["Y"], float(warm_start["rho"])
    else:
        W = xp.full((n_blocks, n, n), 1.0 / (n * n_blocks), dtype=dtype, device=device)
        Y = xp.zeros((n_blocks, n, n), dtype=dtype, device=device)
    history = []
    converged = False
    primal = dual = math.inf
    Z = W
    t_start = time.perf_counter()
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        # Z-step: projection of every block onto {PSD, tr = t_b}
        Z, _ = _project_spectraplex_batch(xp, W - Y - C / rho, totals)
        # W-step, over-relaxed (Boyd et al. 2011, section 3.4.3): the rows of
        # [R_1 ... R_B] (n x Bn) onto the probability simplex
        Z_relaxed = relaxation * Z + (1.0 - relaxation) * W
        R = xp.reshape(xp.permute_dims(Z_relaxed + Y, (1, 0, 2)), (n, n_blocks * n))
        R = project_rows_simplex(xp, R, 1.0)
        W_prev = W
        W = xp.permute_dims(xp.reshape(R, (n, n_blocks, n)), (1, 0, 2))
        Y = Y + Z_relaxed - W
        scale = max(_fro(xp, Z), _fro(xp, W), 1e-300)
        primal = _fro(xp, Z - W) / scale
        dual = rho * _fro(xp, W - W_prev) / scale
        if verbose and (n_iter % 50 == 0 or n_iter == 1):
            print(f"[sdp_admm] it {n_iter:5d}  primal {primal:.2e}  dual {dual:.2e}  "
                  f"rho {rho:.2e}")
        if n_iter % 10 == 0 or n_iter == 1:
            history.append({"iteration": n_iter, "primal_residual": primal,
                            "dual_residual": dual, "rho": rho,
                            "time": time.perf_counter() - t_start})
        if primal <= tol and dual <= tol:
            converged = True
            break
        # residual balancing (Boyd et al. 2011, section 3.4.1)
        if primal > 10.0 * dual:
            rho *= 2.0
            Y = Y / 2.0
        elif dual > 10.0 * primal:
            rho /= 2.0
            Y = Y * 2.0
    W_sym = (W + xp.permute_dims(W, (0, 2, 1))) / 2
    x = [W_sym[b, ...] for b in range(n_blocks)]
    return SolverResult(x=x, Z_psd=[Z[b, ...] for b in range(n_blocks)], W=W, Y=Y, rho=rho,
                        n_iter=n_iter, converged=converged,
                        primal_residual=primal, dual_residual=dual,
                        certificate=max(primal, dual),
                        certificate_name="max(primal, dual) relative residual", tol=tol,
                        history=history)


# ----------------------------------------------------------------------- Burer-Monteiro
def _project_omega(xp, U, total):
    """``U <- sqrt(total) U_+ / ||U_+||_F`` (non-negative sphere of radius sqrt(total))."""
    U = xp.clip(U, min=0.0)
    norm = _fro(xp, U)
    if norm == 0.0:  # every entry was negative: restart from the flat point
        U = xp.ones(U.shape, dtype=U.dtype, device=_device(U))
        norm = _fro(xp, U)
    return U * (math.sqrt(total) / norm)


def kmeans_sdp_bm(xp, X, n_clusters, U0, *, beta=None, step=None, tol=1e-6, max_iter=50000,
                  dual_every=0.1, momentum=True, verbose=0):
    """Non-negative low-rank Burer-Monteiro solver of the Peng-Wei SDP.

    Maximises ``<X X^T, U U^T>`` over ``U >= 0`` with ``||U||_F^2 = K`` by
    projected gradient on the augmented Lagrangian of ``U U^T 1 = 1``::

        L(U, y) = -<X X^T, U U^T> + <y, U U^T 1 - 1> + beta/2 ||U U^T 1 - 1||^2

    (Zhuang, Chen, Yang & Zhang 2024). The gradient
    ``-2 X (X^T U) + v (1^T U) + 1 (v^T U)`` with ``v = y + beta (U U^T 1 - 1)``
    costs ``O(n p r)``. Steps are taken from a Nesterov-extrapolated point,
    with the gradient restart of O'Donoghue & Candes (2015) (and a restart
    after every multiplier update).

    NumPy input runs the compiled loop (``sparseopt._ext._sdp_bm``); other
    array namespaces run the same iterations written against the namespace.

    Parameters
    ----------
    xp : array namespace
    X : array of shape (n, p)
        Centred data scaled to ``||X||_2 = 1``.
    n_clusters : int
    U0 : array of shape (n, r)
        Initial factor (projected onto the feasible sphere).
    beta : float, optional
        Augmented-Lagrangian penalty; default ``2 / n``. The Jacobian of
        ``U U^T 1`` has norm about ``2 sqrt(n)`` on the feasible set, so
        ``beta = c / n`` balances the penalty's curvature (about ``4 c``)
        against the objective's (2): the authors' ``beta = 10`` makes the
        subproblem ``n``-times worse conditioned and took 5-50 times more
        iterations at ``n = 200``.
    step : float, optional
        Gradient step; default ``1 / (2 + 4 beta n)``, the inverse of that
        curvature bound (``||U^T 1||^2 = 1^T Z 1 = n`` on the feasible set).
    dual_every : float
        The multiplier is updated when the gradient-mapping norm
        ``||U_new - U_extrapolated||_F / sqrt(K)`` falls below ``dual_every``
        times the current row-sum violation (inexact method of multipliers).
    tol : float
        Stop when the row-sum violation ``||U U^T 1 - 1||_2 / sqrt(n)`` and
        the gradient-mapping norm are both at most ``tol``.
    max_iter : int
    momentum : bool
        Nesterov extrapolation (with restarts); ``False`` gives plain
        projected gradient.

    Returns
    -------
    SolverResult
        ``x`` (the factor ``U``), ``y``, ``n_iter``, ``converged``,
        ``primal_residual`` (row-sum violation), ``dual_residual`` (last
        gradient-mapping norm), ``certificate``, ``n_dual_updates``.
    """
    n = X.shape[0]
    K = float(n_clusters)
    beta = 2.0 / n if beta is None else float(beta)
    if step is None:
        step = 1.0 / (2.0 + 4.0 * beta * n)
    U = _project_omega(xp, U0, K)
    y = xp.zeros((n,), dtype=X.dtype, device=_device(X))
    history = []
    if _is_numpy(xp):
        from .._ext._sdp_bm import kmeans_bm_loop

        U = np.array(U, dtype=np.float64, order="C", copy=True)
        y = np.zeros(n)
        n_iter, _, step_norm, n_dual = kmeans_bm_loop(
            np.ascontiguousarray(X, dtype=np.float64), U, y, beta, step, tol, int(max_iter),
            dual_every, K, bool(momentum))
        converged = n_iter < max_iter or (n_iter == max_iter and step_norm <= tol)
    else:
        U, y, n_iter, step_norm, n_dual, converged, history = _kmeans_bm_xp(
            xp, X, U, y, K, beta, step, tol, max_iter, dual_every, momentum, verbose)
    ones = xp.ones((n,), dtype=X.dtype, device=_device(X))
    col = xp.sum(U, axis=0)
    violation = float(xp.linalg.vector_norm(U @ col - ones)) / math.sqrt(n)
    return _bm_result(U, y, n_iter, step_norm, n_dual, converged, violation, tol, history)


def _bm_result(U, y, n_iter, step_norm, n_dual, converged, violation, tol, history):
    """The ``SolverResult`` of a Burer-Monteiro solve (converged only when the row-sum
    violation of the returned factors is within 10 tol too)."""
    converged = bool(converged and violation <= 10 * tol)
    return SolverResult(x=U, y=y, n_iter=int(n_iter), converged=converged,
                        primal_residual=violation, dual_residual=float(step_norm),
                        certificate=max(violation, float(step_norm)),
                        certificate_name="max(row-sum violation, gradient-mapping norm)", tol=tol,
                        history=history, n_dual_updates=int(n_dual))


def _is_numpy(xp):
    name = getattr(xp, "__name__", "")
    return name in ("numpy", "array_api_compat.numpy")


def _al_projected_gradient_xp(xp, U, y, residual_and_grad, project, norm_scale, beta, step,
                              tol, max_iter, dual_every, momentum, verbose, name):
    """Projected gradient with Nesterov extrapolation and restarts on an augmented
    Lagrangian, the multiplier ``y`` updated inexactly (the loop of both BM solvers).

    ``residual_and_grad(V, y)`` returns the row-sum residual at ``V`` and the gradient
    of the augmented Lagrangian there; ``project`` maps onto the factors' feasible set;
    the gradient-mapping norm is ``||U_new - V||_F / norm_scale``.
    """
    n = y.shape[0]
    V, U_prev = U, U
    t_m = 1.0
    step_norm = math.inf
    n_dual = 0
    history = []
    converged = False
    t_start = time.perf_counter()
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        residual, grad = residual_and_grad(V, y)
        U_new = project(V - step * grad)
        step_norm = _fro(xp, U_new - V) / norm_scale
        uphill = float(xp.sum((V - U_new) * (U_new - U))) > 0.0
        U_prev, U = U, U_new
        violation = float(xp.linalg.vector_norm(residual)) / math.sqrt(n)
        if verbose and n_iter % 1000 == 0:
            print(f"[{name}] it {n_iter:6d}  row-sum violation {violation:.2e}  "
                  f"step {step_norm:.2e}")
        if n_iter % 100 == 0:
            history.append({"iteration": n_iter, "primal_residual": violation,
                            "dual_residual": step_norm, "time": time.perf_counter() - t_start})
        if violation <= tol and step_norm <= tol:
            converged = True
            break
        if step_norm < dual_every * violation:
            y = y + beta * residual
            n_dual += 1
            t_m = 1.0
        elif uphill:
            t_m = 1.0
        if momentum:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t_m * t_m))
            weight = (t_m - 1.0) / t_new
            t_m = t_new
        else:
            weight = 0.0
        V = U + weight * (U - U_prev)
    return U, y, n_iter, step_norm, n_dual, converged, history


def _kmeans_bm_xp(xp, X, U, y, K, beta, step, tol, max_iter, dual_every, momentum, verbose):
    """The iterations of ``sparseopt._ext._sdp_bm.kmeans_bm_loop`` in the namespace of ``X``."""
    n = X.shape[0]
    ones = xp.ones((n,), dtype=X.dtype, device=_device(X))

    def residual_and_grad(V, y):
        col = xp.sum(V, axis=0)                      # 1^T V
        residual = V @ col - ones                    # V V^T 1 - 1
        v = y + beta * residual
        return residual, -2.0 * (X @ (X.T @ V)) + v[:, None] * col[None, :] + (v @ V)[None, :]

    return _al_projected_gradient_xp(xp, U, y, residual_and_grad,
                                     lambda M: _project_omega(xp, M, K), math.sqrt(K), beta,
                                     step, tol, max_iter, dual_every, momentum, verbose,
                                     "kmeans_sdp_bm")


# ----------------------------------------------------------------------- LA-SDP Burer-Monteiro
def la_sdp_bm(xp, Y, offsets, U0, *, y0=None, beta=None, step=None, tol=1e-6, max_iter=50000,
              dual_every=0.1, momentum=True, verbose=0):
    """Non-negative Burer-Monteiro solver of the likelihood-adjusted SDP (K blocks).

    Minimises ``sum_k <D_k / 2 + c_k 1 1^T, U_k U_k^T>`` over factors
    ``U_k >= 0`` of shape ``(n, r)`` with ``||U_k||_F^2 = 1``, subject to
    ``sum_k U_k U_k^T 1 = 1`` (augmented Lagrangian, multiplier ``y``), where
    ``(D_k)_ij = ||y_ki - y_kj||^2`` are the squared distances between the
    rows of ``Y_k`` (the data whitened by ``Sigma_k``). With ``s_k`` the
    row squared norms of ``Y_k``::

        <D_k / 2, U U^T> = s_k^T (U U^T 1) - ||Y_k^T U||_F^2,
        <1 1^T, U U^T> = ||U^T 1||^2

    so the value and the gradient
    ``(s_k + v + 2 c_k 1)(1^T U_k) + 1 ((s_k + v)^T U_k) - 2 Y_k (Y_k^T U_k)``
    (``v = y + beta (sum_k U_k U_k^T 1 - 1)``) cost ``O(n p r)`` per block:
    no ``n x n`` matrix is formed. Projected gradient steps onto
    ``{U_k >= 0, ||U_k||_F = 1}`` (every block) from a Nesterov-extrapolated
    point with gradient restarts, as :func:`kmeans_sdp_bm` with one block.

    NumPy input runs the compiled loop (``sparseopt._ext._sdp_bm.la_sdp_bm_loop``);
    other array namespaces run the same iterations written against the namespace.

    Parameters
    ----------
    xp : array namespace
    Y : array of shape (K, n, p)
        Whitened data of every block, scaled so that every cost has spectral
        norm at most about one (see :func:`sparseopt.cluster.la_sdp`).
    offsets : sequence of K floats
        ``c_k`` (same scale).
    U0 : array of shape (K, n, r)
        Initial factors (projected onto the feasible spheres).
    y0 : array of shape (n,), optional
        Initial multiplier (warm start); zeros by default.
    beta, step, tol, max_iter, dual_every, momentum, verbose
        As in :func:`kmeans_sdp_bm` (defaults ``beta = 2 / n``,
        ``step = 1 / (2 + 4 beta n)``). The gradient-mapping norm is
        ``||U_new - U_extrapolated||_F / sqrt(K)`` over all blocks.

    Returns
    -------
    SolverResult
        ``x`` (factors ``(K, n, r)``), ``y``, ``n_iter``, ``converged``,
        ``primal_residual`` (row-sum violation
        ``||sum_k U_k U_k^T 1 - 1||_2 / sqrt(n)``), ``dual_residual`` (last
        gradient-mapping norm), ``certificate`` (their maximum),
        ``n_dual_updates``.
    """
    n_blocks, n = Y.shape[0], Y.shape[1]
    beta = 2.0 / n if beta is None else float(beta)
    if step is None:
        step = 1.0 / (2.0 + 4.0 * beta * n)
    offsets = [float(c) for c in offsets]
    U = _project_blocks(xp, U0)
    if y0 is None:
        y = xp.zeros((n,), dtype=Y.dtype, device=_device(Y))
    else:
        y = y0
    history = []
    if _is_numpy(xp):
        from .._ext._sdp_bm import la_sdp_bm_loop

        U = np.array(U, dtype=np.float64, order="C", copy=True)
        y = np.array(y, dtype=np.float64, order="C", copy=True)
        n_iter, _, step_norm, n_dual = la_sdp_bm_loop(
            np.ascontiguousarray(Y, dtype=np.float64), np.asarray(offsets, dtype=np.float64),
            U, y, beta, step, tol, int(max_iter), dual_every, bool(momentum))
        converged = n_iter < max_iter or (n_iter == max_iter and step_norm <= tol)
    else:
        U, y, n_iter, step_norm, n_dual, converged, history = _la_sdp_bm_xp(
            xp, Y, offsets, U, y, beta, step, tol, max_iter, dual_every, momentum, verbose)
    violation = float(xp.linalg.vector_norm(_block_row_sums(xp, U) - 1.0)) / math.sqrt(n)
    return _bm_result(U, y, n_iter, step_norm, n_dual, converged, violation, tol, history)


def _block_row_sums(xp, U):
    """``sum_k U_k U_k^T 1`` for factors ``U`` of shape ``(K, n, r)``."""
    col = xp.sum(U, axis=1)                                   # (K, r): 1^T U_k
    return xp.sum(xp.sum(U * col[:, None, :], axis=2), axis=0)


def _project_blocks(xp, U):
    """Every block onto ``{U_k >= 0, ||U_k||_F = 1}`` (a zeroed block restarts flat)."""
    U = xp.clip(U, min=0.0)
    norms = xp.sqrt(xp.sum(xp.sum(U * U, axis=2), axis=1))[:, None, None]
    flat = xp.full(U.shape, 1.0 / math.sqrt(U.shape[1] * U.shape[2]), dtype=U.dtype,
                   device=_device(U))
    return xp.where(norms > 0, U / xp.where(norms > 0, norms, 1.0), flat)


def _la_sdp_bm_xp(xp, Y, offsets, U, y, beta, step, tol, max_iter, dual_every, momentum,
                  verbose):
    """The iterations of ``sparseopt._ext._sdp_bm.la_sdp_bm_loop`` in the namespace of ``Y``."""
    n_blocks = Y.shape[0]
    s = xp.sum(Y * Y, axis=2)                                 # (K, n)
    c = xp.reshape(xp.asarray(offsets, dtype=Y.dtype, device=_device(Y)), (n_blocks, 1, 1))
    Yt = xp.permute_dims(Y, (0, 2, 1))

    def residual_and_grad(V, y):
        col = xp.sum(V, axis=1)                               # (K, r)
        residual = xp.sum(xp.sum(V * col[:, None, :], axis=2), axis=0) - 1.0
        v = y + beta * residual
        w = s + v[None, :]                                    # (K, n)
        wV = xp.sum(w[:, :, None] * V, axis=1)                # (K, r): w_k^T V_k
        return residual, ((w[:, :, None] + 2.0 * c) * col[:, None, :] + wV[:, None, :]
                          - 2.0 * (Y @ (Yt @ V)))

    return _al_projected_gradient_xp(xp, U, y, residual_and_grad,
                                     lambda M: _project_blocks(xp, M), math.sqrt(n_blocks),
                                     beta, step, tol, max_iter, dual_every, momentum, verbose,
                                     "la_sdp_bm")


# ----------------------------------------------------------------------- cvxpy reference
def sdp_cvxpy(costs, traces, *, solver="CLARABEL", **solver_options):
    """Solve the block membership SDP with cvxpy (NumPy costs; reference only).

    Returns
    -------
    SolverResult
        ``x`` (list of ``Z_b``), ``objective`` (cvxpy's optimal value),
        ``status``, ``converged``, ``n_iter`` (the conic solver's iterations),
        ``primal_residual`` (largest violation of the equality constraints).
    """
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover
        raise ImportError("solver='cvxpy' needs the cvxpy package (pip install cvxpy)") from exc
    n = costs[0].shape[0]
    Zs = [cp.Variable((n, n), symmetric=True) for _ in costs]
    constraints = []
    for Zb, t in zip(Zs, traces):
        constraints += [Zb >> 0, Zb >= 0, cp.trace(Zb) == t]
    constraints.append(sum(cp.sum(Zb, axis=1) for Zb in Zs) == 1)
    objective = cp.Minimize(sum(cp.sum(cp.multiply(C, Zb)) for C, Zb in zip(costs, Zs)))
    problem = cp.Problem(objective, constraints)
    problem.solve(solver=solver, **solver_options)
    ok = problem.status in ("optimal", "optimal_inaccurate")
    if not ok:
        raise RuntimeError(f"cvxpy ({solver}) returned status {problem.status!r}")
    Z = [np.asarray((Zb.value + Zb.value.T) / 2) for Zb in Zs]
    rows = sum(Zb.sum(axis=1) for Zb in Z)
    violation = float(max(np.max(np.abs(rows - 1.0)),
                          max(abs(np.trace(Zb) - t) for Zb, t in zip(Z, traces))))
    n_iter = problem.solver_stats.num_iters if problem.solver_stats is not None else 0
    return SolverResult(x=Z, objective=float(problem.value), status=problem.status,
                        n_iter=int(n_iter or 0), converged=problem.status == "optimal",
                        primal_residual=violation, dual_residual=0.0, certificate=violation,
                        certificate_name="equality violation", tol=0.0)
