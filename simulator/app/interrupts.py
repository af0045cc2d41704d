"""Signals for long commands: Ctrl-C that is never lost, and wall-clock budgets.

Python turns SIGINT into ``KeyboardInterrupt`` raised wherever the interpreter happens to
be. If that is a ``__del__`` method or a weakref callback (h5py closes its objects in such
callbacks), the exception is printed as "Exception ignored in ..." with a traceback and
*lost*: the run goes on and exits 0. :class:`InterruptGuard` installs a handler that raises
as usual but also sets a flag; the run loop calls :meth:`InterruptGuard.check` between steps,
which raises ``KeyboardInterrupt`` again if an earlier one was swallowed. So an interrupt is
delayed by at most one step, never dropped; and while the guard is active such a swallowed
interrupt prints nothing (the command ends with its one "interrupted" line).

:func:`time_limit` gives a solver a wall-clock budget (SIGALRM): past it, the command stops
with one line "... did not finish within N s" instead of hanging.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import Any

from simulator.errors import InputError

__all__ = ["InterruptGuard", "time_limit"]


class InterruptGuard:
    """Context manager: SIGINT raises ``KeyboardInterrupt`` and is remembered.

    Outside the main thread (where signal handlers cannot be installed) it only offers
    :meth:`check`, which then never raises.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._previous: object = None
        self._previous_hook: Callable[[Any], Any] = sys.unraisablehook
        self._installed = False

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
            self._installed = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
            sys.unraisablehook = self._previous_hook
            self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True
        raise KeyboardInterrupt

    def _unraisable(self, unraisable: Any) -> None:
        """Python could not raise an exception (in a ``__del__`` or a weakref callback): an
        interrupt of ours stays quiet (:meth:`check` raises it again), the rest is reported
        as before."""
        if not (self.interrupted and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            self._previous_hook(unraisable)

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if SIGINT arrived (even if it was swallowed)."""
        if self.interrupted:
            raise KeyboardInterrupt


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str,
               error: Callable[[str], Exception] = InputError) -> Iterator[None]:
    """Raise ``error`` if the block runs longer than ``seconds`` (wall clock).

    Args:
        seconds: the budget; None or <= 0 for none. Needs the main thread (else no budget).
        what: what runs, for the message (``"sync solve --mode nash"``).
        error: the exception type raised (default :class:`InputError`, a user error).

    Raises:
        InputError: ``"{what} did not finish within {seconds} s; ..."``.
    """
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    expired: list[Exception] = []

    def expire(signum: int, frame: FrameType | None) -> None:
        expired.append(error(f"{what} did not finish within {seconds:g} s; the input may be "
                             "too large or too stiff (raise the budget with --time-limit "
                             "SECONDS)"))
        raise expired[0]

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except Exception as exc:
        # raised inside C code (numba's unpickler, a callback), the budget error can come out
        # wrapped (SystemError "returned a result with an exception set") or replaced: once
        # the budget has expired, that is the error
        if expired and exc is not expired[0]:
            raise expired[0] from None
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
