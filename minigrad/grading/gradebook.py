"""The class gradebook: every worker's results merged into one nbgrader gradebook.

Workers grade in workspaces of their own, each with a private SQLite gradebook; the class
gradebook (SQLite under ``OUT`` by default, or any SQLAlchemy URL, such as a PostgreSQL
server shared with formgrader) receives the results afterwards, from the parent process
alone, so no two processes ever write to it at once.

Merging only sets what autograding owns: each test's ``auto_score`` and whether it needs a
manual grade.  Manual scores and comments made in formgrader survive a re-run, and running
the same grading twice leaves the gradebook as it was.  A notebook without a score
(crashed, invalid, missing) gets no automatic scores at all and every test marked for manual
grading, so nbgrader never shows it as an earned zero; it and every notebook that was not
plainly graded are flagged for review.
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict

from nbgrader.api import Gradebook

from .collect import STUDENT_ID
from .course import CourseError
from .results import GRADED, MISSING, NotebookResult


def database_url(url: str) -> str:
    """``url`` as SQLAlchemy should get it: plain ``postgresql://`` means the psycopg 2
    driver to SQLAlchemy, so it is pointed at psycopg 3 when only that one is installed."""
    if "://" not in url:
        raise CourseError(
            f"--db takes an SQLAlchemy URL such as postgresql+psycopg://user@host/course or "
            f"sqlite:////path/gradebook.db, not {url!r}"
        )
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        if importlib.util.find_spec("psycopg2") is None:
            if importlib.util.find_spec("psycopg") is None:
                raise CourseError(
                    "a PostgreSQL gradebook needs a driver: pip install 'minigrad-course[postgres]'"
                )
            return f"postgresql+psycopg://{rest}"
        return f"postgresql://{rest}"
    return url


def merge(db_url: str, course_id: str, results: list[NotebookResult]) -> None:
    """Write ``results`` into the class gradebook, one submission at a time."""
    by_submission: dict[tuple[str, str], list[NotebookResult]] = defaultdict(list)
    for result in results:
        by_submission[(result.student, result.assignment)].append(result)
    with Gradebook(db_url, course_id) as gradebook:
        for (student, assignment), notebooks in sorted(by_submission.items()):
            if all(r.status == MISSING for r in notebooks) or not STUDENT_ID.match(student):
                continue  # nothing handed in, or no id nbgrader could store
            gradebook.update_or_create_student(student)
            stamps = [r.submitted_at for r in notebooks if r.submitted_at]
            extra = {"timestamp": stamps[0]} if stamps else {}
            gradebook.update_or_create_submission(assignment, student, **extra)
            for result in notebooks:
                _record(gradebook, result)
            gradebook.db.commit()


def _record(gradebook: Gradebook, result: NotebookResult) -> None:
    record = gradebook.find_submission_notebook(result.notebook, result.assignment, result.student)
    scores = {t.name: t.score for t in result.tests} if result.scored else {}
    for grade in record.grades:
        if grade.name in scores:
            grade.auto_score = scores[grade.name]
            grade.needs_manual_grade = False
        else:
            grade.auto_score = None
            grade.needs_manual_grade = True
    if result.status != GRADED:
        record.flagged = True
