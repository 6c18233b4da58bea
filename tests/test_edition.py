"""The student edition (``minigrad-course publish``): what students clone holds no answer.

Every test works on a clone of an edition published from this checkout's HEAD, as a student
gets it, or on a scratch clone of this repository when it needs to change the instructor's
side first.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from edition import REMOTE, ROOT, git, needs_git_checkout, student_environ

from minigrad_course import notebooks
from minigrad_course.course import CourseError
from minigrad_course.publish import File, binder_url, find_leaks, publish, secret_lines

LESSON_01 = "course/01_derivatives/01_derivatives.ipynb"


def files_of(tree: Path) -> list[Path]:
    return sorted(p for p in tree.rglob("*") if p.is_file() and ".git" not in p.parts)


def hidden_test_lines() -> list[str]:
    """Lines of hidden tests, straight from solutions/, that no released notebook shows."""
    shown = {
        line.strip()
        for path in ROOT.glob("course/*/*.ipynb")
        for cell in nbformat.read(path, as_version=4).cells
        for line in cell.source.splitlines()
    }
    lines = []
    for path in sorted(ROOT.glob("solutions/*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for region in notebooks.marked_regions(cell.source, notebooks.HIDDEN_TEST_MARKERS):
                lines += [
                    line.strip()
                    for line in region.splitlines()
                    if len(line.strip()) >= 30 and line.strip() not in shown
                ]
    return lines


def instructor_clone(scratch: Path) -> Path:
    """A scratch clone of this repository, to change and commit without touching it."""
    needs_git_checkout()
    clone = scratch / "instructor"
    git(scratch, "clone", "--quiet", str(ROOT), str(clone))
    git(clone, "config", "user.email", "instructor@example.org")
    git(clone, "config", "user.name", "Instructor")
    return clone


# --- what is in it ---------------------------------------------------------------------


def test_edition_holds_the_lessons_the_library_and_the_students_files(edition):
    names = {str(p.relative_to(edition)) for p in files_of(edition)}
    for wanted in (
        LESSON_01,
        "course/README.md",
        "minigrad/__init__.py",
        "minigrad/engine.py",
        "minigrad/testing.py",
        "minigrad/viz/graph.py",
        "binder/requirements.txt",
        "binder/runtime.txt",
        "binder/postBuild",
        "binder/hide-instructor-tools",
        "LICENSE",
        "README.md",
        "Makefile",
        "pyproject.toml",
        ".gitignore",
        ".ci/find-python",
        "tests/test_lessons.py",
    ):
        assert wanted in names, f"the edition has no {wanted}"
    lessons = {p.parent.name for p in ROOT.glob("solutions/*/*.ipynb")}
    assert {p.split("/")[1] for p in names if p.endswith(".ipynb")} == lessons


def test_edition_holds_no_solutions_hidden_tests_answers_or_tooling(edition):
    names = [str(p.relative_to(edition)) for p in files_of(edition)]
    for name in names:
        assert not name.startswith(("solutions/", "docs/", "minigrad_course/", "benchmarks/")), name
        assert "test_answers" not in name and "grading" not in name, name
    assert "nbgrader_config.py" not in names
    for path in files_of(edition):
        text = path.read_text(errors="replace")
        for marker in notebooks.SOLUTION_MARKERS + notebooks.HIDDEN_TEST_MARKERS:
            assert marker not in text, f"{path.relative_to(edition)} contains {marker!r}"


def test_no_line_of_a_solution_or_hidden_test_appears_in_any_file(edition):
    """A text search of every file, notebooks also through their decoded JSON, for every
    meaningful line of solutions/'s solution regions and hidden tests (lines the released
    notebooks show anyway, and the library's own lines, are not secrets)."""
    secret = secret_lines(ROOT)
    samples = hidden_test_lines()
    assert samples, "found no hidden-test lines in solutions/ to look for"
    assert set(samples) <= secret, set(samples) - secret
    assert len(secret) > 500, f"only {len(secret)} secret lines: is the extraction broken?"
    files = {str(p.relative_to(edition)): File(p.read_bytes()) for p in files_of(edition)}
    assert find_leaks(files, secret) == []
    # Raw text as well, for a line a JSON escape would hide from the search above.
    everything = "\n".join(f.data.decode(errors="replace") for f in files.values())
    assert not [line for line in samples if line in everything]


def test_the_leak_search_finds_a_planted_line_in_any_kind_of_file():
    secret = {"check_close(grad_of_b, 4.0, 'hidden check')"}
    line = next(iter(secret))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"x = 1\n{line}")])
    files = {
        "course/x.ipynb": File(nbformat.writes(notebook).encode()),
        "minigrad/y.py": File(f"def f():\n    {line}\n".encode()),
        "README.md": File(b"nothing here"),
    }
    assert find_leaks(files, secret) == [f"course/x.ipynb: {line}", f"minigrad/y.py: {line}"]


def test_publish_refuses_an_edition_that_would_leak(tmp_path):
    instructor = instructor_clone(tmp_path)
    leaked = hidden_test_lines()[0]
    with (instructor / "course" / "README.md").open("a") as readme:
        readme.write(f"\n    {leaked}\n")
    git(instructor, "commit", "--quiet", "-am", "a leak")
    with pytest.raises(CourseError, match=r"course/README\.md: " + re.escape(leaked)):
        publish(instructor, tmp_path / "edition")
    assert not (tmp_path / "edition" / "course").exists()


def test_edition_pyproject_installs_minigrad_alone_with_the_instructors_ranges(edition):
    student = tomllib.loads((edition / "pyproject.toml").read_text())
    instructor = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert student["project"]["version"] == instructor["project"]["version"]
    assert student["project"]["dependencies"] == instructor["project"]["dependencies"]
    extras = student["project"]["optional-dependencies"]
    assert extras["course"] == instructor["project"]["optional-dependencies"]["course"]
    assert {r.split(">")[0].split("=")[0] for r in extras["test"]} == {
        "pytest",
        "nbformat",
        "nbclient",
    }
    assert "scripts" not in student["project"]
    assert student["tool"]["setuptools"]["packages"]["find"]["include"] == [
        "minigrad",
        "minigrad.*",
    ]


# --- Binder ----------------------------------------------------------------------------


def test_edition_readme_badge_launches_lesson_01_of_the_edition(edition):
    readme = (edition / "README.md").read_text()
    link = binder_url(REMOTE, "main")
    assert link == (
        "https://mybinder.org/v2/gh/example-course/minigrad-edition/main"
        f"?urlpath=lab/tree/{LESSON_01}"
    )
    assert f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)]({link})" in readme
    assert (edition / LESSON_01).is_file()
    text = " ".join(readme.split())
    assert "not saved" in text and "File > Download" in text
    assert "make lab" in readme and "make test" in readme and "Validate" in readme
    assert "git pull" in readme


@pytest.mark.parametrize(
    ("remote", "branch", "expected"),
    [
        ("https://github.com/o/r", "main", "https://mybinder.org/v2/gh/o/r/main"),
        ("https://github.com/o/r.git", "term-2", "https://mybinder.org/v2/gh/o/r/term-2"),
        ("git@github.com:o/r.git", "main", "https://mybinder.org/v2/gh/o/r/main"),
        ("https://gitlab.com/g/sub/r.git", "main", "https://mybinder.org/v2/gl/g%2Fsub%2Fr/main"),
        (
            "https://git.example.org/r.git",
            "main",
            "https://mybinder.org/v2/git/https%3A%2F%2Fgit.example.org%2Fr.git/main",
        ),
        ("/srv/git/edition.git", "main", None),
        ("git@git.example.org:r.git", "main", None),
    ],
)
def test_binder_url_for_each_kind_of_remote(remote, branch, expected):
    url = binder_url(remote, branch)
    if expected is None:
        assert url is None
    else:
        assert url == f"{expected}?urlpath=lab/tree/{LESSON_01}"


def test_without_a_remote_the_readme_has_no_binder_link_and_publish_says_how(tmp_path):
    needs_git_checkout()
    result = publish(ROOT, tmp_path / "edition")
    readme = (tmp_path / "edition" / "README.md").read_text()
    assert "mybinder.org" not in readme
    assert any("--remote" in note for note in result.notes), result.notes
    assert result.binder_url is None


def test_instructor_readme_presents_no_placeholder_badge():
    readme = (ROOT / "README.md").read_text()
    assert "OWNER/REPO" not in readme
    assert "mybinder.org/v2/" not in readme, "the instructor README links a Binder launch"
    assert "minigrad-course publish" in readme


# --- publishing again --------------------------------------------------------------------


def tree_of(repository: Path) -> str:
    return git(repository, "rev-parse", "HEAD^{tree}")


def test_publishing_the_same_commit_twice_gives_identical_trees(tmp_path):
    needs_git_checkout()
    publish(ROOT, tmp_path / "a", remote=REMOTE)
    publish(ROOT, tmp_path / "b", remote=REMOTE)
    assert tree_of(tmp_path / "a") == tree_of(tmp_path / "b")
    a, b = files_of(tmp_path / "a"), files_of(tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))


def test_publishing_into_a_clone_adds_one_commit_that_changes_only_what_changed(tmp_path):
    instructor = instructor_clone(tmp_path)
    published = tmp_path / "published"
    first = publish(instructor, published, remote=REMOTE)
    assert first.commit and git(published, "rev-list", "--count", "HEAD") == "1"
    clone = tmp_path / "students-clone"
    git(tmp_path, "clone", "--quiet", str(published), str(clone))
    git(clone, "config", "user.email", "ta@example.org")
    git(clone, "config", "user.name", "TA")
    # As if cloned from where the edition is pushed, whose URL makes the Binder badge.
    git(clone, "remote", "set-url", "origin", REMOTE)

    again = publish(instructor, clone)  # the remote comes from the clone's origin
    assert again.commit is None and again.changed == []
    assert git(clone, "rev-list", "--count", "HEAD") == "1"

    # A fix on the instructor's side: one lesson's README line and one library docstring.
    readme = instructor / "course" / "README.md"
    readme.write_text(readme.read_text() + "\nA new line for students.\n")
    (instructor / "minigrad" / "datasets.py").write_text(
        (instructor / "minigrad" / "datasets.py").read_text() + "\n# a fix\n"
    )
    git(instructor, "commit", "--quiet", "-am", "a fix")
    fix = publish(instructor, clone)
    assert fix.commit == git(clone, "rev-parse", "HEAD")
    assert git(clone, "rev-list", "--count", "HEAD") == "2"
    assert git(clone, "rev-parse", "HEAD~1") == first.commit
    assert sorted(fix.changed) == ["course/README.md", "minigrad/datasets.py"]
    changed = git(clone, "diff", "--name-only", "HEAD~1", "HEAD").split()
    assert sorted(changed) == ["course/README.md", "minigrad/datasets.py"]
    message = git(clone, "log", "-1", "--format=%B")
    assert git(instructor, "rev-parse", "--short=12", "HEAD") in message
    # The edition's README still launches the same repository on Binder.
    assert binder_url(REMOTE, "main") in (clone / "README.md").read_text()
    # A file removed on the instructor's side goes from the edition too.
    git(instructor, "rm", "--quiet", "minigrad/viz/explorer.py")
    git(instructor, "commit", "--quiet", "-m", "remove a file")
    gone = publish(instructor, clone)
    assert gone.changed == ["minigrad/viz/explorer.py"]
    assert not (clone / "minigrad" / "viz" / "explorer.py").exists()


def test_uncommitted_work_is_not_published_and_publish_says_so(tmp_path):
    instructor = instructor_clone(tmp_path)
    readme = instructor / "course" / "README.md"
    committed = readme.read_bytes()
    readme.write_text("work in progress\n")
    result = publish(instructor, tmp_path / "edition")
    assert (tmp_path / "edition" / "course" / "README.md").read_bytes() == committed
    assert any("uncommitted" in note for note in result.notes), result.notes


@pytest.mark.parametrize("case", ["inside the course", "not a repository", "changed clone"])
def test_publish_refuses_a_destination_it_would_damage(tmp_path, case):
    needs_git_checkout()
    dest = tmp_path / "dest"
    if case == "inside the course":
        dest = ROOT / "out-edition"
        message = "outside the course repository"
    elif case == "not a repository":
        dest.mkdir()
        (dest / "notes.txt").write_text("mine")
        message = "neither empty nor a git repository"
    else:
        publish(ROOT, dest)
        (dest / "README.md").write_text("edited by hand")
        message = "uncommitted changes"
    with pytest.raises(CourseError, match=message):
        publish(ROOT, dest)
    if case == "not a repository":
        assert (dest / "notes.txt").read_text() == "mine" and len(list(dest.iterdir())) == 1
    if case == "changed clone":
        assert (dest / "README.md").read_text() == "edited by hand"
    if case == "inside the course":
        assert not dest.exists()


def test_publish_refuses_a_clone_of_another_repository(tmp_path):
    needs_git_checkout()
    publish(ROOT, tmp_path / "dest", remote=REMOTE)
    with pytest.raises(CourseError, match="origin is"):
        publish(ROOT, tmp_path / "dest", remote="https://github.com/someone/else")


def test_publish_command_line(tmp_path):
    needs_git_checkout()
    command = [sys.executable, "-m", "minigrad_course", "--root", str(ROOT), "publish"]
    done = subprocess.run(
        [*command, str(tmp_path / "e"), "--remote", REMOTE, "--branch", "term-1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "mybinder.org/v2/gh/example-course/minigrad-edition/term-1" in done.stdout
    assert "push origin term-1" in done.stdout
    assert git(tmp_path / "e", "symbolic-ref", "--short", "HEAD") == "term-1"
    again = subprocess.run([*command, str(tmp_path / "e"), "--branch", "term-1"], **TEXT)
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stderr
    bad = subprocess.run([*command, str(tmp_path / "f"), "--branch", "a..b"], **TEXT)
    assert bad.returncode == 2 and "not a valid git branch name" in bad.stderr


TEXT = {"capture_output": True, "text": True}


# --- a student's clone, for real ---------------------------------------------------------


@pytest.fixture(scope="module")
def make_test(edition):
    """The edition's own `make test`, run once: a new .venv from its pyproject.toml, then
    every lesson run as released and the student JupyterLab set-up checked."""
    return subprocess.run(
        ["make", "test"],
        cwd=edition,
        env=student_environ(),
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.mark.slow
def test_edition_make_test_passes_in_a_fresh_clone(edition, make_test):
    output = make_test.stdout + make_test.stderr
    assert make_test.returncode == 0, output[-6000:]
    lessons = len(list(edition.glob("course/*/*.ipynb")))
    assert re.search(rf"\b{lessons + 2} passed\b", output), output[-3000:]
    # The instructor tools were not installed into the student's environment.
    python = edition / ".venv" / "bin" / "python"
    probe = subprocess.run(
        [str(python), "-c", "import minigrad, minigrad_course"], cwd=edition, **TEXT
    )
    assert "No module named 'minigrad_course'" in probe.stderr, probe.stderr


@pytest.mark.slow
@pytest.mark.browser
def test_edition_lab_shows_validate_and_no_instructor_tools_in_a_browser(
    edition, make_test, tmp_path, tmp_path_factory
):
    """What a student sees after `make lab` in the edition: lesson 01 opens, the notebook's
    toolbar has nbgrader's Validate button, and there is no Nbgrader menu, no Formgrader and
    no Create Assignment panel."""
    from jupyter_lab import (
        chromium,
        quiet_settings,
        require_browser,
        running_lab,
        screenshot_folder,
    )

    require_browser()
    assert make_test.returncode == 0, "the edition's make test failed: see the test above"
    quiet_settings(tmp_path)
    python = str(edition / ".venv" / "bin" / "python")
    with running_lab(tmp_path, edition / "course", python=python) as (base, token):
        for endpoint in ("formgrader", "create_assignment", "assignments", "courses"):
            status = _status(f"{base}/{endpoint}?token={token}")
            assert status == 404, f"/{endpoint} answers {status} in the student's lab"
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/lab/tree/01_derivatives/01_derivatives.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            page.wait_for_selector("text=Validate", timeout=30_000)
            page.screenshot(path=str(screenshot_folder(tmp_path_factory) / "edition-lab.png"))
            menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
            assert "Nbgrader" not in menus, menus
            assert page.locator("text=Formgrader").count() == 0
            assert page.locator("text=Create Assignment").count() == 0


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code
