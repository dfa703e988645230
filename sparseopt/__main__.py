"""Command line: ``python -m sparseopt demo [--field NAME ...] [--wide]``, ``estimators`` and
``benchmark [--quick]``."""
import argparse
import importlib
import sys

#: one module per command, each defining ``add_parser(subparsers)``, which registers the
#: command and sets ``func(args) -> exit code``; a new command is one line here
COMMANDS = (
    "sparseopt.demo._command",
    "sparseopt.utils._estimators_command",
    "sparseopt._benchmark_cli",
)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sparseopt")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        importlib.import_module(module).add_parser(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
