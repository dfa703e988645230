"""The ``demo`` subcommand of ``python -m sparseopt``."""
from ._runner import demo_fields, run_demo

HELP = "fit every capability on built-in data and print a table"


def add_arguments(parser):
    parser.add_argument("--field", action="append", help="only this field (repeatable)")
    parser.add_argument("--wide", action="store_true", help="one unwrapped table at the end "
                        "instead of 120-column blocks per field")


def run(args, parser):
    """Exit code 1 if any field's demo failed."""
    if args.field:
        unknown = sorted(set(args.field) - set(demo_fields()))
        if unknown:
            parser.error(f"unknown --field {', '.join(unknown)}; "
                         f"valid fields: {', '.join(demo_fields())}")
    _, failed = run_demo(args.field, wide=args.wide)
    return 1 if failed else 0
