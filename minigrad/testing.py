"""Checks for the notebooks' test cells: failures that tell a student what went wrong.

A bare ``AssertionError`` teaches nothing.  These helpers raise one whose message says what
was computed, what was expected, and the likely mistake, e.g.

    grad of b is 2.0, expected 4.0: does your backward use `=` instead of `+=`?
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

__all__ = ["check_close", "check_true", "check_own_work", "needs"]


def check_close(
    actual: Any,
    expected: Any,
    what: str,
    hint: str = "",
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> None:
    """Fail, naming ``what`` and the ``hint``, unless ``actual`` is close to ``expected``.

    Works for numbers and arrays; nan matches nan.
    """
    try:
        a = np.asarray(actual, dtype=np.float64)
        e = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what} is {actual!r}, which is not a number (expected {expected!r}). {hint}".strip()
        ) from None
    if a.shape != e.shape:
        raise AssertionError(f"{what} has shape {a.shape}, expected {e.shape}. {hint}".strip())
    if not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True):
        shown_a = _show(actual if a.ndim == 0 else a)
        shown_e = _show(expected if e.ndim == 0 else e)
        raise AssertionError(f"{what} is {shown_a}, expected {shown_e}. {hint}".strip())


def check_true(condition: Any, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def check_own_work(obj: Any, name: str) -> None:
    """Fail unless ``obj`` was written in the notebook itself, not imported from minigrad.

    Hidden tests use it so that importing the reference in place of one's own work earns
    nothing.
    """
    target = getattr(obj, "__func__", obj)
    module = getattr(target, "__module__", None) or getattr(type(target), "__module__", "")
    if module != "__main__":
        raise AssertionError(
            f"{name} comes from {module or 'somewhere else'}, not from this notebook: the "
            f"exercise is to write it yourself"
        )
    if isinstance(target, type):
        for base in target.__mro__[1:]:
            if base.__module__.split(".")[0] == "minigrad":
                raise AssertionError(
                    f"{name} is built on minigrad's {base.__name__}: the exercise is to write "
                    f"it yourself, not to inherit it"
                )


def needs(*names: str) -> None:
    """Stop the cell, as an unfinished exercise does, when a result of an earlier cell is missing.

    A cell that draws or tests what an exercise above produced (a trained ``model``, say)
    would otherwise fail with a ``NameError`` that points at this cell instead of at the
    exercise.  Raising ``NotImplementedError`` instead keeps the whole notebook honest as
    released: every cell that fails, fails because an exercise is not done yet.  The names
    are looked up among the globals of the cell that calls this (the notebook's own names).
    """
    defined = sys._getframe(1).f_globals
    missing = [name for name in names if name not in defined]
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        raise NotImplementedError(
            f"{listed} {'is' if len(missing) == 1 else 'are'} not defined yet: the cell above "
            f"that makes {'it' if len(missing) == 1 else 'them'} stopped with an error. Finish "
            f"the exercises above, run their cells again, then this one"
        )


def _show(x: Any) -> str:
    if isinstance(x, float) and math.isfinite(x):
        return f"{x:.10g}"
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=6, separator=", ")
    return repr(x)
