"""The array namespaces the array-API tests run on (shared by the test modules)."""
import pytest


def namespace_params(include_numpy=False):
    """pytest params ``(library name, device name)``: NumPy (optionally), array-api-strict on
    its CPU device and its second device ``device1``, torch on the CPU; each library that is
    not installed gives one skipped param saying so."""
    out = [pytest.param(("numpy", None), id="numpy")] if include_numpy else []
    try:
        import array_api_strict  # noqa: F401

        out += [pytest.param(("array_api_strict", "CPU_DEVICE"), id="strict-cpu"),
                pytest.param(("array_api_strict", "device1"), id="strict-device1")]
    except ImportError:
        out += [pytest.param(None, marks=pytest.mark.skip(reason="array-api-strict not installed"))]
    try:
        import torch  # noqa: F401

        out += [pytest.param(("torch", "cpu"), id="torch-cpu")]
    except ImportError:
        out += [pytest.param(None, marks=pytest.mark.skip(reason="torch not installed"))]
    return out
