"""``minigrad-course grade``: grade a whole class with nbgrader, and trust the result.

The steps, each in its own module:

1. collect.py   find ``<student>/<assignment>/<notebook>.ipynb`` (LMS zips collected first);
2. workspace.py set up nbgrader once (a template workspace, the class gradebook);
3. workspace.py ``--jobs`` worker processes, each with its own copy of the template, grade
                one student's assignment at a time (tamper.py, execute.py, kernel.py,
                feedback.py); a failure inside one submission stays in its rows;
4. gradebook.py merge every result into the class gradebook;
5. results.py   write ``grades.csv`` and ``tests.csv``; progress.py reports along the way.

Results do not depend on ``--jobs`` or on which worker graded what: every worker runs the
same configuration, and the tables are sorted.

Student code runs in kernels that the workers start, and it can harm its worker: kill it,
stop it, or make it hang.  So the parent watches each worker (this module): a worker that
dies, or takes longer than its submission's time limits allow, is replaced, and only the
submission it was grading is charged for it.  Nothing reaches ``OUT`` before the whole class
is graded (workers write into a staging folder), so a run stopped by SIGTERM or Ctrl-C
leaves the previous results as they were, and no process or scratch folder behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from ..course import RELEASE, CourseError, assignments, notebooks
from ..release import put_scripts_on_path
from .collect import Unit, collect_zips, has_zips, plan
from .gradebook import (
    ClassGradebook,
    database_url,
    sqlite_url,
    without_password,
    write_review_config,
)
from .nbgrader_setup import (
    Options,
    Workspace,
    build_template,
    cell_timeout,
    course_config,
    enter_worker,
    quiet_nbgrader,
)
from .out import check_out_folder, move_into_out, remove
from .progress import Progress
from .results import NotebookResult, write_grades, write_tests
from .run.execute import sandbox_parent
from .run.kernel import Limits, stop_processes_in, write_kernelspec
from .submission import grade_submission, not_graded

# A worker process that dies (not a kernel: the grader itself) gets its submission retried
# in a fresh process; a submission present at this many deaths is given up as crashed.
WORKER_DEATHS = 2
# Seconds a worker may spend on a notebook beyond the notebook's time limit (starting the
# kernel, nbgrader's own steps, the feedback page, a fresh worker's set-up) before the
# watchdog takes it for stuck: a kernel can stop its worker (SIGSTOP), which never ends.
WATCHDOG_MARGIN = 120
# Held (flock) by a run for as long as it lives, in its scratch folder; names the folder of
# its kernels' sandboxes.  A scratch folder whose lock nobody holds is an abandoned run's.
LOCK = "run.lock"


@dataclass(frozen=True)
class Settings:
    """Everything ``grade`` can be told, with the defaults the command line documents."""

    jobs: int = 1
    timeout: int | None = None  # seconds per cell; None: the course's nbgrader_config.py
    notebook_timeout: int | None = None  # None: five times the cell timeout
    db: str | None = None  # SQLAlchemy URL; None: SQLite in OUT
    assignments: tuple[str, ...] = ()  # () : every assignment found in the submissions
    limits: Limits = field(default_factory=Limits)


def grade(
    root: Path, submissions: Path, out: Path, settings: Settings = Settings(), *, stream=None
) -> list[NotebookResult]:
    """Grade every submission in ``submissions`` into ``out``; the results, one per notebook.

    SIGTERM or SIGINT (Ctrl-C) ends the run cleanly: its workers and their kernels are
    stopped, its scratch folders removed and OUT left with the previous results; then the
    signal does what it would have done here (KeyboardInterrupt, or the end of the process).
    """
    stream = stream or sys.stderr
    with _Signals() as signals:
        try:
            return _grade(root, submissions, out, settings, stream, signals)
        except Interrupted as interruption:
            print(f"\n{interruption}", file=stream)
    signals.deliver()  # after the cleanup, as if no handler had been there
    raise KeyboardInterrupt  # a handler of the caller's took the signal: the run is over


def _grade(
    root: Path, submissions: Path, out: Path, settings: Settings, stream, signals: _Signals
) -> list[NotebookResult]:
    submissions, out = submissions.resolve(), out.resolve()
    if settings.jobs < 1:
        raise CourseError(f"--jobs must be at least 1, not {settings.jobs}")
    check_out_folder(root, submissions, out)  # before anything is written: OUT is emptied
    released = {a: tuple(p.stem for p in notebooks(root, RELEASE, a)) for a in assignments(root)}
    course = {a: names for a, names in released.items() if names}
    for wanted in assignments(root, list(settings.assignments)) if settings.assignments else []:
        if wanted not in course:
            raise CourseError(f"{wanted} is not released: run `minigrad-course release {wanted}`")
    out.mkdir(parents=True, exist_ok=True)

    if has_zips(submissions):
        for note in collect_zips(submissions, out / "collected", course):
            print(note, file=stream)
        submissions = out / "collected"
    work = plan(submissions, course, list(settings.assignments) or None)
    for warning in work.warnings:
        print(f"warning: {warning}", file=stream)

    base = course_config(root)
    timeout = settings.timeout or cell_timeout(base)
    notebook_timeout = settings.notebook_timeout or 5 * timeout
    db_url = database_url(settings.db) if settings.db else sqlite_url(out / "gradebook.db")
    put_scripts_on_path()  # nbgrader runs `alembic` by name when it creates a gradebook
    quiet_nbgrader()
    keep_away = (root.resolve(), out, submissions)
    # Workspaces (gradebooks, hidden tests) live under OUT, away from the folder where the
    # kernels' sandboxes are made: walking up from a kernel's folder never passes them.
    with _scratch(out, keep_away, stream) as (scratch, kernels):
        options = Options(
            scratch / "staged",
            timeout,
            notebook_timeout,
            settings.limits,
            scratch / "jupyter",
            keep_away,
        )
        write_kernelspec(options.jupyter_dir, settings.limits)
        print(
            f"setting up nbgrader for {', '.join(work.assignments)} "
            f"({len(work.units)} submission(s), {settings.jobs} job(s))",
            file=stream,
        )
        course_id = base.CourseDirectory.get("course_id", "default_course")
        progress = Progress(len(work.units), stream)

        def prepare() -> None:
            with signals.held(written=False):  # nbgrader takes an interruption for a failure
                build_template(root, work.assignments, scratch / "template", options, db_url)
            progress.restart()

        def start_worker() -> _Worker:
            folder = Path(tempfile.mkdtemp(prefix="worker-", dir=kernels))
            return _Worker(folder, (root, scratch, options))

        def give_up(unit: Unit, detail: str, log: str) -> list[NotebookResult]:
            return not_graded(root, options.staging, unit, detail, log)

        results = _run(
            work.units,
            settings.jobs,
            start_worker,
            notebook_timeout + WATCHDOG_MARGIN,
            prepare,
            give_up,
            progress.update,
        )
        # Into OUT all at once: an interruption now would leave half the class new.
        with signals.held(written=True):
            gradebook = ClassGradebook(db_url, course_id)
            try:
                gradebook.record(results)
            finally:
                gradebook.close()
            for unit in work.units:
                move_into_out(options.staging, out, unit)
            write_review_config(out, root, db_url, course_id)
            write_grades(out / "grades.csv", results)
            write_tests(out / "tests.csv", results)
    files = {
        "grades": str(out / "grades.csv"),
        "tests": str(out / "tests.csv"),
        "feedback": f"{out / 'feedback'} (for students)",
        "gradebook": without_password(db_url) if settings.db else str(out / "gradebook.db"),
        "review": f"{out / 'autograded'} (formgrader: run jupyter lab in {out})",
    }
    progress.summary(results, files)
    return results


def _run(
    units, jobs, start_worker, seconds_per_notebook, prepare, give_up, done
) -> list[NotebookResult]:
    """Grade ``units`` in up to ``jobs`` workers; the results, each also given to ``done``
    as its submission is finished.

    Each worker grades one submission at a time, which is how a worker that dies or is stuck
    is charged to the submission it was grading, and to no other: that submission is graded
    again in a fresh worker, and given up (``give_up``) at its ``WORKER_DEATHS``-th loss.
    ``prepare`` runs once, while the first workers start (they spend seconds importing
    nbgrader, in parallel with it).
    """
    results: list[NotebookResult] = []
    losses: dict[tuple[str, str], list[str]] = {}
    pending = deque(units)
    workers: list[_Worker] = []
    try:
        while pending or any(w.unit is not None for w in workers):
            busy = sum(1 for w in workers if w.unit is not None)
            while len(workers) < min(jobs, busy + len(pending)):
                workers.append(start_worker())
            if prepare is not None:
                prepare()
                prepare = None
            for worker in workers:
                if worker.unit is None and pending:
                    unit = pending.popleft()
                    worker.give(unit, seconds_per_notebook * len(unit.notebooks))
            busy_workers = [w for w in workers if w.unit is not None]
            soonest = min(w.deadline for w in busy_workers)
            wait(
                [w.connection for w in busy_workers] + [w.process.sentinel for w in busy_workers],
                timeout=max(0.0, soonest - time.monotonic()),
            )
            for worker in busy_workers:
                unit = worker.unit
                answer = worker.answer()
                if answer is None:
                    continue  # still at work
                kind, content = answer
                if kind == "lost":
                    workers.remove(worker)
                    worker.stop()
                    losses.setdefault(unit.key, []).append(content)
                    if len(losses[unit.key]) < WORKER_DEATHS:
                        pending.append(unit)
                        continue
                    reasons = "; ".join(dict.fromkeys(losses[unit.key]))
                    finished = give_up(
                        unit,
                        f"the grading process died while grading it, twice: it {reasons}",
                        "".join(
                            f"try {i}: the grading process {reason}\n"
                            for i, reason in enumerate(losses[unit.key], 1)
                        ),
                    )
                elif kind == "failed":  # a bug of ours must not stop the class
                    finished = give_up(unit, f"the grader failed: {content}", content + "\n")
                else:
                    finished = content
                    for reason in losses.get(unit.key, []):
                        for result in finished:
                            note = f"graded again: the grading process {reason} the first time"
                            result.detail = f"{result.detail}; {note}" if result.detail else note
                results += finished
                done(finished)
    finally:
        for worker in workers:
            worker.stop()
    return results


class _Worker:
    """A grading process, the submission it is grading, and until when it may take.

    Its temporary folder (``folder``, away from the course and OUT) is where its kernels'
    sandboxes are made, so that when the worker is lost, its kernels and their sandboxes can
    be found and removed with it.
    """

    def __init__(self, folder: Path, args: tuple):
        self.folder = folder
        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(theirs, folder, *args), name="minigrad-grading", daemon=True
        )
        self.process.start()
        theirs.close()
        self.unit: Unit | None = None
        self.deadline = 0.0
        self.seconds = 0

    def give(self, unit: Unit, seconds: int) -> None:
        self.unit, self.seconds = unit, seconds
        self.deadline = time.monotonic() + seconds
        with contextlib.suppress(OSError):  # dead already: answer() will say so
            self.connection.send(unit)

    def answer(self) -> tuple[str, object] | None:
        """("done", results), ("failed", why) or ("lost", how); None while it is at work."""
        if self.connection.poll():
            try:
                kind, content = self.connection.recv()
            except Exception:  # the end of the pipe, or an answer cut short: it died
                return self._lost()
            self.unit = None
            return kind, content
        if not self.process.is_alive():
            return self._lost()
        if time.monotonic() >= self.deadline:
            self.process.kill()
            self.process.join()
            return "lost", f"was stuck for more than {self.seconds} s and was stopped"
        return None

    def _lost(self) -> tuple[str, str]:
        self.process.join(timeout=5)
        if self.process.is_alive():  # it closed the pipe, yet lives on: not to be trusted
            self.process.kill()
            self.process.join()
        return "lost", _how_it_ended(self.process.exitcode)

    def stop(self) -> None:
        """End the process, whatever it is doing, then its kernels; remove its folder."""
        if self.process.is_alive() and self.unit is None:
            try:
                self.connection.send(None)  # idle: it may leave on its own
                self.process.join(timeout=5)
            except OSError:
                pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()
        stop_processes_in(self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        number = -exitcode
        name = signal.Signals(number).name if number in signal.valid_signals() else number
        return f"was killed by {name}"
    return f"exited with code {exitcode}"


# -- in the worker process ------------------------------------------------------------

_worker: tuple[Path, Path, Options] | None = None
_workspace: Workspace | None = None


def _serve(connection, folder: Path, root: Path, scratch: Path, options: Options) -> None:
    """A worker process: grade the units the parent sends, one at a time, until it sends
    None or is gone."""
    # In a session of its own, Ctrl-C in the terminal reaches the parent only, which then
    # stops the workers: a worker must not take it for a failure of the submission at hand.
    os.setsid()
    _start_worker(folder, root, scratch, options)
    parent = os.getppid()
    threading.Thread(target=_leave_with, args=(parent, folder), daemon=True).start()
    while True:
        try:
            unit = connection.recv()
        except EOFError:
            return
        if unit is None:
            return
        try:
            answer = ("done", _grade_unit(unit))
        except Exception as error:
            answer = ("failed", f"{type(error).__name__}: {error}")
        connection.send(answer)


def _leave_with(parent: int, folder: Path) -> None:
    """End this worker, its kernels and its folder once the parent is gone (SIGKILL gives
    the parent no chance to stop them)."""
    while os.getppid() == parent:
        time.sleep(1)
    stop_processes_in(folder)
    shutil.rmtree(folder, ignore_errors=True)
    os._exit(1)


def _start_worker(folder: Path, root: Path, scratch: Path, options: Options) -> None:
    """Set up this worker process (nbgrader is imported with this module)."""
    global _worker
    enter_worker(folder, options)
    _worker = (root, scratch, options)


def _grade_unit(unit: Unit) -> list[NotebookResult]:
    """Grade one unit in this worker's workspace, a copy of the template made on first use."""
    global _workspace
    assert _worker is not None, "the worker was not started"
    if _workspace is None:
        root, scratch, options = _worker
        _workspace = Workspace.copy_of(scratch / "template", root, options)
    return grade_submission(unit, _workspace)


# -- scratch folders and signals ------------------------------------------------------


@contextlib.contextmanager
def _scratch(out: Path, keep_away: tuple[Path, ...], stream):
    """The run's scratch folder in OUT (workspaces, staged results: hidden tests and
    submissions among them) and the folder of its kernels' sandboxes, away from OUT; both
    removed at the end, however the run ends.  Those an abandoned run left are removed
    first."""
    for folder in sorted(out.glob(".grading-*")):
        try:
            if _remove_if_abandoned(folder):
                print(f"removed {folder.name}, left by a run that was killed", file=stream)
        except OSError as error:
            print(f"warning: {folder.name}, left by a run that was killed: {error}", file=stream)
    scratch = Path(tempfile.mkdtemp(prefix=".grading-", dir=out))
    lock = open(scratch / LOCK, "w", encoding="utf-8")  # noqa: SIM115 (held for the run)
    kernels = None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kernels = Path(tempfile.mkdtemp(prefix="minigrad-kernels-", dir=sandbox_parent(keep_away)))
        lock.write(f"{kernels}\n")
        lock.flush()
        yield scratch, kernels
    finally:
        if kernels is not None:
            stop_processes_in(kernels)
            shutil.rmtree(kernels, ignore_errors=True)
        remove(scratch)
        lock.close()


def _remove_if_abandoned(folder: Path) -> bool:
    """Remove ``folder``, a run's scratch folder, and its kernels' folder, if the run is
    gone (no process holds its lock); whether it did."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        lock = open(folder / LOCK, encoding="utf-8")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        kernels = None  # a run from before locks, or one killed as it started
    except OSError:
        return False
    else:
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # a run in progress
            kernels = Path(lock.read().strip() or ".")
    if kernels is not None and kernels.name.startswith("minigrad-kernels-"):
        stop_processes_in(kernels)
        shutil.rmtree(kernels, ignore_errors=True)
    remove(folder)
    return True


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived while grading.  A BaseException, so that no ``except
    Exception`` on the way takes it for a failure to report (nbgrader's bare ``except:``
    would: the signal is held while nbgrader runs in this process)."""

    def __init__(self, number: int, written: bool):
        self.number = number
        results = "the results were written first" if written else "OUT keeps the previous results"
        super().__init__(
            f"interrupted ({signal.Signals(number).name}): the workers and their kernels are "
            f"stopped and the scratch folder is removed; {results}"
        )


class _Signals:
    """SIGTERM and SIGINT (Ctrl-C) while a class is graded.

    Either raises ``Interrupted`` where the parent is, so that the ``finally`` blocks on the
    way stop the workers and their kernels and remove the scratch folders; then
    ``deliver`` hands the signal to what handled it before (Python's KeyboardInterrupt, or
    the end of the process).  While the results are written into OUT, the signal is held
    until they are all there; a second signal does not cut the clean-up short.  Only the
    main thread can take signals; elsewhere, nothing changes.
    """

    def __init__(self):
        self.received: int | None = None
        self._holding = False
        self._before: dict[int, object] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGTERM, signal.SIGINT):
                before = signal.getsignal(number)
                # Left alone when ignored (nohup, a background job) or not Python's to change.
                if before is not None and before is not signal.SIG_IGN:
                    self._before[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *_) -> None:
        for number, before in self._before.items():
            signal.signal(number, before)
        self._before = {}

    def _handle(self, number: int, _frame) -> None:
        first = self.received is None
        self.received = self.received or number
        if first and not self._holding:
            raise Interrupted(number, written=False)

    @contextlib.contextmanager
    def held(self, written: bool):
        """No interruption inside; one that came is raised at the end (``written``: the
        results are in OUT by then)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self.received is not None:
            raise Interrupted(self.received, written)

    def deliver(self) -> None:
        if self.received is not None:
            signal.raise_signal(self.received)
