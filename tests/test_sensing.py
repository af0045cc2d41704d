"""Tests of simulator/world/sensing.py: the sensing game as a SimPy process on the simulator
clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.sync.dynamics import simulate
from agents.sync.params import SyncParams
from agents.sync.population import simulate_population
from simulator.config.loader import load_scenario, parse_scenario
from simulator.errors import ScenarioError
from simulator.trace.reader import TraceReader
from simulator.trace.schema import VSP_ROLE, WALL_CLOCK_COLUMNS
from simulator.trace.writer import TraceWriter
from simulator.world.sensing import SensingProcess, start_sensing, sync_params_from_config

ROOT = Path(__file__).resolve().parents[1]
SYNC = ROOT / "scenarios" / "sync"


class AttrRecorder:
    """In-memory recorder with ``append`` and ``set_attrs`` (the TraceWriter's interface)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, list[np.ndarray]]] = {}
        self.attrs: dict[str, dict[str, Any]] = {}

    def append(self, table: str, **columns: Any) -> None:
        store = self.rows.setdefault(table, {})
        for name, value in columns.items():
            store.setdefault(name, []).append(np.atleast_1d(np.asarray(value)))

    def set_attrs(self, path: str, **attrs: Any) -> None:
        self.attrs.setdefault(path, {}).update(attrs)

    def table(self, name: str) -> dict[str, np.ndarray]:
        return {c: np.concatenate(v) for c, v in self.rows[name].items()}


#: Two VSPs spelled out so that ``--set sensing.vsps[i].key=value`` can index them.
BASE = """
sensing:
  vsps:
    - {theta: 0.05, x0: 0.5}
    - {theta: 0.1, x0: 0.5}
"""


def run(overrides: tuple[str, ...] = (), *, until: float | None = None, seed: int = 0,
        ) -> tuple[SensingProcess, AttrRecorder]:
    """Start sensing on a bare clock, run to ``until`` (default: duration) and finish."""
    s = parse_scenario(BASE, overrides=("sensing.enabled=true", *overrides))
    env, rec = simpy.Environment(), AttrRecorder()
    proc = start_sensing(env, s.sensing, s.simulation.duration_s, np.random.default_rng(seed), rec)
    assert proc is not None
    env.run(until=s.simulation.duration_s if until is None else until)
    proc.finish()
    return proc, rec


def by_vsp(state: dict[str, np.ndarray], col: str, m: int) -> np.ndarray:
    """A ``/sensing/state`` column as [M, n] (rows are blocks of M per time)."""
    return state[col].reshape(-1, m).T


def test_config_maps_to_calibrated_defaults() -> None:
    cfg = parse_scenario("").sensing
    got = sync_params_from_config(cfg)
    ref = SyncParams.paper_defaults(2, intensity=np.ones(2))
    assert not cfg.enabled
    for name in ("N", "b", "delta", "rho", "T", "g0", "g1"):
        assert getattr(got, name) == getattr(ref, name), name
    for name in ("w", "theta", "d", "alpha", "k", "v", "c", "x0", "z0", "intensity"):
        np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)


def test_config_per_vsp_weights_and_leaders() -> None:
    s = load_scenario(SYNC / "fig12.yaml", overrides=("sensing.vsps[0].weights=[1, 0.01, 0.3, "
                                                      "0.001]",))
    p = sync_params_from_config(s.sensing)
    assert p.w.shape == (4, 4) and p.w[2].tolist() == [0.3, 0.02, 0.02, 0.02]
    assert sync_params_from_config(load_scenario(SYNC / "fig13.yaml").sensing).leaders == (2,)


def test_disabled_returns_none_and_records_nothing() -> None:
    env, rec = simpy.Environment(), AttrRecorder()
    assert start_sensing(env, parse_scenario("").sensing, 1.0, np.random.default_rng(0),
                         rec) is None
    env.run(until=10)
    assert rec.rows == {} and rec.attrs == {}


def test_replicator_process_matches_forward_simulation() -> None:
    proc, rec = run(("simulation.duration_s=300",))
    st_ = rec.table("/sensing/state")
    t = st_["t_s"][::2]
    np.testing.assert_array_equal(t, np.arange(301.0))
    np.testing.assert_array_equal(st_["vsp_id"], np.tile([0, 1], 301))
    ref = simulate(proc.params, proc.control, t)
    np.testing.assert_allclose(by_vsp(st_, "share", 2), ref.x, atol=1e-6)
    np.testing.assert_allclose(by_vsp(st_, "twin_value", 2), ref.z, atol=1e-6)
    np.testing.assert_allclose(by_vsp(st_, "intensity", 2), ref.eta, atol=1e-9)
    np.testing.assert_allclose(by_vsp(st_, "payoff_rate", 2), ref.payoff_rate, rtol=1e-6,
                               atol=1e-6)
    # the cumulative discounted payoff at T is the controller's objective
    np.testing.assert_allclose(st_["cumulative_payoff"][-2:], ref.payoff, rtol=1e-7)
    np.testing.assert_allclose(st_["cumulative_payoff"][-2:], proc.solution.payoff, rtol=1e-6)
    # calibration target of MODEL B2 through the process
    np.testing.assert_allclose(st_["share"][-2:], [0.33, 0.67], atol=0.02)
    # diagnostics
    attrs = rec.attrs["/sensing"]
    assert attrs["controller"] == "nash" and attrs["converged"] is True
    assert "solve_bvp" in attrs["message"] and attrs["solve_time_s"] > 0
    vsps = rec.table("/sensing/vsps")
    assert vsps["role"].tolist() == [2, 2] and VSP_ROLE[2] == "player"
    np.testing.assert_array_equal(vsps["theta"], [0.05, 0.1])


@pytest.mark.parametrize("x1", [0.2, 0.8])
def test_calibration_target_from_other_starts(x1: float) -> None:
    _, rec = run((f"sensing.vsps[0].x0={x1}", f"sensing.vsps[1].x0={1 - x1}"))
    np.testing.assert_allclose(rec.table("/sensing/state")["share"][-2:], [0.33, 0.67],
                               atol=0.02)


def test_run_beyond_horizon_holds_intensity_and_matches_simulation() -> None:
    """The clock outlasts T and the integrator's bound (duration 120 s, run to 400 s)."""
    proc, rec = run(("simulation.duration_s=120", "sensing.horizon_s=200",
                     "sensing.step_s=2.5"), until=400.0)
    st_ = rec.table("/sensing/state")
    t = st_["t_s"][::2]
    np.testing.assert_allclose(t, np.arange(0.0, 400.1, 2.5))
    ref = simulate(proc.params, proc.control, t)
    # the integrator restarts at its bound (120 s): same ODE, other steps -> tolerance level
    np.testing.assert_allclose(by_vsp(st_, "share", 2), ref.x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(by_vsp(st_, "twin_value", 2), ref.z, rtol=1e-5)
    eta = by_vsp(st_, "intensity", 2)
    late = t >= 200.0
    np.testing.assert_array_equal(eta[:, late], eta[:, [-1]].repeat(late.sum(), axis=1))


@settings(max_examples=15, deadline=None)
@given(x1=st.floats(0.01, 0.99), e1=st.floats(0.0, 20.0), e2=st.floats(0.0, 20.0),
       c2=st.floats(0.0, 1.0))
def test_shares_stay_on_simplex(x1: float, e1: float, e2: float, c2: float) -> None:
    x1, e1, e2, c2 = (round(v, 9) for v in (x1, e1, e2, c2))
    proc, rec = run(("simulation.duration_s=60", "sensing.controller=constant",
                     f"sensing.vsps[0].x0={x1:.9f}", f"sensing.vsps[1].x0={1 - x1:.9f}",
                     f"sensing.vsps[0].intensity={e1:.9f}", f"sensing.vsps[1].intensity="
                     f"{e2:.9f}", f"sensing.vsps[1].c={c2:.9f}"))
    x = by_vsp(rec.table("/sensing/state"), "share", 2)
    assert x.min() >= -1e-9
    np.testing.assert_allclose(x.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(proc.intensity(30.0), [e1, e2])


def test_agent_mode_is_seeded_and_follows_simulate_population() -> None:
    args = ("simulation.duration_s=100", "sensing.revision=agent", "sensing.controller=constant",
            "sensing.vsps[0].intensity=3", "sensing.vsps[1].intensity=5")
    proc_a, rec_a = run(args, seed=7)
    _, rec_b = run(args, seed=7)
    _, rec_c = run(args, seed=8)
    a, b, c = (r.table("/sensing/state")["share"] for r in (rec_a, rec_b, rec_c))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    t = np.arange(101.0)
    xs, zs = simulate_population(proc_a.params, proc_a.control, t, np.random.default_rng(7))
    st_ = rec_a.table("/sensing/state")
    np.testing.assert_array_equal(by_vsp(st_, "share", 2), xs)
    np.testing.assert_allclose(by_vsp(st_, "twin_value", 2), zs, rtol=1e-12)
    assert np.all(np.round(a * 500) == a * 500)  # whole UAVs


def test_agent_mode_approaches_replicator_for_large_population() -> None:
    """Intensities scaled with N keep the per-UAV pools, so the ODE is the same for every N;
    the agent-based error to it shrinks roughly like 1/sqrt(N)."""
    err = {}
    for n in (500, 20000):
        args = ("simulation.duration_s=60", "sensing.controller=constant",
                f"sensing.population={n}", "sensing.vsps[0].x0=0.8", "sensing.vsps[1].x0=0.2",
                f"sensing.vsps[0].intensity={3 * n / 500}",
                f"sensing.vsps[1].intensity={5 * n / 500}")
        _, ode = run(args)
        x_ode = ode.table("/sensing/state")["share"]
        errs = []
        for seed in range(3):
            _, agents = run((*args, "sensing.revision=agent"), seed=seed)
            x_agent = agents.table("/sensing/state")["share"]
            errs.append(float(np.sqrt(np.mean((x_agent - x_ode) ** 2))))
        err[n] = float(np.mean(errs))
        if n == 20000:
            np.testing.assert_allclose(x_agent, x_ode, atol=0.01)
            np.testing.assert_allclose(agents.table("/sensing/state")["cumulative_payoff"][-2:],
                                       ode.table("/sensing/state")["cumulative_payoff"][-2:],
                                       rtol=0.01)
    assert err[20000] < err[500] / 2.5 and err[20000] < 0.005, err


def test_stackelberg_roles_and_trace_file(tmp_path: Path) -> None:
    """Fig. 13 scenario (shortened) through the real trace writer: roles, attributes, rows."""
    s = load_scenario(SYNC / "fig13.yaml", overrides=("sensing.horizon_s=60",
                                                      "simulation.duration_s=60"))
    path = tmp_path / "fig13.h5"
    with TraceWriter(path, scenario_yaml=s.to_yaml(), seed=1) as writer:
        env = simpy.Environment()
        proc = start_sensing(env, s.sensing, s.simulation.duration_s, np.random.default_rng(0),
                                 writer)
        assert proc is not None
        env.run(until=60.0)
        proc.finish()
    with TraceReader(path) as reader:
        vsps = reader.read("/sensing/vsps")
        state = reader.read("/sensing/state")
        attrs = reader.group_attrs("/sensing")
    assert [VSP_ROLE[int(r)] for r in vsps["role"]] == ["follower", "follower", "leader"]
    assert state["t_s"].size == 3 * 61 and state["t_s"][-1] == 60.0
    np.testing.assert_allclose(state["cumulative_payoff"][-3:], proc.solution.payoff, rtol=1e-6)
    assert proc.diagnostics["controller"] == "stackelberg" and proc.diagnostics["converged"]
    assert attrs["controller"] == "stackelberg" and bool(attrs["converged"])
    assert attrs["revision"] == "replicator" and attrs["solve_time_s"] > 0


def test_recorder_without_set_attrs_is_accepted() -> None:
    from simulator.trace.recorders import MemoryRecorder

    s = parse_scenario(BASE, overrides=("sensing.enabled=true", "sensing.controller=constant",
                                      "simulation.duration_s=5"))
    env, rec = simpy.Environment(), MemoryRecorder()
    proc = start_sensing(env, s.sensing, s.simulation.duration_s, np.random.default_rng(0),
                                 rec)
    assert proc is not None
    env.run(until=5)
    proc.finish()
    assert rec.tables()["/sensing/state"]["t_s"].tolist() == np.repeat(np.arange(6.0), 2).tolist()
    assert proc.diagnostics["message"] == "user-given constant intensities"


def test_process_errors() -> None:
    proc, _ = run(("sensing.controller=constant", "simulation.duration_s=5"))
    with pytest.raises(ValueError, match="before the state time"):
        proc.advance_to(1.0)
    with pytest.raises(ValueError, match="step_s must be > 0"):
        SensingProcess(simpy.Environment(), proc.params, proc.solution, revision="replicator",
                       step_s=0.0, recorder=AttrRecorder(), rng=np.random.default_rng(0),
                       end_s=5.0)
    with pytest.raises(ScenarioError, match=r"sensing.vsps\[0\].theta: incentive weight"):
        parse_scenario("", overrides=("sensing.g0=0", "sensing.g1=0"))


@pytest.mark.parametrize("path", sorted(SYNC.glob("*.yaml")), ids=lambda p: p.stem)
def test_figure_scenarios_enable_sensing_over_the_horizon(path: Path) -> None:
    s = load_scenario(path)
    p = sync_params_from_config(s.sensing)
    assert s.sensing.enabled and s.simulation.duration_s == s.sensing.horizon_s == p.T
    assert p.M in (2, 3, 4) and s.uavs.count <= 2
    if path.stem == "fig13":
        assert p.delta == 0.02 and p.leaders == (2,) and s.sensing.controller == "stackelberg"


def test_sensing_runs_beside_the_migration_world() -> None:
    """Same clock as the migration world (run by the engine); the agent population draws
    only from the run's ``sensing`` generator, so the migration tables are identical with
    and without it."""
    from simulator.app.run import run_scenario

    base = ("simulation.duration_s=120", "sensing.horizon_s=120", "sensing.revision=agent",
            "uavs.count=4", "uavs.mobility.speed_mps=[20, 30]")
    tables = []
    for enabled in ("false", "true"):
        s = load_scenario(SYNC / "fig4.yaml", overrides=(*base, f"sensing.enabled={enabled}"))
        tables.append(run_scenario(s, in_memory=True).tables)
    plain, both = (dict(t) for t in tables)
    assert "/sensing/state" not in plain
    state = both.pop("/sensing/state")
    both.pop("/sensing/vsps")
    assert state["t_s"].size == 2 * 121 and state["t_s"][-1] == 120.0
    assert plain.keys() == both.keys() and plain, plain.keys()
    for name, cols in plain.items():
        for col, values in cols.items():
            if f"{name}/{col}" in WALL_CLOCK_COLUMNS:
                continue
            np.testing.assert_array_equal(both[name][col], values, err_msg=f"{name}/{col}")
