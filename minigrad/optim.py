"""Optimizers: how parameters move once backward() has filled in their gradients.

Each follows PyTorch's algorithm step for step (the same formulas in the same order), so a
minigrad training run and a PyTorch one started from the same weights stay together.
Updates change ``p.data`` in place and record no graph: an update is not part of any
computation to differentiate.  Each update counts as a change in place (the parameter's
version goes up), so a graph built before the step cannot be backpropagated through after
it: its saved weights are gone, and backward says so instead of using the new ones.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .inplace import bump_version
from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """What every optimizer shares: the parameters, ``zero_grad()``, and per-parameter state."""

    def __init__(self, params: Iterable[Tensor], lr: float):
        name = type(self).__name__
        if isinstance(params, Tensor):  # iterating would give its rows, not the tensor
            raise TypeError(f"{name} takes a list of parameters: write {name}([w], ...)")
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{name} got an empty list of parameters")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: parameter {i} is a {type(p).__name__}, not a Tensor (for a "
                    f"network of Values, update p.data by hand)"
                )
            if not p.requires_grad:
                raise ValueError(
                    f"{name}: parameter {i} (shape {p.shape}) does not require grad, so it "
                    f"would never receive a gradient to follow"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: parameter {i} (shape {p.shape}) was computed by an op; "
                    f"optimize the tensors it was computed from"
                )
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{name}: a parameter appears twice; it would be updated twice")
        _check_nonnegative("lr", lr)
        self.lr = lr

    def zero_grad(self) -> None:
        """Forget the gradients (set them to None) before the next backward()."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``, optionally with momentum.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2 regularisation).
    With ``momentum`` m, a running velocity ``v = m * v + (1 - dampening) * g`` (the first
    step takes ``v = g``) replaces the gradient: steps keep going the way they have been
    going, which smooths out noise and speeds along long shallow valleys.  ``nesterov``
    uses ``g + m * v`` instead: a look at where the velocity is about to take us.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        super().__init__(params, lr)
        _check_nonnegative("momentum", momentum)
        _check_nonnegative("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.weight_decay != 0:
                g = g + self.weight_decay * p.data
            if self.momentum != 0:
                v = self.velocity[i]
                if v is None:
                    v = self.velocity[i] = np.array(g, copy=True)
                else:
                    v *= self.momentum
                    v += (1 - self.dampening) * g
                g = g + self.momentum * v if self.nesterov else v
            p.data -= self.lr * g
            bump_version(p)


class Adam(Optimizer):
    """Adam: a step along a running mean of the gradients (m), scaled per element by the
    running root-mean-square of the gradients (sqrt(v)).

    Parameters with large, noisy gradients take careful steps and rarely-moved ones take
    bolder ones; every step has a size of about ``lr``.  Both averages start at 0, which
    biases them toward 0 early on; dividing by ``1 - beta**t`` (bias correction) undoes
    that.  ``weight_decay`` adds ``weight_decay * p`` to the gradient, as PyTorch's Adam
    does (not AdamW's decoupled decay).
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        beta1, beta2 = betas
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Adam: {name} must be in [0, 1), not {beta!r}")
        _check_nonnegative("eps", eps)
        _check_nonnegative("weight_decay", weight_decay)
        self.betas, self.eps, self.weight_decay = (beta1, beta2), eps, weight_decay
        # Each parameter counts its own steps: one that first gets a gradient late starts
        # its bias correction from 1, as in PyTorch.
        self.steps = [0] * len(self.params)
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        beta1, beta2 = self.betas
        for i, (p, m, v) in enumerate(zip(self.params, self.m, self.v)):
            if p.grad is None:
                continue
            self.steps[i] += 1
            t = self.steps[i]
            step_size = self.lr / (1 - beta1**t)
            root_correction = math.sqrt(1 - beta2**t)
            g = p.grad
            if self.weight_decay != 0:
                g = g + self.weight_decay * p.data
            # m = beta1 * m + (1 - beta1) * g, as PyTorch's lerp computes it: from the end
            # nearer to the result, so that betas[0] = 0 gives m = g exactly.
            weight = 1 - beta1
            if weight < 0.5:
                m += weight * (g - m)
            else:
                np.subtract(g, (g - m) * (1 - weight), out=m)
            v *= beta2
            v += (1 - beta2) * (g * g)
            denominator = np.sqrt(v) / root_correction + self.eps
            p.data -= step_size * (m / denominator)
            bump_version(p)


def _check_nonnegative(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, not {value!r}")
