"""``SinkhornTransport``: map source samples onto a target cloud through an entropic plan."""
from __future__ import annotations

import numbers

import array_api_compat
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import get_namespace_and_device, move_to, same_namespace_and_device
from ..utils.validation import (
    Interval,
    StrOptions,
    check_finite_result,
    check_X,
    validate_params,
    warn_not_converged,
)
from .sinkhorn import _logsumexp, sinkhorn

__all__ = ["SinkhornTransport"]


def _pairwise_cost(xp, X, Y, metric):
    """Cost matrix between the rows of X and Y, in X's namespace."""
    if metric == "sqeuclidean":
        # expanded form (one matmul); clipped at 0 against round-off
        sq = (xp.sum(X * X, axis=1)[:, None] + xp.sum(Y * Y, axis=1)[None, :]
              - 2.0 * (X @ xp.permute_dims(Y, (1, 0))))
        return xp.clip(sq, min=0.0)
    diff = X[:, None, :] - Y[None, :, :]
    if metric == "euclidean":
        return xp.sqrt(xp.sum(diff * diff, axis=2))
    return xp.sum(xp.abs(diff), axis=2)  # cityblock


class SinkhornTransport(TransformerMixin, BaseEstimator):
    """Entropic optimal transport between point clouds, with barycentric mapping.

    ``fit`` solves the entropic OT problem between the source samples ``X``
    (uniform weights) and the target samples ``X_target`` (uniform weights)
    for the cost ``metric`` with :func:`sinkhorn`; ``transform`` maps
    samples to the barycentre of the target points they are sent to (POT's
    ``ot.da.SinkhornTransport`` mapping).

    Parameters
    ----------
    reg : float, default=1.0
        Entropic regularisation (POT's ``reg_e``), in the units of the cost
        after the ``norm`` rescaling.
    method : {"sns", "sinkhorn", "log"}, default="sns"
        Solver, see :func:`sinkhorn`.
    metric : {"sqeuclidean", "euclidean", "cityblock"}, default="sqeuclidean"
        Ground cost between samples.
    norm : {"max", "median"} or None, default=None
        Divide the cost matrix by its max or median (POT's ``norm``), which
        makes ``reg`` a fraction of the cost scale.
    tol : float, default=1e-9
        l1 marginal error at which the solver stops.
    max_iter : int, default=None
        Cap on Sinkhorn sweeps (``"sinkhorn"``/``"log"``, default 1000) or
        Newton steps (``"sns"``, default 100).
    warmup_iter : int or "auto", default="auto"
        Sinkhorn sweeps before Newton steps (``"sns"``); ``"auto"`` sweeps
        until the marginal error is at most ``warmup_tol``.
    warmup_tol : float, default=3e-2
        Marginal error ending an ``"auto"`` warm-up.
    sparsity : float, default=10.0
        Plan entries kept per row in the sparsified Hessian (``"sns"``).
    verbose : int, default=0

    Attributes
    ----------
    coupling_ : array of shape (n_source, n_target)
        The entropic transport plan, in X's namespace and on its device.
    potential_source_, potential_target_ : arrays
        Dual potentials ``f`` and ``g`` (:class:`OTResult`).
    X_target_ : array of shape (n_target, n_features)
        The target samples (``X`` itself when no target was given).
    cost_scale_ : float
        The factor the cost matrix was divided by (1 without ``norm``).
    marginal_error_ : float
    n_iter_ : int
    n_newton_ : int
    converged_ : bool
    n_features_in_ : int

    See Also
    --------
    sinkhorn : the functional solver.
    ot.da.SinkhornTransport : POT's estimator with the same mapping.

    Notes
    -----
    **Target.** The target cloud is passed to ``fit`` by keyword,
    ``fit(X, X_target=Y)``, because scikit-learn's ``fit(X, y)`` reserves
    ``y`` for one label per sample. Without ``X_target``, the target is
    ``X`` itself: the fitted map is then the doubly stochastic
    (Sinkhorn-normalised) kernel smoother of X, a known denoising operator;
    this is what scikit-learn's generic checks exercise.

    **Mapping.** ``transform(x)`` is the entropic map
    ``T(x) = sum_j w_j(x) y_j`` with ``w_j(x)`` proportional to
    ``exp((g_j - c(x, y_j)) / reg)``, using the fitted target potential
    ``g``. On the fitted source samples it equals the barycentric projection
    ``diag(P 1)^{-1} P Y`` of the plan (up to the marginal error), and it
    extends smoothly to new samples. This is POT's default
    ``out_of_sample_map="continuous"`` (Pooladian & Niles-Weed, 2021); POT's
    ``"ferradans"`` mode moves new samples with their nearest fitted sample
    instead.

    **Arrays.** With scikit-learn's ``array_api_dispatch`` on, the cost, the
    solver (Sinkhorn, log-domain and the dense array-API Newton stage of
    ``"sns"``) and the mapping run in X's namespace and on its device, in
    float64 when the device supports it (float32 input is upcast; the
    solver's ``tol`` is out of float32's reach).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.transport import SinkhornTransport
    >>> rng = np.random.default_rng(0)
    >>> Xs = rng.standard_normal((30, 2))
    >>> Xt = Xs + np.array([5.0, 0.0])
    >>> ot_map = SinkhornTransport(reg=1e-3, norm="max").fit(Xs, X_target=Xt)
    >>> ot_map.converged_, bool(np.abs(ot_map.transform(Xs) - Xt).max() < 0.1)
    (True, True)
    """

    _parameter_constraints = {
        "reg": [Interval(numbers.Real, 0, None, closed="neither")],
        "method": [StrOptions({"sns", "sinkhorn", "log"})],
        "metric": [StrOptions({"sqeuclidean", "euclidean", "cityblock"})],
        "norm": [StrOptions({"max", "median"}), None],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "warmup_iter": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "warmup_tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "sparsity": [Interval(numbers.Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
    }
    _test_params = {"reg": 0.05, "norm": "max"}

    def __init__(self, reg=1.0, *, method="sns", metric="sqeuclidean", norm=None, tol=1e-9,
                 max_iter=None, warmup_iter="auto", warmup_tol=3e-2, sparsity=10.0,
                 verbose=0):
        self.reg = reg
        self.method = method
        self.metric = metric
        self.norm = norm
        self.tol = tol
        self.max_iter = max_iter
        self.warmup_iter = warmup_iter
        self.warmup_tol = warmup_tol
        self.sparsity = sparsity
        self.verbose = verbose

    def _compute_dtype(self, xp, device):
        try:
            dtypes = xp.__array_namespace_info__().dtypes(device=device)
            return xp.float64 if "float64" in dtypes else xp.float32
        except AttributeError:  # namespaces predating the inspection API
            return xp.float64

    def fit(self, X, y=None, *, X_target=None):
        """Solve the entropic OT problem between ``X`` and ``X_target``.

        Parameters
        ----------
        X : array-like of shape (n_source, n_features)
            Source samples (uniform weights).
        y : None
            Ignored; present for scikit-learn's API.
        X_target : array-like of shape (n_target, n_features), optional
            Target samples (uniform weights). Defaults to ``X`` (see Notes).

        Returns
        -------
        self : object
        """
        validate_params(self)
        xp, _, device = get_namespace_and_device(X)
        X = check_X(self, X)
        dtype = self._compute_dtype(xp, device)
        X = xp.astype(X, dtype)
        if X_target is None:
            Y = X
        else:
            Y = check_X(self, move_to(X_target, xp, device), reset=False)
            Y = xp.astype(Y, dtype)
        M = _pairwise_cost(xp, X, Y, self.metric)
        scale = 1.0
        if self.norm is not None:
            if self.norm == "max":
                scale = float(xp.max(M))
            else:
                flat = xp.sort(xp.reshape(M, (-1,)))
                size = flat.shape[0]
                scale = 0.5 * float(flat[(size - 1) // 2] + flat[size // 2])
            scale = scale if scale > 0 else 1.0
            M = M / scale
        result = sinkhorn([], [], M, float(self.reg), method=self.method, tol=self.tol,
                          max_iter=self.max_iter, warmup_iter=self.warmup_iter,
                          warmup_tol=self.warmup_tol,
                          sparsity=self.sparsity, verbose=self.verbose, warn=False)
        check_finite_result(type(self).__name__, *(np.asarray([float(xp.sum(result[k]))])
                                                   for k in ("plan", "f", "g")))
        if not result.converged:
            warn_not_converged(type(self).__name__, n_iter=result.n_iter,
                               certificate=result.marginal_error, tol=self.tol,
                               certificate_name="l1 marginal error",
                               advice="Increase max_iter or reg, or set norm='max'.")
        self.coupling_ = result.plan
        self.potential_source_ = result.f
        self.potential_target_ = result.g
        self.X_target_ = Y
        self.cost_scale_ = scale
        self.marginal_error_ = float(result.marginal_error)
        self.n_iter_ = max(int(result.n_iter), 1)
        self.n_newton_ = int(result.n_newton)
        self.converged_ = bool(result.converged)
        return self

    def transform(self, X):
        """Map samples to the barycentre of their entropic transport targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_mapped : array of shape (n_samples, n_features)
            In X's namespace and on its device.
        """
        check_is_fitted(self, "coupling_")
        same_namespace_and_device(self.coupling_, X, f"{type(self).__name__}.transform()")
        xp = array_api_compat.array_namespace(self.X_target_)
        X = check_X(self, X, reset=False)
        X = xp.astype(X, self.X_target_.dtype)
        M = _pairwise_cost(xp, X, self.X_target_, self.metric) / self.cost_scale_
        # w_ij ~ exp((g_j - M_ij) / reg): the row-normalised plan on the fitted samples
        logits = (self.potential_target_[None, :] - M) / float(self.reg)
        weights = xp.exp(logits - _logsumexp(xp, logits, axis=1)[:, None])
        return weights @ self.X_target_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags
