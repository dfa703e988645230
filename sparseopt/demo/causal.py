"""Demo rows for ``python -m sparseopt demo`` (CoLiDE-EV/NV, DAGMA on planted DAGs)."""
from __future__ import annotations

import contextlib
import io
import time
import warnings

import numpy as np

from ..causal import DAGMA, CoLiDE, threshold_to_dag
from ..datasets import make_linear_sem
from ..metrics import count_accuracy


def _dagma_package_shd(X, B_true):
    """SHD of the ``dagma`` package on the same data and schedule, or ("", None)."""
    try:  # optional anchor, imported only when the demo runs
        from dagma.linear import DagmaLinear
    except ImportError:
        return "", None
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):  # tqdm bar
        warnings.simplefilter("ignore")
        W = DagmaLinear("l2").fit(X.copy(), lambda1=0.05, w_threshold=0.3, T=4,
                                  s=[1.0, 0.9, 0.8, 0.7], warm_iter=20_000, max_iter=70_000)
    W, _ = threshold_to_dag(W, 0.3)
    return ("dagma.linear.DagmaLinear (lambda1=0.05, paper schedule)",
            float(count_accuracy(B_true, (W != 0).astype(int))["shd"]))


def demo():
    """Rows ``{problem, estimator, metric, value, seconds, anchor, anchor_value}``."""
    rows = []
    d = 10
    for noise, variance in (("EV var 1", 1.0), ("NV U(0.5,10)", "nv")):
        X, W_true, noise_std = make_linear_sem(d, 4 * d, 1000, noise_variance=variance,
                                               random_state=0)
        B = W_true != 0
        problem = f"ER4 d={d}, n=1000, gauss {noise}"
        for label, est in (("CoLiDE(noise='ev')", CoLiDE("ev")),
                           ("CoLiDE(noise='nv')", CoLiDE("nv")), ("DAGMA()", DAGMA())):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(X)
            seconds = time.perf_counter() - t0
            anchor, anchor_value = ("", None)
            if label == "DAGMA()" and variance == 1.0:
                anchor, anchor_value = _dagma_package_shd(X, B)
            rows.append({"problem": problem, "estimator": label, "metric": "SHD",
                         "value": float(count_accuracy(B, est.adjacency_)["shd"]),
                         "seconds": seconds, "anchor": anchor, "anchor_value": anchor_value})
            if hasattr(est, "sigma_"):
                err = float(np.mean(np.abs(np.asarray(est.sigma_) - noise_std) / noise_std))
                rows.append({"problem": problem, "estimator": label,
                             "metric": "mean rel. error of noise std", "value": err,
                             "seconds": seconds, "anchor": "", "anchor_value": None})
    return rows
