"""Benchmark (c): one training step of an MLP 784-256-128-10 on Tensors, in float32.

Linear, ReLU, Linear, ReLU, Linear, then softmax cross-entropy against integer targets, then
backward and one plain SGD update: at batch sizes 1, 32 and 256.  Three implementations from
the same initial weights and the same data:

* minigrad: ``nn.MLP(784, [256, 128, 10], dtype="float32")``, ``functional.cross_entropy``,
  ``optim.SGD`` with ``zero_grad()``;
* the same forward and backward written out by hand in numpy (``x @ W.T + b``, relu masks,
  a stable log-softmax, softmax minus one-hot over N, ``g.T @ x`` for the weights, in-place
  updates, float32 throughout): the floor for this work in numpy.  The weight gradients are
  written ``np.dot(g.T, x)``: at batch 1, ``g.T @ x`` (a product over an axis of length 1)
  misses numpy's BLAS path and takes several times as long;
* PyTorch on the CPU, when installed (``nn.functional.cross_entropy``,
  ``optim.SGD``, ``zero_grad(set_to_none=True)``).

Before timing, one step of each is checked to give the same loss and the same updated
weights (to float32 precision).  numpy's BLAS and PyTorch get the same number of threads:
1 unless ``--threads N`` says otherwise (set in the environment before numpy is imported).

Targets: minigrad within 1.25x of hand-written numpy at batch 32 and 256 (1.5x at batch 1),
and faster than PyTorch at batch 32 and 256.

Usage: python benchmarks/bench_tensor_mlp.py [--threads N] [--rounds R]
"""

from __future__ import annotations

import gc

from timing import parse_thread_arguments

ARGS = parse_thread_arguments(__doc__.split("\n")[0], rounds=10)

import numpy as np  # noqa: E402
from timing import format_seconds, load_torch, measure_interleaved  # noqa: E402

from minigrad import Tensor  # noqa: E402
from minigrad.functional import cross_entropy  # noqa: E402
from minigrad.nn import MLP  # noqa: E402
from minigrad.optim import SGD  # noqa: E402

SIZES = [784, 256, 128, 10]
BATCHES = [1, 32, 256]
LR = 0.1
SEED = 0
# timed runs per round, per batch size: about the same total time for each batch size
PER_ROUND = {1: 40, 32: 16, 256: 4}


def initial_weights() -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, bias) per layer, float32, from minigrad's seeded MLP."""
    model = MLP(SIZES[0], SIZES[1:], seed=SEED, dtype="float32")
    return [(layer.weight.data.copy(), layer.bias.data.copy()) for layer in model.layers[::2]]


def make_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((max(BATCHES), SIZES[0])).astype(np.float32)
    T = rng.integers(0, SIZES[-1], max(BATCHES))
    return np.ascontiguousarray(X[:n]), T[:n].copy()


# ---------------------------------------------------------------------- the implementations
# Each builder returns ``step`` (one training step, returning the loss as a float) and
# ``current`` (giving the current (weight, bias) arrays of each layer, for checking).


def minigrad_step(weights, X, T):
    model = MLP(SIZES[0], SIZES[1:], dtype="float32")
    for layer, (W, b) in zip(model.layers[::2], weights):
        layer.weight.data[...] = W
        layer.bias.data[...] = b
    optimizer = SGD(model.parameters(), lr=LR)
    x = Tensor(X)

    def step():
        loss = cross_entropy(model(x), T)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    def current():
        return [(layer.weight.data, layer.bias.data) for layer in model.layers[::2]]

    return step, current


def numpy_step(weights, X, T):
    (W1, b1), (W2, b2), (W3, b3) = [(W.copy(), b.copy()) for W, b in weights]
    n = len(X)
    rows = np.arange(n)

    def step():
        # forward
        h1 = X @ W1.T
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ W2.T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ W3.T
        z += b3
        z -= z.max(axis=1, keepdims=True)  # stable: every exponent <= 0
        e = np.exp(z)
        total = e.sum(axis=1, keepdims=True)
        loss = float(np.log(total).mean() - z[rows, T].mean())  # mean of -log_softmax
        # backward: softmax minus one-hot, over N
        g = e
        g /= total
        g[rows, T] -= 1.0
        g *= 1.0 / n
        # np.dot, not @: for one example (a product over an axis of length 1) numpy's matmul
        # skips BLAS and takes several times longer; np.dot calls BLAS either way
        gW3 = np.dot(g.T, h2)
        gb3 = g.sum(axis=0)
        g = g @ W3
        g *= h2 > 0
        gW2 = np.dot(g.T, h1)
        gb2 = g.sum(axis=0)
        g = g @ W2
        g *= h1 > 0
        gW1 = np.dot(g.T, X)
        gb1 = g.sum(axis=0)
        # update, in place
        for p, gp in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2), (W3, gW3), (b3, gb3)):
            gp *= LR
            p -= gp
        return loss

    def current():
        return [(W1, b1), (W2, b2), (W3, b3)]

    return step, current


def torch_step(weights, X, T):
    import torch
    from torch.nn.functional import cross_entropy as torch_cross_entropy

    layers = []
    for i, (W, b) in enumerate(weights):
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    x = torch.from_numpy(X.copy())
    t = torch.from_numpy(T.copy())

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch_cross_entropy(model(x), t)
        loss.backward()
        optimizer.step()
        return loss.item()

    def current():
        return [
            (layer.weight.detach().numpy(), layer.bias.detach().numpy()) for layer in layers[::2]
        ]

    return step, current


# ---------------------------------------------------------------------- checking and timing


def check_same_step(name, loss, new, ref_loss, ref_new, start):
    """Same loss, and the same update of every weight, to float32 precision."""
    assert abs(loss - ref_loss) <= 1e-5 * abs(ref_loss), f"{name}: loss {loss} != {ref_loss}"
    for k, ((W, b), (rW, rb), (W0, b0)) in enumerate(zip(new, ref_new, start)):
        for what, p, r, p0 in (("weight", W, rW, W0), ("bias", b, rb, b0)):
            assert p.dtype == np.float32, f"{name}: layer {k} {what} is {p.dtype}"
            change = np.abs(r - p0).max()
            worst = np.abs(p - r).max()
            # float32 updates differ in the last bits (sums in other orders); relative to the
            # size of the update, so that a wrong gradient cannot hide behind small steps
            assert worst <= 2e-3 * change + 1e-7, (
                f"{name}: layer {k} {what} updated differently from numpy "
                f"(off by {worst:.2g}, update up to {change:.2g})"
            )


def main() -> None:
    weights = initial_weights()
    builders = {"minigrad": minigrad_step, "numpy": numpy_step}
    torch, torch_note = load_torch(ARGS.threads, "column")
    if torch is not None:
        builders["torch"] = torch_step
    print(
        f"MLP {'-'.join(map(str, SIZES))}, ReLU, softmax cross-entropy, one SGD step "
        f"(forward, backward, update), float32; threads: {ARGS.threads} "
        f"(numpy {np.__version__} BLAS and PyTorch); {torch_note}"
    )
    print("same loss and same updated weights checked for every implementation, every batch")
    header = f"  {'batch':>5}  {'minigrad':>11}  {'numpy':>11}"
    if "torch" in builders:
        header += f"  {'torch':>11}"
    header += f"  {'mg/numpy':>9}"
    if "torch" in builders:
        header += f"  {'mg/torch':>9}"
    print(header + "   runs")

    ratios = {}
    for n in BATCHES:
        X, T = make_data(n)
        steps = {}
        results = {}
        for name, build in builders.items():
            step, current = build(weights, X, T)
            loss = step()
            results[name] = loss, [(W.copy(), b.copy()) for W, b in current()]
            steps[name] = step
        ref_loss, ref_new = results["numpy"]
        for name, (loss, new) in results.items():
            check_same_step(name, loss, new, ref_loss, ref_new, weights)

        # Every object alive now (PyTorch alone brings some 150,000) moves out of the cycle
        # collector's sight: a full collection in a timed run then stays short.
        gc.freeze()
        timings = measure_interleaved(steps, ARGS.rounds, per_round=PER_ROUND[n])
        med = {name: t.median for name, t in timings.items()}
        ratios[n] = {"numpy": med["minigrad"] / med["numpy"]}
        cells = [f"{n:>5}", *(f"{format_seconds(med[name]):>11}" for name in builders)]
        cells.append(f"{ratios[n]['numpy']:>9.2f}")
        if "torch" in builders:
            ratios[n]["torch"] = med["minigrad"] / med["torch"]
            cells.append(f"{ratios[n]['torch']:>9.2f}")
        cells.append(f"{len(timings['minigrad'].seconds):>5}")
        print("  " + "  ".join(cells), flush=True)

    print(
        "\n(mg/x: minigrad's median time over x's, below 1 when minigrad is faster; runs: "
        "timed runs of each, taking turns)"
    )
    for n in BATCHES:
        limit = 1.5 if n == 1 else 1.25
        ratio = ratios[n]["numpy"]
        verdict = "meets" if ratio <= limit else "MISSES"
        print(
            f"batch {n:>3}: minigrad takes {ratio:.2f}x hand-written numpy's time "
            f"({verdict} the {limit}x target)"
        )
    if "torch" in builders:
        for n in BATCHES[1:]:
            ratio = ratios[n]["torch"]
            verdict = "meets" if ratio < 1.0 else "MISSES"
            print(
                f"batch {n:>3}: minigrad takes {ratio:.2f}x PyTorch's time "
                f"({verdict} the target: faster than PyTorch)"
            )


if __name__ == "__main__":
    main()
