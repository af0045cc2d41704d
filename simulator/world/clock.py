"""Every UAV's coverage timeline walked by one SimPy event source, in exact per-UAV order.

A UAV's coverage events (cell enters and leaves, early warnings, its arrival and departure)
are known when the world is built. The model's reference semantics is one SimPy process per
UAV that handles the events due at the current instant and then sleeps with
``env.timeout(t_next - env.now)`` until the next one. :class:`CoverageClock` reproduces that
process's behaviour exactly with one entry in SimPy's event queue instead of one per UAV:

* A *resume* is one wake-up of a UAV's process: the events it handles without sleeping. A UAV's
  first resume is its process's start (at time 0, SimPy's ``URGENT`` priority); each later one
  happens at ``s_prev + (t - s_prev)`` where ``t`` is the time of its first event and ``s_prev``
  the clock value of the resume before (the same floating-point sum SimPy's timeout makes), and
  it also handles every further event of that UAV whose time is not later than its own.
* SimPy orders events due at the same time by a counter drawn when each was scheduled. When a
  UAV finishes a resume that has a successor, the clock draws that number from SimPy's own
  counter, at the moment the process would have scheduled its timeout. Each resume then enters
  SimPy's queue under exactly the key ``(time, NORMAL, number)`` the process's timeout would
  have had, so it runs in the same order relative to every other event (market wake-ups,
  transfers, faults, sensing) as the per-UAV processes did.
* The order of all resumes is computed once, at build, by sorting on ``(s, order of the
  predecessor resume)``: that is the counter's order, because a resume's number is drawn when
  its predecessor ends. Only one resume is in SimPy's queue at a time: the next in this order.

So a run makes the same calls at the same clock values in the same order as with a process
per UAV, and writes the same trace, while SimPy's heap holds a handful of entries instead of
one per UAV and no generator is resumed per coverage event (issue 13). The UAV processes'
start and end events are not made; they did nothing.

This relies on SimPy 4's event queue holding ``(time, priority, number, event)`` tuples and on
its counter ``Environment._eid`` (setup.cfg pins ``simpy>=4.1,<5``);
tests/test_coverage_clock.py checks the result against per-UAV processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from heapq import heappush

import numpy as np
import simpy
from simpy.events import NORMAL

__all__ = ["ARRIVE", "DEPART", "ENTER", "LEAVE", "PRE_LEAVE", "CoverageClock", "Resumes",
           "merge_timelines", "resume_times"]

#: Kinds of timeline events: coverage leave/enter (as written to ``/coverage/events``), the
#: early warning before a leave (``pricing.prediction_margin_s`` > 0), and the start and end of
#: the UAV's presence (imported traces; a departure leaves every cell the UAV is in).
LEAVE, ENTER, PRE_LEAVE, ARRIVE, DEPART = 0, 1, 2, 3, 4

#: Resumes turned into Python numbers at a time while the clock runs; turning all at once would
#: hold every coverage event of the run as Python objects from its start.
BLOCK = 1024


def resume_times(t: Sequence[float]) -> tuple[list[int], list[float]]:
    """The resumes of one UAV's process over its event times ``t`` (the reference rule).

    Returns:
        ``(resume, s)``: for each event the index of the resume that handles it (0 = the
        process's start, at time 0), and each resume's clock value (``s[0]`` = 0.0).
    """
    s_now = 0.0
    resume, s = [], [0.0]
    for t_k in t:
        if t_k > s_now:
            s_now = s_now + (t_k - s_now)
            s.append(s_now)
        resume.append(len(s) - 1)
    return resume, s


@dataclass(frozen=True, eq=False)
class Resumes:
    """All resumes of all UAVs, in the order the clock runs them.

    The first ``n_uavs`` are the processes' starts, in UAV order (all at time 0); the others
    follow sorted by their key. The events of resume ``r`` are entries
    ``end[r - 1]`` (0 for ``r = 0``) to ``end[r]`` of ``t``, ``rsu``, ``kind``.

    Attributes:
        uav: ``[R]`` the UAV of each resume (int32).
        s: ``[R]`` clock value of each resume (s).
        end: ``[R]`` end of each resume's entries (int64).
        more: ``[R]`` True when the UAV has a later resume.
        t, rsu, kind: ``[E]`` the events (time, RSU id or -1, kind), grouped by resume.
    """

    n_uavs: int
    uav: np.ndarray
    s: np.ndarray
    end: np.ndarray
    more: np.ndarray
    t: np.ndarray
    rsu: np.ndarray
    kind: np.ndarray


def merge_timelines(timelines: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
                    arrive_s: Sequence[float], depart_s: Sequence[float | None]) -> Resumes:
    """Merge per-UAV timelines into the clock's order of resumes.

    Args:
        timelines: per UAV ``(t, rsu, kind)`` of its coverage events, in handling order.
        arrive_s: per UAV the start of its presence (an :data:`ARRIVE` event before its
            timeline).
        depart_s: per UAV the end of its presence, or None if it stays to the end (a
            :data:`DEPART` event after its timeline).
    """
    n = len(timelines)
    if n == 0:
        return Resumes(0, np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int64),
                       np.zeros(0, bool), np.zeros(0), np.zeros(0, np.int32), np.zeros(0, np.int8))
    ts, rs, ks = [], [], []
    for u, (t_u, r_u, k_u) in enumerate(timelines):
        gone = depart_s[u]
        ts += [[arrive_s[u]], t_u] + ([] if gone is None else [[gone]])
        rs += [[-1], r_u] + ([] if gone is None else [[-1]])
        ks += [[ARRIVE], k_u] + ([] if gone is None else [[DEPART]])
    counts = np.array([len(tl[0]) + 1 + (depart_s[u] is not None)
                       for u, tl in enumerate(timelines)], dtype=np.int64)
    t = np.concatenate(ts).astype(np.float64)
    rsu = np.concatenate(rs).astype(np.int32)
    kind = np.concatenate(ks).astype(np.int8)
    owner = np.repeat(np.arange(n), counts)
    lo = np.concatenate(([0], np.cumsum(counts)[:-1]))

    # Each UAV's resumes. Guess: a resume's clock value is the time of its first event (SimPy's
    # sum s_prev + (t - s_prev) is exact when s_prev >= t / 2, so nearly always); a UAV whose
    # times are out of order or whose guess fails the exact check is redone by the reference
    # rule, resume_times.
    first = np.zeros(len(t), dtype=bool)
    first[lo] = True
    before = np.zeros(len(t))
    before[~first] = np.maximum(t[np.flatnonzero(~first) - 1], 0.0)
    starts = t > before
    resume_of = np.cumsum(starts)
    resume_of -= np.repeat(resume_of[lo] - starts[lo], counts)
    s_entry = np.zeros(len(t))  # the guessed clock value of each start entry's predecessor
    idx = np.flatnonzero(starts)
    prev_start = np.zeros(len(idx), dtype=bool)
    prev_start[1:] = owner[idx[1:]] == owner[idx[:-1]]
    s_entry[idx[1:][prev_start[1:]]] = t[idx[:-1][prev_start[1:]]]
    inexact = (s_entry[idx] + (t[idx] - s_entry[idx])) != t[idx]
    unordered = np.zeros(len(t), dtype=bool)
    unordered[~first] = t[~first] < t[np.flatnonzero(~first) - 1]
    bad = np.unique(np.concatenate((owner[idx[inexact]], owner[unordered])))
    fixed_s: dict[int, list[float]] = {}
    for u in bad.tolist():
        a, b = lo[u], lo[u] + counts[u]
        r_u, s_u = resume_times(t[a:b].tolist())
        resume_of[a:b] = r_u
        fixed_s[u] = s_u
    n_res = resume_of[lo + counts - 1] + 1  # per UAV, its start included
    res_lo = np.concatenate(([0], np.cumsum(n_res)[:-1]))
    res_id = res_lo[owner] + resume_of  # per entry, UAV-major resume id
    total = int(n_res.sum())
    s = np.zeros(total)
    good = np.ones(len(t), dtype=bool)
    good[np.isin(owner, bad)] = False
    gs = starts & good
    s[res_id[gs]] = t[gs]
    for u, s_u in fixed_s.items():
        s[res_lo[u]:res_lo[u] + n_res[u]] = s_u
    res_uav = np.repeat(np.arange(n), n_res)
    res_k = np.arange(total) - res_lo[res_uav]
    entries = np.bincount(res_id, minlength=total)
    entry_lo = np.concatenate(([0], np.cumsum(entries)[:-1]))

    order = _order(n, s, res_k, res_lo)
    cnt = entries[order]
    end = np.cumsum(cnt)
    perm = np.repeat(entry_lo[order] - (end - cnt), cnt) + np.arange(int(end[-1]) if total else 0)
    return Resumes(n, res_uav[order].astype(np.int32), s[order], end.astype(np.int64),
                   res_k[order] < n_res[res_uav[order]] - 1, t[perm], rsu[perm], kind[perm])


def _order(n: int, s: np.ndarray, k: np.ndarray, res_lo: np.ndarray) -> np.ndarray:
    """Resume ids (UAV-major) in the order the clock runs them: the starts in UAV order, then
    the rest by ``(s, position of the predecessor)`` (see the module's docstring)."""
    later = np.flatnonzero(k > 0)
    # ids are UAV-major, so a stable sort leaves ties by UAV: right for the UAVs' first resumes
    order = later[np.argsort(s[later], kind="stable")]
    pos = np.empty(len(s), dtype=np.int64)
    pos[res_lo] = np.arange(n)
    pos[order] = n + np.arange(len(order))
    s_sorted = s[order]
    tie = np.flatnonzero(s_sorted[1:] == s_sorted[:-1])
    if len(tie):
        # groups of equal clock values, in increasing order of time: a group's predecessors
        # are all earlier, so their positions are final when it is sorted
        breaks = np.flatnonzero(np.diff(tie) > 1)
        for a, b in zip(np.concatenate(([tie[0]], tie[breaks + 1])).tolist(),
                        (np.concatenate((tie[breaks], [tie[-1]])) + 2).tolist(), strict=True):
            members = order[a:b]
            key = pos[members - 1]  # the predecessor is the UAV's previous resume
            if np.any(np.diff(key) < 0):
                members = members[np.argsort(key, kind="stable")]
                order[a:b] = members
                pos[members] = n + np.arange(a, b)
    return np.concatenate((res_lo, order))


class _Wakeup(simpy.Event):
    """The clock's entry in SimPy's queue: an event that has succeeded and is re-queued once
    per resume (SimPy clears its callbacks each time it runs)."""

    def __init__(self, env: simpy.Environment) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        self.callbacks = None  # type: ignore[assignment]  (set when queued)


class CoverageClock:
    """Runs every UAV's resumes (:class:`Resumes`) from one entry in SimPy's queue.

    Args:
        env: the run's environment; the clock's start is scheduled at once, as a process would
            be (so create the clock where the per-UAV processes would be created).
        resumes: from :func:`merge_timelines`.
        handle: called with ``(uav, t, rsu, kind)`` for each event, at its resume's clock value.
    """

    def __init__(self, env: simpy.Environment, resumes: Resumes,
                 handle: Callable[[int, float, int, int], None]) -> None:
        self.env = env
        self.resumes = resumes
        self.handle = handle
        self._pending = [0] * resumes.n_uavs  # per UAV: the number of its next resume
        self._wakeup = _Wakeup(env)
        self._next = resumes.n_uavs  # index of the next resume to run
        self._block: tuple[list[int], list[float], list[int], list[bool]] = ([], [], [], [])
        self._block_lo = self._next  # first resume of the loaded block
        self._events: tuple[list[float], list[int], list[int]] = ([], [], [])
        self._events_lo = 0  # first event of the loaded block
        env.process(self._start())

    @property
    def unqueued_numbers(self) -> int:
        """Numbers drawn from SimPy's counter for resumes that are neither run nor in SimPy's
        queue yet (SimPy's count of scheduled events, ``next(env._eid)``, includes them)."""
        drawn = int(np.count_nonzero(self.resumes.more[:self._next]))  # one per finished resume
        run = self._next - self.resumes.n_uavs
        return drawn - run - int(self._wakeup.callbacks is not None)

    def _start(self):  # a generator, run once as a process: SimPy's URGENT start at time 0
        r = self.resumes
        n = r.n_uavs
        hi = r.end[:n].tolist()
        t, rsu, kind = (r.t[:hi[-1] if n else 0].tolist(), r.rsu[:hi[-1] if n else 0].tolist(),
                        r.kind[:hi[-1] if n else 0].tolist())
        handle, eid, lo = self.handle, self.env._eid, 0
        for u, (end, more) in enumerate(zip(hi, r.more[:n].tolist(), strict=True)):
            for k in range(lo, end):
                handle(u, t[k], rsu[k], kind[k])
            lo = end
            if more:
                self._pending[u] = next(eid)
        self._queue_next()
        return
        yield  # pragma: no cover (makes this a generator)

    def _load(self) -> None:
        """Turn the block of resumes that starts at ``self._next`` into Python numbers."""
        r = self.resumes
        a, b = self._next, min(self._next + BLOCK, len(r.s))
        self._block = (r.uav[a:b].tolist(), r.s[a:b].tolist(), r.end[a:b].tolist(),
                       r.more[a:b].tolist())
        self._block_lo = a
        e0 = int(r.end[a - 1]) if a else 0
        e1 = int(r.end[b - 1])
        self._events = (r.t[e0:e1].tolist(), r.rsu[e0:e1].tolist(), r.kind[e0:e1].tolist())
        self._events_lo = e0

    def _queue_next(self) -> None:
        """Put the next resume in SimPy's queue under the key its timeout would have had."""
        i = self._next - self._block_lo
        if i >= len(self._block[0]):
            if self._next >= len(self.resumes.s):
                return
            self._load()
            i = 0
        uav, s = self._block[0][i], self._block[1][i]
        wakeup = self._wakeup
        wakeup.callbacks = [self._resume]
        heappush(self.env._queue, (s, NORMAL, self._pending[uav], wakeup))

    def _resume(self, _event: simpy.Event) -> None:
        i = self._next - self._block_lo
        uav, _s, ends, more = self._block
        u = uav[i]
        lo = (ends[i - 1] if i else (int(self.resumes.end[self._next - 1]))) - self._events_lo
        hi = ends[i] - self._events_lo
        t, rsu, kind = self._events
        handle = self.handle
        for k in range(lo, hi):
            handle(u, t[k], rsu[k], kind[k])
        if more[i]:
            self._pending[u] = next(self.env._eid)
        self._next += 1
        self._queue_next()
