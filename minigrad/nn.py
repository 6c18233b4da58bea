"""Neural networks built from scalar Values: a neuron, a layer of neurons, a stack of layers.

This is the network of lesson 05, small enough to read in one sitting.  Every weight is a
Value, so ``loss.backward()`` reaches each of them through the graph of the forward pass.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Sequence

from .engine import Value

__all__ = ["Module", "Neuron", "Layer", "MLP"]


class Module:
    """What every network part shares: a list of parameters and a way to zero their grads."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to 0.0.

        ``backward()`` *adds* to ``grad``, so without this each training step would follow
        the sum of all earlier gradients instead of the current one.
        """
        for p in self.parameters():
            p.grad = 0.0


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


class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` maps 2 inputs through two hidden
    layers of 16 ReLU neurons to 1 linear output.

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
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def _check_nonlin(nonlin: object) -> None:
    if nonlin not in ("relu", "tanh", None):
        raise ValueError(f"nonlin must be 'relu', 'tanh' or None, not {nonlin!r}")
