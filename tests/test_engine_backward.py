"""The backward pass: order, seeding, accumulation, reuse, depth, and memory.

Each of micrograd's known failure modes has a regression test here, named for it.
"""

import gc
import math
import sys
import weakref

import pytest

from minigrad import Value

# ---------------------------------------------------------------------- reuse and order


def test_add_of_a_node_with_itself_keeps_two_edges():
    """micrograd keeps operands in a set: a + a has one edge and d(a + a)/da comes out 1."""
    a = Value(3.0)
    out = a + a
    assert out._prev == (a, a)
    out.backward()
    assert a.grad == 2.0


def test_mul_of_a_node_with_itself_gives_2a():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0


def test_diamond_sums_both_paths():
    # x feeds y and z, which meet again in out: d(out)/dx = dy/dx * z + y * dz/dx
    x = Value(0.7)
    y = x.tanh()
    z = x.exp()
    out = y * z
    out.backward()
    expected = (1 - math.tanh(0.7) ** 2) * math.exp(0.7) + math.tanh(0.7) * math.exp(0.7)
    assert x.grad == pytest.approx(expected, rel=1e-15)


def test_one_node_feeding_a_thousand_others():
    x = Value(2.0)
    total = Value(0.0)
    for k in range(1000):
        total = total + x * float(k)
    total.backward()
    assert x.grad == sum(range(1000))
    assert type(x.grad) is float


def test_reused_intermediate_node_accumulates_before_passing_on():
    x = Value(1.5)
    h = x * x  # used three times below
    out = h + h * h + h.tanh()
    out.backward()
    hv = 1.5 * 1.5
    dout_dh = 1 + 2 * hv + (1 - math.tanh(hv) ** 2)
    assert h.grad == pytest.approx(dout_dh, rel=1e-15)
    assert x.grad == pytest.approx(dout_dh * 3.0, rel=1e-15)


def test_topological_order_puts_operands_before_results():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d.tanh() * c
    order = e.topological_order()
    assert order[-1] is e
    assert len(order) == len(set(order)) == 6
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for operand in node._prev:
            assert position[operand] < position[node]


def test_backward_seeds_the_output_with_one():
    out = Value(5.0)
    out.backward()
    assert out.grad == 1.0 and type(out.grad) is float


def test_gradients_are_floats_even_for_integer_data():
    """micrograd starts grad at the int 0, so untouched gradients stay ints."""
    a, b = Value(2), Value(3)
    unused = Value(4)
    out = a * b
    out.backward()
    for v in (a, b, out, unused):
        assert type(v.grad) is float
        assert type(v.data) is float


def test_number_to_the_power_of_a_value():
    """micrograd supports only number exponents; 2 ** a fails there."""
    a = Value(3.0)
    out = 2**a
    out.backward()
    assert out.data == 8.0
    assert a.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-15)


def test_tanh_of_a_large_input_does_not_overflow():
    """micrograd computes tanh from exp(2x), which raises OverflowError past x = 355."""
    a = Value(1000.0)
    out = a.tanh()
    out.backward()
    assert out.data == 1.0 and a.grad == 0.0


# ---------------------------------------------------------------------- repeated passes


def test_second_backward_accumulates_every_gradient_exactly():
    """micrograd re-propagates already-accumulated gradients, so a second backward()
    over-counts every node below the first one.  Here each pass adds exactly d(out)/d(node),
    for leaves and intermediate nodes alike, as PyTorch does with retain_graph=True."""
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c.tanh() + c * 2.0
    out = d * d
    out.backward()
    first = {name: v.grad for name, v in dict(a=a, b=b, c=c, d=d, out=out).items()}
    out.backward()
    second = {name: v.grad for name, v in dict(a=a, b=b, c=c, d=d, out=out).items()}
    for name in first:
        assert second[name] == pytest.approx(2 * first[name], rel=1e-15), name


def test_backward_from_a_leaf_twice_accumulates():
    a = Value(3.0)
    a.backward()
    a.backward()
    assert a.grad == 2.0


def test_intermediate_node_shared_by_two_outputs():
    x = Value(0.3)
    h = x.tanh()
    y1 = h * 2.0
    y2 = h * 3.0
    y1.backward()
    y2.backward()
    assert h.grad == 5.0
    assert x.grad == pytest.approx(5.0 * (1 - math.tanh(0.3) ** 2), rel=1e-15)


def test_zeroing_between_passes_gives_fresh_gradients():
    x = Value(2.0)
    (x * x).backward()
    x.grad = 0.0
    (x * x * x).backward()
    assert x.grad == 12.0


# ---------------------------------------------------------------------- depth


@pytest.mark.slow
def test_chain_of_a_million_nodes_at_the_default_recursion_limit():
    """micrograd's recursive topological sort raises RecursionError at about 330 nodes."""
    assert sys.getrecursionlimit() <= 1000 or pytest.skip("recursion limit was raised")
    x = Value(0.5)
    y = x
    for _ in range(500_000):
        y = (-y).tanh()
    order = y.topological_order()
    assert len(order) == 1_000_001
    y.backward()
    # compare with the derivative computed step by step in plain floats
    v, g = 0.5, 1.0
    for _ in range(500_000):
        t = math.tanh(-v)
        g *= -(1.0 - t * t)
        v = t
    assert y.data == v
    assert x.grad == pytest.approx(g, rel=1e-9)
    del y, order  # freeing a million-deep chain must not overflow the C stack either


def test_deep_chain_of_ten_thousand_nodes():
    x = Value(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**10_000, rel=1e-9)


# ---------------------------------------------------------------------- memory


def _build_graph(x):
    h = (x * 2.0 + 1.0).tanh()
    return (h * h + h.exp() - x / 3.0).relu() + h**2


def test_graph_is_freed_by_reference_counting_alone():
    """micrograd's backward closures refer to their own output node, so every node is in a
    reference cycle and only the cycle collector frees a graph.  Here dropping the last
    reference frees every node at once, with the collector switched off."""
    gc.collect()
    gc.disable()
    try:
        x = Value(0.5)
        out = _build_graph(x)
        out.backward()
        watchers = [weakref.ref(node) for node in out.topological_order() if node is not x]
        assert len(watchers) > 10
        del out
        assert all(w() is None for w in watchers), "some nodes outlived their graph"
        assert x.grad != 0.0  # leaves keep their gradients
    finally:
        gc.enable()


def test_training_loop_creates_no_garbage_cycles():
    from minigrad.nn import ValueMLP

    model = ValueMLP(2, [4, 1], seed=0)
    gc.collect()
    gc.disable()
    try:
        for step in range(20):
            x = [0.1 * step, -0.2]
            loss = (model(x) - 1.0) ** 2
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= 0.01 * p.grad
        del loss
        assert gc.collect() == 0, "the training loop left reference cycles behind"
    finally:
        gc.enable()
