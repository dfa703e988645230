"""Command line: ``python -m sparseopt demo [--field NAME ...] [--wide]`` and ``estimators``."""
import argparse
import importlib
import sys

#: command -> module defining ``HELP``, ``add_arguments(parser)`` and ``run(args, parser)``
#: (which returns the exit code); a new command is one line here
COMMANDS = {
    "demo": "sparseopt.demo._command",
    "estimators": "sparseopt.utils._estimators_command",
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sparseopt")
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {name: importlib.import_module(path) for name, path in COMMANDS.items()}
    for name, command in commands.items():
        command.add_arguments(sub.add_parser(name, help=command.HELP))
    args = parser.parse_args(argv)
    return commands[args.command].run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
