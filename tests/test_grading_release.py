"""``minigrad-course release`` (and ``check``) on a damaged lesson: the committed release is
kept, and the error names the notebook, the cell and what is wrong, without a traceback.

Every test works on a scratch copy of lesson 01 (its configuration, solutions and release).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")

from minigrad_course.cli import main

ROOT = Path(__file__).resolve().parents[1]
LESSON = "01_derivatives"
NOTEBOOK = f"solutions/{LESSON}/{LESSON}.ipynb"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = tmp_path / "course-root"
    shutil.copytree(ROOT / "solutions" / LESSON, root / "solutions" / LESSON)
    shutil.copytree(ROOT / "course" / LESSON, root / "course" / LESSON)
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _unclosed_solution(nb):
    cell = _cell(nb, "derivatives_central_difference")
    cell.source = cell.source.replace("### END SOLUTION", "")


def _duplicated_grade_id(nb):
    _cell(
        nb, "derivatives_central_difference"
    ).metadata.nbgrader.grade_id = "derivatives_forward_difference"


def _hidden_tests_in_a_markdown_cell(nb):
    markdown = next(
        c for c in nb.cells if c.cell_type == "markdown" and "nbgrader" not in c.metadata
    )
    markdown.source += "\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"


def _markdown_test_cell_that_is_not_an_answer(nb):
    """A mistake only nbgrader looks for: its own message must come through, untraced."""
    markdown = next(
        c for c in nb.cells if c.cell_type == "markdown" and "nbgrader" not in c.metadata
    )
    markdown.metadata["nbgrader"] = {
        "schema_version": 3,
        "grade": True,
        "solution": False,
        "locked": False,
        "task": False,
        "grade_id": "essay",
        "points": 1,
    }


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            _unclosed_solution,
            "cell 'derivatives_central_difference': BEGIN SOLUTION without a matching END SOLUTION",
        ),
        (
            _duplicated_grade_id,
            "its grade_id 'derivatives_forward_difference' is also the grade_id of cell 8",
        ),
        (
            _hidden_tests_in_a_markdown_cell,
            "a BEGIN HIDDEN TESTS region in a cell not marked as a graded test cell",
        ),
        (
            _markdown_test_cell_that_is_not_an_answer,
            "Markdown grade cell 'essay' is not marked as a solution cell",
        ),
    ],
)
def test_a_failed_release_keeps_the_committed_release(course, capsys, damage, message):
    source = course / NOTEBOOK
    nb = nbformat.read(str(source), as_version=4)
    damage(nb)
    nbformat.write(nb, str(source))
    damaged = source.read_bytes()
    released = (course / "course" / LESSON / f"{LESSON}.ipynb").read_bytes()

    assert main(["--root", str(course), "release", LESSON]) == 2

    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and 'File "' not in err
    assert (course / "course" / LESSON / f"{LESSON}.ipynb").read_bytes() == released
    assert sorted(p.name for p in (course / "course").iterdir()) == [LESSON]
    assert source.read_bytes() == damaged


def test_a_cut_short_solutions_notebook_is_named_and_nothing_is_changed(course, capsys):
    source = course / NOTEBOOK
    text = source.read_text(encoding="utf-8")
    source.write_text(text[: len(text) // 2], encoding="utf-8")
    released = (course / "course" / LESSON / f"{LESSON}.ipynb").read_bytes()

    assert main(["--root", str(course), "release", LESSON]) == 2

    err = capsys.readouterr().err
    assert f"{NOTEBOOK} is not a valid notebook (damaged or cut short?)" in err
    assert "nothing was changed" in err
    assert (course / "course" / LESSON / f"{LESSON}.ipynb").read_bytes() == released


def test_check_names_a_damaged_lesson_instead_of_crashing(course, capsys):
    source = course / NOTEBOOK
    source.write_text("{}", encoding="utf-8")

    assert main(["--root", str(course), "check", LESSON]) == 2
    assert f"{NOTEBOOK} is not a valid notebook" in capsys.readouterr().err


def test_check_reports_a_damaged_release_instead_of_crashing(course, capsys):
    released = course / "course" / LESSON / f"{LESSON}.ipynb"
    released.write_bytes(released.read_bytes()[:5000])

    assert main(["--root", str(course), "check", LESSON]) == 1

    err = capsys.readouterr().err
    assert "course/ is out of date with solutions/" in err
    assert "the notebook in course/ cannot be read (NotJSONError)" in err
    assert "Traceback" not in err
