"""Every op of the catalogue (tests/op_catalogue.py), three ways, against central differences
in float64 on hypothesis-drawn shapes and inputs:

- backward: ``gradcheck`` nudges each input element and compares with ``backward()``;
- forward mode: ``jvp`` along a random direction against the difference quotient along it;
- second order: the gradient recorded with ``create_graph=True``, differentiated again along
  a random direction (a Hessian-vector product), against the difference of two gradients.

The PyTorch comparison of the same catalogue is in test_tensor_torch_parity.py; so are the
catalogue's "wide" entries, whose difference quotients measure rounding (see NUMERIC).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_catalogue import MATMUL_SHAPES, NUMERIC, Op, pairs, sample, shapes

import minigrad as mg
from minigrad import Tensor, gradcheck

EPS = 1e-6


def drawn_inputs(op: Op, data) -> list[np.ndarray]:
    """Inputs for ``op``: shapes that broadcast together (one shape for one input), values
    from each input's domain."""
    chosen = data.draw(pairs if op.arity == 2 else shapes.map(lambda s: (s,)), label="shapes")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    return [sample(rng, shape, domain) for shape, domain in zip(chosen, op.domains)]


def weighted(op: Op, weights: np.ndarray):
    """``sum(w * op(inputs))``: one number whose gradient weighs every output differently."""

    def fn(*tensors):
        return (op.fn(*tensors) * weights).sum()

    return fn


def output_shape(op: Op, arrays: list[np.ndarray]) -> tuple[int, ...]:
    with mg.no_grad():
        return op.fn(*[Tensor(a) for a in arrays]).shape


def central(fn, arrays, direction) -> np.ndarray:
    with mg.no_grad():
        plus = fn(*[Tensor(a + EPS * d) for a, d in zip(arrays, direction)]).data
        minus = fn(*[Tensor(a - EPS * d) for a, d in zip(arrays, direction)]).data
    return (plus - minus) / (2 * EPS)


@pytest.mark.parametrize("name", NUMERIC)
@settings(max_examples=15)
@given(data=st.data())
def test_backward_matches_central_differences(name, data):
    op = NUMERIC[name]
    arrays = drawn_inputs(op, data)
    assert gradcheck(op.fn, [Tensor(a, requires_grad=True) for a in arrays])


@pytest.mark.parametrize("name", NUMERIC)
@settings(max_examples=15)
@given(data=st.data())
def test_forward_mode_matches_central_differences(name, data):
    op = NUMERIC[name]
    arrays = drawn_inputs(op, data)
    rng = np.random.default_rng(0)
    direction = [rng.normal(size=a.shape) for a in arrays]
    value, tangent = mg.jvp(op.fn, [Tensor(a) for a in arrays], direction)
    with mg.no_grad():
        np.testing.assert_allclose(value.data, op.fn(*[Tensor(a) for a in arrays]).data)
    np.testing.assert_allclose(
        tangent.data, central(op.fn, arrays, direction), rtol=1e-5, atol=1e-6, err_msg=name
    )


@pytest.mark.parametrize("name", [name for name, op in NUMERIC.items() if op.smooth])
@settings(max_examples=10)
@given(data=st.data())
def test_second_derivatives_match_differences_of_gradients(name, data):
    op = NUMERIC[name]
    arrays = drawn_inputs(op, data)
    rng = np.random.default_rng(1)
    fn = weighted(op, rng.normal(size=output_shape(op, arrays)))
    direction = [rng.normal(size=a.shape) for a in arrays]

    def gradients(*tensors):
        leaves = [Tensor(t.data, requires_grad=True) for t in tensors]
        return mg.grad(fn(*leaves), leaves, allow_unused=True)

    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    first = mg.grad(fn(*leaves), leaves, create_graph=True, allow_unused=True)
    along = sum(
        (g * Tensor(d)).sum() for g, d in zip(first, direction) if g is not None and g.requires_grad
    )
    if not isinstance(along, Tensor):  # every gradient is constant: the Hessian is 0
        second = [np.zeros_like(a) for a in arrays]
    else:
        found = mg.grad(along, leaves, allow_unused=True)
        second = [np.zeros_like(a) if g is None else g.data for g, a in zip(found, arrays)]

    plus = gradients(*[Tensor(a + EPS * d) for a, d in zip(arrays, direction)])
    minus = gradients(*[Tensor(a - EPS * d) for a, d in zip(arrays, direction)])
    for k, (s, p, m, a) in enumerate(zip(second, plus, minus, arrays)):
        expected = (
            (np.zeros_like(a) if p is None else p.data)
            - (np.zeros_like(a) if m is None else m.data)
        ) / (2 * EPS)
        np.testing.assert_allclose(s, expected, rtol=1e-4, atol=1e-5, err_msg=f"{name}: input {k}")


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_three_ways(shapes):
    rng = np.random.default_rng(2)
    arrays = [sample(rng, shape, "real") for shape in shapes]
    op = Op("matmul", lambda a, b: (a @ b).tanh(), ("real", "real"))
    assert gradcheck(op.fn, [Tensor(a, requires_grad=True) for a in arrays])
    direction = [rng.normal(size=a.shape) for a in arrays]
    _, tangent = mg.jvp(op.fn, [Tensor(a) for a in arrays], direction)
    np.testing.assert_allclose(
        tangent.data, central(op.fn, arrays, direction), rtol=1e-5, atol=1e-6
    )
