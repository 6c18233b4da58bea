"""In-place operators and version counters; what a graph holds in memory; checkpointing.

In-place operators change a tensor's own buffer and count the change in its version, which
views (reshape, transpose, indexing, detach) share.  A backward rule that needs a value
changed since the op ran refuses to run, with PyTorch's message and the op's name; one
that does not need it (``+``) runs as in PyTorch.
"""

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn, optim
from minigrad import functional as F  # noqa: N812

# ---------------------------------------------------------------------- really in place


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (lambda t: t.__iadd__(2.0), [3.0, 4.0]),
        (lambda t: t.__isub__(np.array([1.0, 1.0])), [0.0, 1.0]),
        (lambda t: t.__imul__(Tensor([3.0, 0.5])), [3.0, 1.0]),
        (lambda t: t.__itruediv__(2.0), [0.5, 1.0]),
        (lambda t: t.__ipow__(2), [1.0, 4.0]),
    ],
)
def test_in_place_operators_change_the_buffer_and_bump_the_version(op, expected):
    x = Tensor([1.0, 2.0])
    buffer = x.data
    assert op(x) is x
    assert x.data is buffer
    assert x.data.tolist() == expected
    assert x._version == 1


def test_augmented_assignment_keeps_the_object_and_every_alias_sees_it():
    x = Tensor([1.0, 2.0])
    alias = x
    x += 1.0
    x *= 2.0
    assert x is alias and alias.data.tolist() == [4.0, 6.0] and x._version == 2


def test_setitem_writes_in_place():
    x = Tensor(np.zeros((2, 3)))
    x[0, 1:] = [1.0, 2.0]
    x[1] = 5.0
    assert x.data.tolist() == [[0.0, 1.0, 2.0], [5.0, 5.0, 5.0]]
    assert x._version == 2


def test_float32_stays_float32_in_place():
    x = Tensor([1.0, 2.0], dtype="float32")
    x += np.array([0.5, 0.5])  # float64 on the right: cast back into x's own buffer
    assert x.dtype == np.float32 and x.data.tolist() == [1.5, 2.5]


def test_in_place_errors_name_the_problem():
    x = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\+=: the result has shape \(2, 2\).*cannot change"):
        x += np.ones((2, 2))
    with pytest.raises(ValueError, match="do not broadcast"):
        x += np.ones(3)
    view = mg.ops.broadcast_to(Tensor([1.0]), (3,))
    with pytest.raises(ValueError, match="read-only"):
        view += 1.0
    assert x._version == 0  # nothing was changed by the failed attempts


# ---------------------------------------------------------------------- views share versions


@pytest.mark.parametrize(
    "make_view",
    [
        lambda t: t.reshape(6),
        lambda t: t.T,
        lambda t: t[0],
        lambda t: t[:, 1:],
        lambda t: t.detach(),
    ],
    ids=["reshape", "transpose", "row", "slice", "detach"],
)
def test_views_share_the_version_counter(make_view):
    x = Tensor(np.ones((2, 3)))
    view = make_view(x)
    view += 1.0
    assert x._version == 1 and view._version == 1
    assert x.data.sum() > 6.0  # the change went into x's buffer


def test_a_copying_index_does_not_share_the_version():
    x = Tensor(np.ones((2, 3)))
    copy = x[[0, 1]]  # integer-array indexing copies
    copy += 1.0
    assert x._version == 0 and x.data.sum() == 6.0


# ---------------------------------------------------------------------- stale values refused


def test_changing_a_saved_output_is_an_error_naming_the_op():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y += 1.0
    message = r"modified by an in-place operation: the output of 'exp'"
    with pytest.raises(RuntimeError, match=message):
        y.sum().backward()


def test_changing_a_saved_input_under_no_grad_is_an_error_naming_the_op_and_version():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    y = (h * h).sum()
    with mg.no_grad():
        h += 1.0
    message = r"an input of '\*'.*saved it.*changed in place.*now at version 1"
    with pytest.raises(RuntimeError, match=message):
        y.backward()


@pytest.mark.parametrize(
    "change", [lambda v: v.__iadd__(1.0), lambda v: v.__setitem__(0, 9.0)], ids=["+=", "setitem"]
)
def test_changing_a_saved_input_through_a_view_is_an_error(change):
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = x * 1.0
    y = (h.log() * 1.0).sum()  # log saves its input, h
    with mg.no_grad():
        change(h.reshape(4))
    with pytest.raises(RuntimeError, match="an input of 'log'"):
        y.backward()


def test_changing_a_value_that_no_rule_needs_is_fine_as_in_pytorch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0  # multiplying by a number saves nothing
    y = (h + 1.0).sum()  # neither does adding
    with mg.no_grad():
        h += 100.0
    y.backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_the_same_checks_guard_grad_and_create_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh()
    z = y.sum()
    with mg.no_grad():
        y *= 2.0
    with pytest.raises(RuntimeError, match="'tanh'"):
        mg.grad(z, x)
    with pytest.raises(RuntimeError, match="'tanh'"):
        mg.grad(z, x, create_graph=True)


# ---------------------------------------------------------------------- in-place ops in a graph


def test_leaves_that_require_grad_can_only_change_under_no_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w += 1.0
    with mg.no_grad():
        w -= 0.5
    assert w.data.tolist() == [0.5, 1.5] and w.requires_grad and w.is_leaf


def test_recorded_in_place_ops_become_graph_nodes_with_correct_gradients():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    y += x  # y = 3x
    y *= x  # y = 3x^2, the old values kept for the rule
    y[0] = x[1] ** 3  # y[0] = x1^3
    y.sum().backward()
    # d/dx0: 0 (overwritten); d/dx1: 6 x1 + 3 x1^2; d/dx2: 6 x2
    np.testing.assert_allclose(x.grad, [0.0, 12.0 + 12.0, 18.0])
    assert y._op == "[...] ="


@pytest.mark.parametrize(
    ("change", "same_without"),
    [
        (lambda y: y.__iadd__(y), lambda y: y + y),
        (lambda y: y.__isub__(y), lambda y: y - y),
        (lambda y: y.__imul__(y), lambda y: y * y),
        (lambda y: y.__itruediv__(y), lambda y: y / y),
        (lambda y: y.__ipow__(y), lambda y: y**y),
    ],
    ids=["+=", "-=", "*=", "/=", "**="],
)
def test_a_tensor_changed_in_place_by_itself_sends_gradients_down_both_edges(change, same_without):
    """``y += y`` is ``y = y + y``: both operands are y's old value (an early version lost
    one edge, so ``y += y`` gave 1 where the derivative is 2)."""
    x, x2 = (Tensor([0.5, 1.0, 2.0], requires_grad=True) for _ in range(2))
    y = x * 1.5
    change(y)
    y.sum().backward()
    expected = same_without(x2 * 1.5)
    expected.sum().backward()
    np.testing.assert_allclose(y.data, expected.data, rtol=1e-15)
    np.testing.assert_allclose(x.grad, x2.grad, rtol=1e-15)


def test_a_number_setitem_cuts_the_gradient_of_what_it_overwrites():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y[1] = 0.0
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0]


def test_a_constant_changed_in_place_by_a_tensor_that_requires_grad_joins_the_graph():
    buffer = Tensor(np.zeros(3))
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    buffer += x * x
    assert buffer.requires_grad and not buffer.is_leaf
    buffer.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_ops_recorded_before_an_in_place_op_refuse_to_send_gradients_astray():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    before = h * 5.0  # recorded with the old h
    h *= 2.0  # h is now a new node
    with pytest.raises(RuntimeError, match="turned into a new graph node"):
        (before + h).sum().backward()


def test_in_place_on_a_view_inside_a_graph_is_refused_clearly():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    v = (x * 1.0).reshape(2)
    with pytest.raises(RuntimeError, match="shares its data with another"):
        v += 1.0


def test_optimizer_updates_under_no_grad_keep_training():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    model = nn.Linear(3, 1, seed=0)
    losses = []
    for _ in range(200):
        loss = F.mse_loss(model(X).reshape(64), y)
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 1e-6 < losses[0]
    assert model.weight._version == 200
    # and the library's optimizers still work after in-place updates
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss = F.mse_loss(model(X).reshape(64), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


# ---------------------------------------------------------------------- memory of the graph


def mlp_and_batch():
    net = nn.MLP(32, [64, 64, 64, 10], seed=0)
    x = np.random.default_rng(1).normal(size=(16, 32))
    return net, x


def test_no_grad_holds_no_graph():
    net, x = mlp_and_batch()
    with mg.no_grad():
        out = net(x)
    assert out._parents == () and not out.requires_grad
    assert mg.graph_memory(out) == out.data.nbytes
    recorded = net(x)
    assert mg.graph_memory(recorded) > 5 * out.data.nbytes


def test_detach_cuts_the_graph_and_frees_it():
    net, x = mlp_and_batch()
    out = net(x)
    hidden = weakref.ref(out._parents[0])
    cut = out.detach()
    assert mg.graph_memory(cut) == cut.data.nbytes
    del out
    gc.collect()
    assert hidden() is None  # nothing but `out` kept the graph alive
    assert cut.data.shape == (16, 10)


def test_graph_memory_counts_data_gradients_and_saved_arrays_once():
    x = Tensor(np.ones(1000), requires_grad=True)
    y = x.reshape(10, 100)  # a view: no new buffer
    z = (y * 2.0).sum()
    before = mg.graph_memory(z)
    assert before == 8000 + 8000 + 8  # x (shared with y), y * 2, the sum
    z.backward()
    assert mg.graph_memory(z) > before + 8000  # every node now holds its gradient too


def test_checkpoint_gives_the_same_gradients_and_holds_less():
    def build():
        layers = []
        for seed in range(8):
            layers += [nn.Linear(16, 16, seed=seed), nn.Tanh()]
        return nn.Sequential(*layers)

    # a batch big enough that activations, not weights, fill the graph
    x = np.random.default_rng(2).normal(size=(256, 16))
    plain_net, ckpt_net = build(), build()
    plain = plain_net(x).sum()
    segments = [ckpt_net[i : i + 4] for i in range(0, 16, 4)]
    h = Tensor(x)
    for segment in segments:
        h = mg.checkpoint(segment, h)
    checkpointed = h.sum()
    assert checkpointed.item() == plain.item()
    # 5 activations (the input and 4 segment outputs) instead of 17
    assert mg.graph_memory(checkpointed) < 0.4 * mg.graph_memory(plain)
    plain.backward()
    checkpointed.backward()
    for p, q in zip(plain_net.parameters(), ckpt_net.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)


def test_checkpoint_passes_gradients_to_its_inputs_and_to_what_fn_closes_over():
    w = Tensor([[2.0, 0.0], [1.0, 3.0]], requires_grad=True)
    x = Tensor([[1.0, -1.0]], requires_grad=True)
    constant = Tensor([[0.5, 0.5]])
    y = mg.checkpoint(lambda a, c: ((a @ w) * c).tanh(), x, constant)
    y.sum().backward()
    x2 = Tensor([[1.0, -1.0]], requires_grad=True)
    w2 = Tensor(w.data, requires_grad=True)
    ((x2 @ w2) * constant).tanh().sum().backward()
    np.testing.assert_allclose(x.grad, x2.grad, rtol=1e-15)
    np.testing.assert_allclose(w.grad, w2.grad, rtol=1e-15)
    assert constant.grad is None


def test_checkpoint_through_grad_returns_closed_over_parameters():
    w = Tensor([1.5, -0.5], requires_grad=True)
    x = Tensor([0.3, 0.7], requires_grad=True)
    y = mg.checkpoint(lambda a: (a * w).exp(), x).sum()
    gx, gw = mg.grad(y, [x, w])
    np.testing.assert_allclose(gx.data, w.data * np.exp(x.data * w.data))
    np.testing.assert_allclose(gw.data, x.data * np.exp(x.data * w.data))


def test_checkpoint_outside_recording_is_just_a_call_and_checks_its_arguments():
    with mg.no_grad():
        y = mg.checkpoint(lambda a: a * 2.0, Tensor([1.0], requires_grad=True))
    assert y._op == "*" and not y.requires_grad
    with pytest.raises(TypeError, match="input 0 must be a Tensor"):
        mg.checkpoint(lambda a: a, np.ones(2))
    with pytest.raises(TypeError, match="one Tensor"):
        mg.checkpoint(lambda a: (a, a), Tensor([1.0], requires_grad=True))


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.Adam(ps)])
def test_a_graph_built_before_an_optimizer_step_refuses_backward_after_it(make):
    layer = nn.Linear(3, 2, seed=0)
    opt = make(layer.parameters())
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    loss = layer(x).tanh().sum()
    loss.backward()
    opt.step()
    assert layer.weight._version == 1
    with pytest.raises(RuntimeError, match="an input of 'linear'"):
        loss.backward()
