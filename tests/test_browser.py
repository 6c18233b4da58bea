"""The views in a real browser: JupyterLab on localhost, headless Chromium driven by Playwright.

Lesson 03's solution notebook is run in JupyterLab; its graph view must render the SVG with the
example's labels, and "step" and the slider must move the highlight.  Lesson 05's playground
must draw a growing loss curve when "train" is pressed.  Screenshots go to the directory named
by ``MINIGRAD_ARTIFACTS`` (a fresh temporary directory otherwise); their paths are printed.

Needs Debian's ``chromium`` package (``.ci/run`` installs it; Playwright's own browser download
is not used) and the ``playwright`` Python package (in the dev extra); skipped otherwise.
The server and the browser come from tests/jupyter_lab.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from jupyter_lab import (
    chromium,
    quiet_settings,
    require_browser,
    running_lab,
    screenshot_folder,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a folder with copies of the lessons, on a free port, with a token."""
    require_browser()
    home = tmp_path_factory.mktemp("lab")
    notebooks = home / "notebooks"
    notebooks.mkdir()
    for lesson in ("03_backward", "05_neural_net"):
        shutil.copy(ROOT / "solutions" / lesson / f"{lesson}.ipynb", notebooks)
    quiet_settings(home)
    with running_lab(home, notebooks) as server:
        yield server


@pytest.fixture(scope="module")
def browser(lab):
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return screenshot_folder(tmp_path_factory)


def open_and_run(browser, lab, notebook: str):
    """A page with ``notebook`` open in JupyterLab and all its cells sent to the kernel."""
    base, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    # a workspace of its own, reset: only this notebook open, whatever ran before
    workspace = notebook.split(".")[0]
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
    page.wait_for_function(
        """path => {
            const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const kernel = panel && panel.context && panel.context.path === path
                && panel.sessionContext.session && panel.sessionContext.session.kernel;
            return kernel && kernel.status === "idle";
        }""",
        arg=notebook,
        timeout=90_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    return page


def current(page) -> str:
    return page.get_attribute(".mg-graph-view svg.mg-graph", "data-current")


def wait_for_info(page, text: str) -> None:
    """Wait until the text beside the graph says ``text``: it is a widget of its own,
    redrawn just after the picture, so it can lag the picture's highlight."""
    page.wait_for_function(
        "text => document.querySelector('.mg-graph-view .mg-info').innerText.includes(text)",
        arg=text,
        timeout=30_000,
    )


def test_lesson_03_graph_steps_through_backward_in_jupyterlab(browser, lab, shots):
    page = open_and_run(browser, lab, "03_backward.ipynb")
    view = page.locator(".mg-graph-view").first
    view.wait_for(timeout=120_000)
    view.scroll_into_view_if_needed()
    svg = view.locator("svg.mg-graph")
    for label in "abcdf":
        assert svg.locator(f'g.mg-node[data-label="{label}"]').count() == 1
    assert "data 24" in svg.inner_html() and current(page) == ""  # frame 0: before backward

    step = view.locator("button", has_text="step ▶")
    step.click()  # the seed
    page.wait_for_function(
        "() => document.querySelector('.mg-graph-view svg.mg-graph').dataset.current === 'f'"
    )
    assert svg.locator("g.mg-node.mg-current").get_attribute("data-label") == "f"
    step.click()  # f passes its gradient to d and c
    step.click()  # d passes its gradient on
    page.wait_for_function(
        "() => document.querySelector('.mg-graph-view svg.mg-graph').dataset.current === 'd'"
    )
    receivers = sorted(
        g.get_attribute("data-label") for g in svg.locator("g.mg-node.mg-receiver").all()
    )
    assert receivers == ["a", "c"]
    wait_for_info(page, "d = c + a")
    assert "d = c + a" in view.locator(".mg-info").inner_text()
    view.screenshot(path=str(shots / "03_graph_step_d.png"))

    # the slider, moved from the keyboard, moves the highlight too
    view.locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.mg-graph-view svg.mg-graph').dataset.current === 'c'"
    )
    wait_for_info(page, "(-3) \u00d7 (-10) = 30")
    assert "(-3) \u00d7 (-10) = 30" in view.locator(".mg-info").inner_text()
    view.screenshot(path=str(shots / "03_graph_step_c.png"))
    page.screenshot(path=str(shots / "03_page.png"))
    print("screenshots:", *sorted(str(p) for p in shots.glob("03_*.png")))
    page.close()


def test_lesson_05_playground_grows_its_loss_curve(browser, lab, shots):
    page = open_and_run(browser, lab, "05_neural_net.ipynb")
    view = page.locator(".mg-playground").first
    try:
        view.wait_for(timeout=180_000)
    except Exception:
        page.screenshot(path=str(shots / "05_failed.png"), full_page=True)
        raise
    view.scroll_into_view_if_needed()
    curves = view.locator("svg.mg-lossplot")
    assert curves.get_attribute("data-steps") == "0"
    view.locator("button.mg-train").click()

    def steps_drawn() -> int:
        return int(page.get_attribute(".mg-playground svg.mg-lossplot", "data-steps"))

    page.wait_for_function(
        "() => +document.querySelector('.mg-playground svg.mg-lossplot').dataset.steps > 0",
        timeout=60_000,
    )
    first = steps_drawn()
    page.wait_for_function(
        f"() => +document.querySelector('.mg-playground svg.mg-lossplot').dataset.steps > {first}",
        timeout=60_000,
    )
    page.wait_for_function(
        "() => +document.querySelector('.mg-playground svg.mg-lossplot').dataset.steps >= 300",
        timeout=120_000,
    )
    assert view.locator('polyline[data-name="loss"]').count() >= 1
    assert "accuracy" in view.locator("span.mg-status").inner_text()
    view.screenshot(path=str(shots / "05_playground.png"))
    print("screenshots:", *sorted(str(p) for p in shots.glob("05_*.png")))
    page.close()
