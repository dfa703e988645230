"""Cross-validation grid: serial vs joblib processes vs a dask.distributed LocalCluster.

``LassoCV`` runs one regularisation path per fold through joblib; the same
fit is timed

* serially (``n_jobs=1``, one BLAS thread),
* with joblib's default process backend (loky, ``n_jobs=2``),
* on a ``dask.distributed.LocalCluster`` (2 worker processes, 1 thread each,
  loopback only) through ``joblib.parallel_config(backend="dask")``, with
  ``X`` scattered to the workers once.

The cluster start-up is timed separately (paid once per session, not per fit),
and each backend gets one untimed warm-up fit (its workers import sparseopt).
Every parallel run must give the serial ``alpha_`` and ``mse_path_`` exactly.
On a 2-core machine the ideal ratio is 2x; a machine shared with other jobs
gives less, and the table says how loaded it was.

Usage::

    python benchmarks/compare/scale.py [--quick] [--repeat 3] [--out benchmarks/results/scale.md]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import machine_stamp, replace_section  # noqa: E402

HEADER = """## Scaling out: cross-validation on a dask.distributed cluster (issue 22)

`LassoCV` folds run through joblib, so `joblib.parallel_config(backend="dask")` sends them to a
dask cluster unchanged (see the user guide page "Running on a cluster"). Each section is written
by the command shown in it (`benchmarks/compare/scale.py` replaces only its own section).
"""


def _problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    coef[: max(1, p // 20)] = rng.choice([-2.0, 1.0, 1.5], size=max(1, p // 20))
    y = X @ coef + rng.standard_normal(n)
    return X, y


def _best_time(fit, repeat):
    """Fastest of ``repeat`` runs (the least disturbed by other jobs) and the last estimator.

    One untimed warm-up first: worker processes import sparseopt on their first task.
    """
    fit()
    times, est = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        est = fit()
        times.append(time.perf_counter() - t0)
    return min(times), est


def run(problems, cv, n_alphas, repeat):
    import joblib
    from distributed import Client, LocalCluster

    from sparseopt.linear_model import LassoCV

    rows = []
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=40)
    client = Client(cluster)
    client.run(lambda: None)  # workers up and reachable
    startup = time.perf_counter() - t0
    try:
        for n, p in problems:
            X, y = _problem(n, p)

            def fit(n_jobs):
                return LassoCV(cv=cv, alphas=n_alphas, n_jobs=n_jobs).fit(X, y)

            with threadpool_limits(1):
                serial_time, serial = _best_time(lambda: fit(1), repeat)
                loky_time, loky = _best_time(lambda: fit(2), repeat)
                with joblib.parallel_config(backend="dask", scatter=[X]):
                    dask_time, remote = _best_time(lambda: fit(-1), repeat)
            for label, seconds, est in (("serial (n_jobs=1)", serial_time, serial),
                                        ("joblib loky, n_jobs=2", loky_time, loky),
                                        ("dask LocalCluster, 2 workers", dask_time, remote)):
                same = (est.alpha_ == serial.alpha_
                        and np.array_equal(est.mse_path_, serial.mse_path_))
                rows.append(dict(problem=f"n={n}, p={p}, {cv} folds x {n_alphas} alphas",
                                 method=label, seconds=seconds,
                                 speedup=serial_time / seconds, same=same))
                print(f"{rows[-1]['problem']:40s} {label:30s} {seconds:7.2f} s  "
                      f"x{rows[-1]['speedup']:.2f}  same={same}", flush=True)
    finally:
        client.close()
        cluster.close()
    return rows, startup


def table(rows, startup):
    lines = ["| problem | backend | time (s) | speed-up vs serial | same alpha_ and mse_path_ |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['problem']} | {r['method']} | {r['seconds']:.2f} | "
                     f"{r['speedup']:.2f}x | {'yes' if r['same'] else 'NO'} |")
    lines.append("")
    lines.append(f"Cluster start-up (2 worker processes, paid once): {startup:.1f} s, not included "
                 "above.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one small problem, one repeat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "results"
                                             / "scale.md"))
    args = parser.parse_args(argv)
    command = ("python benchmarks/compare/scale.py "
               + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    if args.quick:
        problems, cv, n_alphas, repeat = [(1000, 200)], 4, 20, 1
    else:
        problems, cv, n_alphas, repeat = [(2000, 500), (5000, 1000)], 5, 30, args.repeat
    stamp = machine_stamp(("sparseopt", "numpy", "scipy", "scikit-learn", "joblib", "dask",
                           "distributed"))
    rows, startup = run(problems, cv, n_alphas, repeat)
    load_after = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    body = (f"{stamp} Load average after the run: {load_after}. Best of {repeat} run(s) per row after one untimed warm-up fit; "
            "BLAS limited to 1 thread in every process. The machine was shared with other jobs: "
            "read the ratios, not the seconds.\n\n" + table(rows, startup))
    key = "quick" if args.quick else "cv-grid"
    title = "Quick run" if args.quick else "LassoCV, serial vs processes vs dask"
    replace_section(args.out, key, f"### {title}\n\nCommand: `{command}`\n\n{body}",
                    header=HEADER)
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
