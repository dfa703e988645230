"""Low-rank matrix completion by (robust) alternating minimisation.

Gu, Song, Yin & Zhang, "Low Rank Matrix Completion via Robust Alternating
Minimization in Nearly Linear Time" (ICLR 2024, arXiv 2302.11068), on top of
the alternating minimisation of Jain, Netrapalli & Sanghavi (2013). The
preconditioner differs from the paper's sketching preconditioner (see
:class:`RobustMatrixCompletion`).

"Robust" refers to the analysis: the per-row / per-column least-squares
half-steps may be solved *approximately* by a preconditioned iterative
solver and alternating minimisation still converges. Outliers are not
handled (use :class:`RobustPCA` with a ``mask`` for those).
"""
from __future__ import annotations

import numbers
import time

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array

from ..optimize import SolverResult
from ._base import LowRankTransformerMixin, flip_signs
from ._svd import _lanczos_svd
from ..utils._array_api import (
    from_numpy,
    get_namespace_and_device,
    mark_host_roundtrip,
    to_numpy,
)
from ..utils.validation import (
    Interval,
    StrOptions,
    check_finite_result,
    check_X,
    validate_params,
    warn_not_converged,
)

__all__ = ["RobustMatrixCompletion", "altmin_completion"]


def _exact_half_step(W, X_obs, U, ridge):
    """``V_j = argmin_v sum_{i in Omega_j} (u_i^T v - X_ij)^2`` for all j at once.

    Batched ``k x k`` normal equations ``G_j v_j = b_j`` with
    ``G_j = U^T diag(W[:, j]) U``: O(m n k^2) through one BLAS product.
    """
    m, k = U.shape
    outer = (U[:, :, None] * U[:, None, :]).reshape(m, k * k)
    G = (W.T @ outer).reshape(-1, k, k)
    b = X_obs.T @ U
    scale = np.maximum(np.trace(G, axis1=1, axis2=2) / k, 1e-300)
    G += (ridge * scale)[:, None, None] * np.eye(k)  # rows never observed get v = 0
    return np.linalg.solve(G, b[:, :, None])[:, :, 0]


def _iterative_half_step(pattern_T, U, V0, precond_chol, cg_tol, cg_max_iter):
    """Same half-step by preconditioned CG on all columns at once, O(#Omega k) per pass.

    ``pattern_T`` is the CSR matrix of the observed values on Omega^T
    (n x m), so the operator ``v_j -> sum_{i in Omega_j} u_i u_i^T v_j`` costs
    one gather and one sparse product. The preconditioner is the
    expected Gram ``p U^T U`` (shared by all columns) instead of the paper's
    per-design sketch-and-QR; for incoherent ``U`` and uniform sampling it is
    within a constant of every ``G_j``.
    """
    indptr, indices = pattern_T.indptr, pattern_T.indices
    cols_of_entry = np.repeat(np.arange(pattern_T.shape[0]), np.diff(indptr))
    U_rows = U[indices]  # #Omega x k gather, reused by every operator call
    work = pattern_T.copy()  # its data is overwritten by each operator call

    def apply(V):
        work.data = np.einsum("ij,ij->i", U_rows, V[cols_of_entry])
        return work @ U

    from scipy.linalg import cho_solve

    def precondition(R):
        return cho_solve(precond_chol, R.T).T

    B = pattern_T @ U
    V = V0.copy()
    R = B - apply(V)
    b_norm = np.linalg.norm(B, axis=1)
    Z = precondition(R)
    P = Z.copy()
    rz = np.einsum("ij,ij->i", R, Z)
    n_cg = 0
    for n_cg in range(1, cg_max_iter + 1):
        AP = apply(P)
        curvature = np.einsum("ij,ij->i", P, AP)
        alpha = np.divide(rz, curvature, out=np.zeros_like(rz), where=curvature > 0)
        V += alpha[:, None] * P
        R -= alpha[:, None] * AP
        if np.all(np.linalg.norm(R, axis=1) <= cg_tol * b_norm):
            break
        Z = precondition(R)
        rz_new = np.einsum("ij,ij->i", R, Z)
        beta = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz > 0)
        P = Z + beta[:, None] * P
        rz = rz_new
    return V, n_cg


def _observed_csr(mask, values):
    """CSR matrix holding ``values`` on the pattern of ``mask`` (explicit zeros kept)."""
    pattern = sp.csr_matrix(mask)
    rows = np.repeat(np.arange(mask.shape[0]), np.diff(pattern.indptr))
    return sp.csr_matrix((values[rows, pattern.indices], pattern.indices, pattern.indptr),
                         shape=mask.shape)


def _check_completion_input(X, mask):
    """2-D finite float X and a boolean mask of its shape with an observed entry."""
    if sp.issparse(X):
        raise TypeError("altmin_completion needs a dense X; convert it with X.toarray().")
    X = check_array(X, dtype=(np.float64, np.float32), input_name="X")
    if sp.issparse(mask):
        mask = mask.toarray()
    mask = np.asarray(mask)
    if mask.shape != X.shape:
        raise ValueError(f"mask must have the shape of X {X.shape}, got {mask.shape}.")
    if mask.dtype != bool:
        if mask.dtype.kind not in "iuf" or not np.all((mask == 0) | (mask == 1)):
            raise TypeError(f"mask must be a boolean array of observed entries, got dtype "
                            f"{mask.dtype}.")
        mask = mask.astype(bool)
    if not mask.any():
        raise ValueError("mask has no observed entry (all False).")
    return X, mask


def _estimate_rank(X, mask, max_rank=10):
    """Rank of a partially observed matrix from the largest gap of its rescaled spectrum.

    The singular values ``s_1 >= s_2 >= ...`` of ``P_Omega(X) / p`` (``p``
    the observed fraction) are compared by consecutive ratios
    ``s_i / s_{i+1}`` for ``i <= min(max_rank, min(X.shape) - 1)``; the
    rank is the ``i`` of the largest ratio, the spectral-gap rule of
    OptSpace (Keshavan, Montanari & Oh 2010). A matrix with a single row or
    column, or an all-zero one, gets rank 1.
    """
    X_obs = np.where(mask, X, 0.0)
    top = float(np.max(np.abs(X_obs)))
    k_max = min(int(max_rank), min(X.shape) - 1)
    if k_max < 1 or top == 0:
        return 1
    p = float(mask.mean())
    A = X_obs / (top * p)
    if min(A.shape) <= 200:
        s = np.linalg.svd(A, compute_uv=False)[:k_max + 1]
    else:
        s = _lanczos_svd(A, k_max + 1, np.random.default_rng(0))[1]
    s = np.sort(s)[::-1]
    tiny = s[0] * max(A.shape) * np.finfo(A.dtype).eps
    ratios = s[:k_max] / np.maximum(s[1:k_max + 1], tiny)
    return int(np.argmax(ratios)) + 1


def altmin_completion(X, mask, rank, *, solver="iterative", max_iter=100, tol=1e-6, cg_tol=1e-3,
                      cg_max_iter=20, random_state=None, verbose=0):
    """Complete a rank-``rank`` matrix from its entries on ``mask``.

    Parameters
    ----------
    X : ndarray of shape (m, n)
        Values (only entries with ``mask`` True are read).
    mask : ndarray of bool, shape (m, n)
        Observed entries Omega.
    rank : int
    solver : {"exact", "iterative"}
        ``"exact"``: batched normal equations, O(m n k^2) per half-step.
        ``"iterative"``: preconditioned CG warm-started at the previous
        factor, O(#Omega k) per CG pass, run to ``cg_tol`` relative residual.
    max_iter : int
        Alternating rounds (one round updates V then U).
    tol : float
        Stop when the relative residual on Omega,
        ``||P_Omega(U V^T - X)||_F / ||P_Omega(X)||_F``, is below ``tol`` or
        stops decreasing by more than ``tol`` relatively (noisy data).
    random_state : int, Generator or None
        Seeds the Lanczos start of the initial SVD.

    Returns
    -------
    result : SolverResult
        ``x`` (completed matrix), ``U`` (m x k), ``V`` (n x k) with
        ``x = U V^T``, ``n_iter``, ``converged`` (the residual on Omega
        reached ``tol``, or stalled at the solver's precision floor
        ``max(1e-9, 100 eps)``), ``stop_reason`` (``"converged"``,
        ``"precision"``: stalled below ``tol``'s reach but at the floor,
        ``"stagnation"``: stalled above the floor, which is not
        convergence, or ``"max_iter"``), ``certificate`` (final relative
        residual on Omega), ``residual_history``, ``n_cg`` (CG passes per
        half-step, iterative solver).

    Notes
    -----
    Array-API inputs (torch, CuPy, array-api-strict) are copied to the host,
    solved with NumPy/SciPy, and ``x``, ``U``, ``V`` are returned in the
    input's namespace and on its device (a host round-trip).

    The problem is scale-equivariant: it is solved on ``X / max|P_Omega(X)|``
    and the factor ``U`` is scaled back, so that data near the ends of the
    floating-point range neither underflow nor overflow in the norms.
    """
    xp, is_api, device = get_namespace_and_device(X, mask) if not sp.issparse(X) else (None, False, None)
    if is_api:  # compiled/SciPy kernels: explicit host round-trip, results back on X's device
        result = altmin_completion(to_numpy(X), to_numpy(mask), rank, solver=solver,
                                   max_iter=max_iter, tol=tol, cg_tol=cg_tol,
                                   cg_max_iter=cg_max_iter, random_state=random_state,
                                   verbose=verbose)
        for name in ("x", "U", "V"):
            setattr(result, name, from_numpy(getattr(result, name), xp, device))
        return result
    X, mask = _check_completion_input(X, mask)
    validate_params(
        dict(rank=rank, solver=solver, max_iter=max_iter, tol=tol, cg_tol=cg_tol,
             cg_max_iter=cg_max_iter, verbose=verbose),
        dict(rank=[Interval(numbers.Integral, 1, min(X.shape), closed="both")],
             solver=[StrOptions({"exact", "iterative"})],
             max_iter=[Interval(numbers.Integral, 1, None, closed="left")],
             tol=[Interval(numbers.Real, 0, None, closed="left")],
             cg_tol=[Interval(numbers.Real, 0, 1, closed="neither")],
             cg_max_iter=[Interval(numbers.Integral, 1, None, closed="left")],
             verbose=["verbose"]),
        owner="altmin_completion")
    m, n = X.shape
    k = int(rank)
    W = mask.astype(X.dtype)
    X_obs = np.where(mask, X, 0.0).astype(X.dtype)
    data_scale = float(np.max(np.abs(X_obs)))
    if data_scale > 0:
        X_obs = X_obs / X_obs.dtype.type(data_scale)
    else:
        data_scale = 1.0
    n_obs = int(mask.sum())
    p = n_obs / float(m * n)
    obs_norm = float(np.linalg.norm(X_obs))
    rng = np.random.default_rng(random_state)
    # initialisation: top-k left singular vectors of P_Omega(X) / p
    if min(m, n) <= 40 or k >= min(m, n) - 1:
        U = np.linalg.svd(X_obs / p, full_matrices=False)[0][:, :k]
    else:
        U = _lanczos_svd(X_obs / p, k, rng)[0]
    ridge = 1e-10  # relative Tikhonov term: keeps never-observed rows/columns at 0
    if solver == "iterative":
        rows_pattern = _observed_csr(mask, X_obs)  # Omega with values, m x n
        pattern_T = _observed_csr(mask.T, X_obs.T)  # Omega^T, n x m
    from scipy.linalg import cho_factor

    def half_step(A_fixed, previous, transposed):
        if solver == "exact":
            if transposed:
                return _exact_half_step(W, X_obs, A_fixed, ridge), 0
            return _exact_half_step(W.T, X_obs.T, A_fixed, ridge), 0
        gram = p * (A_fixed.T @ A_fixed)
        shift = ridge * max(float(np.trace(gram)) / k, np.finfo(X.dtype).tiny)
        chol = cho_factor(gram + shift * np.eye(k))
        csr = pattern_T if transposed else rows_pattern
        return _iterative_half_step(csr, A_fixed, previous, chol, cg_tol,
                                    cg_max_iter)

    obs_rows, obs_cols = np.nonzero(mask)
    obs_values = X_obs[obs_rows, obs_cols]
    V = np.zeros((n, k), dtype=X.dtype)
    V, _ = half_step(U, V, transposed=True)
    history, n_cg = [], []
    residual = float("inf")
    precision_floor = max(10 * ridge, 100 * float(np.finfo(X_obs.dtype).eps))
    stop_reason = "max_iter"
    n_iter = 0
    t0 = time.perf_counter()
    for n_iter in range(1, max_iter + 1):
        U, c1 = half_step(V, U, transposed=False)
        V, c2 = half_step(U, V, transposed=True)
        n_cg.append((c1, c2))
        fit = np.einsum("ij,ij->i", U[obs_rows], V[obs_cols])
        previous = residual
        residual = float(np.linalg.norm(fit - obs_values)) / max(obs_norm, 1e-300)
        history.append(residual)
        if verbose:
            print(f"[AltMin] iter {n_iter:4d}  residual on Omega {residual:.3e}  "
                  f"({time.perf_counter() - t0:.2f} s)")
        if residual <= tol:
            stop_reason = "converged"
            break
        if np.isfinite(previous) and previous - residual <= tol * previous:
            # the residual stalls above tol: at the solver's precision floor (the relative
            # ridge biases the half-steps by about 1e-10) that is as converged as the
            # arithmetic allows; above it, it is stagnation (wrong rank, noise, too few samples)
            stop_reason = "precision" if residual <= precision_floor else "stagnation"
            break
    U = U * U.dtype.type(data_scale)
    return SolverResult(x=U @ V.T, U=U, V=V, n_iter=n_iter,
                        converged=stop_reason in ("converged", "precision"),
                        stop_reason=stop_reason, certificate=residual,
                        certificate_name="relative residual on the observed entries", tol=tol,
                        residual_history=history, n_cg=n_cg, observed_fraction=p)


_STOP_ADVICE = {
    "stagnation": ("Stopped on stagnation, not convergence: the residual decreased by less than "
                   "tol in the last round. rank={rank} may be wrong for the data, the data noisy "
                   "or the observed entries too few."),
    "max_iter": "Stopped at max_iter; consider increasing max_iter.",
}


class RobustMatrixCompletion(LowRankTransformerMixin, BaseEstimator):
    """Complete a low-rank matrix from a subset of its entries by alternating minimisation.

    Finds ``L = U V^T`` of rank ``rank`` minimising
    ``sum_{(i, j) in Omega} (L_ij - X_ij)^2`` by alternating least squares,
    initialised from the top singular vectors of the rescaled observed matrix
    ``P_Omega(X) / p`` (Jain, Netrapalli & Sanghavi 2013). With
    ``solver="iterative"`` each half-step is solved approximately by
    preconditioned conjugate gradients, the regime analysed by Gu, Song, Yin
    & Zhang (2024).

    Parameters
    ----------
    rank : int or "auto", default="auto"
        Target rank ``k``; an int must satisfy ``rank <= min(n_samples,
        n_features)``. ``"auto"`` estimates it from the observed entries:
        the largest gap ``s_i / s_{i+1}`` among the top ``min(10,
        min(X.shape) - 1)`` singular values of ``P_Omega(X) / p`` (the
        spectral-gap rule of OptSpace, Keshavan, Montanari & Oh 2010); a
        single-row or single-column X gets rank 1. The rank used is
        ``rank_``.
    solver : {"iterative", "exact"}, default="iterative"
        ``"iterative"`` (the paper's regime): CG preconditioned by
        ``p U^T U``, warm-started, O(#Omega k) per CG pass. ``"exact"``:
        batched ``k x k`` normal equations, O(m n k^2) per half-step; at small
        ranks (k <= 10 measured) it is faster in wall time.
    max_iter : int, default=100
        Alternating rounds.
    tol : float, default=1e-6
        Converged when the relative residual on the observed entries is
        below ``tol``. A round that decreases it by less than ``tol``
        (relatively) while it is still above ``tol`` stops the fit: at the
        solver's precision floor (relative residual ``<= max(1e-9, 100
        eps)``, set by the half-steps' relative ridge) this counts as
        converged (``stop_reason_ == "precision"``); above it, as
        *stagnation* (typically a wrong ``rank``, noisy data or too few
        samples): ``converged_`` is then False, ``stop_reason_`` says
        ``"stagnation"`` and a ``ConvergenceWarning`` names it.
    cg_tol : float, default=1e-3
        Relative residual of each CG solve (warm starts make later solves
        progressively more accurate).
    random_state : int, RandomState instance or None, default=None
        Seeds the Lanczos start of the initial SVD.
    verbose : int, default=0

    Attributes
    ----------
    low_rank_ : array of shape (n_samples, n_features)
        The completed matrix ``L``.
    components_ : array of shape (r, n_features)
        Orthonormal basis of the row space of ``L`` (``r`` is ``rank_``).
    singular_values_ : array of shape (r,)
    rank_ : int
        Rank of the fitted ``L`` (the resolved ``rank`` unless ``L`` came out
        rank-deficient).
    n_iter_ : int
    converged_ : bool
        Whether the relative residual on the observed entries reached ``tol``.
    stop_reason_ : {"converged", "precision", "stagnation", "max_iter"}
        Why the alternating rounds stopped.
    residual_history_ : list of float
        Relative residual on the observed entries per round.
    observed_fraction_ : float
        ``#Omega / (n_samples n_features)``.
    n_features_in_ : int

    See Also
    --------
    RobustPCA : low-rank plus sparse, with missing entries (IALM).

    Notes
    -----
    The paper's sketching preconditioner (a sketch-and-QR of each design) is
    replaced by the shared expected Gram ``p U^T U``; on uniform samples of
    incoherent matrices CG then needs a handful of passes. The computation
    runs in NumPy on the host; array-API inputs are copied there and the
    results moved back (``array_api_host_roundtrip`` tag).

    References
    ----------
    .. [1] P. Jain, P. Netrapalli and S. Sanghavi, "Low-rank matrix completion using
       alternating minimization", STOC 2013.
    .. [2] Y. Gu, Z. Song, J. Yin and L. Zhang, "Low rank matrix completion via robust
       alternating minimization in nearly linear time", ICLR 2024.
    .. [3] R. H. Keshavan, A. Montanari and S. Oh, "Matrix completion from a few
       entries", IEEE Transactions on Information Theory 56(6), 2010 (rank
       estimation).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.datasets import make_matrix_completion
    >>> from sparseopt.decomposition import RobustMatrixCompletion
    >>> X, mask, M = make_matrix_completion(150, rank=3, oversampling=1.5, random_state=0)
    >>> mc = RobustMatrixCompletion(rank=3, tol=1e-10, random_state=0).fit(X, mask=mask)
    >>> bool(np.linalg.norm(mc.low_rank_ - M) < 1e-6 * np.linalg.norm(M))
    True
    """

    _parameter_constraints = {
        "rank": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "solver": [StrOptions({"exact", "iterative"})],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "cg_tol": [Interval(numbers.Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _test_params = [{"rank": 2, "random_state": 0},
                    {"rank": 2, "solver": "exact", "random_state": 0}]

    def __init__(self, rank="auto", *, solver="iterative", max_iter=100, tol=1e-6, cg_tol=1e-3,
                 random_state=None, verbose=0):
        self.rank = rank
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.cg_tol = cg_tol
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def _test_data(cls, random_state):
        rng = np.random.default_rng(random_state)
        X = rng.standard_normal((40, 2)) @ rng.standard_normal((2, 10))
        return X, None

    def fit(self, X, y=None, mask=None):
        """Fit the completion on the observed entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Values; entries outside ``mask`` are ignored (but must be finite).
        y : None
            Ignored.
        mask : array-like of bool, shape (n_samples, n_features), optional
            Observed entries (default: all).

        Returns
        -------
        self : object
        """
        validate_params(self)
        xp, is_api, device = get_namespace_and_device(X)
        X = check_X(self, X)
        X_host = np.ascontiguousarray(to_numpy(X))
        if self.rank != "auto" and self.rank > min(X_host.shape):
            raise ValueError(f"rank={self.rank} exceeds min(n_samples, n_features) for X with "
                             f"n_samples = {X_host.shape[0]} and n_features = {X_host.shape[1]}.")
        if mask is None:
            mask_host = np.ones(X_host.shape, dtype=bool)
        else:
            mask_host = to_numpy(mask)
            if mask_host.shape != X_host.shape:
                raise ValueError(f"mask must have the shape of X {X_host.shape}, got "
                                 f"{mask_host.shape}.")
            if mask_host.dtype != bool:
                raise TypeError(f"mask must be a boolean array of observed entries, got dtype "
                                f"{mask_host.dtype}.")
            if not mask_host.any():
                raise ValueError("mask has no observed entry (all False).")
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = seed.randint(2**31 - 1)
        rank = _estimate_rank(X_host, mask_host) if self.rank == "auto" else self.rank
        result = altmin_completion(X_host, mask_host, rank, solver=self.solver,
                                   max_iter=self.max_iter, tol=self.tol, cg_tol=self.cg_tol,
                                   random_state=seed, verbose=self.verbose)
        L = result.x
        check_finite_result(type(self).__name__, L)
        if not result.converged:
            advice = _STOP_ADVICE[result.stop_reason].format(rank=rank)
            warn_not_converged(type(self).__name__, n_iter=result.n_iter,
                               certificate=result.certificate, tol=self.tol,
                               certificate_name="relative residual on the observed entries",
                               advice=advice)
        # orthonormal factors of L = U V^T: QR of U, then SVD of R V^T (k x n)
        Q, R = np.linalg.qr(result.U)
        Ub, s, Vt = np.linalg.svd(R @ result.V.T, full_matrices=False)
        keep = s > s[0] * max(X_host.shape) * np.finfo(X_host.dtype).eps if s.size and s[0] > 0 \
            else np.zeros(s.shape, dtype=bool)
        Vt, s = Vt[keep], s[keep]
        Vt = flip_signs(np, Vt)
        self.low_rank_ = from_numpy(L.astype(X_host.dtype, copy=False), xp, device)
        self.components_ = from_numpy(Vt.astype(X_host.dtype, copy=False), xp, device)
        self.singular_values_ = from_numpy(s.astype(X_host.dtype, copy=False), xp, device)
        self.rank_ = int(Vt.shape[0])
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.stop_reason_ = result.stop_reason
        self.residual_history_ = list(result.residual_history)
        self.observed_fraction_ = float(result.observed_fraction)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return mark_host_roundtrip(tags)
