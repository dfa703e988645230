"""K-means by semidefinite programming: the Peng-Wei relaxation."""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from ..optimize._result import SolverResult
from ..utils._array_api import (
    from_numpy,
    get_namespace_and_device,
    to_numpy,
)
from ..utils.validation import (
    Interval,
    StrOptions,
    check_finite_result,
    validate_params,
    warn_not_converged,
)
from ._base import (
    AUTO_ADMM_MAX_SAMPLES,
    kmeans_xp,
    labels_to_namespace,
    one_hot,
    round_embedding,
    seed_from,
    single_threaded,
    top_eigenvectors,
    top_left_singular_vectors,
    validate_fit_input,
    validate_predict_input,
)
from ._sdp_solvers import (
    _device,
    _is_numpy,
    kmeans_sdp_bm,
    sdp_admm,
    sdp_cvxpy,
    squared_distances,
)

__all__ = ["SDPKMeans", "kmeans_sdp"]

_DEFAULT_MAX_ITER = {"admm": 5000, "bm": 50000, "cvxpy": 100000}


def _centre_and_scale(xp, X):
    """Centred ``X`` scaled to unit spectral norm (``Z 1 = 1`` makes centring free)."""
    Xc = X - xp.mean(X, axis=0, keepdims=True)
    scale = float(xp.linalg.matrix_norm(Xc, ord=2)) if Xc.shape[1] else 0.0
    return Xc / scale if scale > 0 else Xc


def _membership_violation(xp, Z, n_clusters):
    """Largest violation of ``Z 1 = 1``, ``tr Z = K``, ``Z >= 0`` and ``Z PSD``."""
    rows = float(xp.max(xp.abs(xp.sum(Z, axis=1) - 1.0)))
    trace = abs(float(xp.sum(xp.linalg.diagonal(Z))) - n_clusters)
    negative = max(0.0, -float(xp.min(Z)))
    not_psd = max(0.0, -float(xp.linalg.eigvalsh((Z + Z.T) / 2)[0]))
    return max(rows, trace, negative, not_psd)


def kmeans_sdp(X, n_clusters, *, solver="auto", tol=1e-4, max_iter=None, random_state=None,
               verbose=0):
    """Solve the Peng-Wei K-means SDP for the rows of ``X``.

    ::

        min <D, Z>  s.t.  Z PSD, Z >= 0, Z 1 = 1, tr Z = K

    with ``D_ij = ||x_i - x_j||^2`` (equivalently ``max <X X^T, Z>``).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Any array-API array (the iterations run in its namespace when
        scikit-learn's ``array_api_dispatch`` is on).
    n_clusters : int
    solver : {"auto", "admm", "bm", "cvxpy"}, default="auto"
        See :class:`SDPKMeans`.
    tol : float, default=1e-4
    max_iter : int, optional
    random_state : int or None
        Seeds the Burer-Monteiro start.
    verbose : int, default=0

    Returns
    -------
    SolverResult
        ``Z`` (dense solution, or None for ``"bm"``), ``U`` (factor, or
        None), ``objective`` (``<D, Z>``), ``n_iter``, ``converged``,
        ``primal_residual``, ``dual_residual``, ``constraint_violation``,
        ``embedding`` (rows to round), ``solver``.

    Examples
    --------
    >>> from sparseopt.datasets import make_heterogeneous_mixture
    >>> from sparseopt.cluster import kmeans_sdp
    >>> X, y, _, _ = make_heterogeneous_mixture(60, 3, 3, separation=8,
    ...                                         covariance="isotropic", random_state=0)
    >>> res = kmeans_sdp(X, 3, solver="admm", tol=1e-6)
    >>> res.converged, res.constraint_violation < 1e-5
    (True, True)
    """
    validate_params({"solver": solver, "tol": tol, "max_iter": max_iter,
                     "n_clusters": n_clusters},
                    {"solver": [StrOptions({"auto", "admm", "bm", "cvxpy"})],
                     "tol": [Interval(numbers.Real, 0, None, closed="neither")],
                     "max_iter": [None, Interval(numbers.Integral, 1, None, closed="left")],
                     "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")]},
                    owner="kmeans_sdp")
    xp, is_api, device = get_namespace_and_device(X)
    if getattr(X, "ndim", None) != 2:
        raise ValueError(f"kmeans_sdp: X must be a 2d array, got shape {getattr(X, 'shape', None)}")
    n = X.shape[0]
    if n < n_clusters:
        raise ValueError(f"kmeans_sdp: n_samples={n} should be >= n_clusters={n_clusters}.")
    if not bool(xp.all(xp.isfinite(X))):
        raise ValueError("kmeans_sdp: X contains NaN or infinity.")
    X = xp.astype(X, xp.float64)
    if solver == "auto":
        solver = "admm" if n <= AUTO_ADMM_MAX_SAMPLES else "bm"
    max_iter = _DEFAULT_MAX_ITER[solver] if max_iter is None else max_iter
    Xs = _centre_and_scale(xp, X)
    K = n_clusters
    if solver == "admm":
        res = sdp_admm(xp, [-(Xs @ Xs.T)], [float(K)], tol=tol, max_iter=max_iter,
                       verbose=verbose)
        Z = res.x[0]
        D = squared_distances(xp, X)
        objective = float(xp.sum(D * Z))
        U, embedding = None, top_eigenvectors(xp, Z, K)
        violation = _membership_violation(xp, Z, K)
    elif solver == "bm":
        U0 = _bm_start(xp, X, K, random_state)
        with single_threaded("blas"):  # n x p times p x 2K products: threads do not pay
            res = kmeans_sdp_bm(xp, Xs, K, U0, tol=tol, max_iter=max_iter, verbose=verbose)
        U = res.x
        Xc = X - xp.mean(X, axis=0, keepdims=True)
        col = xp.sum(U, axis=0)
        row_sums = U @ col
        # <D, U U^T> = 2 sum_i ||x_i||^2 (U U^T 1)_i - 2 ||X^T U||_F^2 (translation-free)
        objective = (2.0 * float(xp.sum(xp.sum(Xc * Xc, axis=1) * row_sums))
                     - 2.0 * float(xp.linalg.vector_norm(Xc.T @ U)) ** 2)
        Z, embedding = None, top_left_singular_vectors(xp, U, K)
        violation = float(xp.max(xp.abs(row_sums - 1.0)))
    else:  # cvxpy: the conic reference on a host copy
        X_host = to_numpy(X)
        D_host = squared_distances(np, X_host)
        res = sdp_cvxpy([D_host], [float(K)], solver="SCS", eps=tol, max_iters=max_iter)
        Z = from_numpy(res.x[0], xp, device if is_api else None)
        objective = res.objective
        U, embedding = None, top_eigenvectors(xp, Z, K)
        violation = _membership_violation(xp, Z, K)
    return SolverResult(x=Z if Z is not None else U, Z=Z, U=U, objective=objective,
                        n_iter=res.n_iter, converged=res.converged, tol=tol,
                        primal_residual=res.primal_residual, dual_residual=res.dual_residual,
                        certificate=res.certificate, certificate_name=res.certificate_name,
                        constraint_violation=violation, embedding=embedding, solver=solver,
                        history=res.history)


def _bm_start(xp, X, n_clusters, random_state):
    """Scaled indicator of a K-means++ labelling plus small noise, rank ``2K``.

    The Burer-Monteiro problem is non-convex: started at random it can stall
    far from the SDP optimum; started from a K-means++ partition it moves to
    the nearest stationary point. NumPy input uses scikit-learn's KMeans,
    other namespaces :func:`kmeans_xp` where ``X`` lives; the factor is built
    in the namespace of ``X``.
    """
    n = X.shape[0]
    rank = min(2 * n_clusters, n)
    if _is_numpy(xp):
        from sklearn.cluster import KMeans

        with single_threaded():
            labels = KMeans(n_clusters, n_init=1, random_state=random_state).fit(
                np.asarray(X)).labels_
    else:
        labels = kmeans_xp(xp, X, n_clusters, np.random.default_rng(random_state))
    rng = np.random.default_rng(random_state)
    noise = 0.1 * rng.random((n, rank)) / np.sqrt(n)
    counts = np.bincount(labels, minlength=n_clusters).astype(float)
    indicator = one_hot(xp, labels, n_clusters, X) / xp.asarray(
        from_numpy(np.sqrt(np.maximum(counts, 1.0)), xp, None if _is_numpy(xp) else _device(X)),
        dtype=X.dtype)[None, :]
    noise = xp.asarray(from_numpy(noise, xp, None if _is_numpy(xp) else _device(X)),
                       dtype=X.dtype)
    if rank > n_clusters:
        pad = xp.zeros((n, rank - n_clusters), dtype=X.dtype, device=_device(X))
        indicator = xp.concat([indicator, pad], axis=1)
    return noise + indicator[:, :rank]


class SDPKMeans(ClusterMixin, BaseEstimator):
    """K-means clustering by the Peng-Wei semidefinite relaxation.

    Solves ::

        min_Z <D, Z>   s.t.   Z PSD,  Z >= 0 (entrywise),  Z 1 = 1,  tr Z = K

    where ``D_ij = ||x_i - x_j||^2``; for a partition ``G_1..G_K`` the matrix
    ``Z = sum_k 1_{G_k} 1_{G_k}^T / n_k`` is feasible and ``<D, Z>`` is twice
    the K-means cost, so the SDP is a convex relaxation of K-means (Peng & Wei
    2007). Above a separation threshold the relaxation is tight: its solution
    is exactly the partition matrix of the true clusters. Labels are read from
    ``Z`` by K-means++ on its top-``K`` eigenvectors.

    Parameters
    ----------
    n_clusters : int, default=8
    solver : {"auto", "admm", "bm", "cvxpy"}, default="auto"
        ``"admm"``: two-block ADMM with closed-form projections (an
        ``n x n`` eigendecomposition per iteration; exact to ``tol``).
        ``"bm"``: non-negative low-rank Burer-Monteiro factorisation
        ``Z = U U^T`` with ``U`` of rank ``2K`` (Zhuang et al. 2024), never
        forming an ``n x n`` matrix; compiled loop, ``O(n p K)`` per
        iteration. It is a local method whose iterates are feasible up to the
        row-sum violation ``tol``; since ``U >= 0`` makes ``U U^T``
        completely positive (a subset of the SDP's cone), its value equals
        the SDP optimum when the relaxation is tight (separated clusters)
        and can lie slightly above it otherwise (see the user guide).
        ``"cvxpy"``: conic reference (SCS), small ``n`` only.
        ``"auto"``: ADMM up to 300 samples (exact, with the ``n x n``
        solution), BM above.
    tol : float, default=1e-4
        ADMM: relative primal and dual residuals; BM: row-sum violation and
        step; cvxpy: SCS's ``eps``. With ADMM, ``1e-4`` left the objective
        within ``1e-5`` (relative) of cvxpy's optimum in our tests; use
        ``1e-6`` for a tighter certificate.
    max_iter : int, optional
        Solver iterations (default 5000 for ADMM, 50000 for BM).
    n_init : int, default=10
        K-means++ restarts of the rounding step.
    random_state : int, RandomState instance or None, default=None
        Seeds the rounding (and the BM start).
    verbose : int, default=0

    Attributes
    ----------
    labels_ : array of shape (n_samples,)
    cluster_centers_ : array of shape (n_clusters, n_features)
        Means of the clusters of ``labels_`` (used by :meth:`predict`).
    Z_ : array of shape (n_samples, n_samples) or None
        The SDP solution (None with ``solver="bm"``, see ``U_``).
    U_ : array of shape (n_samples, 2 * n_clusters) or None
        Non-negative factor ``Z = U U^T`` (``solver="bm"`` only).
    objective_ : float
        ``<D, Z>``: the value cvxpy reports for the same program.
    primal_residual_, dual_residual_ : float
        The solver's final residuals (ADMM: ``||Z - W||_F`` and
        ``rho ||W - W_prev||_F`` relative to ``||Z||_F``).
    constraint_violation_ : float
        Largest violation by ``Z_`` of ``Z 1 = 1``, ``tr Z = K``, ``Z >= 0``
        and ``Z PSD`` (BM: of ``U U^T 1 = 1``, the others hold by
        construction).
    n_iter_ : int
    converged_ : bool
    solver_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    ILASDPClustering : likelihood-adjusted SDP for clusters of different covariances.
    sklearn.cluster.KMeans : Lloyd's algorithm (a local method for the same cost).

    Notes
    -----
    The relaxation assumes, like K-means, spherical clusters of equal spread:
    it fails on mixtures whose covariances differ (use
    :class:`ILASDPClustering`). ADMM costs ``O(n^3)`` per iteration; it reaches
    ``1e-5`` in a few hundred iterations on well-separated data and needs
    thousands when the clusters barely separate.

    All iterations run in the array namespace of ``X`` (NumPy, torch,
    array-api-strict, CuPy) when scikit-learn's ``array_api_dispatch`` is on;
    the rounding's K-means++ runs on an explicit host copy of the ``n x K``
    embedding, and ``solver="cvxpy"`` on a host copy of ``X``.

    References
    ----------
    J. Peng and Y. Wei, "Approximating K-means-type clustering via
    semidefinite programming", SIAM J. Optim. 18(1), 2007.

    Y. Zhuang, X. Chen, Y. Yang and R. Y. Zhang, "Statistically optimal
    K-means clustering via nonnegative low-rank semidefinite programming",
    ICLR 2024.

    Examples
    --------
    >>> from sparseopt.datasets import make_heterogeneous_mixture
    >>> from sparseopt.cluster import SDPKMeans
    >>> X, y, _, _ = make_heterogeneous_mixture(90, 3, 3, separation=8,
    ...                                         covariance="isotropic", random_state=0)
    >>> est = SDPKMeans(n_clusters=3, random_state=0).fit(X)
    >>> est.converged_, est.constraint_violation_ < 1e-4
    (True, True)
    >>> from sklearn.metrics import adjusted_rand_score
    >>> float(adjusted_rand_score(y, est.labels_))
    1.0
    """

    _parameter_constraints = {
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],
        "solver": [StrOptions({"auto", "admm", "bm", "cvxpy"})],
        "tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "n_init": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _test_params = [{"n_clusters": 3, "random_state": 0},
                    {"n_clusters": 3, "solver": "bm", "max_iter": 3000, "random_state": 0}]

    def __init__(self, n_clusters=8, *, solver="auto", tol=1e-4, max_iter=None, n_init=10,
                 random_state=None, verbose=0):
        self.n_clusters = n_clusters
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def _test_data(cls, random_state):
        from ..datasets import make_heterogeneous_mixture

        X, _, _, _ = make_heterogeneous_mixture(45, 4, 3, separation=6, covariance="isotropic",
                                                random_state=random_state)
        return X, None

    def fit(self, X, y=None):
        """Solve the SDP on ``X`` and round it to ``labels_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X, xp, is_api, device = validate_fit_input(self, X)
        seed = seed_from(self.random_state)
        res = kmeans_sdp(X, self.n_clusters, solver=self.solver, tol=self.tol,
                         max_iter=self.max_iter, random_state=seed, verbose=self.verbose)
        name = type(self).__name__
        check_finite_result(name, res.x, np.asarray([res.objective]))
        if not res.converged:
            warn_not_converged(name, n_iter=res.n_iter, certificate=res.certificate, tol=self.tol,
                               certificate_name=res.certificate_name,
                               advice="max_iter was reached; increase max_iter or tol "
                                      "(the labels may still be right: see "
                                      "constraint_violation_).")
        labels = round_embedding(xp, res.embedding, self.n_clusters, seed, self.n_init)
        X64 = xp.astype(X, xp.float64)
        self.labels_ = labels_to_namespace(labels, xp, device, is_api)
        self.cluster_centers_ = _cluster_means(xp, X64, labels, self.n_clusters, device, is_api)
        self.Z_ = res.Z
        self.U_ = res.U
        self.objective_ = float(res.objective)
        self.primal_residual_ = float(res.primal_residual)
        self.dual_residual_ = float(res.dual_residual)
        self.constraint_violation_ = float(res.constraint_violation)
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        self.solver_ = res.solver
        return self

    def predict(self, X):
        """Index of the nearest cluster centre for every row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : array of shape (n_samples,)
        """
        X, xp = validate_predict_input(self, X, "cluster_centers_")
        C = self.cluster_centers_
        dist = (xp.sum(X * X, axis=1)[:, None] - 2.0 * (X @ C.T)
                + xp.sum(C * C, axis=1)[None, :])
        return xp.argmin(dist, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags


def _cluster_means(xp, X, labels, n_clusters, device, is_api):
    """Means of the clusters of ``labels`` (an empty cluster keeps the global mean)."""
    labels_np = np.asarray(labels)
    onehot = np.zeros((labels_np.size, n_clusters))
    onehot[np.arange(labels_np.size), labels_np] = 1.0
    counts = onehot.sum(axis=0)
    counts[counts == 0] = 1.0
    weights = onehot / counts
    empty = onehot.sum(axis=0) == 0
    weights[:, empty] = 1.0 / labels_np.size
    W = xp.asarray(weights, device=device) if is_api else weights
    return W.T @ X

