"""An nbgrader workspace: a private course folder in which one worker grades submissions.

Each ``--jobs`` worker owns one, copied from a template that was set up once (nbgrader's
``generate_assignment`` for every assignment graded, which fills its SQLite gradebook with
the assignment's cells).  A worker grades one student's assignment at a time, start to end:

1. read each expected notebook (``invalid``, ``missing``), put its released tests back
   (``tampered``: tamper.py), and write it into the workspace's ``submitted/``;
2. ``nbgrader autograde``, with ``GradingExecute`` in place of nbgrader's executor
   (limits, sandbox folder, timeouts, crashes: execute.py);
3. read the scores from the workspace gradebook and the executor's report, and decide
   the status and the detail;
4. keep the autograded notebook for the instructor (``autograded/``), and render the
   student's feedback with ``nbgrader generate_feedback`` from a copy without hidden tests
   (feedback.py), into ``feedback/``.

A worker writes a submission's files (``autograded/``, ``feedback/``, ``logs/``) into the
run's staging folder, laid out as ``OUT`` is, never into ``OUT`` itself: the parent moves
them into ``OUT`` with ``publish`` once the whole class is graded, so that a run that is
interrupted or a worker that dies halfway leaves the previous results as they were.  The
scores go back to the parent too, which merges them into the class gradebook.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps.api import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from sqlalchemy.exc import SAWarning
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .. import notebooks
from ..course import RELEASE, SOURCE, CourseError
from ..course import notebooks as notebooks_of
from . import feedback
from .collect import TIMESTAMP, Unit
from .results import (
    CRASHED,
    GRADED,
    INVALID,
    MISSING,
    TAMPERED,
    TIMEOUT,
    NotebookResult,
    ScoredTest,
)
from .run.execute import GradingExecute
from .run.kernel import GIB, KERNEL_NAME, Limits
from .run.report import Report
from .tamper import InvalidNotebookError, Restored, read_submission, restore_tests

CONFIG_FILE = "nbgrader_config.py"


@dataclass(frozen=True)
class Options:
    """How every submission is run; the same in every worker."""

    staging: Path  # where a submission's OUT files are written, until publish() moves them
    timeout: int  # seconds per cell
    notebook_timeout: int  # seconds per notebook
    limits: Limits
    jupyter_dir: Path  # holds the grading kernelspec (kernel.py)
    keep_away: tuple[Path, ...] = ()  # folders kernels' sandboxes must not be made near


def course_config(root: Path) -> Config:
    """The course's own nbgrader configuration (stubs, ignored files, cell timeout...)."""
    return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()


def cell_timeout(config: Config) -> int:
    """The per-cell timeout the course's configuration sets, or nbgrader's default."""
    for section in ("Execute", "ExecutePreprocessor"):
        if section in config and "timeout" in config[section]:
            return int(config[section].timeout)
    return int(Execute.class_traits()["timeout"].default())


def grading_config(base: Config, root: Path, db_url: str, options: Options) -> Config:
    """``base`` (the course's configuration) for a workspace at ``root``, with our executor
    and our feedback exporter."""
    config = copy.deepcopy(base)
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = db_url
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    config.Autograde.autograde_preprocessors = [
        GradingExecute if p is Execute else p for p in default
    ]
    config.GradingExecute.kernel_name = KERNEL_NAME
    config.GradingExecute.timeout = options.timeout
    config.GradingExecute.notebook_timeout = options.notebook_timeout
    config.GradingExecute.cpu_seconds = options.limits.cpu_seconds
    config.GradingExecute.report_directory = str(root / "reports")
    config.GradingExecute.submitted_directory = str(root / "submitted")
    config.GradingExecute.keep_away_from = [str(p) for p in options.keep_away]
    config.GenerateFeedback.exporter_class = feedback.FeedbackExporter
    return config


def quiet_nbgrader() -> None:
    """Keep nbgrader's chatter off the terminal: its INFO log (captured for the log files
    all the same) and the SQLAlchemy 2 warnings its gradebook code raises."""
    logger = logging.getLogger("traitlets")
    logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    warnings.filterwarnings("ignore", category=SAWarning, module="nbgrader")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def build_template(
    root: Path, assignments: list[str], template: Path, options: Options, class_db: str
) -> None:
    """The workspace every worker copies, with the class gradebook set up alongside.

    ``generate_assignment`` runs twice per assignment: into the template's own gradebook,
    and into the class gradebook (``class_db``, any SQLAlchemy URL), so that both know the
    assignment's notebooks and cells the nbgrader way.  The fresh release must equal the
    committed ``course/``: students worked on that, and tampering is judged against it.
    """
    base = course_config(root)
    for assignment in assignments:
        shutil.copytree(root / SOURCE / assignment, template / SOURCE / assignment)
    local = template / "gradebook.db"
    # A class gradebook still to be made in a SQLite file starts as a copy of the template's.
    new_file = _new_sqlite_file(class_db)
    for db_url in [sqlite_url(local)] + ([] if new_file else [class_db]):
        api = NbGraderAPI(config=grading_config(base, template, db_url, options))
        for assignment in assignments:
            _require(api.generate_assignment(assignment, force=True, create=True), assignment)
    if new_file:  # by way of a temporary name: an interrupted copy is no gradebook
        partial = new_file.with_name(f".{new_file.name}.partial")
        shutil.copyfile(local, partial)
        os.replace(partial, new_file)
    for assignment in assignments:
        for fresh in notebooks_of(template, RELEASE, assignment):
            notebooks.write_normalized(fresh)
            committed = root / RELEASE / assignment / fresh.name
            if not committed.is_file() or committed.read_bytes() != fresh.read_bytes():
                raise CourseError(
                    f"{RELEASE}/{assignment}/{fresh.name} is not the release of {SOURCE}/"
                    f"{assignment}: run `minigrad-course release {assignment}` (students must "
                    "hold the release you grade against)"
                )


def _new_sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not Path(url[len(prefix) :]).exists():
        return Path(url[len(prefix) :])
    return None


def _require(outcome: dict, assignment: str) -> None:
    if not outcome.get("success"):
        text = outcome.get("error") or outcome.get("log") or "no output"
        raise CourseError(f"nbgrader generate_assignment {assignment} failed:\n{text.strip()}")


class Workspace:
    """One worker's nbgrader course folder (a copy of the template) and what it grades."""

    def __init__(self, folder: Path, root: Path, options: Options):
        self.folder = folder
        self.root = root
        self.options = options
        self.db_url = sqlite_url(folder / "gradebook.db")
        self.api = NbGraderAPI(
            config=grading_config(course_config(root), folder, self.db_url, options)
        )
        self._released: dict[tuple[str, str], nbformat.NotebookNode] = {}
        self._hidden: dict[tuple[str, str], list[str]] = {}
        quiet_nbgrader()

    def released(self, assignment: str, notebook: str) -> nbformat.NotebookNode:
        key = (assignment, notebook)
        if key not in self._released:
            path = self.root / RELEASE / assignment / f"{notebook}.ipynb"
            self._released[key] = notebooks.read(path)
        return self._released[key]

    def hidden(self, assignment: str, notebook: str) -> list[str]:
        key = (assignment, notebook)
        if key not in self._hidden:
            source = notebooks.read(self.root / SOURCE / assignment / f"{notebook}.ipynb")
            released = self.released(assignment, notebook)
            visible = "\n".join(c.source for c in released.cells)
            self._hidden[key] = feedback.hidden_lines(source, visible)
        return self._hidden[key]

    def max_score(self, assignment: str, notebook: str) -> float:
        return max_score(self.released(assignment, notebook))

    # -- one unit ---------------------------------------------------------------------

    def grade(self, unit: Unit) -> list[NotebookResult]:
        """Every expected notebook of ``unit``, graded or with the reason it is not."""
        assignment = unit.assignment
        for path in submission_files(self.options.staging, unit):
            remove(path)  # what an earlier try left, in a worker that died
        results: dict[str, NotebookResult] = {}
        prepared: dict[str, Restored] = {}
        hints = dict(unit.hints)
        for name in unit.notebooks:
            path = unit.folder / f"{name}.ipynb" if unit.folder else None
            if unit.problem:
                results[name] = self._unscored(unit, name, INVALID, unit.problem)
            elif path is None or not path.is_file():
                where = f"no {assignment}/ folder" if unit.folder is None else f"no {name}.ipynb"
                detail = f"{where} in the submission" + (
                    f"; {hints[name]}" if name in hints else ""
                )
                results[name] = self._unscored(unit, name, MISSING, detail)
            else:
                try:
                    nb = read_submission(path)
                except InvalidNotebookError as error:
                    results[name] = self._unscored(unit, name, INVALID, str(error))
                else:
                    prepared[name] = restore_tests(nb, self.released(assignment, name))
        if prepared:
            results.update(self._autograde(unit, prepared))
        for name, result in results.items():
            if result.status in (INVALID, MISSING):
                title = f"{assignment}/{name}"
                self._write(
                    self._out("feedback", unit, name, ".html"), feedback.page(result, title)
                )
        return [results[name] for name in unit.notebooks]

    def _unscored(self, unit: Unit, name: str, status: str, detail: str) -> NotebookResult:
        return NotebookResult(
            unit.student,
            unit.assignment,
            name,
            status,
            _with_extra(detail, unit),
            self.max_score(unit.assignment, name),
        )

    def _autograde(self, unit: Unit, prepared: dict[str, Restored]) -> dict[str, NotebookResult]:
        student, assignment = unit.key
        for step in ("submitted", "autograded", "feedback", "reports"):
            remove(self.folder / step / student / assignment)
        target = self.folder / "submitted" / student / assignment
        target.mkdir(parents=True)
        for name, restored in prepared.items():
            nbformat.write(restored.notebook, str(target / f"{name}.ipynb"))
        if TIMESTAMP in unit.exchange:  # one nbgrader can read: collect.py checked it
            shutil.copyfile(unit.folder / TIMESTAMP, target / TIMESTAMP)

        outcome = self.api.autograde(assignment, student, force=True, create=True)
        log = (outcome.get("log") or "") + (outcome.get("error") or "")
        log_path = self._log_path(unit)
        self._write(log_path, log)

        results = {}
        with Gradebook(self.db_url) as gradebook:
            for name, restored in prepared.items():
                results[name] = self._result(unit, name, restored, gradebook, log, log_path)
        rendered = {name: r for name, r in results.items() if r.status != INVALID}
        hidden = {name: self._student_view(unit, name, r) for name, r in rendered.items()}
        if rendered:
            self.api.generate_feedback(assignment, student, force=True)
        for name, result in rendered.items():
            self._publish_feedback(unit, name, result, hidden[name])
        for file in unit.exchange if rendered else ():  # for nbgrader release_feedback
            target = self.options.staging / "feedback" / student / assignment / file
            shutil.copyfile(unit.folder / file, target)
        return results

    def _result(self, unit, name, restored, gradebook, log, log_path) -> NotebookResult:
        student, assignment = unit.key
        autograded = self.folder / "autograded" / student / assignment / f"{name}.ipynb"
        report_path = self.folder / "reports" / student / assignment / f"{name}.json"
        if not autograded.is_file() or not report_path.is_file():
            last = [line for line in log.splitlines() if line.strip()][-1:] or ["no log"]
            detail = (
                f"nbgrader could not grade it ({last[0].strip()[:200]}); see "
                f"{log_path.relative_to(self.options.staging)}"
            )
            return self._unscored(unit, name, INVALID, detail)
        report = Report.read(report_path)
        nb = notebooks.read(autograded)
        try:
            record = gradebook.find_submission_notebook(name, assignment, student)
        except MissingEntry:
            return self._unscored(unit, name, INVALID, "nbgrader recorded no grades for it")
        grades = {g.name: g for g in record.grades}
        order = [
            c.metadata["nbgrader"]["grade_id"]
            for c in self.released(assignment, name).cells
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
            student,
            assignment,
            name,
            status,
            _with_extra("; ".join(self._details(nb, restored, report)), unit),
            sum(t.max_score for t in tests),
            tests,
            submitted_at.isoformat() if submitted_at else None,
        )

    def _details(self, nb, restored: Restored, report: Report) -> list[str]:
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
                "before the tests"
                if put_back.cell is None
                else (f"before {_label(nb, put_back.cell)}")
            )
            parts.append(
                f"{where}, put back as the tests need them: "
                + ", ".join(put_back.changes[:8] + (["..."] if len(put_back.changes) > 8 else []))
            )
        limit = self.options.timeout
        parts += [f"{_label(nb, i)} ran past the {limit} s limit" for i in report.timeouts]
        stopped = report.stopped
        if stopped and not crash:
            parts.append(f"cells after {_label(nb, stopped.cell)} not run: {stopped.reason}")
        memory = _cells_with_error(nb, "MemoryError")
        if memory:
            cap = self.options.limits.memory / GIB
            where = ", ".join(_label(nb, i) for i in memory)
            parts.append(f"MemoryError in {where} (the memory cap is {cap:g} GiB)")
        if report.truncated:
            where = ", ".join(_label(nb, i) for i in report.truncated)
            parts.append(f"output cut off in {where}")
        if report.notebook_truncated is not None:
            where = _label(nb, report.notebook_truncated)
            parts.append(f"all output cut off from {where} on: the notebook printed too much")
        return parts

    def _student_view(self, unit: Unit, name: str, result: NotebookResult) -> list[str]:
        """Keep the autograded notebook for the instructor, then put the student's view in
        its place for generate_feedback; the hidden-test lines to keep out of the page."""
        student, assignment = unit.key
        autograded = self.folder / "autograded" / student / assignment / f"{name}.ipynb"
        kept = self._out("autograded", unit, name, ".ipynb")
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(autograded, kept)

        submitted = self.folder / "submitted" / student / assignment / f"{name}.ipynb"
        own = "\n".join(c.source for c in notebooks.read(submitted).cells)
        hidden = [h for h in self.hidden(assignment, name) if h not in own]
        view = feedback.student_view(
            notebooks.read(autograded),
            self.released(assignment, name),
            hidden,
            result,
            self.options.timeout,
        )
        os.chmod(autograded, stat.S_IRUSR | stat.S_IWUSR)  # nbgrader leaves it read-only
        nbformat.write(view, str(autograded))
        return hidden

    def _publish_feedback(
        self, unit: Unit, name: str, result: NotebookResult, hidden: list[str]
    ) -> None:
        rendered = self.folder / "feedback" / unit.student / unit.assignment / f"{name}.html"
        target = self._out("feedback", unit, name, ".html")
        title = f"{unit.assignment}/{name}"
        if not rendered.is_file():
            result.detail = _join(result.detail, "no feedback: nbgrader generate_feedback failed")
            self._write(target, feedback.page(result, title))
            return
        page = rendered.read_text(encoding="utf-8")
        if result.status == CRASHED:
            page = feedback.mark_not_graded(page, "the kernel died")
        if feedback.leaks(feedback.html_text(page), hidden):
            result.detail = _join(result.detail, "feedback withheld: it would show a hidden test")
            page = feedback.page(result, title)
        self._write(target, page)

    def _log_path(self, unit: Unit) -> Path:
        return submission_files(self.options.staging, unit)[2]

    def _out(self, step: str, unit: Unit, name: str, suffix: str) -> Path:
        return self.options.staging / step / unit.student / unit.assignment / f"{name}{suffix}"

    @staticmethod
    def _write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def max_score(released: nbformat.NotebookNode) -> float:
    """The points a released notebook's tests are worth."""
    return sum(
        float(c.metadata["nbgrader"].get("points", 0))
        for c in released.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )


def submission_files(base: Path, unit: Unit) -> tuple[Path, Path, Path]:
    """Where a submission's files are under ``base`` (OUT, or the staging folder laid out as
    OUT is): its autograded notebooks, its feedback folder and its log."""
    student, assignment = unit.key
    return (
        base / "autograded" / student / assignment,
        base / "feedback" / student / assignment,
        base / "logs" / student / f"{assignment}.log",
    )


def publish(staging: Path, out: Path, unit: Unit) -> None:
    """Put a graded submission's files in OUT in place of the previous run's.

    The grader calls it for the whole class at once, after the last submission is graded,
    so OUT holds either the previous results or the new ones, never half of each.  Both
    folders are on one file system (the staging folder is inside OUT): every move is a
    rename.
    """
    for new, old in zip(submission_files(staging, unit), submission_files(out, unit)):
        remove(old)
        if new.exists():
            old.parent.mkdir(parents=True, exist_ok=True)
            os.replace(new, old)


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
        result = NotebookResult(
            unit.student,
            unit.assignment,
            name,
            CRASHED,
            _with_extra(detail, unit),
            max_score(released),
        )
        Workspace._write(
            feedback_folder / f"{name}.html", feedback.page(result, f"{unit.assignment}/{name}")
        )
        results.append(result)
    Workspace._write(log_path, log)
    return results


def remove(path: Path) -> None:
    """Remove a file or a folder, including the read-only files nbgrader leaves."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        for folder, _, files in os.walk(path):
            os.chmod(folder, stat.S_IRWXU)
            for file in files:
                os.chmod(os.path.join(folder, file), stat.S_IRUSR | stat.S_IWUSR)
        shutil.rmtree(path)


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


def _guarded(report: Report) -> bool:
    """Whether student code had changed what tests rely on (execute.py, guard.py)."""
    return any(put_back.cell is not None for put_back in report.guard)


def _cells_with_error(nb, ename: str) -> list[int]:
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and any(o.get("ename") == ename for o in c.outputs)
    ]


def _with_extra(detail: str, unit: Unit) -> str:
    for note in unit.notes:
        detail = _join(detail, note)
    if not unit.extra:
        return detail
    shown = ", ".join(unit.extra[:5]) + (", ..." if len(unit.extra) > 5 else "")
    return _join(detail, f"extra files not graded: {shown}")


def _join(detail: str, more: str) -> str:
    return f"{detail}; {more}" if detail else more
