"""Where a grading kernel runs: a folder of its own, away from what it must not find.

Every kernel starts in a fresh folder that holds only the student's notebook (execute.py
makes it), inside its worker's temporary folder, inside the run's folder of kernels.
Student code can walk up from its folder and list every parent, so these folders are made
where none of the course, OUT or the submissions is near (``sandbox_parent``).  A kernel,
and every process it starts unless it moves away, works in its folder: that is how the
processes of a lost worker or of an abandoned run are found and stopped
(``stop_processes_in``).

A folder hides; it does not confine.  What confines is the bubblewrap sandbox the launcher
starts the kernel in (bubblewrap.py), where that folder is the only writable one; without
it (``--sandbox none``, or a host that cannot run it), the kernel runs as the grader's user,
with the resource limits its launcher set (kernel.py), and can read what that user can.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path


def sandbox_parent(keep_away: list[Path]) -> Path:
    """Where to make a kernel's sandbox folder: the first usable temporary folder that holds
    none of ``keep_away`` (the course, OUT, the submissions).

    Student code that walks up from its folder lists every parent; a course checked out in
    /tmp would be one step from a sandbox made in /tmp.  So when the system temporary
    folder holds one of them, the sandbox goes elsewhere.
    """
    keep_away = [p.resolve() for p in keep_away]
    candidates = [Path(tempfile.gettempdir()), Path("/var/tmp"), Path("/dev/shm")]
    candidates.append(Path.home() / ".cache" / "minigrad-kernels")
    for candidate in candidates:
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        folder = candidate.resolve()
        if not os.access(folder, os.W_OK | os.X_OK):
            continue
        if not any(p.is_relative_to(folder) or folder.is_relative_to(p) for p in keep_away):
            return folder
    return Path(tempfile.gettempdir())


def stop_processes_in(folder: Path) -> list[int]:
    """Kill every process of this user whose working folder is in ``folder``; their ids.

    This is how the grader finds the kernels of a worker it lost: a kernel runs in its
    sandbox, inside the worker's temporary folder, and outlives a worker that was killed
    (ipykernel notices a dead parent only a second later) or stopped (it never notices).
    Processes the kernel started stay in its folder too, unless they moved away.  Without
    /proc (not Linux), nothing is found.
    """
    folder = folder.resolve()
    killed = []
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else []:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(os.path.join(entry.path, "cwd")))
            if cwd.is_relative_to(folder):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
        except OSError:
            continue  # gone, or not ours
    return killed
