"""Functions of tensors that networks are trained with: softmax and the losses.

Each is written as one op with its own backward rule rather than as a chain of smaller ops.
The chain would give the same gradients, but the single rule is both faster and the thing
worth seeing: the gradient of cross-entropy with respect to the logits is simply
``softmax(logits) - one_hot(targets)``.

Like the ops in ``ops.py``, each has a tangent rule for forward mode, and its backward rule
runs on arrays, or on Tensors when the backward pass is recorded (``create_graph``).

Stability: ``exp`` overflows past about 709, so softmax-like functions never exponentiate
the logits themselves.  Subtracting the largest logit first changes nothing mathematically
(it cancels between numerator and denominator) and leaves every exponent <= 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .inplace import INPUTS, OUTPUT
from .ops import _exp_of, _sigmoid_of, _stable_sigmoid, _tensor
from .tensor import SAME_AS_BACKWARD, Tensor, make_node

__all__ = [
    "linear",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "mse_loss",
    "binary_cross_entropy_with_logits",
]

_REDUCTIONS = ("mean", "sum", "none")


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias``, the affine map of a Linear layer, as one op.

    ``weight`` has shape (out, in), ``bias`` (out,); ``x`` has shape (..., in).  Written
    out, with the leading axes of x flattened into one batch axis of N rows:

        out = x W^T + b       (N, out) = (N, in) (in, out) + (out,)
        dx  = g W             (N, in)  = (N, out) (out, in)
        dW  = g^T x           (out, in) = (out, N) (N, in)
        db  = sum of g over the N rows

    Each gradient is the one product whose shapes fit.  As a single op, no transposed copy
    of W is ever made, and dx is skipped when x needs no gradient (a network's input).
    """
    if not isinstance(x, Tensor):  # data for a float32 layer is float32 data
        x = Tensor(x, dtype=weight.dtype)
    if weight.ndim != 2 or (bias is not None and bias.shape != weight.shape[:1]):
        raise ValueError(
            f"linear: weight must have shape (out, in) and bias (out,), not {weight.shape} "
            f"and {None if bias is None else bias.shape}"
        )
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: inputs of shape {x.shape} do not fit a weight of shape {weight.shape}: "
            f"the inputs' last axis must have {weight.shape[1]} features"
        )
    # np.dot rather than @: for a single row, numpy's @ skips the fast BLAS routine
    data = np.dot(x.data, weight.data.T) if x.ndim <= 2 else x.data @ weight.data.T
    if bias is not None:
        data += bias.data
    need_x = x.requires_grad

    def backward(g, out, x, weight, *bias):
        rows = g.reshape(-1, weight.shape[0])
        gx = _dot(g, weight) if need_x else None
        gw = _dot(rows.T, x.reshape(-1, weight.shape[1]))
        return (gx, gw, rows.sum(axis=0)) if bias else (gx, gw)

    def tangent(dots, out, x, weight, *bias):
        moved = dots[0] @ weight.T + x @ dots[1].T
        return moved + dots[2] if bias else moved

    parents = (x, weight) if bias is None else (x, weight, bias)
    return make_node(data, "linear", parents, backward, tangent, INPUTS)


def _dot(a: Any, b: Any) -> Any:
    """``a @ b`` for a 2-D ``b``; numpy's dot, faster for a single row, on arrays."""
    return a @ b if isinstance(a, Tensor) else np.dot(a, b)


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    """log(softmax(z)) = z - logsumexp(z), with the log-sum-exp trick."""
    shifted = z - z.max(axis=axis, keepdims=True, initial=-np.inf)  # initial: empty axes
    with np.errstate(divide="ignore"):  # log(0): only an empty axis sums to 0
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``: positive and summing to 1.

    Backward: with s = softmax(x), ds_i/dx_j = s_i (delta_ij - s_j), so the gradient is
    ``s * (g - sum(g * s))`` — no Jacobian matrix needed.
    """
    x = _tensor(x)
    axis = _softmax_axis(axis, x, "softmax")
    e = np.exp(x.data - x.data.max(axis=axis, keepdims=True, initial=-np.inf))
    data = e / e.sum(axis=axis, keepdims=True)

    def backward(g, out, x):
        return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)

    # The Jacobian is symmetric, so J v and v J are the same formula.
    return make_node(data, "softmax", (x,), backward, SAME_AS_BACKWARD, OUTPUT)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log(softmax(x)) along ``axis``, computed as ``x - logsumexp(x)``: exact and finite
    even for logits of 1000, where softmax itself would round to 0 and its log to -inf.

    Backward: d/dx_j of (x_i - logsumexp(x)) is delta_ij - softmax_j, so the gradient is
    ``g - softmax(x) * sum(g)``, with softmax(x) = exp(output).
    """
    x = _tensor(x)
    axis = _softmax_axis(axis, x, "log_softmax")
    data = _log_softmax(x.data, axis)

    def backward(g, out, x):
        return (g - _exp_of(out) * g.sum(axis=axis, keepdims=True),)

    def tangent(dots, out, x):
        return dots[0] - (np.exp(out) * dots[0]).sum(axis=axis, keepdims=True)

    return make_node(data, "log_softmax", (x,), backward, tangent, OUTPUT)


def cross_entropy(logits: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """The negative log-probability of the right class, from unnormalised scores.

    ``logits`` has shape (N, C) (or (C,) for one example); ``targets`` holds N integer
    class indices in [0, C).  ``reduction``: "mean" over the batch (the default), "sum",
    or "none" for one loss per example.

    Backward: for each example, softmax(logits) - one_hot(target), times the incoming
    gradient (divided by N for the mean).  Raising the right class's logit lowers the loss;
    raising any other class's logit raises it in proportion to its probability.
    """
    logits = _tensor(logits)
    _check_reduction(reduction, "cross_entropy")
    if logits.ndim not in (1, 2):
        raise ValueError(
            f"cross_entropy: logits must have shape (N, C) or (C,), not {logits.shape}"
        )
    single = logits.ndim == 1
    z = logits.data.reshape(1, -1) if single else logits.data
    n, classes = z.shape
    t = _class_indices(targets, n, classes, single)

    logp = _log_softmax(z, axis=1)
    rows = np.arange(n)
    losses = -logp[rows, t]
    # (the sum divided by n is numpy's mean exactly, without mean's few microseconds of
    # Python around it, which count for a batch of one)
    data = (
        losses.sum() / n if reduction == "mean" else losses.sum() if reduction == "sum" else losses
    )
    if single and reduction == "none":
        data = data.reshape(())

    def softmax_minus_one_hot(logits):
        if isinstance(logits, Tensor):  # recording the backward pass: from the logits
            one_hot = np.zeros((n, classes), dtype=logits.dtype)
            one_hot[rows, t] = 1.0
            return softmax(logits.reshape(n, classes), axis=1) - one_hot
        grad = np.exp(logp)  # softmax, from the forward pass
        grad[rows, t] -= 1.0  # minus one-hot
        return grad

    def backward(g, out, logits):
        grad = softmax_minus_one_hot(logits)
        if reduction == "mean":
            grad = grad * (g / n)
        elif reduction == "sum":
            grad = grad * g
        else:
            grad = grad * g.reshape(n, 1)
        return (grad.reshape(logits.shape),)

    def tangent(dots, out, logits):
        moved = (softmax_minus_one_hot(logits) * dots[0].reshape(n, classes)).sum(axis=1)
        if reduction == "mean":
            return moved.mean()
        return moved.sum() if reduction == "sum" else moved.reshape(out.shape)

    return make_node(np.asarray(data), "cross_entropy", (logits,), backward, tangent, INPUTS)


def mse_loss(prediction: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error, ``((prediction - target) ** 2).mean()``.

    The shapes must match exactly.  (Broadcasting a (N, 1) prediction against (N,) targets
    would silently compare every prediction with every target: a classic bug.)
    """
    prediction = _tensor(prediction)
    target = _tensor(target, like=prediction)
    _check_reduction(reduction, "mse_loss")
    if prediction.shape != target.shape:
        raise ValueError(
            f"mse_loss: prediction has shape {prediction.shape} but target has shape "
            f"{target.shape}; they must match (reshape one of them)"
        )
    squared = (prediction - target) ** 2
    if reduction == "none":
        return squared
    return squared.mean() if reduction == "mean" else squared.sum()


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1].

    The loss is ``-y log(sigmoid(x)) - (1 - y) log(1 - sigmoid(x))``.  With
    ``-log(sigmoid(x)) = max(-x, 0) + log(1 + exp(-|x|))`` (and the same with x for
    ``1 - sigmoid(x) = sigmoid(-x)``) it is computed as
    ``y * max(-x, 0) + (1 - y) * max(x, 0) + log(1 + exp(-|x|))``, which never overflows
    and never takes the log of 0, however large |x| is.  A term whose weight (y or 1 - y)
    is 0 is 0, even for an infinite logit: a logit of inf costs nothing when y = 1 and
    inf when y < 1.  Backward: ``sigmoid(x) - y``.  The targets are constants (no gradient
    flows to them).
    """
    logits = _tensor(logits)
    y = np.asarray(targets.data if isinstance(targets, Tensor) else targets, dtype=logits.dtype)
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if y.shape != logits.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: logits have shape {logits.shape} but targets "
            f"have shape {y.shape}; they must match"
        )
    x = logits.data
    with np.errstate(invalid="ignore"):  # 0 * inf, at an infinite logit: replaced by 0
        losses = (
            np.where(y == 0, 0.0, y * np.maximum(-x, 0))
            + np.where(y == 1, 0.0, (1 - y) * np.maximum(x, 0))
            + np.log1p(np.exp(-np.abs(x)))
        )
    data = losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses
    count = x.size

    def backward(g, out, x):
        grad = _sigmoid_of(x) - y
        return (grad * (g / count) if reduction == "mean" else grad * g,)

    def tangent(dots, out, x):
        moved = (_stable_sigmoid(x) - y) * dots[0]
        return moved.mean() if reduction == "mean" else moved.sum() if reduction == "sum" else moved

    return make_node(np.asarray(data), "bce_with_logits", (logits,), backward, tangent, INPUTS)


# ------------------------------------------------------------------ checks


def _softmax_axis(axis: Any, x: Tensor, op: str) -> int | None:
    """``axis`` checked against x's shape.  A 0-d tensor takes axis 0 or -1, as in PyTorch
    and as minigrad's reductions do; numpy calls that axis None."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{op}: axis must be an int, not {axis!r}")
    if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for shape {x.shape}")
    return int(axis) if x.ndim else None


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, not {reduction!r}")


def _class_indices(targets: Any, n: int, classes: int, single: bool) -> np.ndarray:
    """``targets`` as an integer array of shape (n,), or an error saying what is wrong."""
    t = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if t.dtype.kind == "f":
        if not np.all(np.isfinite(t)) or not np.all(t == np.round(t)):
            raise TypeError(
                "cross_entropy: targets must be integer class indices (like 0, 1, 2), "
                "not probabilities or other fractions"
            )
        t = t.astype(np.int64)
    elif t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, not {t.dtype}")
    expected = () if single else (n,)
    if t.shape != expected:
        raise ValueError(
            f"cross_entropy: {n} example(s) need targets of shape {expected}, not {t.shape}"
        )
    t = t.reshape(n)
    bad = (t < 0) | (t >= classes)
    if bad.any():
        raise ValueError(
            f"cross_entropy: target {t[bad][0]} is not a class index: with {classes} classes "
            f"the targets must lie in 0 .. {classes - 1}"
        )
    return t
