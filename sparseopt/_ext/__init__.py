"""Compiled kernels (Cython extensions, with hand-written C in ``src/``).

Kernels take contiguous arrays, scalars and output buffers; they hold no
estimator logic. Estimators reach them through ``sparseopt.optimize`` or their
own field's solver module. Everything here is compiled ahead of time, so a
first call costs no compilation.
"""
