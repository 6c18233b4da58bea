"""Binder: one click to the course in JupyterLab, with nothing installed.

Binder builds the student edition (``minigrad-course publish``), whose ``binder/`` is this
repository's. When ``binder/`` exists, repo2docker reads only that folder and ignores
pyproject.toml, so these tests hold it to the project: its pins stay inside pyproject's
ranges, repo2docker accepts the edition, and an environment built from nothing but the
edition's ``binder/requirements.txt`` and ``binder/postBuild`` runs every solution to full
marks and serves lesson 01 with the student's tools.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import nbformat
import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
LESSON_01 = "course/01_derivatives/01_derivatives.ipynb"
# The nbgrader plugins a student on Binder must not see, and the one they keep.
INSTRUCTOR_PLUGINS = {
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:menu",
}
VALIDATE_PLUGIN = "@jupyter/nbgrader:validate-assignment"
REPO2DOCKER = "jupyter-repo2docker==2026.4.0"
# Messages by which pip says it never reached the package index (as opposed to a bad pin).
OFFLINE_SIGNS = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "No route to host",
)


# --- the pins against pyproject.toml --------------------------------------------------


def read_pins(text: str, source: str = "binder/requirements.txt") -> dict[str, Version]:
    """Every ``name==version`` line of a requirements file, by canonical name.

    Anything but one exact pin per line (a range, a duplicate, an option) is an error naming
    the line: Binder must build the same environment every time.
    """
    pins: dict[str, Version] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}, line {number} ({line!r})"
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            raise ValueError(f"{where}: not a requirement: {error}") from None
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            raise ValueError(f"{where}: pin one exact version, like numpy==2.1.3")
        name = canonicalize_name(requirement.name)
        if name in pins:
            raise ValueError(f"{where}: {requirement.name} is pinned twice")
        pins[name] = Version(specifiers[0].version)
    return pins


def course_requirements(pyproject: dict) -> dict[str, Requirement]:
    """What a student's environment needs: the runtime dependencies and the course extra."""
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})
    requirements = [Requirement(line) for line in project["dependencies"] + extras["course"]]
    return {canonicalize_name(r.name): r for r in requirements}


def pin_problems(requirements_text: str, pyproject: dict) -> list[str]:
    """How binder/requirements.txt disagrees with pyproject.toml (empty when they agree)."""
    pins = read_pins(requirements_text)
    wanted = course_requirements(pyproject)
    problems = []
    for name, requirement in sorted(wanted.items()):
        if name not in pins:
            problems.append(
                f"pyproject.toml needs {requirement} but binder/requirements.txt does not pin "
                f"{requirement.name}: add an exact pin inside that range"
            )
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(
                f"binder/requirements.txt pins {requirement.name}=={pins[name]}, outside "
                f"pyproject.toml's range {requirement.specifier}"
            )
    for name in sorted(pins.keys() - wanted.keys()):
        problems.append(
            f"binder/requirements.txt pins {name}, which is neither a dependency nor in the "
            f"'course' extra of pyproject.toml: add it there (with a range) or drop the pin"
        )
    return problems


def test_binder_pins_every_course_dependency_inside_pyproject_ranges():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    problems = pin_problems((BINDER / "requirements.txt").read_text(), pyproject)
    assert not problems, "\n".join(problems)


def test_pin_check_names_every_kind_of_drift():
    pyproject = {
        "project": {
            "dependencies": ["numpy>=1.26,<3", "matplotlib>=3.8,<4"],
            "optional-dependencies": {"course": ["nbgrader>=0.9.6,<0.10"], "dev": ["ruff>=0.6"]},
        }
    }
    problems = pin_problems("numpy==3.0.0\nnbgrader==0.9.6\nsympy==1.13.0\n", pyproject)
    assert problems == [
        "pyproject.toml needs matplotlib<4,>=3.8 but binder/requirements.txt does not pin "
        "matplotlib: add an exact pin inside that range",
        "binder/requirements.txt pins numpy==3.0.0, outside pyproject.toml's range <3,>=1.26",
        "binder/requirements.txt pins sympy, which is neither a dependency nor in the 'course' "
        "extra of pyproject.toml: add it there (with a range) or drop the pin",
    ]


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("numpy>=2\n", "pin one exact version"),
        ("numpy==2.*\n", "pin one exact version"),
        (
            "# the pins\nnumpy==2.1.0\nNumPy==2.1.0\n",
            "line 3 ('NumPy==2.1.0'): NumPy is pinned twice",
        ),
        ("-e .\n", "not a requirement"),
    ],
)
def test_pin_reader_refuses_anything_but_one_exact_pin_per_line(text, complaint):
    with pytest.raises(ValueError, match=re.escape(complaint)):
        read_pins(text)


def runtime_python() -> str:
    """The Python version binder/runtime.txt asks for, as "3.12"."""
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", text)
    assert match, f"binder/runtime.txt should read like python-3.12, not {text!r}"
    return match.group(1)


def test_runtime_pins_python_312_which_pyproject_allows():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert runtime_python() == "3.12"
    assert Requirement(f"python{requires}").specifier.contains("3.12"), requires


# --- the README ----------------------------------------------------------------------


def test_the_editions_readme_and_the_course_readme_warn_that_work_on_binder_is_not_saved(
    edition,
):
    for path in (edition / "README.md", edition / "course" / "README.md"):
        text = " ".join(path.read_text().split())
        assert "Binder" in text and "not saved" in text, f"{path.name}: no Binder warning"
        assert "File > Download" in text, f"{path.name}: does not say how to keep the work"


# --- repo2docker's dry run -------------------------------------------------------------


def pip_install(
    python: Path, args: list[str], what: str, optional: bool = False, **run_options
) -> None:
    """Install with pip into ``python``'s environment. The test skips when pip is offline,
    or on any failure to install an ``optional`` tool; otherwise a failure fails it."""
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--progress-bar", "off", *args],
        **run_options,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 and any(sign in output for sign in OFFLINE_SIGNS):
        pytest.skip(f"cannot install {what}: pip cannot reach the package index")
    if done.returncode != 0 and optional:
        pytest.skip(f"cannot install {what}: {output.strip().splitlines()[-1]}")
    assert done.returncode == 0, f"pip could not install {what}:\n{output[-4000:]}"


@pytest.mark.slow
def test_repo2docker_dry_run_accepts_the_edition_with_its_binder_folder_and_python(edition):
    with tempfile.TemporaryDirectory(prefix="minigrad-repo2docker-") as scratch:
        venv = Path(scratch) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip_install(venv / "bin" / "python", ["--quiet", REPO2DOCKER], REPO2DOCKER, optional=True)
        # As Binder's user (uid 1000): repo2docker builds for no root, though a dry run would.
        repo2docker = str(venv / "bin" / "jupyter-repo2docker")
        done = subprocess.run(
            [repo2docker, "--no-build", "--user-id", "1000", "--user-name", "jovyan", str(edition)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    dockerfile, log = done.stdout, done.stderr
    python = runtime_python()
    assert f"Building conda environment for python={python}" in log, log
    # The Dockerfile names Python only through the conda lock file it copies in, whose path
    # repo2docker escapes ("." becomes "-2e", "-" becomes "-2d").
    copied = re.sub(r"-([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), dockerfile)
    lock = re.compile(rf"^COPY .*/environment\.py-{re.escape(python)}-linux-\w+\.lock", re.M)
    assert lock.search(copied), f"the Dockerfile sets up no Python {python}:\n{dockerfile}"
    assert re.search(r"pip install .*-r \"?binder/requirements\.txt", dockerfile), dockerfile
    assert "./binder/postBuild" in dockerfile, dockerfile


# --- a Binder-like environment, built from binder/ alone --------------------------------


def find_binder_python(version: str) -> tuple[Path, str]:
    """An interpreter of ``version`` (MINIGRAD_BINDER_PYTHON chooses one by hand), or this
    one when there is none; and a sentence saying which was used."""
    candidates = [os.environ.get("MINIGRAD_BINDER_PYTHON"), f"python{version}"]
    # pyenv's shims exist for every installed version but run only the selected one.
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p) for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))
    ]
    for candidate in filter(None, candidates):
        path = shutil.which(candidate)
        if path is None:
            continue
        done = subprocess.run(
            [path, "-c", "import sys, venv; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            found = done.stdout.strip()
            note = f"built with Python {found} ({path})"
            if not found.startswith(f"{version}."):
                note += f"; binder/runtime.txt asks for {version}"
            return Path(path), note
    here = ".".join(map(str, sys.version_info[:3]))
    return Path(sys.executable), (
        f"Python {version} (binder/runtime.txt) was not found, so built with this Python, "
        f"{here}; set MINIGRAD_BINDER_PYTHON to use another"
    )


def copy_edition(edition: Path, destination: Path) -> None:
    """The files Binder would see in the edition's repository (its .git aside)."""
    for source in edition.rglob("*"):
        if source.is_file() and ".git" not in source.relative_to(edition).parts:
            (destination / source.relative_to(edition)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / source.relative_to(edition))


def tree_size(path: Path) -> int:
    """Bytes in the files under ``path``, symbolic links not followed."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def binder_environ(venv: Path, jupyter_home: Path) -> dict[str, str]:
    """This process's environment with ``venv`` first on PATH, as if activated, and
    Jupyter's user folders in ``jupyter_home``: nothing from this machine's own Jupyter
    set-up (kernels, settings) takes part."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", "CONDA"))
    }
    environ.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        PYTHONNOUSERSITE="1",
        JUPYTER_CONFIG_DIR=str(jupyter_home / "config"),
        JUPYTER_DATA_DIR=str(jupyter_home / "data"),
        JUPYTER_RUNTIME_DIR=str(jupyter_home / "runtime"),
    )
    return environ


def size_report(venv: Path) -> tuple[float, str]:
    """The environment's installed size in MB, and a line naming its largest packages."""
    size_mb = tree_size(venv) / 1e6
    packages = [p for p in venv.glob("lib/python*/site-packages/*") if p.is_dir()]
    biggest = sorted(((tree_size(p) / 1e6, p.name) for p in packages), reverse=True)[:5]
    largest = ", ".join(f"{name} {mb:.0f} MB" for mb, name in biggest)
    return size_mb, f"installed size: {size_mb:.0f} MB (largest: {largest})"


@dataclass
class BinderEnv:
    repo: Path
    venv: Path
    environ: dict[str, str]
    size_mb: float
    notes: list[str]  # lines for the end of the test report

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


class _TerminalSummary:
    """Puts the environment's size and Python at the end of pytest's report."""

    def __init__(self, lines: list[str]):
        self.lines = lines  # the fixture's own list: lines added later are shown too

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", "Binder environment (tests/test_binder.py)")
        for line in self.lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def binder_env(request, edition):
    """A fresh virtual environment built as Binder builds its image: pip installs
    binder/requirements.txt, then binder/postBuild runs in (a copy of) the student edition
    with that environment first on PATH. Its size is reported at the end of the test run."""
    python, python_note = find_binder_python(runtime_python())
    with tempfile.TemporaryDirectory(prefix="minigrad-binder-") as scratch:
        repo, venv = Path(scratch) / "repo", Path(scratch) / "venv"
        environ = binder_environ(venv, Path(scratch) / "jupyter")
        repo.mkdir()
        copy_edition(edition, repo)
        subprocess.run([str(python), "-m", "venv", str(venv)], check=True)

        started = time.perf_counter()
        # Binder's pip has no cache; here the usual one speeds up repeated runs.
        requirements = ["-r", "binder/requirements.txt"]
        pip_install(
            venv / "bin" / "python", requirements, "binder/requirements.txt", cwd=repo, env=environ
        )
        post_build = subprocess.run(
            ["./binder/postBuild"], cwd=repo, env=environ, capture_output=True, text=True
        )
        assert post_build.returncode == 0, post_build.stdout + post_build.stderr
        built_in = time.perf_counter() - started

        size_mb, size_line = size_report(venv)
        notes = [size_line, f"{python_note}; pip install and postBuild took {built_in:.0f} s"]
        print("\nBinder environment: " + "\n  ".join(notes))
        request.config.pluginmanager.register(_TerminalSummary(notes), "minigrad-binder-summary")
        yield BinderEnv(repo=repo, venv=venv, environ=environ, size_mb=size_mb, notes=notes)


def run_in(env: BinderEnv, command: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=env.repo, env=env.environ, capture_output=True, text=True, timeout=timeout
    )


# Run by the Binder environment's own Python: execute each notebook named after the output
# folder, in its own folder and on the "python3" kernel, keeping going past errors, and save
# the executed copy under the output folder. The tests judge the copies.
EXECUTE_NOTEBOOKS = """
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

out = Path(sys.argv[1])
for name in sys.argv[2:]:
    nb = nbformat.read(name, as_version=4)
    here = {"metadata": {"path": str(Path(name).parent)}}
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources=here)
    client.allow_errors = True
    client.execute()
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / name)
"""


def execution_problems(path: Path, solution: bool) -> list[str]:
    """What is wrong with an executed notebook.

    Every code cell must have run. A solution raises nowhere. A student notebook raises
    only where its exercises are unfinished, with their NotImplementedError: anything else
    (an ImportError above all) would be the environment's fault or the course's.
    """
    problems = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        where = f"{path.parent.parent.name}/{path.parent.name}/{path.name}, cell {index}"
        if cell.execution_count is None:
            problems.append(f"{where} never ran: the notebook stopped before its end")
            continue
        for error in (o for o in cell.outputs if o.output_type == "error"):
            if solution or error.ename != "NotImplementedError":
                problems.append(f"{where} raised {error.ename}: {error.evalue}")
    return problems


def marks(path: Path) -> tuple[float, float]:
    """Points earned and points possible, as nbgrader's autograder counts them: a graded
    test cell earns its points when it ran without raising."""
    earned = possible = 0.0
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            possible += meta.get("points", 0)
            ran = cell.execution_count is not None
            if ran and not any(o.output_type == "error" for o in cell.outputs):
                earned += meta.get("points", 0)
    return earned, possible


@pytest.mark.slow
def test_binder_env_runs_every_solution_to_full_marks_and_every_student_notebook_to_the_end(
    binder_env, record_property
):
    record_property("binder_env_size_mb", round(binder_env.size_mb))
    kernels = run_in(binder_env, [binder_env.bin("jupyter"), "kernelspec", "list", "--json"], 60)
    python3 = Path(json.loads(kernels.stdout)["kernelspecs"]["python3"]["resource_dir"])
    assert python3.is_relative_to(binder_env.venv), f"the python3 kernel comes from {python3}"

    # The edition has no solutions: they come from this repository, beside the edition's copy.
    work = binder_env.repo.parent
    shutil.copytree(ROOT / "solutions", work / "instructor" / "solutions", dirs_exist_ok=True)
    solutions = sorted(p.relative_to(work) for p in work.glob("instructor/solutions/*/*.ipynb"))
    students = sorted(p.relative_to(work) for p in work.glob("repo/course/*/*.ipynb"))
    assert solutions and students, "no notebooks found"
    out = work / "executed"
    command = [binder_env.bin("python"), "-c", EXECUTE_NOTEBOOKS, str(out)]
    started = time.perf_counter()
    done = subprocess.run(
        command + [str(p) for p in solutions + students],
        cwd=work,
        env=binder_env.environ,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    binder_env.notes.append(
        f"ran {len(solutions)} solution and {len(students)} student notebooks in "
        f"{time.perf_counter() - started:.0f} s"
    )

    problems = []
    for notebook in solutions:
        problems += execution_problems(out / notebook, solution=True)
        earned, possible = marks(out / notebook)
        if earned != possible or possible == 0:
            problems.append(f"{notebook}: the solution earns {earned:g} of {possible:g} points")
    for notebook in students:
        problems += execution_problems(out / notebook, solution=False)
    assert not problems, "In the Binder environment:\n" + "\n".join(problems)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Lab:
    """A running ``jupyter lab``, asked over HTTP as the browser would ask it."""

    url: str
    token: str
    process: subprocess.Popen
    log: IO[bytes]

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        """Status and body of a GET, or of a form POST when ``data`` is given."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.url + path, data=body, headers={"Authorization": f"token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wait_until_up(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"jupyter lab exited:\n{self.output()}"
            try:
                if self.request("/api/status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"jupyter lab did not answer within {seconds} s:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]


@contextlib.contextmanager
def running_lab(env: BinderEnv) -> Iterator[Lab]:
    """``jupyter lab`` from the Binder environment, started in the repository as Binder
    starts it; stopped (with its kernels) on the way out."""
    token, port = secrets.token_hex(16), free_port()
    command = [env.bin("jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}"]
    command += [f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={env.repo}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=env.repo, env=env.environ, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            lab = Lab(f"http://127.0.0.1:{port}", token, process, log)
            lab.wait_until_up()
            yield lab
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.slow
def test_binder_lab_opens_lesson_01_with_validate_and_without_instructor_tools(
    binder_env, record_property
):
    """What the badge's link does: JupyterLab opens lesson 01, the widgets and nbgrader's
    Validate button are there (the button's server side really validates), and the
    instructor's plugins and server extensions are switched off and locked."""
    record_property("binder_env_size_mb", round(binder_env.size_mb))
    bundle = binder_env.venv / "share/jupyter/labextensions/@jupyter/nbgrader/static"
    shipped = " ".join(p.read_text(errors="replace") for p in bundle.glob("*.js"))
    for plugin in (*INSTRUCTOR_PLUGINS, VALIDATE_PLUGIN):
        assert f'"{plugin}"' in shipped, (
            f"installed nbgrader has no plugin {plugin}: check postBuild"
        )

    with running_lab(binder_env) as lab:
        status, page = lab.request(f"/lab/tree/{LESSON_01}")
        assert status == 200, page[:2000]
        config = re.search(
            r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S
        )
        assert config, page[:2000]
        config = json.loads(config.group(1))
        disabled = set(config["disabledExtensions"])
        locked = set(config.get("lockedExtensions", []))
        assert not INSTRUCTOR_PLUGINS - disabled, f"still on: {INSTRUCTOR_PLUGINS - disabled}"
        assert not INSTRUCTOR_PLUGINS - locked, f"not locked: {INSTRUCTOR_PLUGINS - locked}"
        assert VALIDATE_PLUGIN not in disabled
        extensions = {e["name"] for e in config["federated_extensions"]}
        assert {"@jupyter/nbgrader", "@jupyter-widgets/jupyterlab-manager"} <= extensions
        assert lab.request(f"/api/contents/{LESSON_01}?content=0")[0] == 200

        # The instructor's server extensions (formgrader, course list, assignment list).
        for endpoint in ("/formgrader", "/formgraders", "/assignments"):
            assert lab.request(endpoint)[0] == 404, f"{endpoint} is served to students"
        # What the Validate button asks the server, on the untouched lesson.
        status, body = lab.request("/assignments/validate", {"path": LESSON_01})
        assert status == 200, body
        result = json.loads(body)
        assert result["success"], result["value"]
        failed = result["value"].get("failed", [])
        assert failed, f"validating the untouched lesson 01 found no failing test: {result}"
        assert all("NotImplementedError" in f["raw_error"] for f in failed), result
