"""Feedback without hidden tests (minigrad_course/grading/feedback.py), on hand-made notebooks."""

from __future__ import annotations

import re

import nbformat
import pytest
from grading_class import LESSON, ROOT, TOPIC, cell, read, solved
from nbconvert.exporters import HTMLExporter

from minigrad_course.grading import feedback
from minigrad_course.grading.results import NotebookResult, ScoredTest

FD_TEST = f"{TOPIC}_forward_difference_test"
SECRET = "check_close(forward_difference(math.exp, 0.0, 1e-7), 1.0, 'exp', 'hidden hint')"


def _autograded():
    """lesson 01 as nbgrader leaves it: test cells with a hidden test, one failing with a
    traceback that quotes it, and a student cell that printed the test's source."""
    nb = solved()
    test = cell(nb, FD_TEST)
    test.source += f"\n### BEGIN HIDDEN TESTS\n{SECRET}\n### END HIDDEN TESTS"
    test.execution_count = 7
    test.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="forward_difference(exp) is 2.0, expected 1.0: <b>check the step</b>",
            traceback=[
                "\x1b[0;31m----------\x1b[0m",
                "\x1b[0;31mAssertionError\x1b[0m    Traceback (most recent call last)",
                f"Cell \x1b[0;32mIn[7], line 40\x1b[0m\n---> 40 {SECRET}\n",
                "Cell \x1b[0;32mIn[6], line 9\x1b[0m, in forward_difference(f, x, h)\n"
                "----> 9     return (f(x + h) - f(x)) / h / 0.5\n",
                "\x1b[0;31mAssertionError\x1b[0m: forward_difference(exp) is 2.0",
            ],
        )
    ]
    printer = nbformat.v4.new_code_cell("print(In[-2])")
    printer.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"x = 1\n{SECRET}\n")]
    nb.cells.insert(nb.cells.index(test) + 1, printer)
    return nb


def _result(status="graded"):
    tests = [ScoredTest(FD_TEST, 0.0, 1.0), ScoredTest(f"{TOPIC}_central_difference_test", 2, 2)]
    return NotebookResult("alice", LESSON, LESSON, status, "", 3.0, tests)


def test_hidden_lines_are_the_hidden_tests_not_seen_elsewhere():
    source = read("solutions")
    released = read("course")
    visible = "\n".join(c.source for c in released.cells)
    hidden = feedback.hidden_lines(source, visible)
    assert hidden and all(line not in visible for line in hidden)
    assert all(len(line) >= feedback.HIDDEN_MIN_LENGTH for line in hidden)
    assert 'check_own_work(forward_difference, "forward_difference")' in hidden


def test_solution_lines_are_kept_out_too():
    """A student's cell can read the instructor's notebook from disk and print it: the lines
    of its solutions are blanked like those of hidden tests."""
    source = read("solutions")
    visible = "\n".join(c.source for c in read("course").cells)
    hidden = feedback.hidden_lines(source, visible)
    solution = feedback.notebooks.marked_regions(
        cell(source, f"{TOPIC}_forward_difference").source, feedback.notebooks.SOLUTION_MARKERS
    )[0]
    long_lines = [line.strip() for line in solution.splitlines() if len(line.strip()) >= 10]
    assert long_lines and all(line in hidden for line in long_lines)
    assert "### BEGIN SOLUTION" in hidden
    printed = "".join(f"{line}\n" for line in ["### BEGIN SOLUTION", *long_lines])
    assert "removed here" in feedback.blank_hidden(printed, hidden)
    assert not any(line in feedback.blank_hidden(printed, hidden) for line in long_lines)


def test_the_student_view_has_no_hidden_test_anywhere():
    view = feedback.student_view(_autograded(), read("course"), [SECRET], _result(), 10)
    text = nbformat.writes(view)
    assert SECRET not in text
    assert "BEGIN HIDDEN TESTS" not in text
    shown = cell(view, FD_TEST)
    assert shown.source == cell(read("course"), FD_TEST).source
    (error,) = shown.outputs
    frames = "".join(error.traceback)
    assert "In[7]" not in frames  # the test's own frame is gone
    assert "return (f(x + h) - f(x)) / h / 0.5" in frames  # the student's frame stays
    assert "the test's own lines are not shown" in frames
    assert error.evalue.startswith("forward_difference(exp) is 2.0")


def test_printed_hidden_lines_are_blanked_and_the_rest_kept():
    view = feedback.student_view(_autograded(), read("course"), [SECRET], _result(), 10)
    printer = next(c for c in view.cells if c.source == "print(In[-2])")
    assert printer.outputs[0].text == (
        "x = 1\n[a line of a hidden test or a solution was removed here]\n"
    )


def test_the_summary_names_each_test_with_points_and_an_escaped_message():
    view = feedback.student_view(_autograded(), read("course"), [SECRET], _result(), 10)
    summary = view.cells[0]
    assert summary.cell_type == "markdown"
    assert "<h3>Score: 2 / 3</h3>" in summary.source
    assert f"<code>{FD_TEST}</code></td><td>0 / 1</td><td>failed" in summary.source
    assert "&lt;b&gt;check the step&lt;/b&gt;" in summary.source  # no HTML from a student
    assert "<td>2 / 2</td><td>passed" in summary.source


def test_crashed_and_timeout_notebooks_say_so():
    crashed = feedback.summary_html(_result("crashed"), {}, 10)
    assert "could not be graded" in crashed and "kernel" in crashed
    assert "Score" not in crashed
    late = feedback.summary_html(_result("timeout"), {}, 10)
    assert "time limit of 10 s" in late
    page = "<h4>01_derivatives (Score: 3.0 / 10.0)</h4>"
    assert feedback.mark_not_graded(page, "the kernel died") == (
        "<h4>01_derivatives (not graded: the kernel died)</h4>"
    )


def test_huge_outputs_are_cut_to_a_readable_size():
    nb = solved()
    noisy = nbformat.v4.new_code_cell("print('x' * 10**6)")
    noisy.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 10**6),
        nbformat.v4.new_output("display_data", data={"image/png": "A" * 3_000_000}),
    ]
    nb.cells.append(noisy)
    view = feedback.student_view(nb, read("course"), [], _result(), 10)
    text, image = view.cells[-1].outputs
    assert len(text.text) < feedback.MAX_TEXT + 100 and "more characters not shown" in text.text
    assert image.data["image/png"] == ""
    assert "removed" in image.data["text/plain"]


def test_leaks_are_found_through_syntax_highlighting():
    page = '<span class="n">check_close</span><span class="p">(</span>forward_difference'
    assert feedback.html_text(page) == "check_close(forward_difference"
    assert feedback.leaks(feedback.html_text(page), ["check_close(forward"]) == [
        "check_close(forward"
    ]
    assert feedback.leaks("&lt;nothing&gt;", ["check_close("]) == []


def test_the_missing_notebook_page_escapes_its_detail():
    result = NotebookResult("bob", LESSON, LESSON, "invalid", "malformed <JSON>", 10.0)
    page = feedback.page(result, f"{LESSON}/{LESSON}")
    assert "not graded (invalid)" in page and "malformed &lt;JSON&gt;" in page
    assert "Points possible: 10" in page
    assert (ROOT / "course" / LESSON).is_dir()


# ---------------------------------------------------------------------- the exporter


def _with_pictures():
    """Lesson 01 with a picture, an error and an HTML output."""
    nb = _autograded()
    picture = nbformat.v4.new_code_cell("plot()")
    picture.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}),
        nbformat.v4.new_output(
            "display_data", data={"text/html": '<img src="x.png" alt="a plot"><b>bold</b>'}
        ),
    ]
    nb.cells.append(picture)
    return nb


def _rendered(exporter_class, template: str, nb) -> str:
    page, _ = exporter_class(template_name=template).from_notebook_node(nb)
    return page


def _pre_blocks(page: str) -> list[str]:
    return [feedback.html_text(m) for m in re.findall(r"<pre[^>]*>(.*?)</pre>", page, re.S)]


@pytest.mark.parametrize("template", ["classic", "lab"])
def test_the_feedback_exporter_renders_what_nbconverts_html_exporter_does(template):
    """The same page as HTMLExporter, which re-prints its output through BeautifulSoup:
    the same text (BeautifulSoup changes only whitespace between tags), the same code and
    output blocks character for character, and the same two edits: alternative text for
    images that have none, and focusable input and output areas."""
    nb = _with_pictures()
    feedback._HIGHLIGHTED.clear()
    ours = _rendered(feedback.FeedbackExporter, template, nb)
    assert feedback._HIGHLIGHTED, "the highlighted code was not remembered"
    assert _rendered(feedback.FeedbackExporter, template, nb) == ours  # from what it remembered
    theirs = _rendered(HTMLExporter, template, nb)
    assert " ".join(feedback.html_text(ours).split()) == " ".join(
        feedback.html_text(theirs).split()
    )
    assert _pre_blocks(ours) == _pre_blocks(theirs)
    for page in (ours, theirs):
        images = re.findall(r"<img\b[^>]*>", page)
        assert len(images) == 2, images
        assert all("alt=" in tag for tag in images), images
        assert 'alt="a plot"' in page
    focusable = [len(re.findall(r'<div[^>]*tabindex="0"', page)) for page in (ours, theirs)]
    assert focusable[0] == focusable[1]
    if template == "lab":
        assert focusable[0] > 0


def test_remembered_highlighting_is_bounded(monkeypatch):
    """A class's own code, or a submission of huge cells, must not fill the grader's memory."""
    from nbconvert.filters.highlight import Highlight2HTML

    feedback._HIGHLIGHTED.clear()
    remember = feedback._RememberedHighlighting(Highlight2HTML())
    huge = "x = 1\n" * 5000  # 30,000 characters
    assert remember(huge) == Highlight2HTML()(huge)
    assert not feedback._HIGHLIGHTED, "a huge cell was remembered"
    monkeypatch.setattr(feedback._RememberedHighlighting, "LIMIT", 2000)
    for i in range(50):
        assert remember(f"y = {i}\n") == Highlight2HTML()(f"y = {i}\n")
    assert 0 < feedback._HIGHLIGHTED.size <= 2000
    assert feedback._HIGHLIGHTED.size == sum(map(len, feedback._HIGHLIGHTED.values()))
    feedback._HIGHLIGHTED.clear()
