"""The student edition as the tests see it: published from this checkout's HEAD into a scratch
folder, then cloned, as a student would clone it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad_course.publish import publish

ROOT = Path(__file__).resolve().parents[1]
# Where the tests pretend the edition is pushed: it sets the README's Binder badge.
REMOTE = "https://github.com/example-course/minigrad-edition"


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)} in {where}:\n{done.stderr}"
    return done.stdout.strip()


def needs_git_checkout() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("the edition is published from a git checkout of this repository")


def published_clone(scratch: Path, remote: str = REMOTE) -> Path:
    """Publish this checkout's HEAD into ``scratch/published`` and clone that as a student
    would; the clone's path."""
    needs_git_checkout()
    published = scratch / "published"
    publish(ROOT, published, remote=remote)
    clone = scratch / "clone"
    git(scratch, "clone", "--quiet", str(published), str(clone))
    return clone


def student_environ() -> dict[str, str]:
    """This process's environment without its virtual environment or Jupyter settings, as
    a student's shell would be."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JUPYTER", "VIRTUAL_ENV", "PYTHONPATH", "CONDA"))
    }
    here = str(Path(sys.executable).parent)
    environ["PATH"] = os.pathsep.join(
        p for p in environ.get("PATH", "").split(os.pathsep) if p != here
    )
    return environ
