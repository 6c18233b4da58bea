"""The ``minigrad-course`` command: ``release``, ``check``, ``publish`` and ``grade`` for
instructors."""

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
    publish_cmd = commands.add_parser(
        "publish",
        help="write the student edition (no solutions, hidden tests or tools) as a git repository",
        description="Write the student edition into DEST: a new git repository, or a clone of "
        "the published one, which gets one commit. See docs/instructors.md.",
    )
    publish_cmd.add_argument("dest", type=Path, help="the edition's repository")
    publish_cmd.add_argument(
        "--remote", help="where students clone it from (its URL sets the README's Binder badge)"
    )
    publish_cmd.add_argument("--branch", default="main", help="the branch to publish to (main)")
    _add_grade_command(commands)
    args = parser.parse_args(argv)

    try:
        root = args.root.resolve() if args.root else find_root()
        if args.command == "grade":
            return _grade(root, args)
        if args.command == "publish":
            from .publish import publish, summary

            print(summary(publish(root, args.dest, remote=args.remote, branch=args.branch)))
            return 0
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


def _add_grade_command(commands) -> None:
    grade_cmd = commands.add_parser(
        "grade",
        help="autograde a class: grades.csv, tests.csv, feedback and the gradebook in OUT",
        description="Grade SUBMISSIONS (<student_id>/<assignment>/<notebook>.ipynb, or a folder "
        "of LMS zip downloads) with nbgrader, every kernel under limits and in a folder of "
        "its own. See docs/instructors.md.",
    )
    grade_cmd.add_argument("submissions", type=Path, help="the folder of submissions")
    grade_cmd.add_argument("--out", type=Path, required=True, help="where results go")
    grade_cmd.add_argument("--jobs", type=int, default=1, help="submissions graded at once (1)")
    grade_cmd.add_argument(
        "--timeout", type=int, help="seconds a cell may run (default: nbgrader_config.py's)"
    )
    grade_cmd.add_argument(
        "--notebook-timeout", type=int, help="seconds a whole notebook may run (5x --timeout)"
    )
    grade_cmd.add_argument(
        "--db", help="the gradebook as an SQLAlchemy URL (default: SQLite in OUT)"
    )
    grade_cmd.add_argument(
        "--assignment",
        action="append",
        default=[],
        help="grade only this assignment (repeat for more; default: every one submitted)",
    )
    grade_cmd.add_argument(
        "--memory", type=_size, default="2G", help="memory cap per kernel (2G; M and K too)"
    )
    grade_cmd.add_argument(
        "--cpu-time", type=int, help="CPU seconds per kernel (default: --notebook-timeout)"
    )
    grade_cmd.add_argument(
        "--processes", type=int, default=64, help="processes a kernel may start (64)"
    )
    grade_cmd.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "none"),
        default="auto",
        help="each kernel in a bubblewrap sandbox: bwrap (required), none, or auto (the "
        "default: bwrap where it works, else the limits alone, said once)",
    )


def _size(text: str) -> int:
    """A size such as 2G, 512M or 1048576 (bytes), for --memory."""
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    try:
        if text[-1:].upper() in units:
            return int(float(text[:-1]) * units[text[-1].upper()])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 2G or 512M)") from None


def _grade(root: Path, args: argparse.Namespace) -> int:
    from .grading.pipeline import Settings, grade
    from .grading.run.kernel import Limits

    for name in ("jobs", "timeout", "notebook_timeout", "cpu_time", "processes"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CourseError(f"--{name.replace('_', '-')} must be at least 1, not {value}")
    settings = Settings(
        jobs=args.jobs,
        timeout=args.timeout,
        notebook_timeout=args.notebook_timeout,
        db=args.db,
        assignments=tuple(args.assignment),
        limits=Limits(memory=args.memory, cpu_seconds=args.cpu_time, processes=args.processes),
        sandbox=args.sandbox,
    )
    try:
        grade(root, args.submissions, args.out, settings)
    except KeyboardInterrupt:  # Ctrl-C: grade() has cleaned up and said so
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
