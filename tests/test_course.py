"""The course itself: its notebooks follow the conventions, and `minigrad-course check` passes."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.parent.name for p in (ROOT / "solutions").glob("[0-9][0-9]_*/*.ipynb"))
PART_ONE = ["01_derivatives", "02_value", "03_backward", "04_more_ops", "05_neural_net"]
PART_TWO = ["06_tensors", "07_training", "08_beyond"]


def _source(lesson: str) -> nbformat.NotebookNode:
    return nbformat.read(str(ROOT / "solutions" / lesson / f"{lesson}.ipynb"), as_version=4)


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_is_followed_by_its_test_cell(lesson):
    cells = _source(lesson).cells
    topic = lesson[3:]
    for i, cell in enumerate(cells):
        meta = _nbgrader(cell)
        if meta.get("solution") and cell.cell_type == "code":
            grade_id = meta["grade_id"]
            assert re.fullmatch(rf"{topic}_[a-z0-9_]+", grade_id), grade_id
            following = _nbgrader(cells[i + 1]) if i + 1 < len(cells) else {}
            assert following.get("grade") and following.get("grade_id") == f"{grade_id}_test", (
                f"{lesson}: exercise {grade_id} is not followed by its test cell {grade_id}_test"
            )
            assert following.get("locked") and following.get("points", 0) > 0


@pytest.mark.parametrize("lesson", LESSONS)
def test_test_cells_explain_failures_and_hidden_tests_check_own_work(lesson):
    tests = [c for c in _source(lesson).cells if _nbgrader(c).get("grade")]
    assert tests, f"{lesson} has no graded test cells"
    hidden = "\n".join(c.source for c in tests if "### BEGIN HIDDEN TESTS" in c.source)
    assert "check_own_work" in hidden, f"{lesson}: hidden tests never check the work is own"


def _exercises(lesson: str) -> int:
    return sum(
        1 for c in _source(lesson).cells if _nbgrader(c).get("solution") and c.cell_type == "code"
    )


@pytest.mark.parametrize(("part", "minimum"), [(PART_ONE, 25), (PART_TWO, 15)], ids=["one", "two"])
def test_each_part_has_its_graded_exercises(part, minimum):
    missing = sorted(set(part) - set(LESSONS))
    if missing:
        pytest.skip(f"lessons missing: {missing}")
    count = sum(_exercises(lesson) for lesson in part)
    assert count >= minimum, f"{part} have {count} graded exercises, expected at least {minimum}"


def test_every_lesson_has_a_student_notebook():
    released = sorted(p.parent.name for p in (ROOT / "course").glob("[0-9][0-9]_*/*.ipynb"))
    assert released == LESSONS


@pytest.mark.slow
def test_minigrad_course_check_passes():
    """Solutions earn full marks, untouched releases zero, course/ is in sync, nothing leaks."""
    pytest.importorskip("nbgrader")
    from minigrad_course.check import check

    problems = check(ROOT, LESSONS, log=lambda _: None)
    assert not problems, "minigrad-course check found:\n" + "\n".join(map(str, problems))
