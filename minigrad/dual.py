"""Dual numbers: forward-mode differentiation on scalars, with no graph at all.

A dual number ``a + b ε`` carries a value ``a`` and a tangent ``b``, with the one rule
ε² = 0.  Then for any smooth f,

    f(a + b ε) = f(a) + f'(a) b ε

(Taylor's series stops after the first term), so evaluating f on ``Dual(x, 1.0)`` gives both
f(x) and f'(x) in a single forward pass.  Each operation below applies the chain rule to the
tangent immediately, alongside the value: nothing is recorded, nothing runs backward.

    >>> x = Dual(3.0, 1.0)          # d/dx: the tangent of x is 1
    >>> y = x * x + 2 * x
    >>> y.value, y.tangent          # 15 and 2*3 + 2
    (15.0, 8.0)

One pass gives the derivative along one direction.  For f: R^n -> R, the whole gradient
takes n passes (one per input); reverse mode takes one.  For f: R -> R^m, forward mode takes
one pass and reverse mode m.  ``minigrad.jvp`` is the same idea on tensors.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["Dual", "derivative"]


class Dual:
    """A value and its tangent (the derivative along the direction being followed)."""

    __slots__ = ("value", "tangent")

    def __init__(self, value: float, tangent: float = 0.0) -> None:
        self.value = _real(value, "value")
        self.tangent = _real(tangent, "tangent")

    def __repr__(self) -> str:
        return f"Dual(value={self.value!r}, tangent={self.tangent!r})"

    # ------------------------------------------------ arithmetic: the chain rule, at once

    def __add__(self, other: Any) -> Dual:
        other = _dual(other)
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def __mul__(self, other: Any) -> Dual:
        other = _dual(other)  # (a + a'ε)(b + b'ε) = ab + (a'b + ab')ε, since ε² = 0
        return Dual(
            self.value * other.value, self.tangent * other.value + self.value * other.tangent
        )

    def __truediv__(self, other: Any) -> Dual:
        other = _dual(other)  # the quotient rule: (a/b)' = (a'b - ab') / b²
        if other.value == 0:
            raise ZeroDivisionError(f"Dual division by a dual number whose value is 0 ({other!r})")
        value = self.value / other.value
        return Dual(value, (self.tangent - value * other.tangent) / other.value)

    def __pow__(self, exponent: Any) -> Dual:
        if isinstance(exponent, Dual):  # a**b = exp(b log a), for a > 0
            return (exponent * self.log()).exp()
        n = _real(exponent, "exponent")  # (a**n)' = n a**(n-1) a'
        if n == 0:
            return Dual(1.0, 0.0)
        try:
            value = self.value**n
            slope = n * self.value ** (n - 1)
        except ZeroDivisionError:
            raise ZeroDivisionError(f"{self.value} ** {n}: zero to a negative power") from None
        if isinstance(value, complex):
            raise ValueError(f"{self.value} ** {n}: a negative number to a fractional power")
        return Dual(value, slope * self.tangent)

    def __neg__(self) -> Dual:
        return Dual(-self.value, -self.tangent)

    def __sub__(self, other: Any) -> Dual:
        return self + (-_dual(other))

    def __radd__(self, other: Any) -> Dual:
        return self + other

    def __rsub__(self, other: Any) -> Dual:
        return _dual(other) - self

    def __rmul__(self, other: Any) -> Dual:
        return self * other

    def __rtruediv__(self, other: Any) -> Dual:
        return _dual(other) / self

    def __rpow__(self, base: Any) -> Dual:
        return _dual(base) ** self

    # ------------------------------------------------ functions: value and slope together

    def exp(self) -> Dual:
        value = math.exp(self.value) if self.value < 710 else math.inf
        return Dual(value, value * self.tangent)

    def log(self) -> Dual:
        if self.value <= 0:
            raise ValueError(f"log of a dual number with value {self.value} <= 0")
        return Dual(math.log(self.value), self.tangent / self.value)

    def tanh(self) -> Dual:
        value = math.tanh(self.value)
        return Dual(value, (1 - value * value) * self.tangent)

    def sigmoid(self) -> Dual:
        if self.value >= 0:
            value = 1 / (1 + math.exp(-self.value))
        else:
            e = math.exp(self.value)
            value = e / (1 + e)
        return Dual(value, value * (1 - value) * self.tangent)

    def relu(self) -> Dual:
        """max(x, 0); the slope at 0 is taken as 0, as in the rest of minigrad."""
        return Dual(max(self.value, 0.0), self.tangent if self.value > 0 else 0.0)

    def sin(self) -> Dual:
        return Dual(math.sin(self.value), math.cos(self.value) * self.tangent)

    def cos(self) -> Dual:
        return Dual(math.cos(self.value), -math.sin(self.value) * self.tangent)


def derivative(f: Any, x: float) -> float:
    """f'(x) in one forward pass: the tangent of f(Dual(x, 1))."""
    y = f(Dual(x, 1.0))
    return y.tangent if isinstance(y, Dual) else 0.0  # a constant function


def _dual(x: Any) -> Dual:
    return x if isinstance(x, Dual) else Dual(_real(x, "operand"), 0.0)


def _real(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"a Dual's {what} must be a real number, not {x!r}")
    return float(x)
