"""``SinkhornTransport``: map source samples onto a target cloud through an entropic plan."""
from __future__ import annotations

import numbers
import warnings

import array_api_compat
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import (
    get_namespace_and_device,
    move_to,
    same_namespace_and_device,
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
from ._log_domain import logsumexp
from .sinkhorn import METHOD_ALIASES, _pot_log, _resolve_method
from .solve import solve

__all__ = ["SinkhornTransport", "distribution_estimation_uniform"]

#: POT's label of an unlabelled sample in semi-supervised transport
MISSING_LABEL = -1


class _PositiveOrInfinite:
    """Parameter constraint: a positive float, ``inf`` included (``limit_max``)."""

    def is_satisfied_by(self, value):
        return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
                and value > 0)

    def __str__(self):
        return "a positive float or inf"


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


def distribution_estimation_uniform(X):
    """Uniform sample weights ``1 / n_samples`` (as ``ot.da.distribution_estimation_uniform``).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)

    Returns
    -------
    weights : array of shape (n_samples,)
        In X's namespace and on its device.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.transport import distribution_estimation_uniform
    >>> distribution_estimation_uniform(np.zeros((4, 2)))
    array([0.25, 0.25, 0.25, 0.25])
    """
    xp = array_api_compat.array_namespace(X)
    n = X.shape[0]
    return xp.full(n, 1.0 / n, dtype=X.dtype, device=array_api_compat.device(X))


def _normalize_cost(xp, M, norm, value=None):
    """POT's ``cost_normalization``: ``(M', value)``; ``value`` reuses a fitted scale."""
    if norm in ("max", "median"):
        if value is None:
            if norm == "max":
                value = float(xp.max(M))
            else:
                flat = xp.sort(xp.reshape(M, (-1,)))
                size = flat.shape[0]
                value = 0.5 * float(flat[(size - 1) // 2] + flat[size // 2])
        # a zero scale (all samples equal) leaves the cost unchanged instead of dividing by 0
        return M / (value if value > 0 else 1.0), value
    if norm == "log":
        return xp.log1p(M), None
    if norm == "loglog":
        return xp.log1p(xp.log1p(M)), None
    return M, None


def _one_hot(y, xp, dtype, device):
    """POT's ``labels_to_masks``: one column per distinct label, in sorted order."""
    _, index = np.unique(to_numpy(y), return_inverse=True)
    masks = np.eye(int(index.max()) + 1)[index.reshape(-1)]
    return xp.asarray(masks, dtype=dtype, device=device)


def _normalized_rows(xp, plan):
    """Rows of ``plan`` divided by their sums; empty rows stay zero (POT's nan_to_num)."""
    sums = xp.sum(plan, axis=1)
    safe = xp.where(sums > 0, sums, xp.ones_like(sums))
    return xp.where(sums[:, None] > 0, plan / safe[:, None], xp.zeros_like(plan))


def _alias(owner, first, second, names):
    """The one of two aliased arguments that is given (both: a TypeError)."""
    if first is not None and second is not None:
        raise TypeError(f"{owner}: pass either {names[0]} or {names[1]} (aliases), not both.")
    return first if first is not None else second




# auto_wrap_output_keys=None: scikit-learn's set_output wrapper would make X positional-only,
# while POT's transform takes Xs= by keyword
class SinkhornTransport(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Entropic optimal transport between point clouds (POT's ``ot.da.SinkhornTransport``).

    ``fit`` solves the entropic OT problem between the source samples ``Xs``
    and the target samples ``Xt`` (weights from ``distribution_estimation``,
    uniform by default) for the cost ``metric`` with :func:`solve`;
    ``transform`` maps source samples onto the target cloud,
    ``inverse_transform`` target samples onto the source cloud, and
    ``transform_labels`` / ``inverse_transform_labels`` propagate labels
    through the plan. Same parameter names, ``fit(Xs=, ys=, Xt=, yt=)``
    signature and fitted attributes (``coupling_``, ``cost_``, ``log_``) as
    POT's estimator, and a scikit-learn transformer (``fit(X, y)`` takes
    ``X`` as ``Xs`` and ``y`` as ``ys``).

    Parameters
    ----------
    reg_e : float, default=1.0
        Entropic regularisation, in the units of the cost after the
        ``norm`` rescaling.
    method : str, default="sns"
        Solver, see :func:`sinkhorn`: ``"sns"``, ``"sinkhorn"``,
        ``"sinkhorn_log"`` (alias ``"log"``), ``"sinkhorn_stabilized"``.
        Any of them gives the potentials the continuous out-of-sample map
        needs (POT switches to ``"sinkhorn_log"`` for it).
    max_iter : int, default=None
        Cap on Sinkhorn sweeps (default 1000, POT's) or Newton steps
        (``"sns"``, default 100).
    tol : float, default=1e-9
        l1 marginal error at which the solver stops (POT: l2 norm of the
        column error, default 1e-8).
    verbose : bool or int, default=False
        Print the solver's progress.
    log : bool, default=False
        Keep the solver's log dict in ``log_`` (always kept with
        ``out_of_sample_map="continuous"``, as in POT).
    metric : {"sqeuclidean", "euclidean", "cityblock"}, default="sqeuclidean"
        Ground cost between samples.
    norm : {"max", "median", "log", "loglog"} or None, default=None
        Cost normalisation (POT's ``cost_normalization``): divide by the max
        or the median, or apply ``log(1 + M)`` / ``log(1 + log(1 + M))``.
        ``"max"`` makes ``reg_e`` a fraction of the cost scale.
    distribution_estimation : callable, default=distribution_estimation_uniform
        ``X -> weights`` for the source and target samples.
    out_of_sample_map : {"continuous", "ferradans"}, default="continuous"
        How ``transform`` maps samples: the entropic map from the fitted
        potential (``"continuous"``), or the barycentric map of the
        nearest fitted sample plus the offset to it (``"ferradans"``).
    limit_max : float, default=np.inf
        With both ``ys`` and ``yt``: the cost between labelled samples of
        different classes is raised to ``limit_max * max(cost)`` (infinite
        by default: such pairs exchange no mass). ``-1`` marks an
        unlabelled sample.
    reg : float, default=None
        Alias of ``reg_e`` (sparseopt's earlier name); used instead of
        ``reg_e`` when given.
    warmup_iter : int or "auto", default="auto"
        Sinkhorn sweeps before Newton steps (``"sns"``); ``"auto"`` sweeps
        until the marginal error is at most ``warmup_tol``.
    warmup_tol : float, default=3e-2
        Marginal error ending an ``"auto"`` warm-up.
    sparsity : float, default=10.0
        Plan entries kept per row in the sparsified Hessian (``"sns"``).

    Attributes
    ----------
    coupling_ : array of shape (n_source, n_target)
        The entropic transport plan, in X's namespace and on its device.
    cost_ : array of shape (n_source, n_target)
        The normalised cost matrix, with the label penalty where labels
        differ (the largest float for the default infinite ``limit_max``,
        as POT).
    log_ : dict
        The solver's log (POT's keys, see :func:`sinkhorn`), or ``{}``.
    xs_, xt_ : arrays
        The fitted source and target samples (``X_target_`` is ``xt_``).
    mu_s, mu_t : arrays
        The source and target weights (POT's names, read-only).
    norm_cost_ : float or None
        The scale the cost was divided by (``norm`` "max"/"median").
    potential_source_, potential_target_ : arrays
        Dual potentials ``f`` and ``g`` in cost units (:class:`OTResult`);
        ``log_["log_u"] = f / reg_e``.
    cost_scale_ : float
        ``norm_cost_``, or 1 without a scale.
    marginal_error_ : float
    n_iter_ : int
    n_newton_ : int
    converged_ : bool
    n_features_in_ : int

    See Also
    --------
    solve, sinkhorn : the functional solvers.
    ot.da.SinkhornTransport : POT's estimator.

    Notes
    -----
    **Target.** ``fit(Xs, ys, Xt, yt)`` in POT's order, by keyword
    (``Xs=``, ``Xt=``; ``X_target=`` is an alias of ``Xt``) or
    scikit-learn's ``fit(X, y)``. Without ``Xt`` the target is ``Xs``
    itself: the fitted map is then the doubly stochastic
    (Sinkhorn-normalised) kernel smoother of X, a known denoising operator;
    this is what scikit-learn's generic checks exercise (POT's estimator
    needs ``Xt``).

    **Mapping.** With ``out_of_sample_map="continuous"`` (POT's default),
    ``transform(x)`` is the entropic map ``T(x) = sum_j w_j(x) y_j`` with
    ``w_j(x)`` proportional to ``exp((g_j - c(x, y_j)) / reg_e)``, using the
    fitted target potential ``g`` (Pooladian & Niles-Weed, 2021). On the
    fitted source samples it equals the barycentric projection
    ``diag(P 1)^{-1} P Y`` of the plan (up to the marginal error), and it
    extends smoothly to new samples. ``"ferradans"`` (Ferradans et al.,
    2014) applies the barycentric projection to the fitted samples and
    moves a new sample with its nearest fitted sample.

    **Semi-supervised.** Labelled pairs of different classes get cost
    ``limit_max * max(cost)``; with the default infinite ``limit_max`` the
    solver is given the finite cost ``max(cost) + 2 range(cost) + 1000
    reg_e`` there, whose plan entries underflow to zero (``cost_`` holds
    the largest float there, as POT's). Unlike POT, ``fit`` does not overwrite the
    ``limit_max`` parameter with the scaled value.

    **Arrays.** With scikit-learn's ``array_api_dispatch`` on, the cost, the
    solver (Sinkhorn, log-domain and the dense array-API Newton stage of
    ``"sns"``) and the mapping run in X's namespace and on its device, in
    float64 when the device supports it (float32 input is upcast; the
    solver's ``tol`` is out of float32's reach). Labels are handled on the
    host.

    References
    ----------
    .. [1] N. Courty, R. Flamary, D. Tuia, A. Rakotomamonjy, "Optimal
       Transport for Domain Adaptation", IEEE TPAMI 2017.
    .. [2] S. Ferradans, N. Papadakis, G. Peyré, J.-F. Aujol, "Regularized
       Discrete Optimal Transport", SIAM J. Imaging Sciences 2014.
    .. [3] A.-A. Pooladian, J. Niles-Weed, "Entropic estimation of optimal
       transport maps", arXiv:2109.12004, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.transport import SinkhornTransport
    >>> rng = np.random.default_rng(0)
    >>> Xs = rng.standard_normal((30, 2))
    >>> Xt = Xs + np.array([5.0, 0.0])
    >>> ot_map = SinkhornTransport(reg_e=1e-3, norm="max").fit(Xs=Xs, Xt=Xt)
    >>> ot_map.converged_, bool(np.abs(ot_map.transform(Xs=Xs) - Xt).max() < 0.1)
    (True, True)
    >>> bool(np.abs(ot_map.inverse_transform(Xt=Xt) - Xs).max() < 0.1)
    True
    """

    _parameter_constraints = {
        "reg_e": [Interval(numbers.Real, 0, None, closed="neither")],
        "reg": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "method": [StrOptions(set(METHOD_ALIASES))],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "log": ["boolean"],
        "metric": [StrOptions({"sqeuclidean", "euclidean", "cityblock"})],
        "norm": [StrOptions({"max", "median", "log", "loglog"}), None],
        "distribution_estimation": ["callable"],
        "out_of_sample_map": [StrOptions({"continuous", "ferradans"})],
        "limit_max": [_PositiveOrInfinite()],
        "warmup_iter": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "warmup_tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "sparsity": [Interval(numbers.Real, 0, None, closed="neither")],
    }
    _test_params = {"reg_e": 0.05, "norm": "max"}

    def __init__(self, reg_e=1.0, method="sns", max_iter=None, tol=1e-9, verbose=False,
                 log=False, metric="sqeuclidean", norm=None,
                 distribution_estimation=distribution_estimation_uniform,
                 out_of_sample_map="continuous", limit_max=np.inf, *, reg=None,
                 warmup_iter="auto", warmup_tol=3e-2, sparsity=10.0):
        self.reg_e = reg_e
        self.method = method
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.log = log
        self.metric = metric
        self.norm = norm
        self.distribution_estimation = distribution_estimation
        self.out_of_sample_map = out_of_sample_map
        self.limit_max = limit_max
        self.reg = reg
        self.warmup_iter = warmup_iter
        self.warmup_tol = warmup_tol
        self.sparsity = sparsity

    @property
    def _reg(self):
        return float(self.reg_e if self.reg is None else self.reg)

    @property
    def mu_s(self):
        """Source weights (POT's attribute name)."""
        check_is_fitted(self, "coupling_")
        return self.mu_s_

    @property
    def mu_t(self):
        """Target weights (POT's attribute name)."""
        check_is_fitted(self, "coupling_")
        return self.mu_t_

    @property
    def X_target_(self):
        """The fitted target samples (``xt_``)."""
        check_is_fitted(self, "coupling_")
        return self.xt_

    def _compute_dtype(self, xp, device):
        try:
            dtypes = xp.__array_namespace_info__().dtypes(device=device)
            return xp.float64 if "float64" in dtypes else xp.float32
        except AttributeError:  # namespaces predating the inspection API
            return xp.float64

    def _check_labels(self, y, n, name):
        if y is None:
            return None
        y = to_numpy(y) if array_api_compat.is_array_api_obj(y) else np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"{type(self).__name__}: {name} must hold one label per sample "
                             f"({n}), got shape {y.shape}.")
        return y

    def _label_penalty(self, xp, M, ys, yt, reg):
        """POT's semi-supervised cost: ``limit_max * max(M)`` where labelled classes differ.

        Returns ``(cost_, M_solver)``. An infinite ``limit_max`` gives the
        largest float in ``cost_`` (as POT's ``nan_to_num``); the solver gets a
        finite cost far enough above every other one that
        ``exp(-(cost - f - g) / reg)`` underflows to zero.
        """
        present = (ys != MISSING_LABEL)[:, None] & (yt != MISSING_LABEL)[None, :]
        mismatch = present & (ys[:, None] != yt[None, :])
        mismatch = xp.asarray(mismatch, device=array_api_compat.device(M))
        low, high = float(xp.min(M)), float(xp.max(M))
        if np.isfinite(self.limit_max):
            limit = self.limit_max * high
            cost = xp.where(mismatch, xp.maximum(M, xp.full_like(M, limit)), M)
            return cost, cost
        cost = xp.where(mismatch, xp.full_like(M, xp.finfo(M.dtype).max), M)
        forbidden = high + 2.0 * (high - low) + 1000.0 * reg
        return cost, xp.where(mismatch, xp.full_like(M, forbidden), M)

    def fit(self, X=None, y=None, Xt=None, yt=None, *, Xs=None, ys=None, X_target=None):
        """Solve the entropic OT problem between the source and target samples.

        Parameters
        ----------
        X : array-like of shape (n_source, n_features)
            Source samples (POT's ``Xs``; either name).
        y : array-like of shape (n_source,), optional
            Source labels (POT's ``ys``; either name), ``-1`` for unlabelled
            samples; used with ``yt`` (semi-supervised transport).
        Xt : array-like of shape (n_target, n_features), optional
            Target samples (alias ``X_target``). Defaults to ``Xs`` (see
            Notes).
        yt : array-like of shape (n_target,), optional
            Target labels, ``-1`` for unlabelled samples.
        Xs, ys : array-like, optional
            POT's names of ``X`` and ``y``.
        X_target : array-like, optional
            sparseopt's earlier name of ``Xt``.

        Returns
        -------
        self : object
        """
        owner = f"{type(self).__name__}.fit()"
        Xs = _alias(owner, X, Xs, ("X", "Xs"))
        ys = _alias(owner, y, ys, ("y", "ys"))
        Xt = _alias(owner, Xt, X_target, ("Xt", "X_target"))
        if Xs is None:
            raise ValueError(f"{owner} needs the source samples: pass X (or Xs).")
        validate_params(self)
        pot_name, _ = _resolve_method(self.method, type(self).__name__)
        xp, _, device = get_namespace_and_device(Xs)
        X = check_X(self, Xs)
        dtype = self._compute_dtype(xp, device)
        X = xp.astype(X, dtype)
        if Xt is None:
            Y = X
        else:
            Y = xp.astype(check_X(self, move_to(Xt, xp, device), reset=False), dtype)
        ys = self._check_labels(ys, X.shape[0], "ys")
        yt = self._check_labels(yt, Y.shape[0], "yt")
        reg = self._reg
        M, self.norm_cost_ = _normalize_cost(xp, _pairwise_cost(xp, X, Y, self.metric),
                                             self.norm)
        M_solver = M
        if ys is not None and yt is not None:
            M, M_solver = self._label_penalty(xp, M, ys, yt, reg)
        self.mu_s_ = move_to(self.distribution_estimation(X), xp, device)
        self.mu_t_ = move_to(self.distribution_estimation(Y), xp, device)
        result = solve(M_solver, xp.astype(self.mu_s_, dtype), xp.astype(self.mu_t_, dtype),
                       reg, method=self.method, max_iter=self.max_iter, tol=self.tol,
                       verbose=self.verbose, warmup_iter=self.warmup_iter,
                       warmup_tol=self.warmup_tol, sparsity=self.sparsity, warn=False)
        check_finite_result(type(self).__name__, *(np.asarray([float(xp.sum(result[k]))])
                                                   for k in ("plan", "f", "g")))
        if M_solver is not M and not np.isfinite(self.limit_max):
            crossing = float(xp.sum(xp.where(M_solver != M, result.plan,
                                             xp.zeros_like(result.plan))))
            if crossing > max(self.tol, 1e-12) * float(xp.sum(result.plan)):
                warnings.warn(
                    f"{type(self).__name__}: the labels ys, yt leave no feasible plan with "
                    f"limit_max=inf (a class has more mass than the target samples it may "
                    f"reach); a mass of {crossing:.3g} moves between different classes. Mark "
                    "more samples unlabelled (-1) or use a finite limit_max.", UserWarning,
                    stacklevel=2)
        if not result.converged:
            warn_not_converged(type(self).__name__, n_iter=result.n_iter,
                               certificate=result.certificate, tol=self.tol,
                               certificate_name=result.certificate_name,
                               advice="Increase max_iter or reg_e, or set norm='max'.")
        self.coupling_ = result.plan
        self.cost_ = M
        self.xs_, self.xt_ = X, Y
        self.log_ = {}
        if self.log or self.out_of_sample_map == "continuous":
            self.log_ = _pot_log(result, pot_name, 0)
            self.log_.setdefault("log_u", result.f / reg)
            self.log_.setdefault("log_v", result.g / reg)
        self.potential_source_ = result.f
        self.potential_target_ = result.g
        self.cost_scale_ = self.norm_cost_ if self.norm_cost_ else 1.0
        self.marginal_error_ = float(result.marginal_error)
        self.n_iter_ = max(int(result.n_iter), 1)
        self.n_newton_ = int(result.n_newton)
        self.converged_ = bool(result.converged)
        return self

    def fit_transform(self, X=None, y=None, Xt=None, yt=None, *, Xs=None, ys=None,
                      X_target=None):
        """``fit`` (same arguments) then ``transform`` of the source samples.

        Returns
        -------
        Xs_mapped : array of shape (n_source, n_features)
        """
        owner = f"{type(self).__name__}.fit_transform()"
        Xs = _alias(owner, X, Xs, ("X", "Xs"))
        self.fit(Xs, _alias(owner, y, ys, ("y", "ys")), Xt, yt, X_target=X_target)
        return self.transform(Xs)

    def _check_input(self, X, name):
        check_is_fitted(self, "coupling_")
        caller = f"{type(self).__name__}.{name}"
        same_namespace_and_device(self.coupling_, X, caller)
        xp = _xp_of(self.xt_)
        return xp, xp.astype(check_X(self, X, reset=False), self.xt_.dtype)

    def _map(self, X, fitted_from, fitted_to, potential_to, plan, batch_size):
        """Map samples near ``fitted_from`` onto ``fitted_to`` (POT's two modes)."""
        if (isinstance(batch_size, (bool, np.bool_))
                or not isinstance(batch_size, numbers.Integral) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
        xp = _xp_of(fitted_to)
        n = X.shape[0]
        # array-API slices must stay in bounds
        batches = [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
        if self.out_of_sample_map == "continuous":
            # w_ij ~ exp((g_j - M_ij) / reg): the row-normalised plan on the fitted samples
            chunks = []
            for start, stop in batches:
                M = _pairwise_cost(xp, X[start:stop, ...], fitted_to, self.metric)
                M, _ = _normalize_cost(xp, M, self.norm, self.norm_cost_)
                logits = (potential_to[None, :] - M) / self._reg
                weights = xp.exp(logits - logsumexp(xp, logits, axis=1)[:, None])
                chunks.append(weights @ fitted_to)
            return xp.concat(chunks, axis=0)
        barycentres = _normalized_rows(xp, plan) @ fitted_to
        if X.shape == fitted_from.shape and bool(xp.all(X == fitted_from)):
            return barycentres
        chunks = []
        for start, stop in batches:
            part = X[start:stop, ...]
            # nearest fitted sample (squared Euclidean, as POT), moved by the same offset
            nearest = xp.argmin(_pairwise_cost(xp, part, fitted_from, "sqeuclidean"), axis=1)
            chunks.append(xp.take(barycentres, nearest, axis=0) + part
                          - xp.take(fitted_from, nearest, axis=0))
        return xp.concat(chunks, axis=0)

    def transform(self, X=None, ys=None, Xt=None, yt=None, batch_size=128, *, Xs=None):
        """Map source samples onto the target cloud.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source samples (POT's ``Xs``; either name). New samples are
            mapped by ``out_of_sample_map``.
        ys, Xt, yt : ignored
            Present for POT's signature.
        batch_size : int, default=128
            Samples mapped at a time (bounds the memory).
        Xs : array-like, optional
            POT's name of ``X``.

        Returns
        -------
        X_mapped : array of shape (n_samples, n_features)
            In X's namespace and on its device.
        """
        X = _alias(f"{type(self).__name__}.transform()", X, Xs, ("X", "Xs"))
        if X is None:
            raise ValueError(f"{type(self).__name__}.transform() needs the samples to map: "
                             "pass X (or Xs).")
        xp, X = self._check_input(X, "transform()")
        return self._map(X, self.xs_, self.xt_, self.potential_target_, self.coupling_,
                         batch_size)

    def inverse_transform(self, Xs=None, ys=None, Xt=None, yt=None, batch_size=128):
        """Map target samples onto the source cloud (POT's signature: pass ``Xt=``).

        Parameters
        ----------
        Xs : array-like, optional
            Ignored when ``Xt`` is given (POT's signature); otherwise the
            target samples to map (scikit-learn's ``inverse_transform(X)``).
        ys, yt : ignored
            Present for POT's signature.
        Xt : array-like of shape (n_samples, n_features)
            Target samples to map.
        batch_size : int, default=128
            Samples mapped at a time.

        Returns
        -------
        Xt_mapped : array of shape (n_samples, n_features)
        """
        if Xt is None:
            Xt = Xs  # scikit-learn's positional inverse_transform(X)
        if Xt is None:
            raise ValueError(f"{type(self).__name__}.inverse_transform() maps target samples: "
                             "pass them as Xt= (POT's signature).")
        xp, Xt = self._check_input(Xt, "inverse_transform()")
        plan_t = xp.permute_dims(self.coupling_, (1, 0))
        return self._map(Xt, self.xt_, self.xs_, self.potential_source_, plan_t, batch_size)

    def _propagate(self, labels, plan, n, name):
        """Class proportions ``masks^T normalise(plan)``: one row per receiving sample."""
        check_is_fitted(self, "coupling_")
        if labels is None:
            raise ValueError(f"{type(self).__name__}: pass the labels {name}=.")
        labels = self._check_labels(labels, n, name)
        xp = _xp_of(plan)
        masks = _one_hot(labels, xp, plan.dtype, array_api_compat.device(plan))
        # columns of the plan normalised to sum 1 (empty columns stay zero)
        weights = xp.permute_dims(_normalized_rows(xp, xp.permute_dims(plan, (1, 0))), (1, 0))
        return xp.permute_dims(xp.permute_dims(masks, (1, 0)) @ weights, (1, 0))

    def transform_labels(self, ys=None):
        """Propagate source labels to the target samples (POT's ``transform_labels``).

        Parameters
        ----------
        ys : array-like of shape (n_source,)

        Returns
        -------
        proportions : array of shape (n_target, n_classes)
            For each target sample, the share of its incoming mass per class
            (classes in sorted order).
        """
        return self._propagate(ys, self.coupling_, self.xs_.shape[0], "ys")

    def inverse_transform_labels(self, yt=None):
        """Propagate target labels to the source samples (POT's ``inverse_transform_labels``).

        Parameters
        ----------
        yt : array-like of shape (n_target,)

        Returns
        -------
        proportions : array of shape (n_source, n_classes)
        """
        check_is_fitted(self, "coupling_")
        plan_t = _xp_of(self.coupling_).permute_dims(self.coupling_, (1, 0))
        return self._propagate(yt, plan_t, self.xt_.shape[0], "yt")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags


def _xp_of(x):
    """The array namespace of x."""
    return array_api_compat.array_namespace(x)
