"""A class of submissions to grade in tests: correct, blank, and every fault a student's
notebook can have, each with the row ``minigrad-course grade`` must give it.

Every submission starts from the released lesson (what students receive), with the
exercises solved as in ``solutions/`` unless the fault says otherwise; then one fault is
applied.  Lesson 01 is used because it runs fastest; its tests are worth 1, 2, 2, 2 and 3
points (``forward_difference`` to ``numerical_gradient``).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LESSON = "01_derivatives"
TOPIC = "derivatives"
TIMEOUT = 10  # seconds per cell when grading this class

# What student code does to look around: the working folder, its parents and their
# subfolders, for a gradebook, the instructor's notebooks or anybody else's notebook.
SNOOP = r"""
import os as _os, resource as _resource
from pathlib import Path as _Path
_own = _Path.cwd()
_found = []
for _folder in [_own, *_own.parents]:
    for _entry in [_folder, *(_p for _p in _folder.iterdir() if _p.is_dir())][:200]:
        try:
            _names = [_p for _p in _entry.iterdir()]
        except OSError:
            continue
        for _p in _names:
            if _p.name in ("gradebook.db", "solutions", "source", "submitted", "autograded"):
                _found.append(str(_p))
            elif _p.suffix == ".ipynb" and _p.parent != _own:
                _found.append(str(_p))
print("SNOOP found", sorted(_found))
print("SNOOP cwd", sorted(_p.name for _p in _own.iterdir()))
print("SNOOP limits", [_resource.getrlimit(_r)[0] for _r in
      (_resource.RLIMIT_AS, _resource.RLIMIT_CPU, _resource.RLIMIT_NPROC, _resource.RLIMIT_CORE)])
print("SNOOP env", sorted(_os.environ))
"""


@dataclass(frozen=True)
class Expected:
    status: str
    score: float | None
    details: tuple[str, ...] = ()  # pieces the detail must contain ("" : empty detail)


def read(step: str, lesson: str = LESSON) -> nbformat.NotebookNode:
    """The lesson's notebook in ``solutions`` or ``course`` (a fresh copy each time)."""
    return copy.deepcopy(_read(step, lesson))


@functools.cache
def _read(step: str, lesson: str) -> nbformat.NotebookNode:
    return nbformat.read(str(ROOT / step / lesson / f"{lesson}.ipynb"), as_version=4)


def solved(lesson: str = LESSON) -> nbformat.NotebookNode:
    """The released notebook with every exercise solved as the instructor did."""
    nb = read("course", lesson)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in read("solutions", lesson).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            lines = answers[grade_id].splitlines()
            cell.source = "\n".join(line for line in lines if "### " not in line)
    return nb


def cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def index(nb: nbformat.NotebookNode, grade_id: str) -> int:
    return nb.cells.index(cell(nb, grade_id))


def append_to(grade_id: str, code: str) -> Callable:
    def fault(nb):
        cell(nb, grade_id).source += "\n" + code
        return nb

    return fault


def _edit_test(nb):
    cell(nb, f"{TOPIC}_forward_difference_test").source = "pass  # nothing to check here"
    return nb


def _delete_test(nb):
    del nb.cells[index(nb, f"{TOPIC}_central_difference_test")]
    return nb


def _duplicate_test(nb):
    at = index(nb, f"{TOPIC}_error_order_test")
    twin = copy.deepcopy(nb.cells[at])
    twin.id = "a-copy-of-the-test"
    nb.cells.insert(at + 1, twin)
    return nb


def _markdown_test(nb):
    at = index(nb, f"{TOPIC}_best_step_test")
    old = nb.cells[at]
    nb.cells[at] = nbformat.v4.new_markdown_cell(old.source, metadata=old.metadata, id=old.id)
    return nb


def _edit_points(nb):
    cell(nb, f"{TOPIC}_numerical_gradient_test").metadata["nbgrader"]["points"] = 30
    return nb


def _big_output(nb):
    printer = nbformat.v4.new_code_cell('print("x" * 10_000_000)')
    printer.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 10_000_000)]
    nb.cells.insert(index(nb, f"{TOPIC}_forward_difference_test") + 1, printer)
    return nb


def _read_history(nb):
    # In[-2] is the previous cell as the kernel ran it: a test cell with its hidden tests.
    reader = nbformat.v4.new_code_cell("print(In[-2])")
    nb.cells.insert(index(nb, f"{TOPIC}_forward_difference_test") + 1, reader)
    return nb


# student -> (the fault applied to the solved notebook, the expected row)
FAULTS: dict[str, tuple[Callable | None, Expected]] = {
    "correct": (None, Expected("graded", 10, ("",))),
    "edited-test": (
        _edit_test,
        Expected("tampered", 10, (f"{TOPIC}_forward_difference_test: edited",)),
    ),
    "deleted-test": (
        _delete_test,
        Expected("tampered", 10, (f"{TOPIC}_central_difference_test: deleted",)),
    ),
    "duplicated-test": (
        _duplicate_test,
        Expected("tampered", 10, (f"{TOPIC}_error_order_test: duplicated (2 copies)",)),
    ),
    "markdown-test": (
        _markdown_test,
        Expected("tampered", 10, (f"{TOPIC}_best_step_test: turned into a markdown cell",)),
    ),
    "edited-points": (
        _edit_points,
        Expected("tampered", 10, ("nbgrader metadata changed (", "points 3 -> 30")),
    ),
    "infinite-loop": (
        # Sleeping, not spinning: the same infinite loop without taking a core from the tests.
        append_to(f"{TOPIC}_numerical_gradient", "import time\nwhile True:\n    time.sleep(1)"),
        Expected("timeout", 10, (f"{TOPIC}_numerical_gradient ran past the {TIMEOUT} s limit",)),
    ),
    "deaf-loop": (  # ignores the interrupt: the kernel is stopped, the last test never runs
        append_to(
            f"{TOPIC}_numerical_gradient",
            "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "while True:\n    time.sleep(1)",
        ),
        Expected(
            "timeout",
            7,
            (
                f"{TOPIC}_numerical_gradient ran past the {TIMEOUT} s limit",
                "did not stop when interrupted",
            ),
        ),
    ),
    "exits": (
        append_to(f"{TOPIC}_error_order", "import os\nos._exit(3)"),
        Expected("crashed", None, (f"the kernel died in {TOPIC}_error_order", "exit")),
    ),
    "segfault": (
        append_to(f"{TOPIC}_best_step", "import ctypes\nctypes.string_at(0)"),
        Expected("crashed", None, (f"the kernel died in {TOPIC}_best_step", "SIGSEGV")),
    ),
    "huge-allocation": (
        append_to(f"{TOPIC}_forward_difference", "hog = bytearray(64 * 2**30)"),
        Expected(
            "graded",
            10,
            (f"MemoryError in {TOPIC}_forward_difference (the memory cap is 2 GiB)",),
        ),
    ),
    "snoop": (append_to(f"{TOPIC}_central_difference", SNOOP), Expected("graded", 10, ("",))),
    "big-output": (_big_output, Expected("graded", 10, ("output cut off in cell",))),
    "reads-history": (_read_history, Expected("graded", 10, ("",))),
}


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def build_class(folder: Path) -> dict[str, Expected]:
    """Write the class into ``folder`` (``<student>/01_derivatives/01_derivatives.ipynb``);
    the row each student must get."""
    expected = {}
    notebook = f"{LESSON}/{LESSON}.ipynb"
    for student, (fault, row) in FAULTS.items():
        nb = solved()
        write(fault(nb) if fault else nb, folder / student / notebook)
        expected[student] = row
    # What nbgrader's collect leaves beside a notebook from the exchange: not extra files.
    (folder / "correct" / LESSON / "timestamp.txt").write_text("2026-03-02 09:15:00.000000 UTC")
    (folder / "correct" / LESSON / "submission_secret.txt").write_text("3f9a0c")

    write(read("course"), folder / "blank" / notebook)
    expected["blank"] = Expected("graded", 0, ("",))

    text = json.dumps(solved())
    (folder / "malformed" / LESSON).mkdir(parents=True)
    (folder / "malformed" / notebook).write_text(text[: len(text) // 2], encoding="utf-8")
    expected["malformed"] = Expected("invalid", None, ("malformed JSON",))

    write(solved(), folder / "misnamed" / LESSON / "Untitled.ipynb")
    expected["misnamed"] = Expected(
        "missing", None, (f"no {LESSON}.ipynb in the submission", "has Untitled.ipynb instead")
    )
    (folder / "absent").mkdir()
    (folder / "absent" / "README.txt").write_text("I will hand it in next week\n")
    expected["absent"] = Expected("missing", None, (f"no {LESSON}/ folder in the submission",))

    write(solved(), folder / "extra-files" / notebook)
    extra = folder / "extra-files" / LESSON
    (extra / "notes.txt").write_text("scratch work\n")
    # On the kernel's path, this would replace the reference package the hidden tests use.
    (extra / "minigrad.py").write_text("raise RuntimeError('a student module shadowed minigrad')\n")
    (extra / ".ipynb_checkpoints").mkdir()
    (extra / ".ipynb_checkpoints" / f"{LESSON}-checkpoint.ipynb").write_text("{}")
    expected["extra-files"] = Expected(
        "graded", 10, ("extra files not graded: minigrad.py, notes.txt",)
    )

    write(solved(), folder / "jane doe" / notebook)
    expected["jane doe"] = Expected("invalid", None, ("is not a usable student id",))
    return expected


NOTEBOOK = f"{LESSON}/{LESSON}.ipynb"


def build_review_class(folder: Path) -> None:
    """A small class to review: all right (ada), blank (bob), and a kernel that dies (cy)."""
    write(solved(), folder / "ada" / NOTEBOOK)
    write(read("course"), folder / "bob" / NOTEBOOK)
    exits, _ = FAULTS["exits"]
    write(exits(solved()), folder / "cy" / NOTEBOOK)
