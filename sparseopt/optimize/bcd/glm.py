"""Sparse linear models solved by :class:`BlockCoordinateDescent` (``solver=`` of the estimators).

The estimators of :mod:`sparseopt.linear_model` prepare ``(X, y, penalty,
datafit)`` for :func:`~sparseopt.optimize.working_set_cd`; this module solves
the same problem with a block coordinate descent instance and reports the
same certificate, so that the two solvers are interchangeable.

Objective (scikit-learn's scale)::

    datafit(y, Xw) + sum_j lam_j |w_j| + (l2 / 2) ||w||^2

Multiplied by ``n`` it is BCD's ``f + psi``: least squares ``1/2||y - Xw||^2``
or the logistic loss summed over samples, plus ``psi = sum_j n lam_j |w_j|``
(``w >= 0`` when ``positive``). The ridge part of the elastic net is least
squares on the augmented design ``[X; sqrt(n l2) I]``, ``[y; 0]``. An
implicitly centred sparse design (``X_mean``) gets one unpenalised extra
column ``v`` (the row scaling, ones without sample weights): minimising over
its coefficient projects the residual off ``v``, which is exactly the
centring (``y`` is already centred).

The logistic loss with sample weights ``s_i`` and/or a ridge part is solved
exactly with one loss over stacked rows (:class:`_WeightedLogisticRidgeLoss`):
the logistic rows of the design are scaled by ``sqrt(s_i) / 2`` so that their
curvature bound is 1 (the block bounds ``H_b`` are then ``A_b^T S A_b / 4``,
the same as the unweighted ``logistic`` objective's when ``s = 1``), followed
by the ridge rows ``sqrt(n l2) diag(sqrt(r))`` with the squared loss (``r``
the elastic net's ridge weights: 0 on the intercept column, which is not
ridge-penalised, as in ``penalty.value``).

The least-squares duality gap (every feature L1-penalised, no ridge part) is that
of the best of two dual points: the rescaled residual, and the residual of a
least-squares refit on the support of ``w`` (``_SupportRefit``), tried when
the signs have settled; both are dual feasible, so ``tol`` means what it means for
``solver="cd"``, with a tighter gap.

The estimator path costs what the raw solver costs: the least-squares
estimators copy a mostly-zero dense ``X`` to CSC right after their input
checks (:func:`sparse_design`, one compiled pass), so that it follows the CSC
path with implicit centring. A dense design that still reaches this module
centred (``X - 1 m^T``, dense even when ``X`` was mostly zeros) is split back into its sparse part ``S`` and the rank-one
centring, ``X_c = S + 1 c^T``, when ``S`` holds less than half the entries
(the same unpenalised extra column ``v = 1`` then carries the centring, see
:func:`_split_centred`); otherwise the design goes to the objective as it is,
whose gradient upkeep (Gram columns, touched rows or a full product) is chosen
by its own cost model. No Gram matrix or dense copy is built here, and the
final certificate is computed from fresh products with the objective's sparse
copy of the design (``O(nnz)``; with a ridge part, from ``X``).

Unpenalised coordinates the glue solves for (the centring column, an
intercept column, features with ``lam_j = 0``) are coupled to every feature;
with variable blocks they join every block (the solver's ``pinned``, when it
was left at None and there are at most ``block_size // 2`` of them): a
greedy rule picks the other coordinates of each block, and these move with
every block instead of waiting to be picked (the benchmark's *goal* table
shows the iterations with the intercept problem).

Which ``max_iter`` / ``tol`` apply: parameters set on the solver win; those
left at the solver's defaults are taken from the estimator. The estimator's
``tol`` then stops the run on the estimator's own certificate (the relative
duality gap for least squares with every feature penalised; the solver's
residual test at ``tol`` otherwise), and the estimator's ``max_iter`` counts
epochs of ``ceil(n_coords / block_size)`` block updates.
"""
from __future__ import annotations

import inspect
import math
import time

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ..._ext import _bcd as _k
from .objectives import (
    LinearModelObjective,
    _csc_col_sq,
    _dense_to_csc,
    _dense_to_sparse,
    least_squares,
    logistic,
)
from .penalties import SeparablePenalty
from .._datafits import Quadratic
from .._logistic_gap import make_logistic_gap
from .._penalties import L1
from .._result import SolverResult
from ..working_set_cd import _duality_gap, _FreeFeatures

__all__ = ["bcd_linear_model", "sparse_design"]

# least squares with every feature L1-penalised and no ridge part: also try the dual point
# of a refit on the support (see _SupportRefit); a switch for the benchmark's comparison
SUPPORT_REFIT = True


def _column(a):
    return np.ascontiguousarray(a, dtype=np.float64).reshape(-1, 1)


class _WeightedLogisticRidgeLoss:
    """Loss of :class:`LinearModelObjective` over stacked rows (see the module docstring).

    Rows ``i < n``: ``s_i log(1 + exp(-y_i z_i / r_i))`` with ``r_i = sqrt(s_i) / 2``
    (``z = A' w`` with the scaled rows ``r_i a_i``, so ``z_i / r_i = a_i^T w``;
    rows with ``s_i = 0`` are zero rows and contribute nothing). Rows ``i >= n``:
    ``1/2 z_i^2`` (ridge). Every second derivative is at most 1 (``curvature``).
    """

    curvature = 1.0
    exact_bound = False
    linear_derivative = False
    n_outputs = 1

    def __init__(self, y, sample_weight, n_ridge):
        y = np.asarray(y, dtype=np.float64)
        s = np.asarray(sample_weight, dtype=np.float64)
        n = y.size
        r = np.sqrt(s) / 2.0
        self.scale = r  # row scaling of the logistic part of the design
        self.is_log = _column(np.r_[np.ones(n), np.zeros(n_ridge)]) > 0
        self.y = _column(np.r_[y, np.ones(n_ridge)])
        self.s = _column(np.r_[s, np.ones(n_ridge)])
        self.r = _column(np.r_[np.where(r > 0, r, 1.0), np.ones(n_ridge)])

    def _rows(self, rows):
        sel = slice(None) if rows is None else rows
        return self.is_log[sel], self.y[sel], self.s[sel], self.r[sel]

    def value(self, z, rows=None):
        lg, y, s, r = self._rows(rows)
        v = np.where(lg, s * np.logaddexp(0.0, -y * z / r), 0.5 * z * z)
        return float(np.sum(v))

    def derivative(self, z, rows=None):
        lg, y, s, r = self._rows(rows)
        return np.where(lg, -(s / r) * y * expit(-y * z / r), z)

    def curvature_weights(self, z):
        lg, _, s, r = self._rows(None)
        p = expit(z / r)
        return np.where(lg, (s / (r * r)) * p * (1.0 - p), 1.0)

    def class_mixing(self):
        return None


def _l1_l2(penalty, n_features):
    """Per-feature L1 weights and the ridge weight of an L1 / elastic-net penalty."""
    if not isinstance(penalty, L1):  # ElasticNetPenalty subclasses L1
        raise ValueError(
            f"solver=BlockCoordinateDescent supports the 'l1' and 'elasticnet' penalties "
            f"(separable, convex); got {getattr(penalty, 'name', type(penalty).__name__)!r}. "
            "Use solver='cd' for the others.")
    lam = penalty.alpha * getattr(penalty, "l1_ratio", 1.0) * penalty._w(n_features)
    return np.asarray(lam, dtype=np.float64), float(getattr(penalty, "l2", 0.0))


def _ridge_rows(penalty, n, p, l2, sparse):
    """``sqrt(n l2) diag(sqrt(r))``: the elastic net's ridge part as least-squares rows
    (``r`` the ridge weights, 0 for the logistic intercept column)."""
    r = np.sqrt(penalty._ridge(p)) if hasattr(penalty, "_ridge") else np.ones(p)
    return np.sqrt(n * l2) * (sp.diags(r, format="csc") if sparse else np.diag(r))


def _append_column(A, v):
    """``[A, v]`` in CSC for a CSC ``A`` and a dense column ``v`` (arrays concatenated,
    no format conversion)."""
    A = sp.csc_matrix(A)
    n, p = A.shape
    nz = np.flatnonzero(v)
    indices = np.concatenate([A.indices.astype(np.int64, copy=False), nz])
    data = np.concatenate([A.data, np.asarray(v, dtype=np.float64)[nz]])
    indptr = np.append(A.indptr.astype(np.int64, copy=False), A.indptr[-1] + nz.size)
    return sp.csc_matrix((data, indices, indptr), shape=(n, p + 1))


def _stack_rows(A, B, sparse):
    return sp.vstack([A, B], format="csc") if sparse else np.vstack([A, B])


_SPLIT_FRACTION = 0.5  # split a centred dense design when S + v holds < half the entries


def _split_centred(X, y):
    """``(S, c)`` with ``X = S + 1 c^T`` and ``S`` sparse (CSC), or None.

    Only for a column-centred ``X`` and a centred ``y`` (the estimators'
    ``fit_intercept``), where an unpenalised column of ones reproduces the
    centring exactly (see the module docstring). ``c_j`` is the median of a
    sample of rows of column ``j``: the entries of ``X`` that were zero before
    the centring are all exactly ``c_j = -mean_j``. Any ``c`` gives an exact
    split; the sample only decides how sparse ``S`` is. None when ``S`` would
    not be sparse (e.g. sample weights: the centring is then scaled by row).
    """
    n, p = X.shape
    if n < 3 or abs(float(y.mean())) > 1e-10 * (float(np.abs(y).max()) + 1e-300):
        return None  # y not centred (no intercept): the extra column would change the problem
    rows = np.unique(np.linspace(0, n - 1, min(n, 32)).astype(np.int64))
    sample = X[rows]
    c = np.ascontiguousarray(np.median(sample, axis=0))
    X = np.asfortranarray(X)  # the estimators hand over Fortran-ordered copies
    counts, sums = np.empty(p, dtype=np.int64), np.empty(p)
    _k.split_count(X, c, counts, sums)
    scale = np.abs(sample).max(axis=0) + np.finfo(np.float64).tiny
    if np.any(np.abs(sums) > 1e-10 * n * scale):
        return None  # X not centred: the extra column would change the problem
    nnz = int(counts.sum())
    if nnz + n >= _SPLIT_FRACTION * n * p:
        return None
    indptr = np.zeros(p + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices, data = np.empty(nnz, dtype=np.int64), np.empty(nnz)
    _k.split_fill(X, c, indptr, indices, data)
    return sp.csc_matrix((data, indices, indptr), shape=(n, p)), c


def sparse_design(X, *, check_finite=False):
    """CSC copy of a mostly-zero dense design for the BCD estimator path, else ``X``.

    The estimators call this on the ``X`` their input checks returned (finite,
    float32/float64, 2-D; ``check_finite=True`` when those checks were skipped,
    e.g. ``check_input=False``: NaN / inf then raise ``ValueError`` before the
    compiled pass) when ``solver`` is a :class:`BlockCoordinateDescent`:
    a dense ``X`` with non-zeros in fewer than half of its entries (the
    threshold at which the glue splits a centred design, ``_SPLIT_FRACTION``)
    then follows the CSC path (implicit centring, no dense centred copy), read
    once by a compiled pass that stops as soon as it has seen too many
    non-zeros. The data keep ``X``'s dtype; ``X`` itself is never modified.
    Anything else (sparse input, denser designs) is returned unchanged.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The validated design.
    check_finite : bool, default=False
        Check for NaN / inf before the pass (``ValueError``).

    Returns
    -------
    csc_matrix or X
        The CSC copy (sorted indices) of a mostly-zero dense ``X``, else ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize.bcd.glm import sparse_design
    >>> X = np.zeros((4, 3)); X[1, 2] = 5.0
    >>> S = sparse_design(X)
    >>> S.format, S.nnz, S.dtype
    ('csc', 1, dtype('float64'))
    >>> dense = np.ones((4, 3))
    >>> sparse_design(dense) is dense
    True
    """
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype not in (np.float32, np.float64) \
            or X.size == 0:
        return X
    out = _dense_to_sparse(X, max_density=_SPLIT_FRACTION, check_finite=check_finite)
    return X if out is None else out[0]


def _budget(solver, n_coords, max_iter, unpenalised=None):
    """A copy of ``solver`` with the estimator's ``max_iter`` applied, the unpenalised
    coordinates pinned (see the module docstring), and whether its ``tol`` was left at
    the default."""
    params = solver.get_params()
    sig = inspect.signature(type(solver).__init__).parameters
    if max_iter is not None and params["max_iter"] == sig["max_iter"].default:
        params["max_iter"] = int(max_iter) * math.ceil(n_coords / max(1, params["block_size"]))
    if (unpenalised is not None and params.get("pinned", 1) is None
            and params["partition"] == "variable" and 0 < unpenalised.size
            <= params["block_size"] // 2
            and params["selection"] not in ("greedy_tree", "random_tree")):
        params["pinned"] = unpenalised
    return type(solver)(**params), params["tol"] == sig["tol"].default


def bcd_linear_model(X, y, penalty, datafit, solver, *, w_init=None, X_mean=None,
                     row_scale=None, positive=False, tol=1e-4, max_iter=None):
    """Solve ``datafit + penalty`` with ``solver`` (a BlockCoordinateDescent).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The design the estimator prepared (centred dense, or CSC with
        ``X_mean`` for implicit centring; with an intercept column for the
        logistic loss).
    y : ndarray of shape (n_samples,)
        Target (``{-1, 1}`` for the logistic datafit).
    penalty : L1 or ElasticNetPenalty
        From :mod:`sparseopt.optimize.penalties` (per-feature weights kept;
        weight 0 leaves a feature, e.g. an intercept column, unpenalised).
        Any other penalty raises ``ValueError``.
    datafit : Quadratic or Logistic
        The logistic datafit's ``sample_weight`` is supported exactly (the
        rows are rescaled, see the module docstring); least-squares weights
        are already folded into ``X`` and ``y`` by the estimators.
    solver : BlockCoordinateDescent
        Never modified. Its ``max_iter`` / ``tol`` control the run when set to
        other than their defaults; at their defaults ``max_iter`` (below) and
        ``tol`` do (see the module docstring). ``verbose`` prints its progress.
    w_init : ndarray, optional
        Warm start (projected on ``w >= 0`` when ``positive``).
    X_mean, row_scale : ndarray, optional
        Implicit centring of a sparse least-squares design.
    positive : bool
        Constrain the coefficients (not the centring coefficient) to ``>= 0``.
    tol : float
        The estimator's tolerance, checked on the reported certificate: the
        relative duality gap ``n gap <= tol ||y||^2`` (least squares, as
        :func:`working_set_cd`), the logistic duality gap ``gap <= tol * f(0)``
        (l1 / elastic net with at most an intercept unpenalised) or the largest
        KKT violation (other logistic problems). With the solver's ``tol``
        at its default, the run stops as soon as this holds (least squares with
        every feature penalised; checked at the solver's check iterations), or
        on the solver's residual test at ``tol`` (other problems). With
        unpenalised features (``lam_j = 0``) least squares also needs the
        solver's own convergence. The least-squares gap is that of the best
        dual point found: the rescaled residual or, with every feature
        L1-penalised and no ridge part, the residual of a least-squares refit on
        the support (see ``_SupportRefit``); both are dual feasible, so the
        test certifies ``F - F* <= 2 tol F0`` either way.
    max_iter : int, optional
        The estimator's ``max_iter``, in epochs of ``ceil(n_coords /
        block_size)`` block updates; used when ``solver.max_iter`` is at its
        default.

    Returns
    -------
    SolverResult
        ``coef`` (in ``X``'s floating dtype; BCD runs in float64), ``n_iter``
        (BCD iterations), ``converged`` (the estimator's criterion),
        ``certificate``, ``certificate_name``, ``objective``,
        ``active_set_iter`` (the last BCD iteration at which the set of
        coordinates at zero / at the bound changed), ``bcd`` (the solver's own
        result).

    References
    ----------
    Nutini, J., Laradji, I. and Schmidt, M. "Let's Make Block Coordinate Descent
    Converge Faster: Faster Greedy Rules, Message-Passing, Active-Set Complexity,
    and Superlinear Convergence". JMLR 23(131), 2022.

    Massias, M., Gramfort, A. and Salmon, J. "Celer: a Fast Solver for the Lasso
    with Dual Extrapolation". ICML 2018 (dual points from the residual of a
    problem restricted to a working set, as the support refit's).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import BlockCoordinateDescent
    >>> from sparseopt.optimize.bcd import bcd_linear_model
    >>> from sparseopt.optimize.datafits import Quadratic
    >>> from sparseopt.optimize.penalties import L1
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 8)); y = 2 * X[:, 0] + 0.01 * rng.standard_normal(50)
    >>> bcd = BlockCoordinateDescent(selection="gsq", update="matrix", partition="variable",
    ...                              block_size=4, max_iter=500, tol=1e-12)
    >>> res = bcd_linear_model(X, y, L1(0.1), Quadratic(), bcd, tol=1e-10)
    >>> res.converged, np.flatnonzero(res.coef).tolist()
    (True, [0])
    """
    n, p = X.shape
    out_dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
    quadratic = isinstance(datafit, Quadratic)
    lam, l2 = _l1_l2(penalty, p)
    y64 = np.asarray(y, dtype=np.float64)
    sparse = sp.issparse(X)
    A = sp.csc_matrix(X, dtype=np.float64) if sparse else np.asarray(X, dtype=np.float64)
    alpha = n * lam
    extra = 0
    if quadratic:
        split = None if sparse else _split_centred(A, y64)
        if split is not None:  # dense centred X = S + 1 c^T: S sparse, v = 1 centres
            A, v = split[0], np.ones(n)
            sparse = True
            A = _append_column(A, v)
            alpha = np.r_[alpha, 0.0]
            extra = 1
        elif sparse and X_mean is not None and np.any(X_mean):
            v = np.ones(n) if row_scale is None else np.asarray(row_scale, dtype=np.float64)
            A = _append_column(A, v)
            alpha = np.r_[alpha, 0.0]
            extra = 1
        target = y64
        if l2 > 0:
            ridge = _ridge_rows(penalty, n, p, l2, sparse)
            if extra:
                ridge = sp.hstack([ridge, sp.csc_matrix((p, 1))], format="csc")
            A = _stack_rows(A, ridge, sparse)
            target = np.r_[y64, np.zeros(p)]
        # a dense design the estimator validated goes to CSC here (one compiled pass), so
        # that the objective checks and copies the non-zeros only
        objective = least_squares(A if sparse else _dense_to_csc(A), target)
    else:
        weights = getattr(datafit, "sample_weight", None)
        if weights is None and l2 == 0:
            objective = logistic(A, y64)
        else:
            s = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
            loss = _WeightedLogisticRidgeLoss(y64, s, p if l2 > 0 else 0)
            A = sp.diags(loss.scale) @ A if sparse else loss.scale[:, None] * A
            if l2 > 0:
                ridge = _ridge_rows(penalty, n, p, l2, sparse)
                A = _stack_rows(A, ridge, sparse)
            objective = LinearModelObjective(A, loss)
    n_coords = p + extra
    if np.all(alpha == alpha[0]):
        alpha = float(alpha[0])
    lower = -np.inf
    if positive:  # the extra centring coefficient stays free
        lower = np.r_[np.zeros(p), np.full(extra, -np.inf)] if extra else 0.0
    psi = SeparablePenalty(alpha=alpha, lower=lower)
    x0 = np.zeros(n_coords)
    if w_init is not None:
        x0[:p] = np.maximum(w_init, 0) if positive else w_init
    unpenalised = np.flatnonzero(np.broadcast_to(alpha, (n_coords,)) == 0)
    solver, default_tol = _budget(solver, n_coords, max_iter, unpenalised)
    stop = refit = None
    if quadratic and np.all(lam > 0) and l2 == 0 and SUPPORT_REFIT:
        refit = _SupportRefit(objective.A, y64, n, p, alpha, v if extra else None, positive)
    if quadratic and default_tol and np.all(lam > 0):
        stop = _gap_test(objective, y64, penalty, n, p, l2, positive, tol,
                         v if extra else None, refit)
    result = solver.solve(objective, x0=x0, penalty=psi, _stop=stop)
    x = np.asarray(result.x, dtype=np.float64)
    w = x[:p].copy()

    if quadratic:
        # the certificate from fresh products (not the run's incremental state); without a
        # ridge part on the objective's sparse copy of the design ([S, v] for a split or
        # implicitly centred X: S w differs from X_c w by a multiple of v, which the
        # projection below removes): O(nnz) instead of O(np) for a mostly-zero dense X
        design = objective.A if l2 == 0 else None
        if design is not None:
            R = y64 - np.asarray(design @ np.r_[w, np.zeros(extra)]).ravel()
        else:
            R = y64 - np.asarray(X @ w, dtype=np.float64).ravel()
        if extra:  # centring: project the residual off v (the optimal extra coefficient)
            R = R - v * (v @ R) / (v @ v)
        # X_c^T R = X^T R - X_mean (v^T R), and v^T R = 0 after the projection
        XtR = (np.asarray(design.T @ R).ravel()[:p] if design is not None
               else np.asarray(X.T @ R, dtype=np.float64).ravel())
        # every feature unpenalised (alpha = 0): no dual point bounds least squares, so
        # the certificate is the KKT violation (as the estimators document)
        if np.any(lam > 0) and _FreeFeatures.affordable(n, int(np.sum(lam == 0)) + extra):
            dual = _free_dual_point(X, R, XtR, w, lam, l2, positive, v if extra else None)
            gap, primal, best, _ = _duality_gap(y64, w, penalty, R, XtR, n, positive, *dual)
            # better dual points (every dual value bounds F* from below): the best one the
            # run's gap test saw and, unless the test already holds, the support refit's
            # at the returned coefficients
            if stop is not None:
                best = max(best, stop.best_dual)
            threshold = tol * float(y64 @ y64)
            cand = (refit.residual(x) if refit is not None and n * (primal - best) > threshold
                    else None)
            if cand is not None:
                best = max(best, _duality_gap(y64, w, penalty, R, XtR, n, positive,
                                              cand[0], cand[1])[2])
            gap = max(primal - best, 0.0)
            converged = n * gap <= threshold
            certificate, name, value = gap, "duality gap", primal
        else:  # too many unpenalised features to refit densely: the KKT violation
            kkt = penalty.subdiff_distance(w, -XtR / n, np.ones(p), positive)
            certificate, name = float(np.max(kkt)), "KKT violation"
            converged = certificate <= tol
            value = float(R @ R) / (2 * n) + penalty.value(w)
        if np.any(lam == 0):
            # with unpenalised features (lam_j = 0, e.g. alpha = 0 or l1_ratio = 0) also
            # require BCD's own fixed-point residual on top of the certificate
            converged = converged and bool(result.converged)
    else:
        # the KKT violation working_set_cd reports for the logistic datafit
        Xw = np.asarray(X @ w, dtype=np.float64).ravel()
        grad = np.asarray(X.T @ datafit.raw_gradient(y64, Xw), dtype=np.float64).ravel()
        s = datafit.weights(n)
        X64 = sp.csc_matrix(X, dtype=np.float64) if sparse else np.asarray(X, dtype=np.float64)
        col_sq = (np.asarray(X64.multiply(X64).T @ s).ravel() if sparse
                  else np.einsum("ij,ij,i->j", X64, X64, s))
        kkt = penalty.subdiff_distance(w, grad, datafit.lipschitz(col_sq, n), positive)
        certificate = float(np.max(kkt)) if kkt.size else 0.0
        converged = certificate <= tol
        name = "KKT violation"
        value = datafit.value(y64, Xw) + penalty.value(w)
        gap_obj = make_logistic_gap(X64, y64, datafit, penalty, positive)
        if gap_obj is not None:  # the duality gap working_set_cd reports (and its test)
            rho, _ = gap_obj.dual_rho(Xw)
            v = np.asarray(X64.T @ gap_obj.theta(rho)).ravel()
            certificate, value, _ = gap_obj.gap(Xw, w, v, rho)
            converged = certificate <= tol * gap_obj.f0
            name = "duality gap"
    if solver.verbose:
        print(f"[bcd_linear_model] {result.n_iter} BCD iterations, {name} {certificate:.3e}")
    coef = w.astype(out_dtype, copy=False)
    return SolverResult(x=coef, coef=coef, n_iter=int(result.n_iter), converged=bool(converged),
                        certificate=float(certificate), certificate_name=name, tol=tol,
                        objective=float(value), active_set_iter=result.active_set_iter,
                        bcd=result)


class _SupportRefit:
    """Dual points of the Lasso from a least-squares refit on the current support.

    The rescaled residual ``theta = R / max(1, ||X^T R||_inf / (n lam))`` is only
    ``O(||w - w*||)`` from the dual optimum along ``R``, so its gap decays like the
    *square root* of the sub-optimality: it certifies ``1e-6`` only once ``F - F*`` is far
    smaller. On the support ``S`` of ``w`` with the signs ``s`` of ``w_S``, the refit
    ``min_u 1/2 ||y - X_S u||^2 + n lam s^T u`` (the centring column ``v`` free) has
    ``X_S^T R' = n lam s`` at its solution, so ``R' = y - X_S u`` needs no rescaling once
    ``S`` and ``s`` are right and the gap of ``(w, R')`` is then about ``F(w) - F*``.
    ``u`` is found by Jacobi-preconditioned conjugate gradients from ``w_S`` (each
    iteration two products with the support's columns); ``R'`` is projected off ``v``
    and rescaled as usual, so it is a valid dual point whatever the support (the
    certificate stays a certificate; a wrong support only gives a weaker bound). The
    idea is that of the dual points of working-set solvers that solve the restricted
    problem (Massias, Gramfort and Salmon, 2018).
    """

    max_cg = 50
    max_rounds = 3

    def __init__(self, A, y, n, p, alpha, v, positive=False):
        self.A, self.y, self.n, self.p = A, y, n, p  # A: the objective's CSC ([X, v])
        self.positive = positive  # w >= 0: only X_j^T R > n lam_j violates
        self.alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (A.shape[1],))
        self.v = v
        self.col_sq = _csc_col_sq(A)

    def residual(self, x):
        """``(R', X^T R')`` of the refit at the coordinates ``x`` (``x[:p]`` the features),
        or None when the support is empty or has ``n`` or more features (no unique refit).

        Features outside the support whose correlation with ``R'`` exceeds their
        penalty (they would force the rescaling) join it with the sign of that
        correlation and the refit runs again, at most ``max_rounds`` times: a
        coefficient too small to have been moved yet still gets its dual constraint."""
        n, p = self.n, self.p
        support = np.flatnonzero(x[:p])
        if support.size == 0 or support.size >= n:
            return None
        signs = np.sign(x[support])
        u0 = x[support]
        t0 = float(x[p]) if self.v is not None else 0.0  # the centring coefficient
        for _ in range(self.max_rounds):
            R = self._refit(support, signs, u0, t0)
            XtR = np.asarray(self.A.T @ R).ravel()[:p]
            out = (XtR if self.positive else np.abs(XtR)) > self.alpha[:p] * (1.0 + 1e-12)
            out[support] = False
            new = np.flatnonzero(out)
            if new.size == 0 or support.size + new.size >= n:
                break
            support = np.r_[support, new]
            signs = np.r_[signs, np.sign(XtR[new])]
            u0 = np.r_[self._u[:support.size - new.size], np.zeros(new.size)]
            t0 = float(self._u[-1]) if self.v is not None else 0.0
        return R, XtR

    def _refit(self, support, signs, u0, t0):
        """The residual of the refit on ``support`` with the given signs, by
        Jacobi-preconditioned CG from ``u0`` (and ``t0`` for the free centring column)."""
        p = self.p
        if self.v is None:
            cols, pen, u = support, self.alpha[support] * signs, u0.astype(np.float64)
        else:
            cols = np.r_[support, p]
            pen = np.r_[self.alpha[support] * signs, 0.0]
            u = np.r_[u0, t0]
        dinv = 1.0 / np.where(self.col_sq[cols] > 0, self.col_sq[cols], 1.0)
        R = np.empty(self.n)
        small = 1e-9 * float(np.min(self.alpha[support]))  # relative to the penalties
        _k.support_cg(self.A.indptr, self.A.indices, self.A.data,
                      np.ascontiguousarray(cols, dtype=np.int64), np.ascontiguousarray(pen),
                      dinv, self.y, u, R, self.max_cg, small)
        self._u = u
        if self.v is not None:  # the dual point must be orthogonal to the centring column
            R = R - self.v * (float(self.v @ R) / float(self.v @ self.v))
        return R


def _gap_test(objective, y, penalty, n, p, l2, positive, tol, v, refit=None):
    """``stop()`` for the solver: the estimator's test ``n gap <= tol ||y||^2`` at the
    solver's current point, from the residual and gradient the objective keeps.

    With ``A = [X v; ridge rows]`` the objective's gradient is ``g = A^T (z - target)``,
    so ``X^T R_aug = -g[:p] + n l2 r w`` (``r`` the ridge weights) and, after projecting
    the residual off ``v``, ``X^T R = X^T R_aug - t X^T v``.
    """
    ridge = (penalty._ridge(p) if hasattr(penalty, "_ridge") else np.ones(p)) * (n * l2)
    Xtv = None
    if v is not None:
        # X^T v from the objective's CSC (no sliced copy): v on the sample rows, 0 below
        v_rows = np.zeros(objective.A.shape[0])
        v_rows[:n] = v
        Xtv = np.asarray(objective.A.T @ v_rows).ravel()[:p]
        vv = float(v @ v)
    threshold = tol * float(y @ y)
    # the gap costs more than a greedy iteration: after the check at iteration k the next
    # one is at k + 1 + k // 8 (checks at 0..8, then about 8 per doubling of the run: at
    # most 1/8 of the iterations past the point where the test first holds). The schedule
    # depends on iteration counts only, never on time, so that a fit is reproducible.
    sched = {"k": 0, "next": 0}

    def stop():
        k = sched["k"]
        sched["k"] += 1
        if k < sched["next"]:
            return False
        sched["next"] = k + 1 + k // 8
        return _gap_holds()

    def _gap_holds():
        x = objective.x
        w = x[:p]
        R = y - objective.z[:n, 0]
        XtR = -np.asarray(objective.gradient()[:p]) + ridge * w
        if v is not None:
            t = float(v @ R) / vv
            R = R - t * v
            XtR = XtR - t * Xtv
        _, primal, dual, _ = _duality_gap(y, w, penalty, R, XtR, n, positive)
        # every dual value bounds F* from below: the best seen so far counts too (only
        # those of the refit are kept: fresh products, no incremental drift)
        best = max(dual, stop.best_dual)
        if n * (primal - best) <= threshold or refit is None:
            return n * (primal - best) <= threshold
        # the refit pays once the support and its signs have settled: try it only when at
        # most 1% of them (at least one) changed since the previous check
        signs = np.sign(w)
        changed = w.size if stop.signs is None else int(np.count_nonzero(signs != stop.signs))
        stop.signs = signs
        if changed > max(1, np.count_nonzero(signs) // 100):
            return False
        cand = refit.residual(x)
        if cand is not None:
            dual = _duality_gap(y, w, penalty, R, XtR, n, positive, cand[0], cand[1])[2]
            stop.best_dual = max(stop.best_dual, dual)
        return n * (primal - max(best, stop.best_dual)) <= threshold

    stop.best_dual = -np.inf  # the best dual value of the refits (read by the caller)
    stop.signs = None
    return stop


def _free_dual_point(X, R, XtR, w, lam, l2, positive, v=None):
    """A dual candidate ``(R', X^T R', w')`` with the unpenalised features (``lam_j = 0``)
    and the centring column ``v`` refitted, so that the dual point satisfies their
    constraints (see ``working_set_cd._FreeFeatures``); ``(None, None, None)`` when there
    are none (``duality_gap`` then uses ``R``)."""
    free = np.flatnonzero(lam == 0)
    if free.size == 0 or free.size == lam.size:
        return None, None, None
    XU = X[:, free]
    XU = XU.toarray() if sp.issparse(XU) else np.asarray(XU)
    extra = 0 if v is None else 1
    if extra:  # the centring coefficient: free, no ridge, no sign constraint
        XU = np.column_stack([XU, v])
    ridge = np.r_[np.full(free.size, l2), np.zeros(extra)]
    lower = np.r_[np.zeros(free.size), np.full(extra, -np.inf)] if positive else None

    def rmatvec(r, cols=None):
        out = np.asarray(X.T @ r, dtype=np.float64).ravel()
        return out if cols is None else out[cols]

    ff = _FreeFeatures(XU, rmatvec, X.shape[1], ridge, lower)
    R_d, XtR_d, wU = ff.refit(R, XtR, np.r_[w[free], np.zeros(extra)])
    w_d = w.copy()
    w_d[free] = wU[:free.size]
    return R_d, XtR_d, w_d
