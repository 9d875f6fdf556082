"""Command line: ``python -m sciml {lineage,describe,validate} FILE...``."""

from __future__ import annotations

import argparse
import json
import sys

from sciml.errors import InputError
from sciml.io.netcdf import describe, format_tree, lineage_tree, tree_has_problems, validate_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sciml", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lineage", help="print the upstream tree of a result; flag changed inputs")
    p.add_argument("files", nargs="+")
    p.add_argument("--json", action="store_true", help="print the tree as JSON")
    p = sub.add_parser("describe", help="variables, units and provenance of a result file")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("validate", help="check result files against the lineage contract")
    p.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    status = 0
    for f in args.files:
        try:
            if args.command == "lineage":
                tree = lineage_tree(f)
                print(json.dumps(tree, indent=1) if args.json else format_tree(tree))
                status |= int(tree_has_problems(tree))
            elif args.command == "describe":
                print(describe(f))
            else:
                problems = validate_file(f)
                print(f"{f}: {'OK' if not problems else 'INVALID'}")
                for prob in problems:
                    print(f"  - {prob}")
                status |= int(bool(problems))
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status |= 2
    return status


if __name__ == "__main__":
    sys.exit(main())
