"""``python -m sparseopt benchmark``: finds the scripts, runs them, gathers RESULTS.md.

The real suite takes minutes (``--quick``) to hours; these tests run the
command on a miniature checkout with two tiny comparison scripts.
"""
from pathlib import Path

import pytest

from sparseopt import _benchmark_cli as cli
from sparseopt.__main__ import main

REPO = Path(__file__).resolve().parents[1]

SCRIPT = '''"""A tiny comparison."""
import argparse
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()
out = Path(__file__).resolve().parents[1] / "results" / "{name}.md"
out.write_text("## {name} quick=" + str(args.quick) + "\\n")
'''


@pytest.fixture
def checkout(tmp_path):
    compare = tmp_path / "benchmarks" / "compare"
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    compare.mkdir()
    shutil_copy = (REPO / "benchmarks" / "compare" / "make_results.py").read_text()
    (compare / "make_results.py").write_text(shutil_copy)
    (compare / "_helper.py").write_text("raise SystemExit('helpers are not run')\n")
    for name in ("alpha", "beta"):
        (compare / f"{name}.py").write_text(SCRIPT.format(name=name))
    (compare / "failing.py").write_text("raise SystemExit(3)\n")
    (compare / "relative.py").write_text(  # writes relative to the working directory
        "open('benchmarks/results/relative.md', 'w').write('## relative\\n')\n")
    return tmp_path / "benchmarks"


def test_missing_checkout_is_a_clear_error(tmp_path, capsys):
    assert main(["benchmark", "--benchmarks", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "needs a source checkout" in err and "benchmarks/compare/make_results.py" in err
    with pytest.raises(FileNotFoundError, match="clone the repository"):
        cli.find_benchmarks(tmp_path)


def test_full_mode_runs_in_place_and_gathers(checkout):
    rows, results = cli.run_benchmarks(only=["alpha", "beta"], benchmarks=checkout,
                                       echo=lambda *a, **k: None)
    assert [(name, status) for name, _, _, status in rows] == [("alpha", "ok"), ("beta", "ok")]
    assert results == checkout / "RESULTS.md"
    text = results.read_text()
    assert "## alpha quick=False" in text and "## beta quick=False" in text


def test_quick_mode_stages_a_copy_and_reports_failures(checkout, tmp_path, capsys):
    out = tmp_path / "quick"
    status = main(["benchmark", "--quick", "--benchmarks", str(checkout), "--out-dir", str(out)])
    assert status == 1  # failing.py exits 3
    printed = capsys.readouterr().out
    assert "failing" in printed and "failed (exit 3)" in printed
    assert (out / "benchmarks" / "results" / "failing.log").exists()
    text = (out / "benchmarks" / "RESULTS.md").read_text()
    assert "## alpha quick=True" in text and "## beta quick=True" in text
    assert "## relative" in text
    assert not list((checkout / "results").glob("*.md"))  # the checkout's fragments untouched
    with pytest.raises(ValueError, match="must differ"):
        cli.run_benchmarks(quick=True, benchmarks=checkout, out_dir=checkout)


def test_every_real_comparison_has_a_quick_mode():
    benchmarks = cli.find_benchmarks(REPO / "benchmarks")
    scripts = cli.comparison_scripts(benchmarks)
    assert scripts and "make_results" not in {s.stem for s in scripts}
    missing = [s.stem for s in scripts if not cli.quick_args(s)]
    assert not missing, f"no --quick flag and no QUICK_ARGS entry: {missing}"
    for script in scripts:  # every option of a QUICK_ARGS entry is declared by its script
        source = script.read_text()
        for option in (a for a in cli.quick_args(script) if a.startswith("--")):
            assert f'"{option}"' in source, (script.stem, option)


def test_gpu_benchmark_exits_with_a_clear_message_without_cuda():
    """benchmarks/gpu.py on a machine without a CUDA device: status 1 and the reason."""
    import subprocess
    import sys

    try:
        import torch
        if torch.cuda.is_available():
            pytest.skip("a CUDA device is present: the script would run the benchmark")
        reason = "sees no CUDA device"
    except ImportError:
        reason = "torch is not installed"
    probe = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu.py"), "--only", "rpca"],
                           capture_output=True, text=True, timeout=300)
    assert probe.returncode == 1
    assert "needs torch with a CUDA device" in probe.stderr and reason in probe.stderr
    assert "--device cpu --quick" in probe.stderr  # says how to check the script anyway
