"""Neural networks: modules that hold parameters and compute with them.

Two families share one ``Module`` base:

* Networks of scalar Values (lesson 05): ``Neuron``, ``Layer`` and ``ValueMLP``, small
  enough to read in one sitting.  Every weight is a Value, so ``loss.backward()`` reaches
  each of them through the graph of the forward pass.
* Networks of Tensors (lessons 06-08), shaped like PyTorch's: ``Linear``, ``ReLU``,
  ``Tanh``, ``Sigmoid``, ``Sequential`` and ``MLP``.  A layer is one matrix product instead
  of a neuron per output, which is what makes them fast.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import functional, ops
from .engine import Value
from .tensor import Tensor

__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "ValueMLP",
    "Linear",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Sequential",
    "MLP",
]


class Module:
    """What every network part shares: finding its parameters, and zeroing their grads.

    Parameters are found by looking through the module's attributes: a Value, a Tensor
    that requires grad, another Module, or a list, tuple or dict of those.  So a subclass
    only assigns its weights and sub-modules in ``__init__`` and writes ``forward``.
    """

    training = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def named_parameters(self) -> Iterator[tuple[str, Value | Tensor]]:
        """``(name, parameter)`` pairs, like ``("layers.0.weight", tensor)``, each
        parameter once even if it is shared."""
        seen: set[int] = set()
        for name, p in _find_parameters(vars(self), "", {id(self)}):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self) -> list[Value | Tensor]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Reset every parameter's gradient (Values to 0.0, Tensors to None).

        ``backward()`` *adds* to ``grad``, so without this each training step would follow
        the sum of all earlier gradients instead of the current one.
        """
        for p in self.parameters():
            p.grad = 0.0 if isinstance(p, Value) else None

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, each once."""
        seen: set[int] = set()
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield module
            inner = [v for _, v in _walk(vars(module), "") if isinstance(v, Module)]
            stack.extend(reversed(inner))

    def train(self, mode: bool = True) -> Module:
        """Put every sub-module in training mode (or evaluation mode, ``mode=False``)."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)


def _walk(value: Any, name: str) -> Iterator[tuple[str, Any]]:
    """The items inside attribute dicts, lists, tuples and dicts, with dotted names."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        yield name, value
        return
    for key, item in items:
        if isinstance(key, str) and key.startswith("_"):
            continue
        yield from _walk(item, f"{name}.{key}" if name else str(key))


def _find_parameters(attributes: dict, prefix: str, visited: set[int]) -> Iterator[tuple[str, Any]]:
    """Parameters under ``attributes``; ``visited`` holds the modules already searched, so
    a module reachable twice (or a child that refers back to its parent) is searched once."""
    for name, value in _walk(attributes, prefix):
        if isinstance(value, Value) or (isinstance(value, Tensor) and value.requires_grad):
            yield name, value
        elif isinstance(value, Module) and id(value) not in visited:
            visited.add(id(value))
            yield from _find_parameters(vars(value), name, visited)


class Neuron(Module):
    """``act(w . x + b)``: a weighted sum of the inputs plus a bias, through a nonlinearity.

    ``nonlin`` is ``"relu"``, ``"tanh"`` or ``None`` for a linear neuron (the output layer).
    Weights start uniform in [-1, 1] and the bias at 0, drawn from ``rng`` so that a seed
    gives the same network every time.
    """

    def __init__(self, nin: int, nonlin: str | None = "relu", rng: random.Random | None = None):
        _check_nonlin(nonlin)
        rng = rng if rng is not None else random.Random()
        self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, but got {len(x)}")
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        if self.nonlin == "relu":
            return act.relu()
        if self.nonlin == "tanh":
            return act.tanh()
        return act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        kind = self.nonlin.capitalize() if self.nonlin else "Linear"
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons that all read the same inputs."""

    def __init__(
        self, nin: int, nout: int, nonlin: str | None = "relu", rng: random.Random | None = None
    ):
        rng = rng if rng is not None else random.Random()
        self.neurons = [Neuron(nin, nonlin, rng) for _ in range(nout)]

    def __call__(self, x: Value | float | Sequence[Value | float]) -> Value | list[Value]:
        if isinstance(x, Value | numbers.Real):  # the single output of a one-neuron layer
            x = [x]
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class ValueMLP(Module):
    """A multi-layer perceptron of Values: ``ValueMLP(2, [16, 16, 1])`` maps 2 inputs
    through two hidden layers of 16 ReLU neurons to 1 linear output.

    ``seed`` fixes the initial weights (the same seed, the same network); ``nonlin`` is the
    hidden layers' nonlinearity.  The last layer is linear, so the output can be any number.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        nonlin: str = "relu",
        seed: int | None = None,
    ):
        _check_nonlin(nonlin)
        if isinstance(nouts, numbers.Integral) or len(nouts) == 0:
            raise ValueError(f"nouts is the list of layer sizes, e.g. [16, 16, 1], not {nouts!r}")
        rng = random.Random(seed)
        sizes = [nin, *nouts]
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
                raise ValueError(f"layer sizes must be positive integers, but got {sizes}")
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], nonlin if i < last else None, rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"ValueMLP of [{', '.join(str(layer) for layer in self.layers)}]"


def _check_nonlin(nonlin: object) -> None:
    if nonlin not in ("relu", "tanh", None):
        raise ValueError(f"nonlin must be 'relu', 'tanh' or None, not {nonlin!r}")


# ------------------------------------------------------------------ modules of Tensors


class Linear(Module):
    """``y = x @ weight.T + bias``: every output a weighted sum of every input.

    ``weight`` has PyTorch's layout, (out_features, in_features), and starts uniform in
    +-1/sqrt(in_features), as PyTorch's does: the outputs then start at about the inputs'
    scale, whatever the layer's width.  ``seed`` (or an ``rng``) fixes the initial weights.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: Any = None,
    ):
        for size in (in_features, out_features):
            if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
                raise ValueError(
                    f"Linear({in_features!r}, {out_features!r}): sizes must be positive integers"
                )
        rng = rng if rng is not None else np.random.default_rng(seed)
        bound = 1.0 / math.sqrt(in_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Tensor(
            rng.uniform(-bound, bound, (out_features, in_features)),
            requires_grad=True,
            dtype=dtype,
            label="weight",  # shown by the graph views
        )
        self.bias = (
            Tensor(
                rng.uniform(-bound, bound, out_features),
                requires_grad=True,
                dtype=dtype,
                label="bias",
            )
            if bias
            else None
        )

    def forward(self, x: Any) -> Tensor:
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        if len(shape) == 0 or shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} takes inputs whose last axis has {self.in_features} features, "
                f"but got shape {shape}"
            )
        return functional.linear(x, self.weight, self.bias)

    def __repr__(self) -> str:
        extra = "" if self.bias is not None else ", bias=False"
        return f"Linear({self.in_features}, {self.out_features}{extra})"


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.relu(x)

    def __repr__(self) -> str:
        return "ReLU()"


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.tanh(x)

    def __repr__(self) -> str:
        return "Tanh()"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.sigmoid(x)

    def __repr__(self) -> str:
        return "Sigmoid()"


class Sequential(Module):
    """Modules applied one after another: the output of each is the input of the next."""

    def __init__(self, *layers: Module):
        for layer in layers:
            if not callable(layer):
                raise TypeError(f"Sequential takes modules, not {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int | slice) -> Module:
        return Sequential(*self.layers[i]) if isinstance(i, slice) else self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"{type(self).__name__}({inner}\n)"


_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class MLP(Sequential):
    """A multi-layer perceptron of Tensors: ``MLP(2, [16, 16, 1])`` is Linear(2, 16), ReLU,
    Linear(16, 16), ReLU, Linear(16, 1) — the same shape of network as ``ValueMLP``, one
    matrix product per layer.

    ``nonlin`` ("relu", "tanh" or "sigmoid") follows each hidden layer; the last layer is
    linear (its outputs are logits or regression values).  ``seed`` fixes the weights.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        nonlin: str = "relu",
        seed: int | None = None,
        dtype: Any = None,
    ):
        if nonlin not in _ACTIVATIONS:
            raise ValueError(f"nonlin must be one of {sorted(_ACTIVATIONS)}, not {nonlin!r}")
        if isinstance(nouts, numbers.Integral) or len(nouts) == 0:
            raise ValueError(f"nouts is the list of layer sizes, e.g. [16, 16, 1], not {nouts!r}")
        rng = np.random.default_rng(seed)
        sizes = [nin, *nouts]
        layers: list[Module] = []
        for i in range(len(nouts)):
            layers.append(Linear(sizes[i], sizes[i + 1], rng=rng, dtype=dtype))
            if i < len(nouts) - 1:
                layers.append(_ACTIVATIONS[nonlin]())
        super().__init__(*layers)
