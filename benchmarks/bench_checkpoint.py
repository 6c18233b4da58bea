"""Benchmark: checkpointing a 64-layer MLP, and what a graph costs in memory.

The network is 64 blocks of Linear(128, 128) then tanh, on a batch of 512, in float32, with a
mean squared error against a fixed target: one training step is forward plus backward.  The
width and batch are chosen so that the activations (what checkpointing saves) outweigh the
parameters (which every variant keeps): each block holds 0.5 MiB of activations for 64 KiB
of weights.  float32 because that is what deep networks train in; the comparisons of
gradients are exact all the same, since a checkpointed segment runs the same operations on
the same numbers again.

Three parts:

* plain against sqrt(64) = 8 segments of 8 blocks, each segment run through
  ``minigrad.checkpoint`` over a slice of the ``Sequential``: memory held by the graph after
  forward (``minigrad.graph_memory`` of the loss), peak memory during forward and backward
  (``tracemalloc``, which numpy reports its arrays to; checked at start), time per step
  (median), as ratios checkpointed / plain, and every parameter's gradient compared;
* the same for 1, 2, 4, 8, 16 and 64 segments: the memory-compute trade-off, with the
  product of the two ratios (the sqrt(n) point should be near its best).
  With one segment the whole network is recomputed during backward, yet its peak stays
  well under plain's: the rebuilt graph is differentiated by ``minigrad.grad``, which hands
  each gradient on and keeps none, while ``backward()`` keeps a ``.grad`` on every node
  (for the lessons' graph views);
* evaluation only (no backward): the same forward with grad, under ``no_grad``, with the
  output detached, and detached half-way, to show that ``no_grad`` keeps no graph and that
  ``detach`` cuts one.

Time per step also counts minor page faults: a graph that is freed at the end of a step and
rebuilt in the next may be handed back to the operating system by the C allocator in between
(glibc returns large freed blocks), and every page of it is faulted in again, zeroed, the
next time.  To see the cost of computation alone, keep freed memory in the process:
``MALLOC_TRIM_THRESHOLD_=1000000000 MALLOC_MMAP_THRESHOLD_=1000000000 python ...``.

When PyTorch is installed, ``torch.utils.checkpoint.checkpoint_sequential`` on the same
network (same weights) gives its time ratio beside minigrad's.  Its memory is not shown:
PyTorch's CPU allocator does not report to ``tracemalloc``.

Usage: python benchmarks/bench_checkpoint.py [--threads N] [--rounds R]
"""

from __future__ import annotations

import gc
import math
import os
import resource
import tracemalloc
from collections.abc import Callable

from timing import parse_thread_arguments

ARGS = parse_thread_arguments(__doc__.split("\n")[0], rounds=11)

import numpy as np  # noqa: E402
from timing import format_seconds, load_torch, measure_interleaved  # noqa: E402

import minigrad  # noqa: E402
from minigrad import Tensor, nn  # noqa: E402
from minigrad.functional import mse_loss  # noqa: E402

DEPTH = 64  # blocks of Linear then tanh
WIDTH = 128
BATCH = 512
DTYPE = "float32"
SEED = 0
SEGMENTS = 8  # sqrt(DEPTH)
SWEEP = (1, 2, 4, 8, 16, 64)
MIB = 2**20


# ---------------------------------------------------------------------- the network


def build_model() -> nn.Sequential:
    rng = np.random.default_rng(SEED)
    layers: list[nn.Module] = []
    for _ in range(DEPTH):
        layers += [nn.Linear(WIDTH, WIDTH, rng=rng, dtype=DTYPE), nn.Tanh()]
    return nn.Sequential(*layers)


def make_data() -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(SEED + 1)
    x = Tensor(rng.standard_normal((BATCH, WIDTH)), dtype=DTYPE)
    target = Tensor(rng.uniform(-0.5, 0.5, (BATCH, WIDTH)), dtype=DTYPE)
    return x, target


def loss_function(model: nn.Sequential, x: Tensor, target: Tensor, segments: int | None):
    """The loss as a function of nothing: the plain forward pass (``segments=None``), or one
    ``checkpoint`` per segment of ``DEPTH / segments`` blocks."""
    if segments is None:
        return lambda: mse_loss(model(x), target)
    size = len(model) // segments
    parts = [model[i : i + size] for i in range(0, len(model), size)]

    def forward() -> Tensor:
        h = x
        for part in parts:
            h = minigrad.checkpoint(part, h)
        return mse_loss(h, target)

    return forward


def training_step(model: nn.Sequential, forward: Callable[[], Tensor]) -> Callable[[], None]:
    def step() -> None:
        model.zero_grad()
        forward().backward()

    return step


# ---------------------------------------------------------------------- measuring memory


def traced(fn: Callable[[], object]) -> tuple[object, int, int]:
    """``fn()`` under tracemalloc: its result, the bytes it allocated that are still held
    after it, and the peak of its allocations while it ran (earlier allocations not counted)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, held, peak


def check_numpy_is_traced() -> None:
    """numpy reports the data of its arrays to tracemalloc (since 1.13); every peak below
    relies on it, so make sure."""
    size = 8 * MIB
    _, _, peak = traced(lambda: np.ones(size, dtype=np.uint8))
    if peak < size:
        raise SystemExit(
            f"tracemalloc saw {peak} bytes for a numpy array of {size}: this numpy does not "
            f"report its allocations, so no peak memory can be measured"
        )


def page_faults(steps: dict[str, Callable[[], None]], rounds: int = 3) -> dict[str, float]:
    """Minor page faults (pages the kernel had to hand over, zeroed) per call of each step,
    the steps taking turns as they do when timed: what one leaves to the allocator decides
    what the next one finds."""
    counts = dict.fromkeys(steps, 0)
    for _ in range(rounds):
        for name, step in steps.items():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            step()
            counts[name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return {name: count / rounds for name, count in counts.items()}


def mib(n: float) -> str:
    return f"{n / MIB:7.2f} MiB"


# ---------------------------------------------------------------------- training steps


def gradients(model: nn.Sequential, forward: Callable[[], Tensor]) -> list[np.ndarray]:
    model.zero_grad()
    forward().backward()
    return [p.grad.copy() for p in model.parameters()]


def max_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))


def measure_training(model, x, target) -> dict[str, dict[str, float]]:
    """For plain and each segment count: graph memory after forward, peak memory of a step,
    page faults, largest gradient difference from plain, and median time."""
    variants = {"plain": None, **{f"{k} segments": k for k in SWEEP}}
    forwards = {name: loss_function(model, x, target, k) for name, k in variants.items()}
    reference = gradients(model, forwards["plain"])
    figures: dict[str, dict[str, float]] = {}
    for name, forward in forwards.items():
        model.zero_grad()
        graph = minigrad.graph_memory(forward())
        model.zero_grad()
        _, _, peak = traced(training_step(model, forward))
        figures[name] = {
            "graph": graph,
            "peak": peak,
            "grad_diff": max_difference(gradients(model, forward), reference),
        }
    steps = {name: training_step(model, forward) for name, forward in forwards.items()}
    for name, faults in page_faults(steps).items():
        figures[name]["faults"] = faults
    gc.collect()
    gc.freeze()
    timings = measure_interleaved(steps, ARGS.rounds)
    for name, timing in timings.items():
        figures[name]["time"] = timing.median
        figures[name]["runs"] = len(timing.seconds)
    return figures


def print_headline(figures, parameter_bytes: int) -> None:
    plain, ours = figures["plain"], figures[f"{SEGMENTS} segments"]
    print(f"\nplain against {SEGMENTS} checkpointed segments of {DEPTH // SEGMENTS} blocks")
    print(f"  {'figure':<44}{'plain':>12}{'checkpointed':>14}{'ratio':>8}")
    rows = [
        ("graph held after forward (graph_memory)", plain["graph"], ours["graph"]),
        (
            "  the same without the parameters",
            plain["graph"] - parameter_bytes,
            ours["graph"] - parameter_bytes,
        ),
        ("peak during forward + backward", plain["peak"], ours["peak"]),
    ]
    for label, a, b in rows:
        print(f"  {label:<44}{mib(a):>12}{mib(b):>14}{b / a:>8.3f}")
    print(
        f"  {'time per step (median)':<44}{format_seconds(plain['time']):>12}"
        f"{format_seconds(ours['time']):>14}{ours['time'] / plain['time']:>8.3f}"
    )
    print(
        f"  {'minor page faults per step':<44}{plain['faults']:>12.0f}{ours['faults']:>14.0f}"
        f"{ours['faults'] / max(plain['faults'], 1):>8.3f}"
    )
    print(
        f"  every parameter's gradient: max |checkpointed - plain| = {ours['grad_diff']:.3g} "
        f"over {2 * DEPTH} arrays"
    )


def print_sweep(figures) -> None:
    plain = figures["plain"]
    print("\nthe trade-off: segment counts (ratios to plain; product = peak ratio x time ratio)")
    print(
        f"  {'segments':>8}  {'blocks':>6}  {'graph held':>11}  {'ratio':>6}  {'peak':>11}"
        f"  {'ratio':>6}  {'time':>11}  {'ratio':>6}  {'product':>7}  {'faults':>6}"
        f"  {'max |dgrad|':>11}"
    )
    products = {}
    for name, f in figures.items():
        count = f"{name.split()[0]:>8}" if name != "plain" else f"{'plain':>8}"
        blocks = DEPTH // int(name.split()[0]) if name != "plain" else DEPTH
        peak_ratio, time_ratio = f["peak"] / plain["peak"], f["time"] / plain["time"]
        products[name] = peak_ratio * time_ratio
        print(
            f"  {count}  {blocks:>6}  {mib(f['graph']):>11}  {f['graph'] / plain['graph']:>6.3f}"
            f"  {mib(f['peak']):>11}  {peak_ratio:>6.3f}  {format_seconds(f['time']):>11}"
            f"  {time_ratio:>6.3f}  {products[name]:>7.3f}  {f['faults']:>6.0f}"
            f"  {f['grad_diff']:>11.3g}"
        )
    counts = [name for name in figures if name != "plain"]
    lowest_peak = min(counts, key=lambda name: figures[name]["peak"])
    best = min(counts, key=products.get)
    print(
        f"  sqrt({DEPTH}) = {math.isqrt(DEPTH)}; lowest peak: {lowest_peak}; smallest peak x "
        f"time: {best}\n  runs: {int(plain['runs'])} timed steps of each, taking turns"
    )


# ---------------------------------------------------------------------- evaluation memory


def print_evaluation(model: nn.Sequential, x: Tensor) -> None:
    """The forward pass alone, four ways; each must keep what it claims to keep."""
    output_bytes = BATCH * WIDTH * np.dtype(DTYPE).itemsize
    half = len(model) // 2

    def with_grad():
        return model(x)

    def under_no_grad():
        with minigrad.no_grad():
            return model(x)

    def output_detached():
        return model(x).detach()  # the graph goes as soon as the output's last use ends

    def detached_half_way():
        return model[half:](model[:half](x).detach())

    model.zero_grad()  # graph_memory would count the parameters' gradients too
    rows = {
        "with grad": with_grad,
        "under no_grad": under_no_grad,
        "with grad, output detached": output_detached,
        f"with grad, detached after {DEPTH // 2} blocks": detached_half_way,
    }
    print("\nevaluation only (forward, no backward): memory kept and memory at peak")
    print(f"  {'forward':<36}{'graph_memory':>13}{'ratio':>7}{'held after':>13}{'peak':>13}")
    reference = None
    measured = {}
    for label, fn in rows.items():
        out, held, peak = traced(fn)
        graph = minigrad.graph_memory(out)
        measured[label] = graph
        reference = reference or graph
        ratio = graph / reference
        print(f"  {label:<36}{mib(graph):>13}{ratio:>7.3f}{mib(held):>13}{mib(peak):>13}")
        del out
    for label in ("under no_grad", "with grad, output detached"):
        assert measured[label] == output_bytes, (
            f"{label}: graph_memory is {measured[label]} bytes, not the output's own "
            f"{output_bytes}: a graph was kept"
        )
    print(
        f"  (no_grad and detach keep exactly the output's own {output_bytes // 1024} KiB: no "
        f"graph; graph_memory also counts\n   the parameters of the layers in the graph; held "
        f"after: what the forward allocated and is still\n   alive once it has returned; peak: "
        f"the most it had allocated at once)"
    )


# ---------------------------------------------------------------------- PyTorch's checkpoint


def print_torch(torch, model: nn.Sequential, x: Tensor, target: Tensor) -> None:
    from torch.utils.checkpoint import checkpoint_sequential

    layers = []
    for layer in model:
        if isinstance(layer, nn.Linear):
            linear = torch.nn.Linear(WIDTH, WIDTH)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.weight.data))
                linear.bias.copy_(torch.from_numpy(layer.bias.data))
            layers.append(linear)
        else:
            layers.append(torch.nn.Tanh())
    net = torch.nn.Sequential(*layers)
    tx, tt = torch.from_numpy(x.data.copy()), torch.from_numpy(target.data.copy())
    mse = torch.nn.functional.mse_loss

    def run(checkpointed: bool) -> Callable[[], None]:
        def step() -> None:
            net.zero_grad(set_to_none=True)
            if checkpointed:
                out = checkpoint_sequential(net, SEGMENTS, tx, use_reentrant=False)
            else:
                out = net(tx)
            mse(out, tt).backward()

        return step

    grads = {}
    for name, checkpointed in (("plain", False), ("checkpointed", True)):
        run(checkpointed)()
        grads[name] = [p.grad.numpy().copy() for p in net.parameters()]
    ours = gradients(model, loss_function(model, x, target, None))
    timings = measure_interleaved({"plain": run(False), "checkpointed": run(True)}, ARGS.rounds)
    plain, ckpt = timings["plain"].median, timings["checkpointed"].median
    print(f"\nPyTorch, checkpoint_sequential in {SEGMENTS} segments (use_reentrant=False)")
    print(
        f"  time per step: plain {format_seconds(plain).strip()}, checkpointed "
        f"{format_seconds(ckpt).strip()}: ratio {ckpt / plain:.3f} "
        f"({len(timings['plain'].seconds)} runs of each)"
    )
    print(
        f"  max |checkpointed - plain| gradient: "
        f"{max_difference(grads['checkpointed'], grads['plain']):.3g}; "
        f"max |PyTorch - minigrad| plain gradient: {max_difference(grads['plain'], ours):.3g}"
    )


def main() -> None:
    check_numpy_is_traced()
    model = build_model()
    x, target = make_data()
    parameter_bytes = sum(p.data.nbytes for p in model.parameters())
    torch, torch_note = load_torch(ARGS.threads, "checkpoint baseline")
    malloc = "kept in the process" if os.environ.get("MALLOC_TRIM_THRESHOLD_") else "glibc default"
    print(
        f"MLP of {DEPTH} blocks Linear({WIDTH}, {WIDTH}) + tanh, batch {BATCH}, {DTYPE}, MSE "
        f"loss; one step = forward + backward; threads: {ARGS.threads}; freed memory: "
        f"{malloc}; {torch_note}"
    )
    print(
        f"parameters: {mib(parameter_bytes).strip()}; activations of one block: "
        f"{mib(2 * BATCH * WIDTH * np.dtype(DTYPE).itemsize).strip()} "
        f"(the Linear's output and the tanh's); numpy reports to tracemalloc: checked"
    )
    figures = measure_training(model, x, target)
    print_headline(figures, parameter_bytes)
    print_sweep(figures)
    print(
        "  (graph held: graph_memory of the loss after forward, parameters included; peak: "
        "the most\n   tracemalloc saw during one step, parameter gradients included; time: "
        "median per step;\n   faults: minor page faults per step; max |dgrad|: largest "
        "difference from plain's gradients)"
    )
    print_evaluation(model, x)
    if torch is not None:
        print_torch(torch, model, x, target)
    else:
        print(f"\n{torch_note}")


if __name__ == "__main__":
    main()
