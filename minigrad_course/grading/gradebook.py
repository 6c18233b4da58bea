"""The class gradebook: every worker's results merged into one nbgrader gradebook.

Workers grade in workspaces of their own, each with a private SQLite gradebook; the class
gradebook (SQLite under ``OUT`` by default, or any SQLAlchemy URL, such as a PostgreSQL
server shared with formgrader) receives every submission's results once the class is
graded, from the parent process alone, so no two processes ever write to it at once.

Merging only sets what autograding owns: each test's ``auto_score`` and whether it needs a
manual grade.  A notebook without a score (crashed, invalid, missing) gets no automatic
scores at all and every test marked for manual grading, so nbgrader never shows it as an
earned zero; it and every notebook that was not plainly graded are flagged for review.

A re-run respects the review.  Manual scores and comments made in formgrader are never
touched, and where a test's automatic score is the same as before, so is what the
instructor decided about it: a test graded by hand stays graded, a flag taken down stays
down.  Only a changed automatic score asks again, as nbgrader's own autograde does: a test
with a manual score is marked for manual grading once more (the manual score, which
nbgrader counts instead of the automatic one, may be out of date), and a notebook that was
not plainly graded is flagged again.  So running the same grading twice leaves the
gradebook as it was.
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..course import CONFIG_FILE, RELEASE, SOURCE, CourseError
from .collect import STUDENT_ID
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


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def without_password(url: str) -> str:
    """The database URL without its password, for printing."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


class ClassGradebook:
    """The class gradebook, opened on the first results (by then the grading set-up has
    created it) and given each submission's results as soon as they are in."""

    def __init__(self, db_url: str, course_id: str):
        self.db_url = db_url
        self.course_id = course_id
        self._gradebook: Gradebook | None = None

    def record(self, results: list[NotebookResult]) -> None:
        """Record every submission among ``results`` (usually one student's assignment)."""
        if self._gradebook is None:
            self._gradebook = Gradebook(self.db_url, self.course_id)
        by_submission: dict[tuple[str, str], list[NotebookResult]] = defaultdict(list)
        for result in results:
            by_submission[(result.student, result.assignment)].append(result)
        for (student, assignment), notebooks in sorted(by_submission.items()):
            if all(r.status == MISSING for r in notebooks) or not STUDENT_ID.match(student):
                continue  # nothing handed in, or no id nbgrader could store
            self._submission(student, assignment, notebooks)

    def _submission(self, student: str, assignment: str, notebooks: list[NotebookResult]):
        gradebook = self._gradebook
        gradebook.update_or_create_student(student)
        stamps = [r.submitted_at for r in notebooks if r.submitted_at]
        extra = {"timestamp": stamps[0]} if stamps else {}
        try:
            gradebook.find_submission(assignment, student)
            new = False
        except MissingEntry:
            new = True
        gradebook.update_or_create_submission(assignment, student, **extra)
        for result in notebooks:
            _record(gradebook, result, new)
        gradebook.db.commit()

    def close(self) -> None:
        if self._gradebook is not None:
            self._gradebook.close()
            self._gradebook = None


def _record(gradebook: Gradebook, result: NotebookResult, new: bool) -> None:
    """One notebook's automatic scores into its gradebook record (``new``: the submission was
    not in the gradebook before)."""
    record = gradebook.find_submission_notebook(result.notebook, result.assignment, result.student)
    scores = {t.name: t.score for t in result.tests} if result.scored else {}
    changed = new
    for grade in record.grades:
        score = scores.get(grade.name)  # None: no automatic score, a person must decide
        if new or score != grade.auto_score:
            changed = True
            grade.needs_manual_grade = score is None or grade.manual_score is not None
        elif grade.manual_score is None:
            grade.needs_manual_grade = score is None
        # else: the same score as before, and graded by hand: the instructor's decision stands
        grade.auto_score = score
    if result.status != GRADED and changed:
        record.flagged = True


REVIEW_CONFIG = '''"""nbgrader's configuration to review this run of minigrad-course grade.

Run `jupyter lab` in this folder and open Nbgrader > Formgrader: it shows the class gradebook
and the autograded notebooks in autograded/, for manual grades and comments.  Hand students
the pages in feedback/, never formgrader's own feedback: that one goes to
formgrader-feedback/ and its tracebacks can quote hidden tests.  `nbgrader export` here
writes nbgrader-export.csv (grades.csv is minigrad-course's and stays as it is).
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.db_url = {db_url!r}
c.CourseDirectory.source_directory = {source!r}
c.CourseDirectory.release_directory = {release!r}
c.CourseDirectory.feedback_directory = "formgrader-feedback"
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
c.CsvExportPlugin.to = "nbgrader-export.csv"
'''


def write_review_config(out: Path, course_root: Path, db_url: str, course_id: str) -> Path:
    """``OUT/nbgrader_config.py``, which makes OUT a course folder formgrader can open.  It
    holds the database URL as given, password included."""
    path = out / CONFIG_FILE
    text = REVIEW_CONFIG.format(
        root=str(out),
        course_id=course_id,
        db_url=db_url,
        source=str(course_root / SOURCE),
        release=str(course_root / RELEASE),
    )
    path.write_text(text, encoding="utf-8")
    return path
