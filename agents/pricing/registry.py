"""The registry of pricing policies: every solver's name, trace code, label and constructor.

This is the one list of pricing solvers. The scenario schema (``pricing.solver``), the trace
schema (the codes of ``/pricing/rounds/solver``), ``uavtwin game solve --solver`` and the
figures' legends all read it, so adding a policy means adding one :class:`PolicySpec` here.
Trace codes are part of the on-disk format: never renumber an entry, only append.

The learned policies need torch; their constructor imports :mod:`agents.marl.policy` when it
is called, so reading names and labels stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from agents.pricing.outcome import PricingPolicy
from agents.pricing.policies import (
    EquilibriumPolicy,
    GreedyPolicy,
    RandomPolicy,
    check_iterations,
)

__all__ = ["POLICIES", "POLICY_NAMES", "PolicySpec", "make_policy", "policy_label"]


@dataclass(frozen=True)
class PolicySpec:
    """One pricing policy.

    Attributes:
        name: scenario and command-line name (``pricing.solver``, ``--solver``).
        code: integer stored in ``/pricing/rounds/solver``.
        label: human-readable name for tables and figure legends.
        build: ``build(iterations, checkpoint, tol, max_iter) -> PricingPolicy``.
        learned: whether it needs trained agents (a checkpoint and torch).
    """

    name: str
    code: int
    label: str
    build: Callable[[int, str | None, float, int], PricingPolicy]
    learned: bool = False


def _learned(name: str) -> Callable[[int, str | None, float, int], PricingPolicy]:
    def build(iterations: int, checkpoint: str | None, tol: float, max_iter: int
              ) -> PricingPolicy:
        check_iterations(iterations)
        # torch is heavy: imported only when a learned policy is actually built
        from agents.marl.policy import load_learned_policy
        return load_learned_policy(name, checkpoint, iterations)
    return build


def _repeated(cls: type[RandomPolicy] | type[GreedyPolicy]
              ) -> Callable[[int, str | None, float, int], PricingPolicy]:
    def build(iterations: int, checkpoint: str | None, tol: float, max_iter: int
              ) -> PricingPolicy:
        check_iterations(iterations)
        return cls(iterations=iterations, tol=tol)
    return build


POLICIES: MappingProxyType[str, PolicySpec] = MappingProxyType({s.name: s for s in (
    PolicySpec("equilibrium", 0, "Equilibrium (SE)",
               lambda k, ckpt, tol, max_iter: EquilibriumPolicy(tol=tol, max_iter=max_iter)),
    PolicySpec("tiny_madrl", 1, "Tiny MADRL", _learned("tiny_madrl"), learned=True),
    PolicySpec("ppo", 2, "PPO (unpruned)", _learned("ppo"), learned=True),
    PolicySpec("greedy", 3, "Greedy", _repeated(GreedyPolicy)),
    PolicySpec("random", 4, "Random", _repeated(RandomPolicy)),
)})
"""Every pricing policy by name, in trace-code order."""

POLICY_NAMES: tuple[str, ...] = tuple(POLICIES)
"""The policy names, in trace-code order."""


def policy_label(name: str) -> str:
    """The legend label of policy ``name`` (the name itself if it is not registered)."""
    spec = POLICIES.get(name)
    return spec.label if spec else name


def make_policy(name: str, *, iterations: int = 50, checkpoint: str | None = None,
                tol: float = 1e-9, max_iter: int = 500) -> PricingPolicy:
    """Build the pricing policy called ``name``.

    Args:
        name: one of :data:`POLICY_NAMES`.
        iterations: repeated-game iterations ``K`` (random, greedy, learned policies).
        checkpoint: model file of a learned policy (None: the default under scenarios/agents).
        tol: equilibrium tolerance (and ``converged`` threshold of repeated games).
        max_iter: equilibrium sweep limit.

    Returns:
        The policy.

    Raises:
        ValueError: unknown name, bad ``iterations``, or learned policies unavailable.
    """
    spec = POLICIES.get(name)
    if spec is None:
        raise ValueError(f"unknown pricing policy {name!r}; expected one of {POLICY_NAMES}")
    try:
        return spec.build(iterations, checkpoint, tol, max_iter)
    except ImportError as err:
        raise ValueError(f"pricing policy {name!r} cannot be built: {err}") from err
