"""Faults in a running world: outages leave the market, lost twins are restored at the
closed-form times, transfers avoid failed links, RNG streams stay apart, and the twin
invariant holds after every event for generated fault schedules."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, scenario_from_text
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from simulator.app.cli import main
from simulator.app.run import run_scenario
from simulator.errors import ScenarioError
from simulator.world import failover as FO
from simulator.world.failover import InvariantError, LostTwin, twin_violations

BASE = """
simulation: {duration_s: %(duration)s, seed: 3, sample_interval_s: 10}
area: {width_m: 1000, height_m: 1000}
rsus:
  placement: grid
  grid: {rows: 3, cols: 3, spacing_m: 300}
  coverage_radius_m: 320
backhaul: {topology: grid, capacity_mbps: 200, latency_ms: 2}
uavs:
  count: %(uavs)s
  twins: {count: %(twins)s, size_mb: [5, 10]}
pricing: {market_window_s: %(window)s}
"""


def scenario(faults: str = "", *, duration: float = 120, uavs: int = 8, twins: int = 1,
             window: float = 0.0, overrides: tuple[str, ...] = ()):
    text = BASE % {"duration": duration, "uavs": uavs, "twins": twins, "window": window}
    return scenario_from_text(text + faults, overrides)


def run(faults: str = "", **kwargs) -> dict[str, pd.DataFrame]:
    result = run_scenario(scenario(faults, **kwargs), in_memory=True, check_invariants=True)
    assert result.tables is not None
    return {k: pd.DataFrame(v) for k, v in result.tables.items()}


CENTRE_OUTAGE = """
faults:
  rsus:
    scheduled: [{rsu_id: 4, at_s: 30, for_s: 60}]
  restore: {source: %s, checkpoint_interval_s: 20, checkpoint_rate_mbps: 40,
            checkpoint_latency_ms: 50}
"""


def test_outage_loses_the_hosted_twins_and_restores_them_from_the_uav() -> None:
    t = run(CENTRE_OUTAGE % "uav", window=5.0, uavs=30)
    losses = t["/faults/twin_losses"]
    assert len(losses) >= 5
    assert (losses.rsu_id == 4).all() and (losses.t_lost_s == 30.0).all()
    assert (losses.outage_id == 0).all() and (losses.staleness_s == 0).all()
    outages = t["/faults/outages"]
    assert outages[["element", "rsu_id", "peer_rsu_id", "t_start_s", "t_end_s"]].values.tolist() \
        == [[0, 4, -1, 30.0, 90.0]]
    restored = losses[np.isfinite(losses.t_restored_s)]
    assert len(restored) > 0 and (restored.dst_rsu_id != 4).all()
    # One twin per UAV, uploaded at the rate the UAV bought from its new host:
    # t_restored - t_restore_start = size * 8 / (bandwidth * q)
    offers = t["/pricing/offers"].merge(t["/pricing/rounds"][["round_id", "t_s"]], on="round_id")
    sizes = t["/uavs"].set_index("uav_id").twin_size_bytes
    for row in restored.itertuples():
        bought = offers[(offers.uav_id == row.uav_id) & (offers.rsu_id == row.dst_rsu_id)
                        & (offers.t_s == row.t_restore_start_s)]
        assert len(bought) == 1
        rate_bps = float(bought.bandwidth_mhz.iloc[0] * bought.spectral_efficiency.iloc[0]) * 1e6
        assert row.t_restored_s - row.t_restore_start_s == pytest.approx(
            8 * sizes[row.uav_id] / rate_bps, rel=1e-9)
    # The failed RSU leaves every round while it is down, and comes back after
    during = offers[(offers.t_s >= 30) & (offers.t_s < 90)]
    assert len(during) > 0 and (during.rsu_id != 4).all()
    # Urgent requests are played at the failure, not after the 5 s window
    urgent = t["/migration/requests"].merge(losses[losses.request_id >= 0], on="request_id")
    assert len(urgent) > 0 and (urgent.t_s == 30.0).all()
    assert 30.0 in set(t["/pricing/rounds"].t_s)


def test_restore_from_the_checkpoint_store_records_its_staleness() -> None:
    t = run(CENTRE_OUTAGE % "checkpoint", uavs=30)
    losses = t["/faults/twin_losses"]
    assert len(losses) >= 5
    assert (losses.source == 1).all()
    assert losses.staleness_s.to_numpy() == pytest.approx(10.0)  # 30 s, checkpoints every 20 s
    restored = losses[np.isfinite(losses.t_restored_s)]
    sizes = t["/uavs"].set_index("uav_id").twin_size_bytes
    expected = 8 * sizes[restored.uav_id].to_numpy() / 40e6 + 0.05
    assert (restored.t_restored_s - restored.t_restore_start_s).to_numpy() == pytest.approx(
        expected, rel=1e-9)


def test_transfers_avoid_a_failed_link() -> None:
    faults = """
faults:
  links:
    scheduled: [{a: 1, b: 4, at_s: 0, for_s: 200}, {a: 3, b: 4, at_s: 0, for_s: 200}]
"""
    t = run(faults, uavs=12, twins=2)
    hops = t["/migration/transfer_hops"].sort_values(["transfer_id", "hop"])
    assert len(hops) > 0
    for _, route in hops.groupby("transfer_id"):
        pairs = {frozenset(p) for p in zip(route.rsu_id[:-1], route.rsu_id[1:], strict=True)}
        assert not pairs & {frozenset((1, 4)), frozenset((3, 4))}


def test_faults_draw_from_their_own_stream() -> None:
    plain = run()
    rsu_only = run("faults: {rsus: {random: {mtbf_s: 100, mttr_s: 10}}}")
    both = run("faults: {rsus: {random: {mtbf_s: 100, mttr_s: 10}}, "
               "links: {random: {mtbf_s: 50, mttr_s: 5}}}")
    for table in ("/rsus", "/uavs", "/mobility/segments"):
        pd.testing.assert_frame_equal(plain[table], rsu_only[table])
        pd.testing.assert_frame_equal(plain[table], both[table])
    rsu_a = rsu_only["/faults/outages"]
    rsu_b = both["/faults/outages"]
    cols = ["rsu_id", "t_start_s", "t_end_s"]
    assert len(rsu_a) > 3
    pd.testing.assert_frame_equal(rsu_a[cols].reset_index(drop=True),
                                  rsu_b[rsu_b.element == 0][cols].reset_index(drop=True))
    assert (rsu_b.element == 1).any()


def test_scenario_without_faults_keeps_its_trace_layout(tmp_path) -> None:
    plain = scenario()
    assert "faults" not in plain.to_yaml()
    out = run_scenario(plain, trace_path=tmp_path / "plain.h5")
    with h5py.File(out.trace_path) as f:
        assert "faults" not in f
    faulty = scenario(CENTRE_OUTAGE % "uav")
    assert "faults:" in faulty.to_yaml()
    out = run_scenario(faulty, trace_path=tmp_path / "faulty.h5")
    with h5py.File(out.trace_path) as f:
        assert set(f["faults"]) == {"outages", "twin_losses", "transfer_events"}
        assert f["faults/twin_losses/t_lost_s"].shape[0] > 0


def test_bad_fault_references_are_one_line_errors() -> None:
    with pytest.raises(ScenarioError, match=r"faults\.rsus\.scheduled\[0\]\.rsu_id.*< the number "
                                            r"of RSUs \(9\), got 9"):
        scenario("faults: {rsus: {scheduled: [{rsu_id: 9, at_s: 1, for_s: 1}]}}")
    with pytest.raises(ScenarioError, match="backoff_max_s.*must be >= backoff_s"):
        scenario("faults: {links: {backoff_s: 5, backoff_max_s: 1}}")
    with pytest.raises(ScenarioError, match="a = b = 2"):
        scenario("faults: {links: {scheduled: [{a: 2, b: 2, at_s: 1, for_s: 1}]}}")
    with pytest.raises(ScenarioError, match=r"faults\.links\.scheduled\[0\]: no backhaul link "
                                            r"between RSU 0 and RSU 8"):
        run("faults: {links: {scheduled: [{a: 0, b: 8, at_s: 1, for_s: 1}]}}")


# -- the invariant ----------------------------------------------------------------------------
def test_twin_violations_names_every_breach() -> None:
    down = np.array([False, True, False])
    ok = [np.array([0, 2]), np.array([-1, 0])]
    lost = {(1, 0): LostTwin(0, 1, 0, 1, 5.0, FO.SOURCE_UAV, 0.0)}
    assert twin_violations(ok, down, lost, [(0, 1, 2, 0)]) == []
    assert twin_violations([np.array([1, 2]), np.array([-1, 0])], down, lost, []) == [
        "twin (0, 0) lost: hosted by failed RSU 1 and not restored"]
    assert twin_violations(ok, down, {}, []) == ["twin (1, 0) lost: no host and no restore source"]
    both = {**lost, (0, 0): LostTwin(0, 0, 0, 1, 5.0, FO.SOURCE_UAV, 0.0)}
    assert twin_violations(ok, down, both, []) == [
        "twin (0, 0) duplicated: hosted by RSU 0 and also lost"]
    assert twin_violations(ok, down, lost, [(0, 1, 0, 2)]) == [
        "twin (0, 1) in flight from RSU 0 but hosted by 2"]
    assert twin_violations(ok, down, lost, [(0, 1, 2, 0), (0, 1, 2, 1)]) == [
        "twin (0, 1) in flight twice"]
    assert twin_violations([np.array([7, 2]), np.array([-1, 0])], down, lost, []) == [
        "twin (0, 0) hosted by unknown RSU 7"]


def test_checker_catches_a_failover_that_forgets_lost_twins(monkeypatch) -> None:
    def forgetful(self, rsu: int, outage: int) -> None:
        self.rsu_down[rsu] = True  # leaves the market, but nobody takes over its twins
        self._apply_topology()

    monkeypatch.setattr(FO.Failover, "_rsu_fails", forgetful)
    with pytest.raises(InvariantError, match="hosted by failed RSU 4"):
        run(CENTRE_OUTAGE % "uav")


times = st.floats(0, 70).map(lambda x: round(x, 3))  # plain decimals for the YAML text
spans = st.floats(0.5, 40).map(lambda x: round(x, 3))
outage = st.tuples(st.integers(0, 8), times, spans)
link = st.tuples(st.sampled_from([(0, 1), (1, 2), (3, 4), (4, 5), (1, 4), (4, 7), (6, 7)]),
                 times, spans)


@settings(max_examples=int(os.environ.get("UAVTWIN_FAULT_EXAMPLES", "12")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
# found by this test: RSU 1 fails at the instant a round placed a twin lost with RSU 0 on it
@example(rsus=[(0, 8.0, 1.0), (1, 8.0, 1.0)], links=[], on_failure="reroute",
         source="checkpoint", window=0.0)
@given(rsus=st.lists(outage, max_size=4), links=st.lists(link, max_size=4),
       on_failure=st.sampled_from(["reroute", "abort"]),
       source=st.sampled_from(["uav", "checkpoint"]), window=st.sampled_from([0.0, 2.0]))
def test_no_twin_is_lost_or_duplicated_under_any_schedule(rsus, links, on_failure, source,
                                                          window) -> None:
    rsu_yaml = ", ".join(f"{{rsu_id: {j}, at_s: {a}, for_s: {d}}}" for j, a, d in rsus)
    link_yaml = ", ".join(f"{{a: {p[0]}, b: {p[1]}, at_s: {a}, for_s: {d}}}"
                          for p, a, d in links)
    faults = (f"faults:\n  rsus: {{scheduled: [{rsu_yaml}]}}\n"
              f"  links: {{scheduled: [{link_yaml}], on_failure: {on_failure}, backoff_s: 0.5}}\n"
              f"  restore: {{source: {source}, checkpoint_rate_mbps: 400}}\n")
    # slow links make transfers long enough to meet the link failures
    t = run(faults, duration=80, uavs=10, twins=2, window=window,
            overrides=("backhaul.capacity_mbps=20",))  # checks the invariant after every event
    losses = t.get("/faults/twin_losses")
    moved = t.get("/faults/transfer_events")
    event("twins lost" if losses is not None and len(losses) else "no twin lost")
    event("transfers disturbed" if moved is not None and len(moved) else "no transfer disturbed")
    if losses is None or not len(losses):
        return
    # each loss is one twin at one failure; restored twins went to a live RSU
    assert not losses.duplicated(["uav_id", "twin_id", "t_lost_s"]).any()
    done = losses[np.isfinite(losses.t_restored_s)]
    assert (done.t_restored_s >= done.t_lost_s).all()
    assert (done.dst_rsu_id >= 0).all()
    assert (losses.restore_attempts >= np.isfinite(losses.t_restored_s)).all()


def test_example_scenario_runs_with_the_invariant_checked(tmp_path, capsys) -> None:
    out = tmp_path / "faults.h5"
    assert main(["run", str(SCENARIOS / "examples" / "faults.yaml"), "-o", str(out),
                 "--check-invariants", "--set", "simulation.duration_s=200"]) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.lstrip().startswith("faults "))
    words = line.split()
    assert int(words[1]) >= 1 and int(words[4]) >= 1  # "faults  n RSU / m link outages; ..."
    with h5py.File(out) as f:
        element = f["faults/outages/element"][()]
        start = f["faults/outages/t_start_s"][()]
        rsu = f["faults/outages/rsu_id"][()]
        # the scheduled maintenance window and fibre cut are there, as written in the file
        assert ((element == 0) & (rsu == 5) & (start == 120.0)).any()
        assert ((element == 1) & (start == 60.0)).any()
        assert f["faults/twin_losses/t_lost_s"].shape[0] > 0


def test_checking_the_invariant_does_not_change_the_run() -> None:
    sc = scenario(CENTRE_OUTAGE % "checkpoint", uavs=12, twins=2, window=1.0)
    checked = run_scenario(sc, in_memory=True, check_invariants=True).tables
    plain = run_scenario(sc, in_memory=True).tables
    assert checked is not None and plain is not None and checked.keys() == plain.keys()
    for table, columns in plain.items():
        for name, values in columns.items():
            if name != "wall_time_s":
                np.testing.assert_array_equal(checked[table][name], values, err_msg=table)
