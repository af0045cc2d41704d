"""Actor-critic networks for the RSU pricing agents, with neuron masks and compaction.

An RSU prices every UAV that asks it for bandwidth. Because its utility ``V_j`` is a sum of
one term per UAV (MODEL.md A3), one small network applied to each (RSU, UAV) pair -- weights
shared across UAVs -- prices any number of UAVs. The network maps the pair's observation
features (own recent prices and demands, public ``q_ij, c_j, pbar_j``) to

* the actor: the mean ``mu`` of a Gaussian over an unbounded pre-squash action ``u``; the
  price is ``p = c * (pbar / c) ** sigmoid(u)`` (see ``agents.marl.env.squash_price``);
* the critic: the expected discounted reward of the pair.

Dynamic structured pruning (MODEL.md A5, paper eq. 46) multiplies each hidden layer's
activations by a binary mask ``m^(h)``. ``compact_mlp`` then *rebuilds* the network without
the masked neurons (rows of layer h, columns of layer h+1 are sliced away, Torch-Pruning
style): since a masked neuron's output is exactly zero, the compact network computes the
same function as the masked one, with fewer parameters and FLOPs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = [
    "MaskedMLP",
    "PricingActorCritic",
    "compact_mlp",
    "flops_per_call",
]


class MaskedMLP(nn.Module):
    """A tanh multilayer perceptron whose hidden neurons can be switched off by masks.

    Layer h computes ``a_h = tanh(W_h a_{h-1} + b_h) * m_h`` for the hidden layers and a plain
    affine map for the output layer. Masks are float buffers of 0/1 (saved with the weights).

    Args:
        sizes: ``[n_in, hidden_1, ..., hidden_k, n_out]`` with every entry >= 1.
        output_gain: orthogonal-init gain of the output layer (CleanRL: 0.01 actor, 1 critic).

    Raises:
        ValueError: if ``sizes`` has fewer than two entries or a non-positive entry.
    """

    def __init__(self, sizes: Sequence[int], output_gain: float = 1.0) -> None:
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MaskedMLP sizes must be >= 2 positive ints, got {sizes}")
        self.sizes: list[int] = sizes
        self.layers = nn.ModuleList(
            nn.Linear(sizes[k], sizes[k + 1]) for k in range(len(sizes) - 1)
        )
        for k, layer in enumerate(self.layers):
            gain = output_gain if k == len(self.layers) - 1 else math.sqrt(2.0)
            nn.init.orthogonal_(layer.weight, gain)
            nn.init.zeros_(layer.bias)
        for h, width in enumerate(sizes[1:-1]):
            self.register_buffer(f"mask_{h}", torch.ones(width))

    @property
    def n_hidden(self) -> int:
        """Number of hidden layers (layers that carry a mask)."""
        return len(self.sizes) - 2

    def mask(self, h: int) -> torch.Tensor:
        """The 0/1 mask of hidden layer ``h`` (0-based)."""
        return getattr(self, f"mask_{h}")

    def masks(self) -> list[torch.Tensor]:
        """All hidden-layer masks, first hidden layer first."""
        return [self.mask(h) for h in range(self.n_hidden)]

    def hidden_activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Pre-mask activations ``tanh(W_h a_{h-1} + b_h)`` of every hidden layer.

        Args:
            x: input batch ``[..., n_in]``.

        Returns:
            One tensor ``[..., hidden_h]`` per hidden layer (the masked previous layer feeds
            each one, exactly as in ``forward``).
        """
        out: list[torch.Tensor] = []
        a = x
        for h in range(self.n_hidden):
            z = torch.tanh(self.layers[h](a))
            out.append(z)
            a = z * self.mask(h)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Masked forward pass ``[..., n_in] -> [..., n_out]``."""
        a = x
        for h in range(self.n_hidden):
            a = torch.tanh(self.layers[h](a)) * self.mask(h)
        return self.layers[-1](a)

    def live_neurons(self) -> list[int]:
        """Number of unmasked neurons of each hidden layer."""
        return [int(m.sum().item()) for m in self.masks()]

    def live_parameters(self) -> int:
        """Parameter count of the network once masked neurons are removed (= compact size)."""
        widths = [self.sizes[0], *self.live_neurons(), self.sizes[-1]]
        return sum(widths[k] * widths[k + 1] + widths[k + 1] for k in range(len(widths) - 1))

    def dense_parameters(self) -> int:
        """Parameter count of the unpruned network (weights and biases)."""
        return sum(p.numel() for p in self.layers.parameters())


def compact_mlp(mlp: MaskedMLP) -> MaskedMLP:
    """Rebuild ``mlp`` without its masked hidden neurons.

    Row n of layer h (weights and bias) and column n of layer h+1 are removed for every
    masked neuron n of hidden layer h. The result has all-ones masks and computes the same
    function as the masked network (masked outputs are exactly zero, so the removed
    columns only ever multiplied zeros).

    Args:
        mlp: a network with 0/1 masks; every hidden layer must keep >= 1 neuron.

    Returns:
        A new ``MaskedMLP`` (independent parameters) with ``live_neurons()`` as widths.

    Raises:
        ValueError: if a mask is not 0/1 or switches off a whole layer.
    """
    keep: list[torch.Tensor] = []
    for h, m in enumerate(mlp.masks()):
        if not bool(((m == 0) | (m == 1)).all()):
            raise ValueError(f"compact_mlp: mask_{h} is not binary: {m.tolist()}")
        idx = torch.nonzero(m > 0.5).flatten()
        if idx.numel() == 0:
            raise ValueError(f"compact_mlp: hidden layer {h} has every neuron masked")
        keep.append(idx)
    sizes = [mlp.sizes[0], *[int(k.numel()) for k in keep], mlp.sizes[-1]]
    out = MaskedMLP(sizes)
    with torch.no_grad():
        for k, (src, dst) in enumerate(zip(mlp.layers, out.layers, strict=True)):
            w = src.weight
            b = src.bias
            if k < len(keep):  # rows of layer k = neurons of hidden layer k
                w = w[keep[k]]
                b = b[keep[k]]
            if k > 0:  # columns of layer k = neurons of hidden layer k-1
                w = w[:, keep[k - 1]]
            dst.weight.copy_(w)
            dst.bias.copy_(b)
    return out


def flops_per_call(mlp: MaskedMLP) -> int:
    """Multiply-add FLOPs (2 per weight) plus bias adds of one forward pass of the live net."""
    widths = [mlp.sizes[0], *mlp.live_neurons(), mlp.sizes[-1]]
    return sum(2 * widths[k] * widths[k + 1] for k in range(len(widths) - 1))


class PricingActorCritic(nn.Module):
    """Shared per-pair actor-critic: Gaussian actor over the pre-squash price, scalar critic.

    Args:
        n_features: size of one (RSU, UAV) pair's observation vector.
        actor_hidden: hidden widths of the actor.
        critic_hidden: hidden widths of the critic.
        init_log_std: initial log standard deviation of the Gaussian policy.
    """

    def __init__(
        self,
        n_features: int,
        actor_hidden: Sequence[int] = (64, 64),
        critic_hidden: Sequence[int] = (64, 64),
        init_log_std: float = -0.5,
    ) -> None:
        super().__init__()
        self.actor = MaskedMLP([n_features, *actor_hidden, 1], output_gain=0.01)
        self.critic = MaskedMLP([n_features, *critic_hidden, 1], output_gain=1.0)
        self.log_std = nn.Parameter(torch.full((1,), float(init_log_std)))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """Critic value ``[...]`` of observations ``[..., n_features]``."""
        return self.critic(obs).squeeze(-1)

    def action_mean(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic (mean) pre-squash action ``[...]``."""
        return self.actor(obs).squeeze(-1)

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Normal:
        """The Gaussian policy over the pre-squash action for each observation."""
        mean = self.action_mean(obs)
        return torch.distributions.Normal(mean, self.log_std.exp().expand_as(mean))

    def evaluate(
        self, obs: torch.Tensor, action: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-probability, entropy and value for given pre-squash actions.

        The price squash is a fixed bijection, so likelihood ratios in ``u`` equal those in
        price space and PPO can work on ``u`` directly.

        Returns:
            ``(logprob, entropy, value)``, each shaped like ``action``.
        """
        dist = self.distribution(obs)
        return dist.log_prob(action), dist.entropy(), self.value(obs)
