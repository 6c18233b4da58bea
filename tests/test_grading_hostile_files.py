"""Submissions made of strange files: odd names, links, pipes, damaged zips, odd JSON.

A grading run must never drop a student, never follow a link out of a submission, and never
stop the class because of one student's files; every row says which file was wrong and how.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from minigrad_course.course import CourseError
from minigrad_course.grading.collect import collect_zips, plan
from minigrad_course.grading.results import INVALID, NotebookResult, read_rows, write_grades
from minigrad_course.grading.tamper import InvalidNotebookError, read_submission

COURSE = {"01_derivatives": ("01_derivatives",), "02_value": ("02_value",)}
NOTEBOOK = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}'
LESSON = "01_derivatives"


def _touch(path: Path, text: str = NOTEBOOK) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _unit(work, student: str, assignment: str = LESSON):
    return next(u for u in work.units if u.key == (student, assignment))


# -- names ---------------------------------------------------------------------------------


def test_a_folder_name_that_is_not_utf8_gets_an_invalid_row_with_an_escaped_name(tmp_path):
    _touch(tmp_path / f"alice/{LESSON}/{LESSON}.ipynb")
    os.makedirs(os.fsencode(tmp_path) + f"/bad\xff\xfename/{LESSON}".encode("latin-1"))
    work = plan(tmp_path, COURSE)
    odd = _unit(work, r"bad\xff\xfename")
    assert r"'bad\xff\xfename' is not a usable student id" in odd.problem
    rows = [NotebookResult(u.student, u.assignment, LESSON, INVALID, u.problem) for u in work.units]
    write_grades(tmp_path / "grades.csv", rows)
    assert {r["student_id"] for r in read_rows(tmp_path / "grades.csv")} == {
        "alice",
        r"bad\xff\xfename",
    }


def test_the_grades_table_is_written_whatever_text_reaches_it(tmp_path):
    odd = NotebookResult("bad\udcffname", LESSON, LESSON, INVALID, "extra file x\udcfe.txt")
    write_grades(tmp_path / "grades.csv", [odd])
    (row,) = read_rows(tmp_path / "grades.csv")
    assert row["student_id"] == r"bad\udcffname"


def test_a_hidden_student_folder_gets_a_row_and_other_hidden_folders_a_warning(tmp_path):
    _touch(tmp_path / f"alice/{LESSON}/{LESSON}.ipynb")
    _touch(tmp_path / f".bob/{LESSON}/{LESSON}.ipynb")
    _touch(tmp_path / ".cache/notes.txt", "x")
    _touch(tmp_path / ".DS_Store", "")
    work = plan(tmp_path, COURSE)
    assert "'.bob' is not a usable student id" in _unit(work, ".bob").problem
    assert any("ignored .cache/: a hidden folder" in w for w in work.warnings)
    assert not any(".DS_Store" in w for w in work.warnings)


# -- links and files that are not files ---------------------------------------------------


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file a submission must never lead the grader to: the instructor's solutions."""
    return _touch(tmp_path / "solutions" / f"{LESSON}.ipynb", '{"the": "solutions"}')


def test_a_linked_exchange_file_is_never_followed(tmp_path, secret):
    folder = _touch(tmp_path / f"sub/mallory/{LESSON}/{LESSON}.ipynb").parent
    (folder / "submission_secret.txt").symlink_to(secret)
    unit = _unit(plan(tmp_path / "sub", COURSE), "mallory")
    assert f"submission_secret.txt is a symbolic link to {secret}" in unit.problem
    assert unit.exchange == ()


def test_a_linked_notebook_gets_a_clear_invalid_row(tmp_path, secret):
    folder = tmp_path / f"sub/mallory/{LESSON}"
    folder.mkdir(parents=True)
    (folder / f"{LESSON}.ipynb").symlink_to(secret)
    unit = _unit(plan(tmp_path / "sub", COURSE), "mallory")
    assert f"{LESSON}.ipynb is a symbolic link to {secret}" in unit.problem


def test_a_linked_student_folder_gets_a_clear_invalid_row(tmp_path):
    _touch(tmp_path / f"sub/alice/{LESSON}/{LESSON}.ipynb")
    (tmp_path / "sub/alias").symlink_to(tmp_path / "sub/alice")
    work = plan(tmp_path / "sub", COURSE)
    assert "the folder alias is a symbolic link to" in _unit(work, "alias").problem
    assert _unit(work, "alice").problem == ""


def test_only_small_regular_exchange_files_are_passed_on(tmp_path):
    folder = _touch(tmp_path / f"alice/{LESSON}/{LESSON}.ipynb").parent
    _touch(folder / "timestamp.txt", "2026-01-01 10:00:00.000000 UTC")
    _touch(folder / "submission_secret.txt", "x" * 10_000_000)
    os.mkfifo(tmp_path / "pipe")
    alice = _unit(plan(tmp_path, COURSE), "alice")
    assert "submission_secret.txt is 10 MB" in alice.problem

    (folder / "submission_secret.txt").unlink()
    os.mkfifo(folder / "submission_secret.txt")
    alice = _unit(plan(tmp_path, COURSE), "alice")
    assert alice.problem == ""
    assert alice.exchange == ("timestamp.txt",)
    assert alice.notes == ("submission_secret.txt is a named pipe, not a file: ignored",)


def test_an_unreadable_timestamp_is_noted_and_not_given_to_nbgrader(tmp_path):
    folder = _touch(tmp_path / f"alice/{LESSON}/{LESSON}.ipynb").parent
    _touch(folder / "timestamp.txt", "not a date at all")
    _touch(folder / "submission_secret.txt", "abc123")
    alice = _unit(plan(tmp_path, COURSE), "alice")
    assert alice.problem == ""
    assert alice.exchange == ("submission_secret.txt",)
    assert alice.notes == (
        "timestamp.txt ignored, no submission time recorded: it does not hold a date "
        "('not a date at all')",
    )


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: p.mkdir(), "is a folder, not a file"),
        (os.mkfifo, "is a named pipe, not a file"),
    ],
)
def test_a_notebook_that_is_not_a_file_is_named_for_what_it_is(tmp_path, make, said):
    folder = tmp_path / f"alice/{LESSON}"
    folder.mkdir(parents=True)
    make(folder / f"{LESSON}.ipynb")
    alice = _unit(plan(tmp_path, COURSE), "alice")
    assert alice.hints == ((LESSON, f"{LESSON}.ipynb {said}"),)


@pytest.mark.parametrize("target", ["/dev/zero", "self"])
def test_a_notebook_linked_to_a_device_or_to_itself_is_named_for_what_it_is(tmp_path, target):
    folder = tmp_path / f"alice/{LESSON}"
    folder.mkdir(parents=True)
    path = folder / f"{LESSON}.ipynb"
    path.symlink_to(path if target == "self" else target)
    alice = _unit(plan(tmp_path, COURSE), "alice")
    assert f"{LESSON}.ipynb is a symbolic link to {path if target == 'self' else target}" in (
        alice.problem
    )
    assert "instead" not in alice.problem and alice.hints == ()


def test_links_inside_a_submission_are_listed_never_walked(tmp_path):
    folder = _touch(tmp_path / f"alice/{LESSON}/{LESSON}.ipynb").parent
    (folder / "loop").symlink_to(folder)
    (folder / "everything").symlink_to("/")
    alice = _unit(plan(tmp_path, COURSE), "alice")
    assert alice.extra == ("everything", "loop")


# -- zips ------------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, str], compression=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zipped:
        for name, text in members.items():
            zipped.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 12, 0, 0)), text, compression)
    return path


def _damage(path: Path, member: str) -> None:
    """Flip the bytes of ``member``'s compressed data, as a bad download does."""
    with zipfile.ZipFile(path) as zipped:
        info = zipped.getinfo(member)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start, start + info.compress_size):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def test_a_damaged_zip_member_becomes_that_students_row(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    damaged = f"doejane_1_2_{LESSON}.ipynb"
    archive = _zip(
        downloads / "canvas.zip",
        {damaged: NOTEBOOK * 20, f"roejohn_3_4_{LESSON}.ipynb": NOTEBOOK},
        zipfile.ZIP_DEFLATED,
    )
    _damage(archive, damaged)
    dest = tmp_path / "collected"
    notes = collect_zips(downloads, dest, COURSE)
    assert (dest / f"roejohn/{LESSON}/{LESSON}.ipynb").read_text() == NOTEBOOK
    assert any(f"canvas.zip:{damaged} could not be extracted" in n for n in notes)
    doejane = _unit(plan(dest, COURSE), "doejane")
    ((notebook, hint),) = doejane.hints
    assert notebook == LESSON
    assert hint.startswith(f"canvas.zip:{damaged} could not be extracted (Error -3 while decomp")


def test_an_older_upload_stands_in_for_a_damaged_newer_one(tmp_path):
    newest = f"doejane_1_3_{LESSON}-1.ipynb"
    archive = _zip(
        tmp_path / "canvas.zip",
        {f"doejane_1_2_{LESSON}.ipynb": NOTEBOOK, newest: NOTEBOOK * 20},
        zipfile.ZIP_DEFLATED,
    )
    _damage(archive, newest)
    notes = collect_zips(tmp_path, tmp_path / "out", COURSE)
    assert (tmp_path / f"out/doejane/{LESSON}/{LESSON}.ipynb").read_text() == NOTEBOOK
    assert any(f"kept canvas.zip:doejane_1_2_{LESSON}.ipynb" in n for n in notes)


def test_zips_beside_student_folders_are_refused_not_dropped(tmp_path):
    _touch(tmp_path / f"alice/{LESSON}/{LESSON}.ipynb")
    _zip(tmp_path / "canvas.zip", {f"doejane_1_2_{LESSON}.ipynb": NOTEBOOK})
    with pytest.raises(CourseError, match=r"both LMS zip files \(canvas.zip\) and .*alice/"):
        collect_zips(tmp_path, tmp_path / "out", COURSE)
    assert not (tmp_path / "out").exists()


def test_zips_without_a_course_notebook_say_so(tmp_path):
    _zip(tmp_path / "canvas.zip", {"doejane_1_2_essay.pdf": "x"})
    with pytest.raises(CourseError, match=r"no course notebook in 1 zip file.*doejane_1_2_essay"):
        collect_zips(tmp_path, tmp_path / "out", COURSE)


def test_collecting_never_deletes_the_zips_it_reads(tmp_path):
    downloads = tmp_path / "out" / "collected"
    downloads.mkdir(parents=True)
    _zip(downloads / "canvas.zip", {f"doejane_1_2_{LESSON}.ipynb": NOTEBOOK})
    for dest in (downloads, tmp_path / "out"):
        with pytest.raises(CourseError, match="would delete the zip files"):
            collect_zips(downloads, dest, COURSE)
    assert (downloads / "canvas.zip").is_file()


def test_two_students_with_one_name_are_told_apart_by_their_participant_number(tmp_path):
    again = f"John Smith_4242_assignsubmission_file_/{LESSON}.ipynb"
    _zip(tmp_path / "earlier.zip", {again: "before"})  # the same student: still one
    _zip(
        tmp_path / "moodle.zip",
        {
            f"John Smith_4242_assignsubmission_file_/{LESSON}.ipynb": "first",
            f"John Smith_4243_assignsubmission_file_/{LESSON}.ipynb": "second",
            f"李雷_5001_assignsubmission_file_/{LESSON}.ipynb": "li",
            f"韩梅梅_5002_assignsubmission_file_/{LESSON}.ipynb": "han",
            f"Ann Lee_77_assignsubmission_file_/{LESSON}.ipynb": "ann",
        },
    )
    dest = tmp_path / "out"
    notes = collect_zips(tmp_path, dest, COURSE)
    files = {p.parts[-3]: p.read_text() for p in dest.rglob("*.ipynb")}
    assert files == {
        "John-Smith_4242": "first",
        "John-Smith_4243": "second",
        "unknown_5001": "li",
        "unknown_5002": "han",
        "Ann-Lee": "ann",
    }
    assert any("'John Smith' (4242) and 'John Smith' (4243)" in n for n in notes)


def test_names_that_give_one_id_and_no_participant_number_are_refused(tmp_path):
    _zip(
        tmp_path / "folders.zip",
        {f"a b/{LESSON}/{LESSON}.ipynb": "one", f"a-b/{LESSON}/{LESSON}.ipynb": "two"},
    )
    with pytest.raises(CourseError, match="'a b' and 'a-b' would both be graded as a-b"):
        collect_zips(tmp_path, tmp_path / "out", COURSE)


def test_a_canvas_login_beginning_with_a_dot_is_named_not_dropped(tmp_path):
    _zip(
        tmp_path / "canvas.zip",
        {
            f".jane_1_2_{LESSON}.ipynb": NOTEBOOK,
            f"__MACOSX/._doejane_1_3_{LESSON}.ipynb": "litter",
            f"doejane_1_3_{LESSON}.ipynb": NOTEBOOK,
        },
    )
    _touch(tmp_path / f"roejohn_4_5_{LESSON}.ipynb")  # beside the zips, not in one
    notes = collect_zips(tmp_path, tmp_path / "out", COURSE)
    assert f"ignored roejohn_4_5_{LESSON}.ipynb in {tmp_path}: not zip files" in notes
    hidden = [n for n in notes if "hidden" in n]
    assert len(hidden) == 1 and f"canvas.zip:.jane_1_2_{LESSON}.ipynb" in hidden[0]
    assert "__MACOSX" not in hidden[0]


# -- notebooks that are JSON but not notebooks ------------------------------------------------


def _cells(**cell) -> str:
    base = {"cell_type": "code", "id": "c1", "metadata": {}, "source": "x = 1\n" * 500}
    base.update(cell)
    base.setdefault("outputs", [])
    base.setdefault("execution_count", None)
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [base]})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested more than 100 levels deep"),
        (_cells(metadata={"x": json.loads('{"a":' * 900 + "1" + "}" * 900)}), "100 levels"),
        (_cells(metadata=["nbgrader"]), "cell 1 (id 'c1'): its metadata is a list"),
        (_cells(cell_type="weird"), "cell 1 (id 'c1') has cell_type 'weird'"),
    ],
)
def test_json_that_is_no_notebook_is_invalid_and_says_where(tmp_path, content, message):
    path = _touch(tmp_path / "nb.ipynb", content)
    with pytest.raises(InvalidNotebookError) as error:
        read_submission(path)
    assert message in str(error.value)
    assert "x = 1\\nx = 1" not in str(error.value) and len(str(error.value)) < 300


# -- a whole class ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_class_of_strange_files_is_graded_to_the_end(tmp_path):
    """One grading run: nothing stops it, nothing is followed out of a submission, every
    student has a row."""
    pytest.importorskip("nbgrader")
    from grading_class import ROOT, TIMEOUT, solved, write

    from minigrad_course.grading.pipeline import Settings, grade

    sub = tmp_path / "sub"
    write(solved(), sub / f"alice/{LESSON}/{LESSON}.ipynb")
    odd = Path(os.fsdecode(os.fsencode(sub) + b"/bad\xffname"))
    write(solved(), odd / LESSON / f"{LESSON}.ipynb")
    mallory = sub / "mallory" / LESSON
    write(solved(), mallory / f"{LESSON}.ipynb")
    solutions = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
    (mallory / "submission_secret.txt").symlink_to(solutions)
    (sub / "piper" / LESSON).mkdir(parents=True)
    os.mkfifo(sub / "piper" / LESSON / f"{LESSON}.ipynb")
    deep = solved()
    nested = 1
    for _ in range(95):  # the notebook as deep as a notebook may be: 100 levels
        nested = {"a": nested}
    deep.cells[0].metadata["x"] = nested
    write(deep, sub / f"deep/{LESSON}/{LESSON}.ipynb")

    out = tmp_path / "out"
    grade(ROOT, sub, out, Settings(timeout=TIMEOUT))
    rows = {r["student_id"]: r for r in read_rows(out / "grades.csv")}
    assert {s: (r["status"], r["score"]) for s, r in rows.items()} == {
        "alice": ("graded", "10"),
        "deep": ("graded", "10"),
        r"bad\xffname": ("invalid", ""),
        "mallory": ("invalid", ""),
        "piper": ("missing", ""),
    }
    assert "submission_secret.txt is a symbolic link" in rows["mallory"]["detail"]
    assert f"{LESSON}.ipynb is a named pipe, not a file" in rows["piper"]["detail"]
    assert [p.name for p in (out / "feedback" / "mallory").rglob("*")] == [LESSON, f"{LESSON}.html"]
    assert "BEGIN SOLUTION" not in "".join(
        p.read_text(errors="replace") for p in out.rglob("*") if p.is_file() and "mallory" in str(p)
    )
