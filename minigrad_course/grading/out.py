"""OUT, the term's record: what may be OUT, and where a submission's files go in it.

OUT holds ``grades.csv``, ``tests.csv``, the gradebook, and per submission its autograded
notebooks, its feedback pages and its log.  A later run adds or replaces its own
submissions' files and keeps every other.

A worker never writes into OUT: it writes a submission's files into the run's staging
folder (inside OUT's scratch folder), laid out as OUT is, and the pipeline moves them into
OUT with ``move_into_out`` once the whole class is graded, so that a run that is
interrupted or a worker that dies halfway leaves the previous results as they were.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from ..course import CONFIG_FILE, RELEASE, SOURCE, CourseError
from .collect import Unit
from .gradebook import REVIEW_CONFIG


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
    if (out / CONFIG_FILE).exists() and not _written_by_grade(out):
        raise CourseError(
            f"--out {out} holds an nbgrader_config.py that minigrad-course grade did not write "
            "(is it a course folder?): grading would overwrite it; choose another --out"
        )


def _written_by_grade(out: Path) -> bool:
    """Whether OUT's nbgrader_config.py is the one ``grade`` writes (its first line)."""
    first_line = REVIEW_CONFIG.splitlines()[0]
    try:
        with (out / CONFIG_FILE).open(encoding="utf-8", errors="replace") as file:
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


def submission_files(base: Path, unit: Unit) -> tuple[Path, Path, Path]:
    """Where a submission's files are under ``base`` (OUT, or the staging folder laid out as
    OUT is): its autograded notebooks, its feedback folder and its log."""
    student, assignment = unit.key
    return (
        base / "autograded" / student / assignment,
        base / "feedback" / student / assignment,
        base / "logs" / student / f"{assignment}.log",
    )


def write_file(path: Path, text: str) -> None:
    """Write one of a submission's files (a page, a log), making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def move_into_out(staging: Path, out: Path, unit: Unit) -> None:
    """Put a graded submission's files in OUT in place of the previous run's.

    The grader calls it for the whole class at once, after the last submission is graded,
    so OUT holds either the previous results or the new ones, never half of each.  Both
    folders are on one file system (the staging folder is inside OUT): every move is a
    rename.
    """
    for new, old in zip(submission_files(staging, unit), submission_files(out, unit)):
        remove(old)
        if new.exists():
            old.parent.mkdir(parents=True, exist_ok=True)
            os.replace(new, old)


def remove(path: Path) -> None:
    """Remove a file or a folder, including the read-only files nbgrader leaves."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        for folder, _, files in os.walk(path):
            os.chmod(folder, stat.S_IRWXU)
            for file in files:
                os.chmod(os.path.join(folder, file), stat.S_IRUSR | stat.S_IWUSR)
        shutil.rmtree(path)
