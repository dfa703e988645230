"""Registry, result object, demo runner and documentation build."""
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from sparseopt.optimize import SolverResult
from sparseopt.demo import all_demos
from sparseopt.utils.discovery import all_estimators, expected_failed_checks

ROOT = Path(__file__).resolve().parents[1]


def test_registry_lists_public_estimators_once():
    estimators = all_estimators()
    names = [n for n, _ in estimators]
    assert names == sorted(set(names))
    assert "Lasso" in names
    for name, cls in estimators:
        assert issubclass(cls, BaseEstimator) and not name.startswith("_")
    regressors = dict(all_estimators(type_filter="regressor"))
    assert "Lasso" in regressors
    with pytest.raises(ValueError, match="type_filter"):
        all_estimators(type_filter="unknown")


def test_every_registered_class_is_exported_from_its_subpackage():
    import importlib

    for name, cls in all_estimators():
        sub = cls.__module__.split(".")[1]
        assert name in importlib.import_module(f"sparseopt.{sub}").__all__


def test_expected_failed_checks_read_from_class():
    class _E(BaseEstimator):
        _expected_failed_checks = {"check_x": "because of a documented reason"}

    assert expected_failed_checks(_E()) == {"check_x": "because of a documented reason"}


def test_solver_result_behaves_like_optimize_result():
    res = SolverResult(x=np.ones(2), n_iter=4, converged=False, certificate=0.5,
                       certificate_name="duality gap", tol=1e-3)
    assert res.n_iter == 4 and res["n_iter"] == 4 and not res.success
    assert "did not converge" in res.message and "duality gap" in res.message
    assert res.history == []
    res.extra = 3
    assert res["extra"] == 3
    with pytest.raises(AttributeError):
        res.missing
    restored = pickle.loads(pickle.dumps(res))
    assert restored.n_iter == 4 and isinstance(restored, SolverResult)
    assert "n_iter" in repr(res)


def test_demo_runs_every_registered_capability_and_prints_a_table(capsys):
    from sparseopt.__main__ import main

    rc = main(["demo"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "problem" in out and "estimator" in out
    for field, _ in all_demos():
        assert f"== {field}:" in out
    # fits a terminal
    assert max(len(line) for line in out.splitlines()) <= 120


def test_demo_rejects_an_unknown_field_with_the_valid_list(capsys):
    from sparseopt.__main__ import main

    with pytest.raises(SystemExit):
        main(["demo", "--field", "nonexistent"])
    err = capsys.readouterr().err
    assert "nonexistent" in err
    for field, _ in all_demos():
        assert field in err


def test_demo_wrapped_rows_keep_every_value():
    from sparseopt.demo import format_rows

    row = {"problem": "a problem whose description is much longer than its column",
           "estimator": "Est(alpha=1)", "metric": "m", "value": 0.125, "seconds": 1.5,
           "anchor": "the anchor library's long description " * 4, "anchor_value": 0.25}
    text = format_rows([row])
    assert max(len(line) for line in text.splitlines()) <= 120
    flat = " ".join(text.split())
    assert "longer than its column" in flat and "0.125" in flat and "0.25" in flat


def test_demo_command_line_lists_estimators():
    out = subprocess.run([sys.executable, "-m", "sparseopt", "estimators"], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    lines = out.splitlines()
    # public import path, then a one-line description
    assert "sparseopt.linear_model.Lasso" in lines
    described = lines[lines.index("sparseopt.linear_model.Lasso") + 1]
    assert described.startswith("    ") and len(described.split()) >= 3


def test_readme_commands_and_ci_agree():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = readme.split("<!-- test-command -->")[1].split("```bash\n")[1].split("\n")[0]
    assert "pytest" in test_cmd and "-rs" in test_cmd and "SCIPY_ARRAY_API=1" in test_cmd
    assert "<!-- test-command -->" in ci and "SCIPY_ARRAY_API=1" in ci
    demo_cmd = readme.split("<!-- demo-command -->")[1].split("```bash\n")[1].split("\n")[0]
    assert "python -m sparseopt demo" in demo_cmd
    # the two commands open the README
    assert readme.index("<!-- demo-command -->") < readme.index("## Quickstart")


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx_gallery", reason="docs extras ([doc]) not installed")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
         "-D", "plot_gallery=0", str(ROOT / "doc"), str(tmp_path / "html")],
        capture_output=True, text=True, cwd=ROOT / "doc")
    assert build.returncode == 0, build.stdout + build.stderr
    assert (tmp_path / "html" / "api.html").exists()
