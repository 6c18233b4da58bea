"""Numerical gradient checking: compare backward() with central differences.

A backward rule is easy to get subtly wrong and hard to spot by eye.  Central differences,

    df/dx  ~  (f(x + eps) - f(x - eps)) / (2 eps),

need nothing but the forward computation, and their error shrinks like eps**2, so in float64
with eps = 1e-6 they agree with a correct gradient to about ten digits.  Where they disagree,
the backward rule is (almost always) wrong.

The same check works for Tensor functions: every element of every input is nudged in turn
(a random sample of them, for large inputs), and a function with a non-scalar output is
checked through a fixed random weighting of its outputs, ``sum(w * fn(x))``, which a wrong
rule almost surely gets wrong too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import Value
from .modes import no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "GradcheckError", "GradcheckResult"]


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with its numerical estimate."""


@dataclass(frozen=True)
class GradcheckResult:
    """The comparison for one input: the derivative backward() gave and the estimate."""

    index: int
    value: float
    analytic: float
    numerical: float
    element: tuple[int, ...] | None = None  # where in a tensor input, for Tensor functions

    @property
    def where(self) -> str:
        return f"input {self.index}" + (
            f"[{', '.join(map(str, self.element))}]" if self.element is not None else ""
        )

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numerical)

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.analytic), abs(self.numerical))
        return self.abs_error / scale if scale > 0 else 0.0


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    raise_exception: bool = True,
    max_elements: int = 500,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s gradients at ``inputs`` against central differences.

    For the scalar engine, ``fn`` takes one Value per input (numbers or Values) and returns
    a single Value.  For the tensor engine, inputs are Tensors or arrays, ``fn`` takes one
    Tensor per input and returns a Tensor; the check runs in float64 whatever the inputs'
    dtype, on at most ``max_elements`` elements per input (a random sample, fixed by
    ``seed``, when an input is larger).  Each input becomes a fresh leaf, so ``fn`` sees
    clean gradients.  An element passes when ``|analytic - numerical| <= atol + rtol *
    |numerical|``.

    Returns True when every input passes.  Otherwise it raises ``GradcheckError`` (or returns
    False with ``raise_exception=False``), naming the input with the largest relative error,
    the two derivatives, and what to look at.

    >>> gradcheck(lambda a, b: a * b + a.tanh(), [0.5, -2.0])
    True
    """
    if len(inputs) == 0:
        raise ValueError("gradcheck needs at least one input")
    if any(isinstance(x, Tensor | np.ndarray | list | tuple) for x in inputs):
        results = _tensor_results(fn, inputs, eps, max_elements, seed)
    else:
        results = _value_results(fn, inputs, eps)
    failures = [r for r in results if not _close(r, atol, rtol)]
    if not failures:
        return True
    if raise_exception:
        raise GradcheckError(_explain(max(failures, key=_badness), len(failures), len(results)))
    return False


def _value_results(fn: Callable[..., Value], inputs: Sequence[Any], eps: float):
    point = [float(x.data if isinstance(x, Value) else x) for x in inputs]
    analytic = _analytic_gradient(fn, point)
    numerical = [_central_difference(fn, point, i, eps) for i in range(len(point))]
    return [GradcheckResult(i, point[i], a, n) for i, (a, n) in enumerate(zip(analytic, numerical))]


def _tensor_results(
    fn: Callable[..., Tensor], inputs: Sequence[Any], eps: float, max_elements: int, seed: int
) -> list[GradcheckResult]:
    points = [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    rng = np.random.default_rng(seed)

    leaves = [Tensor(p, requires_grad=True) for p in points]
    out = fn(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"gradcheck: the function must return a Tensor, but it returned {type(out).__name__}"
        )
    # A non-scalar output is checked through a fixed random weighting of its elements.
    weights = np.ones(()) if out.data.size == 1 else rng.standard_normal(out.shape)
    if out.requires_grad:
        out.backward(np.broadcast_to(weights, out.shape))

    def weighted_output(at: list[np.ndarray]) -> float:
        with no_grad():
            return float(np.sum(fn(*(Tensor(p) for p in at)).data * weights))

    results = []
    for i, (point, leaf) in enumerate(zip(points, leaves)):
        analytic = leaf.grad if leaf.grad is not None else np.zeros_like(point)
        flat = np.arange(point.size)
        if point.size > max_elements:
            flat = np.sort(rng.choice(point.size, size=max_elements, replace=False))
        for k in flat:
            element = tuple(int(j) for j in np.unravel_index(k, point.shape))
            plus = [p.copy() for p in points]
            minus = [p.copy() for p in points]
            plus[i][element] += eps
            minus[i][element] -= eps
            numerical = (weighted_output(plus) - weighted_output(minus)) / (2.0 * eps)
            results.append(
                GradcheckResult(
                    i, float(point[element]), float(analytic[element]), numerical, element
                )
            )
    return results


def _analytic_gradient(fn: Callable[..., Value], point: list[float]) -> list[float]:
    leaves = [Value(x) for x in point]
    out = fn(*leaves)
    if not isinstance(out, Value):
        raise TypeError(
            f"gradcheck: the function must return a single Value, but it returned "
            f"{type(out).__name__}"
        )
    out.backward()
    return [leaf.grad for leaf in leaves]


def _evaluate(fn: Callable[..., Value], point: list[float]) -> float:
    return fn(*(Value(x) for x in point)).data


def _central_difference(fn: Callable[..., Value], point: list[float], i: int, eps: float) -> float:
    plus, minus = list(point), list(point)
    plus[i] += eps
    minus[i] -= eps
    return (_evaluate(fn, plus) - _evaluate(fn, minus)) / (2.0 * eps)


def _close(r: GradcheckResult, atol: float, rtol: float) -> bool:
    if math.isnan(r.analytic) or math.isnan(r.numerical):
        return math.isnan(r.analytic) and math.isnan(r.numerical)
    if math.isinf(r.analytic) or math.isinf(r.numerical):
        return r.analytic == r.numerical
    return r.abs_error <= atol + rtol * abs(r.numerical)


def _badness(r: GradcheckResult) -> float:
    return math.inf if math.isnan(r.rel_error) else r.rel_error


def _explain(worst: GradcheckResult, n_failed: int, n_inputs: int) -> str:
    where = worst.where
    what = "input(s)" if worst.element is None else "checked element(s)"
    lines = [
        f"gradcheck failed for {n_failed} of {n_inputs} {what}. The worst is {where} "
        f"(value {worst.value!r}):",
        f"  backward() gives   d(out)/d({where}) = {worst.analytic!r}",
        f"  central difference d(out)/d({where}) = {worst.numerical!r}",
        f"  relative error {worst.rel_error:.3g}.",
    ]
    if worst.analytic == 0.0 and worst.numerical != 0.0:
        lines.append(
            "The gradient is 0: is this input's gradient never set, or is the output's "
            "gradient not seeded with 1.0?"
        )
    elif worst.numerical != 0.0 and math.isclose(worst.analytic, 2 * worst.numerical, rel_tol=1e-3):
        lines.append(
            "backward() gives twice the true gradient: is it counted twice (a node visited "
            "twice, or gradients not zeroed between passes)?"
        )
    elif worst.numerical != 0.0 and math.isclose(worst.analytic, -worst.numerical, rel_tol=1e-3):
        lines.append("The sign is flipped: check the local derivative's sign.")
    else:
        lines.append(
            "Check the local derivative of each operation this input flows through, and "
            "that each rule multiplies by the output's gradient (the chain rule)."
        )
    return "\n".join(lines)
