"""The grading kernel: a launcher that lowers resource limits, then becomes ipykernel."""

from __future__ import annotations

import ast
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from minigrad_course.grading.run import kernel
from minigrad_course.grading.run.execute import describe_exit
from minigrad_course.grading.run.kernel import GIB, Limits, kernel_environment, write_kernelspec


def test_the_launcher_imports_only_the_standard_library():
    """It runs as a script before anything else; importing minigrad there would cost time
    and read files before the limits are in place."""
    tree = ast.parse(Path(kernel.__file__).read_text())
    modules = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}, modules


def test_the_kernel_environment_tells_nothing_about_the_grader():
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/teacher",
        "LC_ALL": "C.UTF-8",
        "PWD": "/home/teacher/course",
        "OLDPWD": "/home/teacher",
        "VIRTUAL_ENV": "/home/teacher/course/.venv",
        "JUPYTER_PATH": "/home/teacher/course/out/.grading-x/jupyter",
        "GRADEBOOK_PASSWORD": "secret",
        "NBGRADER_EXECUTION": "autograde",
    }
    env = kernel_environment(environ)
    assert env["PATH"] == "/usr/bin" and env["LC_ALL"] == "C.UTF-8"
    assert env["NBGRADER_EXECUTION"] == "autograde"
    for name in ("PWD", "OLDPWD", "VIRTUAL_ENV", "JUPYTER_PATH", "GRADEBOOK_PASSWORD"):
        assert name not in env
    assert env["OPENBLAS_NUM_THREADS"] == "1" and env["MKL_NUM_THREADS"] == "1"


def test_the_kernelspec_runs_the_launcher_with_the_limits(tmp_path):
    limits = Limits(memory=3 * GIB, cpu_seconds=90, processes=10, file_size=GIB)
    name = write_kernelspec(tmp_path, limits)
    spec = json.loads((tmp_path / "kernels" / name / "kernel.json").read_text())
    assert spec["argv"][:3] == [sys.executable, "-I", kernel.__file__]
    assert f"--memory={3 * GIB}" in spec["argv"] and "--cpu-seconds=90" in spec["argv"]
    assert spec["argv"][-3:] == ["--", "-f", "{connection_file}"]


def _limits_after(code: str, preexec=None) -> dict:
    script = (
        "import json, resource\n"
        "from minigrad_course.grading.run.kernel import Limits, apply_limits\n"
        f"{code}\n"
        "names = ['RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_NPROC', 'RLIMIT_FSIZE', 'RLIMIT_CORE']\n"
        "print(json.dumps({n: resource.getrlimit(getattr(resource, n)) for n in names}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, preexec_fn=preexec
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_limits_are_lowered_soft_and_hard():
    got = _limits_after("apply_limits(Limits(memory=3 * 2**30, cpu_seconds=50, processes=7))")
    assert got["RLIMIT_AS"] == [3 * GIB, 3 * GIB]
    assert got["RLIMIT_CPU"] == [50, 55]  # SIGXCPU first, then SIGKILL
    assert got["RLIMIT_CORE"] == [0, 0]
    assert got["RLIMIT_FSIZE"] == [GIB, GIB]
    soft, hard = got["RLIMIT_NPROC"]
    assert soft == hard and 7 < soft < 7 + kernel.user_tasks() + 1000


def test_a_lower_limit_already_in_place_is_kept():
    def tighter():
        resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))

    got = _limits_after("apply_limits(Limits(memory=4 * 2**30))", preexec=tighter)
    assert got["RLIMIT_AS"] == [GIB, GIB]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (3, "exited with code 3"),
        (-24, "used up its 60 s of CPU time"),
        (-11, "segmentation fault"),
        (-9, "SIGKILL"),
        (-15, "killed by SIGTERM"),
        (None, "stopped answering"),
    ],
)
def test_a_dead_kernel_is_explained(code, words):
    assert words in describe_exit(code, 60)


@pytest.mark.slow
def test_a_real_kernel_runs_limited_in_its_folder(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    jupyter = tmp_path / "jupyter"
    name = write_kernelspec(jupyter, Limits())
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    monkeypatch.setenv("PWD", "/somewhere/secret")
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import os, resource\n"
            "print(os.getcwd(), resource.getrlimit(resource.RLIMIT_AS)[0], 'PWD' in os.environ)"
        ),
        nbformat.v4.new_code_cell("hog = bytearray(64 * 2**30)"),
        nbformat.v4.new_code_cell("print('still alive')"),
    ]
    client = NotebookClient(
        nb,
        kernel_name=name,
        allow_errors=True,
        timeout=60,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()
    assert nb.cells[0].outputs[0].text.split() == [str(work), str(2 * GIB), "False"]
    assert nb.cells[1].outputs[0].ename == "MemoryError"
    assert nb.cells[2].outputs[0].text == "still alive\n"
    assert os.listdir(work) == []


@pytest.mark.slow
def test_a_kernel_that_fails_to_start_is_started_again(tmp_path, monkeypatch):
    """Two kernels racing for one port: the loser dies before it answers.  Here a launcher
    that dies on its first start stands in for it; the notebook still runs, once."""
    from minigrad_course.grading.run.execute import GradingExecute

    folder = tmp_path / "jupyter" / "kernels" / "flaky"
    folder.mkdir(parents=True)
    marker = tmp_path / "started-once"
    launcher = (
        "import os, sys\n"
        f"marker = {str(marker)!r}\n"
        "if not os.path.exists(marker):\n"
        "    open(marker, 'w').close()\n"
        "    sys.exit('Address already in use')\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', *sys.argv[1:]])\n"
    )
    spec = {
        "argv": [sys.executable, "-c", launcher, "-f", "{connection_file}"],
        "display_name": "flaky",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('ran')")]
    reports = tmp_path / "reports"
    executor = GradingExecute(
        kernel_name="flaky",
        timeout=60,
        report_directory=str(reports),
        submitted_directory=str(tmp_path / "submitted"),
    )
    ids = {"student": "alice", "assignment": "01_x", "notebook": "01_x"}
    executor.preprocess(nb, {"nbgrader": ids, "metadata": {"path": str(tmp_path)}})
    assert nb.cells[0].outputs[0].text == "ran\n"
    report = json.loads((reports / "alice" / "01_x" / "01_x.json").read_text())
    assert report["starts"] == 2 and report["crash"] is None


def test_sandboxes_are_made_away_from_the_course_out_and_submissions(tmp_path):
    """A course checked out in the temporary folder would otherwise be one step up from
    every kernel's folder."""
    import tempfile

    from minigrad_course.grading.run.sandbox import sandbox_parent

    system = Path(tempfile.gettempdir()).resolve()
    inside = system / "a-course-checked-out-here"
    chosen = sandbox_parent([inside])
    assert not inside.is_relative_to(chosen) and not chosen.is_relative_to(inside)
    assert sandbox_parent([Path("/nowhere/near")]) == system


def test_a_report_reads_back_as_the_executor_wrote_it(tmp_path):
    from minigrad_course.grading.run.report import Crash, PutBack, Report, Stopped

    report = Report(
        timeouts=[3],
        crash=Crash(5, -9, "it was killed", "Fatal Python error"),
        stopped=Stopped(5, "the kernel died in an earlier cell"),
        truncated=[2],
        starts=2,
        guard=[PutBack(None, ["the guard could not start"]), PutBack(4, ["numpy.sum"])],
        notebook_truncated=2,
    )
    report.write(tmp_path / "alice" / "01_x.json")
    assert Report.read(tmp_path / "alice" / "01_x.json") == report


def test_importing_the_guard_brings_nothing_of_the_grader_into_the_kernel():
    """The kernel imports the guard by its name, so the packages around it import nothing."""
    from minigrad_course.grading.run.execute import GUARD

    script = (
        f"import json, sys\n{GUARD}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('minigrad_course'))))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        "minigrad_course",
        "minigrad_course.grading",
        "minigrad_course.grading.run",
        "minigrad_course.grading.run.guard",
    ]
