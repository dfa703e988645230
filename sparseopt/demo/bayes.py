"""Demo rows for ``python -m sparseopt demo`` (sparse Bayesian learning)."""
from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.linear_model import ARDRegression

from ..bayes import KroneckerDesign, KroneckerSBL, SparseBayesianRegression
from ..datasets import make_kronecker_sparse_recovery


def _nmse(estimate, truth):
    return float(np.sum(np.abs(estimate - truth) ** 2) / np.sum(np.abs(truth) ** 2))


def demo():
    """KroneckerSBL and classic SBL vs scikit-learn's ARDRegression on one Kronecker problem."""
    y, factors, x, _ = make_kronecker_sparse_recovery((16, 16), (32, 32), 3, snr_db=20,
                                                      random_state=0)
    problem = "Kronecker 16x32 kron 16x32 (N=1024), 3x3 nonzeros, 20 dB"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ard = ARDRegression(fit_intercept=False).fit(np.kron(*factors), y)
    anchor, anchor_value = "sklearn.linear_model.ARDRegression", _nmse(ard.coef_, x)
    rows = []
    cases = [("KroneckerSBL(solver='svd')",
              lambda: KroneckerSBL().fit(KroneckerDesign(*factors), y)),
             ("KroneckerSBL(solver='am')",
              lambda: KroneckerSBL(solver="am").fit(KroneckerDesign(*factors), y)),
             ("SparseBayesianRegression",
              lambda: SparseBayesianRegression(fit_intercept=False).fit(np.kron(*factors), y))]
    for name, fit in cases:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = fit()
        rows.append({"problem": problem, "estimator": name, "metric": "NMSE",
                     "value": _nmse(est.coef_, x), "seconds": time.perf_counter() - t0,
                     "anchor": anchor, "anchor_value": anchor_value})
    return rows
