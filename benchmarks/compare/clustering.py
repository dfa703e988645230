"""Clustering heterogeneous data: iLA-SDP and SDP K-means against scikit-learn, and SDP solver speed.

Four parts, each a section of ``benchmarks/results/cluster.md`` (with its
headline rows in ``cluster.summary.json`` for the summary table of
``benchmarks/RESULTS.md``):

1. **Mis-clustering error vs separation and dimension** on Gaussian mixtures
   whose clusters differ in covariance (``make_heterogeneous_mixture``:
   ``covariance="shape"``, identity / AR(0.9) Toeplitz / spread diagonal, or
   ``"scale"``, isotropic with variances 0.25 / 1 / 4; means on coordinate
   axes at distance ``separation``), over ``--seeds`` seeds: mean and standard
   deviation of the error (best label matching) for ``ILASDPClustering``
   (``--ila`` variants ``N[:lw|:oas][:admm][:plain]``: number of starting
   partitions, optional Ledoit-Wolf or OAS shrinkage, the ADMM LA-SDP solver,
   no point moves), ``SDPKMeans``, ``sklearn.cluster.KMeans`` (k-means++, 10
   inits), ``sklearn.mixture.GaussianMixture`` (full covariances: scikit-learn's
   defaults, i.e. one EM run from k-means; as many k-means-started runs as
   iLA-SDP's starts, the fair comparison; as many random-responsibility starts;
   one random start) and ``sklearn.cluster.SpectralClustering`` (RBF).
   The (setting, seed) grid runs through joblib (``--n-jobs``), so
   ``joblib.parallel_config(backend="dask")`` sends it to a cluster.
2. **K-means SDP at n = 200**: time and relative objective error of the ADMM,
   the Burer-Monteiro (BM) factorisation and cvxpy + SCS (eps 1e-4), against
   a reference value from cvxpy + SCS at a tight eps (``--ref-eps``). Two
   regimes: well separated (the relaxation is tight) and close clusters (not
   tight).
3. **iLA-SDP per fit**: seconds of ``ILASDPClustering`` with the
   Burer-Monteiro LA-SDP solver (the default) and with the ADMM, at
   ``--ila-sizes``, and whether they find the same labels.
4. **Scaling** of the BM solver (and the ADMM up to n = 1000).

Every part replaces only its own section of ``--out`` (``_sections.py``), so the
parts can be run separately.

Usage::

    python benchmarks/compare/clustering.py [--seeds 8] [--n 90] [--n-jobs 1]
        [--ila 1 4 4:lw] [--settings P SEPARATION [COVARIANCE]] ...
        [--skip-errors] [--skip-speed] [--skip-ila-speed] [--skip-scaling]
        [--ila-sizes 90 200]
        [--admm-sizes 500 1000] [--bm-sizes 1000 5000]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _sections import Run, add_out_argument, summary_row
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from sparseopt.cluster import ILASDPClustering, SDPKMeans, kmeans_sdp
from sparseopt.cluster._sdp_solvers import sdp_cvxpy, squared_distances
from sparseopt.datasets import make_heterogeneous_mixture
from sparseopt.metrics import misclustering_error

K = 3
HEADER = ("## Clustering heterogeneous data (SDP K-means, iLA-SDP)\n\n"
          "Each section is written by the command shown in it and records the machine it "
          "ran on. The machine was shared with other agents' jobs: seconds are inflated "
          "and noisy, compare ratios measured in the same run.\n")


def _ila_options(spec):
    """``N[:lw|:oas][:admm][:plain]`` -> (starts, shrinkage, LA-SDP solver, point moves?)."""
    n_init, *options = spec.split(":")
    unknown = set(options) - {"lw", "oas", "admm", "plain"}
    if unknown or {"lw", "oas"} <= set(options):
        raise ValueError(f"--ila {spec}: unknown or conflicting option(s) (lw or oas, admm, "
                         "plain)")
    shrinkage = "ledoit-wolf" if "lw" in options else "oas" if "oas" in options else None
    return (int(n_init), shrinkage, "admm" if "admm" in options else "auto",
            "plain" not in options)


_SHRINKAGE_NAMES = {"ledoit-wolf": ", Ledoit-Wolf shrinkage", "oas": ", OAS shrinkage", None: ""}


def _ila_name(spec):
    n_init, shrinkage, solver, moves = _ila_options(spec)
    extras = [_SHRINKAGE_NAMES[shrinkage]] + (
        [", ADMM LA-SDP solver"] if solver == "admm" else []) + (
        [", no point moves"] if not moves else [])
    return f"iLA-SDP ({n_init} start{'s' if n_init != 1 else ''}" + "".join(extras) + ")"


def _ila(spec, seed):
    n_init, shrinkage, solver, moves = _ila_options(spec)
    return lambda X: ILASDPClustering(K, n_init=n_init, shrinkage=shrinkage, solver=solver,
                                      point_moves=moves, random_state=seed).fit(X).labels_


def _methods(seed, ila_specs, n_starts):
    """Name -> labels(X) of every compared method; ``n_starts``: EM's fair number of inits."""
    from sklearn.cluster import KMeans, SpectralClustering
    from sklearn.mixture import GaussianMixture

    def gmm(**kw):
        return lambda X: GaussianMixture(K, random_state=seed, **kw).fit(X).predict(X)

    return {
        **{_ila_name(spec): _ila(spec, seed) for spec in ila_specs},
        "SDP K-means": lambda X: SDPKMeans(K, random_state=seed).fit(X).labels_,
        "KMeans (k-means++, 10 inits)":
            lambda X: KMeans(K, n_init=10, random_state=seed).fit(X).labels_,
        "GMM (sklearn defaults: EM from k-means, 1 init)": gmm(),
        f"GMM (EM from k-means, {n_starts} inits)": gmm(n_init=n_starts),
        f"GMM (EM from random resp., best of {n_starts})":
            gmm(init_params="random", n_init=n_starts),
        "GMM (EM from random resp., 1 init)": gmm(init_params="random"),
        "Spectral (RBF)":
            lambda X: SpectralClustering(K, affinity="rbf", random_state=seed).fit(X).labels_,
    }


def _error_task(n, p, separation, covariance, seed, ila_specs, n_starts, threads):
    """Every method on one seeded mixture: ``{name: (error, seconds)}`` (one joblib task)."""
    X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=separation,
                                            covariance=covariance, random_state=seed)
    X = (X - X.mean(0)) / X.std(0)   # standardised, as a user would
    out = {}
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, run in _methods(seed, ila_specs, n_starts).items():
            t0 = time.perf_counter()
            labels = run(X)
            out[name] = (misclustering_error(y, labels), time.perf_counter() - t0)
    return out


def _init_task(n, p, separation, covariance, data_seed, algo_seeds, ila_specs, n_starts,
               threads):
    """Every method on one seeded mixture, once per algorithm seed (``random_state``):
    ``{name: errors over algo_seeds}`` (one joblib task)."""
    X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=separation,
                                            covariance=covariance, random_state=data_seed)
    X = (X - X.mean(0)) / X.std(0)
    out = {}
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for algo_seed in algo_seeds:
            for name, run in _methods(algo_seed, ila_specs, n_starts).items():
                out.setdefault(name, []).append(misclustering_error(y, run(X)))
    return out


def init_table(settings, n, datasets, restarts, ila_specs, n_jobs=1, threads=1):
    """Sensitivity to initialisation: rows ``(setting, method, mean error, mean over the
    datasets of the sd over random_state, largest such sd, share of datasets where the
    method's labels' error changes with random_state)``."""
    n_starts = max(_ila_options(spec)[0] for spec in ila_specs)
    algo_seeds = [1000 + r for r in range(restarts)]
    tasks = [(setting, d) for setting in settings for d in range(datasets)]
    done = Parallel(n_jobs=n_jobs, verbose=5)(
        delayed(_init_task)(n, p, sep, cov, d, algo_seeds, ila_specs, n_starts, threads)
        for (_, p, sep, cov), d in tasks)
    rows = []
    for setting in settings:
        per_data = [res for (s, _), res in zip(tasks, done) if s == setting]
        for name in per_data[0]:
            E = np.asarray([res[name] for res in per_data])  # datasets x restarts
            sd = E.std(axis=1)
            rows.append((setting[0], name, float(E.mean()), float(sd.mean()), float(sd.max()),
                         float(np.mean(sd > 0))))
            print(f"{setting[0]:34s} {name:52s} {E.mean():.3f}  sd over inits {sd.mean():.3f}"
                  f" (max {sd.max():.3f})", flush=True)
    return rows


def _bound_task(n, p, separation, covariance, seed, spec, threads):
    """iLA-SDP (``spec``) from its own starts and from the true labels, on one mixture:
    ``(error, objective)`` of each."""
    X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=separation,
                                            covariance=covariance, random_state=seed)
    X = (X - X.mean(0)) / X.std(0)
    n_init, shrinkage, solver, moves = _ila_options(spec)
    params = dict(shrinkage=shrinkage, solver=solver, point_moves=moves, random_state=seed)
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = ILASDPClustering(K, n_init=n_init, **params).fit(X)
        truth = ILASDPClustering(K, init=y, **params).fit(X)
    return (misclustering_error(y, found.labels_), found.objective_,
            misclustering_error(y, truth.labels_), truth.objective_)


def bound_table(settings, n, seeds, specs, n_jobs=1, threads=1):
    """Search vs model: rows ``(setting, variant, errors..., counts)`` comparing every
    variant's run from its own starts with its run from the true labels."""
    tasks = [(setting, spec, seed) for setting in settings for spec in specs
             for seed in range(seeds)]
    done = Parallel(n_jobs=n_jobs, verbose=5)(
        delayed(_bound_task)(n, p, sep, cov, seed, spec, threads)
        for (_, p, sep, cov), spec, seed in tasks)
    tol = 0.01 * n   # the estimator's objective tolerance (0.01 per point)
    rows = []
    for setting in settings:
        for spec in specs:
            res = np.asarray([r for (st, sp, _), r in zip(tasks, done)
                              if st == setting and sp == spec])
            e, obj, e_true, obj_true = res.T
            lower, higher = obj < obj_true - tol, obj > obj_true + tol
            best = np.where(obj_true < obj, e_true, e)   # the lower objective of the two
            rows.append((setting[0], _ila_name(spec), e, e_true, best, int(lower.sum()),
                         int(higher.sum()), int((~lower & ~higher).sum())))
            print(f"{setting[0]:34s} {spec:10s} own starts {e.mean():.3f} +- {e.std():.3f}, "
                  f"from the truth {e_true.mean():.3f} +- {e_true.std():.3f}, lower objective "
                  f"of the two {best.mean():.3f} +- {best.std():.3f}; own run lower / higher "
                  f"/ level: {lower.sum()} / {higher.sum()} / {(~lower & ~higher).sum()}",
                  flush=True)
    return rows


def _sd_interval(errors, n_boot=2000):
    """90% percentile bootstrap interval (over the seeds) of the standard deviation."""
    if errors.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(0)
    sds = errors[rng.integers(0, errors.size, (n_boot, errors.size))].std(axis=1)
    return float(np.quantile(sds, 0.05)), float(np.quantile(sds, 0.95))


def error_table(settings, n, seeds, ila_specs, n_jobs=1, threads=1, on_seed=None):
    """Rows ``(setting, method, mean error, sd, mean seconds)`` over the (setting, seed) grid.

    The grid runs one seed at a time (its settings in parallel); after every
    seed ``on_seed(rows, seeds_done)`` receives the rows over the seeds done so
    far, so that a run stopped early leaves an honest partial table.
    """
    n_starts = max(_ila_options(spec)[0] for spec in ila_specs)
    results = {setting: [] for setting in settings}
    rows = []
    for seed in range(seeds):
        done = Parallel(n_jobs=n_jobs, verbose=5)(
            delayed(_error_task)(n, p, sep, cov, seed, ila_specs, n_starts, threads)
            for (_, p, sep, cov) in settings)
        for setting, res in zip(settings, done):
            results[setting].append(res)
        rows = []
        for setting in settings:
            per_seed = results[setting]
            for name in per_seed[0]:
                e = np.asarray([res[name][0] for res in per_seed])
                t = float(np.mean([res[name][1] for res in per_seed]))
                lo, hi = _sd_interval(e)
                rows.append((setting[0], name, float(e.mean()), float(e.std()), lo, hi, t))
                print(f"{setting[0]:34s} {name:52s} {e.mean():.3f} +- {e.std():.3f} "
                      f"[{lo:.3f}, {hi:.3f}]  {t:6.2f} s  ({seed + 1} seeds)", flush=True)
        if on_seed is not None:
            on_seed(rows, seed + 1)
    return rows, n_starts


def error_summary(rows, ila_specs, n_starts, n, seeds):
    """Headline per setting: the iLA-SDP variant with most starts vs EM with as many inits."""
    headline = _ila_name(max(ila_specs, key=lambda s: (_ila_options(s)[0], "admm" not in s,
                                                      "plain" not in s, s)))
    fair = f"GMM (EM from k-means, {n_starts} inits)"
    out = []
    for setting in dict.fromkeys(r[0] for r in rows):
        by = {m: (e, sd, t) for s, m, e, sd, _, _, t in rows if s == setting}
        if headline not in by or fair not in by:
            continue
        e, sd, t = by[headline]
        ea, sda, ta = by[fair]
        default = by.get("GMM (sklearn defaults: EM from k-means, 1 init)")
        km = by.get("KMeans (k-means++, 10 inits)")
        note = (f"sd over seeds {sd:.3f} (iLA-SDP) vs {sda:.3f} (EM)"
                + (f"; sklearn GaussianMixture defaults {default[0]:.3f}" if default else "")
                + (f"; KMeans {km[0]:.3f}" if km else ""))
        out.append(summary_row("Clustering heterogeneous Gaussian mixtures (iLA-SDP)",
                               f"n={n}, K={K}, {setting}, {seeds} seeds",
                               (headline, t, e), (fair, ta, ea),
                               metric="mis-clustering error, mean over seeds (lower better)",
                               note=note))
    return out


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


def ila_speed_table(sizes=(90, 200), p=5, separation=4.0, repeats=1, admm_max_n=200):
    """Seconds per ``ILASDPClustering`` fit with the BM (default) and the ADMM LA-SDP solver.

    Rows ``(n, configuration, solver, seconds, rounds, SDP iterations, objective, error,
    labels equal to the ADMM fit's)`` on one seeded shape mixture (standardised).
    """
    rows = []
    configs = [("1 start", {"n_init": 1, "shrinkage": None}),
               ("defaults (4 starts, Ledoit-Wolf)", {})]
    for n in sizes:
        X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=separation,
                                                covariance="shape", random_state=0)
        X = (X - X.mean(0)) / X.std(0)
        for config, params in configs:
            fits = {}
            for solver in ("bm", "admm"):
                if solver == "admm" and n > admm_max_n:
                    continue
                seconds, est = _timed(
                    lambda: ILASDPClustering(K, solver=solver, random_state=0, **params).fit(X),
                    repeats)
                fits[solver] = (seconds, est)
            for solver, (seconds, est) in fits.items():
                same = ("" if "admm" not in fits else
                        "yes" if np.array_equal(est.labels_, fits["admm"][1].labels_) else "no")
                err = misclustering_error(y, est.labels_)
                rows.append((n, config, solver.upper(), seconds, est.n_iter_, est.sdp_n_iter_,
                             est.objective_, err, same))
                print(f"n={n:4d} {config:34s} {solver:5s} {seconds:8.2f} s  rounds "
                      f"{est.n_iter_:3d}  SDP it {est.sdp_n_iter_:7d}  objective "
                      f"{est.objective_:10.2f}  error {err:.3f}  same labels as ADMM {same}",
                      flush=True)
    return rows


def ila_speed_summary(rows):
    """Headline per n: the default fit with the BM solver against the same fit with ADMM."""
    out = []
    for n in dict.fromkeys(r[0] for r in rows):
        by = {r[2]: r for r in rows if r[0] == n and r[1].startswith("defaults")}
        if "BM" not in by or "ADMM" not in by:
            continue
        bm, admm = by["BM"], by["ADMM"]
        out.append(summary_row("iLA-SDP fit, LA-SDP solver (Burer-Monteiro vs ADMM)",
                               f"n={n}, K={K}, p=5, separation 4, shape covariances, defaults",
                               ("ILASDPClustering(solver='bm')", bm[3], bm[7]),
                               ("ILASDPClustering(solver='admm')", admm[3], admm[7]),
                               metric="mis-clustering error", note=f"same labels: {bm[8]}"))
    return out


def speed_summary(rows):
    """Headline per regime: the BM solve at tol 1e-6 vs cvxpy + SCS at eps 1e-4."""
    out = []
    for problem in dict.fromkeys(r[0] for r in rows):
        by = {m: (t, rel) for pb, m, t, it, rel, v, sp in rows if pb == problem}
        ours, anchor = by.get("sparseopt BM, tol 1e-06"), by.get("cvxpy + SCS, eps 1e-4")
        if ours is None or anchor is None:
            continue
        out.append(summary_row("K-means SDP (Peng-Wei), Burer-Monteiro", problem,
                               ("sparseopt BM, tol 1e-06", ours[0], abs(ours[1])),
                               ("cvxpy + SCS, eps 1e-4", anchor[0], abs(anchor[1])),
                               metric="|rel. objective error| vs cvxpy + SCS at tight eps"))
    return out


def scaling_summary(rows):
    """Headline: the largest BM size (no anchor: cvxpy cannot run there)."""
    bm = [r for r in rows if r[1] == "BM"]
    if not bm:
        return []
    n, _, seconds, _, converged, _, err = max(bm, key=lambda r: r[0])
    return [summary_row("K-means SDP (Peng-Wei), Burer-Monteiro, scaling",
                        f"n={n}, K=3, p=10, separation 6", ("SDPKMeans(solver='bm')", seconds, err),
                        None, metric="mis-clustering error",
                        note="converged" if converged else "not converged")]


def _setting(values):
    if len(values) not in (2, 3):
        raise argparse.ArgumentTypeError("--settings takes P SEPARATION [COVARIANCE]")
    p, separation = int(values[0]), float(values[1])
    covariance = values[2] if len(values) == 3 else "shape"
    return (f"p={p}, separation {separation:g}, {covariance} covariances", p, separation,
            covariance)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--n", type=int, default=90, help="points per mixture (part 1)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads per task")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="joblib workers for the (setting, seed) grid of part 1")
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
    parser.add_argument("--skip-ila-speed", action="store_true")
    parser.add_argument("--ila-sizes", type=int, nargs="*", default=[90, 200],
                        help="n of the iLA-SDP per-fit timing (BM vs ADMM)")
    parser.add_argument("--ila", nargs="*", default=["1", "4", "4:lw"],
                        help="iLA-SDP variants: N (N starting partitions), then optionally "
                             ":lw or :oas (Ledoit-Wolf / OAS shrinkage), :admm (the ADMM "
                             "LA-SDP solver instead of Burer-Monteiro), :plain (no point "
                             "moves); EM gets as many inits as the largest N")
    parser.add_argument("--objective-bound", metavar="SPEC", nargs="+",
                        help="only the search-vs-model table (its own section) for the iLA-SDP "
                             "variants SPEC...: each one's run from its own starts against "
                             "its run started from the true labels, --seeds mixtures per "
                             "setting")
    parser.add_argument("--init-sensitivity", action="store_true",
                        help="only the sensitivity-to-initialisation table (its own section): "
                             "--seeds datasets per setting, --restarts random_state values "
                             "per dataset and method")
    parser.add_argument("--restarts", type=int, default=8,
                        help="random_state values per dataset (--init-sensitivity)")
    parser.add_argument("--errors-section", default="errors",
                        help="key of the error table's section (one per parallel run)")
    parser.add_argument("--settings", nargs="+", action="append",
                        metavar="P SEPARATION [COVARIANCE]",
                        help="p, separation and covariance kind (shape, scale; default shape) "
                             "of the error table; repeatable")
    add_out_argument(parser, "cluster")
    args = parser.parse_args(argv)
    if not args.settings:
        args.settings = [["5", "3"], ["5", "4"], ["10", "4"], ["20", "4"], ["5", "3", "scale"]]
    settings = [_setting(s) for s in args.settings]
    run = Run(__file__, argv, libraries=("sparseopt", "numpy", "scipy", "scikit-learn", "cvxpy",
                                         "scs", "joblib"), threads=args.threads)

    if args.objective_bound:
        rows = bound_table(settings, args.n, args.seeds, args.objective_bound, args.n_jobs,
                           args.threads)

        def cell(e):
            lo, hi = _sd_interval(e)
            return f"{e.mean():.3f} | {e.std():.3f} ({lo:.3f} - {hi:.3f})"

        run.write(args.out, "objective-bound",
                  f"### Search or model? iLA-SDP, K = {K}, n = {args.n}, {args.seeds} seeds\n\n"
                  "On every seed each variant runs twice: from its own starting "
                  "partitions (what a user gets) and from the true labels (`init=y`, one "
                  "start; the rounds and point moves can leave them). Where its own run ends "
                  "at a higher objective (the relaxed profiled -2 log-likelihood) than the "
                  "run from the truth, the search failed: a better partition of the model "
                  "exists. Where it ends lower, the model itself prefers a partition other "
                  "than the truth's neighbourhood, and no search can fix that. \"lower "
                  "objective of the two\" takes, per seed, the run of lower objective: an "
                  "estimate of what a perfect search of this objective would give (an "
                  "optimistic one: the true labels are not available to a search). "
                  "Objectives within 0.01 per point count as level. Error: mean | sd over "
                  "seeds (90% bootstrap interval of the sd).\n\n"
                  "| setting | variant | own starts: error | sd | from the true labels: error | "
                  "sd | lower objective of the two: error | sd | own run lower / higher / "
                  "level |\n|---|---|---|---|---|---|---|---|---|\n"
                  + "\n".join(f"| {st} | {name} | {cell(e)} | {cell(et)} | {cell(b)} | "
                              f"{lo} / {hi} / {lev} |"
                              for st, name, e, et, b, lo, hi, lev in rows) + "\n",
                  header=HEADER)
        return
    if args.init_sensitivity:
        rows = init_table(settings, args.n, args.seeds, args.restarts, args.ila, args.n_jobs,
                          args.threads)
        n_starts = max(_ila_options(spec)[0] for spec in args.ila)
        run.write(args.out, "init-sensitivity",
                  f"### Sensitivity to initialisation, K = {K}, n = {args.n}, {args.seeds} "
                  f"datasets per setting x {args.restarts} random_state values\n\n"
                  "Each method runs on the same standardised mixture with "
                  f"{args.restarts} different `random_state` values (the data fixed); the "
                  "spread of its mis-clustering error over those runs is its sensitivity to "
                  "initialisation. Columns: the mean error over all runs, the mean over the "
                  "datasets of the standard deviation over random_state, the largest such "
                  "standard deviation, and the share of datasets on which the error changes "
                  "with random_state at all. The across-seed table above mixes this with "
                  "the variation between datasets (a method that fails on every dataset "
                  f"alike has a small sd there). EM with {n_starts} inits keeps the highest "
                  "likelihood; iLA-SDP keeps its lowest objective.\n\n"
                  "| setting | method | error (mean) | sd over random_state (mean over "
                  "datasets) | largest sd | datasets where the error depends on "
                  "random_state |\n|---|---|---|---|---|---|\n"
                  + "\n".join(f"| {s} | {m} | {e:.3f} | {sd:.3f} | {mx:.3f} | {frac:.0%} |"
                              for s, m, e, sd, mx, frac in rows) + "\n", header=HEADER)
        return
    if not args.skip_errors:
        n_starts = max(_ila_options(spec)[0] for spec in args.ila)

        def write_errors(rows, seeds_done):
            partial = ("" if seeds_done == args.seeds else
                       f" (the first {seeds_done} of the {args.seeds} seeds asked for: the "
                       "section is rewritten after every seed and the run was stopped)")
            run.write(args.out, args.errors_section,
                      f"### Mis-clustering error, K = {K}, n = {args.n}, heterogeneous "
                      f"covariances, {seeds_done} seeds{partial}, standardised X\n\n"
                      "Mean and standard deviation over the seeds of the mis-clustering error "
                      "(best label matching). iLA-SDP with several starts keeps the start of "
                      "lowest objective (its relaxed profiled -2 log-likelihood), never looking "
                      f"at the labels; EM with {n_starts} inits keeps the highest likelihood "
                      "likewise. The sd interval is a 90% percentile bootstrap interval over "
                      "the seeds (how well the seeds pin the sd down). Seconds per fit are "
                      "inflated by the shared machine.\n\n"
                      "| setting | method | error (mean) | error (sd over seeds) | "
                      "sd, 90% bootstrap interval | seconds per fit |\n"
                      "|---|---|---|---|---|---|\n"
                      + "\n".join(f"| {s} | {m} | {e:.3f} | {sd:.3f} | {lo:.3f} - {hi:.3f} "
                                  f"| {t:.2f} |" for s, m, e, sd, lo, hi, t in rows) + "\n",
                      summary=error_summary(rows, args.ila, n_starts, args.n, seeds_done),
                      header=HEADER)

        error_table(settings, args.n, args.seeds, args.ila, args.n_jobs, args.threads,
                    on_seed=write_errors)
    with threadpool_limits(args.threads):
        if not args.skip_speed:
            rows = speed_table(args.speed_regimes, ref_eps=args.ref_eps, repeats=args.repeats)
            run.write(args.out, "speed",
                      "### K-means SDP at n = 200: time to the objective <D, Z>\n\n"
                      "Relative error = (value - reference) / reference, the reference being "
                      "cvxpy + SCS at the eps shown (its value is the test of the 1e-4 accuracy "
                      "goal); violation = largest violation of Z1 = 1, tr Z = K, Z >= 0, Z PSD by "
                      "the returned Z (BM: of UU^T 1 = 1, the others hold by construction); "
                      "reference rank = eigenvalues of the reference Z above 1e-3 (K when the "
                      "relaxation is tight). sparseopt rows: median of "
                      f"{args.repeats} calls of `kmeans_sdp` (BM: including its K-means++ start; "
                      "rounding excluded). Speed-up = seconds of cvxpy + SCS at eps 1e-4 / "
                      "seconds of the row.\n\n"
                      "| problem | solver | seconds | iterations | rel. objective error | "
                      "violation | speed-up vs SCS 1e-4 |\n|---|---|---|---|---|---|---|\n"
                      + "\n".join(f"| {pb} | {m} | {t:.3f} | {it} | {rel:+.1e} | {v:.1e} | "
                                  f"{sp:.1f}x |" for pb, m, t, it, rel, v, sp in rows) + "\n",
                      summary=speed_summary(rows), header=HEADER)
        if not args.skip_ila_speed:
            rows = ila_speed_table(args.ila_sizes)
            run.write(args.out, "ila-speed",
                      "### iLA-SDP: seconds per fit, Burer-Monteiro vs ADMM LA-SDP solver\n\n"
                      f"`ILASDPClustering(n_clusters={K}, solver=...)` on one mixture (p = 5, "
                      "separation 4, shape covariances, standardised, seed 0), one fit per "
                      "row; rounds = outer rounds of the kept start, SDP iterations = over "
                      "those rounds; objective = the relaxed profiled -2 log-likelihood "
                      "(lower is better); last column: labels identical to the ADMM fit's.\n\n"
                      "| n | configuration | LA-SDP solver | seconds | rounds | SDP iterations "
                      "| objective | mis-clustering | same labels as ADMM |\n"
                      "|---|---|---|---|---|---|---|---|---|\n"
                      + "\n".join(f"| {n} | {c} | {s} | {t:.2f} | {r} | {it} | {o:.2f} | "
                                  f"{e:.3f} | {same} |"
                                  for n, c, s, t, r, it, o, e, same in rows) + "\n",
                      summary=ila_speed_summary(rows), header=HEADER)
        if not args.skip_scaling:
            rows = scaling_table(args.bm_sizes, args.admm_sizes)
            run.write(args.out, "scaling",
                      "### Scaling (separation 6, p = 10, K = 3, tol 1e-5)\n\n"
                      "| n | solver | seconds | iterations | converged | violation | "
                      "mis-clustering |\n|---|---|---|---|---|---|---|\n"
                      + "\n".join(f"| {n} | {s} | {t:.2f} | {it} | {'yes' if c else 'no'} | "
                                  f"{v:.1e} | {e:.3f} |" for n, s, t, it, c, v, e in rows)
                      + "\n", summary=scaling_summary(rows), header=HEADER)


if __name__ == "__main__":
    main()
