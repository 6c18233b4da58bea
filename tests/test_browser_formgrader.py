"""Reviewing a graded class in nbgrader's formgrader, in a real browser (docs/instructors.md,
section 4).

A small class is graded with ``minigrad-course grade``; JupyterLab is started in OUT, as the
guide says, and formgrader must list every submission with the score and status of
grades.csv.  The instructor then grades the crashed notebook by hand in formgrader's own
page, and grading the class again must keep that review.  Screenshots go to the directory
named by ``MINIGRAD_ARTIFACTS`` (a fresh temporary directory otherwise).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from grading_class import LESSON, ROOT, TIMEOUT, build_review_class
from jupyter_lab import (
    chromium,
    quiet_settings,
    require_browser,
    running_lab,
    screenshot_folder,
)

from minigrad_course.grading.pipeline import Settings, grade
from minigrad_course.grading.results import read_rows

pytestmark = [pytest.mark.slow, pytest.mark.browser]

MANUAL = [1, 2, 0, 1, 1]  # cy's scores, typed into formgrader test by test


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    require_browser()
    base = tmp_path_factory.mktemp("formgrader")
    submissions, out = base / "submissions", base / "out"
    build_review_class(submissions)
    grade(ROOT, submissions, out, Settings(jobs=1, timeout=TIMEOUT))
    home = base / "home"
    quiet_settings(home)
    with running_lab(home, out) as (url, token), chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/lab?token={token}")  # logs in: the formgrader pages use the cookie
        page.wait_for_selector(".jp-LabShell", timeout=90_000)
        yield {"url": url, "page": page, "out": out, "submissions": submissions}
        page.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return screenshot_folder(tmp_path_factory)


def submissions_table(graded_class) -> dict[str, dict[str, str]]:
    """formgrader's "Manage Submissions" page for the lesson: student id -> its cells."""
    page = graded_class["page"]
    page.goto(f"{graded_class['url']}/formgrader/manage_submissions/{LESSON}")
    rows = page.locator("table tbody tr")
    rows.first.wait_for()
    page.wait_for_function("() => !document.body.innerText.includes('Loading')")
    headers = [h.strip() for h in page.locator("table thead th").all_inner_texts()]
    table = {}
    for row in rows.all():
        cells = dict(zip(headers, (c.strip() for c in row.locator("td").all_inner_texts())))
        table[cells["Student ID"]] = cells
    return table


def test_formgrader_lists_every_submission_as_grades_csv_does(graded_class, shots):
    table = submissions_table(graded_class)
    graded_class["page"].screenshot(path=str(shots / "formgrader_submissions.png"))
    rows = {r["student_id"]: r for r in read_rows(graded_class["out"] / "grades.csv")}
    assert set(table) == set(rows) == {"ada", "bob", "cy"}
    for student in ("ada", "bob"):
        assert table[student]["Status"] == "graded", table[student]
        assert table[student]["Score"] == f"{rows[student]['score']} / 10", table[student]
    # cy's kernel died: no automatic score, so formgrader asks for a person's
    assert rows["cy"]["status"] == "crashed" and rows["cy"]["score"] == ""
    assert table["cy"]["Status"] == "needs manual grading", table["cy"]


def test_grading_by_hand_in_formgrader_survives_grading_the_class_again(graded_class, shots):
    from nbgrader.api import Gradebook

    out, page = graded_class["out"], graded_class["page"]
    db = f"sqlite:///{out / 'gradebook.db'}"
    with Gradebook(db, "minigrad") as gradebook:
        notebook_id = gradebook.find_submission_notebook(LESSON, LESSON, "cy").id
    page.goto(f"{graded_class['url']}/formgrader/submissions/{notebook_id}/")
    scores = page.locator("input.score")
    scores.first.wait_for()
    assert scores.count() == len(MANUAL)
    for k, score in enumerate(MANUAL):
        scores.nth(k).fill(str(score))
        scores.nth(k).press("Tab")  # formgrader saves a score when it changes
    page.wait_for_function(
        "n => [...document.querySelectorAll('input.score')]"
        "  .every(i => !i.classList.contains('needs_manual_grade')) && n > 0",
        arg=len(MANUAL),
    )
    page.screenshot(path=str(shots / "formgrader_manual_grading.png"))

    def manual_scores() -> list:
        with Gradebook(db, "minigrad") as gradebook:
            notebook = gradebook.find_submission_notebook(LESSON, LESSON, "cy")
            return [(g.manual_score, g.needs_manual_grade) for g in notebook.grades]

    saved = [(float(s), False) for s in MANUAL]
    for _ in range(50):  # each score is saved by a request of its own
        if sorted(manual_scores()) == sorted(saved):
            break
        page.wait_for_timeout(200)
    assert sorted(manual_scores()) == sorted(saved)
    assert submissions_table(graded_class)["cy"]["Status"] == "graded"

    grade(ROOT, graded_class["submissions"], out, Settings(jobs=1, timeout=TIMEOUT))

    assert sorted(manual_scores()) == sorted(saved)
    table = submissions_table(graded_class)
    page.screenshot(path=str(shots / "formgrader_after_rerun.png"))
    assert table["cy"]["Status"] == "graded", table["cy"]
    assert table["cy"]["Score"] == f"{sum(MANUAL)} / 10", table["cy"]
    print("screenshots:", *sorted(str(p) for p in shots.glob("formgrader_*.png")))
