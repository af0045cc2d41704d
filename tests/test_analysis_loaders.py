"""Tests of analysis.loaders: typed, labelled, lazy pandas tables from real trace files.

The helper :func:`write_small_trace` (imported by the other test_analysis_* files) writes a
tiny trace with TraceWriter whose metrics are easy to compute by hand: two RSUs at x = 0 and
x = 100 m (radius 60 m), UAV 0 flying along y = 0 from x = -50 to 150 m in 100 s (two
segments), UAV 1 along x = 0 from y = 50 to -50 m, two cell exits, two pricing rounds.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from analysis import ACCESSORS, PartialTraceWarning, open_trace
from simulator.errors import TraceError
from simulator.trace.schema import SCHEMA_VERSION, TABLES
from simulator.trace.writer import TraceWriter, partial_path_for

SCENARIO_YAML = "simulation:\n  name: tiny  # a run\n  duration_s: 100\n  seed: 3\n"
NAN = math.nan

def write_small_trace(path: Path, *, sensing: bool = True, training: bool = True) -> Path:
    """Write the hand-checkable trace described in the module docstring; return its path."""
    with TraceWriter(path, scenario_yaml=SCENARIO_YAML, seed=3, flush_interval_s=0) as tw:
        tw.append("/rsus", rsu_id=[0, 1], x_m=[0.0, 100.0], y_m=[0.0, 0.0], z_m=[10.0, 10.0],
                  coverage_radius_m=[60.0, 60.0], tx_power_dbm=[30.0, 30.0],
                  noise_dbm=[-110.0, -110.0], cost=[1.0, 1.5], price_cap=[10.0, 10.0])
        tw.append("/uavs", uav_id=[0, 1], twin_count=[2, 1], twin_size_bytes=[2e6, 1e6],
                  delta=[10.0, 12.0], ssim_threshold=[0.5, 0.5], budget=[5.0, 6.0],
                  present_from_s=[0.0, 0.0], present_to_s=[100.0, 100.0])
        tw.append("/mobility/segments", uav_id=[0, 0, 1], t_start_s=[0.0, 50.0, 0.0],
                  t_end_s=[50.0, 100.0, 100.0], x0_m=[-50.0, 50.0, 0.0],
                  y0_m=[0.0, 0.0, 50.0], z0_m=[10.0, 10.0, 20.0], x1_m=[50.0, 150.0, 0.0],
                  y1_m=[0.0, 0.0, -50.0], z1_m=[10.0, 10.0, 20.0])
        tw.append("/mobility/positions", t_s=[0.0, 0.0, 50.0, 50.0], uav_id=[0, 1, 0, 1],
                  x_m=[-50.0, 0.0, 50.0, 0.0], y_m=[0.0, 50.0, 0.0, 0.0],
                  z_m=[10.0, 20.0, 10.0, 20.0])
        tw.append("/coverage/events", t_s=[0.0, 0.0, 20.0, 45.0, 55.0],
                  uav_id=[0, 1, 1, 0, 0], rsu_id=[0, 0, 1, 1, 0], kind=[1, 1, 0, 1, 0])
        tw.append("/migration/requests", request_id=[0, 1, 2], t_s=[20.0, 55.0, 60.0],
                  uav_id=[1, 0, 1], src_rsu_id=[0, 0, -1], n_candidates=[2, 2, 0],
                  outcome=[0, 0, 1])
        tw.append("/migration/transfers", transfer_id=[0, 1, 2], request_id=[1, 1, 0],
                  uav_id=[0, 0, 1], twin_id=[0, 1, 0], src_rsu_id=[0, 0, 0],
                  dst_rsu_id=[1, 1, 1], n_hops=[1, 1, 1], size_bytes=[1e6, 1e6, 1e6],
                  t_start_s=[55.0, 55.0, 20.0], t_end_s=[57.0, 59.0, NAN])
        tw.append("/migration/transfer_hops", transfer_id=[0, 0, 1, 1], hop=[0, 1, 0, 1],
                  rsu_id=[0, 1, 0, 1])
        tw.append("/migration/service", request_id=[1, 0], uav_id=[0, 1],
                  t_request_s=[55.0, 20.0], t_interrupt_start_s=[55.0, 20.0],
                  t_interrupt_end_s=[59.0, 21.0], interruption_s=[4.0, 1.0],
                  bandwidth_mhz=[3.0, 1.0], rate_mbps=[6.0, 2.0], immersion=[2.5, 1.5])
        tw.append("/pricing/rounds", round_id=[0, 1], t_s=[20.0, 55.0], solver=[0, 0],
                  n_uavs=[1, 1], n_rsus=[2, 2], iterations=[10, 14], converged=[True, False],
                  residual=[1e-10, 1e-3], wall_time_s=[0.01, 0.02],
                  mean_rsu_utility=[4.0, 6.0])
        tw.append("/pricing/offers", round_id=[0, 0, 1, 1], request_id=[0, 0, 1, 1],
                  uav_id=[1, 1, 0, 0], rsu_id=[0, 1, 0, 1], price=[2.0, 4.0, 3.0, 5.0],
                  bandwidth_mhz=[1.0, 0.0, 2.0, 1.0],
                  spectral_efficiency=[2.0, 1.0, 2.0, 2.0], ssim=[0.9, 0.8, 0.9, 0.95])
        tw.append("/pricing/revenue", round_id=[0, 0, 1, 1], rsu_id=[0, 1, 0, 1],
                  revenue=[2.0, 0.0, 6.0, 5.0], cost_total=[1.0, 0.0, 2.0, 1.5])
        tw.append("/pricing/paths", round_id=[0, 1], iteration=[0, 0],
                  mean_rsu_utility=[4.0, 6.0])
        if sensing:
            tw.append("/sensing/vsps", vsp_id=[0, 1], theta=[1.0, 2.0], twins=[3, 4],
                      alpha=[0.1, 0.2], k=[1.0, 1.0], v=[5.0, 6.0], c=[0.5, 0.5], role=[1, 0])
            tw.append("/sensing/state", t_s=[0.0, 0.0, 10.0, 10.0, 20.0, 20.0],
                      vsp_id=[0, 1] * 3, share=[0.5, 0.5, 0.6, 0.4, 0.7, 0.3],
                      twin_value=[1.0, 2.0, 1.5, 2.5, 2.0, 3.0],
                      intensity=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], payoff_rate=[1.0] * 6,
                      cumulative_payoff=[0.0, 0.0, 10.0, 10.0, 20.0, 20.0])
        if training:
            tw.append("/training/iterations", iteration=[0, 1, 2], step=[100, 200, 300],
                      mean_reward=[1.0, 2.0, 3.0], se_reward=[4.0, 4.0, 4.0],
                      reward_ratio=[0.25, 0.5, 0.75], eval_ratio=[np.nan, 0.97, 0.99],
                      policy_loss=[0.3, 0.2, 0.1],
                      value_loss=[1.0, 0.5, 0.25], entropy=[1.2, 1.1, 1.0],
                      approx_kl=[0.01] * 3, clip_fraction=[0.1] * 3,
                      sparsity=[0.0, 0.25, 0.5], live_params=[1000, 800, 600])
            tw.append("/training/agents", iteration=[0, 0, 1, 1, 2, 2], agent=[0, 1] * 3,
                      reward=[1.0, 1.0, 2.0, 2.0, 3.0, 3.0])
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_trace(tmp_path_factory.mktemp("loaders") / "small.h5")


def test_every_table_has_schema_dtypes_units_and_descriptions(small: Path) -> None:
    trace = open_trace(small)
    assert trace.tables() == [t.path for t in TABLES if not t.optional]
    for spec in TABLES:
        df = trace.table(spec.path)
        assert list(df.columns) == list(spec.column_names)
        assert df.attrs["path"] == spec.path and df.attrs["description"] == spec.description
        assert df.attrs["units"] == {c.name: c.unit for c in spec.columns}
        assert df.attrs["descriptions"] == {c.name: c.description for c in spec.columns}
        for col in spec.columns:
            if col.codes is None:
                assert df[col.name].dtype == col.np_dtype, (spec.path, col.name)
            else:
                assert list(df[col.name].cat.categories) == list(col.codes.values())
        assert len(df) == trace.n_rows(spec.path)


def test_values_round_trip_and_enums_become_labels(small: Path) -> None:
    trace = open_trace(small)
    ev = trace.coverage_events
    np.testing.assert_array_equal(ev["t_s"], [0.0, 0.0, 20.0, 45.0, 55.0])
    assert ev["kind"].tolist() == ["enter", "enter", "leave", "enter", "leave"]
    assert trace.migration_requests["outcome"].tolist() == ["served", "served", "no_viable_rsu"]
    assert trace.pricing_rounds["solver"].tolist() == ["equilibrium", "equilibrium"]
    assert trace.pricing_rounds["converged"].dtype == np.bool_
    assert trace.sensing_vsps["role"].tolist() == ["leader", "follower"]
    t_end = trace.migration_transfers["t_end_s"].to_numpy()
    assert t_end[:2].tolist() == [57.0, 59.0] and np.isnan(t_end[2])


def test_names_adds_label_columns_and_none_is_missing(small: Path) -> None:
    trace = open_trace(small, names=True)
    req = trace.migration_requests
    assert list(req.columns[:5]) == ["request_id", "t_s", "uav_id", "uav", "src_rsu_id"]
    assert req["uav"].tolist() == ["UAV 1", "UAV 0", "UAV 1"]
    assert req["src_rsu"].iloc[:2].tolist() == ["RSU 0", "RSU 0"]
    assert pd.isna(req["src_rsu"].iloc[2])  # src_rsu_id -1 = none
    assert list(req["uav"].cat.categories) == ["UAV 0", "UAV 1"]
    tr = trace.migration_transfers
    assert tr["dst_rsu"].tolist() == ["RSU 1"] * 3
    assert trace.sensing_state["vsp"].tolist()[:2] == ["VSP 0", "VSP 1"]
    assert "uav" not in trace.table("/migration/requests", names=False).columns
    assert "uav" not in open_trace(small).migration_requests.columns


def test_accessors_are_equivalent(small: Path) -> None:
    trace = open_trace(small)
    ref = trace.table("/migration/transfers")
    for key in ("migration/transfers", "/migration/transfers", "migration_transfers"):
        pd.testing.assert_frame_equal(trace[key], ref)
    pd.testing.assert_frame_equal(trace.migration_transfers, ref)
    assert ACCESSORS["rsus"] == "/rsus" and ACCESSORS["sensing_state"] == "/sensing/state"
    assert set(ACCESSORS) <= set(dir(trace))
    with pytest.raises(AttributeError, match="migration_transfer"):
        trace.migration_transfer  # noqa: B018
    with pytest.raises(TraceError, match="did you mean '/migration/transfers'"):
        trace["/migration/transfer"]
    with pytest.raises(TraceError, match="no column 'prize'"):
        trace.table("/pricing/offers", columns=["prize"])


def test_reading_is_lazy_and_cached(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    original = h5py.Dataset.__getitem__

    def spy(self: h5py.Dataset, key: object) -> object:
        read.append(self.name)
        return original(self, key)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    trace = open_trace(small)
    assert read == [] and trace.cached_tables == []
    assert trace.n_rows("/pricing/offers") == 4 and read == []  # shapes only
    df = trace.table("/pricing/offers", columns=["price"])
    assert read == ["/pricing/offers/price"] and list(df.columns) == ["price"]
    trace.table("/pricing/offers", columns=["price"])
    assert read == ["/pricing/offers/price"]  # cached
    trace.table("/pricing/offers", columns=["price", "rsu_id"])
    assert read == ["/pricing/offers/price", "/pricing/offers/rsu_id"]
    assert trace.cached_tables == ["/pricing/offers"]


def test_held_open_reads_the_same_with_one_open(small: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside held_open every read uses one open file (nested blocks too); outside, each read
    opens the file; the frames are the same either way."""
    import analysis.loaders as loaders_mod

    opened: list[object] = []
    original = loaders_mod.TraceReader

    def counted(*args: object, **kwargs: object) -> object:
        opened.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(loaders_mod, "TraceReader", counted)
    plain = open_trace(small)
    want = [plain.table("/pricing/offers"), *plain.chunks("/coverage/events", ["t_s"], 1)]
    # open_trace, table(), the row count of chunks(), then one open per slice
    assert len(opened) == 1 + 1 + 1 + (len(want) - 1)
    held = open_trace(small)
    opened.clear()
    with held.held_open() as same:
        assert same is held
        with held.held_open():
            got = [held.table("/pricing/offers"), *held.chunks("/coverage/events", ["t_s"], 1)]
        held.n_rows("/rsus")
        assert len(opened) == 1
    for a, b in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(a, b)
    held.n_rows("/uavs")
    assert len(opened) == 2  # the held file was closed: the next read opens it again


def test_arrays_are_the_stored_values(small: Path) -> None:
    trace = open_trace(small)
    got = trace.arrays("/coverage/events", ["kind", "t_s"])
    assert list(got) == ["kind", "t_s"]
    assert got["kind"].dtype == np.uint8 and got["kind"].tolist() == \
        trace.table("/coverage/events")["kind"].cat.codes.tolist()
    assert got["t_s"] is trace.arrays("/coverage/events")["t_s"]  # cached
    with pytest.raises(ValueError, match="read-only"):
        got["t_s"][0] = -1.0  # the cache stays what the file holds


def test_memory_tables_read_what_they_do_not_hold_from_the_trace(small: Path) -> None:
    """MemoryTables(rest=...) serves the columns it holds and reads the others (and tables
    it does not hold) from the trace, opened once on first need; without ``rest`` an absent
    table has no rows."""
    from analysis.loaders import MemoryTables

    trace = open_trace(small)
    events = trace.arrays("/coverage/events", ["t_s"])
    opens: list[int] = []

    def rest() -> object:
        opens.append(1)
        return open_trace(small)

    mixed = MemoryTables({"/coverage/events": {"t_s": events["t_s"] + 1000.0}}, rest=rest)
    assert mixed.table("/coverage/events", ["t_s"])["t_s"].min() >= 1000.0 and opens == []
    df = mixed.table("/coverage/events", ["t_s", "kind", "uav_id"])
    assert opens == [1] and df["t_s"].min() >= 1000.0  # held column from memory, rest read
    pd.testing.assert_frame_equal(df[["kind", "uav_id"]],
                                  trace.table("/coverage/events", ["kind", "uav_id"]))
    pd.testing.assert_frame_equal(
        pd.concat(list(mixed.chunks("/pricing/offers", ["price", "rsu_id"], 3)),
                  ignore_index=True),
        trace.table("/pricing/offers", ["price", "rsu_id"]))
    assert mixed.n_rows("/pricing/offers") == trace.n_rows("/pricing/offers") == 4
    assert opens == [1]
    assert MemoryTables({}).n_rows("/pricing/offers") == 0


def test_a_broken_table_is_named_when_the_trace_is_opened(small: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.h5"
    broken.write_bytes(small.read_bytes())
    with h5py.File(broken, "r+") as f:
        del f["/pricing/offers/price"]
    with pytest.raises(TraceError, match=r"/pricing/offers/price: missing column"):
        open_trace(broken)  # a complete trace is checked against the schema (issue 14)


def test_run_info_from_root_attributes(small: Path) -> None:
    trace = open_trace(small)
    assert trace.status == "complete" and trace.schema_version == SCHEMA_VERSION
    assert trace.attrs["seed"] == 3
    assert trace.scenario_name == "tiny" and trace.duration_s == 100.0
    assert trace.units("/migration/service")["rate_mbps"] == "Mbit/s"


def test_not_a_trace_errors(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such trace file"):
        open_trace(tmp_path / "missing.h5")
    text = tmp_path / "text.h5"
    text.write_text("hello")
    with pytest.raises(TraceError, match="not an HDF5 file"):
        open_trace(text)
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(TraceError, match="not a uavtwin trace"):
        open_trace(plain)


def test_newer_schema_is_refused(small: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer.h5"
    newer.write_bytes(small.read_bytes())
    with h5py.File(newer, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(TraceError, match=f"version {SCHEMA_VERSION + 1} is newer"):
        open_trace(newer)


def test_failed_trace_carries_the_error_text(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    with pytest.raises(RuntimeError), TraceWriter(path, scenario_yaml="", seed=1) as tw:
        tw.append("/rsus", rsu_id=0, x_m=1.0, y_m=2.0, z_m=3.0, coverage_radius_m=4.0,
                  tx_power_dbm=5.0, noise_dbm=6.0, cost=7.0, price_cap=8.0)
        raise RuntimeError("solver diverged\nat round 3")
    failed = partial_path_for(path)
    with pytest.raises(TraceError) as info:
        open_trace(failed)
    msg = str(info.value)
    assert "run failed: RuntimeError: solver diverged at round 3" in msg and "\n" not in msg
    trace = open_trace(failed, allow_failed=True)
    assert trace.rsus["x_m"].tolist() == [1.0]


def test_partial_trace_warns_and_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    tw = TraceWriter(path, scenario_yaml="", seed=1, flush_interval_s=0)
    tw.append("/coverage/events", t_s=[1.0, 2.0], uav_id=[0, 0], rsu_id=[1, 1], kind=[1, 0])
    tw.close("partial")
    partial = partial_path_for(path)
    with h5py.File(partial, "r+") as f:  # a crash mid-write: one column one row shorter
        f["/coverage/events/kind"].resize((1,))
    with pytest.warns(PartialTraceWarning, match="partial trace"):
        trace = open_trace(partial)
    with pytest.warns(PartialTraceWarning, match="truncated to 1 rows"):
        ev = trace.coverage_events
    assert ev["t_s"].tolist() == [1.0] and ev["kind"].tolist() == ["enter"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(trace.rsus) == 0
