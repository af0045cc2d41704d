"""Free disk space, asked for before every chunk a trace writer writes.

The trace writer checks the free space before each chunk (a full disk must not corrupt the
partial file, see :mod:`simulator.trace.writer`), on the simulating thread, while a worker
thread compresses chunks. ``os.statvfs`` lets go of the interpreter lock for its system
call, and the worker, waiting for the lock between two columns, takes it: the simulating
thread then waits until the worker lets go again, much longer than the call itself (a
100-UAV hour of the benchmark world spent 15 ms of wall time in its 42 checks, 1.4 ms of
them on the CPU). On Linux the system call is therefore made through ``ctypes.PyDLL``,
which keeps the lock; it takes a microsecond or two. Elsewhere, and if the C library cannot
be reached, ``os.statvfs`` answers.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["disk_free_bytes"]


class _StatVfs(ctypes.Structure):
    """The start of Linux's ``struct statvfs`` as glibc declares it (every field up to
    ``f_bavail`` an ``unsigned long``), padded well beyond its full size."""

    _fields_ = [("f_bsize", ctypes.c_ulong), ("f_frsize", ctypes.c_ulong),
                ("f_blocks", ctypes.c_ulong), ("f_bfree", ctypes.c_ulong),
                ("f_bavail", ctypes.c_ulong), ("_rest", ctypes.c_ubyte * 256)]


@functools.cache
def _libc_statvfs() -> Callable[[bytes, _StatVfs], int] | None:
    """libc's ``statvfs`` called with the interpreter lock held, or None: not Linux, no
    such symbol, or a structure that does not read as ``os.statvfs`` reads it (block size
    and count of the root file system compared once)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.PyDLL(None).statvfs
        call.argtypes = [ctypes.c_char_p, ctypes.POINTER(_StatVfs)]
        call.restype = ctypes.c_int
        st, ref = _StatVfs(), os.statvfs("/")
    except (OSError, AttributeError):
        return None
    if call(b"/", ctypes.byref(st)) != 0 or (st.f_frsize, st.f_blocks) != (ref.f_frsize,
                                                                          ref.f_blocks):
        return None
    return call  # type: ignore[no-any-return]


def _free_bytes(path: str | os.PathLike[str]) -> int:
    """``f_bavail * f_frsize`` of the file system holding ``path`` (which must exist)."""
    call = _libc_statvfs()
    if call is not None:
        st = _StatVfs()
        if call(os.fsencode(path), ctypes.byref(st)) == 0:
            return int(st.f_bavail) * int(st.f_frsize)
    st_os = os.statvfs(path)  # (a failed call) raises the OSError, FileNotFoundError included
    return st_os.f_bavail * st_os.f_frsize


def disk_free_bytes(path: str | os.PathLike[str]) -> int:
    """Bytes an unprivileged process may still write on the file system holding ``path``.

    Args:
        path: A file or directory (the file need not exist; its directory must).

    Returns:
        ``f_bavail * f_frsize`` of ``statvfs``; a very large number where unavailable.
    """
    try:
        try:
            return _free_bytes(path)  # one system call per chunk written: the file exists
        except FileNotFoundError:
            return _free_bytes(Path(path).parent)
    except (OSError, AttributeError):
        return 1 << 62
