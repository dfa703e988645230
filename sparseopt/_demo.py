"""``python -m sparseopt demo``: fit every registered capability on built-in data.

Each field contributes a ``sparseopt/<field>/_demo.py`` whose ``demo()``
returns rows ``{"problem", "estimator", "metric", "value", "seconds",
"anchor", "anchor_value"}``; this module runs them and prints one table.
"""
from __future__ import annotations

import math
import time
import traceback

from .utils.discovery import all_demos, all_estimators

COLUMNS = ("field", "problem", "estimator", "metric", "value", "seconds", "anchor", "anchor_value")


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}"
    return str(value)


def format_table(rows):
    """Render rows as a fixed-width text table."""
    cells = [[_fmt(row.get(c)) for c in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c)
              for i, c in enumerate(COLUMNS)]
    line = "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join([line, sep, *body])


def run_demo(fields=None, out=print):
    """Run the demos of ``fields`` (all by default); return ``(rows, n_failed)``."""
    rows, failed = [], 0
    demos = [(f, fn) for f, fn in all_demos() if fields is None or f in fields]
    out(f"sparseopt demo: {len(all_estimators())} registered estimators, "
        f"{len(demos)} capabilities with a demo")
    for field, demo in demos:
        start = time.perf_counter()
        try:
            for row in demo():
                rows.append({"field": field, **row})
        except Exception:  # report and keep going: one broken field must not hide the rest
            failed += 1
            out(f"[{field}] demo failed:\n{traceback.format_exc()}")
            rows.append({"field": field, "problem": "-", "estimator": "-", "metric": "FAILED",
                         "value": None, "seconds": time.perf_counter() - start})
    out(format_table(rows))
    return rows, failed
