"""Penalties for sparse regression: one small class each, registered in ``PENALTIES``.

Protocol (skglm's split, plus ``prox_block`` and the duality gap):

* ``value(w)`` -- the penalty at ``w``;
* ``prox(z, step)`` -- ``argmin_x 0.5 ||x - z||^2 + step * p(x)`` (elementwise for
  separable penalties, blockwise for groups, global for SEF);
* ``subdiff_distance(w, grad, lipschitz)`` -- KKT violation per unit (feature or
  group), ``dist(-grad_j, d p_j(w_j))`` (spec section 5);
* ``alpha_max(neg_grad0)`` -- the smallest ``alpha`` with ``w = 0`` a KKT point,
  from ``-grad f(0)`` (``X^T y / n`` for least squares);
* ``kernel_arrays(n_features, dtype)`` -- ``(kind, lam, gamma, l2)`` read by the
  compiled CD kernels (``sparseopt._ext._cd_fast``) where the prox is inlined;
* for the convex penalties with a duality gap: ``dual_norm(v)`` (the norm whose
  unit ball is the dual constraint, ``max_j |v_j| / w_j`` for weighted L1) and ``l2``.

Adding a penalty = one class here + one ``kind`` in the kernel's prox switch.
"""
from __future__ import annotations

import numpy as np

from .._ext import _cd_fast

__all__ = [
    "L1", "ElasticNetPenalty", "MCP", "SCAD", "LHalf", "LTwoThirds", "LogSum", "L0",
    "WeightedMCP", "GroupLasso", "SEF", "WGSEF", "PENALTIES", "make_penalty", "cel0",
    "k_support_prox", "k_support_sq_norm", "weighted_k_support_prox",
]


def _as_weights(weights, n, name="weights"):
    if weights is None:
        return np.ones(n)
    weights = np.asarray(weights, dtype=float).ravel()
    if weights.shape != (n,):
        raise ValueError(f"{name} has shape {weights.shape}, expected ({n},).")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError(f"{name} must be finite and non-negative.")
    return weights


class _Penalty:
    """Base class: stores ``alpha`` and optional per-feature ``weights`` (0 = unpenalised)."""

    name = ""
    kind = None          # kernel id, None when the prox is not a scalar kernel
    is_convex = False
    has_gap = False      # duality gap available (with the quadratic datafit)
    grouped = False
    separable = True
    params = ()          # estimator parameters this penalty reads

    def __init__(self, alpha, weights=None):
        self.alpha = float(alpha)
        self.weights = weights

    def with_alpha(self, alpha):
        """A copy with another ``alpha`` (for paths)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.alpha = float(alpha)
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
        """dist(-grad_j, d p_j(w_j)) per feature (spec section 5)."""
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
        return f"{type(self).__name__}(alpha={self.alpha:g})"


class _FixedPointKKT:
    """For l_q and L0 the subdifferential at 0 is unbounded: use the prox fixed-point residual."""

    def subdiff_distance(self, w, grad, lipschitz, positive=False):
        lipschitz = np.where(lipschitz > 0, lipschitz, 1.0)
        step = 1.0 / lipschitz
        return lipschitz * np.abs(w - self.prox(w - grad * step, step, positive))


class L1(_Penalty):
    """``alpha * sum_j weights_j |w_j|``."""

    name = "l1"
    kind = _cd_fast.PENALTY_L1
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
        """|v_j| / weight_j per feature (inf for unpenalised features).

        With ``positive`` the dual constraint is one-sided (``v_j <= weight_j``):
        ``max(v_j, 0) / weight_j``, so that features pushed below zero are not
        ranked as near-active.
        """
        w = self._w(v.shape[0])
        a = np.maximum(v, 0.0) if positive else np.abs(v)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(w > 0, a / np.where(w > 0, w, 1.0), np.inf)


class ElasticNetPenalty(L1):
    """``alpha * l1_ratio * sum_j weights_j |w_j| + alpha * (1 - l1_ratio) / 2 * sum_j r_j w_j^2``.

    ``ridge_weights`` ``r`` default to ones; a 0 leaves a coordinate out of the
    ridge part (the logistic estimator's intercept column: unpenalised, as in
    scikit-learn and skglm).
    """

    name = "elasticnet"
    params = ("l1_ratio",)

    def __init__(self, alpha, l1_ratio=0.5, weights=None, ridge_weights=None):
        super().__init__(alpha, weights)
        self.l1_ratio = float(l1_ratio)
        self.ridge_weights = ridge_weights

    @property
    def l2(self):
        return self.alpha * (1.0 - self.l1_ratio)

    def _ridge(self, n):
        return np.ones(n) if self.ridge_weights is None else _as_weights(
            self.ridge_weights, n, "ridge_weights")

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
        """l1 / (s_X s_y) and l2 / s_X^2 (see ``_Penalty.rescaled``)."""
        l1 = self.alpha * self.l1_ratio / x_scale / y_scale
        l2 = self.alpha * (1.0 - self.l1_ratio) / x_scale / x_scale
        if not (np.isfinite(l1) and np.isfinite(l2)) or l1 + l2 <= 0:
            return None
        new = self.with_alpha(l1 + l2)
        new.l1_ratio = l1 / (l1 + l2)
        return new


class MCP(_Penalty):
    """Minimax concave penalty (Zhang 2010), ``gamma > 0`` (3 by default)."""

    name = "mcp"
    kind = _cd_fast.PENALTY_MCP
    params = ("gamma",)
    scale_exponents = (1, 1)
    shape_scaling = ("gamma", 2, 0)
    shape_inf_ok = True

    def __init__(self, alpha, gamma=3.0, weights=None):
        super().__init__(alpha, weights)
        self.gamma = gamma

    def _gamma(self, n):
        return np.broadcast_to(np.asarray(self.gamma, dtype=float), (n,))

    def derivative_abs(self, a, lam, gamma):
        return np.maximum(lam - a / gamma, 0.0)


class WeightedMCP(MCP):
    """MCP with per-feature ``lam_j`` (``alpha * weights_j``) and ``gamma_j`` arrays."""

    name = "weighted_mcp"


def cel0(lam, col_sq_norms_over_n):
    """CEL0 of ``lam ||w||_0`` as a :class:`WeightedMCP` (Soubies et al. 2015).

    With ``a_j^2 = ||x_j||^2 / n`` (the 1/(2n) scaling): ``lam_j = a_j sqrt(2 lam)``,
    ``gamma_j = 1 / a_j^2`` (spec section 2, verified identity).
    """
    a = np.sqrt(np.asarray(col_sq_norms_over_n, dtype=float))
    safe = np.where(a > 0, a, 1.0)
    pen = WeightedMCP(1.0, gamma=np.where(a > 0, 1.0 / safe ** 2, 1.0),
                      weights=np.where(a > 0, a * np.sqrt(2.0 * lam), 0.0))
    pen.cel0_lambda = float(lam)
    return pen


class SCAD(_Penalty):
    """Smoothly clipped absolute deviation (Fan & Li 2001), ``gamma = a > 1`` (3.7)."""

    name = "scad"
    kind = _cd_fast.PENALTY_SCAD
    params = ("gamma",)
    scale_exponents = (1, 1)
    x_scale_free = False  # lam^2 g(|t| / lam): only y can be rescaled

    def __init__(self, alpha, gamma=3.7, weights=None):
        super().__init__(alpha, weights)
        self.gamma = gamma

    def _gamma(self, n):
        return np.full(n, float(self.gamma))

    def derivative_abs(self, a, lam, gamma):
        return np.where(a <= lam, lam, np.maximum(gamma * lam - a, 0.0) / (gamma - 1.0))


class LogSum(_Penalty):
    """``alpha * log(1 + |t| / eps)``; ``alpha_max`` is ``eps`` times the L1 value."""

    name = "log_sum"
    kind = _cd_fast.PENALTY_LOG_SUM
    params = ("eps",)
    scale_exponents = (0, 2)
    shape_scaling = ("eps", 1, 1)

    def __init__(self, alpha, eps=1.0, weights=None):
        super().__init__(alpha, weights)
        self.eps = float(eps)

    def _gamma(self, n):
        return np.full(n, self.eps)

    def derivative_abs(self, a, lam, gamma):
        return lam / (gamma + a)

    def alpha_max(self, neg_grad0, positive=False):
        return self.eps * super().alpha_max(neg_grad0, positive)


class LHalf(_FixedPointKKT, _Penalty):
    """``alpha * |t|^(1/2)``; no alpha_max (0 is always a local minimiser)."""

    name = "l_half"
    kind = _cd_fast.PENALTY_L_HALF
    scale_exponents = (0.5, 1.5)


class LTwoThirds(_FixedPointKKT, _Penalty):
    """``alpha * |t|^(2/3)``."""

    name = "l_two_thirds"
    kind = _cd_fast.PENALTY_L_TWO_THIRDS
    scale_exponents = (2 / 3, 4 / 3)


class L0(_FixedPointKKT, _Penalty):
    """``alpha * ||w||_0`` (hard thresholding in CD)."""

    name = "l0"
    kind = _cd_fast.PENALTY_L0
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


class GroupLasso(_Penalty):
    """``alpha * sum_g weights_g ||w_g||_2`` (weights default ``sqrt(|g|)``)."""

    name = "group_lasso"
    is_convex = True
    has_gap = True
    grouped = True
    l2 = 0.0
    scale_exponents = (1, 1)
    params = ("groups", "group_weights")

    def __init__(self, alpha, groups=None, group_weights=None, n_features=None):
        self.alpha = float(alpha)
        self.groups = groups
        self.group_weights = group_weights
        if n_features is not None:
            self.bind(n_features)

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


# ------------------------------------------------------------------ SEF / k-support
def k_support_sq_norm(x, k):
    """``||x||_(k)^2``, the squared k-support norm (spec section 2, evaluation).

    ``||x||_(k)^2 = sum_{i<k-r} z_i^2 + (sum_{i>=k-r} z_i)^2 / (r + 1)``, ``z`` = |x|
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


class SEF(_Penalty):
    """Sparse envelope function ``alpha * 0.5 ||w||_(k)^2`` (Beck & Refael 2022).

    ``nonconvex=True`` uses ``alpha * (SEF(w) - 0.5 ||w||^2)``, which is >= 0 and
    vanishes iff ``||w||_0 <= k``; its prox needs ``step * alpha < 1`` (spec
    section 2, verified identity with ``beta = (1 - step alpha) / (step alpha)``).
    Not separable: solved by proximal gradient, not CD.
    """

    name = "sef"
    separable = False
    params = ("k", "nonconvex")
    scale_exponents = (2, 0)  # homogeneous of degree 2 in w

    def __init__(self, alpha, k=1, nonconvex=False):
        self.alpha = float(alpha)
        self.k = int(k)
        self.nonconvex = bool(nonconvex)
        self.is_convex = not self.nonconvex

    n_free = 0  # trailing unpenalised coefficients (a logistic intercept)

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
    """

    name = "wgsef"
    grouped = True
    params = ("k", "nonconvex", "groups", "group_weights")

    def __init__(self, alpha, k=1, nonconvex=False, groups=None, group_weights=None,
                 n_features=None):
        super().__init__(alpha, k, nonconvex)
        self.groups = groups
        self.group_weights = group_weights
        if n_features is not None:
            self.bind(n_features)

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
