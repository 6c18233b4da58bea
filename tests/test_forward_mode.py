"""Forward mode: ``jvp`` against reverse mode and central differences, and the scalar
``Dual`` numbers.

For a function f: R^n -> R^m, ``jvp`` along the i-th basis vector gives the i-th column of
the Jacobian; ``grad`` of the j-th output gives its j-th row.  Building the whole Jacobian
both ways must give the same matrix, for every op.  On top, jvp along a random direction is
compared with central differences of f along it.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_catalogue import MATMUL_SHAPES, pairs, real

import minigrad as mg
from minigrad import Dual, Tensor
from minigrad import functional as F  # noqa: N812
from minigrad.modes import ForwardMode


def jacobian_forward(fn, values):
    """Columns by jvp: one pass per input element."""
    out = fn(*[Tensor(v) for v in values])
    columns = []
    for i, v in enumerate(values):
        for k in range(v.size):
            tangents = [np.zeros_like(w) for w in values]
            tangents[i].reshape(-1)[k] = 1.0
            _, dot = mg.jvp(fn, [Tensor(w) for w in values], tangents)
            columns.append(dot.data.reshape(-1))
    return np.stack(columns, axis=1).reshape(out.data.size, -1)


def jacobian_reverse(fn, values):
    """Rows by grad: one pass per output element."""
    leaves = [Tensor(v, requires_grad=True) for v in values]
    out = fn(*leaves)
    rows = []
    for j in range(out.data.size):
        seed = np.zeros(out.shape)
        seed.reshape(-1)[j] = 1.0
        grads = mg.grad(out, leaves, grad_output=seed, allow_unused=True)
        rows.append(
            np.concatenate(
                [
                    (np.zeros(v.size) if g is None else g.data.reshape(-1))
                    for g, v in zip(grads, values)
                ]
            )
        )
    return np.stack(rows)


def check_jvp(fn, *values, rtol=1e-7, atol=1e-9):
    values = [np.asarray(v, dtype=np.float64) for v in values]
    forward = jacobian_forward(fn, values)
    np.testing.assert_allclose(forward, jacobian_reverse(fn, values), rtol=1e-12, atol=1e-13)
    # and along a random direction, against central differences
    rng = np.random.default_rng(0)
    direction = [rng.normal(size=v.shape) for v in values]
    _, dot = mg.jvp(fn, [Tensor(v) for v in values], direction)
    eps = 1e-6
    with mg.no_grad():
        plus = fn(*[Tensor(v + eps * d) for v, d in zip(values, direction)]).data
        minus = fn(*[Tensor(v - eps * d) for v, d in zip(values, direction)]).data
    np.testing.assert_allclose(dot.data, (plus - minus) / (2 * eps), rtol=rtol, atol=atol)


@settings(max_examples=20)
@given(
    pairs.flatmap(
        lambda s: st.tuples(
            hnp.arrays(np.float64, s[0], elements=real(0.5, 2)),
            hnp.arrays(np.float64, s[1], elements=real(0.5, 2)),
        )
    )
)
def test_binary_arithmetic_jvp_under_broadcasting(pair):
    a, b = pair
    check_jvp(lambda a, b: a + b * a - b / a, a, b)
    check_jvp(lambda a, b: a**b - 2.0**b + a**2.5, a, b)
    check_jvp(lambda a, b: 3.0 / a - b * 2.0 + (1.0 - a), a, b)


@settings(max_examples=20)
@given(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3).flatmap(
    lambda s: hnp.arrays(np.float64, s, elements=real(0.2, 2))
))  # fmt: skip
def test_elementwise_jvp(a):
    check_jvp(lambda a: a.exp() + a.log() + a.tanh() - a.sigmoid() + (-a).relu(), a)
    check_jvp(lambda a: (a - 1.0).abs() * a, np.where(np.abs(a - 1) < 0.05, 1.3, a))


@pytest.mark.parametrize(("sa", "sb"), MATMUL_SHAPES, ids=str)
def test_matmul_jvp(sa, sb):
    rng = np.random.default_rng(1)
    check_jvp(lambda a, b: a @ b, rng.normal(size=sa), rng.normal(size=sb))


@pytest.mark.parametrize(
    ("axis", "keepdims"), [(None, False), (0, True), (-1, False), ((0, 2), True)]
)
def test_reductions_jvp(axis, keepdims):
    a = np.random.default_rng(2).permutation(24).reshape(2, 3, 4) * 0.1
    check_jvp(lambda a: a.sum(axis=axis, keepdims=keepdims), a)
    check_jvp(lambda a: a.mean(axis=axis, keepdims=keepdims), a)
    check_jvp(lambda a: a.max(axis=axis, keepdims=keepdims), a)


def test_max_jvp_splits_among_ties_like_backward():
    a = np.array([1.0, 3.0, 3.0])
    _, dot = mg.jvp(lambda a: a.max(), Tensor(a), np.array([5.0, 2.0, 4.0]))
    assert dot.item() == 3.0  # the average of the tied winners' tangents


def test_shape_ops_jvp():
    a = np.random.default_rng(3).normal(size=(2, 3))
    check_jvp(lambda a: a.reshape(3, 2).T, a)
    check_jvp(lambda a: a.transpose(1, 0)[::-1, [0, 0, 1]], a)
    check_jvp(lambda a: a[a.data > 0] * 2.0, a)
    check_jvp(lambda a: mg.ops.broadcast_to(a[:, :1], (4, 2, 3)), a)
    check_jvp(lambda a: mg.ops.scatter(a, ([0, 0], [1, 1]), (2, 2, 3)), a)


def test_join_where_and_put_jvp():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(1, 3))
    check_jvp(lambda a, b: mg.concatenate([a, b * a[0]], axis=0), a, b)
    check_jvp(lambda a, b: mg.stack([a[0], b[0]], axis=1), a, b)
    mask = a > 0
    check_jvp(lambda a, b: mg.where(mask, a * b, b), a, b)
    check_jvp(lambda a: mg.where(mask, 0.5, a**2), a)
    check_jvp(lambda a, b: mg.ops.put(a * 1.0, (0, slice(None)), b[0] ** 2), a, b)
    check_jvp(lambda a: mg.ops.put(a, np.s_[1, :2], 7.0), a)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_functional_jvp(reduction):
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 3))
    check_jvp(lambda z: F.softmax(z, axis=0), z)
    check_jvp(lambda z: F.log_softmax(z), z)
    check_jvp(lambda z: F.cross_entropy(z, [0, 2, 1, 1], reduction=reduction), z)
    check_jvp(lambda z: F.cross_entropy(z[1], 2, reduction=reduction), z)
    y = np.full((4, 3), 0.2)
    check_jvp(lambda z: F.binary_cross_entropy_with_logits(z, y, reduction=reduction), z)
    check_jvp(lambda z, y: F.mse_loss(z, y, reduction=reduction), z, rng.normal(size=(4, 3)))
    check_jvp(lambda x, w, b: F.linear(x, w, b), z, rng.normal(size=(2, 3)), rng.normal(size=(2,)))


def test_jvp_of_a_network_treats_its_weights_as_constants():
    net = mg.nn.MLP(3, [4, 2], seed=0)
    x = np.random.default_rng(6).normal(size=(5, 3))
    check_jvp(lambda x: net(x), x)


def test_jvp_through_checkpoint():
    w = Tensor(np.random.default_rng(7).normal(size=(3, 3)), requires_grad=True)
    check_jvp(lambda x: mg.checkpoint(lambda t: (t @ w).tanh(), x), np.ones((2, 3)))


def test_jvp_returns_what_fn_returns():
    primals = [Tensor([1.0, 2.0]), np.array([3.0, 4.0])]
    out, dot = mg.jvp(lambda a, b: (a * b, a + b), primals, [[1.0, 0.0], [0.0, 1.0]])
    assert isinstance(out, tuple) and isinstance(dot, tuple)
    np.testing.assert_allclose(dot[0].data, [3.0, 2.0])
    np.testing.assert_allclose(dot[1].data, [1.0, 1.0])
    # an output that does not depend on the input has a zero tangent
    _, dot = mg.jvp(lambda a: Tensor([5.0]), Tensor([1.0]), [1.0])
    assert dot.data.tolist() == [0.0]


def test_jvp_errors_and_cleanliness():
    with pytest.raises(ValueError, match="tangent 0 has shape"):
        mg.jvp(lambda a: a * 2, Tensor([1.0, 2.0]), [1.0])
    with pytest.raises(ValueError, match="1 primal"):
        mg.jvp(lambda a: a, [Tensor([1.0])], [[1.0], [2.0]])
    with pytest.raises(NotImplementedError, match="in-place"):

        def in_place(a):
            b = a * 1.0
            b += 1.0
            return b

        mg.jvp(in_place, Tensor([1.0]), [1.0])
    # a failing fn leaves forward mode off: no pass is under way, and a new jvp can start
    assert ForwardMode.tangents is None
    _, dot = mg.jvp(lambda a: a * 2, Tensor([1.0]), [1.0])
    np.testing.assert_allclose(dot.data, [2.0])
    # a tangent left on a tensor by an earlier jvp is not reused by a later one
    kept = {}

    def remember(a):
        kept["b"] = a * 3.0
        return kept["b"]

    mg.jvp(remember, Tensor([1.0]), [1.0])
    _, dot = mg.jvp(lambda a: a + kept["b"], Tensor([1.0]), [1.0])
    assert dot.data.tolist() == [1.0]


def test_jvp_does_not_record_a_graph_or_touch_gradients():
    w = Tensor([2.0], requires_grad=True)
    _, dot = mg.jvp(lambda x: x * w, Tensor([3.0]), [1.0])
    assert dot.data.tolist() == [2.0]
    assert w.grad is None


# ---------------------------------------------------------------------- dual numbers


def test_dual_numbers_give_derivatives_in_one_pass():
    def f(x):
        return x * x.sin() + (2 * x).exp() / (1 + x**2) - x.tanh() ** 3 + x.sigmoid() * x.log()

    def df(x):
        return (
            math.sin(x)
            + x * math.cos(x)
            + (2 * math.exp(2 * x) * (1 + x**2) - math.exp(2 * x) * 2 * x) / (1 + x**2) ** 2
            - 3 * math.tanh(x) ** 2 * (1 - math.tanh(x) ** 2)
            + (1 / (1 + math.exp(-x))) * (1 - 1 / (1 + math.exp(-x))) * math.log(x)
            + (1 / (1 + math.exp(-x))) / x
        )

    for x in (0.3, 1.0, 2.5):
        y = f(Dual(x, 1.0))
        assert math.isclose(y.tangent, df(x), rel_tol=1e-12)
        assert math.isclose(mg.dual.derivative(f, x), df(x), rel_tol=1e-12)


def test_dual_numbers_match_the_value_engine():
    for x0 in (-1.5, 0.2, 3.0):
        d = Dual(x0, 1.0)
        v = mg.Value(x0)
        fd = (d * 3 - 1 / (d * d + 1)).tanh() + (d - 0.5).relu() ** 2 + d.sigmoid()
        fv = (v * 3 - 1 / (v * v + 1)).tanh() + (v - 0.5).relu() ** 2 + v.sigmoid()
        fv.backward()
        assert math.isclose(fd.value, fv.data, rel_tol=1e-14)
        assert math.isclose(fd.tangent, v.grad, rel_tol=1e-12)


def test_dual_power_rules_and_errors():
    x = Dual(2.0, 1.0)
    assert (x**3).tangent == 12.0
    assert (x**0).tangent == 0.0
    assert math.isclose((2.0**x).tangent, 4 * math.log(2.0))
    assert math.isclose((x**x).tangent, 4 * (math.log(2.0) + 1))
    with pytest.raises(ValueError, match="log"):
        Dual(-1.0, 1.0).log()
    with pytest.raises(ValueError, match="fractional"):
        Dual(-2.0, 1.0) ** 0.5
    with pytest.raises(ZeroDivisionError):
        x / Dual(0.0, 1.0)
    with pytest.raises(TypeError, match="real number"):
        Dual("3")
    assert Dual(1000.0, 1.0).exp().value == math.inf
    assert Dual(-800.0, 1.0).sigmoid().value == 0.0
    assert repr(Dual(1.0, 2.0)) == "Dual(value=1.0, tangent=2.0)"
