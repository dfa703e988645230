"""Sparse linear regression under local differential privacy: accuracy, rates, regime, throughput.

Methods (``sparseopt.privacy.LDPSparseRegression``, defaults unless said):

* ``NLDP``: non-interactive closed form (users release ``x x^T`` and ``x y``);
* ``NLDP+public``: the same with 10,000 public unlabeled covariates (users
  release ``x y`` only, with the whole budget);
* ``LDP-IHT``: sequentially interactive iterative hard thresholding;
* ``Lasso``: the non-private anchor, ``sklearn.linear_model.Lasso`` with
  ``alpha = sigma sqrt(2 log(2d) / n)`` (the noise level sigma known).

Every error is ``||theta - theta*||_2 / ||theta*||_2``: predicting zero scores
1, so a value below 1 is the regime where the estimator beats predicting zero.

Sections: (1) the regime grid (d x n, standardized Gaussian data, eps = 2);
(2) log-log slopes in n and in epsilon where the bound is active (bounded
data, a priori clipping); (3) d and k sweeps; (4) throughput of the streamed
user side at 1e6 users, d = 50, against the time to draw the same number of
Gaussian numbers with the same generator, and the peak memory.

Usage::

    python benchmarks/compare/ldp.py [--quick] [--out benchmarks/results/ldp.md]

A full run writes the section ``full`` of the fragment, a ``--quick`` run the
section ``quick``; each keeps the other.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc
import warnings

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from sparseopt.datasets import make_ldp_regression
from sparseopt.privacy import LDPSparseRegression
from sparseopt.privacy import _local

from _sections import Run, add_n_jobs_argument, add_out_argument, summary_row

NOISE = 0.5


def _data(n, d, k, seed, design="gaussian", noise=NOISE):
    return make_ldp_regression(n, d, k, noise=noise, design=design, random_state=seed)


def _fit(method, X, y, seed, eps=2.0, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if method == "NLDP":
            return LDPSparseRegression(epsilon=eps, random_state=seed, **kw).fit(X, y).coef_
        if method == "NLDP+public":
            X_pub = np.random.default_rng(seed + 1000).standard_normal((10_000, X.shape[1]))
            if kw.get("clip_x") == 1.0:  # bounded-design runs: public data of the same law
                X_pub = np.random.default_rng(seed + 1000).uniform(-1, 1, (10_000, X.shape[1]))
            return LDPSparseRegression(epsilon=eps, random_state=seed, **kw).fit(
                X, y, X_public=X_pub).coef_
        if method == "LDP-IHT":
            kw = {k: v for k, v in kw.items() if k != "threshold"}
            return LDPSparseRegression(epsilon=eps, protocol="interactive", random_state=seed,
                                       **kw).fit(X, y).coef_
        from sklearn.linear_model import Lasso

        n, d = X.shape
        alpha = NOISE * math.sqrt(2 * math.log(2 * d) / n)
        return Lasso(alpha=alpha, fit_intercept=False).fit(X, y).coef_


def _rel_error(coef, theta):
    return float(np.linalg.norm(coef - theta) / np.linalg.norm(theta))


N_JOBS = None
"""``--n-jobs``: the seeds of each sweep point run as joblib tasks (each builds its own seeded
data), so ``joblib.parallel_config(backend="dask")`` sends them to a cluster; the errors do not
depend on it, the per-fit seconds do when tasks share cores."""


def _one_seed(method, n, d, k, seed, eps, design, noise, kw):
    X, y, theta = _data(n, d, k, seed, design, noise)
    t0 = time.perf_counter()
    coef = _fit(method, X, y, seed, eps, **kw)
    return _rel_error(coef, theta), time.perf_counter() - t0


def _mean_error(method, n, d, k, seeds, eps=2.0, design="gaussian", noise=NOISE, **kw):
    results = Parallel(n_jobs=N_JOBS)(
        delayed(_one_seed)(method, n, d, k, seed, eps, design, noise, kw) for seed in seeds)
    errs, secs = zip(*results)
    return float(np.mean(errs)), float(np.mean(secs))


METHODS = ["NLDP", "NLDP+public", "LDP-IHT", "Lasso"]


def regime_grid(ds, ns, k, out):
    out.append("### (1) Regime: relative l2 error (predicting zero = 1), eps = 2, defaults\n")
    out.append(f"Standardized Gaussian features, k = min({k}, d), ||theta*||_1 = 1, noise "
               f"{NOISE}; mean over 2 seeds (1 seed at n = 1e6). Values below 1 beat predicting "
               "zero.\n")
    out.append("| d | n | " + " | ".join(METHODS)
               + " | 16 d^2 sigma_1^2 at this n (NLDP guarantee) |")
    out.append("|---|---|" + "---|" * (len(METHODS) + 1))
    for d in ds:
        for n in ns:
            seeds = [0] if n >= 1_000_000 else [0, 1]
            cells = []
            for m in METHODS:
                err, _ = _mean_error(m, n, d, min(k, d), seeds)
                cells.append(f"{err:.3f}")
            # n_samples_needed_ depends on the clipping level, which depends on n
            sigma1 = _nldp_sigma1(n, d)
            out.append(f"| {d} | {n:,} | " + " | ".join(cells)
                       + f" | {16 * d * d * sigma1 ** 2:.2e} |")
            print(out[-1], flush=True)
    out.append("")


def _nldp_sigma1(n, d, eps=2.0, delta=1e-5):
    X = np.zeros((1, d))
    setup, _ = _local.nldp_setup(n, d, X, np.zeros(1), epsilon=eps, delta=delta, clip_x="auto",
                                 clip_y="auto", with_covariance=True, accountant=None)
    return setup.releases["covariance"].noise_scale


def _active_slope(xs, errs, active=0.9):
    """Log-log slope over the points where the bound is active (error < 0.9 of zero's)."""
    pts = [(x, e) for x, e in zip(xs, errs) if e < active]
    if len(pts) < 2:
        return "n/a (< 2 active points)"
    x, e = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return f"{np.polyfit(x, e, 1)[0]:.2f} ({len(pts)} pts)"


def slopes(out, quick):
    out.append("### (2) Rates where the bound is active: log-log slopes\n")
    out.append("Bounded design (uniform on [-1, 1]^3, k = 2, noise 0.1), a priori clipping "
               "clip_x = 1, clip_y = 1.5 (no clipping bias), threshold='auto'; mean over 3 "
               "seeds. Theory: slope -1/2 in n, -1 in epsilon (for the classical mechanism; "
               "the analytic one, used above eps' = 1, falls more slowly at large eps). Slopes "
               "are fitted over the points where the bound is active (error below 0.9; at the "
               "other points the threshold zeroes the estimate, error 1).\n")
    kw = dict(clip_x=1.0, clip_y=1.5)
    ns = [10_000, 40_000, 160_000, 640_000] if quick else [10_000, 40_000, 160_000, 640_000,
                                                          2_560_000]
    seeds = [0, 1, 2]
    out.append("| method | " + " | ".join(f"n={n:,}" for n in ns) + " | slope in n |")
    out.append("|---|" + "---|" * (len(ns) + 1))
    for m in ["NLDP", "NLDP+public", "LDP-IHT"]:
        errs = [_mean_error(m, n, 3, 2, seeds, eps=4.0, design="uniform", noise=0.1, **kw)[0]
                for n in ns]
        out.append(f"| {m} (eps=4) | " + " | ".join(f"{e:.4f}" for e in errs)
                   + f" | {_active_slope(ns, errs)} |")
        print(out[-1], flush=True)
    out.append("")
    epss = [0.5, 1.0, 2.0, 4.0, 8.0]
    n = 200_000
    out.append(f"| method (n = {n:,}) | " + " | ".join(f"eps={e:g}" for e in epss)
               + " | slope in eps | slope, eps <= 2 |")
    out.append("|---|" + "---|" * (len(epss) + 2))
    for m in ["NLDP", "NLDP+public", "LDP-IHT"]:
        errs = [_mean_error(m, n, 3, 2, seeds, eps=e, design="uniform", noise=0.1, **kw)[0]
                for e in epss]
        out.append(f"| {m} | " + " | ".join(f"{e:.4f}" for e in errs)
                   + f" | {_active_slope(epss, errs)} | {_active_slope(epss[:3], errs[:3])} |")
        print(out[-1], flush=True)
    out.append("")
    # defaults on standardized data: slope over the n where the estimate is active
    ns_std = [100_000, 300_000, 1_000_000, 3_000_000] if not quick else [100_000, 1_000_000]
    out.append("Defaults (eps = 2) on standardized Gaussian data, d = 3, k = 2, mean over 4 "
               "seeds (error relative to ||theta*||; the slope includes the shrinking clipping "
               "bias and the threshold switching coordinates on):\n")
    out.append("| method | " + " | ".join(f"n={n:,}" for n in ns_std) + " | slope in n |")
    out.append("|---|" + "---|" * (len(ns_std) + 1))
    for m in ["NLDP", "NLDP+public", "LDP-IHT"]:
        errs = [_mean_error(m, n, 3, 2, [0, 1, 2, 3])[0] for n in ns_std]
        out.append(f"| {m} | " + " | ".join(f"{e:.3f}" for e in errs)
                   + f" | {_active_slope(ns_std, errs)} |")
        print(out[-1], flush=True)
    out.append("")


def sweeps(out, quick):
    out.append("### (3) d and k sweeps (eps = 2, defaults, standardized Gaussian data, seed 0)\n")
    n = 100_000
    ds = [10, 50] if quick else [10, 50, 200]
    out.append(f"n = {n:,}, k = 3:\n")
    out.append("| d | " + " | ".join(METHODS) + " | NLDP seconds |")
    out.append("|---|" + "---|" * (len(METHODS) + 1))
    headline = None
    for d in ds:
        cells, t_nldp, measured = [], None, {}
        for m in METHODS:
            err, sec = _mean_error(m, n, d, 3, [0])
            cells.append(f"{err:.3f}")
            measured[m] = (err, sec)
            if m == "NLDP":
                t_nldp = sec
        out.append(f"| {d} | " + " | ".join(cells) + f" | {t_nldp:.1f} |")
        print(out[-1], flush=True)
        if d == 10:
            headline = _headline(f"n={n:,}, d={d}, k=3, eps=2", measured)
    out.append("")
    n = 1_000_000
    out.append(f"n = {n:,}, d = 10:\n")
    out.append("| k | " + " | ".join(METHODS) + " |")
    out.append("|---|" + "---|" * len(METHODS))
    for k in [1, 3, 5]:
        cells = [f"{_mean_error(m, n, 10, k, [0])[0]:.3f}" for m in METHODS]
        out.append(f"| {k} | " + " | ".join(cells) + " |")
        print(out[-1], flush=True)
    out.append("")
    return headline


def _headline(problem, measured):
    """Summary row: the most accurate private method against the non-private Lasso."""
    private = min((m for m in measured if m != "Lasso"), key=lambda m: measured[m][0])
    return summary_row(
        "Sparse regression under local DP", problem,
        (f"LDPSparseRegression {private}", measured[private][1], measured[private][0]),
        ("sklearn Lasso (non-private)", measured["Lasso"][1], measured["Lasso"][0]),
        metric="rel. l2 error of theta (1 = predicting zero; lower better)",
        note="the anchor sees the raw data: no privacy")


def throughput(out, n, d):
    out.append(f"### (4) Throughput of the streamed user side: {n:,} users, d = {d}\n")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X[:, 0] + NOISE * rng.standard_normal(n)
    width = d * (d + 1) // 2 + d
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        LDPSparseRegression(random_state=0).fit(X[:2000], y[:2000])  # JIT warm-up (cached)
        tracemalloc.start()
        t0 = time.perf_counter()
        est = LDPSparseRegression(random_state=0).fit(X, y)
        t_fit = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    B = _local.block_size(width)
    buf = np.empty((B, width))
    t0 = time.perf_counter()
    for b, start in enumerate(range(0, n, B)):
        m = min(B, n - start)
        _local.block_rng(1, 0, b).standard_normal(out=buf[:m])
    t_rng = time.perf_counter() - t0
    gen = np.random.Generator(np.random.PCG64(1))
    t0 = time.perf_counter()
    for start in range(0, n, B):
        gen.standard_normal(out=buf[:min(B, n - start)])
    t_rng_one = time.perf_counter() - t0
    draws = n * width
    out.append(f"Each user draws {width} Gaussian numbers ({d * (d + 1) // 2} for the upper "
               f"triangle of x x^T, {d} for x y): {draws:.3g} draws in all; blocks of {B} users.\n")
    out.append("| quantity | value |")
    out.append("|---|---|")
    out.append(f"| fit (privatize + aggregate + estimate), seconds | {t_fit:.2f} |")
    out.append(f"| users / second | {n / t_fit:.3g} |")
    out.append(f"| bound: same draws, same per-block generators (PCG64), seconds | {t_rng:.2f} |")
    out.append(f"| bound: same draws, one PCG64 generator, seconds | {t_rng_one:.2f} |")
    out.append(f"| fit / bound (per-block generators) | {t_fit / t_rng:.2f} |")
    out.append(f"| fit / bound (one generator) | {t_fit / t_rng_one:.2f} |")
    out.append(f"| peak memory allocated during fit (tracemalloc), MB | {peak / 2**20:.1f} |")
    out.append(f"| input X (n d float64, not copied), MB | {n * d * 8 / 2**20:.1f} |")
    out.append(f"| per-user messages if kept (n x {width} float64), MB | "
               f"{draws * 8 / 2**20:.0f} |")
    out.append(f"| nonzeros of the estimate (d = {d}: below the guarantee's n) | "
               f"{int(np.count_nonzero(est.coef_))} |")
    out.append("")
    print("\n".join(out[-12:]), flush=True)
    return summary_row(
        "LDP user-side privatization (streamed)", f"{n:,} users, d = {d}",
        ("LDPSparseRegression fit", t_fit, "n/a"),
        ("bound: the same Gaussian draws, one numpy PCG64", t_rng_one, "n/a"),
        metric="none (throughput)", note="the anchor is a lower bound, not a library")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller grids (a smoke run)")
    add_n_jobs_argument(parser, "the seeds of each error sweep point")
    add_out_argument(parser, "ldp")
    args = parser.parse_args(argv)
    global N_JOBS
    N_JOBS = args.n_jobs
    run = Run(__file__, argv, libraries=("sparseopt", "numpy", "scikit-learn"), threads=1)
    body = ["The randomisers run on 1 thread; the ratios to the random-number bound are "
            "measured in the same run.", ""]
    with threadpool_limits(limits=1):
        ds = [2, 5, 10, 20] if args.quick else [2, 5, 10, 20, 50]
        ns = [1_000, 10_000, 100_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
        regime_grid(ds, ns, 3, body)
        slopes(body, args.quick)
        summary = [sweeps(body, args.quick)]
        summary.append(throughput(body, 100_000 if args.quick else 1_000_000, 50))
    run.write(args.out, "quick" if args.quick else "full", "\n".join(body),
              summary=[row for row in summary if row is not None],
              header="## Sparse regression under local differential privacy "
                     "(LDPSparseRegression)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
