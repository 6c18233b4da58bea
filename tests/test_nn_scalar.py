"""minigrad.nn on scalar Values: Neuron, Layer and ValueMLP.

What a network is made of (parameters, their count and order), how a seed fixes it, what
the forward pass computes, that backward() gives the true gradient of every weight, and
that the whole thing learns: a small ValueMLP trained with SGD separates the two moons.
"""

import math
import random
import re

import numpy as np
import pytest

from minigrad import Value
from minigrad.datasets import make_moons
from minigrad.nn import Layer, Module, Neuron, ValueMLP

ACTIVATIONS = {"relu": lambda z: max(z, 0.0), "tanh": math.tanh, None: lambda z: z}


def weights(model):
    return [p.data for p in model.parameters()]


def squared_error(model, inputs, targets):
    """Mean squared error of a one-output model over a batch."""
    total = Value(0.0)
    for x, t in zip(inputs, targets, strict=True):
        total = total + (model(x) - t) ** 2
    return total * (1.0 / len(inputs))


# ---------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("make", "count"),
    [
        (lambda: Neuron(5), 6),
        (lambda: Layer(4, 3), 4 * 3 + 3),
        (lambda: ValueMLP(2, [16, 16, 1]), 2 * 16 + 16 + 16 * 16 + 16 + 16 * 1 + 1),
        (lambda: ValueMLP(3, [1, 2]), 3 * 1 + 1 + 1 * 2 + 2),
        (lambda: ValueMLP(1, [1]), 2),
    ],
    ids=[
        "Neuron(5)",
        "Layer(4,3)",
        "ValueMLP(2,[16,16,1])",
        "ValueMLP(3,[1,2])",
        "ValueMLP(1,[1])",
    ],
)
def test_parameter_count_is_weights_plus_biases(make, count):
    model = make()
    assert len(model.parameters()) == count


def test_mlp_2_16_16_1_has_337_parameters():
    assert len(ValueMLP(2, [16, 16, 1]).parameters()) == 337


def test_parameters_are_distinct_value_leaves():
    params = ValueMLP(3, [4, 4, 1], seed=0).parameters()
    assert all(isinstance(p, Value) for p in params), "every parameter should be a Value"
    assert len({id(p) for p in params}) == len(params), "a parameter is listed twice"
    assert all(p._prev == () for p in params), "a parameter should be a leaf, not computed"
    assert all(type(p.data) is float for p in params)


def test_parameters_come_in_the_same_order_every_call():
    model = ValueMLP(2, [3, 2, 1], seed=0)
    first, second = model.parameters(), model.parameters()
    assert len(first) == len(second)
    assert all(a is b for a, b in zip(first, second, strict=True)), "parameters() changed order"


def test_parameters_are_listed_layer_by_layer_weights_before_bias():
    model = ValueMLP(2, [3, 1], seed=0)
    expected = []
    for layer in model.layers:
        for neuron in layer.neurons:
            expected += [*neuron.w, neuron.b]
    params = model.parameters()
    assert all(a is b for a, b in zip(params, expected, strict=True))


def test_weights_start_uniform_in_minus_one_one_and_biases_at_zero():
    model = ValueMLP(4, [32, 32, 1], seed=3)
    for layer in model.layers:
        for neuron in layer.neurons:
            assert all(-1.0 <= w.data <= 1.0 for w in neuron.w)
            assert neuron.b.data == 0.0
    ws = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    assert min(ws) < -0.9 and max(ws) > 0.9, "weights do not fill [-1, 1]"


def test_every_part_is_a_module():
    model = ValueMLP(2, [2, 1])
    assert isinstance(model, Module)
    assert all(isinstance(layer, Module) for layer in model.layers)
    assert all(isinstance(n, Module) for layer in model.layers for n in layer.neurons)


# ---------------------------------------------------------------------- seeding


@pytest.fixture
def restore_global_random_state():
    """Tests that seed the global `random` generator put it back as they found it."""
    state = random.getstate()
    yield
    random.setstate(state)


def test_same_seed_gives_identical_weights():
    assert weights(ValueMLP(2, [8, 8, 1], seed=42)) == weights(ValueMLP(2, [8, 8, 1], seed=42))


def test_different_seeds_give_different_weights():
    assert weights(ValueMLP(2, [8, 8, 1], seed=1)) != weights(ValueMLP(2, [8, 8, 1], seed=2))


def test_no_seed_gives_a_fresh_network_each_time():
    assert weights(ValueMLP(2, [8, 1])) != weights(ValueMLP(2, [8, 1]))


@pytest.mark.usefixtures("restore_global_random_state")
def test_building_a_network_leaves_the_global_random_state_alone():
    random.seed(2024)
    state = random.getstate()
    ValueMLP(2, [8, 8, 1], seed=0)
    ValueMLP(2, [8, 8, 1])
    Layer(3, 4)
    Neuron(3)
    assert random.getstate() == state, "building a network consumed the global random state"


@pytest.mark.usefixtures("restore_global_random_state")
def test_seeded_network_does_not_depend_on_the_global_random_state():
    random.seed(1)
    a = weights(ValueMLP(2, [8, 1], seed=5))
    random.seed(2)
    b = weights(ValueMLP(2, [8, 1], seed=5))
    assert a == b, "the global random state leaks into a seeded network"


def test_neuron_and_layer_draw_from_the_given_rng():
    assert weights(Neuron(4, rng=random.Random(9))) == weights(Neuron(4, rng=random.Random(9)))
    assert weights(Layer(3, 2, rng=random.Random(9))) == weights(Layer(3, 2, rng=random.Random(9)))


# ---------------------------------------------------------------------- forward


@pytest.mark.parametrize("nonlin", ["relu", "tanh", None])
@pytest.mark.parametrize("x", [[0.5, -1.5, 2.0], [-2.0, 0.25, -0.75], [0.0, 0.0, 0.0]])
def test_neuron_computes_act_of_w_dot_x_plus_b(nonlin, x):
    neuron = Neuron(3, nonlin=nonlin, rng=random.Random(0))
    neuron.b.data = -0.3
    z = neuron.b.data + sum(w.data * xi for w, xi in zip(neuron.w, x, strict=True))
    out = neuron(x)
    assert isinstance(out, Value)
    expected = ACTIVATIONS[nonlin](z)
    assert out.data == pytest.approx(expected, rel=1e-14, abs=1e-15), (
        f"{nonlin} neuron gave {out.data}, but act(w . x + b) = {expected}"
    )


def test_relu_neuron_outputs_zero_for_negative_preactivation():
    neuron = Neuron(2, nonlin="relu")
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 1.0, 1.0, -5.0
    assert neuron([1.0, 2.0]).data == 0.0
    assert neuron([3.0, 4.0]).data == 2.0


def test_linear_neuron_output_is_unbounded():
    neuron = Neuron(2, nonlin=None)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 2.0, -3.0, 0.5
    assert neuron([10.0, 1.0]).data == 17.5
    assert neuron([-10.0, 1.0]).data == -22.5


def test_neuron_accepts_values_and_floats_and_passes_gradient_to_inputs():
    neuron = Neuron(3, nonlin=None, rng=random.Random(1))
    x0, x2 = Value(0.5), Value(-2.0)
    out = neuron([x0, 1.5, x2])
    expected = sum(w.data * xi for w, xi in zip(neuron.w, [0.5, 1.5, -2.0], strict=True))
    assert out.data == pytest.approx(expected, rel=1e-14)
    out.backward()
    assert x0.grad == neuron.w[0].data and x2.grad == neuron.w[2].data
    assert [w.grad for w in neuron.w] == [0.5, 1.5, -2.0]
    assert neuron.b.grad == 1.0


def test_mlp_accepts_plain_floats_ints_and_values():
    model = ValueMLP(2, [4, 1], seed=0)
    a = model([0.5, -1.0]).data
    assert model([Value(0.5), Value(-1.0)]).data == a
    assert model((0.5, Value(-1.0))).data == a
    assert model([1, 2]).data == model([1.0, 2.0]).data


def test_mlp_accepts_a_numpy_row_from_a_dataset():
    """The datasets give numpy arrays; a row X[i] should go straight into the network."""
    X, _ = make_moons(4, noise=0.0)
    model = ValueMLP(2, [4, 1], seed=0)
    out = model(X[1])
    assert isinstance(out, Value), f"model(X[i]) returned {type(out).__name__}, not a Value"
    assert out.data == model(X[1].tolist()).data, "model(X[i]) != model(X[i].tolist())"


@pytest.mark.parametrize("nouts", [[1], [2, 1]], ids=["ValueMLP(1,[1])", "ValueMLP(1,[2,1])"])
def test_one_input_mlp_accepts_a_numpy_row_of_length_one(nouts):
    model = ValueMLP(1, nouts, seed=0)
    out = model(np.array([0.5]))
    assert isinstance(out, Value), f"model(np.array([0.5])) returned {type(out).__name__}"
    assert out.data == model([0.5]).data


def test_layer_of_one_neuron_returns_a_single_value():
    out = Layer(3, 1, rng=random.Random(0))([1.0, 2.0, 3.0])
    assert isinstance(out, Value)


@pytest.mark.parametrize("nout", [2, 5])
def test_layer_of_several_neurons_returns_a_list_of_values(nout):
    layer = Layer(3, nout, nonlin="tanh", rng=random.Random(0))
    out = layer([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == nout
    assert all(isinstance(o, Value) for o in out)
    assert [o.data for o in out] == [n([1.0, 2.0, 3.0]).data for n in layer.neurons]


def test_mlp_with_a_one_neuron_hidden_layer_feeds_it_on():
    model = ValueMLP(3, [1, 2], seed=0)
    out = model([0.5, -0.5, 1.0])
    assert isinstance(out, list) and len(out) == 2
    hidden = model.layers[0]([0.5, -0.5, 1.0])
    assert [o.data for o in out] == [o.data for o in model.layers[1]([hidden])]


def test_mlp_output_layer_is_linear_and_hidden_layers_use_nonlin():
    model = ValueMLP(2, [3, 3, 1], nonlin="tanh", seed=0)
    reprs = [repr(n).lower() for layer in model.layers for n in layer.neurons]
    assert all("tanh" in r for r in reprs[:6]), f"hidden neurons: {reprs[:6]}"
    assert "linear" in reprs[6], f"output neuron: {reprs[6]}"


@pytest.mark.parametrize("nonlin", ["relu", "tanh"])
def test_mlp_output_can_be_negative_and_beyond_one(nonlin):
    model = ValueMLP(2, [4, 1], nonlin=nonlin, seed=0)
    for neuron in model.layers[0].neurons:
        for w in neuron.w:
            w.data = 1.0
    out_neuron = model.layers[1].neurons[0]
    for sign in (1.0, -1.0):
        for w in out_neuron.w:
            w.data = 3.0 * sign
        out = model([1.0, 1.0]).data
        # hidden outputs are act(2) each; four of them times 3 is well outside [-1, 1]
        expected = sign * 12.0 * ACTIVATIONS[nonlin](2.0)
        assert out == pytest.approx(expected), f"output {out}, expected {expected}"
        assert abs(out) > 1.0, "the output layer squashes: it should be linear"
    assert model([1.0, 1.0]).data < 0.0


def test_mlp_composes_its_layers():
    model = ValueMLP(2, [3, 2], nonlin="tanh", seed=4)
    x = [0.3, -0.8]
    h = model.layers[0](x)
    out = model(x)
    assert [o.data for o in out] == [o.data for o in model.layers[1](h)]


@pytest.mark.parametrize(
    ("model", "x", "expected", "got"),
    [
        (Neuron(3), [1.0, 2.0], 3, 2),
        (Layer(4, 2), [1.0], 4, 1),
        (ValueMLP(3, [4, 1]), [1.0, 2.0], 3, 2),
        (ValueMLP(2, [4, 1]), [1.0, 2.0, 3.0, 4.0, 5.0], 2, 5),
    ],
    ids=["neuron", "layer", "mlp-short", "mlp-long"],
)
def test_wrong_number_of_inputs_names_both_lengths(model, x, expected, got):
    with pytest.raises(ValueError) as excinfo:
        model(x)
    message = str(excinfo.value)
    assert re.search(rf"\b{expected}\b", message) and re.search(rf"\b{got}\b", message), (
        f"the error should name the expected ({expected}) and given ({got}) lengths: {message!r}"
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: Neuron(2, nonlin="sigmoid"),
        lambda: Neuron(2, nonlin="ReLU"),
        lambda: Layer(2, 3, nonlin="softplus"),
        lambda: ValueMLP(2, [4, 1], nonlin="linear"),
    ],
    ids=["neuron-sigmoid", "neuron-ReLU", "layer", "mlp"],
)
def test_invalid_nonlin_is_an_error_naming_nonlin(make):
    with pytest.raises(ValueError, match="nonlin"):
        make()


def test_invalid_nonlin_is_rejected_even_without_hidden_layers():
    """ValueMLP(2, [1]) has no hidden layer to use nonlin, but a typo should still be caught."""
    with pytest.raises(ValueError, match="nonlin"):
        ValueMLP(2, [1], nonlin="tahn")


# ---------------------------------------------------------------------- backward


def test_mlp_gradients_match_central_differences():
    model = ValueMLP(3, [4, 4, 1], nonlin="tanh", seed=1)
    inputs = [[0.5, -1.0, 2.0], [-0.3, 0.8, 0.1], [1.2, 0.4, -0.7], [0.0, -1.5, 0.9]]
    targets = [1.0, -1.0, 0.5, -0.2]
    params = model.parameters()
    for p in params:  # nonzero biases, so their gradients are tested at a generic point
        p.data += 0.1
    loss = squared_error(model, inputs, targets)
    model.zero_grad()
    loss.backward()
    assert any(abs(p.grad) > 1e-3 for p in params), "all gradients are (nearly) zero"
    assert_gradients_match_central_differences(model, inputs, targets)


def assert_gradients_match_central_differences(model, inputs, targets, eps=1e-6):
    """Each parameter's grad (already computed) against a central difference of the loss."""
    for i, p in enumerate(model.parameters()):
        analytic = p.grad
        original = p.data
        p.data = original + eps
        up = squared_error(model, inputs, targets).data
        p.data = original - eps
        down = squared_error(model, inputs, targets).data
        p.data = original
        numerical = (up - down) / (2 * eps)
        assert analytic == pytest.approx(numerical, rel=1e-5, abs=1e-8), (
            f"parameter {i}: backward() gives {analytic!r}, central difference {numerical!r}"
        )


def test_relu_mlp_gradients_match_central_differences_away_from_kinks():
    model = ValueMLP(2, [5, 1], nonlin="relu", seed=2)
    inputs = [[0.7, -0.4], [-1.1, 0.9], [0.2, 0.3]]
    targets = [0.5, -1.0, 2.0]
    params = model.parameters()
    for p in params:
        p.data += 0.05
    loss = squared_error(model, inputs, targets)
    model.zero_grad()
    loss.backward()
    assert_gradients_match_central_differences(model, inputs, targets)


# ---------------------------------------------------------------------- zero_grad


def test_zero_grad_resets_every_parameter():
    model = ValueMLP(2, [4, 4, 1], nonlin="tanh", seed=0)
    loss = squared_error(model, [[0.5, -0.5], [1.0, 2.0]], [1.0, -1.0])
    loss.backward()
    assert sum(p.grad != 0.0 for p in model.parameters()) > 0
    model.zero_grad()
    bad = [(i, p.grad) for i, p in enumerate(model.parameters()) if p.grad != 0.0]
    assert not bad, f"zero_grad left gradients behind: {bad[:5]}"
    assert all(type(p.grad) is float for p in model.parameters()), "grad should be a float"


@pytest.mark.parametrize("make", [lambda: Neuron(3), lambda: Layer(3, 2)], ids=["neuron", "layer"])
def test_zero_grad_works_on_neurons_and_layers(make):
    module = make()
    for p in module.parameters():
        p.grad = 3.5
    module.zero_grad()
    assert all(p.grad == 0.0 and type(p.grad) is float for p in module.parameters())


def test_forgetting_zero_grad_doubles_the_next_gradient():
    model = ValueMLP(2, [4, 1], nonlin="tanh", seed=0)
    inputs, targets = [[0.5, -0.5], [1.0, 2.0]], [1.0, -1.0]

    squared_error(model, inputs, targets).backward()
    once = [p.grad for p in model.parameters()]
    squared_error(model, inputs, targets).backward()  # no zero_grad in between
    twice = [p.grad for p in model.parameters()]
    # equal up to rounding: the second pass may add its terms onto the first pass's sum
    assert twice == pytest.approx([2 * g for g in once], rel=1e-12, abs=1e-15), (
        "without zero_grad, a second backward() should add the same gradient again"
    )

    model.zero_grad()
    squared_error(model, inputs, targets).backward()
    after = [p.grad for p in model.parameters()]
    assert after == pytest.approx(once, rel=1e-12, abs=1e-15), (
        "after zero_grad, backward() should give the plain gradient again"
    )


# ---------------------------------------------------------------------- training


def accuracy(model, rows, signs):
    return sum((model(x).data > 0) == (s > 0) for x, s in zip(rows, signs, strict=True)) / len(rows)


@pytest.mark.slow
def test_mlp_learns_the_moons_with_sgd_and_a_max_margin_loss():
    X, y = make_moons(100, noise=0.1, seed=0)
    rows = X.tolist()
    signs = [2.0 * float(label) - 1.0 for label in y]  # 0/1 -> -1/+1
    model = ValueMLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    start_accuracy = accuracy(model, rows, signs)

    steps, lr_start, lr_end = 40, 1.0, 0.1
    losses = []
    for step in range(steps):
        scores = [model(x) for x in rows]
        margins = [(1.0 - s * score).relu() for s, score in zip(signs, scores, strict=True)]
        data_loss = sum(margins) * (1.0 / len(margins))
        l2 = 1e-4 * sum(p * p for p in params)
        loss = data_loss + l2
        losses.append(loss.data)
        model.zero_grad()
        loss.backward()
        lr = lr_start + (lr_end - lr_start) * step / (steps - 1)
        for p in params:
            p.data -= lr * p.grad

    final_accuracy = accuracy(model, rows, signs)
    assert final_accuracy >= 0.95, (
        f"after {steps} SGD steps the ValueMLP classifies {final_accuracy:.0%} of the moons "
        f"(started at {start_accuracy:.0%}; loss {losses[0]:.3f} -> {losses[-1]:.3f})"
    )
    assert losses[-1] < 0.5 * losses[0], f"the loss barely fell: {losses[0]} -> {losses[-1]}"
    assert all(math.isfinite(p.data) for p in params)


def test_one_sgd_step_on_the_margin_loss_lowers_it():
    X, y = make_moons(20, noise=0.1, seed=1)
    rows, signs = X.tolist(), [2.0 * float(label) - 1.0 for label in y]
    model = ValueMLP(2, [8, 1], seed=0)

    def margin_loss():
        total = sum((1.0 - s * model(x)).relu() for x, s in zip(rows, signs, strict=True))
        return total * (1.0 / len(rows))

    loss = margin_loss()
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= 0.05 * p.grad
    assert margin_loss().data < loss.data, "a small step against the gradient raised the loss"


# ---------------------------------------------------------------------- repr


@pytest.mark.parametrize(("nonlin", "kind"), [("relu", "relu"), ("tanh", "tanh"), (None, "linear")])
def test_neuron_repr_names_its_kind_and_input_count(nonlin, kind):
    text = repr(Neuron(7, nonlin=nonlin))
    assert kind in text.lower(), f"{text!r} does not say it is {kind}"
    assert "7" in text, f"{text!r} does not give the number of inputs"


def test_layer_repr_shows_each_neuron():
    layer = Layer(5, 3, nonlin="tanh")
    text = repr(layer)
    assert text.lower().count("tanh") == 3, f"{text!r} should show three tanh neurons"
    assert all(repr(n) in text for n in layer.neurons)
    assert "5" in text


def test_mlp_repr_shows_every_layer_and_the_linear_output():
    model = ValueMLP(2, [16, 16, 1])
    text = repr(model)
    assert all(repr(layer) in text for layer in model.layers), text
    assert text.lower().count("relu") == 32, "the 32 hidden neurons should be shown as relu"
    assert text.lower().count("linear") == 1, "the output neuron should be shown as linear"


@pytest.mark.parametrize("nin, nouts", [(2, []), (2, 3), (0, [1]), (2, [4, 0]), (2, [2.5, 1])])
def test_bad_layer_sizes_are_an_error_naming_them(nin, nouts):
    with pytest.raises(ValueError, match=r"nouts|layer sizes"):
        ValueMLP(nin, nouts)
