"""Tests of scenario loading: exact one-line errors, overrides, defaults, round trip, schema."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from simulator.config.docs import main, scenario_docs
from simulator.config.fields import IntRange, Range
from simulator.config.loader import load_scenario, parse_scenario, scenario_json_schema
from simulator.config.models import DEFAULT_VSPS, SENSING_DEFAULTS, VSP_DEFAULTS, Scenario
from simulator.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def error_of(text: str, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="s.yaml", overrides=overrides)
    return str(info.value)


# --- error messages -------------------------------------------------------------------------

FILE_ERRORS = [
    ("rsus:\n  grid:\n    spacing_m: -5\n",
     "s.yaml:3: rsus.grid.spacing_m: must be > 0, got -5"),
    ("rsus:\n  grid:\n    spacing: 500\n",
     "s.yaml:3: rsus.grid: unknown key 'spacing' (did you mean 'spacing_m'?)"),
    ("simulaton:\n  seed: 2\n",
     "s.yaml:1: unknown key 'simulaton' (did you mean 'simulation'?)"),
    ("area:\n  width_m: 100\n  colour: red\n", "s.yaml:3: area: unknown key 'colour'"),
    ("simulation:\n  duration_s: long\n",
     "s.yaml:2: simulation.duration_s: expected a number, got 'long'"),
    ("uavs:\n  count: 2.5\n", "s.yaml:2: uavs.count: expected an integer, got 2.5"),
    ("uavs:\n  count: '20'\n", "s.yaml:2: uavs.count: expected an integer, got '20'"),
    ("output:\n  record_positions: 3\n",
     "s.yaml:2: output.record_positions: expected true or false, got 3"),
    ("area:\n  width_m: .inf\n", "s.yaml:2: area.width_m: expected a finite number, got inf"),
    ("rsus: 5\n", "s.yaml:1: rsus: expected a mapping, got 5"),
    ("pricing:\n  solver: greedyy\n",
     "s.yaml:2: pricing.solver: expected one of equilibrium, tiny_madrl, ppo, greedy, random; "
     "got 'greedyy' (did you mean 'greedy'?)"),
    ("rsus:\n  cost: [4, 1]\n", "s.yaml:2: rsus.cost: expected lo <= hi, got [4, 1]"),
    ("rsus:\n  cost: [-1, 1]\n", "s.yaml:2: rsus.cost: both ends must be > 0, got [-1, 1]"),
    ("rsus:\n  cost: 0\n", "s.yaml:2: rsus.cost: must be > 0, got 0"),
    ("rsus:\n  cost: [1, 2, 3]\n",
     "s.yaml:2: rsus.cost: expected a number or a list [lo, hi], got a list of 3 items"),
    ("rsus:\n  cost:\n    - 1\n    - x\n", "s.yaml:4: rsus.cost[1]: expected a number, got 'x'"),
    ("training:\n  rsus: [1.5, 3]\n",
     "s.yaml:2: training.rsus[0]: expected an integer, got 1.5"),
    ("uavs:\n  follower:\n    ssim_threshold: [0.5, 1.2]\n",
     "s.yaml:3: uavs.follower.ssim_threshold: both ends must be <= 1, got [0.5, 1.2]"),
    ("rsus:\n  placement: explicit\n  explicit:\n    - {x_m: 1, y_m: 2}\n    - x_m: 3\n",
     "s.yaml:5: rsus.explicit[1]: missing required key 'y_m'"),
    ("rsus:\n  grid:\n    origin_m: [1, 2, 3]\n",
     "s.yaml:3: rsus.grid.origin_m: expected at most 2 items, got 3"),
    ("simulation:\n  name: 'my run'\n",
     "s.yaml:2: simulation.name: expected only letters, digits, '.', '_' or '-', got 'my run'"),
    ("rsus:\n  cost: [1, 2\n  x: 3\n",
     "s.yaml:3: YAML syntax error: expected ',' or ']', but got ':'"),
    ("rsus:\n  cost: 1\n  cost: 2\n", "s.yaml:3: rsus: duplicate key 'cost' (first at line 2)"),
    ("- 1\n- 2\n", "s.yaml:1: expected a mapping of sections, got [1, 2]"),
    # pydantic reports area (an earlier field) first; the loader sorts by line
    ("rsus:\n  cost: -1\narea:\n  width_m: 0\n",
     "s.yaml:2: rsus.cost: must be > 0, got -1 (+1 more)"),
    ("uavs:\n  count: 2\n  mobility:\n    model: waypoints\n    waypoints:\n      - uav: 0\n"
     "        points:\n          - {x_m: 1, y_m: 1, z_m: 10}\n"
     "          - {x_m: 1, y_m: 1, z_m: -3}\n",
     "s.yaml:9: uavs.mobility.waypoints[0].points[1].z_m: must be >= 0, got -3"),
]

CROSS_FIELD_ERRORS = [
    ("rsus:\n  cost: [1, 6]\n  price_cap: [5, 35]\n",
     "s.yaml:3: rsus.price_cap: lower end 5 must be >= the upper end of rsus.cost (6) so that "
     "every RSU's price cap covers its cost"),
    ("rsus:\n  placement: explicit\n", "s.yaml:2: rsus.explicit: placement 'explicit' needs at "
                                      "least one RSU"),
    ("area: {width_m: 100, height_m: 100}\nrsus:\n  placement: explicit\n  explicit:\n"
     "    - {x_m: 50, y_m: 50}\n    - {x_m: 150, y_m: 50}\n",
     "s.yaml:6: rsus.explicit[1]: RSU at (150, 50) is outside the area 100 x 100 m"),
    ("rsus:\n  grid: {rows: 1, cols: 5, spacing_m: 600}\n",
     "s.yaml:2: rsus.grid: grid RSU at (-200, 1000) is outside the area 2000 x 2000 m"),
    ("backhaul:\n  topology: edges\n  edges:\n    - {a: 0, b: 1}\n    - {a: 1, b: 12}\n",
     "s.yaml:5: backhaul.edges[1].b: RSU id must be < the number of RSUs (9), got 12"),
    ("backhaul:\n  topology: edges\n  edges:\n    - {a: 0, b: 1}\n    - {a: 1, b: 0}\n",
     "s.yaml:5: backhaul.edges[1]: duplicate link 1-0 (also edges[0])"),
    ("backhaul:\n  topology: edges\n", "s.yaml:2: backhaul.edges: topology 'edges' needs at "
                                       "least one edge"),
    ("rsus:\n  placement: poisson\nbackhaul:\n  topology: edges\n  edges: [{a: 0, b: 1}]\n",
     "s.yaml:4: backhaul.topology: topology 'edges' needs a fixed RSU count (placement grid, "
     "random or explicit), got 'poisson'"),
    ("rsus:\n  placement: random\nbackhaul:\n  topology: grid\n",
     "s.yaml:4: backhaul.topology: topology 'grid' needs placement 'grid', got placement "
     "'random'"),
    ("uavs:\n  count: 2\n  mobility:\n    model: waypoints\n    waypoints:\n"
     "      - uav: 0\n        points: [{x_m: 1, y_m: 1, z_m: 10}]\n"
     "      - uav: 2\n        points: [{x_m: 1, y_m: 1, z_m: 10}]\n",
     "s.yaml:8: uavs.mobility.waypoints[1].uav: UAV id must be < uavs.count (2), got 2"),
    ("uavs:\n  count: 3\n  mobility:\n    model: waypoints\n    waypoints:\n"
     "      - uav: 1\n        points: [{x_m: 1, y_m: 1, z_m: 10}]\n",
     "s.yaml:5: uavs.mobility.waypoints: model 'waypoints' needs one entry per UAV (count 3), "
     "missing uav 0 and 1 more"),
    ("uavs:\n  count: 1\n  mobility:\n    model: waypoints\n    waypoints:\n"
     "      - uav: 0\n        points:\n          - {x_m: 1, y_m: 1, z_m: 10}\n"
     "          - {x_m: 1, y_m: 5000, z_m: 10}\n",
     "s.yaml:9: uavs.mobility.waypoints[0].points[1]: point (1, 5000) is outside the area "
     "2000 x 2000 m"),
    ("uavs:\n  mobility:\n    model: trace\n",
     "s.yaml:3: uavs.mobility.file: model 'trace' needs a file"),
    ("uavs:\n  mobility:\n    model: trace\n    file: a.csv\n    trace_file: b.csv\n",
     "s.yaml:5: uavs.mobility.trace_file: give file or trace_file, not both"),
    ("uavs:\n  mobility:\n    model: trace\n    file: a.gpx\n    origin: [95, 7]\n",
     "s.yaml:5: uavs.mobility.origin: expected [lat, lon] in degrees, got [95.0, 7.0]"),
    ("uavs:\n  mobility:\n    model: trace\n    file: a.kml\n    format: kml\n",
     "s.yaml:5: uavs.mobility.format: expected one of auto, ns2, bonnmotion, sumo-fcd, gpx, csv; "
     "got 'kml'"),
    ("sensing:\n  vsps:\n    - {theta: 0.1, x0: 0.4}\n    - {theta: 0.2, x0: 0.4}\n",
     "s.yaml:2: sensing.vsps: initial shares x0 must sum to 1, got 0.8"),
    ("sensing:\n  leaders: [0, 2]\n",
     "s.yaml:2: sensing.leaders[1]: must be a VSP index in 0..1, got 2"),
    ("sensing:\n  controller: stackelberg\n",
     "s.yaml:2: sensing.leaders: controller 'stackelberg' needs at least one leader"),
    ("sensing:\n  weights: [1, 1, -0.5, 0]\n", "s.yaml:2: sensing.weights[2]: must be >= 0, "
                                               "got -0.5"),
    ("training:\n  prune: {initial_sparsity: 0.5, final_sparsity: 0.25}\n",
     "s.yaml:2: training.prune.final_sparsity: must be >= initial_sparsity (0.5), got 0.25"),
]


@pytest.mark.parametrize(("text", "expected"), FILE_ERRORS + CROSS_FIELD_ERRORS)
def test_file_error_message_is_exact(text: str, expected: str) -> None:
    assert error_of(text) == expected


_WAYPOINT = "uavs:\n  count: 1\n  mobility:\n    model: waypoints\n    waypoints:\n      - uav: 0\n"
# A misspelt key inside an item of a nested list: the error names the bad key at its own line.
# Before, a list whose only item failed read "expected at least 1 items, got 0" (pydantic counts
# the items that validated), and a misspelt key hid behind "missing required key" (+1 more).
NESTED_TYPO_ERRORS = [
    (_WAYPOINT + "        points:\n          - x_m: 1\n            y_m: 1\n            zm: 10\n",
     "s.yaml:10: uavs.mobility.waypoints[0].points[0]: unknown key 'zm' (did you mean 'z_m'?)"),
    (_WAYPOINT + "        points:\n          - {x_m: 1, y_m: 1, z_m: 10, sped_mps: 5}\n",
     "s.yaml:8: uavs.mobility.waypoints[0].points[0]: unknown key 'sped_mps' (did you mean "
     "'speed_mps'?)"),
    (_WAYPOINT + "        points:\n          - x_m: 1\n            y_m: 1\n"
     "            height: 10\n",
     "s.yaml:10: uavs.mobility.waypoints[0].points[0]: unknown key 'height'; missing required "
     "key 'z_m'"),
    (_WAYPOINT + "        points: [[1, 1, 10]]\n",
     "s.yaml:7: uavs.mobility.waypoints[0].points[0]: expected a mapping, got [1, 1, 10]"),
    ("uavs:\n  count: 1\n  mobility:\n    model: waypoints\n    waypoints:\n"
     "      - uva: 0\n        points:\n          - {x_m: 1, y_m: 1, z_m: 10}\n",
     "s.yaml:6: uavs.mobility.waypoints[0]: unknown key 'uva' (did you mean 'uav'?)"),
    ("sensing:\n  vsps:\n    - theta: 1\n      xo: 1\n",
     "s.yaml:4: sensing.vsps[0]: unknown key 'xo'; missing required key 'x0'"),
    ("backhaul:\n  edges:\n    - {a: 0, bb: 1}\n",
     "s.yaml:3: backhaul.edges[0]: unknown key 'bb' (did you mean 'b'?)"),
    ("faults:\n  rsus:\n    scheduled:\n      - {rsu_id: 0, at_s: 1, fr_s: 2}\n",
     "s.yaml:4: faults.rsus.scheduled[0]: unknown key 'fr_s' (did you mean 'for_s'?)"),
]


@pytest.mark.parametrize(("text", "expected"), NESTED_TYPO_ERRORS)
def test_typo_inside_a_nested_list_item_names_the_key(text: str, expected: str) -> None:
    assert error_of(text) == expected
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="s.yaml")
    assert info.value.all_errors == [expected]  # validate --all: nothing else to list


OVERRIDE_ERRORS = [
    (("pricing.solvr=greedy",),
     "--set pricing.solvr=greedy: unknown key 'solvr' (did you mean 'solver'?)"),
    (("pricing.solver=x",), "--set pricing.solver=x: expected one of equilibrium, tiny_madrl, "
                            "ppo, greedy, random; got 'x'"),
    (("simulation.duration_s=-1",), "--set simulation.duration_s=-1: must be > 0, got -1"),
    (("rsus.cost.lo=3",), "--set rsus.cost.lo=3: rsus.cost is a value, not a section: cannot set "
                          "'lo' in it"),
    (("uavs.mobility.waypoints[2].loop=true",),
     "--set uavs.mobility.waypoints[2].loop=true: index [2] out of range: "
     "uavs.mobility.waypoints has 0 items"),
    (("rsus.cost[0]=1",), "--set rsus.cost[0]=1: rsus.cost is not a list: cannot index it "
                          "with [0]"),
    (("rsus.grid={spacing: 3}",),
     "--set rsus.grid={spacing: 3}: unknown key 'spacing' (did you mean 'spacing_m'?)"),
    (("rsus.explicit=[{x_m: 1}]",),
     "--set rsus.explicit=[{x_m: 1}]: rsus.explicit[0]: missing required key 'y_m'"),
    (("seed",), "--set seed: expected key.path=value"),
    (("a..b=3",), "--set a..b=3: bad key path segment '' (expected name or name[index])"),
    (("rsus.cost=[1,",), "--set rsus.cost=[1,: cannot parse value as YAML: expected the node "
                         "content, but found '<stream end>'"),
    (("rsus.price_cap=[2, 9]",), "--set rsus.price_cap=[2, 9]: lower end 2 must be >= the upper "
                                 "end of rsus.cost (4) so that every RSU's price cap covers its "
                                 "cost"),
    # a cross-field error caused by an override is reported at the override
    (("rsus.cost=[1, 8]",), "--set rsus.cost=[1, 8]: rsus.price_cap: lower end 5 must be >= the "
                            "upper end of rsus.cost (8) so that every RSU's price cap covers its "
                            "cost"),
    (("area.width_m=500",), "--set area.width_m=500: rsus.grid: grid RSU at (-400, 350) is "
                            "outside the area 500 x 2000 m"),
]


@pytest.mark.parametrize(("overrides", "expected"), OVERRIDE_ERRORS)
def test_override_error_message_is_exact(overrides: tuple[str, ...], expected: str) -> None:
    assert error_of("", overrides) == expected


def test_override_errors_are_reported_before_file_errors() -> None:
    message = error_of("area:\n  width_m: -1\n", ("uavs.count=0",))
    assert message == "--set uavs.count=0: must be >= 1, got 0 (+1 more)"


def test_override_value_in_file_section_that_is_not_a_mapping() -> None:
    assert error_of("rsus: 3\n", ("rsus.cost=2",)) == (
        "--set rsus.cost=2: rsus is 3 in the file, not a section")


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError, match=r"nope\.yaml: cannot read scenario: "):
        load_scenario(missing)


# --- overrides and values -------------------------------------------------------------------

def test_overrides_set_values_in_order_and_create_sections() -> None:
    s = parse_scenario("pricing:\n  solver: greedy\n", overrides=(
        "pricing.solver=random", "rsus.cost=[1,2]", "rsus.grid.rows=4", "uavs.twins.size_mb=80",
        "pricing.solver=ppo", "output.trace=out/x.h5"))
    assert s.pricing.solver == "ppo"
    assert (s.rsus.cost.lo, s.rsus.cost.hi) == (1.0, 2.0)
    assert s.rsus.grid.rows == 4 and s.rsus.fixed_count == 12
    assert s.uavs.twins.size_mb.lo == s.uavs.twins.size_mb.hi == 80.0
    assert s.trace_path == "out/x.h5"


def test_override_of_a_list_item() -> None:
    text = (SCENARIOS / "examples" / "waypoints.yaml").read_text()
    s = parse_scenario(text, overrides=("uavs.mobility.waypoints[0].points[1].pause_s=3",
                                        "uavs.mobility.waypoints[2].loop=true"))
    assert s.uavs.mobility.waypoints[0].points[1].pause_s == 3.0
    assert s.uavs.mobility.waypoints[2].loop is True


def test_ranges_accept_number_or_pair_and_draw_inside() -> None:
    s = parse_scenario("rsus:\n  cost: 2\n  price_cap: [5, 35]\ntraining:\n  rsus: [2, 3]\n")
    assert s.rsus.cost == Range(lo=2, hi=2) and s.rsus.cost.fixed
    draws = s.rsus.price_cap.draw(np.random.default_rng(0), 1000)
    assert draws.min() >= 5 and draws.max() <= 35 and draws.std() > 5
    ints = s.training.rsus.draw(np.random.default_rng(0), 200)
    assert set(ints.tolist()) == {2, 3}
    assert isinstance(s.training.rsus, IntRange)
    with pytest.raises(ValidationError, match="expected lo <= hi"):
        Range(lo=3, hi=1)


def test_waypoint_speed_defaults_to_lower_end_of_speed_range() -> None:
    s = load_scenario(SCENARIOS / "examples" / "waypoints.yaml", ("uavs.mobility.speed_mps=[7,9]",))
    points = s.uavs.mobility.waypoints[2].points
    assert [p.speed_mps for p in points] == [7.0, 12.0, 7.0]


def test_name_defaults_to_file_stem_and_relative_paths_follow_the_file(tmp_path: Path) -> None:
    sub = tmp_path / "scen"
    sub.mkdir()
    path = sub / "my run.yaml"
    path.write_text("uavs:\n  mobility:\n    model: trace\n    trace_file: data/t.csv\n"
                    "pricing:\n  checkpoint: ../agents/a.pt\n")
    s = load_scenario(path)
    assert s.simulation.name == "my-run"
    assert s.uavs.mobility.trace_file == str(sub / "data" / "t.csv")
    path.write_text("uavs:\n  mobility:\n    model: trace\n    file: data/t.ns2\n")
    assert load_scenario(path).uavs.mobility.file == str(sub / "data" / "t.ns2")
    assert s.pricing.checkpoint == str(tmp_path / "agents" / "a.pt")
    assert s.trace_path == "traces/my-run-seed1.h5"
    assert parse_scenario("").simulation.name == "scenario"


def test_grid_positions_are_centred_and_row_major() -> None:
    s = parse_scenario("area: {width_m: 1000, height_m: 600}\n"
                       "rsus:\n  grid: {rows: 2, cols: 3, spacing_m: 400}\n")
    pos = s.rsus.grid.positions_m(s.area)
    np.testing.assert_allclose(pos, [[100, 100], [500, 100], [900, 100],
                                     [100, 500], [500, 500], [900, 500]])


def test_default_grid_overlaps_so_cell_edges_are_covered_by_a_neighbour() -> None:
    s = Scenario()
    pos = s.rsus.grid.positions_m(s.area)
    radius = s.rsus.coverage_radius_m
    # The point where two neighbours' discs meet the centre cell's boundary is inside both.
    assert np.linalg.norm(pos[4] - pos[5]) < 2 * radius
    # Every point of the area is covered (check a fine lattice).
    g = np.stack(np.meshgrid(np.linspace(0, 2000, 81), np.linspace(0, 2000, 81)), -1)
    d = np.linalg.norm(g.reshape(-1, 1, 2) - pos[None], axis=2)
    assert (d.min(axis=1) <= radius).all()


def test_summary_line() -> None:
    assert load_scenario(SCENARIOS / "default.yaml").summary() == (
        "300 s, 20 UAVs (random_waypoint), 9 RSUs (grid 3x3), solver tiny_madrl, seed 1")


# --- defaults, frozen, round trip -----------------------------------------------------------

def test_empty_file_is_the_default_scenario() -> None:
    s = parse_scenario("")
    assert s == Scenario()
    assert s.simulation.duration_s == 300 and s.uavs.count == 20 and s.rsus.fixed_count == 9
    assert s.pricing.solver == "equilibrium" and s.backhaul.topology == "knn"
    assert s.training_seed == s.simulation.seed == 1
    assert s.sensing.weights == SENSING_DEFAULTS["weights"]
    assert [(v.theta, v.x0, v.twins, v.z0) for v in s.sensing.vsps] == [
        (d["theta"], d["x0"], VSP_DEFAULTS["twins"], VSP_DEFAULTS["z0"]) for d in DEFAULT_VSPS]


def test_default_yaml_spells_out_the_defaults() -> None:
    # default.yaml writes out every default, turns the sensing population on so that
    # `make run` shows the whole system, and prices with the learned agents (the mission).
    s = load_scenario(SCENARIOS / "default.yaml")
    skip = {"simulation": {"name"}, "sensing": {"enabled"}, "pricing": {"solver"}}
    assert s.model_dump(exclude=skip) == Scenario().model_dump(exclude=skip)
    assert s.simulation.name == "default"
    assert s.sensing.enabled and not Scenario().sensing.enabled
    assert s.pricing.solver == "tiny_madrl" and s.pricing.reference


def test_scenario_is_frozen() -> None:
    s = Scenario()
    with pytest.raises(ValidationError, match="frozen"):
        s.simulation = s.simulation  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        s.rsus.cost.lo = 0  # type: ignore[misc]
    assert isinstance(s.sensing.vsps, tuple) and isinstance(s.rsus.explicit, tuple)


def shipped_scenarios() -> list[Path]:
    return sorted(p for p in SCENARIOS.rglob("*.yaml")
                  if "sweeps" not in p.relative_to(SCENARIOS).parts)


def test_shipped_scenarios_exist() -> None:
    names = {p.relative_to(SCENARIOS).as_posix() for p in shipped_scenarios()}
    assert {"default.yaml", "examples/urban-grid.yaml", "examples/rural-corridor.yaml",
            "examples/waypoints.yaml"} <= names


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.name)
def test_shipped_scenario_loads_and_round_trips(path: Path) -> None:
    s = load_scenario(path)
    text = s.to_yaml()
    assert parse_scenario(text) == s
    assert parse_scenario(text).to_yaml() == text


@settings(max_examples=40, deadline=None)
@given(lo=st.floats(1, 50, allow_nan=False), width=st.floats(0, 50, allow_nan=False),
       count=st.integers(1, 200), seed=st.integers(0, 2**32), solver=st.sampled_from(
           ["equilibrium", "tiny_madrl", "ppo", "greedy", "random"]))
def test_round_trip_of_overridden_scenarios(lo: float, width: float, count: int, seed: int,
                                            solver: str) -> None:
    s = parse_scenario("", overrides=(
        f"rsus.cost=[{lo!r}, {lo + width!r}]", f"rsus.price_cap={lo + width + 1!r}",
        f"uavs.count={count}", f"simulation.seed={seed}", f"pricing.solver={solver}"))
    assert s.rsus.cost.lo == lo and s.rsus.cost.hi == lo + width
    assert parse_scenario(s.to_yaml()) == s


# --- schema and docs ------------------------------------------------------------------------

def test_schema_json_is_fresh() -> None:
    expected = json.dumps(scenario_json_schema(), indent=2) + "\n"
    actual = (SCENARIOS / "schema.json").read_text()
    assert actual == expected, ("scenarios/schema.json is stale: regenerate it with "
                                "`python -m simulator.config.docs schema > scenarios/schema.json`")


def test_scenario_format_doc_is_fresh() -> None:
    actual = (ROOT / "docs" / "scenario-format.md").read_text()
    assert actual == scenario_docs(), ("docs/scenario-format.md is stale: regenerate it with "
                                       "`python -m simulator.config.docs docs > "
                                       "docs/scenario-format.md`")


def test_every_schema_property_has_a_description() -> None:
    schema = scenario_json_schema()
    missing = [f"{name}.{key}" for name, model in schema["$defs"].items()
               for key, prop in model.get("properties", {}).items() if not prop.get("description")]
    assert missing == []
    assert schema["additionalProperties"] is False
    cost = schema["$defs"]["RsusConfig"]["properties"]["cost"]
    assert cost["default"] == [1.0, 4.0]
    assert cost["anyOf"][0] == {"type": "number", "exclusiveMinimum": 0}


def test_module_cli_prints_schema_and_rejects_unknown_command(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == scenario_json_schema()
    assert main(["nope"]) == 2
