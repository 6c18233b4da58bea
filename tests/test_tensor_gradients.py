"""Every Tensor op's backward rule against central differences in float64 (``gradcheck``), on
hypothesis-drawn shapes and values: broadcasting pairs (0-d, (1,), (1, 1), size-1 axes, extra
leading axes), every axis form of the reductions, every matmul case, every kind of index.
Values stay away from singularities and from the kinks of relu and abs, where central
differences mean nothing.  Each forward value is also compared with numpy's.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_catalogue import SMALL_SHAPES, arrays, away_from_zero, real

import minigrad as mg
from minigrad import Tensor, gradcheck
from minigrad.functional import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_softmax,
    mse_loss,
    softmax,
)

# ---------------------------------------------------------------------- strategies


any_shape = st.one_of(
    st.sampled_from([*SMALL_SHAPES, (3,), (2, 1), (1, 3)]),
    hnp.array_shapes(min_dims=0, max_dims=4, max_side=4),
)
shape_pairs = st.one_of(
    st.sampled_from(
        [
            ((), ()),
            ((), (3,)),
            ((2, 3), ()),
            ((1,), ()),
            ((1,), (3,)),
            ((3,), (1,)),
            ((1, 1), (3,)),
            ((1, 1), ()),
            ((2, 1), (1, 3)),
            ((3, 1, 2), (4, 1)),
            ((1, 1), (2, 3, 4)),
            ((2, 1, 3, 1), (4, 1, 1)),
        ]
    ),
    hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3).map(
        lambda b: b.input_shapes
    ),
)


@st.composite
def operand_pairs(draw, a_elements=None, b_elements=None):
    shape_a, shape_b = draw(shape_pairs)
    return draw(arrays(shape_a, a_elements)), draw(arrays(shape_b, b_elements))


@st.composite
def axes_for(draw, ndim):
    """An axis argument for a reduction over ``ndim`` axes: None, an int (maybe negative),
    or a tuple of distinct axes, each written positive or negative at random."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    return tuple(draw(st.sampled_from([i, i - ndim])) for i in axes)


@st.composite
def reductions(draw, distinct=False):
    """(array, axis, keepdims).  ``distinct``: values at least 0.25 apart, so that ``max``
    has no ties, which central differences cannot handle."""
    shape = draw(any_shape)
    if distinct:
        size = math.prod(shape)
        order = draw(st.permutations(range(size)))
        x = (np.array(order, dtype=np.float64).reshape(shape) - size / 2) * 0.25
    else:
        x = draw(arrays(shape))
    return x, draw(axes_for(len(shape))), draw(st.booleans())


def check(fn, *inputs):
    """gradcheck in float64, with tolerances tight enough to catch a wrong factor anywhere.

    A non-scalar output is checked through a random weighting of its elements, so a
    gradient sent to the wrong element (a wrong permutation, a misplaced slice) shows too."""
    assert gradcheck(fn, [np.asarray(x, dtype=np.float64) for x in inputs], atol=1e-6, rtol=1e-6)


# ---------------------------------------------------------------------- binary arithmetic


@settings(max_examples=40)
@given(operand_pairs())
def test_add_sub_mul_gradients_under_broadcasting(pair):
    a, b = pair
    np.testing.assert_array_equal((Tensor(a) + Tensor(b)).data, a + b)
    np.testing.assert_array_equal((Tensor(a) - Tensor(b)).data, a - b)
    np.testing.assert_array_equal((Tensor(a) * Tensor(b)).data, a * b)
    check(lambda x, y: x + y, a, b)
    check(lambda x, y: x - y, a, b)
    check(lambda x, y: x * y, a, b)


@settings(max_examples=40)
@given(operand_pairs(b_elements=away_from_zero(0.5, 3)))
def test_div_gradient_under_broadcasting(pair):
    a, b = pair
    np.testing.assert_array_equal((Tensor(a) / Tensor(b)).data, a / b)
    check(lambda x, y: x / y, a, b)


@settings(max_examples=40)
@given(operand_pairs(a_elements=real(0.5, 3), b_elements=real(-2, 2)))
def test_pow_with_tensor_exponent_gradient_under_broadcasting(pair):
    a, b = pair
    np.testing.assert_array_equal((Tensor(a) ** Tensor(b)).data, a**b)
    check(lambda x, y: x**y, a, b)


@settings(max_examples=30)
@given(any_shape.flatmap(lambda s: arrays(s, real(0.5, 3))), real(-3, 3))
def test_pow_with_number_exponent_gradient(a, n):
    np.testing.assert_array_equal((Tensor(a) ** n).data, a**n)
    check(lambda x: x**n, a)


@settings(max_examples=30)
@given(any_shape.flatmap(lambda s: arrays(s, away_from_zero(0.5, 3))), st.integers(-3, 3))
def test_pow_of_negative_base_with_integer_exponent_gradient(a, n):
    check(lambda x: x**n, a)


@settings(max_examples=30)
@given(any_shape.flatmap(lambda s: arrays(s, real(-3, 3))), real(0.5, 3))
def test_number_to_the_power_of_a_tensor_gradient(a, base):
    np.testing.assert_array_equal((base ** Tensor(a)).data, base**a)
    check(lambda x: 2.0**x, a)
    check(lambda x: base**x, a)


@settings(max_examples=30)
@given(any_shape.flatmap(lambda s: arrays(s, away_from_zero(0.5, 3))))
def test_numbers_on_either_side_gradients(a):
    t = Tensor(a)
    np.testing.assert_array_equal((3 - t).data, 3 - a)
    np.testing.assert_array_equal((1 / t).data, 1 / a)
    for fn in [
        lambda x: x + 2.5,
        lambda x: 2.5 + x,
        lambda x: x - 3,
        lambda x: 3 - x,
        lambda x: x * -1.5,
        lambda x: -1.5 * x,
        lambda x: x / 4.0,
        lambda x: 1 / x,
        lambda x: -2.0 / x,
        lambda x: x * np.float64(0.5) + np.int64(2),
    ]:
        check(fn, a)


@settings(max_examples=25)
@given(operand_pairs(a_elements=real(0.5, 3), b_elements=away_from_zero(0.5, 3)))
def test_numpy_arrays_on_either_side_are_constants(pair):
    a, b = pair
    x = Tensor(a, requires_grad=True)
    out = b * x + b / x - x**b + (b - x)
    assert isinstance(out, Tensor) and out.shape == np.broadcast_shapes(a.shape, b.shape)
    check(lambda x: b * x + b / x - x**b + (b - x), a)


# ---------------------------------------------------------------------- unary


@settings(max_examples=30)
@given(any_shape.flatmap(lambda s: arrays(s, real(-3, 3))))
def test_neg_exp_tanh_sigmoid_gradients(a):
    t = Tensor(a)
    np.testing.assert_array_equal((-t).data, -a)
    np.testing.assert_array_equal(t.exp().data, np.exp(a))
    np.testing.assert_array_equal(t.tanh().data, np.tanh(a))
    np.testing.assert_allclose(t.sigmoid().data, 1 / (1 + np.exp(-a)), rtol=1e-15)
    check(lambda x: -x, a)
    check(lambda x: x.exp(), a)
    check(lambda x: x.tanh(), a)
    check(lambda x: x.sigmoid(), a)


@settings(max_examples=30)
@given(any_shape.flatmap(lambda s: arrays(s, real(0.1, 10))))
def test_log_gradient(a):
    np.testing.assert_array_equal(Tensor(a).log().data, np.log(a))
    check(lambda x: x.log(), a)


@settings(max_examples=30)
@given(any_shape.flatmap(lambda s: arrays(s, away_from_zero(1e-3, 3))))
def test_relu_and_abs_gradients_away_from_the_kink(a):
    t = Tensor(a)
    np.testing.assert_array_equal(t.relu().data, np.maximum(a, 0))
    np.testing.assert_array_equal(t.abs().data, np.abs(a))
    check(lambda x: x.relu(), a)
    check(lambda x: x.abs(), a)


# ---------------------------------------------------------------------- reductions


@settings(max_examples=40)
@given(reductions())
def test_sum_and_mean_gradients_over_any_axes(case):
    x, axis, keepdims = case
    t = Tensor(x)
    np.testing.assert_allclose(
        t.sum(axis, keepdims).data, x.sum(axis=axis, keepdims=keepdims), rtol=1e-14
    )
    np.testing.assert_allclose(
        t.mean(axis=axis, keepdims=keepdims).data,
        x.mean(axis=axis, keepdims=keepdims),
        rtol=1e-14,
        atol=1e-15,
    )
    check(lambda a: a.sum(axis=axis, keepdims=keepdims), x)
    check(lambda a: a.mean(axis=axis, keepdims=keepdims), x)


@settings(max_examples=40)
@given(reductions(distinct=True))
def test_max_gradient_over_any_axes_without_ties(case):
    x, axis, keepdims = case
    out = Tensor(x).max(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out.data, x.max(axis=axis, keepdims=keepdims))
    check(lambda a: a.max(axis=axis, keepdims=keepdims), x)


def test_max_splits_the_gradient_evenly_among_ties():
    t = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 0.5, 0.5])

    t = Tensor([2.0, 2.0, 2.0, 2.0], requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(t.grad, [0.25, 0.25, 0.25, 0.25])


@pytest.mark.parametrize("keepdims", [False, True])
def test_max_along_an_axis_splits_ties_within_each_slice(keepdims):
    t = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [5.0, 4.0, 3.0]], requires_grad=True)
    out = t.max(axis=1, keepdims=keepdims)
    np.testing.assert_array_equal(out.data.ravel(), [3.0, 2.0, 5.0])
    out.backward(np.array([1.0, 10.0, 100.0]).reshape(out.shape))
    np.testing.assert_array_equal(t.grad, [[0.0, 0.5, 0.5], [5.0, 5.0, 0.0], [100.0, 0.0, 0.0]])

    t = Tensor([[1.0, 3.0], [1.0, 3.0]], requires_grad=True)
    t.max(axis=0, keepdims=keepdims).sum().backward()
    np.testing.assert_array_equal(t.grad, [[0.5, 0.5], [0.5, 0.5]])


# ---------------------------------------------------------------------- matrix product

MATMUL_CASES = [
    "1-D @ 1-D",
    "1-D @ 2-D",
    "2-D @ 1-D",
    "2-D @ 2-D",
    "N-D @ N-D",
    "1-D @ N-D",
    "N-D @ 1-D",
]


@st.composite
def matmul_operands(draw, case):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3)
    ).input_shapes
    shape_a = {"1": (k,), "2": (n, k), "N": (*batch_a, n, k)}[case[0]]
    shape_b = {"1": (k,), "2": (k, m), "N": (*batch_b, k, m)}[case[-3]]
    return draw(arrays(shape_a)), draw(arrays(shape_b))


@pytest.mark.parametrize("case", MATMUL_CASES)
@settings(max_examples=25)
@given(data=st.data())
def test_matmul_gradient(case, data):
    a, b = data.draw(matmul_operands(case))
    out = Tensor(a) @ Tensor(b)
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-13, atol=1e-13)
    check(lambda x, y: x @ y, a, b)
    check(lambda x: x @ b, a)  # a numpy array on either side is a constant
    check(lambda y: a @ y, b)


def test_matmul_gradient_with_broadcast_batch_axes():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 2))
    out = Tensor(a) @ Tensor(b)
    assert out.shape == (2, 5, 3, 2)
    check(lambda x, y: x @ y, a, b)
    # the batch axis of size 1 in a met 5 matrices of b: its gradient sums over them
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (x @ y).sum().backward()
    np.testing.assert_allclose(x.grad, np.broadcast_to(b.sum(axis=(0, 2)), (2, 1, 3, 4)))
    np.testing.assert_allclose(y.grad, np.broadcast_to(a.sum(axis=(0, 1, 2))[:, None], (5, 4, 2)))


# ---------------------------------------------------------------------- shapes


@st.composite
def reshape_cases(draw):
    """An array and a new shape with the same number of elements, maybe with a -1."""
    x = draw(any_shape.flatmap(arrays))
    factors = _prime_factors(x.size)
    ndim = draw(st.integers(0 if x.size == 1 else 1, 4))
    target = [1] * ndim
    for p in factors:
        target[draw(st.integers(0, ndim - 1))] *= p
    if ndim and draw(st.booleans()):
        target[draw(st.integers(0, ndim - 1))] = -1
    return x, tuple(target)


def _prime_factors(n):
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


@settings(max_examples=30)
@given(reshape_cases())
def test_reshape_gradient(case):
    x, shape = case
    np.testing.assert_array_equal(Tensor(x).reshape(shape).data, x.reshape(shape))
    np.testing.assert_array_equal(Tensor(x).reshape(*shape).data, x.reshape(shape))
    check(lambda a: a.reshape(shape), x)


@st.composite
def permutations_of(draw, ndim):
    axes = draw(st.permutations(range(ndim)))
    return tuple(draw(st.sampled_from([i, i - ndim])) for i in axes)


@settings(max_examples=30)
@given(any_shape.flatmap(lambda s: st.tuples(arrays(s), permutations_of(len(s)))))
def test_transpose_gradient_with_and_without_axes(case):
    x, axes = case
    t = Tensor(x)
    np.testing.assert_array_equal(t.transpose(axes).data, x.transpose(axes))
    np.testing.assert_array_equal(t.transpose(*axes).data, x.transpose(axes))
    np.testing.assert_array_equal(t.transpose().data, x.transpose())
    np.testing.assert_array_equal(t.T.data, x.T)
    check(lambda a: a.transpose(axes), x)
    check(lambda a: a.transpose(*axes), x)
    check(lambda a: a.transpose(), x)
    check(lambda a: a.T, x)


@settings(max_examples=30)
@given(
    hnp.array_shapes(min_dims=1, max_dims=4, max_side=4).flatmap(
        lambda s: st.tuples(
            arrays(s), st.integers(-len(s), len(s) - 1), st.integers(-len(s), len(s) - 1)
        )
    )
)
def test_swapaxes_gradient(case):
    x, i, j = case
    expected = x.swapaxes(i, j)
    np.testing.assert_array_equal(Tensor(x).swapaxes(i, j).data, expected)
    check(lambda a: a.swapaxes(i, j), x)


# ---------------------------------------------------------------------- indexing

index_shapes = hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)


@settings(max_examples=40)
@given(
    index_shapes.flatmap(lambda s: st.tuples(arrays(s), hnp.basic_indices(s, allow_newaxis=True)))
)
def test_basic_indexing_gradient(case):
    """ints, slices (negative steps included), None and Ellipsis."""
    x, index = case
    np.testing.assert_array_equal(Tensor(x)[index].data, x[index])
    check(lambda a: a[index], x)


@settings(max_examples=40)
@given(
    index_shapes.flatmap(
        lambda s: st.tuples(
            arrays(s),
            hnp.integer_array_indices(s, result_shape=hnp.array_shapes(min_dims=1, max_side=6)),
        )
    )
)
def test_integer_array_indexing_gradient_with_repeats(case):
    x, index = case
    np.testing.assert_array_equal(Tensor(x)[index].data, x[index])
    check(lambda a: a[index], x)
    # each element's gradient counts how many times it was taken
    t = Tensor(x, requires_grad=True)
    t[index].sum().backward()
    counts = np.zeros(x.shape)
    np.add.at(counts, index, 1.0)
    np.testing.assert_array_equal(t.grad, counts)


@settings(max_examples=30)
@given(
    index_shapes.flatmap(
        lambda s: st.tuples(
            arrays(s),
            st.integers(1, len(s)).flatmap(lambda k: hnp.arrays(np.bool_, s[:k])),
        )
    )
)
def test_boolean_mask_gradient(case):
    x, mask = case
    np.testing.assert_array_equal(Tensor(x)[mask].data, x[mask])
    check(lambda a: a[mask], x)
    check(lambda a: a[Tensor(mask.astype(np.float64)) > 0.5], x)  # a mask from a comparison


def test_repeated_integer_indices_accumulate():
    t = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    t[[0, 0, 1]].sum().backward()
    np.testing.assert_array_equal(t.grad, [2.0, 1.0, 0.0, 0.0])

    t = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    t[np.array([3, -1, 3, 0])].backward(np.array([1.0, 10.0, 100.0, 1000.0]))
    np.testing.assert_array_equal(t.grad, [1000.0, 0.0, 0.0, 111.0])

    m = Tensor(np.zeros((2, 3)), requires_grad=True)
    m[[0, 0, 1], [2, 2, 0]].sum().backward()
    np.testing.assert_array_equal(m.grad, [[0.0, 0.0, 2.0], [1.0, 0.0, 0.0]])


def test_integer_array_with_a_slice_accumulates_whole_rows():
    m = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    out = m[[2, 2, 0], ::-1]
    np.testing.assert_array_equal(out.data, [[5.0, 4.0], [5.0, 4.0], [1.0, 0.0]])
    out.backward(np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]]))
    np.testing.assert_array_equal(m.grad, [[200.0, 100.0], [0.0, 0.0], [22.0, 11.0]])


def test_repeated_indices_given_as_a_tuple_accumulate():
    """numpy reads a tuple inside an index as an integer array, like a list: x[(0, 0), 1]
    takes x[0, 1] twice, so its gradient must be 2, as for x[[0, 0], 1]."""
    as_list = Tensor(np.zeros((2, 3)), requires_grad=True)
    as_list[[0, 0], 1].sum().backward()
    np.testing.assert_array_equal(as_list.grad, [[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])

    as_tuple = Tensor(np.zeros((2, 3)), requires_grad=True)
    out = as_tuple[(0, 0), 1]
    assert out.shape == (2,)
    out.sum().backward()
    np.testing.assert_array_equal(
        as_tuple.grad,
        [[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]],
        err_msg="x[(0, 0), 1]: the repeated element received only one of its two gradients",
    )


def test_negative_step_slices_send_gradients_back_in_place():
    t = Tensor([1.0, 2.0, 3.0, 4.0, 5.0], requires_grad=True)
    out = t[::-2]
    np.testing.assert_array_equal(out.data, [5.0, 3.0, 1.0])
    out.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(t.grad, [3.0, 0.0, 2.0, 0.0, 1.0])


# ---------------------------------------------------------------------- joining and choosing


@st.composite
def concatenate_cases(draw):
    base = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = draw(st.integers(-len(base), len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    shapes = [tuple(n if i == axis % len(base) else d for i, d in enumerate(base)) for n in sizes]
    return [draw(arrays(s)) for s in shapes], axis


@settings(max_examples=30)
@given(concatenate_cases())
def test_concatenate_gradient(case):
    xs, axis = case
    out = mg.concatenate([Tensor(x) for x in xs], axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate(xs, axis=axis))
    check(lambda *ts: mg.concatenate(list(ts), axis=axis), *xs)


@st.composite
def stack_cases(draw):
    shape = draw(any_shape)
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    xs = draw(st.lists(arrays(shape), min_size=1, max_size=3))
    return xs, axis


@settings(max_examples=30)
@given(stack_cases())
def test_stack_gradient_with_any_axis(case):
    xs, axis = case
    out = mg.stack([Tensor(x) for x in xs], axis=axis)
    np.testing.assert_array_equal(out.data, np.stack(xs, axis=axis))
    check(lambda *ts: mg.stack(list(ts), axis=axis), *xs)


def test_concatenate_and_stack_with_a_constant_among_the_inputs():
    a = Tensor([1.0, 2.0], requires_grad=True)
    mg.concatenate([a, np.array([5.0]), a], axis=-1).backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(a.grad, [5.0, 7.0])
    b = Tensor([1.0, 2.0], requires_grad=True)
    mg.stack([np.zeros(2), b], axis=-1).backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(b.grad, [2.0, 4.0])


@st.composite
def where_cases(draw):
    shapes = draw(
        st.one_of(
            st.sampled_from([((3,), (), (1,)), ((2, 1), (1, 3), (3,)), ((1, 1), (2, 1), ())]),
            hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3).map(
                lambda b: b.input_shapes
            ),
        )
    )
    condition = draw(hnp.arrays(np.bool_, shapes[0]))
    return condition, draw(arrays(shapes[1])), draw(arrays(shapes[2]))


@settings(max_examples=30)
@given(where_cases(), real(-3, 3))
def test_where_gradient(case, number):
    condition, a, b = case
    out = mg.where(condition, Tensor(a), Tensor(b))
    np.testing.assert_array_equal(out.data, np.where(condition, a, b))
    check(lambda x, y: mg.where(condition, x, y), a, b)
    check(lambda x: mg.where(condition, x, number), a)
    check(lambda y: mg.where(condition, number, y), b)
    mask = Tensor(condition.astype(np.float64)) > 0.5  # a boolean Tensor, as comparisons give
    check(lambda x, y: mg.where(mask, x, y), a, b)


def test_where_sends_each_gradient_to_the_chosen_side_only():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor(10.0, requires_grad=True)
    mg.where(np.array([True, False, False]), a, b).backward(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(b.grad, 6.0)


# ---------------------------------------------------------------------- functional


@st.composite
def arrays_with_an_axis(draw, elements=None):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    return draw(arrays(shape, elements)), draw(st.integers(-len(shape), len(shape) - 1))


def _numpy_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@settings(max_examples=30)
@given(arrays_with_an_axis(real(-5, 5)))
def test_softmax_and_log_softmax_gradients_along_any_axis(case):
    x, axis = case
    np.testing.assert_allclose(softmax(Tensor(x), axis).data, _numpy_softmax(x, axis), rtol=1e-13)
    np.testing.assert_allclose(
        log_softmax(Tensor(x), axis).data,
        np.log(_numpy_softmax(x, axis)),
        rtol=1e-12,
        atol=1e-13,
    )
    check(lambda a: softmax(a, axis=axis), x)
    check(lambda a: log_softmax(a, axis=axis), x)


@st.composite
def classification_cases(draw):
    n, classes = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    logits = draw(arrays((n, classes), real(-5, 5)))
    targets = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    return logits, targets


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=25)
@given(case=classification_cases())
def test_cross_entropy_gradient(reduction, case):
    logits, targets = case
    losses = -np.log(_numpy_softmax(logits, 1))[np.arange(len(targets)), targets]
    expected = {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]
    out = cross_entropy(Tensor(logits), targets, reduction=reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    check(lambda z: cross_entropy(z, targets, reduction=reduction), logits)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=25)
@given(logits=arrays(st.integers(1, 5).map(lambda c: (c,)), real(-5, 5)), data=st.data())
def test_cross_entropy_of_one_example_with_a_scalar_target(reduction, logits, data):
    target = data.draw(st.integers(0, logits.size - 1))
    out = cross_entropy(Tensor(logits), target, reduction=reduction)
    assert out.shape == ()
    np.testing.assert_allclose(out.data, -np.log(_numpy_softmax(logits, 0))[target], rtol=1e-12)
    check(lambda z: cross_entropy(z, target, reduction=reduction), logits)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=25)
@given(pair=any_shape.flatmap(lambda s: st.tuples(arrays(s), arrays(s))))
def test_mse_loss_gradient_for_prediction_and_target(reduction, pair):
    prediction, target = pair
    squared = (prediction - target) ** 2
    expected = {"mean": squared.mean(), "sum": squared.sum(), "none": squared}[reduction]
    out = mse_loss(Tensor(prediction), Tensor(target), reduction=reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)
    check(lambda p, t: mse_loss(p, t, reduction=reduction), prediction, target)
    check(lambda p: mse_loss(p, target, reduction=reduction), prediction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=25)
@given(pair=any_shape.flatmap(lambda s: st.tuples(arrays(s, real(-5, 5)), arrays(s, real(0, 1)))))
def test_binary_cross_entropy_with_logits_gradient(reduction, pair):
    logits, targets = pair
    p = 1 / (1 + np.exp(-logits))
    losses = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    expected = {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]
    out = binary_cross_entropy_with_logits(Tensor(logits), targets, reduction=reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    check(lambda z: binary_cross_entropy_with_logits(z, targets, reduction=reduction), logits)


@settings(max_examples=25)
@given(
    arrays_with_an_axis(away_from_zero(0.1, 2)).flatmap(
        lambda c: st.tuples(st.just(c[0]), st.just(c[1]), arrays(c[0].shape, real(0.5, 2)))
    )
)
def test_gradients_compose_through_an_expression_of_many_ops(case):
    x, axis, y = case  # x away from 0, where the where() below switches sides

    def f(a, b):
        h = (a * b - b.log() / 2.0).tanh() + (a**2).sigmoid() * (b**0.5)
        s = softmax(h, axis=axis) * log_softmax(a - h, axis=axis)
        chosen = mg.where(a.data > 0, a, 1 / b)
        return (s.sum(axis=axis, keepdims=True) * h.exp().mean()).mean() + chosen.exp().mean()

    check(f, x, y)


# ---------------------------------------------------------------------- gradient shape and dtype


OPS = {
    "neg": lambda x, y, leaf: -x,
    "exp": lambda x, y, leaf: x.exp(),
    "log": lambda x, y, leaf: x.log(),
    "tanh": lambda x, y, leaf: x.tanh(),
    "relu": lambda x, y, leaf: x.relu(),
    "sigmoid": lambda x, y, leaf: x.sigmoid(),
    "abs": lambda x, y, leaf: x.abs(),
    "add": lambda x, y, leaf: x + y,
    "sub": lambda x, y, leaf: y - x,
    "mul": lambda x, y, leaf: x * y,
    "div": lambda x, y, leaf: x / y,
    "pow": lambda x, y, leaf: x**y,
    "pow number": lambda x, y, leaf: x**3,
    "rpow number": lambda x, y, leaf: 2.0**x,
    "rsub number": lambda x, y, leaf: 1 - x,
    "rdiv number": lambda x, y, leaf: 1 / x,
    "sum": lambda x, y, leaf: x.sum(),
    "sum keepdims": lambda x, y, leaf: x.sum(keepdims=True),
    "sum axis 0": lambda x, y, leaf: x.sum(axis=0) if x.ndim else x.sum(),
    "mean": lambda x, y, leaf: x.mean(),
    "mean axis -1": lambda x, y, leaf: x.mean(axis=-1, keepdims=True) if x.ndim else x.mean(),
    "max": lambda x, y, leaf: x.max(),
    "max axis 0": lambda x, y, leaf: x.max(axis=0) if x.ndim else x.max(),
    "reshape": lambda x, y, leaf: x.reshape(-1),
    "transpose": lambda x, y, leaf: x.transpose(),
    "T": lambda x, y, leaf: x.T,
    "index": lambda x, y, leaf: x[...] if x.ndim == 0 else x[0],
    "index array": lambda x, y, leaf: x[None][[0, 0]],
    "index mask": lambda x, y, leaf: x[x > 1.0],
    "matmul": lambda x, y, leaf: x.reshape(1, -1) @ leaf((x.numel(), 2)),
    "rmatmul": lambda x, y, leaf: leaf((2, x.numel())) @ x.reshape(-1),
    "concatenate": lambda x, y, leaf: mg.concatenate([x.reshape(-1), y.reshape(-1)]),
    "stack": lambda x, y, leaf: mg.stack([x, x * 2.0], axis=-1),
    "where": lambda x, y, leaf: mg.where(x > 1.0, x, y),
    "softmax": lambda x, y, leaf: softmax(x.reshape(-1)),
    "log_softmax": lambda x, y, leaf: log_softmax(x[None], axis=0),
    "cross_entropy": lambda x, y, leaf: cross_entropy(x.reshape(1, -1), [0]),
    "mse_loss": lambda x, y, leaf: mse_loss(x, leaf(x.shape)),
    "bce_with_logits": lambda x, y, leaf: binary_cross_entropy_with_logits(
        x, np.full(x.shape, 0.25)
    ),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(OPS))
@settings(max_examples=25)
@given(
    shapes=st.one_of(
        st.sampled_from(
            [((), ()), ((1,), ()), ((1, 1), ()), ((), (1, 1)), ((1,), (1, 1)), ((1, 1), (1,))]
        ),
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3).map(
            lambda b: b.input_shapes
        ),
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradient_has_the_shape_and_dtype_of_its_input(name, dtype, shapes, seed):
    rng = np.random.default_rng(seed)
    leaves = []

    def leaf(shape):
        t = Tensor(rng.uniform(0.5, 2.0, shape), dtype=dtype, requires_grad=True)
        leaves.append(t)
        return t

    x, y = leaf(shapes[0]), leaf(shapes[1])
    out = OPS[name](x, y, leaf)
    assert out.dtype == dtype, f"{name} gave a {out.dtype} result from {dtype.__name__} inputs"
    out.backward(np.ones(out.shape))
    in_graph = set(out.topological_order())
    assert x in in_graph
    for t in leaves:
        if t not in in_graph:
            continue
        assert type(t.grad) is np.ndarray, f"{name}: grad is a {type(t.grad).__name__}"
        assert t.grad.shape == t.shape, f"{name}: grad shape {t.grad.shape} for input {t.shape}"
        assert t.grad.dtype == t.dtype, f"{name}: grad dtype {t.grad.dtype} for input {t.dtype}"
    assert out.grad.shape == out.shape and out.grad.dtype == out.dtype
