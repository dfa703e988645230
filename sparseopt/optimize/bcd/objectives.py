"""Smooth parts ``f`` of block coordinate descent, each keeping its gradient current.

Every objective implements one small protocol used by the solver (:mod:`~sparseopt.optimize.bcd.solver`):

``n_coords``, ``coord_lipschitz`` (L_i), ``start(x, full_gradient)``,
``value()``, ``gradient()`` (the full gradient, kept current when
``full_gradient=True``), ``block_gradient(b)``, ``apply(b, delta)`` (x_b +=
delta, updating the gradient incrementally),
``trial_change(b, d)`` (f(x + U_b d) - f(x) without moving), ``hessian_bound(b)``
(the matrix bound H_b), ``hessian(b)`` (exact block Hessian),
``bound_matvec(idx, vals)`` (H d for a sparse d, used by IHT) and
``gershgorin()`` (row sums of |H|, a diagonal bound for every block); optionally
``hessian_bounds(block_index, sizes)`` (the H_b of every block of a fixed
partition in one call; the solver falls back to ``hessian_bound`` per block).
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logsumexp, softmax
from sklearn.utils import check_array

from ..._ext import _bcd as _k

__all__ = ["LinearModelObjective", "QuadraticObjective", "least_squares", "logistic",
           "softmax_regression", "graph_quadratic"]


_NO_WEIGHTS = np.empty(0)  # unit row weights of _k.block_gram
# "not used" arguments of _k.forward_block: no touched-row bookkeeping / no loss'(z) copy
_NO_MARK = np.empty(0, dtype=np.int8)
_NO_ROWS = np.empty(0, dtype=np.int64)
_NO_DL = np.empty((0, 0))


# ----------------------------------------------------------------------------- losses
class _VectorTargetLoss:
    """A loss of one output per sample: the target vector ``y`` as a column, read whole or
    on the rows a block update touched."""

    def __init__(self, y):
        self.y = _check_vector(y, "y").reshape(-1, 1)
        self.n_samples = self.y.shape[0]
        self.n_outputs = 1

    def _target(self, rows):
        return self.y if rows is None else self.y[rows]


class _SquaredLoss(_VectorTargetLoss):
    """loss(z, y) = 1/2 (z - y)^2 ; curvature bound 1."""

    curvature = 1.0
    exact_bound = True  # the bound H_b equals the Hessian
    # loss'(z) = z - y: a change of z passes unchanged to loss'(z), and the gradient is
    # A^T A x - A^T y (Gram form of the full gradient, increments of loss'(z))
    linear_derivative = True

    def value(self, z, rows=None):
        return 0.5 * float(np.sum((z - self._target(rows)) ** 2))

    def derivative(self, z, rows=None):
        return z - self._target(rows)

    def curvature_weights(self, z):
        return None  # constant Hessian

    def class_mixing(self):
        return None


class _LogisticLoss(_VectorTargetLoss):
    """loss(z, y) = log(1 + exp(-y z)), y in {-1, +1}; curvature bound 1/4."""

    curvature = 0.25
    exact_bound = False
    linear_derivative = False

    def value(self, z, rows=None):
        return float(np.sum(np.logaddexp(0.0, -self._target(rows) * z)))

    def derivative(self, z, rows=None):
        y = self._target(rows)
        return -y * expit(-y * z)

    def curvature_weights(self, z):
        s = expit(z)
        return s * (1.0 - s)

    def class_mixing(self):
        return None


class _SoftmaxLoss:
    """Multinomial logistic loss; Böhning bound 1/2 (I - 11^T/K)."""

    curvature = 0.5
    exact_bound = False
    linear_derivative = False

    def __init__(self, labels, n_classes):
        labels = np.asarray(labels, dtype=np.int64)
        self.n_samples = labels.shape[0]
        self.n_outputs = int(n_classes)
        self.Y = np.zeros((labels.size, self.n_outputs))
        self.Y[np.arange(labels.size), labels] = 1.0

    def value(self, z, rows=None):
        Y = self.Y if rows is None else self.Y[rows]
        return float(np.sum(logsumexp(z, axis=1)) - np.sum(z * Y))

    def derivative(self, z, rows=None):
        Y = self.Y if rows is None else self.Y[rows]
        return softmax(z, axis=1) - Y

    def curvature_weights(self, z):
        return softmax(z, axis=1)

    def class_mixing(self):
        K = self.n_outputs
        return np.eye(K) - np.ones((K, K)) / K


# ------------------------------------------------------------------------- checks
def _check_design(A, name="A"):
    """A finite 2-D float design, dense or sparse (never modified, copied by the caller)."""
    return check_array(A, accept_sparse=("csr", "csc", "coo"), dtype=np.float64,
                       input_name=name, ensure_min_samples=1, ensure_min_features=1)


_DENSE_TO_SPARSE_COPY_F = 0.15  # density above which C order is copied to Fortran first


def _dense_to_sparse(X, *, max_density=1.0, check_finite=True):
    """``(csc, col_sq)`` of a dense float32/float64 matrix, read in its memory order.

    One compiled pass in ``X``'s memory order, branch-free over the entries (the
    buffers grow when a line might not fit): by columns for Fortran order, by
    rows for C order, whose CSR is then turned into CSC by a counting sort over
    the non-zeros only. Any other layout is first copied to C order. The
    columns' squared norms (float64) come from the same pass. Data keep ``X``'s
    dtype; indices are sorted, int32 when ``n * p`` fits. ``X`` is never modified.
    Returns None when ``X`` holds more than ``max_density * n * p`` non-zeros
    (the pass stops there), or without a pass when the non-zeros of 32 evenly
    spaced lines are clearly more (over ``max(1.25 max_density, max_density +
    0.05)`` of their entries).

    Raises ``TypeError`` for a non-float32/float64 array and ``ValueError`` for a
    non-2-D or empty one, or (``check_finite``) for NaN or inf entries, all
    before a kernel reads ``X``; the compiled pass flags NaN / inf itself too
    (``ValueError``), so a caller that already checked may skip the first test.
    """
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X must be a NumPy array, got {type(X).__name__}.")
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"X must be float32 or float64, got dtype {X.dtype}.")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be 2-D with at least one row and one column, got shape "
                         f"{X.shape}.")
    if check_finite and not np.isfinite(np.sum(X)) and not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf.")
    n, p = X.shape
    by_rows = not X.flags.f_contiguous
    if by_rows:
        X = np.ascontiguousarray(X)
    # the density of a sample of lines sizes the buffers (they rarely grow); a C-ordered X
    # that is not mostly zeros is read by columns from a Fortran copy instead (the
    # transposition of its CSR would cost more than the copy)
    lines = np.unique(np.linspace(0, (n if by_rows else p) - 1, 32).astype(np.int64))
    sample = X[lines] if by_rows else X[:, lines]
    density = np.count_nonzero(sample) / sample.size
    max_nnz = int(max(0.0, min(1.0, max_density)) * n * p)
    if density > max(1.25 * max_density, max_density + 0.05):
        return None  # clearly too dense: no need to read X
    if by_rows and density > _DENSE_TO_SPARSE_COPY_F:
        X, by_rows = np.asfortranarray(X), False
    n_lines, length = (n, p) if by_rows else (p, n)
    # int32 indices whenever they fit (as scipy, which would otherwise copy them down)
    itype = np.int32 if n * p < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n_lines + 1, dtype=itype)
    col_sq = np.zeros(p)
    cap = min(n * p, int(1.25 * density * n * p) + length + 1024)
    indices, data = np.empty(cap, dtype=itype), np.empty(cap, dtype=X.dtype)
    line = 0
    while True:
        line, nnz, finite, over = _k.dense_to_compressed(X, by_rows, line, max_nnz, indptr,
                                                         indices, data, col_sq)
        if over:
            return None
        if not finite:
            raise ValueError("X contains NaN or inf.")
        if line == n_lines:
            break
        cap = min(n * p, 2 * cap)  # grow (always progress: cap >= nnz + length)
        indices = np.concatenate([indices[:nnz], np.empty(cap - nnz, dtype=itype)])
        data = np.concatenate([data[:nnz], np.empty(cap - nnz, dtype=X.dtype)])
    if by_rows:  # CSR to CSC over the non-zeros only
        t_indptr = np.zeros(p + 1, dtype=itype)
        t_indices, t_data = np.empty(nnz, dtype=itype), np.empty(nnz, dtype=X.dtype)
        _k.compressed_transpose(indptr, indices, data, t_indptr, t_indices, t_data)
        indptr, indices, data = t_indptr, t_indices, t_data
    else:
        indices, data = indices[:nnz], data[:nnz]
        if cap > nnz + nnz // 4 + 1024:  # do not keep a mostly unused buffer alive
            indices, data = indices.copy(), data.copy()
    csc = sp.csc_matrix((data, indices, indptr), shape=(n, p), copy=False)
    csc.has_sorted_indices = True
    return csc, col_sq


def _dense_to_csc(X):
    """CSC float64 copy of a finite dense matrix (one compiled pass, see
    :func:`_dense_to_sparse`)."""
    X = np.asarray(X)
    if X.dtype != np.float64:
        X = X.astype(np.float64)
    return _dense_to_sparse(X, check_finite=False)[0]


def _csc_col_sq(A):
    """Squared column norms of a float64 CSC matrix (one compiled pass over its data)."""
    out = np.empty(A.shape[1])
    _k.csc_col_sq(A.indptr, A.data, out)
    return out


def _check_vector(v, name, size=None):
    """A finite 1-D float64 vector (a fresh array), of length ``size`` when given."""
    arr = np.asarray(v)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}.")
    arr = np.array(arr, dtype=np.float64).ravel() if arr.ndim == 2 and 1 in arr.shape \
        else np.array(arr, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {np.shape(v)}.")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have {size} entries, got {arr.shape[0]}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf.")
    return arr


def _check_start(x, n_coords):
    return _check_vector(np.ravel(x), "x0", n_coords)


def _check_labels(labels, n_classes):
    """Class indices 0..K-1: integers (integral floats accepted), none negative or >= K."""
    if n_classes is not None and (isinstance(n_classes, (bool, np.bool_))
                                  or not isinstance(n_classes, numbers.Integral)
                                  or n_classes < 1):
        raise ValueError(f"n_classes must be a positive int, got {n_classes!r}.")
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {arr.shape}.")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError("labels must be integer class indices; got non-integer values "
                             "(they are not truncated).")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"labels must be integer class indices, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise ValueError(f"labels must be class indices >= 0, got {arr.min()} (a negative "
                         "label would wrap to the last class).")
    if n_classes is not None and arr.max() >= n_classes:
        raise ValueError(f"labels must be < n_classes={n_classes}, got {arr.max()}.")
    return arr


# ------------------------------------------------------------------------- objectives
class LinearModelObjective:
    """``f(W) = sum_i loss(a_i^T W, y_i)`` for a design ``A`` (n x p) and W of shape (p, K).

    The coordinates are ``c = j * K + k``. The state keeps ``z = A W`` and
    ``loss'(z)``; with ``full_gradient`` it also keeps ``g = A^T loss'(z)``
    current after every block update, in one of three ways (the *gradient
    upkeep*):

    ``"gram"``
        ``g += G[:, b] delta`` with the dense Gram matrix ``G = A^T A`` built
        once (least squares only): ``O(p |b|)`` per update, ``p^2`` memory
        and the cost of the product up front.
    ``"rows"``
        ``z += A_b delta``, then ``g += A[rows]^T delta loss'`` over the rows
        the block touches: the non-zeros of those rows per update, nothing up
        front.
    ``"full"``
        ``z += A_b delta``, then ``g = A^T loss'(z)`` recomputed: ``nnz(A)`` per
        update, cheaper than ``"rows"`` when a block touches nearly every row
        (no per-row bookkeeping).

    With ``gradient_upkeep="auto"`` the solver picks the cheapest for the run
    (:meth:`plan_gradient_upkeep`): a cost model over the design's sparsity
    pattern (non-zeros per row and column, the rows a block of the run's size
    touches), the block size and an expected number of iterations, with the
    Gram build (a dense BLAS product or a sparse one, whichever is cheaper for
    the actual density; free when a Gram matrix is already held) charged to
    ``"gram"``. The chosen upkeep is :attr:`gradient_upkeep` and the
    solver's result reports it.

    Parameters
    ----------
    A : ndarray or sparse matrix of shape (n, p)
        Design (copied to CSC float64, dense input in one compiled pass; a CSR copy is
        built when a run first reads rows).
    loss : loss object
        One of the private losses (use the factories below).
    gradient_upkeep : {"auto", "gram", "rows", "full"}, default="auto"
        How the full gradient is kept current (see above); ``"gram"`` needs
        the squared loss.
    gram_max_features : int, optional
        Former switch (Gram form when ``p`` is at most this, touched rows
        otherwise); when given it overrides ``gradient_upkeep="auto"``.
    """

    # cost model constants (seconds per operation, one core; only their ratios matter)
    _COST_CALL = 3e-6      # one kernel call from Python
    _COST_SPARSE = 3e-9    # one non-zero of a sparse scatter / gather
    _COST_ROW = 2e-8       # per touched row: loss'(z) on the rows, fancy indexing
    _COST_FULL = 2.5e-9    # one non-zero of the full product A^T loss'(z)
    _COST_DERIV = 1e-8     # loss'(z_i) of one sample (non-linear losses)
    _COST_DENSE = 1.5e-9   # one multiply-add of g += G[:, b] delta
    _COST_BLAS = 1.5e-10   # one multiply-add of the dense product A^T A
    _COST_SPGEMM = 1e-8    # one multiply-add of the sparse product A^T A
    _GRAM_MAX_BYTES = 2**29  # 512 MiB: never hold a larger Gram matrix
    _UPKEEPS = ("auto", "gram", "rows", "full")

    def __init__(self, A, loss, *, gradient_upkeep="auto", gram_max_features=None):
        A = _check_design(A)
        n_targets = getattr(loss, "n_samples", A.shape[0])
        if n_targets != A.shape[0]:
            raise ValueError(f"the targets hold {n_targets} samples but A has "
                             f"{A.shape[0]} rows.")
        # a private copy: sorting the indices must never touch the caller's matrix
        if sp.issparse(A):
            self.A = sp.csc_matrix(A, dtype=np.float64, copy=True)
            self.A.sort_indices()
            self.col_sq_norms = _csc_col_sq(self.A)
        else:  # one compiled pass: the sorted CSC copy and the column norms
            self.A, self.col_sq_norms = _dense_to_sparse(A, check_finite=False)
        self._A_csr = None  # built on first use (touched-row upkeep, some selection rules)
        self._row_nnz = None
        self.loss = loss
        self.n_samples, self.n_features = self.A.shape
        self.K = loss.n_outputs
        self.n_coords = self.n_features * self.K
        self.coord_lipschitz = np.repeat(loss.curvature * self.col_sq_norms, self.K)
        if self.K > 1:  # Böhning: diagonal of 1/2 (I - 11^T/K) is (1 - 1/K)/2
            self.coord_lipschitz = self.coord_lipschitz * (1.0 - 1.0 / self.K)
        if gradient_upkeep not in self._UPKEEPS:
            raise ValueError(f"gradient_upkeep must be one of {self._UPKEEPS}, got "
                             f"{gradient_upkeep!r}.")
        if gradient_upkeep == "gram" and not loss.linear_derivative:
            raise ValueError("gradient_upkeep='gram' needs the squared loss (a constant "
                             "Hessian); use 'rows', 'full' or 'auto'.")
        if gram_max_features is not None and gradient_upkeep == "auto":
            gradient_upkeep = ("gram" if loss.linear_derivative
                               and self.n_features <= gram_max_features else "rows")
        self.upkeep_request = gradient_upkeep
        self.gradient_upkeep = None if gradient_upkeep == "auto" else gradient_upkeep
        self.upkeep_costs = None
        self._gram = None
        self._all_coords = np.arange(self.n_coords, dtype=np.int64)
        self._mark = np.zeros(self.n_samples, dtype=np.int8)
        self._rows = np.empty(self.n_samples, dtype=np.int64)
        self._z_work = np.zeros((self.n_samples, self.K))
        self._col_work = np.zeros(self.n_samples)  # scatter buffer of block_gram
        self._global_L = None

    @property
    def A_csr(self):
        """CSR copy of ``A`` (sorted indices), built on first use: runs whose gradient
        upkeep and selection rule only read columns never pay for it."""
        if self._A_csr is None:
            self._A_csr = self.A.tocsr()
            self._A_csr.sort_indices()
        return self._A_csr

    def _rows_nnz(self):
        """Non-zeros per row of ``A`` (float64), from the CSC indices."""
        if self._row_nnz is None:
            self._row_nnz = np.bincount(self.A.indices, minlength=self.n_samples).astype(
                np.float64)
        return self._row_nnz

    # -- state
    def start(self, x, full_gradient):
        self.W = _check_start(x, self.n_coords).reshape(self.n_features, self.K)
        self.z = np.ascontiguousarray(self.A @ self.W)
        self.dl = np.ascontiguousarray(self.loss.derivative(self.z))
        self.full_gradient = bool(full_gradient)
        self._upkeep = None  # block gradients only
        if self.full_gradient:
            self.g = np.ascontiguousarray(self.A.T @ self.dl).reshape(self.n_features, self.K)
            if self.gradient_upkeep is None:
                self.plan_gradient_upkeep()
            self._upkeep = self.gradient_upkeep
            if self._upkeep == "gram" and self._gram is None:
                if self._gram_build_costs()[0] <= self._gram_build_costs()[1]:
                    # dense-ish design: a BLAS product beats the sparse one
                    Ad = self.A.toarray()
                    self._gram = np.ascontiguousarray(Ad.T @ Ad)
                else:
                    self._gram = np.ascontiguousarray((self.A.T @ self.A).toarray())
        return self

    # -- gradient upkeep: cost model
    def _gram_build_costs(self):
        """(dense BLAS, sparse product) seconds of building ``A^T A``."""
        n, p = self.A.shape
        row_nnz = self._rows_nnz()
        dense = self._COST_BLAS * n * p * p + self._COST_SPARSE * n * p
        sparse = self._COST_SPGEMM * float(row_nnz @ row_nnz) + self._COST_SPARSE * p * p
        return dense, sparse

    def upkeep_cost_model(self, block_size, n_iter):
        """Estimated seconds of each gradient upkeep over a run (see the class docstring).

        Parameters
        ----------
        block_size : int
            Coordinates updated per iteration.
        n_iter : int
            Expected number of iterations.

        Returns
        -------
        dict
            ``{upkeep: (setup seconds, seconds per iteration, total)}`` over the
            upkeeps available for this loss (``"gram"`` only for least squares
            whose Gram matrix fits in memory).
        """
        n, p = self.A.shape
        tau = max(1, min(int(block_size), self.n_coords))
        cols = max(1, min(tau, p))  # a block spans at most tau features
        nnz = float(self.A.nnz)
        col_nnz = nnz / max(p, 1)
        row_nnz = self._rows_nnz()
        # rows a block of `cols` columns touches: P(row i touched) = 1 - (1 - r_i / p)^cols
        hit = 1.0 - (1.0 - row_nnz / max(p, 1)) ** cols
        touched = float(hit.sum())
        back_ops = float(hit @ row_nnz) * self.K
        forward = self._COST_SPARSE * cols * col_nnz * self.K
        deriv = 0.0 if self.loss.linear_derivative else self._COST_DERIV
        costs = {}
        per = 2 * self._COST_CALL + forward + self._COST_SPARSE * back_ops + (
            self._COST_ROW + deriv) * touched
        costs["rows"] = (0.0, per)
        per = 2 * self._COST_CALL + forward + self._COST_FULL * nnz * self.K + deriv * n * self.K
        costs["full"] = (0.0, per)
        if self.loss.linear_derivative and 8.0 * p * p <= self._GRAM_MAX_BYTES:
            setup = 0.0 if self._gram is not None else min(self._gram_build_costs())
            costs["gram"] = (setup, self._COST_CALL + forward + self._COST_DENSE * tau * p)
        return {k: (s, c, s + n_iter * c) for k, (s, c) in costs.items()}

    def plan_gradient_upkeep(self, block_size=1, n_iter=None):
        """Choose the cheapest gradient upkeep for a run (when it was ``"auto"``).

        ``n_iter`` defaults to ``3 n_coords / block_size`` (three passes' worth
        of block updates). Sets and returns :attr:`gradient_upkeep`; the model's
        estimates are kept in :attr:`upkeep_costs`.
        """
        if n_iter is None:
            n_iter = 3 * self.n_coords / max(1, block_size)
        self.upkeep_costs = self.upkeep_cost_model(block_size, n_iter)
        if self.upkeep_request == "auto":
            self.gradient_upkeep = min(self.upkeep_costs, key=lambda k: self.upkeep_costs[k][2])
        else:
            self.gradient_upkeep = self.upkeep_request
        return self.gradient_upkeep

    # -- IHT products H d (variable-block GSQ)
    _COST_AXPY = 5e-10      # one element of a contiguous axpy (cached Gram rows)
    _CACHE_MAX_BYTES = 2**27  # 128 MiB of cached rows of A^T A at most

    def iht_plan(self, tau):
        """How IHT forms ``H d`` for a support of ``tau`` columns, or None (NumPy path).

        ``"gram"`` when the Gram matrix is held; otherwise ``"cached"`` (rows of
        ``A^T A`` computed on first use and kept: ``tau p`` contiguous
        multiply-adds per product once cached) when that is cheaper than
        ``"rows"`` (forward through the support's columns, back through the
        non-zeros of the rows they touch), by the same sparsity model as
        :meth:`upkeep_cost_model`. None for several outputs (softmax).
        """
        if self.K != 1:
            return None
        if self._gram is not None:
            return "gram"
        key = int(tau)
        plans = self.__dict__.setdefault("_iht_plans", {})
        if key not in plans:
            n, p = self.A.shape
            row_nnz = self._rows_nnz()
            cols = max(1, min(key, p))
            hit = 1.0 - (1.0 - row_nnz / max(p, 1)) ** cols
            rows_cost = self._COST_SPARSE * float(hit @ row_nnz) + self._COST_ROW * float(
                hit.sum())
            cached_cost = self._COST_AXPY * cols * p
            fits = 8.0 * p * max(cols, 1) <= self._CACHE_MAX_BYTES
            plans[key] = "cached" if fits and cached_cost < rows_cost else "rows"
        return plans[key]

    def gram_row_cache(self, tau):
        """``(cache, slot_of, owner, next_slot)`` of :func:`~sparseopt._ext._bcd.iht_cached`:
        room for ``min(p, max(tau, 128 MiB / 8p))`` rows of ``A^T A``, kept across runs
        (the rows depend on ``A`` only)."""
        p = self.n_features
        capacity = min(p, max(int(tau), self._CACHE_MAX_BYTES // (8 * p)))
        cache = getattr(self, "_row_cache", None)
        if cache is None or cache[0].shape[0] < capacity:
            cache = (np.empty((capacity, p)), np.full(p, -1, dtype=np.int64),
                     np.full(capacity, -1, dtype=np.int64), np.zeros(1, dtype=np.int64))
            self._row_cache = cache
        return cache

    @property
    def x(self):
        return self.W.ravel()

    def value(self):
        return self.loss.value(self.z)

    def gradient(self):
        if self.full_gradient:
            return self.g.ravel()
        # an O(n) resync of loss'(z) first (the squared loss updates it by increments)
        self.dl = np.ascontiguousarray(self.loss.derivative(self.z))
        return np.asarray(self.A.T @ self.dl).ravel()

    def block_gradient(self, b):
        if self.full_gradient:
            return self.g.ravel()[b]
        out = np.empty(b.size)
        _k.block_rmatvec(self.A.indptr, self.A.indices, self.A.data, b, self.K, self.dl, out)
        return out

    def apply(self, b, delta):
        """x_b += delta, with z, loss'(z) and (optionally) g updated incrementally."""
        self.W.ravel()[b] += delta
        if not self.full_gradient and self.loss.linear_derivative:
            # loss'(z) moves with z: one pass, no touched-row bookkeeping
            _k.forward_block(self.A.indptr, self.A.indices, self.A.data, b, delta, self.K,
                             self.z, _NO_MARK, _NO_ROWS, 0, self.dl)
            return
        if self._upkeep == "full":
            linear = self.loss.linear_derivative
            _k.forward_block(self.A.indptr, self.A.indices, self.A.data, b, delta, self.K,
                             self.z, _NO_MARK, _NO_ROWS, 0, self.dl if linear else _NO_DL)
            if not linear:
                self.dl = np.ascontiguousarray(self.loss.derivative(self.z))
            _k.block_rmatvec(self.A.indptr, self.A.indices, self.A.data, self._all_coords,
                             self.K, self.dl, self.g.reshape(-1))
            return
        if self._upkeep == "gram":
            # Gram form: g += G[:, b] delta; loss'(z) is not needed (recomputed by start)
            _k.forward_block(self.A.indptr, self.A.indices, self.A.data, b, delta, self.K,
                             self.z, _NO_MARK, _NO_ROWS, 0, _NO_DL)
            _k.gram_update(self._gram, b, delta, self.g[:, 0])
            return
        nt = _k.forward_block(self.A.indptr, self.A.indices, self.A.data, b, delta, self.K,
                              self.z, self._mark, self._rows, 0, _NO_DL)
        rows = self._rows[:nt]
        new_dl = self.loss.derivative(self.z[rows], rows)
        ddl = np.ascontiguousarray(new_dl - self.dl[rows])
        self.dl[rows] = new_dl
        if self.full_gradient:
            _k.backward_rows(self.A_csr.indptr, self.A_csr.indices, self.A_csr.data, rows, nt,
                             ddl, self._mark, self.g)
        else:
            self._mark[rows] = 0

    def trial_change(self, b, d):
        """f(x + U_b d) - f(x), evaluated on the rows the block touches."""
        if self.loss.exact_bound:
            g_b = self.block_gradient(b)
            return float(g_b @ d + 0.5 * d @ (self.hessian_bound(b) @ d))
        rows, dz = self._column_change(b, d)  # z changes on these rows only
        self._mark[rows] = 0
        z_rows = self.z[rows]
        return self.loss.value(z_rows + dz, rows) - self.loss.value(z_rows, rows)

    def _column_change(self, idx, vals):
        """``(rows, dz)``: the rows ``A[:, idx] vals`` touches and its (K-column) values there.

        The scratch ``_z_work`` is left zeroed; the rows stay flagged in ``_mark``
        (cleared by the caller or by ``backward_rows``).
        """
        z = self._z_work
        nt = _k.forward_block(self.A.indptr, self.A.indices, self.A.data, idx,
                              np.ascontiguousarray(vals, dtype=np.float64), self.K, z,
                              self._mark, self._rows, 0, _NO_DL)
        rows = self._rows[:nt]
        dz = z[rows]
        z[rows] = 0.0
        return rows, dz

    # -- curvature
    def _block_columns(self, b):
        return self.A[:, b // self.K].toarray()

    def _class_mask(self, b):
        mix = self.loss.class_mixing()
        if mix is None:
            return 1.0
        ks = b % self.K
        return mix[np.ix_(ks, ks)]

    def hessian_bound(self, b):
        """The matrix bound H_b = c A_b^T A_b (times 1/2 (I - 11^T/K) for softmax)."""
        G = np.empty((b.size, b.size))
        if self._gram is not None:
            _k.gather_block(self._gram, b, G)
        else:
            _k.block_gram(self.A.indptr, self.A.indices, self.A.data, b // self.K, _NO_WEIGHTS,
                          self._col_work, G)
        return self.loss.curvature * G * self._class_mask(b) if self.K > 1 else \
            self.loss.curvature * G

    def hessian_bounds(self, block_index, sizes):
        """H_b of many blocks at once: ``out[i, :s, :s]`` for the block ``block_index[i, :s]``.

        ``block_index`` is the (n_blocks, m) table of a fixed partition, padded
        beyond ``sizes[i]``; the padding of ``out`` is zero.
        """
        nb, m = block_index.shape
        out = np.zeros((nb, m, m))
        if self._gram is not None:
            _k.stacked_gather(self._gram, block_index, sizes, out)
        else:
            _k.stacked_block_grams(self.A.indptr, self.A.indices, self.A.data,
                                   block_index // self.K, sizes, self._col_work, out)
        if self.K > 1:
            ks = block_index % self.K
            out *= self.loss.class_mixing()[ks[:, :, None], ks[:, None, :]]
        return self.loss.curvature * out

    def hessian(self, b):
        """Exact block Hessian at the current point."""
        if self.loss.exact_bound:
            return self.hessian_bound(b)
        w = self.loss.curvature_weights(self.z)
        if self.K == 1:
            H = np.empty((b.size, b.size))
            _k.block_gram(self.A.indptr, self.A.indices, self.A.data, b,
                          np.ascontiguousarray(w[:, 0]), self._col_work, H)
            return H
        Ab = self._block_columns(b)
        P = w[:, b % self.K]  # p_{i,k_t}
        AP = Ab * P
        same = (b % self.K)[:, None] == (b % self.K)[None, :]
        return (AP.T @ Ab) * same - AP.T @ AP

    def bound_matvec(self, idx, vals):
        """H d for d supported on ``idx`` (global matrix bound, for IHT)."""
        if self._gram is not None:
            return vals @ self._gram[idx]  # G symmetric: rows are contiguous
        # H d = c A^T (A D M): forward on the columns of idx, backward on touched rows
        rows, Z = self._column_change(idx, vals)
        mix = self.loss.class_mixing()
        if mix is not None:
            Z = Z @ mix
        out = np.zeros((self.n_features, self.K))
        _k.backward_rows(self.A_csr.indptr, self.A_csr.indices, self.A_csr.data, rows,
                         rows.size, np.ascontiguousarray(self.loss.curvature * Z), self._mark,
                         out)
        return out.ravel()

    def global_lipschitz(self):
        """lambda_max of the global bound, by power iteration on ``A^T A``.

        At most 100 iterations from a fixed start, stopped at a relative change
        of 1e-4 (IHT's step ``1 / lambda_max`` needs no more precision); the
        estimate is raised by that margin, so it errs on the safe side.
        """
        if self._global_L is None:
            A, C = self.A, self.A_csr
            v = np.ones(self.n_features) + 1e-3 * np.cos(np.arange(self.n_features))
            v /= np.linalg.norm(v)
            lam = 0.0
            for _ in range(100):
                u = A.T @ (C @ v)
                new = float(np.linalg.norm(u))
                if new == 0.0:
                    break
                v = u / new
                if abs(new - lam) <= 1e-4 * new:
                    lam = new
                    break
                lam = new
            # lambda_max(I - 11^T/K) = 1, so the softmax bound is also curvature * s^2
            self._global_L = self.loss.curvature * max(lam, 1e-300) * (1.0 + 1e-4)
        return self._global_L

    def gershgorin(self):
        """d_i = sum_j |H_ij| over the full row of the bound (valid for every block)."""
        absA = abs(self.A)
        rows = np.asarray(absA.T @ (absA @ np.ones(self.n_features))).ravel()
        d = self.loss.curvature * rows
        if self.K > 1:  # row sums of |1/2 (I - 11^T/K)| = 1/2 * 2 (K-1)/K
            d = np.repeat(d * 2.0 * (self.K - 1) / self.K, self.K)
        return d


class QuadraticObjective:
    """``f(x) = 1/2 x^T Q x - c^T x`` with ``Q`` sparse symmetric PSD; g = Qx - c kept current.

    The graph of ``Q`` (its off-diagonal pattern) is used by the forest
    partitions and message passing.
    """

    gradient_upkeep = "neighbours"  # g += Q[:, b] delta touches the block's neighbours only

    def __init__(self, Q, c):
        Q = _check_design(Q, "Q")
        if Q.shape[0] != Q.shape[1]:
            raise ValueError(f"Q must be square, got shape {Q.shape}.")
        Q = sp.csr_matrix(Q, dtype=np.float64, copy=True)
        Q.sum_duplicates()
        Q.sort_indices()
        if abs(Q - Q.T).max() > 1e-10 * max(abs(Q).max(), 1.0):
            raise ValueError("QuadraticObjective needs a symmetric Q.")
        self.Q = Q
        self.n_coords = Q.shape[0]
        self.c = _check_vector(c, "c", self.n_coords)
        self.coord_lipschitz = Q.diagonal().copy()
        self._global_L = None

    def start(self, x, full_gradient=True):
        self.x = _check_start(x, self.n_coords)
        self.g = np.asarray(self.Q @ self.x - self.c)
        return self

    def value(self):
        # f = 1/2 x^T (g + c) - c^T x = 1/2 x^T (g - c)
        return 0.5 * float(self.x @ (self.g - self.c))

    def gradient(self):
        return self.g

    def block_gradient(self, b):
        return self.g[b]

    def apply(self, b, delta):
        self.x[b] += delta
        _k.sym_update_gradient(self.Q.indptr, self.Q.indices, self.Q.data, b, delta, self.g)

    def trial_change(self, b, d):
        return float(self.g[b] @ d + 0.5 * d @ (self.hessian_bound(b) @ d))

    def hessian_bound(self, b):
        return self.Q[b][:, b].toarray()

    hessian = hessian_bound

    def bound_matvec(self, idx, vals):
        out = np.zeros(self.n_coords)
        _k.sym_update_gradient(self.Q.indptr, self.Q.indices, self.Q.data, idx, vals, out)
        return out

    def global_lipschitz(self):
        if self._global_L is None:
            from scipy.sparse.linalg import eigsh

            if self.n_coords <= 3:
                self._global_L = float(np.linalg.eigvalsh(self.Q.toarray())[-1])
            else:
                self._global_L = float(eigsh(self.Q, k=1, which="LA",
                                             return_eigenvectors=False,
                                             v0=np.ones(self.n_coords))[0])
        return self._global_L

    def gershgorin(self):
        return np.asarray(abs(self.Q).sum(axis=1)).ravel()


# -------------------------------------------------------------------------- factories
def least_squares(A, y, **kwargs):
    """``f(x) = 1/2 ||A x - y||^2`` (L_i = ||a_i||^2, H_b = A_b^T A_b).

    Keyword arguments go to :class:`LinearModelObjective`, e.g.
    ``gradient_upkeep="gram"`` / ``"rows"`` / ``"full"`` to override the cost
    model (``"auto"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import least_squares
    >>> f = least_squares(np.eye(2), [1.0, 2.0]).start(np.zeros(2), True)
    >>> f.value(), f.gradient().tolist()
    (2.5, [-1.0, -2.0])
    """
    return LinearModelObjective(A, _SquaredLoss(y), **kwargs)


def logistic(A, y, **kwargs):
    """``f(x) = sum_i log(1 + exp(-y_i a_i^T x))`` with labels ``y`` in {-1, +1}.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import logistic
    >>> f = logistic(np.eye(2), [1.0, -1.0]).start(np.zeros(2), True)
    >>> round(f.value(), 4)
    1.3863
    """
    y = _check_vector(y, "y")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("logistic labels must be -1 or +1.")
    return LinearModelObjective(A, _LogisticLoss(y), **kwargs)


def softmax_regression(A, labels, n_classes=None, **kwargs):
    """Multinomial logistic loss of ``W`` (p x K), coordinates ``j * K + k``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import softmax_regression
    >>> f = softmax_regression(np.eye(3), [0, 1, 2]).start(np.zeros(9), True)
    >>> round(f.value(), 4)  # 3 log 3
    3.2958
    """
    labels = _check_labels(labels, n_classes)
    K = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    return LinearModelObjective(A, _SoftmaxLoss(labels, K), **kwargs)


def graph_quadratic(Q, c):
    """``f(x) = 1/2 x^T Q x - c^T x`` for a sparse SPD ``Q`` (label propagation).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import graph_quadratic
    >>> f = graph_quadratic(np.array([[2.0, -1.0], [-1.0, 2.0]]), [1.0, 0.0])
    >>> f.start(np.zeros(2)).gradient().tolist()
    [-1.0, 0.0]
    """
    return QuadraticObjective(Q, c)
