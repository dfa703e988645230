"""The ``estimators`` subcommand of ``python -m sparseopt``: public path and summary of each."""
import sys
import textwrap

from .discovery import all_estimators

HELP = "list the registered estimators"


def _summary(cls):
    """First sentence of a class docstring."""
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(doc.split())


def _public_path(cls):
    """Shortest public import path, e.g. ``sparseopt.linear_model.Lasso``."""
    parts = cls.__module__.split(".")
    for k in range(2, len(parts) + 1):
        module = sys.modules.get(".".join(parts[:k]))
        if module is not None and getattr(module, cls.__name__, None) is cls:
            return f"{'.'.join(parts[:k])}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__name__}"


def add_arguments(parser):
    pass


def run(args, parser):
    for _, cls in all_estimators():
        print(_public_path(cls))
        print(textwrap.fill(_summary(cls), 116, initial_indent="    ", subsequent_indent="    "))
    return 0
