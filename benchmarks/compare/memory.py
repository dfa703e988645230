"""Peak memory of the large-problem paths, and the largest size each handles in 24 GiB.

Each (case, size) runs in a fresh Python process: it builds the data, resets
the kernel's peak-RSS counter (``/proc/self/clear_refs``), fits, and reads
``VmHWM``, the peak resident set size of the process during the fit (the
inputs, the interpreter and every allocation, compiled code included).

Cases (the sizes of issue 22 where they fit on the measuring machine):

* ``lasso``: ``Lasso(alpha = alpha_max / 10)`` on a sparse CSC design with
  20,000 columns and 20 non-zeros per row, 25,000 to 100,000 rows;
* ``sns``: Sinkhorn-Newton-Sparse (``transport.solve(method="sns")``) on
  ``n x n`` squared-distance costs between uniform points of the unit square;
* ``rpca``: ``RobustPCA(method="ialm")`` on ``n x n``, rank ``n / 50``, 5%
  outliers;
* ``sdp``: ``SDPKMeans(solver="bm")`` (Burer-Monteiro factors) on ``n``
  points in 5 dimensions, 3 clusters.

The largest size in 24 GiB is extrapolated from a least-squares fit of the
peak against the size's dominant term (``n^2`` for the dense ``n x n``
cases, the number of non-zeros plus rows for Lasso, ``n`` for the factored
SDP): ``peak = c0 + c1 * units(n)``, solved for ``peak = 24 GiB``. ``c1 / 8``
for an ``n^2`` case is the number of ``n x n`` float64 arrays alive at the
peak.

Usage::

    python benchmarks/compare/memory.py [--quick] [--out benchmarks/results/memory.md]
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_stamp, replace_section  # noqa: E402

BUDGET = 24 * 2**30
LASSO_FEATURES, LASSO_NNZ_PER_ROW = 20_000, 20

SIZES = {  # full run, --quick
    "lasso": ([25_000, 50_000, 100_000], [20_000]),
    "sns": ([1000, 2000, 4000], [500, 1000]),
    "rpca": ([1000, 1500, 2000], [300]),
    "sdp": ([5000, 20_000, 50_000], [5000]),
}
ISSUE_SIZE = {"lasso": 100_000, "sns": 20_000, "rpca": 5000, "sdp": 5000}
TITLE = {
    "lasso": "Lasso, sparse CSC, 20,000 columns, 20 non-zeros per row (n = rows)",
    "sns": "Sinkhorn-Newton-Sparse, n x n costs",
    "rpca": "RobustPCA (IALM), n x n",
    "sdp": "SDPKMeans, Burer-Monteiro factors, 5 features (n = points)",
}


def units(case, n):
    """The dominant term of the memory of ``case`` at size ``n``."""
    if case == "lasso":
        return n * LASSO_NNZ_PER_ROW + n
    if case in ("sns", "rpca"):
        return n * n
    return n


# ----------------------------------------------------------------- child side
def _peak_rss():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM"))


def _reset_peak():
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _build(case, n):
    rng = np.random.default_rng(0)
    if case == "lasso":
        from sparseopt.datasets import make_sparse_design_regression
        from sparseopt.linear_model import Lasso

        X, y, _ = make_sparse_design_regression(n, LASSO_FEATURES,
                                                density=LASSO_NNZ_PER_ROW / LASSO_FEATURES,
                                                n_informative=50, random_state=0)
        alpha_max = float(np.max(np.abs(X.T @ y))) / n
        return lambda: Lasso(alpha=alpha_max / 10, max_iter=50).fit(X, y)
    if case == "sns":
        from sparseopt.transport import solve

        x, z = rng.random((n, 2)), rng.random((n, 2))
        M = ((x[:, None, :] - z[None, :, :]) ** 2).sum(-1)
        a = np.full(n, 1.0 / n)
        return lambda: solve(M, a, a, reg=0.01, method="sns", tol=1e-8, max_iter=200,
                             warn=False)
    if case == "rpca":
        from sparseopt.datasets import make_low_rank_sparse
        from sparseopt.decomposition import RobustPCA

        D = make_low_rank_sparse(n, n, rank=max(2, n // 50), outlier_fraction=0.05,
                                 random_state=0)[0]
        return lambda: RobustPCA(method="ialm", random_state=0).fit(D)
    if case == "sdp":
        from sparseopt.cluster import SDPKMeans
        from sparseopt.datasets import make_heterogeneous_mixture

        X = make_heterogeneous_mixture(n, 5, 3, separation=6, covariance="isotropic",
                                       random_state=0)[0]
        return lambda: SDPKMeans(3, solver="bm", random_state=0).fit(X)
    raise ValueError(case)


def child(case, n):
    import gc

    fit = _build(case, n)
    gc.collect()
    before = _peak_rss()
    _reset_peak()
    with open("/proc/self/status") as fh:
        start = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS"))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # capped iterations: memory is the point
        fit()
    seconds = time.perf_counter() - t0
    print(json.dumps(dict(case=case, n=n, peak=_peak_rss(), start=start, build_peak=before,
                          seconds=seconds)))


# ---------------------------------------------------------------- parent side
def measure(case, n):
    out = subprocess.run([sys.executable, __file__, "--child", case, str(n)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def extrapolate(case, rows):
    """``(c0, c1, largest n with c0 + c1 units(n) <= BUDGET)`` from the measured rows."""
    u = np.array([units(case, r["n"]) for r in rows], dtype=float)
    peak = np.array([r["peak"] for r in rows], dtype=float)
    if len(rows) >= 2:
        c1, c0 = np.polyfit(u, peak, 1)
    else:
        c0, c1 = 0.0, peak[0] / u[0]
    target = (BUDGET - c0) / c1
    if case == "lasso":
        n_max = target / (LASSO_NNZ_PER_ROW + 1)
    elif case in ("sns", "rpca"):
        n_max = math.sqrt(target)
    else:
        n_max = target
    return c0, c1, n_max


def _gib(x):
    return f"{x / 2**30:.2f}"


def report(results):
    lines = ["| case | n | peak RSS during the fit (GiB) | RSS before the fit (GiB) | fit (s) |",
             "|---|---|---|---|---|"]
    for case, rows in results.items():
        for r in rows:
            lines.append(f"| {case} | {r['n']:,} | {_gib(r['peak'])} | {_gib(r['start'])} | "
                         f"{r['seconds']:.1f} |")
    lines += ["", "| case | model of the peak | predicted at the issue's size | largest n in 24 GiB |",
              "|---|---|---|---|"]
    for case, rows in results.items():
        c0, c1, n_max = extrapolate(case, rows)
        if case in ("sns", "rpca"):
            model = f"{_gib(c0)} GiB + {c1 / 8:.1f} n x n float64 arrays"
        elif case == "lasso":
            model = f"{_gib(c0)} GiB + {c1:.0f} bytes per (non-zero + row)"
        else:
            model = f"{_gib(c0)} GiB + {c1 / 1024:.2f} KiB per point"
        issue_n = ISSUE_SIZE[case]
        measured = [r for r in rows if r["n"] == issue_n]
        at_issue = (f"{_gib(measured[0]['peak'])} GiB (measured)" if measured else
                    f"{_gib(c0 + c1 * units(case, issue_n))} GiB (extrapolated)")
        lines.append(f"| {TITLE[case]} | {model} | n = {issue_n:,}: {at_issue} | "
                     f"{n_max:,.0f} |")
    return "\n".join(lines) + "\n"


HEADER = """## Peak memory and the largest problem in 24 GiB (issue 22)

Written by `benchmarks/compare/memory.py` (see its docstring for the method; each run replaces
its own section). Peak RSS is the kernel's `VmHWM` of a fresh process during the fit only
(reset after the data are built), so it includes the inputs. The largest size is extrapolated
linearly in the dominant term from the measured sizes, not measured.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--only", nargs="+", choices=sorted(SIZES), default=list(SIZES))
    parser.add_argument("--child", nargs=2, metavar=("CASE", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "results"
                                             / "memory.md"))
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    command = ("python benchmarks/compare/memory.py "
               + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    stamp = machine_stamp()
    results = {}
    for case in args.only:
        results[case] = []
        for n in SIZES[case][1 if args.quick else 0]:
            results[case].append(measure(case, n))
            r = results[case][-1]
            print(f"{case:6s} n={n:>7,}  peak {_gib(r['peak'])} GiB  start {_gib(r['start'])} "
                  f"GiB  {r['seconds']:.1f} s", flush=True)
    body = f"{stamp}\n\n" + report(results)
    key = "quick" if args.quick else "memory " + " ".join(args.only)
    replace_section(args.out, key, f"### {'Quick run' if args.quick else 'Measured peaks'}\n\n"
                    f"Command: `{command}`\n\n{body}", header=HEADER)
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
