"""Reading untrusted HDF5 files in a child process, so a crash of the HDF5 library is one line.

The HDF5 C library trusts the bytes of a file: most corruptions (a flipped bit in a data
chunk, a truncated file, a deleted object) give an error that uavtwin turns into one line,
but a damaged object header or attribute message can make it read out of bounds and
**segfault** inside ``H5Aread`` (found by the trace fuzzer: one flipped bit in the header of
``/pricing/paths/iteration`` killed ``uavtwin inspect`` with signal 11). Nothing in Python can
catch that, so the commands that read a trace (``inspect``, ``report``) do the reading in a
forked child: it sends back the result (or the user error it raised) through a pipe, and a
child killed by a signal becomes :class:`~simulator.errors.TraceError`
``FILE: corrupt HDF5 file (the HDF5 library crashed reading it: SIGSEGV)``.

Fork is cheap (the child shares the parent's loaded modules) and POSIX-only; elsewhere the
function runs in-process as before.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import signal
from collections.abc import Callable
from typing import Any, TypeVar

from simulator.errors import TraceError

__all__ = ["in_child"]

T = TypeVar("T")


def in_child(path: str | os.PathLike[str], fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` computed in a forked child that reads the file ``path``.

    Args:
        path: the file the child reads (named in the error).
        fn: the reading function; its result must pickle.
        *args: its arguments.

    Returns:
        What ``fn`` returned.

    Raises:
        TraceError: the child died from a signal (the HDF5 library crashed on the file).
        Exception: whatever ``fn`` raised in the child (user errors included), raised again.
    """
    if not hasattr(os, "fork"):
        return fn(*args)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running the parent's cleanup
        code = 0
        try:
            faulthandler.disable()  # the parent reports a crash, in one line
            os.close(read_end)
            try:
                outcome: tuple[str, Any] = ("ok", fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the parent as is
                outcome = ("raised", exc)
            try:
                data = pickle.dumps(outcome)
            except Exception as exc:  # noqa: BLE001 - an exception that does not pickle
                data = pickle.dumps(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as src:
            data = src.read()
    finally:
        _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGINT:
            raise KeyboardInterrupt
        try:
            name: object = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        raise TraceError(f"{path}: corrupt HDF5 file (the HDF5 library crashed reading it: "
                         f"{name})")
    if not data:
        raise TraceError(f"{path}: reading it failed in the child process (exit status "
                         f"{os.waitstatus_to_exitcode(status)})")
    kind, value = pickle.loads(data)
    if kind == "raised":
        raise value
    return value
