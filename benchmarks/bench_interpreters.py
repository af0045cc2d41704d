"""The same world under several Python interpreters, interleaved in one run.

The world is pure Python above SimPy, so the interpreter's own build matters: a CPython made
with profile-guided and link-time optimisation and a static libpython (a distribution's
``/usr/bin/python3.11``) runs it faster than a default source build (pyenv's, with
``--enable-shared``). The Makefile makes ``.venv`` with the distribution's interpreter when
there is one; this script measures what that choice is worth::

    python benchmarks/bench_interpreters.py --python /path/to/other/venv/bin/python \\
        [--uavs 1000] [--hours 0.25] [--repeat 3]

The interpreter running the script is measured first, then each ``--python``; each must have
uavtwin's dependencies installed (for example a second venv,
``python3.11 -m venv /tmp/v && /tmp/v/bin/pip install -c constraints.txt -e .``). Each
round runs every interpreter once, in turn: the world (``bench_world.one``, a process of
its own, traced) and a bare SimPy loop on the world's event count. The least time of each
is kept; ``time_vs_first`` is this interpreter's least wall time over the first's. Writes
``benchmarks/results/bench_interpreters.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import bench_world

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_interpreters.json"


def _child(python: str, code: str) -> str:
    """The last line ``python -c code`` prints, run with this folder on its path."""
    out = subprocess.run([python, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); {code}"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def bare(python: str, n_events: int, n_procs: int) -> float:
    """Wall time of a bare SimPy loop of ``n_events`` timeouts in ``python``."""
    return float(_child(python, "import bench_world as b; "
                        f"print(b.bare_simpy({n_events}, {n_procs})[0])"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=[],
                        help="another interpreter to measure (repeatable)")
    parser.add_argument("--uavs", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=0.25)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.python:  # (`make bench` runs every script bare: nothing to compare there)
        print("bench_interpreters: nothing to compare; give --python with another interpreter "
              "that has uavtwin's dependencies (see this script's docstring)")
        return
    pythons = [sys.executable, *args.python]
    rows = []
    for python in pythons:
        rows.append({"python": python,
                     "interpreter": _child(python, "import bench_world as b; "
                                           "print(b.interpreter_description())"),
                     "world": [], "bare": []})
        bench_world.one(10, 0.01, True, python=python)  # load (or compile) the kernels' code
    for k in range(args.repeat):
        for row in rows:
            run = bench_world.one(args.uavs, args.hours, True, python=row["python"])
            row["events"] = run["events"]
            row["world"].append({"wall_s": run["wall_s"], "cpu_s": run["cpu_s"]})
            row["bare"].append(bare(row["python"], run["events"], args.uavs))
            print(f"round {k + 1}: {row['interpreter']}: world {run['wall_s']:.2f} s, "
                  f"bare SimPy {row['bare'][-1]:.3f} s", flush=True)
    first = min(r["wall_s"] for r in rows[0]["world"])
    for row in rows:
        row["wall_s"] = min(r["wall_s"] for r in row["world"])
        row["bare_s"] = min(row["bare"])
        row["time_vs_first"] = row["wall_s"] / first
        row["vs_bare"] = row["wall_s"] / row["bare_s"]
        print(f"{row['interpreter']}: least world {row['wall_s']:.2f} s "
              f"({row['time_vs_first']:.2f}x the first's), bare {row['bare_s']:.3f} s, "
              f"world {row['vs_bare']:.1f}x bare")
    report = {"benchmark": "bench_interpreters", "uavs": args.uavs, "hours": args.hours,
              "repeat": args.repeat, "cpu": bench_world.cpu_description(),
              "load_average_after": os.getloadavg(), "rows": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
