"""What the engine did: the graph behind an output, and its backward pass replayed step by step.

The graph view draws this module's ``Graph`` and steps through its ``Replay``.  Nothing here
draws; everything here is plain data a test can check.

**A replay, not a simulation.**  The step-through must show what ``backward()`` did, in its
order and with its numbers.  The engines do not record their passes (recording would slow
every training step down to serve a picture), so after the engine has run, the replay walks
the same nodes again:

* in the engine's own order: ``root.topological_order()``, reversed, exactly the list
  ``backward()`` walks;
* gathering each node's gradient in full before passing it on, as both engines' backward
  passes do (their *pending* sums), and passing it on with the engine's own local
  derivatives (``_local_grads`` of a ``Value``) or the engine's own backward rule
  (``_backward`` of a ``Tensor``), with the same additions in the same order;
* and then it checks every gradient it arrived at against the ``.grad`` the engine left in
  the graph.  Same operations in the same order give the same floating-point numbers, so
  the check is equality, bit for bit.

When the check passes, every intermediate state shown is one the engine went through.  When
it fails, the view says which node disagrees and shows only the engine's final numbers:
usually the gradients were accumulated by several ``backward()`` calls, or set by hand.  If
the engine never ran (every gradient still 0), there is nothing to replay yet.

The alternative, recording during the pass, would need a hook in the engine (a callback
that ``backward()`` calls after each node); the replay gives the same frames without one.

Graphs from the student's own ``Value`` class of lesson 02 work too: any object with
``data``, ``grad``, ``_prev`` (operands in order) and ``_op`` is a node, ``label`` and
``_local_grads`` are used when present, and without a ``topological_order()`` method the
order is the engine's algorithm (an iterative depth-first search) run here.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Edge",
    "Frame",
    "Graph",
    "Node",
    "Push",
    "Replay",
    "Summary",
    "collect",
    "number",
    "replay_backward",
    "shape_text",
]


# ---------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Node:
    """One node as the view shows it: ``label`` (may be empty), ``op`` ("" for an input),
    ``kind`` ("value" or "tensor"), and for tensors ``shape`` and ``dtype``.  ``name`` is how
    explanations refer to it; ``requires_grad`` is False for a tensor no gradient flows into."""

    label: str
    op: str
    kind: str
    data: Any
    shape: tuple[int, ...] | None
    dtype: str | None
    requires_grad: bool
    name: str

    @property
    def leaf(self) -> bool:
        return not self.op


@dataclass(frozen=True)
class Edge:
    """``source`` is an operand of ``target``, in position ``slot`` of its operands."""

    source: int
    target: int
    slot: int


@dataclass
class Graph:
    """The nodes behind an output, each after its operands (the output last), and the edges
    from operands to results (``a + a`` gives two edges).  ``objects`` are the engine's
    nodes, in the same order."""

    nodes: list[Node]
    edges: list[Edge]
    objects: list[Any]
    kind: str

    @property
    def root(self) -> int:
        return len(self.nodes) - 1

    def stored_grads(self) -> tuple[Any, ...]:
        """The gradients the engine left in the graph, in node order (None: no gradient)."""
        return tuple(_grad_of(obj, node) for obj, node in zip(self.objects, self.nodes))


@dataclass(frozen=True)
class Push:
    """One use of the chain rule along one edge: the operand's gradient goes from ``before``
    to ``after`` = before + ``amount``.  For a Value, amount = ``local`` * the node's grad;
    for a Tensor, the op's backward rule computed it (``local`` is None)."""

    edge: int
    local: float | None
    amount: Any
    before: Any
    after: Any


@dataclass(frozen=True)
class Frame:
    """One state of the backward pass.

    ``kind`` is "before" (nothing computed yet), "seed" (the output's gradient set),
    "step" (``node`` passes its gradient to its operands, the ``pushes``), "done", or
    "stored" (the gradients as the engine left them, when there is no replay).  ``grads``
    holds every node's gradient at this moment (None: none received yet) and ``final`` says
    which of them can no longer change.
    """

    kind: str
    node: int | None
    pushes: tuple[Push, ...]
    grads: tuple[Any, ...]
    final: tuple[bool, ...]


@dataclass(frozen=True)
class Replay:
    """``status`` is "replayed" (the frames are the engine's pass), "not run" (no gradients
    yet), "differs" (the stored gradients are not one pass's) or "cannot replay" (the nodes
    carry no local derivatives); ``message`` explains anything but an exact replay."""

    status: str
    message: str
    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class Summary:
    """A graph too large to draw: counts, the operations used, the inputs with the largest
    gradients (label, data, grad), and the nodes closest to the output (``cut[i]`` operands
    of node i of ``near`` are not shown)."""

    kind: str
    nodes: int
    edges: int
    inputs: int
    depth: int
    ops: list[tuple[str, int]]
    largest: list[tuple[str, str, str]]
    near: Graph
    cut: dict[int, int]


# ---------------------------------------------------------------------- collecting


def collect(root: Any, max_nodes: int = 200, near: int = 40, levels: int = 6) -> Graph | Summary:
    """The graph behind ``root``, or a ``Summary`` of it when it has more than ``max_nodes``
    nodes.  Either way the work is linear in the size of the graph; only a graph of at most
    ``max_nodes`` nodes (or the ``near`` nodes of a summary) is ever laid out."""
    kind = _kind_of(root)
    order, operands = _walk(root, kind)
    if len(order) <= max_nodes:
        return _graph_of(order, operands, kind)
    return _summarise(root, order, operands, kind, near, levels)


def _kind_of(root: Any) -> str:
    if hasattr(root, "_parents") and isinstance(getattr(root, "data", None), np.ndarray):
        return "tensor"
    if hasattr(root, "_prev") and hasattr(root, "data"):
        return "value"
    raise TypeError(
        f"the graph view draws a Value or a Tensor (a node with data, grad and _prev or "
        f"_parents), not {type(root).__name__} {_short(root)}"
    )


def _operands_of(node: Any, kind: str) -> tuple[Any, ...]:
    return tuple(node._parents if kind == "tensor" else node._prev)


def _walk(root: Any, kind: str) -> tuple[list[Any], dict[int, tuple[Any, ...]]]:
    """Every node once, each after its operands, the root last, and each node's operands.

    For minigrad's Value this is the engine's own ``topological_order()``; for a Tensor (whose
    engine order leaves out constants, which the picture shows) and for other Value classes,
    the same iterative depth-first search runs here.
    """
    engine = getattr(root, "topological_order", None)
    if kind == "value" and callable(engine):
        try:
            order = list(engine())
        except Exception:  # a switched-off or broken method: walk the graph here instead
            order = None
        if order is not None and order and order[-1] is root:
            return order, {id(node): tuple(node._prev) for node in order}
    order = []
    operands: dict[int, tuple[Any, ...]] = {}
    placed: set[int] = set()
    stack = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key not in operands:
            inputs = _operands_of(node, kind)
            operands[key] = inputs
            stack.extend(p for p in reversed(inputs) if id(p) not in operands)
        else:
            stack.pop()
            if key not in placed:
                placed.add(key)
                order.append(node)
    return order, operands


def _graph_of(order: list[Any], operands: dict[int, tuple[Any, ...]], kind: str) -> Graph:
    index = {id(obj): i for i, obj in enumerate(order)}
    nodes = [_describe(obj, kind) for obj in order]
    edges = [
        Edge(index[id(p)], i, slot)
        for i, obj in enumerate(order)
        for slot, p in enumerate(operands[id(obj)])
    ]
    return Graph(nodes, edges, list(order), kind)


def _describe(obj: Any, kind: str) -> Node:
    label = str(getattr(obj, "label", "") or "")
    op = str(getattr(obj, "_op", "") or "")
    if kind == "tensor":
        data = obj.data
        shape, dtype = tuple(data.shape), str(data.dtype)
        requires_grad = bool(getattr(obj, "requires_grad", True))
        value = float(data.reshape(-1)[0]) if data.size == 1 else None
        if label:
            name = f"`{label}`"
        elif op:
            name = f"the {op} node {shape_text(shape)}"
        else:
            name = f"the input {shape_text(shape)}"
        return Node(label, op, kind, value, shape, dtype, requires_grad, name)
    data = float(obj.data)
    if label:
        name = f"`{label}`"
    elif op:
        name = f"the {op} node holding {number(data)}"
    else:
        name = f"the input {number(data)}"
    return Node(label, op, kind, data, None, None, True, name)


def _summarise(
    root: Any,
    order: list[Any],
    operands: dict[int, tuple[Any, ...]],
    kind: str,
    near: int,
    levels: int,
) -> Summary:
    depth: dict[int, int] = {}
    edges = 0
    leaves = []
    for obj in order:
        inputs_of = operands[id(obj)]
        if inputs_of:
            edges += len(inputs_of)
            depth[id(obj)] = 1 + max([depth[id(p)] for p in inputs_of])
        else:
            depth[id(obj)] = 0
            leaves.append(obj)
    ops = Counter([str(obj._op) for obj in order if obj._op])
    inputs = len(leaves)

    def size(obj: Any) -> float:
        grad = getattr(obj, "grad", None)
        if grad is None:
            return -1.0
        magnitude = float(np.linalg.norm(grad)) if kind == "tensor" else abs(float(grad))
        return -1.0 if math.isnan(magnitude) else magnitude

    largest = []
    for obj in heapq.nlargest(10, leaves, key=size):
        node = _describe(obj, kind)
        grad = _grad_of(obj, node)
        data = shape_text(node.shape) if kind == "tensor" else number(node.data)
        largest.append((node.label, data, grad_text(grad, node)))

    # The nodes nearest the output, breadth first along operands.
    chosen: dict[int, Any] = {id(root): root}
    frontier = [root]
    for _ in range(levels):
        if not frontier or len(chosen) >= near:
            break
        following = []
        for obj in frontier:
            for p in operands[id(obj)]:
                if id(p) not in chosen and len(chosen) < near:
                    chosen[id(p)] = p
                    following.append(p)
        frontier = following
    # by depth: every operand is shallower than the nodes computed from it
    shown = sorted(chosen.values(), key=lambda obj: depth[id(obj)])
    sub = {id(obj): tuple(p for p in operands[id(obj)] if id(p) in chosen) for obj in shown}
    graph = _graph_of(shown, sub, kind)
    cut = {
        i: len(operands[id(obj)]) - len(sub[id(obj)])
        for i, obj in enumerate(shown)
        if len(operands[id(obj)]) > len(sub[id(obj)])
    }
    return Summary(
        kind=kind,
        nodes=len(order),
        edges=edges,
        inputs=inputs,
        depth=depth[id(root)] + 1,
        ops=ops.most_common(),
        largest=largest,
        near=graph,
        cut=cut,
    )


# ---------------------------------------------------------------------- replaying


def replay_backward(graph: Graph) -> Replay:
    """The engine's backward pass over ``graph``, frame by frame, checked against the
    gradients the engine stored (see the module docstring)."""
    stored = graph.stored_grads()
    n = len(graph.nodes)
    if graph.kind == "value":
        if all(g == 0.0 for g in stored):
            return _no_replay("not run", "", stored)
        if not all(hasattr(obj, "_local_grads") for obj in graph.objects):
            return _no_replay(
                "cannot replay",
                "these nodes keep no local derivatives (_local_grads), so there is nothing "
                "to replay: the picture shows the gradients as they are",
                stored,
            )
        frames = _replay_values(graph)
    else:
        root = graph.objects[-1]
        if stored[-1] is None:
            return _no_replay("not run", "", stored)
        if root.data.size == 1 and not np.all(stored[-1] == 1):
            return _no_replay("differs", _accumulated(graph.nodes[-1], stored[-1], 1.0), stored)
        try:
            frames = _replay_tensors(graph)
        except Exception as error:  # a rule that cannot be called again: show the result only
            return _no_replay(
                "cannot replay",
                f"the backward rules could not be run again ({type(error).__name__}: "
                f"{error}): the picture shows the gradients as backward() left them",
                stored,
            )
    replayed = frames[-1].grads
    for i in range(n):
        if not _same(replayed[i], stored[i]):
            if _close(replayed[i], stored[i]):
                continue  # the same sum, added in another order: see the message below
            return _no_replay(
                "differs", _accumulated(graph.nodes[i], stored[i], replayed[i]), stored
            )
    message = ""
    if not all(_same(a, b) for a, b in zip(replayed, stored)):
        message = (
            "the stored gradients equal this replay up to rounding: the pass that computed "
            "them added the same terms in another order"
        )
    return Replay("replayed", message, tuple(frames))


def _no_replay(status: str, message: str, stored: tuple[Any, ...]) -> Replay:
    final = tuple(g is not None for g in stored)
    return Replay(status, message, (Frame("stored", None, (), stored, final),))


def _accumulated(node: Node, stored: Any, replayed: Any) -> str:
    return (
        f"{node.name} holds grad {grad_text(stored, node, plain=True)}, but one backward pass "
        f"from zero gives {grad_text(replayed, node, plain=True)}: gradients accumulate, so "
        f"were they added up over several backward() calls (or set by hand)?  Zero them and "
        f"call backward() once to step through the pass"
    )


def _users_count(graph: Graph) -> list[int]:
    pushes_due = [0] * len(graph.nodes)
    for edge in graph.edges:
        if graph.nodes[edge.source].requires_grad:
            pushes_due[edge.source] += 1
    return pushes_due


def _engine_order(graph: Graph) -> list[int]:
    """The engine's topological order as node indices: the list its backward walks."""
    root = graph.objects[-1]
    index = {id(obj): i for i, obj in enumerate(graph.objects)}
    engine: Callable[[], list[Any]] | None = getattr(root, "topological_order", None)
    if not callable(engine):
        return list(range(len(graph.objects)))
    return [index[id(obj)] for obj in engine()]


def _replay_values(graph: Graph) -> list[Frame]:
    """The scalar engine's backward, as it runs it: each node's pending sum, complete when
    its turn comes, goes into ``grad`` and on to its operands, times each local derivative.
    One pass from zero leaves each ``grad`` equal to its pending sum, which the frames show."""
    n = len(graph.nodes)
    root = graph.root
    edge_at = {(e.target, e.slot): k for k, e in enumerate(graph.edges)}
    grads: list[Any] = [None] * n
    due = _users_count(graph)
    final = [False] * n
    frames = [Frame("before", None, (), tuple(grads), tuple(final))]
    grads[root] = 1.0  # backward(): pending = {self: 1.0}
    final[root] = due[root] == 0
    frames.append(Frame("seed", root, (), tuple(grads), tuple(final)))
    for i in reversed(_engine_order(graph)):
        obj = graph.objects[i]
        pushes = []
        grad = grads[i] if grads[i] is not None else 0.0
        for slot, local in enumerate(obj._local_grads):
            k = edge_at[(i, slot)]
            j = graph.edges[k].source
            before = grads[j]
            amount = local * grad  # the chain rule: local derivative times the node's grad
            after = (0.0 if before is None else before) + amount
            grads[j] = after
            due[j] -= 1
            final[j] = due[j] == 0
            pushes.append(Push(k, float(local), amount, before, after))
        frames.append(Frame("step", i, tuple(pushes), tuple(grads), tuple(final)))
    frames.append(Frame("done", None, (), tuple(grads), tuple(final)))
    return frames


def _replay_tensors(graph: Graph) -> list[Frame]:
    """The tensor engine's backward, as it runs it: a node's gradient is gathered in full
    (its *pending* sum) before its rule runs, and only then stored in ``.grad``."""
    n = len(graph.nodes)
    root = graph.root
    edge_at = {(e.target, e.slot): k for k, e in enumerate(graph.edges)}
    grads: list[Any] = [None] * n
    due = _users_count(graph)
    final = [False] * n
    frames = [Frame("before", None, (), tuple(grads), tuple(final))]
    grads[root] = np.array(graph.objects[root].grad, copy=True)  # the seed backward() used
    final[root] = True
    frames.append(Frame("seed", root, (), tuple(grads), tuple(final)))
    for i in reversed(_engine_order(graph)):
        obj = graph.objects[i]
        g = grads[i]
        rule = getattr(obj, "_backward", None)
        pushes = []
        if g is not None and rule is not None:
            parents = obj._parents
            results = rule(g, obj.data, *[p.data for p in parents])
            for slot, (parent, pg) in enumerate(zip(parents, results)):
                if pg is None or not parent.requires_grad:
                    continue
                pg = np.asarray(pg)
                if pg.dtype != parent.data.dtype:
                    pg = pg.astype(parent.data.dtype)
                k = edge_at[(i, slot)]
                j = graph.edges[k].source
                before = grads[j]
                after = pg if before is None else before + pg
                grads[j] = after
                due[j] -= 1
                final[j] = due[j] == 0
                pushes.append(Push(k, None, pg, before, after))
        frames.append(Frame("step", i, tuple(pushes), tuple(grads), tuple(final)))
    frames.append(Frame("done", None, (), tuple(grads), tuple(final)))
    return frames


def _grad_of(obj: Any, node: Node) -> Any:
    grad = getattr(obj, "grad", None)
    if node.kind == "tensor":
        return None if grad is None else np.asarray(grad)
    return None if grad is None else float(grad)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return (a is None and b is None) or _is_zero(a) or _is_zero(b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    return a == b or (math.isnan(a) and math.isnan(b))


def _is_zero(x: Any) -> bool:
    """A Value that receives nothing still holds 0.0, as its engine left it."""
    return isinstance(x, float) and x == 0.0


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))


# ---------------------------------------------------------------------- text


def number(x: Any, digits: int = 4) -> str:
    """A number as the view prints it: ``digits`` significant digits, no trailing zeros."""
    if x is None:
        return "—"
    x = float(x)
    if x == 0.0:
        return "0"
    return f"{x:.{digits}g}"


def grad_text(grad: Any, node: Node, plain: bool = False, digits: int = 4) -> str:
    """A gradient as the view prints it: a number, or a tensor's norm."""
    if not node.requires_grad:
        return "no grad"
    if grad is None:
        return "0" if node.kind == "value" else "none"
    if node.kind == "value" or np.size(grad) == 1:
        return number(float(np.reshape(grad, -1)[0]), digits)
    norm = float(np.linalg.norm(grad))
    return f"norm {number(norm, digits)}" if not plain else f"of norm {number(norm, digits)}"


def shape_text(shape: tuple[int, ...] | None) -> str:
    """A shape as Python writes a tuple: (32, 16), (3,), ()."""
    return "(" + ", ".join(map(str, shape or ())) + ("," if shape and len(shape) == 1 else "") + ")"


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."
