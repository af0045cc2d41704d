"""Calling compiled (numba) functions so that a signal handler's exception comes out as itself.

A signal handler that raises (Ctrl-C's ``KeyboardInterrupt``, ``--time-limit``'s alarm) while
numba's dispatcher runs Python code comes back wrapped in a ``SystemError`` ("... returned a
result with an exception set"). The dispatcher runs Python code when a function's cached
machine code is loaded on its first call in a process, and the first compiled call of a
process also builds numba's compiler target (about 0.3 s). Every caller of a compiled
function in uavtwin goes through :func:`call` or :func:`unwrap`, so that an interrupted run
stops as interrupted (exit 130, its trace marked ``partial``) and a budget stops with its one
line, whichever kernel happened to be loading.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["call", "unwrap"]


def unwrap(err: SystemError) -> NoReturn:
    """Raise the exception a ``SystemError`` from compiled code wraps (``err`` itself if it
    wraps none)."""
    if err.__cause__ is None:
        raise err
    raise err.__cause__ from None


def call(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` for a compiled function, a signal handler's exception unwrapped
    (:func:`unwrap`)."""
    try:
        return fn(*args)
    except SystemError as err:
        unwrap(err)
