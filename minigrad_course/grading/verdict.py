"""The verdict on each notebook: its status, its tests' scores, and what the instructor reads.

The scores are nbgrader's (the workspace gradebook's record of the notebook); the status
and the detail come from what grading saw on the way (the run's report, what tamper.py
restored), never from the notebook's outputs, which student code writes:

- ``crashed``: the kernel died (the run's report), so no score stands;
- ``tampered``: tests were restored from the release (tamper.py), or the guard put back
  what tests rely on before a test cell ran (the report);
- ``timeout``: a cell ran past its limit, or cells were not run (the report);
- ``graded`` otherwise; ``invalid`` and ``missing`` notebooks have no score (``unscored``).

The detail names each thing found, most important first, and the cells by the names an
instructor can find them by; it is the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from .. import notebooks
from .collect import Unit
from .nbgrader_setup import Workspace
from .results import (
    CRASHED,
    GRADED,
    INVALID,
    TAMPERED,
    TIMEOUT,
    NotebookResult,
    ScoredTest,
    joined,
)
from .run.kernel import GIB
from .run.report import Report
from .tamper import Restored


def judge(
    unit: Unit, prepared: dict[str, Restored], workspace: Workspace, log: str, log_path: Path
) -> dict[str, NotebookResult]:
    """The verdict on each notebook nbgrader ran (``prepared``: as it was run), from what
    nbgrader and the run left in ``workspace``; ``log`` is nbgrader's, kept at ``log_path``."""
    results = {}
    with Gradebook(workspace.db_url) as gradebook:
        for name, restored in prepared.items():
            results[name] = _judge(unit, name, restored, workspace, gradebook, log, log_path)
    return results


def _judge(
    unit: Unit,
    name: str,
    restored: Restored,
    workspace: Workspace,
    gradebook: Gradebook,
    log: str,
    log_path: Path,
) -> NotebookResult:
    released = workspace.released(unit.assignment, name)
    autograded = workspace.path("autograded", unit, name, ".ipynb")
    report_path = workspace.path("reports", unit, name, ".json")
    if not autograded.is_file() or not report_path.is_file():
        last = [line for line in log.splitlines() if line.strip()][-1:] or ["no log"]
        detail = (
            f"nbgrader could not grade it ({last[0].strip()[:200]}); see "
            f"{log_path.relative_to(workspace.options.staging)}"
        )
        return unscored(unit, name, INVALID, detail, released)
    report = Report.read(report_path)
    nb = notebooks.read(autograded)
    try:
        record = gradebook.find_submission_notebook(name, unit.assignment, unit.student)
    except MissingEntry:
        return unscored(unit, name, INVALID, "nbgrader recorded no grades for it", released)
    return _scored(
        unit,
        name,
        restored,
        autograded=nb,
        report=report,
        record=record,
        released=released,
        timeout=workspace.options.timeout,
        memory=workspace.options.limits.memory,
    )


def _scored(
    unit: Unit,
    name: str,
    restored: Restored,
    autograded: nbformat.NotebookNode,
    report: Report,
    record,
    released: nbformat.NotebookNode,
    timeout: int,
    memory: int,
) -> NotebookResult:
    """The result of notebook ``name`` of ``unit``: ``restored`` is what was run (tamper.py),
    ``autograded`` and ``report`` what running it gave, ``record`` its nbgrader gradebook
    entry; ``timeout`` (seconds per cell) and ``memory`` (bytes) are named in the detail."""
    grades = {g.name: g for g in record.grades}
    order = [
        c.metadata["nbgrader"]["grade_id"]
        for c in released.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]
    tests = [
        ScoredTest(g, float(grades[g].auto_score or 0.0), float(grades[g].max_score))
        for g in order
        if g in grades
    ]
    submitted_at = record.assignment.timestamp
    if report.crash:
        status = CRASHED
    elif restored.tampered or _guarded(report):
        status = TAMPERED
    elif report.timeouts or report.stopped:
        status = TIMEOUT
    else:
        status = GRADED
    return NotebookResult(
        unit.student,
        unit.assignment,
        name,
        status,
        with_notes("; ".join(_details(autograded, restored, report, timeout, memory)), unit),
        sum(t.max_score for t in tests),
        tests,
        submitted_at.isoformat() if submitted_at else None,
    )


def _guarded(report: Report) -> bool:
    """Whether student code had changed what tests rely on (run/execute.py, run/guard.py)."""
    return any(put_back.cell is not None for put_back in report.guard)


def _details(nb, restored: Restored, report: Report, timeout: int, memory: int) -> list[str]:
    """What the instructor should know, most important first; the same on every run."""
    parts = []
    crash = report.crash
    if crash:
        parts.append(f"the kernel died in {_label(nb, crash.cell)}: {crash.reason}")
        fatal = [line for line in crash.log.splitlines() if "Fatal" in line]
        if fatal:
            parts.append(fatal[0].strip()[:200])
    if restored.tampered:
        parts.append("tests restored from the release: " + ", ".join(restored.changes))
    for put_back in report.guard:
        where = (
            "before the tests" if put_back.cell is None else f"before {_label(nb, put_back.cell)}"
        )
        parts.append(
            f"{where}, put back as the tests need them: "
            + ", ".join(put_back.changes[:8] + (["..."] if len(put_back.changes) > 8 else []))
        )
    parts += [f"{_label(nb, i)} ran past the {timeout} s limit" for i in report.timeouts]
    stopped = report.stopped
    if stopped and not crash:
        parts.append(f"cells after {_label(nb, stopped.cell)} not run: {stopped.reason}")
    out_of_memory = _cells_with_error(nb, "MemoryError")
    if out_of_memory:
        where = ", ".join(_label(nb, i) for i in out_of_memory)
        parts.append(f"MemoryError in {where} (the memory cap is {memory / GIB:g} GiB)")
    if report.truncated:
        where = ", ".join(_label(nb, i) for i in report.truncated)
        parts.append(f"output cut off in {where}")
    if report.notebook_truncated is not None:
        where = _label(nb, report.notebook_truncated)
        parts.append(f"all output cut off from {where} on: the notebook printed too much")
    return parts


def _label(nb, index: int) -> str:
    """A cell as the instructor can find it: its grade_id, else its position and the
    exercise it follows."""
    if index < 0 or index >= len(nb.cells):
        return "a cell"
    grade_id = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    if grade_id:
        return grade_id
    before = next(
        (
            c.metadata["nbgrader"]["grade_id"]
            for c in reversed(nb.cells[:index])
            if c.metadata.get("nbgrader", {}).get("grade_id")
        ),
        None,
    )
    return f"cell {index + 1}" + (f" (after {before})" if before else "")


def _cells_with_error(nb, ename: str) -> list[int]:
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and any(o.get("ename") == ename for o in c.outputs)
    ]


def with_notes(detail: str, unit: Unit) -> str:
    """``detail`` and what collecting found about the submission's files."""
    for note in unit.notes:
        detail = joined(detail, note)
    if not unit.extra:
        return detail
    shown = ", ".join(unit.extra[:5]) + (", ..." if len(unit.extra) > 5 else "")
    return joined(detail, f"extra files not graded: {shown}")


def unscored(
    unit: Unit, name: str, status: str, detail: str, released: nbformat.NotebookNode
) -> NotebookResult:
    """A notebook with no score (``invalid``, ``missing``, ``crashed``), and why."""
    return NotebookResult(
        unit.student, unit.assignment, name, status, with_notes(detail, unit), max_score(released)
    )


def max_score(released: nbformat.NotebookNode) -> float:
    """The points a released notebook's tests are worth."""
    return sum(
        float(c.metadata["nbgrader"].get("points", 0))
        for c in released.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )
