"""minigrad-course release and check, on small scratch courses made for each test."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")

from minigrad_course.check import check
from minigrad_course.cli import main
from minigrad_course.course import CourseError, assignments
from minigrad_course.release import release

ROOT = Path(__file__).resolve().parents[1]


def _meta(**fields):
    base = {"schema_version": 3, "grade": False, "solution": False, "locked": False}
    return {"nbgrader": {**base, "task": False, **fields}}


def _lesson(solution="    return x * x", visible="assert square(3) == 9, 'square(3) should be 9'"):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Squares"),
        nbformat.v4.new_code_cell(
            f"def square(x):\n    ### BEGIN SOLUTION\n{solution}\n    ### END SOLUTION",
            metadata=_meta(solution=True, grade_id="demo_square"),
        ),
        nbformat.v4.new_code_cell(
            f"{visible}\n### BEGIN HIDDEN TESTS\n"
            "assert square(-4) == 16, 'hidden: the square of a negative number'\n"
            "### END HIDDEN TESTS",
            metadata=_meta(grade=True, locked=True, points=2, grade_id="demo_square_test"),
        ),
    ]
    return nb


def _course(tmp_path: Path, lessons: dict[str, nbformat.NotebookNode]) -> Path:
    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    for name, nb in lessons.items():
        folder = tmp_path / "solutions" / name
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{name}.ipynb"))
    return tmp_path


def test_release_is_byte_for_byte_idempotent_and_strips_outputs(tmp_path):
    nb = _lesson()
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="left over\n")]
    nb.cells[1].execution_count = 3
    root = _course(tmp_path, {"01_demo": nb})
    release(root, ["01_demo"], log=lambda _: None)
    first = (root / "course/01_demo/01_demo.ipynb").read_bytes()
    release(root, ["01_demo"], log=lambda _: None)
    assert (root / "course/01_demo/01_demo.ipynb").read_bytes() == first
    student = nbformat.reads(first.decode(), as_version=4)
    assert "raise NotImplementedError()" in student.cells[1].source
    assert "return x * x" not in first.decode()
    assert "HIDDEN" not in first.decode()
    source = nbformat.read(str(root / "solutions/01_demo/01_demo.ipynb"), as_version=4)
    assert source.cells[1].outputs == [] and source.cells[1].execution_count is None


def test_unknown_assignment_is_a_clear_error(tmp_path):
    root = _course(tmp_path, {"01_demo": _lesson()})
    with pytest.raises(CourseError, match=r"no such assignment.*02_nope.*there are: 01_demo"):
        assignments(root, ["02_nope"])
    assert main(["--root", str(root), "release", "02_nope"]) == 2


@pytest.mark.slow
def test_check_passes_on_a_consistent_course(tmp_path):
    root = _course(tmp_path, {"01_demo": _lesson()})
    release(root, ["01_demo"], log=lambda _: None)
    assert check(root, ["01_demo"], log=lambda _: None) == []
    assert not (root / "gradebook.db").exists()  # grading ran in a scratch copy


@pytest.mark.slow
def test_check_names_each_kind_of_problem(tmp_path):
    lessons = {
        "01_stale": _lesson(),
        "02_leaky": _lesson(),
        "03_wrong": _lesson(solution="    return x + x"),
        "04_free": _lesson(visible="assert True"),
    }
    root = _course(tmp_path, lessons)
    release(root, list(lessons), log=lambda _: None)
    # 01: the source changes after release; 02: the release is edited to show the solution;
    # 03: the solution fails its own tests; 04: the hidden test is the only real test, and
    # the untouched notebook still scores nothing, so only its in-sync state is fine.
    stale = root / "solutions/01_stale/01_stale.ipynb"
    stale.write_text(stale.read_text().replace("# Squares", "# Squares, revised"))
    leaky = root / "course/02_leaky/02_leaky.ipynb"
    leaky.write_text(leaky.read_text().replace("raise NotImplementedError()", "return x * x"))

    problems = [str(p) for p in check(root, list(lessons), log=lambda _: None)]
    text = "\n".join(problems)
    assert "01_stale/01_stale.ipynb: course/ is out of date" in text
    assert "02_leaky/02_leaky.ipynb: a solution appears in the release" in text
    assert "03_wrong/03_wrong.ipynb: the solution earns 0 of 2" in text
    assert "03_wrong" in text and "raised AssertionError" in text
    assert not any(p.startswith("04_free") for p in problems), problems


def test_leak_check_flags_hidden_lines_but_not_ones_visible_elsewhere(tmp_path):
    from minigrad_course.check import _check_no_leaks

    shared = "from math import isclose as close_enough_to_compare"
    nb = _lesson(visible=f"{shared}\nassert square(3) == 9, 'square(3) should be 9'")
    nb.cells[2].source = nb.cells[2].source.replace(
        "### BEGIN HIDDEN TESTS\n", f"### BEGIN HIDDEN TESTS\n{shared}\n"
    )
    root = _course(tmp_path, {"01_demo": nb})
    release(root, ["01_demo"], log=lambda _: None)
    assert _check_no_leaks(root, "01_demo") == []

    student = root / "course/01_demo/01_demo.ipynb"
    secret = "assert square(-4) == 16, 'hidden: the square of a negative number'"
    student.write_text(student.read_text().replace("square(3) == 9,", f"{secret} and"))
    problems = [str(p) for p in _check_no_leaks(root, "01_demo")]
    assert any("a hidden-test line appears in the release" in p for p in problems), problems
