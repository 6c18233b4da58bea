"""``minigrad-course grade`` on a whole class with every fault (tests/grading_class.py).

The class is graded twice into the same OUT: first with ``--jobs 2``, then with ``--jobs 1``.
The second run must give the same tables (parallel equals serial, and a re-run changes
nothing) and leave the gradebook as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from grading_class import LESSON, ROOT, TIMEOUT, build_class

from minigrad_course import notebooks
from minigrad_course.grading.feedback import hidden_lines, html_text
from minigrad_course.grading.pipeline import Settings, grade
from minigrad_course.grading.results import read_rows

pytestmark = pytest.mark.slow


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    submissions, out = base / "submissions", base / "out"
    expected = build_class(submissions)
    before = _hashes(submissions)
    grade(ROOT, submissions, out, Settings(jobs=2, timeout=TIMEOUT))
    first = {name: (out / name).read_bytes() for name in ("grades.csv", "tests.csv")}
    first_feedback = out / "first-feedback"
    shutil.copytree(out / "feedback", first_feedback)
    counts = _gradebook_counts(out)
    grade(ROOT, submissions, out, Settings(jobs=1, timeout=TIMEOUT))
    return {
        "base": base,
        "submissions": submissions,
        "out": out,
        "expected": expected,
        "before": before,
        "first": first,
        "first_counts": counts,
        "rows": {r["student_id"]: r for r in read_rows(out / "grades.csv")},
    }


def _gradebook_counts(out: Path) -> dict[str, int]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", "minigrad") as gradebook:
        return {
            "students": len(gradebook.students),
            "submissions": len(gradebook.assignment_submissions(LESSON)),
            "grades": sum(
                len(n.grades) for s in gradebook.assignment_submissions(LESSON) for n in s.notebooks
            ),
        }


def test_every_student_gets_exactly_one_row_with_the_expected_status(graded):
    assert set(graded["rows"]) == set(graded["expected"])
    for student, row in graded["rows"].items():
        assert (row["assignment"], row["notebook"]) == (LESSON, LESSON)
        assert row["status"] == graded["expected"][student].status, (student, row)


def test_every_row_has_the_expected_score_and_detail(graded):
    for student, row in graded["rows"].items():
        expected = graded["expected"][student]
        score = "" if expected.score is None else f"{expected.score:g}"
        assert row["score"] == score, (student, row)
        assert row["max_score"] == "10", (student, row)
        for piece in expected.details:
            if piece:
                assert piece in row["detail"], (student, piece, row["detail"])
            else:
                assert row["detail"] == "", (student, row["detail"])


def test_tests_csv_has_a_row_per_test_of_each_scored_notebook(graded):
    rows = read_rows(graded["out"] / "tests.csv")
    scored = {s for s, r in graded["rows"].items() if r["score"] != ""}
    assert {r["student_id"] for r in rows} == scored
    for student in scored:
        mine = [r for r in rows if r["student_id"] == student]
        assert [r["max_score"] for r in mine] == ["1", "2", "2", "2", "3"]
        total = sum(float(r["score"]) for r in mine)
        assert f"{total:g}" == graded["rows"][student]["score"]
    deaf = {r["test"]: r["score"] for r in rows if r["student_id"] == "deaf-loop"}
    assert deaf["derivatives_numerical_gradient_test"] == "0"


def test_two_jobs_equal_one_job_and_a_rerun_changes_nothing(graded):
    out = graded["out"]
    for name, content in graded["first"].items():
        assert (out / name).read_bytes() == content, name
    assert _gradebook_counts(out) == graded["first_counts"]
    handed_in = [s for s, r in graded["rows"].items() if r["status"] != "missing"]
    assert graded["first_counts"]["submissions"] == len(handed_in) - 1  # but "jane doe"


def test_submissions_are_never_modified(graded):
    assert _hashes(graded["submissions"]) == graded["before"]


def test_feedback_shows_every_test_and_no_hidden_test(graded):
    source = notebooks.read(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb")
    released = notebooks.read(ROOT / "course" / LESSON / f"{LESSON}.ipynb")
    hidden = hidden_lines(source, "\n".join(c.source for c in released.cells))
    assert len(hidden) > 20  # the check below means something
    feedback = graded["out"] / "feedback"
    pages = sorted(feedback.rglob("*.html"))
    assert len(pages) == len(graded["rows"])
    for page in pages:
        student = page.relative_to(feedback).parts[0]
        submitted = graded["submissions"] / student / LESSON / f"{LESSON}.ipynb"
        own = submitted.read_text(errors="replace") if submitted.is_file() else ""
        text = html_text(page.read_text(encoding="utf-8"))
        shown = [line for line in hidden if line in text and json.dumps(line)[1:-1] not in own]
        assert not shown, (page, shown[:3])
    blank = html_text((feedback / "blank" / LESSON / f"{LESSON}.html").read_text())
    for test in ("forward_difference", "central_difference", "numerical_gradient"):
        assert f"derivatives_{test}_test" in blank
    assert "0 / 3" in blank and "NotImplementedError" in blank
    correct = html_text((feedback / "correct" / LESSON / f"{LESSON}.html").read_text())
    assert "Score: 10 / 10" in correct
    crashed = html_text((feedback / "exits" / LESSON / f"{LESSON}.html").read_text())
    assert "not graded: the kernel died" in crashed


def test_a_cell_reading_the_history_cannot_show_hidden_tests(graded):
    """A test cell's source is taken out of the kernel's history once it has run (guard.py),
    so the student's cell prints nothing of it: not in the instructor's copy, not in the
    feedback (which would blank it anyway, see test_grading_feedback.py)."""
    out = graded["out"]
    path = f"reads-history/{LESSON}/{LESSON}"
    printed = _printed(out, "reads-history")
    assert "### BEGIN HIDDEN TESTS" not in printed
    assert "check_own_work(forward_difference" not in printed
    page = html_text((out / "feedback" / f"{path}.html").read_text())
    assert "### BEGIN HIDDEN TESTS" not in page


def _printed(out: Path, student: str) -> str:
    nb = notebooks.read(out / "autograded" / student / LESSON / f"{LESSON}.ipynb")
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_student_code_runs_alone_in_its_folder_under_limits(graded):
    printed = _printed(graded["out"], "snoop")
    lines = {
        line.split(" ", 2)[1]: line.split(" ", 2)[2]
        for line in printed.splitlines()
        if line.startswith("SNOOP ")
    }
    found = json.loads(lines["found"].replace("'", '"'))
    ours = [str(graded["base"]), str(ROOT)]
    assert not [f for f in found if f.startswith(tuple(ours))], found
    assert json.loads(lines["cwd"].replace("'", '"')) == [f"{LESSON}.ipynb"]
    memory, cpu, processes, core = json.loads(lines["limits"])
    assert memory == 2 * 1024**3 and core == 0
    assert 0 < cpu <= 600 and processes > 0
    assert "PWD" not in lines["env"] and "VIRTUAL_ENV" not in lines["env"]


def test_a_huge_output_is_cut_off(graded):
    out = graded["out"]
    path = f"big-output/{LESSON}/{LESSON}"
    assert (out / "autograded" / f"{path}.ipynb").stat().st_size < 3_000_000
    assert (out / "feedback" / f"{path}.html").stat().st_size < 3_000_000
    assert "output cut off" in _printed(out, "big-output")


def test_the_gradebook_holds_the_scores_and_never_a_silent_zero(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['out'] / 'gradebook.db'}", "minigrad") as gradebook:
        for student, row in graded["rows"].items():
            if row["status"] == "missing" or student == "jane doe":
                continue
            notebook = gradebook.find_submission_notebook(LESSON, LESSON, student)
            autos = [g.auto_score for g in notebook.grades]
            if row["score"] == "":
                assert all(a is None for a in autos), student
                assert all(g.needs_manual_grade for g in notebook.grades), student
                assert notebook.flagged
            else:
                assert f"{sum(autos):g}" == row["score"], student
                assert notebook.flagged == (row["status"] != "graded"), student


def test_nbgrader_reads_the_class_gradebook_from_out(graded):
    """OUT is a course folder for nbgrader's own tools (formgrader, export), and exporting
    there leaves grades.csv alone."""
    from minigrad_course.release import run_nbgrader

    out = graded["out"]
    ours = (out / "grades.csv").read_bytes()
    run_nbgrader(out, ["export"])
    assert (out / "grades.csv").read_bytes() == ours
    exported = {r["student_id"]: r for r in read_rows(out / "nbgrader-export.csv")}
    for student, row in graded["rows"].items():
        if row["score"] != "":
            assert float(exported[student]["score"]) == float(row["score"]), student


def test_feedback_can_be_released_through_the_nbgrader_exchange(graded, tmp_path):
    """The command of docs/instructors.md, section 5."""
    from minigrad_course.release import run_nbgrader

    out, exchange = graded["out"], tmp_path / "exchange"
    exchange.mkdir()
    page = out / "feedback" / "correct" / LESSON / f"{LESSON}.html"
    assert (page.parent / "submission_secret.txt").read_text() == "3f9a0c"
    run_nbgrader(
        out,
        [
            "release_feedback",
            LESSON,
            "--student=correct",
            f"--Exchange.root={exchange}",
            f"--CourseDirectory.feedback_directory={out / 'feedback'}",
        ],
    )
    (released,) = (exchange / "minigrad" / "feedback").glob("*.html")
    assert released.read_bytes() == page.read_bytes()
