"""``minigrad-course grade``: grade a whole class with nbgrader, and trust the result.

``grade`` takes the class along the flow, each step in a module of its own:

1. collect.py         find ``<student>/<assignment>/<notebook>.ipynb`` (LMS zips collected
                      first): a unit of work per student and assignment;
2. nbgrader_setup.py  set nbgrader up once: a template workspace, the class gradebook;
3. workers.py         ``--jobs`` worker processes grade one unit at a time, each start to end
                      (submission.py: tamper, run, verdict, feedback); a failure inside one
                      submission stays in its rows;
4. gradebook.py       merge every result into the class gradebook; out.py moves each
                      submission's files into OUT; results.py writes ``grades.csv`` and
                      ``tests.csv``; progress.py reports along the way.

Results do not depend on ``--jobs`` or on which worker graded what: every worker runs the
same configuration, and the tables are sorted.

Nothing reaches ``OUT`` before the whole class is graded (workers write into a staging
folder), so a run stopped by SIGTERM or Ctrl-C (signals.py) leaves the previous results as
they were, and no process or scratch folder behind (scratch.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..course import RELEASE, CourseError, assignments, notebooks
from .collect import Unit, collect_zips, has_zips, plan
from .gradebook import (
    ClassGradebook,
    database_url,
    sqlite_url,
    without_password,
    write_review_config,
)
from .nbgrader_setup import build_template, course_config, set_up_run
from .out import check_out_folder, move_into_out
from .progress import Progress
from .results import NotebookResult, write_grades, write_tests
from .run import bubblewrap
from .run.kernel import Limits
from .scratch import scratch_folders
from .signals import Interrupted, Signals
from .submission import not_graded
from .workers import grade_units


@dataclass(frozen=True)
class Settings:
    """Everything ``grade`` can be told, with the defaults the command line documents."""

    jobs: int = 1
    timeout: int | None = None  # seconds per cell; None: the course's nbgrader_config.py
    notebook_timeout: int | None = None  # None: five times the cell timeout
    db: str | None = None  # SQLAlchemy URL; None: SQLite in OUT
    assignments: tuple[str, ...] = ()  # () : every assignment found in the submissions
    limits: Limits = field(default_factory=Limits)  # CPU seconds None: the notebook timeout
    sandbox: str = "auto"  # bwrap, none, or auto: bwrap where it works (run/bubblewrap.py)


def grade(
    root: Path, submissions: Path, out: Path, settings: Settings = Settings(), *, stream=None
) -> list[NotebookResult]:
    """Grade every submission in ``submissions`` into ``out``; the results, one per notebook.

    SIGTERM or SIGINT (Ctrl-C) ends the run cleanly: its workers and their kernels are
    stopped, its scratch folders removed and OUT left with the previous results; then the
    signal does what it would have done here (KeyboardInterrupt, or the end of the process).
    """
    stream = stream or sys.stderr
    with Signals() as signals:
        try:
            return _grade(root, submissions, out, settings, stream, signals)
        except Interrupted as interruption:
            print(f"\n{interruption}", file=stream)
    signals.deliver()  # after the cleanup, as if no handler had been there
    raise KeyboardInterrupt  # a handler of the caller's took the signal: the run is over


def _grade(
    root: Path, submissions: Path, out: Path, settings: Settings, stream, signals: Signals
) -> list[NotebookResult]:
    submissions, out = submissions.resolve(), out.resolve()
    if settings.jobs < 1:
        raise CourseError(f"--jobs must be at least 1, not {settings.jobs}")
    check_out_folder(root, submissions, out)  # before anything is written: OUT is emptied
    try:
        sandbox, sandbox_note = bubblewrap.choose(settings.sandbox)
    except (ValueError, RuntimeError) as error:
        raise CourseError(str(error)) from None
    if sandbox_note:
        print(f"warning: {sandbox_note}", file=stream)
    base = course_config(root)
    released = {a: tuple(p.stem for p in notebooks(root, RELEASE, a)) for a in assignments(root)}
    course = {a: names for a, names in released.items() if names}
    for wanted in assignments(root, list(settings.assignments)) if settings.assignments else []:
        if wanted not in course:
            raise CourseError(f"{wanted} is not released: run `minigrad-course release {wanted}`")
    out.mkdir(parents=True, exist_ok=True)

    # 1. Collect: a unit of work per student and assignment.
    if has_zips(submissions):
        for note in collect_zips(submissions, out / "collected", course):
            print(note, file=stream)
        submissions = out / "collected"
    work = plan(submissions, course, list(settings.assignments) or None)
    for warning in work.warnings:
        print(f"warning: {warning}", file=stream)

    db_url = database_url(settings.db) if settings.db else sqlite_url(out / "gradebook.db")
    keep_away = (root.resolve(), out, submissions)
    # Workspaces (gradebooks, hidden tests) live under OUT, away from the folder where the
    # kernels' sandboxes are made: walking up from a kernel's folder never passes them.
    with scratch_folders(out, keep_away, stream) as (scratch, kernels):
        # 2. nbgrader, set up once (while the first workers start), and 3. the workers.
        options = set_up_run(
            base,
            scratch,
            keep_away,
            settings.timeout,
            settings.notebook_timeout,
            settings.limits,
            sandbox,
        )
        print(
            f"setting up nbgrader for {', '.join(work.assignments)} "
            f"({len(work.units)} submission(s), {settings.jobs} job(s))",
            file=stream,
        )
        course_id = base.CourseDirectory.get("course_id", "default_course")
        progress = Progress(len(work.units), stream)

        def prepare() -> None:
            with signals.held(written=False):  # nbgrader takes an interruption for a failure
                build_template(root, work.assignments, scratch / "template", options, db_url)
            progress.restart()

        def give_up(unit: Unit, detail: str, log: str) -> list[NotebookResult]:
            return not_graded(root, options.staging, unit, detail, log)

        results = grade_units(
            work.units,
            settings.jobs,
            kernels,
            (root, scratch / "template", options),
            options.notebook_timeout,
            prepare,
            give_up,
            progress.update,
        )
        # 4. Into OUT all at once: an interruption now would leave half the class new.
        with signals.held(written=True):
            gradebook = ClassGradebook(db_url, course_id)
            try:
                gradebook.record(results)
            finally:
                gradebook.close()
            for unit in work.units:
                move_into_out(options.staging, out, unit)
            write_review_config(out, root, db_url, course_id)
            write_grades(out / "grades.csv", results)
            write_tests(out / "tests.csv", results)
            write_run_notes(out, [sandbox_note] if sandbox_note else [])
    files = {
        "grades": str(out / "grades.csv"),
        "tests": str(out / "tests.csv"),
        "feedback": f"{out / 'feedback'} (for students)",
        "gradebook": without_password(db_url) if settings.db else str(out / "gradebook.db"),
        "review": f"{out / 'autograded'} (formgrader: run jupyter lab in {out})",
    }
    if sandbox_note:
        files["notes"] = str(out / RUN_NOTES)
    progress.summary(results, files)
    if sandbox_note:
        print(f"warning: {sandbox_note}", file=stream)
    return results


RUN_NOTES = "run-notes.txt"


def write_run_notes(out: Path, notes: list[str]) -> None:
    """What the instructor must know about how the last run graded (today: that it went
    without the sandbox), in ``OUT/run-notes.txt``; no file when there is nothing to say."""
    path = out / RUN_NOTES
    if notes:
        path.write_text("".join(f"{note}\n" for note in notes), encoding="utf-8")
    else:
        path.unlink(missing_ok=True)
