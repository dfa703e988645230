"""Demo rows of ``python -m sparseopt demo`` for entropic optimal transport (~10 s)."""
from __future__ import annotations

import time
import warnings

import numpy as np

from ..datasets import make_point_clouds, make_random_assignment
from ..transport import SinkhornTransport, solve


def _pot():
    try:  # optional anchor, imported only when the demo runs
        import ot
    except ImportError:
        return None
    return ot


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def demo():
    """Rows ``{problem, estimator, metric, value, seconds, anchor, anchor_value}``."""
    ot = _pot()
    rows = []
    solve(np.random.default_rng(0).uniform(size=(20, 20)), [], [], 0.05)  # JIT warm-up

    # 1. the paper's random assignment problem (eta = 1200), SNS to 1e-9
    pb = make_random_assignment(300, random_state=0)
    reg = 1 / 1200
    res, seconds = _timed(lambda: solve(pb.M, pb.a, pb.b, reg, method="sns"))
    anchor, anchor_value = "", None
    if ot is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            P = ot.sinkhorn(pb.a, pb.b, pb.M, reg)  # POT's defaults: 1000 iterations
        anchor = "POT ot.sinkhorn, default numItermax=1000: l1 marginal error"
        anchor_value = float(np.abs(P.sum(1) - pb.a).sum() + np.abs(P.sum(0) - pb.b).sum())
    rows.append(dict(problem="random assignment n=300, reg=1/1200",
                     estimator="solve(method='sns')", metric="l1 marginal error",
                     value=float(res.marginal_error), seconds=seconds, anchor=anchor,
                     anchor_value=anchor_value))
    rows.append(dict(problem="random assignment n=300, reg=1/1200",
                     estimator="solve(method='sns')", metric="total iterations (Newton)",
                     value=float(res.n_iter), seconds=seconds,
                     anchor="paper (n=500): 29 iterations incl. 9 Newton", anchor_value=29.0))

    # 2. agreement with POT at moderate reg: transport cost
    pb = make_random_assignment(200, random_state=1)
    for method in ("sinkhorn", "log", "sns"):
        res, seconds = _timed(lambda: solve(pb.M, pb.a, pb.b, 0.02, method=method,
                                            tol=1e-11, max_iter=20000))
        anchor, anchor_value = "", None
        if ot is not None:
            pot_method = "sinkhorn" if method == "sinkhorn" else "sinkhorn_log"
            anchor = f"POT ot.sinkhorn2(method={pot_method!r})"
            anchor_value = float(ot.sinkhorn2(pb.a, pb.b, pb.M, 0.02, method=pot_method,
                                              stopThr=1e-13, numItermax=20000))
        rows.append(dict(problem="random assignment n=200, reg=0.02",
                         estimator=f"solve(method={method!r})", metric="transport cost <P, M>",
                         value=float(res.cost), seconds=seconds, anchor=anchor,
                         anchor_value=anchor_value))

    # 3. the estimator: recovering a planted Monge map
    pb = make_point_clouds(300, random_state=0)
    X_new = np.random.default_rng(1).standard_normal((100, 2)) * 0.7
    truth = X_new @ pb.A.T + pb.t

    def rmse(mapped):
        return float(np.sqrt(np.mean(np.sum((mapped - truth) ** 2, axis=1))))

    est, seconds = _timed(lambda: SinkhornTransport(reg_e=1e-3, norm="max").fit(
        Xs=pb.X_source, Xt=pb.X_target))
    anchor, anchor_value = "", None
    if ot is not None:
        # POT's defaults (1000 sweeps; its Sinkhorn needs >1e5 here, so it stops early)
        pot = ot.da.SinkhornTransport(reg_e=1e-3, norm="max")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pot.fit(Xs=pb.X_source, Xt=pb.X_target)
        anchor = "POT ot.da.SinkhornTransport, default max_iter=1000 (same entropic map)"
        anchor_value = rmse(pot.transform(Xs=X_new))
    rows.append(dict(problem="point clouds n=300, planted affine Monge map",
                     estimator="SinkhornTransport(reg_e=1e-3, norm='max')",
                     metric="RMSE of mapped new samples", value=rmse(est.transform(Xs=X_new)),
                     seconds=seconds, anchor=anchor, anchor_value=anchor_value))
    return rows
