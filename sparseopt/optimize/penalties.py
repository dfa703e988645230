"""Penalties for sparse regression: one small class each, registered in ``PENALTIES``.

A penalty is ``p(w) = sum_j p_j(w_j)`` (or a sum over groups) added to a
datafit of :mod:`sparseopt.optimize.datafits`. The strength ``alpha`` is never
rescaled by the number of samples: the datafits carry the ``1 / n_samples``
(see :mod:`sparseopt.optimize.datafits`), so that ``alpha`` means what it means
in scikit-learn's ``Lasso`` and skglm [1]_.

The penalty protocol
--------------------
What :func:`~sparseopt.optimize.working_set_cd` and
:func:`~sparseopt.optimize.prox_gradient` call, checked on entry by
:func:`check_penalty` (a ``TypeError`` names the first missing member):

every penalty
    ``alpha`` (float >= 0), ``value(w)`` (the penalty at ``w``) and
    ``prox(z, step, positive=False)`` (``argmin_x 0.5 ||x - z||^2 + step p(x)``,
    with ``x >= 0`` when ``positive``; ``step`` a scalar or one per
    coordinate). Optional traits, read with these defaults: ``is_convex =
    False`` (FISTA accelerates convex penalties only), ``separable = True``,
    ``grouped = False``, ``has_gap = False``, ``kind = None``. That is enough:
    a penalty without a compiled prox (``kind = None``) is solved by proximal
    gradient, certified by the prox fixed-point residual.
compiled coordinate descent (``kind`` is a :class:`PenaltyKind`)
    ``kernel_arrays(n_features, dtype)`` -> ``(kind, lam, gamma, l2)``, the
    per-coordinate strengths and shape parameters read by the prox inlined in
    ``sparseopt._ext._cd_fast``; ``subdiff_distance(w, grad, lipschitz,
    positive=False)`` (the KKT violation per unit, ``dist(-grad_j, d
    p_j(w_j))``); ``support(w)`` (indices of the non-zero units);
    ``unit_weights(n_units)`` (0 marks an unpenalised unit).
block coordinate descent over groups (``grouped``)
    the above but ``kernel_arrays``, plus ``bind(n_features)`` (sets
    ``group_ptr``, ``group_features``, ``n_groups``) and ``group_norms(v)``.
duality gap (``has_gap``, least squares)
    ``dual_norm(v)``, ``dual_norm_positive(v)`` (the norm whose unit ball is
    the dual constraint, ``max_j |v_j| / weight_j`` for weighted L1) and
    ``unit_dual(v, positive=False)`` (that ratio per unit); ``l2`` (the
    ridge part, default 0).
estimators
    a settable ``alpha`` (the estimator solves with a copy at its own
    ``alpha``, :func:`estimator_penalty`), ``with_free_tail(n_features,
    n_free)`` when an unpenalised intercept coefficient is appended
    (``SparseLogisticRegression``) and, for ``alpha="auto"``,
    ``alpha_max(neg_grad0, positive=False)``.

Subclassing :class:`BasePenalty` gives the estimator members; a subclass
without a compiled prox defines ``value`` and ``prox``, one with a ``kind``
gets ``value``, ``prox``, ``kernel_arrays``, ``support``, ``unit_weights`` and
(from its ``derivative_abs``) ``subdiff_distance`` (see the "Adding a penalty"
page of the user guide).

References
----------
.. [1] Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias,
   "Beyond L1: Faster and Better Sparse Models with skglm", NeurIPS, 2022.
"""
from __future__ import annotations

import copy
import inspect

import numpy as np

from .._ext import _cd_fast
from .._ext._cd_fast import PenaltyKind

__all__ = [
    "BasePenalty", "PenaltyKind", "check_penalty", "kernel_kind", "estimator_penalty",
    "L1", "ElasticNetPenalty", "MCP", "SCAD", "LHalf", "LTwoThirds", "LogSum", "L0",
    "WeightedMCP", "GroupLasso", "SEF", "WGSEF", "PENALTIES", "make_penalty", "cel0",
    "k_support_prox", "k_support_sq_norm", "weighted_k_support_prox",
]

# the protocol, one tuple of members per solver capability (see the module docstring)
PROTOCOL = {
    "every penalty": ("alpha", "value", "prox"),
    "compiled coordinate descent": ("kernel_arrays", "subdiff_distance", "support",
                                    "unit_weights"),
    "group coordinate descent": ("bind", "group_norms", "subdiff_distance", "support",
                                 "unit_weights"),
    "a duality gap": ("dual_norm", "dual_norm_positive", "unit_dual"),
}


def kernel_kind(penalty):
    """The :class:`PenaltyKind` of the prox inlined in the CD kernels, or None.

    The one place where a penalty object meets the compiled kernels: a
    penalty's ``kind`` attribute must be a member of :class:`PenaltyKind`
    (``TypeError`` otherwise), None (the default) when it has no compiled prox.
    """
    kind = getattr(penalty, "kind", None)
    if kind is None:
        return None
    # (Cython's enum accepts any int: membership is checked against the named members)
    member = _KINDS.get(kind) if isinstance(kind, (int, np.integer)) \
        and not isinstance(kind, bool) else None
    if member is None:
        raise TypeError(f"{type(penalty).__name__}.kind is {kind!r}, not a member of "
                        f"PenaltyKind ({', '.join(k.name for k in PenaltyKind)}); use "
                        "kind = None for a penalty without a compiled prox.")
    return member


_KINDS = {int(k): k for k in PenaltyKind}


def check_penalty(penalty, needs=("every penalty",), owner="working_set_cd"):
    """Raise a ``TypeError`` naming what ``penalty`` lacks for the capabilities ``needs``.

    Parameters
    ----------
    penalty : object
        The penalty to check.
    needs : tuple of str
        Keys of :data:`PROTOCOL`: ``"every penalty"``, ``"compiled coordinate
        descent"``, ``"group coordinate descent"``, ``"a duality gap"``.
    owner : str
        Name of the caller, for the message.

    Returns
    -------
    penalty : object
        The same object.

    Examples
    --------
    >>> from sparseopt.optimize.penalties import MCP, check_penalty
    >>> check_penalty(MCP(alpha=0.1), needs=("every penalty", "compiled coordinate descent"))
    MCP(alpha=0.1)
    >>> check_penalty(object())
    Traceback (most recent call last):
    ...
    TypeError: working_set_cd: the penalty object lacks `alpha`, needed by every penalty ...
    """
    if isinstance(penalty, (str, type)):
        raise TypeError(f"{owner}: penalty must be a penalty object (an instance, e.g. "
                        f"MCP(alpha=0.1)), got {penalty!r}.")
    compiled = kernel_kind(penalty) is not None
    for need in needs:
        for member in PROTOCOL[need]:
            # BasePenalty's value / prox / kernel_arrays evaluate the compiled prox: without
            # a ``kind`` a subclass must define its own
            inherited = member in _KIND_BASED and not compiled and isinstance(
                penalty, BasePenalty) and getattr(type(penalty), member) is getattr(
                BasePenalty, member)
            if inherited or not hasattr(penalty, member):
                raise TypeError(
                    f"{owner}: the penalty {type(penalty).__name__} lacks `{member}`, needed "
                    f"by {need} (see sparseopt.optimize.penalties for the protocol)."
                    if type(penalty) is not object else
                    f"{owner}: the penalty object lacks `{member}`, needed by {need} (see "
                    "sparseopt.optimize.penalties for the protocol).")
    return penalty


_KIND_BASED = ("value", "prox", "kernel_arrays")


def estimator_penalty(penalty, alpha, *, n_features, n_free=0, weights=None,
                      owner="the estimator"):
    """The penalty an estimator solves with, from a penalty object it was given.

    A copy of ``penalty`` at strength ``alpha`` (the estimator's), with the
    estimator's feature ``weights`` when given, on ``n_features`` coefficients
    followed by ``n_free`` unpenalised ones (an intercept column):
    :meth:`BasePenalty.with_free_tail`.

    Parameters
    ----------
    penalty : penalty object
        Checked with :func:`check_penalty` (``TypeError`` names what is missing).
    alpha : float
        The strength.
    n_features : int
        Number of penalised coefficients.
    n_free : int, default=0
        Number of unpenalised coefficients appended.
    weights : array-like of shape (n_features,), optional
        Feature weights replacing the penalty's own (scalar penalties).
    owner : str
        Name of the caller, for the messages.

    Returns
    -------
    penalty : penalty object
        A new object; ``penalty`` is not modified.

    Examples
    --------
    >>> from sparseopt.optimize.penalties import MCP, estimator_penalty
    >>> pen = estimator_penalty(MCP(gamma=2.0), 0.3, n_features=4)
    >>> pen.alpha, pen.gamma
    (0.3, 2.0)
    """
    check_penalty(penalty, ("every penalty",), owner)
    pen = copy.deepcopy(penalty)
    pen.alpha = float(alpha)
    if weights is not None:
        if not hasattr(pen, "weights"):
            raise TypeError(f"{owner}: weights were given but the penalty "
                            f"{type(pen).__name__} has no `weights`.")
        pen.weights = _as_weights(weights, n_features)
    if n_free:
        if not hasattr(pen, "with_free_tail"):
            raise TypeError(f"{owner}: the penalty {type(pen).__name__} lacks "
                            "`with_free_tail(n_features, n_free)`, needed to leave the "
                            "intercept unpenalised (subclass BasePenalty, or fit_intercept=False).")
        pen = pen.with_free_tail(n_features, n_free)
    return pen


class _FreeTail:
    """``p(w_head)`` on the first ``n_features`` coefficients; the last ``n_free`` are free.

    Wraps a penalty without a compiled prox (solved by proximal gradient).
    """

    def __init__(self, penalty, n_features, n_free):
        self.penalty, self.n_features, self.n_free = penalty, n_features, n_free
        self.is_convex = getattr(penalty, "is_convex", False)
        self.name = getattr(penalty, "name", "")

    @property
    def alpha(self):
        return self.penalty.alpha

    @alpha.setter
    def alpha(self, value):
        self.penalty.alpha = value

    separable, grouped, has_gap, kind = True, False, False, None

    def value(self, w):
        return self.penalty.value(w[:self.n_features])

    def prox(self, z, step, positive=False):
        z = np.asarray(z, dtype=float)
        head = self.n_features
        step_head = step[:head] if np.ndim(step) else step
        tail = np.maximum(z[head:], 0.0) if positive else z[head:]
        return np.concatenate([self.penalty.prox(z[:head], step_head, positive), tail])

    def alpha_max(self, neg_grad0, positive=False):
        return self.penalty.alpha_max(np.asarray(neg_grad0)[:self.n_features], positive)

    def __repr__(self):
        return f"{self.penalty!r} + {self.n_free} free"


def _as_weights(weights, n, name="weights"):
    if weights is None:
        return np.ones(n)
    weights = np.asarray(weights, dtype=float).ravel()
    if weights.shape != (n,):
        raise ValueError(f"{name} has shape {weights.shape}, expected ({n},).")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError(f"{name} must be finite and non-negative.")
    return weights


class BasePenalty:
    """Base class of the penalties: ``alpha`` and optional per-feature ``weights``.

    A subclass defines ``value(w)`` and ``prox(z, step, positive=False)``
    (or, for a penalty with a compiled prox, ``kind`` and the scalar
    derivative ``derivative_abs``); everything else of the protocol (see
    :mod:`sparseopt.optimize.penalties`) has a default here.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength. Inside an estimator the estimator's ``alpha`` replaces it.
    weights : array-like of shape (n_features,), optional
        Per-feature multipliers of ``alpha`` (0 = unpenalised).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize.penalties import BasePenalty
    >>> class Ridge(BasePenalty):
    ...     is_convex = True
    ...     def value(self, w):
    ...         return 0.5 * self.alpha * float(w @ w)
    ...     def prox(self, z, step, positive=False):
    ...         x = np.asarray(z, float) / (1 + step * self.alpha)
    ...         return np.maximum(x, 0) if positive else x
    >>> Ridge(alpha=2.0).prox(np.array([3.0]), 1.0)
    array([1.])
    """

    name = ""
    kind = None          # a PenaltyKind when the prox is compiled into the CD kernels
    is_convex = False
    has_gap = False      # duality gap available (with the quadratic datafit)
    grouped = False
    separable = True
    params = ()          # estimator parameters this penalty reads

    def __init__(self, alpha=1.0, weights=None):
        self.alpha = float(alpha)
        self.weights = weights

    def with_alpha(self, alpha):
        """A copy with another ``alpha`` (for paths)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.alpha = float(alpha)
        return new

    def with_free_tail(self, n_features, n_free):
        """A copy on ``n_features + n_free`` coefficients, the last ``n_free`` unpenalised.

        Compiled penalties get weight 0 there; a penalty without a compiled prox is
        applied to the first ``n_features`` coefficients only.
        """
        if kernel_kind(self) is None:
            return _FreeTail(self, n_features, n_free)
        new = self.with_alpha(self.alpha)
        new.weights = np.concatenate([self._w(n_features), np.zeros(n_free)])
        return new

    # data scaling (least squares): with X = s_X X', y = s_y y' and w = (s_y / s_X) v, the
    # objective is s_y^2 times the one of v with p'(v) = p((s_y / s_X) v) / s_y^2, which for
    # these penalties is the same penalty with alpha / (s_X^a s_y^b) (``scale_exponents``
    # (a, b)) and its shape parameter times s_X^c s_y^d (``shape_scaling`` (name, c, d));
    # None: not of that form (SCAD's is only when s_X = 1: ``x_scale_free = False``)
    scale_exponents = None
    shape_scaling = None
    shape_inf_ok = False
    x_scale_free = True

    def rescaled(self, x_scale, y_scale):
        """The penalty ``p'`` of the rescaled problem (see above), or None."""
        if self.scale_exponents is None or (not self.x_scale_free and x_scale != 1):
            return None
        a, b = self.scale_exponents
        sx, sy = np.float64(x_scale), np.float64(y_scale)
        with np.errstate(over="ignore", under="ignore"):
            new = self.with_alpha(self.alpha / sx ** a / sy ** b)
            if self.shape_scaling is not None:
                name, c, d = self.shape_scaling
                value = np.asarray(getattr(self, name), dtype=float) * sx ** c / sy ** d
                # MCP's gamma may overflow to inf: the L1 limit, exact to double precision
                ok = (value > 0) & (np.isfinite(value) | (self.shape_inf_ok & (value > 1)))
                if not np.all(ok):
                    return None
                setattr(new, name, value if value.ndim else float(value))
        return new if np.isfinite(new.alpha) and (new.alpha > 0) == (self.alpha > 0) else None

    def _w(self, n):
        return _as_weights(self.weights, n)

    def unit_weights(self, n_units):
        """The multiplier of ``alpha`` of each unit (feature; 0 = unpenalised)."""
        return self._w(n_units)

    # scalar penalties: lam_j = alpha * weight_j, gamma_j = shape parameter
    def _gamma(self, n):
        return np.ones(n)

    def kernel_arrays(self, n_features, dtype):
        lam = (self.alpha * self._w(n_features)).astype(dtype)
        gamma = np.array(np.broadcast_to(self._gamma(n_features), (n_features,)), dtype=dtype)
        return self.kind, lam, gamma, dtype.type(getattr(self, "l2", 0.0))

    def value(self, w):
        n = w.shape[0]
        _, lam, gamma, _ = self.kernel_arrays(n, np.dtype(np.float64))
        return _cd_fast.penalty_value(self.kind, np.ascontiguousarray(w, dtype=np.float64),
                                      lam, gamma)

    def prox(self, z, step, positive=False):
        z = np.ascontiguousarray(z, dtype=np.float64)
        n = z.shape[0]
        _, lam, gamma, l2 = self.kernel_arrays(n, np.dtype(np.float64))
        step = np.array(np.broadcast_to(step, (n,)), dtype=np.float64)
        return _cd_fast.prox_scalar(self.kind, z, step, lam, gamma, float(l2), positive)

    def derivative_abs(self, a, lam, gamma):
        """p'(t) for t = a > 0 (nonconvex KKT)."""
        raise NotImplementedError

    def subdiff_distance(self, w, grad, lipschitz, positive=False):
        """dist(-grad_j, d p_j(w_j)) per feature."""
        n = w.shape[0]
        _, lam, gamma, _ = self.kernel_arrays(n, np.dtype(np.float64))
        a = np.abs(w)
        nz = a != 0
        out = np.empty(n)
        deriv = self.derivative_abs(np.where(nz, a, 0.0), lam, gamma)
        out[nz] = np.abs(grad[nz] + np.sign(w[nz]) * deriv[nz])
        slope0 = self.derivative_abs(np.zeros(n), lam, gamma)  # p'(0+)
        if positive:
            out[~nz] = np.maximum(-grad[~nz] - slope0[~nz], 0.0)
        else:
            out[~nz] = np.maximum(np.abs(grad[~nz]) - slope0[~nz], 0.0)
        return out

    def alpha_max(self, neg_grad0, positive=False):
        """Smallest alpha with w = 0 a KKT point; ``neg_grad0`` must be taken after fitting
        the unpenalised features (weight 0), see ``working_set_cd.alpha_max``.
        With ``positive`` only positive correlations count (the constraint w >= 0)."""
        w = self._w(neg_grad0.shape[0])
        pen = w > 0
        if not np.any(pen):
            return 0.0
        corr = np.maximum(neg_grad0[pen], 0.0) if positive else np.abs(neg_grad0[pen])
        return float(np.max(corr / w[pen]))

    def support(self, w):
        return np.flatnonzero(w)

    def __repr__(self):
        # alpha, then the constructor's scalar parameters that differ from their defaults
        # (so that two objects of a grid search read differently)
        parts = [f"alpha={self.alpha:g}"]
        try:
            signature = inspect.signature(type(self).__init__).parameters.values()
        except (TypeError, ValueError):
            signature = ()
        for param in signature:
            if param.name in ("self", "alpha") or not hasattr(self, param.name):
                continue
            value = getattr(self, param.name)
            if isinstance(value, (bool, int, float, str)) and value != param.default:
                parts.append(f"{param.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class _FixedPointKKT:
    """For l_q and L0 the subdifferential at 0 is unbounded: use the prox fixed-point residual."""

    def subdiff_distance(self, w, grad, lipschitz, positive=False):
        lipschitz = np.where(lipschitz > 0, lipschitz, 1.0)
        step = 1.0 / lipschitz
        return lipschitz * np.abs(w - self.prox(w - grad * step, step, positive))


class L1(BasePenalty):
    """Weighted L1 norm ``alpha * sum_j weights_j |w_j|`` (the lasso).

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    weights : array-like of shape (n_features,), optional
        Per-feature multipliers of ``alpha`` (0 = unpenalised; default ones).

    References
    ----------
    .. [1] R. Tibshirani, "Regression Shrinkage and Selection via the Lasso", Journal
       of the Royal Statistical Society B, 1996.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize.penalties import L1
    >>> L1(alpha=0.5).prox(np.array([2.0, -0.3]), 1.0)  # soft thresholding
    array([1.5, 0. ])
    """

    name = "l1"
    kind = PenaltyKind.L1
    is_convex = True
    has_gap = True
    l2 = 0.0
    scale_exponents = (1, 1)

    def value(self, w):
        return self.alpha * float(self._w(w.shape[0]) @ np.abs(w)) + 0.5 * self.l2 * float(w @ w)

    def derivative_abs(self, a, lam, gamma):
        return lam + self.l2 * gamma * a  # gamma: the ridge weights (elastic net)

    def dual_norm(self, v):
        w = self._w(v.shape[0])
        pen = w > 0
        return float(np.max(np.abs(v[pen]) / w[pen])) if np.any(pen) else 0.0

    def dual_norm_positive(self, v):
        w = self._w(v.shape[0])
        pen = w > 0
        return float(max(np.max(v[pen] / w[pen]), 0.0)) if np.any(pen) else 0.0

    def unit_dual(self, v, positive=False):
        """``|v_j| / weight_j`` per feature (inf for unpenalised features).

        With ``positive`` the dual constraint is one-sided (``v_j <= weight_j``):
        ``max(v_j, 0) / weight_j``, so that features pushed below zero are not
        ranked as near-active.
        """
        w = self._w(v.shape[0])
        a = np.maximum(v, 0.0) if positive else np.abs(v)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(w > 0, a / np.where(w > 0, w, 1.0), np.inf)


class ElasticNetPenalty(L1):
    """Elastic net ``alpha (l1_ratio sum_j weights_j |w_j| + (1 - l1_ratio) / 2 sum_j r_j w_j^2)``.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    l1_ratio : float, default=0.5
        The L1 share of ``alpha`` (scikit-learn's ``l1_ratio``).
    weights : array-like of shape (n_features,), optional
        Per-feature multipliers of ``alpha`` (0 = unpenalised; default ones).
    ridge_weights : array-like of shape (n_features,), optional
        ``r``, default ones; a 0 leaves a coordinate out of the ridge part (the
        logistic estimator's intercept column: unpenalised, as in scikit-learn and
        skglm).

    References
    ----------
    .. [1] H. Zou and T. Hastie, "Regularization and variable selection via the
       elastic net", Journal of the Royal Statistical Society B, 2005.
    """

    name = "elasticnet"
    params = ("l1_ratio",)

    def __init__(self, alpha=1.0, l1_ratio=0.5, weights=None, ridge_weights=None):
        super().__init__(alpha, weights)
        self.l1_ratio = float(l1_ratio)
        self.ridge_weights = ridge_weights

    @property
    def l2(self):
        return self.alpha * (1.0 - self.l1_ratio)

    def _ridge(self, n):
        return np.ones(n) if self.ridge_weights is None else _as_weights(
            self.ridge_weights, n, "ridge_weights")

    def with_free_tail(self, n_features, n_free):
        """As :meth:`BasePenalty.with_free_tail`, without a ridge part on the tail."""
        new = super().with_free_tail(n_features, n_free)
        new.ridge_weights = np.concatenate([self._ridge(n_features), np.zeros(n_free)])
        return new

    def kernel_arrays(self, n_features, dtype):
        lam = (self.alpha * self.l1_ratio * self._w(n_features)).astype(dtype)
        return self.kind, lam, self._ridge(n_features).astype(dtype), dtype.type(self.l2)

    def value(self, w):
        return (self.alpha * self.l1_ratio * float(self._w(w.shape[0]) @ np.abs(w))
                + 0.5 * self.l2 * float(self._ridge(w.shape[0]) @ (w * w)))

    def alpha_max(self, neg_grad0, positive=False):
        return super().alpha_max(neg_grad0, positive) / self.l1_ratio if self.l1_ratio > 0 \
            else np.inf

    def rescaled(self, x_scale, y_scale):
        """l1 / (s_X s_y) and l2 / s_X^2 (see ``BasePenalty.rescaled``)."""
        l1 = self.alpha * self.l1_ratio / x_scale / y_scale
        l2 = self.alpha * (1.0 - self.l1_ratio) / x_scale / x_scale
        if not (np.isfinite(l1) and np.isfinite(l2)) or l1 + l2 <= 0:
            return None
        new = self.with_alpha(l1 + l2)
        new.l1_ratio = l1 / (l1 + l2)
        return new


class MCP(BasePenalty):
    """Minimax concave penalty: ``alpha |t| - t^2 / (2 gamma)`` for ``|t| <= gamma alpha``,
    else ``gamma alpha^2 / 2``.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    gamma : float or array-like, default=3.0
        Concavity, ``> 0`` (``inf``: the L1 limit).
    weights : array-like of shape (n_features,), optional
        Per-feature multipliers of ``alpha`` (0 = unpenalised; default ones).

    References
    ----------
    .. [1] C.-H. Zhang, "Nearly unbiased variable selection under minimax concave
       penalty", The Annals of Statistics, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize.penalties import MCP
    >>> MCP(alpha=1.0, gamma=3.0).prox(np.array([0.5, 2.0, 4.0]), 1.0)  # firm threshold
    array([0. , 1.5, 4. ])
    """

    name = "mcp"
    kind = PenaltyKind.MCP
    params = ("gamma",)
    scale_exponents = (1, 1)
    shape_scaling = ("gamma", 2, 0)
    shape_inf_ok = True

    def __init__(self, alpha=1.0, gamma=3.0, weights=None):
        super().__init__(alpha, weights)
        self.gamma = gamma

    def _gamma(self, n):
        return np.broadcast_to(np.asarray(self.gamma, dtype=float), (n,))

    def derivative_abs(self, a, lam, gamma):
        return np.maximum(lam - a / gamma, 0.0)


class WeightedMCP(MCP):
    """MCP with per-feature ``lam_j`` (``alpha * weights_j``) and ``gamma_j`` arrays (see
    :func:`cel0`); parameters as :class:`MCP`."""

    name = "weighted_mcp"


def cel0(lam, col_sq_norms_over_n):
    """CEL0 of ``lam ||w||_0`` as a :class:`WeightedMCP` (Soubies et al. 2015).

    With ``a_j^2 = ||x_j||^2 / n`` (the 1/(2n) scaling): ``lam_j = a_j sqrt(2 lam)``,
    ``gamma_j = 1 / a_j^2``: the same 1-d minimisers as ``lam 1{w_j != 0}``
    plus the quadratic datafit along each coordinate, and no other local ones.
    """
    a = np.sqrt(np.asarray(col_sq_norms_over_n, dtype=float))
    safe = np.where(a > 0, a, 1.0)
    pen = WeightedMCP(1.0, gamma=np.where(a > 0, 1.0 / safe ** 2, 1.0),
                      weights=np.where(a > 0, a * np.sqrt(2.0 * lam), 0.0))
    pen.cel0_lambda = float(lam)
    return pen


class SCAD(BasePenalty):
    """Smoothly clipped absolute deviation (SCAD), with ``gamma`` the ``a > 1`` of the paper.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    gamma : float, default=3.7
        ``a > 1``: L1 up to ``alpha``, quadratic blend up to ``gamma alpha``, flat beyond.
    weights : array-like of shape (n_features,), optional
        Per-feature multipliers of ``alpha`` (0 = unpenalised; default ones).

    References
    ----------
    .. [1] J. Fan and R. Li, "Variable selection via nonconcave penalized likelihood and
       its oracle properties", Journal of the American Statistical Association, 2001.
    """

    name = "scad"
    kind = PenaltyKind.SCAD
    params = ("gamma",)
    scale_exponents = (1, 1)
    x_scale_free = False  # lam^2 g(|t| / lam): only y can be rescaled

    def __init__(self, alpha=1.0, gamma=3.7, weights=None):
        super().__init__(alpha, weights)
        self.gamma = gamma

    def _gamma(self, n):
        return np.full(n, float(self.gamma))

    def derivative_abs(self, a, lam, gamma):
        return np.where(a <= lam, lam, np.maximum(gamma * lam - a, 0.0) / (gamma - 1.0))


class LogSum(BasePenalty):
    """Log-sum penalty ``alpha * sum_j log(1 + |w_j| / eps)``.

    ``alpha_max`` is ``eps`` times the L1 value (the slope at 0 is ``alpha / eps``).

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    eps : float, default=1.0
        Offset, ``> 0``.
    weights : array-like of shape (n_features,), optional
        Per-feature multipliers of ``alpha`` (0 = unpenalised; default ones).

    References
    ----------
    .. [1] E. J. Candes, M. B. Wakin and S. P. Boyd, "Enhancing Sparsity by Reweighted
       l1 Minimization", Journal of Fourier Analysis and Applications, 2008.
    """

    name = "log_sum"
    kind = PenaltyKind.LOG_SUM
    params = ("eps",)
    scale_exponents = (0, 2)
    shape_scaling = ("eps", 1, 1)

    def __init__(self, alpha=1.0, eps=1.0, weights=None):
        super().__init__(alpha, weights)
        self.eps = float(eps)

    def _gamma(self, n):
        return np.full(n, self.eps)

    def derivative_abs(self, a, lam, gamma):
        return lam / (gamma + a)

    def alpha_max(self, neg_grad0, positive=False):
        return self.eps * super().alpha_max(neg_grad0, positive)


class LHalf(_FixedPointKKT, BasePenalty):
    """The l_1/2 quasi-norm ``alpha * sum_j |w_j|^(1/2)`` (half thresholding).

    0 is always a local minimiser; certified by the prox fixed-point residual.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    weights : array-like of shape (n_features,), optional
        Per-feature multipliers of ``alpha`` (0 = unpenalised; default ones).

    References
    ----------
    .. [1] Z. Xu, X. Chang, F. Xu and H. Zhang, "L1/2 Regularization: A Thresholding
       Representation Theory and a Fast Solver", IEEE Transactions on Neural Networks
       and Learning Systems, 2012.
    """

    name = "l_half"
    kind = PenaltyKind.L_HALF
    scale_exponents = (0.5, 1.5)


class LTwoThirds(_FixedPointKKT, BasePenalty):
    """The l_2/3 quasi-norm ``alpha * sum_j |w_j|^(2/3)``.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    weights : array-like of shape (n_features,), optional
        Per-feature multipliers of ``alpha`` (0 = unpenalised; default ones).

    References
    ----------
    .. [1] W. Cao, J. Sun and Z. Xu, "Fast image deconvolution using closed-form
       thresholding formulas of L_q (q = 1/2, 2/3) regularization", Journal of Visual
       Communication and Image Representation, 2013.
    """

    name = "l_two_thirds"
    kind = PenaltyKind.L_TWO_THIRDS
    scale_exponents = (2 / 3, 4 / 3)


class L0(_FixedPointKKT, BasePenalty):
    """``alpha * ||w||_0``, the number of non-zero coefficients (hard thresholding in CD).

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    weights : array-like of shape (n_features,), optional
        Per-feature multipliers of ``alpha`` (0 = unpenalised; default ones).

    References
    ----------
    .. [1] T. Blumensath and M. E. Davies, "Iterative hard thresholding for compressed
       sensing", Applied and Computational Harmonic Analysis, 2009.
    """

    name = "l0"
    kind = PenaltyKind.L0
    scale_exponents = (0, 2)


# ------------------------------------------------------------------ groups
def _check_groups(groups, n_features):
    """``groups``: int (contiguous groups of that size) or list of index lists."""
    if groups is None:
        raise ValueError("The group penalties need `groups` (an int size or a list of "
                         "feature-index lists).")
    if isinstance(groups, (int, np.integer)):
        if groups < 1:
            raise ValueError(f"groups must be a positive int, got {groups}.")
        groups = [list(range(s, min(s + groups, n_features)))
                  for s in range(0, n_features, int(groups))]
    groups = [np.asarray(g, dtype=np.int32).ravel() for g in groups]
    if any(g.size == 0 for g in groups):
        raise ValueError("groups must not contain an empty group (every group needs at least "
                         "one feature).")
    flat = np.concatenate(groups) if groups else np.zeros(0, np.int32)
    if flat.size != n_features or np.any(np.sort(flat) != np.arange(n_features)):
        raise ValueError("groups must partition range(n_features): every feature in exactly "
                         "one group.")
    ptr = np.zeros(len(groups) + 1, dtype=np.int32)
    ptr[1:] = np.cumsum([g.size for g in groups])
    return ptr, flat.astype(np.int32)


class GroupLasso(BasePenalty):
    """Group lasso ``alpha * sum_g weights_g ||w_g||_2``.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    groups : int or list of lists
        Contiguous groups of that size, or a partition of the features.
    group_weights : array-like of shape (n_groups,), optional
        Default ``sqrt(group size)``; 0 = unpenalised group.
    n_features : int, optional
        Bind the groups now (else at the first solve).

    References
    ----------
    .. [1] M. Yuan and Y. Lin, "Model selection and estimation in regression with
       grouped variables", Journal of the Royal Statistical Society B, 2006.
    """

    name = "group_lasso"
    is_convex = True
    has_gap = True
    grouped = True
    l2 = 0.0
    scale_exponents = (1, 1)
    params = ("groups", "group_weights")

    def __init__(self, alpha=1.0, groups=None, group_weights=None, n_features=None):
        self.alpha = float(alpha)
        self.groups = groups
        self.group_weights = group_weights
        if n_features is not None:
            self.bind(n_features)

    def with_free_tail(self, n_features, n_free):
        """A copy on ``n_features + n_free`` coefficients: each free one its own group of
        weight 0."""
        ptr, feats = _check_groups(self.groups, n_features)
        groups = [feats[ptr[g]:ptr[g + 1]].tolist() for g in range(ptr.size - 1)]
        weights = np.sqrt(np.diff(ptr)) if self.group_weights is None else _as_weights(
            self.group_weights, len(groups), "group_weights")
        new = self.with_alpha(self.alpha)
        new.groups = groups + [[n_features + i] for i in range(n_free)]
        new.group_weights = np.concatenate([weights, np.zeros(n_free)])
        return new.bind(n_features + n_free)

    def bind(self, n_features):
        self.group_ptr, self.group_features = _check_groups(self.groups, n_features)
        sizes = np.diff(self.group_ptr)
        self.n_groups = sizes.size
        self.gw = (np.sqrt(sizes) if self.group_weights is None
                   else _as_weights(self.group_weights, self.n_groups, "group_weights"))
        self.feature_group = np.empty(n_features, dtype=np.int64)
        for g in range(self.n_groups):
            self.feature_group[self.group_features[self.group_ptr[g]:self.group_ptr[g + 1]]] = g
        return self

    def group_norms(self, v):
        return np.sqrt(np.bincount(self.feature_group, weights=v * v, minlength=self.n_groups))

    def value(self, w):
        return self.alpha * float(self.gw @ self.group_norms(w))

    def prox(self, z, step, positive=False):
        """Block soft thresholding ``(1 - step alpha w_g / ||z_g||)_+ z_g``.

        With ``positive`` (``w >= 0``): the same on ``max(z, 0)`` (the prox of a norm
        invariant to sign flips plus the orthant's indicator).
        """
        if positive:
            z = np.maximum(z, 0.0)
        norms = self.group_norms(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(norms > 0, np.maximum(1 - step * self.alpha * self.gw / norms, 0), 0)
        return z * scale[self.feature_group]

    def subdiff_distance(self, w, grad, lipschitz=None, positive=False):
        """Per group: ||grad_g + alpha w_g w_g/||w_g||| if w_g != 0 else (||grad_g|| - alpha w_g)_+.

        With ``positive`` the normal cone of ``w >= 0`` absorbs ``-grad_j <= 0`` at
        ``w_j = 0``: those components count by ``max(-grad_j, 0)`` only.
        """
        wn = self.group_norms(w)
        lam = self.alpha * self.gw
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = np.where(wn[self.feature_group] > 0, w / wn[self.feature_group], 0)
        resid = grad + (lam[self.feature_group]) * unit
        if positive:
            resid = np.where(w > 0, resid, np.minimum(grad, 0.0))
            grad = np.minimum(grad, 0.0)
        active = self.group_norms(resid)
        inactive = np.maximum(self.group_norms(grad) - lam, 0)
        return np.where(wn > 0, active, inactive)

    def dual_norm(self, v):
        pen = self.gw > 0
        return float(np.max(self.group_norms(v)[pen] / self.gw[pen])) if np.any(pen) else 0.0

    def dual_norm_positive(self, v):
        """Dual norm of the group norm restricted to ``w >= 0``: ``max_g ||(v_g)_+|| / w_g``."""
        return self.dual_norm(np.maximum(v, 0.0))

    def unit_dual(self, v, positive=False):
        if positive:
            v = np.maximum(v, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.gw > 0, self.group_norms(v) / np.where(self.gw > 0, self.gw, 1),
                            np.inf)

    def alpha_max(self, neg_grad0, positive=False):
        return self.dual_norm_positive(neg_grad0) if positive else self.dual_norm(neg_grad0)

    def support(self, w):
        return np.flatnonzero(self.group_norms(w))

    def unit_weights(self, n_units=None):
        """The weight of each group (0 = unpenalised); needs :meth:`bind`."""
        return self.gw


# ------------------------------------------------------------------ SEF / k-support
def k_support_sq_norm(x, k):
    """``||x||_(k)^2``, the squared k-support norm (Argyriou, Foygel & Srebro 2012).

    ``||x||_(k)^2 = sum_{i<k-r} z_i^2 + (sum_{i>=k-r} z_i)^2 / (r + 1)``, ``z = |x|``
    sorted decreasingly, ``r`` the unique index with
    ``z_{k-r-1} > (sum_{i>=k-r} z_i)/(r+1) >= z_{k-r}`` (``z_{-1} = +inf``).
    """
    z = np.sort(np.abs(np.asarray(x, dtype=float)))[::-1]
    d = z.size
    k = int(min(max(k, 1), d))
    tail = np.concatenate([np.cumsum(z[::-1])[::-1], [0.0]])  # tail[i] = sum_{m>=i} z_m
    for r in range(k):
        i0 = k - r - 1  # 0-based index of the first tail element
        avg = tail[i0] / (r + 1)
        upper = np.inf if i0 == 0 else z[i0 - 1]
        if upper > avg >= z[i0]:
            return float(np.sum(z[:i0] ** 2) + tail[i0] ** 2 / (r + 1))
    return float(tail[0] ** 2)  # r = k - 1 always satisfies the upper test when reached


def k_support_prox(w, k, beta):
    """Prox of ``(1 / (2 beta)) ||.||_(k)^2`` at ``w`` (Argyriou, Foygel & Srebro 2012).

    Search over ``r in {0..k-1}`` and ``l in {k..d}`` (1-based in the paper) for
    ``c = T / (l - k + (beta + 1)(r + 1))`` with ``T = sum_{i=k-r}^{l} z_i``
    satisfying the two interlacing conditions; then ``q_i = beta z_i/(beta+1)``
    on the head, ``z_i - c`` on the middle, 0 beyond. Vectorised over ``l``.
    """
    w = np.asarray(w, dtype=float)
    d = w.size
    k = int(min(max(k, 1), d))
    order = np.argsort(-np.abs(w), kind="stable")
    z = np.abs(w)[order]
    zp = np.concatenate([[np.inf], z, [0.0]])  # zp[i] = z_i in 1-based indexing, z_0 = inf
    csum = np.concatenate([[0.0], np.cumsum(z)])  # csum[i] = z_1 + ... + z_i
    ls = np.arange(k, d + 1)
    slack = 1e-12 * (z[0] if d else 0.0)
    q = None
    for r in range(k):
        head = k - r  # first middle index (1-based)
        T = csum[ls] - csum[head - 1]
        c = T / (ls - k + (beta + 1.0) * (r + 1))
        # the interlacing conditions, with a rounding slack (ties and the k = d case)
        ok = ((zp[head - 1] / (beta + 1.0) > c - slack) & (c >= zp[head] / (beta + 1.0) - slack)
              & (zp[ls] > c - slack) & (c >= zp[ls + 1] - slack))
        if np.any(ok):
            idx = np.flatnonzero(ok)[0]
            l, cc = ls[idx], c[idx]
            q = np.zeros(d)
            q[:head - 1] = beta * z[:head - 1] / (beta + 1.0)
            q[head - 1:l] = z[head - 1:l] - cc
            break
    if q is None:  # degenerate input (e.g. w = 0 or ties at the boundary)
        if not np.any(z):
            return np.zeros(d)
        raise FloatingPointError("k-support prox: no (r, l) satisfied the conditions.")
    out = np.empty(d)
    out[order] = np.maximum(q, 0.0)
    return np.sign(w) * out


def weighted_k_support_prox(a, c, k, mu):
    """``argmin_{u >= 0} sum_g (c_g / 2)(u_g - a_g)^2 + (mu / 2) ||u||_(k)^2``, ``a >= 0``, ``c > 0``.

    With the variational form ``||u||_(k)^2 = min {sum_g u_g^2 / theta_g : 0 < theta_g <= 1,
    sum_g theta_g <= k}`` (the box norm of McDonald, Pontil & Stamos 2016 at its k-support
    end) the problem is jointly convex in ``(u, theta)``. For fixed ``theta``:
    ``u_g = c_g theta_g a_g / (c_g theta_g + mu)``, leaving
    ``min_theta sum_g mu c_g a_g^2 / (2 (c_g theta_g + mu))``, whose Lagrangian solution is
    ``theta_g = clip(a_g s - mu / c_g, 0, 1)`` with ``s >= 0`` such that ``sum theta = k``
    (all ones when at most k entries of ``a`` are non-zero). ``sum theta(s)`` is piecewise
    linear in ``s``: ``s`` is found exactly between its sorted breakpoints. With every
    ``c_g = 1`` this is :func:`k_support_prox` with ``beta = 1 / mu``.
    """
    a = np.asarray(a, dtype=float)
    c = np.broadcast_to(np.asarray(c, dtype=float), a.shape)
    u = np.zeros_like(a)
    if mu <= 0:
        return a.copy()
    nz = a > 0
    if not np.any(nz):
        return u
    an, cn = a[nz], c[nz]
    off = mu / cn
    if an.size <= k:
        theta = np.ones_like(an)
    else:
        def total(sv):
            return np.clip(an[None, :] * sv[:, None] - off[None, :], 0.0, 1.0).sum(axis=1)

        bps = np.unique(np.concatenate([off / an, (1.0 + off) / an]))
        vals = total(bps)
        i = int(np.searchsorted(vals, k))  # first breakpoint with total >= k
        if i == 0:
            s_val = bps[0]
        else:
            s0, s1, v0, v1 = bps[i - 1], bps[i], vals[i - 1], vals[i]
            s_val = s1 if v1 == v0 else s0 + (k - v0) * (s1 - s0) / (v1 - v0)
        theta = np.clip(an * s_val - off, 0.0, 1.0)
    u[nz] = cn * theta * an / (cn * theta + mu)
    return u


class SEF(BasePenalty):
    """Sparse envelope function ``alpha * 0.5 ||w||_(k)^2`` (Beck & Refael 2022).

    ``nonconvex=True`` uses ``alpha * (SEF(w) - 0.5 ||w||^2)``, which is >= 0 and
    vanishes iff ``||w||_0 <= k``; its prox needs ``step * alpha < 1`` (the
    convex SEF's prox of ``z / (1 - step alpha)`` with ``beta = (1 - step alpha) /
    (step alpha)``).
    Not separable: solved by proximal gradient, not CD.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    k : int, default=1
        Target sparsity.
    nonconvex : bool, default=False
        Use the nonconvex variant (zero on k-sparse vectors).

    References
    ----------
    .. [1] A. Beck and Y. Refael, "Sparse regularization via bidualization", Journal of
       Global Optimization, 2022.
    .. [2] A. Argyriou, R. Foygel and N. Srebro, "Sparse Prediction with the k-Support
       Norm", NeurIPS, 2012.
    """

    name = "sef"
    separable = False
    params = ("k", "nonconvex")
    scale_exponents = (2, 0)  # homogeneous of degree 2 in w

    def __init__(self, alpha=1.0, k=1, nonconvex=False):
        self.alpha = float(alpha)
        self.k = int(k)
        self.nonconvex = bool(nonconvex)
        self.is_convex = not self.nonconvex

    n_free = 0  # trailing unpenalised coefficients (a logistic intercept)

    def with_free_tail(self, n_features, n_free):
        """A copy whose last ``n_free`` coefficients are unpenalised."""
        new = self.with_alpha(self.alpha)
        new.n_free = n_free
        return new

    def _transform(self, w):
        return w

    def _head(self, w):
        return w[:w.shape[0] - self.n_free] if self.n_free else w

    def value(self, w):
        u = self._transform(self._head(w))
        val = 0.5 * k_support_sq_norm(u, self.k)
        if self.nonconvex:
            val -= 0.5 * float(u @ u)
        return self.alpha * val

    def _prox_vector(self, v, step):
        mu = step * self.alpha
        if mu == 0:
            return v.copy()
        if not self.nonconvex:
            return k_support_prox(v, self.k, 1.0 / mu)
        if mu >= 1:
            raise ValueError(f"The nonconvex SEF prox needs step * alpha < 1, got {mu:.3g}; "
                             "decrease alpha.")
        return k_support_prox(v / (1 - mu), self.k, (1 - mu) / mu)

    def prox(self, z, step, positive=False):
        # with w >= 0: the prox of max(z, 0) (the penalty is non-decreasing in each |w_j|
        # and sign-symmetric, so coordinates with z_j <= 0 are 0 at the optimum)
        z = np.maximum(np.asarray(z, dtype=float), 0) if positive else np.asarray(z, dtype=float)
        out = z.copy()
        head = z.shape[0] - self.n_free
        out[:head] = self._prox_head(z[:head], step)
        return out

    def _prox_head(self, z, step):
        return self._prox_vector(z, step)

    def alpha_max(self, neg_grad0):
        return np.inf  # the squared k-support norm is smooth at 0 along... never exactly 0

    def support(self, w):
        return np.flatnonzero(w)


class WGSEF(SEF):
    """Weighted group SEF: ``alpha * SEF(u)`` with ``u_g = ||w_g|| / sqrt(c_g)``, ``c`` = group weights.

    ``SEF(u) = 0.5 ||u||_(k)^2`` (minus ``0.5 ||u||^2`` when ``nonconvex``); group
    weights must be positive (default ``sqrt(|g|)``). The prox is exact for any
    weights: each group keeps its direction, and its norm ``sqrt(c_g) u_g`` solves the
    weighted problem of :func:`weighted_k_support_prox` (``u`` targets
    ``a_g = ||z_g|| / sqrt(c_g)`` with weights ``c_g``; the nonconvex variant moves
    ``-mu/2 ||u||^2`` into the weights, ``c_g - mu``, and targets ``c_g a_g / (c_g - mu)``,
    which needs ``step * alpha < min_g c_g``). Reading of Refael, Arbel & Huleihel
    (2022) not verified against the paper.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength (inside an estimator, the estimator's ``alpha`` replaces it).
    k : int, default=1
        Target number of non-zero groups.
    nonconvex : bool, default=False
        Use the nonconvex variant.
    groups : int or list of lists
        As :class:`GroupLasso`.
    group_weights : array-like of shape (n_groups,), optional
        Positive weights ``c`` (default ``sqrt(group size)``).
    n_features : int, optional
        Bind the groups now.

    References
    ----------
    .. [1] Y. Refael, I. Arbel and W. Huleihel, "Weighted group sparse envelope
       function", 2022.
    .. [2] A. M. McDonald, M. Pontil and D. Stamos, "New Perspectives on k-Support and
       Cluster Norms", Journal of Machine Learning Research, 2016.
    """

    name = "wgsef"
    grouped = True
    params = ("k", "nonconvex", "groups", "group_weights")

    def __init__(self, alpha=1.0, k=1, nonconvex=False, groups=None, group_weights=None,
                 n_features=None):
        super().__init__(alpha, k, nonconvex)
        self.groups = groups
        self.group_weights = group_weights
        if n_features is not None:
            self.bind(n_features)

    def with_free_tail(self, n_features, n_free):
        """A copy whose last ``n_free`` coefficients are unpenalised (groups on the rest)."""
        return super().with_free_tail(n_features, n_free).bind(n_features)

    group_norms = GroupLasso.group_norms

    def bind(self, n_features):
        GroupLasso.bind(self, n_features)
        if np.any(self.gw <= 0):
            raise ValueError("WGSEF needs positive group_weights (u_g = ||w_g|| / "
                             "sqrt(weight_g)); got a zero weight.")
        return self

    def _transform(self, w):
        return self.group_norms(w) / np.sqrt(self.gw)

    def _prox_head(self, z, step):
        mu = step * self.alpha
        c = self.gw
        a = self.group_norms(z) / np.sqrt(c)
        if mu == 0:
            return z.copy()
        if self.nonconvex:
            if mu >= np.min(c):
                raise ValueError(f"The nonconvex WGSEF prox needs step * alpha < min(group "
                                 f"weights) = {np.min(c):.3g}, got {mu:.3g}; decrease alpha.")
            u_new = weighted_k_support_prox(c * a / (c - mu), c - mu, self.k, mu)
        else:
            u_new = weighted_k_support_prox(a, c, self.k, mu)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(a > 0, u_new / a, 0.0)
        return z * ratio[self.feature_group]


PENALTIES = {
    "l1": L1,
    "elasticnet": ElasticNetPenalty,
    "mcp": MCP,
    "scad": SCAD,
    "l_half": LHalf,
    "l_two_thirds": LTwoThirds,
    "log_sum": LogSum,
    "cel0": None,  # built by cel0() from the column norms
    "l0": L0,
    "group_lasso": GroupLasso,
    "sef": SEF,
    "wgsef": WGSEF,
}


def make_penalty(name, alpha, *, n_features, col_sq_norms_over_n=None, weights=None, **params):
    """Build the registered penalty ``name`` with the parameters it declares."""
    if name not in PENALTIES:
        raise ValueError(f"Unknown penalty {name!r}; choose one of {sorted(PENALTIES)}.")
    if name == "cel0":
        return cel0(alpha, col_sq_norms_over_n)
    cls = PENALTIES[name]
    kwargs = {p: params[p] for p in cls.params if p in params and params[p] is not None}
    if cls.grouped:
        return cls(alpha, n_features=n_features, **kwargs)
    if cls in (SEF,):
        return cls(alpha, **kwargs)
    return cls(alpha, weights=weights, **kwargs)
