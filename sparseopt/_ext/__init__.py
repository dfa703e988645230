"""Compiled kernels (Cython extensions and ``@njit(cache=True)`` modules).

Kernels take contiguous arrays, scalars and output buffers; they hold no
estimator logic. Estimators reach them through ``sparseopt.optimize`` or their
own field's solver module.
"""
