"""Traces under attack and runs under failure: structure checks, disk full, Ctrl-C.

Every defect of issue 14 about traces and crashes has a test here: files that are corrupt,
foreign, bit-flipped, hand-edited (ids, dtypes, shapes, links, sparse tables) or leftovers
give one ``TraceError`` line; a full disk leaves a readable ``failed`` partial trace; an
interrupt at any moment leaves either the complete trace or a ``partial`` one, and is never
swallowed; the wall-clock attributes are exactly the documented ones.
"""

from __future__ import annotations

import csv
import gc
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import SCENARIOS

from analysis.loaders import open_trace
from simulator.app.cli import main
from simulator.app.interrupts import InterruptGuard
from simulator.app.run import run_scenario
from simulator.errors import TraceError
from simulator.trace.attributes import WALL_CLOCK_ATTRS
from simulator.trace.reader import TraceReader, complete_trace_problem
from simulator.trace.schema import WALL_CLOCK_COLUMNS

SMALL = ["--set", "simulation.duration_s=60", "--set", "uavs.count=5"]


@pytest.fixture(scope="module")
def trace(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("t") / "t.h5"
    assert main(["run", str(SCENARIOS / "default.yaml"), "-q", "-o", str(path), *SMALL]) == 0
    return path


@pytest.fixture
def copy(trace, tmp_path) -> Path:
    out = tmp_path / "c.h5"
    shutil.copy(trace, out)
    return out


def refused(path: Path, pattern: str) -> None:
    """The reader, open_trace and `uavtwin inspect` all refuse ``path`` in one line."""
    with pytest.raises(TraceError, match=pattern) as exc:
        with TraceReader(path) as tr:
            for table in tr.tables():
                tr.read(table)
    assert "\n" not in str(exc.value)
    with pytest.raises(TraceError, match=pattern):
        t = open_trace(path)
        for table in ("/uavs", "/coverage/events", "/migration/requests"):
            t.table(table)


def test_intact_trace_passes(trace) -> None:
    assert complete_trace_problem(trace) is None


def test_complete_trace_without_migration_is_an_error(copy) -> None:
    with h5py.File(copy, "r+") as f:
        del f["/migration"]
    refused(copy, r"/migration: missing, but a complete trace has every group")


def test_missing_status_is_an_error(copy, capsys) -> None:
    with h5py.File(copy, "r+") as f:
        del f.attrs["status"]
    refused(copy, "no status attribute")
    assert main(["report", str(copy)]) == 1
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("value", [10**9, -7])
def test_rewritten_ids_are_errors(copy, capsys, value) -> None:
    with h5py.File(copy, "r+") as f:
        ids = f["/coverage/events/uav_id"]
        ids[0] = value
    refused(copy, rf"/coverage/events/uav_id\[0\]: {value} is not an id of /uavs")
    assert main(["report", str(copy)]) == 1
    assert "is not an id of /uavs" in capsys.readouterr().err


def test_group_where_a_dataset_belongs(copy) -> None:
    with h5py.File(copy, "r+") as f:
        del f["/coverage/events/t_s"]
        f["/coverage/events"].create_group("t_s")
    refused(copy, r"/coverage/events/t_s: expected a 1-D dataset of <f8, got a group")


def test_external_link_is_explained(copy, trace) -> None:
    with h5py.File(copy, "r+") as f:
        del f["/coverage/events/t_s"]
        f["/coverage/events/t_s"] = h5py.ExternalLink(str(trace), "/coverage/events/t_s")
    refused(copy, r"/coverage/events/t_s: is an external link to .*t\.h5:/coverage/events/t_s")


def test_two_dimensional_column_and_wrong_dtype(copy, tmp_path) -> None:
    other = tmp_path / "d.h5"
    shutil.copy(copy, other)
    with h5py.File(copy, "r+") as f:
        g = f["/coverage/events"]
        n = g["t_s"].shape[0]
        del g["t_s"]
        g.create_dataset("t_s", data=np.zeros((n, 2)))
    refused(copy, r"/coverage/events/t_s: expected a 1-D dataset, got shape")
    with h5py.File(other, "r+") as f:
        g = f["/coverage/events"]
        values = g["uav_id"][()]
        del g["uav_id"]
        g.create_dataset("uav_id", data=values.astype("<f8"))
    refused(other, r"/coverage/events/uav_id: expected dtype <i4, got <f8")


def test_open_trace_checks_the_structure_once_and_again_after_a_rewrite(copy, monkeypatch):
    import simulator.trace.reader as reader_module

    calls = []
    check = reader_module.structure_problem
    monkeypatch.setattr(reader_module, "structure_problem", lambda f: calls.append(1) or check(f))
    trace = open_trace(copy)
    trace.table("/coverage/events")
    trace.table("/uavs")
    trace.n_rows("/rsus")
    assert len(calls) == 1  # unchanged file: checked when opened, trusted for each read
    with h5py.File(copy, "r+") as f:
        g = f["/migration/transfers"]
        n = g["t_start_s"].shape[0]
        del g["t_start_s"]
        g.create_dataset("t_start_s", data=np.zeros((n, 2)))
    with pytest.raises(TraceError, match=r"/migration/transfers/t_start_s: expected a 1-D"):
        trace.table("/migration/transfers")  # rewritten since: checked again, one line
    assert len(calls) == 2


def test_attribute_header_that_crashes_hdf5_is_one_line(copy) -> None:
    # found by the trace fuzzer: one flipped bit in the object header of a column makes
    # HDF5 read an attribute out of bounds and segfault (signal 11) inside `inspect`
    import h5py.h5o

    with h5py.File(copy, "r") as f:
        header = h5py.h5o.get_info(f["/pricing/paths/iteration"].id).addr
    raw = bytearray(copy.read_bytes())
    raw[header + 289] ^= 0x04
    copy.write_bytes(bytes(raw))
    first = {}
    for command in ("inspect", "report"):  # report reads other attributes: it succeeds
        done = subprocess.run([sys.executable, "-m", "simulator.app.cli", command, str(copy)],
                              capture_output=True, text=True, timeout=300)
        lines = done.stderr.strip().splitlines()
        assert done.returncode in (0, 1), (command, done.returncode, done.stderr[-2000:])
        if done.returncode == 1:
            assert len(lines) == 1 and lines[0].startswith(f"uavtwin: error: {copy}: "), lines
        first[command] = lines[0] if lines else ""
    assert first["inspect"].endswith("corrupt HDF5 file (the HDF5 library crashed reading it: "
                                     "SIGSEGV)"), first


def test_column_whose_type_became_a_bad_string_type_is_one_line(copy, capsys) -> None:
    # found by the trace fuzzer (session 5, 3,000-case run): one flipped bit turns the
    # datatype class of a float column (0x11, IEEE float) into a string (0x13) whose
    # character set reads as 2; h5py raised TypeError("Unknown string encoding") from dtype
    import h5py.h5o

    with h5py.File(copy, "r") as f:
        header = h5py.h5o.get_info(f["/coverage/events/t_s"].id).addr
    raw = bytearray(copy.read_bytes())
    at = raw.find(b"\x11\x20\x3f\x00\x08\x00\x00\x00", header)  # float64 LE datatype
    assert 0 < at - header < 512
    raw[at] = 0x13
    copy.write_bytes(bytes(raw))
    refused(copy, "corrupt HDF5 file .*Unknown string encoding")
    assert main(["inspect", str(copy)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Unknown string encoding" in err[0], err


def test_a_child_that_crashes_is_a_trace_error_and_results_come_back(tmp_path) -> None:
    from simulator.app.isolate import in_child

    def crash() -> None:
        os.kill(os.getpid(), signal.SIGSEGV)

    def refuse() -> None:
        raise TraceError("x.h5: not a uavtwin trace")

    with pytest.raises(TraceError, match=r"^x\.h5: corrupt HDF5 file \(the HDF5 library crashed "
                                          r"reading it: SIGSEGV\)$"):
        in_child("x.h5", crash)
    with pytest.raises(TraceError, match="not a uavtwin trace"):
        in_child("x.h5", refuse)
    assert in_child("x.h5", lambda a, b: {"sum": a + b}, 2, 3) == {"sum": 5}


def test_sparse_huge_table_is_refused_without_allocating(copy) -> None:
    with h5py.File(copy, "r+") as f:
        g = f["/mobility/positions"]
        for name in list(g):
            dtype = g[name].dtype
            del g[name]
            g.create_dataset(name, shape=(10**12,), maxshape=(None,), chunks=(65536,),
                             dtype=dtype)
    refused(copy, r"/mobility/positions/\w+: declares 1000000000000 rows but only 0 of its "
                  r"15258790 chunks are written")


def test_bit_flipped_and_foreign_files_are_one_line(copy, tmp_path, capsys) -> None:
    raw = bytearray(copy.read_bytes())
    rng = np.random.default_rng(5)
    for k in rng.integers(0, len(raw), 200):  # flip bits all over the file
        raw[int(k)] ^= 1 << int(rng.integers(8))
    flipped = tmp_path / "flipped.h5"
    flipped.write_bytes(bytes(raw))
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    for path in (flipped, foreign, tmp_path / "nothing.h5"):
        code = main(["inspect", str(path)])
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err


def test_writing_leftover_is_explained(copy, capsys) -> None:
    leftover = copy.with_name("run.writing.h5")
    leftover.write_bytes(copy.read_bytes()[:5000])  # SIGKILL during the final copy
    assert main(["inspect", str(leftover)]) == 1
    err = capsys.readouterr().err
    assert "the unfinished final copy of a run" in err and "run.partial.h5" in err


def test_resume_reruns_a_truncated_complete_trace(tmp_path) -> None:
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"base: {SCENARIOS / 'default.yaml'}\nparameters:\n  uavs.count: [3, 4]\n"
                     "overrides: [simulation.duration_s=30, sensing.enabled=false]\n")
    out = tmp_path / "out"
    args = ["sweep", str(sweep), "-o", str(out), "--workers", "1", "-q"]
    assert main(args) == 0
    victim = out / "runs" / "run-0001.h5"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    assert complete_trace_problem(victim) is not None
    assert main([*args, "--resume"]) == 0
    assert complete_trace_problem(victim) is None
    with (out / "index.csv").open() as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["complete", "complete"]


# --- crash safety ---------------------------------------------------------------------------

def test_disk_full_leaves_a_readable_failed_partial(tmp_path, small_scenario, monkeypatch):
    import simulator.trace.writer as writer_mod

    calls = {"n": 0}

    def nearly_full(path) -> int:  # plenty of room for the first writes, then none
        calls["n"] += 1
        return 1 << 40 if calls["n"] <= 3 else 4096

    monkeypatch.setattr(writer_mod, "disk_free_bytes", nearly_full)
    path = tmp_path / "x.h5"
    with pytest.raises(OSError, match="disk full"):
        run_scenario(small_scenario, trace_path=path, seed=3)
    partial = tmp_path / "x.partial.h5"
    assert not path.exists() and partial.exists()
    with TraceReader(partial) as tr:
        assert tr.status == "failed" and "disk full" in tr.attrs["error"]
        assert tr.n_rows("/rsus") > 0  # what was flushed before is still there
        for table in tr.tables():
            tr.read(table)


def _tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.mark.slow
def test_real_full_disk_is_one_line_and_no_segfault(tmp_path) -> None:
    disk = tmp_path / "disk"
    if not _tmpfs(disk, "2m"):
        pytest.skip("needs root to mount a 2 MiB tmpfs")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "simulator.app.cli", "run", str(SCENARIOS / "default.yaml"),
             "-q", "-o", str(disk / "t.h5"), "--set", "uavs.count=300", "--set",
             "simulation.duration_s=1200", "--set", "output.flush_interval_s=0.5"],
            capture_output=True, text=True, timeout=600)
        assert proc.returncode == 1, proc.stderr[-2000:]
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("uavtwin: error:")]
        assert len(errors) == 1 and "disk full" in errors[0]
        assert "Traceback" not in proc.stderr
        with TraceReader(disk / "t.partial.h5") as tr:
            assert tr.status == "failed" and "disk full" in tr.attrs["error"]
            assert tr.n_rows("/mobility/segments") > 0
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_interrupt_during_final_copy_is_partial(tmp_path, small_scenario, monkeypatch):
    import simulator.trace.writer as writer_mod

    def ctrl_c(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer_mod.os, "replace", ctrl_c)
    path = tmp_path / "x.h5"
    with pytest.raises(KeyboardInterrupt):
        run_scenario(small_scenario, trace_path=path)
    assert not path.exists() and not (tmp_path / "x.writing.h5").exists()
    with TraceReader(tmp_path / "x.partial.h5") as tr:
        assert tr.status == "partial"
        assert tr.n_rows("/mobility/segments") > 0


@pytest.fixture
def interactive_sigint():
    """SIGINT handled as in an interactive session, whatever the suite was started from.

    A job started with ``cmd &`` by a non-interactive shell inherits SIGINT ignored, and
    Python then installs no handler of its own.
    """
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _default_sigint() -> None:
    """In a child: SIGINT back to its default, so its Python installs KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_swallowed_interrupt_is_raised_again(interactive_sigint) -> None:
    class Finaliser:  # like h5py's weakref callbacks: exceptions there are only printed
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)

    hook = sys.unraisablehook
    with InterruptGuard() as guard:
        Finaliser()
        gc.collect()
        assert guard.interrupted  # the KeyboardInterrupt itself was lost in __del__
        with pytest.raises(KeyboardInterrupt):
            guard.check()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert sys.unraisablehook is hook


@pytest.mark.parametrize(("module", "name", "overrides"), [
    ("simulator.world.pairkernel", "pair_inputs", ()),
    ("simulator.world.pairkernel", "pair_arrays", ()),
    ("simulator.world.fluidkernel", "add_flow", ()),
    ("agents.pricing.kernel", "solve_game", ("pricing.solver=equilibrium",)),
])
def test_interrupt_wrapped_by_a_compiled_call_stops_the_run_as_interrupted(
        run_small, tmp_path, monkeypatch, module, name, overrides) -> None:
    # Ctrl-C while numba's dispatcher runs Python code (a kernel's first call loads its
    # machine code) comes back as "SystemError: ... returned a result with an exception set";
    # every kernel's caller unwraps it (agents.compiled), so the run stops as interrupted with
    # a partial trace instead of failing with the SystemError
    import importlib

    kernels = importlib.import_module(module)
    if name in ("pair_inputs", "pair_arrays"):  # the market's split path, or its one call
        monkeypatch.setattr(kernels, "fused_agrees", lambda: name == "pair_arrays")

    def loading(*args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError(f"<function {name}> returned a result with an exception "
                              "set") from exc

    monkeypatch.setattr(kernels, name, loading)
    with pytest.raises(KeyboardInterrupt):
        run_small(*overrides, name="cut.h5")
    assert not (tmp_path / "cut.h5").exists()
    with h5py.File(tmp_path / "cut.partial.h5") as f:
        assert f.attrs["status"] == "partial"


def test_swallowed_interrupt_prints_no_traceback(interactive_sigint, capsys) -> None:
    # an interrupt lost in a finaliser is quiet under the guard (the command's one line says
    # it was interrupted); any other exception lost there is still reported
    class Finaliser:
        def __init__(self, action):
            self.action = action

        def __del__(self):
            self.action()

    def interrupt() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)

    def fail() -> None:
        raise ValueError("lost in a finaliser")

    seen: list[BaseException] = []
    hook = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append(u.exc_value)
    try:
        with InterruptGuard() as guard:
            Finaliser(interrupt)
            Finaliser(fail)
            gc.collect()
            assert guard.interrupted
        assert [type(e) for e in seen] == [ValueError]
    finally:
        sys.unraisablehook = hook
    assert "Traceback" not in capsys.readouterr().err


def test_sigint_after_the_command_returned_prints_nothing() -> None:
    """A Ctrl-C that arrives while the interpreter shuts down (after the trace is complete,
    e.g. during a library's exit-time finaliser) is ignored, not printed as a traceback."""
    code = ("import atexit, os, signal, time\n"
            "from simulator.app import cli\n"
            "cli.main = lambda argv=None: 0\n"
            "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.2)))\n"
            "cli.console()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, preexec_fn=_default_sigint)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def test_finaliser_failing_after_an_interrupted_command_prints_nothing() -> None:
    """After an interrupt (exit 130), a library object whose finaliser fails at shutdown (as
    llvmlite's did when Ctrl-C hit numba's compiler) prints no traceback."""
    code = ("from simulator.app import cli\n"
            "class Broken:\n"
            "    def __del__(self):\n"
            "        raise AttributeError('half-made object')\n"
            "keep = Broken()\n"
            "cli.main = lambda argv=None: 130\n"
            "cli.console()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 130 and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.slow
def test_sigint_at_any_moment_leaves_complete_or_partial(tmp_path) -> None:
    cmd = [sys.executable, "-m", "simulator.app.cli", "run", str(SCENARIOS / "default.yaml"),
           "-q", "--set", "simulation.duration_s=240", "--set", "uavs.count=40"]
    outcomes: list[str] = []
    for k, delay in enumerate((0.0, 0.3, 0.8, 1.5, 3.0, 6.0)):
        out = tmp_path / f"r{k}.h5"
        proc = subprocess.Popen([*cmd, "-o", str(out)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
        waited = 0.0  # start the clock when the run has begun writing (start-up varies)
        while not out.with_name(f"r{k}.partial.h5").exists() and proc.poll() is None \
                and waited < 300:
            time.sleep(0.05)
            waited += 0.05
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
        assert "Traceback" not in err, err
        assert not out.with_name(f"r{k}.writing.h5").exists()
        partial = out.with_name(f"r{k}.partial.h5")
        if proc.returncode in (130, -signal.SIGINT):  # -2: still starting the interpreter
            outcomes.append("partial" if partial.exists() else
                            "complete" if out.exists() else "before the trace")
            if partial.exists():
                with TraceReader(partial) as tr:
                    assert tr.status == "partial", tr.attrs.get("error")
        else:
            outcomes.append("finished")
            assert proc.returncode == 0 and out.exists() and not partial.exists()
    assert "partial" in outcomes, outcomes  # at least one interrupt hit the running simulation


def test_wall_clock_attributes_are_the_documented_ones(run_small) -> None:
    def attrs(path: Path) -> dict[str, str]:
        out: dict[str, str] = {}
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                for key, value in obj.attrs.items():
                    out[f"/{name}@{key}"] = repr(value)
            for key, value in f.attrs.items():
                out[f"/@{key}"] = repr(value)
            f.visititems(visit)
        return out

    a = attrs(run_small("sensing.enabled=true", name="a.h5").trace_path)
    b = attrs(run_small("sensing.enabled=true", name="b.h5").trace_path)
    differ = {k for k in a if a[k] != b.get(k)}
    allowed = {"/@created", "/@wall_time_s", *WALL_CLOCK_ATTRS}  # the root's two, documented
    assert differ <= allowed, differ - allowed
    assert "/sensing@solve_time_s" in a
    docs = (Path(__file__).resolve().parents[1] / "docs" / "trace-format.md").read_text()
    for name in (*WALL_CLOCK_ATTRS, *WALL_CLOCK_COLUMNS):
        assert f"`{name}`" in docs
