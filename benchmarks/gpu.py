"""Native array-API paths on a CUDA GPU (torch) against the same code on NumPy/CPU.

Times, at sizes where a GPU should win, the estimators and functions that run
in the namespace of their input (see the array-API coverage table of the
docs), once with NumPy arrays on the CPU and once with torch tensors on
``cuda``:

* Sinkhorn (log-domain sweeps, ``sparseopt.transport.sinkhorn``), n = m = 10,000;
* RobustPCA (IALM), 4,000 x 4,000, rank 40, 5% outliers;
* CoLiDE, d = 500, a fixed budget of iterations (timed per iteration);
* SDPKMeans, n = 5,000 points (Burer-Monteiro factors, no n x n matrix).

An estimator whose tags say it runs a compiled kernel on a host copy
(``array_api_host_roundtrip``) is timed all the same and marked so: its
"GPU" time is the CPU time plus the transfers. Both runs use the same dtype
(``--dtype``, float32 by default: consumer GPUs are slow in float64) and the
same seeds; the table reports the agreement of the two results.

Exits with a message (status 1) when torch or a CUDA device is missing.
``--device cpu --quick`` runs the whole script with torch on the CPU at toy
sizes (a check of the script, not a benchmark).

Usage::

    python benchmarks/gpu.py [--quick] [--dtype float32] [--only sinkhorn rpca colide sdp]
                             [--device cuda] [--out benchmarks/results/gpu.md]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "compare"))
os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before SciPy is imported: dispatch needs it

NO_GPU = ("benchmarks/gpu.py needs torch with a CUDA device: {reason}. Run it on a machine with "
          "an NVIDIA GPU and a CUDA build of torch (pip install torch), or pass --device cpu "
          "--quick to check the script itself on the CPU.")

HEADER = """## Native array-API paths: torch CUDA vs NumPy CPU (issue 22)

Written by `benchmarks/gpu.py` (each run replaces its own section). "ratio" is the CPU time
divided by the GPU time (above 1: the GPU is faster). "host round-trip" rows run a compiled
kernel on a NumPy copy whatever the input, so they cannot gain from the GPU.
"""

#: full sizes (the issue's) and toy sizes (--quick)
SIZES = {"sinkhorn": (10_000, 300), "rpca": (4_000, 200), "colide": (500, 20),
         "sdp": (5_000, 300)}


def check_device(device):
    """Return a torch device or raise ``SystemExit`` with the reason it is unavailable."""
    try:
        import torch
    except ImportError:
        raise SystemExit(NO_GPU.format(reason="torch is not installed"))
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(NO_GPU.format(reason=f"torch {torch.__version__} sees no CUDA device"))
    return torch.device(device)


def _sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _to(a, device, dtype):
    """NumPy array -> (NumPy array, torch tensor on device), both of ``dtype``."""
    import torch

    a = np.ascontiguousarray(a, dtype=dtype)
    return a, torch.asarray(a, device=device)


def _host(x):
    from sparseopt.utils._array_api import to_numpy

    return to_numpy(x)


def _timed(fn, device):
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


def _tags(est):
    from sklearn.utils import get_tags

    return "host round-trip" if getattr(get_tags(est), "array_api_host_roundtrip", False) \
        else "native"


def case_sinkhorn(n, device, dtype):
    from sparseopt.transport import sinkhorn

    rng = np.random.default_rng(0)
    x, y = rng.random((n, 2)), rng.random((n, 2))
    M = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    a = np.full(n, 1.0 / n)
    (a_np, a_t), (M_np, M_t) = _to(a, device, dtype), _to(M, device, dtype)
    del M

    def run(a_, M_):
        return sinkhorn(a_, a_, M_, 0.01, method="sinkhorn_log", numItermax=200, stopThr=1e-6,
                        warn=False)
    return (f"Sinkhorn (log domain, 200 sweeps at most), n = m = {n:,}", "native",
            lambda: run(a_np, M_np), lambda: run(a_t, M_t),
            lambda P, Q: float(np.abs(_host(P) - _host(Q)).sum()), "l1 plan difference")


def case_rpca(n, device, dtype):
    from sparseopt.datasets import make_low_rank_sparse
    from sparseopt.decomposition import RobustPCA

    D = make_low_rank_sparse(n, n, rank=max(2, n // 100), outlier_fraction=0.05,
                             random_state=0)[0]
    D_np, D_t = _to(D, device, dtype)
    est = RobustPCA(method="ialm", random_state=0)
    return (f"RobustPCA (IALM), {n:,} x {n:,}", _tags(est),
            lambda: RobustPCA(method="ialm", random_state=0).fit(D_np).low_rank_,
            lambda: RobustPCA(method="ialm", random_state=0).fit(D_t).low_rank_,
            lambda L1, L2: float(np.linalg.norm(_host(L1) - _host(L2))
                                 / np.linalg.norm(_host(L1))), "relative difference of L")


def case_colide(d, device, dtype):
    from sparseopt.causal import CoLiDE
    from sparseopt.datasets import make_linear_sem

    X = make_linear_sem(d, 2 * d, 2 * d + 500, random_state=0)[0]
    X_np, X_t = _to(X, device, dtype)
    params = dict(warm_iter=100, max_iter=200, T=2, checkpoint=50, random_state=0)
    est = CoLiDE(**params)
    return (f"CoLiDE, d = {d}, 300 Adam iterations (fixed budget)", _tags(est),
            lambda: CoLiDE(**params).fit(X_np).W_, lambda: CoLiDE(**params).fit(X_t).W_,
            lambda W1, W2: float(np.abs(_host(W1) - _host(W2)).max()), "max |W difference|")


def case_sdp(n, device, dtype):
    from sparseopt.cluster import SDPKMeans
    from sparseopt.datasets import make_heterogeneous_mixture

    X = make_heterogeneous_mixture(n, 5, 3, separation=6, covariance="isotropic",
                                   random_state=0)[0]
    X_np, X_t = _to(X, device, dtype)
    est = SDPKMeans(3, solver="bm", random_state=0)
    return (f"SDPKMeans (Burer-Monteiro), n = {n:,}", _tags(est),
            lambda: SDPKMeans(3, solver="bm", random_state=0).fit(X_np).labels_,
            lambda: SDPKMeans(3, solver="bm", random_state=0).fit(X_t).labels_,
            lambda l1, l2: float(np.mean(_host(l1) != _host(l2))), "fraction of labels differing")


CASES = {"sinkhorn": case_sinkhorn, "rpca": case_rpca, "colide": case_colide, "sdp": case_sdp}


def run(names, device, dtype, quick):
    import sklearn

    rows = []
    for name in names:
        size = SIZES[name][1 if quick else 0]
        title, path, cpu, gpu, agree, agree_name = CASES[name](size, device, dtype)
        with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fixed budgets: convergence is not the point
            gpu()  # warm-up: CUDA context, kernels, caches
            cpu_time, cpu_out = _timed(cpu, device)
            gpu_time, gpu_out = _timed(gpu, device)
        rows.append(dict(problem=title, path=path, cpu=cpu_time, gpu=gpu_time,
                         agreement=f"{agree_name} {agree(cpu_out, gpu_out):.1e}"))
        print(f"{title:55s} {path:16s} CPU {cpu_time:8.2f} s  {device.type} {gpu_time:8.2f} s  "
              f"{rows[-1]['agreement']}", flush=True)
    return rows


def table(rows, device):
    lines = [f"| problem | path | NumPy CPU (s) | torch {device.type} (s) | ratio | agreement |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['problem']} | {r['path']} | {r['cpu']:.2f} | {r['gpu']:.2f} | "
                     f"{r['cpu'] / r['gpu']:.2f}x | {r['agreement']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--quick", action="store_true", help="toy sizes (checks the script)")
    parser.add_argument("--out", default=str(HERE / "results" / "gpu.md"))
    args = parser.parse_args(argv)
    device = check_device(args.device)
    import torch
    from _sections import machine_stamp, replace_section

    command = "python benchmarks/gpu.py " + " ".join(sys.argv[1:] if argv is None else argv)
    gpu_name = (torch.cuda.get_device_name(device) if device.type == "cuda"
                else "no GPU (torch on the CPU: a check of the script, not a benchmark)")
    stamp = machine_stamp(("sparseopt", "numpy", "scipy", "scikit-learn", "torch"))
    rows = run(args.only, device, np.dtype(args.dtype), args.quick)
    body = (f"{stamp} Device: {gpu_name}; dtype {args.dtype}; one timed run per row after an "
            f"untimed warm-up on the device.\n\n" + table(rows, device))
    key = f"{device.type} {args.dtype}{' quick' if args.quick else ''}"
    replace_section(args.out, key, f"### {key}\n\nCommand: `{command.strip()}`\n\n{body}",
                    header=HEADER)
    print(Path(args.out).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
