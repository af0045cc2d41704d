"""Coverage from radio (MODEL.md D3): exact crossing times against closed forms and sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from simulator.world.mobility.trajectory import Trajectory
from simulator.world.radio.core import free_space_gain_db
from simulator.world.radio.coverage import RadioCoverage
from simulator.world.radio.registry import PathLoss


def _sphere_events(a: np.ndarray, b: np.ndarray, t0: float, t1: float, c: np.ndarray,
                   radius: float, first: bool) -> list[tuple[float, bool]]:
    """Segment/sphere intersection: |a + s (b - a) - c| = radius."""
    d, f = b - a, a - c
    qa, qb, qc = d @ d, 2 * d @ f, f @ f - radius ** 2
    out = [(t0, True)] if first and qc <= 0 else []
    disc = qb * qb - 4 * qa * qc
    if qa > 0 and disc > 0:
        for s, enter in (((-qb - math.sqrt(disc)) / (2 * qa), True),
                         ((-qb + math.sqrt(disc)) / (2 * qa), False)):
            if 0 < s < 1:
                out.append((t0 + s * (t1 - t0), enter))
    return out


def test_free_space_cells_are_spheres() -> None:
    """Free space with a constant threshold: the cell is a ball around the antenna."""
    f, budget = 2.4e9, 100.0
    radius = 10 ** ((budget + float(free_space_gain_db(1.0, f))) / 20)  # FSPL(radius) = L
    rsus = np.array([[0.0, 0.0, 10.0], [1500.0, 400.0, 30.0], [-900.0, 1200.0, 10.0]])
    cov = RadioCoverage(rsus, np.full(3, budget), PathLoss("free_space", frequency_hz=f),
                        (0.0, 400.0))
    rng = np.random.default_rng(1)
    n_events = 0
    for _ in range(30):
        pts = np.column_stack([rng.uniform(-2500, 2500, (6, 2)), rng.uniform(0, 400, 6)])
        times = np.concatenate([[3.0], 3.0 + np.cumsum(rng.uniform(5, 120, 5))])
        traj = Trajectory.from_samples(times, pts)
        ev = cov.crossings(traj)
        for j, c in enumerate(rsus):
            expected = [e for k in range(5) for e in _sphere_events(
                pts[k], pts[k + 1], times[k], times[k + 1], c, radius, k == 0)]
            got = [(t, e) for t, r, e in zip(ev.t, ev.rsu, ev.enter, strict=True) if r == j]
            assert len(got) == len(expected)
            for (tg, eg), (te, ee) in zip(got, expected, strict=True):
                assert eg == ee
                assert tg == pytest.approx(te, abs=2e-9)
            n_events += len(got)
    assert n_events > 30


def _dense_events(cov: RadioCoverage, traj: Trajectory, n: int = 40_001
                  ) -> list[tuple[float, int, bool]]:
    """Crossings found by dense sampling and brentq on each sign change (independent)."""
    out = []
    for k in range(traj.n_segments):
        a, b, t0, t1 = traj.p0[k], traj.p1[k], traj.t0[k], traj.t1[k]
        ts = np.linspace(t0, t1, n)
        margin = cov.margin_db(a + ((ts - t0) / (t1 - t0))[:, None] * (b - a))
        inside = margin >= 0
        if k == 0:
            out += [(t0, int(j), True) for j in np.flatnonzero(inside[0])]
        for i, j in zip(*np.nonzero(inside[1:] != inside[:-1]), strict=True):
            def g(t: float, j: int = int(j), a: np.ndarray = a, b: np.ndarray = b,
                  t0: float = t0, t1: float = t1) -> float:
                p = a + (t - t0) / (t1 - t0) * (b - a)
                return float(cov.margin_db(p[None], np.array([j]))[0])
            out.append((brentq(g, ts[i], ts[i + 1], xtol=1e-12), int(j), not inside[i, j]))
    return sorted(out)


@pytest.mark.parametrize("model, env, z_rsu, alts", [
    ("al_hourani", "urban", 10.0, (20.0, 1500.0)),
    ("al_hourani", "suburban", 10.0, (20.0, 1500.0)),
    ("uma_av", "urban", 25.0, (23.0, 300.0)),    # LoS probability jumps to 1 at 100 m
    ("rma_av", "urban", 35.0, (11.0, 300.0)),    # ... at 40 m
])
def test_climbing_and_descending_segments_match_dense_sampling(model: str, env: str,
                                                               z_rsu: float,
                                                               alts: tuple[float, float]
                                                               ) -> None:
    pl = PathLoss(model, frequency_hz=2e9, environment=env)
    rsus = np.array([[0.0, 0.0, z_rsu], [1200.0, 300.0, z_rsu]])
    budget = 105.0
    cov = RadioCoverage(rsus, np.array([budget, budget - 3]), pl, alts)
    rng = np.random.default_rng(7)
    total = 0
    for _ in range(12):
        z = rng.uniform(*alts, 3)
        pts = np.column_stack([rng.uniform(-1800, 2500, 3), rng.uniform(-600, 900, 3), z])
        traj = Trajectory.from_samples(np.array([0.0, 60.0, 130.0]), pts)
        got = cov.crossings(traj)
        expected = _dense_events(cov, traj)
        assert len(got) == len(expected)
        order = np.lexsort((got.rsu, got.t))
        for (te, je, ee), k in zip(expected, order, strict=True):
            assert (int(got.rsu[k]), bool(got.enter[k])) == (je, ee)
            assert got.t[k] == pytest.approx(te, abs=2e-9)
        total += len(got)
    assert total > 10


def test_vertical_climb_leaves_the_cell_at_the_closed_form_height() -> None:
    """Straight above the antenna in free space the cell ends at height z_rsu + radius."""
    f, budget = 2e9, 95.0
    radius = 10 ** ((budget + float(free_space_gain_db(1.0, f))) / 20)
    cov = RadioCoverage(np.array([[0.0, 0.0, 10.0]]), np.array([budget]),
                        PathLoss("free_space", frequency_hz=f), (0.0, 1000.0))
    traj = Trajectory(np.array([0.0]), np.array([100.0]), np.array([[0.0, 0.0, 0.0]]),
                      np.array([[0.0, 0.0, 1000.0]]))
    ev = cov.crossings(traj)
    assert ev.enter.tolist() == [True, False]
    assert ev.t[1] == pytest.approx((10.0 + radius) / 10.0, abs=1e-9)


def test_joints_and_hover_make_no_spurious_events() -> None:
    cov = RadioCoverage(np.array([[0.0, 0.0, 10.0]]), np.array([100.0]),
                        PathLoss("al_hourani", frequency_hz=2e9), (0.0, 500.0))
    pts = np.array([[-50.0, 0, 100], [0, 0, 100], [0, 0, 100], [50, 0, 120]])
    traj = Trajectory.from_samples(np.array([0.0, 5.0, 10.0, 15.0]), pts)
    ev = cov.crossings(traj)
    assert ev.t.tolist() == [0.0] and ev.enter.tolist() == [True]


def test_3gpp_heights_outside_the_aerial_range_are_rejected() -> None:
    with pytest.raises(ValueError, match="aerial range"):
        RadioCoverage(np.zeros((1, 3)), np.array([110.0]), PathLoss("uma_av"), (10.0, 100.0))
    cov = RadioCoverage(np.array([[0.0, 0.0, 25.0]]), np.array([110.0]), PathLoss("uma_av"),
                        (30.0, 100.0))
    low = Trajectory(np.array([0.0]), np.array([10.0]), np.array([[0.0, 0, 50]]),
                     np.array([[10.0, 0, 15]]))
    with pytest.raises(ValueError, match="15 m"):
        cov.crossings(low)
