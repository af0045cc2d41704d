"""The realism options (MODEL.md Part D) in small end-to-end runs, and their scenario checks."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import SCENARIOS, SMALL

from simulator.app.run import run_scenario
from simulator.config.loader import load_scenario
from simulator.errors import ScenarioError
from simulator.trace.reader import TraceReader
from simulator.trace.schema import STOP_REASON


def _tables(path, *names):
    with TraceReader(path) as r:
        return [r.read(n) for n in names]


def test_defaults_keep_the_former_trace_layout(run_small) -> None:
    res = run_small()
    with h5py.File(res.trace_path, "r") as f:
        assert "live_migration" not in f and "decision_time" not in f
        assert f["migration/service"]["interruption_s"].attrs["description"] == (
            "t_interrupt_end_s - t_interrupt_start_s.")


def test_radio_coverage_run_is_reproducible_and_shadowing_only_moves_the_channel(run_small
                                                                                 ) -> None:
    radio = ("radio.model=al_hourani", "radio.coverage=snr", "radio.snr_min_db=25",
             "simulation.duration_s=60", "sensing.enabled=false")
    a = run_small(*radio, name="a.h5")
    b = run_small(*radio, name="b.h5")
    c = run_small(*radio, "radio.shadowing_std_db=6", name="c.h5")
    ev_a, off_a = _tables(a.trace_path, "/coverage/events", "/pricing/offers")
    ev_b, off_b = _tables(b.trace_path, "/coverage/events", "/pricing/offers")
    ev_c, off_c = _tables(c.trace_path, "/coverage/events", "/pricing/offers")
    assert len(ev_a["t_s"]) > 20
    for k in ev_a:
        assert np.array_equal(ev_a[k], ev_b[k]) and np.array_equal(ev_a[k], ev_c[k])
    assert np.array_equal(off_a["spectral_efficiency"], off_b["spectral_efficiency"])
    n = min(len(off_a["spectral_efficiency"]), len(off_c["spectral_efficiency"]))
    assert not np.allclose(off_a["spectral_efficiency"][:n], off_c["spectral_efficiency"][:n])
    # per UAV and RSU the events alternate enter, leave, ... starting with enter
    for u, j in set(zip(ev_a["uav_id"].tolist(), ev_a["rsu_id"].tolist(), strict=True)):
        kinds = ev_a["kind"][(ev_a["uav_id"] == u) & (ev_a["rsu_id"] == j)]
        assert np.array_equal(kinds, np.arange(kinds.size) % 2 == 0)


def test_pre_copy_run_records_rounds_and_shortens_the_interruption(run_small) -> None:
    stop = run_small("sensing.enabled=false", name="stop.h5")
    live = run_small("sensing.enabled=false", "uavs.twins.migration.mode=pre_copy",
                     "uavs.twins.migration.dirty_rate_mb_s=5", name="live.h5")
    (s_stop,) = _tables(stop.trace_path, "/migration/service")
    s_live, tr, lv, rounds, ev_stop = _tables(live.trace_path, "/migration/service",
                                              "/migration/transfers", "/live_migration/twins",
                                              "/live_migration/rounds", "/coverage/events")
    assert len(lv["transfer_id"]) == len(tr["transfer_id"]) > 0
    assert np.array_equal(np.sort(lv["transfer_id"]), np.sort(tr["transfer_id"]))
    for tid, total, down, n in zip(lv["transfer_id"], lv["total_bytes"], lv["downtime_s"],
                                   lv["rounds"], strict=True):
        mine = rounds["transfer_id"] == tid
        assert mine.sum() == n and rounds["paused"][mine].sum() == 1 and rounds["paused"][mine][-1]
        assert rounds["size_bytes"][mine].sum() == pytest.approx(total)
        span = rounds["t_end_s"][mine] - rounds["t_start_s"][mine]
        assert span[-1] == pytest.approx(down)
    assert set(lv["stop_reason"].tolist()) <= {k for k, v in STOP_REASON.items()
                                               if v in ("threshold", "round_limit",
                                                        "no_convergence")}
    # the UAV is interrupted only while one of its twins is paused
    assert s_live["interruption_s"].mean() < 0.25 * s_stop["interruption_s"].mean()
    assert np.all(s_live["interruption_s"] <= s_live["t_interrupt_end_s"]
                  - s_live["t_interrupt_start_s"] + 1e-9)


def test_decision_time_delays_the_migration_by_the_solver_cost(run_small) -> None:
    base = run_small("sensing.enabled=false", name="base.h5")
    slow = run_small("sensing.enabled=false", "pricing.decision_time.enabled=true",
                     "pricing.decision_time.equilibrium_iteration_s=0.01", name="slow.h5")
    rounds, dec, svc, tr = _tables(slow.trace_path, "/pricing/rounds", "/decision_time/rounds",
                                   "/migration/service", "/migration/transfers")
    assert np.array_equal(dec["round_id"], rounds["round_id"])
    assert dec["decision_time_s"] == pytest.approx(0.01 * rounds["iterations"], rel=1e-12)
    (svc_base,) = _tables(base.trace_path, "/migration/service")
    # first round: same request, same world; the interruption grows by the decision time
    assert svc["interruption_s"][0] == pytest.approx(svc_base["interruption_s"][0]
                                                     + dec["decision_time_s"][0], rel=1e-9)
    first = tr["request_id"] == svc["request_id"][0]
    assert tr["t_start_s"][first].min() == pytest.approx(svc["t_request_s"][0]
                                                         + dec["decision_time_s"][0])


def test_learned_agents_are_charged_their_actor_flops(run_small) -> None:
    res = run_small("pricing.solver=tiny_madrl", "pricing.decision_time.enabled=true",
                    "rsus.compute_gflops=0.01", "simulation.duration_s=20", "uavs.count=3",
                    "sensing.enabled=false")
    dec, rounds = _tables(res.trace_path, "/decision_time/rounds", "/pricing/rounds")
    assert len(dec["round_id"]) > 0
    assert np.all(dec["flops_per_decision"] == 2 * (13 * 24 + 24 * 24 + 24) + 48)
    pairs = dec["flops"] / (dec["flops_per_decision"] * rounds["iterations"])
    assert np.allclose(pairs, np.round(pairs)) and np.all(pairs >= 1)
    assert np.all(dec["decision_time_s"] >= dec["flops_per_decision"] * rounds["iterations"]
                  / 0.01e9 - 1e-15)


@pytest.mark.parametrize("overrides, message", [
    (("radio.coverage=snr",), "coverage 'snr' needs a path-loss model"),
    (("uavs.twins.migration.dirty_source=sensing", "sensing.enabled=false"),
     "dirty_source=sensing: 'sensing' needs the sensing process"),
    (("radio.model=table2", "radio.shadowing_std_db=2"), "shadowing needs a path-loss model"),
])
def test_bad_combinations_name_the_key(overrides: tuple[str, ...], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        load_scenario(SCENARIOS / "default.yaml", (*SMALL, *overrides))


def test_3gpp_model_outside_its_heights_is_a_scenario_error(tmp_path) -> None:
    scenario = load_scenario(SCENARIOS / "default.yaml", (*SMALL, "radio.model=uma_av",
                                                          "uavs.mobility.altitude_m=[10, 50]"))
    with pytest.raises(ScenarioError, match=r"radio.model: uma_av: UAV height .* aerial range"):
        run_scenario(scenario, trace_path=tmp_path / "t.h5")


def test_tiny_madrl_docs_quote_the_stored_decision_time_sweep() -> None:
    """docs/tiny-madrl.md's decision-time table is docs/figures/decision-time.json."""
    import json

    from conftest import ROOT

    rows = json.loads((ROOT / "docs" / "figures" / "decision-time.json").read_text())
    text = " ".join((ROOT / "docs" / "tiny-madrl.md").read_text().split())
    by = {(r["solver"], r["compute_gflops"]): r for r in rows}
    for gflops in (0.001, 0.005, 0.03):
        for solver in ("tiny_madrl", "ppo"):
            r = by[(solver, gflops)]
            assert f"{1e3 * r['mean_interruption_s']:.0f} ms" in text
    tiny, ppo = by[("tiny_madrl", 0.005)], by[("ppo", 0.005)]
    assert (f"{1e3 * tiny['mean_interruption_s']:.0f} ms against "
            f"{1e3 * ppo['mean_interruption_s']:.0f} ms") in text
