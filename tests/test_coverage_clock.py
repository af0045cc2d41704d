"""The coverage clock (simulator/world/clock.py) against its reference: one SimPy process per UAV
that sleeps with ``env.timeout(t - env.now)`` until its next timeline event.

The clock must make the same calls, at the same clock values (to the bit), in the same order
relative to every other SimPy event, as those processes did; so every run's trace is the same.
Checked on random timelines with ties and inexact floating-point sums beside other processes
that schedule events at the same instants, and on whole runs built to tie: UAVs on one
path, UAVs that join it from elsewhere, arrivals and departures at whole seconds (when the
sensing process also steps), waypoints on cell borders, early warnings clipped to the start.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy

from simulator.app.run import run_scenario
from simulator.config.loader import load_scenario
from simulator.world import clock as clock_mod
from simulator.world import world as world_mod
from simulator.world.clock import (
    ARRIVE,
    DEPART,
    ENTER,
    LEAVE,
    CoverageClock,
    merge_timelines,
    resume_times,
)

Timeline = tuple[np.ndarray, np.ndarray, np.ndarray]


def reference_process(env: simpy.Environment, handle: Callable[[int, float, int, int], None],
                      u: int, timeline: Timeline, arrive_s: float, depart_s: float | None
                      ) -> Generator[simpy.Event, Any, None]:
    """The per-UAV process the clock replaces (simulator/world/world.py before the clock)."""
    if arrive_s > env.now:
        yield env.timeout(arrive_s - env.now)
    handle(u, arrive_s, -1, ARRIVE)
    t, rsu, kind = timeline
    for t_k, r_k, kind_k in zip(t.tolist(), rsu.tolist(), kind.tolist(), strict=True):
        if t_k > env.now:
            yield env.timeout(t_k - env.now)
        handle(u, t_k, r_k, kind_k)
    if depart_s is None:
        return
    if depart_s > env.now:
        yield env.timeout(depart_s - env.now)
    handle(u, depart_s, -1, DEPART)


class ReferenceClock:
    """Stands in for CoverageClock: one process per UAV (takes merge_timelines' arguments)."""

    def __init__(self, env: simpy.Environment, raw: tuple, handle: Callable) -> None:
        timelines, arrive, depart = raw
        for u, tl in enumerate(timelines):
            env.process(reference_process(env, handle, u, tl, arrive[u], depart[u]))


# -- the clock alone ---------------------------------------------------------------------------

#: times whose differences are inexact in binary (0.1 + (0.7 - 0.1) and the like) and repeat
_TIMES = np.array([0.0, 0.1, 0.2, 0.3, 0.7, 1.0, 1.1, 1.3, 2.2, 2.5, 3.0, 3.3, 5.0, 7.7, 9.9])


def _random_timelines(rng: np.random.Generator, n: int) -> tuple[list[Timeline], list, list]:
    timelines, arrive, depart = [], [], []
    for _ in range(n):
        m = int(rng.integers(0, 8))
        t = np.sort(rng.choice(_TIMES, m)) + rng.choice([0.0, 1e-16, 0.05], m, p=[.8, .1, .1])
        if rng.random() < 0.1 and m > 1:
            t = t[::-1].copy()  # out of order: handled at once when due, like the process did
        timelines.append((t, rng.integers(0, 5, m).astype(np.int32),
                          rng.integers(0, 3, m).astype(np.int8)))
        arrive.append(float(rng.choice([0.0, -1.0, 0.1, 0.3, 1.0])))
        depart.append(None if rng.random() < 0.5 else float(rng.choice([3.0, 9.9, 10.0])))
    return timelines, arrive, depart


def _play(make: Callable[[simpy.Environment, Callable], None], seed: int) -> list[tuple]:
    """A run of timelines beside other processes; the log of everything, in order."""
    env = simpy.Environment()
    log: list[tuple] = []
    rng = np.random.default_rng(seed)

    def other(times: list[float]) -> Generator[simpy.Event, Any, None]:
        for t in times:
            if t > env.now:
                yield env.timeout(t - env.now)
            log.append(("other", env.now))

    for _ in range(3):  # processes created before the UAVs', as the market and sensing are
        env.process(other(sorted(rng.choice(_TIMES, 6).tolist())))

    def handle(u: int, t: float, rsu: int, kind: int) -> None:
        log.append((u, env.now, t, rsu, kind))
        if (u + rsu) % 3 == 0:  # a zero-delay event, like the market's wake-up
            wake = env.event()
            wake.callbacks.append(lambda _e, u=u: log.append(("wake", env.now, u)))
            wake.succeed()

    make(env, handle)
    env.process(other([0.3, 1.0, 2.5]))  # created after
    env.run(until=20.0)
    return log


@pytest.mark.parametrize("seed", range(12))
def test_clock_runs_like_a_process_per_uav(seed: int) -> None:
    raw = _random_timelines(np.random.default_rng(seed), 25)
    ref = _play(lambda env, h: ReferenceClock(env, raw, h), seed)
    got = _play(lambda env, h: CoverageClock(env, merge_timelines(*raw), h), seed)
    assert any(k[0] == "wake" for k in ref) and len(ref) > 100
    assert got == ref  # the same calls at the same clock values (bitwise), in the same order


def test_vectorised_resumes_match_the_reference_rule() -> None:
    rng = np.random.default_rng(7)
    raw = _random_timelines(rng, 400)
    merged = merge_timelines(*raw)
    uav, clock_values, _more, _events = merged.block(0, len(merged))
    inexact = 0
    for u, (t, _rsu, _kind) in enumerate(raw[0]):
        times = [raw[1][u], *t.tolist()] + ([] if raw[2][u] is None else [raw[2][u]])
        resume, s = resume_times(times)
        mine = uav == u
        assert clock_values[mine].tolist() == s  # the UAV's resumes, in its own order
        assert merged.count[mine].tolist() == np.bincount(resume, minlength=len(s)).tolist()
        first = {r: times[k] for k, r in reversed(list(enumerate(resume)))}
        inexact += sum(s[r] != first[r] for r in range(1, len(s)))
    assert inexact > 0  # SimPy's sum was not the event's time: the reference rule's fallback ran


def test_resume_rule_is_simpys_sum() -> None:
    # 0.1 + (0.7 - 0.1) is 0.7 in binary? the rule must say what SimPy's timeout says
    env = simpy.Environment()
    seen = []

    def proc() -> Generator[simpy.Event, Any, None]:
        for t in (0.1, 0.7, 0.75, 2.2):
            if t > env.now:
                yield env.timeout(t - env.now)
            seen.append(env.now)

    env.process(proc())
    env.run()
    assert resume_times([0.1, 0.7, 0.75, 2.2])[1][1:] == sorted(set(seen))


def test_blocks_of_any_size_give_the_same_run(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _random_timelines(np.random.default_rng(3), 40)
    whole = _play(lambda env, h: CoverageClock(env, merge_timelines(*raw), h), 3)
    monkeypatch.setattr(clock_mod, "BLOCK", 3)
    assert _play(lambda env, h: CoverageClock(env, merge_timelines(*raw), h), 3) == whole


# -- whole runs -------------------------------------------------------------------------------

_RSUS = [(200 + 400 * i, 200 + 400 * j) for j in range(4) for i in range(4)]
_PATH = [(0, 50, 50), (100, 1550, 50), (200, 1550, 1550), (300, 50, 1550), (400, 50, 50)]


def _rows() -> list[tuple[int, float, float, float]]:
    """Trajectories built to tie: 0-2 fly one path; 3 joins it at 100 s from elsewhere; 4
    arrives at 50 s on it; 5 leaves at 300 s; 6 turns on cell borders at whole seconds; 7
    pauses on a border."""
    rows = []
    for u in range(3):
        rows += [(u, *p) for p in _PATH]
    rows += [(3, 0, 1000, 800)] + [(3, *p) for p in _PATH[1:]]
    rows += [(4, 50, 800, 50)] + [(4, *p) for p in _PATH[1:]]
    rows += [(5, *p) for p in _PATH[:4]]
    rows += [(6, 10, 200, 200), (6, 40, 520, 200), (6, 90, 520, 600), (6, 150, 200, 920),
             (6, 300, 1000, 1000)]
    rows += [(7, 0, 600, 500), (7, 60, 600, 520), (7, 120, 600, 520), (7, 260, 1400, 1400)]
    return rows


def _scenario(tmp: Path, extra: list[str]) -> Any:
    csv = tmp / "tie.csv"
    csv.write_text("uav_id,t_s,x_m,y_m,z_m\n" + "".join(
        f"{u},{t},{x},{y},80\n" for u, t, x, y in _rows()))
    rsus = "".join(f"    - {{x_m: {x}, y_m: {y}}}\n" for x, y in _RSUS)
    (tmp / "tie.yaml").write_text(
        "simulation: {duration_s: 420, seed: 4, sample_interval_s: 5}\n"
        "area: {width_m: 1600, height_m: 1600}\n"
        "rsus:\n  placement: explicit\n  coverage_radius_m: 320\n  explicit:\n" + rsus +
        "backhaul: {topology: complete, capacity_mbps: 200, latency_ms: 2}\n"
        "uavs:\n  twins: {count: 2, size_mb: [20, 60]}\n"
        "  mobility: {model: trace, file: tie.csv, area: check}\n"
        "sensing: {enabled: true, step_s: 1.0, horizon_s: 100}\n")
    return load_scenario(tmp / "tie.yaml", extra)


def _run(scenario: Any, tmp: Path, monkeypatch: pytest.MonkeyPatch, reference: bool
         ) -> tuple[dict, list]:
    calls: list = []
    real_handler = world_mod.coverage_handler

    def handler(world: Any) -> Callable:
        handle = real_handler(world)

        def logged(u: int, t: float, rsu: int, kind: int) -> None:
            calls.append((world.env.now, u, t, rsu, kind))
            handle(u, t, rsu, kind)
        return logged

    with monkeypatch.context() as m:
        m.setattr(world_mod, "coverage_handler", handler)
        if reference:
            m.setattr(world_mod, "merge_timelines", lambda *raw: raw)
            m.setattr(world_mod, "CoverageClock", ReferenceClock)
        result = run_scenario(scenario, in_memory=True, base_dir=tmp)
    return result.tables, calls


@pytest.mark.parametrize("extra", [
    [],
    ["pricing.prediction_margin_s=30", "pricing.market_window_s=1"],
    ["faults.rsus.scheduled=[{rsu_id: 5, at_s: 100, for_s: 60}]",
     "pricing.decision_time.enabled=true"],
], ids=["plain", "margin-window", "faults"])
def test_runs_built_to_tie_are_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         extra: list[str]) -> None:
    scenario = _scenario(tmp_path, extra)
    ref_tables, ref_calls = _run(scenario, tmp_path, monkeypatch, reference=True)
    tables, calls = _run(scenario, tmp_path, monkeypatch, reference=False)
    assert calls == ref_calls
    times = [c[0] for c in calls if c[4] in (ENTER, LEAVE)]
    assert len(times) - len(set(times)) > 20  # many crossings share an instant
    assert tables.keys() == ref_tables.keys()
    for name, table in ref_tables.items():
        for col, values in table.items():
            if col != "wall_time_s":
                np.testing.assert_array_equal(tables[name][col], values, err_msg=f"{name}/{col}")
    assert len(tables["/migration/requests"]["t_s"]) > 10
