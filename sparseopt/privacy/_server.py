"""The server side of the local protocols: it consumes messages only.

Every function here takes message blocks, their running sums, public
metadata (noise scales, clipping ranges, the number of users) or public data
(``X_public``); none takes a user's record.

* :class:`MessageAggregator` adds message rows as they arrive (memory
  O(d^2), whatever the number of users).
* :func:`nldp_estimate` is the closed-form non-interactive estimator
  ``theta = S_lambda(Sigma_bar^-1 b_bar)`` (Zhu et al. 2024), with the
  eigenvalue floor safeguard.
* :func:`iht_update` is one server step of LDP iterative hard thresholding
  (Wang & Xu 2019, as revised by Zhu et al. 2024).
"""
from __future__ import annotations

import math

import numpy as np

from .._ext._ldp import accumulate_rows
from ._clipping import THETA_NORM_BOUND

__all__ = ["MessageAggregator", "unpack_upper", "nldp_estimate", "soft_threshold",
           "hard_threshold", "project_l1_ball", "iht_update", "nldp_samples_needed"]


class MessageAggregator:
    """Running sums of the message rows received (packed covariance and vector parts).

    Parameters
    ----------
    n_features : int
    with_covariance : bool
        Whether covariance messages (packed upper triangles) are expected.
    """

    def __init__(self, n_features, with_covariance):
        self.n_features = n_features
        self.with_covariance = with_covariance
        self.covariance_sum = np.zeros(n_features * (n_features + 1) // 2 if with_covariance
                                       else 0)
        self.vector_sum = np.zeros(n_features)
        self.n_received = 0

    def receive(self, covariance_block, vector_block):
        """Add a block of messages (rows = users) to the running sums."""
        if self.with_covariance:
            accumulate_rows(covariance_block, self.covariance_sum)
        accumulate_rows(vector_block, self.vector_sum)
        self.n_received += vector_block.shape[0]

    def means(self):
        """``(Sigma_bar, b_bar)``: the averaged messages (Sigma_bar None without covariance)."""
        n = max(self.n_received, 1)
        cov = unpack_upper(self.covariance_sum / n, self.n_features) if self.with_covariance \
            else None
        return cov, self.vector_sum / n


def unpack_upper(packed, d):
    """Symmetric d x d matrix from its packed upper triangle (``triu_indices`` order)."""
    iu, ju = np.triu_indices(d)
    full = np.empty((d, d))
    full[iu, ju] = packed
    full[ju, iu] = packed
    return full


def soft_threshold(z, threshold):
    """``S_lambda(z) = sign(z) max(|z| - lambda, 0)``, the closed form of
    ``min ||theta||_1 s.t. ||theta - z||_inf <= lambda``."""
    return np.sign(z) * np.maximum(np.abs(z) - threshold, 0.0)


def nldp_samples_needed(n_features, sigma_cov):
    """Users needed by the non-interactive guarantee: ``16 d^2 sigma_1^2``.

    The l_inf operator norm of the averaged covariance noise is about
    ``d sigma_1 / sqrt(n)``; the analysis needs it small against
    ``1 / ||Sigma^-1||_inf``, which is 1 on standardized, uncorrelated
    features. ``n >= 16 d^2 sigma_1^2`` makes it at most 1/4. Since
    ``sigma_1`` grows like ``d tau_x^2 / epsilon``, this is the
    ``n >> d^4 / epsilon^2`` condition of the paper.
    """
    return int(math.ceil(16.0 * n_features ** 2 * sigma_cov ** 2))


def _floored_inverse(cov, floor):
    """``(inverse, n_floored)`` of the symmetric ``cov`` with eigenvalues raised to ``floor``."""
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    n_floored = int(np.sum(vals < floor))
    vals = np.maximum(vals, floor)
    return (vecs / vals) @ vecs.T, n_floored


def nldp_estimate(cov_mean, cross_mean, n_samples, *, sigma_cov, sigma_cross, threshold="auto"):
    """The closed-form non-interactive estimator from averaged messages.

    ``theta = S_lambda(Sigma_f^-1 b_bar)``, where ``Sigma_f`` is
    ``Sigma_bar`` with its eigenvalues floored at
    ``kappa = max(2 sqrt(d) sigma_1 / sqrt(n), 1e-10 tr(Sigma_bar)/d)``
    (about the operator norm of the averaged noise: eigenvalues below it
    are noise; an engineering safeguard, not from the paper).

    ``threshold="auto"``: ``lambda = sqrt(2 log(2d) / n) max_j
    ||(Sigma_f^-1)_j||_2 sqrt(sigma_1^2 B^2 + sigma_2^2)`` with ``B = 1``:
    the largest of the d Gaussian coordinate errors of ``Sigma_f^-1 b_bar``
    that the privacy noise causes (``B`` bounds ``||theta*||_2`` on
    standardized data), so that the zero coordinates stay zero.

    Returns
    -------
    dict with ``coef``, ``unthresholded`` (``Sigma_f^-1 b_bar``),
    ``threshold``, ``eigen_floor``, ``n_eigen_floored``.
    """
    d = cross_mean.shape[0]
    scale = max(float(np.trace(cov_mean)) / d, 0.0) if d else 0.0
    floor = max(2.0 * math.sqrt(d) * sigma_cov / math.sqrt(max(n_samples, 1)),
                1e-10 * scale, 1e-300)
    inverse, n_floored = _floored_inverse(cov_mean, floor)
    z = inverse @ cross_mean
    if isinstance(threshold, str):  # "auto"
        row_norm = float(np.max(np.linalg.norm(inverse, axis=1)))
        noise = math.sqrt((sigma_cov * THETA_NORM_BOUND) ** 2 + sigma_cross ** 2)
        threshold = math.sqrt(2.0 * math.log(2.0 * d) / max(n_samples, 1)) * row_norm * noise
    coef = soft_threshold(z, threshold)
    return {"coef": coef, "unthresholded": z, "threshold": float(threshold),
            "eigen_floor": float(floor), "n_eigen_floored": n_floored}


def hard_threshold(v, k):
    """``H_k(v)``: keep the ``k`` largest-magnitude entries (ties by lower index)."""
    if k >= v.shape[0]:
        return v.copy()
    keep = np.argsort(-np.abs(v), kind="stable")[:k]
    out = np.zeros_like(v)
    out[keep] = v[keep]
    return out


def project_l1_ball(v, radius):
    """Euclidean projection onto ``{||theta||_1 <= radius}`` (sort-based, O(d log d)).

    Duchi, Shalev-Shwartz, Singer & Chandra (2008): ``sign(v) (|v| - mu)_+``
    with ``mu`` the smallest shift that meets the radius.
    """
    a = np.abs(v)
    if a.sum() <= radius:
        return v.copy()
    u = np.sort(a)[::-1]
    css = np.cumsum(u) - radius
    rho = np.nonzero(u - css / np.arange(1, u.shape[0] + 1) > 0)[0][-1]
    mu = css[rho] / (rho + 1.0)
    return np.sign(v) * np.maximum(a - mu, 0.0)


def iht_update(theta, gradient_mean, *, step_size, sparsity, radius):
    """One server step: ``Pi_{l1(R)}(H_k(theta - eta g_bar))`` (LDP-IHT)."""
    return project_l1_ball(hard_threshold(theta - step_size * gradient_mean, sparsity), radius)
