"""Grading straight from LMS zip downloads: collected first, then graded like folders."""

from __future__ import annotations

import zipfile

import nbformat
import pytest

pytest.importorskip("nbgrader")

from grading_class import LESSON, ROOT, TIMEOUT, read, solved

from minigrad_course.grading.pipeline import Settings, grade
from minigrad_course.grading.results import read_rows


@pytest.mark.slow
def test_a_folder_of_lms_zips_is_collected_then_graded(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with zipfile.ZipFile(downloads / "canvas.zip", "w") as canvas:
        canvas.writestr(f"doejane_LATE_1021_5531_{LESSON}.ipynb", nbformat.writes(read("course")))
        canvas.writestr(f"doejane_1021_5532_{LESSON}-1.ipynb", nbformat.writes(solved()))
    with zipfile.ZipFile(downloads / "moodle.zip", "w") as moodle:
        moodle.writestr(
            f"Ann Lee_77_assignsubmission_file_/{LESSON}.ipynb", nbformat.writes(read("course"))
        )
    out = tmp_path / "out"
    grade(ROOT, downloads, out, Settings(timeout=TIMEOUT))
    rows = {r["student_id"]: (r["status"], r["score"]) for r in read_rows(out / "grades.csv")}
    assert rows == {"doejane": ("graded", "10"), "Ann-Lee": ("graded", "0")}
    assert (out / "collected" / "doejane" / LESSON / f"{LESSON}.ipynb").is_file()
    assert (out / "feedback" / "Ann-Lee" / LESSON / f"{LESSON}.html").is_file()
