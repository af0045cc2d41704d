"""Tests of agents.marl.pruning and the compaction in agents.marl.networks."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.marl.networks import MaskedMLP, compact_mlp, flops_per_call
from agents.marl.pruning import PruningSchedule, neuron_importance, update_masks


def _net(sizes: list[int], seed: int = 0) -> MaskedMLP:
    torch.manual_seed(seed)
    net = MaskedMLP(sizes)
    with torch.no_grad():  # non-trivial biases too
        for layer in net.layers:
            layer.bias.normal_(0.0, 0.3)
    return net


def test_schedule_matches_closed_form() -> None:
    s = PruningSchedule(start=10, frequency=5, n_steps=4, initial_sparsity=0.1,
                        final_sparsity=0.7)
    assert s.sparsity(0) == 0.0 and s.sparsity(9) == 0.0
    for k in range(5):
        t = 10 + 5 * k
        expected = 0.7 + (0.1 - 0.7) * (1 - (t - 10) / (4 * 5)) ** 3
        assert s.sparsity(t) == pytest.approx(expected, abs=1e-12)
        if k < 4:  # held constant between updates
            assert s.sparsity(t + 4) == pytest.approx(expected, abs=1e-12)
    assert s.sparsity(30) == pytest.approx(0.7) and s.sparsity(1000) == pytest.approx(0.7)
    assert [t for t in range(40) if s.is_update_step(t)] == [10, 15, 20, 25, 30]


@given(
    start=st.integers(0, 20), freq=st.integers(1, 7), steps=st.integers(1, 12),
    w0=st.floats(0.0, 0.5), w1=st.floats(0.5, 0.95),
)
@settings(max_examples=40, deadline=None)
def test_schedule_is_monotone_between_bounds(start: int, freq: int, steps: int, w0: float,
                                             w1: float) -> None:
    s = PruningSchedule(start, freq, steps, w0, w1)
    values = [s.sparsity(t) for t in range(start + freq * steps + 5)]
    assert all(b >= a - 1e-12 for a, b in zip(values, values[1:], strict=False))
    assert values[start] == pytest.approx(w0)
    assert values[-1] == pytest.approx(w1)


@pytest.mark.parametrize("bad", [dict(frequency=0), dict(n_steps=0), dict(start=-1),
                                 dict(final_sparsity=1.0), dict(initial_sparsity=-0.1)])
def test_schedule_rejects_bad_values(bad: dict) -> None:
    with pytest.raises(ValueError, match="PruningSchedule"):
        PruningSchedule(**bad)


def test_importance_closed_form() -> None:
    net = _net([3, 4, 1])
    x = torch.randn(50, 3)
    phi = neuron_importance(net, x)[0]
    w, b = net.layers[0].weight.detach(), net.layers[0].bias.detach()
    act = torch.tanh(x @ w.T + b)
    for n in range(4):
        norm = math.sqrt(float(w[n].pow(2).sum() + b[n] ** 2))
        assert float(phi[n]) == pytest.approx(norm * float(act[:, n].abs().mean()), rel=1e-5)


def test_update_masks_prunes_least_important_first() -> None:
    net = _net([4, 6, 1])
    with torch.no_grad():  # neuron n gets incoming weights scaled by (n + 1) -> importance order
        for n in range(6):
            net.layers[0].weight[n] = 0.05 * (n + 1) * torch.ones(4)
            net.layers[0].bias[n] = 0.0
    x = torch.rand(64, 4) + 0.1
    live = update_masks(net, x, 0.5)
    assert live == [3]
    assert net.mask(0).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]


def test_masks_are_monotone_and_reach_requested_fraction() -> None:
    net = _net([5, 16, 12, 1], seed=3)
    x = torch.randn(128, 5)
    previous = [m.clone() for m in net.masks()]
    for sparsity in (0.2, 0.4, 0.6, 0.75):
        live = update_masks(net, x, sparsity)
        assert live == [16 - math.floor(sparsity * 16 + 0.5), 12 - math.floor(sparsity * 12 + 0.5)]
        for old, new in zip(previous, net.masks(), strict=True):
            assert bool((new <= old).all())  # a pruned neuron never returns
        previous = [m.clone() for m in net.masks()]


@given(seed=st.integers(0, 10_000), sparsity=st.floats(0.0, 0.9),
       widths=st.lists(st.integers(2, 20), min_size=1, max_size=3))
@settings(max_examples=25, deadline=None)
def test_compact_equals_masked_and_counts_match(seed: int, sparsity: float,
                                                widths: list[int]) -> None:
    net = _net([6, *widths, 2], seed=seed)
    x = torch.randn(32, 6, generator=torch.Generator().manual_seed(seed))
    live = update_masks(net, x, sparsity)
    small = compact_mlp(net)
    with torch.no_grad():
        assert torch.allclose(small(x), net(x), atol=1e-6, rtol=1e-5)
    # masked neurons are physically gone
    assert small.sizes == [6, *live, 2]
    for h, layer in enumerate(small.layers[:-1]):
        assert layer.weight.shape[0] == live[h]
    # parameter count matches the reported sparsity
    assert small.dense_parameters() == net.live_parameters()
    widths_live = [6, *[w - min(math.floor(sparsity * w + 0.5), w - 1) for w in widths], 2]
    expected = sum(a * b + b for a, b in zip(widths_live, widths_live[1:], strict=False))
    assert small.dense_parameters() == expected
    assert flops_per_call(small) == flops_per_call(net) <= flops_per_call(_net([6, *widths, 2]))


def test_compaction_keeps_exact_rows_and_columns() -> None:
    net = _net([3, 5, 4, 1], seed=1)
    with torch.no_grad():
        net.mask(0).copy_(torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0]))
        net.mask(1).copy_(torch.tensor([0.0, 1.0, 1.0, 0.0]))
    small = compact_mlp(net)
    keep0, keep1 = torch.tensor([0, 2, 4]), torch.tensor([1, 2])
    assert torch.equal(small.layers[0].weight, net.layers[0].weight[keep0])
    assert torch.equal(small.layers[1].weight, net.layers[1].weight[keep1][:, keep0])
    assert torch.equal(small.layers[2].weight, net.layers[2].weight[:, keep1])


def test_errors_name_the_problem() -> None:
    net = _net([3, 4, 1])
    with pytest.raises(ValueError, match="sparsity must be in"):
        update_masks(net, torch.randn(4, 3), 1.0)
    with pytest.raises(ValueError, match=r"\[B, 3\]"):
        neuron_importance(net, torch.randn(4, 2))
    with torch.no_grad():
        net.mask(0).zero_()
    with pytest.raises(ValueError, match="every neuron masked"):
        compact_mlp(net)


def test_output_importance_closed_form_and_ranking() -> None:
    """``output`` importance = ||W_{h+1}[:, n]|| * std(a_n); for one hidden layer and a scalar
    output it is exactly the RMS output change of replacing neuron n by its batch mean."""
    net = _net([4, 12, 1], seed=3)
    x = torch.randn(512, 4) + 0.7  # non-zero-mean inputs: activations have non-zero means
    a = net.hidden_activations(x)[0].detach()
    phi = neuron_importance(net, x, method="output")[0]
    expected = net.layers[1].weight[0].abs() * a.std(dim=0, unbiased=False)
    assert torch.allclose(phi, expected, atol=1e-6)
    y0 = net(x).detach()
    changes = []
    for n in range(12):
        probe = _net([4, 12, 1], seed=3)
        with torch.no_grad():
            probe.layers[1].bias += probe.layers[1].weight[:, n] * a[:, n].mean()
            probe.mask(0)[n] = 0.0
            changes.append(float((probe(x) - y0).pow(2).mean().sqrt()))
    assert torch.allclose(torch.tensor(changes), phi, atol=1e-5)
    assert int(torch.argmin(phi)) == min(range(12), key=changes.__getitem__)


def test_compensation_keeps_the_batch_mean_output() -> None:
    """One hidden layer: folding the pruned neurons' means into the output bias keeps the
    batch mean of the output exactly; without it the mean moves."""
    x = torch.randn(256, 5) + 0.5
    plain, comp = _net([5, 16, 2], seed=1), _net([5, 16, 2], seed=1)
    y0 = plain(x)
    update_masks(plain, x, 0.5)
    update_masks(comp, x, 0.5, compensate=True)
    assert plain.masks()[0].tolist() == comp.masks()[0].tolist()
    assert torch.allclose(comp(x).mean(dim=0), y0.mean(dim=0), atol=1e-5)
    assert not torch.allclose(plain(x).mean(dim=0), y0.mean(dim=0), atol=1e-3)
    assert (comp(x) - y0).pow(2).mean() < (plain(x) - y0).pow(2).mean()
    compact = compact_mlp(comp)  # still exactly compactable
    assert torch.allclose(compact(x), comp(x), atol=1e-6)


def test_unknown_importance_method_is_rejected() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        neuron_importance(_net([3, 4, 1]), torch.randn(4, 3), method="taylor")
