"""minigrad.nn on Tensors (Module, Linear, activations, Sequential, MLP) and minigrad.optim.

What a module's parameters are and how they are found and named, what a Linear layer holds
and computes, how Sequential and MLP are put together, that SGD and Adam take exactly the
steps their formulas say (checked against the formulas worked out by hand in numpy), that
they update in place without recording a graph, and that the whole thing learns: an MLP
trained with Adam separates three spirals, and one trained with SGD separates blobs.
"""

import math

import numpy as np
import pytest

from minigrad import Tensor, Value, no_grad
from minigrad.datasets import make_blobs, make_spirals
from minigrad.functional import cross_entropy
from minigrad.nn import MLP, Linear, Module, ReLU, Sequential, Sigmoid, Tanh, ValueMLP
from minigrad.optim import SGD, Adam

ACTIVATIONS = {
    "relu": (ReLU, lambda z: np.maximum(z, 0.0)),
    "tanh": (Tanh, np.tanh),
    "sigmoid": (Sigmoid, lambda z: 1.0 / (1.0 + np.exp(-z))),
}


def param(*shape, seed=0):
    """A fresh leaf tensor that requires grad, filled with normal noise."""
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def frozen(*shape):
    return Tensor(np.ones(shape), requires_grad=False)


def weights(model):
    return [p.data.copy() for p in model.parameters()]


def same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def accuracy(model, X, y):
    with no_grad():
        return float((model(Tensor(X)).argmax(axis=1) == y).mean())


class Bag(Module):
    """Parameters in every kind of place the search looks: attributes, lists, tuples,
    dicts, sub-modules, alongside things that are not parameters."""

    def __init__(self):
        self.a = param(2, seed=1)
        self.frozen = frozen(3)
        self._hidden = param(2, seed=2)
        self.items = [param(1, seed=3), (param(2, 2, seed=4), frozen(2), param(3, seed=5))]
        self.table = {"x": param(4, seed=6), "_private": param(1, seed=7), "sub": Linear(2, 3)}
        self.child = Linear(3, 1, bias=False)
        self.v = Value(1.5)
        self.label = "not a parameter"
        self.count = 7
        self.array = np.ones(3)


# ---------------------------------------------------------------------- Module


def test_parameters_are_found_in_attributes_lists_tuples_dicts_and_submodules_in_order():
    bag = Bag()
    expected = [
        bag.a,
        bag.items[0],
        bag.items[1][0],
        bag.items[1][2],
        bag.table["x"],
        bag.table["sub"].weight,
        bag.table["sub"].bias,
        bag.child.weight,
        bag.v,
    ]
    params = bag.parameters()
    assert len(params) == len(expected), f"found {len(params)} parameters, not {len(expected)}"
    assert all(p is e for p, e in zip(params, expected, strict=True)), "wrong parameters or order"


def test_named_parameters_give_dotted_paths():
    names = [name for name, _ in Bag().named_parameters()]
    assert names == [
        "a",
        "items.0",
        "items.1.0",
        "items.1.2",
        "table.x",
        "table.sub.weight",
        "table.sub.bias",
        "child.weight",
        "v",
    ]


def test_named_parameters_and_parameters_agree():
    bag = Bag()
    named = [p for _, p in bag.named_parameters()]
    assert all(a is b for a, b in zip(named, bag.parameters(), strict=True))


def test_tensors_not_requiring_grad_and_underscore_attributes_are_not_parameters():
    bag = Bag()
    ids = {id(p) for p in bag.parameters()}
    assert id(bag.frozen) not in ids and id(bag.items[1][1]) not in ids
    assert id(bag._hidden) not in ids, "an attribute starting with _ was taken as a parameter"
    assert id(bag.table["_private"]) not in ids, "a dict key starting with _ was taken"


def test_sequential_names_parameters_by_layer_index():
    model = MLP(2, [3, 4, 1])
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
        "layers.4.weight",
        "layers.4.bias",
    ]
    assert dict(model.named_parameters())["layers.2.weight"] is model[2].weight


def test_a_parameter_shared_by_two_submodules_appears_once():
    class Tied(Module):
        def __init__(self):
            self.encoder = Linear(4, 3, seed=0)
            self.decoder = Linear(3, 4, seed=1)
            self.decoder.weight = self.encoder.weight  # used transposed, in spirit
            self.again = self.encoder  # the same sub-module under a second name

    model = Tied()
    params = model.parameters()
    assert len(params) == 3, f"expected weight + two biases, got {len(params)} parameters"
    assert len({id(p) for p in params}) == len(params), "a shared parameter is listed twice"
    names = [name for name, _ in model.named_parameters()]
    assert names == ["encoder.weight", "encoder.bias", "decoder.bias"], (
        "a shared parameter should keep the name where it is first found"
    )


def test_zero_grad_sets_tensor_grads_to_none():
    model = MLP(3, [4, 2], seed=0)
    (model(np.ones((5, 3))) ** 2).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_zero_grad_resets_values_to_zero_and_tensors_to_none_in_a_mixed_module():
    bag = Bag()
    for p in bag.parameters():
        p.grad = 2.5 if isinstance(p, Value) else np.full(p.shape, 2.5)
    bag.zero_grad()
    assert bag.v.grad == 0.0 and type(bag.v.grad) is float
    assert all(p.grad is None for p in bag.parameters() if isinstance(p, Tensor))


def test_a_new_module_is_in_training_mode():
    model = MLP(2, [3, 1])
    assert all(m.training is True for m in model.modules())


def test_eval_and_train_set_training_on_every_submodule_and_return_the_module():
    bag = Bag()
    submodules = [bag, bag.table["sub"], bag.child]
    assert bag.eval() is bag
    assert [m.training for m in submodules] == [False, False, False]
    assert bag.train() is bag
    assert [m.training for m in submodules] == [True, True, True]
    assert bag.train(False) is bag
    assert [m.training for m in submodules] == [False, False, False]


def test_eval_on_one_module_leaves_other_modules_in_training_mode():
    model = MLP(2, [3, 1]).eval()
    assert all(not m.training for m in model.modules())
    assert Linear(2, 3).training is True and MLP(2, [1]).training is True


def test_modules_yields_the_module_then_its_submodules_in_order():
    model = MLP(2, [3, 4, 1])
    modules = list(model.modules())
    assert modules[0] is model
    assert all(a is b for a, b in zip(modules[1:], model.layers, strict=True))
    bag = Bag()
    assert [type(m) for m in bag.modules()] == [Bag, Linear, Linear]


def test_modules_descends_into_nested_modules():
    outer = Sequential(Sequential(Linear(2, 2), ReLU()), Linear(2, 1))
    kinds = [type(m).__name__ for m in outer.modules()]
    assert kinds == ["Sequential", "Sequential", "Linear", "ReLU", "Linear"]


def test_a_module_without_forward_raises_a_clear_not_implemented_error():
    class Forgetful(Module):
        pass

    with pytest.raises(NotImplementedError, match=r"Forgetful.*forward"):
        Forgetful()(Tensor([1.0]))


def test_calling_a_module_passes_positional_and_keyword_arguments_to_forward():
    class Echo(Module):
        def forward(self, *args, **kwargs):
            return args, kwargs

    assert Echo()(1, "two", three=3) == ((1, "two"), {"three": 3})


# ---------------------------------------------------------------------- Linear


def test_linear_holds_weight_out_by_in_and_bias_out_both_requiring_grad():
    layer = Linear(3, 5)
    assert layer.weight.shape == (5, 3)
    assert layer.bias.shape == (5,)
    for p in (layer.weight, layer.bias):
        assert p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert layer.parameters() == [layer.weight, layer.bias]
    assert (layer.in_features, layer.out_features) == (3, 5)


@pytest.mark.parametrize(("nin", "nout"), [(4, 1000), (100, 50), (400, 20)])
def test_linear_init_is_uniform_within_one_over_sqrt_fan_in(nin, nout):
    layer = Linear(nin, nout, seed=0)
    bound = 1.0 / math.sqrt(nin)
    w, b = layer.weight.data, layer.bias.data
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
    assert w.min() < -0.95 * bound and w.max() > 0.95 * bound, "weights do not fill the range"
    # Uniform on [-c, c] has mean 0 and standard deviation c / sqrt(3).
    assert abs(w.mean()) < 0.05 * bound, f"mean {w.mean()} is far from 0"
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_linear_same_seed_gives_same_weights_and_different_seeds_differ():
    assert same_weights(weights(Linear(4, 3, seed=7)), weights(Linear(4, 3, seed=7)))
    assert not same_weights(weights(Linear(4, 3, seed=7)), weights(Linear(4, 3, seed=8)))
    assert not same_weights(weights(Linear(4, 3)), weights(Linear(4, 3)))


def test_linear_draws_from_the_given_generator():
    a = Linear(4, 3, rng=np.random.default_rng(5))
    b = Linear(4, 3, rng=np.random.default_rng(5))
    assert same_weights(weights(a), weights(b))


def test_seeded_linear_does_not_touch_or_depend_on_numpy_global_state():
    state = np.random.get_state()
    try:
        np.random.seed(1)
        a = weights(Linear(4, 3, seed=2))
        np.random.seed(99)
        b = weights(Linear(4, 3, seed=2))
        after = np.random.get_state()
        np.random.seed(99)
        assert same_weights(a, b)
        assert np.array_equal(after[1], np.random.get_state()[1]), "the global state was used"
    finally:
        np.random.set_state(state)


def test_linear_without_bias_has_only_a_weight_and_computes_x_at_w_transpose():
    layer = Linear(3, 2, bias=False, seed=0)
    assert layer.bias is None
    assert layer.parameters() == [layer.weight]
    x = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T, rtol=1e-14, atol=0)
    assert "bias=False" in repr(layer)


def test_linear_float32_has_float32_parameters_outputs_and_gradients():
    layer = Linear(3, 2, seed=0, dtype="float32")
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)), dtype="float32")
    out = layer(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32
    assert np.all(np.abs(layer.weight.data) <= np.float32(1 / math.sqrt(3)))


def test_linear_float32_weights_are_the_float64_weights_rounded():
    a = Linear(5, 4, seed=3)
    b = Linear(5, 4, seed=3, dtype=np.float32)
    np.testing.assert_array_equal(b.weight.data, a.weight.data.astype(np.float32))
    np.testing.assert_array_equal(b.bias.data, a.bias.data.astype(np.float32))


@pytest.mark.parametrize("as_tensor", [True, False], ids=["tensor", "ndarray"])
def test_linear_computes_x_at_w_transpose_plus_b(as_tensor):
    layer = Linear(3, 4, seed=0)
    x = np.random.default_rng(1).standard_normal((6, 3))
    out = layer(Tensor(x) if as_tensor else x)
    assert isinstance(out, Tensor) and out.shape == (6, 4)
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(out.data, expected, rtol=1e-14, atol=1e-15)


def test_linear_takes_a_single_example_as_a_1d_input():
    layer = Linear(3, 2, seed=0)
    x = np.array([0.5, -1.0, 2.0])
    out = layer(x)
    assert out.shape == (2,)
    expected = layer.weight.data @ x + layer.bias.data
    np.testing.assert_allclose(out.data, expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(out.data, layer(x[None, :]).data[0], rtol=1e-14, atol=1e-15)


def test_linear_maps_the_last_axis_of_batched_nd_inputs():
    layer = Linear(3, 2, seed=0)
    x = np.random.default_rng(2).standard_normal((2, 5, 3))
    out = layer(Tensor(x))
    assert out.shape == (2, 5, 2)
    for i in range(2):
        np.testing.assert_allclose(out.data[i], layer(x[i]).data, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("shape", [(6, 3), (3,), (2, 5, 3)], ids=["batch", "1-D", "3-D"])
def test_linear_gradients_are_the_matrix_calculus_ones(shape):
    """For out = x W^T + b and loss = sum(G * out): dW = G^T x, db = sum of G, dx = G W,
    summed over every leading axis."""
    rng = np.random.default_rng(3)
    layer = Linear(3, 4, seed=0)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    G = rng.standard_normal((*shape[:-1], 4))
    (layer(x) * G).sum().backward()
    x2, G2 = x.data.reshape(-1, 3), G.reshape(-1, 4)
    np.testing.assert_allclose(layer.weight.grad, G2.T @ x2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.bias.grad, G2.sum(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad, G @ layer.weight.data, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("shape", "shown"),
    [((2, 5), "(2, 5)"), ((4,), "(4,)"), ((2, 3, 2), "(2, 3, 2)"), ((), "()")],
    ids=["batch", "1-D", "3-D", "0-D"],
)
def test_linear_wrong_input_width_names_its_sizes_and_the_input_shape(shape, shown):
    layer = Linear(3, 7)
    with pytest.raises(ValueError) as excinfo:
        layer(Tensor(np.ones(shape)))
    message = str(excinfo.value)
    assert "Linear(3, 7)" in message, f"the error should name the layer: {message!r}"
    assert shown in message, f"the error should give the input's shape {shown}: {message!r}"


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3", None])
@pytest.mark.parametrize("position", ["in", "out"])
def test_linear_rejects_sizes_that_are_not_positive_integers(bad, position):
    args = (bad, 3) if position == "in" else (3, bad)
    with pytest.raises(ValueError, match="positive integers"):
        Linear(*args)


def test_linear_accepts_numpy_integer_sizes():
    layer = Linear(np.int64(3), np.int32(2))
    assert layer.weight.shape == (2, 3)
    assert repr(layer) == "Linear(3, 2)"


# ---------------------------------------------------------------------- activations


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_apply_their_function_elementwise_and_have_no_parameters(name):
    cls, fn = ACTIVATIONS[name]
    z = np.array([[-3.0, -0.5, 0.0], [0.25, 1.0, 4.0]])
    out = cls()(Tensor(z))
    np.testing.assert_allclose(out.data, fn(z), rtol=1e-14, atol=1e-15)
    assert cls().parameters() == []
    assert repr(cls()) == f"{cls.__name__}()"


# ---------------------------------------------------------------------- Sequential


class AddOne(Module):
    def forward(self, x):
        return x + 1.0


class Double(Module):
    def forward(self, x):
        return x * 2.0


def test_sequential_applies_its_modules_in_order():
    x = Tensor([1.0, 3.0])
    np.testing.assert_array_equal(Sequential(AddOne(), Double())(x).data, [4.0, 8.0])
    np.testing.assert_array_equal(Sequential(Double(), AddOne())(x).data, [3.0, 7.0])


def test_sequential_output_is_the_composition_of_its_layers():
    first, act, second = Linear(2, 3, seed=0), Tanh(), Linear(3, 1, seed=1)
    model = Sequential(first, act, second)
    x = np.random.default_rng(0).standard_normal((5, 2))
    np.testing.assert_array_equal(model(x).data, second(act(first(x))).data)


def test_empty_sequential_is_the_identity():
    x = Tensor([1.0, 2.0])
    assert Sequential()(x) is x
    assert len(Sequential()) == 0


def test_sequential_supports_indexing_len_and_iteration():
    layers = [Linear(2, 3), ReLU(), Linear(3, 1)]
    model = Sequential(*layers)
    assert len(model) == 3
    assert model[0] is layers[0] and model[1] is layers[1] and model[-1] is layers[2]
    assert all(a is b for a, b in zip(model, layers, strict=True))
    with pytest.raises(IndexError):
        model[3]


def test_sequential_repr_lists_each_layer_with_its_index():
    text = repr(Sequential(Linear(2, 3), ReLU(), Linear(3, 1, bias=False)))
    assert text == (
        "Sequential(\n  (0): Linear(2, 3)\n  (1): ReLU()\n  (2): Linear(3, 1, bias=False)\n)"
    )


def test_sequential_rejects_something_that_is_not_a_module():
    with pytest.raises(TypeError, match="int"):
        Sequential(Linear(2, 3), 5)


def test_sequential_collects_the_parameters_of_its_layers_in_order():
    first, second = Linear(2, 3), Linear(3, 1)
    model = Sequential(first, ReLU(), second)
    expected = [first.weight, first.bias, second.weight, second.bias]
    assert all(a is b for a, b in zip(model.parameters(), expected, strict=True))


# ---------------------------------------------------------------------- MLP


def test_mlp_is_linear_activation_pairs_ending_in_a_bare_linear():
    model = MLP(2, [16, 8, 1])
    assert isinstance(model, Sequential) and isinstance(model, Module)
    assert [type(m) for m in model] == [Linear, ReLU, Linear, ReLU, Linear]
    sizes = [(m.in_features, m.out_features) for m in model if isinstance(m, Linear)]
    assert sizes == [(2, 16), (16, 8), (8, 1)]
    assert repr(model).startswith("MLP(")


def test_mlp_with_one_layer_is_a_single_linear():
    model = MLP(3, [4])
    assert [type(m) for m in model] == [Linear]


@pytest.mark.parametrize(
    ("nin", "nouts", "count"),
    [
        (2, [16, 16, 1], 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1),
        (2, [32, 32, 3], 2 * 32 + 32 + 32 * 32 + 32 + 32 * 3 + 3),
        (5, [1], 6),
        (3, [1, 2], 3 + 1 + 2 + 2),
    ],
)
def test_mlp_parameter_count_is_weights_plus_biases(nin, nouts, count):
    model = MLP(nin, nouts)
    assert sum(p.numel() for p in model.parameters()) == count
    assert len(model.parameters()) == 2 * len(nouts)


def test_mlp_2_16_16_1_has_337_weights_as_the_value_mlp_does():
    assert sum(p.numel() for p in MLP(2, [16, 16, 1]).parameters()) == 337
    assert len(ValueMLP(2, [16, 16, 1]).parameters()) == 337


@pytest.mark.parametrize("nonlin", sorted(ACTIVATIONS))
def test_mlp_uses_the_chosen_nonlinearity_between_layers(nonlin):
    cls, fn = ACTIVATIONS[nonlin]
    model = MLP(3, [5, 4, 2], nonlin=nonlin, seed=0)
    assert [type(m) for m in model] == [Linear, cls, Linear, cls, Linear]
    x = np.random.default_rng(0).standard_normal((7, 3))
    h = x
    linears = [m for m in model if isinstance(m, Linear)]
    for i, layer in enumerate(linears):
        h = h @ layer.weight.data.T + layer.bias.data
        if i < len(linears) - 1:
            h = fn(h)
    np.testing.assert_allclose(model(x).data, h, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("nonlin", ["ReLU", "softmax", "linear", None, ""])
def test_mlp_invalid_nonlin_is_an_error_naming_nonlin(nonlin):
    with pytest.raises(ValueError, match="nonlin"):
        MLP(2, [4, 1], nonlin=nonlin)


def test_mlp_invalid_nonlin_is_rejected_even_without_hidden_layers():
    with pytest.raises(ValueError, match="nonlin"):
        MLP(2, [1], nonlin="tahn")


@pytest.mark.parametrize(
    ("nin", "nouts"),
    [(2, []), (2, 3), (2, [4, 0]), (2, [2.5, 1]), (2, [-1]), (0, [1]), (2, [True, 1])],
)
def test_mlp_invalid_sizes_raise_value_error(nin, nouts):
    with pytest.raises(ValueError):
        MLP(nin, nouts)


def test_mlp_same_seed_same_weights_different_seeds_different():
    assert same_weights(weights(MLP(2, [8, 8, 1], seed=4)), weights(MLP(2, [8, 8, 1], seed=4)))
    assert not same_weights(weights(MLP(2, [8, 8, 1], seed=4)), weights(MLP(2, [8, 8, 1], seed=5)))
    assert not same_weights(weights(MLP(2, [8, 1])), weights(MLP(2, [8, 1])))


def test_mlp_layers_of_the_same_shape_get_different_weights():
    model = MLP(4, [4, 4, 4], seed=0)
    assert not np.array_equal(model[0].weight.data, model[2].weight.data)
    assert not np.array_equal(model[2].weight.data, model[4].weight.data)


def test_mlp_float32_has_float32_parameters_and_outputs():
    model = MLP(2, [8, 3], seed=0, dtype="float32")
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model(Tensor(np.ones((4, 2)), dtype="float32")).dtype == np.float32


# ---------------------------------------------------------------------- SGD


def test_sgd_step_is_p_minus_lr_times_grad_exactly():
    rng = np.random.default_rng(0)
    a, b = param(3, 2, seed=1), param(4, seed=2)
    start = [a.data.copy(), b.data.copy()]
    grads = [rng.standard_normal(3 * 2).reshape(3, 2), rng.standard_normal(4)]
    a.grad, b.grad = grads[0].copy(), grads[1].copy()
    SGD([a, b], lr=0.1).step()
    np.testing.assert_array_equal(a.data, start[0] - 0.1 * grads[0])
    np.testing.assert_array_equal(b.data, start[1] - 0.1 * grads[1])


def test_sgd_follows_the_gradient_of_backward_downhill():
    w = Tensor([3.0, -2.0], requires_grad=True)
    opt = SGD([w], lr=0.25)
    (w * w).sum().backward()  # gradient 2w
    opt.step()
    np.testing.assert_array_equal(w.data, [3.0 - 0.25 * 6.0, -2.0 - 0.25 * -4.0])


def test_sgd_with_zero_lr_changes_nothing():
    w = param(5)
    start = w.data.copy()
    w.grad = np.ones(5)
    SGD([w], lr=0.0).step()
    np.testing.assert_array_equal(w.data, start)


def run_steps(optimizer, p, grads):
    """Set each gradient in turn and step; the parameter's value after each step."""
    values = []
    for g in grads:
        p.grad = g.copy()
        optimizer.step()
        values.append(p.data.copy())
    return values


GRADS = [np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.4, -1.5]), np.array([-0.7, 2.5, 0.0])]


@pytest.mark.parametrize("dampening", [0.0, 0.3])
def test_sgd_momentum_matches_the_velocity_formula_over_three_steps(dampening):
    lr, m = 0.1, 0.9
    p = Tensor([0.2, -0.4, 1.0], requires_grad=True)
    expected_p = p.data.copy()
    got = run_steps(SGD([p], lr=lr, momentum=m, dampening=dampening), p, GRADS)
    v = None
    for t, g in enumerate(GRADS):
        v = g.copy() if v is None else m * v + (1 - dampening) * g  # first step: v = g
        expected_p = expected_p - lr * v
        np.testing.assert_allclose(got[t], expected_p, rtol=1e-13, atol=1e-15, err_msg=f"step {t}")


def test_sgd_first_momentum_step_is_a_plain_gradient_step():
    p = Tensor([1.0, 2.0], requires_grad=True)
    p.grad = np.array([0.5, -1.0])
    SGD([p], lr=0.1, momentum=0.9, dampening=0.5).step()
    np.testing.assert_array_equal(p.data, np.array([1.0, 2.0]) - 0.1 * np.array([0.5, -1.0]))


def test_sgd_nesterov_steps_along_grad_plus_momentum_times_velocity():
    lr, m = 0.05, 0.8
    p = Tensor([0.2, -0.4, 1.0], requires_grad=True)
    expected_p = p.data.copy()
    got = run_steps(SGD([p], lr=lr, momentum=m, nesterov=True), p, GRADS)
    v = None
    for t, g in enumerate(GRADS):
        v = g.copy() if v is None else m * v + g
        expected_p = expected_p - lr * (g + m * v)
        np.testing.assert_allclose(got[t], expected_p, rtol=1e-13, atol=1e-15, err_msg=f"step {t}")


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_weight_decay_adds_decay_times_p_to_the_gradient(momentum):
    lr, wd = 0.1, 0.01
    p = Tensor([0.2, -0.4, 1.0], requires_grad=True)
    expected_p = p.data.copy()
    got = run_steps(SGD([p], lr=lr, momentum=momentum, weight_decay=wd), p, GRADS)
    v = None
    for t, g in enumerate(GRADS):
        d = g + wd * expected_p  # the decay uses the parameter as it is before this step
        if momentum:
            v = d.copy() if v is None else momentum * v + d
            d = v
        expected_p = expected_p - lr * d
        np.testing.assert_allclose(got[t], expected_p, rtol=1e-13, atol=1e-15, err_msg=f"step {t}")


def test_sgd_weight_decay_alone_shrinks_a_parameter_with_zero_gradient():
    p = Tensor([2.0, -4.0], requires_grad=True)
    p.grad = np.zeros(2)
    SGD([p], lr=0.5, weight_decay=0.1).step()
    np.testing.assert_allclose(p.data, [2.0 * 0.95, -4.0 * 0.95], rtol=1e-15)


def test_sgd_skips_parameters_whose_grad_is_none_and_starts_their_velocity_later():
    lr, m = 0.1, 0.9
    a, b = Tensor([1.0, 1.0], requires_grad=True), Tensor([5.0], requires_grad=True)
    opt = SGD([a, b], lr=lr, momentum=m)
    a.grad = np.array([1.0, 2.0])
    opt.step()
    np.testing.assert_array_equal(b.data, [5.0])  # no grad: not moved, no velocity
    a.grad, b.grad = np.array([1.0, 2.0]), np.array([3.0])
    opt.step()
    # b's first step with a gradient: its velocity starts at that gradient
    np.testing.assert_allclose(b.data, [5.0 - lr * 3.0], rtol=1e-15)
    np.testing.assert_allclose(a.data, 1.0 - lr * np.array([1.0, 2.0]) * (1 + (1 + m)), rtol=1e-14)


def test_optimizer_zero_grad_sets_every_grad_to_none():
    model = MLP(2, [4, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.1)
    model(np.ones((3, 2))).sum().backward()
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_sgd_leaves_the_gradients_as_they_were():
    p = param(3)
    g = np.array([1.0, 2.0, 3.0])
    p.grad = g.copy()
    SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1).step()
    np.testing.assert_array_equal(p.grad, g)


def test_optimizer_takes_any_iterable_of_parameters():
    model = MLP(2, [3, 1])
    opt = SGD(iter(model.parameters()), lr=0.1)
    assert len(opt.params) == 4
    opt = SGD((p for p in model.parameters()), lr=0.1)
    assert len(opt.params) == 4


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"lr": -0.1}, r"lr.*>= 0"),
        ({"lr": float("nan")}, r"lr"),
        ({"lr": "0.1"}, r"lr"),
        ({"lr": 0.1, "momentum": -0.5}, r"momentum"),
        ({"lr": 0.1, "weight_decay": -1e-4}, r"weight_decay"),
        ({"lr": 0.1, "nesterov": True}, r"nesterov.*momentum"),
        ({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, r"dampening"),
    ],
    ids=["lr<0", "lr-nan", "lr-str", "momentum<0", "wd<0", "nesterov-no-momentum", "nest-damp"],
)
def test_sgd_rejects_invalid_settings_with_a_clear_message(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        SGD([param(2)], **kwargs)


@pytest.mark.parametrize("cls", [SGD, Adam])
def test_optimizer_rejects_an_empty_parameter_list(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}.*empty"):
        cls([], lr=0.1)


@pytest.mark.parametrize("cls", [SGD, Adam])
@pytest.mark.parametrize(
    ("bad", "kind"), [(Value(1.0), "Value"), (np.ones(2), "ndarray"), (1.0, "float")]
)
def test_optimizer_rejects_a_parameter_that_is_not_a_tensor(cls, bad, kind):
    with pytest.raises(TypeError) as excinfo:
        cls([param(2), bad], lr=0.1)
    message = str(excinfo.value)
    assert "parameter 1" in message and kind in message and "Tensor" in message, message


def test_optimizer_of_a_value_mlp_is_refused_with_a_hint():
    with pytest.raises(TypeError, match=r"Value.*by hand"):
        SGD(ValueMLP(2, [3, 1]).parameters(), lr=0.1)


@pytest.mark.parametrize("cls", [SGD, Adam])
def test_optimizer_rejects_a_tensor_that_does_not_require_grad(cls):
    with pytest.raises(ValueError) as excinfo:
        cls([param(2), frozen(3, 4)], lr=0.1)
    message = str(excinfo.value)
    assert "parameter 1" in message and "(3, 4)" in message and "require" in message, message


# ---------------------------------------------------------------------- Adam


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adam_matches_the_bias_corrected_formula_over_three_steps(weight_decay):
    lr, (b1, b2), eps = 0.01, (0.8, 0.95), 1e-3  # an eps large enough to matter
    grads = [np.array([[1.0, -2.0], [1e-3, 40.0]]), np.array([[0.5, 0.5], [-2e-3, -10.0]])]
    grads.append(np.array([[-3.0, 0.1], [0.0, 20.0]]))
    p = Tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
    opt = Adam([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay)
    got = run_steps(opt, p, grads)

    expected_p = np.array([[0.5, -1.0], [2.0, 0.0]])
    m = v = np.zeros((2, 2))
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * expected_p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        step_size = lr / (1 - b1**t)
        denominator = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
        expected_p = expected_p - step_size * m / denominator
        np.testing.assert_allclose(got[t - 1], expected_p, rtol=1e-13, atol=0, err_msg=f"t={t}")


def test_adam_first_step_moves_each_parameter_by_about_lr_against_its_gradient():
    lr = 0.01
    g = np.array([1e-3, -0.5, 2.0, -300.0, 1e4, 0.0])
    p = Tensor(np.zeros(6), requires_grad=True)
    p.grad = g.copy()
    Adam([p], lr=lr).step()
    # m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps): lr * sign(g)
    np.testing.assert_allclose(p.data[:5], -lr * np.sign(g[:5]), rtol=1e-4)
    assert p.data[5] == 0.0, "a zero gradient should not move the parameter"


def test_adam_step_size_does_not_depend_on_the_gradient_scale():
    moves = []
    for scale in (1e-2, 1.0, 1e3):
        p = Tensor([0.0, 0.0], requires_grad=True)
        opt = Adam([p], lr=0.1)
        for _ in range(3):
            p.grad = scale * np.array([1.0, -2.0])
            opt.step()
        moves.append(p.data.copy())
    np.testing.assert_allclose(moves[0], moves[1], rtol=1e-5)
    np.testing.assert_allclose(moves[2], moves[1], rtol=1e-5)


def test_adam_skips_parameters_whose_grad_is_none():
    a, b = param(3, seed=1), param(2, seed=2)
    start = b.data.copy()
    opt = Adam([a, b], lr=0.1)
    a.grad = np.ones(3)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(b.data, start)
    np.testing.assert_array_equal(opt.m[1], 0.0)
    np.testing.assert_array_equal(opt.v[1], 0.0)


def test_adam_float32_parameters_stay_float32():
    p = Tensor([1.0, -1.0], requires_grad=True, dtype="float32")
    opt = Adam([p], lr=0.1)
    for _ in range(3):
        p.grad = np.array([0.5, -0.25], dtype=np.float32)
        opt.step()
    assert p.dtype == np.float32
    np.testing.assert_allclose(p.data, [0.7, -0.7], rtol=1e-3)


@pytest.mark.parametrize(
    "betas",
    [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.999), (0.9, -0.5), (0.9, float("nan")), (1.5, 0.9)],
)
def test_adam_rejects_betas_outside_zero_one(betas):
    with pytest.raises(ValueError, match=r"betas\[[01]\]"):
        Adam([param(2)], betas=betas)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [({"lr": -1e-3}, "lr"), ({"eps": -1e-8}, "eps"), ({"weight_decay": -0.1}, "weight_decay")],
)
def test_adam_rejects_negative_settings(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        Adam([param(2)], **kwargs)


def test_adam_accepts_zero_betas_and_zero_eps():
    p = Tensor([1.0], requires_grad=True)
    p.grad = np.array([4.0])
    Adam([p], lr=0.5, betas=(0.0, 0.0), eps=0.0).step()
    np.testing.assert_array_equal(p.data, [0.5])  # sign descent


# ---------------------------------------------------------------------- in place, no graph


OPTIMIZERS = {
    "sgd": lambda ps: SGD(ps, lr=0.1),
    "sgd-momentum-wd": lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd-nesterov": lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda ps: Adam(ps, lr=0.1),
    "adam-wd": lambda ps: Adam(ps, lr=0.1, weight_decay=0.01),
}


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_updates_happen_in_place_and_record_no_graph(make):
    model = MLP(2, [4, 3], seed=0)
    params = model.parameters()
    arrays = [p.data for p in params]
    before = [a.copy() for a in arrays]
    opt = make(params)
    for _ in range(2):
        opt.zero_grad()
        cross_entropy(model(np.ones((5, 2))), np.array([0, 1, 2, 0, 1])).backward()
        opt.step()
    for p, array, old in zip(params, arrays, before, strict=True):
        assert p.data is array, "the update replaced p.data instead of changing it in place"
        assert not np.array_equal(p.data, old), "a parameter with a gradient did not move"
        assert p.requires_grad and p.is_leaf, "the update turned a parameter into a graph node"
        assert p._parents == () and p._backward is None
    assert all(a is b for a, b in zip(model.parameters(), params, strict=True))


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_a_view_of_the_parameters_sees_the_update(make):
    """In place means anything holding the array (here p.numpy()) sees the new values."""
    p = Tensor([1.0, 2.0], requires_grad=True)
    held = p.numpy()
    p.grad = np.array([1.0, -1.0])
    make([p]).step()
    assert held[0] < 1.0 and held[1] > 2.0


# ---------------------------------------------------------------------- training


def train(model, opt, X, y, steps):
    """Full-batch training with cross-entropy; the loss at each step."""
    inputs, losses = Tensor(X), []
    for _ in range(steps):
        loss = cross_entropy(model(inputs), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_mlp_with_adam_learns_the_three_spirals():
    X, y = make_spirals(n=300, classes=3, seed=0)
    model = MLP(2, [32, 32, 3], seed=0)
    opt = Adam(model.parameters(), lr=1e-2)
    start = accuracy(model, X, y)
    losses = train(model, opt, X, y, steps=200)  # 90% is first reached after about 50 steps
    final = accuracy(model, X, y)
    assert final > 0.9, (
        f"after 200 Adam steps the MLP classifies {final:.0%} of the spirals "
        f"(started at {start:.0%}; loss {losses[0]:.3f} -> {losses[-1]:.3f})"
    )
    assert losses[-1] < 0.25 * losses[0]
    assert all(np.all(np.isfinite(p.data)) for p in model.parameters())


def test_mlp_with_sgd_momentum_learns_the_blobs():
    X, y = make_blobs(n=200, centers=3, seed=0)
    model = MLP(2, [16, 3], seed=0)
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    start = accuracy(model, X, y)
    losses = train(model, opt, X, y, steps=100)
    final = accuracy(model, X, y)
    assert final > 0.95, (
        f"after 100 SGD steps the MLP classifies {final:.0%} of the blobs "
        f"(started at {start:.0%}; loss {losses[0]:.3f} -> {losses[-1]:.3f})"
    )
    assert losses[-1] < 0.1 * losses[0]


def test_evaluating_under_no_grad_records_no_graph():
    model = MLP(2, [4, 3], seed=0)
    with no_grad():
        out = model(Tensor(np.ones((3, 2))))
    assert not out.requires_grad and out.is_leaf
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------------- ValueMLP


def test_value_mlp_finds_its_parameters_through_the_shared_module_base():
    model = ValueMLP(2, [3, 1], seed=0)
    assert isinstance(model, Module)
    named = list(model.named_parameters())
    assert len(named) == len(model.parameters()) == 2 * 3 + 3 + 3 + 1
    assert all(a is b for (_, a), b in zip(named, model.parameters(), strict=True))
    assert named[0][0] == "layers.0.neurons.0.w.0" and named[2][0] == "layers.0.neurons.0.b"


def test_value_mlp_zero_grad_and_train_eval_still_work():
    model = ValueMLP(2, [3, 1], seed=0)
    model([0.5, -1.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 and type(p.grad) is float for p in model.parameters())
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    assert len(list(model.modules())) == 1 + 2 + 3 + 1  # the MLP, 2 layers, 4 neurons


# ---------------------------------------------------------------------- regressions


@pytest.mark.parametrize("cls", [SGD, Adam])
def test_an_optimizer_refuses_a_bare_tensor_in_place_of_a_list(cls):
    w = param(3, 2)
    with pytest.raises((TypeError, ValueError)):
        cls(w, lr=0.1)


def test_adam_bias_correction_counts_each_parameters_own_steps():
    lr = 0.1
    a, late = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = Adam([a, late], lr=lr)
    for _ in range(2):  # `late` takes no part in the first two steps
        a.grad = np.array([1.0])
        opt.step()
    a.grad, late.grad = np.array([1.0]), np.array([1.0])
    opt.step()
    # late's first step with a gradient moves it by lr, as any first Adam step does
    np.testing.assert_allclose(late.data, [1.0 - lr], rtol=1e-6)


@pytest.mark.parametrize("cls", [SGD, Adam])
def test_an_optimizer_refuses_non_leaf_and_duplicate_parameters(cls):
    w = param(3, 2)
    with pytest.raises(ValueError, match="computed by an op"):
        cls([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        cls([w, w], lr=0.1)


def test_optimizer_settings_accept_numpy_numbers():
    w = param(2)
    SGD([w], lr=np.float32(0.1), momentum=np.float64(0.9))
    Adam([w], lr=np.float64(1e-3))


def test_a_float32_layer_computes_in_float32_on_plain_data():
    layer = Linear(2, 3, dtype="float32", seed=0)
    assert layer(np.ones((4, 2))).dtype == np.float32
    assert layer([[1.0, 2.0]]).dtype == np.float32


def test_slicing_a_sequential_gives_a_sequential():
    model = MLP(2, [4, 4, 1], seed=0)
    head = model[0:2]
    assert isinstance(head, Sequential) and len(head) == 2


def test_a_shared_module_is_listed_once_and_cycles_terminate():
    class Pair(Module):
        def __init__(self):
            shared = Linear(2, 2, seed=0)
            self.a, self.b = shared, shared
            shared.parent = self  # a reference back up

    pair = Pair()
    assert len(list(pair.modules())) == 2
    assert len(pair.parameters()) == 2
