"""The ``demo`` command of ``python -m sparseopt``."""
from ._runner import demo_fields, run_demo


def add_parser(subparsers):
    """Register ``demo`` on the ``python -m sparseopt`` parser."""
    parser = subparsers.add_parser(
        "demo", help="fit every capability on built-in data and print a table")
    parser.add_argument("--field", action="append", help="only this field (repeatable)")
    parser.add_argument("--wide", action="store_true", help="one unwrapped table at the end "
                        "instead of 120-column blocks per field")
    parser.set_defaults(func=lambda args: main(args, parser))
    return parser


def main(args, parser):
    """Run the demo; exit status 1 if any field's demo failed."""
    if args.field:
        unknown = sorted(set(args.field) - set(demo_fields()))
        if unknown:
            parser.error(f"unknown --field {', '.join(unknown)}; "
                         f"valid fields: {', '.join(demo_fields())}")
    _, failed = run_demo(args.field, wide=args.wide)
    return 1 if failed else 0
