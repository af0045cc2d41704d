"""Tests of simulator.trace.schema: the table contract, enum codes and the generated docs."""

from __future__ import annotations

import keyword
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator.trace import schema
from simulator.trace.docs import render_markdown
from simulator.trace.schema import (
    COVERAGE_KIND,
    GROUP_DESCRIPTIONS,
    REQUEST_OUTCOME,
    SCHEMA_VERSION,
    SOLVER_CODES,
    TABLES,
    VSP_ROLE,
    code_of,
    get_table,
)

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "trace-format.md"

# The columns the engine, migration, sensing and training code write to (the contract).
CONTRACT = {
    "/rsus": "rsu_id x_m y_m z_m coverage_radius_m tx_power_dbm noise_dbm cost price_cap",
    "/uavs": "uav_id twin_count twin_size_bytes delta ssim_threshold budget present_from_s "
             "present_to_s",
    "/mobility/segments": "uav_id t_start_s t_end_s x0_m y0_m z0_m x1_m y1_m z1_m",
    "/mobility/positions": "t_s uav_id x_m y_m z_m",
    "/coverage/events": "t_s uav_id rsu_id kind",
    "/migration/requests": "request_id t_s uav_id src_rsu_id n_candidates outcome",
    "/migration/transfers": "transfer_id request_id uav_id twin_id src_rsu_id dst_rsu_id "
    "n_hops size_bytes t_start_s t_end_s",
    "/migration/transfer_hops": "transfer_id hop rsu_id",
    "/migration/service": "request_id uav_id t_request_s t_interrupt_start_s "
    "t_interrupt_end_s interruption_s bandwidth_mhz rate_mbps immersion",
    "/live_migration/twins": "transfer_id mode rounds total_bytes downtime_s total_s "
    "mean_dirty_rate stop_reason",
    "/live_migration/rounds": "transfer_id round size_bytes t_start_s t_end_s paused",
    "/pricing/rounds": "round_id t_s solver n_uavs n_rsus iterations converged residual "
    "wall_time_s mean_rsu_utility mean_uav_utility reference_rsu_utility "
    "reference_uav_utility",
    "/pricing/offers": "round_id request_id uav_id rsu_id price bandwidth_mhz "
    "spectral_efficiency ssim",
    "/pricing/revenue": "round_id rsu_id revenue cost_total",
    "/pricing/paths": "round_id iteration mean_rsu_utility",
    "/decision_time/rounds": "round_id decision_time_s flops flops_per_decision",
    "/sensing/vsps": "vsp_id theta twins alpha k v c role",
    "/sensing/state": "t_s vsp_id share twin_value intensity payoff_rate cumulative_payoff",
    "/training/iterations": "iteration step mean_reward se_reward reward_ratio eval_ratio "
    "policy_loss value_loss entropy approx_kl clip_fraction sparsity live_params",
    "/training/agents": "iteration agent reward",
    "/faults/outages": "outage_id element rsu_id peer_rsu_id t_start_s t_end_s",
    "/faults/twin_losses": "outage_id uav_id twin_id rsu_id t_lost_s request_id source "
    "staleness_s dst_rsu_id restore_attempts t_restore_start_s t_restored_s",
    "/faults/transfer_events": "t_s request_id uav_id twin_id src_rsu_id dst_rsu_id event "
    "outage_id bytes_left n_hops attempt",
}


def test_schema_version_is_one() -> None:
    assert SCHEMA_VERSION == 1


def test_tables_match_the_contract_exactly() -> None:
    assert {t.path: " ".join(t.column_names) for t in TABLES} == CONTRACT


def test_every_column_is_well_formed() -> None:
    paths = [t.path for t in TABLES]
    assert len(paths) == len(set(paths))
    for t in TABLES:
        assert t.description.strip(), t.path
        assert t.group == "/" or t.group in GROUP_DESCRIPTIONS, t.path
        for c in t.columns:
            where = f"{t.path}/{c.name}"
            assert c.name.isidentifier() and not keyword.iskeyword(c.name), where
            assert np.dtype(c.dtype).kind in "fiub", where  # no strings in tables
            assert np.dtype(c.dtype).str == c.dtype, where
            assert c.unit.strip() and c.description.strip(), where
            if c.codes is not None:
                assert np.dtype(c.dtype).kind in "iu", where
                info = np.iinfo(c.dtype)
                assert all(info.min <= k <= info.max for k in c.codes), where
                assert len(set(c.codes.values())) == len(c.codes), where


def test_time_columns_are_seconds_and_positions_metres() -> None:
    for t in TABLES:
        for c in t.columns:
            if c.name.endswith("_s"):
                assert c.unit == "s", f"{t.path}/{c.name}"
            if c.name.endswith("_m"):
                assert c.unit == "m", f"{t.path}/{c.name}"
            if c.name.endswith("_mhz"):
                assert c.unit == "MHz", f"{t.path}/{c.name}"


def test_only_solver_wall_time_is_marked_wall_clock() -> None:
    assert schema.WALL_CLOCK_COLUMNS == ("/pricing/rounds/wall_time_s",)
    assert not get_table("/pricing/rounds").column("wall_time_s").reproducible


def test_enum_codes() -> None:
    assert dict(COVERAGE_KIND) == {0: "leave", 1: "enter"}
    assert dict(VSP_ROLE)[0] == "follower" and dict(VSP_ROLE)[1] == "leader"
    assert list(SOLVER_CODES.values()) == ["equilibrium", "tiny_madrl", "ppo", "greedy", "random"]
    assert code_of(REQUEST_OUTCOME, "served") == 0
    assert code_of(REQUEST_OUTCOME, "no_coverage") == 2
    with pytest.raises(ValueError, match="did you mean 'greedy'"):
        code_of(SOLVER_CODES, "gready")


def test_get_table_normalises_and_suggests() -> None:
    assert get_table("migration/transfers") is get_table("/migration/transfers")
    with pytest.raises(ValueError, match=r"unknown trace table '/migration/transfer'.*"
                       r"did you mean '/migration/transfers'"):
        get_table("/migration/transfer")
    with pytest.raises(ValueError, match="has no column 'uav'.*did you mean 'uav_id'"):
        get_table("/uavs").column("uav")


def test_docs_are_fresh() -> None:
    expected = render_markdown()
    actual = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert actual == expected, (
        "docs/trace-format.md is stale; regenerate it with "
        "`python -m simulator.trace.schema > docs/trace-format.md`"
    )


def test_docs_mention_every_table_column_and_code() -> None:
    text = render_markdown()
    for t in TABLES:
        assert f"#### `{t.path}`" in text
        for c in t.columns:
            assert f"| `{c.name}` | `{c.dtype}` | {c.unit} |" in text
            for code, label in (c.codes or {}).items():
                assert f"{code} = `{label}`" in text


def test_module_main_prints_docs_and_schema_does_not_import_h5py() -> None:
    out = subprocess.run(
        [sys.executable, "-c",
         "import sys, simulator.trace.docs as s; assert 'h5py' not in sys.modules; "
         "raise SystemExit(s.main())"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    assert out.stdout == render_markdown()


def test_tables_are_frozen() -> None:
    t = get_table("/coverage/events")
    with pytest.raises(AttributeError):
        t.path = "/x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.column("kind").codes[2] = "x"  # type: ignore[index]
    assert schema.TABLES[0].path == "/rsus"


def test_group_attributes_are_declared_on_subsystem_groups_only() -> None:
    from agents.pricing.registry import POLICIES
    from simulator.trace.attributes import GROUP_ATTRS, check_group_attr

    assert set(GROUP_ATTRS) <= set(GROUP_DESCRIPTIONS)
    learned = {f"training_eval_{s.name}" for s in POLICIES.values() if s.learned}
    assert learned == {n for n in GROUP_ATTRS["/pricing"] if n.startswith("training_eval_")}
    assert check_group_attr("/pricing", "sweep_values", [1, 2]).kinds == ("float[]",)
    with pytest.raises(ValueError, match="expected str"):
        check_group_attr("/sensing", "controller", 3)
