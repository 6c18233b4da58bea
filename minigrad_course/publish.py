"""``minigrad-course publish DEST``: the student edition, a git repository of its own.

This repository is the instructor's: it holds every solution and hidden test (``solutions/``),
the answer catalogues of ``tests/``, the grading code and the instructor's guide, so it stays
private.  Students clone, open on Binder, or receive through nbgrader's exchange the *edition*
that this module writes: the released lessons and the library they import, and nothing an
answer could be read from.

What the edition holds, and where each part comes from:

- ``course/``, ``minigrad/``, ``binder/``, ``LICENSE`` and ``.ci/find-python`` (which the
  Makefile uses to find a Python): copied from this repository *as committed* (HEAD), so the
  same commit always publishes the same bytes, and work in progress never leaks out by
  accident;
- ``README.md``, ``Makefile``, ``pyproject.toml``, ``.gitignore`` and ``tests/``: written for
  students from the templates in ``edition/`` beside this module.  The README's Binder badge
  points at the edition's own repository (``--remote``, or DEST's ``origin``); with neither,
  the README has no Binder section rather than a dead link.

Before anything is written, every file of the edition is searched for the lines of
``solutions/``'s solution cells and hidden tests (see :func:`find_leaks`); one found stops the
publication.  DEST is then a new repository, or an existing clone of the published one that
gets exactly one new commit (none when nothing changed), so students keep their history and
``git pull`` brings them the fix.
"""

from __future__ import annotations

import contextlib
import json
import re
import string
import subprocess
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from . import notebooks
from .course import RELEASE, SOURCE, CourseError

# What the edition copies from the instructor's repository, as committed.
COPIED = ("course", "minigrad", "binder", "LICENSE", ".ci/find-python")
# Written for students from the templates in edition/ (template name -> path in the edition).
TEMPLATES = {
    "README.md": "README.md",
    "Makefile": "Makefile",
    "pyproject.toml.in": "pyproject.toml",
    "gitignore": ".gitignore",
    "tests/test_lessons.py": "tests/test_lessons.py",
}
TEMPLATE_DIR = Path(__file__).with_name("edition")
FIRST_LESSON = "course/01_derivatives/01_derivatives.ipynb"
# A line shorter than this (`return out`, `else:`, `]`) occurs in any Python program and
# proves nothing about where it came from.
MEANINGFUL = 12


@dataclass(frozen=True)
class File:
    data: bytes
    executable: bool = False


@dataclass
class Published:
    """What a publication did, for the command to report."""

    dest: Path
    branch: str
    source_commit: str | None
    commit: str | None  # the new commit in DEST; None when nothing changed
    changed: list[str]
    binder_url: str | None
    remote: str | None
    notes: list[str] = field(default_factory=list)


def publish(root: Path, dest: Path, remote: str | None = None, branch: str = "main") -> Published:
    """Write the student edition of the course at ``root`` into the git repository ``dest``."""
    dest = dest.resolve()
    _refuse_overlap(root, dest)
    _check_branch_name(branch)
    source_commit, copied, notes = _committed_files(root, COPIED)
    _check_released(root, copied)
    existing = _prepare_destination(dest, branch, remote)
    remote = remote or _origin(dest)
    url = binder_url(remote, branch) if remote else None
    if remote is None:
        notes.append(
            "the edition has no remote, so its README has no Binder badge: publish again with "
            "--remote https://github.com/<owner>/<name> (where you will push it) to add one"
        )
    elif url is None:
        notes.append(
            f"Binder cannot build from {remote} (it builds public GitHub, GitLab and other git "
            f"repositories reached over https), so the README has no Binder badge"
        )
    files = {**copied, **_templates(root, branch, url)}
    leaks = find_leaks(files, secret_lines(root))
    if leaks:
        raise CourseError(
            "not published: the edition would contain solutions or hidden tests:\n  "
            + "\n  ".join(leaks[:20])
            + (f"\n  ... and {len(leaks) - 20} more" if len(leaks) > 20 else "")
        )
    _replace_tree(dest, files)
    commit, changed = _commit(dest, source_commit, first=not existing)
    return Published(dest, branch, source_commit, commit, changed, url, remote, notes)


# --- what goes in ------------------------------------------------------------------------


def _committed_files(root: Path, paths: tuple[str, ...]) -> tuple[str | None, dict, list[str]]:
    """The files under ``paths`` as committed at HEAD, and the commit; outside a git
    checkout, the files on disk (without caches)."""
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    if head.returncode != 0:
        return (
            None,
            _files_on_disk(root, paths),
            [f"{root} is not a git checkout with a commit: published the files on disk"],
        )
    commit = head.stdout.strip()
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", *paths).stdout
    entries = []
    for entry in filter(None, listing.split("\0")):
        info, path = entry.split("\t", 1)
        mode, kind, sha = info.split()
        if kind == "blob" and mode != "120000":  # symbolic links are not published
            entries.append((path, mode, sha))
    blobs = _read_blobs(root, [sha for _, _, sha in entries])
    files = {path: File(blobs[sha], mode == "100755") for path, mode, sha in entries}
    notes = []
    dirty = _git(root, "status", "--porcelain", "--", *paths).stdout.strip()
    if dirty:
        notes.append(
            f"uncommitted changes under {', '.join(paths)} were left out (the edition is made "
            f"from commit {commit[:12]}): commit them and publish again to include them"
        )
    return commit, files, notes


def _read_blobs(root: Path, shas: list[str]) -> dict[str, bytes]:
    """The contents of git blobs, all through one ``git cat-file --batch``."""
    done = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=root,
        input="".join(f"{sha}\n" for sha in shas).encode(),
        capture_output=True,
        check=True,
    )
    out, blobs, at = done.stdout, {}, 0
    for sha in shas:
        header_end = out.index(b"\n", at)
        _, _, size = out[at:header_end].split()
        start = header_end + 1
        blobs[sha] = out[start : start + int(size)]
        at = start + int(size) + 1
    return blobs


def _files_on_disk(root: Path, paths: tuple[str, ...]) -> dict[str, File]:
    files = {}
    for name in paths:
        top = root / name
        candidates = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in candidates:
            parts = path.relative_to(root).parts
            if not path.is_file() or path.is_symlink() or path.suffix == ".pyc":
                continue
            if any(p in ("__pycache__", ".ipynb_checkpoints") for p in parts):
                continue
            executable = bool(path.stat().st_mode & 0o100)
            files["/".join(parts)] = File(path.read_bytes(), executable)
    return files


def _check_released(root: Path, copied: dict[str, File]) -> None:
    """Every lesson of solutions/ has its released notebooks in course/."""
    for source in sorted((root / SOURCE).glob("*/*.ipynb")):
        released = f"{RELEASE}/{source.parent.name}/{source.name}"
        if released not in copied:
            raise CourseError(
                f"not published: {released} is not committed; run `minigrad-course release "
                f"{source.parent.name}` and commit {RELEASE}/"
            )


def _templates(root: Path, branch: str, url: str | None) -> dict[str, File]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    wanted_for_tests = ("pytest", "nbclient", "nbformat")
    values = {
        "version": project["version"],
        "requires_python": project["requires-python"],
        "dependencies": _toml_list(project["dependencies"]),
        "course": _toml_list(extras.get("course", [])),
        "test": _toml_list([r for r in extras.get("dev", []) if _name(r) in wanted_for_tests]),
        "binder": _binder_section(url) if url else "",
        "branch": branch,
    }
    files = {}
    for template, path in TEMPLATES.items():
        text = (TEMPLATE_DIR / template).read_text()
        if template in ("README.md", "pyproject.toml.in"):
            text = string.Template(text).substitute(values)
        files[path] = File(text.encode())
    return files


def _name(requirement: str) -> str:
    """The distribution a requirement names: "pytest" for "pytest>=8.2,<10"."""
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()


def _toml_list(items: list[str]) -> str:
    return "[\n" + "".join(f"    {json.dumps(item)},\n" for item in items) + "]"


def _binder_section(url: str) -> str:
    return (
        "## Or in your browser, on Binder\n\n"
        f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)]({url})\n\n"
        "With nothing installed, click the badge: [Binder](https://mybinder.org) builds the\n"
        "course's environment (minigrad, JupyterLab, the widgets and nbgrader's Validate button)\n"
        "and opens lesson 01 in JupyterLab. The first launch after the course changes takes\n"
        "several minutes while Binder builds; later launches take about a minute.\n\n"
        "**Your work on Binder is not saved.** The session ends when you close the tab or leave\n"
        "it idle for a while, and your changes go with it: download each notebook you worked on\n"
        "(File > Download) and, next time, upload it again (the file browser's upload button).\n\n"
    )


def binder_url(remote: str, branch: str) -> str | None:
    """The Binder link that opens lesson 01 of the repository at ``remote``, or None where
    Binder cannot build from it (a local path, an ssh host it has no key for)."""
    lesson = f"?urlpath=lab/tree/{FIRST_LESSON}"
    ref = urllib.parse.quote(branch, safe="")
    hosted = re.fullmatch(
        r"(?:https://|ssh://git@|git@)(github\.com|gitlab\.com)[:/]"
        r"(?P<path>[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+)/?",
        remote.strip(),
    )
    if hosted:
        path = hosted.group("path").removesuffix(".git")
        if hosted.group(1) == "github.com":
            return f"https://mybinder.org/v2/gh/{path}/{ref}{lesson}"
        return f"https://mybinder.org/v2/gl/{urllib.parse.quote(path, safe='')}/{ref}{lesson}"
    if remote.startswith("https://"):
        return f"https://mybinder.org/v2/git/{urllib.parse.quote(remote, safe='')}/{ref}{lesson}"
    return None


# --- no answers --------------------------------------------------------------------------


def secret_lines(root: Path) -> set[str]:
    """Every meaningful line of ``solutions/`` that students must not see: the solution
    regions (a solution cell without markers is a solution throughout) and the hidden tests.

    Lines that the released notebooks show anyway (an import, a signature, a hint shared
    with a visible test) are not secret, nor are lines of the ``minigrad`` library itself:
    students are meant to read it, and where a lesson rebuilds one of its pieces the
    instructor's solution may say a line the same way.
    """
    secret: set[str] = set()
    for path in sorted((root / SOURCE).glob("*/*.ipynb")):
        for cell in notebooks.read(path).cells:
            regions = notebooks.marked_regions(cell.source, notebooks.HIDDEN_TEST_MARKERS)
            solutions = notebooks.marked_regions(cell.source, notebooks.SOLUTION_MARKERS)
            if cell.metadata.get("nbgrader", {}).get("solution") and not solutions:
                solutions = [cell.source]
            for region in regions + solutions:
                secret.update(_meaningful_lines(region))
    shown = set()
    for path in sorted((root / RELEASE).glob("*/*.ipynb")):
        for cell in notebooks.read(path).cells:
            shown.update(_meaningful_lines(cell.source))
    for path in sorted((root / "minigrad").rglob("*.py")):
        shown.update(_meaningful_lines(path.read_text()))
    return secret - shown


def find_leaks(files: dict[str, File], secret: set[str]) -> list[str]:
    """Where a secret line appears in ``files``, as "path: line", one per file and line.

    Every file is searched as text, and each notebook also through its decoded JSON (its
    sources, outputs and metadata), where a line is not escaped as it is on disk.
    """
    found = []
    for path in sorted(files):
        text = files[path].data.decode("utf-8", errors="replace")
        lines = set(_meaningful_lines(text))
        if path.endswith(".ipynb"):
            with contextlib.suppress(ValueError):  # not JSON: searched as text above
                lines.update(_meaningful_lines("\n".join(_strings(json.loads(text)))))
        found += [f"{path}: {line}" for line in sorted(lines & secret)]
    return found


def _meaningful_lines(text: str) -> list[str]:
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if len(line) >= MEANINGFUL]


def _strings(value) -> list[str]:
    """Every string inside a decoded JSON value (lists of lines joined as a cell's source)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            return ["".join(value), *value]
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


# --- the destination repository ----------------------------------------------------------


def _refuse_overlap(root: Path, dest: Path) -> None:
    root = root.resolve()
    if dest == root or dest.is_relative_to(root) or root.is_relative_to(dest):
        raise CourseError(
            f"DEST ({dest}) must be outside the course repository ({root}): the edition is a "
            f"repository of its own"
        )


def _check_branch_name(branch: str) -> None:
    if _git(Path.cwd(), "check-ref-format", "--branch", branch, check=False).returncode != 0:
        raise CourseError(f"--branch {branch!r} is not a valid git branch name")


def _prepare_destination(dest: Path, branch: str, remote: str | None) -> bool:
    """Make ``dest`` a repository on ``branch`` ready for the edition; whether it existed."""
    if dest.exists() and not dest.is_dir():
        raise CourseError(f"DEST ({dest}) is a file, not a folder")
    existing = (dest / ".git").exists()
    if not existing:
        if dest.exists() and any(dest.iterdir()):
            raise CourseError(
                f"DEST ({dest}) is a folder that is neither empty nor a git repository: name a "
                f"new folder, or a clone of the published edition"
            )
        dest.mkdir(parents=True, exist_ok=True)
        _git(dest, "init", "--quiet", f"--initial-branch={branch}")
        if remote:
            _git(dest, "remote", "add", "origin", remote)
        return False

    if _git(dest, "status", "--porcelain").stdout.strip():
        raise CourseError(
            f"DEST ({dest}) has uncommitted changes: commit or discard them first (publish "
            f"replaces the whole tree)"
        )
    origin = _origin(dest)
    if remote and origin and origin != remote:
        raise CourseError(f"DEST's origin is {origin}, not {remote}: is it the right clone?")
    if remote and not origin:
        _git(dest, "remote", "add", "origin", remote)
    current = _git(dest, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout.strip()
    if current != branch:
        local = _git(dest, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
        tracked = _git(
            dest, "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", check=False
        )
        if local.returncode == 0 or tracked.returncode == 0:
            _git(dest, "checkout", "--quiet", branch)
        else:
            _git(dest, "checkout", "--quiet", "-b", branch)
    return True


def _origin(dest: Path) -> str | None:
    if not (dest / ".git").exists():
        return None
    done = _git(dest, "remote", "get-url", "origin", check=False)
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _replace_tree(dest: Path, files: dict[str, File]) -> None:
    """Make ``dest``'s working tree exactly ``files`` (its .git aside)."""
    tracked = _git(dest, "ls-files", "-z").stdout.split("\0")
    for name in filter(None, tracked):
        if name not in files:
            (dest / name).unlink(missing_ok=True)
    for name, file in files.items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != file.data:
            path.write_bytes(file.data)
        path.chmod(0o755 if file.executable else 0o644)
    for folder in sorted((p for p in dest.rglob("*") if p.is_dir()), reverse=True):
        if ".git" not in folder.relative_to(dest).parts and not any(folder.iterdir()):
            folder.rmdir()


def _commit(dest: Path, source_commit: str | None, first: bool) -> tuple[str | None, list[str]]:
    _git(dest, "add", "--all")
    changed = _git(dest, "diff", "--cached", "--name-only", "-z").stdout.split("\0")
    changed = [name for name in changed if name]
    if not changed and not first:
        return None, []
    message = "The minigrad course" if first else "Update the course"
    if source_commit:
        message += f"\n\nPublished from the instructor's repository at {source_commit[:12]}."
    identity = []
    if _git(dest, "config", "user.email", check=False).returncode != 0:
        identity = ["-c", "user.name=minigrad-course publish", "-c", "user.email=publish@invalid"]
    _git(dest, *identity, "commit", "--quiet", "-m", message)
    return _git(dest, "rev-parse", "HEAD").stdout.strip(), changed


def _git(where: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise CourseError(f"git {' '.join(args)} failed in {where}: {done.stderr.strip()}")
    return done


def summary(result: Published) -> str:
    """What publish did and what to do next, for the command line."""
    where = f"{result.dest} (branch {result.branch})"
    if result.commit is None:
        lines = [f"nothing changed: {where} already holds this edition"]
    else:
        count = len(result.changed)
        lines = [f"published {count} changed file(s) to {where}: commit {result.commit[:12]}"]
    lines += [f"note: {note}" for note in result.notes]
    if result.binder_url:
        lines.append(f"Binder: {result.binder_url}")
    if result.commit and result.remote:
        push = f"git -C {result.dest} push origin {result.branch}"
        lines.append(f"students get it once you push it: {push}")
    elif result.commit:
        git = f"git -C {result.dest}"
        push = f"{git} remote add origin <url> && {git} push -u origin {result.branch}"
        lines.append(f"students get it once you push it: {push}")
    return "\n".join(lines)


__all__ = ["Published", "binder_url", "find_leaks", "publish", "secret_lines", "summary"]
