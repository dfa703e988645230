"""L1 logistic regression: sparseopt vs celer, skglm, scikit-learn (same data, same certificate).

Objective ``(1/n) sum_i log(1 + exp(-y_i x_i^T w)) + alpha ||w||_1`` (no intercept,
celer's model; scikit-learn's ``C = 1 / (n alpha)``). Every solver's coefficients are
certified with the same duality gap (``sparseopt.optimize._logistic_gap``,
relative to the loss at 0, ``gap / log 2``); each solver runs at the loosest of a few
tolerances that reaches relative gap <= 1e-6, so that rows are comparable.

Usage: python benchmarks/compare/sparse_logistic.py [--quick] [--n-jobs N] [--centring]

``--n-jobs N`` runs the (problem, alpha) cells as joblib tasks, each timing
every solver one after the other in one worker (default 1: serial).

``--centring`` (its own section): ``SparseLogisticRegression`` with an intercept on
CSC X, with the solver's implicit centring of the mostly non-zero columns (the
default), with no column centred and with every column centred, and on the dense
copy (centred): CD epochs and seconds, same run. The off-centre problem shows what
the centring buys; the sparse problem (no column mostly non-zero) what centring
every column would cost.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from unittest import mock

import numpy as np
import scipy.sparse as sp
from _sections import Run, add_n_jobs_argument, run_grid, summary_row
from threadpoolctl import threadpool_limits

from sparseopt.linear_model import SparseLogisticRegression
from sparseopt.linear_model import sparse_regression
from sparseopt.optimize._logistic_gap import logistic_duality_gap
from sparseopt.optimize.penalties import L1

TARGET = 1e-6
TOLS = (1e-4, 1e-6, 1e-8, 1e-10)


def _problems(quick):
    rng = np.random.default_rng(0)
    n, p = (300, 600) if quick else (1000, 2000)
    X = rng.standard_normal((n, p))
    w0 = np.zeros(p)
    w0[:20] = rng.standard_normal(20)
    y = np.where(X @ w0 + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    Xs = sp.random(4 * n, 5 * p, density=0.002, format="csc", random_state=0,
                   data_rvs=rng.standard_normal)
    ws = np.zeros(5 * p)
    ws[:50] = rng.standard_normal(50)
    ys = np.where(Xs @ ws + 0.1 * rng.standard_normal(4 * n) > 0, 1.0, -1.0)
    return {f"dense {n}x{p}": (X, y), f"sparse CSC {4 * n}x{5 * p}, {Xs.nnz} nnz": (Xs, ys)}


def run_sparseopt(X, y, alpha, tol):
    return SparseLogisticRegression(alpha=alpha, fit_intercept=False, tol=tol,
                                    max_iter=100).fit(X, y).coef_.ravel()


def run_celer(X, y, alpha, tol):
    from celer import LogisticRegression

    return LogisticRegression(C=1 / (X.shape[0] * alpha), tol=tol, max_iter=100,
                              fit_intercept=False).fit(X, y).coef_.ravel()


def run_skglm(X, y, alpha, tol):
    from skglm import SparseLogisticRegression as SkSLR

    return SkSLR(alpha=alpha, tol=tol, fit_intercept=False, max_iter=100).fit(X, y).coef_.ravel()


def run_sklearn(X, y, alpha, tol):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1 / (X.shape[0] * alpha), l1_ratio=1.0, solver="liblinear",
                              tol=tol, fit_intercept=False, max_iter=10_000).fit(
        X, y).coef_.ravel()


SOLVERS = {"sparseopt": run_sparseopt, "celer": run_celer, "skglm": run_skglm,
           "sklearn (liblinear)": run_sklearn}


def _rel_gap(X, y, alpha, w):
    return logistic_duality_gap(X, y, w, L1(alpha))[0] / np.log(2)


def time_solver(fn, X, y, alpha, repeat):
    """Loosest tolerance of TOLS reaching the target relative gap; best time of ``repeat``."""
    for tol in TOLS:
        w = fn(X, y, alpha, tol)
        gap = _rel_gap(X, y, alpha, w)
        if gap <= TARGET:
            break
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(X, y, alpha, tol)
        times.append(time.perf_counter() - start)
    return min(times), gap, tol


_WARM = []


def _cell(name, frac, quick, repeat):
    """Every solver on one problem at ``alpha = frac * alpha_max`` (one joblib task)."""
    rows = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not _WARM:  # numba JIT / cache load, once per process, outside the timings
            run_skglm(*_problems(True)["dense 300x600"], 0.05, 1e-2)
            _WARM.append(True)
        X, y = _problems(quick)[name]
        alpha = frac * np.max(np.abs(X.T @ y)) / (2 * X.shape[0])
        base = None
        for solver, fn in SOLVERS.items():
            try:
                t, gap, tol = time_solver(fn, X, y, alpha, repeat)
            except Exception as exc:  # a missing anchor is reported, not hidden
                print(f"{solver} failed on {name}: {exc!r}", file=sys.stderr)
                t, gap, tol = np.nan, np.nan, np.nan
            base = t if solver == "sparseopt" else base
            rows.append((f"{name}, alpha = {frac} alpha_max", f"{solver} (tol {tol:.0e})",
                         t, gap, t / base))
            print(rows[-1], flush=True)
    return rows


class _EpochCounting(SparseLogisticRegression):
    _n_iter_counts = "epochs"  # n_iter_ in CD epochs


def _centring_problems(quick):
    """``{name: (X, y, alpha / alpha_max)}``: an off-centre CSC design (half the columns
    90% non-zero at means 20 to 100 with unit spread, half 5% non-zero and centred) and
    a sparse non-negative one (0.2% non-zero: no column is centred), both with labels
    from the centred design."""
    rng = np.random.default_rng(0)
    n, p = (1000, 60) if quick else (2000, 100)
    cols = []
    for j in range(p):
        share, vals = (0.9, rng.uniform(20, 100) + rng.standard_normal(n)) if j % 2 == 0 \
            else (0.05, rng.standard_normal(n))
        cols.append(np.where(rng.random(n) < share, vals, 0.0))
    X = np.column_stack(cols)
    w0 = np.zeros(p)
    w0[:10] = rng.standard_normal(10)
    y = (X @ w0 - (X @ w0).mean() + 0.5 * rng.standard_normal(n) > 0).astype(int)
    Xs = sp.random(*((600, 1500) if quick else (1200, 3000)), density=0.002, format="csc",
                   random_state=0, data_rvs=lambda k: np.abs(rng.standard_normal(k)))
    ws = np.zeros(Xs.shape[1])
    ws[:50] = rng.standard_normal(50)
    z = Xs @ ws
    ys = (z - z.mean() + 0.1 * rng.standard_normal(Xs.shape[0]) > 0).astype(int)
    return {f"off-centre CSC {n}x{p}, {sp.csc_matrix(X).nnz} nnz, alpha = 0.01 alpha_max":
            (sp.csc_matrix(X), y, 0.01),
            f"sparse CSC {Xs.shape[0]}x{Xs.shape[1]}, {Xs.nnz} nnz, >= 0, alpha = 0.1 "
            "alpha_max": (Xs, ys, 0.1)}


CENTRING = {  # the variants: (X's storage, SPARSE_CENTRING_SHARE)
    "CSC, mostly non-zero columns centred (default)": ("csc", None),
    "CSC, no column centred": ("csc", np.inf),
    "CSC, every column centred": ("csc", 0.0),
    "dense copy, centred": ("dense", None),
}


def centring_rows(quick, repeat, tol=1e-8):
    """Epochs and seconds of every variant of CENTRING on both problems."""
    rows = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (X, y, frac) in _centring_problems(quick).items():
            # alpha="auto" is 0.1 alpha_max
            alpha = frac * 10 * SparseLogisticRegression(tol=tol).fit(X, y).alpha_
            base = None
            for variant, (storage, share) in CENTRING.items():
                Xin = X.toarray() if storage == "dense" else X
                patch = mock.patch.object(sparse_regression, "SPARSE_CENTRING_SHARE",
                                          sparse_regression.SPARSE_CENTRING_SHARE
                                          if share is None else share)
                times = []
                with patch:
                    for _ in range(repeat):
                        est = _EpochCounting(alpha=alpha, tol=tol, max_iter=100)
                        start = time.perf_counter()
                        est.fit(Xin, y)
                        times.append(time.perf_counter() - start)
                t = min(times)
                base = t if base is None else base
                rows.append((name, variant, est.n_iter_, t, est.dual_gap_ / np.log(2),
                             bool(est.converged_), t / base))
                print(rows[-1], flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller problems, 1 repeat")
    parser.add_argument("--centring", action="store_true",
                        help="only the implicit-centring comparison, its own section")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[1] / "results"
                        / "sparse_logistic.md",
                        help="results file whose section this run replaces")
    add_n_jobs_argument(parser, "the (problem, alpha) cells")
    args = parser.parse_args(argv)
    run = Run(__file__, argv, libraries=("sparseopt", "numpy", "scipy", "scikit-learn",
                                         "celer", "skglm"), threads=1)
    repeat = 1 if args.quick else 3
    if args.centring:
        rows = centring_rows(args.quick, repeat)
        lines = [f"SparseLogisticRegression, fit_intercept=True, tol=1e-8; seconds: best of "
                 f"{repeat} fits, one BLAS thread.", "",
                 "| problem | X and centring | CD epochs | seconds | relative duality gap "
                 "(gap / log 2) | converged | time / default |",
                 "|---|---|---|---|---|---|---|"]
        lines += [f"| {p} | {v} | {e} | {t:.3f} | {g:.2e} | {c} | {r:.2f} |"
                  for p, v, e, t, g, c, r in rows]
        text = "\n".join(lines) + "\n"
        print(text)
        run.write(args.out, "centring" + ("-quick" if args.quick else ""), text)
        return
    tasks = [(name, frac, args.quick, repeat) for name in _problems(args.quick)
             for frac in (0.1, 0.02)]
    rows = [row for cell in run_grid(_cell, tasks, args.n_jobs) for row in cell]
    lines = [f"Seconds: best of {repeat} fits, one BLAS thread.", "",
             "| problem | solver | seconds | relative duality gap (gap / log 2) "
             "| time / sparseopt |",
             "|---|---|---|---|---|"]
    lines += [f"| {p} | {s} | {t:.3f} | {g:.2e} | {r:.2f} |" for p, s, t, g, r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    run.write(args.out, "l1-logistic" + ("-quick" if args.quick else ""), text,
              summary=_summary(rows))


def _summary(rows):
    """Headline row: the first problem at the smaller alpha, sparseopt against the fastest
    anchor (all are stopped at a certified relative duality gap)."""
    problems = [r[0] for r in rows if "0.02 alpha_max" in r[0]]
    if not problems:
        return []
    prob = problems[0]
    ours = [r for r in rows if r[0] == prob and r[1].startswith("sparseopt")]
    anchors = [r for r in rows if r[0] == prob and not r[1].startswith("sparseopt")
               and np.isfinite(r[2])]
    if not ours:
        return []
    best = min(anchors, key=lambda r: r[2]) if anchors else None
    return [summary_row("Sparse logistic regression (L1)", prob,
                        (ours[0][1], ours[0][2], ours[0][3]),
                        None if best is None else (best[1], best[2], best[3]),
                        metric="relative duality gap gap / log 2 (lower better)")]


if __name__ == "__main__":
    main()
