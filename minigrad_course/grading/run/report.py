"""What running a notebook found, as the executor saw it happen: the run's report.

A notebook's outputs cannot tell what happened to it: student code can print anything,
including a fake ``CellTimeoutError``.  So the executor (execute.py) notes each event as it
happens: the cells that ran past their time limit, the kernel's death, the cells not run,
the output cut off, what the guard put back.  The verdict (verdict.py) reads this report,
not the outputs.  nbgrader runs the executor, so the report travels as a JSON file beside
nbgrader's own, one per notebook.  Cells are counted from 0, as in the notebook's list.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Crash:
    """The kernel died running ``cell``."""

    cell: int
    exit_code: int | None  # None: the kernel stopped answering but its process lived on
    reason: str  # the exit in words (execute.describe_exit)
    log: str = ""  # the last lines the kernel wrote to its stderr


@dataclass
class Stopped:
    """The cells after ``cell`` were not run, and why."""

    cell: int
    reason: str


@dataclass
class PutBack:
    """What the guard put back before ``cell`` ran (None: before the tests, when the guard
    could not start), named."""

    cell: int | None
    changes: list[str]


@dataclass
class Report:
    timeouts: list[int] = field(default_factory=list)  # cells past their time limit
    crash: Crash | None = None
    stopped: Stopped | None = None
    truncated: list[int] = field(default_factory=list)  # cells whose output was cut off
    starts: int = 0  # tries it took to start the kernel
    guard: list[PutBack] = field(default_factory=list)
    notebook_truncated: int | None = None  # the cell from which every output was cut off

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Report:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            timeouts=data["timeouts"],
            crash=Crash(**data["crash"]) if data["crash"] is not None else None,
            stopped=Stopped(**data["stopped"]) if data["stopped"] is not None else None,
            truncated=data["truncated"],
            starts=data["starts"],
            guard=[PutBack(**put_back) for put_back in data["guard"]],
            notebook_truncated=data["notebook_truncated"],
        )
