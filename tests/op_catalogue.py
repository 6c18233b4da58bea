"""One catalogue of the Tensor engine's differentiable ops, and the inputs they are tried on.

Each op is written once, with the operators and methods that minigrad and PyTorch share, so
the same lambda runs on both; each input names the domain its values are drawn from (away
from the singularities of log and division). Every kind of check iterates over the same
catalogue:

- ``test_op_catalogue.py``: backward against central differences (gradcheck), forward mode
  (jvp) against central differences, and second derivatives (a gradient recorded with
  ``create_graph=True``, differentiated again) against differences of gradients, on
  hypothesis-drawn shapes and seeds;
- ``test_tensor_torch_parity.py``: values and gradients against PyTorch;
- the shape lists and strategies here serve the hand-written tests of the other files.

An op added to the engine is added here once, and every check then covers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# ---------------------------------------------------------------------- input domains


def sample(rng: np.random.Generator, shape, domain: str) -> np.ndarray:
    """Random float64 inputs of ``shape`` inside ``domain``:

    real      uniform in [-2, 2]
    wide      uniform in [-50, 50] (exp's overflow side, tanh's and sigmoid's flat tails)
    positive  uniform in [0.5, 2] (log, a power's base)
    nonzero   magnitudes in [0.5, 2], either sign (divisors)
    """
    if domain == "real":
        x = rng.uniform(-2.0, 2.0, shape)
    elif domain == "wide":
        x = rng.uniform(-50.0, 50.0, shape)
    elif domain == "positive":
        x = rng.uniform(0.5, 2.0, shape)
    elif domain == "nonzero":
        x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    else:
        raise ValueError(f"no input domain {domain!r}")
    return np.asarray(x, dtype=np.float64)


def real(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi]."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Magnitudes in [lo, hi], either sign."""
    return st.tuples(real(lo, hi), st.booleans()).map(lambda t: t[0] if t[1] else -t[0])


def arrays(shape, elements=None, lo: float = -3, hi: float = 3) -> st.SearchStrategy:
    """float64 arrays of ``shape`` with ``elements`` (finite floats in [lo, hi] by default)."""
    return hnp.arrays(
        np.float64, shape, elements=elements if elements is not None else real(lo, hi)
    )


# ---------------------------------------------------------------------- shapes

# The shapes that most often go wrong, always in the mix beside whatever hypothesis draws.
SMALL_SHAPES = [(), (1,), (1, 1)]

shapes = st.one_of(
    st.sampled_from([*SMALL_SHAPES, (3,), (2, 3)]),
    hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
)

# Pairs of shapes that broadcast together: the awkward ones first, then any.
pairs = st.one_of(
    st.sampled_from([((), ()), ((3,), ()), ((1,), (3,)), ((2, 1), (1, 3)), ((1, 1), (2, 3))]),
    hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3).map(
        lambda b: b.input_shapes
    ),
)

BROADCAST_SHAPES = [
    ((), ()),
    ((), (3,)),
    ((3, 4), ()),
    ((1,), ()),
    ((1,), (3, 4)),
    ((3, 4), (1,)),
    ((1, 1), (3, 4)),
    ((3, 4), (1, 1)),
    ((1, 1), ()),
    ((1,), (1, 1)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 1, 4), (3, 1)),
    ((2, 3, 4), (2, 3, 4)),
    ((5, 1, 1, 2), (1, 3, 1)),
]

MATMUL_SHAPES = [
    ((4,), (4,)),  # dot product: a 0-d result
    ((4,), (4, 3)),  # row vector times matrix
    ((3, 4), (4,)),  # matrix times column vector
    ((3, 4), (4, 5)),
    ((1, 1), (1, 1)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),  # a matrix broadcast over a batch
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),  # batch axes (2, 1) and (5,) broadcast to (2, 5)
    ((1, 3, 4), (6, 4, 2)),
    ((2, 1, 3, 4), (1, 5, 4, 2)),
]


# ---------------------------------------------------------------------- the ops


@dataclass(frozen=True)
class Op:
    """A differentiable op: ``fn`` of Tensors (minigrad's or PyTorch's), and the domain each
    input is drawn from. ``smooth`` ops are twice differentiable there, so their second
    derivatives are checked too (relu's and abs's are 0 almost everywhere, as the engine
    says; their gradients pass through, which the first-order checks cover)."""

    name: str
    fn: Callable
    domains: tuple[str, ...]
    smooth: bool = True

    @property
    def arity(self) -> int:
        return len(self.domains)


def _ops(*ops: Op) -> dict[str, Op]:
    return {op.name: op for op in ops}


BINARY = _ops(
    Op("add", lambda a, b: a + b, ("real", "real")),
    Op("sub", lambda a, b: a - b, ("real", "real")),
    Op("mul", lambda a, b: a * b, ("real", "real")),
    Op("div", lambda a, b: a / b, ("real", "nonzero")),
    Op("pow", lambda a, b: a**b, ("positive", "real")),
)

# A number on either side of an operator, and one tensor on both sides (its gradient is the
# sum of both paths').
NUMBERS = _ops(
    Op("x + 2.5", lambda x: x + 2.5, ("real",)),
    Op("2.5 + x", lambda x: 2.5 + x, ("real",)),
    Op("x + 2", lambda x: x + 2, ("real",)),
    Op("x - 1.5", lambda x: x - 1.5, ("real",)),
    Op("1.5 - x", lambda x: 1.5 - x, ("real",)),
    Op("x * -3.0", lambda x: x * -3.0, ("real",)),
    Op("-3.0 * x", lambda x: -3.0 * x, ("real",)),
    Op("x / 0.7", lambda x: x / 0.7, ("real",)),
    Op("0.7 / x", lambda x: 0.7 / x, ("nonzero",)),
    Op("x ** 2", lambda x: x**2, ("real",)),
    Op("x ** 3", lambda x: x**3, ("real",)),
    Op("x ** 2.0", lambda x: x**2.0, ("real",)),
    Op("x ** 1", lambda x: x**1, ("real",)),
    Op("x ** 0", lambda x: x**0, ("real",)),
    Op("x ** -1", lambda x: x**-1, ("nonzero",)),
    Op("x ** -2", lambda x: x**-2, ("nonzero",)),
    Op("x ** 0.5", lambda x: x**0.5, ("positive",)),
    Op("x ** -1.5", lambda x: x**-1.5, ("positive",)),
    Op("2.5 ** x", lambda x: 2.5**x, ("real",)),
    Op("0.5 ** x", lambda x: 0.5**x, ("real",)),
    Op("-x", lambda x: -x, ("real",)),
    Op("x + x", lambda x: x + x, ("real",)),
    Op("x - x", lambda x: x - x, ("real",)),
    Op("x * x", lambda x: x * x, ("real",)),
    Op("x / x", lambda x: x / x, ("nonzero",)),
    Op("x ** x", lambda x: x**x, ("positive",)),
    Op("x * x.exp() - x", lambda x: x * x.exp() - x, ("real",)),
)

UNARY = _ops(
    Op("exp", lambda x: x.exp(), ("real",)),
    Op("exp, wide", lambda x: x.exp(), ("wide",)),
    Op("log", lambda x: x.log(), ("positive",)),
    Op("tanh", lambda x: x.tanh(), ("real",)),
    Op("tanh, wide", lambda x: x.tanh(), ("wide",)),
    Op("relu", lambda x: x.relu(), ("real",), smooth=False),
    Op("sigmoid", lambda x: x.sigmoid(), ("real",)),
    Op("sigmoid, wide", lambda x: x.sigmoid(), ("wide",)),
    Op("abs", lambda x: x.abs(), ("real",), smooth=False),
)

ELEMENTWISE = {**NUMBERS, **UNARY}
# Every op of one or two inputs that broadcasts elementwise.
ALL = {**BINARY, **ELEMENTWISE}
# Those checked against central differences: all but the "wide" entries, whose outputs span
# twenty orders of magnitude (e^-50 to e^50), so that a difference quotient of their weighted
# sum measures rounding, not a derivative. PyTorch checks those (test_tensor_torch_parity).
NUMERIC = {name: op for name, op in ALL.items() if "wide" not in op.domains}
