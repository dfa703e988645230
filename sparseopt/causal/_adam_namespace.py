"""One path stage (Adam on the stage objective) in the array namespace of the input.

The same iterations as the compiled loop ``sparseopt._ext._dag.adam_stage``, written with
array-API operations so that torch, CuPy or array-api-strict arrays stay on their device:
the inverse ``M = (sI - W o W)^-1`` comes from ``xp.linalg.inv`` and the log-determinant of
the checkpoints from ``xp.linalg.slogdet``. The compiled loop serves NumPy inputs; this one
serves every other namespace (chosen by :func:`sparseopt.causal.path_following`).

Each iteration makes one host decision (the domain test), so it synchronises once with the
device; everything else stays on the device.
"""
from __future__ import annotations

import math

import array_api_compat
import numpy as np

from .._ext import _dag as kernel

__all__ = ["adam_stage_namespace"]


def _domain_inverse(xp, W, s_eye, domain_tol):
    """``M = (sI - W o W)^-1`` and whether ``sI - W o W`` is a nonsingular M-matrix.

    ``sI - W o W`` is a Z-matrix; a Z-matrix is a nonsingular M-matrix exactly when it is
    invertible with a non-negative inverse, tested here as every entry ``>= -domain_tol``
    (the reference codes' test). ``s_eye`` is ``sI``.
    """
    try:
        M = xp.linalg.inv(s_eye - W * W)
    except Exception:  # exactly singular: LinAlgError (NumPy) or torch's _LinAlgError
        return None, False
    min_entry = float(xp.min(M))  # NaN compares False: a non-finite inverse fails too
    return M, bool(min_entry >= -domain_tol)


def _project_required(xp, W, required, required_floor, step):
    """Required entries keep ``|W_ij| >= floor`` (sign of the entry, else of ``-step``)."""
    if required_floor <= 0.0:
        return W
    need = (required != 0) & (xp.abs(W) < required_floor)
    positive = (W > 0) | ((W == 0) & (step <= 0))
    floor = xp.full_like(W, required_floor)
    return xp.where(need, xp.where(positive, floor, -floor), W)


def _residual_variances(xp, W, P, eye):
    """``R_jj = [(I - W)^T Sigma (I - W)]_jj = sum_i (I - W)_ij P_ij`` from
    ``P = Sigma (I - W)``, clipped at 0."""
    return xp.clip(xp.sum((eye - W) * P, axis=0), min=0.0)


def _update_scale(xp, scale_mode, R, sigma, floor):
    """Closed-form scale: EV ``sqrt(tr R / d)``, NV ``sqrt(R_jj)``, floored."""
    if scale_mode == kernel.SCALE_EV:
        return xp.maximum(xp.sqrt(xp.sum(R) / R.shape[0]), floor)
    if scale_mode == kernel.SCALE_NV:
        return xp.maximum(xp.sqrt(R), floor)
    return sigma


def _score_products(xp, Sigma, X, W, loss_code):
    """``P`` with score gradient ``-P diag(1/sigma)``: ``Sigma (I - W)`` (l2) or
    ``Sigma - X^T sigmoid(XW) / n`` (logistic)."""
    if loss_code == kernel.LOSS_L2:
        return Sigma - Sigma @ W
    Z = X @ W
    # sigmoid(z) = exp(-logaddexp(0, -z)), stable on both signs
    return Sigma - X.T @ xp.exp(-xp.logaddexp(xp.zeros_like(Z), -Z)) / X.shape[0]


def _stage_objective(xp, Sigma, X, W, sigma, mu, s, lambda1, scale_mode, loss_code, eye):
    """``mu (score + lambda1 ||W||_1) + h_s(W)``; ``LinAlgError`` if ``sI - W o W`` is not
    finite (as the compiled loop)."""
    if loss_code == kernel.LOSS_L2:
        R = _residual_variances(xp, W, Sigma - Sigma @ W, eye)
        score = float(xp.sum(0.5 * R / sigma))
        if scale_mode != kernel.SCALE_FIXED:
            score += 0.5 * float(xp.sum(sigma))
    else:
        Z = X @ W
        score = float(xp.sum(xp.logaddexp(xp.zeros_like(Z), Z) - X * Z)) / X.shape[0]
    A = s * eye - W * W
    if not bool(xp.all(xp.isfinite(A))):
        raise np.linalg.LinAlgError("Array must not contain infs or NaNs.")
    sign, logabsdet = xp.linalg.slogdet(A)
    d = W.shape[0]
    h = -float(logabsdet) + d * math.log(s) if float(sign) > 0 else math.inf
    return mu * (score + lambda1 * float(xp.sum(xp.abs(W)))) + h


def adam_stage_namespace(xp, Sigma, X, W, sigma, sigma_floor, free_mask, required_mask,
                         required_floor, mu, s, lr, lambda1, max_iter, checkpoint, tol, beta1,
                         beta2, eps, domain_tol, scale_mode, loss_code, update_scale_first):
    """One stage of the path in namespace ``xp`` (arguments as ``_dag.adam_stage``).

    Returns
    -------
    status, n_iter, lr, objective, relative_change, n_backtracks, W, sigma
        W and sigma are new arrays (the inputs are not modified).
    """
    d = W.shape[0]
    eye = xp.eye(d, dtype=W.dtype, device=array_api_compat.device(W))
    s_eye = s * eye
    m, v, step = xp.zeros_like(W), xp.zeros_like(W), xp.zeros_like(W)
    W_prev = W
    obj_prev, obj, rel = 1e16, math.nan, math.inf
    n_back, status, done = 0, kernel.STAGE_MAX_ITER, False
    it = 1
    while it <= max_iter:
        M, inside = _domain_inverse(xp, W, s_eye, domain_tol)
        while not inside:
            if it == 1 or s <= 0.9:
                status, done = kernel.STAGE_DOMAIN_FAIL, True
                break
            # undo the last step, halve lr, retake it (DAGMA's backtracking)
            lr *= 0.5
            n_back += 1
            if lr <= 1e-16:
                W = W_prev
                status, done = kernel.STAGE_LR_UNDERFLOW, True
                break
            W = _project_required(xp, (W_prev - lr * step) * free_mask, required_mask,
                                  required_floor, step)
            M, inside = _domain_inverse(xp, W, s_eye, domain_tol)
        if done:
            break

        P = _score_products(xp, Sigma, X, W, loss_code)
        if (loss_code == kernel.LOSS_L2 and scale_mode != kernel.SCALE_FIXED
                and (it > 1 or update_scale_first)):
            sigma = _update_scale(xp, scale_mode, _residual_variances(xp, W, P, eye), sigma,
                                  sigma_floor)
        # gradient -mu Sigma(I - W) diag(1/sigma) + mu lambda sign(W) + 2 W o M^T, one Adam step
        grad = (2.0 * W) * M.T - P * (mu / sigma) + (mu * lambda1) * xp.sign(W)
        m = beta1 * m + (1.0 - beta1) * grad
        v = beta2 * v + (1.0 - beta2) * (grad * grad)
        step = (m * (1.0 / (1.0 - beta1 ** it))) / (xp.sqrt(v * (1.0 / (1.0 - beta2 ** it)))
                                                     + eps)
        W_prev = W
        W = _project_required(xp, (W - lr * step) * free_mask, required_mask, required_floor,
                              step)

        if it % checkpoint == 0 or it == max_iter:
            if loss_code == kernel.LOSS_L2 and scale_mode != kernel.SCALE_FIXED:
                sigma = _update_scale(xp, scale_mode, _residual_variances(
                    xp, W, Sigma - Sigma @ W, eye), sigma, sigma_floor)
            obj = _stage_objective(xp, Sigma, X, W, sigma, mu, s, lambda1, scale_mode,
                                   loss_code, eye)
            rel = abs(obj_prev - obj) / max(abs(obj_prev), 1e-300)
            if rel <= tol:
                status, done = kernel.STAGE_CONVERGED, True
                break
            obj_prev = obj
        it += 1
    if not done:
        it = max(max_iter, 0)
        # the scale returned belongs to the returned W
        if loss_code == kernel.LOSS_L2 and scale_mode != kernel.SCALE_FIXED:
            sigma = _update_scale(xp, scale_mode, _residual_variances(
                xp, W, Sigma - Sigma @ W, eye), sigma, sigma_floor)
    return status, it, lr, obj, rel, n_back, W, sigma
