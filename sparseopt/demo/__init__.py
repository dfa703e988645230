"""``python -m sparseopt demo``: fit every capability on built-in data and print a table.

One module per field (``sparseopt.demo.<field>``), each defining ``demo()``
that returns rows ``{"problem", "estimator", "metric", "value", "seconds",
"anchor", "anchor_value"}``; a new module here is picked up by
:func:`sparseopt.utils.discovery.all_demos`. The anchors (scikit-learn,
skglm, POT, dagma, tensorly) are imported here only, never by the library's
fields; the optional ones are imported when their demo runs and skipped when
absent.
"""
from ._runner import demo_fields, format_rows, format_table, run_demo

__all__ = ["demo_fields", "format_rows", "format_table", "run_demo"]
