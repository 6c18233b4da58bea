"""Reading and writing notebooks in one normalized form.

A committed notebook carries no outputs, no execution counts and no editor state, and every
cell has a stable id, so that diffs show only what an author changed and regenerating the
student notebooks gives the same bytes every time.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbformat

# Cell metadata worth keeping: nbgrader's, and what JupyterLab uses to lock cells.
_KEPT_CELL_METADATA = ("nbgrader", "tags", "deletable", "editable")
_KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_TEST_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def normalized(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` without outputs or editor state, with a stable id on every cell."""
    nb = nbformat.from_dict(nb)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = {k: nb.metadata[k] for k in _KEPT_NOTEBOOK_METADATA if k in nb.metadata}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    used: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell.metadata = {k: cell.metadata[k] for k in _KEPT_CELL_METADATA if k in cell.metadata}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if "attachments" in cell and not cell.attachments:
            del cell["attachments"]
        cell.id = _stable_id(cell, index, used)
        used.add(cell.id)
    nbformat.validate(nb)
    return nb


def _stable_id(cell: nbformat.NotebookNode, index: int, used: set[str]) -> str:
    """The cell's own id if it has a valid, unused one; else its nbgrader grade_id; else a
    name derived from its position and text (the same every time)."""
    candidates = [cell.get("id"), cell.metadata.get("nbgrader", {}).get("grade_id")]
    for candidate in candidates:
        if isinstance(candidate, str) and _CELL_ID.match(candidate) and candidate not in used:
            return candidate
    digest = hashlib.sha1(f"{index}:{cell.source}".encode()).hexdigest()[:8]
    return f"cell-{index}-{digest}"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def text(nb: nbformat.NotebookNode) -> str:
    """The notebook as it is written to disk."""
    return nbformat.writes(nb) + "\n"


def write_normalized(path: Path) -> bool:
    """Normalize the notebook at ``path`` in place; True if its bytes changed."""
    before = path.read_text(encoding="utf-8")
    after = text(normalized(read(path)))
    if after != before:
        path.write_text(after, encoding="utf-8")
        return True
    return False


def has_outputs(nb: nbformat.NotebookNode) -> bool:
    return any(c.cell_type == "code" and (c.outputs or c.execution_count) for c in nb.cells)


def is_test(cell: nbformat.NotebookNode) -> bool:
    """An autograded test cell: its points come from running it without an error."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def marked_regions(source: str, markers: tuple[str, str]) -> list[str]:
    """The text between each pair of ``markers`` in a cell's source."""
    begin, end = (re.escape(m) for m in markers)
    return [m.group(1) for m in re.finditer(rf"{begin}[^\n]*\n(.*?){end}", source, re.S)]


def without_regions(source: str, markers: tuple[str, str]) -> str:
    """``source`` with every region between ``markers`` (markers included) removed."""
    begin, end = (re.escape(m) for m in markers)
    return re.sub(rf"{begin}.*?{end}[^\n]*", "", source, flags=re.S)
