"""Grading workers that student code harms, and runs that are stopped halfway.

A kernel is a child of the worker process that grades its notebook, so student code can kill
that worker (SIGKILL) or stop it (SIGSTOP); and the instructor can stop the whole run
(SIGTERM, Ctrl-C) or have it killed.  Each must cost only what it has to: the submission that
was being graded, never the rest of the class, and never a process, a kernel sandbox or a
scratch folder (which holds the hidden tests) left behind, nor an OUT half old and half new.

The runs happen in a subprocess, with a temporary folder of their own for the kernels'
sandboxes, so that a grader that hangs or leaves processes behind fails the test instead of
stopping it, and whatever is left behind can be seen.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from grading_class import FAULTS, NOTEBOOK, ROOT, append_to, read, solved, write

from minigrad_course.grading.pipeline import Settings, grade
from minigrad_course.grading.results import read_rows

pytestmark = pytest.mark.slow

CLI = "import sys; from minigrad_course.cli import main; sys.exit(main())"
# grade() with a short watchdog, so that a stuck worker is found in seconds, not minutes;
# without the sandbox, in which a kernel can neither kill nor stop its worker (that is
# test_grading_sandbox.py's): these are the defences of a host that cannot run it.
HARMED_RUN = """
import sys
from pathlib import Path
from minigrad_course.grading import pipeline, workers
workers.WATCHDOG_MARGIN = 15
pipeline.grade(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]),
               pipeline.Settings(jobs=2, timeout=5, notebook_timeout=15, sandbox="none"))
"""


def _harm(signal_name: str):
    return append_to(
        "derivatives_central_difference",
        f"import os, signal\nos.kill(os.getppid(), signal.{signal_name})",
    )


def _processes_in(folder: Path) -> list[int]:
    """Processes working in ``folder`` (kernels in their sandboxes)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cwd = os.readlink(os.path.join(entry.path, "cwd"))
            except OSError:
                continue
            if cwd.startswith(str(folder.resolve())):
                found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pids: list[int], within: float = 15.0) -> list[int]:
    """Those of ``pids`` still running after ``within`` seconds (zombies count as gone)."""
    deadline = time.monotonic() + within
    while True:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.append(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.5)


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _hashes(out: Path) -> dict[str, str]:
    """OUT's results: every file but the gradebook (its set-up is written on every run) and
    the scratch folders."""
    files = [p.relative_to(out) for p in sorted(out.rglob("*")) if p.is_file()]
    return {
        str(p): hashlib.sha256((out / p).read_bytes()).hexdigest()
        for p in files
        if p.name != "gradebook.db" and not p.parts[0].startswith(".")
    }


# -- a kernel that kills or stops its worker --------------------------------------------


@pytest.fixture(scope="module")
def harmed(tmp_path_factory):
    base = tmp_path_factory.mktemp("harmed")
    submissions, out, kernels = base / "submissions", base / "out", base / "tmp"
    kernels.mkdir()
    # Sorted first, these two are graded while the rest of the class waits.
    write(_harm("SIGKILL")(solved()), submissions / "a-kills" / NOTEBOOK)
    write(_harm("SIGSTOP")(solved()), submissions / "b-stops" / NOTEBOOK)
    write(solved(), submissions / "c-correct" / NOTEBOOK)
    write(read("course"), submissions / "d-blank" / NOTEBOOK)

    # A run killed with SIGKILL left its scratch folder, and its kernels' folder elsewhere.
    dead = out / ".grading-dead1234"
    dead.mkdir(parents=True)
    dead_kernels = base / "elsewhere" / "minigrad-kernels-dead1234"
    (dead_kernels / "sandbox").mkdir(parents=True)
    (dead / "run.lock").write_text(f"{dead_kernels}\n")
    (dead / "hidden-tests.ipynb").write_text("{}")
    # A run still in progress (its lock is held) keeps its scratch folder.
    running = out / ".grading-running"
    running.mkdir()
    with open(running / "run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        env = {**os.environ, "TMPDIR": str(kernels)}
        command = [sys.executable, "-c", HARMED_RUN, str(ROOT), str(submissions), str(out)]
        began = time.monotonic()
        proc = subprocess.Popen(
            command, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            _, stderr = proc.communicate(timeout=400)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _kill(_processes_in(kernels))
            _, stderr = proc.communicate()
            pytest.fail(f"the run did not finish in 400 s:\n{stderr[-3000:]}")
        finally:
            left = _processes_in(kernels)
            _kill(left)
    return {
        "returncode": proc.returncode,
        "stderr": stderr,
        "seconds": time.monotonic() - began,
        "out": out,
        "kernels": kernels,
        "dead_kernels": dead_kernels,
        "left": left,
        "rows": {r["student_id"]: r for r in read_rows(out / "grades.csv")},
    }


def test_a_worker_killed_by_its_kernel_costs_that_submission_alone(harmed):
    assert harmed["returncode"] == 0, harmed["stderr"][-3000:]
    rows, out = harmed["rows"], harmed["out"]
    killed = rows["a-kills"]
    assert killed["status"] == "crashed" and killed["score"] == ""
    assert killed["max_score"] == "10"
    assert killed["detail"] == (
        "the grading process died while grading it, twice: it was killed by SIGKILL"
    )
    assert (rows["c-correct"]["status"], rows["c-correct"]["score"]) == ("graded", "10")
    assert (rows["d-blank"]["status"], rows["d-blank"]["score"]) == ("graded", "0")
    for student in ("c-correct", "d-blank"):
        page = out / "feedback" / student / "01_derivatives" / "01_derivatives.html"
        assert "Score" in page.read_text()
        assert (out / "autograded" / student / "01_derivatives" / "01_derivatives.ipynb").is_file()
        assert "autograde" in (out / "logs" / student / "01_derivatives.log").read_text().lower()
    page = out / "feedback" / "a-kills" / "01_derivatives" / "01_derivatives.html"
    assert "not graded (crashed)" in page.read_text()
    log = (out / "logs" / "a-kills" / "01_derivatives.log").read_text()
    assert log.count("killed by SIGKILL") == 2


def test_a_worker_stopped_by_its_kernel_is_stopped_by_the_watchdog(harmed):
    assert harmed["returncode"] == 0, harmed["stderr"][-3000:]
    stopped = harmed["rows"]["b-stops"]
    assert stopped["status"] == "crashed" and stopped["score"] == ""
    # The watchdog: 15 s for the notebook, 15 s more for the rest, on each of two tries.
    assert stopped["detail"] == (
        "the grading process died while grading it, twice: it was stuck for more than 30 s "
        "and was stopped"
    )
    assert harmed["seconds"] < 300


def test_nothing_is_left_behind_and_an_abandoned_run_is_cleared(harmed):
    assert harmed["left"] == [], "kernels still running in their sandboxes"
    assert list(harmed["kernels"].iterdir()) == [], "kernel sandboxes left behind"
    out = harmed["out"]
    assert sorted(p.name for p in out.glob(".grading-*")) == [".grading-running"]
    assert not harmed["dead_kernels"].exists()
    assert "removed .grading-dead1234, left by a run that was killed" in harmed["stderr"]


# -- the run itself stopped ---------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory):
    """A class graded once into OUT; zed's notebook loops until its cell's time limit."""
    base = tmp_path_factory.mktemp("interrupted")
    submissions, out = base / "submissions", base / "out"
    write(solved(), submissions / "ada" / NOTEBOOK)
    write(read("course"), submissions / "bob" / NOTEBOOK)
    loops, _ = FAULTS["infinite-loop"]
    write(loops(solved()), submissions / "zed" / NOTEBOOK)
    grade(ROOT, submissions, out, Settings(jobs=2, timeout=3))
    assert {r["student_id"]: r["status"] for r in read_rows(out / "grades.csv")} == {
        "ada": "graded",
        "bob": "graded",
        "zed": "timeout",
    }
    return base, submissions, out


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C", "SIGKILL"])
def test_a_run_stopped_halfway_stops_everything_and_keeps_the_previous_results(
    graded_once, tmp_path, how
):
    _, submissions, out = graded_once
    before = _hashes(out)
    kernels = tmp_path / "tmp"
    kernels.mkdir()
    command = [
        sys.executable,
        "-c",
        CLI,
        "--root",
        str(ROOT),
        "grade",
        str(submissions),
        "--out",
        str(out),
        "--jobs",
        "2",
        "--timeout",
        "60",
    ]
    env = {**os.environ, "TMPDIR": str(kernels)}
    proc = subprocess.Popen(
        command, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    started: list[int] = []
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("[2/3]"):
                break  # ada and bob are graded; zed's loop runs for a minute
        else:
            pytest.fail("the run ended early:\n" + "".join(lines))
        time.sleep(3)
        started = _descendants(proc.pid)
        assert _processes_in(kernels), "zed's kernel should be running"
        if how == "Ctrl-C":  # the terminal sends SIGINT to the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, getattr(signal, how))
        stderr = proc.communicate(timeout=60)[1]
        assert proc.returncode != 0
        if how != "SIGKILL":
            assert "interrupted" in stderr and "OUT keeps the previous results" in stderr
        assert _alive(started) == [], "the workers or their kernels outlived the run"
        assert _processes_in(kernels) == []
        assert _hashes(out) == before, "OUT no longer holds the previous results"
        if how == "SIGKILL":  # nothing could clean up; the next run does
            assert list(out.glob(".grading-*"))
            grade(ROOT, submissions, out, Settings(jobs=2, timeout=3))
        assert list(out.glob(".grading-*")) == [], "the scratch folder (hidden tests) is left"
        assert list(kernels.iterdir()) == [], "kernel sandboxes left behind"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        _kill(_alive(started, within=0) + _processes_in(kernels))
