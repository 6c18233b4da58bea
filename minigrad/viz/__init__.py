"""Seeing backprop: notebook views of computation graphs, backward passes and training.

Everything here draws SVG computed in Python, so it needs no Graphviz and no JavaScript of
its own: ipywidgets 8 shows it in JupyterLab, and a notebook executed without a browser
(nbclient, nbgrader) keeps a static picture of each view.

* ``graph(root)``: the computation graph of a ``Value`` or a ``Tensor``, with a
  step-through of its backward pass (``graph.py``; lessons 02 to 04).
* ``LossPlot``: a loss (and accuracy) curve that a training loop updates in place
  (``losses.py``; lessons 05 and 07).
* ``playground()``: train a small network on moons, circles or spirals and watch its
  decision boundary and loss move (``playground.py``; lessons 05 and 07).
* ``explorer()``: finite differences with a step-size slider: secant against tangent, error
  against step size (``explorer.py``; lesson 01).

``import minigrad.viz`` is cheap: each view, and ipywidgets with it, is imported the first
time it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["graph", "GraphView", "LossPlot", "playground", "Playground", "explorer", "Explorer"]

_HOME = {
    "graph": "graph",
    "GraphView": "graph",
    "LossPlot": "losses",
    "playground": "playground",
    "Playground": "playground",
    "explorer": "explorer",
    "Explorer": "explorer",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        module = importlib.import_module(f"{__name__}.{_HOME[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
