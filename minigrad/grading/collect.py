"""Finding the submissions: a folder per student, or the zip files an LMS hands out.

The layout ``minigrad-course grade`` reads is ``<student_id>/<assignment>/<notebook>.ipynb``.
Each student and each assignment of the course becomes one unit of work, including the
assignments a student did not hand in, so that every expected notebook gets a row.

When the folder holds ``.zip`` files instead (bulk downloads from Canvas, Moodle and the
like), they are collected first into that layout, by this naming convention:

- ``<student>_<anything>_<notebook>.ipynb`` anywhere in a zip (Canvas names files
  ``<login>_<late>_<user id>_<submission id>_<original name>``): the student is the part of
  the file name before the first underscore;
- ``<student>_<anything>/<notebook>.ipynb`` (Moodle's ``<full name>_<id>_assignsubmission_file_``
  folders): the student is the part of the folder name before the first underscore;
- ``<student>/<assignment>/<notebook>.ipynb``: taken as it is.

``<notebook>`` must be the name of a course notebook (``01_derivatives``), which also says
which assignment the file belongs to; an LMS's re-upload suffix (``-1``, `` (2)``) is allowed.
When a student uploaded one notebook several times, the highest re-upload number wins, then
the newest file.  Characters a student id cannot hold (spaces, accents) become ``-``.
Nothing is ever extracted by the paths stored in the zip: each notebook is written to
the one place the convention gives it.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .course import CourseError
from .tamper import MAX_NOTEBOOK_BYTES

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
TIMESTAMP = "timestamp.txt"  # nbgrader's record of when a submission arrived
# What nbgrader's exchange leaves beside a collected submission; release_feedback needs both.
EXCHANGE_FILES = (TIMESTAMP, "submission_secret.txt")
_REUPLOAD = re.compile(r"^(?P<stem>.*?)(?:-(?P<dash>\d+)| \((?P<paren>\d+)\))?$")


def ignored(name: str) -> bool:
    """Files that operating systems and editors leave behind, never a student's work."""
    return name.startswith(".") or name in ("__MACOSX", "__pycache__", "Thumbs.db")


@dataclass(frozen=True)
class Unit:
    """One student's submission of one assignment: the work of one grading task."""

    student: str
    assignment: str
    folder: Path | None  # None: the student has no folder for this assignment
    notebooks: tuple[str, ...]  # the notebooks the assignment expects, by name
    problem: str = ""  # why nothing of it can be graded (an unusable student id)
    extra: tuple[str, ...] = ()  # other files in the folder, relative to it
    hints: tuple[tuple[str, str], ...] = ()  # (notebook, where a misplaced copy was seen)

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.assignment)


@dataclass
class Plan:
    units: list[Unit]
    warnings: list[str] = field(default_factory=list)

    @property
    def assignments(self) -> list[str]:
        return sorted({u.assignment for u in self.units})


def plan(
    submissions: Path, course: dict[str, tuple[str, ...]], wanted: list[str] | None = None
) -> Plan:
    """The units of work in ``submissions``; ``course`` maps each assignment to its notebooks."""
    if not submissions.is_dir():
        raise CourseError(f"no such folder of submissions: {submissions}")
    warnings: list[str] = []
    students = []
    for entry in sorted(submissions.iterdir()):
        if ignored(entry.name):
            continue
        if entry.is_dir():
            students.append(entry)
        else:
            warnings.append(
                f"ignored {entry.name}: expected a folder per student "
                "(<student_id>/<assignment>/<notebook>.ipynb)"
            )
    if not students:
        raise CourseError(
            f"no submissions in {submissions}: expected <student_id>/<assignment>/"
            "<notebook>.ipynb, or LMS zip files"
        )

    found: set[str] = set()
    for student in students:
        for entry in sorted(student.iterdir()):
            if ignored(entry.name) or not entry.is_dir():
                continue
            if entry.name in course:
                found.add(entry.name)
            else:
                warnings.append(f"ignored {student.name}/{entry.name}/: not an assignment")
    chosen = list(wanted) if wanted else sorted(found)
    if not chosen:
        raise CourseError(
            f"no assignment folders in {submissions}: expected <student_id>/<assignment>/ with "
            f"an assignment among {', '.join(sorted(course)) or 'none'}"
        )

    units = []
    for student in students:
        problem = ""
        if not STUDENT_ID.match(student.name):
            problem = (
                f"the folder name {student.name!r} is not a usable student id (letters, digits "
                "and . _ @ + - only): rename it"
            )
        for assignment in chosen:
            folder = student / assignment
            expected = course[assignment]
            units.append(
                Unit(
                    student=student.name,
                    assignment=assignment,
                    folder=folder if folder.is_dir() else None,
                    notebooks=expected,
                    problem=problem,
                    extra=_extra_files(folder, expected) if folder.is_dir() else (),
                    hints=_hints(student, folder, expected),
                )
            )
    return Plan(units, warnings)


def _extra_files(folder: Path, expected: tuple[str, ...]) -> tuple[str, ...]:
    wanted = {f"{name}.ipynb" for name in expected} | set(EXCHANGE_FILES)
    extra = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(ignored(part) for part in relative.parts) or path.is_dir():
            continue
        if str(relative) not in wanted:
            extra.append(str(relative))
    return tuple(extra)


def _hints(student: Path, folder: Path, expected: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """For each expected notebook absent from ``folder``: where a copy of it, or failing that
    some other notebook, sits in the student's folder."""
    hints = []
    for name in expected:
        if (folder / f"{name}.ipynb").is_file():
            continue
        elsewhere = sorted(p for p in student.rglob(f"{name}.ipynb") if p.parent != folder)
        others = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        if elsewhere:
            where = elsewhere[0].relative_to(student.parent)
            hints.append((name, f"found at {where} instead"))
        elif others:
            hints.append((name, f"the folder has {', '.join(p.name for p in others)} instead"))
    return tuple(hints)


def has_zips(folder: Path) -> bool:
    return folder.is_dir() and any(
        p.is_file() and p.suffix.lower() == ".zip" for p in folder.iterdir()
    )


@dataclass(order=True)
class _Upload:
    reupload: int
    date_time: tuple
    archive: str
    member: str


def collect_zips(folder: Path, dest: Path, course: dict[str, tuple[str, ...]]) -> list[str]:
    """Write the notebooks found in ``folder/*.zip`` to ``dest/<student>/<assignment>/``
    (emptied first, so collecting twice gives the same files); notes for the terminal."""
    assignment_of = {name: a for a, names in course.items() for name in names}
    notes: list[str] = []
    chosen: dict[tuple[str, str], _Upload] = {}
    uploads: dict[tuple[str, str], int] = {}
    skipped: list[str] = []
    archives = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".zip")
    for archive in archives:
        try:
            with zipfile.ZipFile(archive) as zipped:
                for info in zipped.infolist():
                    if info.is_dir():
                        continue
                    parsed = _parse_member(info.filename, assignment_of)
                    if parsed is None:
                        if not ignored(PurePosixPath(info.filename).name):
                            skipped.append(f"{archive.name}:{info.filename}")
                        continue
                    student, notebook, reupload = parsed
                    if info.file_size > MAX_NOTEBOOK_BYTES:
                        notes.append(f"skipped {archive.name}:{info.filename}: too large")
                        continue
                    key = (student, notebook)
                    upload = _Upload(reupload, info.date_time, archive.name, info.filename)
                    uploads[key] = uploads.get(key, 0) + 1
                    if key not in chosen or upload > chosen[key]:
                        chosen[key] = upload
        except (zipfile.BadZipFile, OSError) as error:
            notes.append(f"could not read {archive.name}: {error}")

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for (student, notebook), upload in sorted(chosen.items()):
        target = dest / student / assignment_of[notebook] / f"{notebook}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            zipfile.ZipFile(folder / upload.archive) as zipped,
            zipped.open(upload.member) as src,
            target.open("wb") as out,
        ):
            shutil.copyfileobj(src, out)
        if uploads[(student, notebook)] > 1:
            notes.append(
                f"{student} {notebook}: {uploads[(student, notebook)]} uploads, kept "
                f"{upload.archive}:{upload.member}"
            )
    if skipped:
        shown = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        notes.append(
            f"ignored {len(skipped)} file(s) in the zips that are not course notebooks: {shown}"
        )
    notes.insert(
        0, f"collected {len(chosen)} notebook(s) from {len(archives)} zip file(s) into {dest}"
    )
    return notes


def _parse_member(name: str, assignment_of: dict[str, str]) -> tuple[str, str, int] | None:
    """(student, notebook, re-upload number) for a zip member that follows the convention."""
    path = PurePosixPath(name)
    parts = [p for p in path.parts if p not in ("/", ".", "..")]  # only names, never places
    if path.suffix.lower() != ".ipynb" or any(ignored(p) for p in parts):
        return None
    match = _REUPLOAD.match(path.stem)
    stem = match["stem"]
    reupload = int(match["dash"] or match["paren"] or 0)
    parents = parts[:-1]
    if stem in assignment_of and len(parents) >= 2 and parents[-1] == assignment_of[stem]:
        return _student_id(parents[-2]), stem, reupload  # <student>/<assignment>/<notebook>
    if stem in assignment_of and parents and "_" in parents[-1]:
        return _student_id(parents[-1].split("_", 1)[0]), stem, reupload  # Moodle folders
    for notebook in sorted(assignment_of, key=len, reverse=True):
        if stem.endswith("_" + notebook) and "_" in stem:
            student = stem.split("_", 1)[0]
            if student and stem != notebook:
                return _student_id(student), notebook, reupload
    return None


def _student_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]+", "-", text.strip()).strip("-.")
    return cleaned or "unknown"
