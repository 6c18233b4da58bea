"""Every lesson through `minigrad-course grade`, as a class would hand it in.

The other grading tests use lesson 01, the fastest.  But each lesson's tests use a different
part of minigrad (lesson 07 trains with in-place updates, lesson 08 takes higher-order
gradients), and what the grader does in the kernel (its limits, the guard) must leave every
one of them alone: a lesson solved as the instructor did is `graded` with full marks and no
remark, and the release handed in untouched is `graded` with 0, never `tampered` or
`crashed`.
"""

from __future__ import annotations

import pytest

pytest.importorskip("nbgrader")

from grading_class import ROOT, solved, write

from minigrad_course.course import assignments
from minigrad_course.grading.pipeline import Settings, grade
from minigrad_course.grading.results import read_rows
from minigrad_course.notebooks import read as read_nb

pytestmark = pytest.mark.slow

LESSONS = assignments(ROOT)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    base = tmp_path_factory.mktemp("lessons")
    submissions, out = base / "submissions", base / "out"
    for lesson in LESSONS:
        write(solved(lesson), submissions / "solved" / lesson / f"{lesson}.ipynb")
        write(
            read_nb(ROOT / "course" / lesson / f"{lesson}.ipynb"),
            submissions / "untouched" / lesson / f"{lesson}.ipynb",
        )
    grade(ROOT, submissions, out, Settings(jobs=2))
    return {(r["student_id"], r["assignment"]): r for r in read_rows(out / "grades.csv")}


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_lesson_solved_as_the_instructor_did_gets_full_marks_and_no_remark(rows, lesson):
    row = rows["solved", lesson]
    assert (row["status"], row["detail"]) == ("graded", ""), row
    assert float(row["score"]) == float(row["max_score"]) > 0, row


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_lesson_handed_in_untouched_gets_zero_and_no_remark(rows, lesson):
    row = rows["untouched", lesson]
    assert (row["status"], row["score"], row["detail"]) == ("graded", "0", ""), row
