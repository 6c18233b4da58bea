"""Changes in place (``x += 1``, ``x[0] = 5``), and the versions that keep them safe.

A backward rule reads the values of its op's inputs or output when backward runs, not copies
taken when the op ran: copies would double the memory of every graph.  So a value changed in
place in between would silently give wrong gradients.  minigrad refuses instead, as PyTorch
does, in three parts:

* each op declares what its backward rule reads (``saves=``, from the vocabulary below);
* every data buffer counts its changes in place: its ``Version``, shared by every tensor that
  looks at the buffer (reshapes, slices, transposes, detached copies);
* before a node's rule runs, the backward pass (``tensor.backpropagate``) calls
  ``check_saved_values``, which refuses the rule if something it reads changed since the op
  ran.

And ``x += y`` inside a recorded graph is itself recorded: ``change_in_place`` turns x into a
new node of the graph, ``add`` applied to x's old value, as in PyTorch.

The Tensor class (``tensor.py``) and the in-place operators (attached to it in ``ops.py``) use
what is here; this module needs neither, only the recording switches of ``modes.py``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from .modes import ForwardMode, GradMode

__all__ = [
    "NOTHING",
    "INPUTS",
    "OUTPUT",
    "INPUTS_AND_OUTPUT",
    "Version",
    "bump_version",
    "share_buffer",
    "check_saved_values",
    "change_in_place",
]

# What a backward rule reads besides the incoming gradient, declared by each op: the values
# of its inputs, of its output, of both, or of neither (``a + b`` needs only shapes).  The
# backward pass checks exactly these for changes made in place after the op ran.
NOTHING: tuple[str, ...] = ()
INPUTS = ("inputs",)
OUTPUT = ("output",)
INPUTS_AND_OUTPUT = ("inputs", "output")


# ------------------------------------------------------------------ versions


class Version:
    """How many times a data buffer was changed in place, and when it last was.

    Shared by every tensor that looks at the same buffer (a tensor, its reshapes, slices,
    transposes and detached copies), so that a change through any of them is seen by all.

    "When" is read on a clock that every change in place, anywhere, moves on by one.  An op
    notes the clock's time as it records itself (a node's ``_saved_at``); at backward, a
    value it saved is unchanged if its buffer's last change came before that time.  And if
    the clock has not moved at all since (the usual case: a training step changes its
    weights only after backward), nothing can have changed, which takes one comparison to
    see.
    """

    __slots__ = ("count", "shared", "changed_at")

    clock = 0  # changes in place so far, in the whole program

    def __init__(self) -> None:
        self.count = 0
        self.shared = False  # True once a second tensor looks at the buffer
        self.changed_at = 0  # the clock's time at the last change


def bump_version(tensor: Any) -> int:
    """Count a change in place of ``tensor``'s data (and so of every view of it)."""
    if tensor._counter is None:
        tensor._counter = Version()
    Version.clock += 1
    tensor._counter.count += 1
    tensor._counter.changed_at = Version.clock
    return tensor._counter.count


def share_buffer(view: Any, base: Any) -> Any:
    """Make ``view``, whose data may look at ``base``'s buffer, share its version counter."""
    if not np.may_share_memory(view.data, base.data):
        return view
    if base._counter is None:
        base._counter = Version()
    base._counter.shared = True
    view._counter = base._counter
    return view


# ------------------------------------------------------------------ the check at backward


def check_saved_values(node: Any) -> None:
    """Refuse to run ``node``'s rule on values changed in place since the op ran.

    Two things can go wrong.  A value the rule reads was overwritten: the rule would compute
    the gradient at the wrong point.  Or an input was itself turned into a new graph node by
    an in-place op (``x *= 2`` on a tensor in a graph) after ``node`` used it: the edge from
    ``node`` would then lead into the new node, which is not the value ``node`` was computed
    from.  That input's ``_saved_at`` tells: an input is older than the nodes that use it,
    unless ``change_in_place`` recorded it again since.
    """
    then = node._saved_at
    for parent in node._parents:
        if parent._counter is None or parent._counter.changed_at <= then:
            continue
        if parent._saved_at is not None and parent._saved_at > then:
            raise _modified_error(node, parent, "an input", rebased=True)
        if "inputs" in node._saves:
            raise _modified_error(node, parent, "an input", rebased=False)
    counter = node._counter
    if "output" in node._saves and counter is not None and counter.changed_at > then:
        raise _modified_error(node, node, "the output", rebased=False)


def _modified_error(node: Any, tensor: Any, role: str, rebased: bool) -> RuntimeError:
    label = f"{tensor.label!r}, " if tensor.label else ""
    what = f"{role} of {node._op!r} ({label}shape {tensor.shape})"
    if rebased:
        why = (
            f"it was turned into a new graph node by an in-place operator after "
            f"{node._op!r} used it, so the gradient through {node._op!r} would go astray"
        )
    else:
        why = (
            f"{node._op!r} saved it for its backward rule, and it was changed in place after "
            f"that (it is now at version {tensor._version})"
        )
    return RuntimeError(
        f"one of the values needed for gradient computation has been modified by an "
        f"in-place operation: {what}: {why}. Compute out of place instead (y = y + 1 "
        f"rather than y += 1), or change the tensor only after backward()"
    )


# ------------------------------------------------------------------ the in-place operators


def change_in_place(tensor: Any, op: Callable[..., Any], other: Any, symbol: str) -> Any:
    """``tensor op= other``: compute ``op(tensor, other)`` and write it into tensor's own data.

    Outside a recorded graph that is all.  Inside one, the tensor also becomes a new graph
    node, ``op`` applied to its old value, as in PyTorch; its old role in the graph moves to
    a new tensor object, which keeps the old values when ``op``'s rule reads them.  Ops
    recorded earlier with the tensor as an input can then no longer use it: their backward
    raises (``check_saved_values``) instead of sending gradients down the wrong edge.
    """
    if ForwardMode.tangents is not None:
        raise NotImplementedError(
            f"{symbol}: forward mode (jvp) does not follow in-place operators; "
            f"write y = y + 1 rather than y += 1 inside the function"
        )
    # `other` is a Tensor or a constant (a number or an array, which never requires grad)
    other_requires_grad = getattr(other, "requires_grad", False)
    if not (GradMode.enabled and (tensor.requires_grad or other_requires_grad)):
        _overwrite(tensor, op(tensor, other).data, symbol)
        return tensor
    if tensor.requires_grad and tensor.is_leaf:
        raise RuntimeError(
            f"{symbol}: a leaf tensor that requires grad cannot be changed in place while "
            f"the graph is being recorded (its gradient would describe a value it no "
            f"longer has); change it under no_grad(), as optimizers do, or compute a new "
            f"tensor (x = x + 1)"
        )
    if tensor._counter is not None and tensor._counter.shared:
        raise RuntimeError(
            f"{symbol}: this tensor shares its data with another (a view made by reshape, "
            f"transpose, indexing or detach), and minigrad cannot record an in-place "
            f"change through a view; compute a new tensor instead (x = x + 1)"
        )
    if tensor._counter is None:
        tensor._counter = Version()
    old = copy.copy(tensor)  # a new object in the tensor's old place in the graph
    # `y += y`: both operands are the old y, so both edges lead to its old role
    new = op(old, old if other is tensor else other)
    if "inputs" in new._saves:  # the new node's rule reads the old values: keep them
        old.data = old.data.copy()
        old._counter = None
    _overwrite(tensor, new.data, symbol)
    tensor.grad = None
    tensor.requires_grad = True
    tensor._op = symbol
    tensor._parents = new._parents
    tensor._backward = new._backward
    tensor._saves = new._saves
    tensor._saved_at = Version.clock  # recorded again, later than any op that used it
    return tensor


def _overwrite(tensor: Any, values: np.ndarray, symbol: str) -> None:
    if values.shape != tensor.shape:
        raise ValueError(
            f"{symbol}: the result has shape {values.shape} but the tensor changed in "
            f"place has shape {tensor.shape}; an in-place operator cannot change a "
            f"tensor's shape"
        )
    if not tensor.data.flags.writeable:
        raise ValueError(
            f"{symbol}: this tensor's data is read-only (a broadcast view); make a copy first"
        )
    np.copyto(tensor.data, values, casting="same_kind")
    bump_version(tensor)
