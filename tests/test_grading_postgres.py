"""The class gradebook on a real PostgreSQL server (``grade --db``).

The test starts a throwaway server with the ``initdb`` and ``pg_ctl`` of Debian's
``postgresql`` package (``.ci/run`` installs it): in a private folder, reachable only by its
Unix socket there, so it never meets another server on the machine.  PostgreSQL refuses to
run as root, so under root the server runs as the ``postgres`` user (or ``nobody``).  Without
the binaries or the driver, the test skips and says why.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from grading_class import LESSON, ROOT, TIMEOUT, append_to, read, solved, write

from minigrad_course.grading.pipeline import Settings, grade
from minigrad_course.grading.results import read_rows

pytestmark = pytest.mark.slow
PORT = 54329  # names the socket file only: the server listens on no TCP port


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    return versions[-1].parent if versions else None


def _server_user() -> pwd.struct_passwd | None:
    """Whom to run the server as: ourselves, unless we are root."""
    if os.getuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.skip("running as root and there is no postgres or nobody user to run PostgreSQL as")


@pytest.fixture(scope="module")
def postgres_url():
    binaries = _binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (initdb, pg_ctl): apt-get install postgresql")
    pytest.importorskip("psycopg", reason="the PostgreSQL driver: pip install 'psycopg[binary]'")
    import psycopg

    user = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="minigrad-pg-"))
    data = folder / "data"
    as_user = {}
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def run(*command):
        done = subprocess.run(
            [str(binaries / command[0]), *command[1:]],
            capture_output=True,
            text=True,
            cwd=folder,
            **as_user,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    run("initdb", "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-p {PORT} -k {folder} -c listen_addresses='' -c fsync=off"
    run("pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "start")
    try:
        with psycopg.connect(
            host=str(folder), port=PORT, user="grader", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE course")
        yield f"postgresql+psycopg://grader@/course?host={folder}&port={PORT}"
    finally:
        run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_grading_into_postgresql_twice_gives_the_same_gradebook(tmp_path, postgres_url):
    from nbgrader.api import Gradebook

    submissions, out = tmp_path / "submissions", tmp_path / "out"
    notebook = f"{LESSON}/{LESSON}.ipynb"
    write(solved(), submissions / "correct" / notebook)
    write(read("course"), submissions / "blank" / notebook)
    write(
        append_to("derivatives_error_order", "import os\nos._exit(3)")(solved()),
        submissions / "exits" / notebook,
    )
    settings = Settings(jobs=2, timeout=TIMEOUT, db=postgres_url)

    def snapshot():
        with Gradebook(postgres_url, "minigrad") as gradebook:
            return sorted(
                (s.student.id, n.name, g.name, g.auto_score, g.needs_manual_grade, n.flagged)
                for s in gradebook.assignment_submissions(LESSON)
                for n in s.notebooks
                for g in n.grades
            )

    grade(ROOT, submissions, out, settings)
    first, rows = snapshot(), read_rows(out / "grades.csv")
    assert {r["student_id"]: (r["status"], r["score"]) for r in rows} == {
        "blank": ("graded", "0"),
        "correct": ("graded", "10"),
        "exits": ("crashed", ""),
    }
    assert not (out / "gradebook.db").exists()
    scores = {}
    for student, _, _, auto, manual, _ in first:
        scores.setdefault(student, []).append((auto, manual))
    assert sum(a for a, _ in scores["correct"]) == 10
    assert all(a is None and manual for a, manual in scores["exits"])

    grade(ROOT, submissions, out, settings)
    assert snapshot() == first
    assert read_rows(out / "grades.csv") == rows
