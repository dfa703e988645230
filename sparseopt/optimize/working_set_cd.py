"""Working-set coordinate descent for sparse regression, certified (celer / skglm style).

Solves ``min_w f(w) + sum_j p_j(w_j)`` where ``f`` is a datafit
(``sparseopt.optimize.datafits``: least squares ``(1/2n)||y - Xw||^2`` or the
logistic loss) and ``p`` a penalty (``sparseopt.optimize.penalties``: L1,
elastic net, MCP, SCAD, l_1/2, l_2/3, log-sum, CEL0, L0, group lasso), on
dense, CSC or Gram designs. The numeric loops are the compiled kernels of
``sparseopt._ext._cd_fast`` where every scalar prox is inlined.

Outer loop, one named step each (:class:`_WorkingSetCD`): certificate ->
Gap Safe screening -> rank features -> working set -> inner CD epochs with
Anderson extrapolation until the inner certificate is below 0.3 x the outer one.

Certificates:

* convex penalties with the quadratic datafit (L1, elastic net, group lasso):
  the duality gap, stopping when ``n * gap <= tol * ||y||^2`` (scikit-learn /
  celer's relative criterion); ``certificate`` is the gap in 1/n units;
* every other case: the largest KKT violation ``max_j dist(-grad_j f, d p_j(w_j))``
  (fixed-point residual for l_q and L0), stopping when it is ``<= tol``.

Non-separable penalties (SEF, WGSEF), penalties without a compiled prox (a
user's own, see :mod:`sparseopt.optimize.penalties`) and the combinations
without a CD kernel (group penalties with logistic loss or sparse X) go to
:func:`prox_gradient` (FISTA with restarts), certified by the proximal
fixed-point residual.

References
----------
.. [1] M. Massias, A. Gramfort and J. Salmon, "Celer: a Fast Solver for the Lasso
   with Dual Extrapolation", ICML, 2018.
.. [2] Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias,
   "Beyond L1: Faster and Better Sparse Models with skglm", NeurIPS, 2022.
.. [3] E. Ndiaye, O. Fercoq, A. Gramfort and J. Salmon, "Gap Safe screening rules
   for sparsity enforcing penalties", Journal of Machine Learning Research, 2017.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, fields

import numpy as np
import scipy.optimize
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._ext import _cd_fast
from ._logistic_gap import make_logistic_gap
from .datafits import Logistic, Quadratic, check_datafit
from .penalties import L1, ElasticNetPenalty, PenaltyKind, check_penalty, kernel_kind
from ._result import SolverResult

__all__ = ["working_set_cd", "prox_gradient", "enet_working_set_cd", "enet_duality_gap",
           "duality_gap", "column_sq_norms", "PathCache"]

ANDERSON_K = 5          # skglm: extrapolate every 5 epochs from the last 5 iterates
DUAL_EXTRAPOLATION_K = 5
INNER_FRACTION = 0.3    # inner certificate target, relative to the outer one (celer)
# stagnation at the rounding floor of the working precision (a tol below what float32
# allows, say): over STALL_CHECKS inner checks the certificate's best value has not dropped
# by STALL_RTOL *and* the objective has not decreased by more than STALL_EPS machine
# epsilons (a certificate can plateau while the objective still decreases: that is not a
# stall); STALL_OUTER such outer iterations in a row, without progress, end the solve
STALL_RTOL = 1e-3
STALL_CHECKS = 50
STALL_EPS = 1e3
STALL_OUTER = 3
# logistic loss: every DIVERGENCE_CHECKS inner checks, test whether the objective decreases
# without bound along the coefficients on which the penalty is flat (see _unbounded_ray)
DIVERGENCE_CHECKS = 20
# a subproblem that spends all of max_epochs and leaves the outer certificate above half
# its value (SLOW_OUTER times in a row): sublinear progress, stop ("stagnation")
SLOW_OUTER = 1
# sublinear progress across outer iterations: the epochs spent per halving of the outer
# certificate at least double SUBLINEAR_RUNS times in a row, each subproblem taking at
# least SUBLINEAR_MIN_EPOCHS (linear convergence keeps that cost about constant)
SUBLINEAR_RUNS = 3
SUBLINEAR_MIN_EPOCHS = 1000
# a run that reaches max_iter is blamed on the working precision, not on max_iter, when
# over its last PRECISION_WINDOW outer iterations the certificate did not halve below its
# earlier best (it wanders at the rounding floor) and the objective moved by at most
# STALL_EPS machine epsilons (float32 with a tol below its floor: CD keeps moving by
# rounding, so the in-loop stall tests do not fire)
PRECISION_WINDOW = 5
STOP_ADVICE = {
    "stagnation": "Coordinate descent progresses sublinearly: the epochs needed per halving "
                  "of the certificate keep doubling, or a subproblem used all of max_epochs "
                  "without halving it (e.g. nearly separable classes with a penalty whose "
                  "slope vanishes, log-sum or l_q, or a very ill-conditioned design); "
                  "increase tol or alpha, or max_epochs.",
    "max_iter": "The solver ran out of outer iterations (max_iter): increase max_iter or tol.",
    "precision": "The certificate stalled at the rounding floor of the working precision "
                 "(the objective no longer decreases by more than 1000 machine epsilons): tol "
                 "is below what this dtype and data scale allow; increase tol or use float64 / "
                 "rescaled data.",
    "divergence": "No minimiser: the objective decreases without bound as the coefficients on "
                  "which the penalty is flat (unpenalised ones, or MCP / SCAD beyond gamma * "
                  "alpha, or l0) grow, because they separate the classes; the coefficients "
                  "diverge. Increase alpha or gamma, or use a convex penalty (l1, elasticnet).",
}


# ----------------------------------------------------------------------- path cache
@dataclass
class LastState:
    """The end of the previous solve of a path on a sparse design.

    ``w``, the design's state at ``w`` (residual or ``Xw``), and the last full
    ``-grad f`` with the ``w`` it was taken at (``grad_at``).
    """

    w: np.ndarray
    design_state: object
    grad_at: np.ndarray | None
    neg_grad: np.ndarray


@dataclass
class PathCache:
    """What a regularisation path reuses at every ``alpha`` of one design.

    Pass one (initially empty) instance to every :func:`working_set_cd` call of
    the path: what depends on ``X`` only (its validation, its largest entry, the
    sorted CSC matrix with its transpose, column norms and centring terms) is
    computed once, and a sparse design restarts from the previous solve's residual
    and gradient when the warm start is that solve's ``w``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import PathCache, working_set_cd
    >>> from sparseopt.optimize.penalties import L1
    >>> X = np.random.default_rng(0).standard_normal((30, 8)); y = X[:, 0]
    >>> cache, w = PathCache(), None
    >>> for alpha in (0.5, 0.2, 0.1):
    ...     w = working_set_cd(X, y, L1(alpha), w_init=w, cache=cache).coef
    >>> cache.checked_X is not None
    True
    """

    checked_X: object = None        # the X already validated (finiteness is not rescanned)
    checked_gram: object = None     # the gram_matrix already compared with X^T X
    x_max_of: object = None         # the X whose largest |entry| is x_max
    x_max: float | None = None
    sparse_design: dict | None = None   # X-only preprocessing of a CSC design
    last_state: LastState | None = None

    def as_dict(self):
        """The fields that are set, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}


def _as_path_cache(cache):
    """``(PathCache or None, the caller's dict or None)``: a plain dict (accepted as well)
    is read into a :class:`PathCache` and updated from it after the solve."""
    if cache is None or isinstance(cache, PathCache):
        return cache, None
    if isinstance(cache, dict):
        names = {f.name for f in fields(PathCache)}
        return PathCache(**{k: v for k, v in cache.items() if k in names}), cache
    raise TypeError(f"working_set_cd: cache must be a PathCache (or None), got "
                    f"{type(cache).__name__}.")


# ----------------------------------------------------------------------- designs
class _DenseDesign:
    """Fortran-ordered dense X. State: ``R = y - Xw`` (quadratic) or ``Xw`` (logistic)."""

    kind = "dense"

    def __init__(self, X, y, datafit):
        self.X = np.asfortranarray(X)
        self.product_dtype = self.X.dtype
        self.y = y
        self.n_samples, self.n_features = X.shape
        self.datafit = datafit
        self.quadratic = isinstance(datafit, Quadratic)
        if self.quadratic:
            self.col_sq_norms = np.einsum("ij,ij->j", self.X, self.X)
        else:
            self.sw = datafit.weights(self.n_samples, X.dtype)
            self.col_sq_norms = np.einsum("ij,ij,i->j", self.X, self.X, self.sw)

    def init_state(self, w):
        Xw = self.X @ w if np.any(w) else np.zeros(self.n_samples, self.X.dtype)
        self.state = (self.y - Xw) if self.quadratic else Xw
        self.state = np.ascontiguousarray(self.state, dtype=self.X.dtype)

    def residual(self):
        return self.state

    def Xw(self):
        return self.y - self.state if self.quadratic else self.state

    def matvec(self, w, cols=None):
        """``X w`` (``X[:, cols] w[cols]`` when ``cols`` is given)."""
        return self.X @ w if cols is None else self.X[:, cols] @ w[cols]

    def rmatvec(self, v, cols=None):
        if cols is None:
            return self.X.T @ v
        out = np.empty(cols.size, self.X.dtype)
        _cd_fast.xtr_subset_dense(self.X, np.ascontiguousarray(v, self.X.dtype), cols, out)
        return out

    def neg_grad(self, cols=None):
        """-grad f restricted to ``cols`` (all features when None)."""
        n = self.n_samples
        if self.quadratic:
            return self.rmatvec(self.state, cols) / n
        return -self.rmatvec(self.datafit.raw_gradient(self.y, self.state).astype(self.X.dtype),
                             cols)

    def datafit_value(self):
        return self.datafit.value(self.y, self.Xw())

    def get_state(self):
        return self.state.copy()

    def set_state(self, s):
        self.state[:] = s

    def epochs(self, w, lipschitz, ws, kernel, n_epochs):
        kind, lam, gamma, l2, positive = kernel
        if self.quadratic:
            return _cd_fast.cd_epochs_dense(self.X, w, self.state, lipschitz, ws, kind, lam,
                                            gamma, l2, positive, n_epochs)
        return _cd_fast.cd_epochs_logistic_dense(self.X, self.y, self.sw, w, self.state, lipschitz, ws,
                                                 kind, lam, gamma, l2, positive, n_epochs)

    def group_epochs(self, w, penalty, group_lipschitz, ws, lam_g, n_epochs, positive=False):
        buf = np.empty(int(np.max(np.diff(penalty.group_ptr))), self.X.dtype)
        return _cd_fast.group_cd_epochs_dense(self.X, w, self.state, penalty.group_ptr,
                                              penalty.group_features, group_lipschitz, ws,
                                              lam_g, buf, n_epochs, positive)


class _GramDesign(_DenseDesign):
    """n >> p least squares: CD on ``G = X^T X`` keeping ``X^T R`` current."""

    kind = "gram"

    def __init__(self, X, y, datafit, gram=None):
        super().__init__(X, y, datafit)
        self.G = np.asfortranarray(self.X.T @ self.X if gram is None else gram, dtype=X.dtype)
        self.Xty = self.X.T @ y

    def init_state(self, w):
        self.state = np.ascontiguousarray(self.Xty - self.G @ w, dtype=self.X.dtype)  # X^T R
        self.w_ref = w

    def residual(self):
        return self.y - self.X @ self.w_ref

    def Xw(self):
        return self.X @ self.w_ref

    def neg_grad(self, cols=None):
        return (self.state if cols is None else self.state[cols]) / self.n_samples

    def datafit_value(self):
        # ||R||^2 = ||y||^2 - w^T X^T y - w^T X^T R  (since G w = X^T y - X^T R): O(p)
        w = self.w_ref
        return (float(self.y @ self.y) - float(w @ self.Xty) - float(w @ self.state)) \
            / (2 * self.n_samples)

    def epochs(self, w, lipschitz, ws, kernel, n_epochs):
        kind, lam, gamma, l2, positive = kernel
        self.w_ref = w
        return _cd_fast.cd_epochs_gram(self.G, w, self.state, lipschitz, ws, kind, lam, gamma,
                                       l2, positive, self.n_samples, n_epochs)


class _SparseDesign:
    """CSC design centred implicitly: X_c = X - v X_mean^T, never densified.

    Least squares: ``v`` is the row-scaling vector (ones, or sqrt of sample weights
    already applied to the rows of X); state ``(R_s, [c, v^T R_s])`` with the residual
    ``R = R_s + c v`` and ``c = X_mean^T w`` (see the kernel). Logistic loss: ``v = 1``
    (the sample weights enter the loss); state: the margins ``X_c w``, in float64, and
    the products ``X_c^T r`` are formed in float64 by the compiled kernel, each centred
    column's entries formed before the product (``X^T r - X_mean 1^T r`` would cancel
    for a column far off centre). ``X_mean = 0`` is no centring.
    """

    kind = "sparse"

    def __init__(self, X, y, datafit, X_mean=None, v=None, cache=None):
        self.y = y
        self.datafit = datafit
        self.quadratic = isinstance(datafit, Quadratic)
        static = None if cache is None else cache.sparse_design
        if static is None:
            static = self._prepare(X, datafit, self.quadratic, X_mean, v)
            if cache is not None:  # a path reuses it at every alpha
                cache.sparse_design = static
        self.__dict__.update(static)
        self.n_samples, self.n_features = self.X.shape

    @staticmethod
    def _prepare(X, datafit, quadratic, X_mean, v):
        """Everything that depends on X only (not on y or the penalty)."""
        X = sp.csc_matrix(X)
        if not X.has_sorted_indices:  # sort a copy: the caller's matrix is never modified
            X = X.copy()
            X.sort_indices()
        n, p = X.shape
        dtype = X.dtype
        out = dict(X=X, XT=X.T, data=np.ascontiguousarray(X.data, dtype=dtype),
                   indices=np.ascontiguousarray(X.indices, dtype=np.int32),
                   indptr=np.ascontiguousarray(X.indptr, dtype=np.int32))
        v = np.ones(n, dtype) if v is None else np.asarray(v, dtype)
        X_mean = np.zeros(p, dtype) if X_mean is None else np.asarray(X_mean, dtype)
        Xv = np.asarray(out["XT"] @ v, dtype=dtype)
        vv = dtype.type(v @ v)
        if not quadratic:  # sum_i s_i (x_ij - X_mean_j)^2 (v = 1)
            out["sw"] = datafit.weights(n, dtype)
            col_sq_norms = _sparse_col_sq(X, out["sw"], X_mean).astype(dtype)
            out["all_cols"] = np.arange(p, dtype=np.int32)
            out["g_buffer"] = np.empty(n)  # the kernel's scratch
            # (empty: no centring, the kernel reads no X_mean)
            out["kernel_mean"] = X_mean if np.any(X_mean) else X_mean[:0]
        else:
            sq = _sparse_col_sq(X)
            col_sq_norms = (sq - 2 * X_mean * Xv + X_mean ** 2 * vv).astype(dtype)
            np.maximum(col_sq_norms, 0, out=col_sq_norms)
        out.update(v=v, X_mean=X_mean, Xv=Xv, vv=vv, col_sq_norms=col_sq_norms,
                   product_dtype=dtype if quadratic else np.dtype(np.float64))
        return out

    def matvec(self, w, cols=None):
        """``X_c w`` (``w`` restricted to ``cols`` when given: ``X_c[:, cols] w[cols]``)."""
        if cols is None:
            return self.X @ w - self.v * (self.X_mean @ w)
        return self.X[:, cols] @ w[cols] - self.v * (self.X_mean[cols] @ w[cols])

    def rmatvec(self, r, cols=None):
        """``X_c^T r`` (on ``cols`` when given; ``r`` may be 2-d without ``cols``), in
        ``product_dtype``."""
        if not self.quadratic:  # float64, centred entries formed first (see the class)
            r = np.asarray(r, dtype=np.float64)
            if r.ndim == 2:
                return np.column_stack([self.rmatvec(r[:, k], cols) for k in range(r.shape[1])])
            cols = self.all_cols if cols is None else cols
            out = np.empty(cols.size)
            _cd_fast.xtr_subset_centred(self.data, self.indices, self.indptr, self.X_mean,
                                        np.ascontiguousarray(r), cols, out)
            return out
        if cols is None:
            return self.XT @ r - np.multiply.outer(self.X_mean, self.v @ r)
        out = np.empty(cols.size, self.X.dtype)
        _cd_fast.xtr_subset_sparse(self.data, self.indices, self.indptr, self.X_mean, self.Xv,
                                   self.vv, np.ascontiguousarray(r, self.X.dtype),
                                   np.array([0, self.v @ r], self.X.dtype), cols, out)
        return out

    def init_state(self, w, state=None):
        if state is not None:  # the state of the same w on this design (see get_state)
            if self.quadratic:
                self.vec, self.cstate = state[0].copy(), state[1].copy()
            else:
                self.vec = state.copy()
            return
        dtype = self.X.dtype
        if self.quadratic:
            self.vec = np.ascontiguousarray(self.y - self.X @ w, dtype=dtype)      # R_s
            self.cstate = np.array([self.X_mean @ w, self.v @ self.vec], dtype=dtype)
        else:  # the margins X_c w, in float64 (see the kernel)
            w64 = np.asarray(w, dtype=np.float64)
            self.vec = np.ascontiguousarray(
                self.X @ w64 - self.X_mean.astype(np.float64) @ w64, dtype=np.float64)

    def residual(self):
        return self.vec + self.cstate[0] * self.v

    def Xw(self):
        return self.y - self.residual() if self.quadratic else self.vec

    def neg_grad(self, cols=None):
        if self.quadratic:
            if cols is None:
                return self.rmatvec(self.residual()) / self.n_samples
            out = np.empty(cols.size, self.X.dtype)
            _cd_fast.xtr_subset_sparse(self.data, self.indices, self.indptr, self.X_mean,
                                       self.Xv, self.vv, self.vec, self.cstate, cols, out)
            return out / self.n_samples
        return -self.rmatvec(self.datafit.raw_gradient(self.y, self.Xw()), cols)

    def datafit_value(self):
        return self.datafit.value(self.y, self.Xw())

    def get_state(self):
        return (self.vec.copy(), self.cstate.copy()) if self.quadratic else self.vec.copy()

    def set_state(self, s):
        if self.quadratic:
            self.vec[:] = s[0]
            self.cstate[:] = s[1]
        else:
            self.vec[:] = s

    def epochs(self, w, lipschitz, ws, kernel, n_epochs):
        kind, lam, gamma, l2, positive = kernel
        if self.quadratic:
            return _cd_fast.cd_epochs_sparse(
                self.data, self.indices, self.indptr, self.X_mean, self.Xv, self.vv, w,
                self.vec, self.cstate, lipschitz, ws, kind, lam, gamma, l2, positive,
                self.n_samples, n_epochs)
        return _cd_fast.cd_epochs_logistic_sparse(
            self.data, self.indices, self.indptr, self.kernel_mean, self.y, self.sw, w,
            self.vec, self.g_buffer, lipschitz, ws, kind, lam, gamma, l2, positive,
            self.n_samples, n_epochs)


def _combine_states(states, c):
    if isinstance(states[0], tuple):
        return tuple(sum(ck * s[i] for ck, s in zip(c, states)) for i in range(2))
    return sum(ck * s for ck, s in zip(c, states))


def _extrapolation_weights(iterates):
    """Anderson / celer weights: with U the consecutive differences, (U^T U) z = 1, c = z / 1^T z."""
    U = np.diff(np.asarray(iterates, dtype=np.float64), axis=0)
    try:
        z = np.linalg.solve(U @ U.T, np.ones(U.shape[0]))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(z)) or z.sum() == 0:
        return None
    return z / z.sum()


# ----------------------------------------------------------------------- duality gap
def duality_gap(y, w, penalty, R, XtR, n_samples, positive=False, R_dual=None, XtR_dual=None,
                w_dual=None):
    """Duality gap (1/n units) of least squares + L1 / elastic net / group lasso.

    The dual point is ``s * R_tilde`` rescaled to feasibility, ``R_tilde`` the
    augmented residual ``[R; -sqrt(n l2) w]`` (elastic net = Lasso on an
    augmented design). ``R_dual``/``XtR_dual`` give another candidate dual
    point: the residual ``y - X w_dual`` of another ``w_dual`` (e.g. ``w`` with
    its unpenalised features refitted), or extrapolated residuals (l2 = 0,
    ``w_dual`` None). The rescaling ``s`` only enforces the constraints of the
    penalised features: the candidate must already satisfy ``x~_j^T R~ = 0``
    (``<= 0`` with ``positive``) on the unpenalised ones.

    Returns
    -------
    gap, primal, dual, s : float
    """
    check_penalty(penalty, ("every penalty", "a duality gap"), "duality_gap")
    y, w, R, XtR, n = _check_gap_inputs(y, w, R, XtR, n_samples)
    if R_dual is not None:
        R_dual = _as_float_vector(R_dual, "R_dual", R.shape[0], np.float64, "duality_gap")
        XtR_dual = _as_float_vector(XtR_dual, "XtR_dual", w.shape[0], np.float64, "duality_gap")
        if w_dual is not None:
            w_dual = _as_float_vector(w_dual, "w_dual", w.shape[0], np.float64, "duality_gap")
    with np.errstate(over="ignore"):
        R_norm2 = float(R @ R)
    _warn_unrepresentable(R_norm2, y_scale=_max_abs(R), what="residual norm, objective and gap")
    with np.errstate(over="ignore", invalid="ignore"):
        return _duality_gap(y, w, penalty, R, XtR, n, positive, R_dual, XtR_dual, w_dual)


def _duality_gap(y, w, penalty, R, XtR, n, positive=False, R_dual=None, XtR_dual=None,
                 w_dual=None):
    """:func:`duality_gap` on arrays the solver already checked (its loops call this one)."""
    l2 = float(getattr(penalty, "l2", 0.0))
    lam = penalty.alpha * getattr(penalty, "l1_ratio", 1.0)
    R_norm2 = float(R @ R)
    primal = R_norm2 / (2 * n) + penalty.value(w)
    if lam <= 0:
        # no L1 part: the rescaled augmented residual is not dual feasible (the
        # constraint is X~^T theta = 0), so use the smooth problem's own dual
        if l2 > 0:  # ridge: Fenchel dual at theta = R / n, always feasible
            u = np.maximum(XtR, 0.0) if positive else XtR  # conjugate of l2/2 ||.||^2 (+ w >= 0)
            dual = (float(y @ R) - 0.5 * R_norm2 - 0.5 * float(u @ u) / (n * l2)) / n
            return max(primal - dual, 0.0), primal, dual, 1.0
        # plain least squares: no dual point can be built from R alone (callers with X use
        # the exact suboptimality, see enet_duality_gap; working_set_cd uses the KKT test)
        return np.inf, primal, -np.inf, 1.0
    if R_dual is None:
        R_dual, XtR_dual, w_dual = R, XtR, w
    elif w_dual is None:  # extrapolated residuals (l2 = 0)
        w_dual = np.zeros_like(w)
    wd2 = float(w_dual @ w_dual)
    Rd2 = float(R_dual @ R_dual)
    v = XtR_dual - n * l2 * w_dual
    worst = penalty.dual_norm_positive(v) if positive else penalty.dual_norm(v)
    s = 1.0 if (lam <= 0 or worst <= n * lam) else n * lam / worst
    dual = (2 * s * float(y @ R_dual) - s * s * (Rd2 + n * l2 * wd2)) / (2 * n)
    return max(primal - dual, 0.0), primal, dual, s


def _check_gap_inputs(y, w, R, XtR, n_samples):
    """``duality_gap``'s arrays: finite real 1-d vectors of consistent lengths."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 1:
        raise ValueError(f"duality_gap: n_samples must be a positive integer, got {n_samples!r}.")
    y = _as_float_vector(y, "y", np.shape(y)[0] if np.ndim(y) == 1 else -1, np.float64,
                         "duality_gap")
    w = _as_float_vector(w, "w", np.shape(w)[0] if np.ndim(w) == 1 else -1, np.float64,
                         "duality_gap")
    R = _as_float_vector(R, "R", y.shape[0], np.float64, "duality_gap")
    XtR = _as_float_vector(XtR, "XtR", w.shape[0], np.float64, "duality_gap")
    return y, w, R, XtR, int(n_samples)


def enet_duality_gap(X, y, w, l1, l2=0.0, positive=False, R=None, XtR=None):
    """Duality gap of the elastic net at ``w`` (1/n units, scikit-learn's ``dual_gap_``).

    ``(1/2n)||y - Xw||^2 + l1 ||w||_1 + (l2/2)||w||^2``. Works for any ``X``
    supporting ``@`` (dense, sparse) and for anchors' coefficients, so that
    every solver is certified with the same formula.

    Returns
    -------
    gap : float
    primal : float
    dual : float

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import enet_duality_gap
    >>> X = np.eye(3); y = np.array([1.0, 0.0, 0.0])
    >>> gap, primal, dual = enet_duality_gap(X, y, np.zeros(3), l1=1.0)
    >>> round(gap, 12)
    0.0
    """
    X = check_design(X, "enet_duality_gap")
    n, p = X.shape
    y = _as_float_vector(y, "y", n, np.float64, "enet_duality_gap")
    w = _as_float_vector(w, "w", p, np.float64, "enet_duality_gap")
    _check_enet_strengths(l1, l2, "enet_duality_gap")
    if R is None:
        R = y - np.asarray(X @ w).ravel()
    if XtR is None:
        XtR = np.asarray(X.T @ R).ravel()
    pen = _enet_penalty(l1, l2)
    R = np.asarray(R, np.float64)
    if l1 <= 0 and l2 <= 0:  # least squares: P(w) - P* = ||P_X R||^2 / (2n) exactly
        gap = _least_squares_suboptimality(X, R, positive)
        primal = float(R @ R) / (2 * n)
        return gap, primal, primal - gap
    with np.errstate(over="ignore", invalid="ignore"):
        gap, primal, dual, _ = _duality_gap(y, w, pen, R, np.asarray(XtR, np.float64), n,
                                           positive)
    if not np.isfinite(gap):  # finite inputs (checked): the squared norms overflowed
        gap = np.inf
        _warn_unrepresentable(gap, y_scale=_max_abs(y), x_scale=_max_abs(
            X.data if sp.issparse(X) else X), what="duality gap and objective")
    return gap, primal, dual


def _check_enet_strengths(l1, l2, owner):
    for name, value in (("l1", l1), ("l2", l2)):
        if not (isinstance(value, (int, float, np.integer, np.floating))
                and not isinstance(value, bool) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}.")


def _least_squares_suboptimality(X, R, positive=False):
    """``(1/2n)||y - Xw||^2 - min`` from the residual ``R`` (least-squares solve on X)."""
    n = X.shape[0]
    # with positive=True this is the unconstrained suboptimality, an upper bound of the
    # constrained one (the constrained minimum is not below the unconstrained one)
    if sp.issparse(X):
        PR = X @ spla.lsqr(X, R, atol=1e-14, btol=1e-14, iter_lim=10 * X.shape[1])[0]
    else:
        PR = X @ np.linalg.lstsq(X, R, rcond=None)[0]
    PR = np.asarray(PR, dtype=np.float64).ravel()
    return float(PR @ PR) / (2 * n)


def _enet_penalty(l1, l2):
    if l2 == 0:
        return L1(l1)
    alpha = l1 + l2
    return ElasticNetPenalty(alpha, l1_ratio=l1 / alpha)


def _sparse_col_sq(X, row_weights=None, X_mean=None):
    """``sum_i w_i (X_ij - X_mean_j)^2`` per column of a sparse X (``X_mean`` 0 when None),
    without forming ``X.multiply(X)`` nor the centred columns: the non-zeros' terms plus
    ``X_mean_j^2`` times the weight of the rows where column j is zero (no cancellation
    between ``sum w x^2`` and ``X_mean^2 sum w`` for a column far off centre)."""
    X = sp.csc_matrix(X)
    w = None if row_weights is None else np.asarray(row_weights, dtype=np.float64)
    cols = np.repeat(np.arange(X.shape[1]), np.diff(X.indptr))
    vals = X.data.astype(np.float64)
    if X_mean is not None:
        m = np.asarray(X_mean, dtype=np.float64)
        vals = vals - m[cols]
    vals = vals ** 2
    if w is not None:
        vals *= w[X.indices]
    out = np.bincount(cols, weights=vals, minlength=X.shape[1])
    if X_mean is not None:
        total = float(X.shape[0]) if w is None else float(w.sum())
        covered = np.diff(X.indptr).astype(np.float64) if w is None else np.bincount(
            cols, weights=w[X.indices], minlength=X.shape[1])
        out += m ** 2 * np.maximum(total - covered, 0.0)
    return out


def _max_abs(a):
    """``max |a|`` without a temporary copy of ``a`` (0 for an empty array)."""
    return float(max(a.max(), -a.min())) if a.size else 0.0


def column_sq_norms(X, X_mean=None, row_scale=None):
    """``||x_j||^2`` of the (implicitly centred, for CSC with ``X_mean``) design.

    Beyond ``2^SCALE_EXPONENT`` the squares are formed on ``X`` divided by a power of two
    and scaled back: a norm that is not representable is ``inf``, never NaN."""
    x_max = _max_abs(X.data if sp.issparse(X) else X)
    if x_max > 2.0 ** SCALE_EXPONENT or 0 < x_max < 2.0 ** -SCALE_EXPONENT:
        scale = 2.0 ** int(np.round(np.log2(x_max)))
        with np.errstate(over="ignore"):
            return column_sq_norms(X * (1.0 / scale), None if X_mean is None
                                   else np.asarray(X_mean) / scale, row_scale) * scale * scale
    if not sp.issparse(X):
        return np.einsum("ij,ij->j", X, X)
    sq = _sparse_col_sq(X)
    if X_mean is None:
        return sq
    v = np.ones(X.shape[0]) if row_scale is None else np.asarray(row_scale, dtype=float)
    Xv = np.asarray(X.T @ v).ravel()
    return np.maximum(sq - 2 * X_mean * Xv + X_mean ** 2 * float(v @ v), 0)


def _centred_operator(X, X_mean, row_scale):
    """LinearOperator for ``X - v X_mean^T`` (CSC X, never densified)."""
    X = sp.csc_matrix(X, dtype=np.float64)
    v = np.ones(X.shape[0]) if row_scale is None else np.asarray(row_scale, dtype=np.float64)
    m = np.asarray(X_mean, dtype=np.float64)

    def matvec(w):
        w = np.ravel(w)
        return X @ w - v * (m @ w)

    def rmatvec(r):
        r = np.ravel(r)
        return X.T @ r - m * (v @ r)

    return spla.LinearOperator(X.shape, matvec=matvec, rmatvec=rmatvec, dtype=np.float64)


# ----------------------------------------------------------------------- the solver
def _as_float_vector(a, name, size, dtype, owner="working_set_cd"):
    """A finite 1-d copy of ``a`` of length ``size`` in ``dtype`` (ValueError otherwise)."""
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{owner}: {name} is not an array ({exc}).") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{owner}: {name} must be real numeric, got dtype {arr.dtype}.")
    if arr.ndim != 1 or arr.shape[0] != size:
        raise ValueError(f"{owner}: {name} has shape {arr.shape}, expected ({size},).")
    arr = np.array(arr, dtype=dtype, copy=True)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{owner}: {name} contains NaN or inf.")
    return arr


def check_design(X, owner, check_finite=True):
    """A 2-d real design with at least one sample and one feature: CSC (no copy when it
    already is) or ndarray, float32/float64 kept and other real dtypes cast to float64,
    finite (``TypeError`` for complex or non-numeric dtypes, ``ValueError`` otherwise)."""
    if not sp.issparse(X) and not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{owner}: X must be real, got dtype {X.dtype}.")
    if X.ndim != 2:
        raise ValueError(f"{owner}: X must be 2-d, got shape {X.shape}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if sp.issparse(X):
        X = sp.csc_matrix(X)  # no copy if X is already CSC (never modified below)
    if check_finite and not np.all(np.isfinite(X.data if sp.issparse(X) else X)):
        raise ValueError(f"{owner}: X contains NaN or inf.")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{owner}: X has shape {X.shape}; at least one sample and one "
                         "feature are needed.")
    return X


def _check_solver_inputs(X, y, penalty, datafit, w_init, X_mean, row_scale, gram, gram_matrix,
                         cache, owner="working_set_cd", **params):
    """Validate everything before a compiled kernel touches memory (never modifies inputs).

    X: 2-d dense or sparse, float32/float64 (other real dtypes become float64), finite,
    at least one sample and one feature; y, w_init, X_mean, row_scale: finite vectors of
    the right length (copied, cast to X's dtype); the datafit's sample weights; a
    ``gram_matrix`` must be X^T X (checked on a random probe); the integer and tolerance
    parameters. A path's ``cache`` remembers that X was checked.
    """
    for name, value in params.items():
        if name == "tol":
            ok = isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value) \
                and value >= 0
        else:
            ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) \
                and value >= 1
        if not ok:
            need = "a finite number >= 0" if name == "tol" else "an int >= 1"
            raise ValueError(f"{owner}: {name} must be {need}, got {value!r}.")
    if not (gram == "auto" or gram is True or gram is False):
        raise ValueError(f"{owner}: gram must be 'auto', True or False, got {gram!r}.")
    checked = cache is not None and cache.checked_X is X
    if not isinstance(X, spla.LinearOperator):  # (a LinearOperator: prox_gradient, internal)
        X = check_design(X, owner, check_finite=not checked)
    check_penalty(penalty, ("every penalty",), owner)
    check_datafit(datafit, owner)
    n, p = X.shape
    if cache is not None:
        cache.checked_X = X
    dtype = X.dtype
    y = _as_float_vector(y, "y", n, dtype, owner)
    w_init = None if w_init is None else _as_float_vector(w_init, "w_init", p, dtype, owner)
    X_mean = None if X_mean is None else _as_float_vector(X_mean, "X_mean", p, dtype, owner)
    row_scale = None if row_scale is None else _as_float_vector(row_scale, "row_scale", n, dtype, owner)
    if isinstance(datafit, Logistic):
        if row_scale is not None:
            raise ValueError(f"{owner}: row_scale is for the least-squares datafit; the "
                             "logistic datafit weighs the samples by its sample_weight.")
        if X_mean is not None and np.any(X_mean) and not sp.issparse(X):
            raise ValueError(f"{owner}: X_mean (implicit centring) is for CSC X; centre a "
                             "dense X before the call.")
    alpha = getattr(penalty, "alpha", 0.0)
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"{owner}: the penalty's alpha must be finite and >= 0, got "
                         f"{alpha}.")
    sw = getattr(datafit, "sample_weight", None)
    if sw is not None:
        sw = _as_float_vector(sw, "the datafit's sample_weight", n, np.float64, owner)
        if np.any(sw < 0):
            raise ValueError(f"{owner}: the datafit's sample_weight must be >= 0.")
    if isinstance(datafit, Logistic) and not np.all(np.abs(y) == 1):
        raise ValueError(f"{owner}: the logistic datafit needs y in {{-1, 1}}.")
    if gram_matrix is not None:
        G = np.asarray(gram_matrix)
        if G.shape != (p, p) or G.dtype.kind not in "fiu":
            raise ValueError(f"working_set_cd: gram_matrix must be a real ({p}, {p}) array "
                             f"(X^T X), got shape {G.shape} and dtype {G.dtype}.")
        if not np.all(np.isfinite(G)):
            raise ValueError("working_set_cd: gram_matrix contains NaN or inf.")
        if not sp.issparse(X) and not isinstance(X, spla.LinearOperator) and not (
                cache is not None and cache.checked_gram is gram_matrix):
            # a matrix that is not X^T X makes CD diverge silently: compare on a probe
            probe = np.random.default_rng(0).standard_normal(p)
            ref = X.T @ (X @ probe.astype(dtype))
            scale = float(np.linalg.norm(X, "fro")) ** 2 * np.sqrt(p) + 1e-300
            tol_g = 1e-3 if dtype == np.float32 else 1e-8
            if np.linalg.norm(G @ probe - ref) > tol_g * scale:
                raise ValueError("working_set_cd: gram_matrix is not X^T X for this X.")
            if cache is not None:  # a path passes the same matrix at every alpha
                cache.checked_gram = gram_matrix
    return X, y, w_init, X_mean, row_scale, gram_matrix


# |X| and |y| beyond 2^+-SCALE_EXPONENT: squared norms (||y||^2, X^T X, the gap) would
# overflow or underflow, so the scale-equivariant problems are solved on rescaled data
SCALE_EXPONENT = 200


def _extreme_scales(X, y, penalty, quadratic, cache=None):
    """``(s_X, s_y, penalty')`` (powers of 2, exact; 1 for what is not extreme) when X or y
    is extremely scaled and the penalty has a rescaling rule (``penalty.rescaled``), with
    the least-squares datafit; else None."""
    if not quadratic or isinstance(X, spla.LinearOperator):
        return None
    if cache is not None and cache.x_max_of is X:
        x_max = cache.x_max  # a path: X is scanned once
    else:
        x_max = _max_abs(X.data if sp.issparse(X) else X)
        if cache is not None:
            cache.x_max_of, cache.x_max = X, x_max
    scales = []
    for m in (x_max, _max_abs(y)):
        e = int(np.round(np.log2(m))) if m > 0 else 0
        scales.append(2.0 ** e if abs(e) > SCALE_EXPONENT else 1.0)
    if scales == [1.0, 1.0]:
        return None
    pen = penalty.rescaled(*scales) if hasattr(penalty, "rescaled") else None
    if pen is None and scales[0] != 1.0 and x_max > 1:
        # X^T X overflows and this problem cannot be mapped to unit scale
        raise ValueError(f"working_set_cd: |X| reaches {scales[0]:.1e}, beyond what the "
                         f"squared norms of the {getattr(penalty, 'name', 'given')} penalty's "
                         "problem allow in floating point, and this penalty's solution is not "
                         "equivariant to scaling X; standardise X first.")
    return None if pen is None else (scales[0], scales[1], pen)


def _solve_rescaled(scales, X, y, penalty, datafit, *, w_init, X_mean=None, gram_matrix=None,
                    solver=None, **kwargs):
    """Solve on ``X / s_X``, ``y / s_y`` and map back (``w = (s_y / s_X) v``).

    With ``X = s_X X'`` and ``y = s_y y'`` the objective is ``s_y^2`` times the one of
    ``v = (s_X / s_y) w`` on ``(X', y')`` with the rescaled penalty (for the elastic net
    ``l1' = l1 / (s_X s_y)``, ``l2' = l2 / s_X^2``): the coefficients scale back exactly,
    the gap and the objective by ``s_y^2``, a KKT violation by ``s_X s_y``.
    """
    sx, sy, pen = scales
    Xs = sp.csc_matrix(X * (1.0 / sx)) if sp.issparse(X) else X / X.dtype.type(sx)
    ys = y / y.dtype.type(sy)
    if X_mean is not None:
        kwargs["X_mean"] = X_mean / sx
    if gram_matrix is not None:
        kwargs["gram_matrix"] = np.asarray(gram_matrix) / sx / sx
    res = (working_set_cd if solver is None else solver)(
        Xs, ys, pen, datafit, w_init=None if w_init is None else w_init * (sx / sy), **kwargs)
    coef = (res.coef * (sy / sx)).astype(X.dtype)
    res.coef = res.x = coef
    # the certificate and objective in the caller's units (inf when not representable;
    # an exact 0 stays 0)
    with np.errstate(over="ignore", under="ignore"):
        sy2 = np.float64(sy) * np.float64(sy)
        cert_scale = sy2 if res.certificate_name == "duality gap" else np.float64(sx) * sy

    def back(value, scale):
        with np.errstate(over="ignore", under="ignore"):
            return float(value * scale) if value != 0 else float(value)

    res.certificate = back(res.certificate, cert_scale)
    res.objective = back(res.objective, sy2)
    for entry in res.history:
        entry["certificate"] = back(entry["certificate"], cert_scale)
        entry["objective"] = back(entry["objective"], sy2)
    if np.all(np.isfinite(coef)):
        _warn_unrepresentable(res.objective, res.certificate, y_scale=sy, x_scale=sx)
    return res


def _warn_unrepresentable(*values, y_scale, x_scale=1.0, what="objective and certificate"):
    """Say so when values of the caller's units overflow float64 (they are reported as inf)."""
    if all(np.isfinite(v) for v in values):
        return
    warnings.warn(
        f"With data of magnitude |y| ~ {y_scale:.1e}, |X| ~ {x_scale:.1e} the {what} "
        "(in the caller's units, ~ |y|^2) are not representable in float64 and are reported "
        "as inf; the coefficients are exact (the problem was solved on rescaled data).",
        RuntimeWarning, stacklevel=3)


def _spectral_sq(X):
    """||X||_2^2 (largest singular value squared)."""
    if min(X.shape) <= 2 or (isinstance(X, np.ndarray) and min(X.shape) < 200):
        dense = X.toarray() if sp.issparse(X) else (X @ np.eye(X.shape[1]) if not
                                                     isinstance(X, np.ndarray) else X)
        return float(np.linalg.norm(dense, 2) ** 2)
    s = spla.svds(X if isinstance(X, spla.LinearOperator) else X.astype(np.float64), k=1,
                  return_singular_vectors=False, random_state=0)
    return float(s[0] ** 2)


def working_set_cd(X, y, penalty, datafit=None, *, w_init=None, X_mean=None, row_scale=None,
                   positive=False, max_iter=50, max_epochs=50_000, tol=1e-4, p0=10,
                   check_every=10, screening=True, anderson=True, dual_extrapolation=True,
                   gram="auto", gram_matrix=None, cache=None, verbose=0):
    """Minimise ``datafit(y, Xw) + penalty(w)`` by working-set coordinate descent.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or CSC sparse matrix
        Design, float64 or float32 (kept). Never modified (dense X is used in
        Fortran order, copied if needed).
    y : ndarray of shape (n_samples,)
        Target (``{-1, 1}`` for the logistic datafit).
    penalty : penalty object
        From :mod:`sparseopt.optimize.penalties`, or any object with its
        protocol (checked on entry: a ``TypeError`` names a missing method).
        Penalties with a compiled prox (``kind``) run on the CD kernels; the
        others, and non-separable ones, on :func:`prox_gradient`.
    datafit : datafit object, default=Quadratic()
        From :mod:`sparseopt.optimize.datafits` (checked on entry likewise);
        ``Quadratic`` and ``Logistic`` have CD kernels, another datafit with
        the protocol is solved by :func:`prox_gradient`.
    w_init : ndarray, optional
        Warm start (copied).
    X_mean, row_scale : ndarray, optional
        Sparse X: implicit centring, the solver sees ``X - row_scale X_mean^T``
        (never densified; ``coef`` is the solution of that problem). Least
        squares: ``row_scale`` is the row weighting already applied to ``X``
        (default ones). Logistic datafit: ``X - 1 X_mean^T`` (``row_scale``
        raises ``ValueError``: the datafit's ``sample_weight`` weighs the
        samples); an update of a column with ``X_mean_j != 0`` costs O(n_samples)
        instead of O(nnz_j) (its centred entries are formed over every row).
        With an unpenalised constant column (an intercept ``b``), any ``X_mean``
        gives the same problem in ``(w, b + X_mean^T w)``. Dense X: centre it
        yourself (least squares ignores ``X_mean``, the logistic datafit raises
        ``ValueError``).
    positive : bool
        Constrain ``w >= 0``.
    max_iter : int
        Maximum outer (working-set) iterations.
    max_epochs : int
        Maximum CD epochs per working-set subproblem.
    tol : float
        Duality gap: stop when ``n * gap <= tol * ||y||^2``. KKT: stop when the
        largest violation is ``<= tol``. A tolerance below what the working
        precision allows (``tol=1e-10`` on float32 data, say) is not chased
        for ``max_iter * max_epochs`` epochs: when over 50 inner checks the
        certificate has not dropped by 0.1% and the objective has not moved by
        more than 1000 machine epsilons, in 3 outer iterations in a row, the
        solver stops, unconverged (the estimators then warn).
    p0 : int
        Initial working-set size.
    check_every : int
        Epochs between inner certificate evaluations.
    screening : bool
        Gap Safe screening (convex penalties with a gap).
    anderson : bool
        Anderson extrapolation of the primal iterates, accepted only when the
        objective decreases.
    dual_extrapolation : bool
        Also try a dual point from extrapolated residuals (Lasso / group lasso).
    gram : {"auto", True, False}
        CD on ``X^T X`` (dense least squares, n >> p). "auto": when
        ``n_samples > 2 n_features`` and ``n_features <= 2000`` (float64 only).
    gram_matrix : ndarray, optional
        Precomputed ``X^T X`` (paths reuse it).
    cache : PathCache, optional
        Paths pass the same (initially empty) :class:`PathCache` at every alpha
        of one design: what depends on ``X`` only (sorted CSC, its transpose,
        column norms, centring terms of a sparse design) is computed once.
    verbose : int

    Every argument is validated before a compiled kernel runs (shapes, dtypes,
    finiteness; a ``gram_matrix`` is compared with ``X^T X`` on a random probe;
    the datafit's sample weights against ``n_samples``): a ``ValueError`` or
    ``TypeError`` names the argument. A CSC ``X`` with unsorted indices is
    sorted in a copy. Least squares with L1, elastic net or group lasso on data
    whose magnitude is beyond ``2^200`` (or below ``2^-200``) is solved on data
    rescaled by powers of two and mapped back, so that the answer is
    scale-equivariant instead of overflowing in the squared norms (every
    penalty with a rescaling rule, ``penalty.rescaled``). ``certificate`` and
    ``objective`` are then in the caller's units: beyond ``|y| ~ 1e154`` they
    are not representable and read ``inf`` (``coef`` stays exact).

    Returns
    -------
    SolverResult
        ``x``/``coef``, ``n_iter``, ``n_epochs``, ``converged``, ``certificate``,
        ``certificate_name`` ("duality gap" or "KKT violation"), ``objective``,
        ``history``, ``n_screened``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import working_set_cd
    >>> from sparseopt.optimize.penalties import MCP
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 20)); y = 3 * X[:, 0] + 0.1 * rng.standard_normal(50)
    >>> res = working_set_cd(X, y, MCP(alpha=0.1, gamma=3.0), tol=1e-8)
    >>> res.converged, np.flatnonzero(res.coef).tolist()
    (True, [0])
    """
    start = time.perf_counter()
    cache, legacy_cache = _as_path_cache(cache)
    datafit = Quadratic() if datafit is None else datafit
    X, y, w_init, X_mean, row_scale, gram_matrix = _check_solver_inputs(
        X, y, penalty, datafit, w_init, X_mean, row_scale, gram, gram_matrix, cache,
        max_iter=max_iter, max_epochs=max_epochs, tol=tol, p0=p0, check_every=check_every)
    quadratic = isinstance(datafit, Quadratic)
    options = _Options(positive=bool(positive), max_iter=max_iter, max_epochs=max_epochs,
                       tol=tol, p0=p0, check_every=check_every, screening=screening,
                       anderson=anderson, dual_extrapolation=dual_extrapolation,
                       verbose=verbose)
    scales = _extreme_scales(X, y, penalty, quadratic, cache)
    route = _route(X, penalty, datafit)
    if scales is not None:
        result = _solve_rescaled(scales, X, y, penalty, datafit, w_init=w_init, X_mean=X_mean,
                                 row_scale=row_scale, positive=positive, max_iter=max_iter,
                                 max_epochs=max_epochs, tol=tol, p0=p0,
                                 check_every=check_every, screening=screening,
                                 anderson=anderson, dual_extrapolation=dual_extrapolation,
                                 gram=gram, gram_matrix=gram_matrix, cache=cache,
                                 verbose=verbose)
    elif route == "prox_gradient":
        if sp.issparse(X) and X_mean is not None and np.any(X_mean):
            X = _centred_operator(X, X_mean, row_scale)
        result = prox_gradient(X, y, penalty, datafit, w_init=w_init, positive=positive,
                               max_iter=max_iter * 100, tol=tol, verbose=verbose)
    else:
        needs = ("every penalty", "compiled coordinate descent" if route == "scalar"
                 else "group coordinate descent")
        if quadratic and getattr(penalty, "has_gap", False):
            needs += ("a duality gap",)
        check_penalty(penalty, needs)
        design = _make_design(X, y, datafit, penalty, X_mean, row_scale, gram, gram_matrix,
                              cache)
        result = _WorkingSetCD(design, y, penalty, datafit, w_init, options, cache,
                               start).solve()
    if legacy_cache is not None:
        legacy_cache.update(cache.as_dict())
    return result


@dataclass
class _Options:
    """The loop parameters of :func:`working_set_cd` (see its docstring)."""

    positive: bool
    max_iter: int
    max_epochs: int
    tol: float
    p0: int
    check_every: int
    screening: bool
    anderson: bool
    dual_extrapolation: bool
    verbose: int


def _route(X, penalty, datafit):
    """Which solver runs: ``"scalar"`` (CD with the penalty's compiled prox), ``"group"``
    (block CD, dense least squares) or ``"prox_gradient"`` (every other case: penalties
    that are not separable or have no compiled prox, datafits without a CD kernel)."""
    if not getattr(penalty, "separable", True) or not isinstance(datafit, (Quadratic, Logistic)):
        return "prox_gradient"
    if getattr(penalty, "grouped", False):
        return "group" if not sp.issparse(X) and isinstance(datafit, Quadratic) \
            else "prox_gradient"
    return "scalar" if kernel_kind(penalty) is not None else "prox_gradient"


def _make_design(X, y, datafit, penalty, X_mean, row_scale, gram, gram_matrix, cache):
    """The design object of the CD loop: CSC (implicitly centred), Gram or dense."""
    quadratic = isinstance(datafit, Quadratic)
    n, p = X.shape
    y = np.ascontiguousarray(y, dtype=X.dtype)
    if sp.issparse(X):
        return _SparseDesign(X, y, datafit, X_mean, row_scale if quadratic else None,
                             cache=cache)
    use_gram = (gram is True or (gram == "auto" and n > 2 * p and p <= 2000
                                 and X.dtype == np.float64)) and quadratic \
        and not penalty.grouped
    return _GramDesign(X, y, datafit, gram_matrix) if use_gram else _DenseDesign(X, y, datafit)


@dataclass
class _Certificate:
    """The outer certificate at the current ``w`` and what the working-set step reads."""

    crit: float               # compared with the threshold (n * gap for least squares)
    certificate: float        # as reported (the gap in 1/n units, or the KKT violation)
    primal: float
    gap: float = np.inf
    kkt: np.ndarray | None = None           # KKT violation per unit (no gap)
    dual_corr: np.ndarray | None = None     # X~^T theta / (n lam1) at the dual point (gap)
    kkt_crit: float = np.inf                # the largest KKT violation (no gap)


@dataclass
class _InnerRun:
    epochs: int
    stalled: bool
    divergent: bool


class _StopMonitor:
    """The early stops of the outer loop: sublinear progress ("stagnation") and a
    certificate stuck at the rounding floor ("precision"); see the module constants."""

    def __init__(self, max_epochs):
        self.max_epochs = max_epochs
        self.marks, self.sublinear_runs = [], 0  # (epochs so far, certificate) per iteration
        self.slow_runs, self.crit_at_exhaustion = 0, np.inf
        self.prev_crit, self.best_crit, self.outer_stalls = np.inf, np.inf, 0

    def before_inner(self, n_epochs_total, crit):
        """``"stagnation"`` when the epochs per halving of the certificate keep doubling,
        or a subproblem used all of max_epochs without halving it; else None."""
        self.marks.append((n_epochs_total, crit))
        if len(self.marks) >= 3:
            (e0, c0), (e1, c1), (e2, c2) = self.marks[-3:]
            per_halving = [(e1 - e0) / max(np.log2(c0 / c1), 1e-12) if c1 > 0 else np.inf,
                           (e2 - e1) / max(np.log2(c1 / c2), 1e-12) if c2 > 0 else np.inf]
            grew = per_halving[1] >= 2 * per_halving[0] and e2 - e1 >= SUBLINEAR_MIN_EPOCHS \
                and e1 - e0 >= SUBLINEAR_MIN_EPOCHS
            self.sublinear_runs = self.sublinear_runs + 1 if grew else 0
            if self.sublinear_runs >= SUBLINEAR_RUNS:
                return "stagnation"
        if self.slow_runs and crit > 0.5 * self.crit_at_exhaustion:
            if self.slow_runs >= SLOW_OUTER:
                return "stagnation"
        elif self.slow_runs:
            self.slow_runs = 0
        return None

    def after_inner(self, run, crit):
        """``"precision"`` when CD cannot move and the certificate did not improve, or
        when it is stuck for STALL_OUTER outer iterations; else None."""
        if run.epochs >= self.max_epochs:  # the subproblem used its whole budget
            if self.slow_runs == 0 or crit > 0.5 * self.crit_at_exhaustion:
                self.slow_runs += 1
            self.crit_at_exhaustion = crit
        if run.stalled and run.epochs == 1 and crit >= self.prev_crit:
            return "precision"
        if crit < self.best_crit * (1 - STALL_RTOL):
            self.best_crit, self.outer_stalls = crit, 0
        elif run.stalled:
            self.outer_stalls += 1
            if self.outer_stalls >= STALL_OUTER:
                return "precision"
        self.prev_crit = crit
        return None


class _WorkingSetCD:
    """One solve of :func:`working_set_cd`, in the steps of the outer loop.

    ``solve`` repeats: :meth:`outer_certificate` (duality gap or KKT violation at
    ``w``), :meth:`select_working_set` (Gap Safe screening, then the units closest to
    violating their optimality condition), :meth:`inner_solve` (CD epochs on the working
    set with Anderson extrapolation, until :meth:`inner_certificate` is below a fraction
    of the outer one). :meth:`extrapolated_gap` (the dual point from extrapolated
    residuals) serves both certificates.
    """

    def __init__(self, design, y, penalty, datafit, w_init, options, cache, start):
        self.design, self.penalty, self.datafit = design, penalty, datafit
        self.opts, self.cache, self.start = options, cache, start
        self.dtype = dtype = design.X.dtype
        self.n, self.p = design.n_samples, design.n_features
        self.y = np.ascontiguousarray(y, dtype=dtype)
        self.quadratic = isinstance(datafit, Quadratic)
        self.w = np.zeros(self.p, dtype) if w_init is None else np.array(w_init, dtype=dtype,
                                                                          copy=True)
        self.lipschitz = np.ascontiguousarray(datafit.lipschitz(design.col_sq_norms, self.n),
                                              dtype=dtype)
        unit_sq_norms = self._init_units()
        self._init_certificate(unit_sq_norms)
        self._init_state()
        self.stored_residuals = []
        self.neg_grad, self.grad_at = None, None

    def _init_units(self):
        """Features or groups: what the CD epochs read; returns the units' ``||X_u||_2^2``."""
        penalty, design, n, dtype = self.penalty, self.design, self.n, self.dtype
        self.grouped = penalty.grouped
        if self.grouped:
            if not hasattr(penalty, "group_ptr"):
                penalty.bind(self.p)
            self.n_units = penalty.n_groups
            unit_sq_norms = _group_spectral_sq(design, penalty)  # ||X_g||_2^2
            self.group_lipschitz = np.ascontiguousarray(unit_sq_norms / n, dtype=dtype)
            self.lam_g = np.ascontiguousarray(
                penalty.alpha * penalty.unit_weights(self.n_units), dtype=dtype)
            return unit_sq_norms
        self.n_units = self.p
        _, lam, gamma, l2 = penalty.kernel_arrays(self.p, dtype)
        self.kernel = (kernel_kind(penalty), np.ascontiguousarray(lam),
                       np.ascontiguousarray(gamma), l2, self.opts.positive)
        return design.col_sq_norms.astype(np.float64)

    def _init_certificate(self, unit_sq_norms):
        """Which certificate (gap or KKT), its threshold, and the screening state."""
        penalty, design, opts, n, y = self.penalty, self.design, self.opts, self.n, self.y
        self.l2 = l2 = float(getattr(penalty, "l2", 0.0))
        self.lam1 = lam1 = penalty.alpha * getattr(penalty, "l1_ratio", 1.0)
        # plain least squares (no L1, no ridge) has no dual certificate from the residual:
        # KKT; so too when the unpenalised block is too large to refit before every gap
        self.use_gap = self.quadratic and getattr(penalty, "has_gap", False) \
            and not (lam1 <= 0 and l2 <= 0) \
            and _FreeFeatures.affordable(n, _n_free_features(penalty, self.p))
        # Gap Safe: ||x~_j|| for the augmented (elastic-net) design
        self.unit_norms = np.sqrt(unit_sq_norms + n * l2)
        self.screened = np.zeros(self.n_units, dtype=bool)
        self.unpenalised = _unpenalised_units(penalty, self.n_units)
        # logistic + L1 / elastic net: a duality gap too, stopping at gap <= tol * f(0)
        # (f(0) = log 2 for unit weights); every other KKT test is relative to
        # ||grad f(0)||_inf
        self.logit_gap = None if self.quadratic else make_logistic_gap(
            design.X, y, self.datafit, penalty, opts.positive)
        if self.use_gap:
            self.threshold = opts.tol * float(y @ y)
        elif self.logit_gap is not None:
            self.threshold = opts.tol * self.logit_gap.f0
        else:
            self.threshold = opts.tol * _kkt_scale(design, y, self.datafit)
        # the dual point must vanish on the unpenalised features: refit them before a gap
        self.free = _FreeFeatures.from_design(
            design, self.unit_features(np.flatnonzero(self.unpenalised)), l2,
            opts.positive) if self.use_gap and np.any(self.unpenalised) else None
        # dual extrapolation (celer): a dual point from the residuals at the last
        # DUAL_EXTRAPOLATION_K inner checks (lasso-type problems; the Gram design has no
        # X^T R_acc at the cost of a gradient)
        self.extrapolate_dual = opts.dual_extrapolation and l2 == 0 \
            and (self.free is None or not opts.positive) and design.kind != "gram"

    def _init_state(self):
        """The design's residual (or ``Xw``) at ``w``: a path's previous state when it is
        the state of this very ``w`` (sparse designs), with its last full gradient."""
        design, w = self.design, self.w
        last = None if self.cache is None or design.kind != "sparse" \
            else self.cache.last_state
        if last is not None and last.w.shape == w.shape and last.w.dtype == w.dtype \
                and np.array_equal(last.w, w):
            design.init_state(w, state=last.design_state)  # no X @ w pass
        else:
            design.init_state(w)
        # the previous alpha's last full gradient, when it was taken at this very w
        self.reuse_grad = last.neg_grad if last is not None and last.grad_at is not None \
            and np.array_equal(last.grad_at, w) else None

    # -------------------------------------------------------------- small helpers
    def objective(self):
        return self.design.datafit_value() + self.penalty.value(self.w)

    def unit_features(self, units):
        """The features of the units (groups) ``units``."""
        if not self.grouped:
            return units.astype(np.int32)
        pen = self.penalty
        return np.concatenate([pen.group_features[pen.group_ptr[g]:pen.group_ptr[g + 1]]
                               for g in units]).astype(np.int32)

    def run_epochs(self, ws_units, n_epochs):
        if self.grouped:
            return self.design.group_epochs(self.w, self.penalty, self.group_lipschitz,
                                            ws_units, self.lam_g, n_epochs,
                                            self.opts.positive)
        return self.design.epochs(self.w, self.lipschitz, ws_units, self.kernel, n_epochs)

    def kkt_violation(self, grad, units=None):
        """``dist(-grad_j, d p_j(w_j))`` per unit (on ``units`` when given)."""
        w64 = self.w.astype(np.float64)
        if self.grouped:
            kkt = self.penalty.subdiff_distance(w64, grad, positive=self.opts.positive)
        else:
            kkt = self.penalty.subdiff_distance(w64, grad, self.lipschitz.astype(np.float64),
                                                self.opts.positive)
        return kkt if units is None else kkt[units]

    def duality_gap(self, R, XtR, cols=None):
        """Gap at the residual's dual point (the free features refitted first)."""
        w64 = self.w.astype(np.float64)
        R_d, XtR_d, w_d = (R, XtR, w64) if self.free is None else \
            self.free.dual_point(R, XtR, w64, cols)
        gap, primal, _, s = _duality_gap(self.y, w64, self.penalty, R, XtR, self.n,
                                         self.opts.positive, R_d, XtR_d, w_d)
        return gap, primal, s, XtR_d, w_d

    def extrapolated_gap(self, R, XtR, cols=None):
        """``(gap, s, X^T R_acc)`` at the dual point built from the extrapolated residual
        ``R_acc`` of the stored ones (``X^T R_acc`` on ``cols`` only when given), or None."""
        if not self.extrapolate_dual or len(self.stored_residuals) < DUAL_EXTRAPOLATION_K:
            return None
        residuals = self.stored_residuals[-DUAL_EXTRAPOLATION_K:]
        c = _extrapolation_weights(residuals)
        if c is None:
            return None
        R_acc = sum(ck * r for ck, r in zip(c, residuals))
        if self.free is not None:  # project out the unpenalised columns (l2 = 0)
            R_acc = self.free.project(R_acc)
        if cols is None:
            XtR_acc = np.asarray(self.design.rmatvec(R_acc.astype(self.dtype)), np.float64)
        else:
            XtR_acc = np.zeros(self.p)
            XtR_acc[cols] = self.design.rmatvec(R_acc.astype(self.dtype), cols)
        gap, _, _, s = _duality_gap(self.y, self.w.astype(np.float64), self.penalty, R, XtR,
                                    self.n, self.opts.positive, R_dual=R_acc,
                                    XtR_dual=XtR_acc)
        return gap, s, XtR_acc

    # -------------------------------------------------------------- the steps
    def outer_certificate(self):
        """The certificate at ``w`` from a full gradient (see the module docstring)."""
        design, n, logit_gap = self.design, self.n, self.logit_gap
        if logit_gap is not None and self.dtype == np.float32:
            # Xw afresh: float32 drift of the CD updates would bias the gap
            design.init_state(self.w)
        v_gap = None
        if self.reuse_grad is not None:
            self.neg_grad, self.reuse_grad = self.reuse_grad, None
        elif logit_gap is not None:  # -grad f and the dual point's X^T theta in one pass
            self.neg_grad, v_gap, rho_gap = logit_gap.neg_grad_and_dual(
                design.rmatvec, design.product_dtype, design.Xw())
        else:
            self.neg_grad = design.neg_grad()  # X^T R / n for least squares
        self.grad_at = self.w.copy() if self.cache is not None else None
        if self.use_gap:
            R = design.residual().astype(np.float64)
            XtR = self.neg_grad.astype(np.float64) * n
            gap, primal, s, XtR_d, w_d = self.duality_gap(R, XtR)
            dual_corr = s * (XtR_d - n * self.l2 * w_d) / (n * self.lam1) if self.lam1 > 0 \
                else XtR * 0
            extrapolated = self.extrapolated_gap(R, XtR)
            if extrapolated is not None and extrapolated[0] < gap:
                gap, s, XtR_acc = extrapolated
                dual_corr = s * XtR_acc / (n * self.lam1)
            self.stored_residuals = []
            return _Certificate(crit=n * gap, certificate=gap, primal=primal, gap=gap,
                                dual_corr=dual_corr)
        kkt = self.kkt_violation(-self.neg_grad.astype(np.float64))
        crit = float(np.max(kkt)) if kkt.size else 0.0
        cert = _Certificate(crit=crit, certificate=crit, primal=self.objective(), kkt=kkt,
                            kkt_crit=crit)
        if logit_gap is not None:
            z = design.Xw()
            if v_gap is None:
                rho_gap, changed = logit_gap.dual_rho(z)
                v_gap = design.rmatvec(logit_gap.theta(rho_gap).astype(design.product_dtype)) \
                    if changed else self.neg_grad
            cert.crit, cert.primal, _ = logit_gap.gap(z, self.w, v_gap, rho_gap)
            cert.certificate = cert.crit
        return cert

    def select_working_set(self, cert):
        """Screen (Gap Safe), then keep the units closest to violating their condition."""
        penalty, opts = self.penalty, self.opts
        support_units = penalty.support(self.w)
        if self.use_gap:
            corr = penalty.unit_dual(cert.dual_corr, opts.positive)  # |x_j^T theta| / w_j <= 1
            if opts.screening:
                radius = np.sqrt(2 * cert.gap / self.n) / self.lam1 if self.lam1 > 0 else np.inf
                weights_u = penalty.unit_weights(self.n_units)
                with np.errstate(divide="ignore", invalid="ignore"):
                    bound = corr + radius * self.unit_norms / np.where(weights_u > 0,
                                                                       weights_u, 1)
                new = (bound < 1) & ~self.unpenalised
                new[support_units] = False  # only zero units are dropped (their w is 0)
                self.screened |= new
            with np.errstate(divide="ignore", invalid="ignore"):
                score = np.where(self.unit_norms > 0, (1 - corr) / self.unit_norms, np.inf)
        else:
            score = -cert.kkt
        score = score.astype(np.float64)
        score[self.unpenalised] = -np.inf
        score[support_units] = -np.inf
        score[self.screened] = np.inf
        n_candidates = int(self.n_units - self.screened.sum())
        ws_size = min(max(opts.p0, 2 * support_units.size, int(np.sum(self.unpenalised))),
                      n_candidates)
        self.ws_size = ws_size = max(ws_size, 1)
        if ws_size < self.n_units:
            return np.sort(np.argpartition(score, ws_size - 1)[:ws_size]).astype(np.int32)
        return np.arange(self.n_units, dtype=np.int32)

    def inner_certificate(self, ws_units, ws_feats, inner_threshold):
        """The certificate of the subproblem restricted to the working set."""
        ng_ws = self.design.neg_grad(ws_feats).astype(np.float64)
        if not self.use_gap:
            grad_full = np.zeros(self.p)
            grad_full[ws_feats] = -ng_ws
            inner_kkt = self.kkt_violation(grad_full, ws_units if self.grouped else ws_feats)
            return float(np.max(inner_kkt)) if inner_kkt.size else 0.0
        R = self.design.residual().astype(np.float64)
        XtR_full = np.zeros(self.p)
        XtR_full[ws_feats] = ng_ws * self.n
        if self.extrapolate_dual:
            self.stored_residuals.append(R.copy())
            self.stored_residuals = self.stored_residuals[-DUAL_EXTRAPOLATION_K:]
        inner_gap = self.duality_gap(R, XtR_full, ws_feats)[0]
        if inner_gap * self.n > inner_threshold:
            extrapolated = self.extrapolated_gap(R, XtR_full, ws_feats)
            if extrapolated is not None:
                inner_gap = min(inner_gap, extrapolated[0])
        return self.n * inner_gap

    def inner_solve(self, ws_units, inner_threshold):
        """CD epochs on the working set until its certificate is ``<= inner_threshold``,
        the epoch budget is spent, CD stalls, or (logistic) the coefficients diverge."""
        opts = self.opts
        ws_feats = self.unit_features(ws_units)
        epochs_done, stalled = 0, False
        iterates, states = [], []
        best_inner, checks_without_progress, obj_ref = np.inf, 0, np.inf
        obj_floor = STALL_EPS * float(np.finfo(self.dtype).eps)
        n_checks = 0
        while epochs_done < opts.max_epochs and not stalled:
            for _ in range(opts.check_every):
                # an epoch that moves no coefficient is a fixed point of CD: more epochs
                # cannot lower the certificate (it is at the rounding floor)
                stalled = self.run_epochs(ws_units, 1) == 0
                epochs_done += 1
                if stalled:
                    break
                if opts.anderson:
                    iterates.append(self.w[ws_feats].astype(np.float64))
                    states.append(self.design.get_state())
                    if len(iterates) == ANDERSON_K:
                        _anderson_step(self.w, ws_feats, iterates, states, self.design,
                                       self.objective, opts.positive)
                        iterates, states = [], []
            inner_crit = self.inner_certificate(ws_units, ws_feats, inner_threshold)
            if inner_crit <= inner_threshold:
                break
            n_checks += 1
            if not self.quadratic and not self.grouped and n_checks % DIVERGENCE_CHECKS == 0 \
                    and _unbounded_ray(self.design, self.w, self.penalty):
                return _InnerRun(epochs_done, stalled, divergent=True)
            if inner_crit < best_inner * (1 - STALL_RTOL):
                best_inner, checks_without_progress, obj_ref = inner_crit, 0, np.inf
            else:
                checks_without_progress += 1
                if checks_without_progress == 1:
                    obj_ref = self.objective()
                elif checks_without_progress >= STALL_CHECKS:
                    obj = self.objective()
                    stalled = obj_ref - obj <= obj_floor * max(abs(obj), 1e-300)
                    if not stalled:  # the objective still moves: a plateau, new window
                        checks_without_progress, obj_ref = 1, obj
        return _InnerRun(epochs_done, stalled, divergent=False)

    def solve(self):
        opts, design = self.opts, self.design
        history = []
        converged, n_epochs_total, n_iter = False, 0, 0
        cert = None
        self.ws_size = opts.p0
        stop_reason = "max_iter"
        monitor = _StopMonitor(opts.max_epochs)
        for n_iter in range(1, opts.max_iter + 1):
            cert = self.outer_certificate()
            n_screened = int(self.screened.sum())
            history.append({"iter": n_iter, "certificate": cert.certificate,
                            "objective": cert.primal, "time": time.perf_counter() - self.start,
                            "epochs": n_epochs_total, "ws_size": self.ws_size,
                            "n_screened": n_screened})
            if opts.verbose:
                print(f"[working_set_cd] iter {n_iter:3d}  objective {cert.primal:.8e}  "
                      f"certificate {cert.certificate:.3e}  ws {self.ws_size}  "
                      f"screened {n_screened}")
            if not np.isfinite(cert.crit):
                raise FloatingPointError(
                    f"working_set_cd: non-finite certificate ({cert.crit}) at outer iteration "
                    f"{n_iter}; the data or the penalty are not finite.")
            if cert.crit <= self.threshold:
                converged, stop_reason = True, "converged"
                break
            reason = monitor.before_inner(n_epochs_total, cert.crit)
            if reason is None and not self.quadratic and not self.grouped \
                    and _unbounded_ray(design, self.w, self.penalty):
                reason = "divergence"
            if reason is not None:
                stop_reason = reason
                break
            ws_units = self.select_working_set(cert)
            # (logistic gap: the subproblems are solved to a fraction of the outer KKT
            # violation, as cheap as before the gap existed; the gap decides the stop)
            inner_threshold = INNER_FRACTION * (cert.kkt_crit if self.logit_gap is not None
                                                else cert.crit)
            run = self.inner_solve(ws_units, inner_threshold)
            n_epochs_total += run.epochs
            if run.divergent:
                stop_reason = "divergence"
                break
            reason = monitor.after_inner(run, cert.crit)
            if reason is not None:
                stop_reason = reason
                break
        if stop_reason == "max_iter" and _stuck_at_rounding_floor(history, self.dtype):
            stop_reason = "precision"
        # the reported objective from a fresh X w (one product): the incrementally updated
        # state carries the rounding of every coordinate step (1e-11 relative seen on a
        # logistic fit with an intercept)
        design.init_state(self.w)
        if self.cache is not None and design.kind == "sparse":
            self.cache.last_state = LastState(self.w.copy(), design.get_state(), self.grad_at,
                                              self.neg_grad)
        use_gap = self.use_gap
        return SolverResult(
            x=self.w, coef=self.w, n_iter=n_iter, n_epochs=n_epochs_total,
            converged=converged, certificate=float(cert.certificate),
            certificate_name="duality gap" if use_gap or self.logit_gap is not None
            else "KKT violation",
            tol=opts.tol, objective=float(self.objective()), history=history,
            n_screened=int(self.screened.sum()), design=design.kind,
            time=time.perf_counter() - self.start, stop_reason=stop_reason,
            advice=_advice(stop_reason, self.dtype),
            threshold=float(self.threshold / self.n if use_gap else self.threshold))


def _stuck_at_rounding_floor(history, dtype):
    """Whether the last PRECISION_WINDOW outer iterations of ``history`` left the
    certificate and the objective where they were (see PRECISION_WINDOW)."""
    if len(history) <= PRECISION_WINDOW:
        return False
    earlier_best = min(h["certificate"] for h in history[:-PRECISION_WINDOW])
    window = history[-PRECISION_WINDOW - 1:]
    if min(h["certificate"] for h in window[1:]) < 0.5 * earlier_best:
        return False
    objectives = [h["objective"] for h in window]
    floor = STALL_EPS * float(np.finfo(dtype).eps) * max(abs(objectives[-1]), 1e-300)
    return max(objectives) - min(objectives) <= floor


def _advice(stop_reason, dtype):
    """The advice of a stop, naming the working dtype for a precision stop."""
    advice = STOP_ADVICE.get(stop_reason, "")
    if stop_reason == "precision":
        advice += f" (Working dtype: {np.dtype(dtype).name}, machine epsilon " \
                  f"{float(np.finfo(dtype).eps):.1e}.)"
    return advice


def _unbounded_ray(design, w, penalty):
    """Logistic loss: does the objective decrease forever along ``w``'s flat coordinates?

    ``d`` keeps the non-zero coordinates of ``w`` where the penalty's slope is 0 from
    ``|w_j|`` on (unpenalised, MCP / SCAD beyond ``gamma * alpha``, l0). Moving along
    ``d`` leaves the penalty constant; if every sample with positive weight has
    ``y_i (X d)_i >= 0``, one of them ``> 0``, the loss strictly decreases along ``w + t d``
    for all ``t > 0``: the infimum is not attained on that ray (separable classes).
    """
    w64 = w.astype(np.float64)
    a = np.abs(w64)
    nz = a > 0
    if not np.any(nz):
        return False
    _, lam, gamma, _ = penalty.kernel_arrays(w.shape[0], np.dtype(np.float64))
    if kernel_kind(penalty) == PenaltyKind.L0:
        flat = nz
    else:
        try:
            slope = penalty.derivative_abs(a, lam, gamma)
        except (NotImplementedError, AttributeError):  # l_q: slope > 0 unless unpenalised
            slope = lam
        flat = nz & (np.asarray(slope) == 0)
    idx = np.flatnonzero(flat)
    if idx.size == 0:
        return False
    Xd = np.asarray(design.matvec(w.astype(design.X.dtype), idx), dtype=np.float64).ravel()
    margins = (design.y * Xd)[design.sw > 0]
    return bool(np.all(margins >= 0) and np.any(margins > 0))


def _n_free_features(penalty, n_features):
    """How many features have weight 0 (in a group of weight 0)."""
    if penalty.grouped:
        if not hasattr(penalty, "group_ptr"):
            penalty.bind(n_features)
        return int(np.diff(penalty.group_ptr)[penalty.unit_weights(penalty.n_groups) == 0].sum())
    _, lam, _, _ = penalty.kernel_arrays(n_features, np.dtype(np.float64))
    return int(np.sum(lam == 0))


class _FreeFeatures:
    """The unpenalised features (weight 0) of a least-squares problem with a duality gap.

    The dual constraint on such a feature is ``x~_j^T theta = 0`` (``<= 0`` with
    ``positive``), which rescaling the residual cannot enforce. Before a gap,
    :meth:`dual_point` refits them exactly given the penalised part: ``w'`` equals
    ``w`` but for the free block, which minimises the objective with the rest
    fixed (a k-variable least-squares problem on ``[X_U / sqrt(n); diag(sqrt(ridge))]``,
    bounded below by ``lower`` when given), so that ``y - X w'`` satisfies the
    constraint and ``P(w) - D(theta(w'))`` bounds ``P(w) - P*``. The free block is
    held dense: beyond :attr:`BUDGET` entries (``k (n + k)``) the solvers certify
    with the KKT violation instead.

    ``XU``: the free columns, dense (n, k); ``rmatvec(r, cols=None)``: ``X^T r`` (on
    ``cols``); ``ridge``: the ridge weight of each free column; ``lower``: their lower
    bounds (None: unconstrained).
    """

    BUDGET = 20_000_000

    @classmethod
    def affordable(cls, n_samples, n_free):
        return n_free * (n_samples + n_free) <= cls.BUDGET

    def __init__(self, XU, rmatvec, n_features, ridge, lower=None):
        self.XU = np.asarray(XU, dtype=np.float64)
        n, k = self.XU.shape
        self.n, self.rmatvec, self.lower = n, rmatvec, lower
        self.ridge = np.asarray(ridge, dtype=np.float64)
        self.M = np.vstack([self.XU / np.sqrt(n), np.diag(np.sqrt(self.ridge))])
        self.M_pinv = np.linalg.pinv(self.M)
        # X^T X_U once (k gradients), so that a dual point costs O(pk), not a gradient;
        # only when it is small (else X^T (X_U delta) is recomputed each time)
        self.XtXU = None
        if n_features * k <= 10_000_000:
            self.XtXU = np.column_stack([np.asarray(rmatvec(self.XU[:, i]), np.float64)
                                         for i in range(k)])

    @classmethod
    def from_design(cls, design, feats, l2, positive):
        """The free features ``feats`` of a working-set design (centred CSC columns
        densified: k columns only)."""
        XU = design.X[:, feats]
        if design.kind == "sparse":
            XU = XU.toarray() - np.outer(design.v, design.X_mean[feats])
        dtype = design.X.dtype

        def rmatvec(r, cols=None):
            return design.rmatvec(np.ascontiguousarray(r, dtype=dtype), cols)

        out = cls(XU, rmatvec, design.n_features, np.full(feats.size, l2),
                  np.zeros(feats.size) if positive else None)
        out.feats = feats
        return out

    def _delta(self, R, wU):
        n, k = self.n, self.ridge.size
        if self.lower is not None:
            b = np.concatenate([(R + self.XU @ wU) / np.sqrt(n), np.zeros(k)])
            u = scipy.optimize.lsq_linear(self.M, b, bounds=(self.lower, np.inf), method="bvls").x
            return u - wU
        return self.M_pinv @ np.concatenate([R / np.sqrt(n), -np.sqrt(self.ridge) * wU])

    def project(self, R):
        """``R`` minus its projection on the free columns (no ridge, no sign constraint)."""
        return R - self.XU @ (self.M_pinv[:, :self.n] @ (R / np.sqrt(self.n)))

    def refit(self, R, XtR, wU, cols=None):
        """``(R', X^T R', w_U')`` after the refit; ``X^T R'`` on ``cols`` only (the other
        entries of ``XtR`` are kept) when ``cols`` is given, as the inner gap's ``XtR``."""
        delta = self._delta(R, wU)
        shift = self.XU @ delta
        if cols is None:
            XtR_d = XtR - (self.XtXU @ delta if self.XtXU is not None
                           else np.asarray(self.rmatvec(shift), np.float64))
        else:
            XtR_d = XtR.copy()
            XtR_d[cols] -= self.XtXU[cols] @ delta if self.XtXU is not None else \
                self.rmatvec(shift, cols)
        return R - shift, XtR_d, wU + delta

    def dual_point(self, R, XtR, w, cols=None):
        """:meth:`refit` for a design's ``w`` (built by :meth:`from_design`): ``(R', X^T R', w')``."""
        R_d, XtR_d, wU = self.refit(R, XtR, w[self.feats], cols)
        w_d = w.copy()
        w_d[self.feats] = wU
        return R_d, XtR_d, w_d


def _kkt_scale(design, y, datafit):
    """``||grad f(0)||_inf``: the KKT test's unit (1 when it is 0), so that rescaling X or y
    does not change when the solver stops."""
    g0 = design.rmatvec(np.ascontiguousarray(datafit.raw_gradient(y, np.zeros_like(y)),
                                             dtype=design.X.dtype))
    scale = float(np.max(np.abs(g0))) if g0.size else 0.0
    return scale if np.isfinite(scale) and scale > 0 else 1.0


def _unpenalised_units(penalty, n_units):
    if penalty.grouped:
        return penalty.unit_weights(n_units) == 0
    _, lam, _, _ = penalty.kernel_arrays(n_units, np.dtype(np.float64))
    return lam == 0


def _group_spectral_sq(design, penalty):
    out = np.empty(penalty.n_groups)
    for g in range(penalty.n_groups):
        cols = penalty.group_features[penalty.group_ptr[g]:penalty.group_ptr[g + 1]]
        Xg = design.X[:, cols]
        out[g] = np.linalg.norm(np.asarray(Xg, dtype=np.float64), 2) ** 2 if cols.size > 1 \
            else float(design.col_sq_norms[cols[0]])
    return out


def _anderson_step(w, ws_feats, iterates, states, design, objective, positive=False):
    """Anderson extrapolation (skglm): accept ``sum c_k w^(k)`` only if the objective decreases
    (and, with ``positive``, if it stays feasible: the weights ``c`` can be negative)."""
    c = _extrapolation_weights(iterates)
    if c is None:
        return False
    w_e = sum(ck * it for ck, it in zip(c, iterates[1:]))
    if positive and np.any(w_e < 0):
        return False
    state_e = _combine_states(states[1:], c)
    current_obj = objective()
    w_cur = w[ws_feats].copy()
    state_cur = design.get_state()
    w[ws_feats] = w_e
    design.set_state(state_e)
    if objective() < current_obj:
        return True
    w[ws_feats] = w_cur
    design.set_state(state_cur)
    return False


# ----------------------------------------------------------------------- prox gradient
def prox_gradient(X, y, penalty, datafit=None, *, w_init=None, positive=False, max_iter=5000,
                  tol=1e-4, verbose=0):
    """FISTA with adaptive restart for penalties without a CD kernel (SEF, WGSEF, ...).

    Step ``1/L`` with ``L`` the global Lipschitz constant of the datafit
    gradient. Nonconvex penalties use plain proximal gradient (monotone).
    Certificate: ``L * ||w - prox(w - grad f(w)/L)||_inf`` (fixed-point residual),
    stopping when it is ``<= tol * ||grad f(0)||_inf`` (relative, so that rescaling X or
    y does not change when the solver stops; ``tol`` alone when ``grad f(0) = 0``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import prox_gradient
    >>> from sparseopt.optimize.penalties import SEF
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 10)); y = X[:, 0] - X[:, 1]
    >>> res = prox_gradient(X, y, SEF(alpha=0.01, k=2), tol=1e-8)
    >>> bool(res.converged)
    True
    """
    start = time.perf_counter()
    datafit = Quadratic() if datafit is None else datafit
    X, y, w_init, _, _, _ = _check_solver_inputs(
        X, y, penalty, datafit, w_init, None, None, "auto", None, None, max_iter=max_iter,
        tol=tol, owner="prox_gradient")
    scales = _extreme_scales(X, y, penalty, isinstance(datafit, Quadratic))
    if scales is not None:  # (see working_set_cd)
        return _solve_rescaled(scales, X, y, penalty, datafit, w_init=w_init,
                               solver=prox_gradient, positive=positive, max_iter=max_iter,
                               tol=tol, verbose=verbose)
    dtype = X.dtype
    n, p = X.shape
    if isinstance(X, spla.LinearOperator):
        Xd = X
    else:
        Xd = X.astype(np.float64) if not sp.issparse(X) else sp.csc_matrix(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if getattr(penalty, "grouped", False) and not hasattr(penalty, "group_ptr"):
        penalty.bind(p)
    L = datafit.global_lipschitz(_spectral_sq(Xd), n) * 1.0001
    L = L if L > 0 else 1.0
    step = 1.0 / L
    w = np.zeros(p) if w_init is None else np.array(w_init, dtype=np.float64)

    def grad(v):
        return np.asarray(Xd.T @ datafit.raw_gradient(y, np.asarray(Xd @ v).ravel())).ravel()

    def F(v):
        return datafit.value(y, np.asarray(Xd @ v).ravel()) + penalty.value(v)

    z, t, F_old = w.copy(), 1.0, F(w)
    accelerate = penalty.is_convex
    converged, crit, it = False, np.inf, 0
    g0 = float(np.max(np.abs(grad(np.zeros(p))))) if p else 0.0
    threshold = tol * (g0 if np.isfinite(g0) and g0 > 0 else 1.0)
    history = []
    for it in range(1, max_iter + 1):
        w_new = penalty.prox(z - step * grad(z), step, positive)
        F_new = F(w_new)
        if accelerate and F_new > F_old:  # adaptive restart (O'Donoghue & Candes)
            z, t = w.copy(), 1.0
            w_new = penalty.prox(z - step * grad(z), step, positive)
            F_new = F(w_new)
        if accelerate:
            t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
            z = w_new + ((t - 1) / t_new) * (w_new - w)
            t = t_new
        else:
            z = w_new
        w, F_old = w_new, F_new
        if it % 10 == 0 or it == max_iter:
            crit = L * float(np.max(np.abs(w - penalty.prox(w - step * grad(w), step, positive)))) \
                if p else 0.0
            history.append({"iter": it, "certificate": crit, "objective": F_new,
                            "time": time.perf_counter() - start})
            if verbose:
                print(f"[prox_gradient] iter {it:5d}  objective {F_new:.8e}  residual {crit:.3e}")
            if crit <= threshold:
                converged = True
                break
    coef = w.astype(dtype)
    return SolverResult(x=coef, coef=coef, n_iter=it, n_epochs=it, converged=converged,
                        certificate=float(crit), certificate_name="prox fixed-point residual",
                        tol=tol, objective=float(F_old), history=history, n_screened=0,
                        design="prox_gradient", time=time.perf_counter() - start)


def enet_working_set_cd(X, y, l1, l2=0.0, *, w_init=None, X_mean=None, row_scale=None,
                        positive=False, max_iter=50, max_epochs=50_000, tol=1e-4, p0=10,
                        check_every=10, verbose=0, **kwargs):
    """Elastic net ``(1/2n)||y - Xw||^2 + l1 ||w||_1 + (l2/2)||w||^2`` by :func:`working_set_cd`.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import enet_working_set_cd
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 20)); y = X[:, 0] * 3 + 0.1 * rng.standard_normal(50)
    >>> res = enet_working_set_cd(X, y, l1=0.1, tol=1e-10)
    >>> res.converged, int(np.flatnonzero(res.coef)[0])
    (True, 0)
    """
    _check_enet_strengths(l1, l2, "enet_working_set_cd")
    return working_set_cd(X, y, _enet_penalty(l1, l2), Quadratic(), w_init=w_init, X_mean=X_mean,
                          row_scale=row_scale, positive=positive, max_iter=max_iter,
                          max_epochs=max_epochs, tol=tol, p0=p0, check_every=check_every,
                          verbose=verbose, **kwargs)

