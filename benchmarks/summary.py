"""Render docs/benchmarks.md from the JSON reports in benchmarks/results/.

Every number on that page comes from a benchmark script's JSON output; rerun the scripts
(``make bench``) and then ``python benchmarks/summary.py > docs/benchmarks.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import bench_world  # this folder's: the run phases of the large run's memory samples
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

def _memory(big: dict) -> str:
    """What the large run's resident-memory samples say, phase by phase (bench_world's
    ``rss_phases``; the figure is drawn by ``bench_world.py --plot-memory``)."""
    phases = bench_world.rss_phases(big["rss_samples"])
    build, run, finish = phases["build"], phases["simulate"], phases["finish"]
    picks = run[np.linspace(0, len(run) - 1, min(len(run), 8)).astype(int)] if len(run) else run
    parts = []
    if len(build):
        parts.append(f"while the world is built, at most {build[:, 2].max():.0f} MB")
    if len(run):
        parts.append("while it simulates, against simulated time: " + ", ".join(
            f"{t / 60:.0f} min {mb:.0f} MB" for t, _, mb in picks)
            + f" (over the last three quarters {bench_world.rss_growth(big['rss_samples']):+.0f}"
            " MB per simulated hour)")
    if len(finish):
        parts.append(f"while the trace is finished and summarised, at most "
                     f"{finish[:, 2].max():.0f} MB")
    return "Resident memory, sampled every 0.25 s of wall time: " + "; ".join(parts) + "."

def load(name: str) -> dict | None:
    """A benchmark's JSON report, or None if it has not been run."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def per_migration(series: list[dict]) -> str:
    """``": X events per migration then, Y now (N UAVs)"`` from the largest run that has a
    reference count, or nothing."""
    rows = [r for r in series if "reference_events" in r and r["migrations"]]
    if not rows:
        return ""
    r = rows[-1]
    return (f": {r['reference_events'] / r['migrations']:.1f} events per migration then, "
            f"{r['events'] / r['migrations']:.1f} now, at {r['uavs']:,} UAVs")


def world(d: dict) -> list[str]:
    cpu = all("cpu_s" in r for r in d["series"])
    ref = all("reference_events" in r for r in d["series"])
    rows = ["| UAVs | wall time (s) | " + ("CPU time (s) | " if cpu else "") + "events | "
            + ("reference events | " if ref else "")
            + "events/s | bare SimPy, " + ("reference" if ref else "same") + " events (s) | "
            "world / bare SimPy | " + ("world / bare SimPy, own events (CPU) | " if ref else "")
            + "peak RSS (MB) | trace (MB) | migrations | s per UAV-hour |",
            "|---|---|---|---|---|---|---|---|---|---|" + ("---|" if cpu else "")
            + ("---|---|" if ref else "")]
    for r in d["series"]:
        ratio = r["wall_s"] / r["bare_simpy_s"]
        rows.append(f"| {r['uavs']} | {r['wall_s']:.1f} | "
                    + (f"{r['cpu_s']:.1f} | " if cpu else "")
                    + f"{r['events']:,} | " + (f"{r['reference_events']:,} | " if ref else "")
                    + f"{r['events_per_s']:,.0f} | {r['bare_simpy_s']:.2f} | "
                    + (f"{ratio:.1f}x wall, {r['cpu_overhead_vs_bare']:.1f}x CPU | " if cpu
                       else f"{ratio:.1f}x | ")
                    + (f"{r['cpu_overhead_vs_bare_own']:.1f}x | " if ref else "")
                    + f"{r['peak_rss_mb']:.0f} | {r['trace_mb']:.1f} | {r['migrations']:,} | "
                    f"{r['cost_per_uav_hour_s']:.4f} |")
    out = ["## Simulator core (`benchmarks/bench_world.py`)", "",
           "Random-waypoint UAVs, 100 RSUs (10 x 10 grid, 5 km x 5 km), 10 Gbit/s lattice "
           "backhaul, 1 simulated hour, equilibrium pricing, HDF5 tracing on; each size in "
           "its own process. Issue 13's targets: the world at most 10x a bare SimPy loop on the "
           "run's event count before this work (the reference events, when migrations were "
           "SimPy processes" + per_migration(d["series"]) + "), 1,000 UAVs x 1 h in at most "
           "20 s, a log-log slope of time against UAVs of at most 1.05, tracing at most 10 % "
           "of the time." + (
               f" Processor: {d['cpu']}, {d['cpus']} cores; every session runs on a machine "
               "of its own, and times compare only within one page." if "cpu" in d else "")
           + (f" Interpreter: {d['interpreter']}." if "interpreter" in d else "")
           + (
               " The clock starts after the imports (" + (
                   "also of the modules a run imports lazily: numba with the compiled kernels' "
                   "modules, scipy's splines, the progress bar's library; `run_imports` in the "
                   "JSON lists any module a run still imported inside the clock"
                   if "run_imports" in d["series"][0] else
                   "numba's included: the CLI imports it on the first round")
               + f"); they take {d['series'][0]['imports_cpu_s']:.2f} s of CPU in "
               "a fresh process." if "imports_cpu_s" in d["series"][0] else "") + jit_start(d),
           "",
           *rows]
    loads = [f"{r['uavs']:,} UAVs {r['load_1min'][0]:.1f}-{r['load_1min'][1]:.1f}"
             for r in d["series"] if "load_1min" in r]
    if loads:
        out += ["", "Load average (1 min) before-after each measurement: " + "; ".join(loads)
                + ". Wall times carry the load of the shared machine (a size timed once the "
                "most); the CPU column is the run's own."]
    reps = [r for r in d["series"] if len(r.get("repeats", [])) > 1]
    if reps:
        out += ["", "Repeated sizes (traced and in-memory runs interleaved; the table and the "
                "targets use the run with the least CPU time): " + "; ".join(
                    f"{r['uavs']:,} UAVs traced "
                    + " / ".join(f"{x['cpu_s']:.2f}" for x in r["repeats"]) + " s CPU"
                    + (", in memory " + " / ".join(f"{x['cpu_s']:.2f}"
                                                   for x in r["untraced_repeats"]) + " s"
                       if r.get("untraced_repeats") else "")
                    for r in reps) + "."]
    accounted = [r for r in [*d["series"], d.get("big") or {}] if "writer_wall_s" in r]
    if accounted:
        out += ["", "The tracing share is measured three ways. `tracing_share_N`: one minus the "
                "least in-memory time over the least traced time (noisy at small sizes, where "
                "the difference is a few tenths of a second, and when the machine drifts "
                "during the series: the two least times can come from different phases). "
                "`tracing_share_paired_N`: the median over the interleaved pairs (a traced run "
                "and the in-memory run right after it) of one minus their ratio. "
                "`tracing_accounted_N`: the trace "
                "writer's own time, taken directly in the traced run: the simulating thread's "
                "wall time inside writer calls (wall column) and the CPU time of those calls "
                "(the chunks the simulating thread compresses itself included) plus that of the "
                "thread that compresses gzip chunks meanwhile (CPU column). Writer time "
                "per run: " + "; ".join(
                    f"{r['uavs']:,} UAVs {r['writer_wall_s']:.2f} s wall, "
                    f"{r['writer_main_cpu_s']:.2f} s CPU in its calls and "
                    f"{r['writer_worker_cpu_s']:.2f} s in the compressing thread"
                    for r in accounted) + "."]
    if (big := d.get("big")) is not None:
        out += ["", f"Large run: {big['uavs']:,} UAVs x {big['rsus']} RSUs (20 x 20 grid, "
                f"10 km x 10 km) x {big['sim_hours']:g} h, traced (load average "
                f"{big['load_1min'][0]:.1f}-{big['load_1min'][1]:.1f}): {big['wall_s']:.0f} s "
                f"wall, {big['cpu_s']:.0f} s CPU, {big['events']:,} events "
                + (f"({big['overhead_vs_bare']:.1f}x the bare loop on "
                   f"{big['reference_events']:,} reference events on wall time, "
                   f"{big['cpu_overhead_vs_bare']:.1f}x on CPU)"
                   if big.get("reference_events", big["events"]) != big["events"] else
                   f"({big['overhead_vs_bare']:.1f}x the bare loop on the run's own events on "
                   f"wall time, {big['cpu_overhead_vs_bare']:.1f}x on CPU: there is no count of "
                   "this run from before the work to set it against)")
                + ", peak RSS "
                f"{big['peak_rss_mb']:.0f} MB, trace {big['trace_mb']:.0f} MB. " + _memory(big)
                + (f" The tracing share is taken on a {big['tracing_share_hours']:g} h pair "
                   f"(traced {big['share_traced_wall_s']:.0f} s, in memory "
                   f"{big['untraced_wall_s']:.0f} s, wall)."
                   if "tracing_share_hours" in big else ""),
                "", "![resident memory of the 10,000-UAV run against wall and simulated time]"
                "(figures/bench-memory.png)", "",
                "The figure is drawn by `python benchmarks/bench_world.py --plot-memory` from the "
                "JSON (also after every `--big` or `--big-only` run)."]
    if (targets := d.get("targets")) is not None:
        load = d["load_average_before"][0]
        out += ["", f"Issue 13's targets (load average {load:.1f} on {d['cpus']} cores before "
                "the run; the CPU column is the measuring process's own time):", "",
                "| target | limit | wall | CPU | met (wall / CPU) |", "|---|---|---|---|---|"]
        for name, t in targets.items():
            out.append(f"| {name} | {t['limit']:g} | {t['wall']:.3g} | {t['cpu']:.3g} | "
                       f"{'yes' if t['met_wall'] else 'no'} / "
                       f"{'yes' if t['met_cpu'] else 'no'} |")
    return [*out, ""]


def jit_start(d: dict) -> str:
    """The sentence on numba's start-up, with the smallest size's ratio to the bare loop had
    the run paid it."""
    first = d["series"][0]
    if "jit_start_cpu_s" not in first:
        return ""
    jit = first["jit_start_cpu_s"]
    with_start = (first["cpu_s"] + jit) / first["bare_simpy_cpu_s"]
    return (f" It also starts after numba's own start ({jit:.2f} s of CPU: its compiler target "
            "and runtime, made by the first compiled call of a process, whichever it is), which "
            "a sweep worker pays once; loading each kernel's cached code stays in the run. Had "
            f"the {first['uavs']:,}-UAV run paid it, it would be {with_start:.1f}x the bare "
            "loop on CPU.")


def gc_cost(d: dict) -> list[str]:
    best = d["best"]
    rows = [f"| {name} | {r['cpu_s']:.2f} | {r['wall_s']:.2f} | "
            f"{' / '.join(map(str, r['collections']))} | {r['freed']:,} |"
            for name, r in (("rare (as `run_scenario` sets it)", best["rare"]),
                            ("Python's default threshold", best["default"]))]
    return ["## Garbage collection (`benchmarks/bench_gc.py`)", "",
            f"The bench_world world with {d['uavs']:,} UAVs for 1 simulated hour, traced, in a "
            "fresh process per run; the least CPU time of each setting over "
            f"{len(d['runs']['rare'])} interleaved runs. Collections are counted by generation "
            "(0 / 1 / 2) over the whole run, set-up and summary included.", "",
            "| collector | CPU (s) | wall (s) | collections | objects freed |",
            "|---|---|---|---|---|", *rows, "",
            f"The default threshold costs **{d['cpu_ratio']:.2f}x** the CPU time.", ""]


def game(d: dict, small: dict | None) -> list[str]:
    out = ["## Pricing equilibrium (`benchmarks/bench_game.py`)", "",
           "Our solver (all UAVs' games in one compiled batch; the linear regime-scan best "
           "response above 16 RSUs) against the dense reference (every candidate scored: the "
           "former numpy solver's algorithm, compiled) and a generic SciPy solve (SLSQP "
           "follower responses, bounded scalar best responses) of the same instances, in the "
           "same run. The generic side is timed on a subset of UAVs and extrapolated (the game "
           "splits per UAV); see the JSON for per-instance details."
           + (" Quick run (`--quick`): fewer seeds." if d.get("quick") else ""), "",
           "| size | ours (s) | ours: worst unilateral gain | dense reference (s) | max price "
           "diff to dense | generic (s) | generic: worst gain | speed-up vs generic (mean) |",
           "|---|---|---|---|---|---|---|---|"]
    for size, s in d["summary"].items():
        failed = s["generic_worst_gain"] > 1e-3  # the generic solve found no equilibrium
        ratio = (f"{s['speedup_mean']:,.0f}x (generic did not converge)" if failed
                 else f"{s['speedup_mean']:,.0f}x")
        out.append(f"| {size} | {s['fast_mean_s']:.5f} | {s['fast_worst_gain']:.1e} | "
                   f"{s['dense_mean_s']:.4f} | {s['dense_max_price_diff']:.1e} | "
                   f"{s['generic_mean_s']:.1f} | {s['generic_worst_gain']:.1e} | {ratio} |")
    if (large := d.get("large")) is not None:
        seeds = len(large["runs"])
        out += ["", f"Large games ({large['size']}, {seeds} seed{'s' * (seeds > 1)}): ours "
                f"{large['fast_mean_s']:.3f} s per solve (worst {large['fast_max_s']:.3f} s), "
                f"worst unilateral gain {large['fast_worst_gain']:.1e} and max price diff "
                f"{large['dense_max_price_diff']:.1e} to the dense reference, on "
                f"{large['runs'][0]['uavs_checked']} UAVs per instance."]
    if (targets := d.get("targets")) is not None:
        load = d.get("load_average", [float("nan")])[0]
        out += ["", f"Targets of issue 13, mean per solve (load average {load:.1f} on "
                f"{d.get('cpus', 2)} cores during the run: CPU time is this process's "
                "own):", "",
                "| target | limit (ms) | wall (ms) | CPU (ms) | met (wall / CPU) |",
                "|---|---|---|---|---|"]
        for size, t in targets.items():
            out.append(f"| {size} solve | {t['target_s'] * 1e3:.0f} | {t['wall_s'] * 1e3:.1f} | "
                       f"{t['cpu_s'] * 1e3:.1f} | {'yes' if t['met_wall'] else 'no'} / "
                       f"{'yes' if t['met_cpu'] else 'no'} |")
    if small:
        out += ["", "Small games as the simulator solves them (`--small`), median per game:",
                "", "| size | build (us) | solve (us) | sweeps (mean) | worst gain |",
                "|---|---|---|---|---|"]
        for size, s in small["sizes"].items():
            out.append(f"| {size} | {s['build_us_median']:.0f} | {s['solve_us_median']:.0f} | "
                       f"{s['sweeps_mean']:.1f} | {s['worst_gain']:.1e} |")
    return [*out, ""]


def agents(d: dict) -> list[str]:
    out = ["## Learned agents (`benchmarks/bench_agents.py`)", "",
           "| solver | training (s) | held-out reward / equilibrium | iterations to the 2% "
           "band | actor parameters dense -> compact |", "|---|---|---|---|---|"]
    for name in ("tiny_madrl", "ppo"):
        s = d[name]
        out.append(f"| {name} | {s['wall_time_s']:.1f} | {s['final_heldout_ratio']:.4f} | "
                   f"{s['iterations_to_2pct_band']} | {s['dense_actor_parameters']} -> "
                   f"{s['compact_actor_parameters']} |")
    out += ["", "| inference | dense decisions/s | compact decisions/s | speed-up |",
            "|---|---|---|---|"]
    for label, s in d["inference"].items():
        out.append(f"| {label} | {s['dense_decisions_per_s']:,} | "
                   f"{s['compact_decisions_per_s']:,} | {s['speedup']:.2f}x |")
    sim = d.get("simulator")
    if sim:
        out += ["", f"Simulator run of `scenarios/default.yaml`: equilibrium "
                f"{sim['equilibrium']['wall_time_s']:.2f} s, tiny_madrl "
                f"{sim['tiny_madrl']['wall_time_s']:.2f} s; RSU revenue ratio tiny_madrl / "
                f"equilibrium {sim['revenue_ratio_tiny_madrl_vs_equilibrium']:.4f}."]
    return [*out, ""]


def convergence(d: dict) -> list[str]:
    out = ["## Convergence over seeds (`benchmarks/bench_convergence.py`)", "",
           f"`{d['command']}`: seeds {d['seeds'][0]}..{d['seeds'][-1]}, held-out evaluation every "
           f"{d['eval_interval']} PPO iterations; iterations until the held-out ratio stays in "
           f"the {100 * d['band']:.0f}% band.", "",
           "| variant | reached band | mean iterations | median | mean final ratio | "
           "vs ppo: first / ppo first / ties | Wilcoxon p |", "|---|---|---|---|---|---|---|"]
    paired = d["summary"]["paired_vs_ppo"]
    for name, st in d["summary"]["per_variant"].items():
        pv = paired.get(name)
        vs = f"{pv['pruned_first']} / {pv['ppo_first']} / {pv['ties']}" if pv else "—"
        w = pv["wilcoxon"] if pv else None
        pval = f"{w['p_value']:.3f}" if isinstance(w, dict) else "—"
        out.append(f"| {name} | {st['reached_band']}/{st['runs']} | "
                   f"{st['mean_iterations_to_band']:.1f} | {st['median_iterations_to_band']} | "
                   f"{st['mean_final_ratio']:.4f} | {vs} | {pval} |")
    return [*out, ""]


def pruning_jumps(d: dict) -> list[str]:
    out = ["## Policy change per pruning step (`benchmarks/bench_pruning_jumps.py`)", "",
           f"`{d['command']}`: RMS change of the actor's output at each mask update during "
           "training, summed over the run (mean over seeds).", "",
           "| pruning | mean total jump | mean largest jump | mean iterations to band |",
           "|---|---|---|---|"]
    for name, st in d["summary"].items():
        out.append(f"| {name} | {st['mean_total_jump']:.3f} | {st['mean_max_jump']:.3f} | "
                   f"{st['mean_iterations_to_band']:.1f} |")
    return [*out, ""]


def sync(d: dict) -> list[str]:
    out = ["## Synchronisation games (`benchmarks/bench_sync.py`)", "",
           "| case | median (s) | converged |", "|---|---|---|"]
    for name, s in d["cases"].items():
        out.append(f"| {name} | {s['median_s']:.2f} | {s['converged']} |")
    if (sens := d.get("sensing_bench_world")) is not None:
        runs = ", ".join(f"{r['total_cpu_s']:.3f}" for r in sens["runs"])
        out += ["", "The sensing part of the bench world (the default game, solved, then "
                f"{sens['steps']} steps of one simulated hour on a bare SimPy clock), CPU "
                f"time, least of {len(sens['runs'])} runs in one process: "
                f"**{sens['least_total_cpu_s']:.3f} s** (runs {runs} s; the first pays the "
                f"first-call costs); least solve {sens['least_solve_cpu_s']:.3f} s, least "
                f"stepping {sens['least_process_cpu_s']:.3f} s."]
    sim = d.get("simulator_run")
    if sim:
        out += ["", f"Default scenario ({sim['duration_s']:.0f} s) without sensing "
                f"{sim['without_sensing']['median_wall_s']:.2f} s, with sensing "
                f"{sim['with_sensing']['median_wall_s']:.2f} s "
                f"({sim['with_sensing']['sensing_state_rows']} sensing rows)."]
    return [*out, ""]


def sweep(d: dict) -> list[str]:
    out = ["## Sweeps on dask (`benchmarks/bench_sweep.py`)", "",
           f"{d['sweep']['runs']} runs of {d['sweep']['uavs']} UAVs x "
           f"{d['sweep']['duration_s']:.0f} s: direct in-process {d['direct_s']:.1f} s, "
           f"dask 1 worker {d['dask_1_worker_s']:.1f} s, 2 workers "
           f"{d['dask_2_workers_s']:.1f} s: speed-up 2 vs 1 workers "
           f"**{d['speedup_2_vs_1']:.2f}x** (target 1.7x); dask overhead per run "
           f"{d['overhead_per_run_s']:.2f} s."]
    if (cli := d.get("cli_cluster")) is not None:
        load = cli.get("load_average_before", d["load_average_before"])[0]
        out += ["", "The same sweep on a cluster started with `dask scheduler` and `dask worker` "
                f"(`--scheduler tcp://127.0.0.1:PORT`): 1 worker {cli['sweep_1_worker_s']:.1f} "
                f"s, 2 workers {cli['sweep_2_workers_s']:.1f} s: speed-up "
                f"**{cli['speedup_2_vs_1']:.2f}x** (mean runs in progress with 2 workers "
                f"{cli['concurrency_2_workers']:.2f}; load average {load:.1f} before"
                + (f", {cli['load_average_after'][0]:.1f} after" if "load_average_after" in cli
                   else "")
                + "). On this 2-core machine the speed-up cannot exceed 2x, and it is lower "
                "when other jobs hold the cores: each worker then gets less than a core."]
    return [*out, ""]


def interpreters(d: dict) -> list[str]:
    rows = ["| interpreter | world, least (s) | vs the first | bare SimPy loop (s) | world vs "
            "bare |", "|---|---|---|---|---|"]
    for r in d["rows"]:
        rows.append(f"| {r['interpreter']} | {r['wall_s']:.2f} | {r['time_vs_first']:.2f}x | "
                    f"{r['bare_s']:.3f} | {r['vs_bare']:.1f}x |")
    return ["## Interpreters (`benchmarks/bench_interpreters.py`)", "",
            f"The world of {d['uavs']:,} UAVs x {d['hours']:g} h (traced, as above) and a bare "
            f"SimPy loop on its {d['rows'][0]['events']:,} events, under each interpreter in "
            f"turn, {d['repeat']} rounds; the least time of each. Processor: {d['cpu']}. The "
            "first row is the interpreter that ran the script. The Makefile makes `.venv` with "
            "the distribution's `/usr/bin/python3.11` when there is one (README).", "", *rows,
            ""]


def faults(d: dict) -> list[str]:
    out = ["## Availability under RSU outages (`benchmarks/bench_faults.py`)", "",
           f"`{d['command']}`: the world of `{d['base']}` with random RSU outages only "
           f"(exponential, MTTR {d['mttr_s']:.0f} s), {d['duration_s']:.0f} s simulated, "
           f"seeds {d['seeds'][0]}..{d['seeds'][-1]}; means over seeds. Figure: "
           f"`{d['figure']}` (docs/faults.md).", "",
           "| outages per RSU-hour | restore from | outages | twins lost | service "
           "interrupted (% UAV-time) | twins unavailable (% twin-time) | restore (s) | "
           "staleness (s) |", "|---|---|---|---|---|---|---|---|"]
    for r in d["summary"]:
        restore = "—" if r["twins_lost"] == 0 else f"{r['restore_mean_s']:.1f}"
        stale = "—" if r["twins_lost"] == 0 else f"{r['staleness_mean_s']:.1f}"
        out.append(f"| {r['rate_per_h']:g} | {r['source']} | {r['outages']:.1f} | "
                   f"{r['twins_lost']:.1f} | {r['interrupted_pct']:.2f} ± "
                   f"{r['interrupted_pct_sd']:.2f} | {r['twin_unavailable_pct']:.3f} | "
                   f"{restore} | {stale} |")
    return [*out, ""]


def animate(d: dict) -> list[str]:
    rows = ["| case | measured (UTC) | format | render (s) | size (MB) | frames | "
            "browser: load (s) | draw per frame, mean / p95 (ms) | "
            "frame interval, mean / p95 (ms) | browser CPU per frame (ms) | "
            "load average (1 min) |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    parts = []
    for case in d["cases"]:
        for o in case["outputs"]:
            b = o.get("browser") or {}
            frames = o["frames"] if o["frames"] is not None else "-"
            web = (f"{b['load_s']:.2f} | {b['draw_ms_mean']:.1f} / {b['draw_ms_p95']:.1f} | "
                   f"{b['interval_ms_mean']:.1f} / {b['interval_ms_p95']:.1f}" if b
                   else "- | - | -")
            cpu = (f"{b['browser_cpu_ms_per_frame']:.1f} | {b['loadavg_1min'][0]:.1f} - "
                   f"{b['loadavg_1min'][1]:.1f} on {b['cpus']} cores"
                   if "browser_cpu_ms_per_frame" in b else "- | -")
            when = case.get("measured_utc", "earlier session (previous player)")
            rows.append(f"| {case['case']} | {when} | {o['format']} | {o['wall_s']:.1f} | "
                        f"{o['size_mb']:.2f} | {frames} | {web} | {cpu} |")
            if b.get("phases_ms"):
                parts.append((case["case"], b["phases_ms"]))
    simulated = [f"{c['simulate_s']:.0f} s ({c['case']}, "
                 f"{c.get('measured_utc', 'earlier session')})" for c in d["cases"]
                 if c.get("simulate_s") is not None]
    out = ["## Replays (`benchmarks/bench_animate.py`)", "",
           "`uavtwin animate` of a whole run at the default timing (30 s of replay, 10 fps): "
           "the default scenario as MP4, GIF and HTML, and 1,000 UAVs x 1 h in the "
           "bench_world world as decimated HTML (target: under 25 MB), and the same 1,000 "
           "UAVs for 300 s (the frame time depends on the fleet on the map, not on the "
           "run's length). Each page is then "
           "played for 5 s in headless Chromium (software rendering); *draw* is the "
           "player's own time per frame, *interval* the time between animation frames "
           "(16.7 ms = 60 frames/s), *browser CPU* the CPU time of all the browser's "
           "processes per frame (rasterising included), beside the machine's load average "
           "before and after: an interval well above the CPU time means the page waited "
           "for a core."
           + (" Simulating took " + ", ".join(simulated) + "; the other traces were "
              "reused (same scenario and seed, same trace)." if simulated else ""),
           "", *rows, ""]
    if parts:
        names = list(dict.fromkeys(k for _, p in parts for k in p))
        out += ["Where the player's own draw time goes (ms per frame; the browser's "
                "rasterising and compositing come on top, see *browser CPU*):", "",
                "| case | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|",
                *(f"| {name} | " + " | ".join(f"{p.get(k, float('nan')):.2f}" for k in names)
                  + " |" for name, p in parts), ""]
    return out


def cli(d: dict) -> list[str]:
    rows = ["| command | median wall (s) | min (s) | max (s) | median CPU (s) |",
            "|---|---|---|---|---|"]
    for name, r in d["commands"].items():
        cpu = f"{r['cpu_median_s']:.3f}" if "cpu_median_s" in r else "-"
        rows.append(f"| `{name}` | {r['median_s']:.3f} | {r['min_s']:.3f} | {r['max_s']:.3f} "
                    f"| {cpu} |")
    load = d.get("load_average_before")
    where = (f" Load average before the run: {load[0]:.1f} on {d.get('cpus', '?')} cores."
             if load else "")
    return ["## Command start-up (`benchmarks/bench_cli.py`)", "",
            f"Each command started {d['repeat']} times as a fresh process (bytecode cached, "
            "as in a normal installation). Target: `--help`, `validate` and `schema` under "
            f"{d['target_s']} s; torch, dask, matplotlib, pandas, h5py, numba and simpy are "
            "imported only by the commands that use them (a test checks it), and `validate` "
            "reads a learned solver's checkpoint without torch." + where, "", *rows, ""]


def mobility_import(d: dict) -> list[str]:
    out = ["## Mobility import (`benchmarks/bench_mobility_import.py`)", "",
           "SUMO-style FCD files made by the benchmark (every attribute SUMO writes by "
           "default, ~400 vehicles on the road at 1 s steps), converted to uavtwin CSV by "
           "`uavtwin convert` (streaming expat reader + CSV writer) and read by sumolib's own "
           "FCD readers in the same run, each in its own process. MB/s per wall second and "
           "per CPU second (the machine is shared); peak RSS of the whole process: it does not "
           "grow with the file. sumolib's `output.parse` (object per element, much slower) "
           "runs on the files up to 50 MB only.", "",
           "| file (MB) | samples | reader | MB/s (wall) | MB/s (CPU) | peak RSS (MB) |",
           "|---|---|---|---|---|---|"]
    labels = (("uavtwin_convert", "`uavtwin convert` to CSV"),
              ("sumolib_parse_fast_nested", "sumolib `parse_fast_nested` (read only)"),
              ("sumolib_output_parse", "sumolib `output.parse` (read only)"))
    for r in d.get("fcd") or ():
        for key, label in labels:
            if key not in r:
                continue
            s = r[key]
            out.append(f"| {r['file_mb']:.0f} | {r['samples']:,} | {label} | "
                       f"{s['mb_per_s']:.1f} | {s['mb_per_cpu_s']:.1f} | "
                       f"{s['peak_rss_mb']:.0f} |")
    runs = d.get("runs")
    if runs:
        rw, tr = runs["random_waypoint"], runs["trace"]
        out += ["", f"{runs['uavs']:,} UAVs x {runs['sim_hours']:g} h on the bench_world "
                f"world, once with random waypoints and once flying the same flights imported "
                f"from an ns-2 file ({runs['ns2_mb']:.1f} MB, 3-D setdest, `model: trace`):", "",
                "| mobility | wall (s) | CPU (s) | peak RSS (MB) | migrations | coverage "
                "events |", "|---|---|---|---|---|---|"]
        for label, r in (("random waypoint", rw), ("imported ns-2 trace", tr)):
            out.append(f"| {label} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                       f"{r['peak_rss_mb']:.0f} | {r['migrations']:,} | "
                       f"{r['coverage_events']:,} |")
        out += ["", f"Imported / generated: **{tr['cpu_s'] / rw['cpu_s']:.2f}x** CPU time "
                f"({runs['trace_vs_random_waypoint']:.2f}x wall)."]
    return [*out, ""]


def realism(d: dict) -> list[str]:
    out = ["## Cost of the realism models (`benchmarks/bench_realism.py`)", "",
           f"The world of `bench_world.py` with {d['uavs']:,} UAVs for {d['sim_hours']:g} "
           "simulated hour(s), once as it is (`off`) and once per model switched on "
           "(docs/models.md Part D); each run in its own process.", "",
           "| variant | overrides | wall time (s) | CPU time (s) | CPU vs off | events | "
           "coverage events | migrations | peak RSS (MB) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in d["variants"]:
        sets = "<br>".join(f"`{o}`" for o in r["overrides"]) or "—"
        out.append(f"| {r['variant']} | {sets} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                   f"{r['cpu_vs_off']:.2f}x | {r['events']:,} | {r['coverage_events']:,} | "
                   f"{r['migrations']:,} | {r['peak_rss_mb']:.0f} |")
    return [*out, ""]


def backhaul(d: dict) -> list[str]:
    out = ["## Backhaul transfers alone (`benchmarks/bench_backhaul.py`)", "",
           f"Every twin transfer of the `bench_world.py` world ({d['uavs']:,} UAVs, "
           f"{d['rsus']} RSUs, {d['sim_hours']:g} simulated h) recorded, then replayed on "
           "a fresh `BackhaulNetwork` with nothing else running (best of "
           f"{d['repeat']}): **{d['transfers']:,} transfers in {d['cpu_s']:.2f} s CPU, "
           f"{d['us_per_transfer']:.1f} us per transfer**, SimPy's {d['simpy_events']:,} "
           f"events included. SimPy alone doing the same events: {d['simpy_floor_cpu_s']:.2f} s "
           f"(the floor), so the backhaul's own code costs {d['model_cpu_s']:.2f} s. "
           f"Completion-time digest `{d['digest'][:12]}` (equal digests: equal `t_end` to the "
           "last bit)."]
    if (b := d.get("baseline")) is not None:
        out += ["", f"The same calls on the baseline `{b['tree']}`: {b['cpu_s']:.2f} s "
                f"CPU ({b['us_per_transfer']:.1f} us per transfer), **{b['cpu_ratio']:.2f}x** "
                f"the current time; its own code {b['model_cpu_s']:.2f} s, "
                f"**{b['model_cpu_s'] / d['model_cpu_s']:.2f}x** the current; digest "
                f"`{b['digest'][:12]}`, same completion times: "
                f"{'yes' if b['same_times'] else 'NO'}."]
    return [*out, ""]


def validate_ns3(d: dict) -> list[str]:
    corr = d["correction_fitted_on_single"]
    out = ["## Fluid backhaul vs packet-level TCP in ns-3 (`benchmarks/validate_ns3.py`)", "",
           f"ns-3 {d['ns3_version']} ({d['tcp']['variant']}, SACK, MSS "
           f"{d['tcp']['segment_bytes']} B) against uavtwin's fluid backhaul on the same links, "
           "routes, sizes and start times; relative error of each transfer's duration "
           "(docs/validation.md). *Corrected*: the `TcpCorrection` option with constants "
           f"fitted on the `single` case (efficiency {corr['efficiency']}, slow-start weight "
           f"{corr['slow_start_weight']}).", "",
           "| case | transfers | fluid: median | p95 | worst | mean signed | corrected: median "
           "| p95 | worst | fluid (ms) | ns-3 (s) |", "|---" * 11 + "|"]
    for c in d["cases"]:
        f, k = c["fluid_error"], c["corrected_error"]
        if not f["n"]:
            out.append(f"| {c['name']} | 0 ({f['unfinished']} unfinished in ns-3) |" + " |" * 9)
            continue
        n = f"{f['n']}" + (f" (+{f['unfinished']} unfinished)" if f["unfinished"] else "")
        out.append(f"| {c['name']} | {n} | {f['median']:.1%} | {f['p95']:.1%} | "
                   f"{f['worst']:.1%} | {f['mean_signed']:+.1%} | {k['median']:.1%} | "
                   f"{k['p95']:.1%} | {k['worst']:.1%} | {c['fluid_wall_s'] * 1e3:.2f} | "
                   f"{c['ns3_wall_s']:.1f} |")
    w = d["wall"]
    out += ["", f"Wall time for all cases: fluid {w['fluid_s']:.3f} s, ns-3 {w['ns3_s']:.1f} s "
            f"({w['ns3_s'] / w['fluid_s']:,.0f}x), plus {w['ns3_load_s']:.0f} s to load ns-3."]
    return [*out, ""]


def soak(d: dict) -> list[str]:
    rows = ["| UAVs | simulated (h) | wall (s) | RSS while simulating, max (MB) | RSS growth "
            "10 %..90 % of the time reached (MB) | RSS at the end, max (MB) | end - while "
            "simulating, RSS (MB) | peak RSS (MB) | trace (MB) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in d["runs"]:
        reached = (f"{r['hours']:g}" if r["complete"]
                   else f"{r['sim_s_reached'] / 3600:.2f} of {r['hours']:g} (stopped)")
        end = r.get("max_rss_at_end_mb")
        rows.append(f"| {r['uavs']} | {reached} | {r['wall_s']:.0f} | "
                    f"{r['max_rss_while_simulating_mb']:.0f} | {r['rss_growth_10_90_mb']:+.0f} | "
                    + (f"{end:.0f} | {r['end_rss_minus_simulating_mb']:+.0f} | "
                       if end is not None else "- | - | ")
                    + f"{r['peak_rss_mb']:.0f} | {r['trace_mb']:.1f} |")
    extra = ", ".join(f"`{x}`" for x in d["runs"][0].get("extra", []))
    return ["## Soak (`benchmarks/bench_soak.py`)" + (f", with {extra}" if extra else ""), "",
            "`uavtwin run` in the bench_world world (1,000 UAVs over a 10 x 10 RSU grid, "
            "positions every 10 s, sensing off, equilibrium pricing), resident memory read from "
            "`/proc` every few seconds; \"the end\" is the samples taken after the progress "
            "bar reports the whole horizon (positions, final copy, summary); figure and "
            "discussion in docs/reliability.md. The issue's target horizon is 24 simulated "
            "hours; the rows say what was run "
            f"(`{d['command']}`" + (f", at commit {d['commit']}" if "commit" in d else "") + ").",
            "", *rows, ""]


def fuzz(d: dict) -> list[str]:
    rows = ["| loader | inputs | accepted (exit 0) | refused in one line (exit 1/2) | "
            "tracebacks | hangs |", "|---|---|---|---|---|---|"]
    for name, r in sorted(d.items()):
        rows.append(f"| {name} | {r['cases']:,} | {r['ok']:,} | {r['errors']:,} | "
                    f"{r['tracebacks']} | {r['hangs']} |")
    return ["## Fuzzing (`make fuzz`)", "",
            "`tests/test_fuzz.py` with thousands of generated inputs per loader and a time "
            "budget per loader (see docs/reliability.md); a traceback or a hang fails the run, "
            "so a finished run has none.", "", *rows, ""]


def reference(d: dict) -> list[str]:
    return ["## Equilibrium reference per round (`benchmarks/bench_reference.py`)", "",
            f"Default scenario ({d['solver']} agents, {d['rounds']} pricing rounds), median of "
            f"{d['repeats']} runs each: `pricing.reference: false` {d['median_off_s']:.2f} s, "
            f"`true` (the default) {d['median_on_s']:.2f} s: "
            f"{100 * d['extra_fraction']:+.1f}% wall time, "
            f"{d['extra_per_round_ms']:.2f} ms per round (whole runs on a shared machine: "
            f"noisy). The exact solve itself takes a median {d['solve_ms_median']:.2f} ms "
            f"(mean {d['solve_ms_mean']:.2f} ms) per round, {d['solve_s_total']:.2f} s per run: "
            "that is what the reference adds; switch it off for speed.", ""]


def instructions(d: dict, world_d: dict | None) -> list[str]:
    """The load-free counts of ``bench_instructions.py``, beside bench_world's time ratio."""
    w, bare, own = d["world_traced"], d["bare_reference"], d["bare_own"]
    free = d.get("world_in_memory")
    times = {r["uavs"]: r for r in (world_d or {}).get("series", [])}
    t = times.get(d["uavs"]) if times.get(d["uavs"], {}).get("sim_hours") == d["sim_hours"] \
        else None
    out = ["## Instructions, load-free (`benchmarks/bench_instructions.py`)", "",
           f"{d['valgrind']} (callgrind) counts every instruction a process executes, per "
           "thread, whatever else the machine runs: the measure for comparing two versions of "
           "the code that this noisy machine cannot spoil. "
           "Counted from the end of start-up (as in `bench_world.py`) to the end of the run. "
           "The simulating thread's count is the analogue of wall time (the trace's compression "
           "threads run beside it on the other core), all threads' count the analogue of CPU "
           "time.", "",
           "| run | events | instructions, simulating thread | all threads | per event "
           "(all) |", "|---|---|---|---|---|",
           f"| {d['uavs']:,} UAVs x {d['sim_hours']:g} h, traced ({w['migrations']:,} "
           f"migrations; all its instructions over them: "
           f"{d['instructions_per_migration']:,.0f} per migration) | "
           f"{w['events']:,} | {w['main_thread_instructions']:,} | {w['instructions']:,} | "
           f"{w['instructions'] / w['events']:,.0f} |"]
    if free is not None:
        out.append(f"| the same in memory | {free['events']:,} | "
                   f"{free['main_thread_instructions']:,} | {free['instructions']:,} | "
                   f"{free['instructions'] / free['events']:,.0f} |")
    out += [f"| bare SimPy loop, reference events | {bare['events']:,} | "
            f"{bare['main_thread_instructions']:,} | {bare['instructions']:,} | "
            f"{bare['instructions_per_event']:,.0f} |"]
    if own["events"] != bare["events"]:
        out.append(f"| bare SimPy loop, the run's own events | {own['events']:,} | "
                   f"{own['main_thread_instructions']:,} | {own['instructions']:,} | "
                   f"{own['instructions_per_event']:,.0f} |")
    vs = d["ratios"]["vs_bare"]
    text = (f"The world executes {vs['main']:.1f}x the bare loop's instructions on the reference "
            f"count in the simulating thread, {vs['all']:.1f}x in all threads (on its own count: "
            f"{d['world_vs_bare_own']['main']:.1f}x and {d['world_vs_bare_own']['all']:.1f}x)")
    if t is not None:
        world_rate = w["instructions"] / t["cpu_s"] / 1e9
        bare_rate = bare["instructions"] / t["bare_simpy_cpu_s"] / 1e9
        text += (f". In time, bench_world measured {t['cpu_overhead_vs_bare']:.1f}x CPU "
                 f"({t['overhead_vs_bare']:.1f}x wall) for the same size: with its CPU times the "
                 f"world retires {world_rate:.1f} G instructions per second and the bare loop "
                 f"{bare_rate:.1f} G, which is why issue 13's limits stay on time")
    if (share := d["ratios"].get("tracing_share")) is not None:
        text += (f". Tracing adds {100 * share['main']:.1f} % of the traced run's instructions "
                 f"in the simulating thread, {100 * share['all']:.1f} % in all threads")
    return [*out, "", text + ".", ""]


def main() -> None:
    parts = ["# Benchmarks", "",
             "Measured on the 2-core development machine by the scripts in `benchmarks/` "
             "(`make bench` runs them all; each prints its numbers and writes JSON to "
             "`benchmarks/results/`). This page is generated from that JSON by "
             "`python benchmarks/summary.py > docs/benchmarks.md`. Ratios measured in one run "
             "are more trustworthy than absolute times on a shared machine.", ""]
    for name, render in (("bench_world", world), ("bench_gc", gc_cost), ("bench_agents", agents),
                         ("bench_convergence", convergence),
                         ("bench_pruning_jumps", pruning_jumps), ("bench_sync", sync),
                         ("bench_sweep", sweep), ("bench_faults", faults),
                         ("bench_animate", animate), ("bench_cli", cli),
                         ("bench_mobility_import", mobility_import),
                         ("bench_realism", realism), ("bench_backhaul", backhaul),
                         ("validate_ns3", validate_ns3),
                         ("bench_soak", soak), ("bench_soak_dense", soak), ("fuzz", fuzz),
                         ("bench_reference", reference)):
        d = load(name)
        if d is not None:
            parts += render(d)
        if name == "bench_world" and (c := load("bench_instructions")) is not None:
            parts += instructions(c, d)
        if name == "bench_world" and (i := load("bench_interpreters")) is not None:
            parts += interpreters(i)
        if name == "bench_world" and (g := load("bench_game")) is not None:
            parts += game(g, load("bench_game_small"))
    print("\n".join(parts).rstrip() + "\n")


if __name__ == "__main__":
    main()
