"""Draw a :class:`~analysis.replay.scene.Scene` with matplotlib: video frames and stills.

:class:`MapPainter` lays out one figure (the map on the left; clock, counters, legend and, with
``--follow``, the followed UAV's events on the right; optionally a side panel with each RSU's
posted price and the sensing shares over time) and redraws only what changes at each frame
time. :func:`render_video` writes the frames to MP4 (matplotlib's ``FFMpegWriter`` driving the
ffmpeg binary that the ``imageio-ffmpeg`` package ships, so no system ffmpeg is needed) or GIF
(``PillowWriter``); :func:`render_snapshot` saves one still (PNG, PDF or SVG by extension).

Frame times are ``start, start + speed/fps, ...`` up to ``end``: ``speed`` simulated seconds
pass per second of video.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

from analysis.replay.scene import STATES, Scene  # noqa: E402
from analysis.replay.timing import Timing  # noqa: E402

__all__ = ["RETRY", "STYLES", "MapPainter", "Style", "VideoInfo", "render_snapshot",
           "render_video"]

RETRY: str = "#22d3ee"
"""Colour of a retry: a pricing round or a transfer whose request retries a failed one, or a
transfer restarted after a fault aborted it."""


@dataclass(frozen=True)
class Style:
    """Colours and sizes of one look.

    Attributes:
        name: ``paper`` (white, print sizes) or ``screen`` (dark, video sizes).
        size_px: Frame size (width, height) in pixels at ``dpi``.
        dpi: Dots per inch of the figure.
        background, foreground, area, disc, link: Colours of the figure, text, the area,
            the coverage discs and the backhaul links.
        state_colors: One colour per entry of :data:`~analysis.replay.scene.STATES`.
        font_size: Base font size, pt.
    """

    name: str
    size_px: tuple[int, int]
    dpi: int
    background: str
    foreground: str
    area: str
    disc: str
    link: str
    state_colors: tuple[str, str, str, str]
    font_size: float


STYLES: dict[str, Style] = {
    "screen": Style("screen", (1280, 720), 100, "#16181d", "#e8e8e8", "#1f232b", "#4c8fd6",
                    "#5a6372", ("#38c172", "#ffb020", "#b07cff", "#666666"), 11),
    "paper": Style("paper", (2400, 1350), 300, "white", "black", "#fbfbfb", "#1f77b4",
                   "#9a9a9a", ("#2a9d4b", "#e07b00", "#7b3fbf", "#aaaaaa"), 6.5),
}


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`render_video` wrote.

    Attributes:
        path: The output file.
        times: Simulation time of each frame, s.
        width, height: Frame size in pixels.
        fps: Frames per second of the file.
    """

    path: Path
    times: np.ndarray
    width: int
    height: int
    fps: float


class MapPainter:
    """One figure showing a scene at a time ``t``; call :meth:`draw` per frame."""

    def __init__(self, scene: Scene, *, style: str = "screen", follow: int | None = None,
                 color_by: str = "state", panel: bool = False, trail_s: float = 20.0,
                 highlight_s: float = 2.0, speed: float | None = None) -> None:
        """Lay the figure out and draw everything that does not move.

        Args:
            scene: The run.
            style: A key of :data:`STYLES`.
            follow: UAV id to centre on (its events are listed), or None.
            color_by: ``state`` or ``altitude``.
            panel: Add the side panel (RSU prices and sensing shares over time).
            trail_s: Length of the UAV trails, simulated s.
            highlight_s: How long a pricing round's candidates and a failed request stay
                highlighted, simulated s.
            speed: Speed factor shown beside the clock (None: not shown).

        Raises:
            ValueError: Unknown style or colouring, or a followed UAV that does not exist.
        """
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}; expected one of {sorted(STYLES)}")
        if color_by not in ("state", "altitude"):
            raise ValueError(f"unknown colouring {color_by!r}; expected state or altitude")
        if follow is not None and not 0 <= follow < scene.n_uavs:
            raise ValueError(f"--follow {follow}: no such UAV (ids are 0..{scene.n_uavs - 1})")
        self.scene, self.st, self.follow = scene, STYLES[style], follow
        self.color_by, self.trail_s, self.highlight_s, self.speed = (
            color_by, trail_s, highlight_s, speed)
        st = self.st
        plt.rcParams.update({"font.size": st.font_size})
        w, h = st.size_px
        self.fig: Figure = plt.figure(figsize=(w / st.dpi, h / st.dpi), dpi=st.dpi,
                                      facecolor=st.background)
        self.ax = self.fig.add_axes((0.005, 0.01, 0.98 * h / w, 0.98))
        self._static()
        self._text_side(panel)
        z = scene.seg_p0[:, 2]
        self._z_range = (float(z.min()), float(max(z.max(), z.min() + 1.0)))
        finite = scene.tr_price[np.isfinite(scene.tr_price)]
        hi = float(finite.max()) if finite.size else 1.0
        lo = float(finite.min()) if finite.size else 0.0
        self.price_norm = matplotlib.colors.Normalize(lo, max(hi, lo + 1e-9))
        self.price_cmap = matplotlib.colormaps["plasma"]
        self._dynamic()
        self._freeze()

    # -- layout ----------------------------------------------------------------------------
    def _static(self) -> None:
        s, st, ax = self.scene, self.st, self.ax
        x0, y0, x1, y1 = s.bounds
        pad = 0.03 * max(x1 - x0, y1 - y0)
        ax.set_facecolor(st.background)
        ax.set_aspect("equal")
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=st.area,
                               edgecolor=st.link, lw=0.8, zorder=0))
        r_min, r_max = s.cell_radius_range()  # a radio footprint: outer solid, inner dashed
        for (x, y), r, r0 in zip(s.rsu_xy, r_max, r_min, strict=True):
            ax.add_patch(Circle((x, y), r, facecolor=matplotlib.colors.to_rgba(st.disc, 0.07),
                                edgecolor=matplotlib.colors.to_rgba(st.disc, 0.45), lw=0.8,
                                zorder=1))
            if s.fp_alt.size and r0 > 0:
                ax.add_patch(Circle((x, y), r0, facecolor="none", edgecolor=st.disc, alpha=0.6,
                                    lw=0.8, ls=(0, (3, 3)), zorder=1))
        if len(s.edges):
            ax.add_collection(LineCollection(s.rsu_xy[s.edges], colors=st.link, lw=1.2,
                                             zorder=2, linestyles="--"))
        ax.scatter(s.rsu_xy[:, 0], s.rsu_xy[:, 1], marker="^", s=70, color=st.foreground,
                   edgecolor=st.background, zorder=6)
        ax.text(x0, y0 - 0.4 * pad, f"area {x1 - x0:.0f} m x {y1 - y0:.0f} m", color=st.link,
                fontsize=st.font_size * 0.75, va="center")
        off = 0.012 * max(x1 - x0, y1 - y0)
        self.labels = [
            ax.text(x + off, y + off, f"RSU {j}", color=st.foreground, zorder=7,
                    fontsize=st.font_size * 0.85, clip_on=True)
            for j, (x, y) in enumerate(s.rsu_xy)
        ]

    def _text_side(self, panel: bool) -> None:
        st, fig = self.st, self.fig
        fg, x = st.foreground, 0.6
        fig.text(x, 0.975, f"uavtwin replay: {self.scene.scenario_name}", color=fg,
                 fontsize=st.font_size * 1.25, weight="bold", va="top")
        self.clock = fig.text(x, 0.915, "", color=fg, fontsize=st.font_size * 1.1,
                              va="top", family="monospace")
        self.counter_text = fig.text(x, 0.86, "", color=fg, va="top", family="monospace",
                                     fontsize=st.font_size * 0.9, linespacing=1.3)
        self.events_text = fig.text(x, 0.40 if not panel else 0.66, "", color=fg, va="top",
                                    family="monospace", fontsize=st.font_size * 0.8,
                                    linespacing=1.3)
        if not (panel and self.follow is not None):
            handles = [Line2D([], [], ls="", marker="o", color=c, label=n)
                       for n, c in zip(STATES[:3], st.state_colors[:3], strict=True)]
            handles += [Line2D([], [], ls="", marker="^", color=fg, label="RSU"),
                        Line2D([], [], ls="", marker="o", mfc="none", mec="gold", ms=10,
                               label="pricing round (candidates)"),
                        Line2D([], [], ls="", marker="X", color="#e03131",
                               label="failed request"),
                        Line2D([], [], ls=(0, (4, 3)), marker="s", mfc="none", mec=RETRY,
                               mew=2, color=RETRY, lw=1.5,
                               label="retry (ring, dashed route)"),
                        Line2D([], [], ls="-", color=fg, lw=0.6, label="UAV - host RSU"),
                        Line2D([], [], ls="--", color=st.link, lw=1.2, label="backhaul link"),
                        Line2D([], [], ls="-", marker="x", color="#e03131", lw=2,
                               label="RSU / link down"),
                        Line2D([], [], ls="", marker="D", mfc="none", mec="#ff6b00", mew=2,
                               label="transfer hit by a fault")]
            fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(x - 0.005, 0.65),
                       frameon=False, labelcolor=fg, fontsize=st.font_size * 0.8, ncol=2,
                       borderaxespad=0.0)
        self.panel_axes: list = []
        self.cursors: list = []
        if panel:
            self._panel()

    def _panel(self) -> None:
        s, st, fig = self.scene, self.st, self.fig
        axp = fig.add_axes((0.65, 0.25, 0.33, 0.13), facecolor=st.background)
        axs = fig.add_axes((0.65, 0.06, 0.33, 0.13), facecolor=st.background)
        for a in (axp, axs):
            a.tick_params(colors=st.foreground, labelsize=st.font_size * 0.7)
            for spine in a.spines.values():
                spine.set_color(st.link)
        cmap = matplotlib.colormaps["tab10"]
        for j in range(s.n_rsus):
            sel = s.rd_cand == j
            if not sel.any():
                continue
            idx = np.searchsorted(s.rd_cand_off, np.flatnonzero(sel), side="right") - 1
            axp.plot(s.rd_t[idx], s.rd_price[sel], ".", ms=3, color=cmap(j % 10),
                     label=f"RSU {j}")
        axp.set_ylabel("price/MHz", color=st.foreground, fontsize=st.font_size * 0.75)
        for m in range(s.sensing_share.shape[1]):
            axs.plot(s.sensing_t, s.sensing_share[:, m], lw=1.2, label=f"VSP {m}")
        axs.set_ylabel("sensing share", color=st.foreground, fontsize=st.font_size * 0.75)
        axs.set_xlabel("t (s)", color=st.foreground, fontsize=st.font_size * 0.75)
        if s.sensing_share.shape[1]:
            axs.legend(fontsize=st.font_size * 0.6, frameon=False, labelcolor=st.foreground)
        for a in (axp, axs):
            a.set_xlim(s.t_start, s.t_end)
        self.cursors = [a.axvline(s.t_start, color="gold", lw=1) for a in (axp, axs)]
        self.panel_axes = [axp, axs]

    def _dynamic(self) -> None:
        ax, st = self.ax, self.st
        self.trails = LineCollection([], lw=1.0, alpha=0.55, zorder=3)
        self.host_lines = LineCollection([], lw=0.6, alpha=0.6, colors=st.foreground, zorder=3)
        self.routes = LineCollection([], lw=3.0, alpha=0.9, zorder=4, cmap=self.price_cmap,
                                     norm=self.price_norm)
        for c in (self.trails, self.host_lines, self.routes):
            ax.add_collection(c)
        self.rings = ax.scatter([], [], s=600, facecolor="none", edgecolor="gold", lw=2, zorder=5)
        self.retry_rings = ax.scatter([], [], s=800, facecolor="none", edgecolor=RETRY, lw=2,
                                      zorder=5)
        self.packets = ax.scatter([], [], s=45, marker="s", c=[], cmap=self.price_cmap,
                                  norm=self.price_norm, edgecolor=st.foreground, lw=0.5,
                                  zorder=8)
        self.uavs = ax.scatter([], [], s=36, zorder=9, edgecolor=st.background, lw=0.6)
        self.fails = ax.scatter([], [], s=110, marker="X", color="#e03131", zorder=10)
        self.disrupted = ax.scatter([], [], s=90, marker="D", facecolor="none",
                                    edgecolor="#ff6b00", lw=2, zorder=10)
        self.down_links = LineCollection([], lw=3.0, colors="#e03131", zorder=4)
        ax.add_collection(self.down_links)
        self.down_rsus = ax.scatter([], [], s=240, marker="x", color="#e03131", lw=3,
                                    zorder=8)
        self.focus = ax.scatter([], [], s=260, facecolor="none", edgecolor=st.foreground,
                                lw=1.5, zorder=10)
        self.focus_cells: list[Circle] = []
        if self.follow is not None and self.scene.fp_alt.size:  # cells at its altitude
            for x, y in self.scene.rsu_xy:
                self.focus_cells.append(ax.add_patch(Circle(
                    (x, y), 0.0, facecolor="none", edgecolor=st.disc, lw=1.5, zorder=2)))
        cb = self.fig.colorbar(matplotlib.cm.ScalarMappable(self.price_norm, self.price_cmap),
                               cax=self.fig.add_axes((0.6, 0.47, 0.3, 0.015)),
                               orientation="horizontal")
        cb.set_label("twin in flight on its backhaul route: price paid per MHz",
                     color=st.foreground, fontsize=st.font_size * 0.8)
        cb.ax.tick_params(colors=st.foreground, labelsize=st.font_size * 0.7)

    def _freeze(self) -> None:
        """Render what never changes once into a figure image; frames redraw only the rest.

        With ``follow`` the map's view moves every frame, so the whole map stays live and
        only the side (titles, legend, colour bar, panel) is frozen.
        """
        live = {self.trails, self.host_lines, self.routes, self.rings, self.retry_rings,
                *self.focus_cells, self.packets,
                self.uavs, self.fails, self.disrupted, self.down_links, self.down_rsus,
                self.focus, self.clock, self.counter_text, self.events_text, *self.cursors}
        if self.follow is not None:
            live |= {self.ax, *self.ax.get_children()}
        for a in live:
            a.set_visible(False)
        self.fig.canvas.draw()
        background = np.asarray(self.fig.canvas.buffer_rgba()).copy()
        for a in live:
            a.set_visible(True)
        for ax in self.fig.axes:
            if ax in live:
                continue
            ax.set_axis_off()
            ax.patch.set_visible(False)
            for child in ax.get_children():
                if child not in live:
                    child.set_visible(False)
        for a in [*self.fig.texts, *self.fig.legends, self.fig.patch]:
            if a not in live:
                a.set_visible(False)
        self.fig.figimage(background, zorder=-10, origin="upper")

    # -- per frame -------------------------------------------------------------------------
    def draw(self, t: float) -> None:
        """Update every moving artist to simulation time ``t``.

        Args:
            t: Simulation time, s.
        """
        s, st = self.scene, self.st
        xyz, present = s.positions(t)
        state = s.states(t)
        if self.color_by == "altitude":
            lo, hi = self._z_range
            colors = matplotlib.colormaps["viridis"]((xyz[:, 2] - lo) / (hi - lo))
        else:
            colors = np.array([matplotlib.colors.to_rgba(c) for c in st.state_colors])[state]
        vis = np.flatnonzero(present)
        self.uavs.set_offsets(xyz[vis, :2] if vis.size else np.zeros((0, 2)))
        self.uavs.set_facecolor(colors[vis])
        # trails: the last trail_s seconds, 8 straight pieces per UAV
        ts = t - self.trail_s * np.linspace(1.0, 0.0, 9)
        pts = np.stack([s.positions(max(tt, s.t_start))[0][:, :2] for tt in ts], axis=1)
        segs = np.stack([pts[:, :-1], pts[:, 1:]], axis=2)[vis].reshape(-1, 2, 2)
        self.trails.set_segments(segs)
        self.trails.set_color(np.repeat(colors[vis], 8, axis=0))
        # lines to the hosting RSU(s)
        host = s.hosts(t)
        pairs = np.unique(np.column_stack([np.repeat(np.arange(s.n_uavs), host.shape[1]),
                                           host.ravel()]), axis=0)
        pairs = pairs[(pairs[:, 1] >= 0) & present[pairs[:, 0]]]
        self.host_lines.set_segments(
            np.stack([xyz[pairs[:, 0], :2], s.rsu_xy[pairs[:, 1]]], axis=1))
        # twins in flight along their routes, coloured by price
        k, pk = s.in_flight(t)
        # (a retried transfer: dashed route, packet with a cyan rim)
        routes, rc = [], []
        for i in k:
            r = s.rsu_xy[s.tr_path[s.tr_path_off[i]:s.tr_path_off[i + 1]]]
            routes.append(r)
            rc.append(s.tr_price[i])
        retry = s.tr_retry[k] > 0
        self.routes.set_segments(routes)
        self.routes.set_array(np.nan_to_num(np.asarray(rc, dtype=float)))
        self.routes.set_linestyle([(0, (4, 3)) if r else "solid" for r in retry] or "solid")
        self.packets.set_offsets(pk if k.size else np.zeros((0, 2)))
        self.packets.set_array(np.nan_to_num(s.tr_price[k]))
        self.packets.set_edgecolors([RETRY if r else st.foreground for r in retry] or "none")
        self.packets.set_linewidths(np.where(retry, 2.5, 0.5))
        self.packets.set_sizes(np.where(retry, 80.0, 45.0))
        # pricing rounds (cyan: a retry of a failed request) and failed requests just played
        played = s.rounds_between(t - self.highlight_s, t)
        for rings, sel in ((self.rings, ~s.rd_retry[played]), (self.retry_rings,
                                                                  s.rd_retry[played])):
            cand = s.candidates(played[sel])
            rings.set_offsets(s.rsu_xy[cand] if cand.size else np.zeros((0, 2)))
        f = s.failures_between(t - 3 * self.highlight_s, t)
        self.fails.set_offsets(xyz[s.fail_uav[f], :2] if f.size else np.zeros((0, 2)))
        d = s.disruptions_between(t - 3 * self.highlight_s, t)
        self.disrupted.set_offsets(xyz[s.tev_uav[d], :2] if d.size else np.zeros((0, 2)))
        rsus_down, links_down = s.outages(t)
        self.down_rsus.set_offsets(s.rsu_xy[rsus_down] if rsus_down.size else np.zeros((0, 2)))
        self.down_links.set_segments(s.rsu_xy[links_down] if links_down.size else [])
        # text
        c = s.counters(t)
        speed = "" if self.speed is None else f"   x{self.speed:g}"
        self.clock.set_text(f"t = {t:8.1f} s / {s.t_end:.0f} s{speed}")
        mean = "-" if np.isnan(c["mean_interruption_s"]) else f"{c['mean_interruption_s']:.2f} s"
        self.counter_text.set_text(
            f"migrations        {c['migrations']:6d}\n"
            f"mean interruption {mean:>8}\n"
            f"revenue           {c['revenue']:9.1f}\n"
            f"twins in flight   {c['in_flight']:6d}\n"
            f"failed requests   {c['failed']:6d}\n"
            f"twins lost        {c['lost']:6d}\n"
            f"UAVs present      {vis.size:6d} / {s.n_uavs}")
        if self.follow is not None:
            u = self.follow
            half = 0.2 * max(s.bounds[2] - s.bounds[0], s.bounds[3] - s.bounds[1], 1500.0)
            self.ax.set_xlim(xyz[u, 0] - half, xyz[u, 0] + half)
            self.ax.set_ylim(xyz[u, 1] - half, xyz[u, 1] + half)
            self.focus.set_offsets(xyz[u:u + 1, :2])
            for circle, r in zip(self.focus_cells, s.cell_radius(xyz[u:u + 1, 2])[0],
                                 strict=False):
                circle.set_radius(r)
            hosts = sorted({int(h) for h in host[u] if h >= 0})
            self.events_text.set_text(
                f"UAV {u}: {STATES[state[u]]}, z = {xyz[u, 2]:.0f} m, hosts RSU "
                + (", ".join(map(str, hosts)) or "- (twins lost)") + "\n"
                + "\n".join(s.events_of(u, t, limit=6 if self.panel_axes else 10)))
        for cur in self.cursors:
            cur.set_xdata([t, t])

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """Pixel (column, row) of map points in the saved frame (row 0 at the top).

        Args:
            xy: ``[N, 2]`` positions, m.

        Returns:
            ``[N, 2]`` pixel coordinates for the current view.
        """
        self.fig.canvas.draw()
        disp = self.ax.transData.transform(np.asarray(xy, dtype=float))
        height = self.fig.get_size_inches()[1] * self.fig.dpi
        return np.column_stack([disp[:, 0], height - disp[:, 1]])

    def close(self) -> None:
        """Release the figure."""
        plt.close(self.fig)


def render_video(scene: Scene, path: str | os.PathLike[str], timing: Timing, *,
                 style: str = "screen", follow: int | None = None, color_by: str = "state",
                 panel: bool = False, progress: bool = False) -> VideoInfo:
    """Write an MP4 or GIF replay.

    Args:
        scene: The run.
        path: Output ``.mp4`` or ``.gif``.
        timing: Frame times, speed and fps.
        style: A key of :data:`STYLES`.
        follow: UAV to centre on, or None.
        color_by: ``state`` or ``altitude``.
        panel: Add the RSU price / sensing share side panel.
        progress: Show a progress bar on stderr.

    Returns:
        What was written.

    Raises:
        ValueError: An extension other than .mp4 or .gif.
    """
    import imageio_ffmpeg
    from matplotlib import animation
    from tqdm import tqdm

    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".mp4", ".gif"):
        raise ValueError(f"{path}: expected a .mp4 or .gif output")
    painter = MapPainter(scene, style=style, follow=follow, color_by=color_by, panel=panel,
                         trail_s=timing.trail_s, highlight_s=timing.highlight_s,
                         speed=timing.speed)
    try:
        if ext == ".mp4":
            matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
            writer: animation.AbstractMovieWriter = animation.FFMpegWriter(
                fps=timing.fps, codec="libx264", bitrate=-1,
                extra_args=["-pix_fmt", "yuv420p", "-crf", "23"])
        else:
            writer = animation.PillowWriter(fps=timing.fps)
        dpi = painter.fig.dpi
        with writer.saving(painter.fig, str(path), dpi):
            for t in tqdm(timing.times, desc=f"animate {path.name}", unit="frame",
                          disable=not progress, leave=False):
                painter.draw(float(t))
                writer.grab_frame()
        w, h = painter.fig.canvas.get_width_height()
    finally:
        painter.close()
    return VideoInfo(path=path, times=timing.times, width=int(w), height=int(h),
                     fps=timing.fps)


def render_snapshot(scene: Scene, t: float, path: str | os.PathLike[str], *,
                    style: str = "paper", follow: int | None = None, color_by: str = "state",
                    panel: bool = False, trail_s: float = 20.0) -> Path:
    """Save the replay's picture at one time (PNG, PDF or SVG by the extension).

    Args:
        scene: The run.
        t: Simulation time, s.
        path: Output file.
        style: A key of :data:`STYLES`.
        follow: UAV to centre on, or None.
        color_by: ``state`` or ``altitude``.
        panel: Add the side panel.
        trail_s: Trail length, simulated s.

    Returns:
        The path written.
    """
    painter = MapPainter(scene, style=style, follow=follow, color_by=color_by, panel=panel,
                         trail_s=trail_s, highlight_s=2.0)
    try:
        painter.draw(t)
        painter.fig.savefig(path, facecolor=painter.st.background)
    finally:
        painter.close()
    return Path(path)
