"""The scalar engine: a `Value` is one number that remembers how it was computed.

Every operation on Values returns a new Value that records its operands (one or two, ``a``
and ``b``) and the *local derivative* of its result with respect to each of them
(``da`` = d(result)/da and ``db`` = d(result)/db).  The local derivatives are computed right
away, in the forward pass, while the numbers they need are at hand.  ``backward()`` then
walks the graph from the output back to the leaves and applies the chain rule: each operand
receives ``local derivative * gradient of the result``.

Why numbers in slots, and not closures?  micrograd stores each backward rule as a closure
that refers to its own output node.  Every node then sits in a reference cycle, which only
Python's cycle collector can free, and on a training loop the collector takes most of the
run time.  Here a node refers only to its operands and to floats: a graph is freed by
reference counting the moment its last reference goes.  And because a node is a single
object (no tuple of operands, no tuple of derivatives beside it), the collector, which still
wakes up every few hundred allocations, has a third as many objects to look at.  Together
that makes a training step about 20 times faster than micrograd's.

Special values follow IEEE arithmetic and PyTorch instead of raising: ``exp`` overflows to
``inf``; ``log(0)`` is ``-inf``; ``log`` of a negative number, and a negative base raised to
a non-integer power, are ``nan`` (with a ``RuntimeWarning`` that says why, as numpy does).
One limit comes with storing local derivatives: a local derivative can be beyond the float
range where the gradient reaching a leaf is not.  For ``(a / b) * 1e-10`` with b = 1e-310,
d(a / b)/da = 1 / b is stored as inf, so ``a.grad`` is inf and not 1e300 (PyTorch, which
divides the incoming gradient by b, gets 1e300).  It needs numbers below about 1e-308.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

__all__ = ["Value", "make_node"]


class Value:
    """A scalar that records the operations applied to it, so it can be differentiated.

    >>> a = Value(2.0, label="a")
    >>> b = Value(3.0, label="b")
    >>> f = a * b + a
    >>> f.backward()
    >>> a.grad, b.grad          # df/da = b + 1, df/db = a
    (4.0, 2.0)

    Values compare and hash by identity (``a == b`` is ``a is b``), so they can be kept in
    sets and dicts while walking a graph; compare ``.data`` to compare numbers.
    """

    # A node is one object with fixed fields: small, quick to create, quick to read.
    # `_a`/`_b` are the operands (None when absent) and `_da`/`_db` the local derivatives
    # of `data` with respect to them.  `__weakref__` lets tests and the graph views watch
    # a node without keeping it alive.
    __slots__ = ("data", "grad", "label", "_op", "_a", "_da", "_b", "_db", "__weakref__")

    def __init__(self, data: float, label: str = "") -> None:
        self.data = data if type(data) is float else _to_float(data)
        self.grad = 0.0
        self.label = label
        self._op = ""
        self._a = self._b = None
        self._da = self._db = 0.0

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The operands this Value was computed from, in order: ``a + a`` gives ``(a, a)``."""
        if self._a is None:
            return ()
        if self._b is None:
            return (self._a,)
        return (self._a, self._b)

    @property
    def _local_grads(self) -> tuple[float, ...]:
        """d(self)/d(operand) for each operand in ``_prev``, in the same order."""
        return (self._da, self._db)[: len(self._prev)]

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ------------------------------------------------------------------ arithmetic
    # Each operation computes its result and, right beside it, the local derivative of the
    # result with respect to each operand.

    def __add__(self, other: Value | float) -> Value:
        other = _as_value(other)
        if other is None:
            return NotImplemented
        # d(a + b)/da = 1, d(a + b)/db = 1
        return _result(self.data + other.data, "+", self, 1.0, other, 1.0)

    def __mul__(self, other: Value | float) -> Value:
        other = _as_value(other)
        if other is None:
            return NotImplemented
        # d(a * b)/da = b, d(a * b)/db = a
        return _result(self.data * other.data, "*", self, other.data, other, self.data)

    def __pow__(self, exponent: Value | float) -> Value:
        """``a ** n`` for a fixed number n, or ``a ** b`` for a Value b.

        With a number exponent only the base is an operand (the power rule); with a Value
        exponent both are, and d(a ** b)/db = a ** b * log(a).
        """
        if isinstance(exponent, Value):
            return _power(self, exponent)
        if not isinstance(exponent, numbers.Real):
            return NotImplemented
        n = float(exponent)
        a = self.data
        # d(a ** n)/da = n * a ** (n - 1); taken as 0 when n == 0, even at a == 0 (PyTorch).
        da = 0.0 if n == 0.0 else n * _pow(a, n - 1.0)
        return _result(_pow(a, n), f"**{exponent}", self, da)

    def __neg__(self) -> Value:
        # d(-a)/da = -1
        return _result(-self.data, "neg", self, -1.0)

    def __sub__(self, other: Value | float) -> Value:
        # A composition: a - b is a + (-b), exactly, so the chain rule through the two
        # nodes gives the derivatives (1 and -1) with no new rule.
        other = _as_value(other)
        if other is None:
            return NotImplemented
        return self + (-other)

    def __truediv__(self, other: Value | float) -> Value:
        """``a / b``: its own operation, not the composition ``a * b**-1`` of lesson 04.

        The composition is right on paper but not in floating point: for a tiny b such as
        1e-310, ``b**-1`` overflows to inf, so ``0 / b`` would come out nan instead of 0.
        """
        other = _as_value(other)
        if other is None:
            return NotImplemented
        a, b = self.data, other.data
        out = _div(a, b)
        # d(a / b)/da = 1 / b, d(a / b)/db = -a / b**2 = -(a / b) / b
        return _result(out, "/", self, _div(1.0, b), other, _div(-out, b))

    # Reflected forms, for `2 * a` and friends: the number becomes a constant Value on the
    # left, so operand order matches what was written.
    def __radd__(self, other: float) -> Value:
        other = _as_value(other)
        return NotImplemented if other is None else other + self

    def __rsub__(self, other: float) -> Value:
        other = _as_value(other)
        return NotImplemented if other is None else other - self

    def __rmul__(self, other: float) -> Value:
        other = _as_value(other)
        return NotImplemented if other is None else other * self

    def __rtruediv__(self, other: float) -> Value:
        other = _as_value(other)
        return NotImplemented if other is None else other / self

    def __rpow__(self, base: float) -> Value:
        base = _as_value(base)
        return NotImplemented if base is None else _power(base, self)

    # ------------------------------------------------------------------ functions

    def exp(self) -> Value:
        try:
            out = math.exp(self.data)
        except OverflowError:  # e^a for a > 709.78 is beyond the largest float
            out = math.inf
        # d(e^a)/da = e^a: the result itself.
        return _result(out, "exp", self, out)

    def log(self) -> Value:
        """Natural logarithm: log(0) is -inf and log of a negative number is nan, as in
        PyTorch, each with a RuntimeWarning."""
        a = self.data
        if a > 0.0:
            out = math.log(a)
        elif a == 0.0:
            warnings.warn("log of 0 is -inf", RuntimeWarning, stacklevel=2)
            out = -math.inf
        elif a < 0.0:
            warnings.warn(f"log of a negative number ({a}) is nan", RuntimeWarning, stacklevel=2)
            out = math.nan
        else:  # nan in, nan out
            out = a
        # d(log a)/da = 1 / a, which is +-inf at 0 (as in PyTorch)
        da = 1.0 / a if a != 0.0 else math.copysign(math.inf, a)
        return _result(out, "log", self, da)

    def tanh(self) -> Value:
        # math.tanh is exact in both tails: tanh(1000) is 1.0.  The textbook formula
        # (e^2a - 1) / (e^2a + 1) overflows there, to inf / inf.
        t = math.tanh(self.data)
        # d(tanh a)/da = 1 - tanh(a)^2: from the result, which we already have.
        return _result(t, "tanh", self, 1.0 - t * t)

    def relu(self) -> Value:
        """max(0, a).  Its derivative is 1 for a > 0 and 0 for a <= 0: at exactly 0 we take 0,
        as PyTorch does (any number in [0, 1] is a valid subgradient there)."""
        a = self.data
        if a <= 0.0:
            return _result(0.0, "relu", self, 0.0)
        return _result(a, "relu", self, 1.0)  # also nan in, nan out

    def sigmoid(self) -> Value:
        # 1 / (1 + e^-a) overflows in e^-a for very negative a; there the equal form
        # e^a / (1 + e^a) only exponentiates a negative number.  Both tails are exact.
        a = self.data
        if a >= 0.0:
            s = 1.0 / (1.0 + math.exp(-a))
        else:
            e = math.exp(a)
            s = e / (1.0 + e)
        # d(sigmoid a)/da = sigmoid(a) * (1 - sigmoid(a))
        return _result(s, "sigmoid", self, s * (1.0 - s))

    # ------------------------------------------------------------------ backward

    def backward(self) -> None:
        """Add d(self)/d(node) to the ``grad`` of every node this Value was computed from.

        The chain rule, node by node.  The output's own gradient is 1.0 (d(self)/d(self) =
        1).  Nodes are visited in reverse topological order, so by the time a node's turn
        comes, every node computed from it has sent its share back: its gradient, gathered
        in ``pending``, is complete.  It is added to the node's ``grad``, and each operand
        receives ``local derivative * gradient`` into its own pending sum.

        Gradients *accumulate*, as in PyTorch: calling ``backward()`` twice without zeroing
        adds the same gradients again, so every ``grad`` is then twice the derivative.  What
        a pass sends on comes from ``pending``, never from ``grad``, so a gradient left by an
        earlier pass is never sent on twice.  The tensor engine's ``backpropagate`` is the
        same walk, with arrays.
        """
        pending = {self: 1.0}
        for node in reversed(self.topological_order()):
            grad = pending.pop(node)  # complete: every node computed from it came first
            node.grad += grad
            a = node._a
            if a is None:  # a leaf: nothing to pass on
                continue
            pending[a] = pending.get(a, 0.0) + node._da * grad  # the chain rule
            b = node._b
            if b is not None:
                pending[b] = pending.get(b, 0.0) + node._db * grad

    def topological_order(self) -> list[Value]:
        """Every node of the graph once, each after all of its operands, ending with self.

        A depth-first search that keeps its own stack instead of recursing, so a graph a
        million nodes deep needs no more than Python's default recursion limit.  A node is
        met twice: when first reached, it goes back on the stack under a marker (None), with
        its operands above; when the marker comes off again, the operands are all in the
        order, so the node goes in too.
        """
        order: list[Value] = []
        visited: set[Value] = set()
        stack: list[Value | None] = [self]
        while stack:
            node = stack.pop()
            if node is None:  # the marker under a node's operands: they are all placed now
                order.append(stack.pop())
            elif node not in visited:  # (a node reached by two paths is on the stack twice)
                visited.add(node)
                stack.append(node)  # back on the stack, under its operands
                stack.append(None)
                a, b = node._a, node._b
                if b is not None and b not in visited:
                    stack.append(b)
                if a is not None and a not in visited:
                    stack.append(a)
        return order


# ---------------------------------------------------------------------- helpers

_new_node = object.__new__


def _result(data: float, op: str, a: Value, da: float, b: Value | None = None, db: float = 0.0):
    """A new node: ``data``, computed by ``op`` from ``a`` (and ``b``), whose local
    derivatives are ``da`` = d(data)/da and ``db`` = d(data)/db.

    It fills the slots directly instead of calling ``Value(...)``: the operations already
    hand it a float, so ``__init__``'s input check would be wasted on the hottest path.
    """
    out = _new_node(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = op
    out._a = a
    out._da = da
    out._b = b
    out._db = db
    return out


def make_node(
    data: float, op: str, parents: tuple[Value, ...], local_grads: tuple[float, ...]
) -> Value:
    """A Value computed by ``op`` from one or two ``parents``, with ``local_grads[i]`` =
    d(data)/d(parents[i]).

    The door for writing a new operation without touching the Value class: compute the
    result and its local derivatives, and ``backward()`` does the rest.  Lesson 04 writes
    its operations this way:

    >>> def cube(x: Value) -> Value:
    ...     return make_node(x.data**3, "cube", (x,), (3 * x.data**2,))
    """
    parents, local_grads = tuple(parents), tuple(local_grads)
    if len(parents) not in (1, 2) or not all(isinstance(p, Value) for p in parents):
        raise TypeError(f"make_node needs a tuple of one or two Values as parents, not {parents!r}")
    if len(local_grads) != len(parents):
        raise ValueError(
            f"make_node got {len(parents)} parent(s) but {len(local_grads)} local "
            f"derivative(s): give one d(output)/d(parent) per parent"
        )
    grads = [_to_float(g) for g in local_grads]
    if len(parents) == 1:
        return _result(_to_float(data), op, parents[0], grads[0])
    return _result(_to_float(data), op, parents[0], grads[0], parents[1], grads[1])


def _power(base: Value, exponent: Value) -> Value:
    """``base ** exponent`` where both are Values."""
    a, b = base.data, exponent.data
    out = _pow(a, b)
    # d(a ** b)/da = b * a ** (b - 1), taken as 0 when b == 0 (PyTorch's convention).
    da = 0.0 if b == 0.0 else b * _pow(a, b - 1.0)
    # d(a ** b)/db = a ** b * log(a).  At a == 0, log(a) is -inf: the product is taken as 0
    # for b >= 0 (PyTorch's convention; it would be 0 * inf there) and is +-inf for b < 0.
    # nan for a negative base, where a ** b is not differentiable in b.
    if a > 0.0:
        db = out * math.log(a)
    elif a == 0.0:
        db = 0.0 if b >= 0.0 else out * -math.inf
    else:
        db = math.nan
    return _result(out, "**", base, da, exponent, db)


def _pow(a: float, b: float) -> float:
    """``a ** b`` as IEEE arithmetic (C's pow, numpy, PyTorch) defines it, never raising.

    Python's ``**`` raises ZeroDivisionError for ``0.0 ** -1``, OverflowError for
    ``10.0 ** 400``, and returns a complex number for ``(-8.0) ** (1/3)``, where PyTorch gives
    inf, inf and nan.  The fast path is Python's; those rare cases go to numpy.
    """
    try:
        out = a**b
        if type(out) is float:
            return out
    except (ZeroDivisionError, OverflowError):
        pass
    with np.errstate(all="ignore"):
        out = float(np.power(a, b))
    if math.isnan(out):
        warnings.warn(
            f"a negative base to a non-integer power is nan ({a} ** {b})",
            RuntimeWarning,
            stacklevel=3,
        )
    return out


def _div(a: float, b: float) -> float:
    """``a / b`` as IEEE arithmetic defines it: +-inf for a nonzero number over 0, nan for
    0 / 0 (where Python raises ZeroDivisionError)."""
    try:
        return a / b
    except ZeroDivisionError:
        with np.errstate(all="ignore"):
            return float(np.divide(a, b))


def _as_value(x: object) -> Value | None:
    """A Value as it is, a plain number as a constant Value, anything else None (then the
    operator returns NotImplemented and Python raises a TypeError naming both types)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return Value(float(x))
    return None


def _to_float(data: object) -> float:
    if isinstance(data, Value):
        raise TypeError(
            "Value(data) takes a number, but got a Value: use that Value directly, "
            "or Value(v.data) for a new leaf holding the same number"
        )
    if isinstance(data, numbers.Real):
        return float(data)
    raise TypeError(f"Value(data) takes a real number, but got {type(data).__name__} {data!r}")
