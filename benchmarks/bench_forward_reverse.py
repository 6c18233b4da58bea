"""Benchmark: forward mode against reverse mode, computing a whole Jacobian.

One forward-mode pass (``minigrad.jvp``) pushes one input direction through the function and
gives one column of the Jacobian; one reverse-mode pass (``minigrad.grad`` with a one-hot
``grad_output``) pulls one output direction back and gives one row.  A Jacobian of m outputs
by n inputs therefore takes n forward passes, or one recorded forward and m backward passes:
forward mode wins when outputs outnumber inputs, reverse mode when inputs outnumber outputs.

* f: R -> R^1000, an elementwise chain ``h = tanh(w1 x + b1)``, ``y = h * tanh(w2 h + b2)``
  of one number broadcast against 1000 fixed weights: 1 forward pass or 1000 backward ones;
* f: R^1000 -> R, the same chain on 1000 inputs, summed: 1000 forward passes or 1 backward;
* a sweep over f: R^n -> R^m, ``y = tanh(W2 tanh(W1 x + b1) + b2)`` through 64 hidden
  units, with n * m = 1000, from (1, 1000) to (1000, 1): where the ratio of the two times
  crosses 1.

Every pair of Jacobians is checked to agree before timing, in float64.  When PyTorch is
installed, ``torch.func.jacfwd`` and ``jacrev`` on the first two functions are shown beside:
they batch every direction into one vectorized pass (``vmap``) instead of one pass per
direction, so their ratio measures arithmetic rather than the number of passes.

Usage: python benchmarks/bench_forward_reverse.py [--threads N] [--rounds R]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

from timing import parse_thread_arguments

ARGS = parse_thread_arguments(__doc__.split("\n")[0], rounds=7)

import numpy as np  # noqa: E402
from timing import format_seconds, load_torch, measure_interleaved  # noqa: E402

import minigrad  # noqa: E402
from minigrad import Tensor  # noqa: E402

WIDE = 1000  # the long side of the first two functions
HIDDEN = 64  # hidden units of the sweep's function
SWEEP = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)  # n; m = 1000 / n
SEED = 0


# ---------------------------------------------------------------------- Jacobians, both ways


def jacobian_forward(fn: Callable[[Tensor], Tensor], x: np.ndarray) -> np.ndarray:
    """The (m, n) Jacobian, one column per forward-mode pass: J e_i for each input i."""
    directions = np.eye(x.size).reshape(x.size, *x.shape)
    columns = []
    for direction in directions:
        _, tangent = minigrad.jvp(fn, x, direction)
        columns.append(tangent.data.reshape(-1))
    return np.stack(columns, axis=1)


def jacobian_reverse(fn: Callable[[Tensor], Tensor], x: np.ndarray) -> np.ndarray:
    """The (m, n) Jacobian, one row per reverse-mode pass: e_j^T J for each output j, all
    through the graph of a single forward pass."""
    leaf = Tensor(x, requires_grad=True)
    y = fn(leaf)
    rows = []
    for direction in np.eye(y.numel()).reshape(y.numel(), *y.shape):
        (row,) = minigrad.grad(y, leaf, grad_output=direction)
        rows.append(row.data.reshape(-1))
    return np.stack(rows)


# ---------------------------------------------------------------------- the functions


def elementwise_weights(rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.uniform(-1.0, 1.0, WIDE) for _ in range(4)]


def chain(x, w1, b1, w2, b2):
    """Elementwise, a few ops deep: written once for minigrad and PyTorch alike."""
    h = (x * w1 + b1).tanh()
    return h * (h * w2 + b2).tanh()


def one_to_many(weights: list[np.ndarray]) -> Callable[[Tensor], Tensor]:
    """f: R -> R^1000: the input, of shape (1,), broadcast against every weight."""
    constants = [Tensor(w) for w in weights]
    return lambda x: chain(x, *constants)


def many_to_one(weights: list[np.ndarray]) -> Callable[[Tensor], Tensor]:
    """f: R^1000 -> R: the same chain on 1000 inputs, then summed."""
    constants = [Tensor(w) for w in weights]
    return lambda x: chain(x, *constants).sum()


def two_layers(n: int, m: int, rng: np.random.Generator) -> Callable[[Tensor], Tensor]:
    """f: R^n -> R^m, ``tanh(W2 tanh(W1 x + b1) + b2)``: every output depends on every
    input, and a pass costs about the same whichever way it goes."""
    W1 = Tensor(rng.uniform(-1.0, 1.0, (HIDDEN, n)) / math.sqrt(n))
    b1 = Tensor(rng.uniform(-1.0, 1.0, HIDDEN))
    W2 = Tensor(rng.uniform(-1.0, 1.0, (m, HIDDEN)) / math.sqrt(HIDDEN))
    b2 = Tensor(rng.uniform(-1.0, 1.0, m))
    return lambda x: (W2 @ (W1 @ x + b1).tanh() + b2).tanh()


# ---------------------------------------------------------------------- comparing


def compare(fn: Callable[[Tensor], Tensor], x: np.ndarray) -> tuple[dict, float, np.ndarray]:
    """Both Jacobians checked to agree, then timed taking turns: (timings, largest
    difference, the Jacobian).

    The side with fewer passes runs several times per turn, for about the same total time
    as the other: a single short run right after a long one finds the caches cold and
    takes several times as long."""
    forward = jacobian_forward(fn, x)
    reverse = jacobian_reverse(fn, x)
    difference = float(np.abs(forward - reverse).max())
    m, n = reverse.shape
    scale = float(np.abs(reverse).max())
    assert difference <= 1e-12 * max(scale, 1.0), (
        f"forward and reverse Jacobians of shape {reverse.shape} differ by {difference:.3g}"
    )
    timings = measure_interleaved(
        {
            "forward": lambda: jacobian_forward(fn, x),
            "reverse": lambda: jacobian_reverse(fn, x),
        },
        ARGS.rounds,
        per_round={"forward": repeats(m, n), "reverse": repeats(n, m)},
    )
    return timings, difference, reverse


def repeats(other_passes: int, own_passes: int) -> int:
    return max(1, min(50, other_passes // own_passes))


def print_case(title: str, n: int, m: int, timings: dict, difference: float) -> float:
    fwd, rev = timings["forward"].median, timings["reverse"].median
    print(f"\n{title}: Jacobian of {m} x {n}")
    print(f"  {'mode':<42}{'passes':>6}{'median':>12}{'per pass':>12}")
    for label, passes, t in (
        ("forward: one jvp per input", n, fwd),
        ("reverse: one forward, one grad per output", m, rev),
    ):
        print(f"  {label:<42}{passes:>6}{format_seconds(t):>12}{format_seconds(t / passes):>12}")
    print(f"  forward / reverse: {fwd / rev:.4g}")
    print(
        f"  (Jacobians agree: max |difference| = {difference:.2g}; timed runs: "
        f"{len(timings['forward'].seconds)} forward, {len(timings['reverse'].seconds)} reverse)"
    )
    return fwd / rev


def crossover(points: list[tuple[int, float]]) -> str:
    """Where the ratio crosses 1, interpolated in log-log between the sweep's points."""
    for (n1, r1), (n2, r2) in itertools.pairwise(points):
        if (r1 - 1) * (r2 - 1) <= 0 and r1 != r2:
            t = math.log(r1) / (math.log(r1) - math.log(r2))
            n = math.exp(math.log(n1) + t * (math.log(n2) - math.log(n1)))
            return (
                f"crossover: the ratio crosses 1 between n = {n1} and n = {n2}, at about "
                f"n = {n:.0f}, m = {WIDE / n:.0f}"
            )
    return "crossover: the ratio does not cross 1 in this sweep"


def print_sweep() -> None:
    print(
        f"\nsweep: f: R^n -> R^m, y = tanh(W2 tanh(W1 x + b1) + b2), {HIDDEN} hidden units, "
        f"n * m = {WIDE}"
    )
    print(
        f"  {'n':>5}  {'m':>5}  {'forward':>11}  {'reverse':>11}  {'fwd/rev':>8}  {'faster':<7}"
        f"  {'per jvp':>11}  {'per grad':>11}"
    )
    rng = np.random.default_rng(SEED + 2)
    points = []
    for n in SWEEP:
        m = WIDE // n
        fn = two_layers(n, m, rng)
        timings, _, _ = compare(fn, rng.standard_normal(n))
        fwd, rev = timings["forward"].median, timings["reverse"].median
        points.append((n, fwd / rev))
        faster = "forward" if fwd < rev else "reverse"
        print(
            f"  {n:>5}  {m:>5}  {format_seconds(fwd):>11}  {format_seconds(rev):>11}"
            f"  {fwd / rev:>8.3g}  {faster:<7}  {format_seconds(fwd / n):>11}"
            f"  {format_seconds(rev / m):>11}",
            flush=True,
        )
    print(f"  {crossover(points)}")
    print(
        "  (Jacobians checked to agree at every point; fwd/rev below 1: forward mode faster;"
        "\n   per jvp: forward / n; per grad: reverse / m, its one recorded forward included)"
    )


# ---------------------------------------------------------------------- PyTorch


def print_torch(torch, weights, cases) -> None:
    from torch.func import jacfwd, jacrev

    w1, b1, w2, b2 = (torch.from_numpy(w) for w in weights)
    functions = {
        "R -> R^1000": lambda x: chain(x, w1, b1, w2, b2),
        "R^1000 -> R": lambda x: chain(x, w1, b1, w2, b2).sum(),
    }
    print("\nPyTorch's torch.func, all directions in one vectorized pass (vmap)")
    print(f"  {'function':<14}{'jacfwd':>11}{'jacrev':>11}{'fwd/rev':>9}  max |torch - minigrad|")
    for name, fn in functions.items():
        x, ours = cases[name]
        tx = torch.from_numpy(x)
        forward, reverse = jacfwd(fn)(tx), jacrev(fn)(tx)
        difference = max(
            float(np.abs(j.numpy().reshape(ours.shape) - ours).max()) for j in (forward, reverse)
        )
        timings = measure_interleaved(
            {
                "jacfwd": lambda fn=fn, tx=tx: jacfwd(fn)(tx),
                "jacrev": lambda fn=fn, tx=tx: jacrev(fn)(tx),
            },
            ARGS.rounds,
        )
        fwd, rev = timings["jacfwd"].median, timings["jacrev"].median
        print(
            f"  {name:<14}{format_seconds(fwd):>11}{format_seconds(rev):>11}{fwd / rev:>9.3g}"
            f"  {difference:.2g}"
        )


def main() -> None:
    torch, torch_note = load_torch(ARGS.threads, "torch.func comparison")
    print(
        f"Jacobians by forward mode (minigrad.jvp) and reverse mode (minigrad.grad), float64; "
        f"threads: {ARGS.threads}; {torch_note}"
    )
    rng = np.random.default_rng(SEED)
    weights = elementwise_weights(rng)
    cases = {}
    for name, fn, x in (
        ("R -> R^1000", one_to_many(weights), np.array([0.3])),
        ("R^1000 -> R", many_to_one(weights), rng.standard_normal(WIDE)),
    ):
        timings, difference, jacobian = compare(fn, x)
        m, n = jacobian.shape
        print_case(f"f: {name}", n, m, timings, difference)
        cases[name] = x, jacobian
    print_sweep()
    if torch is not None:
        print_torch(torch, weights, cases)
    else:
        print(f"\n{torch_note}")


if __name__ == "__main__":
    main()
