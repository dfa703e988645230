"""``python -m sparseopt demo``: fit every capability on built-in data and print a table.

One module per field (``sparseopt.demo.<field>``), each defining ``demo()``
that returns rows ``{"problem", "estimator", "metric", "value", "seconds",
"anchor", "anchor_value"}``; a new module here is picked up by
:func:`all_demos`. The optional anchor libraries (skglm, POT, dagma,
tensorly) are imported here only, when their demo runs, and their rows are
left without an anchor when they are absent.
"""
from ._runner import all_demos, demo_fields, format_rows, format_table, run_demo

__all__ = ["all_demos", "demo_fields", "format_rows", "format_table", "run_demo"]
