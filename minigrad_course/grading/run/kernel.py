"""The kernel that runs a submission: ipykernel under resource limits, in a folder of its own.

nbgrader starts kernels from a kernelspec.  Ours does not start ipykernel directly: its argv
runs this file, which lowers the limits of its own process and then replaces itself with
ipykernel, so student code inherits limits it cannot raise again:

- address space (``RLIMIT_AS``): an allocation past the cap fails with ``MemoryError`` in
  the cell that asked for it, instead of swapping the machine to a halt or waking the
  kernel's out-of-memory killer, which may pick any process;
- CPU seconds (``RLIMIT_CPU``): a loop that ignores interrupts is stopped by ``SIGXCPU``;
- processes (``RLIMIT_NPROC``): a fork bomb stops after a few dozen processes;
- file size (``RLIMIT_FSIZE``): no single file can fill the disk; and no core dumps.

The environment is cut down to what a kernel needs, so that variables such as ``PWD`` do not
tell student code where the course lives; BLAS libraries get one thread each, since
``--jobs`` already runs several kernels side by side.

This file runs as a script before anything else in the kernel, so it imports only the
standard library, and it must not import the ``minigrad`` package.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

KERNEL_NAME = "minigrad-grading"
LOG_VARIABLE = "MINIGRAD_KERNEL_LOG"  # the executor names the file for the kernel's stderr
GIB = 1024**3

# Variables a kernel may keep; everything else (PWD, OLDPWD, VIRTUAL_ENV, the grader's own
# settings) is dropped.  LC_* are kept by prefix.
_KEPT_VARIABLES = {
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "TZ",
    "TMPDIR",
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
    "MPLCONFIGDIR",
    "NBGRADER_EXECUTION",
    "SYSTEMROOT",
    "JPY_PARENT_PID",  # ipykernel exits when this process (the grader) is gone
}
_SET_VARIABLES = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class Limits:
    """What one submission's kernel may use.

    ``processes`` counts on top of the processes the grading user already runs, because the
    operating system's limit is per user, not per kernel.  ``cpu_seconds`` None (the command
    line's default) is as long as the whole notebook may run; the grader sets it so.
    """

    memory: int = 2 * GIB
    cpu_seconds: int | None = 600
    processes: int = 64
    file_size: int = GIB

    def arguments(self) -> list[str]:
        return [
            f"--memory={self.memory}",
            f"--cpu-seconds={self.cpu_seconds}",
            f"--processes={self.processes}",
            f"--file-size={self.file_size}",
        ]


def write_kernelspec(jupyter_dir: Path, limits: Limits, sandbox: list[str] | None = None) -> str:
    """Write the grading kernelspec under ``jupyter_dir/kernels``; its name.

    Put ``jupyter_dir`` on ``JUPYTER_PATH`` for jupyter_client to find it.  The spec runs this
    file by its path (``python -I file``), so starting a kernel imports nothing of minigrad
    and reads no ``PYTHON*`` variable before the limits are in place.  ``sandbox``, bwrap and
    its options (bubblewrap.py), puts every kernel in a bubblewrap sandbox; the options go in
    a file beside the spec.
    """
    folder = jupyter_dir / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    sandboxing = []
    if sandbox is not None:
        (folder / "sandbox.json").write_text(json.dumps(sandbox, indent=1) + "\n", encoding="utf-8")
        sandboxing = [f"--sandbox={folder / 'sandbox.json'}"]
    spec = {
        "argv": [
            sys.executable,
            "-I",
            str(Path(__file__).resolve()),
            *limits.arguments(),
            *sandboxing,
            "--",
            "-f",
            "{connection_file}",
        ],
        "display_name": "Python 3 (minigrad grading, limited)",
        # In the sandbox, the kernel is not in the process group that jupyter_client signals
        # (bwrap gives it a session of its own), so an interrupt travels as a message, which
        # ipykernel turns into SIGINT to itself.
        **({"interrupt_mode": "message"} if sandbox is not None else {}),
        "language": "python",
        "metadata": {"debugger": False},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return KERNEL_NAME


def user_tasks() -> int:
    """How many processes and threads the current user runs now (RLIMIT_NPROC counts both)."""
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue  # gone, or not ours to read
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count


def apply_limits(limits: Limits) -> None:
    """Lower this process's limits; a hard limit already below ours stays as it is."""
    _lower(resource.RLIMIT_AS, limits.memory)
    # SIGXCPU at the soft limit; the kernel is killed outright a few seconds later.
    _lower(resource.RLIMIT_CPU, limits.cpu_seconds, hard=limits.cpu_seconds + 5)
    _lower(resource.RLIMIT_NPROC, user_tasks() + limits.processes)
    _lower(resource.RLIMIT_FSIZE, limits.file_size)
    _lower(resource.RLIMIT_CORE, 0)


def _lower(which: int, soft: int, hard: int | None = None) -> None:
    _, old_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if old_hard != resource.RLIM_INFINITY:
        hard = min(hard, old_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def kernel_environment(environ: dict[str, str]) -> dict[str, str]:
    kept = {
        name: value
        for name, value in environ.items()
        if name in _KEPT_VARIABLES or name.startswith("LC_")
    }
    return {**kept, **_SET_VARIABLES}


def _redirect_output(log: str | None) -> None:
    """Send the kernel's own stdout and stderr (not the cells' output, which travels over
    ZeroMQ) to the log file the executor chose, so that a crash can be explained and nothing
    reaches the instructor's terminal."""
    target = os.open(log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(target, 1)
    os.dup2(target, 2)
    os.close(target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Start ipykernel under resource limits.")
    parser.add_argument("--memory", type=int, required=True, help="bytes of address space")
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--file-size", type=int, required=True, help="bytes")
    parser.add_argument("--sandbox", help="a JSON file of bwrap and its options (bubblewrap.py)")
    parser.add_argument("kernel_arguments", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    kernel_arguments = [a for a in args.kernel_arguments if a != "--"]
    limits = Limits(args.memory, args.cpu_seconds, args.processes, args.file_size)

    _redirect_output(os.environ.get(LOG_VARIABLE))
    environment = kernel_environment(dict(os.environ))
    apply_limits(limits)
    # History in memory: concurrent kernels would otherwise share one SQLite file in HOME.
    command = [
        sys.executable,
        "-m",
        "ipykernel_launcher",
        *kernel_arguments,
        "--HistoryManager.hist_file=:memory:",
    ]
    if args.sandbox:
        command = sandboxed(args.sandbox, command, kernel_arguments)
    os.execve(command[0], command, environment)


def sandboxed(options_file: str, command: list[str], kernel_arguments: list[str]) -> list[str]:
    """``command`` in the bubblewrap sandbox whose options ``options_file`` holds, with two
    folders the executor made for this kernel writable: the folder of its connection file
    (and of its sockets), and the kernel's own folder, its home, which holds the working
    folder this process was started in (the copy of the notebook)."""
    with open(options_file, encoding="utf-8") as file:
        options = json.load(file)
    connection_file = kernel_arguments[kernel_arguments.index("-f") + 1]
    sockets = os.path.dirname(os.path.abspath(connection_file))
    here = os.getcwd()
    folder = os.path.dirname(here)
    return [
        *options,
        "--bind", sockets, sockets,
        "--bind", folder, folder,
        "--remount-ro", "/",  # the sandbox's own root: nothing but the folders above is writable
        "--chdir", here,
        "--setenv", "HOME", folder,
        "--setenv", "MPLCONFIGDIR", os.path.join(folder, ".matplotlib"),
        "--",
        # bwrap sets PWD to the working folder; the kernel gets the environment it would get
        # outside (see kernel_environment), which has none.
        *(["/usr/bin/env", "-u", "PWD"] if os.path.exists("/usr/bin/env") else []),
        *command,
    ]  # fmt: skip


if __name__ == "__main__":
    main()
