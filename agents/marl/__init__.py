"""Learned pricing agents: Tiny MADRL (PPO + dynamic structured pruning) for the RSUs.

Modules: ``env`` (the repeated pricing game as a PettingZoo ParallelEnv and its dynamics),
``networks`` (per-pair actor-critic, neuron masks, compaction), ``pruning`` (importance,
cubic schedule, mask updates), ``ppo`` (GAE, clipped loss, ``train``), ``checkpoint``
(weights-only files) and ``policy`` (trained agents as a ``PricingPolicy``).
"""
