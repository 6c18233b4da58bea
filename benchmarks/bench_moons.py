"""Benchmark (a): micrograd's moons demo, one training step.

An ValueMLP(2, [16, 16, 1]) of scalar Values on 100 points of make_moons: the forward pass, the
max-margin loss plus L2 regularisation, zero_grad, backward, and one SGD update.  The same
step runs in minigrad, in micrograd (when installed: `pip install micrograd`), and by hand in
plain Python floats and in numpy, all from the same initial weights.  Before timing, the
script checks that every implementation computes the same loss and the same gradients, so
the timings compare the same work.

Data are Python floats for every implementation (micrograd's notebook passes numpy scalars,
which makes both engines slower through numpy's operator dispatch).

Target (issue 2): minigrad at least 10x faster than micrograd (stretch 20x).
"""

from __future__ import annotations

import gc
import math
import sys

import numpy as np
from timing import measure, print_table

from minigrad import Value
from minigrad.datasets import make_moons
from minigrad.nn import ValueMLP

SIZES = [2, 16, 16, 1]
ALPHA = 1e-4  # L2 strength
LR = 0.05


def moons_data():
    X, y = make_moons(100, noise=0.1, seed=0)
    return X.tolist(), (2 * y - 1).tolist()  # labels -1 / +1 for the max-margin loss


def initial_weights(seed: int = 1337):
    """Per layer: a list of (weights, bias) per neuron, from minigrad's seeded MLP."""
    model = ValueMLP(SIZES[0], SIZES[1:], seed=seed)
    return [[([w.data for w in n.w], n.b.data) for n in layer.neurons] for layer in model.layers]


# ---------------------------------------------------------------------- minigrad, micrograd


def value_engine_step(Value, ValueMLP, X, Y, weights):
    """One training step of a scalar engine (minigrad's or micrograd's: the same API),
    starting from ``weights``.  Returns ``step`` (loss, backward, SGD update),
    ``gradients`` (loss and every parameter's gradient, for checking) and ``loss`` (the
    forward pass alone)."""
    model = ValueMLP(SIZES[0], SIZES[1:])
    for layer, layer_w in zip(model.layers, weights):
        for neuron, (w, b) in zip(layer.neurons, layer_w):
            for wi, value in zip(neuron.w, w):
                wi.data = value
            neuron.b.data = b
    params = model.parameters()

    def loss():
        inputs = [[Value(x) for x in row] for row in X]
        scores = [model(row) for row in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + ALPHA * sum(p * p for p in params)

    def step():
        total = loss()
        model.zero_grad()
        total.backward()
        for p in params:
            p.data -= LR * p.grad
        return total.data

    def gradients():
        total = loss()
        model.zero_grad()
        total.backward()
        return total.data, [p.grad for p in params]

    return step, gradients, loss


def minigrad_step(X, Y, weights):
    step, gradients, _ = value_engine_step(Value, ValueMLP, X, Y, weights)
    return step, gradients


def micrograd_step(X, Y, weights):
    from micrograd.engine import Value as MicrogradValue
    from micrograd.nn import MLP as MicrogradMLP  # noqa: N811

    step, gradients, _ = value_engine_step(MicrogradValue, MicrogradMLP, X, Y, weights)
    return step, gradients


# ---------------------------------------------------------------------- by hand: floats


def python_step(X, Y, weights):
    """The same forward and backward written out in plain Python floats: no graph at all."""
    W = [[list(w) for w, _ in layer] for layer in weights]  # W[l][j][i]
    B = [[b for _, b in layer] for layer in weights]
    n_layers = len(W)

    def gradients():
        gW = [[[0.0] * len(row) for row in layer] for layer in W]
        gB = [[0.0] * len(layer) for layer in B]
        total = 0.0
        inv_n = 1.0 / len(X)
        for row, yi in zip(X, Y):
            acts = [row]
            for layer in range(n_layers):
                a = acts[-1]
                out = []
                for w, b in zip(W[layer], B[layer]):
                    s = b
                    for wi, ai in zip(w, a):
                        s += wi * ai
                    out.append(s if layer == n_layers - 1 or s > 0.0 else 0.0)
                acts.append(out)
            score = acts[-1][0]
            margin = 1.0 - yi * score
            if margin <= 0.0:
                continue
            total += margin * inv_n
            grad = [-yi * inv_n]
            for layer in range(n_layers - 1, -1, -1):
                a = acts[layer]
                grad_in = [0.0] * len(a)
                for j, (w, g) in enumerate(zip(W[layer], grad)):
                    if layer < n_layers - 1 and acts[layer + 1][j] <= 0.0:
                        continue  # relu passed nothing back
                    gB[layer][j] += g
                    gw = gW[layer][j]
                    for i, ai in enumerate(a):
                        gw[i] += g * ai
                        grad_in[i] += g * w[i]
                grad = grad_in
        reg = 0.0
        for layer in range(n_layers):
            for j, w in enumerate(W[layer]):
                for i, wi in enumerate(w):
                    reg += wi * wi
                    gW[layer][j][i] += 2.0 * ALPHA * wi
                reg += B[layer][j] ** 2
                gB[layer][j] += 2.0 * ALPHA * B[layer][j]
        return total + ALPHA * reg, gW, gB

    def flat(gW, gB):
        return [g for lw, lb in zip(gW, gB) for gw, gb in zip(lw, lb) for g in (*gw, gb)]

    def step():
        total, gW, gB = gradients()
        for layer in range(n_layers):
            for j, w in enumerate(W[layer]):
                for i in range(len(w)):
                    w[i] -= LR * gW[layer][j][i]
                B[layer][j] -= LR * gB[layer][j]
        return total

    def grads():
        total, gW, gB = gradients()
        return total, flat(gW, gB)

    return step, grads


# ---------------------------------------------------------------------- by hand: numpy


def numpy_step(X, Y, weights):
    """The same step as whole-batch matrix operations: the floor for this work in Python."""
    Xa, Ya = np.array(X), np.array(Y, dtype=np.float64)
    Ws = [np.array([w for w, _ in layer]) for layer in weights]  # (out, in)
    Bs = [np.array([b for _, b in layer]) for layer in weights]
    n = len(Xa)

    def gradients():
        acts = [Xa]
        for k, (W, b) in enumerate(zip(Ws, Bs)):
            z = acts[-1] @ W.T + b
            acts.append(z if k == len(Ws) - 1 else np.maximum(z, 0.0))
        margin = 1.0 - Ya * acts[-1][:, 0]
        active = margin > 0.0
        reg = sum(float((W * W).sum() + (b * b).sum()) for W, b in zip(Ws, Bs))
        total = float(margin[active].sum()) / n + ALPHA * reg
        grad = np.where(active, -Ya / n, 0.0)[:, None]
        gWs, gBs = [None] * len(Ws), [None] * len(Ws)
        for k in range(len(Ws) - 1, -1, -1):
            if k < len(Ws) - 1:
                grad = grad * (acts[k + 1] > 0.0)
            gWs[k] = grad.T @ acts[k] + 2.0 * ALPHA * Ws[k]
            gBs[k] = grad.sum(axis=0) + 2.0 * ALPHA * Bs[k]
            grad = grad @ Ws[k]
        return total, gWs, gBs

    def step():
        total, gWs, gBs = gradients()
        for W, b, gW, gB in zip(Ws, Bs, gWs, gBs):
            W -= LR * gW
            b -= LR * gB
        return total

    def grads():
        total, gWs, gBs = gradients()
        return total, [g for gW, gB in zip(gWs, gBs) for gw, gb in zip(gW, gB) for g in (*gw, gb)]

    return step, grads


# ---------------------------------------------------------------------- main


def check_same_work(name, grads, reference):
    total, g = grads()
    ref_total, ref_g = reference
    assert math.isclose(total, ref_total, rel_tol=1e-9), f"{name}: loss {total} != {ref_total}"
    assert len(g) == len(ref_g), f"{name}: {len(g)} gradients, expected {len(ref_g)}"
    worst = max(abs(a - b) / max(1e-12, abs(b)) for a, b in zip(g, ref_g))
    assert worst < 1e-7, f"{name}: gradients differ from minigrad's (relative {worst:.2g})"


def main() -> None:
    X, Y = moons_data()
    weights = initial_weights()
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 9

    step, grads = minigrad_step(X, Y, weights)
    reference = grads()
    timings = [measure("minigrad", step, repeats)]
    contenders = [("hand-written Python floats", python_step), ("hand-written numpy", numpy_step)]
    try:
        import micrograd  # noqa: F401

        contenders.insert(0, ("micrograd", micrograd_step))
    except ImportError:
        print("micrograd is not installed (pip install micrograd): its rows are skipped\n")

    for name, make in contenders:
        other_step, other_grads = make(X, Y, weights)
        check_same_work(name, other_grads, reference)
        runs = max(3, repeats // 2) if name == "micrograd" else repeats * 3
        timings.append(measure(name, other_step, runs))
        if name == "micrograd":
            gc.disable()
            try:
                timings.append(
                    measure(
                        "micrograd, cycle collector paused",
                        other_step,
                        runs,
                        note="not how it runs by default",
                    )
                )
            finally:
                gc.enable()

    _, _, loss = value_engine_step(Value, ValueMLP, X, Y, weights)
    n_nodes = len(loss().topological_order())

    print_table(
        f"moons training step: ValueMLP(2, [16, 16, 1]) on 100 points, {n_nodes} graph nodes "
        "(same loss and gradients checked in every row)",
        timings,
    )
    micro = next((t for t in timings if t.name == "micrograd"), None)
    if micro is not None:
        speedup = micro.median / timings[0].median
        verdict = "meets" if speedup >= 10 else "MISSES"
        print(
            f"\nminigrad is {speedup:.1f}x faster than micrograd per step "
            f"({verdict} the 10x target; stretch 20x)"
        )


if __name__ == "__main__":
    main()
