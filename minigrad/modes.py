"""The two switches that decide what an op keeps besides its result.

* **Grad mode** (``no_grad``, ``enable_grad``): whether a result remembers the tensors it was
  computed from and its backward rule, so that ``backward()`` can run through it later.  On
  unless switched off.
* **Forward mode** (``minigrad.jvp``): whether each op also computes the tangent of its
  result from the tangents of its inputs.  Off unless a ``jvp`` pass is under way.

``make_node`` in ``tensor.py`` reads both as every op records its result.  They live in a
module of their own, below the Tensor, because the in-place machinery (``inplace.py``), which
the Tensor itself uses, reads them too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["no_grad", "enable_grad", "is_grad_enabled"]


# ------------------------------------------------------------------ grad mode


class GradMode:
    """Whether new results record the graph (one flag for the whole program)."""

    enabled = True


class _SetGradMode(contextlib.ContextDecorator):
    """Set grad mode on entry and restore the earlier mode on exit.

    The earlier modes go on a stack, not in one attribute: as a decorator, one instance
    serves every call, and a decorated function may call itself.
    """

    mode = True

    def __new__(cls, func: Callable | None = None) -> Any:
        # `@no_grad` without parentheses, as PyTorch allows: Python hands over the function.
        self = super().__new__(cls)
        if func is None:
            return self
        if not callable(func):
            raise TypeError(
                f"{cls.__name__}() takes no arguments (used as @{cls.__name__} it decorates a "
                f"function), not {func!r}"
            )
        self.__init__()
        return self(func)

    def __init__(self, func: Callable | None = None) -> None:
        self._earlier: list[bool] = []

    def __enter__(self) -> _SetGradMode:
        self._earlier.append(GradMode.enabled)
        GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc: object) -> None:
        GradMode.enabled = self._earlier.pop()


class no_grad(_SetGradMode):  # noqa: N801 (PyTorch's name)
    """Compute without recording a graph: results never require grad.

    Use it for evaluation and for optimizer updates.  No graph means no memory held for a
    backward pass that will never come.  Works as ``with no_grad():`` and as ``@no_grad()``
    (or ``@no_grad``).
    The mode is one switch for the whole program (not one per thread, as in PyTorch).
    """

    mode = False


class enable_grad(_SetGradMode):  # noqa: N801 (PyTorch's name)
    """Record the graph again inside a ``no_grad`` block."""

    mode = True


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return GradMode.enabled


# ------------------------------------------------------------------ forward mode


class ForwardMode:
    """The forward-mode pass under way, if any.

    While ``tangents`` is a dict, every op also computes the tangent of its result and
    stores it there, by tensor (``make_node`` does).  Each pass starts a dict of its own, so
    a tangent left over from an earlier pass is never mistaken for one of this pass.  The
    dict keeps every tensor the pass computes until the pass ends.
    """

    tangents: dict[Any, Any] | None = None


@contextlib.contextmanager
def forward_mode() -> Iterator[dict[Any, Any]]:
    """Turn forward mode on for the ``with`` block; yields the pass's dict of tangents."""
    if ForwardMode.tangents is not None:
        raise NotImplementedError("jvp: a jvp inside another jvp is not supported")
    ForwardMode.tangents = tangents = {}
    try:
        yield tangents
    finally:
        ForwardMode.tangents = None


def tangent_of(tensor: Any) -> Any:
    """The tangent of ``tensor`` in the forward-mode pass under way, or None (no pass, or
    nothing the pass follows reached it)."""
    tangents = ForwardMode.tangents
    return None if tangents is None else tangents.get(tensor)
