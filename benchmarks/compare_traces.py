"""Run a fixed set of scenarios and compare their traces dataset by dataset.

Used to prove that a refactoring (or an optimisation) leaves every trace identical apart
from wall-clock values:

    python benchmarks/compare_traces.py run out/before       # on the old tree
    python benchmarks/compare_traces.py run out/after        # on the new tree
    python benchmarks/compare_traces.py compare out/before out/after

The set is the default scenario, every ``scenarios/examples/`` file and two synchronisation
figures, each with a fixed seed. ``run --extended`` adds :data:`VARIANTS`: 15 overridden runs
that reach what the set alone does not (a 200-UAV bench world with and without a market
window, prediction margin, path-loss radio with shadowing, slow TCP-corrected backhaul,
decision time, greedy and random pricing; faults with reroute and abort, checkpoint and UAV
restores, a slow backhaul, decision time; live pre- and post-copy): the 30 runs take about
2 minutes.
``compare`` reads both trees with plain h5py (independent of uavtwin's own reader), compares
every dataset's dtype, shape and bytes and every attribute, skips the wall-clock values
(``wall_time_s`` columns and attributes, ``created``, ``uavtwin_version``,
``solve_time_s``), prints one line per trace and exits 1 on any difference. It also writes
``benchmarks/results/compare_traces.json``. Traces of imported mobility files record the
file's absolute path: ``run`` notes the tree it ran in (``tree_root.txt``), and ``compare``
reads each side's root in string attributes as the same placeholder, so two worktrees can be
compared.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = (
    ["scenarios/default.yaml"]
    + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios/examples").glob("*.yaml"))
    + ["scenarios/sync/fig4.yaml", "scenarios/sync/fig6.yaml"]
)
SEED = 11
WALL_CLOCK = {"wall_time_s", "created", "uavtwin_version", "solve_time_s"}

_BENCH = ("simulation.duration_s=1200", "simulation.sample_interval_s=10", "uavs.count=200",
          "area.width_m=5000", "area.height_m=5000", "rsus.grid.rows=10", "rsus.grid.cols=10",
          "rsus.grid.spacing_m=500", "rsus.coverage_radius_m=350", "backhaul.topology=grid",
          "backhaul.capacity_mbps=10000", "pricing.solver=equilibrium", "sensing.enabled=false")
_FAULTS = "scenarios/examples/faults.yaml"
_LIVE = "scenarios/examples/live-migration.yaml"
#: ``(name, scenario, seed, overrides)`` of the extended set (``run --extended``)
VARIANTS: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("bench", "scenarios/default.yaml", 5, _BENCH),
    ("bench-window", "scenarios/default.yaml", 5, (*_BENCH, "pricing.market_window_s=2")),
    ("bench-margin", "scenarios/default.yaml", 5, (*_BENCH, "pricing.prediction_margin_s=3")),
    ("bench-free-space", "scenarios/default.yaml", 5,
     (*_BENCH, "radio.model=free_space", "radio.shadowing_std_db=4")),
    ("bench-slow-tcp", "scenarios/default.yaml", 5,
     (*_BENCH, "backhaul.capacity_mbps=50", "backhaul.tcp_correction=true")),
    ("bench-decision", "scenarios/default.yaml", 5,
     (*_BENCH, "pricing.decision_time.enabled=true")),
    ("bench-greedy", "scenarios/default.yaml", 5, (*_BENCH, "pricing.solver=greedy")),
    ("bench-random", "scenarios/default.yaml", 5,
     (*_BENCH, "pricing.solver=random", "pricing.reference=true")),
    ("faults-reroute", _FAULTS, 3, ("pricing.market_window_s=0", "uavs.count=80",
                                    "simulation.duration_s=1200")),
    ("faults-abort", _FAULTS, 4, ("faults.links.on_failure=abort", "pricing.market_window_s=0",
                                  "uavs.count=60", "simulation.duration_s=1200")),
    ("faults-uav-restore", _FAULTS, 6, ("faults.restore.source=uav", "uavs.count=60",
                                        "simulation.duration_s=1200")),
    ("faults-slow", _FAULTS, 7, ("backhaul.capacity_mbps=20", "pricing.market_window_s=0",
                                 "simulation.duration_s=1200")),
    ("faults-decision", _FAULTS, 8, ("pricing.decision_time.enabled=true",
                                     "pricing.market_window_s=0", "simulation.duration_s=1200")),
    ("live-pre-copy", _LIVE, 9, ("pricing.market_window_s=0",)),
    ("live-post-copy", _LIVE, 10, ("uavs.twins.migration.mode=post_copy",)),
)


def trace_name(scenario: str) -> str:
    return scenario.replace("scenarios/", "").replace("/", "-").removesuffix(".yaml") + ".h5"


def runs(extended: bool = False) -> list[tuple[str, str, int, tuple[str, ...]]]:
    """``(trace file name, scenario, seed, overrides)`` of the set."""
    base = [(trace_name(sc), sc, SEED, ()) for sc in SCENARIOS]
    return base + ([(f"variant-{name}.h5", sc, seed, sets) for name, sc, seed, sets in VARIANTS]
                   if extended else [])


#: Where ``run`` notes the tree it ran in (:func:`diff_files` reads that root as ``<tree>``).
TREE_FILE = "tree_root.txt"


def run_all(out: Path, extended: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / TREE_FILE).write_text(str(ROOT))
    exe = Path(sys.executable).with_name("uavtwin")
    for name, sc, seed, sets in runs(extended):
        dest = out / name
        subprocess.run([str(exe), "run", sc, "--seed", str(seed), "-o", str(dest),
                        *(arg for kv in sets for arg in ("--set", kv))],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        print(f"ran {sc} {' '.join(sets)} -> {dest}")


def _attrs(obj: h5py.HLObject, root: str | None = None) -> dict[str, object]:
    """The attributes but the wall-clock ones; ``root`` (the tree a trace was run in) reads as
    ``<tree>`` in string values."""
    out = {k: v for k, v in obj.attrs.items() if k not in WALL_CLOCK}
    if root:
        out = {k: v.replace(root, "<tree>") if isinstance(v, str) else v
               for k, v in out.items()}
    return out


def _root(trace: Path) -> str | None:
    """The tree the trace's directory was run in (None if not noted)."""
    noted = trace.parent / TREE_FILE
    return noted.read_text() if noted.exists() else None


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def diff_files(a: Path, b: Path) -> list[str]:
    """Every difference between two traces, as text (empty when identical)."""
    problems: list[str] = []
    root_a, root_b = _root(a), _root(b)
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names_a: list[str] = []
        names_b: list[str] = []
        fa.visit(names_a.append)
        fb.visit(names_b.append)
        if sorted(names_a) != sorted(names_b):
            problems.append(f"objects differ: {sorted(set(names_a) ^ set(names_b))}")
        for name in ["/"] + sorted(set(names_a) & set(names_b)):
            oa, ob = fa[name], fb[name]
            aa, ab = _attrs(oa, root_a), _attrs(ob, root_b)
            if aa.keys() != ab.keys():
                problems.append(f"{name}: attributes differ {sorted(aa.keys() ^ ab.keys())}")
            for k in aa.keys() & ab.keys():
                if not _same(aa[k], ab[k]):
                    problems.append(f"{name}@{k} differs")
            if isinstance(oa, h5py.Dataset):
                if name.rsplit("/", 1)[-1] in WALL_CLOCK:
                    continue
                if oa.dtype != ob.dtype or oa.shape != ob.shape:
                    problems.append(f"{name}: {oa.dtype}{oa.shape} vs {ob.dtype}{ob.shape}")
                elif oa[()].tobytes() != ob[()].tobytes():
                    problems.append(f"{name}: values differ")
    return problems


def compare(before: Path, after: Path) -> int:
    report = {}
    for name, *_ in runs(extended=True):
        if not (after / name).exists():  # not run (the base set without --extended)
            continue
        if not (before / name).exists():  # a scenario added since 'before' was written
            print(f"{name}: new (no earlier trace to compare with)")
            continue
        problems = diff_files(before / name, after / name)
        report[name] = problems
        print(f"{name}: {'identical' if not problems else '; '.join(problems[:5])}")
    (ROOT / "benchmarks/results").mkdir(parents=True, exist_ok=True)
    (ROOT / "benchmarks/results/compare_traces.json").write_text(
        json.dumps({"seed": SEED, "traces": report}, indent=2) + "\n")
    return 1 if any(report.values()) else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run every scenario of the set into DIR")
    r.add_argument("out", type=Path)
    r.add_argument("--extended", action="store_true",
                   help="also the 15 overridden runs of VARIANTS (all 30 take about 2 minutes)")
    c = sub.add_parser("compare", help="compare two directories written by 'run'")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "run":
        run_all(args.out, args.extended)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
