"""Command line: ``python -m sparseopt demo [--field NAME ...]``."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sparseopt")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit every capability on built-in data and print a table")
    demo.add_argument("--field", action="append", help="only this field (repeatable)")
    sub.add_parser("estimators", help="list the registered estimators")
    args = parser.parse_args(argv)
    if args.command == "estimators":
        from .utils.discovery import all_estimators

        for name, cls in all_estimators():
            print(f"{name:32s} {cls.__module__}")
        return 0
    from ._demo import run_demo

    _, failed = run_demo(args.field)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
