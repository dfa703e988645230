"""Heterogeneous Gaussian mixtures of the kind used to evaluate iLA-SDP (Zhuang, Chen & Yang, ICML 2023)."""
import numbers

import numpy as np
from scipy.linalg import toeplitz
from sklearn.utils import check_random_state

from ..utils.validation import Interval, StrOptions, validate_params

__all__ = ["make_heterogeneous_mixture"]


def _covariance(kind, p, scale, rho, rng):
    if kind == "identity":
        return scale * np.eye(p)
    if kind == "ar":
        # scaled AR(rho) Toeplitz: strongly correlated coordinates
        return scale * toeplitz(rho ** np.arange(p))
    if kind == "diagonal":
        # variances spread over two orders of magnitude
        return scale * np.diag(np.exp(rng.uniform(np.log(0.1), np.log(10.0), size=p)))
    raise ValueError(f"unknown covariance kind {kind!r}")


def make_heterogeneous_mixture(n_samples=150, n_features=5, n_clusters=3, *, separation=4.0,
                               covariance="shape", weights=None, rho=0.9,
                               covariance_scales=None, random_state=None):
    """Gaussian mixture whose clusters differ in covariance, with its labels.

    Means lie on coordinate axes (``mu_1 = 0``, ``mu_k = separation * e_{k-1}``),
    enough for likelihood methods while the covariance mismatch defeats
    K-means.

    Parameters
    ----------
    n_samples : int, default=150
    n_features : int, default=5
        Must be at least ``n_clusters - 1`` (one axis per non-zero mean).
    n_clusters : int, default=3
    separation : float, default=4.0
        Distance of the means from the origin, in noise standard deviations.
    covariance : {"shape", "scale", "isotropic"}, default="shape"
        ``"shape"`` cycles identity / AR(rho) Toeplitz / spread diagonal;
        ``"scale"`` uses isotropic clusters with variances 0.25, 1, 4, ...
        (an order of magnitude apart overall); ``"isotropic"`` uses identity
        covariances (the sanity check every SDP variant must solve exactly).
    weights : array-like of shape (n_clusters,), optional
        Mixing proportions (default balanced).
    rho : float, default=0.9
        Correlation of the AR covariance.
    covariance_scales : array-like of shape (n_clusters,), optional
        Multiplies every cluster's covariance (default: 1, or 0.25, 1, 4, ...
        for ``covariance="scale"``); e.g. a tight cluster next to a broad one.
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,)
        True cluster of every row.
    means : ndarray of shape (n_clusters, n_features)
    covariances : ndarray of shape (n_clusters, n_features, n_features)

    Examples
    --------
    >>> from sparseopt.datasets import make_heterogeneous_mixture
    >>> X, labels, means, covs = make_heterogeneous_mixture(60, 4, 3, random_state=0)
    >>> X.shape, sorted(set(labels.tolist())), covs.shape
    ((60, 4), [0, 1, 2], (3, 4, 4))
    """
    validate_params(
        {"n_samples": n_samples, "n_features": n_features, "n_clusters": n_clusters,
         "separation": separation, "covariance": covariance, "rho": rho},
        {"n_samples": [Interval(numbers.Integral, 1, None, closed="left")],
         "n_features": [Interval(numbers.Integral, 1, None, closed="left")],
         "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],
         "separation": [Interval(numbers.Real, 0, None, closed="left")],
         "covariance": [StrOptions({"shape", "scale", "isotropic"})],
         "rho": [Interval(numbers.Real, -1, 1, closed="neither")]},
        owner="make_heterogeneous_mixture")
    if n_features < n_clusters - 1:
        raise ValueError(f"n_features={n_features} must be >= n_clusters - 1 = {n_clusters - 1}")
    if n_samples < n_clusters:
        raise ValueError(f"n_samples={n_samples} must be >= n_clusters={n_clusters}")
    rng = check_random_state(random_state)
    if weights is None:
        weights = np.full(n_clusters, 1.0 / n_clusters)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (n_clusters,) or not np.all(weights > 0) or not np.all(np.isfinite(weights)):
        raise ValueError(f"weights must be {n_clusters} positive numbers, got {weights!r}.")
    if abs(weights.sum() - 1.0) > 1e-8:
        raise ValueError(f"weights must sum to 1 (mixture proportions), got sum {weights.sum():.6g}.")
    # every cluster gets at least one point; the rest is split by the weights
    counts = 1 + np.floor(weights * (n_samples - n_clusters)).astype(int)
    counts[: n_samples - counts.sum()] += 1
    means = np.zeros((n_clusters, n_features))
    for k in range(1, n_clusters):
        means[k, k - 1] = separation
    kinds = {"shape": ["identity", "ar", "diagonal"], "scale": ["identity"],
             "isotropic": ["identity"]}[covariance]
    if covariance_scales is None:
        covariance_scales = [4.0 ** (k - 1) if covariance == "scale" else 1.0
                             for k in range(n_clusters)]
    covariance_scales = np.asarray(covariance_scales, dtype=float)
    if covariance_scales.shape != (n_clusters,) or not np.all(covariance_scales > 0):
        raise ValueError("covariance_scales must be n_clusters positive numbers, got "
                         f"{covariance_scales.tolist()}")
    covariances = np.empty((n_clusters, n_features, n_features))
    for k in range(n_clusters):
        scale = covariance_scales[k]
        covariances[k] = _covariance(kinds[k % len(kinds)], n_features, scale, rho, rng)
    labels = np.repeat(np.arange(n_clusters), counts)
    X = np.empty((n_samples, n_features))
    for k in range(n_clusters):
        idx = labels == k
        X[idx] = rng.multivariate_normal(means[k], covariances[k], size=idx.sum())
    order = rng.permutation(n_samples)
    return X[order], labels[order], means, covariances
