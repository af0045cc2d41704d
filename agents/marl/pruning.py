"""Dynamic structured pruning of hidden neurons (Tiny MADRL, paper eqs. 50-52, MODEL.md A5).

Structured pruning removes whole neurons, so the pruned network is a smaller dense network
(not a sparse one) and really runs faster. Three pieces:

* **Importance** of neuron n of hidden layer h, one of ``IMPORTANCE_METHODS``:
  ``activation``: ``phi_n^(h) = ||[W_h[n, :], b_h[n]]||_2 * mean_batch |a_h[n]|`` -- the L2
  norm of its incoming weights (and bias) times its mean absolute pre-mask activation on a
  batch of recent observations (a neuron with small incoming weights *and* little activity
  contributes little to the next layer); ``output``: ``||W_{h+1}[:, n]||_2 * std_batch
  (a_h[n])`` -- how much the next layer's input moves when the neuron is replaced by its
  mean.
* **Cubic sparsity schedule** (Zhu & Gupta, paper eq. 51):
  ``w(t) = w_final + (w_init - w_final) * (1 - (t - t0) / (n * dt))^3`` on
  ``[t0, t0 + n dt]``, evaluated on the update grid ``t0 + k dt`` (held between updates),
  0 before ``t0`` and ``w_final`` after the last step.
* **Masks** (eq. 52): at each update, in every hidden layer, the least important live
  neurons are switched off until ``round(w(t) * width)`` neurons are off. Masks are monotone
  (a pruned neuron never comes back: its weights stopped receiving gradients when it was
  masked) and at least one neuron per layer is kept. Optionally (``compensate``) a masked
  neuron's batch-mean activation is folded into the next layer's bias, so that the next
  layer's input loses only the neuron's fluctuation around its mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from agents.marl.networks import MaskedMLP

__all__ = ["IMPORTANCE_METHODS", "PruningSchedule", "neuron_importance", "update_masks"]


@dataclass(frozen=True)
class PruningSchedule:
    """Cubic gradual-pruning schedule of paper eq. 51.

    Attributes:
        start: first training step ``t0`` at which neurons are pruned.
        frequency: steps ``dt`` between mask updates (>= 1).
        n_steps: number of mask updates ``n`` until the final sparsity is reached (>= 1).
        initial_sparsity: fraction ``w_init`` of each hidden layer off at ``t0``, in [0, 1).
        final_sparsity: fraction ``w_final`` off from ``t0 + n dt`` on, in [0, 1).
    """

    start: int = 10
    frequency: int = 5
    n_steps: int = 10
    initial_sparsity: float = 0.0
    final_sparsity: float = 0.625

    def __post_init__(self) -> None:
        if self.start < 0:
            raise ValueError(f"PruningSchedule.start must be >= 0, got {self.start}")
        if self.frequency < 1:
            raise ValueError(f"PruningSchedule.frequency must be >= 1, got {self.frequency}")
        if self.n_steps < 1:
            raise ValueError(f"PruningSchedule.n_steps must be >= 1, got {self.n_steps}")
        for name in ("initial_sparsity", "final_sparsity"):
            value = getattr(self, name)
            if not (0.0 <= value < 1.0):
                raise ValueError(f"PruningSchedule.{name} must be in [0, 1), got {value}")

    @property
    def end(self) -> int:
        """Step ``t0 + n dt`` at which the final sparsity is reached."""
        return self.start + self.n_steps * self.frequency

    def sparsity(self, t: int) -> float:
        """Target fraction of neurons off at training step ``t`` (eq. 51 on the update grid).

        Args:
            t: training step (PPO update index, >= 0).

        Returns:
            0 before ``start``; ``w(t0 + k dt)`` with ``k = floor((t - t0) / dt)`` during the
            schedule; ``final_sparsity`` from ``end`` on.
        """
        if t < self.start:
            return 0.0
        if t >= self.end:
            return float(self.final_sparsity)
        k = (t - self.start) // self.frequency
        frac = 1.0 - k / self.n_steps
        return float(
            self.final_sparsity + (self.initial_sparsity - self.final_sparsity) * frac**3
        )

    def is_update_step(self, t: int) -> bool:
        """Whether masks are recomputed at step ``t`` (``t0 + k dt`` for k = 0..n)."""
        return self.start <= t <= self.end and (t - self.start) % self.frequency == 0


IMPORTANCE_METHODS = ("activation", "output")
"""Names of the neuron-importance measures (see ``neuron_importance``)."""


def neuron_importance(mlp: MaskedMLP, x: torch.Tensor,
                      method: str = "activation") -> list[torch.Tensor]:
    """Importance ``phi_n^(h)`` of every hidden neuron.

    * ``"activation"``: ``||[W_h[n, :], b_h[n]]||_2 * mean_batch |a_h[n]|`` (incoming
      weights times mean activity; see module docstring).
    * ``"output"``: ``||W_{h+1}[:, n]||_2 * std_batch(a_h[n])``, the root-mean-square change
      of layer h+1's pre-activations when the neuron is replaced by its batch mean (what
      ``update_masks`` does with ``compensate=True``).

    Args:
        mlp: the network.
        x: a batch of inputs ``[B, n_in]`` (e.g. the latest rollout's observations).
        method: one of ``IMPORTANCE_METHODS``.

    Returns:
        One non-negative tensor ``[hidden_h]`` per hidden layer; masked neurons get 0.

    Raises:
        ValueError: if ``x`` is empty or has the wrong feature width, or on an unknown method.
    """
    if method not in IMPORTANCE_METHODS:
        raise ValueError(f"neuron_importance: method must be one of {IMPORTANCE_METHODS}, "
                         f"got {method!r}")
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] != mlp.sizes[0]:
        raise ValueError(
            f"neuron_importance: expected a non-empty batch [B, {mlp.sizes[0]}], "
            f"got shape {tuple(x.shape)}"
        )
    with torch.no_grad():
        acts = mlp.hidden_activations(x)
        out: list[torch.Tensor] = []
        for h, a in enumerate(acts):
            if method == "activation":
                layer = mlp.layers[h]
                w_norm = torch.sqrt(layer.weight.pow(2).sum(dim=1) + layer.bias.pow(2))
                phi = w_norm * a.abs().mean(dim=0)
            else:
                out_norm = mlp.layers[h + 1].weight.pow(2).sum(dim=0).sqrt()
                phi = out_norm * a.std(dim=0, unbiased=False)
            out.append(phi * mlp.mask(h))
    return out


def update_masks(mlp: MaskedMLP, x: torch.Tensor, sparsity: float,
                 method: str = "activation", compensate: bool = False) -> list[int]:
    """Switch off the least important live neurons so each layer reaches ``sparsity``.

    Args:
        mlp: network whose masks are updated in place.
        x: observation batch used for the activation statistics of ``neuron_importance``.
        sparsity: target fraction of each hidden layer that is off, in [0, 1).
        method: importance measure, one of ``IMPORTANCE_METHODS``.
        compensate: fold each newly masked neuron's batch-mean activation into the next
            layer's bias (``b_{h+1} += W_{h+1}[:, n] * mean(a_n)``), so that the next
            layer's pre-activation moves only by the neuron's fluctuation around its mean
            (deeper layers see that change through their nonlinearity). The masked network
            stays exactly compactable.

    Returns:
        Number of live neurons per hidden layer after the update.

    Raises:
        ValueError: if ``sparsity`` is outside [0, 1) or ``method`` is unknown.
    """
    if not (0.0 <= sparsity < 1.0):
        raise ValueError(f"update_masks: sparsity must be in [0, 1), got {sparsity}")
    importance = neuron_importance(mlp, x, method)
    with torch.no_grad():
        for h, phi in enumerate(importance):
            mask = mlp.mask(h)
            width = mask.numel()
            n_off_target = min(int(math.floor(sparsity * width + 0.5)), width - 1)
            n_off_now = int((mask < 0.5).sum().item())
            extra = n_off_target - n_off_now
            if extra <= 0:
                continue
            # live neurons sorted by importance; ties broken by index for determinism
            live = torch.nonzero(mask > 0.5).flatten()
            order = torch.argsort(phi[live], stable=True)
            off = live[order[:extra]]
            if compensate:
                # activations of layer h given the masks as they are now (layers < h
                # already updated in this call, as the forward pass will see them)
                mean = mlp.hidden_activations(x)[h].mean(dim=0)
                nxt = mlp.layers[h + 1]
                nxt.bias += nxt.weight[:, off] @ mean[off]
            mask[off] = 0.0
    return mlp.live_neurons()
