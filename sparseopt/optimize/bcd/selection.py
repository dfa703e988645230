"""Block selection rules of block coordinate descent.

Each rule is a small class registered in :data:`SELECTION_RULES` with

``needs_full_gradient``
    whether the solver must keep the full gradient current;
``fixed(state) -> int``
    the index of the chosen block of a fixed partition;
``variable(state) -> ndarray``
    the chosen coordinates for variable blocks of size ``state.tau``.

``state`` is the solver's state (``solver._BCDState``): ``x``, ``gradient()``,
``L`` (L_i), ``blocks``, ``block_L`` (L_b), ``block_index`` (blocks stacked
and padded with ``n``), ``tau``, ``rng``, ``k`` (iteration) and
``penalty``. With a non-smooth ``psi`` the gradient ``g`` in GS and GSQ is
replaced by the prox-gradient residual ``L (x - prox(x - g / L))``, and GSL,
GSD and variable-block GSQ use the GS-q model decrease ``-s_i`` (which is
``g_i^2 / (2 c_i)`` when ``psi = 0``).

The greedy scores of every coordinate are computed by one compiled pass
(``_ext._bcd.select_top`` / ``greedy_scores``: the score and a heap of the
``tau`` best, no temporary arrays; ``block_score_argmax`` sums them per block
for fixed partitions), so GS, GSL, GSD and the GS-q form of GSQ with a
non-smooth term cost the same ``O(p log tau)``; GSQ for variable blocks with
``psi = 0`` adds the IHT products (``_ext._bcd.iht_gram`` on a Gram matrix,
``iht_cached`` on cached rows of ``A^T A``, ``iht_sparse`` through the touched
rows of a sparse design), and fixed-block GSQ a ``|b| x |b|`` form per block
(``block_quadratic_argmax_full`` / ``block_upper_root_argmax`` with ``psi = 0``,
``block_root_argmax`` with a non-smooth ``psi``; see :class:`GSQ`).
"""
from __future__ import annotations

import numpy as np

from ..._ext import _bcd as _k

__all__ = ["SELECTION_RULES"]


def _top(scores, tau):
    """Indices of the ``tau`` largest scores, sorted."""
    if tau >= scores.size:
        return np.arange(scores.size, dtype=np.int64)
    return np.sort(np.argpartition(-scores, tau - 1)[:tau]).astype(np.int64)


class Cyclic:
    """Blocks in turn (0, 1, ..., nb-1, 0, ...)."""

    needs_full_gradient = False

    def fixed(self, state):
        return state.k % len(state.blocks)

    def variable(self, state):
        raise ValueError("selection='cyclic' needs a fixed partition, not variable blocks.")


class Random:
    """Uniform block (FB) or uniform tau-subset (VB)."""

    needs_full_gradient = False

    def fixed(self, state):
        return int(state.rng.integers(len(state.blocks)))

    def variable(self, state):
        return np.sort(state.rng.choice(state.n, state.tau, replace=False)).astype(np.int64)


class Lipschitz:
    """P(b) proportional to L_b (FB); tau coordinates without replacement, P(i) ~ L_i (VB)."""

    needs_full_gradient = False

    def fixed(self, state):
        cdf = getattr(state, "_lipschitz_cdf", None)
        if cdf is None:  # inverse-CDF sampling; the table is built once per run
            cdf = state._lipschitz_cdf = np.cumsum(state.block_L) / state.block_L.sum()
        return int(min(np.searchsorted(cdf, state.rng.random(), side="right"), cdf.size - 1))

    def variable(self, state):
        p = state.L / state.L.sum()
        return np.sort(state.rng.choice(state.n, state.tau, replace=False, p=p)).astype(np.int64)


class GS:
    """Gauss-Southwell: max ||g_b||_2 (FB), top-tau |g_i| (VB)."""

    needs_full_gradient = True

    def fixed(self, state):
        return state.best_block(0, state.L, square=True)

    def variable(self, state):
        return state.top(0, state.L)


class GSL:
    """Gauss-Southwell-Lipschitz: max ||g_b||^2 / L_b (FB); top-tau g_i^2 / L_i (VB).

    The paper's VB version is intractable (L_b depends on the subset); the
    per-coordinate L_i version is used, as in the authors' code.
    """

    needs_full_gradient = True

    def fixed(self, state):
        return state.best_block(1, state.coord_block_L)

    def variable(self, state):
        return state.top(1, state.L)


class GSD:
    """Gauss-Southwell-diagonal: max sum_{i in b} g_i^2 / d_i with a valid diagonal bound.

    ``d_i = |b| L_i`` (``gsd_bound="tau_lipschitz"``) or Gershgorin row sums
    (``gsd_bound="gershgorin"``); both bound every block's Hessian.
    """

    needs_full_gradient = True

    def fixed(self, state):
        return state.best_block(1, state.gsd_diag)

    def variable(self, state):
        return state.top(1, state.gsd_diag)


class GSQ:
    """Gauss-Southwell-quadratic: max g_b^T H_b^+ g_b (FB); IHT approximation (VB).

    Fixed blocks: one compiled pass over the blocks with their ``H_b^+``
    (``O(p |b|)``: a dense ``|b| x |b|`` form per block); with a non-smooth psi the
    residual ``r`` replaces ``g`` and the form is ``||L_b^T r_b||^2`` with a
    triangular root ``L_b L_b^T = H_b^+``, skipping every ``r_i = 0`` (the
    coordinates an L1 term holds at zero): ``O(p + sum_b nnz(r_b) |b| / 2)``.
    Variable blocks with a non-smooth ``psi``: the GS-q rule, the ``tau`` most
    negative model decreases ``s_i = min_d [g_i d + L_i d^2 / 2 + psi_i(x_i + d) - psi_i(x_i)]``
    (``L_i = H_ii``), one compiled ``O(p)`` pass as GS (for variable blocks this
    is GSL's non-smooth score). Variable blocks with ``psi = 0``: iterative hard
    thresholding on ``min_d g^T d + d^T H d / 2, ||d||_0 <= tau``, at most 10
    iterations, stopped as soon as the support (the returned block) repeats; the
    first step is first bounded without a product (``|(H d)_j| <= c ||a_j||
    ||A_S d_S||``), which settles it whenever the bound proves that the support
    repeats; the products run compiled on the Gram matrix when the objective
    holds one, otherwise on rows
    of ``A^T A`` computed on first use and cached (:meth:`LinearModelObjective.iht_plan`
    picks them or the touched rows by cost), in NumPy for softmax and sparse
    quadratics.
    """

    needs_full_gradient = True
    iht_iterations = 10
    # fixed blocks with psi = 0 up to this order score with the whole H_b^+ rows, beyond
    # with the rows of a triangular root (crossover measured between 8 and 12)
    full_form_max = 8
    screen = True  # try iht_screen before the products (same blocks, see the kernel)

    def _compiled_iht(self, state):
        """``(kernel, args before g, args after g, out, screen)`` of the compiled IHT, or
        False; ``screen`` holds the arguments of ``iht_screen`` around ``g``."""
        f = state.objective
        plan = getattr(f, "iht_plan", None)
        form = plan(state.tau) if plan is not None else None
        if form is None:
            return False
        mu = 1.0 / f.global_lipschitz()
        inv_sqrt_L = 1.0 / np.sqrt(state.L)
        out = np.empty(state.tau, dtype=np.int64)
        A, C = f.A, f.A_csr
        # the bound |(H d)_j| <= c ||a_j|| ||A_S d_S|| often settles the first step
        screen = ((A.indptr, A.indices, A.data),
                  (inv_sqrt_L, np.sqrt(f.col_sq_norms), state.tau, f.loss.curvature, mu,
                   out, f._col_work, f._mark, f._rows))
        if form == "gram":  # a dense bound (least squares, Gram form)
            return (_k.iht_gram, (f._gram,),
                    (inv_sqrt_L, state.tau, mu, self.iht_iterations, out), out, screen)
        before = (A.indptr, A.indices, A.data, C.indptr, C.indices, C.data)
        after = (inv_sqrt_L, state.tau, f.loss.curvature, mu, self.iht_iterations, out)
        if form == "cached":  # rows of A^T A computed on first use, kept
            return _k.iht_cached, before, after + f.gram_row_cache(state.tau), out, screen
        # H = c A^T A through the rows the support touches
        return (_k.iht_sparse, before, after + (f._col_work, f._mark, f._rows), out,
                screen)

    def _fixed_call(self, state):
        """``(kernel, matrices)`` of the fixed-block scores, once per run."""
        if state.penalty.is_smooth and state.block_index.shape[1] <= self.full_form_max:
            # small blocks: whole H_b^+ rows, independent chains (see the kernel)
            return _k.block_quadratic_argmax_full, state.stacked_bound_pinv()
        if state.penalty.is_smooth:  # ||R_b g_b||^2, R_b^T R_b = H_b^+: O(p |b| / 2)
            return _k.block_upper_root_argmax, state.packed_bound_root(upper=True)
        # a non-smooth psi: ||L_b^T r_b||^2 with L_b L_b^T = H_b^+, skipping the residuals
        # that vanish (coordinates held at zero / at a bound), O(p + sum_b nnz(r_b) |b| / 2)
        return _k.block_root_argmax, state.packed_bound_root()

    def fixed(self, state):
        call = getattr(state, "_gsq_fixed", None)
        if call is None:
            kernel, P = self._fixed_call(state)
            call = state._gsq_fixed = (kernel, *state._psi_arrays(), state.penalty.is_smooth,
                                       state.block_index, state.block_sizes, P,
                                       np.empty(P.shape[0]))
        kernel, a, lo, hi, smooth, index, sizes, P, scores = call
        return int(kernel(np.ascontiguousarray(state.gradient()),
                          np.ascontiguousarray(state.x), state.L, a, lo, hi, smooth, index,
                          sizes, P, scores))

    def variable(self, state):
        if not state.penalty.is_smooth:  # GS-q with the diagonal of H: O(p), compiled
            return state.top(1, state.L)
        # min_d g^T d + 1/2 d^T H d s.t. ||d||_0 <= tau, by iterative hard thresholding
        g = np.ascontiguousarray(state.gradient())
        f = state.objective
        if state.score_mask is None:
            call = getattr(state, "_iht_call", None)
            if call is None:  # the compiled form and its arguments, once per run
                call = state._iht_call = self._compiled_iht(state)
            if call is not False:
                kernel, before, after, out, screen = call
                size = _k.iht_screen(*screen[0], g, *screen[1]) if self.screen else -1
                if size < 0:  # not settled by the bound: the IHT products
                    size = kernel(*before, g, *after)
                return out[:size].copy()  # out is reused
        mu = 1.0 / f.global_lipschitz()
        d = -g / np.sqrt(state.L)
        support = _top(state.masked(np.abs(d)), state.tau)
        vals = d[support]
        for _ in range(self.iht_iterations):
            Hd = state.objective.bound_matvec(support, vals)
            step = -mu * (g + Hd)
            step[support] += vals
            new_support = _top(state.masked(np.abs(step)), state.tau)
            if np.array_equal(new_support, support):
                # the block is support(d): once it repeats, later iterations only
                # refine the values (stopping when d is unchanged)
                break
            support, vals = new_support, step[new_support]
        return support


class GreedyTree:
    """Greedy forest block: nodes by decreasing GSL score, kept if the block stays acyclic."""

    needs_full_gradient = True

    def fixed(self, state):
        raise ValueError("selection='greedy_tree' builds variable blocks; use "
                         "partition='variable'.")

    def variable(self, state):
        score = state.masked(state.scores(1, state.L))
        # every node is visited (zero-score nodes last): the exact forest solve
        # also moves them, so a maximal forest is never worse than a smaller one
        return state.grow_forest(np.argsort(-score, kind="stable").astype(np.int64))


class RandomTree:
    """Random forest block: nodes in random order, kept if the block stays a forest."""

    needs_full_gradient = False

    def fixed(self, state):
        raise ValueError("selection='random_tree' builds variable blocks; use "
                         "partition='variable'.")

    def variable(self, state):
        return state.grow_forest(state.rng.permutation(state.n).astype(np.int64))


SELECTION_RULES = {
    "cyclic": Cyclic,
    "random": Random,
    "lipschitz": Lipschitz,
    "gs": GS,
    "gsl": GSL,
    "gsd": GSD,
    "gsq": GSQ,
    "greedy_tree": GreedyTree,
    "random_tree": RandomTree,
}
