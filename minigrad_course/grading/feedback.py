"""Feedback a student may keep: every test's name, points and failure message, no hidden test.

nbgrader's ``generate_feedback`` renders the autograded notebook, and the autograded
notebook is the instructor's: its test cells hold the hidden tests, and a failing test's
traceback quotes the lines around the failure, hidden assertions included.  So the
notebook given to ``generate_feedback`` is a student's view of it:

- each test cell shows its released source, without the hidden tests;
- a traceback loses the frames that sit in a test cell (the test's own lines) and keeps the
  frames in the student's code and in minigrad, so the student still sees where their code
  failed; the failure message itself (``check_close``'s sentence) stays;
- any output line that quotes a hidden-test line (a student's cell may print ``In[-2]``) is
  blanked, and outputs are cut to a readable size;
- a table at the top lists every test: name, points earned and possible, and the message.

After rendering, the page's visible text is searched for every hidden-test line once more
(``leaks``); a page that shows one is withheld.  ``give_feedback`` is this step for one
submission, in that order; a notebook with nothing to render (invalid, missing) gets a page
that says why.

The page is rendered by ``FeedbackExporter``: nbconvert's HTML exporter (with nbgrader's
feedback template, as ``generate_feedback`` configures it) minus a round trip through
BeautifulSoup that took two thirds of the rendering time.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

from .. import notebooks
from .collect import Unit
from .out import submission_files, write_file
from .results import CRASHED, INVALID, MISSING, TAMPERED, TIMEOUT, NotebookResult, joined
from .run.execute import KERNEL_DIED, NOT_RUN

if TYPE_CHECKING:  # nbgrader_setup.py imports this module, for FeedbackExporter
    from .nbgrader_setup import Workspace

HIDDEN_MIN_LENGTH = 10  # shorter hidden lines (``x = 3``) give nothing away
MAX_TEXT = 20_000  # characters of one output shown in feedback
MAX_DATA = 2_000_000  # bytes of one image or rich output
MAX_MESSAGE = 400
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"^\s*(?:Cell\s+)?In\s*\[(\d+)\]")
_BLANKED = "[a line of a hidden test or a solution was removed here]"
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)(?=[\s>/])", re.IGNORECASE)
_FOCUSABLE = re.compile(
    r'<div(?![^>]*\btabindex=)(?=[^>]*\bclass="[^"]*\b(?:jp-Cell-inputWrapper|'
    r"jp-OutputArea-output)\b)",
)
NO_ALT_TEXT = "No description has been provided for this image"


def give_feedback(unit: Unit, results: dict[str, NotebookResult], workspace: Workspace) -> None:
    """A page for each notebook of ``unit`` in the staging folder's ``feedback/``, and the
    autograded notebooks they come from in its ``autograded/``, for the instructor."""
    student, assignment = unit.key
    autograded, pages, _ = submission_files(workspace.options.staging, unit)
    rendered = {name: r for name, r in results.items() if r.status not in (INVALID, MISSING)}
    hidden = {
        name: _student_view(unit, name, result, workspace, autograded)
        for name, result in rendered.items()
    }
    if rendered:
        workspace.api.generate_feedback(assignment, student, force=True)
    for name, result in rendered.items():
        _keep_page(unit, name, result, hidden[name], workspace, pages)
    for file in unit.exchange if rendered else ():  # for nbgrader release_feedback
        shutil.copyfile(unit.folder / file, pages / file)
    for name, result in results.items():
        if result.status in (INVALID, MISSING):
            write_file(pages / f"{name}.html", page(result, f"{assignment}/{name}"))


def _student_view(
    unit: Unit, name: str, result: NotebookResult, workspace: Workspace, kept: Path
) -> list[str]:
    """Keep the autograded notebook for the instructor (in ``kept``), then put the student's
    view in its place for generate_feedback; the hidden-test lines to keep out of the page."""
    autograded = workspace.path("autograded", unit, name, ".ipynb")
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(autograded, kept / f"{name}.ipynb")

    submitted = workspace.path("submitted", unit, name, ".ipynb")
    own = "\n".join(c.source for c in notebooks.read(submitted).cells)
    hidden = [h for h in workspace.hidden(unit.assignment, name) if h not in own]
    view = student_view(
        notebooks.read(autograded),
        workspace.released(unit.assignment, name),
        hidden,
        result,
        workspace.options.timeout,
    )
    os.chmod(autograded, stat.S_IRUSR | stat.S_IWUSR)  # nbgrader leaves it read-only
    nbformat.write(view, str(autograded))
    return hidden


def hidden_lines(source: nbformat.NotebookNode, visible: str) -> list[str]:
    """Lines of the hidden tests and of the solutions in ``source`` worth hiding: long enough
    to tell anything, and not also somewhere the student can see them (``visible``).

    Solutions count too: student code can read the instructor's notebooks from disk and
    print them.  (A student's own line that happens to equal a solution line is theirs to
    see: the caller leaves out lines of the student's own notebook.)
    """
    # even that there are hidden tests is the instructor's; so are the solution markers
    lines = set(notebooks.HIDDEN_TEST_MARKERS + notebooks.SOLUTION_MARKERS)
    for cell in source.cells:
        regions = notebooks.marked_regions(cell.source, notebooks.HIDDEN_TEST_MARKERS)
        regions += notebooks.marked_regions(cell.source, notebooks.SOLUTION_MARKERS)
        for region in regions:
            for line in region.splitlines():
                line = line.strip()
                if len(line) >= HIDDEN_MIN_LENGTH and line not in visible:
                    lines.add(line)
    return sorted(lines)


def student_view(
    autograded: nbformat.NotebookNode,
    released: nbformat.NotebookNode,
    hidden: list[str],
    result: NotebookResult,
    timeout: int | None,
) -> nbformat.NotebookNode:
    """The autograded notebook as the student may see it, with a summary table on top."""
    nb = nbformat.from_dict(autograded)
    released_tests = {_grade_id(c): c for c in released.cells if notebooks.is_test(c)}
    test_counts = {
        c.execution_count for c in nb.cells if notebooks.is_test(c) and c.get("execution_count")
    }
    messages: dict[str, str] = {}
    for cell in nb.cells:
        if notebooks.is_test(cell):
            original = released_tests.get(_grade_id(cell))
            cell.source = original.source if original is not None else "# (test not shown)"
            messages[_grade_id(cell)] = _failure(cell, hidden)
        if cell.cell_type == "code":
            cell.outputs = [_clean_output(o, hidden, test_counts) for o in cell.outputs]
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(summary_html(result, messages, timeout)))
    return nb


def summary_html(result: NotebookResult, messages: dict[str, str], timeout: int | None) -> str:
    """The table at the top of the feedback, in HTML (every piece of text escaped)."""
    e = html.escape
    if result.score is None:
        headline = "This notebook could not be graded"
    else:
        headline = f"Score: {result.score:g} / {result.max_score:g}"
    notes = {
        TAMPERED: (
            "The notebook had changed its tests or what they rely on; the released tests "
            "were put back and run as written."
        ),
        TIMEOUT: "A cell ran past the time limit"
        + (f" of {timeout} s" if timeout else "")
        + "; the notebook was graded with what finished.",
        CRASHED: "The kernel running this notebook died, so it has no score; your "
        "instructor will look at it.",
    }
    rows = []
    for test in result.tests:
        message = messages.get(test.name, "")
        outcome = "passed" if test.score >= test.max_score and not message else "failed"
        if message.startswith((NOT_RUN, "CellTimeoutError", KERNEL_DIED)):
            outcome = "not finished"
        rows.append(
            f"<tr><td><code>{e(test.name)}</code></td><td>{test.score:g} / {test.max_score:g}"
            f"</td><td>{outcome}</td><td>{e(message)}</td></tr>"
        )
    parts = [f"<h3>{e(headline)}</h3>"]
    if result.status in notes:
        parts.append(f"<p><b>{e(notes[result.status])}</b> {e(result.detail)}</p>")
    parts.append(
        "<table><thead><tr><th>test</th><th>points</th><th>result</th><th>message</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    return "\n".join(parts)


def _failure(cell, hidden: list[str]) -> str:
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    if not errors:
        return ""
    last = errors[-1]
    text = f"{last.ename}: {plain(last.evalue)}" if last.evalue else last.ename
    text = blank_hidden(text, hidden).strip()
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


def _clean_output(output, hidden: list[str], test_counts: set[int]):
    output = nbformat.from_dict(output)
    if output.output_type == "error":
        frames = [f for f in output.traceback if not _in_test_cell(f, test_counts)]
        if len(frames) < len(output.traceback):
            frames.insert(min(2, len(frames)), "(the test's own lines are not shown)")
        output.traceback = [_cut(blank_hidden(f, hidden)) for f in frames]
        output.evalue = _cut(blank_hidden(output.evalue, hidden))
    elif output.output_type == "stream":
        output.text = _cut(blank_hidden(output.text, hidden))
    else:
        data = output.get("data", {})
        for mime in list(data):
            value = data[mime]
            if isinstance(value, str):
                if mime.startswith("text/") or mime.endswith(("json", "javascript")):
                    data[mime] = _cut(blank_hidden(value, hidden))
                elif len(value) > MAX_DATA:
                    data[mime] = ""
                    data["text/plain"] = f"[{mime} output of {len(value) // 1000} kB removed]"
    return output


def _in_test_cell(frame: str, test_counts: set[int]) -> bool:
    match = _CELL_FRAME.match(plain(frame))
    return bool(match) and int(match[1]) in test_counts


def _cut(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n[... {len(text) - MAX_TEXT} more characters not shown]\n"


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def plain(text: str) -> str:
    return _ANSI.sub("", text)


def blank_hidden(text: str, hidden: list[str]) -> str:
    """``text`` with every line that quotes a hidden-test line replaced by a note."""
    if not hidden or not text:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        bare = plain(line)
        if any(h in bare for h in hidden):
            out.append(_BLANKED + ("\n" if line.endswith("\n") else ""))
        else:
            out.append(line)
    return "".join(out)


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter, minus its BeautifulSoup round trip.

    After rendering its template, ``HTMLExporter`` parses the whole page with BeautifulSoup
    to give images without alternative text a placeholder one and to make input and output
    areas focusable, then prints the page again.  For a lesson's feedback (a megabyte of
    HTML with thousands of highlighted tokens) that round trip costs twice as much as the
    rendering itself, and grading a class renders one page per notebook.  The same two
    edits are made here on the rendered text, by pattern.

    The steps before the rendering are ``HTMLExporter.from_notebook_node``'s own (tested
    against it in tests/test_grading_feedback.py, so a change in nbconvert shows).
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        highlight_code = self.filters.get(
            "highlight_code",
            _RememberedHighlighting(Highlight2HTML(pygments_lexer=lexer, parent=self)),
        )
        resources = self._init_resources(resources)
        data_types = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", data_types)
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        page = _IMG_WITHOUT_ALT.sub(f'<img alt="{NO_ALT_TEXT}"', page)
        return _FOCUSABLE.sub('<div tabindex="0"', page), resources


class _RememberedHighlighting:
    """nbconvert's code highlighter, remembering the code it has highlighted.

    Every submission of a lesson holds the same given code and tests, and pygments takes a
    few milliseconds a cell, so one grading process highlights each cell once.  The key is
    everything the highlighted HTML depends on.  What is remembered is bounded in size, so
    that a class's own code (or a submission of megabyte cells) cannot fill the grader's
    memory: long cells are not remembered, and past the limit the memory starts again.
    """

    LONGEST = 20_000  # characters of a cell worth remembering
    LIMIT = 50_000_000  # characters of highlighted HTML remembered in all

    def __init__(self, highlighter: Highlight2HTML):
        self.highlighter = highlighter

    def __call__(self, source: str, language: str | None = None, metadata=None) -> str:
        if len(source) > self.LONGEST:
            return self.highlighter(source, language, metadata)
        options = repr(sorted(self.highlighter.extra_formatter_options.items()))
        magics = metadata.get("magics_language") if metadata else None
        key = (self.highlighter.pygments_lexer, options, language, magics, source)
        if key not in _HIGHLIGHTED:
            highlighted = self.highlighter(source, language, metadata)
            if _HIGHLIGHTED.size + len(highlighted) > self.LIMIT:
                _HIGHLIGHTED.clear()
            _HIGHLIGHTED[key] = highlighted
            _HIGHLIGHTED.size += len(highlighted)
        return _HIGHLIGHTED[key]


class _Remembered(dict):
    """Highlighted cells by key, and their total size in characters."""

    size = 0

    def clear(self) -> None:
        super().clear()
        self.size = 0


_HIGHLIGHTED = _Remembered()


def _keep_page(
    unit: Unit,
    name: str,
    result: NotebookResult,
    hidden: list[str],
    workspace: Workspace,
    pages: Path,
) -> None:
    """The page nbgrader rendered, into ``pages`` for the student, unless it shows a hidden
    test."""
    rendered = workspace.path("feedback", unit, name, ".html")
    target = pages / f"{name}.html"
    title = f"{unit.assignment}/{name}"
    if not rendered.is_file():
        result.detail = joined(result.detail, "no feedback: nbgrader generate_feedback failed")
        write_file(target, page(result, title))
        return
    text = rendered.read_text(encoding="utf-8")
    if result.status == CRASHED:
        text = mark_not_graded(text, "the kernel died")
    if leaks(html_text(text), hidden):
        result.detail = joined(result.detail, "feedback withheld: it would show a hidden test")
        text = page(result, title)
    write_file(target, text)


def html_text(page: str) -> str:
    """What a reader of the page sees as text: tags dropped, entities decoded.  Syntax
    highlighting splits code into many tags, so searching the raw HTML would miss a leak."""
    return html.unescape(re.sub(r"<[^>]*>", "", page))


def leaks(text: str, hidden: list[str]) -> list[str]:
    return [h for h in hidden if h in text]


def mark_not_graded(page_html: str, reason: str) -> str:
    """nbgrader's feedback heading shows "(Score: x / y)"; a crashed notebook has none."""
    return re.sub(
        r"(<h4>[^<]*?)\(Score: [^)]*\)",
        lambda m: m.group(1) + f"(not graded: {html.escape(reason)})",
        page_html,
        count=1,
    )


def page(result: NotebookResult, title: str) -> str:
    """A page for a notebook with nothing to render (missing, invalid)."""
    e = html.escape
    return (
        '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8" />'
        f"<title>{e(title)}</title></head>\n<body>\n"
        f"<h3>{e(title)}: not graded ({e(result.status)})</h3>\n<p>{e(result.detail)}</p>\n"
        f"<p>Points possible: {result.max_score:g}. Ask your instructor if this is wrong.</p>\n"
        "</body>\n</html>\n"
    )
