"""The demo lives in one package above the library: one module per field, anchors there only."""
import ast
from pathlib import Path

import pytest

import sparseopt
from sparseopt.demo import all_demos

PACKAGE = Path(sparseopt.__file__).resolve().parent
# libraries that the demo compares against and the library itself never needs
ANCHORS = ("skglm", "ot", "dagma", "tensorly")


def _imported_top_names(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_one_demo_module_per_field_and_none_inside_the_fields():
    fields = [field for field, _ in all_demos()]
    assert fields == sorted(p.stem for p in (PACKAGE / "demo").glob("[!_]*.py"))
    assert {"linear_model", "causal", "transport", "decomposition"} <= set(fields)
    assert not sorted(PACKAGE.glob("*/_demo.py")) and not (PACKAGE / "_demo.py").exists()
    for field in fields:
        assert (PACKAGE / field / "__init__.py").exists(), f"demo module {field} names no field"


def test_anchor_libraries_are_imported_by_the_demo_only():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if (PACKAGE / "demo") in path.parents:
            continue
        found = _imported_top_names(path) & set(ANCHORS)
        if found:
            offenders[str(path.relative_to(PACKAGE.parent))] = sorted(found)
    assert not offenders, f"anchor libraries imported outside sparseopt/demo: {offenders}"


def test_a_field_demo_returns_rows_with_every_column():
    from sparseopt.demo import privacy  # the fastest field

    rows = privacy.demo()
    assert rows
    for row in rows:
        assert set(row) == {"problem", "estimator", "metric", "value", "seconds", "anchor",
                            "anchor_value"}
        assert isinstance(row["value"], float)


def test_run_demo_rejects_an_unknown_field_and_reports_a_failing_one(monkeypatch):
    from sparseopt.demo import _runner, run_demo

    with pytest.raises(ValueError, match="valid fields: bayes"):
        run_demo(["nonexistent"])

    def broken():
        raise RuntimeError("planted failure")

    monkeypatch.setattr(_runner, "all_demos", lambda: [("broken", broken)])
    lines = []
    rows, failed = run_demo(out=lines.append)
    assert failed == 1 and rows[0]["metric"] == "FAILED"
    assert any("planted failure" in line for line in lines)


def test_command_table_dispatches_each_subcommand():
    from sparseopt.__main__ import COMMANDS, main

    assert {"sparseopt.demo._command", "sparseopt.utils._estimators_command"} <= set(COMMANDS)
    with pytest.raises(SystemExit):
        main(["demo", "--field", "nonexistent"])
