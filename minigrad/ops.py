"""The tensor operations: each forward computation beside its backward and tangent rules.

Every op computes its result with numpy and records it with ``tensor.make_node``, along
with two rules:

* the backward rule ``rule(g, out, *inputs)``: given the gradient ``g`` of the loss with
  respect to the result, it returns the gradient with respect to each input (reverse mode:
  ``g`` times the Jacobian);
* the tangent rule ``tangent(dots, out, *inputs)``: given how fast each input moves
  (``dots``, one per input), it returns how fast the result moves (forward mode: the
  Jacobian times the tangents).  Used by ``minigrad.jvp``.

``out`` and ``inputs`` are the values of the result and of the inputs, in the order of the
op's parents.  Each op also declares which of those values its backward rule reads
(``saves=``), so that the backward pass can refuse values changed in place since (see
``inplace.py``).

These functions are also the Tensor's operators and methods: ``a + b`` is ``add(a, b)``,
``a.sum()`` is ``sum(a)``.  The last section of this module attaches them to the class.
The five arithmetic operators share one code path (``_arithmetic``): each writes its
derivatives once, as the gradient for each input, and a number mixed in (``x * 2.0``) is
folded into the rule rather than becoming a node.

A backward rule usually runs on numpy arrays.  When the backward pass is itself recorded
(``minigrad.grad(..., create_graph=True)``), the same rule runs on Tensors, and its result
can be differentiated again.  So rules stick to what arrays and Tensors both understand
(arithmetic, ``@``, ``.sum``, ``.reshape``, ``.transpose``, ``.astype``, indexing,
``.shape``) and reach the few numpy functions they need through the ``_..._of`` helpers
below, which pick the Tensor op for a Tensor.  Masks (where relu is active, which elements
won a max) are constants, read from the data as plain arrays (``data_of``).

Two helpers carry the ideas that every rule shares:

* ``_unbroadcast(g, shape)``: numpy broadcasting copies an input along some axes; an input
  used many times collects the sum of the gradients of its copies.  So a rule sums ``g``
  over the broadcast axes, back down to the input's shape.
* ``_expand(g, shape, axes, keepdims)``: the reverse, for reductions.  ``sum`` collapsed
  some axes, so each input element's gradient is the gradient of the sum it fed: ``g``
  copied back along those axes.

Where a rule makes a choice that could go either way (the derivative of relu at 0, of
``0 ** b``, how ``max`` splits among ties), it follows PyTorch, so that the numbers match.
"""

from __future__ import annotations

import builtins
import numbers
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .inplace import (
    INPUTS,
    INPUTS_AND_OUTPUT,
    NOTHING,
    OUTPUT,
    change_in_place,
    share_buffer,
)
from .tensor import SAME_AS_BACKWARD, Tensor, data_of, make_node

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "neg",
    "matmul",
    "exp",
    "log",
    "tanh",
    "relu",
    "sigmoid",
    "abs",
    "sum",
    "mean",
    "max",
    "reshape",
    "transpose",
    "getitem",
    "put",
    "broadcast_to",
    "scatter",
    "astype",
    "concatenate",
    "stack",
    "where",
]


# ------------------------------------------------------------------ operands


def _is_number(x: Any) -> bool:
    kind = type(x)
    if kind is float or kind is int:  # the common cases, answered fast
        return True
    if kind is Tensor or kind is np.ndarray:
        return False
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def _number(x: Any) -> float | int | None:
    """``x`` as a plain Python number if it is a number, else None.

    numpy scalars become Python numbers: ``float32_tensor * np.float64(2)`` then stays
    float32, as ``float32_tensor * 2.0`` does (and as in PyTorch)."""
    if not _is_number(x):
        return None
    return x.item() if isinstance(x, np.generic) else x


def _tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor: tensors as they are, anything else as a constant.

    A constant made of integers takes the dtype of ``like`` (a float32 tensor times an
    integer array stays float32, as in PyTorch); float arrays keep their own dtype.
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, bool | np.bool_):
        raise TypeError(f"a boolean ({x!r}) is not a number to compute with; use 0.0 or 1.0")
    array = np.asarray(x)
    if array.dtype.kind == "f" and array.dtype.itemsize >= 4:
        return Tensor(array)
    return Tensor(array, dtype=like.dtype if like is not None else None)


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    if type(a) is Tensor and type(b) is Tensor:  # the common case, answered fast
        return a, b
    like = a if isinstance(a, Tensor) else b
    return _tensor(a, like), _tensor(b, like)


def _shape_error(op: str, a: Tensor, b: Tensor) -> ValueError:
    return ValueError(
        f"{op}: shapes {a.shape} and {b.shape} do not broadcast: compared from the right, "
        f"each pair of sizes must be equal or one of them 1"
    )


# ------------------------------------------------------------------ shared backward helpers


def _unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` down to ``shape``, undoing numpy's broadcasting of an input of that shape.

    Broadcasting (1) prepends axes until both operands have the same number, then (2)
    stretches axes of size 1.  Each copy made this way received its own share of the
    gradient, so the input's gradient is the sum over (1) the prepended axes and (2) the
    stretched ones.  (Assignment, ``a[i] = v``, also drops leading axes of size 1 from v:
    those come back as axes of size 1.)
    """
    if g.shape == shape:
        return g
    prepended = g.ndim - len(shape)
    if prepended < 0:
        g, prepended = g.reshape((1,) * -prepended + g.shape), 0
    stretched = tuple(
        prepended + i for i, n in enumerate(shape) if n == 1 and g.shape[prepended + i] != 1
    )
    return g.sum(axis=tuple(range(prepended)) + stretched, keepdims=True).reshape(shape)


def _expand(g: Any, shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> Any:
    """Copy ``g``, the gradient of a reduction over ``axes``, back along those axes.

    For arrays the result is a read-only broadcast view (no copy is made here); the
    backward pass copies it if it ends up as some tensor's ``.grad``.
    """
    if not keepdims:
        g = g.reshape(_kept_shape(shape, axes))
    return _broadcast_of(g, shape)


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (None, an int, a negative int or a tuple of them) as sorted axes >= 0.

    An empty tuple names no axis, so the reduction leaves every element as it is, as in
    numpy.  (PyTorch's ``sum(dim=())`` reduces every axis instead: here that is None.)
    """
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple | list) else (axis,)
    axes = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, not {axis!r}")
        # A 0-d tensor accepts axis 0 or -1, as in PyTorch, meaning "the whole tensor".
        if not -builtins.max(ndim, 1) <= item < builtins.max(ndim, 1):
            raise ValueError(f"{op}: axis {item} is out of range for a tensor with {ndim} axes")
        axes.append(int(item) % builtins.max(ndim, 1))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: axis {axis!r} names the same axis twice")
    return tuple(sorted(axes)) if ndim > 0 else ()


# Rules run on arrays or on Tensors (see the module docstring); these pick the right one.


def _exp_of(x: Any) -> Any:
    return exp(x) if isinstance(x, Tensor) else np.exp(x)


def _log_of(x: Any) -> Any:
    return log(x) if isinstance(x, Tensor) else np.log(x)


def _where_of(condition: np.ndarray, x: Any, y: Any) -> Any:
    if isinstance(x, Tensor) or isinstance(y, Tensor):
        return where(condition, x, y)
    return np.where(condition, x, y)


def _broadcast_of(g: Any, shape: tuple[int, ...]) -> Any:
    return broadcast_to(g, shape) if isinstance(g, Tensor) else np.broadcast_to(g, shape)


def _zeros_like_of(x: Any) -> Any:
    zeros = np.zeros_like(data_of(x))
    return Tensor._constant(zeros) if isinstance(x, Tensor) else zeros


# ------------------------------------------------------------------ arithmetic
# The five arithmetic operators share one code path, ``_arithmetic``.  Each gives it its
# forward computation and, written once, the gradient for each of its two inputs: ``g``
# times the derivative of the result with respect to that input, elementwise
# (``grad_a(g, out, a, b)`` and ``grad_b``).  ``_Arithmetic`` makes the rules for two
# tensors out of those; ``_arithmetic`` uses them, or the one a number leaves.


class _Arithmetic:
    """One of ``+ - * / **``, as ``_arithmetic`` needs it.

    ``symbol`` and ``name`` name the op (in the graph, and in shape errors); ``forward``
    computes it (Python's operator, which numpy implements); ``grad_a`` and ``grad_b`` are
    its gradients; and ``saves`` says what its backward rule reads (see inplace.py) in each
    of three cases: two tensors, a number on the right (``x * 2``: only ``grad_a`` is
    needed) and a number on the left (``2 * x``: only ``grad_b``).  A number never changes,
    so a rule that reads only the number reads nothing that needs checking.

    For two tensors, the backward rule sums each gradient back to its input's shape (undoing
    broadcasting), and the tangent rule adds the two up: an elementwise op's Jacobian is
    diagonal, so pushing tangents forward multiplies them by the same local derivatives
    that pulling a gradient back does.
    """

    def __init__(self, symbol, name, forward, grad_a, grad_b, saves) -> None:
        self.symbol = symbol
        self.name = name
        self.forward = forward
        self.grad_a = grad_a
        self.grad_b = grad_b
        # (two tensors, a number on the right, a number on the left)
        self.saves, self.saves_with_number_b, self.saves_with_number_a = saves

        def backward(g, out, a, b):
            ga, gb = grad_a(g, out, a, b), grad_b(g, out, a, b)
            return (  # summed back to each input's shape, where broadcasting changed it
                ga if ga.shape == a.shape else _unbroadcast(ga, a.shape),
                gb if gb.shape == b.shape else _unbroadcast(gb, b.shape),
            )

        def tangent(dots, out, a, b):
            return grad_a(dots[0], out, a, b) + grad_b(dots[1], out, a, b)

        self.backward = backward
        self.tangent = tangent


def _arithmetic(op: _Arithmetic, a: Any, b: Any) -> Tensor:
    """``a op b``: two tensors (an array becomes a constant tensor), or a tensor and a number.

    A number is folded into the rule instead of becoming a node of the graph: ``x * 2.0``
    records one input, x, and its rule computes x's gradient alone, from ``grad_a`` with the
    number for b.  (Nothing would ever flow into the number; PyTorch does the same.)
    """
    if type(a) is not Tensor or type(b) is not Tensor:  # two tensors go straight on
        number = _number(b)
        if number is not None:  # x * 2.0
            return _with_number_b(op, a, number)
        number = _number(a)
        if number is not None:  # 2.0 * x
            return _with_number_a(op, number, b)
        a, b = _pair(a, b)
    try:
        data = op.forward(a.data, b.data)
    except ValueError:
        raise _shape_error(op.name, a, b) from None
    return make_node(data, op.symbol, (a, b), op.backward, op.tangent, op.saves)


def _with_number_b(op: _Arithmetic, a: Tensor, b: float) -> Tensor:
    grad_a = op.grad_a

    def rule(g, out, a):
        return (grad_a(g, out, a, b),)

    symbol = f"**{b}" if op is _POW else op.symbol  # x ** 2 shows as "**2"
    data = op.forward(a.data, b)
    return make_node(data, symbol, (a,), rule, SAME_AS_BACKWARD, op.saves_with_number_b)


def _with_number_a(op: _Arithmetic, a: float, b: Tensor) -> Tensor:
    grad_b = op.grad_b

    def rule(g, out, b):
        return (grad_b(g, out, a, b),)

    data = op.forward(a, b.data)
    return make_node(data, op.symbol, (b,), rule, SAME_AS_BACKWARD, op.saves_with_number_a)


def add(a: Any, b: Any) -> Tensor:
    """``a + b``.  d/da = d/db = 1: the gradient passes through to both, summed back to
    each input's shape."""
    return _arithmetic(_ADD, a, b)


def _pass_on(g, out, a, b):
    return g


def _negate(g, out, a, b):
    return -g


# Neither gradient reads a value: only shapes.
_ADD = _Arithmetic("+", "add", operator.add, _pass_on, _pass_on, (NOTHING, NOTHING, NOTHING))


def sub(a: Any, b: Any) -> Tensor:
    """``a - b``.  d/da = 1, d/db = -1."""
    return _arithmetic(_SUB, a, b)


_SUB = _Arithmetic("-", "sub", operator.sub, _pass_on, _negate, (NOTHING, NOTHING, NOTHING))


def neg(a: Tensor) -> Tensor:
    """``-a``.  d/da = -1."""
    return make_node(-a.data, "neg", (a,), _negate_gradient, SAME_AS_BACKWARD)


def _negate_gradient(g, out, a):
    return (-g,)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b``.  d/da = b, d/db = a: each input's gradient is ``g`` times the other."""
    return _arithmetic(_MUL, a, b)


def _mul_grad_a(g, out, a, b):
    return g * b


def _mul_grad_b(g, out, a, b):
    return g * a


# Each gradient reads the other input: with a number, that is the number.
_MUL = _Arithmetic("*", "mul", operator.mul, _mul_grad_a, _mul_grad_b, (INPUTS, NOTHING, NOTHING))


def div(a: Any, b: Any) -> Tensor:
    """``a / b``.  d/da = 1/b, d/db = -a/b**2 (computed as ``(a/b)/b``, as PyTorch does).

    Division by zero follows IEEE arithmetic (``inf`` or ``nan``), with numpy's warning.
    """
    return _arithmetic(_DIV, a, b)


def _div_grad_a(g, out, a, b):
    return g / b


def _div_grad_b(g, out, a, b):
    return -g * (a / b / b)


# d/da reads b; d/db reads a and b, so a number divided by a tensor reads the tensor.
_DIV = _Arithmetic(
    "/", "div", operator.truediv, _div_grad_a, _div_grad_b, (INPUTS, NOTHING, INPUTS)
)


def pow(a: Any, b: Any) -> Tensor:
    """``a ** b``.  d/da = b * a**(b-1), d/db = a**b * log(a).

    PyTorch's conventions where these formulas break down: d/da is 0 where b == 0 (even at
    a == 0, where the formula gives 0 * inf); d/db is 0 where a == 0 and b >= 0 (log(0) is
    -inf, but 0**b is flat there).  A negative base with a fractional exponent gives nan,
    with numpy's warning.
    """
    return _arithmetic(_POW, a, b)


def _pow_grad_a(g, out, a, b):
    """``g`` times d(a**b)/da."""
    number = _number(b)
    if number is not None:
        return _zeros_like_of(g * a) if number == 0 else g * (number * a ** (number - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _where_of(data_of(b) == 0, 0.0, g * (b * a ** (b - 1)))


def _pow_grad_b(g, out, a, b):
    """``g`` times d(a**b)/db."""
    flat = (data_of(a) == 0) & (data_of(b) >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * _where_of(flat, 0.0, out * _log_of(a))


# d/da reads a and b; d/db reads the output, a and b.
_POW = _Arithmetic(
    "**",
    "pow",
    operator.pow,
    _pow_grad_a,
    _pow_grad_b,
    (INPUTS_AND_OUTPUT, INPUTS, INPUTS_AND_OUTPUT),
)


# ------------------------------------------------------------------ matrix product


def matmul(a: Any, b: Any) -> Tensor:
    """``a @ b`` with numpy's rules: 1-D operands act as a row (first) or a column
    (second) vector, and leading "batch" axes broadcast.

    For matrices, out = a b gives d(loss)/da = g b^T and d(loss)/db = a^T g: the only
    products whose shapes fit.  Vectors are handled by making them matrices first.
    The tangent is the product rule: da b + a db.
    """
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least one axis, but got shapes {a.shape} and "
            f"{b.shape} (use * to multiply by a scalar)"
        )
    try:
        data = a.data @ b.data
    except ValueError:
        raise _matmul_error(a, b) from None
    need_a, need_b = a.requires_grad, b.requires_grad

    def backward(g, out, a, b):
        a2 = a.reshape(1, -1) if a.ndim == 1 else a  # a row vector
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b  # a column vector
        shape = (*g.shape, 1) if b.ndim == 1 else g.shape
        if a.ndim == 1:
            shape = (*shape[:-1], 1, *shape[-1:])
        g2 = g.reshape(shape)
        ga = _unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape) if need_a else None
        gb = _unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape) if need_b else None
        return ga, gb

    return make_node(data, "@", (a, b), backward, _matmul_tangent, INPUTS)


def _matmul_tangent(dots, out, a, b):
    return dots[0] @ b + a @ dots[1]


def _matmul_error(a: Tensor, b: Tensor) -> ValueError:
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    which = "only" if b.ndim == 1 else "second-to-last"
    if k_a != k_b:
        return ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: the first's last axis "
            f"({k_a}) must equal the second's {which} axis ({k_b})"
        )
    return ValueError(
        f"matmul: shapes {a.shape} and {b.shape}: the batch axes {a.shape[:-2]} and "
        f"{b.shape[:-2]} do not broadcast"
    )


# ------------------------------------------------------------------ elementwise functions
# One input, a diagonal Jacobian: the tangent rule is the backward rule (SAME_AS_BACKWARD).


def exp(a: Tensor) -> Tensor:
    """``e**a``.  d/da = e**a: the output itself, so the rule reuses it."""
    return make_node(np.exp(a.data), "exp", (a,), _exp_backward, SAME_AS_BACKWARD, OUTPUT)


def _exp_backward(g, out, a):
    return (g * out,)


def log(a: Tensor) -> Tensor:
    """Natural log.  d/da = 1/a.  log(0) = -inf and log(a < 0) = nan, with numpy's warning."""
    return make_node(np.log(a.data), "log", (a,), _log_backward, SAME_AS_BACKWARD, INPUTS)


def _log_backward(g, out, a):
    return (g / a,)


def tanh(a: Tensor) -> Tensor:
    """tanh.  d/da = 1 - tanh(a)**2, from the output.  numpy's tanh is exact in both tails."""
    return make_node(np.tanh(a.data), "tanh", (a,), _tanh_backward, SAME_AS_BACKWARD, OUTPUT)


def _tanh_backward(g, out, a):
    return (g * (1 - out * out),)


def relu(a: Tensor) -> Tensor:
    """max(a, 0).  d/da is 1 where the output is positive, else 0 (0 at a == 0, as PyTorch).
    A nan passes through, gradient and all (PyTorch again).

    The mask of active elements is a constant: its own derivative is 0 wherever defined,
    so a second derivative of relu is 0.
    """
    return make_node(np.maximum(a.data, 0), "relu", (a,), _relu_backward, SAME_AS_BACKWARD, OUTPUT)


def _relu_backward(g, out, a):
    # The output is >= 0 or nan, so `out != 0` is 1 where it is positive or nan.
    # Multiplying by the 0/1 mask is an order of magnitude faster than np.where here.
    return (g * np.asarray(data_of(out) != 0),)


def sigmoid(a: Tensor) -> Tensor:
    """1 / (1 + e**-x).  d/da = s * (1 - s), from the output s."""
    return make_node(
        _stable_sigmoid(a.data), "sigmoid", (a,), _sigmoid_backward, SAME_AS_BACKWARD, OUTPUT
    )


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e**-x), computed as exp(-log(1 + e**-x)) with ``np.logaddexp(0, -x)``.

    The textbook formula overflows in e**-x for x < -709.  logaddexp computes
    log(e**0 + e**-x) without ever forming a huge exponential, so every input gives the
    correctly rounded result, down to the tiniest values in the negative tail.
    """
    s = np.array(x)  # a fresh array (even for 0-d), worked on in place
    np.negative(s, out=s)
    np.logaddexp(0, s, out=s)
    np.negative(s, out=s)
    np.exp(s, out=s)
    return s


def _sigmoid_of(x: Any) -> Any:
    return sigmoid(x) if isinstance(x, Tensor) else _stable_sigmoid(x)


def _sigmoid_backward(g, out, a):
    return (g * (1 - out) * out,)


def abs(a: Tensor) -> Tensor:
    """|a|.  d/da = sign(a), which is 0 at a == 0, and at nan (as in PyTorch)."""
    return make_node(np.abs(a.data), "abs", (a,), _abs_backward, SAME_AS_BACKWARD, INPUTS)


def _abs_backward(g, out, a):
    a = data_of(a)
    return (g * np.subtract(a > 0, a < 0, dtype=np.result_type(a, np.int8)),)  # nan: 0 - 0


def astype(a: Tensor, dtype: Any) -> Tensor:
    """The same values as float32 or float64.  The gradient goes back in ``a``'s dtype."""
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"astype: a Tensor holds float32 or float64, not {dtype}")
    if dtype == a.dtype:
        return a
    return make_node(
        a.data.astype(dtype),
        "astype",
        (a,),
        lambda g, out, a: (astype(g, a.dtype) if isinstance(g, Tensor) else g.astype(a.dtype),),
        lambda dots, out, a: dots[0].astype(dtype),
    )


# ------------------------------------------------------------------ reductions


def sum(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (None: all; an empty tuple: none, as in numpy).  Each element feeds
    the sum with weight 1, so its gradient is the sum's gradient, copied back along the
    reduced axes."""
    axes = _axes(axis, a.ndim, "sum")
    data = a.data.sum(axis=axes, keepdims=keepdims)
    return make_node(
        np.asarray(data),
        "sum",
        (a,),
        lambda g, out, a: (_expand(g, a.shape, axes, keepdims),),
        lambda dots, out, a: dots[0].sum(axis=axes, keepdims=keepdims),
    )


def mean(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``: the sum divided by the count, so each gradient is divided too."""
    axes = _axes(axis, a.ndim, "mean")
    count = int(np.prod([a.shape[i] for i in axes]))
    data = a.data.mean(axis=axes, keepdims=keepdims)
    return make_node(
        np.asarray(data),
        "mean",
        (a,),
        lambda g, out, a: (_expand(g, a.shape, axes, keepdims) / count,),
        lambda dots, out, a: dots[0].sum(axis=axes, keepdims=keepdims) / count,
    )


def max(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Largest element over ``axis`` (None: all).

    The gradient flows only to the elements that are the maximum.  When several tie, it is
    split evenly among them (as PyTorch's ``amax`` and full ``max()`` do), so the input's
    gradients still sum to the output's.  The tangent is the same average of the winners'
    tangents.
    """
    axes = _axes(axis, a.ndim, "max")
    try:
        data = np.asarray(a.data.max(axis=axes, keepdims=keepdims))
    except ValueError:
        raise ValueError(
            f"max over axis {axis} of a tensor of shape {a.shape}: some of the maxima would "
            f"be taken over no elements at all"
        ) from None

    def winners(out, a):
        """Where the maxima are (a 0/1 mask), and how many share each maximum."""
        a, out = data_of(a), data_of(out)
        kept = out if keepdims else out.reshape(_kept_shape(a.shape, axes))
        mask = np.asarray(a == kept)
        if np.isnan(kept).any():  # a nan maximum: the nans are the winners
            mask |= np.isnan(a) & np.isnan(kept)
        return mask, mask.sum(axis=axes, keepdims=True)

    def backward(g, out, a):
        mask, count = winners(out, a)
        g = g if keepdims else g.reshape(count.shape)
        return ((g / count) * mask,)

    def tangent(dots, out, a):
        mask, count = winners(out, a)
        return (dots[0] * mask / count).sum(axis=axes, keepdims=keepdims)

    return make_node(data, "max", (a,), backward, tangent, INPUTS_AND_OUTPUT)


# ------------------------------------------------------------------ shapes
# These move elements without changing them: linear, so both rules apply the same
# movement (or its reverse) to the gradient or tangent.  Their results may be views of the
# input's data, so they share its version counter.


def reshape(a: Tensor, shape: Sequence[int]) -> Tensor:
    """The same elements in a new shape; the gradient is reshaped back."""
    try:
        data = a.data.reshape(shape)
    except (ValueError, TypeError):
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {a.shape} ({a.data.size} elements) "
            f"into {tuple(shape)}"
        ) from None
    out = make_node(
        data,
        "reshape",
        (a,),
        lambda g, out, a: (g.reshape(a.shape),),
        lambda dots, out, a: dots[0].reshape(out.shape),
    )
    return share_buffer(out, a)


def transpose(a: Tensor, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (None: reverse them).  The gradient is permuted back, by the
    inverse permutation."""
    if axes is None:
        axes = tuple(reversed(range(a.ndim)))
    in_range = all(-a.ndim <= int(i) < a.ndim for i in axes)
    if not in_range or sorted(int(i) % a.ndim for i in axes) != list(range(a.ndim)):
        raise ValueError(
            f"transpose: axes {tuple(axes)} are not a permutation of the {a.ndim} axes of a "
            f"tensor of shape {a.shape}"
        )
    axes = tuple(int(i) % a.ndim for i in axes)
    inverse = tuple(int(i) for i in np.argsort(axes))
    out = make_node(
        a.data.transpose(axes),
        "transpose",
        (a,),
        lambda g, out, a: (g.transpose(inverse),),
        lambda dots, out, a: dots[0].transpose(axes),
    )
    return share_buffer(out, a)


def broadcast_to(a: Any, shape: Sequence[int]) -> Tensor:
    """``a`` copied along new or size-1 axes to ``shape``, as numpy broadcasting does.

    The reverse of ``sum``: its backward sums the gradient back down (``_unbroadcast``),
    just as sum's backward broadcasts it up.
    """
    a = _tensor(a)
    shape = tuple(shape)
    try:
        data = np.broadcast_to(a.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {a.shape} does not broadcast to {shape}") from None
    out = make_node(
        data,
        "broadcast_to",
        (a,),
        lambda g, out, a: (_unbroadcast(g, a.shape),),
        lambda dots, out, a: np.broadcast_to(dots[0], shape),
    )
    return share_buffer(out, a)


def getitem(a: Tensor, index: Any) -> Tensor:
    """``a[index]`` with numpy's indexing: ints, slices, ``None``, ``...``, integer arrays
    and boolean masks.

    The gradient lands back where each element was taken from, in a tensor of zeros
    (``scatter``).  An integer array may take the same element twice (``a[[0, 0]]``); that
    element then receives both gradients.
    """
    index = _index(index)
    try:
        data = a.data[index]
    except IndexError as error:
        raise IndexError(f"index {index!r} into a tensor of shape {a.shape}: {error}") from None

    def backward(g, out, a):
        if isinstance(g, Tensor):
            return (scatter(g, index, a.shape),)
        return (_scatter_array(g, index, a.shape),)

    out = make_node(np.asarray(data), "index", (a,), backward, lambda dots, out, a: dots[0][index])
    return share_buffer(out, a)


def scatter(g: Any, index: Any, shape: Sequence[int]) -> Tensor:
    """A tensor of zeros of ``shape`` with ``g`` added at ``index``: the reverse of
    ``a[index]`` (its backward takes ``g``'s gradient back out at ``index``)."""
    g = _tensor(g)
    index = _index(index)
    shape = tuple(shape)
    return make_node(
        _scatter_array(g.data, index, shape),
        "scatter",
        (g,),
        lambda gg, out, g: (gg[index],),
        lambda dots, out, g: _scatter_array(dots[0], index, shape),
    )


def _scatter_array(g: np.ndarray, index: tuple, shape: tuple[int, ...]) -> np.ndarray:
    grad = np.zeros(shape, dtype=g.dtype)
    if builtins.any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in index):
        np.add.at(grad, index, g)  # repeated indices: plain assignment would keep only one
    else:
        grad[index] = g
    return grad


def put(a: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of ``a`` with ``value`` written at ``index`` (what ``a[index] = value``
    records).  The overwritten elements lose their gradient; ``value`` gets the gradient of
    the places it was written to, summed back to its shape."""
    index = _index(index)
    data = np.array(a.data)
    try:
        data[index] = data_of(value)
    except (IndexError, ValueError) as error:
        raise ValueError(
            f"setting a tensor of shape {a.shape} at {index!r} to a value of shape "
            f"{np.shape(data_of(value))}: {error}"
        ) from None
    written = np.zeros(a.shape, dtype=bool)
    written[index] = True
    if _is_number(value) or not isinstance(value, Tensor):
        return make_node(
            data,
            "put",
            (a,),
            lambda g, out, a: (_where_of(written, 0.0, g),),
            lambda dots, out, a: np.where(written, 0.0, dots[0]),
        )

    def backward(g, out, a, v):
        return _where_of(written, 0.0, g), _unbroadcast(g[index], v.shape)

    def tangent(dots, out, a, v):
        moved = np.array(np.broadcast_to(dots[0], a.shape))
        moved[index] = dots[1]
        return moved

    return make_node(data, "put", (a, value), backward, tangent)


def _index(index: Any) -> tuple:
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for part in parts:
        if isinstance(part, Tensor):
            part = part.data
        if isinstance(part, list | tuple):  # inside an index, a sequence is an integer array
            part = np.asarray(part)
        if isinstance(part, np.ndarray) and part.dtype.kind not in "biu":
            raise IndexError(
                f"tensors can be indexed by integers and booleans, not by {part.dtype} values"
            )
        out.append(part)
    return tuple(out)


# ------------------------------------------------------------------ joining and choosing


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.  Each input's gradient is its own slice of
    ``g``."""
    tensors, data = _join(np.concatenate, tensors, axis, "concatenate")
    ax = axis % data.ndim
    ends = np.cumsum([t.shape[ax] for t in tensors])

    def backward(g, out, *inputs):
        starts = [0, *ends[:-1]]
        lead = (slice(None),) * ax
        return tuple(g[(*lead, slice(s, e))] for s, e in zip(starts, ends))

    def tangent(dots, out, *inputs):
        return np.concatenate(dots, axis=ax)

    return make_node(data, "concatenate", tuple(tensors), backward, tangent)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of the same shape along a new axis.  Input i's gradient is ``g``'s
    i-th entry along that axis."""
    tensors, data = _join(np.stack, tensors, axis, "stack")
    ax = axis % data.ndim
    lead = (slice(None),) * ax

    def backward(g, out, *inputs):
        return tuple(g[(*lead, i)] for i in range(len(inputs)))

    def tangent(dots, out, *inputs):
        return np.stack(dots, axis=ax)

    return make_node(data, "stack", tuple(tensors), backward, tangent)


def _join(join, items: Sequence[Any], axis: int, op: str) -> tuple[list[Tensor], np.ndarray]:
    """The inputs as tensors, and numpy's ``join`` of their data along ``axis``, or an error
    naming the op, the axis and every shape."""
    tensors = _tensors(items, op)
    try:
        return tensors, join([t.data for t in tensors], axis=axis)
    except (ValueError, np.exceptions.AxisError) as error:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"{op} along axis {axis}: shapes {shapes}: {error}") from None


def _tensors(items: Sequence[Any], op: str) -> list[Tensor]:
    if isinstance(items, Tensor | np.ndarray) or not isinstance(items, Sequence):
        raise TypeError(f"{op} takes a list of tensors, not {type(items).__name__}")
    if len(items) == 0:
        raise ValueError(f"{op} needs at least one tensor")
    like = next((t for t in items if isinstance(t, Tensor)), None)
    return [_tensor(t, like) for t in items]


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (all three broadcast together).

    The condition is a constant mask: the gradient goes to ``a`` where it is true and to
    ``b`` where it is false.
    """
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: the condition must be boolean, not {cond.dtype}")
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if like is None:
        raise TypeError("where: a or b must be a Tensor")
    a = a if _is_number(a) else _tensor(a, like)
    b = b if _is_number(b) else _tensor(b, like)
    try:
        data = np.where(cond, data_of(a), data_of(b))
    except ValueError:
        shapes = f"{cond.shape}, {_shape(a)} and {_shape(b)}"
        raise ValueError(f"where: shapes {shapes} do not broadcast") from None
    parents = tuple(t for t in (a, b) if isinstance(t, Tensor))

    def backward(g, out, *inputs):
        grads = []
        if isinstance(a, Tensor):
            grads.append(_unbroadcast(_where_of(cond, g, 0.0), a.shape))
        if isinstance(b, Tensor):
            grads.append(_unbroadcast(_where_of(cond, 0.0, g), b.shape))
        return tuple(grads)

    def tangent(dots, out, *inputs):
        dots = list(dots)
        da = dots.pop(0) if isinstance(a, Tensor) else 0.0
        db = dots.pop(0) if isinstance(b, Tensor) else 0.0
        return np.where(cond, da, db)

    return make_node(data, "where", parents, backward, tangent)


def _shape(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, Tensor) else ()


# ------------------------------------------------------------------ Tensor's operators
# The ops above are Tensor's operators and methods: ``a + b`` calls ``add(a, b)``,
# ``a.exp()`` calls ``exp(a)``.  They are attached to the class here rather than written in
# it (in tensor.py) because this module needs Tensor: tensor.py cannot import this module
# back without the two importing each other.

Tensor.__add__ = add
Tensor.__sub__ = sub
Tensor.__mul__ = mul
Tensor.__truediv__ = div
Tensor.__pow__ = pow
Tensor.__matmul__ = matmul
Tensor.__neg__ = neg
Tensor.__getitem__ = getitem
Tensor.exp = exp
Tensor.log = log
Tensor.tanh = tanh
Tensor.relu = relu
Tensor.sigmoid = sigmoid
Tensor.abs = abs
Tensor.astype = astype
Tensor.sum = sum
Tensor.mean = mean
Tensor.max = max


# With a number or an array on the left (``2 * x``), Python calls ``x.__rmul__(2)``.


def _radd(self: Tensor, other: Any) -> Tensor:
    return add(other, self)


def _rsub(self: Tensor, other: Any) -> Tensor:
    return sub(other, self)


def _rmul(self: Tensor, other: Any) -> Tensor:
    return mul(other, self)


def _rtruediv(self: Tensor, other: Any) -> Tensor:
    return div(other, self)


def _rpow(self: Tensor, other: Any) -> Tensor:
    return pow(other, self)


def _rmatmul(self: Tensor, other: Any) -> Tensor:
    return matmul(other, self)


Tensor.__radd__ = _radd
Tensor.__rsub__ = _rsub
Tensor.__rmul__ = _rmul
Tensor.__rtruediv__ = _rtruediv
Tensor.__rpow__ = _rpow
Tensor.__rmatmul__ = _rmatmul


# ``x += y`` changes x's data where it lies (every view of it sees the change) and counts
# the change in x's version; inside a recorded graph, x also becomes a new node, ``add``
# applied to its old value (see inplace.py).  Optimizers do this to parameters under
# no_grad().


def _iadd(self: Tensor, other: Any) -> Tensor:
    return change_in_place(self, add, other, "+=")


def _isub(self: Tensor, other: Any) -> Tensor:
    return change_in_place(self, sub, other, "-=")


def _imul(self: Tensor, other: Any) -> Tensor:
    return change_in_place(self, mul, other, "*=")


def _itruediv(self: Tensor, other: Any) -> Tensor:
    return change_in_place(self, div, other, "/=")


def _ipow(self: Tensor, other: Any) -> Tensor:
    return change_in_place(self, pow, other, "**=")


def _setitem(self: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``: ``put`` written into t."""
    change_in_place(self, lambda t, v: put(t, index, v), value, "[...] =")


Tensor.__iadd__ = _iadd
Tensor.__isub__ = _isub
Tensor.__imul__ = _imul
Tensor.__itruediv__ = _itruediv
Tensor.__ipow__ = _ipow
Tensor.__setitem__ = _setitem


# Methods that take their arguments as numpy's do.


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    """``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    return reshape(self, shape)


def _transpose(self: Tensor, *axes: Any) -> Tensor:
    """``t.transpose()`` (all axes reversed), ``t.transpose(1, 0, 2)`` or
    ``t.transpose((1, 0, 2))``."""
    if len(axes) == 1 and isinstance(axes[0], tuple | list | None):
        axes = None if axes[0] is None else tuple(axes[0])
    return transpose(self, axes or None)


def _swapaxes(self: Tensor, axis1: int, axis2: int) -> Tensor:
    """The two axes exchanged: a transpose."""
    for axis in (axis1, axis2):
        if not -self.ndim <= axis < self.ndim:
            raise ValueError(
                f"swapaxes: axis {axis} is out of range for a tensor of shape {self.shape}"
            )
    axes = list(range(self.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(self, tuple(axes))


def _all_axes_reversed(self: Tensor) -> Tensor:
    """All axes reversed, as numpy's ``.T`` (for a matrix: the transpose)."""
    return transpose(self, None)


Tensor.reshape = _reshape
Tensor.transpose = _transpose
Tensor.swapaxes = _swapaxes
Tensor.T = property(_all_axes_reversed)
