"""The compiled fluid data plane (FluidLinks) against a from-scratch model, bit for bit.

The reference below keeps nothing incremental: after every change it counts each link's
flows by scanning every flow, recomputes the rates of the flows that share a link with the
change from those counts, and finds the next completion and the completed flows by scanning
every flow for the smallest ``(time, id)``. It settles a flow exactly when the model does
(when a flow sharing one of its links starts or ends), so the two must agree to the last bit
on every completion time, pop order, rate and bits left.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.world.fluid import FluidLinks, link_key


class ScratchFluid:
    """Flows on links, everything recomputed from the list of flows."""

    def __init__(self, caps: dict[tuple[int, int], float]) -> None:
        self.cap = {link_key(*k): c for k, c in caps.items()}
        self.now = 0.0
        self.flows: dict[int, dict] = {}

    def _rate(self, path: tuple[tuple[int, int], ...]) -> float:
        return min(self.cap[lk] / sum(lk in g["path"] for g in self.flows.values())
                   for lk in path)

    def _left(self, f: int) -> float:
        g = self.flows[f]
        return max(0.0, g["left"] - g["rate"] * (self.now - g["since"]))

    def _change(self, links: set[tuple[int, int]]) -> None:
        touched = [f for f, g in self.flows.items() if links & set(g["path"])]
        for f in touched:  # book the bits drained at the old rates first
            self.flows[f]["left"], self.flows[f]["since"] = self._left(f), self.now
        for f in touched:
            g = self.flows[f]
            g["rate"] = self._rate(g["path"])
            g["t"] = self.now + g["left"] / g["rate"]

    def add(self, f: int, links: list[tuple[int, int]], size: float, now: float) -> None:
        self.now = now
        path = tuple(dict.fromkeys(link_key(*lk) for lk in links))
        self.flows[f] = {"path": path, "size": size, "left": size, "since": now, "rate": 0.0}
        self._change(set(path))

    def remove(self, f: int, now: float) -> float:
        self.now = now
        left = self._left(f)
        path = self.flows.pop(f)["path"]
        self._change(set(path))
        return left

    def next(self) -> tuple[float, int] | None:
        return min(((g["t"], f) for f, g in self.flows.items()), default=None)

    def complete(self, now: float) -> tuple[list[int], float | None]:
        self.now = now
        slack = now + 1e-12 * max(1.0, abs(now))
        done: list[int] = []
        while len(done) < len(self.flows):
            t, f = min((g["t"], f) for f, g in self.flows.items() if f not in done)
            if t > slack and self._left(f) > 1e-9 * self.flows[f]["size"]:
                break
            done.append(f)
        links = set().union(*(self.flows[f]["path"] for f in done))
        for f in done:
            del self.flows[f]
        self._change(links)
        nxt = self.next()
        return sorted(done), None if nxt is None else nxt[0]


def random_path(rng: np.random.Generator, adj: dict[int, list[int]], n: int
                ) -> list[tuple[int, int]]:
    """A random walk of 1 to 6 steps (links may repeat, in either direction)."""
    u = int(rng.integers(n))
    while not adj[u]:
        u = int(rng.integers(n))
    walk = []
    for _ in range(int(rng.integers(1, 7))):
        v = int(rng.choice(adj[u]))
        walk.append((u, v))
        u = v
    return walk


@pytest.mark.parametrize("seed", range(30))
def test_fluid_against_from_scratch_model(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 7))
    caps = {(u, v): float(rng.choice([10.0, 100.0, rng.uniform(1.0, 1e3)]))
            for u in range(n) for v in range(u + 1, n) if rng.random() < 0.5}
    caps.setdefault((0, 1), 50.0)
    adj: dict[int, list[int]] = {u: [] for u in range(n)}
    for u, v in caps:
        adj[u].append(v)
        adj[v].append(u)
    fl, ref = FluidLinks(caps), ScratchFluid(caps)
    now, fid = float(rng.choice([0.0, 1e3, 1e6])), 0  # late clocks: a wider slack
    crowd = rng.random() < 0.3  # many flows at once: grows the slots and user lists
    for _ in range(250):
        r = rng.random()
        if r < (0.7 if crowd else 0.45):
            links = random_path(rng, adj, n)
            size = float(rng.choice([0.0, 1e-3, 100.0, 1e3, rng.uniform(0.0, 1e4)]))
            started = None
            if rng.random() < 0.5:
                fl.add(fid, links, size, now)
            else:  # along the node sequence of the walk, as the backhaul starts flows
                started = fl.start(fid, (links[0][0], *(v for _, v in links)), size, now)
            ref.add(fid, links, size, now)
            assert started is None or started == ref.next()[0]
            fid += 1
        elif r < 0.55 and ref.flows:
            f = int(rng.choice(sorted(ref.flows)))
            assert fl.remove(f, now) == ref.remove(f, now)
        elif (nxt := ref.next()) is not None:
            u = rng.random()
            if u < 0.1:  # past the completion: flows settle late (their bits clip at 0)
                now = max(now, nxt[0]) + float(rng.uniform(0.0, 2.0))
                continue
            if u < 0.5:
                now = max(now, nxt[0])
            elif u < 0.7:  # just before it: within the clock's slack or not
                now = max(now, nxt[0] - float(rng.choice([5e-13, 5e-12, 5e-11]))
                          * max(1.0, nxt[0]))
            elif u < 0.8:
                now = float(now + rng.uniform(0.0, max(0.0, nxt[0] - now)))
            assert fl.complete(now) == ref.complete(now)
        nxt = ref.next()
        assert fl.next_completion() == nxt
        assert len(fl) == len(ref.flows)
        for f in ref.flows:
            assert fl.rate(f) == ref.flows[f]["rate"]
            assert fl.remaining(f) == ref._left(f)
    for lk, load in fl.link_load().items():
        assert load <= fl.capacity[lk] * (1 + 1e-12)


def test_fluid_rejects_what_it_cannot_hold() -> None:
    fl = FluidLinks({(0, 1): 10.0})
    for bad in (-1, 2**63):
        with pytest.raises(ValueError, match=r"flow id must be in \[0, 2\*\*63\)"):
            fl.start(bad, (0, 1), 1.0, 0.0)
    with pytest.raises(TypeError):
        fl.add(1.5, [(0, 1)], 1.0, 0.0)  # type: ignore[arg-type]
    assert len(fl) == 0 and fl.next_completion() is None
