"""The graph view: the replay is the engine's own backward pass, number for number; the widget
holds the picture and the numbers and moves its highlight with the slider; large graphs are
summarised in time linear in their size."""

from __future__ import annotations

import base64
import random
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from minigrad import Tensor, Value
from minigrad.functional import cross_entropy
from minigrad.nn import MLP
from minigrad.viz import graph
from minigrad.viz import svg as svg_module
from minigrad.viz.trace import collect, replay_backward


def example():
    """Lesson 03's running example f = (a*b + a) * (a*b): a and c are used twice."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    d = c + a
    f = d * c
    c.label, d.label, f.label = "c", "d", "f"
    return a, b, c, d, f


def apply(op, a, b):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "a+a":
        return a + a
    if op == "a*a":
        return a * a
    if op == "exp":
        return (a * 0.3).exp()
    return getattr(a, op)()


def random_graph(seed, n_ops=20):
    """A random expression with reused nodes, as in lesson 03's tests."""
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(-1.5, 1.5), label=f"x{i}") for i in range(4)]
    for _ in range(n_ops):
        a = rng.choice(nodes[-3:]) if rng.random() < 0.7 else rng.choice(nodes)
        b = rng.choice(nodes)
        op = rng.choice(["+", "-", "*", "a+a", "a*a", "tanh", "sigmoid", "exp"])
        nodes.append(apply(op, a, b))
    return nodes[-1]


def current_label(svg: str) -> str:
    return re.search(r'data-current="([^"]*)"', svg).group(1)


# ---------------------------------------------------------------------- the replay


@pytest.mark.parametrize("seed", range(15))
def test_replay_follows_the_engines_order_and_ends_at_its_gradients_exactly(seed):
    out = random_graph(seed)
    out.backward()
    g = collect(out)
    replay = replay_backward(g)
    assert replay.status == "replayed" and replay.message == ""
    steps = [frame for frame in replay.frames if frame.kind == "step"]
    visited = [g.objects[frame.node] for frame in steps]
    assert visited == list(reversed(out.topological_order()))  # the order backward() walks
    final = replay.frames[-1].grads
    for node, grad in zip(g.objects, final):
        assert grad == node.grad  # bit for bit, not approximately


@pytest.mark.parametrize("seed", range(10))
def test_every_push_is_a_chain_rule_product_and_a_node_is_final_when_it_steps(seed):
    out = random_graph(seed)
    out.backward()
    g = collect(out)
    replay = replay_backward(g)
    for frame in replay.frames:
        if frame.kind != "step":
            continue
        node = g.objects[frame.node]
        assert frame.final[frame.node]  # every user has pushed already
        assert frame.grads[frame.node] == node.grad
        locals_ = list(node._local_grads)
        assert [p.local for p in frame.pushes] == locals_
        for push in frame.pushes:
            assert push.amount == push.local * frame.grads[frame.node]
            assert push.after == (push.before or 0.0) + push.amount


def test_replay_of_the_running_example_shows_each_contribution():
    a, *_, f = example()
    f.backward()
    replay = replay_backward(collect(f))
    pushes_into_a = [
        (p.before, p.amount, p.after)
        for frame in replay.frames
        for p in frame.pushes
        if collect(f).objects[collect(f).edges[p.edge].source] is a
    ]
    assert pushes_into_a == [(None, -6.0, -6.0), (-6.0, 30.0, 24.0)]


def test_no_replay_before_backward_and_none_after_two_passes():
    *_, f = example()
    assert replay_backward(collect(f)).status == "not run"
    f.backward()
    f.backward()  # gradients accumulate: every grad is twice the derivative
    replay = replay_backward(collect(f))
    assert replay.status == "differs"
    assert "accumulate" in replay.message and "48" in replay.message
    assert len(replay.frames) == 1 and replay.frames[0].kind == "stored"


class StudentValue:
    """Lesson 02's own Value class: the fields, no methods of minigrad's."""

    def __init__(self, data, _prev=(), _op="", _local_grads=(), label=""):
        self.data, self.grad = float(data), 0.0
        self._prev, self._op = tuple(_prev), _op
        self._local_grads, self.label = tuple(_local_grads), label

    def __mul__(self, other):
        return StudentValue(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __add__(self, other):
        return StudentValue(self.data + other.data, (self, other), "+", (1.0, 1.0))


def test_a_students_value_class_and_hand_made_walk_are_replayed():
    a, b, c, f = (StudentValue(x, label=n) for x, n in [(3, "a"), (-2, "b"), (4, "c"), (-1.5, "f")])
    d = a * b
    e = d + c
    L = e * f
    L.grad = 1.0
    for node in (L, e, d):  # backprop_step by hand, as in lesson 02
        for operand, local in zip(node._prev, node._local_grads):
            operand.grad += local * node.grad
    replay = replay_backward(collect(L))
    assert replay.status == "replayed"
    assert replay.frames[-1].grads[:2] == (a.grad, b.grad) == (3.0, -4.5)
    d.grad = 0.0  # a wrong walk is reported, not replayed
    replay = replay_backward(collect(L))
    assert replay.status == "differs" and "holds grad 0" in replay.message


def test_nodes_without_local_derivatives_are_drawn_but_not_replayed():
    class Closure:
        def __init__(self, data, prev=()):
            self.data, self.grad, self._prev, self._op, self.label = data, 1.0, prev, "f", ""

    out = Closure(2.0, (Closure(1.0),))
    replay = replay_backward(collect(out))
    assert replay.status == "cannot replay" and "_local_grads" in replay.message


def tensor_loss():
    X = Tensor(np.random.default_rng(0).normal(size=(8, 2)), label="X")
    model = MLP(2, [4, 3], seed=0)
    loss = cross_entropy(model(X), np.array([0, 1, 2, 0, 1, 2, 0, 1]))
    loss.label = "loss"
    return loss, model


def test_tensor_graphs_replay_the_engines_rules_and_end_at_its_gradients():
    loss, model = tensor_loss()
    loss.backward()
    g = collect(loss)
    replay = replay_backward(g)
    assert replay.status == "replayed", replay.message
    for node, grad in zip(g.objects, replay.frames[-1].grads):
        if node.requires_grad:
            np.testing.assert_array_equal(grad, node.grad)
        else:
            assert grad is None
    for p in model.parameters():
        assert any(obj is p for obj in g.objects)


def test_tensor_nodes_show_shapes_and_dtypes_instead_of_numbers():
    loss, _ = tensor_loss()
    loss.backward()
    view = graph(loss)
    svg = view.svg
    for text in ("(8, 2) float64", "(4, 2) float64", "(3,) float64", "(8, 3) float64", "no grad"):
        assert text in svg
    assert "grad norm" in svg
    assert "data 1.083" in svg  # a one-element tensor shows its number
    x_node = re.search(r'<g class="mg-node"[^>]*data-label="X".*?</g>', svg).group(0)
    assert "data " not in x_node  # an (8, 2) array is not printed


# ---------------------------------------------------------------------- the widget


def test_widget_state_holds_the_svg_with_labels_and_numbers():
    *_, f = example()
    f.backward()
    view = graph(f, title="lesson 03's example")
    svg = view.picture.value
    assert svg.startswith("<svg") and "lesson 03&#x27;s example" in svg
    for label in "abcdf":
        assert f'data-label="{label}"' in svg
    for text in ("data 2", "data -3", "data -6", "data -4", "data 24"):
        assert text in svg
    for text in ("grad 24", "grad -20", "grad -10", "grad -6", "grad 1"):
        assert text in svg
    assert view.slider.value == view.slider.max == len(view.frames) - 1 == 7


def test_moving_the_slider_moves_the_highlight_and_explains_the_step():
    *_, f = example()
    f.backward()
    view = graph(f, step=0)
    assert current_label(view.picture.value) == ""
    seen = []
    for k in range(view.slider.max + 1):
        view.slider.value = k
        seen.append(current_label(view.picture.value))
    assert seen == ["", "f", "f", "d", "c", "b", "a", ""]
    view.slider.value = 4  # c = a * b passes -10 on
    assert 'class="mg-node mg-current" data-index' in view.picture.value
    info = view.info.value
    assert "c = a * b" in info and "(-3) \u00d7 (-10) = 30" in info and "<b>24</b>" in info
    receivers = re.findall(r'class="mg-node mg-receiver"[^>]*data-label="(\w)"', view.picture.value)
    assert sorted(receivers) == ["a", "b"]
    assert view.picture.value.count('class="mg-edge mg-active"') == 2


def test_step_buttons_move_one_frame_and_stop_at_the_ends():
    *_, f = example()
    f.backward()
    view = graph(f, step=0)
    view.back.click()
    assert view.frame == 0
    view.forward.click()
    view.forward.click()
    assert view.frame == 2 and current_label(view.svg) == "f"
    for _ in range(20):
        view.forward.click()
    assert view.frame == view.slider.max


def test_play_drives_the_slider_in_the_browser():
    *_, f = example()
    f.backward()
    view = graph(f)
    assert view.play_link.source == (view.play, "value")
    assert view.play_link.target == (view.slider, "value")
    assert view.play.max == view.slider.max


def test_run_backward_button_runs_the_engine_then_steps_through_it():
    a, *_, f = example()
    view = graph(f)
    assert view.replay.status == "not run" and view.run in view.children[1].children
    assert "run backward()" in view.info.value
    view.run.click()
    assert a.grad == 24.0
    assert view.replay.status == "replayed" and view.frame == 0 and view.slider.max == 7


def test_no_run_button_for_a_tensor_output_of_many_numbers():
    x = Tensor([1.0, 2.0], requires_grad=True, label="x")
    view = graph(x * 3.0)
    assert view.replay.status == "not run"
    assert all(view.run not in getattr(row, "children", ()) for row in view.children)
    assert "run backward()" not in view.info.value
    assert "run backward()" in graph((x * 3.0).sum()).info.value


def test_without_a_kernel_the_view_leaves_a_static_picture():
    *_, f = example()
    f.backward()
    bundle = graph(f, step=3)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", html).group(1)).decode()
    assert 'data-current="d"' in svg and 'data-label="a"' in svg


def test_a_reused_node_gets_one_arrow_per_use():
    a = Value(5.0, label="a")
    y = a + a
    y.label = "y"
    y.backward()
    view = graph(y, step=2)
    assert view.svg.count('class="mg-edge mg-active"') == 2
    assert "grad 2" in graph(y).svg


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match=r"draws a Value or a Tensor.*not int 3"):
        graph(3)
    *_, f = example()
    f.backward()
    with pytest.raises(ValueError, match="step must be a frame number from 0 to 7"):
        graph(f, step=9)
    with pytest.raises(ValueError, match="max_nodes must be a positive integer"):
        graph(f, max_nodes=0)


# ---------------------------------------------------------------------- large graphs


def chain_of(n):
    x = Value(0.5, label="x")
    y = x
    for _ in range(n // 3):  # three nodes per step: the constant, the product, the tanh
        y = (y * 1.0001).tanh()
    y.label = "y"
    return x, y


def test_two_hundred_nodes_are_drawn_in_full():
    out = random_graph(1, n_ops=1)
    while len(out.topological_order()) < 195:
        out = out * 0.999 + out.tanh() * 0.001 if len(out.topological_order()) < 190 else out + 1
    out.backward()
    start = time.perf_counter()
    view = graph(out)
    assert time.perf_counter() - start < 20.0  # about a second on one busy core
    assert view.summary is None and view.replay.status == "replayed"
    assert view.svg.count('class="mg-node') == len(out.topological_order())


def test_a_graph_of_100000_nodes_is_summarised_without_laying_it_out(monkeypatch):
    _, y = chain_of(100_000)
    y.backward()
    laid_out = []
    real = svg_module.layered_layout

    def watched(sizes, edges, **kwargs):
        laid_out.append(len(sizes))
        return real(sizes, edges, **kwargs)

    monkeypatch.setattr(svg_module, "layered_layout", watched)
    start = time.perf_counter()
    view = graph(y)
    elapsed = time.perf_counter() - start
    assert view.summary is not None and view.summary.nodes == len(y.topological_order())
    assert laid_out and max(laid_out) <= 40  # only the neighbourhood of the output
    assert elapsed < 10.0  # linear work: about 0.3 s on one busy core
    info = view.info.value
    assert "100,000 nodes" in info and "tanh" in info and "33,333" in info
    assert view.slider not in view.children
    assert 'data-label="y"' in view.svg and 'data-label="x"' not in view.svg
    inputs = [node for node in y.topological_order() if not node._prev]
    largest = max(abs(node.grad) for node in inputs)
    assert view.summary.largest[0][2] == f"{largest:.4g}"  # the inputs with the largest grads


def test_max_nodes_moves_the_limit():
    _, y = chain_of(300)
    y.backward()
    assert graph(y).summary is not None
    assert graph(y, max_nodes=400).summary is None


def test_importing_minigrad_viz_does_not_import_ipywidgets():
    code = "import sys, minigrad.viz; print('ipywidgets' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
