"""Finding the submissions: a folder per student, or the zip files an LMS hands out.

The layout ``minigrad-course grade`` reads is ``<student_id>/<assignment>/<notebook>.ipynb``.
Each student and each assignment of the course becomes one unit of work, including the
assignments a student did not hand in, so that every expected notebook gets a row.

Grading reads only what a submission itself holds.  A symbolic link is never followed out of
it: a link to the solutions would otherwise be graded as the student's notebook, or copied
into the student's feedback folder as an nbgrader exchange file.  So a student folder, an
assignment folder, a notebook or an exchange file that is a link makes the submission
``invalid``, with the link named; other links are listed as extra files and never walked.
A folder name that is not UTF-8 is shown escaped (``bad\\xffname``), so that no name can stop
the tables from being written.

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
the newest file; an upload that cannot be extracted gives way to the next one.  Characters a
student id cannot hold (spaces, accents) become ``-``; when that gives two people one id
(two John Smiths), the LMS's number for each is added to it (``John-Smith_4242``).
Nothing is ever extracted by the paths stored in the zip: each notebook is written to
the one place the convention gives it.
"""

from __future__ import annotations

import json
import lzma
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath, PurePosixPath

from ..course import CourseError
from .tamper import MAX_NOTEBOOK_BYTES

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
TIMESTAMP = "timestamp.txt"  # nbgrader's record of when a submission arrived
# What nbgrader's exchange leaves beside a collected submission; release_feedback needs both.
EXCHANGE_FILES = (TIMESTAMP, "submission_secret.txt")
# nbgrader writes a date or a secret of a few dozen bytes in them: a larger file is not
# nbgrader's, and copying it into the feedback folder could fill a disk.
MAX_EXCHANGE_BYTES = 4096
# Left by collect_zips in the folder it collects into: why an upload could not be extracted,
# so that plan can say it in that student's row rather than in the terminal alone.
UNEXTRACTED = ".unextracted.json"
_REUPLOAD = re.compile(r"^(?P<stem>.*?)(?:-(?P<dash>\d+)| \((?P<paren>\d+)\))?$")
# How reading a damaged zip member fails: a wrong checksum (BadZipFile), a broken stream
# (zlib.error, lzma.LZMAError, EOFError), an unknown compression method
# (NotImplementedError), a password (RuntimeError), a truncated file (OSError).
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)

FILE, FOLDER, LINK = "file", "folder", "symbolic link"
_NOT_FOLLOWED = "(grading never follows a link out of a submission: ask for the file itself)"


def ignored(name: str) -> bool:
    """Files that operating systems and editors leave behind, never a student's work."""
    return name.startswith(".") or name in ("__MACOSX", "__pycache__", "Thumbs.db")


def printable(name: str) -> str:
    """``name`` as it can be shown and written to a table.  A file name that is not UTF-8 (a
    folder made on another system) reaches Python as lone surrogates, which no UTF-8 file
    can hold: they, and control characters, are escaped as Python writes them."""
    try:
        text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that did not come from the file system
        text = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def file_type(path: Path) -> str:
    """What is at ``path``, in words, without following a symbolic link: "file", "folder",
    "symbolic link to <target>", "named pipe"...; "" when there is nothing."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return ""
    except OSError as error:
        return f"path that cannot be read ({error.strerror or error})"
    if stat.S_ISREG(mode):
        return FILE
    if stat.S_ISDIR(mode):
        return FOLDER
    if stat.S_ISLNK(mode):
        try:
            return f"{LINK} to {printable(os.readlink(path))}"
        except OSError:
            return LINK
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


@dataclass(frozen=True)
class Unit:
    """One student's submission of one assignment: the work of one grading task."""

    student: str  # the folder's name (escaped by ``printable`` if it is not UTF-8)
    assignment: str
    folder: Path | None  # None: the student has no folder for this assignment
    notebooks: tuple[str, ...]  # the notebooks the assignment expects, by name
    problem: str = ""  # why nothing of it can be graded (an unusable student id, a link)
    extra: tuple[str, ...] = ()  # other files in the folder, relative to it
    hints: tuple[tuple[str, str], ...] = ()  # (notebook, why it is missing, or where a copy is)
    exchange: tuple[str, ...] = ()  # the exchange files safe to pass on: small, regular, readable
    notes: tuple[str, ...] = ()  # for the instructor, about files that do not stop grading

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
        kind, shown = file_type(entry), printable(entry.name)
        if ignored(entry.name) and not _holds_an_assignment(entry, course):
            if entry.name.startswith(".") and (kind == FOLDER or _is_folder(entry)):
                warnings.append(
                    f"ignored {shown}/: a hidden folder (its name begins with '.') that holds "
                    "no assignment folder"
                )
            continue
        if kind == FOLDER or _is_folder(entry):  # a link to a folder gets rows saying so
            students.append(entry)
        else:
            warnings.append(
                f"ignored {shown}: a {kind}, not a student's folder (expected "
                "<student_id>/<assignment>/<notebook>.ipynb)"
            )
    if not students:
        raise CourseError(
            f"no submissions in {submissions}: expected <student_id>/<assignment>/"
            "<notebook>.ipynb, or LMS zip files"
        )

    found: set[str] = set()
    for student in students:
        for entry in _listing(student) if file_type(student) == FOLDER else []:
            if ignored(entry.name) or not _is_folder(entry):
                continue
            if entry.name in course:
                found.add(entry.name)
            else:
                warnings.append(
                    f"ignored {printable(student.name)}/{printable(entry.name)}/: not an assignment"
                )
    chosen = list(wanted) if wanted else sorted(found)
    if not chosen:
        raise CourseError(
            f"no assignment folders in {submissions}: expected <student_id>/<assignment>/ with "
            f"an assignment among {', '.join(sorted(course)) or 'none'}"
        )

    unextracted = _unextracted(submissions)
    units = []
    for student in students:
        problem = _student_problem(student)
        contents = [] if problem else _contents(student)
        for assignment in chosen:
            expected = course[assignment]
            if problem:
                units.append(Unit(printable(student.name), assignment, None, expected, problem))
            else:
                units.append(_unit(student, assignment, expected, contents, unextracted))
    return Plan(units, warnings)


def _student_problem(student: Path) -> str:
    """Why none of ``student``'s work can be graded; "" if it can."""
    shown, kind = printable(student.name), file_type(student)
    if kind != FOLDER:
        return f"the folder {shown} is a {kind} {_NOT_FOLLOWED}"
    if shown != student.name or not STUDENT_ID.match(student.name):
        return (
            f"the folder name '{shown}' is not a usable student id (letters, digits and "
            ". _ @ + -, beginning with a letter or digit): rename it"
        )
    try:
        os.listdir(student)
    except OSError as error:
        return f"the folder {shown} cannot be read ({error.strerror or error})"
    return ""


def _unit(
    student: Path,
    assignment: str,
    expected: tuple[str, ...],
    contents: list[PurePath],
    unextracted: dict[str, str],
) -> Unit:
    """The unit of one student (a readable folder, not a link) and one assignment."""
    name, folder = printable(student.name), student / assignment
    kind = file_type(folder)
    if kind.startswith(LINK):
        return Unit(name, assignment, None, expected, f"{assignment}/ is a {kind} {_NOT_FOLLOWED}")

    def hint(notebook: str, what: str) -> str:
        lost = unextracted.get(f"{student.name}/{assignment}/{notebook}")
        return lost or _hint(student, folder, notebook, what, kind, contents)

    if kind != FOLDER:  # nothing handed in, or not as a folder
        hints = tuple((n, h) for n in expected if (h := hint(n, "")))
        return Unit(name, assignment, None, expected, hints=hints)

    links, problems, hints, exchange, notes = [], [], [], [], []
    for notebook in expected:
        what = file_type(folder / f"{notebook}.ipynb")
        if what.startswith(LINK):
            links.append(f"{notebook}.ipynb is a {what}")
        elif what != FILE and (found := hint(notebook, what)):
            hints.append((notebook, found))
    for file in EXCHANGE_FILES:
        path = folder / file
        what = file_type(path)
        if not what:
            continue
        if what.startswith(LINK):
            links.append(f"{file} is a {what}")
        elif what != FILE:
            notes.append(f"{file} is a {what}, not a file: ignored")
        elif (size := path.lstat().st_size) > MAX_EXCHANGE_BYTES:
            problems.append(f"{file} is {_size(size)}, but nbgrader writes only a few bytes in it")
        elif file == TIMESTAMP and (why := _unreadable_timestamp(path)):
            notes.append(f"{file} ignored, no submission time recorded: it {why}")
        else:
            exchange.append(file)
    if links:
        problems.insert(0, f"{'; '.join(links)} {_NOT_FOLLOWED}")
    return Unit(
        student=name,
        assignment=assignment,
        folder=folder,
        notebooks=expected,
        problem="; ".join(problems),
        extra=_extra_files(assignment, expected, contents),
        hints=tuple(hints),
        exchange=tuple(exchange),
        notes=tuple(notes),
    )


def _hint(
    student: Path,
    folder: Path,
    notebook: str,
    what: str,
    folder_kind: str,
    contents: list[PurePath],
) -> str:
    """Why ``notebook`` is not in ``folder`` as a file: what is there instead, or where a copy
    of it, or failing that some other notebook, sits in the student's folder."""
    if what:
        return f"{notebook}.ipynb is a {what}, not a file"
    if folder_kind not in ("", FOLDER):
        return f"{folder.name} is a {folder_kind}, not a folder"
    expected = PurePath(folder.name, f"{notebook}.ipynb")
    elsewhere = [p for p in contents if p.name == expected.name and p != expected]
    others = [
        p.name for p in contents if p.parent == PurePath(folder.name) and p.suffix == ".ipynb"
    ]
    if elsewhere:
        return f"found at {printable(str(PurePath(student.name, elsewhere[0])))} instead"
    if others:
        return f"the folder has {printable(', '.join(others))} instead"
    return ""


def _extra_files(
    assignment: str, expected: tuple[str, ...], contents: list[PurePath]
) -> tuple[str, ...]:
    wanted = {f"{name}.ipynb" for name in expected} | set(EXCHANGE_FILES)
    extra = []
    for path in contents:
        if path.parts[0] == assignment and len(path.parts) > 1:
            relative = str(PurePath(*path.parts[1:]))
            if relative not in wanted:
                extra.append(printable(relative))
    return tuple(extra)


def _contents(folder: Path) -> list[PurePath]:
    """Every file in ``folder`` and its subfolders, relative to it, litter left out.  Links are
    listed, never walked: a link to ``/`` or to its own folder would never end."""
    found = []
    for top, folders, files in os.walk(folder):  # never follows links, skips unreadable folders
        here = Path(top)
        folders[:] = [f for f in folders if not ignored(f)]
        links = [f for f in folders if (here / f).is_symlink()]
        found += [here.relative_to(folder) / f for f in files + links if not ignored(f)]
    return sorted(found)


def _unreadable_timestamp(path: Path) -> str:
    """Why nbgrader could not read ``path`` as the time a submission arrived; "" if it can.
    nbgrader fails on the whole submission then, with a message that names neither."""
    from nbgrader.utils import parse_utc  # only folders from nbgrader's exchange need it

    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if not text:
        return ""  # nbgrader takes an empty file for no time at all
    try:
        parse_utc(text)
    except Exception:  # dateutil's ParserError, OverflowError, TypeError, by input
        return f"does not hold a date ({_quoted(text)})"
    return ""


def _unextracted(submissions: Path) -> dict[str, str]:
    """What collect_zips could not extract, by ``<student>/<assignment>/<notebook>``."""
    path = submissions / UNEXTRACTED
    if file_type(path) != FILE:
        return {}
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _listing(folder: Path) -> list[Path]:
    """The entries of ``folder``, sorted; none if it cannot be read (its rows say so)."""
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder or a link to one (a link that loops is neither)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _holds_an_assignment(folder: Path, course: dict[str, tuple[str, ...]]) -> bool:
    """Whether a hidden folder looks like a student's: it has an assignment folder."""
    if file_type(folder) != FOLDER:
        return False
    return any(entry.name in course and _is_folder(entry) for entry in _listing(folder))


def _size(size: int) -> str:
    return f"{size / 1024**2:.0f} MB" if size >= 1024**2 else f"{size} bytes"


def _quoted(text: str, limit: int = 40) -> str:
    """A student's text, short enough for a table cell."""
    shown = printable(text[:limit]) + ("..." if len(text) > limit else "")
    return f"'{shown}'"


def has_zips(folder: Path) -> bool:
    return folder.is_dir() and any(
        p.is_file() and p.suffix.lower() == ".zip" for p in folder.iterdir()
    )


@dataclass(frozen=True, order=True)
class _Owner:
    """Whose a file in a zip is, as the zip names them."""

    name: str  # as the LMS wrote it: a login, a full name, a folder name
    participant: str = ""  # the LMS's number for them (Moodle's participant id, Canvas's user id)


@dataclass(frozen=True, order=True)
class _Upload:
    reupload: int
    date_time: tuple
    archive: str
    member: str
    size: int = field(compare=False)

    @property
    def where(self) -> str:
        return f"{self.archive}:{printable(self.member)}"


def collect_zips(folder: Path, dest: Path, course: dict[str, tuple[str, ...]]) -> list[str]:
    """Write the notebooks found in ``folder/*.zip`` to ``dest/<student>/<assignment>/``
    (emptied first, so collecting twice gives the same files); notes for the terminal.

    A student whose uploads cannot be extracted still gets a folder, and the reason is left
    in ``dest/.unextracted.json`` for their row.  Student folders beside the zips, or two
    people who would get one student id, stop collecting with a CourseError: grading only
    some of them, or one notebook for two people, would drop a student without a word.
    """
    folder, dest = folder.resolve(), dest.resolve()
    if folder == dest or folder.is_relative_to(dest):
        raise CourseError(
            f"cannot collect {folder} into {dest}: emptying {dest} first would delete the zip "
            "files; choose another --out"
        )
    notes: list[str] = []
    archives = _zip_files(folder, notes)
    assignment_of = {name: a for a, names in course.items() for name in names}
    uploads, skipped = _uploads(archives, assignment_of, notes)
    if not uploads:
        listed = f"; it holds {_listed(skipped)}" if skipped else ""
        raise CourseError(
            f"no course notebook in {len(archives)} zip file(s) in {folder}{listed}"
            + "".join(f"; {note}" for note in notes)
            + "; expected <student>_<anything>_<notebook>.ipynb with a course notebook's name"
        )
    ids, id_notes = _student_ids({owner for owner, _ in uploads})
    notes += id_notes
    by_student: dict[tuple[str, str], list[_Upload]] = defaultdict(list)
    for (owner, notebook), theirs in uploads.items():
        by_student[(ids[owner], notebook)] += theirs

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    unextracted = {}
    for (student, notebook), candidates in sorted(by_student.items()):
        assignment = assignment_of[notebook]
        target = dest / student / assignment / f"{notebook}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)  # a row for the student, whatever happens
        failures = []
        for upload in sorted(candidates, reverse=True):  # the highest re-upload, the newest
            why = _extract(folder / upload.archive, upload, target)
            if not why:
                break
            failures.append(f"{upload.where} {why}")
        else:
            unextracted[f"{student}/{assignment}/{notebook}"] = "; ".join(failures)
            notes.append(f"{student} {notebook}: no upload could be used: {'; '.join(failures)}")
            continue
        if len(candidates) > 1:
            notes.append(
                f"{student} {notebook}: {len(candidates)} uploads, kept {upload.where}"
                + (f" ({'; '.join(failures)})" if failures else "")
            )
    if unextracted:
        (dest / UNEXTRACTED).write_text(json.dumps(unextracted, indent=1, sort_keys=True) + "\n")
    if skipped:
        shown = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        notes.append(
            f"ignored {len(skipped)} file(s) in the zips that are not course notebooks: {shown}"
        )
    collected = len(by_student) - len(unextracted)
    notes.insert(
        0, f"collected {collected} notebook(s) from {len(archives)} zip file(s) into {dest}"
    )
    return notes


def _zip_files(folder: Path, notes: list[str]) -> list[Path]:
    """The zip files in ``folder`` (other files are noted); a CourseError if it also holds
    folders, which grading the zips would leave out."""
    archives, folders, others = [], [], []
    for entry in sorted(folder.iterdir()):
        if ignored(entry.name):
            continue
        if entry.suffix.lower() == ".zip" and entry.is_file():
            archives.append(entry)
        elif _is_folder(entry):
            folders.append(f"{printable(entry.name)}/")
        else:
            others.append(printable(entry.name))
    if folders:
        raise CourseError(
            f"{folder} holds both LMS zip files ({_listed([a.name for a in archives])}) and "
            f"folders ({_listed(folders)}): grading the zips alone would leave out the "
            "students in the folders. Grade each kind in a run of its own (each with its own "
            "--out), or move one kind elsewhere"
        )
    if others:
        notes.append(f"ignored {_listed(others)} in {folder}: not zip files")
    return archives


def _uploads(
    archives: list[Path], assignment_of: dict[str, str], notes: list[str]
) -> tuple[dict[tuple[_Owner, str], list[_Upload]], list[str]]:
    """Every course notebook in ``archives``, by owner and notebook, and the other files
    (litter left out); zips that cannot be read, and hidden notebooks, are noted."""
    uploads: dict[tuple[_Owner, str], list[_Upload]] = defaultdict(list)
    skipped, hidden = [], []
    for archive in archives:
        try:
            with zipfile.ZipFile(archive) as zipped:
                members = zipped.infolist()
        except _DAMAGED as error:
            notes.append(f"could not read {archive.name}: {error}")
            continue
        for info in members:
            if info.is_dir():
                continue
            upload = _Upload(0, info.date_time, archive.name, info.filename, info.file_size)
            parsed = _parse_member(info.filename, assignment_of)
            if parsed is not None:
                owner, notebook, reupload = parsed
                uploads[(owner, notebook)].append(replace(upload, reupload=reupload))
                continue
            path = PurePosixPath(info.filename)
            if any(ignored(p) for p in path.parts[:-1]):
                continue  # __MACOSX/, .ipynb_checkpoints/: litter
            if not ignored(path.name):
                skipped.append(upload.where)
            elif path.suffix.lower() == ".ipynb" and not path.name.startswith("._"):
                hidden.append(upload.where)  # "._x" are macOS's resource forks
    if hidden:
        notes.append(
            f"ignored {len(hidden)} hidden file(s) in the zips (names beginning with '.', "
            f"like editors' litter; rename them to grade them): {', '.join(hidden)}"
        )
    return uploads, skipped


def _extract(archive: Path, upload: _Upload, target: Path) -> str:
    """Copy ``upload`` to ``target``; "" if done, else why not (the target is then absent)."""
    if upload.size > MAX_NOTEBOOK_BYTES:
        return (
            f"is {_size(upload.size)}, more than a notebook may be "
            f"({MAX_NOTEBOOK_BYTES // 1024**2} MB)"
        )
    try:
        with (
            zipfile.ZipFile(archive) as zipped,
            zipped.open(upload.member) as src,
            target.open("wb") as out,
        ):
            shutil.copyfileobj(src, out)
    except _DAMAGED as error:
        target.unlink(missing_ok=True)
        return f"could not be extracted ({printable(str(error))})"
    return ""


def _parse_member(name: str, assignment_of: dict[str, str]) -> tuple[_Owner, str, int] | None:
    """(owner, notebook, re-upload number) for a zip member that follows the convention."""
    path = PurePosixPath(name)
    parts = [p for p in path.parts if p not in ("/", ".", "..")]  # only names, never places
    if path.suffix.lower() != ".ipynb" or any(ignored(p) for p in parts):
        return None
    match = _REUPLOAD.match(path.stem)
    stem = match["stem"]
    reupload = int(match["dash"] or match["paren"] or 0)
    parents = parts[:-1]
    if stem in assignment_of and len(parents) >= 2 and parents[-1] == assignment_of[stem]:
        return _Owner(parents[-2]), stem, reupload  # <student>/<assignment>/<notebook>
    if stem in assignment_of and parents and "_" in parents[-1]:
        student, _, rest = parents[-1].partition("_")  # Moodle: <full name>_<id>_assign...
        return _Owner(student, _number(rest)), stem, reupload
    for notebook in sorted(assignment_of, key=len, reverse=True):
        if stem.endswith("_" + notebook) and "_" in stem:
            student, _, rest = stem.partition("_")  # Canvas: <login>_<late>_<user id>_...
            if student and stem != notebook:
                return _Owner(student, _number(rest[: -len(notebook)])), notebook, reupload
    return None


def _number(text: str) -> str:
    """The first number among the underscore-separated words of ``text``; "" if none."""
    return next((word for word in text.split("_") if word.isdigit()), "")


def _student_ids(owners: set[_Owner]) -> tuple[dict[_Owner, str], list[str]]:
    """A student id for each owner, and notes on the people told apart.

    An id is the name with the characters an id cannot hold made ``-``, which can give two
    people one id: two John Smiths, or two names written in a script an id cannot hold.
    Their LMS numbers then go into their ids (``John-Smith_4242``), since one id would merge
    their uploads and grade one notebook for both.  Without numbers there is nothing to tell
    them apart by, and a CourseError names them.  A name with nothing an id can hold keeps
    its number always (``unknown_5001``): ``unknown`` alone tells the instructor nothing.
    """
    groups: dict[str, list[_Owner]] = defaultdict(list)
    for owner in sorted(owners):
        groups[_clean(owner.name)].append(owner)
    ids: dict[_Owner, str] = {}
    notes = []
    for base, group in sorted(groups.items()):
        numbers = {o.participant for o in group if o.participant}
        if len({o.name for o in group}) == 1 and len(numbers) <= 1:
            number = next(iter(numbers), "")  # one person, maybe in several downloads
            ids.update({o: base or (f"unknown_{number}" if number else "unknown") for o in group})
            continue
        people = " and ".join(
            f"'{printable(o.name)}'" + (f" ({o.participant})" if o.participant else "")
            for o in group
        )
        if any(not o.participant for o in group):
            raise CourseError(
                f"in the zips, {people} would both be graded as {base or 'unknown'}, and no "
                "participant number tells them apart: rename one of them in the zip"
            )
        ids.update({o: f"{base or 'unknown'}_{o.participant}" for o in group})
        told = ", ".join(ids[o] for o in group)
        notes.append(f"{people} would both be graded as {base or 'unknown'}: graded as {told}")
    owners_of: dict[str, list[_Owner]] = defaultdict(list)
    for owner, student in sorted(ids.items()):
        owners_of[student].append(owner)
    for student, group in sorted(owners_of.items()):
        if len({_clean(o.name) for o in group}) > 1:  # a number made one id another's
            people = " and ".join(f"'{printable(o.name)}'" for o in group)
            raise CourseError(
                f"in the zips, {people} would both be graded as {student}: rename one of them"
            )
    return ids, notes


def _clean(text: str) -> str:
    """``text`` made a student id: what an id cannot hold becomes ``-``; "" if nothing is left."""
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]+", "-", text.strip())
    return cleaned.lstrip("._@+-").rstrip("-.")


def _listed(names: list[str], limit: int = 5) -> str:
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")
