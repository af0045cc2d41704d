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
    follow sorted by their key. Resume ``r`` handles the events ``first[r]`` to
    ``first[r] + count[r]`` of ``t``, ``rsu``, ``kind``, which hold each UAV's events in its own
    order (UAV ``u``'s are ``lo[u]`` to ``lo[u + 1]``). A later resume's clock value is the time
    of its first event, except where SimPy's sum is not (``fix_at``, ``fix_s``). Kept small:
    ``4 + 4`` bytes per resume and ``13`` per event besides the sort key's transients.

    Attributes:
        n_uavs: number of UAVs.
        lo: ``[n_uavs + 1]`` offsets of the UAVs' events (int64).
        t, rsu, kind: ``[E]`` the events (time, RSU id or -1, kind), UAV-major.
        first, count: ``[R]`` each resume's events (int32), in the clock's order.
        fix_at, fix_s: resumes (ascending) whose clock value is not their first event's time,
            and their clock values.
    """

    n_uavs: int
    lo: np.ndarray
    t: np.ndarray
    rsu: np.ndarray
    kind: np.ndarray
    first: np.ndarray
    count: np.ndarray
    fix_at: np.ndarray
    fix_s: np.ndarray

    def __len__(self) -> int:
        return len(self.first)

    def uavs(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Resumes ``a`` to ``b``: their UAVs, and whether each UAV has a later resume (it has
        events after this resume's)."""
        first = self.first[a:b]
        uav = np.searchsorted(self.lo, first, side="right") - 1
        return uav, first + self.count[a:b] < self.lo[uav + 1]

    def block(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Resumes ``a`` to ``b``: their UAVs, clock values, whether each UAV has a later
        resume, and the index of each of their events in ``t``, ``rsu``, ``kind``."""
        first, count = self.first[a:b], self.count[a:b]
        uav, more = self.uavs(a, b)
        s = np.zeros(b - a)
        later = np.arange(a, b) >= self.n_uavs
        s[later] = self.t[first[later]]
        i, j = np.searchsorted(self.fix_at, [a, b])
        s[self.fix_at[i:j] - a] = self.fix_s[i:j]
        ends = np.cumsum(count)
        events = np.repeat(first - (ends - count), count) + np.arange(int(ends[-1]) if len(ends)
                                                                       else 0)
        return uav, s, more, events


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
    ts: list = []
    rs: list = []
    ks: list = []
    for u, (t_u, r_u, k_u) in enumerate(timelines):
        gone = depart_s[u]
        ts += [(arrive_s[u],), t_u] + ([] if gone is None else [(gone,)])
        rs += [(-1,), r_u] + ([] if gone is None else [(-1,)])
        ks += [(ARRIVE,), k_u] + ([] if gone is None else [(DEPART,)])
    counts = np.array([len(tl[0]) + 1 + (depart_s[u] is not None)
                       for u, tl in enumerate(timelines)], dtype=np.int64)
    lo = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    t = np.concatenate(ts).astype(np.float64) if n else np.zeros(0)
    rsu = np.concatenate(rs).astype(np.int32) if n else np.zeros(0, np.int32)
    kind = np.concatenate(ks).astype(np.int8) if n else np.zeros(0, np.int8)
    del ts, rs, ks
    if len(t) >= 2**31 - 1:
        raise ValueError(f"merge_timelines: {len(t)} coverage events, more than 2**31 - 1")

    # Each UAV's resumes. Guess: every resume's clock value is the time of its first event
    # (SimPy's sum s_prev + (t - s_prev) is exact when s_prev >= t / 2, so nearly always); then
    # the clock value before each event is the previous event's time (0 before the first, and
    # never below 0). A UAV whose times go down or whose guess fails the check of the sum is
    # redone by the reference rule, resume_times.
    heads = lo[:-1]
    before = np.empty_like(t)
    before[1:] = t[:-1]
    before[heads] = 0.0
    np.maximum(before, 0.0, out=before)
    starts = t > before
    check = t - before
    check += before
    bad_entry = starts & (check != t)
    del check, before
    down = np.zeros(len(t), dtype=bool)
    down[1:] = t[1:] < t[:-1]
    down[heads] = False  # (a UAV's first event follows no event of its own)
    bad_entry |= down
    del down
    owner = np.repeat(np.arange(n, dtype=np.int32), counts)
    bad = np.unique(owner[bad_entry]).tolist()
    del bad_entry
    resume_of = np.cumsum(starts, dtype=np.int32)  # per event, its resume within its UAV
    resume_of -= np.repeat(resume_of[heads] - starts[heads], counts)
    fixed: dict[int, list[float]] = {}
    for u in bad:
        r_u, s_u = resume_times(t[lo[u]:lo[u + 1]].tolist())
        resume_of[lo[u]:lo[u + 1]] = r_u
        fixed[u] = s_u
    n_res = (resume_of[lo[1:] - 1] + 1).astype(np.int64)  # per UAV, its start included
    res_lo = np.concatenate(([0], np.cumsum(n_res)[:-1])).astype(np.int64)
    total = int(n_res.sum()) if n else 0
    # per resume (UAV-major): its first event, its clock value, its index within its UAV
    res_id = resume_of
    res_id += np.repeat(res_lo.astype(np.int32), counts)
    del owner, resume_of
    count = np.bincount(res_id, minlength=total).astype(np.int32)
    first = np.concatenate(([0], np.cumsum(count, dtype=np.int64)[:-1])).astype(np.int32)
    # a resume with no events is a UAV's start (arrival later than 0): it sits before the
    # UAV's first event
    s = np.zeros(total)
    for u in bad:
        starts[lo[u]:lo[u + 1]] = False
    s[res_id[starts]] = t[starts]
    del starts, res_id
    for u, s_u in fixed.items():
        s[res_lo[u]:res_lo[u] + n_res[u]] = s_u
    order = _order(n, s, res_lo)
    s_run = s[order]
    del s
    first_run = first[order]
    # the starts' clock value is 0; a later resume's is its first event's time, but where the
    # sum was not exact
    fix_at = n + np.flatnonzero(s_run[n:] != t[first_run[n:]])
    return Resumes(n, lo, t, rsu, kind, first_run, count[order], fix_at, s_run[fix_at])


def _order(n: int, s: np.ndarray, res_lo: np.ndarray) -> np.ndarray:
    """Resume ids (UAV-major) in the order the clock runs them: the starts in UAV order, then
    the rest by ``(s, position of the predecessor)`` (see the module's docstring)."""
    is_start = np.zeros(len(s), dtype=bool)
    is_start[res_lo] = True
    later = np.flatnonzero(~is_start).astype(np.int32)
    del is_start
    # ids are UAV-major, so a stable sort leaves ties by UAV: right for the UAVs' first resumes
    order = later[np.argsort(s[later], kind="stable")]
    del later
    s_sorted = s[order]
    tie = np.flatnonzero(s_sorted[1:] == s_sorted[:-1])
    del s_sorted
    if len(tie):
        pos = np.empty(len(s), dtype=np.int64)
        pos[res_lo] = np.arange(n)
        pos[order] = n + np.arange(len(order))
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
    return np.concatenate((res_lo.astype(np.int32), order))


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
        # the loaded block of resumes: UAVs, clock values, ends of their events in _events,
        # whether each UAV has a later resume
        self._block: tuple[list[int], list[float], list[int], list[bool]] = ([], [], [], [])
        self._block_lo = self._next  # first resume of the loaded block
        self._events: tuple[list[float], list[int], list[int]] = ([], [], [])
        env.process(self._start())

    @property
    def unqueued_numbers(self) -> int:
        """Numbers drawn from SimPy's counter for resumes that are neither run nor in SimPy's
        queue yet (SimPy's count of scheduled events, ``next(env._eid)``, includes them)."""
        drawn = int(np.count_nonzero(self.resumes.uavs(0, self._next)[1]))  # one per more
        run = self._next - self.resumes.n_uavs
        return drawn - run - int(self._wakeup.callbacks is not None)

    def _load(self, a: int, b: int) -> None:
        """Turn resumes ``a`` to ``b`` into Python numbers."""
        r = self.resumes
        uav, s, more, events = r.block(a, b)
        self._block = (uav.tolist(), s.tolist(), np.cumsum(r.count[a:b]).tolist(), more.tolist())
        self._block_lo = a
        self._events = (r.t[events].tolist(), r.rsu[events].tolist(), r.kind[events].tolist())

    def _start(self):  # a generator, run once as a process: SimPy's URGENT start at time 0
        n = self.resumes.n_uavs
        self._load(0, n)
        uav, _s, ends, more = self._block
        t, rsu, kind = self._events
        handle, eid, lo = self.handle, self.env._eid, 0
        for u, end, more_u in zip(uav, ends, more, strict=True):
            for k in range(lo, end):
                handle(u, t[k], rsu[k], kind[k])
            lo = end
            if more_u:
                self._pending[u] = next(eid)
        self._queue_next()
        return
        yield  # pragma: no cover (makes this a generator)

    def _queue_next(self) -> None:
        """Put the next resume in SimPy's queue under the key its timeout would have had."""
        i = self._next - self._block_lo
        if i >= len(self._block[0]):
            if self._next >= len(self.resumes):
                return
            self._load(self._next, min(self._next + BLOCK, len(self.resumes)))
            i = 0
        uav, s = self._block[0][i], self._block[1][i]
        wakeup = self._wakeup
        wakeup.callbacks = [self._resume]
        heappush(self.env._queue, (s, NORMAL, self._pending[uav], wakeup))

    def _resume(self, _event: simpy.Event) -> None:
        i = self._next - self._block_lo
        uav, _s, ends, more = self._block
        u = uav[i]
        t, rsu, kind = self._events
        handle = self.handle
        for k in range(ends[i - 1] if i else 0, ends[i]):
            handle(u, t[k], rsu[k], kind[k])
        if more[i]:
            self._pending[u] = next(self.env._eid)
        self._next += 1
        self._queue_next()
