"""Free disk space for the trace writer's checks (simulator.trace.diskspace)."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import pytest

from simulator.trace import diskspace
from simulator.trace.diskspace import disk_free_bytes


def test_free_bytes_are_those_os_statvfs_reports(tmp_path: Path) -> None:
    # the same product as os.statvfs's, up to what others wrote in between (a few MB)
    before = os.statvfs(tmp_path)
    got = disk_free_bytes(tmp_path)
    after = os.statvfs(tmp_path)
    lo, hi = sorted((before.f_bavail * before.f_frsize, after.f_bavail * after.f_frsize))
    assert lo - (64 << 20) <= got <= hi + (64 << 20)
    assert got % before.f_frsize == 0
    # a file not made yet: its directory's file system; no directory: "unknown", very large
    assert abs(disk_free_bytes(tmp_path / "run.partial.h5") - got) <= 64 << 20
    assert disk_free_bytes(tmp_path / "missing" / "run.partial.h5") == 1 << 62


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fast path is Linux's")
def test_the_check_keeps_the_interpreter_lock(tmp_path: Path, monkeypatch) -> None:
    # os.statvfs lets go of the interpreter lock for its system call, and the trace writer's
    # thread then waited for the compressing thread to give it back (15 ms in the 42 checks
    # of a 100-UAV hour, 1.4 ms of them on the CPU); on Linux the check calls libc through
    # ctypes.PyDLL, whose functions keep the lock, and answers as os.statvfs does
    fast = diskspace._libc_statvfs()
    assert fast is not None
    assert fast._flags_ & ctypes._FUNCFLAG_PYTHONAPI  # PyDLL's: the lock is kept
    calls: list[bytes] = []

    def spy(path: bytes, out: object) -> int:
        calls.append(path)
        return fast(path, out)

    monkeypatch.setattr(diskspace, "_libc_statvfs", lambda: spy)
    got = disk_free_bytes(tmp_path / "run.partial.h5")  # not made yet: its directory
    assert calls == [os.fsencode(tmp_path / "run.partial.h5"), os.fsencode(tmp_path)]
    st = os.statvfs(tmp_path)
    assert abs(got - st.f_bavail * st.f_frsize) <= 64 << 20
