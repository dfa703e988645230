"""The ``estimators`` command of ``python -m sparseopt``: public path and summary of each."""
import sys
import textwrap

from .discovery import all_estimators

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


def add_parser(subparsers):
    """Register ``estimators`` on the ``python -m sparseopt`` parser."""
    parser = subparsers.add_parser("estimators", help="list the registered estimators")
    parser.set_defaults(func=main)
    return parser


def main(args):
    """Print each estimator's public import path, then its one-line summary."""
    for _, cls in all_estimators():
        print(_public_path(cls))
        print(textwrap.fill(_summary(cls), 116, initial_indent="    ", subsequent_indent="    "))
    return 0
