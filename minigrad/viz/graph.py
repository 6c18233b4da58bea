"""The graph view: a computation graph in the notebook, with its backward pass step by step.

    >>> from minigrad.viz import graph
    >>> f.backward()
    >>> graph(f)              # the graph, every node with its label, op, data and grad
    >>> graph(f, step=0)      # the same, ready to step through backward from the start

The widget draws the graph behind a ``Value`` (or a ``Tensor``, whose nodes show shapes and
dtypes instead of numbers) as SVG, laid out in Python (``layout``), so it needs no Graphviz.
Below the picture, play/pause, "◀ back" and "step ▶" buttons and a slider move through the
frames of the backward pass: before it, the seed, one frame per node in the order
``backward()`` visits them, and the end.  At each frame the node passing its gradient on is
highlighted, the text under the picture shows its local derivatives and the chain-rule
products, and the gradients appear as they are computed.  The frames are a replay of the
engine's own pass, checked number for number against the gradients it stored (``trace``
explains how).

A graph of more than ``max_nodes`` nodes (200 by default) is too large to read, so the view
summarises it instead: its size and depth, how often each operation occurs, the inputs with
the largest gradients, and a drawing of the nodes nearest the output.  That takes time
linear in the size of the graph, a fraction of a second for 10^5 nodes.

Without a live kernel (a notebook executed by nbclient or nbgrader, or exported to HTML) the
view still shows its current frame as a static picture.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from .svg import TIMES, GraphPicture, escape, histogram_rows, img_tag
from .trace import (
    Frame,
    Graph,
    Replay,
    Summary,
    collect,
    grad_text,
    number,
    replay_backward,
    shape_text,
)

__all__ = ["GraphView", "graph"]


def graph(
    root: Any, *, title: str = "", step: int | None = None, max_nodes: int = 200
) -> GraphView:
    """A widget showing the computation graph behind ``root`` and stepping through its
    backward pass.  ``step`` is the frame to show first (0: before backward; the default,
    the last frame, shows every gradient as backward() left it)."""
    return GraphView(root, title=title, step=step, max_nodes=max_nodes)


class GraphView(widgets.VBox):
    """The widget ``graph()`` returns.

    ``picture`` (an HTML widget) holds the SVG of the current frame, ``info`` the explanation
    of the current step; ``slider``, ``play``, ``back`` and ``forward`` move between frames.
    ``replay`` holds the frames themselves (``trace.Replay``), ``graph_data`` the nodes and
    edges, or ``summary`` when the graph was too large to draw.
    """

    def __init__(
        self, root: Any, *, title: str = "", step: int | None = None, max_nodes: int = 200
    ) -> None:
        if not isinstance(max_nodes, int) or max_nodes < 1:
            raise ValueError(f"max_nodes must be a positive integer, not {max_nodes!r}")
        super().__init__()
        self.add_class("mg-graph-view")
        self.root = root
        self.title = title
        self.max_nodes = max_nodes
        self.picture = widgets.HTML(layout=widgets.Layout(overflow="auto", max_height="680px"))
        self.picture.add_class("mg-picture")
        self.info = widgets.HTML()
        self.info.add_class("mg-info")
        self.slider = widgets.IntSlider(
            min=0,
            max=0,
            value=0,
            description="frame",
            continuous_update=True,
            layout=widgets.Layout(width="360px"),
        )
        self.play = widgets.Play(min=0, max=0, value=0, interval=1200, description="play")
        # play moves the slider in the browser itself; the kernel redraws on each new value
        self.play_link = widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.back = widgets.Button(description="◀ back", layout=widgets.Layout(width="90px"))
        self.forward = widgets.Button(description="step ▶", layout=widgets.Layout(width="90px"))
        self.run = widgets.Button(description="run backward()", button_style="warning")
        self.zoom = widgets.ToggleButtons(
            options=["fit", "full size"], value="full size", style={"button_width": "72px"}
        )
        self.back.add_class("mg-back")
        self.forward.add_class("mg-step")
        self.back.on_click(lambda _: self._move(-1))
        self.forward.on_click(lambda _: self._move(+1))
        self.run.on_click(lambda _: self._run_backward())
        self.slider.observe(lambda change: self._show(change["new"]), names="value")
        self.zoom.observe(lambda _: self._show(self.slider.value), names="value")
        self._cache: dict[tuple[int, bool], str] = {}
        self._load(step)

    # ------------------------------------------------------------------ state

    @property
    def frame(self) -> int:
        """The number of the frame shown."""
        return self.slider.value

    @property
    def frames(self) -> tuple[Frame, ...]:
        return self.replay.frames if self.replay is not None else ()

    @property
    def svg(self) -> str:
        """The SVG of the frame shown."""
        return self._svg(self.frame)

    def _load(self, step: int | None) -> None:
        collected = collect(self.root, self.max_nodes)
        self._cache.clear()
        self.summary: Summary | None = None
        self.graph_data: Graph | None = None
        self.replay: Replay | None = None
        if isinstance(collected, Summary):
            self.summary = collected
            self._picture = GraphPicture(
                collected.near, self._summary_title(collected), collected.cut, legend=False
            )
            self.children = [self.picture, self.info]
            self._set_range(0, None)
            self._show(0)
            return
        self.graph_data = collected
        self.replay = replay_backward(collected)
        self._picture = GraphPicture(collected, self.title, legend=self.replay.status == "replayed")
        last = len(self.replay.frames) - 1
        if step is None:
            step = last
        elif not isinstance(step, int) or not -last - 1 <= step <= last:
            raise ValueError(f"step must be a frame number from 0 to {last}, not {step!r}")
        step = step % (last + 1)
        self.zoom.value = "fit" if 1000 < self._picture.width <= 2200 else "full size"
        controls: list[widgets.Widget] = []
        if last > 0:
            controls = [self.play, self.back, self.forward, self.slider]
        if self.replay.status == "not run" and self._can_run_backward():
            controls.append(self.run)
        if self._picture.width > 1000:
            controls.append(self.zoom)
        rows: list[widgets.Widget] = [self.picture]
        if controls:
            rows.append(widgets.HBox(controls))
        rows.append(self.info)
        self.children = rows
        self._set_range(last, step)
        self._show(step)

    def _set_range(self, last: int, step: int | None) -> None:
        with self.hold_trait_notifications():
            self.slider.max = self.play.max = last
            self.slider.value = self.play.value = step or 0

    def _move(self, delta: int) -> None:
        self.slider.value = min(self.slider.max, max(0, self.slider.value + delta))

    def _can_run_backward(self) -> bool:
        """The output has a ``backward()`` that needs no argument (a Value, or a Tensor
        holding one number)."""
        if not callable(getattr(self.root, "backward", None)):
            return False
        return (
            self.graph_data is None or self.graph_data.kind == "value" or (self.root.data.size == 1)
        )

    def _run_backward(self) -> None:
        """The "run backward()" button: the engine's own pass, then its replay."""
        self.root.backward()
        self._load(0)

    # ------------------------------------------------------------------ drawing

    def _svg(self, k: int) -> str:
        fit = self.zoom.value == "fit"
        key = (k, fit)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            frame = self.frames[k] if self.frames else None
            self._cache[key] = self._picture.svg(frame, k, fit=fit)
        return self._cache[key]

    def _show(self, k: int) -> None:
        if k >= max(1, len(self.frames)):  # a frame of a graph being replaced
            return
        self.picture.value = self._svg(k)
        self.info.value = self._explain(k)

    def __repr__(self) -> str:
        if self.summary is not None:
            return f"GraphView: a summary of a graph of {self.summary.nodes:,} nodes"
        n = len(self.graph_data.nodes) if self.graph_data else 0
        return f"GraphView: {n} nodes, frame {self.frame} of {self.slider.max}"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """The widget, and for front ends without a kernel a static picture of the frame."""
        data = super()._repr_mimebundle_(**kwargs)
        alt = "computation graph" + (f": {self.title}" if self.title else "")
        data["text/html"] = f"<div>{img_tag(self._svg(self.frame), alt)}{self.info.value}</div>"
        return data

    # ------------------------------------------------------------------ words

    def _explain(self, k: int) -> str:
        if self.summary is not None:
            return self._explain_summary(self.summary)
        assert self.replay is not None and self.graph_data is not None
        frame = self.replay.frames[k]
        nodes = self.graph_data.nodes
        steps = len(self.replay.frames) - 3
        text = ""
        if frame.kind == "stored":
            text = self._explain_stored()
        elif frame.kind == "before":
            text = (
                f"<b>Before backward()</b>: no gradient computed yet.  Press ▶ or <i>step ▶</i> "
                f"to watch the pass: the seed, then the {steps} nodes in reversed topological "
                f"order (the order backward() walks), each passing its gradient on to its "
                f"operands."
            )
        elif frame.kind == "seed":
            root = nodes[frame.node]
            text = (
                f"<b>The seed</b>: {_name(root)}.grad = {grad_text(frame.grads[frame.node], root)}"
                + (
                    ", since d(out)/d(out) = 1: every gradient is a product that starts here."
                    if root.kind == "value"
                    else ": the gradient backward() starts from."
                )
            )
        elif frame.kind == "step":
            text = self._explain_step(frame, k - 1, steps)
        elif frame.kind == "done":
            text = (
                "<b>Done</b>: every gradient is final, and equal to the one backward() stored "
                "in the graph."
            )
        if self.replay.message and frame.kind != "stored":
            text += f"<br><i>Note</i>: {escape(self.replay.message)}."
        return f'<div class="mg-explain" style="line-height:1.5">{text}</div>'

    def _explain_stored(self) -> str:
        assert self.replay is not None
        status = self.replay.status
        root = self.graph_data.nodes[-1] if self.graph_data else None
        if status == "not run":
            if not self._can_run_backward():
                return "<b>No gradients yet</b>: every grad is still 0."
            name = escape(root.label or "out") if root else "out"
            return (
                f"<b>No gradients yet</b>: every grad is still 0.  To step through the "
                f"backward pass, press <i>run backward()</i>, or call "
                f"<code>{name}.backward()</code> and draw the graph again."
            )
        return f"<b>The gradients as they are</b>: {escape(self.replay.message)}."

    def _explain_step(self, frame: Frame, number_in_pass: int, steps: int) -> str:
        graph = self.graph_data
        assert graph is not None and frame.node is not None
        node = graph.nodes[frame.node]
        grad = frame.grads[frame.node]
        head = f"<b>Step {number_in_pass} of {steps}</b>: {_name(node)}"
        if node.leaf:
            return (
                f"{head} has no operands: nothing to pass on.  Its grad, "
                f"{grad_text(grad, node, digits=6)}, is final."
            )
        operands = [graph.nodes[e.source] for e in graph.edges if e.target == frame.node]
        formula = " = " + _formula(node.op, [_plain(o) for o in operands])
        if frame.node == graph.root:
            why = "the seed"
        else:
            why = "final: every node that uses it has already passed its share back"
        lines = [
            f"{head}{formula}.  Its grad, {grad_text(grad, node, digits=6)}, is {why}.  "
            f"It passes it on:"
        ]
        if not frame.pushes:
            lines.append("(none of its operands needs a gradient)")
        for push in frame.pushes:
            edge = graph.edges[push.edge]
            operand = graph.nodes[edge.source]
            after = grad_text(push.after, operand, digits=6)
            if push.local is not None:
                before = number(push.before if push.before is not None else 0.0, 6)
                lines.append(
                    f"{_plain(operand)}.grad += ∂{_plain(node)}/∂{_plain(operand)} {TIMES} "
                    f"{_plain(node)}.grad = {_factor(push.local)} {TIMES} {_factor(grad)} = "
                    f"{number(push.amount, 6)}, so {_plain(operand)}.grad goes from {before} "
                    f"to <b>{after}</b>"
                )
            else:
                lines.append(
                    f"the backward rule of {escape(node.op)} sends {_plain(operand)} a gradient "
                    f"of shape {_shape(push.amount)}, {grad_text(push.amount, operand, True, 6)}; "
                    f"its gradient so far: <b>{after}</b>"
                )
        return (
            lines[0]
            + "<ul style='margin:2px 0'>"
            + "".join(f"<li>{line}</li>" for line in lines[1:])
            + "</ul>"
        )

    def _summary_title(self, summary: Summary) -> str:
        return (
            f"{summary.nodes:,} nodes: the {len(summary.near.nodes)} nearest the output "
            f"(dashed: operands not shown)"
        )

    def _explain_summary(self, summary: Summary) -> str:
        ops = "".join(
            f"<tr><td><code>{escape(op)}</code></td>"
            f"<td style='text-align:right'>{count:,}</td></tr>"
            for op, count in histogram_rows(summary.ops)
        )
        largest = "".join(
            f"<tr><td>{escape(label) or '<i>no label</i>'}</td><td>{escape(data)}</td>"
            f"<td>{escape(grad)}</td></tr>"
            for label, data, grad in summary.largest
        )
        return (
            f"<div class='mg-summary' style='line-height:1.5'><b>A graph of {summary.nodes:,} "
            f"nodes</b> ({summary.inputs:,} inputs, {summary.edges:,} edges, "
            f"{summary.depth:,} layers deep) is too large to draw legibly, so only the "
            f"{len(summary.near.nodes)} nodes nearest the output are drawn, without the "
            f"step-through (<code>graph(out, max_nodes={self.max_nodes})</code> draws graphs "
            f"up to {self.max_nodes} nodes)."
            f"<div style='display:flex;gap:2em;align-items:flex-start'>"
            f"<table><tr><th>operation</th><th>nodes</th></tr>{ops}</table>"
            f"<table><tr><th colspan='3'>the inputs with the largest gradients</th></tr>"
            f"<tr><th>label</th><th>data</th><th>grad</th></tr>{largest}"
            f"</table></div></div>"
        )


def _formula(op: str, operands: list[str]) -> str:
    """How the node was computed, as it would be written: ``a * b``, ``tanh(c)``, ``a**2``
    (as HTML: the operands come escaped, the op is escaped here)."""
    op = escape(op)
    if len(operands) == 2 and op in {"+", "-", "*", "/", "**", "@"}:
        return f"{operands[0]} {op} {operands[1]}"
    if len(operands) == 1 and op.startswith("**"):
        return f"{operands[0]}{op}"
    if len(operands) == 1 and op == "neg":
        return f"-{operands[0]}"
    return f"{op}({', '.join(operands)})"


def _factor(x: float) -> str:
    """A number inside a product: negative ones in parentheses, (-3) x (-10)."""
    text = number(x, 6)
    return f"({text})" if text.startswith("-") else text


def _name(node: Any) -> str:
    return escape(node.name).replace("`", "")


def _plain(node: Any) -> str:
    if node.label:
        return escape(node.label)
    if node.leaf and node.kind == "value":
        return number(node.data)
    return escape(f"({node.op})" if node.op else "input")


def _shape(array: Any) -> str:
    return shape_text(tuple(getattr(array, "shape", ())))
