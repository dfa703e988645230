"""Block update rules of block coordinate descent.

Each rule is a small class registered in :data:`UPDATES`, called as
``rule(state, b, block_id) -> delta`` (the step on ``x_b``; the solver then
applies it through the objective, which keeps the gradient current).
``block_id`` is the block's index in a fixed partition, or ``-1`` for a
variable block.
"""
from __future__ import annotations

import numpy as np

from ..._ext import _bcd as _k

__all__ = ["UPDATES"]


def _solve_psd(H, g):
    """H^{-1} g for a PSD block; the pseudo-inverse when H is singular."""
    H = np.ascontiguousarray(H, dtype=np.float64)
    out = np.empty(g.shape[0])
    if _k.cholesky_solve(H, np.ascontiguousarray(g, dtype=np.float64), np.empty_like(H), out):
        return out
    return np.linalg.pinv(H, hermitian=True) @ g


def _constant_hessian(objective):
    """True for quadratic objectives (least squares, graph quadratics): Hessian == H_b."""
    loss = getattr(objective, "loss", None)
    return getattr(loss, "exact_bound", False) or hasattr(objective, "Q")


def _below_roundoff(state, amount):
    """True when ``amount`` is at the rounding level of f: sufficient-decrease tests
    cannot decide there (f(x+) - f(x) is a difference of two nearly equal sums)."""
    return abs(amount) <= 1e-13 * (1.0 + abs(state.objective.value()))


def _prox_newton_direction(state, H, g_b, b):
    """argmin_d g^T d + 1/2 d^T H d + psi(x_b + d) by inner CD on the block."""
    lower, upper = state.penalty.bounds(b, b.size)
    d = np.zeros(b.size)
    _k.prox_newton_cd(np.ascontiguousarray(H), np.ascontiguousarray(g_b),
                      np.ascontiguousarray(state.x[b]), lower, upper,
                      state.penalty.l1_weights(b, b.size), d,
                      state.inner_max_sweeps, 1e-14 * (1.0 + np.abs(state.x[b]).max()))
    return d


class Gradient:
    """``x_b <- prox(x_b - g_b / L_b)`` (the paper's ``lb``; projected / prox-gradient with psi)."""

    def __call__(self, state, b, block_id):
        g_b = state.objective.block_gradient(b)
        return state.penalty.step(state.x[b], g_b, state.block_lipschitz(b, block_id), b)


class LineSearch:
    """Start from the current estimate of L_b; double it until the descent condition holds.

    Condition: ``f(x + d) <= f(x) + g_b^T d + L/2 ||d||^2`` (equivalent to
    ``f(x+) <= f(x) - ||g_b||^2 / (2L)`` when psi = 0). The first estimate of
    a block is ``max_{i in b} L_i <= L_b``; accepted estimates are kept per
    fixed block (one shared estimate ratio for variable blocks).
    """

    def __call__(self, state, b, block_id):
        g_b = state.objective.block_gradient(b)
        x_b = state.x[b]
        key = block_id if block_id >= 0 else -1
        L_hat = state.line_search_L.get(key)
        base = float(state.L[b].max())
        L_hat = base if L_hat is None else (L_hat if block_id >= 0 else L_hat * base)
        for _ in range(60):
            d = state.penalty.step(x_b, g_b, L_hat, b)
            change = state.objective.trial_change(b, d)
            model = g_b @ d + 0.5 * L_hat * (d @ d)
            if change <= model or _below_roundoff(state, change - model):
                break
            L_hat *= 2.0
        state.line_search_L[key] = L_hat if block_id >= 0 else L_hat / base
        return d


class Matrix:
    """``x_b <- x_b - H_b^+ g_b`` with the matrix bound; prox-Newton (inner CD) with psi."""

    def __call__(self, state, b, block_id):
        g_b = state.objective.block_gradient(b)
        if state.penalty.is_smooth:
            if block_id >= 0:
                return -state.bound_pinv(b, block_id) @ g_b  # cached per fixed block
            return -_solve_psd(state.objective.hessian_bound(b), g_b)
        return _prox_newton_direction(state, state.block_bound(b, block_id), g_b, b)


class Newton:
    """Newton direction with the exact block Hessian, Armijo backtracking on F.

    The reference code uses cubic interpolation; Armijo backtracking
    (sufficient decrease ``1e-4``, halving) is used here. With
    psi the direction is the proximal-Newton one (inner CD).
    """

    armijo = 1e-4

    def __call__(self, state, b, block_id):
        if _constant_hessian(state.objective):
            # the Hessian is the bound H_b: the (prox-)Newton step is the matrix step, and
            # its unit step always passes the Armijo test (the model is exact), so reuse
            # the matrix update's cached H_b (fixed blocks) and skip the line search
            return Matrix()(state, b, block_id)
        g_b = state.objective.block_gradient(b)
        H = state.objective.hessian(b)
        x_b = state.x[b]
        if state.penalty.is_smooth:
            d = -_solve_psd(H, g_b)
        else:
            d = _prox_newton_direction(state, H, g_b, b)
        psi = state.penalty
        alpha = psi.alpha_at(b)
        # predicted decrease of the (prox-)Newton model, negative for a descent direction
        slope = g_b @ d + np.sum(alpha * (np.abs(x_b + d) - np.abs(x_b)))
        if slope >= 0:  # rounding-level direction: the 1/L_b prox step still makes progress
            return Gradient()(state, b, block_id)
        t = 1.0
        for _ in range(40):
            step = t * d
            change = state.objective.trial_change(b, step) + np.sum(alpha * (
                np.abs(x_b + step) - np.abs(x_b)))
            if change <= self.armijo * t * slope or _below_roundoff(state, change):
                return step
            t *= 0.5
        return Gradient()(state, b, block_id)


class TwoMetric:
    """Two-metric projection for ``x >= 0`` (optionally ``+ alpha sum(x)``), as in the paper.

    Newton scaling (bound H_b) on the free variables, diagonal scaling on the
    variables held at the bound (``x_i <= eps`` and ``g_i > 0``), projection
    onto ``x >= 0`` and Armijo backtracking along the projection arc.
    """

    armijo = 1e-4

    def __call__(self, state, b, block_id):
        psi = state.penalty
        lower, upper = psi.bounds(b, b.size)
        if np.any(lower != 0.0) or np.any(np.isfinite(upper)):
            raise ValueError("update='two_metric' handles x >= 0 (nonnegative or "
                             "nonnegative_l1 penalties) only.")
        alpha = psi.alpha_at(b)
        g_b = state.objective.block_gradient(b) + alpha  # psi = alpha x on x >= 0
        x_b = state.x[b]
        H = state.block_bound(b, block_id)
        eps = min(1e-12 * (1.0 + np.abs(x_b).max()), 1e-8)
        at_bound = (x_b <= eps) & (g_b > 0)
        free = ~at_bound
        d = np.zeros(b.size)
        if free.any():
            d[free] = -_solve_psd(H[np.ix_(free, free)], g_b[free])
        diag = np.maximum(np.diag(H), 1e-300)
        d[at_bound] = -g_b[at_bound] / diag[at_bound]
        t = 1.0
        for _ in range(40):
            step = np.maximum(x_b + t * d, 0.0) - x_b
            change = state.objective.trial_change(b, step) + np.sum(alpha * step)
            # projected Armijo: free part along d, bound part along the projected step
            predicted = g_b[free] @ step[free] + g_b[at_bound] @ step[at_bound]
            if change <= self.armijo * predicted or _below_roundoff(state, change):
                return step
            t *= 0.5
        return Gradient()(state, b, block_id)


class MessagePassing:
    """Exact block solve on a forest-structured block of a sparse quadratic (Gaussian BP).

    The new x_b solves ``Q_bb x_b = c_b - Q_bc x_c``, i.e. the step solves
    ``Q_bb delta = -g_b``, in O(|b|) by leaf-to-root elimination.
    """

    def __call__(self, state, b, block_id):
        Q = getattr(state.objective, "Q", None)
        if Q is None or not state.penalty.is_smooth:
            raise ValueError("update='message_passing' needs a QuadraticObjective and no "
                             "penalty.")
        g_b = state.objective.block_gradient(b)
        m = b.size
        pos = state.pos_buffer
        pos[b] = np.arange(m)
        delta = np.empty(m)
        ok = _k.gaussian_bp_forest(Q.indptr, Q.indices, Q.data, b, pos,
                                   np.ascontiguousarray(-g_b), delta,
                                   np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64),
                                   np.empty(m))
        pos[b] = -1
        if not ok:
            raise ValueError("update='message_passing' got a block whose graph has a cycle; "
                             "use a forest partition (red_black, forest) or a tree "
                             "selection (greedy_tree, random_tree).")
        return delta


UPDATES = {
    "gradient": Gradient,
    "lb": Gradient,  # the paper's name
    "prox_gradient": Gradient,
    "projected": Gradient,
    "line_search": LineSearch,
    "matrix": Matrix,
    "prox_newton": Matrix,  # with psi the matrix update is the proximal-Newton one
    "newton": Newton,
    "two_metric": TwoMetric,
    "message_passing": MessagePassing,
    "bp": MessagePassing,
}
