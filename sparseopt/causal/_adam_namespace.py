"""One path stage (Adam on the stage objective) in the array namespace of the input.

The same iterations as the compiled loop ``sparseopt._ext._dag.adam_stage``, written with
array-API operations so that torch, CuPy or array-api-strict arrays stay in their namespace
and on their device: the inverse ``M = (sI - W o W)^-1`` comes from ``xp.linalg.inv`` and
the log-determinant of the checkpoints from ``xp.linalg.slogdet``. The compiled loop serves
NumPy inputs; this one serves every other namespace (chosen by
:func:`sparseopt.causal.path_following`).

Host synchronisation. The domain test (every entry of ``M`` ``>= -domain_tol``) decides
whether a step is kept, a host decision. Instead of one synchronisation per iteration,
iterations run in blocks whose domain tests are combined on the device and read once at
the end of the block; a block in which any test failed (rare: at the first iterations of a
stage and after large steps) is replayed from its start, one host decision per iteration,
so the iterates are exactly those of the per-iteration loop. Blocks start at one iteration
(a stage that leaves the domain at once is caught at once) and double up to
``_MAX_BLOCK``; they never cross a checkpoint, where the objective is read (one transfer).
"""
from __future__ import annotations

import math

import array_api_compat
import numpy as np

from .._ext import _dag as kernel
from ..utils._array_api import to_numpy

__all__ = ["adam_stage_namespace"]

# longest run of iterations between two reads of the domain test
_MAX_BLOCK = 64


class _Ops:
    """The operations of the loop that are not plain arithmetic, for namespace ``xp``.

    For torch, the library's own ``sign``, ``maximum`` and ``linalg.inv_ex`` replace
    array_api_compat's wrappers: the wrapped ``sign`` repairs NaNs by boolean indexing and
    ``linalg.inv`` checks its LAPACK status on the host, both a device synchronisation per
    call on CUDA, and the wrapped ``maximum`` recomputes the type promotion at every call;
    ``inv_ex`` returns the status as a device array, read with the block's domain tests. For
    NumPy, ``numpy.sign`` skips the wrapper's dtype checks (the loop is real-valued).
    """

    def __init__(self, xp):
        self.xp = xp
        if array_api_compat.is_torch_namespace(xp):
            import torch

            self.sign, self.maximum = torch.sign, torch.maximum

            def inverse(A):
                return torch.linalg.inv_ex(A)

            self.inverse = inverse
            return
        self.sign = np.sign if array_api_compat.is_numpy_namespace(xp) else xp.sign
        self.maximum = xp.maximum

        def inverse(A):
            try:
                return xp.linalg.inv(A), None
            except Exception:  # exactly singular: LinAlgError (NumPy, array-api-strict)
                return None, None

        self.inverse = inverse


class _StageLoop:
    """State and iterations of one stage (``adam_stage_namespace`` documents the arguments).

    The constants of the update are 0-d arrays of W's dtype and device: an operation between
    two arrays costs less than one with a Python scalar in every namespace tried (by a third
    in array-api-strict, half in torch, more in NumPy, measured at d = 10).
    """

    def __init__(self, xp, Sigma, X, W, sigma, sigma_floor, free_mask, required_mask,
                 required_floor, mu, s, lr, lambda1, beta1, beta2, eps, domain_tol, scale_mode,
                 loss_code, update_scale_first):
        self.xp, self.ops = xp, _Ops(xp)
        self.Sigma, self.X, self.floor = Sigma, X, sigma_floor
        d = W.shape[0]
        device = array_api_compat.device(W)
        self.constant = lambda value: xp.asarray(value, dtype=W.dtype, device=device)
        self.eye = xp.eye(d, dtype=W.dtype, device=device)
        self.s, self.s_eye = s, s * self.eye
        # an all-ones mask is a no-op: one host test per stage saves a product per iteration
        self.free = None if free_mask is None or bool(xp.all(free_mask == 1)) else free_mask
        self.required, self.required_floor = required_mask, required_floor
        self.mu, self.lambda1 = mu, lambda1
        self.set_lr(lr)
        k = self.constant
        self.c_two, self.c_zero = k(2.0), k(0.0)
        self.c_mu, self.c_mu_lambda = k(mu), k(mu * lambda1)
        self.c_beta1, self.c_beta1_rest = k(beta1), k(1.0 - beta1)
        self.c_beta2, self.c_beta2_rest = k(beta2), k(1.0 - beta2)
        self.c_eps = k(eps)
        self.beta1, self.beta2 = beta1, beta2
        self.domain_tol = domain_tol
        self.scale_mode, self.loss_code = scale_mode, loss_code
        self.update_scale_first = update_scale_first
        self.scaled = loss_code == kernel.LOSS_L2 and scale_mode != kernel.SCALE_FIXED
        self.W, self.W_prev, self.sigma = W, W, sigma
        self.m = self.v = self.step = xp.zeros_like(W)
        self.n_back = 0

    def set_lr(self, lr):
        self.lr, self.c_lr = lr, self.constant(lr)

    # -- the pieces of one iteration -------------------------------------------------------
    def domain_inverse(self, W):
        """``(M, smallest entry of M, status)``: ``M = (sI - W o W)^-1`` (None if singular)
        and device values for the domain test (``sI - W o W`` is a nonsingular M-matrix when
        ``M`` exists with every entry ``>= -domain_tol``; a Z-matrix is one exactly then).
        ``status``: torch's LAPACK status (0: invertible), None elsewhere."""
        M, status = self.ops.inverse(self.s_eye - W * W)
        if M is None:
            return None, None, None
        return M, self.xp.min(M), status

    def inside(self, smallest, status):
        """Host decision of one domain test (NaN compares false: a NaN inverse fails)."""
        if smallest is None or (status is not None and int(status) != 0):
            return False
        return float(smallest) >= -self.domain_tol

    def project(self, W, step):
        """Masked entries to 0; required entries keep ``|W_ij| >= floor`` (sign of the
        entry, else of ``-step``)."""
        if self.free is not None:
            W = W * self.free
        if self.required_floor <= 0.0:
            return W
        xp = self.xp
        need = (self.required != 0) & (xp.abs(W) < self.required_floor)
        positive = (W > 0) | ((W == 0) & (step <= 0))
        floor = xp.full_like(W, self.required_floor)
        return xp.where(need, xp.where(positive, floor, -floor), W)

    def residual_variances(self, W, P):
        """``R_jj = sum_i (I - W)_ij P_ij`` with ``P = Sigma (I - W)``, clipped at 0."""
        return self.ops.maximum(self.xp.sum((self.eye - W) * P, axis=0), self.c_zero)

    def update_scale(self, R):
        """Closed-form scale: EV ``sqrt(tr R / d)``, NV ``sqrt(R_jj)``, floored."""
        xp, maximum = self.xp, self.ops.maximum
        if self.scale_mode == kernel.SCALE_EV:
            return maximum(xp.sqrt(xp.mean(R)), self.floor)
        return maximum(xp.sqrt(R), self.floor)

    def score_products(self, W):
        """``P`` with score gradient ``-P diag(1/sigma)``: ``Sigma (I - W)`` (l2) or
        ``Sigma - X^T sigmoid(XW) / n`` (logistic)."""
        if self.loss_code == kernel.LOSS_L2:
            return self.Sigma - self.Sigma @ W
        xp, X = self.xp, self.X
        Z = X @ W
        # sigmoid(z) = exp(-logaddexp(0, -z)), stable on both signs
        return self.Sigma - X.T @ xp.exp(-xp.logaddexp(xp.zeros_like(Z), -Z)) / X.shape[0]

    def adam_update(self, M, it):
        """Gradient ``2 W o M^T - mu Sigma (I - W) diag(1/sigma) + mu lambda sign(W)`` at the
        current W (in the domain, ``M`` its inverse) and one Adam step (the compiled loop's
        formulas, in its order)."""
        xp, W = self.xp, self.W
        P = self.score_products(W)
        if self.scaled and (it > 1 or self.update_scale_first):
            self.sigma = self.update_scale(self.residual_variances(W, P))
        grad = ((self.c_two * W) * M.T - P * (self.c_mu / self.sigma)
                + self.c_mu_lambda * self.ops.sign(W))
        self.m = self.c_beta1 * self.m + self.c_beta1_rest * grad
        self.v = self.c_beta2 * self.v + (self.c_beta2_rest * grad) * grad
        inv_bias1 = 1.0 / (1.0 - self.beta1 ** it)
        inv_bias2 = 1.0 / (1.0 - self.beta2 ** it)
        self.step = (self.m * inv_bias1) / (xp.sqrt(self.v * inv_bias2) + self.c_eps)
        self.W_prev = W
        self.W = self.project(W - self.c_lr * self.step, self.step)

    def refresh_scale(self):
        """The closed-form scale of the current W (checkpoints and the stage's end)."""
        if self.scaled:
            self.sigma = self.update_scale(self.residual_variances(
                self.W, self.Sigma - self.Sigma @ self.W))

    # -- blocks of iterations --------------------------------------------------------------
    def snapshot(self):
        # the updates build new arrays, never write into these: references are a snapshot
        return self.W, self.W_prev, self.m, self.v, self.step, self.sigma

    def restore(self, state):
        self.W, self.W_prev, self.m, self.v, self.step, self.sigma = state

    def run_unchecked(self, first, last):
        """Iterations ``first..last`` with the domain tests kept on the device and read once
        at the end. False (state undefined) when one failed."""
        xp, smallest, statuses = self.xp, [], []
        # the iterations after a failed test are discarded: their overflow (NumPy-backed
        # namespaces warn on it) is no news for the caller
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for it in range(first, last + 1):
                M, low, status = self.domain_inverse(self.W)
                if M is None:
                    return False
                smallest.append(low)
                if status is not None:
                    statuses.append(status)
                self.adam_update(M, it)
        status = xp.max(xp.stack(statuses)) if statuses else None
        return self.inside(xp.min(xp.stack(smallest)), status)

    def run_checked(self, first, last):
        """Iterations ``first..last`` with one host decision each (DAGMA's backtracking).
        Returns ``(status, iteration)``: ``None`` while the stage goes on."""
        for it in range(first, last + 1):
            M, low, status = self.domain_inverse(self.W)
            while not self.inside(low, status):
                if it == 1 or self.s <= 0.9:
                    return kernel.STAGE_DOMAIN_FAIL, it
                # undo the last step, halve lr, retake it
                self.set_lr(self.lr * 0.5)
                self.n_back += 1
                if self.lr <= 1e-16:
                    self.W = self.W_prev
                    return kernel.STAGE_LR_UNDERFLOW, it
                self.W = self.project(self.W_prev - self.c_lr * self.step, self.step)
                M, low, status = self.domain_inverse(self.W)
            self.adam_update(M, it)
        return None, last

    def objective(self):
        """``mu (score + lambda1 ||W||_1) + h_s(W)`` (one transfer to the host);
        ``LinAlgError`` if ``sI - W o W`` is not finite (as the compiled loop)."""
        xp, W, sigma = self.xp, self.W, self.sigma
        if self.loss_code == kernel.LOSS_L2:
            R = self.residual_variances(W, self.Sigma - self.Sigma @ W)
            score = xp.sum(0.5 * R / sigma)
            if self.scale_mode != kernel.SCALE_FIXED:
                score = score + 0.5 * xp.sum(sigma)
        else:
            X = self.X
            Z = X @ W
            score = xp.sum(xp.logaddexp(xp.zeros_like(Z), Z) - X * Z) / X.shape[0]
        A = self.s_eye - W * W
        if not bool(xp.all(xp.isfinite(A))):
            raise np.linalg.LinAlgError("Array must not contain infs or NaNs.")
        sign, logabsdet = xp.linalg.slogdet(A)
        score, l1, sign, logabsdet = (float(v) for v in to_numpy(xp.stack(
            [score, xp.sum(xp.abs(W)), sign, logabsdet])))
        d = W.shape[0]
        h = -logabsdet + d * math.log(self.s) if sign > 0 else math.inf
        return self.mu * (score + self.lambda1 * l1) + h


def adam_stage_namespace(xp, Sigma, X, W, sigma, sigma_floor, free_mask, required_mask,
                         required_floor, mu, s, lr, lambda1, max_iter, checkpoint, tol, beta1,
                         beta2, eps, domain_tol, scale_mode, loss_code, update_scale_first):
    """One stage of the path in namespace ``xp`` (arguments as ``_dag.adam_stage``;
    ``free_mask=None`` leaves every entry free).

    Returns
    -------
    status, n_iter, lr, objective, relative_change, n_backtracks, W, sigma
        W and sigma are new arrays (the inputs are not modified).
    """
    loop = _StageLoop(xp, Sigma, X, W, sigma, sigma_floor, free_mask, required_mask,
                      required_floor, mu, s, lr, lambda1, beta1, beta2, eps, domain_tol,
                      scale_mode, loss_code, update_scale_first)
    obj_prev, obj, rel = 1e16, math.nan, math.inf
    it, block = 1, 1
    while it <= max_iter:
        # the block ends at the next checkpoint at the latest
        next_check = min(max_iter, -(-it // checkpoint) * checkpoint)
        last = min(next_check, it + block - 1)
        start = loop.snapshot()
        if loop.run_unchecked(it, last):
            block = min(2 * block, _MAX_BLOCK)
        else:
            # a domain test failed in the block: replay it with one decision per iteration
            loop.restore(start)
            status, stop = loop.run_checked(it, last)
            block = 1
            if status is not None:
                return status, stop, loop.lr, obj, rel, loop.n_back, loop.W, loop.sigma
        if last == next_check:
            loop.refresh_scale()
            obj = loop.objective()
            rel = abs(obj_prev - obj) / max(abs(obj_prev), 1e-300)
            if rel <= tol:
                return (kernel.STAGE_CONVERGED, last, loop.lr, obj, rel, loop.n_back, loop.W,
                        loop.sigma)
            obj_prev = obj
        it = last + 1
    # the scale returned belongs to the returned W
    loop.refresh_scale()
    return (kernel.STAGE_MAX_ITER, max(max_iter, 0), loop.lr, obj, rel, loop.n_back, loop.W,
            loop.sigma)
