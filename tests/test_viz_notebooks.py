"""The views in executed notebooks, without a browser: nbclient runs the lessons (as nbgrader
does) and keeps the widgets' state, which must hold the pictures; a loss plot leaves exactly
one output, its final picture."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def execute(nb, path: Path):
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(path)}},
    )
    client.execute()
    return nb


def run_lesson(lesson: str):
    path = ROOT / "solutions" / lesson
    return execute(nbformat.read(str(path / f"{lesson}.ipynb"), as_version=4), path)


def cell(nb, cell_id: str):
    return next(c for c in nb.cells if c.id == cell_id)


def widget_states(nb, cell_id: str) -> list[list[dict]]:
    """For each widget the cell shows, the states of it and of all the widgets inside it."""
    states = nb.metadata["widgets"][WIDGET_STATE]["state"]
    found = []
    for output in cell(nb, cell_id).outputs:
        if WIDGET_VIEW not in output.get("data", {}):
            continue
        todo, seen = [output["data"][WIDGET_VIEW]["model_id"]], []
        while todo:
            model = states[todo.pop()]
            seen.append(model)
            for child in model["state"].get("children", []):
                todo.append(child.removeprefix("IPY_MODEL_"))
        found.append(seen)
    return found


def html_with(models: list[dict], css_class: str) -> str:
    (model,) = [m for m in models if css_class in m["state"].get("_dom_classes", [])]
    return model["state"]["value"]


def svg_in_img(html: str) -> str:
    return base64.b64decode(re.search(r'base64,([^"]+)', html).group(1)).decode()


def test_a_loss_plot_leaves_exactly_one_output_its_final_picture(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from minigrad.viz import LossPlot"),
        nbformat.v4.new_code_cell(
            "plot = LossPlot('nbclient', every=0)  # redraw at every update\n"
            "for step in range(300):\n"
            "    plot.update(1 / (step + 1), accuracy=step / 300)"
        ),
        nbformat.v4.new_code_cell(
            "with LossPlot(every=0) as plot:\n"
            "    for step in range(50):\n"
            "        plot.update(0.9**step)\n"
            "print('trained')"
        ),
    ]
    execute(nb, tmp_path)
    outputs = nb.cells[1].outputs
    assert len(outputs) == 1 and outputs[0].output_type == "display_data"
    svg = svg_in_img(outputs[0].data["text/html"])
    assert 'data-steps="300"' in svg and "step 299" in svg
    assert "LossPlot(nbclient: step 299" in outputs[0].data["text/plain"]
    kinds = [o.output_type for o in nb.cells[2].outputs]
    assert kinds == ["display_data", "stream"]
    assert 'data-steps="50"' in svg_in_img(nb.cells[2].outputs[0].data["text/html"])


def test_lesson_01_shows_the_explorer():
    nb = run_lesson("01_derivatives")
    (explorer,) = widget_states(nb, "explorer")
    values = " ".join(str(m["state"].get("value", "")) for m in explorer)
    assert 'class="mg-explorer-picture"' in values and "exact derivative" in values


def test_lesson_02_replays_the_students_walk():
    nb = run_lesson("02_value")
    (view,) = widget_states(nb, "f01986c7")
    svg = html_with(view, "mg-picture")
    for label in "abcdefL":
        assert f'data-label="{label}"' in svg
    info = html_with(view, "mg-info")
    assert "Before backward()" in info and "differ" not in info
    (first,) = widget_states(nb, "6d2ef51e")  # before any backward pass
    assert "No gradients yet" in html_with(first, "mg-info")


def test_lesson_03_steps_through_the_example():
    nb = run_lesson("03_backward")
    (view,) = widget_states(nb, "a5606a31")
    svg = html_with(view, "mg-picture")
    for label in "abcdf":
        assert f'data-label="{label}"' in svg
    for text in ("data 2", "data -3", "data -6", "data -4", "data 24"):
        assert text in svg
    (slider,) = [m for m in view if m["model_name"] == "IntSliderModel"]
    assert slider["state"]["max"] == 7 and slider["state"]["value"] == 0
    static = cell(nb, "a5606a31").outputs[0].data["text/html"]
    assert 'data-label="a"' in svg_in_img(static)  # for nbgrader's feedback pages


def test_lesson_04_draws_the_worked_example_and_both_branches():
    nb = run_lesson("04_more_ops")
    (view,) = widget_states(nb, "more-ops-47")
    svg = html_with(view, "mg-picture")
    assert "grad 1" in svg and 'data-label="a"' in svg and "tanh" in svg
    (pair,) = widget_states(nb, "more-ops-51")
    pictures = [
        m["state"]["value"] for m in pair if "mg-picture" in m["state"].get("_dom_classes", [])
    ]
    # x = 0.5 ran the relu branch, x = -0.5 the other one
    assert sorted(">relu<" in svg for svg in pictures) == [False, True]


def test_lesson_05_plots_the_training_and_shows_the_playground():
    nb = run_lesson("05_neural_net")
    displays = [o for o in cell(nb, "train").outputs if o.output_type == "display_data"]
    assert len(displays) == 1
    assert 'data-steps="30"' in svg_in_img(displays[0].data["text/html"])
    (playground,) = widget_states(nb, "playground")
    values = " ".join(str(m["state"].get("value", "")) for m in playground)
    assert 'class="mg-boundary"' in values and 'class="mg-lossplot"' in values
