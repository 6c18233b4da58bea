"""A submitted notebook against the release: can it be read, and are its tests the released ones?

Students receive ``course/NN_topic/NN_topic.ipynb``.  Its test cells are locked, but nothing
stops a student from editing one, deleting it, duplicating it, turning it into markdown, or
changing its points or nbgrader metadata.  Before nbgrader sees a submission, every
protected cell (a test cell, or any locked cell) is compared with the *released* cell and
put back as released, and each difference is written down; nbgrader then restores the hidden
tests into those cells as usual.

Comparing against the release and not against ``solutions/`` is what avoids a false alarm on
every clean submission: the source's test cells also hold the hidden tests, so their
checksums never match what a student received.

Ordinary cells are the student's to change, add, move or delete, and so are solution cells,
except for their nbgrader metadata (which could otherwise turn them into graded cells).
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.validator import ValidationError, normalize
from nbformat.warnings import MissingIDFieldWarning

# A notebook this large is not a student's work but a runaway output; nbgrader would spend
# minutes and gigabytes on it.
MAX_NOTEBOOK_BYTES = 64 * 1024**2
# Notebooks nest their JSON a dozen levels or so (widget state, plotly figures).  Far deeper
# nesting only exhausts the recursion of the json, nbformat and copy modules, and would
# crash the grader instead of giving the notebook its row.
MAX_JSON_DEPTH = 100
_TOO_DEEP = f"not a notebook: its JSON is nested more than {MAX_JSON_DEPTH} levels deep"
_CELL_TYPES = ("code", "markdown", "raw")
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")


class InvalidNotebookError(Exception):
    """The file cannot be graded as a notebook; the message says why, for the grades table."""


@dataclass
class Restored:
    notebook: nbformat.NotebookNode
    changes: list[str] = field(default_factory=list)  # one line per tampering found

    @property
    def tampered(self) -> bool:
        return bool(self.changes)


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, upgraded to nbformat 4; InvalidNotebookError if it is not one."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise InvalidNotebookError(
                f"the file is {size / 1024**2:.0f} MB, more than a notebook may be "
                f"({MAX_NOTEBOOK_BYTES // 1024**2} MB)"
            )
        raw = path.read_bytes()
    except OSError as error:
        raise InvalidNotebookError(f"cannot be read: {error.strerror or error}") from None
    if not raw.strip():
        raise InvalidNotebookError("the file is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidNotebookError("not a notebook: the file is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InvalidNotebookError(
            f"malformed JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise InvalidNotebookError(_TOO_DEEP) from None
    if not isinstance(data, dict) or data.get("nbformat") not in (3, 4):
        raise InvalidNotebookError("JSON, but not a Jupyter notebook (no nbformat 3 or 4 header)")
    if _nesting(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise InvalidNotebookError(_TOO_DEEP)
    if data["nbformat"] == 4:
        _check_cells(data)
    try:
        with warnings.catch_warnings():  # a missing cell id is repaired just below
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            nb = nbformat.reads(json.dumps(data), as_version=4)
        _, fixed = normalize(nb, strip_invalid_metadata=True)
        nb = nbformat.from_dict(fixed)
        nbformat.validate(nb)
    except RecursionError:
        raise InvalidNotebookError(_TOO_DEEP) from None
    except (ValidationError, KeyError, TypeError, AttributeError, ValueError) as error:
        raise InvalidNotebookError(f"not a valid notebook: {_validation_message(error)}") from None
    return nb


def _nesting(data, limit: int) -> int:
    """How deeply ``data`` nests lists and objects, counted without recursion (which is what
    deep nesting exhausts), up to just past ``limit``."""
    deepest, stack = 0, [(data, 1)]
    while stack and deepest <= limit:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            stack += [(child, depth + 1) for child in value]
    return deepest


def _check_cells(data: dict) -> None:
    """Name the cell that is malformed: nbformat's repair code fails on metadata that is not
    a mapping without saying where, and its validator quotes a bad cell whole, source and all,
    into the grades table and the student's page."""
    if not isinstance(data.get("metadata", {}), dict):
        raise InvalidNotebookError(
            f"not a valid notebook: its metadata is {_json_kind(data['metadata'])}, not a mapping"
        )
    cells = data.get("cells", [])
    if not isinstance(cells, list):
        raise InvalidNotebookError(f"not a valid notebook: its cells are {_json_kind(cells)}")
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise InvalidNotebookError(
                f"not a valid notebook: cell {number} is {_json_kind(cell)}, not a cell"
            )
        where = f"cell {number}"
        if isinstance(cell.get("id"), str):
            where += f" (id {_short(cell['id'])!r})"
        if cell.get("cell_type") not in _CELL_TYPES:
            raise InvalidNotebookError(
                f"not a valid notebook: {where} has cell_type {_short(repr(cell.get('cell_type')))}"
                f" (cells are {', '.join(_CELL_TYPES)})"
            )
        if not isinstance(cell.get("metadata", {}), dict):
            raise InvalidNotebookError(
                f"not a valid notebook: {where}: its metadata is {_json_kind(cell['metadata'])}, "
                "not a mapping"
            )


def _validation_message(error: Exception) -> str:
    """nbformat's complaint, short, with where it applies: a schema message begins with the
    offending value, which can be a whole cell."""
    message = _short(getattr(error, "message", None) or str(error), 150)
    path = getattr(error, "absolute_path", None)
    return f"{message} (at {'/'.join(str(p) for p in path)})" if path else message


def _json_kind(value) -> str:
    kinds = {dict: "a mapping", list: "a list", str: "a string", bool: "true or false"}
    return "null" if value is None else kinds.get(type(value), "a number")


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def restore_tests(submitted: nbformat.NotebookNode, released: nbformat.NotebookNode) -> Restored:
    """``submitted`` with every protected cell as released; what was changed, in words."""
    nb = copy.deepcopy(submitted)
    changes: list[str] = []
    protected = {_grade_id(c): c for c in released.cells if _is_protected(c)}
    solutions = {_grade_id(c): c for c in released.cells if _grade_id(c) and not _is_protected(c)}

    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if grade_id not in protected and grade_id not in solutions:
            if isinstance(meta, dict) and (meta.get("grade") or meta.get("locked")):
                changes.append(f"a cell claims to be the test {grade_id!r}, which is not released")
            del cell.metadata["nbgrader"]

    for grade_id, original in solutions.items():
        found = [c for c in nb.cells if _grade_id(c) == grade_id]
        for extra in found[1:]:
            del extra.metadata["nbgrader"]  # a copy of the exercise is ordinary student code
        if found and found[0].metadata["nbgrader"] != original.metadata["nbgrader"]:
            what = _metadata_difference(
                original.metadata["nbgrader"], found[0].metadata["nbgrader"]
            )
            changes.append(f"{grade_id}: nbgrader metadata changed ({what})")
            found[0].metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])

    for grade_id, original in protected.items():
        found = [c for c in nb.cells if _grade_id(c) == grade_id]
        if not found:
            found = [c for c in nb.cells if c.get("id") == original.get("id") and c.get("id")]
            if found:
                changes.append(f"{grade_id}: its nbgrader metadata was removed")
        if not found:
            changes.append(f"{grade_id}: deleted")
            _insert_like_release(nb, released, original)
            continue
        keep = next((c for c in found if _same(c, original)), found[0])
        if len(found) > 1:
            changes.append(f"{grade_id}: duplicated ({len(found)} copies)")
            for extra in found:
                if extra is not keep:
                    extra.metadata.pop("nbgrader", None)
        changes += [f"{grade_id}: {d}" for d in _differences(keep, original)]
        nb.cells[_index_of(nb, keep)] = copy.deepcopy(original)

    _give_unique_ids(nb)
    return Restored(nb, changes)


def _grade_id(cell) -> str | None:
    meta = cell.metadata.get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def _is_protected(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade_id")) and bool(meta.get("locked") or meta.get("grade"))


def _text(source: str) -> str:
    """Source with trailing spaces and surrounding blank lines ignored: an editor may add them."""
    return "\n".join(line.rstrip() for line in source.strip("\n").splitlines()).strip()


def _same(cell, original) -> bool:
    return not _differences(cell, original)


def _differences(cell, original) -> list[str]:
    found = []
    if cell.cell_type != original.cell_type:
        found.append(f"turned into a {cell.cell_type} cell")
    if _text(cell.source) != _text(original.source):
        found.append("edited")
    meta, released_meta = cell.metadata.get("nbgrader"), original.metadata["nbgrader"]
    if meta is not None and meta != released_meta:
        found.append(f"nbgrader metadata changed ({_metadata_difference(released_meta, meta)})")
    return found


def _metadata_difference(released: dict, submitted) -> str:
    if not isinstance(submitted, dict):
        return "replaced"
    keys = sorted(set(released) | set(submitted))
    parts = []
    for key in keys:
        before, after = released.get(key, "absent"), submitted.get(key, "absent")
        if before != after:
            parts.append(f"{key} {before} -> {after}" if key != "checksum" else "checksum")
    return ", ".join(parts)


def _index_of(nb, cell) -> int:
    return next(i for i, c in enumerate(nb.cells) if c is cell)


def _insert_like_release(nb, released, original) -> None:
    """Insert ``original`` after the nearest cell that precedes it in the release and is
    still in the submission (by grade_id, else by cell id); at the top if there is none."""
    position = next(i for i, c in enumerate(released.cells) if c is original)
    for before in reversed(released.cells[:position]):
        grade_id, cell_id = _grade_id(before), before.get("id")
        for index, cell in enumerate(nb.cells):
            if (grade_id and _grade_id(cell) == grade_id) or (
                not grade_id and cell_id and cell.get("id") == cell_id
            ):
                nb.cells.insert(index + 1, copy.deepcopy(original))
                return
    nb.cells.insert(0, copy.deepcopy(original))


def _give_unique_ids(nb) -> None:
    """nbformat 4.5 wants a unique id on every cell; restored cells bring the released ids,
    which a student's copy of a cell may already carry."""
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 0), 5)
    protected_ids = {c.get("id") for c in nb.cells if _is_protected(c)}
    used: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        clash = cell_id in used or (cell_id in protected_ids and not _is_protected(cell))
        if not isinstance(cell_id, str) or not _CELL_ID.match(cell_id) or clash:
            cell_id = f"cell-{index}"
            while cell_id in used or cell_id in protected_ids:
                cell_id += "-copy"
        cell["id"] = cell_id
        used.add(cell_id)
