"""Running a submission for nbgrader: in a folder of its own, under limits, every failure noted.

nbgrader's ``Execute`` preprocessor starts the kernel in the folder of the autograded copy,
inside the grading workspace, next to the gradebook and the instructor's notebooks; and a
kernel that dies ends nbgrader's work on the whole submission.  ``GradingExecute`` takes its
place in ``Autograde.autograde_preprocessors`` (see nbgrader_setup.py) and changes seven things:

1. the kernel starts in a fresh temporary folder holding only the student's notebook, from
   the grading kernelspec, whose launcher sets the resource limits (kernel.py) and, unless
   ``--sandbox none``, starts it in a bubblewrap sandbox (bubblewrap.py), which the executor
   then talks to over Unix sockets (``create_kernel_manager``);
2. a kernel that fails to start (two kernels racing for one port under ``--jobs``) is
   started again, up to ``start_attempts`` times;
3. a cell past its time limit is interrupted, as nbgrader does; if the kernel does not
   answer after that, or the notebook's total time runs out, later cells are not run;
4. a kernel that dies ends the run: the cell it died in and every later cell get an error
   output (so no test among them counts as passed), and nbgrader still gets the notebook;
5. a cell's output is cut off past ``max_output_bytes``, and every output once the notebook
   has printed ``max_notebook_output_bytes``, so a student printing in a loop cannot exhaust
   the grader's memory or its disk;
6. after the last cell the kernel is stopped at once, not asked to wind down;
7. before every test cell, what tests rely on (check functions, numpy, minigrad, IPython's
   way of running a cell and reporting its errors) is put back as it was when the kernel
   started, and what was put back is reported; after every test cell its source is taken
   out of the kernel's history (guard.py).

Each run writes its report (report.py: timeouts, crash, cells not run, output cut off,
what the guard put back), which the verdict reads.  Outputs alone would not do: student code
can print anything, including a fake ``CellTimeoutError``.
"""

from __future__ import annotations

import ast
import json
import os
import random
import shutil
import signal
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbconvert.preprocessors.execute import NotebookClient
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, List, Unicode

from ...notebooks import is_test
from . import guard
from .kernel import LOG_VARIABLE
from .report import Crash, PutBack, Report, Stopped
from .sandbox import sandbox_parent

# The guard module as the kernel imports it: by its name, wherever it lives in the package.
GUARD = f"__import__({guard.__name__!r}, fromlist=['install'])"
NOT_RUN = "CellNotRun"
KERNEL_DIED = "KernelDied"


class GradingExecute(Execute):
    """nbgrader's Execute, run in a sandbox folder with the limits and the reports above."""

    report_directory = Unicode(
        help="where to write <student>/<assignment>/<notebook>.json reports"
    ).tag(config=True)
    submitted_directory = Unicode(
        help="nbgrader's submitted/ folder: the student's notebook is copied from there"
    ).tag(config=True)
    notebook_timeout = Integer(600, help="seconds for the whole notebook").tag(config=True)
    interrupt_grace = Float(5.0, help="seconds a kernel has to answer after an interrupt").tag(
        config=True
    )
    start_attempts = Integer(3, help="tries to start a kernel").tag(config=True)
    max_output_bytes = Integer(1_000_000, help="output kept per cell").tag(config=True)
    max_notebook_output_bytes = Integer(16_000_000, help="output kept per notebook").tag(
        config=True
    )
    cpu_seconds = Integer(600, help="the kernel's CPU limit, named in reports").tag(config=True)
    keep_away_from = List(
        Unicode(), help="folders (course, OUT, submissions) the sandbox must not be made near"
    ).tag(config=True)
    sandboxed = Bool(
        False, help="the kernelspec starts kernels in bubblewrap: talk to them over Unix sockets"
    ).tag(config=True)

    # Our own bookkeeping decides what a stuck kernel means; nbgrader's default would raise.
    raise_on_iopub_timeout = False
    # Once the last cell has run, nothing more is wanted from the kernel: stopping it at once
    # spares a wait of a few hundred milliseconds per notebook for it to wind down.
    shutdown_kernel = "immediate"

    def preprocess(self, nb, resources, km=None):
        ids = resources["nbgrader"]
        report = Report()
        self._cells_started = 0
        parent = sandbox_parent([Path(p) for p in self.keep_away_from])
        sandbox = Path(tempfile.mkdtemp(prefix="minigrad-kernel-", dir=parent))
        # A Unix socket's path has at most 107 bytes: the sockets of a sandboxed kernel go in
        # a short folder of their own rather than beside its notebook, wherever that is.
        self._sockets = Path(tempfile.mkdtemp(prefix="mgk-", dir=_short_temp()))
        try:
            work = sandbox / "work"
            work.mkdir()
            name = f"{ids['notebook']}.ipynb"
            submitted = Path(self.submitted_directory, ids["student"], ids["assignment"], name)
            if submitted.is_file():
                shutil.copyfile(submitted, work / name)
            log = sandbox / "kernel.log"
            for attempt in range(1, self.start_attempts + 1):
                report.starts = attempt
                try:
                    return self._run(nb, resources, km, work, log, report)
                except Exception:
                    if self._cells_started or attempt == self.start_attempts:
                        raise
                    self.log.warning("the kernel did not start (attempt %d); retrying", attempt)
                    time.sleep(random.uniform(0.2, 1.0))
        finally:
            if report.crash is not None:
                report.crash.log = _tail(sandbox / "kernel.log")
            shutil.rmtree(sandbox, ignore_errors=True)
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._write_report(ids, report)

    def create_kernel_manager(self):
        """nbclient's kernel manager; for a kernel in a bubblewrap sandbox, one that talks to
        it over Unix sockets in the kernel's folder (``transport = "ipc"``), since the
        sandbox's network namespace has no port of this one.  The connection file goes beside
        them: the launcher makes that folder writable in the sandbox, with the kernel's own."""
        km = super().create_kernel_manager()
        if self.sandboxed:
            km.transport = "ipc"
            km.ip = str(self._sockets / "zmq")
            km.connection_file = str(self._sockets / "connection.json")
        return km

    def _run(self, nb, resources, km, work: Path, log: Path, report: Report):
        """nbconvert's ExecutePreprocessor.preprocess, with our start, stop and crash rules."""
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._report = report
        self._cells_started = 0
        self._stopped: str | None = None
        self._current = -1
        self._output_bytes: dict[int, int] = {}
        self._notebook_bytes = 0
        self._deadline = time.monotonic() + self.notebook_timeout
        environment = {**os.environ, LOG_VARIABLE: str(log)}
        with self.setup_kernel(cwd=str(work), env=environment):
            info = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info["content"]["language_info"]
            guarded = self._in_kernel(f"{GUARD}.install()") is True
            if not guarded:
                report.guard.append(PutBack(None, ["the guard could not start"]))
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                if self._stopped is None and time.monotonic() >= self._deadline:
                    self._stop(
                        f"the notebook ran past its total limit of {self.notebook_timeout} s"
                    )
                if self._stopped is not None:
                    cell.outputs = [_error(NOT_RUN, f"not run: {self._stopped}")]
                    cell.execution_count = None
                    continue
                self._current = index
                self._cells_started += 1
                test = is_test(cell)
                if test and guarded:
                    changes = self._in_kernel(f"{GUARD}.check()")
                    if changes:
                        report.guard.append(PutBack(index, list(changes)))
                try:
                    self.execute_cell(cell, index, store_history=True)
                except DeadKernelError:
                    self._record_crash(cell, index)
                    continue
                if test and guarded and isinstance(cell.get("execution_count"), int):
                    self._in_kernel(f"{GUARD}.forget_cell({cell.execution_count})")
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _in_kernel(self, expression: str):
        """The value of ``expression`` (a Python literal) evaluated in the kernel, leaving no
        trace in the notebook or its history; None if that fails."""
        try:
            msg_id = self.kc.execute(
                "", silent=True, store_history=False, user_expressions={"value": expression}
            )
            reply = self.wait_for_reply(msg_id)
            value = reply["content"]["user_expressions"]["value"]
            if value.get("status") != "ok":
                self.log.warning("guard: %s failed: %s", expression, value.get("evalue"))
                return None
            return ast.literal_eval(value["data"]["text/plain"])
        except Exception as error:  # a kernel that is gone or stuck: the cells will tell
            self.log.warning("guard: %s failed: %r", expression, error)
            return None

    def _stop(self, reason: str) -> None:
        if self._stopped is None:
            self._stopped = reason
            self._report.stopped = Stopped(self._current, reason)

    def _record_crash(self, cell, index: int) -> None:
        code = _exit_code(self.km)
        if self.sandboxed and code is not None and 128 < code < 128 + 65:
            code = 128 - code  # bwrap exits with 128 + the signal that killed the kernel
        reason = describe_exit(code, self.cpu_seconds)
        self._report.crash = Crash(index, code, reason)
        cell.outputs.append(_error(KERNEL_DIED, f"the kernel died running this cell: {reason}"))
        self._stop("the kernel died in an earlier cell")

    def _get_timeout(self, cell):
        """The cell's limit, cut short when the notebook's total time is nearly spent."""
        timeout = super()._get_timeout(cell)
        remaining = max(1, int(self._deadline - time.monotonic()))
        return remaining if timeout is None else min(timeout, remaining)

    async def _async_handle_timeout(self, timeout, cell=None):
        reply = await super()._async_handle_timeout(timeout, cell)  # interrupts the kernel
        self._report.timeouts.append(self._current)
        if not await self._kernel_answers(self.interrupt_grace):
            await ensure_async(self.km.shutdown_kernel(now=True))
            self._stop("an earlier cell ran past its time limit and did not stop when interrupted")
        elif time.monotonic() >= self._deadline:
            self._stop(f"the notebook ran past its total limit of {self.notebook_timeout} s")
        return reply

    async def _kernel_answers(self, within: float) -> bool:
        """Whether the kernel replies to a kernel_info request within ``within`` seconds: a
        kernel still busy with the interrupted cell cannot."""
        msg_id = self.kc.kernel_info()
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
            except Exception:  # queue.Empty: no answer in time
                return False
            if msg["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {})))
        used = self._output_bytes.get(cell_index, 0) + size
        self._output_bytes[cell_index] = used
        self._notebook_bytes += size
        if self._notebook_bytes > self.max_notebook_output_bytes:
            # Many cells each under their own cap can still add up to a notebook too big
            # to keep: past the notebook's cap every output is cut, with one note.
            if self._report.notebook_truncated is None:
                self._report.notebook_truncated = cell_index
                note = (
                    f"[output cut off: the notebook printed more than "
                    f"{self.max_notebook_output_bytes} bytes]"
                )
                outs.append(nbformat.v4.new_output("stream", name="stderr", text=note + "\n"))
            return None
        if used <= self.max_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if cell_index not in self._report.truncated:
            self._report.truncated.append(cell_index)
            note = f"[output cut off: this cell printed more than {self.max_output_bytes} bytes]"
            outs.append(nbformat.v4.new_output("stream", name="stderr", text=note + "\n"))
        return None

    def _write_report(self, ids: dict, report: Report) -> None:
        if not self.report_directory:
            return
        path = Path(self.report_directory, ids["student"], ids["assignment"], ids["notebook"])
        report.write(path.with_suffix(".json"))

    execute_cell = run_sync(Execute.async_execute_cell)


def _short_temp() -> str:
    """A temporary folder with a short path (for Unix sockets): /tmp where it is writable."""
    return "/tmp" if os.access("/tmp", os.W_OK | os.X_OK) else tempfile.gettempdir()


def describe_exit(code: int | None, cpu_seconds: int) -> str:
    """Why a kernel process ended, in words an instructor can act on."""
    if code is None:
        return "it stopped answering"
    if code >= 0:
        return f"it exited with code {code} (os._exit, or exit() in a cell)"
    number = -code
    name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
    reasons = {
        "SIGXCPU": f"it used up its {cpu_seconds} s of CPU time",
        "SIGKILL": "it was killed (SIGKILL: out of memory, or past its CPU time)",
        "SIGSEGV": "it crashed (SIGSEGV: a segmentation fault)",
        "SIGABRT": "it aborted (SIGABRT: often a failed allocation in a C library)",
        "SIGBUS": "it crashed (SIGBUS)",
    }
    return reasons.get(name, f"it was killed by {name}")


def _exit_code(km) -> int | None:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return None if process is None else process.poll()


def _error(ename: str, evalue: str):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
