"""Demo rows of block coordinate descent and label propagation (``python -m sparseopt demo``)."""
from __future__ import annotations

import time

import numpy as np
from sklearn.semi_supervised import LabelPropagation as SkLP

from ..datasets import (
    make_bcd_lattice,
    make_bcd_least_squares,
    make_bcd_nonnegative_l1,
    make_bcd_two_moons,
)
from ..optimize import BlockCoordinateDescent
from ..semi_supervised import LabelPropagation


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def demo():
    """Rows ``{problem, estimator, metric, value, seconds, anchor, anchor_value}`` (< 20 s)."""
    rows = []

    # label propagation on two moons (problem E, scaled), against scikit-learn
    prob = make_bcd_two_moons(1000, 50, random_state=0)
    y = np.full(1000, -1)
    y[prob.labelled] = prob.classes[prob.labelled]
    est, sec = _timed(lambda: LabelPropagation(n_neighbors=5).fit(prob.X, y))
    acc = float(np.mean(est.transduction_ == prob.classes))
    ref = SkLP(kernel="knn", n_neighbors=5, max_iter=10000).fit(prob.X, y)
    anchor = "sklearn.semi_supervised.LabelPropagation(knn, 5)"
    anchor_value = float(np.mean(ref.transduction_ == prob.classes))
    rows.append({"problem": "E: two moons, 1000 pts, 50 labels, 5-NN",
                 "estimator": "LabelPropagation (forest cover + message passing)",
                 "metric": "transductive accuracy", "value": acc, "seconds": sec,
                 "anchor": anchor, "anchor_value": anchor_value})

    def rel_gap(res, f_star):
        return float((res.fun - f_star) / (res.history[0]["fun"] - f_star))

    # problem D: greedy tree message passing vs cyclic gradient, 200 iterations
    lat = make_bcd_lattice(30, 36, random_state=0)
    for label, params in [
        ("greedy_tree + message_passing", dict(partition="variable", selection="greedy_tree",
                                                update="message_passing",
                                                block_size=lat.Q.shape[0])),
        ("sorted/cyclic + gradient, |b|=5", dict(partition="sorted", selection="cyclic",
                                                 update="gradient", block_size=5)),
    ]:
        res, sec = _timed(lambda: BlockCoordinateDescent(max_iter=200, tol=0, record_every=200,
                                                         **params).solve(lat.objective))
        rows.append({"problem": "D: 30x30 lattice label propagation",
                     "estimator": f"BlockCoordinateDescent {label}",
                     "metric": "(F-f*)/(F0-f*) after 200 iterations",
                     "value": rel_gap(res, lat.f_star), "seconds": sec, "anchor": "",
                     "anchor_value": None})

    # problem A (scaled): GSQ + matrix updates vs cyclic gradient, 500 iterations
    A = make_bcd_least_squares(300, 600, random_state=0)
    for label, params in [
        ("variable/gsq + matrix, |b|=5", dict(partition="variable", selection="gsq",
                                              update="matrix")),
        ("sorted/cyclic + gradient, |b|=5", dict(partition="sorted", selection="cyclic",
                                                 update="gradient")),
    ]:
        res, sec = _timed(lambda: BlockCoordinateDescent(block_size=5, max_iter=500, tol=0,
                                                         record_every=500, **params).solve(
            A.objective))
        rows.append({"problem": "A: sparse least squares 300x600",
                     "estimator": f"BlockCoordinateDescent {label}",
                     "metric": "(F-f*)/(F0-f*) after 500 iterations",
                     "value": rel_gap(res, A.f_star), "seconds": sec, "anchor": "",
                     "anchor_value": None})

    # L1: active-set identification and finite termination of prox-Newton
    L1 = make_bcd_nonnegative_l1(200, 400, alpha_fraction=0.21, random_state=0)
    res, sec = _timed(lambda: BlockCoordinateDescent(
        partition="variable", selection="gsl", update="prox_newton", block_size=5,
        max_iter=2000, tol=1e-10).solve(L1.objective, penalty=L1.penalty))
    rows.append({"problem": "L1: x >= 0, alpha ||x||_1, 200x400",
                 "estimator": "BlockCoordinateDescent gsl + prox_newton, |b|=5",
                 "metric": "iterations to tol 1e-10 (active set fixed at iteration "
                           f"{res.active_set_iter})",
                 "value": float(res.n_iter), "seconds": sec, "anchor": "",
                 "anchor_value": None})
    return rows
