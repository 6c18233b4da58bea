"""Student code that changes what the tests rely on, instead of passing them (guard.py).

Each cheat below, without the guard, turns a notebook whose exercises are not done at all
into full marks: the test cells stop running, or stop reporting their errors.  With the
guard the released tests run as written before each test cell, so the notebook scores
what its exercises earn (nothing), and the row says ``tampered`` and what was put back.
An honest notebook, plots and all, is not touched.  And after a test cell has run, a later
cell can no longer read its source (the hidden tests) from the kernel's history.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")

from grading_class import LESSON, NOTEBOOK, ROOT, TIMEOUT, TOPIC, cell, index, read, solved, write

from minigrad_course.grading.pipeline import Settings, grade
from minigrad_course.grading.results import read_rows

pytestmark = pytest.mark.slow

FIRST_EXERCISE = f"{TOPIC}_forward_difference"

CHEATS = {
    # IPython rewrites every cell that mentions check_ into `pass` before running it
    "transformer": (
        "get_ipython().input_transformers_cleanup.append(\n"
        "    lambda lines: ['pass\\n'] if any('check_' in l for l in lines) else lines)",
        "IPython's input_transformers_cleanup",
    ),
    # errors are no longer reported, so no test cell shows one
    "silenced": (
        "get_ipython().showtraceback = lambda *args, **kwargs: None",
        "ZMQInteractiveShell.showtraceback",
    ),
    # a custom handler swallows every exception
    "handler": (
        "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)",
        "IPython's custom exception handler",
    ),
    # the test helpers themselves replaced, in minigrad and in the notebook
    "fake-checks": (
        "import minigrad.testing\n"
        "def check_true(*args, **kwargs): pass\n"
        "def check_close(*args, **kwargs): pass\n"
        "minigrad.testing.check_close = check_close\n"
        "import builtins; builtins.NotImplementedError = StopIteration",
        "check_close in the notebook",
    ),
}

LEAK = (
    "import base64 as _b64\n"
    "print('IN', _b64.b64encode(In[-2].encode()).decode())\n"
    "print('I', _b64.b64encode(_i.encode()).decode())\n"
    "import linecache as _lc\n"
    "print('LC', _b64.b64encode(''.join(l for k in list(_lc.cache) "
    "for l in _lc.cache[k][2]).encode()).decode())"
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("guard")
    submissions, out = base / "submissions", base / "out"
    for student, (code, _) in CHEATS.items():
        nb = read("course")  # the release: no exercise done
        cell(nb, FIRST_EXERCISE).source += "\n\n" + code
        write(nb, submissions / student / NOTEBOOK)
    write(read("course"), submissions / "blank" / NOTEBOOK)
    write(solved(), submissions / "honest" / NOTEBOOK)
    nb = solved()
    reader = nbformat.v4.new_code_cell(LEAK)
    nb.cells.insert(index(nb, f"{FIRST_EXERCISE}_test") + 1, reader)
    write(nb, submissions / "reader" / NOTEBOOK)
    nb = read("course")  # nothing solved: the solutions on disk are not the student's own
    instructor = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
    printer = nbformat.v4.new_code_cell(
        f"import json\nfor c in json.load(open({str(instructor)!r}))['cells']:\n"
        f"    print(''.join(c['source']))"
    )
    nb.cells.append(printer)
    write(nb, submissions / "disk-reader" / NOTEBOOK)
    # Without the sandbox: the disk reader below must be able to read the instructor's files,
    # as on a host that cannot run it (the guard works the same in the sandbox and out).
    grade(ROOT, submissions, out, Settings(jobs=2, timeout=TIMEOUT, sandbox="none"))
    return {"out": out, "rows": {r["student_id"]: r for r in read_rows(out / "grades.csv")}}


@pytest.mark.parametrize("student", CHEATS)
def test_a_cheat_gets_what_the_exercises_earn_and_is_reported(graded, student):
    row = graded["rows"][student]
    assert row["status"] == "tampered", row
    assert row["score"] == "0", row
    assert "put back as the tests need them" in row["detail"], row
    assert CHEATS[student][1] in row["detail"], row


def test_honest_notebooks_are_not_touched(graded):
    assert graded["rows"]["honest"]["status"] == "graded"
    assert graded["rows"]["honest"]["score"] == "10"
    assert graded["rows"]["honest"]["detail"] == ""
    assert graded["rows"]["blank"]["status"] == "graded"
    assert graded["rows"]["blank"]["score"] == "0"
    assert graded["rows"]["blank"]["detail"] == ""


def test_a_later_cell_cannot_read_a_test_cells_source(graded):
    """The reader prints In[-2] (the test cell before it), _i and the whole line cache,
    base64-encoded so that the feedback's search for hidden lines cannot see them."""
    row = graded["rows"]["reader"]
    assert (row["status"], row["score"]) == ("graded", "10"), row
    path = Path(graded["out"], "autograded", "reader", LESSON, f"{LESSON}.ipynb")
    nb = json.loads(path.read_text(encoding="utf-8"))
    (printed,) = [
        "".join(o.get("text", ""))
        for c in nb["cells"]
        if c["source"] and "".join(c["source"]).startswith("import base64 as _b64")
        for o in c["outputs"]
    ]
    decoded = {
        line.split()[0]: base64.b64decode(line.split()[1] if len(line.split()) > 1 else "")
        for line in printed.splitlines()
    }
    assert set(decoded) == {"IN", "I", "LC"}
    for name, text in decoded.items():
        assert b"BEGIN HIDDEN TESTS" not in text, name
        assert b"check_own_work" not in text, name  # a line of the hidden tests
    assert (graded["out"] / "feedback" / "reader" / LESSON / f"{LESSON}.html").exists()


def test_solutions_read_from_disk_stay_out_of_the_feedback(graded):
    """The student's cell prints the instructor's notebook; the feedback page must not show
    a line of its solutions (they are blanked, or the page is withheld)."""
    from minigrad_course.grading.feedback import html_text
    from minigrad_course.notebooks import SOLUTION_MARKERS, marked_regions
    from minigrad_course.notebooks import read as read_nb

    source = read_nb(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb")
    released = "\n".join(c.source for c in read("course").cells)
    lines = {
        line.strip()
        for c in source.cells
        for region in marked_regions(c.source, SOLUTION_MARKERS)
        for line in region.splitlines()
        if len(line.strip()) >= 10 and line.strip() not in released
    }
    page = Path(graded["out"], "feedback", "disk-reader", LESSON, f"{LESSON}.html")
    text = html_text(page.read_text(encoding="utf-8"))
    printed = [o.get("text", "") for c in _autograded(graded, "disk-reader") for o in c.outputs]
    assert any(line in "".join(printed) for line in lines)  # the instructor's copy has them
    assert not [line for line in lines if line in text]
    assert "BEGIN SOLUTION" not in text


def _autograded(graded, student: str) -> list:
    from minigrad_course.notebooks import read as read_nb

    path = Path(graded["out"], "autograded", student, LESSON, f"{LESSON}.ipynb")
    return [c for c in read_nb(path).cells if c.cell_type == "code"]


def test_past_the_notebooks_output_cap_every_output_is_cut_with_one_note():
    """Many cells, each under the cell's cap, add up: past the notebook's cap nothing more is
    kept, so a notebook of 200 chatty cells cannot fill the grader's disk."""
    from minigrad_course.grading.run.execute import GradingExecute
    from minigrad_course.grading.run.report import Report

    executor = GradingExecute(max_notebook_output_bytes=1000, max_output_bytes=800)
    executor._report = Report()
    executor._output_bytes, executor._notebook_bytes = {}, 900
    message = {"msg_type": "stream", "content": {"name": "stdout", "text": "x" * 300}}
    outs: list = []
    assert executor.output(outs, message, None, 5) is None
    assert executor._report.notebook_truncated == 5
    assert len(outs) == 1 and "the notebook printed more than 1000 bytes" in outs[0].text
    assert executor.output(outs, message, None, 6) is None
    assert len(outs) == 1  # one note, at the first cell cut
