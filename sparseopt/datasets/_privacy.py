"""Sparse linear regression data for local differential privacy (``ldp_regression.md``)."""
import numbers

import numpy as np
from sklearn.utils import check_random_state

from ..utils.validation import Interval, StrOptions, validate_params

__all__ = ["make_ldp_regression"]


def make_ldp_regression(n_samples=10_000, n_features=10, n_informative=3, *, noise=0.1,
                        design="uniform", l1_radius=1.0, random_state=None):
    """Sparse linear regression with one record per user, for local differential privacy.

    Each user holds ``(x_i, y_i)`` with ``y = <x, theta*> + noise`` and ``theta*`` k-sparse.

    The design is sub-Gaussian and bounded so that clipping bounds are known
    a priori (deriving them from private data would break LDP): ``"uniform"``
    draws x in [-1, 1]^d (covariance I/3), ``"rademacher"`` draws +-1 entries
    (covariance I). ``"gaussian"`` draws standard normal features (covariance
    I, unbounded: the standardized data the estimators' default clipping rule
    is designed for). ``theta*`` has ``n_informative`` non-zeros at random
    positions with ``||theta*||_1 = l1_radius`` (the l1 bound the rates assume).

    Parameters
    ----------
    n_samples, n_features, n_informative : int
    noise : float
        Standard deviation of the Gaussian noise, ``>= 0``.
    design : {"uniform", "rademacher", "gaussian"}
    l1_radius : float
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    theta : ndarray of shape (n_features,)
        Ground truth.

    References
    ----------
    .. [1] L. Zhu, S. Ding, C. Aggarwal, J. Xu and D. Wang, "Improved analysis of sparse linear
       regression in local differential privacy model", ICLR 2024.

    Examples
    --------
    >>> from sparseopt.datasets import make_ldp_regression
    >>> X, y, theta = make_ldp_regression(100, 8, 2, random_state=0)
    >>> X.shape, int((theta != 0).sum()), round(float(abs(theta).sum()), 6)
    ((100, 8), 2, 1.0)
    """
    validate_params(
        {"n_samples": n_samples, "n_features": n_features, "n_informative": n_informative,
         "noise": noise, "design": design, "l1_radius": l1_radius},
        {"n_samples": [Interval(numbers.Integral, 1, None, closed="left")],
         "n_features": [Interval(numbers.Integral, 1, None, closed="left")],
         "n_informative": [Interval(numbers.Integral, 1, n_features, closed="both")],
         "noise": [Interval(numbers.Real, 0, None, closed="left")],
         "design": [StrOptions({"uniform", "rademacher", "gaussian"})],
         "l1_radius": [Interval(numbers.Real, 0, None, closed="neither")]},
        owner="make_ldp_regression")
    rng = check_random_state(random_state)
    if design == "uniform":
        X = rng.uniform(-1.0, 1.0, size=(n_samples, n_features))
    elif design == "rademacher":
        X = rng.choice([-1.0, 1.0], size=(n_samples, n_features))
    else:
        X = rng.standard_normal((n_samples, n_features))
    theta = np.zeros(n_features)
    support = rng.choice(n_features, n_informative, replace=False)
    values = rng.uniform(0.5, 1.0, n_informative) * rng.choice([-1.0, 1.0], n_informative)
    theta[support] = values * (l1_radius / np.abs(values).sum())
    y = X @ theta + noise * rng.standard_normal(n_samples)
    return X, y, theta
