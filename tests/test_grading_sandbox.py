"""The bubblewrap sandbox (grading/run/bubblewrap.py): a correct student who also tries to get
out is denied every time, and still graded at full marks.

The submission is lesson 01 solved, plus one cell that tries, in turn, to read the
instructor's solutions and another student's submission by their absolute paths, to connect
to a server this test listens with on 127.0.0.1, to write into /tmp and into the checkout, to
list the grading user's home, and to leave a detached process behind; and that does the
normal work a lesson does (numpy, matplotlib saving a figure in its folder, minigrad and its
data sets, ipywidgets). The cell prints what happened as JSON, read back from the autograded
notebook. The same submission graded with ``--sandbox none`` gets out, which shows that the
attempts are real.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import uuid
from pathlib import Path

import nbformat
import pytest
from grading_class import LESSON, ROOT, TIMEOUT, append_to, solved, write

from minigrad_course.grading.pipeline import Settings, grade
from minigrad_course.grading.results import read_rows
from minigrad_course.grading.run import bubblewrap

pytestmark = pytest.mark.slow

ESCAPE = r"""
import json as _json, os as _os, socket as _socket, subprocess as _subprocess, sys as _sys
_tried = {}

def _attempt(name, action):
    try:
        _tried[name] = "done: " + repr(action())[:200]
    except BaseException as _error:
        _tried[name] = "denied: " + type(_error).__name__

_attempt("read solutions", lambda: open(SOLUTIONS).read(100))
_attempt("read another student", lambda: open(OTHER).read(100))
def _connect():
    with _socket.create_connection(("127.0.0.1", PORT), timeout=2) as _s:
        _s.sendall(b"hello")
_attempt("connect", _connect)
_attempt("write /tmp", lambda: open(HOST_TMP_FILE, "w").write("x"))
_attempt("write checkout", lambda: open(CHECKOUT_FILE, "w").write("x"))
_attempt("list home", lambda: MARKER in _os.listdir(HOME) or _os.listdir(HOME))
# A process that leaves the kernel's folder and session, to write a file 30 s later.
_subprocess.Popen(
    [_sys.executable, "-c", "import os, time; os.chdir('/'); time.sleep(30); "
     "open(" + repr(LATE_FILE) + ", 'w').write('still here')", LATE_MARKER],
    start_new_session=True, stdin=_subprocess.DEVNULL, stdout=_subprocess.DEVNULL,
    stderr=_subprocess.DEVNULL,
)
# The work a lesson does.
import numpy as _np, matplotlib, ipywidgets as _widgets
matplotlib.use("Agg")
import matplotlib.pyplot as _plt
from minigrad import Tensor as _Tensor
from minigrad.datasets import make_moons as _make_moons
_X, _y = _make_moons(n=50, seed=0)
_plt.plot(_X[:, 0], _X[:, 1], "."); _plt.savefig("figure.png"); _plt.close("all")
_tried["normal work"] = (
    "ok" if _os.path.getsize("figure.png") > 0 and float((_Tensor(_X) ** 2).sum().data) > 0
    and _widgets.IntSlider(3).value == 3 else "broken"
)
print("ESCAPE " + _json.dumps(_tried))
"""


@contextlib.contextmanager
def listener():
    """A server on 127.0.0.1 that the student tries to reach; yields (port, connections)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    accepted = []
    try:
        yield server.getsockname()[1], accepted

    finally:
        with contextlib.suppress(BlockingIOError):
            while True:
                accepted.append(server.accept()[0])
        server.close()


def escaping_submission(folder: Path, names: dict[str, object]) -> None:
    nb = solved()
    constants = "".join(f"{name} = {value!r}\n" for name, value in names.items())
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code") + 1
    nb.cells.insert(index, nbformat.v4.new_code_cell(constants + ESCAPE))
    write(nb, folder / "mallory" / LESSON / f"{LESSON}.ipynb")
    write(solved(), folder / "bob" / LESSON / f"{LESSON}.ipynb")


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if marker.encode() in Path(entry.path, "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def grade_escape(tmp_path: Path, sandbox: str):
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    marker = f"home-marker-{uuid.uuid4().hex}"
    (tmp_path / marker).mkdir()
    late_marker = f"late-{uuid.uuid4().hex}"
    with listener() as (port, accepted):
        names = {
            "SOLUTIONS": str(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"),
            "OTHER": str(submissions / "bob" / LESSON / f"{LESSON}.ipynb"),
            "PORT": port,
            "HOST_TMP_FILE": f"/tmp/escaped-{uuid.uuid4().hex}",
            "CHECKOUT_FILE": str(ROOT / f"escaped-{uuid.uuid4().hex}"),
            "HOME": str(tmp_path),  # stands for a home: a folder of the grader's, with a marker
            "MARKER": marker,
            "LATE_FILE": str(tmp_path / "late.txt"),
            "LATE_MARKER": late_marker,
        }
        escaping_submission(submissions, names)
        try:
            grade(ROOT, submissions, out, Settings(jobs=1, timeout=TIMEOUT, sandbox=sandbox))
            left_behind = processes_with(late_marker)
            written = [n for n in ("HOST_TMP_FILE", "CHECKOUT_FILE") if Path(names[n]).exists()]
        finally:
            for pid in processes_with(late_marker):
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)
            for name in ("HOST_TMP_FILE", "CHECKOUT_FILE"):
                Path(names[name]).unlink(missing_ok=True)
    graded = nbformat.read(out / "autograded" / "mallory" / LESSON / f"{LESSON}.ipynb", 4)
    printed = [o.get("text", "") for c in graded.cells if c.cell_type == "code" for o in c.outputs]
    line = next(t for text in printed for t in text.splitlines() if t.startswith("ESCAPE "))
    tried = json.loads(line.removeprefix("ESCAPE "))
    rows = {r["student_id"]: r for r in read_rows(out / "grades.csv")}
    return tried, rows, accepted, left_behind, written


@pytest.fixture(scope="module")
def needs_bubblewrap():
    reason = bubblewrap.unavailable()
    if reason:
        pytest.skip(reason)


def test_every_escape_is_denied_and_the_notebook_still_earns_full_marks(tmp_path, needs_bubblewrap):
    tried, rows, accepted, left_behind, written = grade_escape(tmp_path, "bwrap")
    for attempt in ("read solutions", "read another student", "connect"):
        assert tried[attempt].startswith("denied"), f"{attempt}: {tried[attempt]}"
    # /tmp in the sandbox is a private one, gone with the kernel, and the checkout is not
    # there (under /tmp, its path leads into that private /tmp): the host's never see a file.
    assert not written, f"the sandboxed kernel wrote {written} on the host"
    # The home folder does not exist in the sandbox, or holds nothing of the grader's.
    assert tried["list home"].startswith("denied") or "True" not in tried["list home"], tried
    assert tried["normal work"] == "ok", tried
    assert not accepted, "the sandboxed kernel reached a server on the host's 127.0.0.1"
    assert not left_behind, f"processes {left_behind} outlived the sandboxed kernel"
    for student in ("mallory", "bob"):
        row = rows[student]
        assert (row["status"], row["score"], row["max_score"]) == ("graded", "10", "10"), row
        assert row["detail"] == "", row


def test_without_the_sandbox_the_same_attempts_get_out(tmp_path):
    """What the sandbox is for: with --sandbox none the same cell reads the solutions and
    reaches the listener (the limits alone confine nothing)."""
    tried, rows, accepted, _, written = grade_escape(tmp_path, "none")
    assert tried["read solutions"].startswith("done"), tried
    assert tried["read another student"].startswith("done"), tried
    assert tried["connect"].startswith("done") and accepted, tried
    assert "HOST_TMP_FILE" in written, written
    assert rows["mallory"]["status"] == "graded" and rows["mallory"]["score"] == "10"


def test_sandbox_bwrap_refuses_to_grade_where_bubblewrap_cannot_run(tmp_path, monkeypatch):
    from minigrad_course.course import CourseError

    monkeypatch.setattr(bubblewrap, "unavailable", lambda: "bubblewrap is not installed (test)")
    write(solved(), tmp_path / "subs" / "bob" / LESSON / f"{LESSON}.ipynb")
    with pytest.raises(CourseError, match="--sandbox bwrap: bubblewrap is not installed"):
        grade(ROOT, tmp_path / "subs", tmp_path / "out", Settings(sandbox="bwrap"))
    assert not (tmp_path / "out").exists()


def test_auto_without_bubblewrap_grades_with_the_limits_and_says_so_once(tmp_path, monkeypatch):
    import io

    monkeypatch.setattr(bubblewrap, "unavailable", lambda: "user namespaces are off (test)")
    write(solved(), tmp_path / "subs" / "bob" / LESSON / f"{LESSON}.ipynb")
    said = io.StringIO()
    grade(ROOT, tmp_path / "subs", tmp_path / "out", Settings(timeout=TIMEOUT), stream=said)
    rows = read_rows(tmp_path / "out" / "grades.csv")
    assert [(r["status"], r["score"]) for r in rows] == [("graded", "10")]
    notes = (tmp_path / "out" / "run-notes.txt").read_text()
    assert "WITHOUT the bubblewrap sandbox" in notes and "user namespaces are off" in notes
    assert "WITHOUT the bubblewrap sandbox" in said.getvalue()


def test_a_sandboxed_kernel_can_neither_kill_nor_stop_its_worker(
    tmp_path, monkeypatch, needs_bubblewrap
):
    """Its parent, in the sandbox, is bubblewrap's own first process, which ignores what its
    namespace sends it; and the grader's processes are not in that namespace at all. The
    kernels' folders are made where their paths are too long for a Unix socket beside the
    notebook (the sockets go elsewhere)."""
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    for name, signal_name in (("a-kills", "SIGKILL"), ("b-stops", "SIGSTOP")):
        harm = f"import os, signal\nos.kill(os.getppid(), signal.{signal_name})"
        nb = append_to("derivatives_central_difference", harm)(solved())
        write(nb, deep / "submissions" / name / LESSON / f"{LESSON}.ipynb")
    (deep / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(deep / "tmp"))  # for the workers, started afresh
    monkeypatch.setattr(tempfile, "tempdir", None)  # and this process, which cached it
    grade(
        ROOT, deep / "submissions", deep / "out", Settings(jobs=2, timeout=TIMEOUT, sandbox="bwrap")
    )
    rows = read_rows(deep / "out" / "grades.csv")
    assert [(r["status"], r["score"]) for r in rows] == [("graded", "10"), ("graded", "10")]
