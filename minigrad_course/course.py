"""Where things are in a course: its root, its assignments, their notebooks."""

from __future__ import annotations

import re
from pathlib import Path

SOURCE = "solutions"
RELEASE = "course"
CONFIG_FILE = "nbgrader_config.py"  # nbgrader's, in the course root (and in OUT)
_ASSIGNMENT = re.compile(r"^\d\d_[a-z0-9_]+$")


class CourseError(Exception):
    """Something about the course's files is wrong; the message says what and where."""


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest folder, from ``start`` upward, holding nbgrader_config.py
    and a solutions/ folder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file() and (folder / SOURCE).is_dir():
            return folder
    raise CourseError(
        f"no course root at or above {here}: expected a folder with nbgrader_config.py and "
        f"{SOURCE}/ (run this from the course repository, or pass --root)"
    )


def assignments(root: Path, wanted: list[str] | None = None) -> list[str]:
    """The assignments in ``solutions/`` (folders named like 01_derivatives), or the
    ``wanted`` ones, each checked to exist."""
    found = sorted(
        p.name for p in (root / SOURCE).iterdir() if p.is_dir() and _ASSIGNMENT.match(p.name)
    )
    if not wanted:
        return found
    unknown = [a for a in wanted if a not in found]
    if unknown:
        raise CourseError(
            f"no such assignment in {SOURCE}/: {', '.join(unknown)} "
            f"(there are: {', '.join(found) or 'none'})"
        )
    return list(wanted)


def notebooks(root: Path, step: str, assignment: str) -> list[Path]:
    return sorted((root / step / assignment).glob("*.ipynb"))
