"""Demo rows for ``python -m sparseopt demo`` (sparse regression)."""
from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.linear_model import Lasso as SkLasso

from ..datasets import make_correlated_regression
from ..linear_model import Lasso, MCPRegression, SparseLinearRegression
from ..optimize import enet_duality_gap


def _support_f1(w, w_true):
    est, true = set(np.flatnonzero(w)), set(np.flatnonzero(w_true))
    if not est and not true:
        return 1.0
    tp = len(est & true)
    return 2 * tp / (len(est) + len(true))


def demo():
    """Lasso vs scikit-learn, MCP vs skglm, and the penalties on one planted problem."""
    rows = []
    X, y, w_true = make_correlated_regression(200, 2000, n_informative=10, rho=0.6,
                                              random_state=0)
    alpha = 0.05 * np.max(np.abs(X.T @ y)) / X.shape[0]
    t0 = time.perf_counter()
    ours = Lasso(alpha=alpha, fit_intercept=False, tol=1e-6).fit(X, y)
    t_ours = time.perf_counter() - t0
    n, yy = X.shape[0], float(y @ y)
    sk = SkLasso(alpha=alpha, fit_intercept=False, tol=1e-6, max_iter=100_000).fit(X, y)
    rows.append({"problem": "AR(1) 200x2000, alpha=alpha_max/20",
                 "estimator": "Lasso", "metric": "relative duality gap",
                 "value": enet_duality_gap(X, y, ours.coef_, alpha)[0] * n / yy,
                 "seconds": t_ours, "anchor": "sklearn.linear_model.Lasso",
                 "anchor_value": enet_duality_gap(X, y, sk.coef_, alpha)[0] * n / yy})

    t0 = time.perf_counter()
    mcp = MCPRegression(alpha=2 * alpha, gamma=3.0, fit_intercept=False, tol=1e-6).fit(X, y)
    t_mcp = time.perf_counter() - t0
    anchor_value, anchor = None, ""
    try:  # optional anchor, imported only when the demo runs
        from skglm import MCPRegression as SkMCP

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sk = SkMCP(alpha=2 * alpha, gamma=3.0, fit_intercept=False, tol=1e-6).fit(X, y)
        anchor_value, anchor = _support_f1(sk.coef_, w_true), "skglm.MCPRegression"
    except ImportError:  # pragma: no cover
        pass
    rows.append({"problem": "AR(1) 200x2000, 10-sparse truth", "estimator": "MCPRegression",
                 "metric": "support F1", "value": _support_f1(mcp.coef_, w_true),
                 "seconds": t_mcp, "anchor": anchor, "anchor_value": anchor_value})
    Xs, ys, ws_true = make_correlated_regression(200, 300, n_informative=5, rho=0.6, snr=10,
                                                 random_state=1)
    amax = np.max(np.abs(Xs.T @ ys)) / Xs.shape[0]
    for penalty, a, kw in [("l1", 0.1 * amax, {}), ("scad", 0.2 * amax, {}),
                           ("l0", 0.2, {}), ("log_sum", 0.2 * amax, {}),
                           ("sef", 0.5, {"k": 5, "nonconvex": True})]:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = SparseLinearRegression(penalty, alpha=a, fit_intercept=False, tol=1e-6,
                                         max_iter=100, **kw).fit(Xs, ys)
        w = est.coef_
        if penalty == "sef":  # SEF is not exactly sparse: keep its k largest entries
            w = np.where(np.abs(w) >= np.sort(np.abs(w))[-5], w, 0)
        rows.append({"problem": "AR(1) 200x300, 5-sparse truth, SNR 10",
                     "estimator": f"SparseLinearRegression({penalty})",
                     "metric": "support F1", "value": _support_f1(w, ws_true),
                     "seconds": time.perf_counter() - t0, "anchor": "", "anchor_value": None})
    return rows
