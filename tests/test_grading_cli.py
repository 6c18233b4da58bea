"""The ``grade`` command line, its progress report and its tables, without grading."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from minigrad.grading.cli import _size, main
from minigrad.grading.course import CourseError
from minigrad.grading.grade import Settings, grade
from minigrad.grading.gradebook import database_url
from minigrad.grading.progress import Progress, duration
from minigrad.grading.results import (
    NotebookResult,
    ScoredTest,
    read_rows,
    write_grades,
    write_tests,
)

ROOT = Path(__file__).resolve().parents[1]


def test_sizes_for_the_memory_cap():
    assert _size("2G") == 2 * 1024**3
    assert _size("512m") == 512 * 1024**2
    assert _size("1.5G") == int(1.5 * 1024**3)
    assert _size("1048576") == 1048576


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--jobs", "0"], "--jobs must be at least 1, not 0"),
        (["--timeout", "-5"], "--timeout must be at least 1"),
        (["--assignment", "99_nope"], "no such assignment in solutions/: 99_nope"),
        (["--db", "gradebook.db"], "--db takes an SQLAlchemy URL"),
    ],
)
def test_bad_arguments_are_named(tmp_path, capsys, arguments, message):
    (tmp_path / "subs" / "alice" / "01_derivatives").mkdir(parents=True)
    code = main(
        [
            "--root",
            str(ROOT),
            "grade",
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "out"),
            *arguments,
        ]
    )
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_bad_memory_size_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "subs", "--out", "out", "--memory", "lots"])
    assert "not a size: 'lots'" in capsys.readouterr().err


def test_out_may_not_be_inside_the_submissions(tmp_path):
    with pytest.raises(CourseError, match="must not be inside the submissions"):
        grade(ROOT, tmp_path, tmp_path / "out", Settings())


def test_an_unreleased_lesson_is_refused(tmp_path):
    root = tmp_path / "course-root"
    shutil.copytree(ROOT / "solutions" / "01_derivatives", root / "solutions" / "01_derivatives")
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    with pytest.raises(CourseError, match="01_derivatives is not released"):
        grade(root, tmp_path / "subs", tmp_path / "out", Settings(assignments=("01_derivatives",)))


def test_database_urls():
    assert database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    pytest.importorskip("psycopg")
    url = database_url("postgresql://me@localhost/course")
    assert url.startswith("postgresql") and url.endswith("://me@localhost/course")


def test_progress_reports_each_submission_with_an_eta_then_a_summary():
    times = iter([0.0, 10.0, 20.0, 30.0])
    stream = io.StringIO()
    progress = Progress(3, stream, clock=lambda: next(times))
    result = NotebookResult("alice", "01_x", "01_x", "graded", "", 10, [ScoredTest("t", 7, 10)])
    progress.update([result])
    progress.update([NotebookResult("bob", "01_x", "01_x", "missing", "no file", 10)])
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[1/3]  33%  ETA 20s      alice/01_x: 01_x graded 7/10"
    assert lines[1] == "[2/3]  66%  ETA 10s      bob/01_x: 01_x missing"
    progress.summary([result], {"grades": "out/grades.csv"})
    assert "  graded    1" in stream.getvalue()
    assert "grades    out/grades.csv" in stream.getvalue()
    assert duration(3725) == "1h02m" and duration(61) == "1m01s"


def test_tables_leave_no_score_on_notebooks_that_were_not_graded(tmp_path):
    results = [
        NotebookResult(
            "bob", "01_x", "01_x", "crashed", "the kernel died", 3, [ScoredTest("t", 1, 3)]
        ),
        NotebookResult("alice", "01_x", "01_x", "timeout", "cell 3", 3, [ScoredTest("t", 1.5, 3)]),
    ]
    write_grades(tmp_path / "grades.csv", results)
    write_tests(tmp_path / "tests.csv", results)
    grades = read_rows(tmp_path / "grades.csv")
    assert [(r["student_id"], r["score"], r["status"]) for r in grades] == [
        ("alice", "1.5", "timeout"),
        ("bob", "", "crashed"),
    ]
    tests = read_rows(tmp_path / "tests.csv")
    assert [(r["student_id"], r["test"], r["score"]) for r in tests] == [("alice", "t", "1.5")]
    with pytest.raises(ValueError, match="unknown grading status"):
        NotebookResult("x", "a", "n", "passed")
