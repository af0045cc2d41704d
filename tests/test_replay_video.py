"""MP4 and GIF replays of the default scenario: frame count, size, and what changes."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.replay.load import load_scene
from analysis.replay.timing import make_timing
from analysis.replay.video import MapPainter, render_snapshot, render_video


@pytest.fixture(scope="module")
def scene(default_trace):
    return load_scene(default_trace)


def _mp4_frames(path):
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    frames = [np.frombuffer(f, dtype=np.uint8).reshape(h, w, 3).astype(int) for f in gen]
    return (w, h), frames


def _gif_frames(path):
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        size = im.size
        frames = [np.asarray(f.convert("RGB")).astype(int) for f in ImageSequence.Iterator(im)]
    return size, frames


def _check_motion(scene, timing, frames, noise):
    """Between consecutive frames, pixels change where a UAV moved and not in the title."""
    painter = MapPainter(scene)
    try:
        checked = 0
        for k in range(len(frames) - 1):
            (a, pa), (b, pb) = (scene.positions(float(t)) for t in timing.times[k:k + 2])
            xa, xb = painter.to_pixels(a[:, :2]), painter.to_pixels(b[:, :2])
            step = np.where(pa & pb, np.linalg.norm(xb - xa, axis=1), 0)
            u = int(np.argmax(step))
            if step[u] < 8:
                continue
            diff = np.abs(frames[k + 1] - frames[k]).sum(axis=2)
            c, r = xb[u].round().astype(int)
            assert diff[r - 2:r + 3, c - 2:c + 3].mean() > 40, (k, u)
            assert diff[5:40, 770:1000].mean() < noise  # the static title
            checked += 1
        assert checked >= len(frames) // 2
    finally:
        painter.close()


def test_mp4(scene, tmp_path):
    timing = make_timing(scene.t_start, scene.t_end, end=20.0, speed=10.0, fps=5.0)
    info = render_video(scene, tmp_path / "run.mp4", timing)
    (w, h), frames = _mp4_frames(info.path)
    assert (w, h) == (info.width, info.height) == (1280, 720)
    assert len(frames) == timing.times.size == 11
    _check_motion(scene, timing, frames, noise=2.0)


def test_gif(scene, tmp_path):
    timing = make_timing(scene.t_start, scene.t_end, start=30.0, end=45.0, speed=5.0, fps=2.0)
    info = render_video(scene, tmp_path / "run.gif", timing, style="screen")
    size, frames = _gif_frames(info.path)
    assert size == (1280, 720)
    assert len(frames) == timing.times.size == 7
    _check_motion(scene, timing, frames, noise=3.0)  # per-frame palettes


def test_snapshot_and_follow(scene, tmp_path):
    path = render_snapshot(scene, 24.5, tmp_path / "snap.png", style="paper")
    from PIL import Image

    with Image.open(path) as im:
        assert im.size == (2400, 1350)
    with pytest.raises(ValueError, match="no such UAV"):
        MapPainter(scene, follow=scene.n_uavs)
    timing = make_timing(scene.t_start, scene.t_end, end=6.0, speed=3.0, fps=1.0)
    info = render_video(scene, tmp_path / "f.gif", timing, follow=3, panel=True)
    _, frames = _gif_frames(info.path)
    assert len(frames) == 3


def test_failed_and_retried_requests_are_drawn(faults_trace, tmp_path):
    """In a GIF of the faults example: a retried transfer's packet has a cyan rim, a first
    attempt's has none, and a failed request puts a red cross on its UAV."""
    scene = load_scene(faults_trace)
    end = np.where(np.isfinite(scene.tr_t1), scene.tr_t1, scene.t_end)
    retried = np.flatnonzero(scene.tr_retry > 0)
    first = np.flatnonzero(scene.tr_retry == 0)
    k = int(retried[0])
    t = float(0.5 * (scene.tr_t0[k] + end[k]))
    timing = make_timing(scene.t_start, scene.t_end, start=t, end=t + 0.2, speed=0.2, fps=1.0)
    info = render_video(scene, tmp_path / "retry.gif", timing)
    _, frames = _gif_frames(info.path)
    painter = MapPainter(scene)
    try:
        idx, xy = scene.in_flight(t)
        px = painter.to_pixels(xy)
        rim = [_cyan(_around(frames[0], p, 9)).sum() for p in px]
        for i, n in zip(idx, rim, strict=True):  # cyan exactly around the retried packets
            alone = np.linalg.norm(xy - xy[list(idx).index(i)], axis=1) < 300
            if alone.sum() == 1:
                assert (n > 15) == (scene.tr_retry[i] > 0), (i, n)
        assert rim[list(idx).index(k)] > 15
        assert set(idx) & set(first)  # a first attempt flies at the same time
        # a failed request: a red cross on its UAV during 3 highlight periods
        f = int(np.argmax(np.diff(np.r_[-np.inf, scene.fail_t]) > 10))
        before, after = (MapPainter(scene), MapPainter(scene))
        for p, tt in ((before, scene.fail_t[f] - 0.05), (after, scene.fail_t[f] + 0.05)):
            p.draw(float(tt))
        u = scene.fail_uav[f]
        xyz, _ = scene.positions(float(scene.fail_t[f]))
        at = painter.to_pixels(xyz[u:u + 1, :2])[0]
        red = [_red(_around(_rgb(p), at, 7)).sum() for p in (before, after)]
        before.close()
        after.close()
        assert red[1] > red[0] + 20, red
    finally:
        painter.close()


def _around(img, p, r):
    c, row = np.round(p).astype(int)
    return img[row - r:row + r + 1, c - r:c + r + 1]


def _rgb(painter):
    painter.fig.canvas.draw()
    return np.asarray(painter.fig.canvas.buffer_rgba())[..., :3].astype(int)


def _cyan(img):  # #22d3ee, the colour of a retry
    return (img[..., 0] < 110) & (img[..., 1] > 170) & (img[..., 2] > 200)


def _red(img):  # #e03131, a failed request
    return (img[..., 0] > 180) & (img[..., 1] < 90) & (img[..., 2] < 90)
