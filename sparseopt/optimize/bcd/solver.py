"""The block coordinate descent solver: partition x selection rule x block update.

The objective keeps the gradient current incrementally, so a greedy rule costs
the block's work plus an ``O(n)`` scan, not ``O(np)``.
"""
from __future__ import annotations

import numbers
import time

import numpy as np

from ..._ext import _bcd as _k
from ...utils._random import check_generator
from ...utils.validation import Interval, StrOptions, validate_params
from .objectives import QuadraticObjective, _check_vector
from .partitions import PARTITIONS
from .penalties import SeparablePenalty
from .selection import SELECTION_RULES
from .updates import UPDATES
from .._result import SolverResult

__all__ = ["BlockCoordinateDescent", "BCDResult", "block_coordinate_descent"]


class BCDResult(SolverResult):
    """:class:`SolverResult` of block coordinate descent.

    Extra keys: ``fun`` (final F), ``selection_time`` / ``update_time`` /
    ``check_time`` (seconds spent choosing blocks, updating, and computing
    the stopping certificate), ``setup_time``, ``active_set_iter`` (last
    iteration at which the set of coordinates on the non-smooth manifold
    changed; ``None`` for smooth problems), ``n_blocks`` (fixed partitions),
    ``gradient_upkeep`` (how the full gradient was kept current: ``"gram"``,
    ``"rows"`` or ``"full"`` for linear models, chosen by the cost model of
    :class:`~sparseopt.optimize.bcd.LinearModelObjective`; ``"neighbours"``
    for graph quadratics; ``"block"`` when the rule needs block gradients
    only) and ``upkeep_costs`` (the cost model's estimates, ``{upkeep:
    (setup s, s per iteration, total s)}``, or None).
    ``history`` holds one dict per recorded iteration with ``iter``, ``fun``,
    ``certificate`` (``nan`` when not computed at that iteration),
    ``block_size``, ``time`` (selection + update seconds so far),
    ``selection_time``, ``update_time`` and ``n_active``.

    Examples
    --------
    >>> from sparseopt.optimize import BCDResult
    >>> BCDResult(x=[0.0], n_iter=1, converged=True, certificate=0.0,
    ...           certificate_name="residual", tol=1e-6).converged
    True
    """


_NO_MASK = np.empty(0, dtype=np.int8)
_STACK_MAX = 256  # fixed blocks up to this order get their H_b in one (nb, m, m) array


class _BCDState:
    """Everything the selection and update rules read (see :mod:`~sparseopt.optimize.bcd.selection`)."""

    def __init__(self, objective, penalty, tau, rng, gsd_bound, inner_max_sweeps):
        self.objective = objective
        self.penalty = penalty
        self.n = objective.n_coords
        self.tau = min(int(tau), self.n)
        self.rng = rng
        L = np.asarray(objective.coord_lipschitz, dtype=np.float64).copy()
        L[L <= 0] = 1.0  # a zero column never moves; any positive constant is valid
        self.L = L
        self.k = 0
        self.blocks = None
        self.line_search_L = {}
        self.inner_max_sweeps = inner_max_sweeps
        self.pos_buffer = np.full(self.n, -1, dtype=np.int64)
        self.score_mask = None
        self._gsd_bound = gsd_bound
        self._gsd_diag = None
        self._bounds = None
        self._pinvs = None
        self._stacked_pinv = None
        self._forest_buffers = None
        self._psi = None
        self._top_buffers = None

    @property
    def x(self):
        return self.objective.x

    def gradient(self):
        return self.objective.gradient()

    def effective_gradient(self):
        """``g`` for smooth problems; the prox-gradient residual ``L (x - prox(x - g/L))`` else."""
        g = self.objective.gradient()
        if self.penalty.is_smooth:
            return g
        return self.penalty.residual(self.x, g, self.L)

    def model_decrease(self, curvature):
        """``-s_i`` of the GS-q score with per-coordinate curvature (``g^2 / 2c`` if psi = 0)."""
        g = self.objective.gradient()
        if self.penalty.is_smooth:
            return g * g / (2.0 * curvature)
        return self.penalty.model_decrease(self.x, g, curvature)

    def _psi_arrays(self):
        """(alpha, lower, upper) as contiguous float64 arrays (one entry when uniform)."""
        if self._psi is None:
            pen = self.penalty
            self._psi = tuple(np.ascontiguousarray(np.atleast_1d(np.asarray(v, dtype=np.float64)))
                              for v in (pen.alpha, pen.lower, pen.upper))
        return self._psi

    def scores(self, mode, curvature):
        """Per-coordinate greedy scores in one compiled pass.

        ``mode`` 0: ``|residual|`` (GS), 1: the GS-q model decrease with
        curvature ``c_i`` (GSL, GSD), 2: the signed residual (IHT's gradient).
        """
        a, lo, hi = self._psi_arrays()
        out = np.empty(self.n)
        _k.greedy_scores(mode, np.ascontiguousarray(self.objective.gradient()),
                         np.ascontiguousarray(self.x), np.ascontiguousarray(curvature), a, lo,
                         hi, self.penalty.is_smooth, out)
        return out

    def top(self, mode, curvature):
        """The ``tau`` coordinates of largest score (see :meth:`scores`), sorted."""
        a, lo, hi = self._psi_arrays()
        mask = _NO_MASK if self.score_mask is None else np.ascontiguousarray(
            self.score_mask, dtype=np.int8)
        if self._top_buffers is None:
            self._top_buffers = (np.empty(self.tau, dtype=np.int64), np.empty(self.n))
        out, work = self._top_buffers
        size = _k.select_top(mode, np.ascontiguousarray(self.objective.gradient()),
                             np.ascontiguousarray(self.x), np.ascontiguousarray(curvature), a,
                             lo, hi, self.penalty.is_smooth, mask, self.tau, out, work)
        return out[:size].copy()

    def best_block(self, mode, curvature, square=False):
        """Fixed partitions: the block with the largest sum of per-coordinate scores
        (:meth:`scores`; squared with ``square``), one compiled pass."""
        a, lo, hi = self._psi_arrays()
        return int(_k.block_score_argmax(
            mode, np.ascontiguousarray(self.objective.gradient()),
            np.ascontiguousarray(self.x), np.ascontiguousarray(curvature), a, lo, hi,
            self.penalty.is_smooth, self.block_index, self.block_sizes, square))

    def masked(self, scores):
        if self.score_mask is None:
            return scores
        return np.where(self.score_mask, scores, -np.inf)

    # -- partition bookkeeping
    def set_partition(self, blocks):
        self.blocks = blocks
        nb = len(blocks)
        m = max(b.size for b in blocks)
        self.block_index = np.full((nb, m), self.n, dtype=np.int64)
        for i, b in enumerate(blocks):
            self.block_index[i, :b.size] = b
        self.block_sizes = np.array([b.size for b in blocks], dtype=np.int64)
        self._block_L = None
        self._coord_block_L = None

    @property
    def bounds(self):
        """H_b of every fixed block, in one call to the objective when it can."""
        if self._bounds is None:
            stacked = getattr(self.objective, "hessian_bounds", None)
            if stacked is not None and self.block_index.shape[1] <= _STACK_MAX:
                S = stacked(self.block_index, self.block_sizes)
                self._bounds = [S[i, :s, :s] for i, s in enumerate(self.block_sizes)]
            else:
                self._bounds = [self.objective.hessian_bound(b) for b in self.blocks]
        return self._bounds

    def _by_size(self, matrices, fn):
        """``[fn(M) for M in matrices]``, batched over the matrices of equal order."""
        out = [None] * len(matrices)
        orders = np.array([M.shape[0] for M in matrices])
        for m in np.unique(orders):
            idx = np.flatnonzero(orders == m)
            res = fn(np.stack([matrices[i] for i in idx]))
            for j, i in enumerate(idx):
                out[i] = res[j]
        return out

    @property
    def block_L(self):
        """L_b = lambda_max(H_b) of every fixed block (computed on first use)."""
        if self._block_L is None:
            top = self._by_size(self.bounds, lambda H: np.linalg.eigvalsh(H)[:, -1])
            self._block_L = np.maximum(np.array(top, dtype=np.float64), 1e-300)
        return self._block_L

    @property
    def coord_block_L(self):
        """L_b of the block holding each coordinate."""
        if self._coord_block_L is None:
            self._coord_block_L = np.empty(self.n)
            for i, b in enumerate(self.blocks):
                self._coord_block_L[b] = self.block_L[i]
        return self._coord_block_L

    def block_bound(self, b, block_id):
        """H_b (all fixed blocks' computed together on first use)."""
        if block_id < 0:
            return self.objective.hessian_bound(b)
        return self.bounds[block_id]

    def block_lipschitz(self, b, block_id):
        if block_id >= 0:
            return self.block_L[block_id]
        if b.size == 1:
            return self.L[b[0]]
        return max(float(np.linalg.eigvalsh(self.objective.hessian_bound(b))[-1]), 1e-300)

    def bound_pinv(self, b, block_id):
        if block_id < 0:
            return np.linalg.pinv(self.objective.hessian_bound(b), hermitian=True)
        if self._pinvs is None:
            self._pinvs = self._by_size(self.bounds,
                                        lambda H: np.linalg.pinv(H, hermitian=True))
        return self._pinvs[block_id]

    def packed_bound_pinv(self):
        """(nb, m (m + 1) / 2) upper triangles of every H_b^+, row by row (the packed form
        of ``_ext._bcd.block_quadratic_argmax``: the reference the benchmark and tests
        compare the GSQ kernels with)."""
        if getattr(self, "_packed_pinv", None) is None:
            S = self.stacked_bound_pinv()
            rows, cols = np.triu_indices(S.shape[1])
            self._packed_pinv = np.ascontiguousarray(S[:, rows, cols])
        return self._packed_pinv

    def _bound_root(self):
        """(nb, m, m) upper-triangular roots ``R_b`` of every ``H_b^+`` (``R_b^T R_b =
        H_b^+``), zero-padded. From the eigendecomposition of ``H_b^+`` (valid for a
        singular ``H_b``): ``W = diag(sqrt(mu)) V^T`` is a root, and the ``R`` of ``W = Q R``
        a triangular one (``W^T W = R^T R``)."""
        if getattr(self, "_root", None) is None:
            mu, V = np.linalg.eigh(self.stacked_bound_pinv())
            W = np.sqrt(np.maximum(mu, 0.0))[:, :, None] * np.swapaxes(V, 1, 2)
            self._root = np.linalg.qr(W, mode="r")
        return self._root

    def packed_bound_root(self, upper=False):
        """(nb, m (m + 1) / 2) triangular roots of every ``H_b^+`` with their rows packed one
        after the other (FB-GSQ scores): the rows of ``L_b = R_b^T`` (row ``t``: entries
        ``0..t``; ``_ext._bcd.block_root_argmax``), or with ``upper`` those of ``R_b`` (row
        ``k``: entries ``k..m-1``; ``block_upper_root_argmax``)."""
        key = "_packed_root_upper" if upper else "_packed_root"
        if getattr(self, key, None) is None:
            R = self._bound_root()
            rows, cols = np.triu_indices(R.shape[1]) if upper else np.tril_indices(R.shape[1])
            setattr(self, key, np.ascontiguousarray(
                (R if upper else np.swapaxes(R, 1, 2))[:, rows, cols]))
        return getattr(self, key)

    def stacked_bound_pinv(self):
        """(nb, m, m) pseudo-inverses of every H_b, zero-padded (FB-GSQ scores)."""
        if self._stacked_pinv is None:
            nb, m = self.block_index.shape
            S = np.zeros((nb, m, m))
            for i, b in enumerate(self.blocks):
                S[i, :b.size, :b.size] = self.bound_pinv(b, i)
            self._stacked_pinv = S
        return self._stacked_pinv

    @property
    def gsd_diag(self):
        """Diagonal bound d_i of GSD: tau L_i or Gershgorin row sums."""
        if self._gsd_diag is None:
            if self._gsd_bound == "gershgorin":
                d = np.asarray(self.objective.gershgorin(), dtype=np.float64)
                d[d <= 0] = 1.0
            else:
                size = self.tau if self.blocks is None else max(b.size for b in self.blocks)
                d = size * self.L
            self._gsd_diag = d
        return self._gsd_diag

    def grow_forest(self, order):
        Q = getattr(self.objective, "Q", None)
        if Q is None:
            raise ValueError("tree selections (greedy_tree, random_tree) need a "
                             "QuadraticObjective.")
        if self._forest_buffers is None:
            self._forest_buffers = (np.arange(self.n, dtype=np.int64),
                                    np.zeros(self.n, dtype=np.int8),
                                    np.empty(self.n, dtype=np.int64))
        uf, in_block, out = self._forest_buffers
        size = _k.greedy_forest(Q.indptr, Q.indices, order, self.tau, uf, in_block, out)
        return np.sort(out[:size])


class BlockCoordinateDescent:
    """Block coordinate descent: partition x selection rule x block update.

    Parameters
    ----------
    partition : str, default="sorted"
        ``"order"`` (contiguous runs), ``"sorted"`` (alias ``"sort"``: by L_i),
        ``"avg"`` (largest and smallest L_i interleaved), ``"variable"`` (any
        ``block_size`` coordinates each iteration), ``"red_black"`` (graph
        colour classes) or ``"forest"`` (greedy forest cover) for sparse
        quadratics.
    block_size : int, default=5
        Block size (``tau`` for variable blocks; the maximum forest size for the
        tree selections).
    selection : str, default="gs"
        ``"cyclic"``, ``"random"``, ``"lipschitz"``, ``"gs"``, ``"gsl"``,
        ``"gsd"``, ``"gsq"``, or ``"greedy_tree"`` /
        ``"random_tree"`` (variable forest blocks of a sparse quadratic).
        Variable-block ``"gsq"`` is IHT on the quadratic model when psi = 0
        and the GS-q rule (per-coordinate model decrease with ``L_i``, GSL's
        non-smooth scores) with a non-smooth psi.
    update : str, default="gradient"
        ``"gradient"`` (1/L_b; alias ``"lb"``, prox-gradient with psi),
        ``"line_search"``, ``"matrix"`` (H_b^+ g_b; proximal Newton with psi,
        alias ``"prox_newton"``), ``"newton"`` (exact block Hessian + Armijo),
        ``"two_metric"`` (x >= 0: Newton on free variables, diagonal scaling at
        the bound), ``"message_passing"`` (alias ``"bp"``; exact forest solve).
    max_iter : int, default=500
        Iterations (one block update each). Inside an estimator
        (``solver=BlockCoordinateDescent(...)`` of :mod:`sparseopt.linear_model`)
        a ``max_iter`` left at this default hands the budget to the estimator
        (see :func:`~sparseopt.optimize.bcd.bcd_linear_model`); a value set here
        wins.
    tol : float, default=1e-6
        Stop when the prox-gradient fixed-point residual
        ``||L (x - prox(x - g/L))||_inf`` is at most ``tol * max(1, r_0)``
        (``r_0``: residual at the start); it is ``||grad f||_inf`` when psi = 0.
        Inside an estimator a ``tol`` left at this default lets the
        estimator's ``tol`` decide when to stop, on the estimator's own
        certificate (e.g. the Lasso duality gap); a value set here stops on
        this residual instead.
    gsd_bound : {"tau_lipschitz", "gershgorin"}, default="tau_lipschitz"
        Diagonal bound of the GSD rule: ``d_i = |b| L_i`` or the Gershgorin
        row sums of the Hessian bound.
    newton_after : int or None, default=None
        Active-set switch: once the set of coordinates on the
        non-smooth manifold has not changed for this many iterations, restrict
        greedy selection to the free coordinates and use proximal-Newton
        (matrix) updates; switch back when it changes. None disables it.
    check_every : int or None, default=None
        Iterations between certificate evaluations; default 1 when the full
        gradient is kept current, one epoch (n_coords / block_size) otherwise.
    record_every : int, default=1
        Iterations between history entries (F is evaluated outside the timers).
    inner_max_sweeps : int, default=200
        Sweeps of the inner CD of proximal-Newton steps.
    pinned : array-like of int or None, default=None
        Coordinates added to every variable block (``partition="variable"``
        only), e.g. an unpenalised intercept column, which is coupled to every
        other coordinate: a greedy rule would otherwise leave it behind for
        many iterations. Inside an estimator a ``pinned`` left at None pins the
        unpenalised coordinates the glue solves for (the centring column of a
        centred design, an intercept column) when there are at most
        ``block_size // 2`` of them (see
        :func:`~sparseopt.optimize.bcd.bcd_linear_model`).
    random_state : int, RandomState, Generator or None, default=None
        Seeds random / Lipschitz sampling.
    verbose : int, default=0
        Print progress every ``max(1, max_iter // 10)`` iterations when > 0.

    See Also
    --------
    block_coordinate_descent : functional form.
    sparseopt.semi_supervised.LabelPropagation : an estimator built on this solver.

    Notes
    -----
    Greedy rules need the full gradient; the objective keeps it current after
    every block update (Gram columns, touched rows or a full product for
    linear models, neighbours for graph quadratics). The
    time spent selecting and updating is reported separately
    (``selection_time``, ``update_time``). The gradient upkeep of linear
    models is chosen by a cost model (``res.gradient_upkeep``, see
    :class:`~sparseopt.optimize.bcd.LinearModelObjective`).

    References
    ----------
    Nutini, J., Laradji, I. and Schmidt, M. "Let's Make Block Coordinate
    Descent Converge Faster: Faster Greedy Rules, Message-Passing,
    Active-Set Complexity, and Superlinear Convergence". Journal of Machine
    Learning Research 23(131), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import BlockCoordinateDescent, least_squares
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((30, 10)); y = A @ np.arange(10.0)
    >>> bcd = BlockCoordinateDescent(block_size=2, selection="gsq", update="matrix",
    ...                              partition="variable", max_iter=2000, tol=1e-10)
    >>> res = bcd.solve(least_squares(A, y))
    >>> res.converged, np.allclose(res.x, np.arange(10.0), atol=1e-6)
    (True, True)
    """

    _parameter_constraints = {
        "partition": [StrOptions(set(PARTITIONS) | {"variable"})],
        "block_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "selection": [StrOptions(set(SELECTION_RULES))],
        "update": [StrOptions(set(UPDATES))],
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "gsd_bound": [StrOptions({"tau_lipschitz", "gershgorin"})],
        "newton_after": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "check_every": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "record_every": [Interval(numbers.Integral, 1, None, closed="left")],
        "inner_max_sweeps": [Interval(numbers.Integral, 1, None, closed="left")],
        "pinned": [None, "array-like"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, partition="sorted", block_size=5, selection="gs", update="gradient",
                 max_iter=500, tol=1e-6, gsd_bound="tau_lipschitz", newton_after=None,
                 check_every=None, record_every=1, inner_max_sweeps=200, pinned=None,
                 random_state=None, verbose=0):
        self.partition = partition
        self.block_size = block_size
        self.selection = selection
        self.update = update
        self.max_iter = max_iter
        self.tol = tol
        self.gsd_bound = gsd_bound
        self.newton_after = newton_after
        self.check_every = check_every
        self.record_every = record_every
        self.inner_max_sweeps = inner_max_sweeps
        self.pinned = pinned
        self.random_state = random_state
        self.verbose = verbose

    def get_params(self, deep=False):
        """Constructor parameters as a dict (scikit-learn convention)."""
        return {k: getattr(self, k) for k in self._parameter_constraints}

    def set_params(self, **params):
        """Set constructor parameters; returns self."""
        for k, v in params.items():
            if k not in self._parameter_constraints:
                raise ValueError(f"Unknown parameter {k!r} of BlockCoordinateDescent.")
            setattr(self, k, v)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"BlockCoordinateDescent({args})"

    def _check_combination(self, objective, penalty):
        if np.ndim(penalty.alpha) and np.size(penalty.alpha) != objective.n_coords:
            raise ValueError(f"penalty.alpha has {np.size(penalty.alpha)} per-coordinate "
                             f"weights for {objective.n_coords} coordinates.")
        variable = self.partition == "variable"
        if self.pinned is not None:
            pinned = np.asarray(self.pinned)
            if not variable:
                raise ValueError("pinned coordinates need partition='variable' (they join "
                                 "every variable block).")
            if pinned.ndim != 1 or (pinned.size and pinned.dtype.kind not in "iu"):
                raise ValueError(f"pinned must be a 1-D array of coordinate indices, got "
                                 f"{self.pinned!r}.")
            if pinned.size and (pinned.min() < 0 or pinned.max() >= objective.n_coords):
                raise ValueError(f"pinned indices must lie in [0, {objective.n_coords}), got "
                                 f"{pinned.min()}..{pinned.max()}.")
            if self.selection in ("greedy_tree", "random_tree") or self.update in (
                    "message_passing", "bp"):
                raise ValueError("pinned coordinates cannot join forest blocks (the block "
                                 "must stay a forest for message passing).")
        if self.selection in ("greedy_tree", "random_tree") and not variable:
            raise ValueError(f"selection={self.selection!r} builds variable forest blocks; "
                             "use partition='variable'.")
        if self.selection == "cyclic" and variable:
            raise ValueError("selection='cyclic' needs a fixed partition (order, sorted, "
                             "avg, red_black, forest), not partition='variable'.")
        if self.update in ("message_passing", "bp"):
            if not isinstance(objective, QuadraticObjective):
                raise ValueError("update='message_passing' needs a QuadraticObjective.")
            if not penalty.is_smooth:
                raise ValueError("update='message_passing' solves smooth quadratics only; "
                                 "got a non-smooth penalty.")
            forest_blocks = self.partition in ("red_black", "forest") or self.selection in (
                "greedy_tree", "random_tree")
            if not forest_blocks and self.block_size > 1:
                raise ValueError("update='message_passing' needs forest blocks: "
                                 "partition='red_black' or 'forest', or selection="
                                 "'greedy_tree' / 'random_tree'.")

    def solve(self, objective, x0=None, penalty=None, f_star=None, *, _stop=None):
        """Minimise ``objective + penalty`` from ``x0``.

        Parameters
        ----------
        objective : objective object
            E.g. :func:`least_squares`, :func:`logistic`,
            :func:`softmax_regression`, :func:`graph_quadratic`. Its state is
            (re)initialised at ``x0``.
        x0 : ndarray of shape (n_coords,), optional
            Starting point (copied); zeros by default (projected onto psi's
            bounds).
        penalty : SeparablePenalty, optional
            Separable non-smooth part; none by default.
        f_star : float, optional
            Optimal value; when given, the history also holds ``gap = F - f_star``.
        _stop : callable, optional
            Private (used by :func:`~sparseopt.optimize.bcd.bcd_linear_model`):
            ``_stop() -> bool`` replaces the residual test at the check iterations.

        Returns
        -------
        BCDResult
        """
        validate_params(self)
        max_iter, tol = self.max_iter, self.tol
        penalty = SeparablePenalty() if penalty is None else penalty
        self._check_combination(objective, penalty)
        t_setup = time.perf_counter()
        rng = check_generator(self.random_state)
        rule = SELECTION_RULES[self.selection]()
        update = UPDATES[self.update]()
        n = objective.n_coords
        x0 = np.zeros(n) if x0 is None else _check_vector(np.ravel(x0), "x0", n)
        x0 = penalty.prox(x0, 0.0)  # feasible start
        full_gradient = rule.needs_full_gradient or self.newton_after is not None
        plan = getattr(objective, "plan_gradient_upkeep", None)
        if full_gradient and plan is not None:  # cost model: gram / rows / full
            tau = max(1, min(self.block_size, n))
            plan(block_size=tau, n_iter=max(1, min(max_iter, 3 * n // tau)))
        objective.start(x0, full_gradient)
        state = _BCDState(objective, penalty, self.block_size, rng, self.gsd_bound,
                          self.inner_max_sweeps)
        variable = self.partition == "variable"
        if not variable:
            state.set_partition(PARTITIONS[self.partition](objective, self.block_size))
        pick = rule.variable if variable else rule.fixed
        pinned = None
        if self.pinned is not None and np.size(self.pinned):
            pinned = np.unique(np.asarray(self.pinned, dtype=np.int64))
        n_blocks = None if variable else len(state.blocks)
        if self.check_every is not None:
            check_every = self.check_every
        elif full_gradient:
            check_every = 1
        else:
            check_every = max(1, n_blocks if n_blocks is not None else n // state.tau)
        smooth = penalty.is_smooth
        newton = UPDATES["matrix"]()
        setup_time = time.perf_counter() - t_setup

        def fun():
            return objective.value() + penalty.value(objective.x)

        def certificate():  # max |L_i (x_i - prox(x_i - g_i / L_i))|, one compiled pass
            return float(np.max(state.scores(0, state.L), initial=0.0))

        cert0 = certificate()
        threshold = tol * max(1.0, cert0)
        cert = cert0
        history = [{"iter": 0, "fun": fun(), "certificate": cert0, "block_size": 0,
                    "time": 0.0, "selection_time": 0.0, "update_time": 0.0,
                    "n_active": int(penalty.active(objective.x).sum()) if not smooth else 0}]
        if f_star is not None:
            history[0]["gap"] = history[0]["fun"] - f_star
        t_sel = t_upd = t_chk = 0.0
        active = None if smooth else penalty.active(objective.x)
        active_set_iter = None if smooth else 0
        stable = 0
        switched = False
        converged = bool(_stop()) if _stop is not None else cert <= threshold
        k = 0
        while not converged and k < max_iter:
            state.k = k
            t0 = time.perf_counter()
            if switched:
                state.score_mask = ~active
            b_sel = pick(state)
            if variable:
                b, block_id = b_sel, -1
                if pinned is not None:  # e.g. an intercept: in every block
                    b = np.union1d(b, pinned)
            else:
                block_id = b_sel
                b = state.blocks[block_id]
            t1 = time.perf_counter()
            rule_update = newton if switched else update
            delta = rule_update(state, b, block_id)
            objective.apply(b, delta)
            t2 = time.perf_counter()
            t_sel += t1 - t0
            t_upd += t2 - t1
            k += 1
            if not smooth:  # active-set monitoring
                # only x_b moved, so only the block's part of the set can change
                new_b = penalty.active(objective.x[b], b)
                if np.array_equal(new_b, active[b]):
                    stable += 1
                else:
                    active[b] = new_b
                    stable, active_set_iter = 0, k
                if self.newton_after is not None:
                    switched = stable >= self.newton_after
                    if not switched:
                        state.score_mask = None
            cert_k = np.nan
            if k % check_every == 0 or k == max_iter:
                t3 = time.perf_counter()
                cert = cert_k = certificate()
                converged = bool(_stop()) if _stop is not None else cert <= threshold
                t_chk += time.perf_counter() - t3
            if k % self.record_every == 0 or converged or k == max_iter:
                entry = {"iter": k, "fun": fun(), "certificate": cert_k, "block_size": int(b.size),
                         "time": t_sel + t_upd, "selection_time": t_sel, "update_time": t_upd,
                         "n_active": int(active.sum()) if active is not None else 0}
                if f_star is not None:
                    entry["gap"] = entry["fun"] - f_star
                history.append(entry)
            if self.verbose and k % max(1, max_iter // 10) == 0:
                print(f"[BlockCoordinateDescent] iter {k:6d}  F {fun():.10e}  "
                      f"residual {cert:.3e}  |b| {b.size}")
        if not (np.isfinite(cert) and np.all(np.isfinite(objective.x))):
            raise FloatingPointError("BlockCoordinateDescent produced non-finite values; the "
                                     "objective may be unbounded or badly scaled.")
        return BCDResult(x=objective.x.copy(), n_iter=k, converged=bool(converged),
                         certificate=cert, certificate_name="prox-gradient residual (inf-norm)",
                         tol=tol, history=history, fun=fun(), selection_time=t_sel,
                         update_time=t_upd, check_time=t_chk, setup_time=setup_time,
                         active_set_iter=active_set_iter, n_blocks=n_blocks,
                         gradient_upkeep=getattr(objective, "gradient_upkeep", None)
                         if full_gradient else "block",
                         upkeep_costs=getattr(objective, "upkeep_costs", None)
                         if full_gradient else None)


def block_coordinate_descent(objective, x0=None, penalty=None, f_star=None, **params):
    """Functional form: ``BlockCoordinateDescent(**params).solve(objective, x0, penalty)``.

    This is the entry point for estimators (e.g. sparse regression with
    ``solver=BlockCoordinateDescent(...)`` calls ``solver.solve(objective, x0,
    penalty)``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import block_coordinate_descent, least_squares, l1_penalty
    >>> A = np.eye(3); y = np.array([3.0, 0.5, -2.0])
    >>> res = block_coordinate_descent(least_squares(A, y), penalty=l1_penalty(1.0),
    ...                                selection="gsl", block_size=1, tol=1e-12)
    >>> res.x.tolist()
    [2.0, 0.0, -1.0]
    """
    return BlockCoordinateDescent(**params).solve(objective, x0, penalty, f_star)
