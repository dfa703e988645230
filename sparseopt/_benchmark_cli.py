"""``python -m sparseopt benchmark [--quick]``: run every comparison script, gather RESULTS.md.

The comparison scripts live in the source checkout (``benchmarks/compare/``),
not in the installed package; this command finds them next to the package
or in the current directory and runs each in a fresh Python process:

* full mode runs each script with its defaults, in place: the scripts rewrite
  their fragments in ``benchmarks/results/`` and ``make_results.py``
  regenerates ``benchmarks/RESULTS.md``;
* ``--quick`` runs each script in its quick mode (``--quick``, or the small
  arguments listed in :data:`QUICK_ARGS` for a script without one) on a
  staged copy of ``benchmarks/compare/``, so the committed fragments are
  left alone; the quick fragments, each script's output (``<name>.log``)
  and their ``RESULTS.md`` go to ``OUT/benchmarks/results/`` and
  ``OUT/benchmarks/RESULTS.md`` with ``OUT`` the ``--out-dir`` (default
  ``benchmarks/.quick/``).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: quick-mode arguments of the scripts that have no ``--quick`` flag (a flag wins when present)
QUICK_ARGS = {
    "clustering": ["--seeds", "1", "--n", "40", "--speed-regimes", "tight", "--admm-sizes",
                   "--bm-sizes", "1000"],
    "dag": ["--d", "10", "--graphs", "ER", "--noises", "ev1", "--seeds", "1"],
    "rpca": ["--sizes", "300"],
    "sbl": ["--trials", "1", "--timing-trials", "1", "--irs-trials", "1"],
}
#: scripts of benchmarks/compare that are helpers, not comparisons
NOT_COMPARISONS = {"make_results"}


def find_benchmarks(start=None):
    """The ``benchmarks/`` directory of the checkout, or a ``FileNotFoundError`` saying where it looked."""
    here = Path(__file__).resolve().parents[1]
    candidates = [Path(start)] if start is not None else [here / "benchmarks",
                                                           Path.cwd() / "benchmarks"]
    for path in candidates:
        if (path / "compare" / "make_results.py").is_file():
            return path.resolve()
    looked = " and ".join(str(p) for p in candidates)
    raise FileNotFoundError(
        "python -m sparseopt benchmark needs a source checkout of sparseopt: no "
        f"benchmarks/compare/make_results.py at {looked}. The comparison scripts are not part of "
        "the installed package; clone the repository and run the command from its root "
        "(or pass --benchmarks PATH/TO/benchmarks).")


def comparison_scripts(benchmarks):
    """The comparison scripts, in name order (helpers starting with ``_`` excluded)."""
    return [p for p in sorted((Path(benchmarks) / "compare").glob("*.py"))
            if not p.stem.startswith("_") and p.stem not in NOT_COMPARISONS]


def quick_args(script):
    """``["--quick"]`` when the script declares that flag, else its entry in :data:`QUICK_ARGS`."""
    if re.search(r"""add_argument\(\s*["']--quick["']""", Path(script).read_text()):
        return ["--quick"]
    return list(QUICK_ARGS.get(Path(script).stem, []))


def _stage(benchmarks, out_dir):
    """Copy ``compare/`` to ``out_dir/benchmarks/`` so that the scripts write their fragments there.

    The staged tree has the checkout's layout (``benchmarks/compare``,
    ``benchmarks/results``) and the scripts run from ``out_dir``, so paths
    relative to the script and to the working directory both land in it.
    """
    out_dir = Path(out_dir).resolve()
    if out_dir == Path(benchmarks).resolve() or out_dir == Path(benchmarks).resolve().parent:
        raise ValueError("--out-dir must differ from the checkout's benchmarks/ directory and "
                         "its parent in --quick mode (quick fragments would replace the full "
                         "ones).")
    stage = out_dir / "benchmarks"
    shutil.rmtree(stage / "compare", ignore_errors=True)
    shutil.rmtree(stage / "results", ignore_errors=True)
    shutil.copytree(Path(benchmarks) / "compare", stage / "compare",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (stage / "results").mkdir(parents=True, exist_ok=True)
    return stage


def _environment():
    """The child processes import this sparseopt, whatever their working directory."""
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


def run_benchmarks(*, quick=False, only=None, out_dir=None, benchmarks=None, timeout=None,
                   echo=print):
    """Run the comparison scripts and gather ``RESULTS.md``; return ``(rows, results_path)``.

    ``rows`` holds ``(name, args, seconds, status)`` per script, ``status``
    being ``"ok"``, ``"failed (exit N)"`` or ``"timed out"``.
    """
    benchmarks = find_benchmarks(benchmarks)
    scripts = comparison_scripts(benchmarks)
    if only:
        unknown = sorted(set(only) - {s.stem for s in scripts})
        if unknown:
            raise ValueError(f"unknown comparison(s) {unknown}; available: "
                             f"{[s.stem for s in scripts]}")
        scripts = [s for s in scripts if s.stem in only]
    root = benchmarks
    if quick:
        root = _stage(benchmarks, out_dir if out_dir is not None else benchmarks / ".quick")
    env = _environment()
    rows = []
    start = time.perf_counter()
    for script in scripts:
        args = quick_args(script) if quick else []
        path = root / "compare" / script.name
        command = [sys.executable, str(path), *args]
        echo(f"[{time.perf_counter() - start:7.1f} s] {script.stem}: {' '.join(command[1:])}",
             flush=True)
        t0 = time.perf_counter()
        # --quick: each script's output goes to results/<name>.log (its tail is shown on failure)
        log = open(root / "results" / f"{script.stem}.log", "w") if quick else None
        try:
            code = subprocess.run(command, cwd=root.parent, env=env, timeout=timeout,
                                  stdout=log, stderr=subprocess.STDOUT if quick else None
                                  ).returncode
            status = "ok" if code == 0 else f"failed (exit {code})"
        except subprocess.TimeoutExpired:
            status = f"timed out after {timeout:g} s"
        finally:
            if log is not None:
                log.close()
        rows.append((script.stem, args, time.perf_counter() - t0, status))
        echo(f"    {status} in {rows[-1][2]:.1f} s", flush=True)
        if quick and status != "ok":
            tail = (root / "results" / f"{script.stem}.log").read_text().splitlines()[-15:]
            echo("\n".join("    | " + line for line in tail), flush=True)
    subprocess.run([sys.executable, str(root / "compare" / "make_results.py")], cwd=root.parent,
                   env=env, check=True)
    return rows, root / "RESULTS.md"


def add_parser(subparsers):
    """Register ``benchmark`` on the ``python -m sparseopt`` parser."""
    parser = subparsers.add_parser(
        "benchmark", help="run every comparison script of benchmarks/compare and regenerate "
                          "benchmarks/RESULTS.md (needs a source checkout)")
    parser.add_argument("--quick", action="store_true",
                        help="each script's quick mode, on a staged copy (committed results are "
                             "left alone); minutes instead of hours")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="only this comparison (repeatable), e.g. --only ot")
    parser.add_argument("--out-dir", default=None,
                        help="where --quick writes benchmarks/results/ and benchmarks/RESULTS.md "
                             "(default benchmarks/.quick)")
    parser.add_argument("--benchmarks", default=None,
                        help="the checkout's benchmarks/ directory (default: found next to the "
                             "package or in the current directory)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per script (default: none)")
    parser.set_defaults(func=main)
    return parser


def main(args):
    """Entry point of ``python -m sparseopt benchmark``; returns the exit status."""
    try:
        rows, results = run_benchmarks(quick=args.quick, only=args.only, out_dir=args.out_dir,
                                       benchmarks=args.benchmarks, timeout=args.timeout)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = sum(r[2] for r in rows)
    print(f"\n{'comparison':<20} {'seconds':>8}  status")
    for name, _, seconds, status in rows:
        print(f"{name:<20} {seconds:8.1f}  {status}")
    print(f"{'total':<20} {total:8.1f}\nwrote {results}")
    return 0 if all(r[3] == "ok" for r in rows) else 1
