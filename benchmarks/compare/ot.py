"""Entropic OT: sparseopt's SNS / Sinkhorn / log-Sinkhorn against POT, to marginal error 1e-9.

Problems (after Tang, Shavlovsky, Rahmanian, Tardini, Thekumparampil, Xiao and
Ying, "Accelerating Sinkhorn algorithm with sparse Newton iterations", ICLR 2024,
Sec. 6):

* random assignment, n = 500, C ~ U[0, 1], reg = 1/1200 (the paper's eta);
* W2 and W1 between two smooth densities on a 28 x 28 grid of [0, 1]^2,
  reg = 1/1200 (a data-free stand-in for the paper's MNIST runs);
* Gaussian point clouds (squared Euclidean cost) with n in ``--clouds``,
  reg in {1e-2, 1e-3} * max cost.

SNS runs with its defaults (``warmup_iter="auto"``: Sinkhorn sweeps until the
marginal error is 3e-2); random assignment is also run with the paper's fixed
``warmup_iter=20``.

Every method runs until the l1 marginal error ||P1 - a||_1 + ||P^T 1 - b||_1
is at most 1e-9. POT stops on the l2 norm of its column error, checked every
10 iterations, so it is given ``stopThr = 1e-9 / sqrt(m)`` (which implies an
l1 error <= 1e-9) and its final l1 error is measured and printed.

The number of sweeps to 1e-9 is a property of the problem (every Sinkhorn
variant follows the same iterates), measured once with our kernel Sinkhorn
(``--ref-budget`` seconds). Any other Sinkhorn run whose projected time
exceeds ``--budget`` seconds is not run to the end: its time per iteration is
measured on 100 iterations and multiplied by that sweep count, and the row is
marked "extrapolated" (">=" when the sweep count is itself a lower bound).

Usage::

    python benchmarks/compare/ot.py [--quick] [--budget 20] [--ref-budget 90] [--clouds 1000]
        [--out benchmarks/results/ot.md]
    python benchmarks/compare/ot.py --warmup     # SNS warm-up sweeps: 20, 200 or "auto"

Each problem family (random assignment, grid densities, point clouds of one
size) is its own section of the fragment: a run rewrites the sections of the
problems it ran and keeps the others (``--quick`` refreshes random assignment
only). ``--n-jobs N`` runs the problems as joblib tasks (default 1: serial).
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import pathlib
import sys
import time
import warnings

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
# this script is named ot.py: keep its folder off sys.path so that ``import ot`` is POT
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != HERE]
_spec = importlib.util.spec_from_file_location("_sections", HERE / "_sections.py")
_sections = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sections)
TARGET = 1e-9
HEADER = "## Entropic optimal transport: SNS vs Sinkhorn vs POT\n"
METHODS = ("sparseopt sns", "sparseopt sinkhorn", "sparseopt log", "POT sinkhorn",
           "POT sinkhorn_log", "POT sinkhorn_stabilized")


def l1_error(P, a, b):
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


def problems(args):
    from sparseopt.datasets import make_grid_densities, make_point_clouds, make_random_assignment

    group = "random assignment n=500"
    pb = make_random_assignment(500, random_state=0)
    yield group, "random assignment n=500, reg=1/1200", pb.a, pb.b, pb.M, 1 / 1200, {}
    yield (group, "random assignment n=500, reg=1/1200 (SNS warmup_iter=20, the paper's)",
           pb.a, pb.b, pb.M, 1 / 1200, dict(warmup_iter=20))
    if args.quick:
        return
    # MNIST-free stand-in: eta = 1200 on [0, 1]^2 (max cost 2)
    for cost in ("sqeuclidean", "l1"):
        pb = make_grid_densities(28, cost=cost, random_state=0)
        name = "W2" if cost == "sqeuclidean" else "W1"
        yield "grid 28x28", f"grid 28x28 {name}, reg=1/1200", pb.a, pb.b, pb.M, 1 / 1200, {}
    for n in args.clouds:
        pb = make_point_clouds(n, random_state=0)
        for scale in (1e-2, 1e-3):
            yield (f"point clouds n={n}", f"point clouds n={n}, reg={scale:g} max", pb.a, pb.b,
                   pb.M, scale * pb.M.max(), {})


def timed(fn, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _probe(fn, iters=100):
    """Seconds per iteration of ``fn(iters)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        fn(iters)
        return (time.perf_counter() - t) / iters


def run_sns(a, b, M, reg, options, repeat):
    from sparseopt.transport import solve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, res = timed(lambda: solve(M, a, b, reg, method="sns", tol=TARGET,
                                           max_iter=300, warn=False, **options), repeat)
    return dict(iterations=res.n_iter, newton=res.n_newton, seconds=seconds,
                error=l1_error(res.plan, a, b), converged=res.converged, plan=res.plan,
                note="" if res.converged else "not converged")


def _solver(label, a, b, M, reg):
    """``fn(max_iter, tol) -> (plan, iterations)`` for a Sinkhorn-type method."""
    import ot

    from sparseopt.transport import solve

    library, method = label.split()
    if library == "sparseopt":
        def fn(max_iter, tol=0.0):
            res = solve(M, a, b, reg, method=method, tol=tol, max_iter=max_iter, warn=False)
            return res.plan, res.n_iter
        return fn
    stop_scale = 1.0 / math.sqrt(M.shape[1])  # POT: l2 column error; this implies l1 <= tol

    def fn(max_iter, tol=0.0):
        P, log = ot.sinkhorn(a, b, M, reg, method=method, numItermax=max_iter,
                             stopThr=tol * stop_scale, log=True)
        return P, log.get("niter", log.get("n_iter"))
    return fn


def run_sinkhorn_type(label, a, b, M, reg, budget, reference, repeat):
    """Run to 1e-9 if it fits ``budget`` seconds, else extrapolate from a probe."""
    fn = _solver(label, a, b, M, reg)
    per_iter = _probe(lambda k: fn(k))
    cap = max(int(budget / per_iter), 10)
    if reference is not None and per_iter * reference[0] > budget:
        bound = "" if reference[1] else ">= "
        return dict(iterations=f"{bound}{reference[0]}", newton=0,
                    seconds=per_iter * reference[0], error=float("nan"), plan=None,
                    converged=False, bound=bound,
                    note=f"extrapolated: {per_iter * 1e3:.2f} ms/it x {bound}{reference[0]} its")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, (P, iters) = timed(lambda: fn(cap, TARGET), repeat)
    error = l1_error(P, a, b)
    finite = bool(np.all(np.isfinite(P)))
    converged = finite and error <= TARGET
    note = ""
    if not finite:
        note = "NaN/inf in plan"
    elif not converged and iters is not None and iters < cap - 1:
        note = f"stopped early at {iters} its (kernel underflow: numerical errors)"
    elif not converged:
        note = f"stopped at the {budget:g} s budget ({cap} its): time is a lower bound"
    return dict(iterations=iters if converged else f">= {iters}", newton=0, seconds=seconds,
                error=error, note=note, plan=P, converged=converged)


def _best(results, prefix):
    """Fastest method of one library that reached the target; else the fastest row, flagged."""
    rows = {m: r for m, r in results.items() if m.startswith(prefix)}
    done = {m: r for m, r in rows.items() if r["converged"]}
    pool = done or rows
    method = min(pool, key=lambda m: pool[m]["seconds"])
    return method, pool[method], bool(done)


def _summary_row(name, results):
    """Headline of one problem: sparseopt's fastest converged method vs POT's."""
    ours, r_ours, ok_ours = _best(results, "sparseopt")
    theirs, r_theirs, ok_theirs = _best(results, "POT")
    note = []
    if not ok_ours:
        note.append("no sparseopt method reached 1e-9")
    if not ok_theirs:
        note.append("no POT method reached 1e-9: " + (r_theirs["note"] or "lower bound"))
    quality = (lambda r: r["error"] if r["error"] == r["error"] else "n/a (extrapolated)")
    return _sections.summary_row(
        "Entropic OT to l1 marginal error 1e-9", name, (ours, r_ours["seconds"], quality(r_ours)),
        (theirs, r_theirs["seconds"], quality(r_theirs)),
        metric="final l1 marginal error (lower better)", note="; ".join(note))


TABLE_HEAD = [
    "Target: l1 marginal error <= 1e-9. `time / SNS` > 1 means slower than SNS. "
    "`max abs(P - P_sns)` compares each plan with SNS's. Single runs, the rows of one problem "
    "measured one after the other.",
    "",
    "| problem | method | iterations | Newton steps | time (s) | time / SNS | "
    "final l1 error | max abs(P - P_sns) | note |",
    "|---|---|---:|---:|---:|---:|---:|---:|---|",
]
TABLE_FOOT = [
    "", "Extrapolated rows: measured time per iteration (100 iterations) x the sweep count of "
    "our kernel Sinkhorn on the same problem (`>=`: that count is itself a lower bound because "
    "our Sinkhorn stopped at its budget, so the ratio is a lower bound). Rows stopped at the "
    "budget report the time spent (a lower bound)."]


def warmup_table(args):
    """SNS with a fixed 20 or 200 warm-up sweeps against the automatic warm-up."""
    from sparseopt.datasets import make_grid_densities, make_point_clouds, make_random_assignment
    from sparseopt.transport import solve

    cases = [("random assignment n=500 (1/1200)", make_random_assignment(500, random_state=0),
              1 / 1200)]
    for cost, name in (("sqeuclidean", "W2"), ("l1", "W1")):
        cases.append((f"{name} grid 28x28 (1/1200)",
                      make_grid_densities(28, cost=cost, random_state=0), 1 / 1200))
    pb = make_point_clouds(args.clouds[0] if args.clouds else 1000, random_state=0)
    cases.append((f"point clouds n={pb.M.shape[0]} (1e-3 max)", pb, 1e-3 * pb.M.max()))
    settings = [("warmup_iter=20", 20), ("warmup_iter=200", 200), ('"auto" (default)', "auto")]
    lines = ["SNS to l1 marginal error 1e-9 with a fixed number of Sinkhorn warm-up sweeps "
             "against the default `warmup_iter=\"auto\"` (sweeps until the marginal error is "
             "`warmup_tol`=3e-2). Cells: iterations / Newton steps / seconds (one run each).", "",
             "| problem (reg) | " + " | ".join(label for label, _ in settings) + " |",
             "|---|" + "---|" * len(settings)]
    for name, pb, reg in cases:
        cells = []
        for _, warmup in settings:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                seconds, res = timed(lambda: solve(pb.M, pb.a, pb.b, reg, method="sns",
                                                   tol=TARGET, warmup_iter=warmup, warn=False),
                                     args.repeat)
            flag = "" if res.converged else " (not converged)"
            cells.append(f"{res.n_iter} / {res.n_newton} / {seconds:.2f}{flag}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


_WARM = []


def _problem(group, name, a, b, M, reg, options, budget, ref_budget, repeat):
    """Every method on one problem (one joblib task): ``(group, name, table lines, results)``."""
    from threadpoolctl import threadpool_limits

    from sparseopt.transport import solve

    if not _WARM:  # warm the caches outside the timings, once per process
        solve(np.random.default_rng(0).uniform(size=(30, 30)), [], [], 0.01, method="sns")
        _WARM.append(True)
    print(f"\n== {name}", flush=True)
    with threadpool_limits(limits=1):
        results = {"sparseopt sns": run_sns(a, b, M, reg, options, repeat)}
        ref = run_sinkhorn_type("sparseopt sinkhorn", a, b, M, reg, ref_budget, None, repeat)
        results["sparseopt sinkhorn"] = ref
        reference = (int(str(ref["iterations"]).lstrip(">= ")), ref["converged"])
        for label in METHODS[2:]:
            results[label] = run_sinkhorn_type(label, a, b, M, reg, budget, reference, repeat)
    sns = results["sparseopt sns"]
    lines = []
    for label, r in results.items():
        ratio = r["seconds"] / sns["seconds"]
        diff = (float(np.abs(r["plan"] - sns["plan"]).max())
                if r["plan"] is not None else float("nan"))
        lines.append(f"| {name} | {label} | {r['iterations']} | {r['newton']} | "
                     f"{r['seconds']:.3f} | {ratio:.1f} | {r['error']:.1e} | "
                     f"{diff:.1e} | {r['note']} |")
        print(f"{label:26s} its {r['iterations']!s:>10} newton {r['newton']:>3} "
              f"time {r['seconds']:9.3f}s  x{ratio:8.1f} vs SNS  err {r['error']:.1e} "
              f"max|P-P_sns| {diff:.1e} {r['note']}", flush=True)
    for r in results.values():  # the plans stay in the worker
        r["plan"] = None
    return group, name, lines, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="random assignment only")
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds per run before extrapolating")
    parser.add_argument("--ref-budget", type=float, default=90.0,
                        help="seconds for our kernel Sinkhorn, which sets the sweep count")
    parser.add_argument("--clouds", type=int, nargs="*", default=[1000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--warmup", action="store_true",
                        help="only the SNS warm-up table (fixed 20 / 200 sweeps vs 'auto')")
    _sections.add_n_jobs_argument(parser, "the problems (each runs every method in turn; "
                                          "the budgets are wall-clock seconds, so sharing cores "
                                          "moves where runs stop)")
    _sections.add_out_argument(parser, "ot")
    args = parser.parse_args(argv)
    run_info = _sections.Run(__file__, argv, libraries=("sparseopt", "numpy", "scipy", "POT"),
                             threads=1)

    from threadpoolctl import threadpool_limits

    from sparseopt.transport import solve

    # warm the caches outside the timings
    solve(np.random.default_rng(0).uniform(size=(30, 30)), [], [], 0.01, method="sns")

    if args.warmup:
        with threadpool_limits(limits=1):
            run_info.write(args.out, "warmup", warmup_table(args), header=HEADER)
        return

    groups = {}  # group -> (table lines, summary rows), in the order run
    tasks = [(*problem, args.budget, args.ref_budget, args.repeat) for problem in problems(args)]
    for group, name, lines, results in _sections.run_grid(_problem, tasks, args.n_jobs):
        table, summary = groups.setdefault(group, ([], []))
        table.extend(lines)
        if not summary:  # one headline per problem family: its first problem
            summary.append(_summary_row(name, results))

    for group, (lines, summary) in groups.items():
        run_info.write(args.out, group, "\n".join(TABLE_HEAD + lines + TABLE_FOOT),
                       summary=summary, header=HEADER)


if __name__ == "__main__":
    main()
