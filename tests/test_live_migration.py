"""Live twin migration (MODEL.md D4): closed forms of pre-copy, post-copy and the fallback."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import simpy

from simulator.world.backhaul import BackhaulNetwork
from simulator.world.live_migration import (
    LiveMigration,
    live_migration,
    migrate_twins,
    paused_time_s,
    static_dirty_rate,
    sync_dirty_rate,
)
from simulator.world.migration_modes import LiveParams, precopy_volumes

CAP_BPS = 80e6
B = CAP_BPS / 8  # bytes/s
M = 50e6


def _network(env: simpy.Environment) -> BackhaulNetwork:
    g = nx.Graph()
    g.add_edge(0, 1, capacity_bps=CAP_BPS, latency_s=0.0)
    return BackhaulNetwork(env, g)


def _run(params: LiveParams, rate: float, size: float = M):
    env = simpy.Environment()
    proc = env.process(live_migration(env, _network(env), 0, 1, size, params,
                                      static_dirty_rate(rate)))
    env.run()
    return proc.value


@pytest.mark.parametrize("rho", [0.0, 0.1, 0.5, 0.9])
def test_pre_copy_is_the_geometric_series(rho: float) -> None:
    params = LiveParams("pre_copy", stop_bytes=1e6, max_rounds=30)
    out = _run(params, rho * B)
    n = len(out.rounds) - 1
    expect_n = 1 if rho == 0 else min(30, math.ceil(math.log(1e6 / M) / math.log(rho)))
    assert n == expect_n
    assert [r[0] for r in out.rounds] == pytest.approx([M * rho ** k for k in range(n + 1)],
                                                       rel=1e-9, abs=1e-3)
    assert [r[3] for r in out.rounds] == [False] * n + [True]
    assert out.downtime_s == pytest.approx(M * rho ** n / B, rel=1e-9, abs=1e-12)
    total = M / B * (1 - rho ** (n + 1)) / (1 - rho)
    assert out.t_end - out.t_start == pytest.approx(total, rel=1e-9)
    assert out.total_bytes == pytest.approx(total * B, rel=1e-9)
    assert out.reason == ("threshold" if M * rho ** n <= 1e6 else "round_limit")
    volumes, reason = precopy_volumes(M, rho * B, B, params)
    assert volumes == pytest.approx([r[0] for r in out.rounds]) and reason == out.reason


@pytest.mark.parametrize("rho", [1.0, 1.5, 4.0])
def test_dirty_rate_at_link_rate_falls_back_to_stop_and_copy(rho: float) -> None:
    out = _run(LiveParams("pre_copy", stop_bytes=1e6, max_rounds=30), rho * B)
    assert out.reason == "no_convergence"
    assert [r[0] for r in out.rounds] == [M, M]           # one wasted round, then all of it
    assert out.downtime_s == pytest.approx(M / B)
    assert out.t_end - out.t_start == pytest.approx(2 * M / B)


def test_round_limit_and_small_twins() -> None:
    out = _run(LiveParams("pre_copy", stop_bytes=0.0, max_rounds=3), 0.5 * B)
    assert out.reason == "round_limit" and len(out.rounds) == 4
    assert out.downtime_s == pytest.approx(M * 0.125 / B)
    small = _run(LiveParams("pre_copy", stop_bytes=2 * M, max_rounds=3), 0.5 * B)
    assert small.reason == "threshold" and len(small.rounds) == 1   # plain stop-and-copy


def test_post_copy_pauses_for_the_minimal_state_only() -> None:
    out = _run(LiveParams("post_copy", state_bytes=2e6), 3 * B)
    assert out.reason == "post_copy"
    assert out.downtime_s == pytest.approx(2e6 / B)
    assert out.t_end - out.t_start == pytest.approx(M / B)
    stop = _run(LiveParams("stop_and_copy"), 3 * B)
    assert stop.downtime_s == pytest.approx(M / B) and len(stop.rounds) == 1


def test_concurrent_migrations_share_the_link() -> None:
    """Two identical pre-copies on one link each get B / 2: rho doubles, times double."""
    env = simpy.Environment()
    params = LiveParams("pre_copy", stop_bytes=1e6, max_rounds=30)
    proc = env.process(migrate_twins(env, _network(env), [(0, 0, 1, M), (1, 0, 1, M)], params,
                                     lambda twin: static_dirty_rate(0.2 * B)))
    env.run()
    (_, a), (_, b) = proc.value
    rho = 0.4  # 0.2 B over a share of B / 2
    n = math.ceil(math.log(1e6 / M) / math.log(rho))
    assert len(a.rounds) == len(b.rounds) == n + 1
    assert a.t_end == pytest.approx(2 * M / B * (1 - rho ** (n + 1)) / (1 - rho), rel=1e-9)
    first, last, union = paused_time_s([a, b])
    assert union == pytest.approx(2 * M * rho ** n / B, rel=1e-9)  # same pause, counted once
    assert last - first == pytest.approx(union)


def test_sync_dirty_rate_integrates_the_intensity() -> None:
    def control(ts: np.ndarray) -> np.ndarray:   # eta_0 = 2 t, eta_1 = 3
        return np.stack([2.0 * ts, np.full_like(ts, 3.0)])
    assert sync_dirty_rate(control, 0, 10.0)(1.0, 3.0) == pytest.approx(10 * (9 - 1))
    assert sync_dirty_rate(control, 1, 10.0)(1.0, 3.0) == pytest.approx(60.0)
    assert sync_dirty_rate(control, 1, 10.0)(3.0, 3.0) == 0.0


def test_paused_time_union() -> None:
    a = LiveMigration(rounds=[(1.0, 0.0, 1.0, False), (1.0, 1.0, 2.0, True)])
    b = LiveMigration(rounds=[(1.0, 1.5, 3.0, True)])
    c = LiveMigration(rounds=[(1.0, 5.0, 6.0, True)])
    assert paused_time_s([a, b, c]) == (1.0, 6.0, 3.0)
    assert math.isnan(paused_time_s([])[0])


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="mode"):
        LiveParams("teleport")
    with pytest.raises(ValueError, match=">= 0"):
        LiveParams("pre_copy", max_rounds=-1)


def test_trace_codes_follow_the_registry() -> None:
    from simulator.trace.schema import MIGRATION_MODE
    from simulator.world.migration_modes import MIGRATION_MODES
    assert list(MIGRATION_MODE.values()) == list(MIGRATION_MODES)
