"""End-to-end runs: exact handover times, migration timing, market correctness, determinism."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import SCENARIOS, scenario_from_text

from agents.pricing.draw import max_unilateral_gain
from agents.pricing.game import PricingGame, follower_demand, rsu_utility, solve_equilibrium
from agents.pricing.policies import EquilibriumPolicy
from simulator.app.run import run_scenario, simulate
from simulator.config.loader import load_scenario
from simulator.trace.reader import TraceReader
from simulator.trace.recorders import MemoryRecorder
from simulator.trace.schema import WALL_CLOCK_COLUMNS
from simulator.world.rng import spawn_rngs
from simulator.world.world import build_world

CORRIDOR = """
simulation: {duration_s: 70, seed: 3, sample_interval_s: 1}
area: {width_m: 1000, height_m: 200}
rsus:
  placement: explicit
  explicit: [{x_m: 0, y_m: 100}, {x_m: 600, y_m: 100}]
  coverage_radius_m: 400
  height_m: 10
  cost: 2
  price_cap: 30
backhaul:
  topology: edges
  capacity_mbps: 1000
  latency_ms: 2
  edges: [{a: 0, b: 1}]
uavs:
  count: 1
  twins: {count: 1, size_mb: 100}
  mobility:
    model: waypoints
    waypoints:
      - uav: 0
        points:
          - {x_m: 0, y_m: 100, z_m: 50}
          - {x_m: 600, y_m: 100, z_m: 50, speed_mps: 10}
pricing: {solver: equilibrium}
"""


def test_corridor_handover_and_transfer_times_are_exact(tmp_path) -> None:
    # One UAV flies x = 0 -> 600 at 10 m/s between two RSUs of radius 400 m: it enters RSU 1's
    # cell at x = 200 (t = 20 s) and leaves RSU 0's at x = 400 (t = 40 s). Its one 100 MB twin
    # then crosses a 1000 Mbit/s link of 2 ms: 0.8 s + 2 ms.
    result = run_scenario(scenario_from_text(CORRIDOR), trace_path=tmp_path / "c.h5")
    with TraceReader(result.trace_path) as r:
        cov = r.read("/coverage/events")
        req = r.read("/migration/requests")
        tr = r.read("/migration/transfers")
        svc = r.read("/migration/service")
    assert cov["t_s"].tolist() == pytest.approx([0.0, 20.0, 40.0])
    assert cov["rsu_id"].tolist() == [0, 1, 0]
    assert cov["kind"].tolist() == [1, 1, 0]
    assert req["t_s"].tolist() == pytest.approx([40.0])
    assert (tr["src_rsu_id"].tolist(), tr["dst_rsu_id"].tolist()) == ([0], [1])
    assert tr["t_end_s"][0] - tr["t_start_s"][0] == pytest.approx(100e6 * 8 / 1e9 + 0.002)
    assert svc["interruption_s"][0] == pytest.approx(0.802)


def test_waypoint_example_crossings_match_the_geometry(tmp_path) -> None:
    scenario = load_scenario(SCENARIOS / "examples" / "waypoints.yaml")
    result = run_scenario(scenario, trace_path=tmp_path / "w.h5")
    with TraceReader(result.trace_path) as r:
        cov = r.read("/coverage/events")
    mine = cov["uav_id"] == 0
    # East along y = 250 from x = 100 at 10 m/s; cells [-50,550], [450,1050], [950,1550].
    assert cov["t_s"][mine].tolist() == pytest.approx([0.0, 35.0, 45.0, 85.0, 95.0])
    assert cov["rsu_id"][mine].tolist() == [0, 1, 0, 2, 1]


def _tables(path):
    with TraceReader(path) as r:
        return {t: r.read(t) for t in r.tables()}


def recorded_games(t, limit=25):
    """Rebuild each recorded round's pricing game (and its recorded prices/demands)."""
    offers, uavs, rsus = t["/pricing/offers"], t["/uavs"], t["/rsus"]
    for rnd in np.unique(offers["round_id"])[:limit]:
        sel = offers["round_id"] == rnd
        u_ids, u_idx = np.unique(offers["uav_id"][sel], return_inverse=True)
        r_ids, r_idx = np.unique(offers["rsu_id"][sel], return_inverse=True)
        shape = (len(u_ids), len(r_ids))
        grid = {k: np.full(shape, np.nan) for k in ("price", "bandwidth_mhz",
                                                    "spectral_efficiency", "ssim")}
        for k in grid:
            grid[k][u_idx, r_idx] = offers[k][sel]
        available = ~np.isnan(grid["price"])
        game = PricingGame(
            delta=uavs["delta"][u_ids], ssim=np.where(available, grid["ssim"], 1.0),
            ssim_threshold=uavs["ssim_threshold"][u_ids],
            spectral_efficiency=np.where(available, grid["spectral_efficiency"], 1.0),
            budget=uavs["budget"][u_ids], cost=rsus["cost"][r_ids],
            price_cap=rsus["price_cap"][r_ids], available=available,
        )
        yield game, grid, available


def test_market_rounds_are_exact_equilibria_of_the_recorded_games(run_small) -> None:
    t = _tables(run_small().trace_path)
    assert len(t["/pricing/rounds"]["round_id"]) > 20
    checked = 0
    for game, grid, available in recorded_games(t):
        prices = np.where(available, grid["price"], game.price_cap[None, :])
        demand = follower_demand(game, prices)
        # The recorded bandwidth is the followers' exact best response to recorded prices...
        np.testing.assert_allclose(demand[available], grid["bandwidth_mhz"][available],
                                   rtol=1e-7, atol=1e-9)
        # ... within budget, prices inside [c_j, pbar_j], and no RSU can gain by deviating.
        spend = np.nansum(grid["price"] * grid["bandwidth_mhz"], axis=1)
        assert np.all(spend <= game.budget * (1 + 1e-9) + 1e-9)
        cost = np.broadcast_to(game.cost, game.ssim.shape)
        assert np.all(grid["price"][available] >= cost[available] - 1e-9)
        assert np.all(max_unilateral_gain(game, prices, grid=101, refine=20) < 1e-6)
        checked += 1
    assert checked > 0


def test_learned_agents_price_near_the_equilibrium_in_the_simulator(run_small) -> None:
    t = _tables(run_small("pricing.solver=tiny_madrl").trace_path)
    learned, optimal = [], []
    for game, grid, available in recorded_games(t, limit=15):
        prices = np.where(available, grid["price"], game.price_cap[None, :])
        learned.append(rsu_utility(game, prices, follower_demand(game, prices)).sum())
        optimal.append(solve_equilibrium(game).rsu_utility.sum())
    # Shipped tiny_madrl agents reach >= 99% of the equilibrium RSU reward on Table II games.
    assert np.sum(learned) >= 0.97 * np.sum(optimal)


def test_run_invariants(run_small) -> None:
    t = _tables(run_small().trace_path)
    cov, req, tr, svc = (t["/coverage/events"], t["/migration/requests"],
                         t["/migration/transfers"], t["/migration/service"])
    # Per (UAV, RSU) the events alternate enter, leave, enter, ... in time order.
    for u in np.unique(cov["uav_id"]):
        for j in np.unique(cov["rsu_id"][cov["uav_id"] == u]):
            sel = (cov["uav_id"] == u) & (cov["rsu_id"] == j)
            kinds = cov["kind"][sel]
            assert np.all(kinds[::2] == 1) and np.all(kinds[1::2] == 0)
            assert np.all(np.diff(cov["t_s"][sel]) > 0)
    # Every request happens at a coverage event of its UAV (no polling).
    for u, ts in zip(req["uav_id"], req["t_s"], strict=True):
        assert np.any((cov["uav_id"] == u) & np.isclose(cov["t_s"], ts, atol=1e-9))
    # Transfers take time (latency > 0) and go between different RSUs over a route.
    assert np.all(tr["t_end_s"] > tr["t_start_s"])
    assert np.all(tr["src_rsu_id"] != tr["dst_rsu_id"])
    hops = t["/migration/transfer_hops"]
    for tid, src, dst in zip(tr["transfer_id"], tr["src_rsu_id"], tr["dst_rsu_id"], strict=True):
        path = hops["rsu_id"][hops["transfer_id"] == tid]
        assert path[0] == src and path[-1] == dst
    # Interruption ends when the last twin of the migration has arrived.
    for rid, end in zip(svc["request_id"], svc["t_interrupt_end_s"], strict=True):
        ends = tr["t_end_s"][tr["request_id"] == rid]
        assert end == pytest.approx(ends.max() if ends.size else end)


def _dataset_bytes(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name.lstrip("/") not in {
                c.lstrip("/") for c in WALL_CLOCK_COLUMNS
            }:
                out[name] = obj[()].tobytes()
        f.visititems(visit)
        attrs = {k: v for k, v in f.attrs.items() if k not in ("created", "wall_time_s")}
    return out, attrs


def test_same_scenario_and_seed_give_identical_traces(run_small) -> None:
    a = _dataset_bytes(run_small(name="a.h5").trace_path)
    b = _dataset_bytes(run_small(name="b.h5").trace_path)
    c = _dataset_bytes(run_small(name="c.h5", seed=99).trace_path)
    assert a[0].keys() == b[0].keys()
    assert all(a[0][k] == b[0][k] for k in a[0])
    assert repr(a[1]) == repr(b[1])
    assert a[0]["mobility/segments/x0_m"] != c[0]["mobility/segments/x0_m"]


def test_rare_garbage_collection_changes_no_result_and_is_undone(run_small, monkeypatch) -> None:
    # The world is built and simulated with the collector's youngest threshold raised
    # (simulator.app.run.rare_collections); the trace equals a run at Python's default
    # thresholds, and the caller's thresholds are back afterwards, also after a failure.
    import contextlib
    import gc

    import simulator.app.run as run_mod

    seen: list[int] = []
    original = run_mod.simulate

    def watching(world, duration_s, **kwargs):
        seen.append(0)
        env_step = world.env.step

        def step() -> None:
            if len(seen) < 3:
                seen.append(gc.get_threshold()[0])
            env_step()

        world.env.step = step
        return original(world, duration_s, **kwargs)

    before = gc.get_threshold()
    monkeypatch.setattr(run_mod, "simulate", watching)
    rare = _dataset_bytes(run_small(name="rare.h5").trace_path)
    assert seen[1:] == [run_mod.GC_GEN0_THRESHOLD] * 2
    assert gc.get_threshold() == before
    monkeypatch.setattr(run_mod, "rare_collections", contextlib.nullcontext)
    gc.set_threshold(10, 2, 2)  # collect very often
    try:
        often = _dataset_bytes(run_small(name="often.h5").trace_path)
    finally:
        gc.set_threshold(*before)
    assert rare[0].keys() == often[0].keys()
    assert all(rare[0][k] == often[0][k] for k in rare[0])
    monkeypatch.undo()
    with pytest.raises(RuntimeError, match="inside"), run_mod.rare_collections():
        assert gc.get_threshold()[0] == run_mod.GC_GEN0_THRESHOLD
        raise RuntimeError("inside")
    assert gc.get_threshold() == before


def test_free_heap_released_while_simulating_changes_no_result(run_small, monkeypatch) -> None:
    # simulate() hands the free C heap back every RELEASE_INTERVAL_S of wall time (else the
    # pages the event loop touches again stay resident, and resident memory creeps up with
    # simulated time); with an interval of 0 it does so after each of its 200 stretches, with
    # an infinite one only once after the build, and the traces are the same.
    import math

    import simulator.app.run as run_mod

    calls: list[int] = []
    release = run_mod.release_free_heap
    monkeypatch.setattr(run_mod, "release_free_heap", lambda: (calls.append(0), release()))
    monkeypatch.setattr(run_mod, "RELEASE_INTERVAL_S", 0.0)
    often = _dataset_bytes(run_small(name="often.h5").trace_path)
    assert len(calls) == 1 + 200
    calls.clear()
    monkeypatch.setattr(run_mod, "RELEASE_INTERVAL_S", math.inf)
    never = _dataset_bytes(run_small(name="never.h5").trace_path)
    assert len(calls) == 1
    assert often[0].keys() == never[0].keys()
    assert all(often[0][k] == never[0][k] for k in often[0])
    assert often[1] == never[1]


_HEAP_PROBE = """
import sys
from simulator.app.run import release_free_heap

def heap_rss():
    with open("/proc/self/smaps") as f:
        in_heap = False
        for line in f:
            parts = line.split()
            if "-" in parts[0] and ":" not in parts[0]:
                in_heap = parts[-1] == "[heap]"
            elif in_heap and parts[0] == "Rss:":
                return int(parts[1]) * 1024
    sys.exit(3)

blocks = [bytes(2000) for _ in range(20_000)]
kept = blocks[::64] + [blocks[-1]]  # the last one too: the heap's top stays in use
held = heap_rss()
del blocks
freed = heap_rss()
release_free_heap()
print(held, freed, heap_rss(), len(kept))
"""


def test_release_free_heap_returns_freed_pages() -> None:
    # Freed heap memory stays resident until released: 40 MB of 2,000-byte blocks (above
    # pymalloc's limit, so from the C heap), freed but every 64th, still count; after
    # release_free_heap the heap's resident size falls by most of them. In a fresh process,
    # whose heap holds no free holes from other tests.
    import os
    import platform
    import subprocess
    import sys
    from pathlib import Path

    if platform.libc_ver()[0] != "glibc" or not Path("/proc/self/smaps").exists():
        pytest.skip("malloc_trim and /proc/self/smaps are glibc's and Linux's")
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run([sys.executable, "-c", _HEAP_PROBE], capture_output=True, text=True,
                         env=env, check=True).stdout
    held, freed, released, kept = (int(v) for v in out.split())
    assert kept == 314
    assert freed > held - 0.1 * 2000 * 20_000  # free() alone returns (almost) nothing
    assert freed - released > 0.5 * 2000 * 20_000


def test_failed_run_leaves_only_a_partial_trace(tmp_path, small_scenario, monkeypatch) -> None:
    import simulator.world.world as world_mod

    original = world_mod.Market._round

    def boom(self, batch):
        if self.env.now > 30:
            raise RuntimeError("solver exploded")
        return original(self, batch)

    monkeypatch.setattr(world_mod.Market, "_round", boom)
    path = tmp_path / "x.h5"
    with pytest.raises(RuntimeError, match="solver exploded"):
        run_scenario(small_scenario, trace_path=path)
    assert not path.exists()
    partial = tmp_path / "x.partial.h5"
    with h5py.File(partial, "r") as f:
        assert f.attrs["status"] == "failed"
        assert "solver exploded" in f.attrs["error"]
        assert f["/coverage/events/t_s"].shape[0] > 0


@pytest.mark.parametrize("solver", ["greedy", "random"])
def test_baseline_solvers_run_in_the_simulator(run_small, solver) -> None:
    t = _tables(run_small(f"pricing.solver={solver}", "pricing.iterations=20").trace_path)
    rounds = t["/pricing/rounds"]
    assert np.all(rounds["iterations"] == 20)
    paths = t["/pricing/paths"]
    assert len(paths["round_id"]) == 20 * len(rounds["round_id"])


class _EquilibriumOnObjects:
    """The equilibrium played like any other policy: on a ``PricingGame``, to an outcome."""

    name = "equilibrium"

    def run_round(self, game, rng):
        return EquilibriumPolicy().run_round(game, rng)


@pytest.mark.parametrize("window", [0.0, 2.0])
def test_market_equilibrium_on_arrays_equals_the_policy_on_game_objects(window) -> None:
    # The market solves equilibrium rounds on their arrays (solve_arrays), any other policy
    # on a PricingGame: the same rounds played both ways give the same trace, bit for bit,
    # including batches with non-viable UAVs (window > 0) and every round's reference.
    scenario = load_scenario(SCENARIOS / "default.yaml", (
        "simulation.duration_s=300", "uavs.count=60", "pricing.solver=equilibrium",
        f"pricing.market_window_s={window}", "sensing.enabled=false"))
    tables = []
    for policy in (EquilibriumPolicy(), _EquilibriumOnObjects()):
        recorder = MemoryRecorder()
        world = build_world(scenario, spawn_rngs(7), recorder, policy=policy)
        simulate(world, scenario.simulation.duration_s)
        tables.append(recorder.tables())
    arrays, objects = tables
    assert len(arrays["/pricing/rounds"]["round_id"]) > 100
    assert arrays.keys() == objects.keys()
    for name, columns in arrays.items():
        for column, values in columns.items():
            if f"{name}/{column}" not in WALL_CLOCK_COLUMNS:
                assert np.array_equal(values, objects[name][column], equal_nan=True), \
                    (name, column)
