"""A live loss (and accuracy) curve for a training loop, at negligible cost to the loop.

    from minigrad.viz import LossPlot

    plot = LossPlot("moons, MLP(2, [16, 16, 1])")
    for step in range(200):
        ...                                   # forward, backward, update
        plot.update(loss.item(), accuracy=acc)

The curve appears under the cell at the first ``update`` and redraws in place while the loop
runs, at most every ``every`` seconds (a quarter of a second by default): an ``update`` in
between only appends its numbers, about a microsecond (``benchmarks/bench_viz.py`` measures
it), against the tenth of a millisecond and more of even a small training step.  When the
cell finishes, the plot is drawn once more with every point.  Use it as a context manager
(``with LossPlot() as plot: ...``) to draw the final picture at the end of the block
instead, or call ``plot.close()``.

A training function can take the plot as a callback, since calling it is ``update``:
``train(model, data, callback=plot)`` with ``callback(loss, accuracy=acc)`` inside.  Any other
keyword becomes a curve of its own: names ending in "loss" (``val_loss``) share the loss
panel, names with "acc" in them the accuracy panel, anything else gets a panel of its own.
Everything recorded stays in ``plot.history``, as ``{name: (steps, values)}``, and
``plot.losses`` is the list of losses.  Lesson 07 trains this way, with ``val_loss`` and
``val_accuracy`` beside the training curves.

How it updates in place: the plot is one display output with a display id, and each redraw
replaces that output (``update_display``), in JupyterLab and in every other front end.  A
notebook executed without a browser (nbclient, nbgrader) therefore keeps exactly one output
for the plot: its final picture, a static SVG image.  Outside a Jupyter kernel nothing is
drawn along the way; ``close()`` (or the end of the ``with`` block, or of the cell in a
terminal IPython) prints the text summary.  Pass
``live=False``, or set the environment variable ``MINIGRAD_VIZ_LIVE=0``, to skip the
intermediate redraws and draw only the final picture (grading runs need no animation).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

from .charts import Axes, downsample
from .svg import escape, img_tag, svg_document

__all__ = ["LossPlot"]

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
PANEL_WIDTH = 360
PANEL_HEIGHT = 250


class LossPlot:
    """A loss curve (and accuracy, and any other metric) that a training loop updates.

    ``title`` goes above the plot; ``log`` puts the loss on a logarithmic scale; ``every`` is
    the least time between two redraws, in seconds; ``live`` (None: automatic) says whether
    to redraw while training runs or only at the end.  With ``show=False`` the plot only
    records, for a view that draws ``svg()`` itself.
    """

    def __init__(
        self,
        title: str = "",
        *,
        log: bool = False,
        every: float = 0.25,
        live: bool | None = None,
        show: bool = True,
    ) -> None:
        if not (isinstance(every, (int, float)) and every >= 0):
            raise ValueError(f"every is the least time between redraws in seconds, not {every!r}")
        self.title = title
        self.log = log
        self.every = float(every)
        self.live = _running_in_kernel() and _live_allowed() if live is None else bool(live)
        self.show_output = show  # False: another view draws svg() (the playground does)
        self.history: dict[str, tuple[list[float], list[float]]] = {}
        self.draws = 0  # how many times the picture was drawn (tests and benchmarks read it)
        self._count = 0
        self._next_draw = 0.0
        self._handle: Any = None
        self._changed = False
        self._watching = False  # True while a hook waits for the end of the cell

    # ------------------------------------------------------------------ recording

    def update(
        self,
        loss: float | None = None,
        accuracy: float | None = None,
        *,
        step: float | None = None,
        **more: float,
    ) -> None:
        """Record this step's loss (and accuracy, and any other named value).

        ``step`` defaults to the number of earlier updates (0, 1, 2, ...).  Values may be
        plain numbers or one-element arrays and tensors; nan and inf are kept but not drawn.
        """
        # This runs once per training step: it appends numbers and, a few times a second,
        # redraws; everything else is done once (the first time a name or a cell is seen).
        x = float(self._count if step is None else step)
        self._count += 1
        if loss is None and accuracy is None and not more:
            raise TypeError("update() needs a value to plot: update(loss), update(accuracy=...)")
        if loss is not None:
            self._record("loss", x, loss)
        if accuracy is not None:
            self._record("accuracy", x, accuracy)
        for name, value in more.items():
            self._record(name, x, value)
        self._changed = True
        if not self.show_output:
            return
        if self.live:
            now = time.perf_counter()
            if now >= self._next_draw:
                self._next_draw = now + self.every
                self._draw(final=False)
        if not self._watching:
            self._watch_cell()

    def _record(self, name: str, x: float, value: Any) -> None:
        series = self.history.get(name)
        if series is None:
            series = self.history[name] = ([], [])
        series[0].append(x)
        series[1].append(value if type(value) is float else _as_float(value, name))

    __call__ = update

    def __enter__(self) -> LossPlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Draw the final picture, with every point, now."""
        if not self.show_output:
            return
        if self._changed or self.draws == 0:
            self._draw(final=True)
        self._changed = False

    def show(self) -> None:
        """Show the plot anew under the current cell (the next redraws go there)."""
        self._handle = None
        self._draw(final=not self.live)

    @property
    def losses(self) -> list[float]:
        return list(self.history.get("loss", ((), ()))[1])

    # ------------------------------------------------------------------ drawing

    def svg(self, max_points: int = 600) -> str:
        """The plot as SVG, each curve thinned to about ``max_points`` points."""
        panels = self._panels()
        width = max(1, len(panels)) * PANEL_WIDTH
        top = 24  # the title (if any) and the latest numbers share the first line
        body = ['<rect width="100%" height="100%" fill="#ffffff"/>']
        if self.title:
            body.append(
                f'<text x="8" y="16" font-weight="bold" font-size="13">{escape(self.title)}</text>'
            )
        body.append(
            f'<text x="{width - 8}" y="16" text-anchor="end" font-size="11" '
            f'fill="#555555" class="mg-status">{escape(self.status())}</text>'
        )
        for k, (name, series) in enumerate(panels):
            body.append(self._panel(k * PANEL_WIDTH, top, name, series, max_points))
        steps = max((len(s[0]) for s in self.history.values()), default=0)
        return svg_document(
            width, PANEL_HEIGHT + top, body, class_="mg-lossplot", data_steps=str(steps)
        )

    def status(self) -> str:
        """The latest values, as one line: "step 29 · loss 0.0468 · accuracy 100%"."""
        if not self.history:
            return "waiting for the first update"
        parts = []
        last_step = max(steps[-1] for steps, _ in self.history.values())
        parts.append(f"step {last_step:g}")
        for name, (_, ys) in self.history.items():
            parts.append(f"{name} {_format(name, ys[-1])}")
        return " · ".join(parts)

    def _panels(self) -> list[tuple[str, list[str]]]:
        loss = [n for n in self.history if n.endswith("loss")]
        accuracy = [n for n in self.history if "acc" in n and n not in loss]
        panels = []
        if loss or not self.history:
            panels.append(("loss", loss))
        if accuracy:
            panels.append(("accuracy", accuracy))
        panels += [(n, [n]) for n in self.history if n not in loss and n not in accuracy]
        return panels

    def _panel(self, left: float, top: float, name: str, series: list[str], max_points: int) -> str:
        xs_all = [x for n in series for x in self.history[n][0]]
        ys_all = [y for n in series for y in self.history[n][1] if math.isfinite(y)]
        if self.log and name == "loss":
            ys_all = [y for y in ys_all if y > 0]
        x_range = (
            min(xs_all, default=0.0),
            max(max(xs_all, default=1.0), min(xs_all, default=0.0) + 1),
        )
        if name == "accuracy" and all(0 <= y <= 1 for y in ys_all):
            y_range = (0.0, 1.0)
        elif self.log and name == "loss":
            y_range = (min(ys_all, default=0.1) / 1.3, max(ys_all, default=1.0) * 1.3)
        else:
            low, high = min(ys_all, default=0.0), max(ys_all, default=1.0)
            pad = (high - low) * 0.06 or abs(high) * 0.1 or 1.0
            y_range = (min(0.0, low) if low >= 0 else low - pad, high + pad)
        axes = Axes(
            left + 62,
            top + 18,
            PANEL_WIDTH - 80,
            PANEL_HEIGHT - 70,
            x_range,
            y_range,
            y_log=self.log and name == "loss",
            title=name,
            x_label="step",
        )
        out = [axes.frame()]
        for k, n in enumerate(series):
            xs, ys = downsample(*self.history[n], buckets=max_points // 2)
            out.append(axes.line(xs, ys, COLOURS[k % len(COLOURS)], name=n))
        if len(series) > 1:
            out.append(
                axes.legend([(n, COLOURS[k % len(COLOURS)], "") for k, n in enumerate(series)])
            )
        return "".join(out)

    def _bundle(self, final: bool) -> dict[str, str]:
        svg = self.svg(max_points=4000 if final else 600)
        alt = (self.title + ": " if self.title else "") + self.status()
        html = img_tag(svg, alt) if final else svg
        return {
            "text/html": f'<div class="mg-lossplot-output">{html}</div>',
            "text/plain": f"LossPlot({alt})",
        }

    def _draw(self, final: bool) -> None:
        from IPython.display import display

        self.draws += 1
        bundle = self._bundle(final)
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return self._bundle(final=True)

    # ------------------------------------------------------------------ the end of a cell

    def _watch_cell(self) -> None:
        """Draw the final picture when the running cell ends, even if the loop never says
        it is done (or is interrupted)."""
        shell = _shell()
        if shell is None:
            self._watching = True  # no cells to watch: nothing to look for again
            return
        self._watching = True

        def cell_ended(*_: Any) -> None:
            shell.events.unregister("post_run_cell", cell_ended)
            self._watching = False
            if self._changed:
                self.close()

        shell.events.register("post_run_cell", cell_ended)


def _as_float(value: Any, name: str) -> float:
    if hasattr(value, "item"):
        value = value.item()
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"LossPlot.update: {name} must be a number, not {value!r}") from None


def _format(name: str, value: float) -> str:
    if "acc" in name and 0 <= value <= 1:
        return f"{value:.1%}"
    return f"{value:.4g}"


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _running_in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, nbclient, VS Code...), where a display can
    be updated in place; False in a script or a terminal."""
    shell = _shell()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _live_allowed() -> bool:
    return os.environ.get("MINIGRAD_VIZ_LIVE", "1").strip().lower() not in ("0", "false", "no")
