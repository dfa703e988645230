"""Array-namespace helpers: detection, device, explicit host round-trips.

Rules (those of scikit-learn's array API support, see its user guide
"Array API support (experimental)"):

* With scikit-learn's ``array_api_dispatch`` off (the default), every input is
  converted to NumPy, as scikit-learn does.
* With dispatch on (``sklearn.set_config(array_api_dispatch=True)``, which
  needs ``SCIPY_ARRAY_API=1`` exported before SciPy is imported), the
  namespace and device of X are used for everything, and mixing namespaces or
  devices raises a ``ValueError``.
* Compiled kernels cannot take device arrays: they go through
  :func:`to_numpy` and :func:`from_numpy` explicitly (never an implicit
  ``np.asarray``), and the estimator says so in its tags.
"""
from __future__ import annotations

import dataclasses

import array_api_compat
import array_api_compat.numpy as np_compat
import numpy as np
import sklearn
from sklearn.utils import Tags

__all__ = [
    "dispatch_enabled",
    "get_namespace",
    "get_namespace_and_device",
    "to_numpy",
    "from_numpy",
    "move_to",
    "same_namespace_and_device",
    "mark_host_roundtrip",
]


def dispatch_enabled():
    """Whether scikit-learn's ``array_api_dispatch`` is switched on."""
    return bool(sklearn.get_config().get("array_api_dispatch", False))


def _is_array(x):
    return x is not None and not isinstance(x, (int, float, complex, bool, str)) and (
        array_api_compat.is_array_api_obj(x)
    )


def get_namespace(*arrays):
    """Return ``(xp, is_array_api)`` for the given arrays.

    ``xp`` is ``array_api_compat.numpy`` when dispatch is off or all inputs are
    NumPy (or sparse / lists); otherwise the common namespace of the inputs.
    Raises ``ValueError`` when inputs mix namespaces.
    """
    arrays = [a for a in arrays if _is_array(a)]
    if not dispatch_enabled() or not arrays:
        return np_compat, False
    try:
        xp = array_api_compat.array_namespace(*arrays)
    except TypeError as exc:
        raise ValueError(
            "Inputs use different array namespaces "
            f"({sorted({type(a).__module__ for a in arrays})}); pass arrays from one "
            "library (e.g. all torch tensors or all NumPy arrays)."
        ) from exc
    if xp.__name__ in ("numpy", "array_api_compat.numpy"):
        return np_compat, False
    return xp, True


def _device(x):
    return array_api_compat.device(x)


def get_namespace_and_device(*arrays):
    """Return ``(xp, is_array_api, device)``; raise on mixed devices."""
    xp, is_array_api = get_namespace(*arrays)
    arrays = [a for a in arrays if _is_array(a)]
    if not is_array_api:
        return xp, False, "cpu"
    devices = [_device(a) for a in arrays]
    first = devices[0]
    for d in devices[1:]:
        if d != first:
            raise ValueError(
                f"Input arrays live on different devices ({first!r} and {d!r}); "
                "move them to one device first."
            )
    return xp, True, first


def same_namespace_and_device(reference, X, caller, name="X"):
    """Raise ``ValueError`` if ``X`` is not in ``reference``'s namespace/device.

    Used by ``predict``/``transform`` to compare the input with fitted
    attributes, following scikit-learn's "follow X" rule. ``caller`` names the
    method in the message, e.g. ``"Lasso.predict()"``.
    """
    if not dispatch_enabled():
        return
    xp_ref, ref_api, dev_ref = get_namespace_and_device(reference)
    xp_x, x_api, dev_x = get_namespace_and_device(X)
    if xp_ref.__name__ != xp_x.__name__ or (ref_api and dev_ref != dev_x):
        raise ValueError(
            f"{caller}: inputs must use the same namespace and device as the fitted "
            f"attributes; {name} is in {xp_x.__name__!r} on device {dev_x!r} but the "
            f"estimator was fitted on {xp_ref.__name__!r} on device {dev_ref!r}."
        )


def to_numpy(x, dtype=None):
    """Explicit host copy of any array-API array as a NumPy array.

    This is the documented host round-trip used before compiled kernels: it
    moves torch / CuPy / array-api-strict arrays to the CPU on purpose.
    """
    if x is None:
        return None
    if isinstance(x, np.ndarray) or not _is_array(x):
        out = np.asarray(x)
        return out if dtype is None else out.astype(dtype, copy=False)
    if array_api_compat.is_torch_array(x):
        out = x.detach().cpu().numpy()
    elif array_api_compat.is_cupy_array(x):
        out = x.get()
    elif array_api_compat.is_array_api_strict_namespace(array_api_compat.array_namespace(x)):
        import array_api_strict  # optional (a test dependency): present when its arrays are

        host = array_api_strict.asarray(x, device=array_api_strict.Device("CPU_DEVICE"), copy=True)
        out = np.asarray(host)
    else:
        out = np.from_dlpack(array_api_compat.to_device(x, "cpu"))
    return out if dtype is None else out.astype(dtype, copy=False)


def from_numpy(a, xp, device=None):
    """Move a NumPy result back to namespace ``xp`` on ``device``."""
    if a is None:
        return None
    if xp is np_compat or getattr(xp, "__name__", "") in ("numpy", "array_api_compat.numpy"):
        return np.asarray(a)
    if device is None:
        return xp.asarray(a)
    return xp.asarray(a, device=device)


def move_to(x, xp, device):
    """Move an array of any namespace to ``(xp, device)`` (host round-trip if needed)."""
    if x is None:
        return None
    xp_x, is_api = get_namespace(x)
    if xp_x.__name__ == getattr(xp, "__name__", None) and (not is_api or _device(x) == device):
        return x
    return from_numpy(to_numpy(x), xp, device)


@dataclasses.dataclass(slots=True)
class HostRoundtripTags(Tags):
    """scikit-learn ``Tags`` plus ``array_api_host_roundtrip``.

    ``array_api_host_roundtrip=True`` says that the estimator accepts arrays
    of any namespace (``array_api_support=True``) but runs a compiled kernel
    on a host (NumPy) copy, then moves its results back to X's namespace and
    device.
    """

    array_api_host_roundtrip: bool = True


def mark_host_roundtrip(tags):
    """Return ``tags`` as :class:`HostRoundtripTags` with array-API support on."""
    values = {f.name: getattr(tags, f.name) for f in dataclasses.fields(tags)}
    values["array_api_support"] = True
    return HostRoundtripTags(**values, array_api_host_roundtrip=True)
