"""Benchmark (e): micrograd's moons step on Tensors, beside the same step on Values.

The workload of ``bench_moons.py``: an MLP(2, [16, 16, 1]) with ReLU on 100 points of
make_moons, the max-margin loss ``mean(relu(1 - y * score))`` plus L2 regularisation
``1e-4 * sum(p * p)``, zero_grad, backward and one SGD update.  Run here

* on minigrad Tensors (``nn.MLP``, one matrix product per layer for the whole batch);
* on minigrad Values (``bench_moons.value_engine_step``, one graph node per scalar);
* by hand in numpy (``bench_moons.numpy_step``): the floor for this work in Python;
* in PyTorch on the CPU, when installed (float64, with as many threads as numpy's BLAS:
  1 unless ``--threads N``).

All start from the same weights (``bench_moons.initial_weights``, from minigrad's seeded
ValueMLP).  Before timing, every implementation's loss and gradients are checked against
the Values'.  Printed: the median step times, and how many times faster Tensors are than
Values (no target: this is the step from lesson 05 to lesson 06, measured).

Usage: python benchmarks/bench_tensor_moons.py [--threads N] [--rounds R]
"""

from __future__ import annotations

import gc

from timing import parse_thread_arguments

ARGS = parse_thread_arguments(__doc__.split("\n")[0], rounds=5)

import numpy as np  # noqa: E402
from bench_moons import (  # noqa: E402
    ALPHA,
    LR,
    SIZES,
    initial_weights,
    moons_data,
    numpy_step,
    value_engine_step,
)
from timing import load_torch, measure_interleaved, print_table  # noqa: E402

from minigrad import Tensor, Value  # noqa: E402
from minigrad.nn import MLP, ValueMLP  # noqa: E402
from minigrad.optim import SGD  # noqa: E402

# timed runs per round: a Values step takes hundreds of times as long as the others
PER_ROUND = {"minigrad Tensors": 40, "minigrad Values": 2, "numpy by hand": 40, "torch": 40}


def as_matrices(weights):
    """bench_moons' per-neuron (weights, bias) lists as one (W, b) pair of arrays per layer."""
    return [(np.array([w for w, _ in layer]), np.array([b for _, b in layer])) for layer in weights]


def flat_gradients(grads):
    """Per-layer (dW, db) as one flat list in the Values' order: each neuron's w, then b."""
    return [g for gW, gb in grads for gw, gbj in zip(gW, gb) for g in (*gw, gbj)]


# ---------------------------------------------------------------------- the implementations
# Each builder returns ``step`` (a training step, returning the loss) and ``gradients``
# (the loss and the flat list of gradients, without updating: for checking).


def tensor_step(X, Y, weights):
    model = MLP(SIZES[0], SIZES[1:])
    linears = model.layers[::2]
    for layer, (W, b) in zip(linears, as_matrices(weights)):
        layer.weight.data[...] = W
        layer.bias.data[...] = b
    params = model.parameters()
    optimizer = SGD(params, lr=LR)
    x = Tensor(X)
    y = Tensor(np.array(Y, dtype=np.float64).reshape(-1, 1))  # (100, 1), as the scores

    def loss():
        scores = model(x)
        data_loss = (1 - y * scores).relu().mean()
        return data_loss + ALPHA * sum((p * p).sum() for p in params)

    def step():
        total = loss()
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        return total.item()

    def gradients():
        total = loss()
        optimizer.zero_grad()
        total.backward()
        return total.item(), flat_gradients(
            [(layer.weight.grad, layer.bias.grad) for layer in linears]
        )

    return step, gradients


def torch_step(X, Y, weights):
    import torch

    layers = []
    for i, (W, b) in enumerate(as_matrices(weights)):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=LR)
    x = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(Y, dtype=torch.float64).reshape(-1, 1)

    def loss():
        data_loss = torch.relu(1 - y * model(x)).mean()
        return data_loss + ALPHA * sum((p * p).sum() for p in params)

    def step():
        optimizer.zero_grad(set_to_none=True)
        total = loss()
        total.backward()
        optimizer.step()
        return total.item()

    def gradients():
        optimizer.zero_grad(set_to_none=True)
        total = loss()
        total.backward()
        grads = [(lin.weight.grad.numpy(), lin.bias.grad.numpy()) for lin in layers[::2]]
        return total.item(), flat_gradients(grads)

    return step, gradients


def values_step(X, Y, weights):
    step, gradients, _ = value_engine_step(Value, ValueMLP, X, Y, weights)
    return step, gradients


# ---------------------------------------------------------------------- checking and timing


def check_same_work(name, gradients, reference):
    total, grads = gradients()
    ref_total, ref_grads = reference
    assert abs(total - ref_total) <= 1e-9 * abs(ref_total), f"{name}: loss {total} != {ref_total}"
    assert len(grads) == len(ref_grads), f"{name}: {len(grads)} gradients, not {len(ref_grads)}"
    grads, ref_grads = np.array(grads, dtype=np.float64), np.array(ref_grads)
    worst = np.abs(grads - ref_grads).max() / np.abs(ref_grads).max()
    assert worst < 1e-9, f"{name}: gradients differ from the Values' (relative {worst:.2g})"


def main() -> None:
    X, Y = moons_data()
    weights = initial_weights()
    builders = {
        "minigrad Tensors": tensor_step,
        "minigrad Values": values_step,
        "numpy by hand": numpy_step,
    }
    torch, torch_note = load_torch(ARGS.threads, "row")
    if torch is not None:
        builders["torch"] = torch_step

    _, value_gradients = values_step(X, Y, weights)
    reference = value_gradients()
    steps = {}
    for name, build in builders.items():
        step, gradients = build(X, Y, weights)
        check_same_work(name, gradients, reference)
        steps[name] = step

    # Every object alive now (PyTorch alone brings some 150,000) moves out of the cycle
    # collector's sight: otherwise each full collection during the timings walks them all,
    # which costs a step of Values up to a large fraction of a second whenever one comes.
    gc.freeze()
    timings = measure_interleaved(steps, ARGS.rounds, per_round=PER_ROUND)
    print(f"threads: {ARGS.threads} (numpy {np.__version__} BLAS and PyTorch); {torch_note}\n")
    print_table(
        "moons training step: MLP(2, [16, 16, 1]) on 100 points, float64, from the same "
        "weights (same loss and gradients checked in every row; x minigrad: times the "
        "Tensors' median)",
        list(timings.values()),
        reference="minigrad Tensors",
    )
    speedup = timings["minigrad Values"].median / timings["minigrad Tensors"].median
    print(f"\nminigrad Tensors are {speedup:.1f}x faster than minigrad Values per step")
    if "torch" in timings:
        ratio = timings["minigrad Tensors"].median / timings["torch"].median
        print(f"minigrad Tensors take {ratio:.2f}x PyTorch's time per step")


if __name__ == "__main__":
    main()
