"""Benchmark: grading a class, `minigrad-course grade --jobs 2` against plain nbgrader.

A class of 30 students hands in every released lesson (two students in three solved every
exercise as the instructor did, the others handed in the release untouched).  The same
submissions are graded twice on this machine:

- plain nbgrader, serially: `nbgrader autograde "*"` in a scratch course whose assignments
  were generated beforehand (that set-up is not timed);
- `minigrad-course grade --jobs 2`, the whole command: its own set-up, the limited kernels,
  the tamper checks, feedback for every notebook and the merge into one gradebook.

The figure is the ratio of throughputs (notebooks per minute).  Target (issue 8): at least
1.7x.  Then the class is graded once more with ``--sandbox none``: the cost of the bubblewrap
sandbox is the ratio of the two times (target, issue 19: at most 1.10x), and both must
write the same grades.csv.  The machine is shared, so its load average is printed before
and after, and so is the CPU time each run used (its processes and kernels): from those,
the ratio two idle cores would give, whatever else the machine was doing.  Both runs also
check that they gave every notebook the same score.

    python benchmarks/bench_grading.py [--students 30] [--lessons 01_derivatives ...] [--jobs 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from timing import format_seconds

from minigrad_course.course import RELEASE, SOURCE, assignments, notebooks
from minigrad_course.release import run_nbgrader

ROOT = Path(__file__).resolve().parents[1]


def released_lessons() -> list[str]:
    return [a for a in assignments(ROOT) if notebooks(ROOT, RELEASE, a)]


def solved(lesson: str) -> nbformat.NotebookNode:
    """The release with the instructor's solutions in its exercise cells."""
    name = f"{lesson}/{lesson}.ipynb"
    nb = nbformat.read(str(ROOT / RELEASE / name), as_version=4)
    source = nbformat.read(str(ROOT / SOURCE / name), as_version=4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = answers[meta["grade_id"]].splitlines()
            cell.source = "\n".join(line for line in lines if "### " not in line)
    return nb


def build_class(folder: Path, students: int, lessons: list[str]) -> None:
    for lesson in lessons:
        work = solved(lesson)
        blank = nbformat.read(str(ROOT / RELEASE / lesson / f"{lesson}.ipynb"), as_version=4)
        for number in range(students):
            path = folder / f"student{number:02d}" / lesson / f"{lesson}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(blank if number % 3 == 2 else work, str(path))


def children_cpu() -> float:
    """CPU seconds used so far by this process's finished children (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plain_nbgrader(submissions: Path, scratch: Path, lessons: list[str]) -> tuple[float, float]:
    """Seconds, and CPU seconds, of one serial `nbgrader autograde` of every submission."""
    shutil.copy2(ROOT / "nbgrader_config.py", scratch / "nbgrader_config.py")
    for lesson in lessons:
        shutil.copytree(ROOT / SOURCE / lesson, scratch / SOURCE / lesson)
        run_nbgrader(scratch, ["generate_assignment", lesson, "--force"])
    shutil.copytree(submissions, scratch / "submitted")
    cpu, start = children_cpu(), time.perf_counter()
    run_nbgrader(scratch, ["autograde", "*", "--create"])
    return time.perf_counter() - start, children_cpu() - cpu


def minigrad_grade(
    submissions: Path, out: Path, jobs: int, sandbox: str = "auto"
) -> tuple[float, float]:
    """Seconds, and CPU seconds, of the whole `minigrad-course grade` command."""
    command = [sys.executable, "-m", "minigrad_course.cli", "--root", str(ROOT), "grade"]
    command += [str(submissions), "--out", str(out), "--jobs", str(jobs), "--sandbox", sandbox]
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"minigrad-course grade failed:\n{done.stderr}")
    return seconds, children_cpu() - cpu


def same_scores(scratch: Path, out: Path) -> list[str]:
    """Notebooks the two runs scored differently (an empty list: none)."""
    from nbgrader.api import Gradebook

    differences = []
    with (out / "grades.csv").open() as file, Gradebook(f"sqlite:///{scratch}/gradebook.db") as gb:
        for row in csv.DictReader(file):
            theirs = gb.find_submission_notebook(
                row["notebook"], row["assignment"], row["student_id"]
            ).score
            if row["status"] != "graded" or float(row["score"]) != theirs:
                differences.append(f"{row['student_id']}/{row['notebook']}: {row} vs {theirs}")
    return differences


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--lessons", nargs="*", default=None, help="default: every released")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    lessons = args.lessons or released_lessons()
    count = args.students * len(lessons)
    print(
        f"Grading {args.students} students x {len(lessons)} lessons = {count} notebooks "
        f"({', '.join(lessons)}) on {os.cpu_count()} cores"
    )
    print(f"  load average before: {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        submissions = tmp / "submissions"
        build_class(submissions, args.students, lessons)
        (tmp / "nbgrader").mkdir()
        serial, serial_cpu = plain_nbgrader(submissions, tmp / "nbgrader", lessons)
        print(f"  load average after nbgrader: {load()}")
        ours, _ = minigrad_grade(submissions, tmp / "out", args.jobs)
        print(f"  load average after minigrad-course: {load()}")
        differences = same_scores(tmp / "nbgrader", tmp / "out")
        bare, bare_cpu = minigrad_grade(submissions, tmp / "out-bare", args.jobs, "none")
        print(f"  load average after minigrad-course --sandbox none: {load()}")
        same_rows = (tmp / "out" / "grades.csv").read_bytes() == (
            tmp / "out-bare" / "grades.csv"
        ).read_bytes()

    rate = 60 * count
    print(
        f"  {'plain nbgrader autograde, serial':<40}{format_seconds(serial)}"
        f"  {rate / serial:6.1f} notebooks/min"
    )
    print(
        f"  {f'minigrad-course grade --jobs {args.jobs}':<40}{format_seconds(ours)}"
        f"  {rate / ours:6.1f} notebooks/min  (set-up, limits, feedback and merge included)"
    )
    print(f"  throughput ratio: {serial / ours:.2f}x (target: at least 1.7x with --jobs 2)")
    # A sandboxed kernel ends inside its own PID namespace, and the CPU it used is not all
    # reaped into this process's children's usage: the unsandboxed run's CPU stands for both.
    print(
        f"  CPU per notebook: nbgrader {serial_cpu / count:.2f} s, minigrad-course "
        f"{bare_cpu / count:.2f} s ({bare_cpu / serial_cpu - 1:+.0%}, measured without the "
        f"sandbox); on {args.jobs} idle cores the ratio would be at most "
        f"{args.jobs * serial_cpu / bare_cpu:.2f}x"
    )
    print(
        f"  {'minigrad-course grade --sandbox none':<40}{format_seconds(bare)}"
        f"  the sandbox costs {ours / bare:.2f}x the time (target: at most 1.10x)"
    )
    if not same_rows:
        print("  the sandboxed and the unsandboxed runs wrote different grades.csv files")
        sys.exit(1)
    if differences:
        print(f"  {len(differences)} notebook(s) scored differently, e.g. {differences[0]}")
        sys.exit(1)
    print(f"  both runs gave all {count} notebooks the same score")


if __name__ == "__main__":
    main()
