"""Command line: ``python -m sparseopt demo [--field NAME ...] [--wide]`` and ``estimators``."""
import argparse
import sys


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sparseopt")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit every capability on built-in data and print a table")
    demo.add_argument("--field", action="append", help="only this field (repeatable)")
    demo.add_argument("--wide", action="store_true",
                      help="one unwrapped table at the end instead of 120-column blocks per field")
    sub.add_parser("estimators", help="list the registered estimators")
    from ._benchmark_cli import add_parser as add_benchmark_parser

    add_benchmark_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "benchmark":
        return args.func(args)
    if args.command == "estimators":
        import textwrap

        from .utils.discovery import all_estimators

        for _, cls in all_estimators():
            path = _public_path(cls)
            print(path)
            print(textwrap.fill(_summary(cls), 116, initial_indent="    ", subsequent_indent="    "))
        return 0
    from ._demo import demo_fields, run_demo

    if args.field:
        unknown = sorted(set(args.field) - set(demo_fields()))
        if unknown:
            parser.error(f"unknown --field {', '.join(unknown)}; valid fields: {', '.join(demo_fields())}")
    _, failed = run_demo(args.field, wide=args.wide)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
