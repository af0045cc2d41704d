"""The HTML replay: a self-contained page, opened and played in headless Chromium."""

from __future__ import annotations

import base64
import io
import json
import subprocess

import numpy as np
import pytest

from analysis.replay.browser import BrowserError, find_chromium, start_chromium
from analysis.replay.html import write_html
from analysis.replay.load import load_scene
from analysis.replay.timing import make_timing


def _chromium_or_skip() -> str:
    exe = find_chromium()
    if exe is None:  # CI installs it (.ci/run); skip only where it cannot be installed
        try:
            subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True,
                           capture_output=True, timeout=600)
        except (OSError, subprocess.SubprocessError):
            pytest.skip("chromium is not installed and cannot be installed here")
        exe = find_chromium()
    if exe is None:
        pytest.skip("chromium is not installed and cannot be installed here")
    return exe


@pytest.fixture(scope="module")
def scene(default_trace):
    return load_scene(default_trace)


WINDOW = (40.0, 200.0)  # the page the browser plays: --start 40 --end 200


@pytest.fixture(scope="module")
def page(scene, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "run.html"
    return write_html(scene, path, make_timing(scene.t_start, scene.t_end))


@pytest.fixture(scope="module")
def window_page(scene, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "window.html"
    return write_html(scene, path, make_timing(scene.t_start, scene.t_end, start=WINDOW[0],
                                               end=WINDOW[1]))


def _payload(path):
    text = path.read_text()
    return json.loads(text.split('type="application/json">', 1)[1].split("</script>", 1)[0])


def _dec(a):
    return np.frombuffer(base64.b64decode(a["b"]), dtype=np.dtype(a["t"]).newbyteorder("<"))


def _png(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def _box(img: np.ndarray, x: float, y: float, r: int) -> np.ndarray:
    return img[max(int(y) - r, 0):int(y) + r + 1, max(int(x) - r, 0):int(x) + r + 1]


def test_page_is_self_contained_and_small(page):
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and " src=" not in text
    assert page.stat().st_size < 200_000
    payload = _payload(page)
    assert payload["uav"]["n"] == 20 and len(payload["rsu"]["x"]) == 9


def test_page_embeds_only_its_window(scene, page, window_page):
    """--start/--end: the tracks and events of the window (and the look-back of its trails
    and highlights), the state at its start; nothing after it."""
    full, win = _payload(page), _payload(window_page)
    timing = make_timing(scene.t_start, scene.t_end, start=WINDOW[0], end=WINDOW[1])
    cut = WINDOW[0] - max(timing.trail_s, 3 * timing.highlight_s)
    assert win["window"] == [WINDOW[0] - scene.t_start, WINDOW[1] - scene.t_start]
    data = [len(json.dumps(p)) for p in (full, win)]  # the data, without the player's code
    assert data[1] < 0.75 * data[0]
    t = _dec(win["track"]["t"]) + scene.t_start
    lens = _dec(win["track"]["len"])
    assert t.size < _dec(full["track"]["t"]).size
    off = np.r_[0, np.cumsum(lens)]
    for u in range(scene.n_uavs):  # each track spans the window and little more
        tu = t[off[u]:off[u + 1]]
        assert tu[0] <= cut + 1e-3 and tu[-1] >= WINDOW[1] - 1e-3
        assert (tu > WINDOW[1] + 1e-3).sum() <= 1 and (tu < cut - 1e-3).sum() <= 1
    t0 = _dec(win["transfer"]["t0"]) + scene.t_start
    t1 = _dec(win["transfer"]["t1"]) + scene.t_start
    tr_t1 = np.where(np.isfinite(scene.tr_t1), scene.tr_t1, scene.t_end)
    expected = (tr_t1 > WINDOW[0]) & (scene.tr_t0 <= WINDOW[1])
    assert t0.size == int(expected.sum()) < scene.tr_t0.size
    np.testing.assert_allclose(np.sort(t0), np.sort(scene.tr_t0[expected]), atol=1e-4)
    assert (t1 > WINDOW[0]).all() and (t0 <= WINDOW[1]).all()
    rt = _dec(win["round"]["t"]) + scene.t_start
    assert ((rt > cut - 1e-4) & (rt <= WINDOW[1] + 1e-4)).all()
    assert rt.size == int(((scene.rd_t > cut) & (scene.rd_t <= WINDOW[1])).sum())
    # the state at the window's start
    np.testing.assert_array_equal(_dec(win["uav"]["hostw"]).reshape(scene.n_uavs, -1),
                                  scene.hosts(WINDOW[0]))
    done = scene.sv_t1 <= cut
    assert win["service"]["before"] == int(done.sum()) > 0
    assert win["revenue"]["before"] == pytest.approx(
        scene.revenue_by_rsu(cut).tolist(), rel=1e-12)


def test_browser_plays_the_replay(scene, window_page, tmp_path):
    exe = _chromium_or_skip()
    with start_chromium(exe) as b:
        b.open(window_page)
        assert b.evaluate("window.replay && window.replay.ready") is True
        # two times; the UAV that moved most between them
        t1, t2 = 60.0, 75.0
        (p1, pres1), (p2, pres2) = scene.positions(t1), scene.positions(t2)
        moved = np.where(pres1 & pres2, np.linalg.norm(p2[:, :2] - p1[:, :2], axis=1), 0)
        u = int(np.argmax(moved))
        assert moved[u] > 100
        b.evaluate(f"replay.seek({t1})")
        a = _png(b.screenshot(tmp_path / "t1.png"))
        px1 = b.evaluate(f"replay.toPage({p1[u, 0]}, {p1[u, 1]})")
        b.evaluate(f"replay.seek({t2})")
        c = _png(b.screenshot(tmp_path / "t2.png"))
        px2 = b.evaluate(f"replay.toPage({p2[u, 0]}, {p2[u, 1]})")
        # the page's counters (which start from the state at the window's start) agree
        # with analysis.replay.scene
        c2 = scene.counters(t2)
        text = b.evaluate("document.getElementById('counters').textContent").split("\n")
        assert c2["migrations"] > scene.counters(WINDOW[0])["migrations"] > 0
        assert text[0].split()[-1] == str(c2["migrations"])
        assert text[1].split()[-2] == f"{c2['mean_interruption_s']:.2f}"
        assert text[2].split()[-1] == f"{c2['revenue']:.1f}"
        assert text[3].split()[-1] == str(c2["in_flight"])
        # the page's own track agrees with the trace (16-bit quantisation: < 0.1 m)
        np.testing.assert_allclose(b.evaluate(f"replay.position({u}, {t2})"), p2[u], atol=0.1)
        # the picture changed where the UAV was and where it is now, and not everywhere
        diff = np.abs(a - c).sum(axis=2)
        assert _box(diff, *px1, 3).mean() > 60
        assert _box(diff, *px2, 3).mean() > 60
        assert (diff > 30).mean() < 0.08
        # RSU labels: drawn in each label box, nothing else changes when they are hidden
        b.evaluate("replay.setLabels(false)")
        nolab = _png(b.screenshot())
        b.evaluate("replay.setLabels(true)")
        ldiff = np.abs(c - nolab).sum(axis=2)
        inside = np.zeros(ldiff.shape, dtype=bool)
        for j in range(scene.n_rsus):
            x, y, w, h = b.evaluate(f"replay.rsuLabelBox({j})")
            box = ldiff[int(y):int(y + h), int(x):int(x + w)]
            assert (box > 100).sum() > 15, f"no label drawn for RSU {j}"
            inside[int(y):int(y + h), int(x):int(x + w)] = True
        x, y, w, h = b.evaluate("(() => { const r = document.getElementById('map')"
                                ".getBoundingClientRect(); return [r.left, r.top, r.width, "
                                "r.height]; })()")
        on_map = np.zeros(ldiff.shape, dtype=bool)
        on_map[int(y):int(y + h), int(x):int(x + w)] = True
        assert (ldiff[on_map & ~inside] > 30).sum() == 0
        # hover a UAV, click an RSU
        x, y = px2
        b.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        assert b.evaluate("replay.hover()").startswith(f"UAV {u} ")
        j = 4
        x, y = b.evaluate(f"replay.toPage({scene.rsu_xy[j, 0]}, {scene.rsu_xy[j, 1]})")
        for kind in ("mousePressed", "mouseReleased"):
            b.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        info = b.evaluate("replay.info()")
        assert info.startswith(f"RSU {j}\n")
        assert f"{scene.revenue_by_rsu(t2)[j]:.2f}" in info
        # the page holds its window only: seeking outside it stops at its edges
        assert b.evaluate("replay.seek(5); replay.time()") == pytest.approx(WINDOW[0])
        assert b.evaluate("replay.seek(290); replay.time()") == pytest.approx(WINDOW[1])
        # play for a while: time advances at the chosen speed; frame times are recorded
        b.evaluate("replay.seek(50); replay.resetStats(); replay.play()")
        b.evaluate("new Promise(r => setTimeout(r, 1500))")
        stats = b.evaluate("replay.pause(); replay.stats()")
        now = b.evaluate("replay.time()")
        speed = (WINDOW[1] - WINDOW[0]) / 30
        assert 50 + 0.5 * speed < now < 50 + 3 * speed
        assert stats["frames"] >= 10 and np.isfinite(stats["draw_ms_mean"])
        # the side panel plots every posted price (one dot per offer) and the two shares
        inked = b.evaluate("(() => { const c = document.getElementById('prices'); const d = c"
                           ".getContext('2d').getImageData(0, 0, c.width, c.height).data; "
                           "let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; "
                           "return n; })()")
        assert inked > 300
        print(f"browser frame time: {stats}")
        assert b.errors == []


def test_browser_reports_page_errors(tmp_path):
    exe = _chromium_or_skip()
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefinedFunction()</script></body></html>")
    with start_chromium(exe) as b:
        b.open(bad)
        assert any("undefinedFunction" in e for e in b.errors)
        with pytest.raises(BrowserError):
            b.evaluate("nope.nope")


def test_browser_shows_faults(faults_trace, tmp_path):
    exe = _chromium_or_skip()
    scene = load_scene(faults_trace)
    page = write_html(scene, tmp_path / "faults.html", make_timing(scene.t_start, scene.t_end))
    t = float(scene.out_t0[~scene.out_link][0]) + 0.5  # during the first RSU outage
    j = int(scene.out_a[~scene.out_link][0])
    with start_chromium(exe) as b:
        b.open(page)
        b.evaluate(f"replay.seek({t})")
        with_fault = _png(b.screenshot(tmp_path / "fault.png"))
        text = b.evaluate("document.getElementById('counters').textContent").split("\n")
        assert text[5].split()[-1] == str(scene.counters(t)["lost"]) != "0"
        b.evaluate(f"replay.seek({float(scene.out_t0[~scene.out_link][0]) - 0.01})")
        before = _png(b.screenshot())
        x, y = b.evaluate(f"replay.toPage({scene.rsu_xy[j, 0]}, {scene.rsu_xy[j, 1]})")
        cross = _box(with_fault, x, y, 9)  # the red cross over the failed RSU
        red = (cross[..., 0] > 180) & (cross[..., 1] < 90) & (cross[..., 2] < 90)
        assert red.sum() > 20
        assert not ((_box(before, x, y, 9)[..., 0] > 180)
                    & (_box(before, x, y, 9)[..., 1] < 90)).sum() > 20
        # a failed request: a red cross at its UAV, which was not there just before
        i = int(np.argmax(np.diff(np.r_[-np.inf, scene.fail_t]) > 10))  # none just before
        counts = []
        for t in (scene.fail_t[i] - 0.05, scene.fail_t[i] + 0.05):
            b.evaluate(f"replay.seek({t})")
            xyz, _ = scene.positions(t)
            u = scene.fail_uav[i]
            x, y = b.evaluate(f"replay.toPage({xyz[u, 0]}, {xyz[u, 1]})")
            counts.append(int(_red(_box(_png(b.screenshot()), x, y, 7)).sum()))
        assert counts[1] > counts[0] + 20, counts
        # a retried transfer: its packet has a cyan rim; a first attempt's packet has none
        for retry in (True, False):
            k, t = _flying_alone(scene, retry)
            b.evaluate(f"replay.seek({t})")
            idx, xy = scene.in_flight(t)
            x, y = b.evaluate(f"replay.toPage({xy[list(idx).index(k), 0]}, "
                              f"{xy[list(idx).index(k), 1]})")
            cyan = _cyan(_box(_png(b.screenshot(tmp_path / f"retry-{retry}.png")), x, y, 8))
            assert (cyan.sum() > 20) == retry, (k, t, int(cyan.sum()))
        assert b.errors == []


def _red(img: np.ndarray) -> np.ndarray:
    return (img[..., 0] > 180) & (img[..., 1] < 90) & (img[..., 2] < 90)


def _cyan(img: np.ndarray) -> np.ndarray:  # #22d3ee, the colour of a retry
    return (img[..., 0] < 110) & (img[..., 1] > 170) & (img[..., 2] > 200)


def _flying_alone(scene, retry: bool) -> tuple[int, float]:
    """A transfer (retried or not) at a time when no other packet is within 300 m of it."""
    end = np.where(np.isfinite(scene.tr_t1), scene.tr_t1, scene.t_end)
    for k in np.flatnonzero((scene.tr_retry > 0) == retry):
        t = float(0.5 * (scene.tr_t0[k] + end[k]))
        idx, xy = scene.in_flight(t)
        d = np.linalg.norm(xy - xy[list(idx).index(k)], axis=1)
        if (d < 300).sum() == 1:
            return int(k), t
    raise AssertionError(f"no lone transfer with retry={retry}")
