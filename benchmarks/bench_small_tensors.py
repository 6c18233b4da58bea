"""Benchmark (d): many small ops, where per-op overhead is everything.

A chain of 200 elementwise ops on 4x4 float64 tensors (a fixed mix of + - * / with tensors
and with numbers, tanh, exp, relu and sigmoid), then a sum and backward, for the gradients
of the input and of the three tensors the chain mixes in.  With 16 elements per array the
arithmetic is nothing: what is measured is the cost of an op, forward and backward, in each
implementation:

* minigrad Tensors;
* the same chain by hand in numpy, forward keeping what backward needs, then a hand-written
  backward: the floor for doing this with numpy arrays from Python;
* PyTorch on the CPU, when installed (with the same thread count as numpy: 1 unless
  ``--threads N``; not that 16-element ops use threads).

The tanh and sigmoid in every 20 ops keep all values bounded (nothing overflows, exp never
sees more than 1).  Before timing, each implementation's gradients are checked against the
hand-written ones.

Target: minigrad's time per op at most 0.75x PyTorch's.

Usage: python benchmarks/bench_small_tensors.py [--threads N] [--rounds R]
"""

from __future__ import annotations

import gc

from timing import parse_thread_arguments

ARGS = parse_thread_arguments(__doc__.split("\n")[0], rounds=20)

import numpy as np  # noqa: E402
from timing import format_seconds, load_torch, measure_interleaved  # noqa: E402

from minigrad import Tensor  # noqa: E402

SHAPE = (4, 4)
LEAVES = ("x", "a", "b", "c")
# One cycle of 20 ops: (op, operand), the operand a leaf's name, a number, or None.
# "rsub" is number - y.  Ranges, from x in [-1, 1], a in [0.5, 1], b in [-0.5, 0.5],
# c in [1, 2]: tanh and sigmoid reset the range twice a cycle, exp gets (0, 1), and relu
# passes about half the elements in every cycle.  (So the gradient reaching x is zero in
# about half its elements, and tiny in the rest, after 20 tanh and sigmoid: gradients are
# compared relative to their own size.)
CYCLE = [
    ("add", "a"),
    ("mul", 0.9),
    ("tanh", None),
    ("sub", "b"),
    ("mul", "a"),
    ("sigmoid", None),
    ("div", "c"),
    ("exp", None),
    ("sub", 1.6),
    ("relu", None),
    ("add", 0.25),
    ("div", 2.0),
    ("mul", "c"),
    ("rsub", 1.0),
    ("tanh", None),
    ("add", "b"),
    ("sigmoid", None),
    ("mul", 3.0),
    ("sub", "a"),
    ("div", 1.5),
]
N_OPS = 200
CHAIN = CYCLE * (N_OPS // len(CYCLE))


def leaf_values() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x": rng.uniform(-1.0, 1.0, SHAPE),
        "a": rng.uniform(0.5, 1.0, SHAPE),
        "b": rng.uniform(-0.5, 0.5, SHAPE),
        "c": rng.uniform(1.0, 2.0, SHAPE),
    }


# ---------------------------------------------------------------------- the implementations
# Each builder returns a function that runs the chain, the sum and backward, and returns
# the gradients of the leaves, in LEAVES order.


def apply_chain(x, chain, tanh, sigmoid, exp, relu):
    """Run CHAIN from x: the binary ops as operators, the functions as given."""
    functions = {"tanh": tanh, "sigmoid": sigmoid, "exp": exp, "relu": relu}
    y = x
    for op, v in chain:
        if op == "add":
            y = y + v
        elif op == "sub":
            y = y - v
        elif op == "rsub":
            y = v - y
        elif op == "mul":
            y = y * v
        elif op == "div":
            y = y / v
        else:
            y = functions[op](y)
    return y


def minigrad_chain(values):
    leaves = {name: Tensor(v, requires_grad=True) for name, v in values.items()}
    chain = [(op, leaves[arg] if isinstance(arg, str) else arg) for op, arg in CHAIN]
    x = leaves["x"]

    def run():
        for t in leaves.values():
            t.grad = None
        y = apply_chain(x, chain, Tensor.tanh, Tensor.sigmoid, Tensor.exp, Tensor.relu)
        y.sum().backward()
        return [leaves[name].grad for name in LEAVES]

    return run


def torch_chain(values):
    import torch

    leaves = {name: torch.tensor(v, requires_grad=True) for name, v in values.items()}
    chain = [(op, leaves[arg] if isinstance(arg, str) else arg) for op, arg in CHAIN]
    x = leaves["x"]

    def run():
        for t in leaves.values():
            t.grad = None
        y = apply_chain(x, chain, torch.tanh, torch.sigmoid, torch.exp, torch.relu)
        y.sum().backward()
        return [leaves[name].grad.numpy() for name in LEAVES]

    return run


def numpy_chain(values):
    """Forward in numpy, keeping each op's input and output, then the chain rule by hand."""
    chain = [
        (op, values[arg] if isinstance(arg, str) else arg, arg if isinstance(arg, str) else None)
        for op, arg in CHAIN
    ]
    x = values["x"]

    def run():
        y = x
        kept = []  # (input, output) of each op
        for op, v, _ in chain:
            if op == "add":
                out = y + v
            elif op == "sub":
                out = y - v
            elif op == "rsub":
                out = v - y
            elif op == "mul":
                out = y * v
            elif op == "div":
                out = y / v
            elif op == "tanh":
                out = np.tanh(y)
            elif op == "sigmoid":
                out = 1.0 / (1.0 + np.exp(-y))
            elif op == "exp":
                out = np.exp(y)
            else:
                out = np.maximum(y, 0.0)
            kept.append((y, out))
            y = out
        # d(sum)/dy is all ones; then back through the chain
        grads = {name: np.zeros(SHAPE) for name in LEAVES}
        g = np.ones(SHAPE)
        for (op, v, name), (y_in, out) in zip(reversed(chain), reversed(kept)):
            if op == "add":
                if name:
                    grads[name] += g
            elif op == "sub":
                if name:
                    grads[name] -= g
            elif op == "rsub":
                g = -g
            elif op == "mul":
                if name:
                    grads[name] += g * y_in
                g = g * v
            elif op == "div":
                if name:
                    grads[name] -= g * out / v
                g = g / v
            elif op == "tanh":
                g = g * (1.0 - out * out)
            elif op == "sigmoid":
                g = g * (out * (1.0 - out))
            elif op == "exp":
                g = g * out
            else:
                g = g * (out > 0.0)
        grads["x"] += g
        return [grads[name] for name in LEAVES]

    return run


# ---------------------------------------------------------------------- checking and timing


def check_gradients(name, grads, reference):
    for leaf, g, ref in zip(LEAVES, grads, reference):
        g = np.asarray(g)
        assert g.shape == SHAPE and g.dtype == np.float64, f"{name}: d/d{leaf} is {g.dtype}"
        scale = np.abs(ref).max()
        assert scale > 0, f"d/d{leaf} is all zeros: the chain checks nothing"
        worst = np.abs(g - ref).max() / scale
        assert worst < 1e-10, f"{name}: d/d{leaf} differs from numpy's (relative {worst:.2g})"


def main() -> None:
    values = leaf_values()
    runs = {"minigrad": minigrad_chain(values), "numpy by hand": numpy_chain(values)}
    torch, torch_note = load_torch(ARGS.threads, "row")
    if torch is not None:
        runs["torch"] = torch_chain(values)

    reference = runs["numpy by hand"]()
    for name, run in runs.items():
        check_gradients(name, run(), reference)

    # Every object alive now (PyTorch alone brings some 150,000) moves out of the cycle
    # collector's sight: otherwise a full collection during the timings walks them all, and
    # the run it lands in (minigrad's or PyTorch's, by chance) takes many times as long.
    gc.freeze()
    timings = measure_interleaved(runs, ARGS.rounds, per_round=5)
    mini = timings["minigrad"].median
    print(
        f"{N_OPS} elementwise ops on {SHAPE[0]}x{SHAPE[1]} float64 tensors, then sum and "
        f"backward; threads: {ARGS.threads}; {torch_note}"
    )
    print("(gradients of the input and the 3 mixed-in tensors checked in every row)")
    print(f"  {'implementation':<16}{'median':>11}  {'per op':>11}  {'x minigrad':>10}  runs")
    for name, t in timings.items():
        print(
            f"  {name:<16}{format_seconds(t.median):>11}  {format_seconds(t.median / N_OPS):>11}"
            f"  {t.median / mini:>10.3g}  {len(t.seconds)}"
        )
    if "torch" in timings:
        ratio = mini / timings["torch"].median
        verdict = "meets" if ratio <= 0.75 else "MISSES"
        print(
            f"\nminigrad's time per op is {ratio:.2f}x PyTorch's "
            f"({verdict} the target: at most 0.75x)"
        )


if __name__ == "__main__":
    main()
