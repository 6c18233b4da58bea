"""Second derivatives: every op's backward rule, recorded with ``create_graph=True``, is
differentiated again and checked against central differences of first derivatives.

The check, for an op f with inputs x: take fixed random weights w (on f's output) and u (on
each input), and the scalar function

    D(x) = sum_i u_i . grad_{x_i} (w . f(x))

gradcheck compares D's gradient, from backward through the recorded backward pass, with
central differences of D itself, where D is evaluated by the plain (array) backward pass.
So a rule that records the wrong thing, or does not record at all, fails here; and the two
ways of running a rule are checked against each other.

Linear ops (reshape, indexing...) have no second derivative of their own, so they are tested
inside ``tanh(op(x)**2)``-like compositions: their backward rule must still pass a
gradient that depends on x through the recorded graph.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_catalogue import MATMUL_SHAPES, arrays, away_from_zero, pairs, real, shapes

import minigrad as mg
from minigrad import Tensor, gradcheck
from minigrad import functional as F  # noqa: N812


def fixed_weights(shape, salt):
    """The same random weights every time for the same shape (both paths must agree)."""
    rng = np.random.default_rng(abs(hash((tuple(shape), salt))) % 2**32)
    return rng.standard_normal(shape)


def first_derivative(fn):
    """D(x) = sum_i u_i . grad_{x_i}(w . fn(x)).

    Called by gradcheck with leaves that require grad, it records the backward pass
    (create_graph=True) so that D can be differentiated; called with constants (gradcheck's
    numerical estimate), it computes the same number with the plain array backward pass.
    """

    def D(*xs):
        recording = xs[0].requires_grad
        with mg.enable_grad():
            leaves = xs if recording else [Tensor(x.data, requires_grad=True) for x in xs]
            y = fn(*leaves)
            weighted = (y * fixed_weights(y.shape, "w")).sum()
            grads = mg.grad(weighted, list(leaves), create_graph=recording, allow_unused=True)
            total = Tensor(0.0)
            for i, (g, x) in enumerate(zip(grads, leaves)):
                if g is not None:
                    total = total + (g * fixed_weights(x.shape, i)).sum()
        return total

    return D


def check_second(fn, *inputs):
    assert gradcheck(
        first_derivative(fn),
        [np.asarray(x, dtype=np.float64) for x in inputs],
        atol=1e-5,
        rtol=1e-5,
    )


# ---------------------------------------------------------------------- arithmetic


@settings(max_examples=15)
@given(pairs.flatmap(lambda s: st.tuples(arrays(s[0], real(-2, 2)), arrays(s[1], real(-2, 2)))))
def test_add_sub_mul_second_derivatives(pair):
    a, b = pair
    check_second(lambda a, b: (a + b) * (a - b) * a, a, b)
    check_second(lambda a, b: (a * b) * (a * b), a, b)


@settings(max_examples=15)
@given(
    pairs.flatmap(
        lambda s: st.tuples(arrays(s[0], real(-2, 2)), arrays(s[1], away_from_zero(0.5, 2)))
    )
)
def test_div_second_derivatives(pair):
    a, b = pair
    check_second(lambda a, b: a / b, a, b)
    check_second(lambda a, b: 2.0 / b + a / 3.0, a, b)


@settings(max_examples=15)
@given(
    pairs.flatmap(
        lambda s: st.tuples(arrays(s[0], real(0.5, 2)), arrays(s[1], away_from_zero(0.1, 2)))
    )
)
def test_pow_second_derivatives(pair):
    """Exponents of exactly 0 are left out: there d/da is set to 0 by convention (PyTorch's),
    a step that central differences of the first derivative cannot see."""
    a, b = pair
    check_second(lambda a, b: a**b, a, b)
    check_second(lambda a, b: a**3 + 2.0**b + a**-1.5, a, b)


@settings(max_examples=15)
@given(shapes.flatmap(lambda s: arrays(s, real(-2, 2))))
def test_elementwise_function_second_derivatives(a):
    check_second(lambda a: a.exp(), a)
    check_second(lambda a: a.tanh(), a)
    check_second(lambda a: a.sigmoid(), a)
    check_second(lambda a: -(a * a.exp()), a)


@settings(max_examples=15)
@given(shapes.flatmap(lambda s: arrays(s, real(0.3, 3))))
def test_log_second_derivative(a):
    check_second(lambda a: a.log(), a)


@settings(max_examples=15)
@given(shapes.flatmap(lambda s: arrays(s, away_from_zero(0.1, 2))))
def test_relu_and_abs_have_zero_second_derivative_but_pass_gradients_through(a):
    check_second(lambda a: (a * a).relu() + a.relu() * a, a)
    check_second(lambda a: a.abs() * a, a)


# ---------------------------------------------------------------------- matmul and linear


@pytest.mark.parametrize(("sa", "sb"), MATMUL_SHAPES, ids=str)
def test_matmul_second_derivatives(sa, sb):
    rng = np.random.default_rng(0)
    check_second(lambda a, b: (a @ b).tanh(), rng.normal(size=sa), rng.normal(size=sb))


@pytest.mark.parametrize("x_shape", [(3,), (2, 3), (2, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_second_derivatives(x_shape, bias):
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=x_shape), rng.normal(size=(4, 3))]
    if bias:
        inputs.append(rng.normal(size=(4,)))
    check_second(lambda x, w, *b: F.linear(x, w, *b).tanh(), *inputs)


# ---------------------------------------------------------------------- reductions and shapes


@settings(max_examples=15)
@given(shapes.flatmap(lambda s: arrays(s, real(-2, 2))), st.booleans())
def test_sum_and_mean_inside_nonlinear_functions(a, keepdims):
    axis = None if a.ndim == 0 else -1
    check_second(lambda a: (a.sum(axis=axis, keepdims=keepdims) ** 2).tanh(), a)
    check_second(lambda a: a.mean(axis=axis, keepdims=keepdims).exp() * a.sum(), a)


@pytest.mark.parametrize(
    ("axis", "keepdims"), [(None, False), (0, False), (1, True), ((0, 1), False)]
)
def test_max_second_derivative_without_ties(axis, keepdims):
    a = np.array([[0.3, -1.2, 2.0], [1.1, 0.7, -0.4]])
    check_second(lambda a: a.max(axis=axis, keepdims=keepdims) ** 3, a)


def test_shape_ops_pass_recorded_gradients():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(2, 3))
    check_second(lambda a: (a.reshape(3, 2) ** 3).tanh(), a)
    check_second(lambda a: (a.T @ a).tanh(), a)
    check_second(lambda a: a.transpose(1, 0).swapaxes(0, 1).exp(), a)
    check_second(lambda a: mg.ops.broadcast_to(a[:, :1], (2, 4)) ** 3, a)


@pytest.mark.parametrize(
    "index",
    [
        np.s_[0],
        np.s_[:, 1:],
        np.s_[..., None, ::2],
        ([0, 0, 1], [2, 2, 0]),
        np.array([True, False]),
    ],
)
def test_indexing_second_derivatives(index):
    a = np.random.default_rng(3).normal(size=(2, 3))
    check_second(lambda a: a[index] ** 3 * a.sum(), a)


def test_concatenate_stack_where_second_derivatives():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(1, 3))
    check_second(lambda a, b: mg.concatenate([a * b, b.exp()], axis=0) ** 2, a, b)
    check_second(lambda a, b: mg.stack([a[0] * b[0], b[0] ** 3], axis=1).tanh(), a, b)
    mask = np.array([[True, False, True], [False, False, True]])
    check_second(lambda a, b: mg.where(mask, a**3, b * a), a, b)
    check_second(lambda a: mg.where(mask, a**3, 0.5), a)


def test_setitem_second_derivatives():
    rng = np.random.default_rng(5)
    a, v = rng.normal(size=(2, 3)), rng.normal(size=(3,))

    def put(a, v):
        y = a * a
        y[1] = v**2
        return y.tanh()

    check_second(put, a, v)


def test_astype_records_a_cast_back_in_the_input_dtype():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (mg.ops.astype(x, "float32") ** 3).sum()
    assert y.dtype == np.float32
    (g,) = mg.grad(y, x, create_graph=True)
    assert g.dtype == np.float64
    (h,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, [6.0, 12.0], rtol=1e-6)


# ---------------------------------------------------------------------- functional


@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_and_log_softmax_second_derivatives(axis):
    x = np.random.default_rng(6).normal(size=(3, 4))
    check_second(lambda x: F.softmax(x, axis=axis), x)
    check_second(lambda x: F.log_softmax(x, axis=axis), x)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_second_derivatives(reduction):
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(4, 3))
    targets = np.array([0, 2, 1, 2])
    check_second(lambda z: F.cross_entropy(z, targets, reduction=reduction), logits)
    check_second(lambda z: F.cross_entropy(z[0], 1, reduction=reduction), logits)
    y = rng.uniform(size=(4, 3))
    check_second(lambda z: F.binary_cross_entropy_with_logits(z, y, reduction=reduction), logits)
    check_second(lambda z, t: F.mse_loss(z.tanh(), t, reduction=reduction), logits, y)


def test_checkpoint_is_twice_differentiable():
    rng = np.random.default_rng(8)
    w = Tensor(rng.normal(size=(3, 3)), requires_grad=True)
    check_second(lambda x: mg.checkpoint(lambda t: (t @ w).tanh() * t, x), rng.normal(size=(2, 3)))


# ---------------------------------------------------------------------- the API


def test_grad_returns_tensors_and_leaves_dot_grad_alone():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    (g,) = mg.grad(y, x)
    assert isinstance(g, Tensor) and not g.requires_grad
    np.testing.assert_allclose(g.data, [3.0, 12.0])
    assert x.grad is None
    (g2,) = mg.grad(y, [x], create_graph=True)
    assert g2.requires_grad
    (h,) = mg.grad(g2.sum(), x)
    np.testing.assert_allclose(h.data, [6.0, 12.0])


def test_third_derivative():
    x = Tensor(0.7, requires_grad=True)
    (d1,) = mg.grad(x.tanh(), x, create_graph=True)
    (d2,) = mg.grad(d1, x, create_graph=True)
    (d3,) = mg.grad(d2, x)
    t = np.tanh(0.7)
    np.testing.assert_allclose(d3.item(), -2 * (1 - t**2) * (1 - 3 * t**2), rtol=1e-12)


def test_grad_of_many_inputs_with_grad_output():
    a = Tensor([[1.0, 2.0]], requires_grad=True)
    b = Tensor([[3.0], [4.0]], requires_grad=True)
    ga, gb = mg.grad(a * b, [a, b], grad_output=np.ones((2, 2)))
    np.testing.assert_allclose(ga.data, [[7.0, 7.0]])
    np.testing.assert_allclose(gb.data, [[3.0], [3.0]])


def test_returned_gradients_are_independent_arrays():
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([2.0], requires_grad=True)
    ga, gb = mg.grad(a + b, [a, b], grad_output=[1.0])
    ga.data[0] = 99.0
    assert gb.item() == 1.0


def test_grad_errors_name_the_problem():
    x = Tensor([1.0, 2.0], requires_grad=True)
    unused = Tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"input 1 .* not used"):
        mg.grad(y, [x, unused])
    assert mg.grad(y, [x, unused], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.grad(y, Tensor([1.0]))
    with pytest.raises(RuntimeError, match=r"grad\(\) without grad_output .* one-element"):
        mg.grad(x * 2, x)
    with pytest.raises(ValueError, match=r"grad_output has shape \(3,\) .* shape \(2,\)"):
        mg.grad(x * 2, x, grad_output=np.ones(3))
    with pytest.raises(TypeError, match="input 0 must be a Tensor"):
        mg.grad(y, [np.ones(2)])


def test_grad_without_create_graph_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = mg.grad((x.exp() * x).sum(), x)
    assert g.is_leaf and not g.requires_grad


def test_hessian_and_hvp_of_a_quadratic_are_exact():
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]])
    b = np.array([1.0, -2.0, 0.5])

    def f(x):
        return 0.5 * (x @ (Tensor(A) @ x)) + (x * b).sum()

    x = np.array([0.3, -0.1, 2.0])
    np.testing.assert_allclose(mg.hessian(f, x).data, A, atol=1e-14)
    v = np.array([1.0, 0.0, -2.0])
    np.testing.assert_allclose(mg.hvp(f, x, v).data, A @ v, atol=1e-14)


def test_hessian_of_a_linear_function_is_zero_and_shape_is_doubled():
    h = mg.hessian(lambda x: (x * 3.0).sum(), np.ones((2, 2)))
    assert h.shape == (2, 2, 2, 2)
    assert not h.data.any()
    assert not mg.hvp(lambda x: (x * 3.0).sum(), np.ones(3), np.ones(3)).data.any()


def test_hessian_refuses_large_inputs_and_non_scalar_functions():
    with pytest.raises(ValueError, match="max_elements"):
        mg.hessian(lambda x: x.sum(), np.ones(3000))
    with pytest.raises(ValueError, match="one-element"):
        mg.hessian(lambda x: x * 2, np.ones(3))


def test_hessian_of_an_mlp_loss_with_respect_to_its_inputs_against_differences():
    net = mg.nn.MLP(3, [5, 5, 2], seed=0)
    targets = np.array([1, 0])

    def loss(x):
        return F.cross_entropy(net(x), targets)

    x = np.random.default_rng(9).normal(size=(2, 3))
    H = mg.hessian(loss, x).data.reshape(6, 6)
    np.testing.assert_allclose(H, H.T, atol=1e-12)  # second derivatives commute

    def gradient(at):
        leaf = Tensor(at, requires_grad=True)
        return mg.grad(loss(leaf), leaf)[0].data.reshape(-1)

    eps = 1e-6
    numeric = np.empty((6, 6))
    for k in range(6):
        step = np.zeros(6)
        step[k] = eps
        numeric[:, k] = (gradient(x + step.reshape(2, 3)) - gradient(x - step.reshape(2, 3))) / (
            2 * eps
        )
    np.testing.assert_allclose(H, numeric, atol=1e-6)


def test_plain_backward_is_unchanged_by_recording_support():
    """backward() still runs its rules on arrays: nothing in the graph grows a second graph."""
    x = Tensor(np.ones((3, 3)), requires_grad=True)
    y = (x @ x).tanh().sum()
    y.backward()
    assert type(x.grad) is np.ndarray
    assert all(type(n.grad) is np.ndarray for n in y.topological_order())
