"""One submission, start to end: a student's assignment read, run, judged and given feedback.

A worker grades one student's assignment at a time, in its own nbgrader workspace
(nbgrader_setup.py).  This module is the whole path, in the order it is taken:

1. read each expected notebook (``invalid``, ``missing``), put its released tests back
   (``tampered``: tamper.py), and write it into the workspace's ``submitted/``;
2. run it: ``nbgrader autograde``, with ``GradingExecute`` in place of nbgrader's executor
   (limits, sandbox folder, timeouts, crashes, the guard: run/);
3. the verdict: read the scores from the workspace gradebook and the run's report, and
   decide the status and the detail (verdict.py);
4. feedback: keep the autograded notebook for the instructor (``autograded/``), and render
   the student's page with ``nbgrader generate_feedback`` from a copy without hidden tests
   (feedback.py), into ``feedback/``.

A submission's files (``autograded/``, ``feedback/``, ``logs/``) go into the run's staging
folder, laid out as ``OUT`` is, never into ``OUT`` itself (out.py).  The results go back to
the pipeline, which merges them into the class gradebook.  A submission the grader gives up
on (its worker died twice, or the grader failed) gets its rows from ``not_graded`` instead.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from .. import notebooks
from ..course import RELEASE
from . import feedback
from .collect import TIMESTAMP, Unit
from .nbgrader_setup import Workspace
from .out import remove, submission_files
from .results import CRASHED, INVALID, MISSING, NotebookResult
from .run.report import Report
from .tamper import InvalidNotebookError, Restored, read_submission, restore_tests
from .verdict import joined, unscored, verdict


def grade_submission(unit: Unit, workspace: Workspace) -> list[NotebookResult]:
    """Every expected notebook of ``unit``, graded or with the reason it is not."""
    for path in submission_files(workspace.options.staging, unit):
        remove(path)  # what an earlier try left, in a worker that died
    results: dict[str, NotebookResult] = {}
    prepared: dict[str, Restored] = {}
    hints = dict(unit.hints)
    for name in unit.notebooks:
        released = workspace.released(unit.assignment, name)
        path = unit.folder / f"{name}.ipynb" if unit.folder else None
        if unit.problem:
            results[name] = unscored(unit, name, INVALID, unit.problem, released)
        elif path is None or not path.is_file():
            where = f"no {unit.assignment}/ folder" if unit.folder is None else f"no {name}.ipynb"
            detail = f"{where} in the submission" + (f"; {hints[name]}" if name in hints else "")
            results[name] = unscored(unit, name, MISSING, detail, released)
        else:
            try:
                nb = read_submission(path)
            except InvalidNotebookError as error:
                results[name] = unscored(unit, name, INVALID, str(error), released)
            else:
                prepared[name] = restore_tests(nb, released)
    if prepared:
        results.update(_autograde(unit, prepared, workspace))
    for name, result in results.items():
        if result.status in (INVALID, MISSING):
            page = feedback.page(result, f"{unit.assignment}/{name}")
            _write(_staged(workspace, "feedback", unit, name, ".html"), page)
    return [results[name] for name in unit.notebooks]


def _autograde(
    unit: Unit, prepared: dict[str, Restored], workspace: Workspace
) -> dict[str, NotebookResult]:
    """Run, judge and give feedback on the notebooks that could be read (``prepared``: each
    with its released tests put back)."""
    student, assignment = unit.key
    for step in ("submitted", "autograded", "feedback", "reports"):
        remove(workspace.folder / step / student / assignment)
    submitted = workspace.folder / "submitted" / student / assignment
    submitted.mkdir(parents=True)
    for name, restored in prepared.items():
        nbformat.write(restored.notebook, str(submitted / f"{name}.ipynb"))
    if TIMESTAMP in unit.exchange:  # one nbgrader can read: collect.py checked it
        shutil.copyfile(unit.folder / TIMESTAMP, submitted / TIMESTAMP)

    # Run: nbgrader executes each notebook with GradingExecute, which writes its report.
    outcome = workspace.api.autograde(assignment, student, force=True, create=True)
    log = (outcome.get("log") or "") + (outcome.get("error") or "")
    log_path = submission_files(workspace.options.staging, unit)[2]
    _write(log_path, log)

    results = {}
    with Gradebook(workspace.db_url) as gradebook:
        for name, restored in prepared.items():
            results[name] = _judge(unit, name, restored, workspace, gradebook, log, log_path)

    # Feedback, for every notebook nbgrader graded.
    rendered = {name: r for name, r in results.items() if r.status != INVALID}
    hidden = {name: _student_view(unit, name, r, workspace) for name, r in rendered.items()}
    if rendered:
        workspace.api.generate_feedback(assignment, student, force=True)
    for name, result in rendered.items():
        _keep_feedback(unit, name, result, hidden[name], workspace)
    for file in unit.exchange if rendered else ():  # for nbgrader release_feedback
        target = workspace.options.staging / "feedback" / student / assignment / file
        shutil.copyfile(unit.folder / file, target)
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
    """The verdict on one notebook, from what nbgrader and the run left in the workspace."""
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
    return verdict(
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


def _student_view(unit: Unit, name: str, result: NotebookResult, workspace: Workspace) -> list[str]:
    """Keep the autograded notebook for the instructor, then put the student's view in
    its place for generate_feedback; the hidden-test lines to keep out of the page."""
    autograded = workspace.path("autograded", unit, name, ".ipynb")
    kept = _staged(workspace, "autograded", unit, name, ".ipynb")
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(autograded, kept)

    submitted = workspace.path("submitted", unit, name, ".ipynb")
    own = "\n".join(c.source for c in notebooks.read(submitted).cells)
    hidden = [h for h in workspace.hidden(unit.assignment, name) if h not in own]
    view = feedback.student_view(
        notebooks.read(autograded),
        workspace.released(unit.assignment, name),
        hidden,
        result,
        workspace.options.timeout,
    )
    os.chmod(autograded, stat.S_IRUSR | stat.S_IWUSR)  # nbgrader leaves it read-only
    nbformat.write(view, str(autograded))
    return hidden


def _keep_feedback(
    unit: Unit, name: str, result: NotebookResult, hidden: list[str], workspace: Workspace
) -> None:
    """The page nbgrader rendered, for the student, unless it shows a hidden test."""
    rendered = workspace.path("feedback", unit, name, ".html")
    target = _staged(workspace, "feedback", unit, name, ".html")
    title = f"{unit.assignment}/{name}"
    if not rendered.is_file():
        result.detail = joined(result.detail, "no feedback: nbgrader generate_feedback failed")
        _write(target, feedback.page(result, title))
        return
    page = rendered.read_text(encoding="utf-8")
    if result.status == CRASHED:
        page = feedback.mark_not_graded(page, "the kernel died")
    if feedback.leaks(feedback.html_text(page), hidden):
        result.detail = joined(result.detail, "feedback withheld: it would show a hidden test")
        page = feedback.page(result, title)
    _write(target, page)


def not_graded(
    root: Path, staging: Path, unit: Unit, detail: str, log: str
) -> list[NotebookResult]:
    """A submission the grader gave up on (its worker died, or the grader failed): a
    ``crashed`` row per notebook, whose page tells the student it was not graded, and
    ``log`` for the instructor, in place of whatever a failed try left in ``staging``."""
    autograded, feedback_folder, log_path = submission_files(staging, unit)
    for path in (autograded, feedback_folder, log_path):
        remove(path)
    results = []
    for name in unit.notebooks:
        released = notebooks.read(root / RELEASE / unit.assignment / f"{name}.ipynb")
        result = unscored(unit, name, CRASHED, detail, released)
        _write(feedback_folder / f"{name}.html", feedback.page(result, f"{unit.assignment}/{name}"))
        results.append(result)
    _write(log_path, log)
    return results


def _staged(workspace: Workspace, step: str, unit: Unit, name: str, suffix: str) -> Path:
    """A notebook's file in the staging folder, laid out as OUT is."""
    return workspace.options.staging / step / unit.student / unit.assignment / f"{name}{suffix}"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
