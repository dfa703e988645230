"""Lasso / MCP paths: sparseopt vs celer, skglm, scikit-learn (same data, same certificate).

Every solver's coefficients are certified with the same duality-gap formula
(``sparseopt.optimize.enet_duality_gap``, relative: n * gap / ||y||^2); a row
is only comparable when every solver reached relative gap <= 1e-6 at every alpha.

Usage: python benchmarks/compare/sparse_regression.py [--quick] [--out PATH] [--n-jobs N]

``--n-jobs N`` runs the Lasso-path problems (and the seeds of
``--mcp-stationarity``) as joblib tasks, each timing every solver one after the
other in one worker (default 1: serial).

Each mode writes only its own marked section of the results file
(``benchmarks/results/sparse_regression.md`` or ``--out``), stamped with the
machine it ran on (CPU, cores, BLAS threads, load average, library versions).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _sections import Run, add_n_jobs_argument, run_grid, summary_row
from threadpoolctl import threadpool_limits

from sparseopt.datasets import make_correlated_regression, make_sparse_design_regression
from sparseopt.linear_model import sparse_path
from sparseopt.optimize import enet_duality_gap, working_set_cd
from sparseopt.optimize.penalties import L1, MCP
from sparseopt.optimize.working_set_cd import _DenseDesign
from sparseopt.optimize.datafits import Quadratic

TOL = 1e-6
N_ALPHAS = 10


def _grid(X, y):
    amax = np.max(np.abs(X.T @ y)) / X.shape[0]
    return np.geomspace(amax, amax / 100, N_ALPHAS)


def _max_rel_gap(X, y, alphas, coefs):
    yy = float(y @ y)
    return max(enet_duality_gap(X, y, coefs[:, i], a)[0] * X.shape[0] / yy
               for i, a in enumerate(alphas))


def run_sparseopt(X, y, alphas, tol=TOL):
    _, coefs, _, _ = sparse_path(X, y, alphas=alphas, tol=tol, max_iter=100)
    return coefs


def run_celer(X, y, alphas, tol=TOL):
    from celer import Lasso
    est = Lasso(alpha=alphas[0], fit_intercept=False, warm_start=True, tol=tol, max_iter=100)
    out = []
    for a in alphas:
        est.alpha = a
        est.fit(X, y)
        out.append(est.coef_.copy())
    return np.array(out).T


def run_skglm(X, y, alphas, tol=TOL):
    from skglm import Lasso
    est = Lasso(alpha=alphas[0], fit_intercept=False, warm_start=True, tol=tol, max_iter=100)
    out = []
    for a in alphas:
        est.alpha = a
        est.fit(X, y)
        out.append(est.coef_.copy())
    return np.array(out).T


def run_sklearn(X, y, alphas, tol=TOL):
    from sklearn.linear_model import lasso_path
    _, coefs, _ = lasso_path(X, y, alphas=alphas, tol=tol, max_iter=100_000)
    return coefs


SOLVERS = {"sparseopt": run_sparseopt, "celer": run_celer, "skglm": run_skglm,
           "sklearn": run_sklearn}


def time_solver(fn, X, y, alphas, repeat):
    """Best-of-``repeat`` time at the loosest solver tol whose output is certified.

    Each solver's own ``tol`` means something different (celer: gap; skglm: KKT),
    so it is tightened tenfold until the common certificate (max relative gap
    over the path) is <= 1e-6; the time reported is the one at that tol.
    """
    fn(X[:20, :50] if not hasattr(X, "tocsc") else X[:20, :50], y[:20],
       _grid(X[:20, :50], y[:20]))  # warm-up: JIT compilation (skglm) is not timed
    tol = TOL
    for _ in range(4):
        best, coefs = np.inf, None
        for _ in range(repeat):
            t0 = time.perf_counter()
            coefs = fn(X, y, alphas, tol=tol)
            best = min(best, time.perf_counter() - t0)
        gap = _max_rel_gap(X, y, alphas, coefs)
        if gap <= TOL:
            break
        tol /= 10
    return best, gap, tol


def _mcp_objective(X, y, w, alpha, gamma=3.0):
    """(1/2n) ||y - X w||^2 + MCP penalty: the objective both solvers minimise."""
    return np.sum((y - X @ w) ** 2) / (2 * X.shape[0]) + MCP(alpha, gamma).value(w)


def mcp_path(X, y, alphas, solver):
    """MCP path (gamma = 3), KKT tol 1e-6; returns time and final objectives."""
    t0 = time.perf_counter()
    out = []
    if solver == "sparseopt":
        w = np.zeros(X.shape[1])
        for a in alphas:
            w = working_set_cd(X, y, MCP(a, 3.0), w_init=w, tol=1e-6, max_iter=100).coef
            out.append(w.copy())
    else:
        from skglm import MCPRegression
        est = MCPRegression(alpha=alphas[0], gamma=3.0, fit_intercept=False, warm_start=True,
                            tol=1e-6, max_iter=100)
        for a in alphas:
            est.alpha = a
            est.fit(X, y)
            out.append(est.coef_.copy())
    elapsed = time.perf_counter() - t0
    objs = [_mcp_objective(X, y, w, a) for a, w in zip(alphas, out)]
    return elapsed, np.array(objs)


def epoch_cost(X, y, alpha=1e-3):
    """Seconds of one CD epoch over all columns vs one BLAS pass X^T r.

    At the default ``alpha`` almost every coordinate moves in every epoch (a
    dot product and an axpy per column); at a large ``alpha`` none moves (a
    dot product per column only).
    """
    d = _DenseDesign(X, y, Quadratic())
    w = np.zeros(X.shape[1])
    d.init_state(w)
    lip = d.col_sq_norms / X.shape[0]
    ws = np.arange(X.shape[1], dtype=np.int32)
    kernel = L1(alpha).kernel_arrays(X.shape[1], np.dtype(np.float64)) + (False,)
    d.epochs(w, lip, ws, kernel, 1)
    t0 = time.perf_counter()
    for _ in range(5):
        d.epochs(w, lip, ws, kernel, 1)
    t_epoch = (time.perf_counter() - t0) / 5
    r = d.residual().copy()
    t0 = time.perf_counter()
    for _ in range(5):
        X.T @ r
    t_blas = (time.perf_counter() - t0) / 5
    return t_epoch, t_blas


def preconditioner_experiment():
    """Best-over-alpha prediction error (1/n)||X(w - w*)||^2, random-support instances."""
    from sparseopt.datasets import make_random_support_regression
    from sparseopt.linear_model import Lasso

    lines = ["", "Preconditioned Lasso (`--preconditioner`): median over 5 seeds of the best "
             "prediction error over 7 alphas in [1e-4, 1e-1], ill-conditioned design "
             "(cond 1e3), k = 4, noise 0.05. Heuristic preconditioners, not the paper's.", "",
             "| n x p | none | standardize | whiten |", "|---|---|---|---|"]
    for n, p in [(100, 60), (80, 200)]:
        errs = {None: [], "standardize": [], "whiten": []}
        for seed in range(5):
            X, y, w = make_random_support_regression(n, p, 4, cond=1e3, noise=0.05,
                                                     random_state=seed)
            for pc in errs:
                best = np.inf
                for a in np.geomspace(1e-1, 1e-4, 7):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        r = Lasso(alpha=a, preconditioner=pc, tol=1e-4, max_iter=50).fit(X, y)
                    best = min(best, float(np.mean((X @ (r.coef_ - w)) ** 2)))
                errs[pc].append(best)
        lines.append(f"| {n} x {p} | " + " | ".join(f"{np.median(v):.2e}" for v in errs.values())
                     + " |")
    return lines


def mcp_stationarity(n_seeds, n_jobs=1):
    """Are the two MCP paths' endpoints both stationary points? (problem (b), seeds 0..n-1).

    For every alpha of the path, our solver is started at skglm's solution; if
    that point is stationary for our KKT test it does not move (a monotone CD
    from a stationary point stays put). Reports, per seed, the range over
    alphas of (ours - skglm) / skglm, and the largest objective change and
    coefficient move when started at skglm's point.
    """
    lines = ["MCP (gamma = 3) path on (b), 10 alphas, warm starts, tol 1e-6: relative objective "
             "difference (ours - skglm) / skglm over the path, and our solver restarted at "
             "skglm's solution of every alpha.", "",
             "| seed | min rel. diff | max rel. diff | alphas ours lower / equal / higher "
             "(1e-9) | restarted at skglm: max rel. objective change | max coefficient move |",
             "|---|---|---|---|---|---|"]
    lines += run_grid(_mcp_stationarity_seed, [(seed,) for seed in range(n_seeds)], n_jobs)
    return lines


def _mcp_stationarity_seed(seed):
    """The table row of one seed of :func:`mcp_stationarity` (one joblib task)."""
    from skglm import MCPRegression

    X, y = make_correlated_regression(1000, 5000, n_informative=20, rho=0.6,
                                      random_state=seed)[:2]
    alphas = _grid(X, y)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, obj_so = mcp_path(X, y, alphas, "sparseopt")
        est = MCPRegression(alpha=alphas[0], gamma=3.0, fit_intercept=False, warm_start=True,
                            tol=1e-6, max_iter=100)
        rel, changes, moves = [], [], []
        for a, o_so in zip(alphas, obj_so):
            est.alpha = a
            w_sk = est.fit(X, y).coef_.copy()
            o_sk = _mcp_objective(X, y, w_sk, a)
            w_re = working_set_cd(X, y, MCP(a, 3.0), w_init=w_sk.copy(), tol=1e-6,
                                  max_iter=100).coef
            o_re = _mcp_objective(X, y, w_re, a)
            rel.append((o_so - o_sk) / o_sk)
            changes.append(abs(o_re - o_sk) / o_sk)
            moves.append(float(np.max(np.abs(w_re - w_sk))))
    rel = np.array(rel)
    line = (f"| {seed} | {rel.min():+.2e} | {rel.max():+.2e} | "
            f"{np.sum(rel < -1e-9)} / {np.sum(np.abs(rel) <= 1e-9)} / {np.sum(rel > 1e-9)} | "
            f"{max(changes):.1e} | {max(moves):.1e} |")
    print(line, flush=True)
    return line


def epoch_breakdown(repeats=5):
    """Per-epoch cost on (b) in the two regimes, ``repeats`` independent measurements each."""
    X, y = make_correlated_regression(1000, 5000, n_informative=20, rho=0.6, random_state=0)[:2]
    lines = ["CD epoch over all 5000 columns of (b) (dense, Fortran order) against one BLAS pass "
             "X^T r, milliseconds, each measurement the mean of 5 epochs / 5 passes.", "",
             "| regime | CD epoch (ms) | BLAS pass (ms) | ratio per measurement | median ratio |",
             "|---|---|---|---|---|"]
    with threadpool_limits(1):
        for alpha, regime in ((1e3, "no coordinate moves (dot per column)"),
                              (1e-3, "almost all move (dot + axpy per column)")):
            runs = [epoch_cost(X, y, alpha) for _ in range(repeats)]
            ratios = [te / tb for te, tb in runs]
            lines.append(f"| {regime} | {np.median([r[0] for r in runs]) * 1e3:.2f} | "
                         f"{np.median([r[1] for r in runs]) * 1e3:.2f} | "
                         f"{' / '.join(f'{v:.2f}' for v in ratios)} | {np.median(ratios):.2f} |")
    return lines


DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "sparse_regression.md"
LIBRARIES = ("sparseopt", "numpy", "scipy", "scikit-learn", "celer", "skglm")


def _write_section(run, out, key, lines, summary=None):
    """Insert or replace one marked section of the results file (the file's other parts stay),
    stamped with the command, the machine, the versions and the load of this run."""
    print("\n".join(lines))
    run.write(out, key, "\n".join(lines), summary=summary)


PROBLEMS = {
    "(a) dense 100x10000 AR(1) rho=0.6": lambda: make_correlated_regression(
        100, 10_000, n_informative=10, rho=0.6, random_state=0)[:2],
    "(b) dense 1000x5000 AR(1) rho=0.6": lambda: make_correlated_regression(
        1000, 5000, n_informative=20, rho=0.6, random_state=0)[:2],
    "(c*) sparse CSC 4000x10000, 60k nnz (scaled down)": lambda: make_sparse_design_regression(
        4000, 10_000, density=0.0015, n_informative=50, random_state=0)[:2],
}
FULL_C = {"(c) sparse CSC 20000x50000, 1.5M nnz": lambda: make_sparse_design_regression(
    20_000, 50_000, density=0.0015, n_informative=50, random_state=0)[:2]}


def _lasso_cell(name, repeat):
    """Every solver's Lasso path on one problem (one joblib task): the table rows."""
    X, y = {**PROBLEMS, **FULL_C}[name]()
    alphas = _grid(X, y)
    times = {}
    with threadpool_limits(1):
        for solver, fn in SOLVERS.items():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    times[solver] = time_solver(fn, X, y, alphas, repeat)
            except Exception as exc:  # an anchor missing or failing is reported, not hidden
                times[solver] = (np.nan, np.nan, np.nan)
                print(f"{solver} failed on {name}: {exc!r}", file=sys.stderr)
            print(name, solver, times[solver], flush=True)
    base = times["sparseopt"][0]
    return [(f"Lasso path {name}", f"{solver} (tol {tol:.0e})", t, g,
             t / base if base else np.nan) for solver, (t, g, tol) in times.items()]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller problem (c) and 1 repeat")
    parser.add_argument("--full-c", action="store_true",
                        help="only problem (c) at full size, rows appended to the results")
    parser.add_argument("--preconditioner", action="store_true",
                        help="only the preconditioned-Lasso experiment, appended to the results")
    parser.add_argument("--mcp-stationarity", type=int, default=0, metavar="N_SEEDS",
                        help="only the MCP stationarity cross-check on (b), its own section")
    parser.add_argument("--epoch-cost", action="store_true",
                        help="only the per-epoch cost in both regimes, its own section")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="results file whose sections this run replaces")
    add_n_jobs_argument(parser, "the Lasso-path problems and the MCP stationarity seeds")
    args = parser.parse_args(argv)
    run = Run(__file__, argv, libraries=LIBRARIES, threads=1)
    if args.epoch_cost:
        _write_section(run, args.out, "epoch-cost", epoch_breakdown())
        return
    if args.mcp_stationarity:
        _write_section(run, args.out, "mcp-stationarity",
                       mcp_stationarity(args.mcp_stationarity, args.n_jobs))
        return
    if args.preconditioner:
        lines = preconditioner_experiment()
        _write_section(run, args.out, "preconditioner", lines[1:])
        return
    repeat = 1 if args.quick else 2
    names = list(FULL_C if args.full_c else PROBLEMS)
    rows = [row for cell in run_grid(_lasso_cell, [(name, repeat) for name in names],
                                     args.n_jobs) for row in cell]
    if args.full_c:  # the size, its own section (slow on a loaded machine)
        _write(run, rows, None, None, None, args, repeat)
        return
    with threadpool_limits(1):
        X, y = PROBLEMS["(b) dense 1000x5000 AR(1) rho=0.6"]()
        alphas = _grid(X, y)
        for solver in ("sparseopt", "skglm"):  # JIT compilation / cache load is not timed
            mcp_path(X[:20, :50], y[:20], _grid(X[:20, :50], y[:20]), solver)
        t_so, obj_so = mcp_path(X, y, alphas, "sparseopt")
        t_sk, obj_sk = mcp_path(X, y, alphas, "skglm")
        rows.append(("MCP path (b), gamma=3", "sparseopt", t_so, float(np.max(obj_so - obj_sk)), 1.0))
        rows.append(("MCP path (b), gamma=3", "skglm", t_sk, 0.0, t_sk / t_so))
        t_epoch, t_blas = epoch_cost(X, y)
    _write(run, rows, t_so, t_epoch, t_blas, args, repeat)


def _write(run, rows, t_so, t_epoch, t_blas, args, repeat):
    lines = [f"Seconds: best of {repeat} runs of the whole path, one BLAS thread.", "",
             "| problem | solver | seconds | max relative gap (n*gap/‖y‖²) | time / sparseopt |",
             "|---|---|---|---|---|"]
    for prob, solver, t, g, ratio in rows:
        lines.append(f"| {prob} | {solver} | {t:.3f} | {g:.2e} | {ratio:.2f} |")
    if t_epoch is not None:
        lines += ["", "MCP rows: the 'gap' column is max over alphas of sparseopt objective minus "
                  "skglm objective (negative = sparseopt lower).", "",
                  f"Per-epoch cost on (b) (all 5000 columns, dense): CD epoch "
                  f"{t_epoch * 1e3:.2f} ms, one BLAS pass X^T r {t_blas * 1e3:.2f} ms, "
                  f"ratio {t_epoch / t_blas:.2f}."]
    key = "lasso-path" + ("-full-c" if args.full_c else "") + ("-quick" if args.quick else "")
    _write_section(run, args.out, key, lines, summary=_summary(rows))


def _summary(rows):
    """Headline row: the largest dense path, sparseopt against the fastest anchor (all reach
    the same certified relative gap tolerance, so the fastest is the best)."""
    dense = [r for r in rows if r[0].startswith("Lasso path (b)")] or [
        r for r in rows if r[0].startswith("Lasso path")][-1:]
    if not dense:
        return []
    prob = dense[0][0]
    ours = [r for r in dense if r[0] == prob and r[1].startswith("sparseopt")]
    anchors = [r for r in dense if r[0] == prob and not r[1].startswith("sparseopt")
               and np.isfinite(r[2])]
    if not ours:
        return []
    best = min(anchors, key=lambda r: r[2]) if anchors else None
    return [summary_row(
        "Sparse regression (Lasso path, working-set CD)", prob.replace("Lasso path ", ""),
        (ours[0][1], ours[0][2], ours[0][3]),
        None if best is None else (best[1], best[2], best[3]),
        metric="max relative duality gap n*gap/||y||^2 over the path (lower better)")]


if __name__ == "__main__":
    main()
