"""Drawing a computation graph as SVG text, one frame of its backward pass at a time.

SVG is text, so the picture is built in Python and needs no Graphviz binary (which pip
installs and Binder do not have) and no plotting library.  A browser draws it inside the
widget; tests read it as a string.

Each node is a box with its label, its data (a tensor's shape and dtype) and its gradient;
a computed node has its operation in a pill in front of the box, and an arrow comes in from
each operand (two arrows for ``a + a``).  During the step-through the node passing its
gradient on is framed in red, the operands receiving are framed in green, and the arrows
carrying the gradient are red and labelled with the chain-rule product.  A gradient is grey
while nothing has reached the node, orange while it is a partial sum, and black once final.

Elements carry classes and ``data-`` attributes (``mg-node``, ``mg-current``,
``data-label``) so that tests, in Python or in a browser, can find them.
"""

from __future__ import annotations

import base64
import html
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from .layout import Layout, layered_layout
from .trace import Frame, Graph, Node, grad_text, number, shape_text

__all__ = ["GraphPicture", "escape", "img_tag", "svg_document"]

FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
FONT_SIZE = 12
CHAR_WIDTH = 7.3  # of FONT at FONT_SIZE, generously
LINE = 15
PAD = 6
PILL_GAP = 10

INK = "#222222"
MUTED = "#9a9a9a"
PARTIAL = "#d9822b"
CURRENT = "#d62728"
RECEIVER = "#2ca02c"
EDGE = "#8c8c8c"
LEAF_FILL = "#dbe9f6"
NODE_FILL = "#f3f3f3"
CONSTANT_FILL = "#ffffff"
TIMES = "\N{MULTIPLICATION SIGN}"


def escape(text: Any) -> str:
    return html.escape(str(text), quote=True)


def svg_document(
    width: float, height: float, body: Iterable[str], fit: bool = False, **attrs
) -> str:
    """An ``<svg>`` element of the given size around ``body``; ``fit`` scales it to the
    width of its container instead."""
    extra = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{escape(v)}"' for key, v in attrs.items()
    )
    size = 'width="100%"' if fit else f'width="{width:.0f}" height="{height:.0f}"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {width:.0f} {height:.0f}"'
        f' style="max-width:none;font-family:{escape(FONT)};font-size:{FONT_SIZE}px"{extra}>'
        + "".join(body)
        + "</svg>"
    )


def img_tag(svg: str, alt: str) -> str:
    """An ``<img>`` holding ``svg`` as a data URI: a static picture that survives the HTML
    sanitizers of untrusted notebooks and of exports, which strip inline SVG."""
    encoded = base64.b64encode(svg.encode()).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{encoded}" alt="{escape(alt)}"/>'


def _text(x: float, y: float, content: str, **attrs: Any) -> str:
    extra = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{escape(v)}"' for key, v in attrs.items()
    )
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class GraphPicture:
    """A graph laid out once, drawn for any frame of its backward pass.

    ``cut`` marks nodes some of whose operands are not shown (a summary's neighbourhood):
    ``cut[i]`` is how many.
    """

    def __init__(
        self,
        graph: Graph,
        title: str = "",
        cut: dict[int, int] | None = None,
        legend: bool = True,
    ) -> None:
        self.graph = graph
        self.title = title
        self.cut = cut or {}
        self.legend = legend  # the colour key of the step-through
        nodes = graph.nodes
        self._lines = [self._lines_of(node) for node in nodes]
        longest = max((len(line) for lines in self._lines for line in lines), default=4)
        longest = max(longest, len("grad -0.0000e+00"))
        self.box_width = min(260.0, max(96.0, longest * CHAR_WIDTH + 2 * PAD))
        self._ops = [_clip(node.op, 14) for node in nodes]
        pill = [max(26.0, len(op) * CHAR_WIDTH + 12) if op else 0.0 for op in self._ops]
        self._pill = pill
        sizes = [
            (self.box_width + (pill[i] + PILL_GAP if pill[i] else 0.0), self._box_height(i))
            for i in range(len(nodes))
        ]
        self.layout: Layout = layered_layout(sizes, [(e.source, e.target) for e in graph.edges])
        right: dict[int, float] = {}
        for i, (width, _) in enumerate(sizes):
            column = self.layout.layer[i]
            right[column] = max(right.get(column, 0.0), width)
        # every box in a column ends at the same x, so the arrows leaving it line up
        self._box_right = [
            self.layout.x[i] + right[self.layout.layer[i]] / 2 for i in range(len(nodes))
        ]
        key = 13.0 * len(_legend_lines(self.width)) if legend else 0.0
        self.header = (20.0 if title else 0.0) + key + 6.0
        # edges between the same two nodes (a + a) fan apart: each one's place among its twins
        twins: dict[tuple[int, int], list[int]] = {}
        for k, e in enumerate(graph.edges):
            twins.setdefault((e.source, e.target), []).append(k)
        self._fan = [0.0] * len(graph.edges)
        for group in twins.values():
            for place, k in enumerate(group):
                self._fan[k] = place - (len(group) - 1) / 2

    # ------------------------------------------------------------------ geometry

    @staticmethod
    def _lines_of(node: Node) -> list[str]:
        lines = [_clip(node.label, 30)] if node.label else []
        if node.kind == "tensor":
            shape = shape_text(node.shape)
            lines.append(f"{shape} {node.dtype}")
            if node.data is not None:
                lines.append(f"data {number(node.data)}")
        else:
            lines.append(f"data {number(node.data)}")
        lines.append("grad")  # filled in per frame
        return lines

    def _box_height(self, i: int) -> float:
        return len(self._lines[i]) * LINE + 2 * PAD - 2

    def box(self, i: int) -> tuple[float, float, float, float]:
        """The box of node i: left, top, width, height (in picture coordinates)."""
        height = self._box_height(i)
        left = self._box_right[i] - self.box_width
        return left, self.layout.y[i] - height / 2 + self.header, self.box_width, height

    @property
    def width(self) -> float:
        return max(self.layout.width, 120.0, len(self.title) * CHAR_WIDTH * 1.05 + 2 * PAD)

    @property
    def height(self) -> float:
        return self.layout.height + self.header

    # ------------------------------------------------------------------ drawing

    def svg(
        self, frame: Frame | None = None, frame_number: int | None = None, fit: bool = False
    ) -> str:
        """The picture at ``frame`` (the stored gradients when None)."""
        graph = self.graph
        if frame is None:
            frame = Frame("stored", None, (), graph.stored_grads(), (True,) * len(graph.nodes))
        current = frame.node if frame.kind in ("step", "seed") else None
        receivers = {graph.edges[p.edge].source for p in frame.pushes}
        pushed = {p.edge: p for p in frame.pushes}
        parts: list[str] = ['<rect width="100%" height="100%" fill="#ffffff"/>']
        y = 14.0
        if self.title:
            parts.append(_text(PAD, y, self.title, font_weight="bold", font_size="13"))
            y += 20
        if self.legend and frame.kind in ("before", "seed", "step", "done"):
            for line in _legend_lines(self.width):
                parts.append(_text(PAD, y, line, fill=MUTED, font_size="10.5", class_="mg-legend"))
                y += 13
        edges_drawn = [self._edge(k, pushed.get(k)) for k in range(len(graph.edges))]
        parts.extend(part for part, p in edges_drawn if p is None)  # plain arrows below
        for i in range(len(graph.nodes)):
            role = "current" if i == current else "receiver" if i in receivers else ""
            parts.append(self._node(i, frame, role))
        parts.extend(part for part, p in edges_drawn if p is not None)  # highlighted on top
        parts.extend(self._push_label(k, p, frame) for k, p in pushed.items())
        if frame.kind == "seed" and current is not None:
            left, top, _, _ = self.box(current)
            parts.append(_label_box(left + self.box_width / 2, top - 9, "seed: grad = 1", CURRENT))
        label = graph.nodes[current].label if current is not None else ""
        return svg_document(
            self.width,
            self.height,
            parts,
            fit=fit,
            class_="mg-graph",
            data_frame="" if frame_number is None else str(frame_number),
            data_current=label if current is not None else "",
            data_current_index="" if current is None else str(current),
        )

    def _node(self, i: int, frame: Frame, role: str) -> str:
        node = self.graph.nodes[i]
        left, top, width, height = self.box(i)
        stroke, stroke_width = {"current": (CURRENT, 3.0), "receiver": (RECEIVER, 2.5)}.get(
            role, ("#555555", 1.0)
        )
        if node.kind == "tensor" and not node.requires_grad:
            fill, dash = CONSTANT_FILL, ' stroke-dasharray="4 3"'
        else:
            fill, dash = (LEAF_FILL if node.leaf else NODE_FILL), ""
        classes = "mg-node" + (f" mg-{role}" if role else "")
        out = [
            f'<g class="{classes}" data-index="{i}" data-label="{escape(node.label)}" '
            f'data-op="{escape(node.op)}">',
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" rx="6" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"{dash}/>',
        ]
        lines = self._lines[i]
        grad = frame.grads[i] if i < len(frame.grads) else None
        for k, line in enumerate(lines):
            ty = top + PAD + LINE * k + 11
            tx = left + PAD
            if k == len(lines) - 1:  # the gradient, coloured by how final it is
                text = grad_text(grad, node)
                text = text if text == "no grad" else "grad " + text
                if frame.kind == "stored":
                    colour = INK if grad is not None or node.kind == "value" else MUTED
                elif grad is None:
                    colour = MUTED
                else:
                    colour = INK if frame.final[i] else PARTIAL
                out.append(_text(tx, ty, text, fill=colour, class_="mg-grad", font_weight="bold"))
            elif k == 0 and node.label:
                out.append(_text(tx, ty, line, fill=INK, class_="mg-label", font_weight="bold"))
            else:
                out.append(_text(tx, ty, line, fill=INK, class_="mg-data"))
        if node.op:
            pill = self._pill[i]
            px = left - PILL_GAP - pill
            cy = self.layout.y[i] + self.header
            out.append(
                f'<rect x="{px:.1f}" y="{cy - 12:.1f}" width="{pill:.1f}" height="24" rx="12" '
                f'fill="#ffffff" stroke="{stroke}" stroke-width="{stroke_width}"/>'
            )
            out.append(_text(px + pill / 2, cy + 4, self._ops[i], text_anchor="middle", fill=INK))
            out.append(_line(px + pill, cy, left, cy, stroke))
            if i in self.cut:
                out.append(
                    f'<path d="M{px - 34:.1f},{cy:.1f} H{px - 6:.1f}" stroke="{MUTED}" '
                    f'stroke-dasharray="3 3" fill="none"/>'
                )
                out.append(_arrowhead(px, cy, MUTED))
                out.append(_text(px - 36, cy - 5, f"+{self.cut[i]}", fill=MUTED, text_anchor="end"))
        out.append("</g>")
        return "".join(out)

    def _edge(self, k: int, push: Any) -> tuple[str, Any]:
        """The arrow of edge k; edges between the same two nodes (``a + a``) fan apart."""
        graph = self.graph
        edge = graph.edges[k]
        offset = self._fan[k] * 9.0
        start, end = self._ends(edge.source, edge.target)
        points = [(start[0], start[1] + offset)]
        route = self.layout.routes[(edge.source, edge.target)]
        points += [(x, y + self.header + offset) for x, y in route]
        if offset and not route:  # twins (a + a) bulge apart in the middle, to be seen as two
            points.append(((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 2.2 * offset))
        points.append((end[0], end[1] + offset / 2))
        colour, width = (CURRENT, 2.4) if push is not None else (EDGE, 1.2)
        d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            dx = (x1 - x0) / 2
            d += f" C{x0 + dx:.1f},{y0:.1f} {x1 - dx:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
        klass = "mg-edge mg-active" if push is not None else "mg-edge"
        part = (
            f'<g class="{klass}" data-source="{edge.source}" data-target="{edge.target}">'
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width}"/>'
            f"{_arrowhead(points[-1][0], points[-1][1], colour)}</g>"
        )
        return part, push

    def _ends(self, source: int, target: int) -> tuple[tuple[float, float], tuple[float, float]]:
        left, _, width, _ = self.box(source)
        start = (left + width, self.layout.y[source] + self.header)
        t_left = self.box(target)[0] - (
            self._pill[target] + PILL_GAP if self._pill[target] else 0.0
        )
        return start, (t_left, self.layout.y[target] + self.header)

    def _push_label(self, k: int, push: Any, frame: Frame) -> str:
        graph = self.graph
        edge = graph.edges[k]
        source = graph.nodes[edge.source]
        if push.local is not None:
            grad = frame.grads[edge.target]
            text = f"{_factor(push.local)} {TIMES} {_factor(grad)} = {number(push.amount)}"
        else:
            text = "+ " + grad_text(push.amount, source)
        (sx, sy), (ex, ey) = self._ends(edge.source, edge.target)
        route = self.layout.routes[(edge.source, edge.target)]
        if route:  # a long edge: label its first stretch, near the operand
            ex, ey = route[0][0], route[0][1] + self.header
        # on the curve, a third of the way from the operand: the arrows into one node meet
        # at its end, while the operands receiving in one step are apart
        x, y = _curve_point((sx, sy), (ex, ey), 0.4)
        y += self._fan[k] * 22.0
        return _label_box(x, y, text, CURRENT)


LEGEND = (
    "red: passing its grad on",
    "green: receiving",
    "grad in grey: nothing yet",
    "orange: a partial sum",
    "black: final",
)


def _legend_lines(width: float) -> list[str]:
    """The colour key, in as many lines as the picture's width needs."""
    lines, line = [], ""
    for item in LEGEND:
        candidate = f"{line} · {item}" if line else item
        if line and len(candidate) * CHAR_WIDTH * 0.88 > width - 2 * PAD:
            lines.append(line)
            candidate = item
        line = candidate
    return [*lines, line]


def _factor(x: float) -> str:
    """A number inside a product: a negative one in parentheses, as in (-3) x (-10)."""
    text = number(x)
    return f"({text})" if text.startswith("-") else text


def _curve_point(p0: tuple[float, float], p1: tuple[float, float], t: float) -> tuple[float, float]:
    """The point at parameter t of the arrow's curve from p0 to p1 (a cubic Bézier curve
    leaving and arriving horizontally)."""
    (x0, y0), (x1, y1) = p0, p1
    dx = (x1 - x0) / 2
    s = 1 - t
    x = s**3 * x0 + 3 * s * s * t * (x0 + dx) + 3 * s * t * t * (x1 - dx) + t**3 * x1
    y = s**3 * y0 + 3 * s * s * t * y0 + 3 * s * t * t * y1 + t**3 * y1
    return x, y


def _line(x0: float, y0: float, x1: float, y1: float, colour: str) -> str:
    return f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{colour}"/>'


def _arrowhead(x: float, y: float, colour: str) -> str:
    return f'<path d="M{x:.1f},{y:.1f} l-8,-4 v8 z" fill="{colour}"/>'


def _label_box(x: float, y: float, text: str, colour: str) -> str:
    width = len(text) * CHAR_WIDTH * 0.92 + 10
    return (
        f'<g class="mg-push"><rect x="{x - width / 2:.1f}" y="{y - 10:.1f}" width="{width:.1f}" '
        f'height="17" rx="4" fill="#ffffff" fill-opacity="0.93" stroke="{colour}" '
        f'stroke-width="0.8"/>'
        + _text(x, y + 3, text, text_anchor="middle", fill=colour, font_size="11")
        + "</g>"
    )


def histogram_rows(counts: Sequence[tuple[str, int]], limit: int = 12) -> list[tuple[str, int]]:
    """The ``limit`` most common operations, the rest pooled as "other"."""
    head = list(counts[:limit])
    rest = sum(count for _, count in counts[limit:])
    return head + ([("other", rest)] if rest else [])
