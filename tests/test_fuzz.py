"""Fuzzing every loader: no input may crash, hang or get a traceback out of uavtwin.

Each test feeds generated inputs (mutations of real files plus free-form garbage) to one
entry point through the command line (``simulator.app.cli.main``, in-process) or the loader
itself, and checks the property of issue 14: the command either succeeds (exit 0, sane
output) or fails with exactly one ``uavtwin: error: ...`` line and exit 1 (2 for usage),
within a time budget; never a traceback (an exception escaping ``main``), never a hang.

``make test`` runs 40 to 100 cases per loader (about a minute in all); ``make fuzz`` sets
``UAVTWIN_FUZZ=N`` (N cases per loader, thousands), ``UAVTWIN_FUZZ_SECONDS`` (a time budget
per loader: past it the loader's test stops, skipped, with the cases done so far counted) and
writes the counts to ``$UAVTWIN_FUZZ_REPORT`` (JSON).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import string
import time
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.app.cli import main
from simulator.app.interrupts import time_limit
from simulator.app.sweep_file import load_sweep
from simulator.errors import InputError, UavtwinError

ROOT = Path(__file__).resolve().parents[1]
# the default scenario without its comments: the same keys, a third of the text to parse
DEFAULT = yaml.safe_dump(yaml.safe_load((ROOT / "scenarios" / "default.yaml").read_text()),
                         sort_keys=False)
CASES = int(os.environ.get("UAVTWIN_FUZZ", "0")) or None
# one case may take this long (wall clock) before it counts as a hang
BUDGET_S = float(os.environ.get("UAVTWIN_FUZZ_CASE_SECONDS", "60"))
LOADER_S = float(os.environ.get("UAVTWIN_FUZZ_SECONDS", "0")) or None
COUNTS: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()
STARTED: dict[str, float] = {}


def fuzz_settings(default: int) -> settings:
    """Hypothesis settings: ``default`` cases in make test, ``$UAVTWIN_FUZZ`` in make fuzz."""
    return settings(max_examples=CASES or default, deadline=None, derandomize=CASES is None,
                    suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture(autouse=True)
def _report_counts():
    """Write the counts after every test, so a crash of a later loader keeps the earlier ones."""
    yield
    out = os.environ.get("UAVTWIN_FUZZ_REPORT")
    if out:
        old = json.loads(Path(out).read_text()) if Path(out).is_file() else {}
        for name, n in COUNTS.items():
            old[name] = {"cases": n, "ok": OUTCOMES[f"{name}:0"],
                         "errors": OUTCOMES[f"{name}:1"] + OUTCOMES[f"{name}:2"],
                         "tracebacks": OUTCOMES[f"{name}:traceback"],
                         "hangs": OUTCOMES[f"{name}:hang"]}
        Path(out).write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")


class Hang(Exception):
    """A case ran longer than BUDGET_S (not a user error: it escapes ``main``)."""


def budget():  # noqa: ANN201
    return time_limit(BUDGET_S, "one fuzz case", error=Hang)


def _time_budget(name: str) -> None:
    """In ``make fuzz``, stop a loader's test once it has used its time budget."""
    start = STARTED.setdefault(name, time.monotonic())
    if LOADER_S and time.monotonic() - start > LOADER_S:
        pytest.skip(f"{name}: time budget of {LOADER_S:g} s used after {COUNTS[name]} cases")


@contextlib.contextmanager
def _failures_counted(name: str):  # noqa: ANN202
    """Count an escaping exception as a traceback or a hang (then let it fail the test)."""
    try:
        yield
    except Hang:
        OUTCOMES[f"{name}:hang"] += 1
        raise
    except Exception:
        OUTCOMES[f"{name}:traceback"] += 1
        raise


def run_loader(name: str, load) -> None:  # noqa: ANN001
    """Call a loader in-process: it returns or raises one-line UavtwinError, in budget."""
    _time_budget(name)
    COUNTS[name] += 1
    with budget(), _failures_counted(name):
        try:
            load()
            rc = 0
        except UavtwinError as err:
            assert "\n" not in str(err), str(err)
            rc = 1
    OUTCOMES[f"{name}:{rc}"] += 1


def run_cli(name: str, argv: list[str]) -> tuple[int, str, str]:
    """Run ``uavtwin ARGV`` in-process; assert the one-line-or-success property."""
    _time_budget(name)
    COUNTS[name] += 1
    out, err = io.StringIO(), io.StringIO()
    with budget(), _failures_counted(name), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse usage errors
            rc = exc.code if isinstance(exc.code, int) else 2
    OUTCOMES[f"{name}:{rc}"] += 1
    lines = [ln for ln in err.getvalue().splitlines()
             if ln.strip() and not ln.startswith("uavtwin: warning:")]
    assert rc in (0, 1, 2), (rc, err.getvalue())
    if rc == 1:
        assert len(lines) == 1 and lines[0].startswith("uavtwin: error: "), err.getvalue()
        assert "Traceback" not in err.getvalue()
    elif rc == 2:
        assert lines and lines[-1].startswith("uavtwin"), err.getvalue()
    return rc, out.getvalue(), err.getvalue()


# --- strategies -------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from([0, 1, -1, 1e-320, 1e308, 2**63, 2**64, 10**400, "1e12", ".inf", "nan"]))
plain = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(string.ascii_lowercase + "_", max_size=10),
                                                kids, max_size=4)), max_leaves=12)


@st.composite
def mutated_text(draw, base: str) -> str:
    """``base`` with a few line-level and character-level edits."""
    lines = base.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["drop", "dup", "swap", "char", "value", "indent", "insert"]))
        if not lines:
            break
        k = draw(st.integers(0, len(lines) - 1))
        if op == "drop":
            del lines[k]
        elif op == "dup":
            lines.insert(k, lines[k])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
        elif op == "char" and lines[k]:
            i = draw(st.integers(0, len(lines[k]) - 1))
            c = draw(st.sampled_from(list(":[]{}-&*!|>#'\"\t ,0123456789.e%@`")))
            lines[k] = lines[k][:i] + c + lines[k][i + 1:]
        elif op == "value" and ":" in lines[k]:
            key = lines[k].split(":", 1)[0]
            value = json.dumps(draw(plain), default=str)
            lines[k] = f"{key}: {value}"
        elif op == "indent":
            lines[k] = " " * draw(st.integers(0, 6)) + lines[k].lstrip()
        elif op == "insert":
            lines.insert(k, draw(st.text(max_size=30)))
    return "\n".join(lines) + "\n"


def _bomb(width: int, depth: int) -> str:
    out = "a0: &a0 [x" + ", x" * (width - 1) + "]\n"
    for d in range(1, depth):
        out += f"a{d}: &a{d} [" + ", ".join([f"*a{d - 1}"] * width) + "]\n"
    return out


yaml_inputs = st.one_of(
    mutated_text(DEFAULT),
    plain.map(lambda d: yaml.safe_dump(d)),
    st.builds(_bomb, st.integers(2, 12), st.integers(2, 12)),
    st.integers(1, 3000).map(lambda n: "simulation: " + "[" * n + "]" * n),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)


# --- scenario files and --set -----------------------------------------------------------------

@fuzz_settings(100)
@given(text=yaml_inputs)
def test_fuzz_scenario_yaml(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("s") / "s.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    run_cli("scenario YAML", ["validate", str(path)])


@fuzz_settings(50)
@given(raw=st.binary(max_size=300), prefix=st.sampled_from([b"", b"\xff\xfe", b"\xef\xbb\xbf",
                                                             b"simulation:\n  seed: "]))
def test_fuzz_scenario_bytes(tmp_path_factory, raw, prefix):
    path = tmp_path_factory.mktemp("b") / "b.yaml"
    path.write_bytes(prefix + raw)
    run_cli("scenario bytes", ["validate", str(path)])


_SET_KEYS = ["simulation.duration_s", "simulation.seed", "simulation.sample_interval_s",
             "uavs.count", "uavs.twins.count", "pricing.iterations", "pricing.solver",
             "sensing.population", "rsus.grid.rows", "rsus.placement", "area.width_m",
             "uavs.mobility.speed_mps", "uavs.mobility.waypoints[0].points", "sensing.vsps[0]",
             "x.y", "uavs..count", "uavs.count[3]", "=", ""]


@fuzz_settings(100)
@given(key=st.one_of(st.sampled_from(_SET_KEYS), st.text(max_size=20)),
       value=st.one_of(plain.map(lambda v: json.dumps(v, default=str)), st.text(max_size=20),
                       st.builds(_bomb, st.integers(2, 9), st.integers(2, 9)).map(
                           lambda t: "{" + t.replace("\n", ", ") + "}")))
def test_fuzz_set_overrides(key, value):
    run_cli("--set", ["validate", str(ROOT / "scenarios" / "default.yaml"),
                      "--set", f"{key}={value}"])


# --- game instances and sync parameters --------------------------------------------------------

@st.composite
def game_instance(draw):
    i, j = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    num = st.one_of(st.floats(0.01, 100), scalars)

    def vec(n):
        return draw(st.lists(num, min_size=n, max_size=n))

    inst = {"delta": vec(i), "ssim": [vec(j) for _ in range(i)], "ssim_threshold": vec(i),
            "spectral_efficiency": [vec(j) for _ in range(i)], "budget": vec(i),
            "cost": vec(j), "price_cap": vec(j)}
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from([*inst, "available", "extra"]))
        inst[key] = draw(plain)
    return inst


def _json(value) -> str:
    return json.dumps(value, default=str, allow_nan=True)


@fuzz_settings(100)
@given(inst=game_instance(), solver=st.sampled_from(["equilibrium", "greedy", "random"]),
       iterations=st.sampled_from(["1", "5", "0", "-3", "1e9", "x"]))
def test_fuzz_game_instances(tmp_path_factory, inst, solver, iterations):
    path = tmp_path_factory.mktemp("g") / "g.json"
    path.write_text(_json(inst))
    rc, out, _ = run_cli("game instance", ["game", "solve", str(path), "--solver", solver,
                                           "--iterations", iterations])
    if rc == 0:
        data = json.loads(out)  # strict JSON, and no NaN/inf disguised as null
        assert all(v is not None for v in data["prices"]), out


SYNC = {"N": 100, "b": 0.2, "delta": 0.05, "rho": 1, "T": 10, "g0": 2.2, "g1": 10,
        "w": [1, 0.01, 0.02, 0.001], "theta": [0.05, 0.1], "d": [80, 80], "alpha": [0.5, 0.5],
        "k": [0.3, 0.3], "v": [60, 60], "c": [0.01, 0.01], "x0": [0.5, 0.5], "z0": [40, 40],
        "intensity": [3, 5]}


@st.composite
def sync_params(draw):
    base = dict(SYNC)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from([*base, "leaders", "extra"]))
        base[key] = draw(st.one_of(plain, st.sampled_from([1e300, 1e12, -1, 0, 2**70])))
    return base


@fuzz_settings(40)
@given(params=sync_params(), mode=st.sampled_from(["static", "constant", "nash"]))
def test_fuzz_sync_params(tmp_path_factory, params, mode):
    path = tmp_path_factory.mktemp("p") / "p.json"
    path.write_text(_json(params))
    rc, out, _ = run_cli("sync params", ["sync", "solve", str(path), "--mode", mode,
                                         "--time-limit", str(BUDGET_S / 2)])
    if rc == 0:
        assert "NaN" not in out and "Infinity" not in out


# --- sweep files ------------------------------------------------------------------------------

SWEEP = f"""\
base: {ROOT / 'scenarios' / 'default.yaml'}
parameters:
  uavs.count: [5, 10]
  pricing.solver: [greedy]
  simulation.duration_s: {{linspace: [10, 20, 2]}}
  pricing.iterations: {{range: [1, 3, 1]}}
mode: product
repetitions: 1
seed: 3
"""


@fuzz_settings(50)
@given(text=st.one_of(mutated_text(SWEEP), st.builds(_bomb, st.integers(2, 12),
                                                      st.integers(2, 12))))
def test_fuzz_sweep_files(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("w") / "w.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    run_loader("sweep file", lambda: load_sweep(path))


# --- checkpoints and traces -------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_trace(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("t") / "t.h5"
    rc, _, err = run_cli("setup", ["run", str(ROOT / "scenarios" / "default.yaml"), "-q",
                                   "-o", str(path), "--set", "simulation.duration_s=60",
                                   "--set", "uavs.count=5", "--set", "sensing.enabled=false"])
    assert rc == 0, err
    COUNTS.pop("setup", None)
    return path


def _mutate_h5(path: Path, data, rng: np.random.Generator) -> None:
    op = data.draw(st.sampled_from(["flip", "truncate", "delete", "attr", "reshape",
                                    "retype", "ids"]))
    if op in ("flip", "truncate"):
        raw = bytearray(path.read_bytes())
        if op == "truncate":
            raw = raw[:data.draw(st.integers(0, len(raw)))]
        else:
            for _ in range(data.draw(st.integers(1, 20))):
                k = int(rng.integers(len(raw)))
                raw[k] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(raw))
        return
    with h5py.File(path, "r+") as f:
        names: list[str] = []
        f.visit(names.append)
        target = data.draw(st.sampled_from(names))
        if op == "delete":
            del f[target]
        elif op == "attr":
            key = data.draw(st.sampled_from(["status", "seed", "schema_version", "scenario_yaml"]))
            value = data.draw(st.one_of(st.none(), st.sampled_from(
                ["complete", "bogus", 2**62, -1, 1.5, "x"])))
            if value is None:
                f.attrs.pop(key, None)
            else:
                f.attrs[key] = value
        elif isinstance(f[target], h5py.Dataset):
            ds = f[target]
            parent, name = ds.parent, target.rsplit("/", 1)[-1]
            values = ds[()]
            del parent[name]
            if op == "reshape":
                parent.create_dataset(name, data=np.zeros((max(values.size, 1), 2)))
            elif op == "retype":
                parent.create_dataset(name, data=values.astype("S8"))
            else:
                parent.create_dataset(name, data=np.full(values.shape, data.draw(
                    st.sampled_from([10**9, -7, 2**40])), dtype=np.int64).astype(values.dtype,
                                                                               casting="unsafe"))


@fuzz_settings(40)
@given(data=st.data())
def test_fuzz_traces(small_trace, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("m") / "t.h5"
    path.write_bytes(small_trace.read_bytes())
    _mutate_h5(path, data, np.random.default_rng(data.draw(st.integers(0, 2**32))))
    command = data.draw(st.sampled_from(["inspect", "report"]))
    run_cli("trace", [command, str(path)])


def _load_checkpoint(path: Path) -> None:
    """What ``--checkpoint`` does: load and validate, a ValueError line being the user error."""
    from agents.marl.checkpoint import load_checkpoint

    try:
        load_checkpoint(path)
    except ValueError as err:
        raise InputError(str(err)) from None


@pytest.fixture(scope="module")
def checkpoint_payload():
    torch = pytest.importorskip("torch")
    path = ROOT / "scenarios" / "agents" / "tiny-madrl.pt"
    return torch.load(path, map_location="cpu", weights_only=True)


@fuzz_settings(50)
@given(data=st.data())
def test_fuzz_checkpoints(checkpoint_payload, tmp_path_factory, data):
    import torch

    payload = dict(checkpoint_payload)
    key = data.draw(st.sampled_from([*payload, "actor_state.0.weight", "bytes"]))
    path = tmp_path_factory.mktemp("c") / "c.pt"
    if key == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=200)))
    else:
        if key.startswith("actor_state."):
            state = dict(payload["actor_state"])
            state[key.split(".", 1)[1]] = torch.zeros(data.draw(st.integers(0, 50)))
            payload["actor_state"] = state
        else:
            payload[key] = data.draw(st.one_of(plain, st.lists(
                st.integers(-1, 10**9), max_size=4)))
        torch.save(payload, path)
    run_loader("checkpoint", lambda: _load_checkpoint(path))

