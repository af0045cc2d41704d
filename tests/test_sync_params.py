"""Tests of agents.sync.params: validation and calibrated defaults."""

from __future__ import annotations

import numpy as np
import pytest

from agents.sync.params import SyncParams


def test_paper_defaults_shapes() -> None:
    p2 = SyncParams.paper_defaults(2)
    p4 = SyncParams.paper_defaults(4)
    assert p2.M == 2 and p4.M == 4
    assert p4.w.shape == (4, 4)
    np.testing.assert_allclose(p2.theta, [0.05, 0.1])
    np.testing.assert_allclose(p4.x0.sum(), 1.0)
    np.testing.assert_allclose(p2.g, p2.g0 + p2.g1 * p2.theta)
    np.testing.assert_allclose(p2.beta, np.exp(10 * p2.theta))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"x0": np.array([0.6, 0.6])}, "x0"),
        ({"delta": -0.1}, "delta"),
        ({"rho": -1.0}, "rho"),
        ({"theta": np.array([0.05, -0.1])}, "theta"),
        ({"d": np.array([80.0, 80.0, 80.0])}, "d"),
        ({"w": np.array([1.0, 0.0, 0.02, 0.0])}, "w"),
        ({"w": np.ones(3)}, "w"),
        ({"N": 0}, "N"),
        ({"leaders": (0, 1)}, "leaders"),
        ({"leaders": (5,)}, "leaders"),
        ({"intensity": np.array([1.0, -1.0])}, "intensity"),
    ],
)
def test_validation_names_field_and_value(change: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"SyncParams\.{field}"):
        SyncParams.paper_defaults(2, **change)


def test_with_vsp_value_and_subset() -> None:
    p = SyncParams.paper_defaults(4)
    q = p.with_vsp_value("w3", 0, 0.05)
    assert q.w[2, 0] == 0.05 and q.w[2, 1] == p.w[2, 1]
    r = p.with_vsp_value("theta", 1, 0.3)
    assert r.theta[1] == 0.3 and p.theta[1] == 0.1
    s = p.subset([0, 1, 2])
    assert s.M == 3
    np.testing.assert_allclose(s.x0, np.full(3, 1 / 3))
    with pytest.raises(ValueError, match="unknown per-VSP field"):
        p.with_vsp_value("nope", 0, 1.0)


def test_arrays_are_read_only() -> None:
    p = SyncParams.paper_defaults(2)
    with pytest.raises(ValueError):
        p.theta[0] = 1.0
