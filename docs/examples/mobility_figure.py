"""Draw docs/img/mobility-import.png: the SUMO example run imported by uavtwin.

Left, the vehicles' paths with their FCD samples; middle, each UAV's presence interval;
right, one vehicle's x(t) read from the FCD file and from SUMO's ns-2 export of the same run.

Usage::

    python docs/examples/mobility_figure.py [-o docs/img/mobility-import.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
EXAMPLES = ROOT / "scenarios" / "examples" / "mobility"


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simulator.world.mobility.formats.ns2 import read_ns2
    from simulator.world.mobility.formats.sumo_fcd import read_fcd

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(ROOT / "docs" / "img" / "mobility-import.png"))
    args = ap.parse_args()

    fcd = read_fcd(EXAMPLES / "sumo-grid.fcd.xml")
    ns2 = read_ns2(EXAMPLES / "sumo-grid.ns2")
    fig, (ax_xy, ax_life, ax_x) = plt.subplots(1, 3, figsize=(13, 4.2),
                                              gridspec_kw={"width_ratios": [1, 1.1, 1.3]})
    colors = plt.get_cmap("tab20")(np.linspace(0, 1, len(fcd.tracks)))
    for tr, c in zip(fcd.tracks, colors, strict=True):
        ax_xy.plot(tr.points[:, 0], tr.points[:, 1], "-", color=c, lw=1.2)
        ax_xy.plot(tr.points[:, 0], tr.points[:, 1], ".", color=c, ms=3)
        ax_life.plot([tr.start_time, tr.end_time], [tr.uav_id, tr.uav_id], "-", color=c, lw=4,
                     solid_capstyle="butt")
    ax_xy.set(xlabel="x (m)", ylabel="y (m)", title="SUMO FCD: paths and samples",
              aspect="equal")
    ax_life.set(xlabel="time (s)", ylabel="UAV id (order of first appearance)",
                title="presence intervals", ylim=(len(fcd.tracks) - 0.5, -0.5))
    ax_life.set_yticks(range(len(fcd.tracks)))
    ax_life.grid(axis="x", alpha=0.3)

    # the longest-lived vehicle, from both files
    k = int(np.argmax([tr.end_time - tr.start_time for tr in fcd.tracks]))
    a, b = fcd.tracks[k], ns2.tracks[k]
    ax_x.plot(b.times, b.points[:, 0], "-", color="tab:orange", lw=1.5,
              label="ns-2 export (SUMO)")
    ax_x.plot(b.times, b.points[:, 0], "|", color="tab:orange", ms=8)
    ax_x.plot(a.times, a.points[:, 0], "o-", color="tab:blue", ms=3.5, lw=1,
              label="FCD samples")
    ax_x.set(xlabel="time (s)", ylabel="x (m)",
             title=f"vehicle {a.name!r}: x(t) from both files")
    ax_x.legend(loc="center left", fontsize=8)
    ax_x.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
