"""Each grading kernel in a bubblewrap sandbox: student code sees its own folder and nothing else.

The limits of ``kernel.py`` stop a submission from using up the machine; they do not stop it
from *reading* it.  Run as the grading user, a kernel could open the instructor's
``solutions/`` by its absolute path, another student's submission, the gradebook, the
grader's home, or talk to the network.  So the kernel starts inside bubblewrap (``bwrap``,
Debian's package ``bubblewrap``): unprivileged Linux namespaces, no daemon, no image.
Inside the sandbox:

- the filesystem is a new, empty root holding read-only views of exactly what Python needs
  (the system's ``/usr`` and its libraries, the Python installation and environment, the
  folders of the ``minigrad`` package and of the grading guard), a private ``/tmp`` and
  ``/dev``, and two writable folders the executor made for this kernel: its own (the copy
  of the notebook) and that of its connection file and sockets.  The root itself is
  read-only.  No ``/home``, no ``/root`` beyond the interpreter it may live in, no course
  checkout, no OUT, no other submission;
- the network is a namespace of its own with nothing in it: no route anywhere, and its
  loopback is not the host's, so no server of the host can be reached;
- the user is ``nobody`` (65534), the processes are a PID namespace of their own whose first
  process is bwrap: when the kernel ends, or the grader that started it dies
  (``--die-with-parent``), everything the submission started ends with it;
- ``--new-session`` detaches it from the grader's terminal (no ``TIOCSTI`` keystrokes).

The grader still talks to the kernel as nbclient always does, over ZeroMQ, but through Unix
sockets rather than TCP ports (``transport = "ipc"``): a socket file crosses the network
namespace, a port on 127.0.0.1 would not.  The launcher (kernel.py, ``sandboxed``) adds the
two writable folders to the options made here, as it starts each kernel.

Where bwrap is missing or the host forbids unprivileged user namespaces (some Docker and
hub hosts), :func:`unavailable` says why, and grading goes on with the limits alone, saying
so once.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

NOBODY = 65534
# System folders every Python process reads, when they exist: read-only, at their own paths.
SYSTEM = ("/usr", "/etc/ssl", "/etc/fonts", "/etc/localtime", "/etc/ld.so.cache")
# Merged-/usr systems have these as links into /usr; older ones as folders of their own.
TOP_LEVEL_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def unavailable() -> str | None:
    """Why kernels cannot be sandboxed here, or None when they can.

    The answer comes from starting a sandbox like the real ones and running ``true`` in it,
    so it covers every reason at once: no bwrap, user namespaces switched off
    (``kernel.unprivileged_userns_clone``, ``user.max_user_namespaces``), a seccomp profile
    that forbids them (Docker's default), no permission to mount a new /proc.
    """
    binary = bwrap()
    if binary is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = [*_bwrap_options(binary, readable=()), "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not start a sandbox: {error}"
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no reason given"
        return (
            f"bubblewrap could not start a sandbox ({reason}): unprivileged user namespaces "
            f"are probably switched off on this host"
        )
    return None


def python_folders() -> list[Path]:
    """What the kernel's Python reads: its installation, its environment, and the folders of
    the packages the grading kernel imports from wherever they are installed (an editable
    install's package folders, one by one; never the checkout that holds them, which holds
    the solutions too)."""
    folders = {Path(sys.base_prefix), Path(sys.prefix)}
    for package in ("minigrad", "minigrad_course"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            folders.update(Path(p) for p in spec.submodule_search_locations)
    return _outermost(folders)


def options() -> list[str]:
    """bwrap and its options for a grading kernel, all but the kernel's own folder, which
    the launcher adds as it starts each kernel (``kernel.py``, ``sandboxed``)."""
    binary = bwrap()
    if binary is None:
        raise RuntimeError(unavailable() or "bubblewrap is not installed")
    return _bwrap_options(binary, readable=tuple(python_folders()))


def choose(wanted: str) -> tuple[list[str] | None, str | None]:
    """The sandbox a run uses, from ``--sandbox``: bwrap's options (None: no sandbox), and a
    note to show when the default had to go without one.

    ``auto`` (the default) sandboxes wherever bubblewrap works and otherwise goes on with the
    limits alone, saying why; ``bwrap`` refuses to grade without the sandbox; ``none`` grades
    without it, as asked.
    """
    if wanted == "none":
        return None, None
    if wanted not in ("auto", "bwrap"):
        raise ValueError(f"--sandbox must be bwrap, none or auto, not {wanted!r}")
    reason = unavailable()
    if reason is None:
        return options(), None
    if wanted == "bwrap":
        raise RuntimeError(f"--sandbox bwrap: {reason}")
    return None, (
        f"kernels ran WITHOUT the bubblewrap sandbox, under the resource limits alone, so "
        f"student code could read whatever the grading user can: {reason} (see the "
        f"instructor's guide, 'Limits and isolation')"
    )


def _bwrap_options(binary: str, readable: tuple[Path, ...]) -> list[str]:
    options = [
        binary,
        "--unshare-all",  # user, IPC, PID, network, UTS and cgroup namespaces of its own
        "--die-with-parent",
        "--new-session",
        "--uid", str(NOBODY),
        "--gid", str(NOBODY),
        "--hostname", "sandbox",
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/tmp",
    ]  # fmt: skip
    for path in SYSTEM:
        if os.path.exists(path):
            options += ["--ro-bind", path, path]
    for path in TOP_LEVEL_LINKS:
        if os.path.islink(path):
            options += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            options += ["--ro-bind", path, path]
    for path in readable:
        options += ["--ro-bind", str(path), str(path)]
    # ipykernel exits when its parent's pid is 1, which in a PID namespace it always is;
    # --die-with-parent ends the sandbox with the grader instead.
    options += ["--unsetenv", "JPY_PARENT_PID", "--setenv", "TMPDIR", "/tmp"]
    return options


def _outermost(folders: set[Path]) -> list[Path]:
    """The folders that are not inside another of them, resolved and sorted."""
    resolved = sorted({f.resolve() for f in folders if f.exists()}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for folder in resolved:
        if not any(folder.is_relative_to(k) for k in kept) and folder != Path("/"):
            kept.append(folder)
    return sorted(kept)
