"""The ``grade`` command line, its progress report and its tables, without grading."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from minigrad_course.cli import _size, main
from minigrad_course.course import CourseError
from minigrad_course.grading.gradebook import database_url
from minigrad_course.grading.pipeline import Settings, grade
from minigrad_course.grading.progress import Progress, duration
from minigrad_course.grading.results import (
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


@pytest.mark.parametrize(
    ("arguments", "cpu_seconds"),
    [(["--notebook-timeout", "42"], 42), (["--timeout", "7"], 35), (["--cpu-time", "9"], 9)],
)
def test_the_cpu_limit_is_the_notebooks_time_unless_given(
    tmp_path, monkeypatch, arguments, cpu_seconds
):
    """--cpu-time defaults to --notebook-timeout, itself five times --timeout."""
    from minigrad_course.grading import nbgrader_setup

    class KernelspecReachedError(Exception):
        pass

    def stop_at_the_kernelspec(folder, limits, sandbox=None):
        raise KernelspecReachedError(limits)

    monkeypatch.setattr(nbgrader_setup, "write_kernelspec", stop_at_the_kernelspec)
    folder = tmp_path / "subs" / "alice" / "01_derivatives"
    folder.mkdir(parents=True)
    shutil.copy2(ROOT / "course" / "01_derivatives" / "01_derivatives.ipynb", folder)
    command = ["--root", str(ROOT), "grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out")]
    with pytest.raises(KernelspecReachedError) as stopped:
        main([*command, *arguments])
    assert stopped.value.args[0].cpu_seconds == cpu_seconds


def test_a_bad_memory_size_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "subs", "--out", "out", "--memory", "lots"])
    assert "not a size: 'lots'" in capsys.readouterr().err


def test_out_may_not_be_inside_the_submissions(tmp_path):
    with pytest.raises(CourseError, match="inside the submissions"):
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


@pytest.fixture
def scratch_course(tmp_path: Path) -> Path:
    """A copy of lesson 01 (configuration, solutions, release) to point --root at."""
    root = tmp_path / "course-root"
    for step in ("solutions", "course"):
        shutil.copytree(ROOT / step / "01_derivatives", root / step / "01_derivatives")
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (tmp_path / "subs" / "alice" / "01_derivatives").mkdir(parents=True)
    return root


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (".", "is the course root: grading would overwrite its nbgrader_config.py"),
        ("course", "is the course's course/ folder"),
        ("solutions/01_derivatives", "is inside the course's solutions/ folder"),
        ("..", "holds the course's solutions/ folder"),
    ],
)
def test_an_out_among_the_course_files_is_refused(scratch_course, capsys, out, message):
    config = (scratch_course / "nbgrader_config.py").read_bytes()
    code = main(
        [
            "--root",
            str(scratch_course),
            "grade",
            str(scratch_course.parent / "subs"),
            "--out",
            str(scratch_course / out),
        ]
    )
    assert code == 2
    assert message in capsys.readouterr().err
    assert (scratch_course / "nbgrader_config.py").read_bytes() == config
    assert not list(scratch_course.rglob("gradebook.db"))
    assert not list(scratch_course.rglob("feedback"))


def test_an_out_holding_another_courses_configuration_is_refused(scratch_course, capsys):
    out = scratch_course.parent / "other-course"
    out.mkdir()
    (out / "nbgrader_config.py").write_text("c = get_config()\n", encoding="utf-8")
    subs = scratch_course.parent / "subs"
    assert main(["--root", str(scratch_course), "grade", str(subs), "--out", str(out)]) == 2
    assert "holds an nbgrader_config.py that minigrad-course grade did not write" in (
        capsys.readouterr().err
    )
    assert (out / "nbgrader_config.py").read_text(encoding="utf-8") == "c = get_config()\n"


@pytest.mark.parametrize(
    ("submissions", "handed_in"),
    [
        ("out/collected", "downloads.zip"),  # collecting empties OUT/collected
        ("out/feedback", "alice/01_derivatives/01_derivatives.ipynb"),  # grading empties these
    ],
)
def test_submissions_inside_out_are_refused_and_kept(
    scratch_course, capsys, submissions, handed_in
):
    import zipfile

    tmp = scratch_course.parent
    notebook = (ROOT / "course" / "01_derivatives" / "01_derivatives.ipynb").read_bytes()
    handed = tmp / submissions / handed_in
    handed.parent.mkdir(parents=True)
    if handed.suffix == ".zip":
        with zipfile.ZipFile(handed, "w") as zipped:
            zipped.writestr("alice/01_derivatives/01_derivatives.ipynb", notebook)
    else:
        handed.write_bytes(notebook)
    kept = handed.read_bytes()
    code = main(
        ["--root", str(scratch_course), "grade", str(tmp / submissions), "--out", str(tmp / "out")]
    )
    assert code == 2
    assert "holds the submissions" in capsys.readouterr().err
    assert handed.read_bytes() == kept


@pytest.mark.parametrize("below", ["", "inside"])
def test_an_out_that_is_a_file_is_refused(scratch_course, capsys, below):
    taken = scratch_course.parent / "grades.txt"
    taken.write_text("not a folder", encoding="utf-8")
    subs = scratch_course.parent / "subs"
    code = main(["--root", str(scratch_course), "grade", str(subs), "--out", str(taken / below)])
    assert code == 2
    assert f"{taken} is a file, not a folder" in capsys.readouterr().err
    assert taken.read_text(encoding="utf-8") == "not a folder"


def test_python_dash_m_runs_the_command(scratch_course):
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-m", "minigrad_course", "--help"], capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "usage: minigrad-course" in shown.stdout
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "minigrad_course",
            "--root",
            str(scratch_course),
            "release",
            "99_x",
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "no such assignment in solutions/: 99_x" in refused.stderr
