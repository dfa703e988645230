"""Run the field demos one after the other and print their rows as tables.

Each field's rows are printed as soon as they are ready, in at most 120
columns (``wide=True``: one unwrapped table at the end). The kernels are
compiled ahead of time, so the seconds are fit times, first fits included.
"""
from __future__ import annotations

import importlib
import math
import pkgutil
import textwrap
import time
import traceback

from ..utils.discovery import all_estimators

COLUMNS = ("field", "problem", "estimator", "metric", "value", "seconds", "anchor", "anchor_value")
# narrow layout: (column, width); the anchor's description goes on its own line
_NARROW = (("problem", 28), ("estimator", 28), ("metric", 24), ("value", 10), ("seconds", 8),
           ("anchor_value", 12))
MAX_WIDTH = 120


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}"
    return str(value)


def format_table(rows):
    """Render rows as one fixed-width text table (the ``--wide`` layout)."""
    cells = [[_fmt(row.get(c)) for c in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c)
              for i, c in enumerate(COLUMNS)]
    line = "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join([line, sep, *body])


def format_rows(rows):
    """Render rows in at most 120 columns: long cells wrap, the anchor's name gets its own line."""
    header = "  ".join(name.replace("_", " ").ljust(w) for name, w in _NARROW).rstrip()
    lines = [header, "  ".join("-" * w for _, w in _NARROW)]
    for row in rows:
        wrapped = [textwrap.wrap(_fmt(row.get(name)), w, break_long_words=True) or ["-"]
                   for name, w in _NARROW]
        for k in range(max(len(c) for c in wrapped)):
            lines.append("  ".join((c[k] if k < len(c) else "").ljust(w)
                                   for c, (_, w) in zip(wrapped, _NARROW)).rstrip())
        if row.get("anchor"):
            lines.extend(textwrap.wrap(f"anchor: {row['anchor']}", MAX_WIDTH,
                                       initial_indent="    ", subsequent_indent="      "))
    return "\n".join(lines)


def all_demos():
    """List ``(field, demo_function)`` from every ``sparseopt.demo.<field>`` module, by name."""
    package = importlib.import_module(__package__)
    return [(info.name, importlib.import_module(f"{__package__}.{info.name}").demo)
            for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_")]


def demo_fields():
    """Names of the fields that contribute a demo."""
    return [field for field, _ in all_demos()]


def run_demo(fields=None, out=print, wide=False):
    """Run the demos of ``fields`` (all by default); return ``(rows, n_failed)``.

    Raises
    ------
    ValueError
        If a requested field has no demo; the message lists the valid fields.
    """
    available = all_demos()
    valid = [f for f, _ in available]
    if fields is not None:
        unknown = [f for f in fields if f not in valid]
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; valid fields: {', '.join(valid)}")
    demos = [(f, fn) for f, fn in available if fields is None or f in fields]
    out(f"sparseopt demo: {len(all_estimators())} registered estimators, "
        f"{len(demos)} capabilities with a demo")
    rows, failed = [], 0
    for field, demo in demos:
        start = time.perf_counter()
        field_rows = []
        try:
            for row in demo():
                field_rows.append({"field": field, **row})
        except Exception:  # report and keep going: one broken field must not hide the rest
            failed += 1
            out(f"[{field}] demo failed:\n{traceback.format_exc()}")
            field_rows.append({"field": field, "problem": "-", "estimator": "-",
                               "metric": "FAILED", "value": None,
                               "seconds": time.perf_counter() - start})
        rows.extend(field_rows)
        if wide:
            continue
        out("")
        out(f"== {field}: {len(field_rows)} rows in {time.perf_counter() - start:.1f} s")
        out(format_rows(field_rows))
    if wide:
        out(format_table(rows))
    return rows, failed
