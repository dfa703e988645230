"""Planted sparse regression problems (correlated AR(1) designs, sparse CSC designs).

Every generator takes ``random_state`` and returns the ground truth.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from ..utils._random import check_generator
from ._checks import (CORRELATION, DENSITY, NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT,
                      RANDOM_STATE, Interval, StrOptions, check_args, check_at_most)

__all__ = ["make_correlated_regression", "make_sparse_design_regression",
           "make_random_support_regression"]


def _ar1_design(rng, n_samples, n_features, rho):
    """Columns x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j: corr(x_i, x_j) = rho^|i-j|."""
    Z = rng.standard_normal((n_samples, n_features))
    X = np.empty((n_samples, n_features), order="F")
    X[:, 0] = Z[:, 0]
    scale = np.sqrt(1 - rho ** 2)
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + scale * Z[:, j]
    return X


def _noise_for_snr(rng, signal, snr):
    noise = rng.standard_normal(signal.shape[0])
    if snr is None or not np.any(signal):
        return noise * 0.0
    return noise * np.linalg.norm(signal) / (np.linalg.norm(noise) * snr)


def make_correlated_regression(n_samples=100, n_features=1000, *, n_informative=10, rho=0.6,
                               snr=3.0, support=None, random_state=None):
    """Gaussian AR(1) design (correlation ``rho^|i-j|``) with a planted sparse ``w``.

    Parameters
    ----------
    n_samples, n_features : int
    n_informative : int, default=10
        Support size when ``support`` is None (drawn uniformly at random).
    rho : float, default=0.6
        AR(1) correlation between neighbouring columns.
    snr : float or None, default=3.0
        ``||Xw|| / ||noise||``; None for noiseless data.
    support : array-like of int, optional
        Given support (overrides ``n_informative``).
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), Fortran order
    y : ndarray of shape (n_samples,)
    w_true : ndarray of shape (n_features,)

    Examples
    --------
    >>> from sparseopt.datasets import make_correlated_regression
    >>> X, y, w = make_correlated_regression(50, 200, n_informative=5, random_state=0)
    >>> X.shape, int((w != 0).sum())
    ((50, 200), 5)
    """
    check_args("make_correlated_regression", locals(), dict(
        n_samples=POSITIVE_INT, n_features=POSITIVE_INT, n_informative=NON_NEGATIVE_INT,
        rho=CORRELATION, snr=POSITIVE + [None], random_state=RANDOM_STATE))
    if support is None:
        check_at_most("make_correlated_regression", "n_informative", n_informative,
                      "n_features", n_features)
    else:
        support = np.asarray(support)
        if support.ndim != 1 or (support.size and (
                support.dtype.kind not in "iu" or np.any(support < 0)
                or np.any(support >= n_features) or np.unique(support).size != support.size)):
            raise ValueError("make_correlated_regression: support must hold distinct column "
                             f"indices in [0, {n_features}).")
    rng = check_generator(random_state, seed_via_random_state=True)
    X = _ar1_design(rng, n_samples, n_features, rho)
    w = np.zeros(n_features)
    if support is None:
        support = rng.choice(n_features, size=min(n_informative, n_features), replace=False)
    support = np.asarray(support, dtype=int)
    w[support] = rng.choice([-1.0, 1.0], support.size) * rng.uniform(1.0, 2.0, support.size)
    signal = X @ w
    return X, signal + _noise_for_snr(rng, signal, snr), w


def make_sparse_design_regression(n_samples=2000, n_features=5000, *, density=0.0015,
                                  n_informative=20, snr=3.0, random_state=None):
    """Sparse CSC design (uniform random non-zeros, Gaussian values) with a planted ``w``.

    Returns
    -------
    X : scipy.sparse.csc_matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    w_true : ndarray of shape (n_features,)

    Examples
    --------
    >>> from sparseopt.datasets import make_sparse_design_regression
    >>> X, y, w = make_sparse_design_regression(100, 300, density=0.05, random_state=0)
    >>> X.format, X.shape
    ('csc', (100, 300))
    """
    check_args("make_sparse_design_regression", locals(), dict(
        n_samples=POSITIVE_INT, n_features=POSITIVE_INT, density=DENSITY,
        n_informative=NON_NEGATIVE_INT, snr=POSITIVE + [None], random_state=RANDOM_STATE))
    check_at_most("make_sparse_design_regression", "n_informative", n_informative,
                  "n_features", n_features)
    rng = check_generator(random_state, seed_via_random_state=True)
    X = sp.random(n_samples, n_features, density=density, format="csc", random_state=rng,
                  data_rvs=rng.standard_normal)
    w = np.zeros(n_features)
    support = rng.choice(n_features, size=min(n_informative, n_features), replace=False)
    w[support] = rng.choice([-1.0, 1.0], support.size) * rng.uniform(1.0, 2.0, support.size)
    signal = X @ w
    return X, signal + _noise_for_snr(rng, signal, snr), w


def make_random_support_regression(n_samples, n_features, k, *, design="ill_conditioned",
                                   cond=1e4, noise=0.1, random_state=None):
    """k-sparse ``w*`` with a uniformly random support, scored by prediction error.

    Parameters
    ----------
    n_samples, n_features, k : int
    design : {"gaussian", "ar1", "ill_conditioned"}
        ``"ill_conditioned"``: Gaussian rows times a fixed matrix ``U diag(s) V^T``
        with singular values spread geometrically over ``[1/cond, 1]``.
    cond : float, default=1e4
        Condition number of the population covariance's square root.
    noise : float, default=0.1
        Noise standard deviation.
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    w_true : ndarray of shape (n_features,)

    References
    ----------
    .. [1] V. Chandrasekaran, R. Meka and K. Stavropoulos, "Sparse linear regression is easy on
       random supports", arXiv:2511.06211, 2025.

    Examples
    --------
    >>> from sparseopt.datasets import make_random_support_regression
    >>> X, y, w = make_random_support_regression(80, 40, 3, random_state=0)
    >>> int((w != 0).sum())
    3
    """
    check_args("make_random_support_regression", locals(), dict(
        n_samples=POSITIVE_INT, n_features=POSITIVE_INT, k=NON_NEGATIVE_INT,
        design=[StrOptions({"gaussian", "ar1", "ill_conditioned"})],
        cond=[Interval(numbers.Real, 1, None, closed="left")], noise=NON_NEGATIVE,
        random_state=RANDOM_STATE))
    check_at_most("make_random_support_regression", "k", k, "n_features", n_features)
    rng = check_generator(random_state, seed_via_random_state=True)
    if design == "gaussian":
        X = rng.standard_normal((n_samples, n_features))
    elif design == "ar1":
        X = _ar1_design(rng, n_samples, n_features, 0.9)
    elif design == "ill_conditioned":
        U, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
        V, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
        s = np.geomspace(1.0, 1.0 / cond, n_features)
        X = rng.standard_normal((n_samples, n_features)) @ (U * s) @ V.T
        X /= np.sqrt(np.mean(X ** 2))  # unit average scale
    else:
        raise ValueError(f"design must be 'gaussian', 'ar1' or 'ill_conditioned', got {design!r}.")
    w = np.zeros(n_features)
    support = rng.choice(n_features, size=k, replace=False)
    w[support] = rng.standard_normal(k)
    y = X @ w + noise * rng.standard_normal(n_samples)
    return np.asfortranarray(X), y, w
