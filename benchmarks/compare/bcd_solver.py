"""Lasso with ``solver="cd"`` against ``solver=BlockCoordinateDescent(...)``.

Same estimator, same data, same certificate (the duality gap of the Lasso);
only the solver changes. Seeded, one process, one BLAS thread; writes
its own section of ``benchmarks/results/bcd_solver.md`` (``--out``).

    python benchmarks/compare/bcd_solver.py
    python benchmarks/compare/bcd_solver.py --quick    # smaller problem (smoke test)

Problem: dense Gaussian design with AR(1) correlated columns (rho = 0.5),
10 true nonzero coefficients, noise SNR about 10, ``alpha = alpha_max / 20``.
Every fit uses the estimator tolerance ``tol = 1e-8`` (relative gap:
``n gap <= tol ||y_c||^2``); BCD runs use ``max_iter=200000`` and leave the
solver's ``tol`` at its default, so the estimator's gap stops them. Seconds: best of ``--repeat`` full ``fit`` calls (wall clock,
including the BCD setup). The "anchor" is ``solver="cd"`` of the same run;
ratio = seconds / cd seconds.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import scipy.linalg  # noqa: F401  (load every BLAS before threadpool_limits applies)
from threadpoolctl import threadpool_limits

from sparseopt.linear_model import Lasso
from sparseopt.optimize import BlockCoordinateDescent

sys.path.insert(0, os.path.dirname(__file__))
from _sections import machine_stamp, replace_section  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "..", "results", "bcd_solver.md")

CONFIGS = {
    "VB-GSL, newton, tau=50": dict(partition="variable", selection="gsl", update="newton",
                                   block_size=50),
    "VB-GSQ, matrix (prox-Newton), tau=5": dict(partition="variable", selection="gsq",
                                                 update="matrix", block_size=5),
    "VB-GSL, gradient, tau=5": dict(partition="variable", selection="gsl",
                                    update="gradient", block_size=5),
    "FB sorted, GS, gradient, tau=5": dict(partition="sorted", selection="gs",
                                           update="gradient", block_size=5),
    "FB order, cyclic, gradient, tau=5": dict(partition="order", selection="cyclic",
                                              update="gradient", block_size=5),
}


def make_problem(n, p, seed=0, rho=0.5, n_nonzero=10):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):  # AR(1) columns, unit variance
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * Z[:, j]
    w = np.zeros(p)
    w[rng.choice(p, n_nonzero, replace=False)] = rng.choice([-1.0, 1.0], n_nonzero)
    signal = X @ w
    y = signal + rng.standard_normal(n) * np.std(signal) / np.sqrt(10.0)
    yc = y - y.mean()
    alpha_max = np.max(np.abs((X - X.mean(0)).T @ yc)) / n
    return X, y, alpha_max / 20.0


def time_fit(est, X, y, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)
    n, p = (200, 400) if args.quick else (500, 1000)
    X, y, alpha = make_problem(n, p)
    yc = y - y.mean()
    rows = []
    t_script = time.perf_counter()
    with threadpool_limits(1):
        stamp = machine_stamp()  # inside the limit: the thread count the runs use
        cd = Lasso(alpha=alpha, tol=1e-8)
        t_cd = time_fit(cd, X, y, args.repeat)
        rows.append(("cd (working set, default)", t_cd, cd, 1.0))
        for name, params in CONFIGS.items():
            solver = BlockCoordinateDescent(max_iter=200_000, random_state=0, **params)
            est = Lasso(alpha=alpha, tol=1e-8, solver=solver)
            t = time_fit(est, X, y, args.repeat)
            rows.append((name, t, est, t / t_cd))
    total = time.perf_counter() - t_script

    cmd = "python benchmarks/compare/bcd_solver.py" + (" --quick" if args.quick else "") + (
        f" --repeat {args.repeat}" if args.repeat != 3 else "")
    lines = [
        "## Lasso: working-set CD vs block coordinate descent as `solver=`", "",
        f"`{cmd}`", "", stamp, "",
        (f"Dense {n} x {p} AR(1) design (rho = 0.5), 10 true nonzeros, alpha = alpha_max / 20, "
         f"estimator tol = 1e-8 on the relative duality gap for every solver. Seconds: best of "
         f"{args.repeat} `fit` calls, one BLAS thread, one run on a machine shared with other "
         f"jobs (see the load; read ratios, not seconds; total script time {total:.0f} s). Ratio = seconds / cd seconds; "
         "max |coef - coef_cd| compares with the cd fit."), "",
        ("| solver | seconds | ratio vs cd | iterations | n gap / ‖y_c‖² | converged "
         "| nonzeros | max abs(coef - coef_cd) |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    y_norm2 = float(yc @ yc)
    for name, t, est, ratio in rows:
        diff = float(np.max(np.abs(est.coef_ - cd.coef_)))
        lines.append(f"| {name} | {t:.3g} | {ratio:.3g} | {est.n_iter_} | "
                     f"{n * est.dual_gap_ / y_norm2:.1e} | {est.converged_} | "
                     f"{int(np.count_nonzero(est.coef_))} | {diff:.1e} |")
    lines += ["", ("cd iterations are `Lasso.n_iter_`: coordinate-descent epochs summed over the "
                   "working sets (scikit-learn's unit); BCD iterations are block updates over all "
                   f"{p} coordinates."), ""]
    text = "\n".join(lines)
    print(text)
    if not args.quick or args.out != RESULTS:
        replace_section(args.out, "lasso-solver", text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
