"""What `make test` checks: every lesson opens and runs here, as it was released.

Each notebook runs top to bottom in a fresh kernel and keeps going past errors, as "Run All"
does. Every code cell must run, and every error must be an exercise's NotImplementedError:
any other error (a missing package, a given cell that is broken) is the course's fault or
the set-up's, never the student's. A notebook you have worked on fails no test here for the
exercises you finished: their cells simply stop raising.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(ROOT.glob("course/*/*.ipynb"))
# The nbgrader tools an instructor uses; students see the Validate button only.
INSTRUCTOR_PLUGINS = {
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
}
VALIDATE_PLUGIN = "@jupyter/nbgrader:validate-assignment"


def test_the_course_has_lessons():
    assert LESSONS, f"no notebooks in {ROOT / 'course'}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.parent.name)
def test_lesson_runs_to_the_end_failing_only_where_exercises_are_unfinished(path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if cell.execution_count is None:
            problems.append(f"cell {index} never ran")
        for output in cell.outputs:
            if output.output_type == "error" and output.ename != "NotImplementedError":
                problems.append(f"cell {index} raised {output.ename}: {output.evalue}")
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_lab_shows_the_validate_button_and_no_instructor_tools():
    """What `make lab` set up in this environment (binder/hide-instructor-tools)."""
    page_config = Path(sys.prefix, "etc", "jupyter", "labconfig", "page_config.json")
    assert page_config.is_file(), f"{page_config} is missing: run `make clean` and `make lab`"
    config = json.loads(page_config.read_text())
    disabled = {name for name, off in config.get("disabledExtensions", {}).items() if off}
    locked = {name for name, on in config.get("lockedExtensions", {}).items() if on}
    assert disabled >= INSTRUCTOR_PLUGINS, f"still shown: {INSTRUCTOR_PLUGINS - disabled}"
    assert locked >= INSTRUCTOR_PLUGINS, f"not locked: {INSTRUCTOR_PLUGINS - locked}"
    assert VALIDATE_PLUGIN not in disabled
