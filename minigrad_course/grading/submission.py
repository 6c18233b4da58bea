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

import shutil
from pathlib import Path

import nbformat

from .. import notebooks
from ..course import RELEASE
from .collect import TIMESTAMP, Unit
from .feedback import give_feedback, page
from .nbgrader_setup import Workspace
from .out import remove, submission_files, write_file
from .results import CRASHED, INVALID, MISSING, NotebookResult
from .tamper import InvalidNotebookError, Restored, read_submission, restore_tests
from .verdict import judge, unscored


def grade_submission(unit: Unit, workspace: Workspace) -> list[NotebookResult]:
    """Every expected notebook of ``unit``, graded or with the reason it is not."""
    for path in submission_files(workspace.options.staging, unit):
        remove(path)  # what an earlier try left, in a worker that died
    results: dict[str, NotebookResult] = {}
    prepared: dict[str, Restored] = {}
    hints = dict(unit.hints)
    # 1. Read each notebook, and put its released tests back.
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
        # 2. Run them, and 3. the verdict on each.
        log, log_path = _autograde(unit, prepared, workspace)
        results.update(judge(unit, prepared, workspace, log, log_path))
    # 4. Feedback.
    give_feedback(unit, results, workspace)
    return [results[name] for name in unit.notebooks]


def _autograde(unit: Unit, prepared: dict[str, Restored], workspace: Workspace) -> tuple[str, Path]:
    """Run the notebooks that could be read (``prepared``: each with its released tests put
    back) with ``nbgrader autograde``, whose executor is ours (run/execute.py); nbgrader's
    log, and where it is kept."""
    student, assignment = unit.key
    for step in ("submitted", "autograded", "feedback", "reports"):
        remove(workspace.folder / step / student / assignment)
    submitted = workspace.folder / "submitted" / student / assignment
    submitted.mkdir(parents=True)
    for name, restored in prepared.items():
        nbformat.write(restored.notebook, str(submitted / f"{name}.ipynb"))
    if TIMESTAMP in unit.exchange:  # one nbgrader can read: collect.py checked it
        shutil.copyfile(unit.folder / TIMESTAMP, submitted / TIMESTAMP)
    outcome = workspace.api.autograde(assignment, student, force=True, create=True)
    log = (outcome.get("log") or "") + (outcome.get("error") or "")
    log_path = submission_files(workspace.options.staging, unit)[2]
    write_file(log_path, log)
    return log, log_path


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
        write_file(feedback_folder / f"{name}.html", page(result, f"{unit.assignment}/{name}"))
        results.append(result)
    write_file(log_path, log)
    return results
