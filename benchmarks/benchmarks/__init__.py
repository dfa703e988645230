"""asv benchmarks of sparseopt: one module per solver family (``bench_<field>.py``)."""
