"""Reading submissions and putting their released tests back (minigrad_course/grading/tamper.py)."""

from __future__ import annotations

import copy
import json

import nbformat
import pytest
from grading_class import TOPIC, cell, index, read, solved

from minigrad_course.grading import tamper
from minigrad_course.grading.tamper import InvalidNotebookError, read_submission, restore_tests

FD_TEST = f"{TOPIC}_forward_difference_test"
CD_TEST = f"{TOPIC}_central_difference_test"


@pytest.fixture(scope="module")
def released():
    return read("course")


def _assert_tests_are_released(nb, released):
    for original in released.cells:
        if original.metadata.get("nbgrader", {}).get("grade"):
            grade_id = original.metadata["nbgrader"]["grade_id"]
            copies = [
                c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
            ]
            assert len(copies) == 1, grade_id
            assert copies[0] == original, grade_id
    nbformat.validate(nb)
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids))


def test_clean_work_is_not_tampered(released):
    for nb in (solved(), read("course")):
        restored = restore_tests(nb, released)
        assert restored.changes == []
        assert restored.notebook == nb


def test_an_edited_test_is_put_back(released):
    nb = solved()
    cell(nb, FD_TEST).source = "assert True"
    restored = restore_tests(nb, released)
    assert restored.changes == [f"{FD_TEST}: edited"]
    _assert_tests_are_released(restored.notebook, released)


def test_a_deleted_test_returns_right_after_its_exercise(released):
    nb = solved()
    del nb.cells[index(nb, CD_TEST)]
    restored = restore_tests(nb, released)
    assert restored.changes == [f"{CD_TEST}: deleted"]
    _assert_tests_are_released(restored.notebook, released)
    at = index(restored.notebook, CD_TEST)
    assert restored.notebook.cells[at - 1].metadata["nbgrader"]["grade_id"] == (
        f"{TOPIC}_central_difference"
    )


def test_a_duplicated_test_keeps_one_test_and_the_copy_as_plain_code(released):
    nb = solved()
    at = index(nb, FD_TEST)
    twin = copy.deepcopy(nb.cells[at])
    twin.source = "print('my own experiment')"
    twin.id = "twin"
    nb.cells.insert(at, twin)  # the edited copy comes first
    restored = restore_tests(nb, released)
    assert restored.changes == [f"{FD_TEST}: duplicated (2 copies)"]
    _assert_tests_are_released(restored.notebook, released)
    plain = [c for c in restored.notebook.cells if c.source == "print('my own experiment')"]
    assert len(plain) == 1 and "nbgrader" not in plain[0].metadata


def test_a_test_turned_into_markdown_is_code_again(released):
    nb = solved()
    at = index(nb, FD_TEST)
    old = nb.cells[at]
    nb.cells[at] = nbformat.v4.new_markdown_cell(old.source, metadata=old.metadata, id=old.id)
    restored = restore_tests(nb, released)
    assert restored.changes == [f"{FD_TEST}: turned into a markdown cell"]
    _assert_tests_are_released(restored.notebook, released)


def test_changed_points_and_metadata_are_named(released):
    nb = solved()
    meta = cell(nb, FD_TEST).metadata["nbgrader"]
    meta["points"], meta["locked"] = 100, False
    restored = restore_tests(nb, released)
    assert restored.changes == [
        f"{FD_TEST}: nbgrader metadata changed (locked True -> False, points 1 -> 100)"
    ]
    _assert_tests_are_released(restored.notebook, released)


def test_a_test_whose_metadata_was_removed_is_found_by_its_cell_id(released):
    nb = solved()
    at = index(nb, FD_TEST)
    del nb.cells[at].metadata["nbgrader"]
    nb.cells[at].source += "\nprint('edited too')"
    restored = restore_tests(nb, released)
    assert restored.changes == [
        f"{FD_TEST}: its nbgrader metadata was removed",
        f"{FD_TEST}: edited",
    ]
    _assert_tests_are_released(restored.notebook, released)
    assert index(restored.notebook, FD_TEST) == at


def test_made_up_graded_cells_lose_their_metadata(released):
    nb = solved()
    fake = nbformat.v4.new_code_cell("print('free points')")
    fake.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 50, "locked": True}
    nb.cells.append(fake)
    restored = restore_tests(nb, released)
    assert restored.changes == ["a cell claims to be the test 'bonus', which is not released"]
    assert "nbgrader" not in restored.notebook.cells[-1].metadata
    _assert_tests_are_released(restored.notebook, released)


def test_an_exercise_cannot_become_a_graded_cell(released):
    nb = solved()
    meta = cell(nb, f"{TOPIC}_forward_difference").metadata["nbgrader"]
    meta["grade"], meta["points"] = True, 5
    restored = restore_tests(nb, released)
    assert restored.changes == [
        f"{TOPIC}_forward_difference: nbgrader metadata changed (grade False -> True, "
        "points absent -> 5)"
    ]
    fixed = cell(restored.notebook, f"{TOPIC}_forward_difference")
    assert (
        fixed.metadata["nbgrader"]
        == cell(released, f"{TOPIC}_forward_difference").metadata["nbgrader"]
    )
    assert fixed.source == cell(nb, f"{TOPIC}_forward_difference").source  # the work stays


def test_a_copied_exercise_is_plain_student_code(released):
    nb = solved()
    at = index(nb, f"{TOPIC}_forward_difference")
    twin = copy.deepcopy(nb.cells[at])
    twin.id = "my-copy"
    nb.cells.insert(at + 1, twin)
    restored = restore_tests(nb, released)
    assert restored.changes == []
    kept = [c for c in restored.notebook.cells if c.id == "my-copy"]
    assert kept and "nbgrader" not in kept[0].metadata


def test_trailing_whitespace_from_an_editor_is_not_tampering(released):
    nb = solved()
    cell(nb, FD_TEST).source = (
        "\n".join(line + "  " for line in cell(nb, FD_TEST).source.splitlines()) + "\n\n"
    )
    assert restore_tests(nb, released).changes == []


def test_restoring_never_changes_the_submitted_notebook(released):
    nb = solved()
    del nb.cells[index(nb, CD_TEST)]
    before = copy.deepcopy(nb)
    restore_tests(nb, released)
    assert nb == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"cells": [', "malformed JSON: Expecting value (line 1, column 12)"),
        (b"[1, 2, 3]", "not a Jupyter notebook"),
        (b'{"hello": "world"}', "not a Jupyter notebook"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 7}', "not a valid"),
    ],
)
def test_unreadable_files_are_invalid_with_a_reason(tmp_path, content, message):
    path = tmp_path / "01_derivatives.ipynb"
    path.write_bytes(content)
    with pytest.raises(InvalidNotebookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_submission(path)


def test_a_huge_file_is_invalid_without_being_read(tmp_path, monkeypatch):
    monkeypatch.setattr(tamper, "MAX_NOTEBOOK_BYTES", 1000)
    path = tmp_path / "big.ipynb"
    path.write_text(json.dumps(solved()))
    with pytest.raises(InvalidNotebookError, match="more than a notebook may be"):
        read_submission(path)


def test_an_old_notebook_format_is_read_and_upgraded(tmp_path):
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": "1 + 1",
                        "outputs": [],
                        "language": "python",
                        "metadata": {},
                    }
                ]
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    nb = read_submission(path)
    assert nb.nbformat == 4 and nb.cells[0].source == "1 + 1"


def test_a_notebook_missing_cell_ids_is_repaired(tmp_path):
    nb = solved()
    data = json.loads(nbformat.writes(nb))
    for c in data["cells"]:
        c.pop("id")
    path = tmp_path / "no-ids.ipynb"
    path.write_text(json.dumps(data))
    read_back = read_submission(path)
    assert len(read_back.cells) == len(nb.cells)
