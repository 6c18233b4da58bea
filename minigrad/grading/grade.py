"""``minigrad-course grade``: grade a whole class with nbgrader, and trust the result.

The steps, each in its own module:

1. collect.py   find ``<student>/<assignment>/<notebook>.ipynb`` (LMS zips collected first);
2. workspace.py set up nbgrader once (a template workspace, the class gradebook);
3. workspace.py ``--jobs`` worker processes, each with its own copy of the template, grade
                one student's assignment at a time (tamper.py, execute.py, kernel.py,
                feedback.py); a failure inside one submission stays in its rows;
4. gradebook.py merge every result into the class gradebook;
5. results.py   write ``grades.csv`` and ``tests.csv``; progress.py reports along the way.

Results do not depend on ``--jobs`` or on which worker graded what: every worker runs the
same configuration, and the tables are sorted.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from .collect import Unit, collect_zips, has_zips, plan
from .course import RELEASE, CourseError, assignments, notebooks
from .gradebook import ClassGradebook, database_url, write_review_config
from .kernel import Limits, write_kernelspec
from .progress import Progress
from .release import put_scripts_on_path
from .results import CRASHED, NotebookResult, write_grades, write_tests
from .workspace import (
    Options,
    Workspace,
    build_template,
    cell_timeout,
    course_config,
    quiet_nbgrader,
    sqlite_url,
)

# A worker process that dies (not a kernel: the grader itself) gets its submissions retried
# in a fresh process; a submission present at this many deaths is given up as crashed.
WORKER_DEATHS = 2


@dataclass(frozen=True)
class Settings:
    """Everything ``grade`` can be told, with the defaults the command line documents."""

    jobs: int = 1
    timeout: int | None = None  # seconds per cell; None: the course's nbgrader_config.py
    notebook_timeout: int | None = None  # None: five times the cell timeout
    db: str | None = None  # SQLAlchemy URL; None: SQLite in OUT
    assignments: tuple[str, ...] = ()  # () : every assignment found in the submissions
    limits: Limits = field(default_factory=Limits)


def grade(
    root: Path, submissions: Path, out: Path, settings: Settings = Settings(), *, stream=None
) -> list[NotebookResult]:
    """Grade every submission in ``submissions`` into ``out``; the results, one per notebook."""
    stream = stream or sys.stderr
    submissions, out = submissions.resolve(), out.resolve()
    if settings.jobs < 1:
        raise CourseError(f"--jobs must be at least 1, not {settings.jobs}")
    if out == submissions or out.is_relative_to(submissions):
        raise CourseError(f"--out {out} must not be inside the submissions ({submissions})")
    released = {a: tuple(p.stem for p in notebooks(root, RELEASE, a)) for a in assignments(root)}
    course = {a: names for a, names in released.items() if names}
    for wanted in assignments(root, list(settings.assignments)) if settings.assignments else []:
        if wanted not in course:
            raise CourseError(f"{wanted} is not released: run `minigrad-course release {wanted}`")
    out.mkdir(parents=True, exist_ok=True)

    if has_zips(submissions):
        for note in collect_zips(submissions, out / "collected", course):
            print(note, file=stream)
        submissions = out / "collected"
    work = plan(submissions, course, list(settings.assignments) or None)
    for warning in work.warnings:
        print(f"warning: {warning}", file=stream)

    base = course_config(root)
    timeout = settings.timeout or cell_timeout(base)
    notebook_timeout = settings.notebook_timeout or 5 * timeout
    db_url = database_url(settings.db) if settings.db else sqlite_url(out / "gradebook.db")
    put_scripts_on_path()  # nbgrader runs `alembic` by name when it creates a gradebook
    quiet_nbgrader()
    # Workspaces (gradebooks, hidden tests) live under OUT, away from the system temporary
    # folder where the kernels' sandboxes are made: walking up from a kernel's folder
    # never passes them.
    with tempfile.TemporaryDirectory(prefix=".grading-", dir=out) as scratch:
        scratch = Path(scratch)
        keep_away = (root.resolve(), out, submissions)
        options = Options(
            out, timeout, notebook_timeout, settings.limits, scratch / "jupyter", keep_away
        )
        write_kernelspec(options.jupyter_dir, settings.limits)
        print(
            f"setting up nbgrader for {', '.join(work.assignments)} "
            f"({len(work.units)} submission(s), {settings.jobs} job(s))",
            file=stream,
        )
        course_id = base.CourseDirectory.get("course_id", "default_course")
        gradebook = ClassGradebook(db_url, course_id)
        progress = Progress(len(work.units), stream)

        def prepare() -> None:
            build_template(root, work.assignments, scratch / "template", options, db_url)
            progress.restart()

        def record(done: list[NotebookResult]) -> None:
            gradebook.record(done)
            progress.update(done)

        try:
            results = _run(work.units, settings.jobs, (root, scratch, options), prepare, record)
        finally:
            gradebook.close()
    write_review_config(out, root, db_url, course_id)
    write_grades(out / "grades.csv", results)
    write_tests(out / "tests.csv", results)
    files = {
        "grades": str(out / "grades.csv"),
        "tests": str(out / "tests.csv"),
        "feedback": f"{out / 'feedback'} (for students)",
        "gradebook": _safe_url(db_url) if settings.db else str(out / "gradebook.db"),
        "review": f"{out / 'autograded'} (formgrader: run jupyter lab in {out})",
    }
    progress.summary(results, files)
    return results


def _run(units, jobs, worker_args, prepare, record) -> list[NotebookResult]:
    """Grade ``units`` in ``jobs`` worker processes, ``record``-ing each as it is done; a
    worker that dies is replaced.  ``prepare`` runs once, while the first workers start (they
    spend seconds importing nbgrader, in parallel with it)."""
    results: list[NotebookResult] = []
    deaths: dict[tuple[str, str], int] = {}
    pending = list(units)
    while pending:
        context = multiprocessing.get_context("spawn")
        workers = min(jobs, len(pending))
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=worker_args,
        ) as pool:
            if prepare is not None:
                started = [pool.submit(_started) for _ in range(workers)]
                prepare()
                for future in started:
                    future.result()
                prepare = None
            futures = {pool.submit(_grade_unit, unit): unit for unit in pending}
            pending = []
            for future in as_completed(futures):
                unit = futures[future]
                try:
                    done = future.result()
                except BrokenProcessPool:
                    deaths[unit.key] = deaths.get(unit.key, 0) + 1
                    if deaths[unit.key] < WORKER_DEATHS:
                        pending.append(unit)
                        continue
                    done = _failed(unit, "the grading process died while grading it, twice")
                except Exception as error:  # a bug of ours must not stop the class
                    done = _failed(unit, f"the grader failed: {type(error).__name__}: {error}")
                results += done
                record(done)
    return results


def _failed(unit: Unit, detail: str) -> list[NotebookResult]:
    return [
        NotebookResult(unit.student, unit.assignment, n, CRASHED, detail) for n in unit.notebooks
    ]


_worker: tuple[Path, Path, Options] | None = None
_workspace: Workspace | None = None


def _start_worker(root: Path, scratch: Path, options: Options) -> None:
    """Set up this worker process (nbgrader is imported with this module)."""
    global _worker
    jupyter_path = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(options.jupyter_dir), jupyter_path])
    )
    put_scripts_on_path()
    _worker = (root, scratch, options)


def _started() -> None:
    """Nothing: submitted once per worker, to have it start while the template is built."""


def _grade_unit(unit: Unit) -> list[NotebookResult]:
    """Grade one unit in this worker's workspace, a copy of the template made on first use."""
    global _workspace
    assert _worker is not None, "the worker was not started"
    if _workspace is None:
        root, scratch, options = _worker
        folder = Path(tempfile.mkdtemp(prefix="worker-", dir=scratch))
        shutil.copytree(scratch / "template", folder, dirs_exist_ok=True)
        _workspace = Workspace(folder, root, options)
    return _workspace.grade(unit)


def _safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url
