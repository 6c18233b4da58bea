"""Benchmark: what the notebook views cost.

* ``LossPlot.update``, 10,000 calls as a training loop makes them, with live redraws at most
  every 0.25 s (the picture is built as in a notebook, only not sent anywhere), against the
  same loop doing nothing but a float multiplication per step.  The difference, per call,
  is what a training loop pays for its live curve.
* Drawing: the loss plot's SVG with 10,000 points; the graph view of lesson 03's example, of
  a 200-node graph (laid out in full) and of a 10^5-node graph (summarised, never laid out).

Usage: python benchmarks/bench_viz.py [--rounds R]
"""

from __future__ import annotations

import argparse
import random
import sys
from unittest import mock

from timing import format_seconds, measure

from minigrad import Value
from minigrad.viz import LossPlot, graph

UPDATES = 10_000


def trivial_loop() -> None:
    x = 0.0
    for step in range(UPDATES):
        x += step * 0.5


def loop_with_plot() -> LossPlot:
    plot = LossPlot(live=True, every=0.25)
    x = 0.0
    for step in range(UPDATES):
        x += step * 0.5
        plot.update(1.0 / (step + 1), accuracy=step / UPDATES)
    return plot


def finished_plot() -> LossPlot:
    plot = LossPlot(live=True, every=3600)
    for step in range(UPDATES):
        plot.update(1.0 / (step + 1), accuracy=step / UPDATES)
    return plot


def chain(n: int) -> Value:
    y = Value(0.5, label="x")
    for _ in range(n // 3):
        y = (y * 1.0001).tanh()
    y.backward()
    return y


def two_hundred_nodes() -> Value:
    rng = random.Random(0)
    nodes = [Value(rng.uniform(-1, 1), label=f"w{i}") for i in range(20)]
    while len(nodes) < 190:
        a, b = rng.choice(nodes[-6:]), rng.choice(nodes)
        nodes.append((a * b).tanh() if rng.random() < 0.5 else a + b)
    out = nodes[-1]
    out.backward()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds

    # The display call is the only part left out: in a notebook it hands the picture to the
    # kernel, which sends it off without waiting.
    with mock.patch("IPython.display.display", lambda *a, **k: mock.Mock()):
        bare = measure("loop alone", trivial_loop, rounds)
        with_plot = measure("loop + LossPlot.update", loop_with_plot, rounds)
        draws = loop_with_plot().draws
        final = measure("the final picture", finished_plot().close, 1, warmup=0)
    extra = (with_plot.median - bare.median) / UPDATES
    print(f"LossPlot.update, {UPDATES:,} calls (live, redrawn at most every 0.25 s)")
    print(f"  the loop alone                {format_seconds(bare.median)}")
    print(f"  the loop with update()        {format_seconds(with_plot.median)}  ({draws} redraws)")
    print(f"  cost of one update()          {format_seconds(extra)}")
    print(f"  the final picture, once       {format_seconds(final.median)}")
    for name, step in [("lesson 05 (Values)", 70e-3), ("the playground (Tensors)", 0.3e-3)]:
        print(
            f"  update() per training step of {name}, ~{format_seconds(step).strip()}: "
            f"{extra / step:.3%}"
        )

    plot = LossPlot(live=False)
    for step in range(UPDATES):
        plot.update(1.0 / (step + 1), accuracy=step / UPDATES)
    example = Value(2.0, label="a") * Value(-3.0, label="b")
    example = (example + example) * example
    example.backward()
    middle = two_hundred_nodes()
    large = chain(100_000)
    sys.setrecursionlimit(10_000)
    rows = [
        measure("LossPlot SVG, 10,000 points", plot.svg, rounds),
        measure("graph view, lesson 03's example", lambda: graph(example, step=0), rounds),
        measure(f"graph view, {len(middle.topological_order())} nodes", lambda: graph(middle), 3),
        measure("graph view, 100,000 nodes (summary)", lambda: graph(large), 3),
    ]
    print("\nDrawing")
    for row in rows:
        print(f"  {row.name:<40}{format_seconds(row.median)}")


if __name__ == "__main__":
    main()
