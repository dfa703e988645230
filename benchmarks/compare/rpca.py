"""Robust PCA side by side: sparseopt IALM / AccAltProj vs tensorly and a full-SVD IALM.

Planted problems as in Netrapalli et al. (2014) and Cai, Cai & Wei (2019): square ``n x n``,
``L* = P Q^T`` of rank ``0.05 n`` with Gaussian factors, 10% of the entries
corrupted either uniformly in ``+-mean|L*|`` (AccAltProj set-up) or uniformly in
``[-500, 500]`` (Candès / Lin-Chen-Ma set-up). Every row reports the recovery
error ``||L - L*||_F / ||L*||_F``, never the residual alone.

Methods (all with ``lambda = 1 / sqrt(n)`` where the method has one):

* ``sparseopt IALM (auto)``: partial SVDs with rank prediction
  (warm-started randomized subspace iteration);
* ``sparseopt IALM (PROPACK)``: the same with ``svd_solver="partial"``;
* ``sparseopt AccAltProj``: ``rank`` given, default guard on;
* the two fast methods again with ``tol=1e-9`` (the residual is relative to
  ``||D||_F``, which large outliers inflate about 20-fold, so ``tol=1e-7``
  leaves errors of a few 1e-7 on ``L``);
* ``IALM full SVD``: sparseopt's IALM with ``svd_solver="full"`` (the
  textbook implementation: a LAPACK SVD per iteration);
* ``tensorly robust_pca``: ``tensorly.decomposition.robust_pca(D,
  reg_E=1/sqrt(n))``, otherwise its defaults (tol 1e-6, at most 100 iterations).

Ratios are ``tensorly seconds / method seconds`` (speed-up) on the same problem
in the same run. BLAS is limited to ``--threads`` threads for every method.

``--completion N [N ...]`` instead times low-rank matrix completion
(``altmin_completion``, exact normal equations against preconditioned CG
half-steps) at rank 10 with ``|Omega| = k (m + n) log n`` observed entries,
in its own section.

Each distinct set of arguments writes its own section of the fragment (the
other sections are kept), headed by the command, machine and load of the run.

Usage::

    python benchmarks/compare/rpca.py --sizes 1000 [--skip tensorly:2000] \
        [--out benchmarks/results/rpca.md]
    python benchmarks/compare/rpca.py --completion 1000

``--n-jobs N`` runs the planted problems (size x outlier scenario) as joblib
tasks, each timing its methods one after the other in one worker.
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from sparseopt.datasets import make_low_rank_sparse
from sparseopt.decomposition import RobustPCA
from sparseopt.metrics import relative_error

from _sections import Run, add_n_jobs_argument, add_out_argument, run_grid, summary_row

SCENARIOS = [("+-mean abs(L)", "mean", 1.0), ("U[-500,500]", "uniform", 500.0)]


def _sparseopt(method, svd_solver="auto", tol=1e-7):
    def run(D, n, rank):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = RobustPCA(method=method, rank=rank if method == "accaltproj" else None,
                            svd_solver=svd_solver, tol=tol, random_state=0).fit(D)
        notes = "; ".join(sorted({w.category.__name__ for w in caught}))
        return est.low_rank_, est.n_iter_, est.converged_, notes
    return run


def _tensorly(D, n, rank):
    from tensorly.decomposition import robust_pca

    low, sparse, errors = robust_pca(D, reg_E=1.0 / np.sqrt(n), return_errors=True,
                                     verbose=False)
    return np.asarray(low), len(errors), bool(errors[-1] <= 1e-6), ""


METHODS = {
    "sparseopt IALM (auto)": _sparseopt("ialm"),
    "sparseopt IALM (PROPACK)": _sparseopt("ialm", "partial"),
    "sparseopt AccAltProj": _sparseopt("accaltproj"),
    "sparseopt IALM (auto), tol=1e-9": _sparseopt("ialm", tol=1e-9),
    "sparseopt AccAltProj, tol=1e-9": _sparseopt("accaltproj", tol=1e-9),
    "IALM full SVD": _sparseopt("ialm", "full"),
    "tensorly robust_pca": _tensorly,
}


NOTES = """Notes: rel. error of L is ||L - L*||_F / ||L*||_F against the planted truth; \
"residual converged" is each method's own stopping test and is no recovery certificate. \
tensorly's `robust_pca` is tensor RPCA (ALM over the nuclear norms of the unfoldings, a full \
SVD per unfolding per iteration) and stops at its default 100 iterations; its cost grows like \
n^3 per iteration, so larger sizes are best run as a separate command whose section is kept \
next to this one (e.g. `--sizes 2000 --skip sparseopt:2000 IALM:2000` for tensorly alone). \
"IALM full SVD" is sparseopt's IALM with `svd_solver="full"` (same iterates, a LAPACK SVD per \
iteration). The residual tolerance is relative to ||D||_F, which the U[-500,500] outliers \
inflate about 20-fold, hence the tol=1e-9 rows.
"""


def _summary(rows):
    """Headline rows: at each size where tensorly ran, the first scenario, IALM and AccAltProj."""
    out = []
    for problem, name, res in rows:
        if res is None or not name.startswith("sparseopt") or "tol=" in name:
            continue
        ref = next((r for p, m, r in rows if p == problem and m == "tensorly robust_pca" and r),
                   None)
        if name == "sparseopt IALM (auto)":
            capability = "Robust PCA (convex PCP, IALM)"
        elif name == "sparseopt AccAltProj":
            capability = "Robust PCA (rank known, AccAltProj)"
        else:
            continue
        if any(r["capability"] == capability for r in out):
            continue
        if ref is None:  # a size where tensorly did not run has no headline
            continue
        anchor = ("tensorly robust_pca", ref[0], ref[2])
        out.append(summary_row(capability, problem, (name, res[0], res[2]), anchor,
                               metric="rel. error of L vs planted (lower better)"))
    return out


def completion(sizes, threads, rank=10):
    """Rows of the matrix-completion section: both half-step solvers of altmin_completion."""
    from sparseopt.datasets import make_matrix_completion
    from sparseopt.decomposition import altmin_completion

    X, mask, _ = make_matrix_completion(60, rank=2, random_state=0)
    altmin_completion(X, mask, 2, random_state=0)  # warm-up outside the timings
    lines = ["Low-rank matrix completion (`altmin_completion`, rank 10, |Omega| = k (m + n) "
             "log n observed entries, tol 1e-6): exact batched normal equations against "
             "conjugate-gradient half-steps (the inexact-update regime of Gu, Song, Yin & Zhang, "
             "ICLR 2024). One seeded run per row.", "",
             "| problem | solver | time (s) | rounds | stop reason | rel. error of M |",
             "|---|---|---|---|---|---|"]
    for n in sizes:
        X, mask, M = make_matrix_completion(n, rank=rank, oversampling=1.0, random_state=0)
        problem = f"n={n}, rank {rank}, {100 * mask.mean():.0f}% observed"
        for solver in ("exact", "iterative"):
            with threadpool_limits(threads):
                t0 = time.perf_counter()
                res = altmin_completion(X, mask, rank, solver=solver, random_state=0)
                seconds = time.perf_counter() - t0
            err = relative_error(res.x, M)
            lines.append(f"| {problem} | {solver} | {seconds:.2f} | {res.n_iter} | "
                         f"{res.stop_reason} | {err:.1e} |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


def _warm_up():
    """Imports and first calls of the sparseopt methods, outside the timings."""
    D, _, _ = make_low_rank_sparse(60, rank=3, random_state=0)
    for name, run in METHODS.items():
        if name.startswith("sparseopt"):
            run(D, 60, 3)


def _problem(n, label, kind, scale, fraction, threads, methods):
    """One planted problem, every method in ``methods`` in turn (one joblib task).

    Returns ``(problem, {method: (seconds, n_iter, rel. error of L, converged, notes)})``.
    """
    _warm_up()
    rank = int(round(0.05 * n))
    D, L, _ = make_low_rank_sparse(n, rank=rank, outlier_fraction=fraction, outliers=kind,
                                   outlier_scale=scale, random_state=0)
    problem = f"n={n}, r={rank}, {int(100 * fraction)}% {label}"
    results = {}
    for name in methods:
        with threadpool_limits(threads):
            t0 = time.perf_counter()
            low, n_iter, converged, notes = METHODS[name](D, n, rank)
            seconds = time.perf_counter() - t0
        results[name] = (seconds, n_iter, relative_error(low, L), converged, notes)
        print(f"{problem:34s} {name:26s} {seconds:8.2f} s  it {n_iter:4d}  "
              f"rel-L {results[name][2]:.1e}  {notes}", flush=True)
    return problem, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip", nargs="*", default=[],
                        help="method-prefix:n pairs to skip, e.g. tensorly:2000")
    parser.add_argument("--completion", type=int, nargs="+", default=None, metavar="N",
                        help="time matrix completion at these sizes instead")
    add_n_jobs_argument(parser, "the planted problems (size x outlier scenario)")
    add_out_argument(parser, "rpca")
    args = parser.parse_args(argv)
    run_info = Run(__file__, argv, libraries=("sparseopt", "numpy", "scipy", "tensorly"),
                   threads=args.threads)
    if args.completion:
        run_info.write(args.out, "completion " + " ".join(map(str, args.completion)),
                       completion(args.completion, args.threads), header=HEADER)
        return
    methods = list(METHODS)
    try:
        import tensorly  # noqa: F401
    except ImportError:
        methods.remove("tensorly robust_pca")
    skip = {tuple(s.split(":")) for s in args.skip}
    tasks = [(n, label, kind, scale, args.fraction, args.threads,
              [name for name in methods
               if not any(name.lower().startswith(p.lower()) and str(n) == m for p, m in skip)])
             for n in args.sizes for label, kind, scale in SCENARIOS]
    rows = []
    for problem, results in run_grid(_problem, tasks, args.n_jobs):
        ref = results.get("tensorly robust_pca")
        for name, res in results.items():
            speedup = ref[0] / res[0] if ref else None
            rows.append((problem, name, res + (speedup,)))
    header = ("| problem | method | time (s) | iterations | rel. error of L | residual "
              "converged | speed-up vs tensorly |\n|---|---|---|---|---|---|---|")
    lines = []
    for problem, name, res in rows:
        seconds, n_iter, err, converged, notes, speedup = res
        conv = ("yes" if converged else "no") + (f" ({notes})" if notes else "")
        ratio = f"{speedup:.1f}x" if speedup is not None else "n/a (tensorly not run)"
        lines.append(f"| {problem} | {name} | {seconds:.2f} | {n_iter} | {err:.1e} | {conv} | "
                     f"{ratio} |")
    text = "\n".join(["One seeded run per row; speed-up = tensorly seconds / method seconds "
                      "on the same problem in the same run.", "", header, *lines, "", NOTES])
    key = "sizes " + " ".join(map(str, args.sizes)) + (
        " skip " + " ".join(sorted(args.skip)) if args.skip else "")
    if args.fraction != 0.1:
        key += f" fraction {args.fraction:g}"
    run_info.write(args.out, key, text, summary=_summary(rows), header=HEADER)
    print("\n" + text)


HEADER = "## Robust PCA: sparseopt IALM / AccAltProj vs tensorly (and a full-SVD IALM)\n"


if __name__ == "__main__":
    main()
