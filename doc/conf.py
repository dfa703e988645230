"""Sphinx configuration for sparseopt.

The API reference (``api.rst``) is generated at build time from the estimator
registry (``sparseopt.utils.discovery``) and the ``__all__`` of every public
subpackage, so a new estimator appears without editing the docs.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import sparseopt  # noqa: E402

project = "sparseopt"
author = "the sparseopt developers"
copyright = "2026, the sparseopt developers"
release = version = sparseopt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "**/sg_execution_times.rst"]
html_theme = "alabaster"
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
suppress_warnings = ["config.cache"]
nitpicky = False

sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "write_computation_times": False,
}

_SUBPACKAGES = ["linear_model", "optimize", "semi_supervised", "privacy", "bayes",
                "decomposition", "causal", "transport", "cluster", "datasets", "metrics", "utils"]


def _write_api_reference():
    """Write api.rst: one autosummary table per subpackage, from ``__all__``."""
    import importlib

    from sparseopt.utils.discovery import all_estimators

    registered = {name for name, _ in all_estimators()}
    lines = ["API reference", "=============", "",
             f"{len(registered)} estimators are registered; each passes the common tests.", ""]
    for sub in _SUBPACKAGES:
        module = importlib.import_module(f"sparseopt.{sub}")
        names = sorted(n for n in getattr(module, "__all__", []) if not n.startswith("_"))
        title = f"``sparseopt.{sub}``"
        lines += [title, "-" * len(title), "", (module.__doc__ or "").strip().splitlines()[0], ""]
        if not names:
            lines += ["(nothing public yet)", ""]
            continue
        lines += [f".. currentmodule:: sparseopt.{sub}", "", ".. autosummary::",
                  "   :toctree: generated/", ""]
        lines += [f"   {n}" for n in names] + [""]
    text = "\n".join(lines)
    target = HERE / "api.rst"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


# written at import time: Sphinx lists the source files before any event fires
_write_api_reference()
