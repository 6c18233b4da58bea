"""``minigrad-course check``: prove the course is consistent and gradable.

For every assignment, in a scratch copy of the course (the repository is never touched):

1. the committed ``solutions/`` notebooks carry no outputs;
2. releasing afresh reproduces the committed ``course/`` notebooks byte for byte;
3. no student notebook contains solution code or hidden tests;
4. nbgrader autogrades the solution notebook to full marks, with no cell raising;
5. nbgrader autogrades the untouched student notebook to zero, running every cell to the
   end (the stubs raise NotImplementedError; nothing may crash the kernel).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook

from . import notebooks
from .course import CONFIG_FILE, RELEASE, SOURCE
from .course import notebooks as notebooks_of
from .release import put_scripts_on_path, release, run_nbgrader

SOLUTION_STUDENT = "reference-solution"
BLANK_STUDENT = "untouched-release"


@dataclass(frozen=True)
class Problem:
    assignment: str
    notebook: str
    message: str

    def __str__(self) -> str:
        return f"{self.assignment}/{self.notebook}: {self.message}"


def check(root: Path, assignment_ids: list[str], *, log=print) -> list[Problem]:
    """Every problem found in the given assignments (an empty list: all is well)."""
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="minigrad-check-") as scratch:
        work = Path(scratch)
        shutil.copy2(root / CONFIG_FILE, work / CONFIG_FILE)
        for assignment in assignment_ids:
            shutil.copytree(root / SOURCE / assignment, work / SOURCE / assignment)
        for assignment in assignment_ids:
            log(f"checking {assignment}")
            # Releasing first: it reports a damaged lesson by notebook and cell, and stops.
            release(work, [assignment], log=lambda _: None)
            problems += _check_sources(root, assignment)
            problems += _check_in_sync(root, work, assignment)
            problems += _check_no_leaks(root, assignment)
            if _release_is_readable(root, assignment):  # else: reported, nothing to grade
                problems += _check_grading(root, work, assignment)
    return problems


def _check_sources(root: Path, assignment: str) -> list[Problem]:
    return [
        Problem(assignment, path.name, "the solution notebook has outputs: run release")
        for path in notebooks_of(root, SOURCE, assignment)
        if notebooks.has_outputs(notebooks.read(path))
    ]


def _check_in_sync(root: Path, work: Path, assignment: str) -> list[Problem]:
    problems = []
    fresh = {p.name: p for p in (work / RELEASE / assignment).glob("*")}
    committed = {p.name: p for p in (root / RELEASE / assignment).glob("*")}
    for name in sorted(fresh.keys() | committed.keys()):
        if name not in committed:
            problems.append(Problem(assignment, name, f"missing from {RELEASE}/: run release"))
        elif name not in fresh:
            problems.append(Problem(assignment, name, f"in {RELEASE}/ but not in {SOURCE}/"))
        elif fresh[name].is_file() and fresh[name].read_bytes() != committed[name].read_bytes():
            problems.append(
                Problem(
                    assignment,
                    name,
                    f"{RELEASE}/ is out of date with {SOURCE}/: run "
                    f"`minigrad-course release {assignment}`",
                )
            )
    return problems


def _check_no_leaks(root: Path, assignment: str) -> list[Problem]:
    """No marker, no solution region and no hidden-test line survives in a student notebook.

    A hidden-test line that also appears where students may see it in the source (an import,
    a hint shared with a visible test) is not a leak.
    """
    problems = []
    for source_path in notebooks_of(root, SOURCE, assignment):
        student_path = root / RELEASE / assignment / source_path.name
        if not student_path.exists():
            continue
        try:
            student = "\n".join(c.source for c in notebooks.read(student_path).cells)
        except Exception as error:  # a damaged file: whatever it holds, release again
            message = (
                f"the notebook in {RELEASE}/ cannot be read ({type(error).__name__}): run "
                f"`minigrad-course release {assignment}`"
            )
            problems.append(Problem(assignment, source_path.name, message))
            continue
        source_cells = notebooks.read(source_path).cells
        visible = "\n".join(
            notebooks.without_regions(c.source, notebooks.HIDDEN_TEST_MARKERS) for c in source_cells
        )
        for marker in notebooks.SOLUTION_MARKERS + notebooks.HIDDEN_TEST_MARKERS:
            if marker in student:
                problems.append(Problem(assignment, source_path.name, f"contains {marker!r}"))
        for cell in source_cells:
            for region in notebooks.marked_regions(cell.source, notebooks.SOLUTION_MARKERS):
                if region.strip() and region.strip() in student:
                    problems.append(
                        Problem(assignment, source_path.name, "a solution appears in the release")
                    )
            for region in notebooks.marked_regions(cell.source, notebooks.HIDDEN_TEST_MARKERS):
                for line in region.splitlines():
                    line = line.strip()
                    if len(line) >= 25 and line in student and line not in visible:
                        problems.append(
                            Problem(
                                assignment,
                                source_path.name,
                                f"a hidden-test line appears in the release: {line!r}",
                            )
                        )
    return problems


def _release_is_readable(root: Path, assignment: str) -> bool:
    try:
        for path in notebooks_of(root, RELEASE, assignment):
            notebooks.read(path)
    except Exception:  # _check_no_leaks names the notebook and the error
        return False
    return True


def _check_grading(root: Path, work: Path, assignment: str) -> list[Problem]:
    run_nbgrader(work, ["generate_assignment", assignment, "--force"])
    for student, step in ((SOLUTION_STUDENT, SOURCE), (BLANK_STUDENT, RELEASE)):
        target = work / "submitted" / student / assignment
        target.mkdir(parents=True)
        for path in notebooks_of(root, step, assignment):
            shutil.copy2(path, target / path.name)
        run_nbgrader(work, ["autograde", assignment, "--student", student, "--create", "--force"])

    problems = []
    put_scripts_on_path()
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gradebook:
        for path in notebooks_of(root, SOURCE, assignment):
            name = path.stem
            solved = gradebook.find_submission_notebook(name, assignment, SOLUTION_STUDENT)
            blank = gradebook.find_submission_notebook(name, assignment, BLANK_STUDENT)
            if solved.max_score <= 0:
                problems.append(Problem(assignment, path.name, "has no graded test cells"))
            if solved.score != solved.max_score:
                failing = [g.name for g in solved.grades if g.score != g.max_score]
                problems.append(
                    Problem(
                        assignment,
                        path.name,
                        f"the solution earns {solved.score:g} of {solved.max_score:g}; failing "
                        f"tests: {', '.join(failing)}",
                    )
                )
            if blank.score != 0:
                passing = [g.name for g in blank.grades if g.score]
                problems.append(
                    Problem(
                        assignment,
                        path.name,
                        f"the untouched student notebook earns {blank.score:g} points (tests "
                        f"that pass without any work: {', '.join(passing)})",
                    )
                )
    problems += _check_executed(work, assignment, SOLUTION_STUDENT, errors_allowed=False)
    problems += _check_executed(work, assignment, BLANK_STUDENT, errors_allowed=True)
    return problems


def _check_executed(work: Path, assignment: str, student: str, errors_allowed: bool):
    """Every code cell of the autograded copy ran; in a solution, none raised."""
    problems = []
    for path in sorted((work / "autograded" / student / assignment).glob("*.ipynb")):
        nb = notebooks.read(path)
        who = "solution" if student == SOLUTION_STUDENT else "student notebook"
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if cell.execution_count is None:
                problems.append(
                    Problem(assignment, path.name, f"the {who} stopped before cell {index}")
                )
                break
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if errors and not errors_allowed:
                problems.append(
                    Problem(
                        assignment,
                        path.name,
                        f"cell {index} of the {who} raised {errors[0].ename}: {errors[0].evalue}",
                    )
                )
    return problems
