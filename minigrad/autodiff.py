"""The functional side of autodiff: gradients as values, forward mode, checkpointing.

``Tensor.backward()`` adds gradients into ``.grad``.  The functions here return them instead,
which is what you need to go further.  Both run the same backward pass,
``tensor.backpropagate``; ``grad`` only asks it for some nodes' gradients instead.


* ``grad(output, inputs, create_graph=True)`` records the backward pass itself as a graph, so
  the gradient can be differentiated again: second derivatives, ``hvp`` (Hessian times a
  vector, without ever forming the Hessian) and ``hessian`` for small inputs.
* ``jvp(fn, primals, tangents)`` is forward mode: one pass pushes a direction through
  ``fn`` and gives the Jacobian times that direction.  One reverse pass gives a whole
  gradient (a row of the Jacobian); one forward pass gives a column.  So forward mode wins
  when outputs outnumber inputs, reverse mode when inputs outnumber outputs.
* ``checkpoint(fn, *inputs)`` trades compute for memory: it keeps only the inputs of ``fn``
  and runs ``fn`` again during backward to rebuild the graph it needs.
* ``graph_memory(t)`` counts the bytes a graph keeps alive, to see what no_grad, detach and
  checkpointing save.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .inplace import INPUTS
from .modes import enable_grad, forward_mode, is_grad_enabled, tangent_of
from .tensor import Tensor, backpropagate, initial_gradient, make_node

__all__ = ["grad", "hvp", "hessian", "jvp", "checkpoint", "graph_memory"]


# ------------------------------------------------------------------ reverse mode, as values


def grad(
    output: Tensor,
    inputs: Tensor | Sequence[Tensor],
    grad_output: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> list[Tensor | None]:
    """The gradients of ``output`` with respect to each of ``inputs``, as Tensors.

    Nothing is added to any ``.grad``.  ``grad_output`` plays the part of ``backward``'s
    ``grad`` (needed when ``output`` is not a single number).

    With ``create_graph=True`` every backward rule runs on Tensors instead of arrays, so the
    backward pass is recorded like any other computation, and the gradients returned can be
    differentiated again.  An input that ``output`` does not depend on is an error, unless
    ``allow_unused=True``, which gives None for it.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"grad: output must be a Tensor, not {type(output).__name__}")
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"grad: input {i} must be a Tensor, not {type(x).__name__}")
        if not x.requires_grad:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) does not require grad, so no gradient "
                f"can flow to it; create it with requires_grad=True"
            )
    if not output.requires_grad:
        raise RuntimeError(
            "grad: the output does not require grad: none of the tensors it was computed "
            "from requires grad (or it was computed under no_grad)"
        )
    seed = _seed(output, grad_output, create_graph)
    found = backpropagate(output, seed, inputs, create_graph)
    results: list[Tensor | None] = []
    for i, x in enumerate(inputs):
        g = found.get(x)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) is not used to compute the output; pass "
                f"allow_unused=True to get None for it"
            )
        if g is not None and not isinstance(g, Tensor):
            g = Tensor._constant(np.array(g))  # its own array: rules may pass one along
        results.append(g)
    return results


def _seed(output: Tensor, grad_output: Any, create_graph: bool) -> Any:
    if create_graph and isinstance(grad_output, Tensor):
        if grad_output.shape != output.shape:
            raise ValueError(
                f"grad: grad_output has shape {grad_output.shape} but the output has shape "
                f"{output.shape}"
            )
        return grad_output  # kept as a Tensor: the result may be differentiated along it
    seed = initial_gradient(output, grad_output, "grad")
    return Tensor._constant(seed) if create_graph else seed


def hvp(fn: Callable[[Tensor], Tensor], x: Any, v: Any) -> Tensor:
    """The Hessian of the scalar function ``fn`` at ``x``, times the vector ``v``.

    The gradient of ``sum(grad fn(x) * v)`` with respect to x is exactly H v: two passes
    through the graph, never the n x n Hessian itself.
    """
    x = _leaf(x)
    v = v if isinstance(v, Tensor) else Tensor(v, dtype=x.dtype)
    if v.shape != x.shape:
        raise ValueError(f"hvp: v has shape {v.shape} but x has shape {x.shape}")
    (g,) = grad(_scalar(fn(x), "hvp"), x, create_graph=True)
    if not g.requires_grad:  # fn is linear: its Hessian is 0
        return Tensor._constant(np.zeros_like(x.data))
    (hv,) = grad((g * v).sum(), x, allow_unused=True)
    return hv if hv is not None else Tensor._constant(np.zeros_like(x.data))


def hessian(fn: Callable[[Tensor], Tensor], x: Any, max_elements: int = 2000) -> Tensor:
    """The matrix of second derivatives of the scalar function ``fn`` at ``x``, of shape
    ``x.shape + x.shape``: one reverse pass through the recorded gradient per element of x,
    so for small inputs only (at most ``max_elements``; use ``hvp`` beyond)."""
    x = _leaf(x)
    if x.numel() > max_elements:
        raise ValueError(
            f"hessian: x has {x.numel()} elements, more than max_elements={max_elements}; "
            f"the Hessian would take {x.numel()} backward passes and {x.numel() ** 2} numbers "
            f"(use hvp for Hessian-vector products instead)"
        )
    (g,) = grad(_scalar(fn(x), "hessian"), x, create_graph=True)
    flat = g.reshape(-1)
    rows = []
    for i in range(x.numel()):
        row = None
        if flat.requires_grad:
            (row,) = grad(flat[i], x, allow_unused=True)
        rows.append(np.zeros_like(x.data) if row is None else row.data)
    return Tensor._constant(np.stack(rows).reshape(x.shape + x.shape))


def _leaf(x: Any) -> Tensor:
    """A fresh leaf that requires grad, holding ``x``'s values."""
    data = x.data if isinstance(x, Tensor) else x
    return Tensor(data, requires_grad=True, dtype=getattr(data, "dtype", None))


def _scalar(y: Any, what: str) -> Tensor:
    if not isinstance(y, Tensor) or y.data.size != 1:
        shape = y.shape if isinstance(y, Tensor) else type(y).__name__
        raise ValueError(f"{what}: fn must return a one-element Tensor, not {shape}")
    return y


# ------------------------------------------------------------------ forward mode


def jvp(fn: Callable[..., Any], primals: Any, tangents: Any) -> tuple[Any, Any]:
    """Forward mode: ``fn(*primals)`` and its derivative along ``tangents``.

    ``primals`` is a Tensor (or array) or a sequence of them, ``tangents`` the same with the
    same shapes.  Returns ``(outputs, output_tangents)`` in the shape of what ``fn``
    returns (a Tensor or a tuple of Tensors): the output tangent is J v, the Jacobian of
    ``fn`` times the tangents, computed alongside the values by each op's tangent rule.
    Tensors that ``fn`` uses without receiving them (weights, say) are constants.
    """
    single = not isinstance(primals, list | tuple)
    primals = [primals] if single else list(primals)
    tangents = [tangents] if single else list(tangents)
    with forward_mode() as pushed:
        if len(tangents) != len(primals):
            raise ValueError(f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s)")
        inputs = []
        for i, (p, t) in enumerate(zip(primals, tangents)):
            x = Tensor._constant(p.data) if isinstance(p, Tensor) else Tensor(p)
            dot = np.array(t.data if isinstance(t, Tensor) else t, dtype=x.dtype)
            if dot.shape != x.shape:
                raise ValueError(
                    f"jvp: tangent {i} has shape {dot.shape} but its primal has shape {x.shape}"
                )
            pushed[x] = dot
            inputs.append(x)
        outputs = fn(*inputs)
        many = isinstance(outputs, list | tuple)
        results = list(outputs) if many else [outputs]
        out_tangents = []
        for y in results:
            if not isinstance(y, Tensor):
                raise TypeError(f"jvp: fn must return Tensors, not {type(y).__name__}")
            dot = pushed.get(y)
            dot = np.zeros_like(y.data) if dot is None else dot
            out_tangents.append(Tensor._constant(np.array(dot, dtype=y.dtype)))
    if many:
        return tuple(results), tuple(out_tangents)
    return outputs, out_tangents[0]


# ------------------------------------------------------------------ checkpointing


def checkpoint(fn: Callable[..., Tensor], *inputs: Tensor) -> Tensor:
    """``fn(*inputs)``, keeping only the inputs instead of ``fn``'s whole graph.

    During backward, ``fn`` runs again to rebuild its graph, and gradients flow through the
    rebuilt one: the same gradients as without checkpointing, for the price of a second
    forward pass.  Splitting a deep network of n layers into sqrt(n) checkpointed segments
    keeps about sqrt(n) layers' worth of arrays instead of n.

    Parameters that ``fn`` uses without receiving them (a layer's weights) get their
    gradients too: the forward pass finds every tensor requiring grad that the result
    depends on.  ``fn`` must compute the same thing each time it is called (no randomness,
    no changes in place to what it reads).
    """
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"checkpoint: input {i} must be a Tensor, not {type(x).__name__}")
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"checkpoint: fn must return one Tensor, not {type(out).__name__}")
    if not (is_grad_enabled() and out.requires_grad):
        return out
    outer = _outer_leaves(out, inputs)  # tensors fn reads without receiving them
    parents = (*inputs, *outer)
    needs = [x.requires_grad for x in inputs]

    def backward(g, result, *values):
        recording = isinstance(g, Tensor)  # create_graph: rebuild on the real inputs
        with enable_grad():
            if recording:
                again_inputs = list(values[: len(inputs)])
            else:
                again_inputs = [_leaf_like(v, need) for v, need in zip(values, needs)]
            again = fn(*again_inputs)
            # Gradients for every parent, in order: the inputs, then the outer leaves.
            # An input that needs none gets None, which backward skips.
            wanted = [x for x, need in zip(again_inputs, needs) if need] + list(outer)
            found = iter(grad(again, wanted, g, create_graph=recording, allow_unused=True))
        grads = [next(found) if need else None for need in needs] + list(found)
        return tuple(_raw(each, recording) for each in grads)

    # Under jvp, fn's own ops have computed the output's tangent already.
    inner = tangent_of(out)

    def tangent(dots, result, *values):
        return np.zeros_like(result) if inner is None else inner

    return make_node(out.data, "checkpoint", parents, backward, tangent, saves=INPUTS)


def _outer_leaves(out: Tensor, inputs: Sequence[Tensor]) -> list[Tensor]:
    """The leaves requiring grad that ``out`` depends on without going through ``inputs``."""
    stop = set(inputs)
    leaves, seen, stack = [], set(), [out]
    while stack:
        node = stack.pop()
        for parent in node._parents:
            if parent in stop or parent in seen or not parent.requires_grad:
                continue
            seen.add(parent)
            if parent._parents:
                stack.append(parent)
            else:
                leaves.append(parent)
    return leaves


def _leaf_like(data: np.ndarray, requires_grad: bool) -> Tensor:
    leaf = Tensor._constant(data)
    leaf.requires_grad = requires_grad
    return leaf


def _raw(g: Tensor | None, recording: bool) -> Any:
    if g is None or recording:
        return g
    return g.data


# ------------------------------------------------------------------ memory


def graph_memory(t: Tensor) -> int:
    """Bytes of arrays that ``t``'s graph keeps alive: every node's data and ``.grad``, and
    arrays held by backward rules (softmax probabilities, index arrays...).

    An array shared by several nodes (views, gradients passed along) counts once.  Under
    ``no_grad`` or after ``detach`` this is just ``t``'s own data: there is no graph.
    """
    seen_buffers: set[int] = set()
    total = 0

    def count(array: Any) -> None:
        nonlocal total
        if not isinstance(array, np.ndarray):
            return
        while isinstance(array.base, np.ndarray):
            array = array.base
        if id(array) not in seen_buffers:
            seen_buffers.add(id(array))
            total += array.nbytes

    seen_nodes: set[Tensor] = {t}
    stack = [t]
    while stack:
        node = stack.pop()
        count(node.data)
        count(node.grad)
        for cell in getattr(node._backward, "__closure__", None) or ():
            count(cell.cell_contents)
        for parent in node._parents:
            if parent not in seen_nodes:
                seen_nodes.add(parent)
                stack.append(parent)
    return total
