"""Where things are in a course: its root, its assignments, their notebooks."""

from __future__ import annotations

import os
import re
from pathlib import Path

SOURCE = "solutions"
RELEASE = "course"
_ASSIGNMENT = re.compile(r"^\d\d_[a-z0-9_]+$")


class CourseError(Exception):
    """Something about the course's files is wrong; the message says what and where."""


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest folder, from ``start`` upward, holding nbgrader_config.py
    and a solutions/ folder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / SOURCE).is_dir():
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


def check_out_folder(root: Path, submissions: Path, out: Path) -> None:
    """Refuse, before anything is written, an OUT for ``grade`` that grading would damage.

    Grading writes ``nbgrader_config.py``, a gradebook, ``feedback/``, ``autograded/``,
    ``logs/`` and ``collected/`` into OUT, and empties a student's folders there before
    grading them again.  So OUT must be a folder (or not exist yet), and must not be:

    - the course root, whose ``nbgrader_config.py`` it would overwrite, nor a folder
      holding another course's configuration (one ``grade`` did not write);
    - inside ``solutions/`` or ``course/``, or around them: the lessons are read from there;
    - inside the submissions or around them: emptying OUT's folders would delete the
      instructor's only copy of a student's work.
    """
    from .grading.gradebook import REVIEW_CONFIG  # here: gradebook.py imports this module

    root, submissions, out = root.resolve(), submissions.resolve(), out.resolve()
    existing = next(p for p in (out, *out.parents) if p.exists())
    if existing == out and not out.is_dir():
        raise CourseError(f"--out {out} is a file, not a folder")
    if not existing.is_dir():
        raise CourseError(f"--out {out} cannot be made: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CourseError(f"--out {out} cannot be written: no permission to write in {existing}")
    if out == root:
        raise CourseError(
            f"--out {out} is the course root: grading would overwrite its nbgrader_config.py "
            f"and write the gradebook and feedback into the repository (try --out {root / 'out'})"
        )
    for folder in (root / SOURCE, root / RELEASE):
        where = _relation(out, folder)
        if where:
            raise CourseError(
                f"--out {out} {where} the course's {folder.name}/ folder ({folder}): grading "
                f"must not write among the lessons (try --out {root / 'out'})"
            )
    where = _relation(out, submissions)
    if where:
        raise CourseError(
            f"--out {out} {where} the submissions ({submissions}): keep the two apart, since "
            "grading empties folders in OUT (collected/, feedback/, autograded/) and would "
            "delete submissions there"
        )
    if (out / "nbgrader_config.py").exists() and not _written_by_grade(out, REVIEW_CONFIG):
        raise CourseError(
            f"--out {out} holds an nbgrader_config.py that minigrad-course grade did not write "
            "(is it a course folder?): grading would overwrite it; choose another --out"
        )


def _written_by_grade(out: Path, review_config: str) -> bool:
    """Whether OUT's nbgrader_config.py is the one ``grade`` writes (its first line)."""
    first_line = review_config.splitlines()[0]
    try:
        with (out / "nbgrader_config.py").open(encoding="utf-8", errors="replace") as file:
            return file.read(len(first_line)) == first_line
    except OSError:
        return False


def _relation(out: Path, folder: Path) -> str | None:
    """How two resolved folders overlap, in words ("is", "is inside", "holds"); None if
    neither is inside the other."""
    if out == folder:
        return "is"
    if out.is_relative_to(folder):
        return "is inside"
    if folder.is_relative_to(out):
        return "holds"
    return None
