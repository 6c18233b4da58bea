"""``minigrad-course release``: regenerate the student notebooks from the instructor ones.

nbgrader's ``generate_assignment`` does the work (removing solutions and hidden tests,
locking test cells, recording checksums); this module runs it and then writes every
notebook in the normalized form, so that releasing twice gives identical bytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import notebooks
from .course import RELEASE, SOURCE, CourseError
from .course import notebooks as notebooks_of


def release(root: Path, assignment_ids: list[str], *, log=print) -> None:
    """Regenerate ``course/<id>/`` from ``solutions/<id>/`` for each assignment."""
    for assignment in assignment_ids:
        for path in notebooks_of(root, SOURCE, assignment):
            if notebooks.write_normalized(path):
                log(f"normalized {path.relative_to(root)} (outputs and editor state removed)")
        run_nbgrader(root, ["generate_assignment", assignment, "--force", "--no-db"])
        for path in notebooks_of(root, RELEASE, assignment):
            notebooks.write_normalized(path)
        log(f"released {assignment} -> {RELEASE}/{assignment}/")


def run_nbgrader(root: Path, args: list[str], *, timeout: float | None = None) -> str:
    """Run an nbgrader command in the course root; its combined output, or a CourseError
    carrying that output when it fails."""
    command = [sys.executable, "-m", "nbgrader", *args]
    put_scripts_on_path()
    try:
        done = subprocess.run(
            command,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise CourseError("cannot run nbgrader: is Python's executable missing?") from None
    output = done.stdout + done.stderr
    if "No module named nbgrader" in output:
        raise CourseError(
            "nbgrader is not installed: pip install 'minigrad-course[course]' (or make venv)"
        )
    if done.returncode != 0 or "[ERROR]" in output:
        raise CourseError(f"nbgrader {' '.join(args)} failed:\n{output.strip()}")
    return output


def put_scripts_on_path() -> None:
    """Make this Python's scripts folder the first on PATH.

    nbgrader runs the ``alembic`` command by name to set up its gradebook; when minigrad-course
    is started as ``.venv/bin/minigrad-course`` without activating the venv, that command is
    not on PATH otherwise.
    """
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != scripts:
        os.environ["PATH"] = scripts + os.pathsep + path
