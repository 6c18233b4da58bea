"""nbgrader, set up to grade: its configuration, the template workspace, each worker's copy.

nbgrader grades in a course folder whose gradebook already knows the assignment's notebooks
and cells.  Making one (``generate_assignment`` for every assignment graded, which fills its
SQLite gradebook with the assignment's cells) takes seconds per assignment, so it is done
once per run, in a template workspace, with the class gradebook set up alongside.  Each
``--jobs`` worker then grades in a copy of the template of its own (``Workspace``), so no
two processes ever share a folder or a gradebook.

Every workspace runs nbgrader with the course's own configuration (``nbgrader_config.py``)
and two changes: ``GradingExecute`` in place of nbgrader's executor (run/execute.py), and
our feedback exporter (feedback.py).  How the executor runs a submission (``Options``:
timeouts, limits, the grading kernelspec) is decided once, by ``set_up_run``, and is the
same in every worker; ``enter_worker`` makes a worker's process one that can grade.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
from nbgrader.apps.api import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from sqlalchemy.exc import SAWarning
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .. import notebooks
from ..course import CONFIG_FILE, RELEASE, SOURCE, CourseError
from ..course import notebooks as notebooks_of
from ..release import put_scripts_on_path
from . import feedback
from .collect import Unit
from .gradebook import sqlite_url
from .run.execute import GradingExecute
from .run.kernel import KERNEL_NAME, Limits, write_kernelspec


def course_config(root: Path) -> Config:
    """The course's own nbgrader configuration (stubs, ignored files, cell timeout...)."""
    return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()


def set_up_run(
    config: Config,
    scratch: Path,
    keep_away: tuple[Path, ...],
    timeout: int | None,
    notebook_timeout: int | None,
    limits: Limits,
    sandbox: list[str] | None = None,
) -> Options:
    """How every submission of this run is run: the course's cell timeout unless ``timeout``
    is given, five times that a notebook unless ``notebook_timeout`` is, and as many CPU
    seconds as a notebook may run unless ``limits`` says; in the bubblewrap sandbox of
    ``sandbox`` (run/bubblewrap.py) unless it is None.  The grading kernelspec is written
    under ``scratch``, and this process made ready to run nbgrader."""
    timeout = timeout or cell_timeout(config)
    notebook_timeout = notebook_timeout or 5 * timeout
    if limits.cpu_seconds is None:
        limits = replace(limits, cpu_seconds=notebook_timeout)
    options = Options(
        scratch / "staged",
        timeout,
        notebook_timeout,
        limits,
        scratch / "jupyter",
        keep_away,
        sandbox,
    )
    write_kernelspec(options.jupyter_dir, options.limits, options.sandbox)
    put_scripts_on_path()  # nbgrader runs `alembic` by name when it creates a gradebook
    quiet_nbgrader()
    return options


def cell_timeout(config: Config) -> int:
    """The per-cell timeout the course's configuration sets, or nbgrader's default."""
    for section in ("Execute", "ExecutePreprocessor"):
        if section in config and "timeout" in config[section]:
            return int(config[section].timeout)
    return int(Execute.class_traits()["timeout"].default())


@dataclass(frozen=True)
class Options:
    """How every submission is run; the same in every worker."""

    staging: Path  # where a submission's OUT files are written, until the end of the run
    timeout: int  # seconds per cell
    notebook_timeout: int  # seconds per notebook
    limits: Limits
    jupyter_dir: Path  # holds the grading kernelspec (run/kernel.py)
    keep_away: tuple[Path, ...] = ()  # folders kernels' sandboxes must not be made near
    sandbox: list[str] | None = None  # bwrap and its options; None: no bubblewrap sandbox


def quiet_nbgrader() -> None:
    """Keep nbgrader's chatter off the terminal: its INFO log (captured for the log files
    all the same) and the SQLAlchemy 2 warnings its gradebook code raises."""
    logger = logging.getLogger("traitlets")
    logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    warnings.filterwarnings("ignore", category=SAWarning, module="nbgrader")


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
    config.GradingExecute.sandboxed = options.sandbox is not None
    config.GenerateFeedback.exporter_class = feedback.FeedbackExporter
    return config


def _new_sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not Path(url[len(prefix) :]).exists():
        return Path(url[len(prefix) :])
    return None


def _require(outcome: dict, assignment: str) -> None:
    if not outcome.get("success"):
        text = outcome.get("error") or outcome.get("log") or "no output"
        raise CourseError(f"nbgrader generate_assignment {assignment} failed:\n{text.strip()}")


def enter_worker(temporary: Path, options: Options) -> None:
    """Make this process one that can grade: jupyter_client finds the grading kernelspec,
    nbgrader finds its scripts, and temporary files (kernel sandboxes, connection files) are
    made in ``temporary``, the worker's own folder, which goes when the worker goes."""
    jupyter_path = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(options.jupyter_dir), jupyter_path])
    )
    tempfile.tempdir = str(temporary)
    put_scripts_on_path()


class Workspace:
    """One worker's nbgrader course folder (a copy of the template), and the lessons it
    grades against."""

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

    @classmethod
    def copy_of(cls, template: Path, root: Path, options: Options) -> Workspace:
        """A workspace of its own, copied from ``template``, in the folder that holds it."""
        folder = Path(tempfile.mkdtemp(prefix="worker-", dir=template.parent))
        shutil.copytree(template, folder, dirs_exist_ok=True)
        return cls(folder, root, options)

    def path(self, step: str, unit: Unit, name: str, suffix: str) -> Path:
        """A notebook's file in one of nbgrader's folders (``submitted``, ``autograded``,
        ``feedback``) or in the executor's ``reports``."""
        return self.folder / step / unit.student / unit.assignment / f"{name}{suffix}"

    def released(self, assignment: str, notebook: str) -> nbformat.NotebookNode:
        """The notebook as students received it."""
        key = (assignment, notebook)
        if key not in self._released:
            path = self.root / RELEASE / assignment / f"{notebook}.ipynb"
            self._released[key] = notebooks.read(path)
        return self._released[key]

    def hidden(self, assignment: str, notebook: str) -> list[str]:
        """The lines of its hidden tests and solutions that no feedback may show."""
        key = (assignment, notebook)
        if key not in self._hidden:
            source = notebooks.read(self.root / SOURCE / assignment / f"{notebook}.ipynb")
            released = self.released(assignment, notebook)
            visible = "\n".join(c.source for c in released.cells)
            self._hidden[key] = feedback.hidden_lines(source, visible)
        return self._hidden[key]
