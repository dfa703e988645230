"""Demo rows for ``python -m sparseopt demo`` (sparse regression under local privacy)."""
from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.linear_model import Lasso

from ..datasets import make_ldp_regression
from ..privacy import LDPSparseRegression


def demo():
    """Both protocols with their defaults on standardized data; anchor: the non-private Lasso."""
    n, d, k = 500_000, 3, 2
    X, y, theta = make_ldp_regression(n, d, k, noise=0.5, design="gaussian", random_state=0)
    zero = float(np.linalg.norm(theta))
    lasso = Lasso(alpha=0.5 * np.sqrt(2 * np.log(d) / n), fit_intercept=False).fit(X, y)
    anchor_value = float(np.linalg.norm(lasso.coef_ - theta)) / zero
    anchor = "sklearn Lasso (non-private)"
    rows = []
    for protocol in ("non_interactive", "interactive"):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            est = LDPSparseRegression(epsilon=2.0, delta=1e-5, protocol=protocol,
                                      random_state=0).fit(X, y)
        rows.append({"problem": f"LDP n={n} users, d={d}, k={k}, eps=2 (zero: 1)",
                     "estimator": f"LDPSparseRegression({protocol})",
                     "metric": "l2 error / ||theta*||",
                     "value": float(np.linalg.norm(est.coef_ - theta)) / zero,
                     "seconds": time.perf_counter() - t0, "anchor": anchor,
                     "anchor_value": anchor_value})
    return rows
