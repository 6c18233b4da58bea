"""Finding submissions in folders and LMS zips (minigrad_course/grading/collect.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from minigrad_course.course import CourseError
from minigrad_course.grading.collect import _parse_member, collect_zips, has_zips, plan

COURSE = {"01_derivatives": ("01_derivatives",), "02_value": ("02_value",)}
NOTEBOOK = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}'


def _touch(path: Path, text: str = NOTEBOOK) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_every_student_gets_every_assignment_found_in_the_class(tmp_path):
    _touch(tmp_path / "alice/01_derivatives/01_derivatives.ipynb")
    _touch(tmp_path / "bob/02_value/02_value.ipynb")
    work = plan(tmp_path, COURSE)
    assert [u.key for u in work.units] == [
        ("alice", "01_derivatives"),
        ("alice", "02_value"),
        ("bob", "01_derivatives"),
        ("bob", "02_value"),
    ]
    alice_02 = work.units[1]
    assert alice_02.folder is None and alice_02.notebooks == ("02_value",)
    assert work.warnings == []


def test_chosen_assignments_only(tmp_path):
    _touch(tmp_path / "alice/01_derivatives/01_derivatives.ipynb")
    _touch(tmp_path / "alice/02_value/02_value.ipynb")
    work = plan(tmp_path, COURSE, ["02_value"])
    assert [u.key for u in work.units] == [("alice", "02_value")]


def test_extra_files_are_listed_and_editor_litter_is_not(tmp_path):
    folder = tmp_path / "alice/01_derivatives"
    _touch(folder / "01_derivatives.ipynb")
    _touch(folder / "timestamp.txt", "2026-01-01 10:00:00 UTC")
    _touch(folder / "data/points.csv", "1,2")
    _touch(folder / "Untitled.ipynb")
    _touch(folder / ".ipynb_checkpoints/01_derivatives-checkpoint.ipynb")
    _touch(folder / "__MACOSX/._01_derivatives.ipynb")
    (unit,) = plan(tmp_path, COURSE, ["01_derivatives"]).units
    assert unit.extra == ("Untitled.ipynb", "data/points.csv")


def test_a_misplaced_notebook_is_pointed_at(tmp_path):
    _touch(tmp_path / "alice/01_derivatives.ipynb")
    _touch(tmp_path / "alice/01_derivatives/notes.txt", "todo")
    _touch(tmp_path / "bob/01_derivatives/01_derivatives (1).ipynb")
    alice, bob = plan(tmp_path, COURSE).units
    assert alice.hints == (("01_derivatives", "found at alice/01_derivatives.ipynb instead"),)
    assert bob.hints == (("01_derivatives", "the folder has 01_derivatives (1).ipynb instead"),)


def test_unusable_student_ids_and_strays_are_reported_not_fatal(tmp_path):
    _touch(tmp_path / "jane doe/01_derivatives/01_derivatives.ipynb")
    _touch(tmp_path / "alice/01_derivatives/01_derivatives.ipynb")
    _touch(tmp_path / "alice/99_extra/99_extra.ipynb")
    _touch(tmp_path / "grades.xlsx", "")
    work = plan(tmp_path, COURSE)
    problems = {u.student: u.problem for u in work.units}
    assert problems["alice"] == ""
    assert "not a usable student id" in problems["jane doe"]
    assert any("ignored grades.xlsx" in w for w in work.warnings)
    assert any("alice/99_extra/: not an assignment" in w for w in work.warnings)


def test_no_submissions_is_a_clear_error(tmp_path):
    with pytest.raises(CourseError, match="no submissions in"):
        plan(tmp_path, COURSE)
    with pytest.raises(CourseError, match="no such folder of submissions"):
        plan(tmp_path / "nope", COURSE)
    (tmp_path / "alice").mkdir()
    with pytest.raises(CourseError, match="no assignment folders"):
        plan(tmp_path, COURSE)


ASSIGNMENT_OF = {"01_derivatives": "01_derivatives", "02_value": "02_value"}


@pytest.mark.parametrize(
    ("member", "parsed"),
    [
        ("doejane_12345_67890_01_derivatives.ipynb", ("doejane", "12345", "01_derivatives", 0)),
        (
            "doejane_late_12345_67890_01_derivatives-2.ipynb",
            ("doejane", "12345", "01_derivatives", 2),
        ),
        ("submissions/doejane_1_2_02_value (3).ipynb", ("doejane", "1", "02_value", 3)),
        (
            "Jane Doe_4242_assignsubmission_file_/02_value.ipynb",
            ("Jane Doe", "4242", "02_value", 0),
        ),
        ("alice/01_derivatives/01_derivatives.ipynb", ("alice", "", "01_derivatives", 0)),
        ("doejane_12345_67890_notes.ipynb", None),
        ("doejane_12345_67890_01_derivatives.py", None),
        ("01_derivatives.ipynb", None),
        ("__MACOSX/doejane_1_2_01_derivatives.ipynb", None),
    ],
)
def test_lms_file_names(member, parsed):
    """Who the file is from (name and LMS number), which notebook, which re-upload."""
    found = _parse_member(member, ASSIGNMENT_OF)
    if found is not None:
        owner, notebook, reupload = found
        found = (owner.name, owner.participant, notebook, reupload)
    assert found == parsed


def _zip(path: Path, members: dict[str, str], date=(2026, 1, 1, 12, 0, 0)) -> None:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, text in members.items():
            zipped.writestr(zipfile.ZipInfo(name, date), text)


def test_zips_are_collected_into_the_grading_layout(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    _zip(
        downloads / "submissions.zip",
        {
            "doejane_11_21_01_derivatives.ipynb": "first",
            "doejane_11_22_01_derivatives-1.ipynb": "re-upload",
            "roejohn_LATE_12_23_01_derivatives.ipynb": "john",
            "roejohn_12_23_reflection.pdf": "not a notebook",
        },
    )
    _zip(downloads / "moodle.zip", {"Ann Lee_77_assignsubmission_file_/02_value.ipynb": "ann"})
    (downloads / "broken.zip").write_text("not a zip at all")
    assert has_zips(downloads)
    dest = tmp_path / "collected"
    notes = collect_zips(downloads, dest, COURSE)
    files = {str(p.relative_to(dest)): p.read_text() for p in dest.rglob("*.ipynb")}
    assert files == {
        "doejane/01_derivatives/01_derivatives.ipynb": "re-upload",
        "roejohn/01_derivatives/01_derivatives.ipynb": "john",
        "Ann-Lee/02_value/02_value.ipynb": "ann",
    }
    text = "\n".join(notes)
    assert "collected 3 notebook(s) from 3 zip file(s)" in text
    assert "doejane 01_derivatives: 2 uploads, kept submissions.zip:" in text
    assert "could not read broken.zip" in text
    assert "ignored 1 file(s) in the zips that are not course notebooks" in text

    again = collect_zips(downloads, dest, COURSE)
    assert again == notes
    assert {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()} == set(files)


def test_the_newest_of_equal_uploads_wins(tmp_path):
    _zip(tmp_path / "a.zip", {"x_1_2_01_derivatives.ipynb": "old"}, (2026, 1, 1, 9, 0, 0))
    _zip(tmp_path / "b.zip", {"x_1_3_01_derivatives.ipynb": "new"}, (2026, 1, 2, 9, 0, 0))
    collect_zips(tmp_path, tmp_path / "out", COURSE)
    assert (tmp_path / "out/x/01_derivatives/01_derivatives.ipynb").read_text() == "new"


def test_paths_inside_a_zip_never_choose_where_files_go(tmp_path):
    _zip(
        tmp_path / "evil.zip",
        {
            "../../escaped_1_2_01_derivatives.ipynb": "a",
            "/abs/olute_1_2_01_derivatives.ipynb": "b",
        },
    )
    dest = tmp_path / "out"
    collect_zips(tmp_path, dest, COURSE)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.ipynb"))
    assert written == [
        "out/escaped/01_derivatives/01_derivatives.ipynb",
        "out/olute/01_derivatives/01_derivatives.ipynb",
    ]
