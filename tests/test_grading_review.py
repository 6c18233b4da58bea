"""A re-run of ``minigrad-course grade`` after the instructor's review in formgrader.

The review is made here as formgrader's own handlers make it (a manual score takes the
test off the list for manual grading; the flag is toggled), straight in the gradebook.
tests/test_browser_formgrader.py makes one in formgrader itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from grading_class import LESSON, NOTEBOOK, ROOT, TIMEOUT, build_review_class, solved, write

from minigrad_course.grading.pipeline import Settings, grade

pytestmark = pytest.mark.slow


def gradebook_state(out: Path) -> dict:
    """Everything a review can change, per student and test."""
    from nbgrader.api import Gradebook

    state = {}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", "minigrad") as gradebook:
        for submission in gradebook.assignment_submissions(LESSON):
            for notebook in submission.notebooks:
                state[(submission.student.id, "flagged")] = notebook.flagged
                for g in notebook.grades:
                    state[(submission.student.id, g.name)] = (
                        g.auto_score,
                        g.manual_score,
                        g.needs_manual_grade,
                    )
                for c in notebook.comments:
                    if c.manual_comment:
                        state[(submission.student.id, c.name, "comment")] = c.manual_comment
    return state


def review(out: Path, scores: dict[str, float], student: str, unflag: bool, comment: str = ""):
    """What formgrader does when the instructor types these scores (by test) for
    ``student``, takes the flag down, and writes a comment on the first commented cell."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", "minigrad") as gradebook:
        notebook = gradebook.find_submission_notebook(LESSON, LESSON, student)
        for g in notebook.grades:
            if g.name in scores:
                g.manual_score = scores[g.name]
                g.needs_manual_grade = g.manual_score is None and g.auto_score is None
        if unflag:
            notebook.flagged = False
        if comment:
            notebook.comments[0].manual_comment = comment
        gradebook.db.commit()


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    base = tmp_path_factory.mktemp("review")
    submissions, out = base / "submissions", base / "out"
    build_review_class(submissions)
    grade(ROOT, submissions, out, Settings(jobs=1, timeout=TIMEOUT))
    first = gradebook_state(out)
    tests = sorted(name for (student, name) in first if student == "ada" and name != "flagged")
    # cy's kernel died: every test graded by hand, and the flag taken down after reading it.
    review(out, dict(zip(tests, [1, 1, 0, 1, 1])), "cy", unflag=True, comment="see me")
    # bob handed in a blank notebook: one test given a point for the working shown.
    review(out, {tests[0]: 1}, "bob", unflag=False)
    after_review = gradebook_state(out)
    grade(ROOT, submissions, out, Settings(jobs=1, timeout=TIMEOUT))
    after_rerun = gradebook_state(out)
    # bob hands in a solved notebook, and the class is graded again.
    write(solved(), submissions / "bob" / NOTEBOOK)
    grade(ROOT, submissions, out, Settings(jobs=1, timeout=TIMEOUT))
    return {
        "tests": tests,
        "first": first,
        "after_review": after_review,
        "after_rerun": after_rerun,
        "changed": gradebook_state(out),
    }


def test_the_first_run_asks_for_the_review(reviewed):
    first, tests = reviewed["first"], reviewed["tests"]
    assert first[("cy", "flagged")] and not first[("ada", "flagged")]
    assert all(first[("cy", t)] == (None, None, True) for t in tests)
    assert all(first[("bob", t)] == (0, None, False) for t in tests)
    assert sum(first[("ada", t)][0] for t in tests) == 10


def test_a_rerun_keeps_the_instructors_review(reviewed):
    """Scores, the tests graded by hand, the flag taken down and the comment all stay."""
    after = reviewed["after_review"]
    assert after[("cy", "flagged")] is False
    comments = [v for k, v in after.items() if k[0] == "cy" and k[-1] == "comment"]
    assert comments == ["see me"]
    assert reviewed["after_rerun"] == after


def test_a_changed_automatic_score_asks_again_about_a_manual_one(reviewed):
    """bob's new notebook passes every test: the one test graded by hand is marked for
    manual grading again, since its manual score (counted instead of the automatic one)
    was given for the blank notebook; the others just take their new scores."""
    changed, tests = reviewed["changed"], reviewed["tests"]
    first, *rest = tests
    assert changed[("bob", first)] == (changed[("ada", first)][0], 1, True)
    assert all(changed[("bob", t)][1:] == (None, False) for t in rest)
    assert [changed[("bob", t)][0] for t in tests] == [changed[("ada", t)][0] for t in tests]
    assert changed[("bob", "flagged")] is False  # graded, so not flagged
    for key, value in reviewed["after_review"].items():
        if key[0] != "bob":
            assert changed[key] == value, key
