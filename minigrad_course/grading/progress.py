"""What the instructor watches while a class is graded: a line per submission with an ETA,
then counts by status and where the files are."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

from .results import STATUSES, NotebookResult


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Submissions done of ``total``, with the time left estimated from the pace so far."""

    def __init__(self, total: int, stream: TextIO | None = None, clock=time.monotonic):
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.clock = clock
        self.began = self.start = clock()

    def restart(self) -> None:
        """Count the pace from now (after the set-up), for a truer ETA."""
        self.start = self.clock()

    def eta(self) -> float | None:
        if not self.done:
            return None
        elapsed = self.clock() - self.start
        return elapsed / self.done * (self.total - self.done)

    def update(self, results: list[NotebookResult]) -> None:
        """One submission (a student's assignment) finished with these notebooks."""
        self.done += 1
        width = len(str(self.total))
        eta = self.eta()
        left = f"ETA {duration(eta)}" if eta is not None and self.done < self.total else "done"
        what = ", ".join(
            f"{r.notebook} {r.status}" + (f" {r.score:g}/{r.max_score:g}" if r.scored else "")
            for r in results
        )
        who = f"{results[0].student}/{results[0].assignment}" if results else ""
        print(
            f"[{self.done:>{width}}/{self.total}] {100 * self.done // self.total:3d}%  "
            f"{left:<12} {who}: {what}",
            file=self.stream,
            flush=True,
        )

    def summary(self, results: list[NotebookResult], files: dict[str, str]) -> None:
        counts = Counter(r.status for r in results)
        elapsed = duration(self.clock() - self.began)
        print(
            f"\n{len(results)} notebook(s) in {self.total} submission(s), {elapsed}:",
            file=self.stream,
        )
        for status in STATUSES:
            if counts[status]:
                print(f"  {status:<9} {counts[status]}", file=self.stream)
        for label, path in files.items():
            print(f"{label:<9} {path}", file=self.stream)
