"""The ``minigrad-course`` command: ``release`` and ``check`` for instructors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .course import CourseError, assignments, find_root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="minigrad-course", description="Instructor tools for the minigrad course."
    )
    parser.add_argument(
        "--root", type=Path, help="the course root (default: found from the current folder)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    release_cmd = commands.add_parser(
        "release", help="regenerate course/ (student notebooks) from solutions/"
    )
    release_cmd.add_argument("assignments", nargs="*", help="e.g. 01_derivatives (default: all)")
    check_cmd = commands.add_parser(
        "check",
        help="check that course/ is in sync, leaks nothing, and grades to full and zero marks",
    )
    check_cmd.add_argument("assignments", nargs="*", help="e.g. 01_derivatives (default: all)")
    args = parser.parse_args(argv)

    try:
        root = args.root.resolve() if args.root else find_root()
        chosen = assignments(root, args.assignments)
        if not chosen:
            raise CourseError(f"no assignments found in {root / 'solutions'}")
        if args.command == "release":
            from .release import release

            release(root, chosen)
            return 0
        from .check import check

        problems = check(root, chosen)
    except CourseError as error:
        print(f"minigrad-course: {error}", file=sys.stderr)
        return 2
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"all {len(chosen)} assignment(s) check out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
