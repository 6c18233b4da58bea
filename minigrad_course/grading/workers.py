"""The local engine: ``--jobs`` grading processes on this machine, each watched.

Student code runs in kernels that the workers start, and it can harm its worker: kill it,
stop it, or make it hang.  So the parent watches each worker: a worker that dies, or takes
longer than its submission's time limits allow, is replaced, and only the submission it was
grading is charged for it.  A worker lost is stopped with its kernels (run/sandbox.py), and
a worker whose parent is gone stops itself.

The pipeline hands this module the units and gets their results back; another engine (a
cluster's workers) could take its place, given the same set-up in each of its processes:
``enter_worker``, a ``Workspace`` copied from the template, ``grade_submission`` per unit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import wait
from pathlib import Path

from .collect import Unit
from .nbgrader_setup import Options, Workspace, enter_worker
from .results import NotebookResult, joined
from .run.sandbox import stop_processes_in
from .submission import grade_submission

# A worker process that dies (not a kernel: the grader itself) gets its submission retried
# in a fresh process; a submission present at this many deaths is given up as crashed.
WORKER_DEATHS = 2
# Seconds a worker may spend on a notebook beyond the notebook's time limit (starting the
# kernel, nbgrader's own steps, the feedback page, a fresh worker's set-up) before the
# watchdog takes it for stuck: a kernel can stop its worker (SIGSTOP), which never ends.
WATCHDOG_MARGIN = 120


def grade_units(
    units: list[Unit],
    jobs: int,
    kernels: Path,
    grader: tuple[Path, Path, Options],
    notebook_timeout: int,
    prepare: Callable[[], None],
    give_up: Callable[[Unit, str, str], list[NotebookResult]],
    done: Callable[[list[NotebookResult]], None],
) -> list[NotebookResult]:
    """Grade ``units`` in up to ``jobs`` workers; the results, each also given to ``done``
    as its submission is finished.

    A worker is set up with ``grader`` (the course root, the template workspace and the
    options) and makes its temporary folder, where its kernels' sandboxes go, in ``kernels``.
    A submission may take ``notebook_timeout`` and ``WATCHDOG_MARGIN`` seconds a notebook.

    Each worker grades one submission at a time, which is how a worker that dies or is stuck
    is charged to the submission it was grading, and to no other: that submission is graded
    again in a fresh worker, and given up (``give_up``) at its ``WORKER_DEATHS``-th loss.
    ``prepare`` runs once, while the first workers start (they spend seconds importing
    nbgrader, in parallel with it).
    """
    seconds_per_notebook = notebook_timeout + WATCHDOG_MARGIN
    results: list[NotebookResult] = []
    losses: dict[tuple[str, str], list[str]] = {}
    pending = deque(units)
    workers: list[_Worker] = []
    prepared = False
    try:
        while pending or any(w.unit is not None for w in workers):
            busy = sum(1 for w in workers if w.unit is not None)
            while len(workers) < min(jobs, busy + len(pending)):
                folder = Path(tempfile.mkdtemp(prefix="worker-", dir=kernels))
                workers.append(_Worker(folder, grader))
            if not prepared:
                prepare()
                prepared = True
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
                            result.detail = joined(result.detail, note)
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


def _serve(connection, folder: Path, root: Path, template: Path, options: Options) -> None:
    """A worker process: grade the units the parent sends, one at a time, until it sends
    None or is gone."""
    # In a session of its own, Ctrl-C in the terminal reaches the parent only, which then
    # stops the workers: a worker must not take it for a failure of the submission at hand.
    os.setsid()
    enter_worker(folder, options)  # nbgrader is imported with this module
    parent = os.getppid()
    threading.Thread(target=_leave_with, args=(parent, folder), daemon=True).start()
    workspace = None
    while True:
        try:
            unit = connection.recv()
        except EOFError:
            return
        if unit is None:
            return
        try:
            if workspace is None:  # on first use: the parent builds the template meanwhile
                workspace = Workspace.copy_of(template, root, options)
            answer = ("done", grade_submission(unit, workspace))
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
