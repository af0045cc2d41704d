"""The HTML replay: a self-contained page, opened and played in headless Chromium."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def page(scene, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "run.html"
    return write_html(scene, path, make_timing(scene.t_start, scene.t_end))


def _png(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def _box(img: np.ndarray, x: float, y: float, r: int) -> np.ndarray:
    return img[max(int(y) - r, 0):int(y) + r + 1, max(int(x) - r, 0):int(x) + r + 1]


def test_page_is_self_contained_and_small(page):
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and " src=" not in text
    assert page.stat().st_size < 200_000
    data = text.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    payload = json.loads(data)
    assert payload["uav"]["n"] == 20 and len(payload["rsu"]["x"]) == 9


def test_browser_plays_the_replay(scene, page, tmp_path):
    exe = _chromium_or_skip()
    with start_chromium(exe) as b:
        b.open(page)
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
        # the page's counters agree with analysis.replay.scene
        c2 = scene.counters(t2)
        text = b.evaluate("document.getElementById('counters').textContent").split("\n")
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
        # play for a while: time advances at the chosen speed; frame times are recorded
        b.evaluate("replay.seek(10); replay.resetStats(); replay.play()")
        b.evaluate("new Promise(r => setTimeout(r, 1500))")
        stats = b.evaluate("replay.pause(); replay.stats()")
        now = b.evaluate("replay.time()")
        speed = (scene.t_end - scene.t_start) / 30
        assert 10 + 0.5 * speed < now < 10 + 3 * speed
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
        assert b.errors == []
