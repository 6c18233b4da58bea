"""Where each node of a graph goes: a layered drawing, left to right, computed in Python.

A computation graph reads naturally from its inputs on the left to its output on the right,
so every node gets a *layer* (a column) and a place within it (a row).  This is the classic
recipe for drawing directed acyclic graphs (Sugiyama's), in four small steps:

1. **Layers.**  A computed node goes one column right of its furthest operand (the longest
   path from an input).  An input then moves right, to just left of the first node that uses
   it, so that a weight used late in the computation is not drawn far away from its use.
2. **Waypoints.**  An edge that skips columns gets one invisible waypoint per column it
   crosses.  Then every edge joins neighbouring columns, and the next step can treat the
   long edges like any other.
3. **Fewer crossings.**  Edges cross when two nodes sit in the opposite order to the nodes
   they connect to.  Sweeping the columns left to right and back, each node moves to the
   average row of its neighbours in the column just visited (its *barycentre*); then
   neighbours within a column swap whenever that removes crossings.  The best order seen
   is kept.  This finds no crossings where a crossing-free order exists for the small,
   tree-like graphs of the lessons, and few elsewhere; an exact minimum is NP-hard.
4. **Coordinates.**  Each node is pulled towards the average height of its neighbours, as
   far as the order and the spacing allow.  The best heights under those constraints are a
   least-squares fit with a monotonicity constraint, which the pool-adjacent-violators
   algorithm solves exactly in linear time.  Repeated a few times in both directions, this
   straightens chains and centres each node between its operands.

The cost is a few milliseconds for the lessons' graphs and well under a second at the 200
nodes the graph view draws; larger graphs are summarised, never laid out (see ``graph``).
Nothing here knows about Values or SVG: the input is node sizes and edges between indices.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Layout", "count_crossings", "layered_layout"]

Point = tuple[float, float]

# Graphs of at most this many nodes and waypoints get the thorough crossing reduction.
SMALL = 60


@dataclass(frozen=True)
class Layout:
    """The result of ``layered_layout``.

    ``x`` and ``y`` are the centres of the nodes, ``layer`` their columns.  ``rows`` lists
    each column from top to bottom, waypoints included (numbered from the number of nodes
    up), and ``segments`` every piece of edge between neighbouring columns, so that the
    crossings can be counted again (``count_crossings(rows, segments)``).
    ``routes[(u, v)]`` lists the waypoints an edge from u to v bends through (empty for an
    edge between neighbouring columns); ``crossings`` counts the pairs of segments that cross.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]
    layer: tuple[int, ...]
    rows: tuple[tuple[int, ...], ...]
    segments: tuple[tuple[int, int], ...]
    routes: dict[tuple[int, int], tuple[Point, ...]]
    width: float
    height: float
    crossings: int


def layered_layout(
    sizes: Sequence[tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    *,
    column_gap: float = 60.0,
    row_gap: float = 18.0,
    margin: float = 10.0,
    sweeps: int = 12,
) -> Layout:
    """Lay out a directed acyclic graph from left to right.

    ``sizes[i]`` is the (width, height) of node i; ``edges`` are (source, target) pairs of
    node indices, each source drawn left of its target (an operand and the node computed
    from it).  Nodes must be numbered in a topological order (every edge goes from a lower
    index to a higher one), as ``Value.topological_order()`` lists them.  Repeated edges
    (``a + a``) are allowed; they share one route.
    """
    n = len(sizes)
    unique = _check_edges(n, edges)
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for u, v in unique:
        preds[v].append(u)
        succs[u].append(v)

    layer = _assign_layers(n, preds, succs)
    depth = max(layer, default=-1) + 1

    # Waypoints: node ids n, n+1, ... each in one column, chained along its long edge.
    neighbours_up: list[list[int]] = [list(p) for p in preds]  # neighbours one column left
    neighbours_down: list[list[int]] = [[] for _ in range(n)]  # neighbours one column right
    column_of: list[int] = list(layer)
    chains: dict[tuple[int, int], list[int]] = {}
    for u, v in unique:
        span = layer[v] - layer[u]
        if span == 1:
            neighbours_down[u].append(v)
            continue
        neighbours_up[v].remove(u)
        previous = u
        chain = []
        for column in range(layer[u] + 1, layer[v]):
            w = len(column_of)
            column_of.append(column)
            neighbours_up.append([previous])
            neighbours_down.append([])
            neighbours_down[previous].append(w)
            chain.append(w)
            previous = w
        neighbours_down[previous].append(v)
        neighbours_up[v].append(previous)
        chains[(u, v)] = chain

    columns = _initial_order(n, depth, column_of, preds, chains)
    columns, crossings = _reduce_crossings(columns, neighbours_up, neighbours_down, sweeps)

    # Coordinates.  Waypoints are thin, so long edges can pass between boxes.
    total = len(column_of)
    widths = [sizes[i][0] if i < n else 0.0 for i in range(total)]
    heights = [sizes[i][1] if i < n else 4.0 for i in range(total)]
    column_width = [0.0] * depth
    for i in range(total):
        column_width[column_of[i]] = max(column_width[column_of[i]], widths[i])
    left = [0.0] * depth
    for c in range(1, depth):
        left[c] = left[c - 1] + column_width[c - 1] + column_gap
    x = [left[column_of[i]] + column_width[column_of[i]] / 2 for i in range(total)]
    y = _assign_heights(columns, neighbours_up, neighbours_down, heights, row_gap)

    top = min((y[i] - heights[i] / 2 for i in range(total)), default=0.0)
    y = [value - top + margin for value in y]
    x = [value + margin for value in x]
    width = (left[-1] + column_width[-1] if depth else 0.0) + 2 * margin
    height = max((y[i] + heights[i] / 2 for i in range(total)), default=0.0) + margin

    routes = {edge: tuple((x[w], y[w]) for w in chains.get(edge, ())) for edge in unique}
    return Layout(
        x=tuple(x[:n]),
        y=tuple(y[:n]),
        layer=tuple(layer),
        rows=tuple(tuple(col) for col in columns),
        segments=tuple((u, w) for u, targets in enumerate(neighbours_down) for w in targets),
        routes=routes,
        width=width,
        height=height,
        crossings=crossings,
    )


def count_crossings(columns: Sequence[Sequence[int]], segments: Sequence[tuple[int, int]]) -> int:
    """How many pairs of edges cross, for nodes ordered top to bottom in ``columns`` and
    edges ``segments`` between neighbouring columns.

    Two edges between the same two columns cross when their ends are in opposite orders.
    Listing the edges by their left end, the crossings are the inversions among their right
    ends, counted while merge-sorting in O(E log E).
    """
    where = {node: (c, i) for c, column in enumerate(columns) for i, node in enumerate(column)}
    between: dict[int, list[tuple[int, int]]] = {}
    for u, v in segments:
        (cu, iu), (cv, iv) = where[u], where[v]
        if cv != cu + 1:
            raise ValueError(f"segment {(u, v)} does not join neighbouring columns")
        between.setdefault(cu, []).append((iu, iv))
    return sum(_inversions([end for _, end in sorted(ends)]) for ends in between.values())


# ---------------------------------------------------------------------- the steps


def _check_edges(n: int, edges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    unique: dict[tuple[int, int], None] = {}
    for edge in edges:
        u, v = edge
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError(f"edge {edge} names a node outside 0..{n - 1}")
        if u >= v:
            raise ValueError(
                f"edge {edge} goes from a node to one listed no later: number the nodes in a "
                f"topological order, every operand before the nodes computed from it"
            )
        unique[(u, v)] = None
    return list(unique)


def _assign_layers(n: int, preds: list[list[int]], succs: list[list[int]]) -> list[int]:
    layer = [0] * n
    for v in range(n):
        if preds[v]:
            layer[v] = 1 + max(layer[u] for u in preds[v])
    for v in range(n - 1, -1, -1):  # inputs move right, next to their first use
        if not preds[v] and succs[v]:
            layer[v] = min(layer[w] for w in succs[v]) - 1
    return layer


def _initial_order(
    n: int,
    depth: int,
    column_of: list[int],
    preds: list[list[int]],
    chains: dict[tuple[int, int], list[int]],
) -> list[list[int]]:
    """A first order: depth-first from the outputs, first operands first, so that in
    ``a * b`` the node a starts above b, as it is written."""
    rank: dict[int, float] = {}
    has_user = [False] * n
    for v in range(n):
        for u in preds[v]:
            has_user[u] = True
    sinks = [v for v in range(n - 1, -1, -1) if not has_user[v]]
    stack = list(reversed(sinks))
    while stack:
        v = stack.pop()
        if v in rank:
            continue
        rank[v] = len(rank)
        stack.extend(u for u in reversed(preds[v]) if u not in rank)
    for (u, v), chain in chains.items():
        for k, w in enumerate(chain):  # a waypoint sits between its edge's two ends
            rank[w] = (rank[u] + rank[v]) / 2 + k * 1e-6
    columns: list[list[int]] = [[] for _ in range(depth)]
    for node in sorted(range(len(column_of)), key=lambda node: rank.get(node, node)):
        columns[column_of[node]].append(node)
    return columns


def _reduce_crossings(
    columns: list[list[int]],
    up: list[list[int]],
    down: list[list[int]],
    sweeps: int,
) -> tuple[list[list[int]], int]:
    """The best order found by barycentre sweeps, each followed by a local improvement.

    For small graphs (the lessons' are) the improvement is sifting, and the search starts
    again from a few shuffled orders: the heuristics can stall where only moving two nodes
    at once helps, and another start usually avoids that.  Sifting costs a time quadratic
    in the height of a column, so larger graphs get one start and the cheaper swapping of
    neighbours.
    """
    size = sum(len(col) for col in columns)
    small = size <= SMALL
    improve = _sift if small else _swap_neighbours
    best = [list(col) for col in columns]
    best_count = _crossings(best, down)
    rng = random.Random(0)  # the same drawing every time
    restarts = 12 if small else 0
    starts = [columns] + [[rng.sample(col, len(col)) for col in columns] for _ in range(restarts)]
    for start in starts:
        if best_count == 0:
            break
        current = [list(col) for col in start]
        for sweep in range(sweeps):
            if sweep % 2 == 0:  # left to right: order by the neighbours on the left
                for c in range(1, len(current)):
                    current[c] = _by_barycentre(current[c], current[c - 1], up)
            else:  # right to left: order by the neighbours on the right
                for c in range(len(current) - 2, -1, -1):
                    current[c] = _by_barycentre(current[c], current[c + 1], down)
            improve(current, up, down)
            count = _crossings(current, down)
            if count < best_count:
                best, best_count = [list(col) for col in current], count
            if best_count == 0:
                break
    return best, best_count


def _crossings(columns: list[list[int]], down: list[list[int]]) -> int:
    return count_crossings(columns, [(u, w) for u, targets in enumerate(down) for w in targets])


def _by_barycentre(column: list[int], beside: list[int], neighbours: list[list[int]]) -> list[int]:
    row = {node: i for i, node in enumerate(beside)}
    keyed = []
    for i, node in enumerate(column):
        rows = [row[w] for w in neighbours[node] if w in row]
        # A node with no neighbours on that side keeps its place.
        position = sum(rows) / len(rows) if rows else i * len(beside) / max(1, len(column))
        keyed.append((position, i, node))
    keyed.sort()
    return [node for _, _, node in keyed]


def _sift(columns: list[list[int]], up: list[list[int]], down: list[list[int]]) -> None:
    """Move each node, in turn, to the place in its column where it crosses least ("sifting").

    Which of two nodes u, v sits above the other decides how their edges cross, on both
    sides of the column: with ``cost(u, v)`` the crossings when u is above v, putting v at
    place p costs the sum of cost(u, v) over the nodes above and cost(v, u) over those below.
    Sliding v down past one node u changes that by cost(u, v) - cost(v, u), so all places
    are tried in one pass.  Stronger than swapping neighbours, which stops at the first
    place where no single swap helps.
    """
    for _ in range(4):
        moved = False
        for c, column in enumerate(columns):
            if len(column) < 2:
                continue
            left = {node: i for i, node in enumerate(columns[c - 1])} if c > 0 else {}
            right = (
                {node: i for i, node in enumerate(columns[c + 1])} if c + 1 < len(columns) else {}
            )

            def cost(a: int, b: int, left: dict = left, right: dict = right) -> int:
                return _pair_crossings(a, b, up, left) + _pair_crossings(a, b, down, right)

            for v in list(column):
                others = [u for u in column if u != v]
                here = column.index(v)
                total = sum(cost(v, u) for u in others)  # v at the top
                totals = [total]
                for u in others:  # v one place further down
                    total += cost(u, v) - cost(v, u)
                    totals.append(total)
                best = min(range(len(totals)), key=lambda place: (totals[place], place != here))
                if totals[best] < totals[here]:
                    others.insert(best, v)
                    column[:] = others
                    moved = True
        if not moved:
            return


def _swap_neighbours(columns: list[list[int]], up: list[list[int]], down: list[list[int]]) -> None:
    """Swap neighbours in a column while that removes crossings (the "greedy switch")."""
    for _ in range(4):
        moved = False
        for c, column in enumerate(columns):
            left = {node: i for i, node in enumerate(columns[c - 1])} if c > 0 else {}
            right = (
                {node: i for i, node in enumerate(columns[c + 1])} if c + 1 < len(columns) else {}
            )
            for i in range(len(column) - 1):
                a, b = column[i], column[i + 1]
                before = _pair_crossings(a, b, up, left) + _pair_crossings(a, b, down, right)
                after = _pair_crossings(b, a, up, left) + _pair_crossings(b, a, down, right)
                if after < before:
                    column[i], column[i + 1] = b, a
                    moved = True
        if not moved:
            return


def _pair_crossings(top: int, bottom: int, neighbours: list[list[int]], row: dict) -> int:
    """Crossings between the edges of ``top`` and of ``bottom`` (top above bottom) on one side."""
    mine = [row[w] for w in neighbours[top] if w in row]
    theirs = [row[w] for w in neighbours[bottom] if w in row]
    return sum(1 for p in mine for q in theirs if p > q)


def _assign_heights(
    columns: list[list[int]],
    up: list[list[int]],
    down: list[list[int]],
    heights: list[float],
    gap: float,
) -> list[float]:
    y = [0.0] * len(heights)
    offsets: list[list[float]] = []
    for column in columns:  # stacked, then centred on 0
        offset, stack = 0.0, []
        for k, node in enumerate(column):
            if k:
                offset += (heights[column[k - 1]] + heights[node]) / 2 + gap
            stack.append(offset)
        offsets.append(stack)
        for node, value in zip(column, stack):
            y[node] = value - offset / 2

    def place(c: int, neighbours: list[list[int]], both: bool = False) -> None:
        column = columns[c]
        wanted = []
        for node in column:
            near = neighbours[node] + (up[node] if both else [])
            wanted.append(sum(y[w] for w in near) / len(near) if near else y[node])
        for node, value in zip(column, _fit_in_order(wanted, offsets[c])):
            y[node] = value

    for _ in range(6):
        for c in range(1, len(columns)):
            place(c, up)
        for c in range(len(columns) - 2, -1, -1):
            place(c, down)
    for c in range(len(columns)):
        place(c, down, both=True)
    return y


def _fit_in_order(wanted: list[float], offsets: list[float]) -> list[float]:
    """Heights as close as possible (least squares) to ``wanted``, keeping the order and the
    spacing given by ``offsets``: y[k] - y[k-1] >= offsets[k] - offsets[k-1].

    With z = y - offsets the constraint says z never decreases, so this is isotonic
    regression of wanted - offsets: pool adjacent violators, merging neighbours into
    blocks that share their mean until the block means increase.
    """
    blocks: list[list[float]] = []  # [sum, count]
    for value, offset in zip(wanted, offsets):
        blocks.append([value - offset, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    fitted: list[float] = []
    for total, count in blocks:
        fitted.extend([total / count] * int(count))
    return [z + offset for z, offset in zip(fitted, offsets)]


def _inversions(values: list[int]) -> int:
    """Pairs i < j with values[i] > values[j], counted while merge-sorting."""
    count = 0
    runs = [[value] for value in values]
    while len(runs) > 1:
        merged = []
        for k in range(0, len(runs) - 1, 2):
            left, right = runs[k], runs[k + 1]
            out, i, j = [], 0, 0
            while i < len(left) and j < len(right):
                if right[j] < left[i]:  # right[j] jumps over every left value still waiting
                    count += len(left) - i
                    out.append(right[j])
                    j += 1
                else:
                    out.append(left[i])
                    i += 1
            out.extend(left[i:])
            out.extend(right[j:])
            merged.append(out)
        if len(runs) % 2:
            merged.append(runs[-1])
        runs = merged
    return count
