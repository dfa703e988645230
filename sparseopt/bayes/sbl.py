"""Classic sparse Bayesian learning (EM-SBL / relevance vector regression)."""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import get_namespace_and_device, move_to, same_namespace_and_device
from ..utils.validation import Interval, StrOptions, check_X, check_X_y, validate_params
from ._base import SBLRegressorMixin, _host_dtype, _rms, data_scales, posterior_power
from ._kronecker_design import abs_squared
from ._sbl_em import DenseEStep, effective_dof, initial_gammas, noise_em, sbl_em

__all__ = ["SparseBayesianRegression"]


def _sbl_em_update(xp, post, gammas):
    """EM: ``gamma_j <- mu_j^2 + Sigma_jj`` (decreases the type-II cost monotonically)."""
    return [posterior_power(xp, post)]


def _sbl_mackay_update(xp, post, gammas):
    """MacKay / Tipping fixed point: ``gamma_j <- mu_j^2 / (1 - Sigma_jj / gamma_j)``."""
    g = gammas[0]
    well_determined = 1.0 - post.variance / g
    tiny = float(np.finfo(np.float32).eps)
    well_determined = xp.where(well_determined < tiny, xp.full_like(well_determined, tiny),
                               well_determined)
    return [xp.mean(abs_squared(xp, post.mean), axis=-1) / well_determined]


def _noise_mackay(xp, post, gamma, sigma2, n_samples):
    """MacKay: ``sigma^2 <- ||y - A mu||^2 / (M - sum_j (1 - Sigma_jj / gamma_j))``."""
    dof = n_samples - effective_dof(xp, post, gamma)
    return post.residual_sq / max(dof, 1e-3 * n_samples)


_UPDATES = {  # update rule -> (gamma update, noise update)
    "em": (_sbl_em_update, noise_em),
    "mackay": (_sbl_mackay_update, _noise_mackay),
}


class SparseBayesianRegression(SBLRegressorMixin, BaseEstimator):
    """Classic sparse Bayesian learning: one prior variance per coefficient, learned by EM.

    The hierarchical model (Tipping 2001; Wipf & Rao 2004)::

        y = X w + b + e,   e ~ N(0, sigma^2 I),   w_j ~ N(0, gamma_j)

    The prior variances ``gamma`` and the noise variance ``sigma^2`` minimise
    the type-II (evidence) cost::

        L(gamma, sigma^2) = log|Sigma_y| + y^T Sigma_y^{-1} y,
        Sigma_y = sigma^2 I + X diag(gamma) X^T

    by expectation-maximisation; most ``gamma_j`` go to zero and the
    corresponding coefficients are pruned, so ``coef_`` (the posterior mean)
    is exactly sparse.

    Parameters
    ----------
    update : {"em", "mackay"}, default="em"
        ``"em"``: ``gamma_j <- mu_j^2 + Sigma_jj``, monotone in ``L``.
        ``"mackay"``: the fixed point ``gamma_j <- mu_j^2 / (1 - Sigma_jj /
        gamma_j)`` of Tipping (2001), usually faster, not guaranteed monotone
        (the update of :class:`sklearn.linear_model.ARDRegression`, without
        its Gamma hyperpriors).
    noise_variance : float or None, default=None
        Known ``sigma^2`` (in the units of ``y**2``), or None to learn it
        (started at ``0.1 mean(y**2)``).
    fit_intercept : bool, default=True
        Centre ``X`` and ``y`` (the intercept is not penalised).
    prune_threshold : float, default=1e-3
        Drop coefficient ``j`` when ``gamma_j <= prune_threshold * max(gamma)``.
        Relative, so the fit does not depend on the scale of ``X`` or ``y``.
    tol : float, default=1e-4
        Stop when ``||gamma_t - gamma_{t-1}|| <= tol ||gamma_{t-1}||``.
    max_iter : int, default=150
    verbose : int, default=0
        Print one line per EM iteration.

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
        Posterior mean of ``w``; zero on pruned features.
    intercept_ : float or array of shape (n_targets,)
    gamma_ : array of shape (n_features,)
        Prior variances (zero on pruned features). ``1 / gamma_`` is
        scikit-learn's ``lambda_``.
    active_ : array of bool, shape (n_features,)
        Features kept by pruning.
    sigma_ : array of shape (n_active, n_active)
        Posterior covariance of the active coefficients (shared by all
        targets).
    noise_variance_ : float
        ``sigma^2`` (learned or given). ``alpha_ = 1 / noise_variance_``.
    alpha_ : float
    n_iter_ : int
    converged_ : bool
    cost_history_ : list of float
        Type-II cost ``L`` at each E-step (per target for several targets).
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    KroneckerSBL : SBL with a Kronecker-structured support.
    sklearn.linear_model.ARDRegression : MacKay updates with Gamma hyperpriors.

    Notes
    -----
    The E-step works in the smaller dimension: ``Sigma_y`` (``M x M``) while
    at least ``M`` features are active, the ``n_active x n_active`` posterior
    precision afterwards; ``O(M^2 N)`` per iteration. A 2-D ``y`` is the
    multiple-measurement-vector model (M-SBL, Wipf & Rao 2007): the targets
    share ``gamma`` and therefore the support.

    Differences with :class:`~sklearn.linear_model.ARDRegression`: no Gamma
    hyperpriors, relative (scale-free) pruning and stopping; see the user
    guide for a comparison on a shared problem.

    All linear algebra runs in the array namespace of ``X`` when
    scikit-learn's ``array_api_dispatch`` is on.

    References
    ----------
    .. [1] M. E. Tipping, "Sparse Bayesian learning and the relevance vector
       machine", JMLR 1, 2001.
    .. [2] D. P. Wipf and B. D. Rao, "Sparse Bayesian learning for basis
       selection", IEEE Trans. Signal Process. 52(8), 2004.
    .. [3] D. P. Wipf and B. D. Rao, "An empirical Bayesian strategy for
       solving the simultaneous sparse approximation problem", IEEE Trans.
       Signal Process. 55(7), 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.bayes import SparseBayesianRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 100))
    >>> w = np.zeros(100); w[[3, 30, 70]] = [1.5, -2.0, 1.0]
    >>> y = X @ w + 0.01 * rng.standard_normal(50)
    >>> sbl = SparseBayesianRegression(fit_intercept=False).fit(X, y)
    >>> np.flatnonzero(sbl.coef_).tolist()
    [3, 30, 70]
    >>> bool(np.abs(sbl.coef_ - w).max() < 0.01)
    True
    >>> mean, std = sbl.predict(X[:2], return_std=True)
    >>> std.shape
    (2,)
    """

    _parameter_constraints = {
        "update": [StrOptions({"em", "mackay"})],
        "noise_variance": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "prune_threshold": [Interval(numbers.Real, 0, 1, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }
    _test_params = [{}, {"update": "mackay"}]

    def __init__(self, update="em", *, noise_variance=None, fit_intercept=True,
                 prune_threshold=1e-3, tol=1e-4, max_iter=150, verbose=0):
        self.update = update
        self.noise_variance = noise_variance
        self.fit_intercept = fit_intercept
        self.prune_threshold = prune_threshold
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    def fit(self, X, y):
        """Fit the prior and noise variances by EM; ``coef_`` is the posterior mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Several targets share the prior (common support).

        Returns
        -------
        self : object
        """
        validate_params(self)
        xp, is_api, device = get_namespace_and_device(X)
        if is_api and y is not None:  # y follows X's namespace and device
            y = move_to(y, xp, device)
        X, y = check_X_y(self, X, y, multi_output=True)
        if not is_api:
            X = np.ascontiguousarray(X)
        y = xp.astype(y, X.dtype)
        Y, multi = self._as_columns(xp, y)
        if self.fit_intercept:
            X_offset, y_offset = xp.mean(X, axis=0), xp.mean(Y, axis=0)
            X, Y = X - X_offset[None, :], Y - y_offset[None, :]
        n_features = X.shape[1]
        name = type(self).__name__
        # the EM runs on X / s_x, y / s_y (unit scale) and maps back: see data_scales
        s_x, s_y = data_scales(xp, _rms(xp, X), Y, name, dtype=_host_dtype(X))
        X_unit, Y_unit = X / s_x, Y / s_y
        scale = self._initial_scale(xp, Y_unit, float(xp.sum(X_unit * X_unit)))
        if scale == 0.0 or not bool(xp.any(X_unit != 0)):  # constant y or X: nothing to explain
            result = None
        else:
            gamma_rule, noise_rule = _UPDATES[self.update]
            result = sbl_em(
                xp, DenseEStep(xp, X_unit, (n_features,)), Y_unit,
                m_step=lambda post, gammas: gamma_rule(xp, post, gammas),
                noise_update=noise_rule,
                noise_variance=None if self.noise_variance is None
                else self.noise_variance / s_y**2,
                prune_threshold=self.prune_threshold, tol=self.tol, max_iter=self.max_iter,
                gamma_init=initial_gammas(xp, (n_features,), scale, X.dtype, device),
                verbose=self.verbose, name=name)
        if result is None:
            self._store_constant(xp, X, Y, multi, device)
        else:
            ratio = s_y / s_x
            coef = self._store(xp, result, multi, name, coef_scale=ratio, noise_scale=s_y**2)
            self.gamma_ = result.gammas[0] * ratio**2
            self.active_ = result.masks[0]
            self.sigma_ = (result.posterior.covariance * ratio**2
                           if result.posterior is not None
                           else xp.zeros((0, 0), dtype=X.dtype, device=device))
        if self.fit_intercept:
            coef2 = self.coef_ if multi else self.coef_[None, :]
            intercept = y_offset - xp.sum(coef2 * X_offset[None, :], axis=1)
            self.intercept_ = intercept if multi else float(intercept[0])
        else:
            self.intercept_ = xp.zeros(Y.shape[1], dtype=X.dtype, device=device) if multi else 0.0
        # precision of the noise; a zero noise variance (y explained exactly, or constant) is
        # reported at the float64 resolution of y's scale, as scikit-learn's ARDRegression does
        floor = np.finfo(np.float64).eps * s_y**2
        self.alpha_ = 1.0 / max(self.noise_variance_, floor)
        return self

    def _store_constant(self, xp, X, Y, multi, device):
        n_features, n_targets = X.shape[1], Y.shape[1]
        zeros = xp.zeros((n_targets, n_features) if multi else (n_features,), dtype=X.dtype,
                         device=device)
        self.coef_ = zeros
        self.gamma_ = xp.zeros(n_features, dtype=X.dtype, device=device)
        self.active_ = xp.zeros(n_features, dtype=xp.bool, device=device)
        self.sigma_ = xp.zeros((0, 0), dtype=X.dtype, device=device)
        # nothing is explained: the noise variance is the power of y (or the given value)
        self.noise_variance_ = float(self.noise_variance if self.noise_variance is not None
                                     else _rms(xp, Y) ** 2)
        self.n_iter_, self.converged_, self.cost_history_ = 0, True, []

    def predict(self, X, return_std=False):
        """Posterior predictive mean (and standard deviation).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return ``sqrt(sigma^2 + x^T Sigma x)`` per sample.

        Returns
        -------
        y_mean : array of shape (n_samples,) or (n_samples, n_targets)
        y_std : array of shape (n_samples,)
            Only with ``return_std`` (the same for every target).
        """
        check_is_fitted(self, "coef_")
        same_namespace_and_device(self.coef_, X, f"{type(self).__name__}.predict()")
        xp, _, _ = get_namespace_and_device(X)
        X = check_X(self, X, reset=False)
        coef = xp.astype(self.coef_, X.dtype)
        mean = X @ (coef.T if coef.ndim == 2 else coef)
        mean = mean + (xp.astype(self.intercept_, X.dtype) if coef.ndim == 2
                       else self.intercept_)
        if not return_std:
            return mean
        X_active = xp.take(X, xp.nonzero(self.active_)[0], axis=1)
        spread = xp.sum((X_active @ xp.astype(self.sigma_, X.dtype)) * X_active, axis=1)
        return mean, xp.sqrt(spread + self.noise_variance_)
