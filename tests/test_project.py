"""The project's promises to a newcomer: package metadata, the README's two commands, the
CI script, and a clean lint."""

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirement_names(requirements):
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_distribution_and_python_version():
    project = pyproject()["project"]
    assert project["name"] == "minigrad-course"
    assert project["requires-python"] == ">=3.11"
    assert project["license"] == "MIT"


def test_every_dependency_has_a_compatible_range():
    project = pyproject()["project"]
    groups = {"runtime": project["dependencies"], **project["optional-dependencies"]}
    for group, requirements in groups.items():
        for requirement in requirements:
            pinned = "==" in requirement
            bounded = ">=" in requirement and "<" in requirement
            assert pinned or bounded, f"{group}: {requirement!r} needs a range like >=a,<b"


def test_dependency_groups_hold_what_the_course_needs():
    project = pyproject()["project"]
    assert {"numpy", "matplotlib", "ipywidgets"} <= requirement_names(project["dependencies"])
    extras = project["optional-dependencies"]
    assert {"jupyterlab", "nbgrader"} <= requirement_names(extras["course"])
    assert any(r.startswith("nbgrader>=0.9.6") for r in extras["course"])
    assert {"pytest", "hypothesis", "ruff"} <= requirement_names(extras["dev"])
    every_extra = [r for group in extras.values() for r in group]
    assert "torch" not in requirement_names(every_extra)  # never unpinned


def test_readme_starts_with_make_lab_then_make_test():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands[:2] == ["make lab", "make test"]


def test_makefile_has_the_documented_targets():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab", "test", "bench", "lint", "clean"):
        assert re.search(rf"^{target}:", makefile, re.M), f"no '{target}' target"


def test_ci_script_runs_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in script
    assert "torch==2.13.0" in script  # only ever the pinned CPU build


def test_find_python_picks_python_311_or_newer():
    found = subprocess.run(
        ["bash", str(ROOT / ".ci" / "find-python")], capture_output=True, text=True, check=True
    ).stdout.strip()
    version = subprocess.run(
        [found, "-c", "import sys; print(sys.version_info[:2] >= (3, 11))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == "True"


def test_public_api_imports():
    import minigrad
    from minigrad import GradcheckError, Value, gradcheck  # noqa: F401
    from minigrad.datasets import make_blobs, make_circles, make_moons, make_spirals  # noqa: F401
    from minigrad.nn import MLP, Layer, Neuron, ValueMLP  # noqa: F401

    assert minigrad.__version__ == pyproject()["project"]["version"]


def imported_modules(path: Path) -> set[str]:
    """The top-level names of every module a Python file imports (relative imports aside)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_library_never_imports_the_instructor_tooling():
    """minigrad is what students get (the edition copies it whole): no grading code, and
    nothing that needs the instructor's packages."""
    assert not (ROOT / "minigrad" / "grading").exists()
    tooling = {"minigrad_course", "nbgrader", "nbconvert", "nbclient", "psycopg"}
    for path in sorted((ROOT / "minigrad").rglob("*.py")):
        used = imported_modules(path) & tooling
        assert not used, f"{path.relative_to(ROOT)} imports {', '.join(sorted(used))}"


def test_the_tooling_is_its_own_package_with_the_same_command():
    scripts = pyproject()["project"]["scripts"]
    assert scripts == {"minigrad-course": "minigrad_course.cli:main"}
    done = subprocess.run(
        [sys.executable, "-m", "minigrad_course", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "release" in done.stdout and "grade" in done.stdout


def test_code_is_ruff_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    result = subprocess.run(
        [ruff, "check", "minigrad", "minigrad_course", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
