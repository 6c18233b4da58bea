"""The layered layout behind the graph view: edges run left to right, nodes never overlap, and
crossings are avoided wherever a crossing-free drawing exists."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from minigrad.viz.layout import count_crossings, layered_layout

BOX = (120.0, 44.0)


def random_dag(seed: int, n: int, reach: int = 4) -> list[tuple[int, int]]:
    """A connected DAG numbered in topological order, like an expression graph: every node
    after the first few has one or two operands among the ``reach`` nodes before it, and
    every node feeds the last one eventually."""
    rng = random.Random(seed)
    edges = []
    for v in range(2, n):
        for _ in range(rng.choice((1, 2, 2))):
            edges.append((rng.randrange(max(0, v - reach), v), v))
    used = {u for u, _ in edges}
    edges += [(u, n - 1) for u in range(n - 1) if u not in used]
    return edges


def brute_force_min_crossings(layout, budget: int = 200_000) -> int | None:
    """The fewest crossings any order of the same columns allows (None if too many orders)."""
    sizes = [len(col) for col in layout.rows]
    total = 1
    for size in sizes:
        total *= math.factorial(size)
        if total > budget:
            return None
    orders = [list(itertools.permutations(col)) for col in layout.rows]
    return min(count_crossings(columns, layout.segments) for columns in itertools.product(*orders))


def test_count_crossings_matches_pairs_counted_by_hand():
    # columns [a, b] and [c, d]: a-d and b-c cross; a-c and b-c do not cross each other
    a, b, c, d = 0, 1, 2, 3
    assert count_crossings([[a, b], [c, d]], [(a, d), (b, c)]) == 1
    assert count_crossings([[a, b], [c, d]], [(a, c), (b, d)]) == 0
    assert count_crossings([[a, b], [c, d]], [(a, c), (a, d), (b, c), (b, d)]) == 1
    with pytest.raises(ValueError, match="neighbouring columns"):
        count_crossings([[a], [b], [c]], [(a, c)])


@pytest.mark.parametrize("seed", range(12))
def test_edges_run_left_to_right_and_boxes_in_a_column_never_overlap(seed):
    n = 12 + seed
    edges = random_dag(seed, n)
    layout = layered_layout([BOX] * n, edges)
    for u, v in edges:
        assert layout.layer[u] < layout.layer[v]
        assert layout.x[u] < layout.x[v]
        for (x0, _), (x1, _) in itertools.pairwise([(layout.x[u], 0), *layout.routes[(u, v)]]):
            assert x0 < x1  # waypoints advance one column at a time
    for column in range(max(layout.layer) + 1):
        ys = sorted(layout.y[i] for i in range(n) if layout.layer[i] == column)
        for above, below in itertools.pairwise(ys):
            assert below - above >= BOX[1]
    for i in range(n):
        assert layout.y[i] - BOX[1] / 2 >= 0 and layout.y[i] + BOX[1] / 2 <= layout.height
        assert layout.x[i] - BOX[0] / 2 >= 0 and layout.x[i] + BOX[0] / 2 <= layout.width
    assert layout.crossings == count_crossings(layout.rows, layout.segments)


@pytest.mark.parametrize("seed", range(40))
def test_no_crossings_wherever_a_crossing_free_order_exists(seed):
    n = 6 + seed % 5
    layout = layered_layout([BOX] * n, random_dag(seed, n, reach=3))
    best = brute_force_min_crossings(layout)
    assert best is not None, "the test graph is too large to try every order"
    assert layout.crossings == count_crossings(layout.rows, layout.segments)
    if best == 0:
        assert layout.crossings == 0
    assert layout.crossings <= best + 1


def test_a_twisted_graph_is_untwisted():
    # out = p * q with p = f(b, c) and q = g(a, b): written in this order, the first layout
    # crosses; swapping a and c removes every crossing
    a, b, c, p, q, out = range(6)
    edges = [(b, p), (c, p), (a, q), (b, q), (p, out), (q, out)]
    layout = layered_layout([BOX] * 6, edges)
    assert layout.crossings == 0


def test_an_input_sits_next_to_its_first_use():
    # a chain 0 -> 2 -> 3 -> 4, and node 1, an input used only by the last node: it is drawn
    # one column before its use, not far away at the start
    layout = layered_layout([BOX] * 5, [(0, 2), (2, 3), (3, 4), (1, 4)])
    assert layout.layer == (0, 2, 1, 2, 3)
    assert layout.routes[(1, 4)] == ()


def test_chains_are_straight_and_a_node_sits_between_its_operands():
    layout = layered_layout([BOX] * 5, [(0, 1), (1, 2), (2, 3), (3, 4)])
    assert len(set(layout.y)) == 1
    # c = a * b: c level with the middle of a and b
    layout = layered_layout([BOX] * 3, [(0, 2), (1, 2)])
    assert layout.y[2] == pytest.approx((layout.y[0] + layout.y[1]) / 2)


def test_repeated_edges_share_one_route():
    layout = layered_layout([BOX] * 2, [(0, 1), (0, 1)])  # a + a
    assert list(layout.routes) == [(0, 1)]
    assert layout.crossings == 0


def test_a_long_edge_bends_through_one_waypoint_per_column():
    edges = [(0, 1), (1, 2), (2, 3), (0, 3)]
    layout = layered_layout([BOX] * 4, edges)
    assert len(layout.routes[(0, 3)]) == 2
    assert [len(col) for col in layout.rows] == [1, 2, 2, 1]


def test_bad_edges_are_named():
    with pytest.raises(ValueError, match=r"edge \(0, 5\) names a node outside 0..2"):
        layered_layout([BOX] * 3, [(0, 5)])
    with pytest.raises(ValueError, match=r"edge \(2, 1\).*topological order"):
        layered_layout([BOX] * 3, [(2, 1)])


def test_two_hundred_nodes_take_well_under_a_second_of_work():
    # generous for a loaded machine; the layout of 200 nodes takes about 0.1 s on one core
    import time

    edges = random_dag(7, 200, reach=15)
    start = time.perf_counter()
    layout = layered_layout([BOX] * 200, edges)
    assert time.perf_counter() - start < 5.0
    assert layout.crossings == count_crossings(layout.rows, layout.segments)
