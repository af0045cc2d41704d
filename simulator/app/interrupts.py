"""Ctrl-C that is never lost: a SIGINT handler that also remembers the interrupt.

Python turns SIGINT into ``KeyboardInterrupt`` raised wherever the interpreter happens to
be. If that is a ``__del__`` method or a weakref callback (h5py closes its objects in such
callbacks), the exception is printed as "Exception ignored in ..." and *lost*: the run goes
on and exits 0. :class:`InterruptGuard` installs a handler that raises as usual but also
sets a flag; the run loop calls :meth:`InterruptGuard.check` between steps, which raises
``KeyboardInterrupt`` again if an earlier one was swallowed. So an interrupt is delayed by at
most one step, never dropped.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType

__all__ = ["InterruptGuard"]


class InterruptGuard:
    """Context manager: SIGINT raises ``KeyboardInterrupt`` and is remembered.

    Outside the main thread (where signal handlers cannot be installed) it only offers
    :meth:`check`, which then never raises.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._previous: object = None
        self._installed = False

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
            self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True
        raise KeyboardInterrupt

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if SIGINT arrived (even if it was swallowed)."""
        if self.interrupted:
            raise KeyboardInterrupt
