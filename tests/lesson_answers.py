"""Try a student's answer to one exercise of a lesson, as the student would see it.

A lesson's tests are only as good as the mistakes they catch and the messages they give.
`Lesson` runs the instructor's notebook once in a kernel; then `answer(grade_id, code)`
replaces that exercise's solution with `code`, runs the exercise's test cell the way the
student's notebook holds it (the visible tests) and the way grading restores it (the hidden
tests), and puts the instructor's solution back, so each answer is tried on its own.

    with Lesson("03_backward") as lesson:
        seen = lesson.answer("backward_topological_order", "def topological_order(root): ...")
        assert seen.visible and "comes before its operand" in seen.visible
"""

from __future__ import annotations

import queue
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


@dataclass(frozen=True)
class Seen:
    """What the student sees: the exercise cell's error, the visible tests' error, the
    hidden tests' error (each None when that part ran cleanly, "timeout" when it did not
    finish)."""

    exercise: str | None
    visible: str | None
    hidden: str | None

    @property
    def passes(self) -> bool:
        return self.exercise is None and self.visible is None and self.hidden is None


class Lesson:
    def __init__(self, lesson: str, timeout: float = 30.0) -> None:
        self.lesson, self.timeout = lesson, timeout
        self.notebook = nbformat.read(
            str(ROOT / "solutions" / lesson / f"{lesson}.ipynb"), as_version=4
        )

    def __enter__(self) -> Lesson:
        self.folder = Path(tempfile.mkdtemp(prefix=f"answers-{self.lesson}-"))
        shutil.copytree(ROOT / "solutions" / self.lesson, self.folder, dirs_exist_ok=True)
        self.manager, self.client = start_new_kernel(kernel_name="python3", cwd=str(self.folder))
        for cell in self.notebook.cells:
            if cell.cell_type == "code":
                error = self._run(_without_markers(cell.source), self.timeout * 4)
                if error:
                    raise RuntimeError(f"{self.lesson}: the instructor's notebook failed: {error}")
        return self

    def __exit__(self, *exc) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    def answer(self, grade_id: str, code: str) -> Seen:
        """Run `code` as the answer to exercise `grade_id`, then its tests."""
        solution, tests = self._exercise(grade_id)
        try:
            exercise = self._run(code)
            visible = hidden = None
            for test in tests if exercise is None else ():
                shown, kept = _split(test)
                visible = visible or self._run(shown)
                hidden = hidden or self._run(kept)
            return Seen(exercise, visible, hidden)
        finally:
            error = self._run(_without_markers(solution))
            assert error is None, f"putting the solution of {grade_id} back failed: {error}"

    def _exercise(self, grade_id: str) -> tuple[str, list[str]]:
        cells = self.notebook.cells
        for i, cell in enumerate(cells):
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                tests = []
                for after in cells[i + 1 :]:
                    if not after.metadata.get("nbgrader", {}).get("grade"):
                        break
                    tests.append(after.source)
                return cell.source, tests
        raise KeyError(f"{self.lesson} has no exercise {grade_id!r}")

    def _run(self, code: str, timeout: float | None = None) -> str | None:
        """Run code in the kernel; its error as `Name: message`, or None."""
        timeout = timeout or self.timeout
        msg_id = self.client.execute(code, store_history=False)
        error = None
        while True:
            try:
                msg = self.client.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                self.manager.interrupt_kernel()
                self._drain(msg_id)
                return "timeout"
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "error":
                content = msg["content"]
                error = f"{content['ename']}: {content['evalue']}"
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                self.client.get_shell_msg(timeout=timeout)
                return error

    def _drain(self, msg_id: str) -> None:
        while True:
            msg = self.client.get_iopub_msg(timeout=self.timeout)
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            ):
                self.client.get_shell_msg(timeout=self.timeout)
                return


def solution(lesson: str, grade_id: str) -> str:
    """The instructor's answer to exercise `grade_id` of `lesson` (markers and all: a
    Lesson runs it without them)."""
    notebook = nbformat.read(str(ROOT / "solutions" / lesson / f"{lesson}.ipynb"), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    raise KeyError(f"{lesson} has no exercise {grade_id!r}")


def _split(test: str) -> tuple[str, str]:
    """A test cell's visible part and its hidden part."""
    if HIDDEN_BEGIN not in test:
        return test, ""
    shown, rest = test.split(HIDDEN_BEGIN, 1)
    hidden, after = rest.split(HIDDEN_END, 1) if HIDDEN_END in rest else (rest, "")
    return shown + after, hidden


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.strip().startswith("###"))


# --- the two checks every catalogue gets ----------------------------------------------------
# Each tests/test_answers_<lesson>.py lists WRONG, (grade_id, code, phrase): a mistake and the
# words its visible test must say, and RIGHT, (grade_id, code): correct alternatives, which
# must pass everything. It imports these two tests; tests/conftest.py gives them the file's
# lesson (the `lesson` fixture) and its WRONG and RIGHT (pytest_generate_tests).


def test_wrong_answer_is_named(lesson, grade_id, code, phrase):
    seen = lesson.answer(grade_id, code)
    assert seen.visible is not None, f"the visible tests pass; hidden says {seen.hidden}"
    assert phrase in seen.visible, seen


def test_right_answer_passes(lesson, grade_id, code):
    seen = lesson.answer(grade_id, code)
    assert seen.passes, seen


def lesson_of(module_name: str) -> str:
    """The lesson a catalogue is about, from its file name: test_answers_05_neural_net.py
    is about 05_neural_net."""
    name = module_name.rpartition(".")[2].removeprefix("test_answers_")
    if not (ROOT / "solutions" / name).is_dir():
        raise LookupError(f"{module_name}: no lesson solutions/{name}/ to try answers on")
    return name
