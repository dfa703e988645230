"""The results-fragment writer of the comparison scripts: a run never drops another run's section."""
import importlib.util
import json
import pathlib

import pytest

COMPARE = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "compare"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", COMPARE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sections():
    return _load("_sections")


def test_replace_section_keeps_the_other_sections_and_replaces_its_own(tmp_path, sections):
    path = tmp_path / "x.md"
    sections.replace_section(path, "a", "first a\n", header="# Title\n")
    sections.replace_section(path, "b", "only b\n", header="# Title\n")
    sections.replace_section(path, "a", "second a", header="# Title\n")
    text = path.read_text()
    assert text.startswith("# Title\n")
    assert "second a\n<!-- end: a -->" in text and "first a" not in text
    assert "<!-- section: b -->\nonly b\n<!-- end: b -->" in text
    assert text.index("section: a") < text.index("section: b")  # a keeps its place


def test_a_new_header_replaces_the_preamble_only(tmp_path, sections):
    path = tmp_path / "x.md"
    sections.replace_section(path, "a", "kept\n", header="# Old title\n")
    sections.replace_section(path, "b", "new\n", header="# New title\n")
    text = path.read_text()
    assert text.startswith("# New title\n") and "Old title" not in text
    assert "kept" in text and "new" in text


def test_run_stamps_the_machine_and_keeps_one_summary_entry_per_section(tmp_path, sections):
    path = tmp_path / "frag.md"
    run = sections.Run(str(COMPARE / "rpca.py"), ["--sizes", "10"], libraries=("numpy",),
                       threads=1)
    row = sections.summary_row("Cap", "problem", ("ours", 1.0, 1e-8), ("anchor", 4.0, 1e-6),
                               metric="error")
    run.write(path, "k1", "| table |", summary=[row])
    run.write(path, "k2", "| other |", summary=[row])
    text = path.read_text()
    assert "Command: `python benchmarks/compare/rpca.py --sizes 10`" in text
    for item in ("logical cores", "BLAS limited to 1 thread", "Load average", "numpy "):
        assert item in text
    sidecar = json.loads(sections.summary_path(path).read_text())
    assert list(sidecar) == ["k1", "k2"] and sidecar["k1"]["rows"] == [row]
    run.write(path, "k1", "| table again |")  # no rows: the stale headline goes
    assert list(json.loads(sections.summary_path(path).read_text())) == ["k2"]
    assert "| other |" in path.read_text()


def test_make_results_builds_the_summary_table_from_the_sidecars(tmp_path, sections):
    make_results = _load("make_results")
    path = tmp_path / "rpca.md"
    run = sections.Run(str(COMPARE / "rpca.py"), [], libraries=("numpy",))
    run.write(path, "sizes 10", "| t |", summary=[sections.summary_row(
        "Robust PCA", "n=10", ("ours", 0.5, 1e-8), ("tensorly", 2.0, 3e-6), metric="rel. error")])
    text, rows, fragments = make_results.build(tmp_path)
    assert rows == 1 and fragments == 1
    line = next(ln for ln in text.splitlines() if ln.startswith("| Robust PCA"))
    assert "ours: 0.5" in line and "tensorly: 2" in line and "| 0.25 |" in line
    assert "1e-08 / 3e-06" in line
