"""Shared pieces of the SDP clusterers: validation, rounding, labels."""
from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.cluster import KMeans

from ..utils._array_api import from_numpy, to_numpy

__all__ = ["check_n_clusters", "round_embedding", "canonical_labels", "seed_from",
           "kmeans_xp", "one_hot", "shape_covariances",
           "single_threaded", "AUTO_ADMM_MAX_SAMPLES"]

_CONTROLLER = []


def single_threaded(user_api=None):
    """Context limiting BLAS (and OpenMP) to one thread, as scikit-learn's KMeans does.

    Threaded LAPACK and OpenMP are slower on the small dense problems of these
    solvers, several-fold on a loaded machine. The library scan of
    threadpoolctl is done once and cached (it costs about 0.1 s).
    """
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api=user_api)

# solver="auto": the dense ADMM (an n x n eigendecomposition per iteration) up to
# this many samples, the low-rank Burer-Monteiro factorisation above it
AUTO_ADMM_MAX_SAMPLES = 300


def validate_fit_input(estimator, X):
    """Parameters and ``X`` of ``fit``: returns ``(X, xp, is_api, device)``.

    ``X`` comes back 2-D, finite, C-contiguous (NumPy) and at least one
    sample per cluster is required.
    """
    from ..utils._array_api import get_namespace_and_device
    from ..utils.validation import check_X, validate_params

    validate_params(estimator)
    xp, is_api, device = get_namespace_and_device(X)
    X = check_X(estimator, X)
    check_n_clusters(estimator, X.shape[0])
    if not is_api:
        X = np.ascontiguousarray(X)  # identical BLAS paths for C, F and strided input
    _check_squared_scale(estimator, X, xp)
    return X, xp, is_api, device


def _check_squared_scale(estimator, X, xp):
    """The SDPs work on squared distances (and covariances): they must be representable.

    Clustering is invariant to the scale of ``X``, but the fitted ``objective_``,
    ``covariances_`` and the solver's iterates are of order ``|X|**2``: a
    spread beyond the square root of the dtype's range is rejected clearly
    instead of overflowing inside the solver.
    """
    spread = float(xp.max(xp.abs(X - xp.mean(X, axis=0)))) if X.shape[0] else 0.0
    largest = float(np.finfo(np.float32 if "32" in str(X.dtype) else np.float64).max)
    bound = 4.0 * spread ** 2 * X.shape[1] * X.shape[0] if spread < 1e150 else np.inf
    if not bound < largest:
        raise ValueError(
            f"{type(estimator).__name__}: X spreads over {spread:.3g}, so its squared distances "
            f"(and the SDP objective) overflow {X.dtype}; the clustering does not depend on "
            "the scale of X: rescale it (e.g. StandardScaler) first.")


def validate_predict_input(estimator, X, fitted):
    """``X`` of ``predict`` as float64 in the namespace of the fitted array ``fitted``."""
    from sklearn.utils.validation import check_is_fitted

    from ..utils._array_api import get_namespace_and_device, same_namespace_and_device
    from ..utils.validation import check_X

    check_is_fitted(estimator)
    same_namespace_and_device(getattr(estimator, fitted), X,
                              f"{type(estimator).__name__}.predict()")
    xp, _, _ = get_namespace_and_device(X)
    X = check_X(estimator, X, reset=False)
    return xp.astype(X, xp.float64), xp


def check_n_clusters(estimator, n_samples):
    """Raise ``ValueError`` when there are fewer samples than clusters (as KMeans)."""
    if n_samples < estimator.n_clusters:
        raise ValueError(
            f"n_samples={n_samples} should be >= n_clusters={estimator.n_clusters}: "
            f"{type(estimator).__name__} needs at least one sample per cluster.")


def seed_from(random_state):
    """An int seed (or None) from ``random_state`` (int, RandomState, Generator, None)."""
    if random_state is None or isinstance(random_state, numbers.Integral):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    return int(random_state.randint(2**31 - 1))


def canonical_labels(labels):
    """Relabel so that clusters are numbered by their first appearance (0, 1, ...)."""
    labels = np.asarray(labels)
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    mapping = np.empty(order.size, dtype=np.int64)
    mapping[order] = np.arange(order.size)
    return mapping[np.searchsorted(np.unique(labels), labels)]


def round_embedding(xp, embedding, n_clusters, random_state, n_init=10):
    """K-means++ (``n_init`` restarts) on the rows of a spectral embedding.

    The authors' rounding rule: the embedding is the top-K eigenvectors of
    ``Z`` (or the top-K left singular vectors of the factor ``U``). NumPy
    embeddings go to scikit-learn's KMeans; other namespaces run
    :func:`kmeans_xp` where the embedding lives. Labels come back as int64
    NumPy (host).
    """
    n = embedding.shape[0]
    if n_clusters >= n:
        return np.arange(n, dtype=np.int64)
    name = getattr(xp, "__name__", "")
    if name not in ("numpy", "array_api_compat.numpy"):
        # other namespaces: the same K-means++ / Lloyd rounding where the embedding lives
        return kmeans_xp(xp, embedding, n_clusters, np.random.default_rng(random_state),
                         n_init=n_init)
    E = np.asarray(embedding, dtype=np.float64)
    with single_threaded():
        km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(E)
    return canonical_labels(km.labels_)


def kmeans_xp(xp, X, n_clusters, rng, n_init=1, max_iter=100):
    """Lloyd's K-means with k-means++ seeding, in the namespace of ``X``.

    The starting partitions of iLA-SDP; the seeding draws its indices on the
    host from the ``n`` squared distances (Arthur & Vassilvitskii 2007). The
    run of lowest inertia among ``n_init`` is returned (host int labels).
    """
    n = X.shape[0]
    sq = xp.sum(X * X, axis=1)
    best, best_inertia = None, math.inf
    for _ in range(n_init):
        centres = [X[int(rng.integers(n)), :]]
        closest = None
        for _ in range(1, n_clusters):
            c = centres[-1]
            d = xp.clip(sq - 2.0 * (X @ c) + xp.sum(c * c), min=0.0)
            closest = d if closest is None else xp.minimum(closest, d)
            weights = to_numpy(closest).astype(np.float64)
            total = weights.sum()
            index = int(rng.choice(n, p=weights / total)) if total > 0 else int(rng.integers(n))
            centres.append(X[index, :])
        C = xp.stack(centres)
        labels = None
        for _ in range(max_iter):
            dist = sq[:, None] - 2.0 * (X @ C.T) + xp.sum(C * C, axis=1)[None, :]
            new = to_numpy(xp.argmin(dist, axis=1)).astype(np.int64)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            onehot = one_hot(xp, labels, n_clusters, X)
            counts = xp.sum(onehot, axis=0)
            sums = onehot.T @ X
            # an emptied cluster keeps its centre
            keep = xp.reshape(counts == 0, (n_clusters, 1))
            C = xp.where(keep, C, sums / xp.reshape(xp.clip(counts, min=1.0), (n_clusters, 1)))
        inertia = float(xp.sum(xp.min(dist, axis=1)))
        if inertia < best_inertia:
            best, best_inertia = labels, inertia
    return canonical_labels(best)


def one_hot(xp, labels, n_clusters, like):
    """``(n, K)`` indicator of host ``labels`` in the namespace, device and dtype of ``like``."""
    import array_api_compat

    onehot = np.zeros((labels.size, n_clusters))
    onehot[np.arange(labels.size), labels] = 1.0
    name = getattr(xp, "__name__", "")
    numpy_like = name in ("numpy", "array_api_compat.numpy")
    onehot = from_numpy(onehot, xp, None if numpy_like else array_api_compat.device(like))
    return xp.astype(onehot, like.dtype)


def top_eigenvectors(xp, Z, k):
    """The ``k`` leading eigenvectors of symmetric ``Z`` (columns), in ``Z``'s namespace."""
    _, V = xp.linalg.eigh((Z + Z.T) / 2)
    n = V.shape[1]
    return V[:, n - k:]


def top_left_singular_vectors(xp, U, k):
    """The ``k`` leading left singular vectors of ``U`` (``k <= U.shape[1]``)."""
    Q, _, _ = xp.linalg.svd(U, full_matrices=False)
    return Q[:, :k]


def labels_to_namespace(labels, xp, device, is_api):
    return from_numpy(labels, xp, device) if is_api else labels


def shape_covariances(xp, covs, reg, covariance_type, shrinkage=None):
    """Covariances ``(B, p, p)`` made diagonal / spherical, shrunk towards
    ``tr(Sigma)/p I`` (one intensity per matrix, or None) and ``+ reg I``."""
    import array_api_compat

    p = covs.shape[1]
    eye = xp.eye(p, dtype=covs.dtype, device=array_api_compat.device(covs))
    if covariance_type == "diag":
        covs = xp.linalg.diagonal(covs)[:, :, None] * eye[None, :, :]
    elif covariance_type == "spherical":
        covs = (xp.linalg.trace(covs) / p)[:, None, None] * eye[None, :, :]
    if shrinkage is not None:
        # Sigma <- (1 - a) Sigma + a tr(Sigma)/p I  (Ledoit & Wolf 2004's target)
        alpha = xp.asarray(shrinkage, dtype=covs.dtype, device=array_api_compat.device(covs))
        alpha = alpha[:, None, None]
        target = (xp.linalg.trace(covs) / p)[:, None, None] * eye[None, :, :]
        covs = (1.0 - alpha) * covs + alpha * target
    return covs + reg * eye[None, :, :]
