"""Gather the public names of a package's private per-field modules."""
import importlib
import pkgutil


def collect_private_modules(package_name, package_path, namespace):
    """Import every ``_<field>.py`` module of a package and re-export its ``__all__``.

    Lets each field add its generators or metrics in its own module without
    editing the package's ``__init__``. Returns the sorted list of names.
    """
    names = []
    for info in pkgutil.iter_modules(package_path):
        if info.name.startswith("_") and not info.name.startswith("__"):
            module = importlib.import_module(f"{package_name}.{info.name}")
            for name in getattr(module, "__all__", []):
                namespace[name] = getattr(module, name)
                names.append(name)
    return sorted(names)
