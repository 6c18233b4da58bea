"""The run's scratch folders: made for the run, removed however it ends, or by the next run.

A run works in a scratch folder in OUT (the template and the workers' workspaces, with
gradebooks and hidden tests, and the staged results) and in a folder of its kernels'
sandboxes, away from OUT (run/sandbox.py).  Both are removed at the end, however the run
ends, short of SIGKILL: then the next run into the same OUT finds them, because no process
holds the scratch folder's lock any more, and removes them and their processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import tempfile
from pathlib import Path

from .out import remove
from .run.sandbox import sandbox_parent, stop_processes_in

# Held (flock) by a run for as long as it lives, in its scratch folder; names the folder of
# its kernels' sandboxes.  A scratch folder whose lock nobody holds is an abandoned run's.
LOCK = "run.lock"


@contextlib.contextmanager
def scratch_folders(out: Path, keep_away: tuple[Path, ...], stream):
    """The run's scratch folder in OUT (workspaces, staged results: hidden tests and
    submissions among them) and the folder of its kernels' sandboxes, away from OUT; both
    removed at the end, however the run ends.  Those an abandoned run left are removed
    first."""
    for folder in sorted(out.glob(".grading-*")):
        try:
            if _remove_if_abandoned(folder):
                print(f"removed {folder.name}, left by a run that was killed", file=stream)
        except OSError as error:
            print(f"warning: {folder.name}, left by a run that was killed: {error}", file=stream)
    scratch = Path(tempfile.mkdtemp(prefix=".grading-", dir=out))
    lock = open(scratch / LOCK, "w", encoding="utf-8")  # noqa: SIM115 (held for the run)
    kernels = None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kernels = Path(tempfile.mkdtemp(prefix="minigrad-kernels-", dir=sandbox_parent(keep_away)))
        lock.write(f"{kernels}\n")
        lock.flush()
        yield scratch, kernels
    finally:
        if kernels is not None:
            stop_processes_in(kernels)
            shutil.rmtree(kernels, ignore_errors=True)
        remove(scratch)
        lock.close()


def _remove_if_abandoned(folder: Path) -> bool:
    """Remove ``folder``, a run's scratch folder, and its kernels' folder, if the run is
    gone (no process holds its lock); whether it did."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        lock = open(folder / LOCK, encoding="utf-8")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        kernels = None  # a run from before locks, or one killed as it started
    except OSError:
        return False
    else:
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # a run in progress
            kernels = Path(lock.read().strip() or ".")
    if kernels is not None and kernels.name.startswith("minigrad-kernels-"):
        stop_processes_in(kernels)
        shutil.rmtree(kernels, ignore_errors=True)
    remove(folder)
    return True
