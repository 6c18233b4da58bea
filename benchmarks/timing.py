"""Shared timing and reporting for the benchmarks: medians of repeated runs, printed as
ratios against minigrad.  Machines here are shared and noisy, so every figure is a median
and every comparison a ratio taken from the same run."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Timing:
    name: str
    seconds: list[float]  # one entry per repeat
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(name: str, fn: Callable[[], object], repeats: int, warmup: int = 1, note: str = ""):
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times timed."""
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return Timing(name, seconds, note)


def format_seconds(s: float) -> str:
    if s >= 1.0:
        return f"{s:8.3f} s "
    if s >= 1e-3:
        return f"{s * 1e3:8.2f} ms"
    return f"{s * 1e6:8.2f} us"


def print_table(
    title: str,
    timings: list[Timing],
    reference: str = "minigrad",
    per: int = 1,
    per_label: str = "",
) -> None:
    """One row per implementation: median time (and per unit), and its ratio to minigrad.

    A ratio above 1 means the row is that many times slower than minigrad."""
    ref = next(t for t in timings if t.name == reference)
    print(title)
    per_header = f"  {'per ' + per_label:>13}" if per > 1 else ""
    print(f"  {'implementation':<34}{'median':>11}{per_header}  {'x minigrad':>10}  runs")
    for t in timings:
        per_col = f"  {format_seconds(t.median / per):>13}" if per > 1 else ""
        ratio = t.median / ref.median
        note = f"  ({t.note})" if t.note else ""
        print(
            f"  {t.name:<34}{format_seconds(t.median):>11}{per_col}  {ratio:>10.3g}"
            f"  {len(t.seconds)}{note}"
        )


def measure_interleaved(
    fns: dict[str, Callable[[], object]],
    rounds: int,
    per_round: int | dict[str, int] = 1,
    warmup: int = 1,
) -> dict[str, Timing]:
    """Time several functions taking turns: ``per_round`` timed runs of each (one number for
    all, or one per name), ``rounds`` times over.

    A slow spell of a shared machine then falls on every contender alike instead of on
    whichever happened to run during it, so the ratios between them stay fair."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    counts = per_round if isinstance(per_round, dict) else dict.fromkeys(fns, per_round)
    seconds: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(counts[name]):
                start = time.perf_counter()
                fn()
                seconds[name].append(time.perf_counter() - start)
    return {name: Timing(name, s) for name, s in seconds.items()}


def parse_thread_arguments(description: str, rounds: int) -> argparse.Namespace:
    """``--threads N`` (default 1) and ``--rounds R``, with the thread limit applied.

    Call it before numpy is imported: OpenBLAS (and MKL, OpenMP) read these variables when
    they load, so numpy and PyTorch then compute on the same number of threads.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=1, help="BLAS / PyTorch threads (1)")
    parser.add_argument(
        "--rounds", type=int, default=rounds, help=f"rounds of timed runs ({rounds})"
    )
    args = parser.parse_args()
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)
    return args


def load_torch(threads: int, skipped: str = "row"):
    """PyTorch limited to ``threads`` threads and a line saying which version, or None and
    a line saying its {skipped} is left out."""
    try:
        import torch
    except ImportError:
        return (
            None,
            f"PyTorch is not installed (pip install torch==2.13.0): its {skipped} is skipped",
        )
    torch.set_num_threads(threads)
    return torch, f"torch {torch.__version__}"
