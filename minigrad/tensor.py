"""The tensor engine's core: the Tensor, how an op records itself, and the backward pass.

A ``Tensor`` is the same idea as ``Value``, one numpy array per node instead of one float.
It holds ``data`` (a numpy array), and, when it was computed from tensors that require
gradients, the tensors it came from (``_parents``) and a backward rule.  The rule is a
function ``rule(g, out, *inputs) -> grads``: given the gradient ``g`` of the loss with respect
to this node's output, and the values of the output and of the inputs, it returns the gradient
with respect to each input.  That is the chain rule once more, now with arrays: where the
scalar engine multiplied by a local derivative, a tensor rule applies the transpose of the
op's Jacobian to ``g``, without ever building the Jacobian.

This module holds three things, in the order a gradient meets them:

* ``Tensor``: the node itself, what it is and where it came from;
* ``make_node``: how every op records its result, as a node of the graph (unless ``no_grad``
  is on, or no input requires grad), and under ``jvp`` its tangent too;
* ``backpropagate``: the one backward pass, behind both ``Tensor.backward()`` and
  ``minigrad.grad()``.

Where the rest lives:

* every op, with its backward and tangent rules beside its forward computation, is in
  ``ops.py``, which also gives Tensor its operators: ``a + b`` is ``ops.add(a, b)``, ``a.exp()``
  is ``ops.exp(a)``.  (ops.py needs Tensor, so the operators are attached to the class there
  rather than written in it: this module never imports ops.py.)
* changes in place (``x += 1``), and the version counters that keep the backward pass from
  reading values changed since an op ran, are in ``inplace.py``;
* the switches ``no_grad`` and forward mode are in ``modes.py``.

Design notes, for the curious:

* Every node of a graph keeps its gradient in ``.grad`` after ``backward()``, not only the
  leaves (PyTorch keeps only the leaves' unless asked).  Lessons and the graph views want to
  show them.  The cost: a graph holds one gradient array per node, as much memory again as
  its data.  Evaluate under ``no_grad()`` when no gradients are needed.
* Nodes refer to their inputs, never to themselves, and rules are plain functions (or
  closures over constants), so a graph has no reference cycles and is freed by reference
  counting as soon as its last reference goes.
* Numbers mixed into an op (``x * 2.0``) are folded into the rule instead of becoming graph
  nodes: no gradient is computed for something that cannot have one.
* ``backward()`` runs the rules on arrays.  ``minigrad.grad(..., create_graph=True)`` runs
  the very same rules on Tensors, which records the backward pass as a graph of its own:
  that is all higher-order gradients take.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .inplace import NOTHING, Version, check_saved_values, share_buffer
from .modes import ForwardMode, GradMode, enable_grad, no_grad

__all__ = ["Tensor", "make_node", "backpropagate", "initial_gradient", "data_of"]

# The tangent rule of an op of one input with a diagonal Jacobian (the elementwise ops):
# pushing a tangent forward multiplies it by the same local derivative that pulling a
# gradient back does, so the backward rule serves as the tangent rule.
SAME_AS_BACKWARD = "same as backward"

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# ------------------------------------------------------------------ the Tensor


class Tensor:
    """A numpy array that remembers how it was computed, so gradients can flow back to it.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.])

    ``data`` is float64 unless ``dtype="float32"`` is asked for (or a float32 array is
    given).  Integers and booleans are converted to floats; anything else is refused.

    The class below is the node: its data, its gradient, its place in the graph and the
    backward pass.  What computes with it, the operators (``+ - * / ** @``, ``-t``,
    ``t[i]``, ``+=`` and the other in-place operators) and the methods ``exp log tanh relu
    sigmoid abs sum mean max reshape transpose swapaxes T astype``, are the functions of
    ``ops.py`` of the same name (``+`` is ``ops.add``), written there beside their backward
    rules and attached to this class at the end of that module.
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "label",
        "_op",
        "_parents",
        "_backward",
        "_saves",
        "_saved_at",
        "_counter",
        "__weakref__",
    )
    # numpy must not treat a Tensor as an array of objects: ``array * tensor`` then calls
    # ``Tensor.__rmul__`` and gives a Tensor, as ``tensor * array`` does.
    __array_ufunc__ = None

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, label: str = ""
    ) -> None:
        self.data = _as_float_array(data, dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op = ""  # the op that computed it ("" for a leaf)
        self._parents: tuple[Tensor, ...] = ()  # the tensors it was computed from, in order
        self._backward: Callable[..., tuple] | None = None  # the op's backward rule
        self._saves = NOTHING  # what the rule reads (see inplace.py)
        self._saved_at: int | None = None  # the Version.clock when the op was recorded
        self._counter: Version | None = None  # its buffer's changes in place, once any

    # ---------------------------------------------------------------- what it is

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def _version(self) -> int:
        """How many times the data was changed in place (PyTorch's name)."""
        return 0 if self._counter is None else self._counter.count

    @property
    def is_leaf(self) -> bool:
        """True for tensors made directly rather than computed by an op."""
        return not self._parents

    def numel(self) -> int:
        return self.data.size

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, but this one has shape "
                f"{self.shape}"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data array itself (not a copy); it carries no gradient."""
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        """The tensor's rows (``t[0]``, ``t[1]``, ...), each part of the graph."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ""
        if self.dtype != np.float64:
            extra += f", dtype={self.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"

    # Identity, not value, decides equality for hashing: tensors are graph nodes, kept in
    # sets and dicts by the backward pass.  ``==`` itself compares elementwise, as in numpy.
    __hash__ = object.__hash__

    # ---------------------------------------------------------------- the graph

    def detach(self) -> Tensor:
        """The same data, cut from the graph: gradients will not flow back through it.

        The data is shared, not copied (as in PyTorch): changing the detached tensor in
        place changes this one too, and counts as a change of this one's version.
        """
        return share_buffer(Tensor._constant(self.data), self)

    def topological_order(self) -> list[Tensor]:
        """Every node that requires grad, each after all of its inputs, ending with self.

        The same iterative depth-first search as ``Value.topological_order``; inputs that do
        not require grad are left out, since nothing flows into them.
        """
        order: list[Tensor] = []
        visited: set[Tensor] = set()
        stack: list[Tensor | None] = [self]
        while stack:
            node = stack.pop()
            if node is None:  # the marker under a node's inputs: they are all placed now
                order.append(stack.pop())
            elif node not in visited:
                visited.add(node)
                stack.append(node)  # back on the stack, under its inputs
                stack.append(None)
                for parent in reversed(node._parents):
                    if parent.requires_grad and parent not in visited:
                        stack.append(parent)
        return order

    def backward(self, grad: Any = None) -> None:
        """Add d(self)/d(node), times ``grad``, to the ``.grad`` of every node of the graph.

        For a one-element output ``grad`` defaults to 1.0.  For any other output there is no
        single derivative to start from: pass ``grad``, the gradient of some scalar with
        respect to this tensor (the "vector" in the vector-Jacobian product).

        Gradients accumulate across calls, as in PyTorch, until they are reset (for
        example with an optimizer's ``zero_grad()``).  The graph is kept, so backward can run
        again.  Each node's gradient is gathered in full before its rule runs, so a second
        pass never re-sends an earlier one.  The pass itself is ``backpropagate``, below.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: none of the tensors it "
                "was computed from has requires_grad=True (or it was computed under no_grad)"
            )
        backpropagate(self, initial_gradient(self, grad))

    @staticmethod
    def _constant(data: np.ndarray) -> Tensor:
        """A tensor around ``data`` as it is (no copy, no checks), outside any graph."""
        out = _new_tensor(Tensor)
        out.data = data
        out.grad = None
        out.requires_grad = False
        out.label = ""
        out._op = ""
        out._parents = ()
        out._backward = None
        out._saves = NOTHING
        out._saved_at = None
        out._counter = None
        return out

    # ---------------------------------------------------------------- comparisons
    # Comparisons give constant boolean tensors: masks, never differentiable.

    def __lt__(self, other: Any) -> Tensor:
        return Tensor._constant(self.data < data_of(other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor._constant(self.data <= data_of(other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._constant(self.data > data_of(other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._constant(self.data >= data_of(other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._constant(self.data == data_of(other))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._constant(self.data != data_of(other))

    def __pos__(self) -> Tensor:
        return self

    def argmax(self, axis: int | None = None) -> np.ndarray:
        """Indices of the largest entries (integers, so not differentiable): a numpy array."""
        return self.data.argmax(axis=axis)


_new_tensor = object.__new__


# ------------------------------------------------------------------ recording an op


def make_node(
    data: np.ndarray,
    op: str,
    parents: tuple[Tensor, ...],
    rule: Callable[..., tuple],
    tangent: Callable[..., Any] | str | None = None,
    saves: tuple[str, ...] = NOTHING,
) -> Tensor:
    """The result of an op: ``data``, plus its place in the graph when one is being recorded.

    ``op`` names the op (``"+"``, ``"exp"``), ``parents`` are its input tensors, in the order
    its rules take them, and ``rule`` is its backward rule, ``rule(g, out, *inputs)``.
    ``tangent`` is its forward-mode rule, ``tangent(dots, out, *inputs)`` (or
    ``SAME_AS_BACKWARD``), and ``saves`` says which values the backward rule reads
    (``INPUTS``, ``OUTPUT``, both or ``NOTHING``, from inplace.py), so that the backward
    pass can refuse values changed in place since.

    The graph is recorded only when grad mode is on and some input requires grad; otherwise
    the result is a plain constant, and nothing is kept for a backward pass.  Every op goes
    through here; the scalar engine's ``make_node`` is the same door for Values.
    """
    out = _new_tensor(Tensor)
    # numpy gives a scalar, not a 0-d array, for some results on 0-d inputs
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.label = ""
    out._op = op
    out._counter = None
    if ForwardMode.tangents is not None:
        _push_tangent(out, parents, rule, tangent)
    if GradMode.enabled:
        for parent in parents:
            if parent.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = rule
                out._saves = saves
                out._saved_at = Version.clock
                return out
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    out._saves = NOTHING
    out._saved_at = None
    return out


def _push_tangent(
    out: Tensor, parents: tuple[Tensor, ...], rule: Callable, tangent: Callable | str | None
) -> None:
    """Forward mode: the tangent of ``out`` from its parents' tangents, by the op's rule."""
    tangents = ForwardMode.tangents
    dots = [tangents.get(parent) for parent in parents]
    if all(dot is None for dot in dots):
        return  # nothing here depends on the inputs being differentiated
    if tangent is None:
        raise NotImplementedError(f"forward mode: {out._op!r} has no tangent rule")
    if tangent is SAME_AS_BACKWARD:
        tangent = _backward_as_tangent(rule)
    # A constant (a weight, say) moves with speed 0.  Real zeros, not a zero-stride view:
    # numpy's matrix product falls back from BLAS for such views, ten times slower.
    dots = [
        np.zeros(parent.shape, parent.dtype) if dot is None else dot
        for parent, dot in zip(parents, dots)
    ]
    tangents[out] = np.asarray(tangent(dots, out.data, *[p.data for p in parents]))


def _backward_as_tangent(rule: Callable[..., tuple]) -> Callable[..., Any]:
    def tangent(dots, out, *inputs):
        return rule(dots[0], out, *inputs)[0]

    return tangent


# ------------------------------------------------------------------ the backward pass


def backpropagate(
    root: Tensor,
    seed: Any,
    targets: Iterable[Tensor] | None = None,
    create_graph: bool = False,
) -> dict[Tensor, Any]:
    """The chain rule, from ``root`` back through its graph: the one backward pass.

    ``seed`` is root's own gradient.  The nodes are visited in reverse topological order,
    so when a node's turn comes, every node computed from it has sent its share back: its
    gradient, gathered in ``pending``, is complete.  Its rule then turns that gradient into
    one for each of its inputs, which are added to theirs.

    Without ``targets`` (what ``Tensor.backward()`` does), each node's gradient is added to
    its ``.grad``.  With ``targets`` (what ``minigrad.grad()`` does), only the nodes on a
    path down to a target are visited, no ``.grad`` changes, and the targets' gradients are
    returned, by target.  With ``create_graph`` (targets only), the rules run on Tensors
    instead of arrays, so this pass is itself recorded and its results can be
    differentiated again.

    Three checks keep the rules honest, a line or two each in the loop: values a rule reads
    must not have changed in place since its op ran (``inplace.check_saved_values``); a
    gradient must have its input's shape, and takes its input's dtype; and a gradient
    passed on unchanged (``a + b`` hands ``g`` to both inputs) while it is also the node's
    ``.grad`` is copied, so that no two nodes share one gradient array.
    """
    if create_graph and targets is None:
        raise ValueError("backpropagate: create_graph returns gradients, so it needs targets")
    order = root.topological_order()
    if targets is not None:
        targets = set(targets)
        order = _leading_to(order, targets)
    pending: dict[Tensor, Any] = {root: seed}
    found: dict[Tensor, Any] = {}
    now = Version.clock
    with enable_grad() if create_graph else no_grad():
        for node in reversed(order):
            g = pending.pop(node, None)
            if g is None:  # nothing reached it (requires_grad was set after the op ran)
                continue
            if targets is None:
                if node.grad is None and type(g) is np.ndarray and g.base is None:
                    node.grad = g  # the common case of _keep_gradient, without calling it
                else:
                    _keep_gradient(node, g)
            elif node in targets:
                found[node] = g  # and go on: another target may lie below this one
            if node._backward is None:  # a leaf: nothing to pass on
                continue
            if node._saved_at != now:  # something was changed in place since the op ran
                check_saved_values(node)
            rule, parents = node._backward, node._parents
            if create_graph:  # on the Tensors themselves: the rule is recorded
                grads = rule(g, node, *parents)
            elif len(parents) == 1:  # on arrays; the common cases without building a list
                grads = rule(g, node.data, parents[0].data)
            elif len(parents) == 2:
                grads = rule(g, node.data, parents[0].data, parents[1].data)
            else:
                grads = rule(g, node.data, *[parent.data for parent in parents])
            for parent, pg in zip(parents, grads):
                if pg is None or not parent.requires_grad:
                    continue
                data = parent.data
                if pg.shape != data.shape:
                    raise _wrong_shape(node, parent, pg)
                if pg.dtype != data.dtype:
                    pg = pg.astype(data.dtype)
                earlier = pending.get(parent)
                if earlier is not None:
                    pending[parent] = earlier + pg
                elif pg is node.grad:  # passed on unchanged: the input gets its own copy
                    pending[parent] = pg.copy()
                else:
                    pending[parent] = pg
    return found


def _leading_to(order: list[Tensor], targets: set[Tensor]) -> list[Tensor]:
    """The nodes of ``order`` with a path down to one of ``targets``, in the same order."""
    leads: set[Tensor] = set()
    for node in order:  # inputs before the nodes computed from them
        if node in targets or any(parent in leads for parent in node._parents):
            leads.add(node)
    return [node for node in order if node in leads]


def _keep_gradient(node: Tensor, g: np.ndarray) -> None:
    """Add ``g`` to ``node.grad``, making sure no two nodes end up sharing one array.

    A ``.grad`` must be the node's own, so that changing one in place cannot change
    another.  Rules may return the very array they were given (``a + b`` passes ``g`` on to
    both inputs): ``backpropagate`` copies those.  Rules may also return a view of some
    other array (``reshape`` does): copied here.
    """
    if node.grad is not None:
        node.grad = np.asarray(node.grad + g)
    elif type(g) is not np.ndarray:  # a numpy scalar, from a 0-d computation
        node.grad = np.array(g)
    elif g.base is not None:  # a view: its memory belongs to another array
        node.grad = g.copy()
    else:
        node.grad = g


def initial_gradient(out: Tensor, grad: Any, caller: str = "backward") -> np.ndarray:
    """The gradient a backward pass starts from: ``grad``, or 1 for a one-element output.
    ``caller`` names the function in errors: "backward" (``grad``) or "grad" (``grad_output``)."""
    argument = "grad" if caller == "backward" else "grad_output"
    if grad is None:
        if out.data.size != 1:
            raise RuntimeError(
                f"{caller}() without {argument} works only for a one-element output, but "
                f"this one has shape {out.shape}: reduce it to a scalar first (e.g. "
                f".sum() or .mean()), or pass {argument} with the output's shape"
            )
        return np.ones_like(out.data)
    seed = np.array(data_of(grad), dtype=out.dtype, copy=True)
    if seed.shape != out.shape:
        raise ValueError(
            f"{caller}(): {argument} has shape {seed.shape} but the output has shape {out.shape}"
        )
    return seed


def _wrong_shape(node: Tensor, parent: Tensor, g: Any) -> RuntimeError:
    return RuntimeError(
        f"the backward rule of {node._op!r} returned a gradient of shape {g.shape} for an "
        f"input of shape {parent.shape}: a gradient must have its input's shape (did it "
        f"forget to sum over broadcast axes?)"
    )


# ------------------------------------------------------------------ values


def data_of(x: Any) -> Any:
    """The value behind ``x``: a Tensor's array, or ``x`` itself (an array or a number).

    Rules use it for masks and other constants, which are plain arrays even when the rule
    runs on Tensors."""
    return x.data if isinstance(x, Tensor) else x


def _as_float_array(data: Any, dtype: Any) -> np.ndarray:
    """A fresh float32 or float64 array from ``data``, or a clear error."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be float32 or float64, not {dtype!r}") from None
        if dtype not in _FLOAT_DTYPES:
            raise TypeError(f"dtype must be float32 or float64, not {dtype}")
    try:
        array = np.asarray(data)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"cannot make a tensor from {_short(data)}: {error}") from None
    kind = array.dtype.kind
    if kind not in "biuf":
        what = {"c": "complex numbers", "O": "Python objects", "U": "strings", "S": "bytes"}
        raise TypeError(
            f"a Tensor holds real numbers, but {_short(data)} has "
            f"{what.get(kind, f'dtype {array.dtype}')}; convert it first"
        )
    if dtype is None:
        dtype = array.dtype if array.dtype in _FLOAT_DTYPES else np.dtype(np.float64)
    return np.array(array, dtype=dtype, copy=True)


def _short(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 60 else text[:57] + "..."
