"""Inside a grading kernel: put back what student code changed that tests rely on.

A test cell trusts more than the student's functions.  It trusts ``check_close`` to compare,
numpy to compute, minigrad to be the reference, and IPython to run the cell as written and
report its errors.  Student code runs in the same process and can change any of these: one
line in an exercise cell that makes IPython skip every cell mentioning ``check_``, or that
silences tracebacks, and every test passes.  nbgrader cannot see that; it only sees a test
cell without an error.

So the grader (execute.py) has the kernel run ``Guard()`` before the first cell, which
takes a snapshot of all that, and ``check`` before every test cell, which compares and puts
back whatever differs, and names it: the grade then says the notebook was tampered with.

What is covered, taken at kernel start:

- IPython's input and AST transformers and its custom exception handler, the shell's and
  the kernel's methods that run a cell and report its result or error, and event
  callbacks defined in the notebook (libraries' own callbacks, like matplotlib's, stay);
- the functions and classes of builtins, math, numpy, numpy.testing and minigrad's modules
  (minigrad is the tests' reference), and the methods and properties of minigrad's classes
  (not their data: some of it is state that changes as the library runs);
- the notebook's own names for minigrad.testing's checks (``check_close`` and the others).

What is not: a student who reads this module can find the snapshot in memory and change it
too.  This stops the cheap tricks, and each one it stops is reported by name.

After a test cell, ``forget_cell`` takes the cell's source out of the kernel's history
(``In``, ``_i``, the history database, and the line cache tracebacks read from), so a later
cell cannot print the hidden tests it held.
"""

from __future__ import annotations

import importlib
import linecache
import sys
import types

MODULES = ("builtins", "math", "numpy", "numpy.testing", "minigrad", "minigrad.testing")
MINIGRAD_MODULES = (
    "autodiff", "datasets", "dual", "engine", "functional", "gradcheck", "nn", "ops", "optim",
    "tensor",
)  # fmt: skip

# The shell's, kernel's and session's methods a cell's run and its report go through.
SHELL_METHODS = (
    "run_cell", "run_cell_async", "run_ast_nodes", "run_code", "transform_cell",
    "transform_ast", "showtraceback", "_showtraceback", "showsyntaxerror", "should_run_async",
    "set_custom_exc", "CustomTB",
)  # fmt: skip
KERNEL_METHODS = ("do_execute", "execute_request", "send_response", "_publish_execute_input")
SESSION_METHODS = ("send", "serialize")
IPYTHON_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")


_active: Guard | None = None


def install() -> bool:
    """Take the snapshot in this kernel (the grader calls it before the first cell)."""
    global _active
    from IPython import get_ipython

    _active = Guard(get_ipython())
    return True


def check() -> list[str]:
    """Put back what changed since ``install``; what was put back (the grader reports it)."""
    return _active.check() if _active is not None else []


def forget_cell(number: int) -> None:
    if _active is not None:
        _active.forget_cell(number)


class Guard:
    """A snapshot of what tests rely on, taken in a kernel before any student code runs."""

    def __init__(self, shell) -> None:
        self.shell = shell
        for name in MODULES:
            importlib.import_module(name)
        for name in MINIGRAD_MODULES:
            importlib.import_module(f"minigrad.{name}")
        self.modules = {
            name: (module, _functions_and_classes(vars(module)))
            for name, module in sys.modules.items()
            if name in MODULES or name.startswith("minigrad.")
        }
        self.classes = {
            cls: _behaviour(vars(cls))
            for name, (module, kept) in self.modules.items()
            if name.startswith("minigrad")
            for cls in kept.values()
            if isinstance(cls, type) and _in_minigrad(cls.__module__)
        }
        self.checks = {name: getattr(sys.modules["minigrad.testing"], name) for name in _checks()}
        self.lists = {name: list(getattr(shell, name)) for name in IPYTHON_LISTS}
        self.custom_exceptions = shell.custom_exceptions
        self.methods = [
            (obj, name, getattr(obj, name), name in vars(obj))
            for obj, names in self._objects()
            for name in names
            if hasattr(obj, name)
        ]

    def _objects(self):
        kernel = getattr(self.shell, "kernel", None)
        yield self.shell, SHELL_METHODS
        yield self.shell.displayhook, ("__call__", "write_format_data", "finish_displayhook")
        if kernel is not None:
            yield kernel, KERNEL_METHODS
            yield kernel.session, SESSION_METHODS
        session = getattr(self.shell.displayhook, "session", None)
        if session is not None and (kernel is None or session is not kernel.session):
            yield session, SESSION_METHODS

    def check(self) -> list[str]:
        """Put back everything that differs from the snapshot; what was put back, in words."""
        changed = []
        for name, (module, kept) in self.modules.items():
            for attr, value in kept.items():
                if vars(module).get(attr, _MISSING) is not value:
                    setattr(module, attr, value)
                    changed.append(f"{name}.{attr}")
        for cls, kept in self.classes.items():
            added = set(_behaviour(vars(cls))) - set(kept) - {"__weakref__", "__dict__"}
            for attr in added:
                delattr(cls, attr)
                changed.append(f"{cls.__module__}.{cls.__qualname__}.{attr} (added)")
            for attr, value in kept.items():
                if vars(cls).get(attr, _MISSING) is not value:
                    setattr(cls, attr, value)
                    changed.append(f"{cls.__module__}.{cls.__qualname__}.{attr}")
        namespace = self.shell.user_ns
        for name, check in self.checks.items():
            if name in namespace and namespace[name] is not check:
                namespace[name] = check
                changed.append(f"{name} in the notebook")
        for name, kept in self.lists.items():
            current = getattr(self.shell, name)
            if current != kept:
                current[:] = kept
                changed.append(f"IPython's {name}")
        if self.shell.custom_exceptions != self.custom_exceptions:
            self.shell.set_custom_exc((), None)
            changed.append("IPython's custom exception handler")
        for obj, name, value, own in self.methods:
            if getattr(obj, name, _MISSING) != value:
                if own:
                    setattr(obj, name, value)
                else:
                    vars(obj).pop(name, None)  # an attribute set on the object hides its method
                    if getattr(obj, name, _MISSING) != value:
                        setattr(type(obj), name, getattr(value, "__func__", value))
                changed.append(f"{type(obj).__name__}.{name}")
        for event, callbacks in self.shell.events.callbacks.items():
            for callback in list(callbacks):
                if getattr(callback, "__module__", None) == "__main__":
                    callbacks.remove(callback)
                    changed.append(f"an IPython {event} callback defined in the notebook")
        return changed

    def forget_cell(self, number: int) -> None:
        """Take the source of the cell run as ``In[number]`` out of the kernel's memory."""
        shell, history = self.shell, self.shell.history_manager
        sources = set()
        for kept in (history.input_hist_parsed, history.input_hist_raw):
            if 0 <= number < len(kept):
                sources.add(kept[number])
                kept[number] = ""
        sources.discard("")
        # The last inputs, as history holds them (_i00 is the newest) and as the notebook
        # sees them (_i, _ii, _iii and _i<number>).
        for name in ("_i00", "_i", "_ii", "_iii"):
            if getattr(history, name, None) in sources:
                setattr(history, name, "")
        for name in ("_i", "_ii", "_iii", f"_i{number}"):
            if shell.user_ns.get(name) in sources:
                shell.user_ns[name] = ""
        try:
            history.writeout_cache()
            history.db.execute(
                "UPDATE input SET source = '', source_raw = '' WHERE session = ? AND line = ?",
                (history.session_number, number),
            )
        except Exception:  # no database (history disabled), or another schema
            pass
        for filename, run in list(getattr(shell.compile, "_filename_map", {}).items()):
            if run == number:
                linecache.cache.pop(filename, None)


def _functions_and_classes(namespace: dict) -> dict:
    """The entries of a module worth guarding: its functions, classes and submodules, not
    its data (numpy's print options, for one, may change legitimately)."""
    return {
        name: value
        for name, value in namespace.items()
        if callable(value) or isinstance(value, types.ModuleType)
    }


def _behaviour(namespace) -> dict:
    """The entries of a class worth guarding: its methods, properties and other descriptors,
    not its data.  A class attribute can be state that the library itself changes as it
    runs (``Version.clock`` counts changes in place, ``GradMode.enabled`` follows
    ``no_grad``): putting that back would report an honest notebook as tampered, and
    turning the clock back would break the very checks it drives."""
    return {
        name: value
        for name, value in namespace.items()
        if callable(value) or hasattr(type(value), "__get__")
    }


def _checks() -> list[str]:
    testing = sys.modules["minigrad.testing"]
    return [name for name in getattr(testing, "__all__", ()) if callable(getattr(testing, name))]


def _in_minigrad(module: str) -> bool:
    """Whether a class comes from the minigrad library (not from a package merely named like it)."""
    return module == "minigrad" or module.startswith("minigrad.")


_MISSING = object()
