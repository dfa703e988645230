"""Demo rows for ``python -m sparseopt demo`` (robust PCA, matrix completion)."""
from __future__ import annotations

import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from ..datasets import make_low_rank_sparse, make_matrix_completion, make_synthetic_video
from ..decomposition import RobustMatrixCompletion, RobustPCA
from ..metrics import relative_error, support_recovery


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _tensorly_relerr(D, L):
    try:  # optional anchor, imported only when the demo runs
        from tensorly.decomposition import robust_pca
    except ImportError:
        return "", None

    with threadpool_limits(1):  # multithreaded BLAS thrashes on a shared machine
        low, _ = robust_pca(D, reg_E=1.0 / np.sqrt(max(D.shape)), verbose=False)
    return "tensorly.decomposition.robust_pca (reg_E=1/sqrt(n), 100 it)", float(
        np.linalg.norm(np.asarray(low) - L) / np.linalg.norm(L))


def demo():
    """Rows ``{problem, estimator, metric, value, seconds, anchor, anchor_value}``."""
    rows = []
    n, rank = 200, 10
    for label, kind, scale in (("+-mean|L|", "mean", 1.0), ("U[-500,500]", "uniform", 500.0)):
        D, L, _ = make_low_rank_sparse(n, rank=rank, outlier_fraction=0.1, outliers=kind,
                                       outlier_scale=scale, random_state=0)
        problem = f"planted RPCA n={n}, r={rank}, 10% outliers {label}"
        est, sec = _timed(lambda: RobustPCA(method="ialm", random_state=0).fit(D))
        anchor, anchor_value = _tensorly_relerr(D, L) if kind == "mean" else ("", None)
        rows.append({"problem": problem, "estimator": "RobustPCA(method='ialm')",
                     "metric": "rel. error of L", "value": relative_error(est.low_rank_, L),
                     "seconds": sec, "anchor": anchor, "anchor_value": anchor_value})
        est, sec = _timed(lambda: RobustPCA(method="accaltproj", rank=rank,
                                            random_state=0).fit(D))
        rows.append({"problem": problem, "estimator": "RobustPCA(method='accaltproj')",
                     "metric": "rel. error of L", "value": relative_error(est.low_rank_, L),
                     "seconds": sec, "anchor": "", "anchor_value": None})
    X, B, F, _ = make_synthetic_video(random_state=0)
    est, sec = _timed(lambda: RobustPCA(method="ialm", random_state=0).fit(X))
    rows.append({"problem": "synthetic video 60 frames 32x48, background subtraction",
                 "estimator": "RobustPCA(method='ialm')", "metric": "F1 of foreground support",
                 "value": support_recovery(est.sparse_, F, atol=0.05)["f1"], "seconds": sec,
                 "anchor": "", "anchor_value": None})
    Xc, mask, M = make_matrix_completion(300, rank=5, oversampling=1.0, random_state=0)
    for solver in ("exact", "iterative"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est, sec = _timed(lambda: RobustMatrixCompletion(
                rank=5, solver=solver, tol=1e-10, random_state=0).fit(Xc, mask=mask))
        rows.append({"problem": f"matrix completion n=300, r=5, {100 * mask.mean():.0f}% "
                                "observed", "estimator": f"RobustMatrixCompletion("
                                f"solver='{solver}')", "metric": "rel. error of M",
                     "value": relative_error(est.low_rank_, M), "seconds": sec, "anchor": "",
                     "anchor_value": None})
    return rows
