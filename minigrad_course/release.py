"""``minigrad-course release``: regenerate the student notebooks from the instructor ones.

nbgrader's ``generate_assignment`` does the work (removing solutions and hidden tests,
locking test cells, recording checksums); this module runs it and then writes every
notebook in the normalized form, so that releasing twice gives identical bytes.

A release is made in a scratch copy of the course and put in place only once it succeeded:
nbgrader's ``--force`` deletes the old release before it starts, so a lesson it fails on
would otherwise lose its committed ``course/<lesson>/``.  The lessons are first read the way
nbgrader will read them, so that a mistake is reported by notebook and cell rather than as
nbgrader's traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from . import notebooks
from .course import CONFIG_FILE, RELEASE, SOURCE, CourseError
from .course import notebooks as notebooks_of

# nbgrader's default delimiters: a line holding one of these opens or closes a region,
# whatever else the line says (the course's nbgrader_config.py keeps the defaults).
SOLUTION_REGION = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN_TEST_REGION = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def release(root: Path, assignment_ids: list[str], *, log=print) -> None:
    """Regenerate ``course/<id>/`` from ``solutions/<id>/`` for each assignment.

    Every lesson is read first, and nothing is written if one has a mistake.  Each is then
    released in a scratch folder; its ``solutions/`` and ``course/`` folders are written only
    when nbgrader succeeded, so a failure leaves them as they were.
    """
    problems = [
        problem
        for assignment in assignment_ids
        for path in notebooks_of(root, SOURCE, assignment)
        for problem in source_problems(path, root)
    ]
    if problems:
        raise CourseError(
            "cannot release: nothing was changed\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
    for assignment in assignment_ids:
        sources = notebooks_of(root, SOURCE, assignment)
        with tempfile.TemporaryDirectory(prefix="minigrad-release-") as scratch:
            work = Path(scratch)
            shutil.copy2(root / CONFIG_FILE, work / CONFIG_FILE)
            shutil.copytree(root / SOURCE / assignment, work / SOURCE / assignment)
            for path in notebooks_of(work, SOURCE, assignment):
                notebooks.write_normalized(path)
            try:
                run_nbgrader(work, ["generate_assignment", assignment, "--force", "--no-db"])
            except CourseError as error:
                message = str(error).replace(str(work), str(root))
                kept = f"{RELEASE}/{assignment}/ is as it was"
                raise CourseError(f"{message}\n{assignment} was not released: {kept}") from None
            for path in notebooks_of(work, RELEASE, assignment):
                notebooks.write_normalized(path)

            for path in sources:
                normalized = (work / SOURCE / assignment / path.name).read_bytes()
                if path.read_bytes() != normalized:
                    path.write_bytes(normalized)
                    log(f"normalized {path.relative_to(root)} (outputs and editor state removed)")
            _replace_folder(work / RELEASE / assignment, root / RELEASE / assignment)
        log(f"released {assignment} -> {RELEASE}/{assignment}/")


def source_problems(path: Path, root: Path) -> list[str]:
    """What nbgrader would stop at in the instructor notebook ``path``, each naming the
    notebook and the cell: unreadable JSON, a solution or hidden-test region left open or
    nested or in a cell of the wrong kind, a missing or repeated grade_id, a test without
    points.  An empty list: nbgrader can release it."""
    name = path.relative_to(root)
    try:
        nb = notebooks.read(path)
        nbformat.validate(nb)
    except (nbformat.ValidationError, nbformat.reader.NotJSONError) as error:
        reason = error.__cause__ or error  # for JSON: where the parser stopped
        first_line = str(reason).strip().splitlines()[0][:200]
        return [f"{name} is not a valid notebook (damaged or cut short?): {first_line}"]
    except Exception as error:  # whatever the file holds, the author needs only its name
        return [f"{name} cannot be read as a notebook: {type(error).__name__}: {error}"]

    problems = []
    cells_with_id: dict[str, int] = {}  # grade_id: the position of its cell
    for index, cell in enumerate(nb.cells):
        label = _cell_label(cell, index)
        meta = cell.metadata.get("nbgrader", {})
        if not isinstance(meta, dict):
            problems.append(f"{name}, {label}: its nbgrader metadata is not a dict")
            continue
        problems += [
            f"{name}, {label}: {problem}"
            for problem in _region_problems(cell.source, SOLUTION_REGION, meta.get("solution"))
            + _region_problems(cell.source, HIDDEN_TEST_REGION, meta.get("grade"))
        ]
        if not (meta.get("grade") or meta.get("solution") or meta.get("locked")):
            continue
        grade_id = meta.get("grade_id")
        if not isinstance(grade_id, str) or not grade_id:
            problems.append(f"{name}, {label}: an nbgrader cell without a grade_id")
        elif grade_id in cells_with_id:
            problems.append(
                f"{name}, cell {index + 1}: its grade_id {grade_id!r} is also the grade_id of "
                f"cell {cells_with_id[grade_id]} (each nbgrader cell needs its own)"
            )
        else:
            cells_with_id[grade_id] = index + 1
        if meta.get("grade") and "points" not in meta:
            problems.append(f"{name}, {label}: a graded test cell without points")
    return problems


def _region_problems(source: str, region: tuple[str, str], allowed: bool) -> list[str]:
    """Problems with ``region``'s markers in one cell, found the way nbgrader scans them: a
    BEGIN inside an open region, a region never closed, a region in a cell that is not of
    the kind that may hold it (``allowed``)."""
    begin, end = region
    kind = "solution" if region == SOLUTION_REGION else "graded test"
    problems = []
    opened = found = False
    for line in source.split("\n"):
        if begin in line:
            if opened:
                problems.append(f"{begin} inside a region that is already open (nested)")
            opened = found = True
        elif end in line:
            opened = False
    if opened:
        problems.append(f"{begin} without a matching {end}")
    if found and not allowed:
        problems.append(f"a {begin} region in a cell not marked as a {kind} cell")
    return problems


def _cell_label(cell: nbformat.NotebookNode, index: int) -> str:
    """A cell as the author can find it: its grade_id, else its position (counting from 1)
    and its first line."""
    meta = cell.metadata.get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    if isinstance(grade_id, str) and grade_id:
        return f"cell {grade_id!r}"
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    shown = first if len(first) <= 50 else first[:47] + "..."
    return f"cell {index + 1} ({cell.cell_type}: {shown!r})"


def _replace_folder(fresh: Path, target: Path) -> None:
    """Put a copy of ``fresh`` where ``target`` is, so that ``target`` always holds one whole
    release: the copy is made beside it (same file system), then two renames swap them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".{target.name}.release-new")
    outgoing = target.with_name(f".{target.name}.release-old")
    # What a release stopped halfway may have left: a partial copy, and the old release
    # moved aside (put back if it was not replaced yet).
    if incoming.exists():
        shutil.rmtree(incoming)
    if outgoing.exists() and not target.exists():
        outgoing.rename(target)
    elif outgoing.exists():
        shutil.rmtree(outgoing)

    shutil.copytree(fresh, incoming)
    if target.exists():
        target.rename(outgoing)
    incoming.rename(target)
    if outgoing.exists():
        shutil.rmtree(outgoing)


def run_nbgrader(root: Path, args: list[str], *, timeout: float | None = None) -> str:
    """Run an nbgrader command in the course root; its combined output, or a CourseError
    saying what went wrong when it fails."""
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
        raise CourseError(f"nbgrader {' '.join(args)} failed:\n{_errors(output)}")
    return output


_EXCEPTION_LINE = re.compile(r"^\s*[\w.]*(Error|Exception|Exit|Interrupt)\b:")
_GENERIC_ERRORS = ("Please see the", "Cell contents are:", "Traceback (most recent call last)")


def _errors(output: str) -> str:
    """nbgrader's failure without its tracebacks, which show nbgrader's code and not the
    course's: the exception each traceback ends with, and nbgrader's own error lines.  The
    last lines of the output when neither is there."""
    lines = []
    for line in output.splitlines():
        line = line.strip()
        wanted = _EXCEPTION_LINE.match(line) or (
            "| ERROR]" in line and not any(g in line for g in _GENERIC_ERRORS)
        )
        if wanted and line not in lines:
            lines.append(line)
    if not lines:
        lines = [line.rstrip() for line in output.strip().splitlines()[-20:]]
    return "\n".join(f"  {line}" for line in lines) or "  (no output)"


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
