"""Clustering heterogeneous data: iLA-SDP and SDP K-means against scikit-learn, and SDP solver speed.

Three parts, each a table of ``benchmarks/results/cluster.md``:

1. **Mis-clustering error vs separation and dimension** on Gaussian mixtures
   whose clusters differ in covariance (``make_heterogeneous_mixture``,
   ``covariance="shape"``: identity / AR(0.9) Toeplitz / spread diagonal; means
   on coordinate axes at distance ``separation``), over ``--seeds`` seeds:
   mean and standard deviation of the error (best label matching) for
   ``ILASDPClustering``, ``SDPKMeans``, ``sklearn.cluster.KMeans``
   (k-means++, 10 inits), ``sklearn.mixture.GaussianMixture`` (full
   covariances, EM started from k-means, from random responsibilities, and
   best of 10 random starts) and ``sklearn.cluster.SpectralClustering`` (RBF).
2. **K-means SDP at n = 200**: time and relative objective error of the ADMM,
   the Burer-Monteiro (BM) factorisation and cvxpy + SCS (eps 1e-4), against
   a reference value from cvxpy + SCS at a tight eps (``--ref-eps``). Two
   regimes: well separated (the relaxation is tight) and close clusters (not
   tight).
3. **Scaling** of the BM solver (and the ADMM up to n = 1000).

Every part replaces only its own section of ``--out`` (``_sections.py``), so the
parts can be run separately.

Usage::

    python benchmarks/compare/clustering.py [--seeds 5] [--n 90] [--skip-errors]
        [--skip-speed] [--skip-scaling] [--admm-sizes 500 1000] [--bm-sizes 1000 5000]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
from _sections import machine_stamp, replace_section
from threadpoolctl import threadpool_limits

from sparseopt.cluster import ILASDPClustering, SDPKMeans, kmeans_sdp
from sparseopt.cluster._sdp_solvers import sdp_cvxpy, squared_distances
from sparseopt.datasets import make_heterogeneous_mixture
from sparseopt.metrics import misclustering_error


def _methods(K, seed, ila_n_init=(1,)):
    from sklearn.cluster import KMeans, SpectralClustering
    from sklearn.mixture import GaussianMixture

    ila = {f"iLA-SDP (n_init={m})":
           (lambda X, m=m: ILASDPClustering(K, n_init=m, random_state=seed).fit(X).labels_)
           for m in ila_n_init}
    return {
        **ila,
        "SDP K-means": lambda X: SDPKMeans(K, random_state=seed).fit(X).labels_,
        "KMeans (k-means++, 10 inits)":
            lambda X: KMeans(K, n_init=10, random_state=seed).fit(X).labels_,
        "GMM (EM from k-means)":
            lambda X: GaussianMixture(K, init_params="kmeans", random_state=seed).fit(X).predict(X),
        "GMM (EM from random resp.)":
            lambda X: GaussianMixture(K, init_params="random", random_state=seed).fit(X).predict(X),
        "GMM (best of 10 random)":
            lambda X: GaussianMixture(K, init_params="random", n_init=10,
                                      random_state=seed).fit(X).predict(X),
        "Spectral (RBF)":
            lambda X: SpectralClustering(K, affinity="rbf", random_state=seed).fit(X).labels_,
    }


def error_table(settings, n, K, seeds, ila_n_init=(1,), on_setting=None):
    rows = []
    for label, p, separation in settings:
        errors, seconds = {}, {}
        for seed in range(seeds):
            X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=separation,
                                                    covariance="shape", random_state=seed)
            X = (X - X.mean(0)) / X.std(0)   # standardised, as a user would
            for name, run in _methods(K, seed, ila_n_init).items():
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    labels = run(X)
                seconds.setdefault(name, []).append(time.perf_counter() - t0)
                errors.setdefault(name, []).append(misclustering_error(y, labels))
        for name in errors:
            e = np.asarray(errors[name])
            rows.append((label, name, e.mean(), e.std(), float(np.mean(seconds[name]))))
            print(f"{label:28s} {name:30s} {e.mean():.3f} +- {e.std():.3f}  "
                  f"{np.mean(seconds[name]):6.2f} s", flush=True)
        if on_setting is not None:   # write the rows so far: a long run leaves partial results
            on_setting(rows)
    return rows


def _relative(value, ref):
    return abs(value - ref) / abs(ref)


REGIMES = {"tight": ("separated (sep 6, tight)", 6.0), "close": ("close (sep 3, not tight)", 3.0)}


def _timed(run, repeats):
    """Median seconds over ``repeats`` calls of ``run`` and its last result."""
    seconds, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = run()
        seconds.append(time.perf_counter() - t0)
    return float(np.median(seconds)), out


def speed_table(regimes=("tight", "close"), n=200, K=3, p=10, ref_eps=(1e-7, 1e-6), repeats=5):
    rows = []
    # one warm-up call: threadpoolctl's library scan (about 0.1 s) is paid once per process
    Xw, _, _, _ = make_heterogeneous_mixture(30, p, K, covariance="isotropic", random_state=0)
    kmeans_sdp(Xw, K, solver="bm", random_state=0)
    for (regime, separation), eps_ref in zip([REGIMES[r] for r in regimes], ref_eps):
        X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=separation,
                                                covariance="isotropic", random_state=0)
        D = squared_distances(np, X)
        t0 = time.perf_counter()
        ref = sdp_cvxpy([D], [float(K)], solver="SCS", eps=eps_ref, max_iters=500000)
        t_ref = time.perf_counter() - t0
        rank = int(np.sum(np.linalg.eigvalsh(ref.x[0]) > 1e-3))
        runs = [(f"cvxpy + SCS, eps {eps_ref:g} (reference)", None, t_ref, ref.objective,
                 ref.n_iter)]
        t_scs, scs = _timed(lambda: sdp_cvxpy([D], [float(K)], solver="SCS", eps=1e-4), 1)
        runs.append(("cvxpy + SCS, eps 1e-4", None, t_scs, scs.objective, scs.n_iter))
        for solver, tol in [("admm", 1e-4), ("admm", 1e-5), ("bm", 1e-5), ("bm", 1e-6)]:
            seconds, res = _timed(lambda: kmeans_sdp(X, K, solver=solver, tol=tol,
                                                     random_state=0), repeats)
            runs.append((f"sparseopt {solver.upper()}, tol {tol:g}", res, seconds,
                         res.objective, res.n_iter))
        for name, res, seconds, value, n_iter in runs:
            rel = (value - ref.objective) / abs(ref.objective)
            viol = res.constraint_violation if res is not None else float("nan")
            rows.append((f"n={n}, K={K}, p={p}, {regime}; reference rank {rank}", name, seconds,
                         n_iter, rel, viol, t_scs / seconds))
            print(f"{regime:28s} {name:40s} {seconds:8.3f} s  it {n_iter:6d}  rel {rel:+.1e}  "
                  f"viol {viol:.1e}  SCS(1e-4)/this {t_scs / seconds:6.1f}x", flush=True)
    return rows


def scaling_table(sizes_bm=(1000, 2000, 5000), sizes_admm=(500, 1000), K=3, p=10):
    rows = []
    for solver, sizes in [("admm", sizes_admm), ("bm", sizes_bm)]:
        for n in sizes:
            X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=6.0,
                                                    covariance="isotropic", random_state=0)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = SDPKMeans(K, solver=solver, tol=1e-5, random_state=0).fit(X)
            seconds = time.perf_counter() - t0
            err = misclustering_error(y, est.labels_)
            rows.append((n, solver.upper(), seconds, est.n_iter_, est.converged_,
                         est.constraint_violation_, err))
            print(f"n={n:5d} {solver:5s} {seconds:8.2f} s  it {est.n_iter_:6d}  "
                  f"viol {est.constraint_violation_:.1e}  error {err:.3f}", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n", type=int, default=90, help="points per mixture (part 1)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-errors", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--speed-regimes", nargs="*", default=["tight", "close"],
                        choices=sorted(REGIMES))
    parser.add_argument("--admm-sizes", type=int, nargs="*", default=[500, 1000])
    parser.add_argument("--bm-sizes", type=int, nargs="*", default=[1000, 2000, 5000])
    parser.add_argument("--ref-eps", type=float, nargs="*", default=[1e-7, 1e-6],
                        help="SCS eps of the reference solve, per speed regime")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ila-n-init", type=int, nargs="*", default=[1, 5])
    parser.add_argument("--errors-section", default="errors",
                        help="key of the error table's section (one per parallel run)")
    parser.add_argument("--settings", type=float, nargs=2, action="append",
                        metavar=("P", "SEPARATION"),
                        help="(p, separation) of the error table; repeatable")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..",
                                                      "results", "cluster.md"))
    args = parser.parse_args(argv)
    if not args.settings:
        args.settings = [(5, 2.0), (5, 3.0), (5, 4.0), (5, 6.0), (10, 4.0), (20, 4.0)]
    args.settings = [(int(p), float(s)) for p, s in args.settings]
    stamp = machine_stamp(("sparseopt", "numpy", "scipy", "scikit-learn", "cvxpy", "scs"))
    command = "python benchmarks/compare/clustering.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    settings = [(f"p={p}, separation {s:g}", p, s) for p, s in args.settings]
    K = 3
    header = ("## Clustering heterogeneous data (SDP K-means, iLA-SDP)\n\n"
              "Each section is written by the command shown in it and records the machine it "
              "ran on. The machine was shared with other agents' jobs: seconds are inflated "
              "and noisy, compare ratios measured in the same run.\n")

    def write(key, title, body):
        text = (f"### {title}\n\nCommand: `{command.strip()}`\n\n{stamp} BLAS limited to "
                f"{args.threads} thread(s) by the script; load average (1/5/15 min) at the end "
                f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}.\n\n{body}\n")
        replace_section(args.out, key, text, header=header)

    with threadpool_limits(args.threads):
        if not args.skip_errors:
            def write_errors(rows):
                write(args.errors_section, f"Mis-clustering error, K = {K}, n = {args.n}, "
                      f"heterogeneous covariances (`covariance=\"shape\"`), {args.seeds} seeds, "
                      "standardised X",
                      "| setting | method | error (mean) | error (sd over seeds) | "
                      "seconds per fit |\n|---|---|---|---|---|\n"
                      + "\n".join(f"| {s} | {m} | {e:.3f} | {sd:.3f} | {t:.2f} |"
                                  for s, m, e, sd, t in rows) + "\n")

            error_table(settings, args.n, K, args.seeds, args.ila_n_init, write_errors)
        if not args.skip_speed:
            rows = speed_table(args.speed_regimes, ref_eps=args.ref_eps, repeats=args.repeats)
            write("speed", "K-means SDP at n = 200: time to the objective <D, Z>",
                  "Relative error = (value - reference) / reference, the reference being cvxpy + "
                  "SCS at the eps shown (its value is the test of the 1e-4 accuracy goal); "
                  "violation = largest violation of Z1 = 1, tr Z = K, Z >= 0, Z PSD by the "
                  "returned Z (BM: of UU^T 1 = 1, the others hold by construction); reference "
                  "rank = eigenvalues of the reference Z above 1e-3 (K when the relaxation is "
                  "tight). sparseopt rows: median of "
                  f"{args.repeats} calls of `kmeans_sdp` (BM: including its K-means++ start; "
                  "rounding excluded). Speed-up = seconds of cvxpy + SCS at eps 1e-4 / seconds "
                  "of the row.\n\n"
                  "| problem | solver | seconds | iterations | rel. objective error | violation | "
                  "speed-up vs SCS 1e-4 |\n|---|---|---|---|---|---|---|\n"
                  + "\n".join(f"| {pb} | {m} | {t:.3f} | {it} | {rel:+.1e} | {v:.1e} | "
                              f"{sp:.1f}x |" for pb, m, t, it, rel, v, sp in rows) + "\n")
        if not args.skip_scaling:
            rows = scaling_table(args.bm_sizes, args.admm_sizes)
            write("scaling", "Scaling (separation 6, p = 10, K = 3, tol 1e-5)",
                  "| n | solver | seconds | iterations | converged | violation | "
                  "mis-clustering |\n|---|---|---|---|---|---|---|\n"
                  + "\n".join(f"| {n} | {s} | {t:.2f} | {it} | {'yes' if c else 'no'} | "
                              f"{v:.1e} | {e:.3f} |" for n, s, t, it, c, v, e in rows) + "\n")
    print(open(args.out).read())


if __name__ == "__main__":
    main()
