"""What grading found, per notebook and per test, and the two tables written from it.

``OUT/grades.csv`` has a row per student, assignment and notebook; ``OUT/tests.csv`` a row per
test of every notebook that has a score.  A notebook that could not be graded (crashed,
invalid, missing) has an empty ``score``: never a zero that looks like one earned.

The tables are written whatever text reaches them: a file name that is not UTF-8 comes to
Python as lone surrogates, which UTF-8 cannot encode, and one such name must not cost the
class its tables after hours of grading.  Such characters are written escaped (``\\udcff``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

GRADED, TAMPERED, TIMEOUT = "graded", "tampered", "timeout"
CRASHED, INVALID, MISSING = "crashed", "invalid", "missing"
STATUSES = (GRADED, TAMPERED, TIMEOUT, CRASHED, INVALID, MISSING)
SCORED = (GRADED, TAMPERED, TIMEOUT)

GRADES_COLUMNS = ("student_id", "assignment", "notebook", "score", "max_score", "status", "detail")
TESTS_COLUMNS = ("student_id", "assignment", "notebook", "test", "score", "max_score")


@dataclass(frozen=True)
class ScoredTest:
    name: str  # the test cell's grade_id
    score: float
    max_score: float


@dataclass
class NotebookResult:
    student: str
    assignment: str
    notebook: str  # its name without .ipynb, as nbgrader names it
    status: str
    detail: str = ""
    max_score: float = 0.0
    tests: list[ScoredTest] = field(default_factory=list)
    submitted_at: str | None = None  # nbgrader's timestamp.txt, when the submission had one

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown grading status {self.status!r}")

    @property
    def scored(self) -> bool:
        return self.status in SCORED

    @property
    def score(self) -> float | None:
        return sum(t.score for t in self.tests) if self.scored else None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.student, self.assignment, self.notebook)


def joined(detail: str, more: str) -> str:
    """A notebook's ``detail`` with ``more`` said after it."""
    return f"{detail}; {more}" if detail else more


def number(value: float | None) -> str:
    """A score as people write it: 7, 7.5; empty for none."""
    return "" if value is None else f"{value:g}"


def write_grades(path: Path, results: list[NotebookResult]) -> None:
    with path.open("w", newline="", encoding="utf-8", errors="backslashreplace") as file:
        writer = csv.writer(file)
        writer.writerow(GRADES_COLUMNS)
        for r in sorted(results, key=lambda r: r.key):
            writer.writerow(
                [
                    r.student,
                    r.assignment,
                    r.notebook,
                    number(r.score),
                    number(r.max_score),
                    r.status,
                    r.detail,
                ]
            )


def write_tests(path: Path, results: list[NotebookResult]) -> None:
    with path.open("w", newline="", encoding="utf-8", errors="backslashreplace") as file:
        writer = csv.writer(file)
        writer.writerow(TESTS_COLUMNS)
        for r in sorted(results, key=lambda r: r.key):
            if r.scored:
                for t in r.tests:
                    writer.writerow(
                        [
                            r.student,
                            r.assignment,
                            r.notebook,
                            t.name,
                            number(t.score),
                            number(t.max_score),
                        ]
                    )


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))
