"""SIGTERM and SIGINT (Ctrl-C) while a class is graded: stop cleanly, then let them act.

An interruption must cost nothing but the run: its workers and their kernels stopped, its
scratch folders removed, OUT left with the previous results, or, once they are being
written, with every new one.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived while grading.  A BaseException, so that no ``except
    Exception`` on the way takes it for a failure to report (nbgrader's bare ``except:``
    would: the signal is held while nbgrader runs in this process)."""

    def __init__(self, number: int, written: bool):
        self.number = number
        results = "the results were written first" if written else "OUT keeps the previous results"
        super().__init__(
            f"interrupted ({signal.Signals(number).name}): the workers and their kernels are "
            f"stopped and the scratch folder is removed; {results}"
        )


class Signals:
    """SIGTERM and SIGINT (Ctrl-C) while a class is graded.

    Either raises ``Interrupted`` where the parent is, so that the ``finally`` blocks on the
    way stop the workers and their kernels and remove the scratch folders; then
    ``deliver`` hands the signal to what handled it before (Python's KeyboardInterrupt, or
    the end of the process).  While the results are written into OUT, the signal is held
    until they are all there; a second signal does not cut the clean-up short.  Only the
    main thread can take signals; elsewhere, nothing changes.
    """

    def __init__(self):
        self.received: int | None = None
        self._holding = False
        self._before: dict[int, object] = {}

    def __enter__(self) -> Signals:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGTERM, signal.SIGINT):
                before = signal.getsignal(number)
                # Left alone when ignored (nohup, a background job) or not Python's to change.
                if before is not None and before is not signal.SIG_IGN:
                    self._before[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *_) -> None:
        for number, before in self._before.items():
            signal.signal(number, before)
        self._before = {}

    def _handle(self, number: int, _frame) -> None:
        first = self.received is None
        self.received = self.received or number
        if first and not self._holding:
            raise Interrupted(number, written=False)

    @contextlib.contextmanager
    def held(self, written: bool):
        """No interruption inside; one that came is raised at the end (``written``: the
        results are in OUT by then)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self.received is not None:
            raise Interrupted(self.received, written)

    def deliver(self) -> None:
        if self.received is not None:
            signal.raise_signal(self.received)
