"""`uavtwin train`: scenario -> PPO configuration, checkpoint and training trace."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from conftest import SCENARIOS

from agents.marl.checkpoint import load_checkpoint
from agents.marl.config import PPOConfig
from simulator.app.cli import main
from simulator.app.train import game_distribution, ppo_config
from simulator.config.loader import load_scenario
from simulator.trace.reader import TraceReader


def test_make_agents_scenario_is_the_shipped_training_configuration() -> None:
    # `make agents` must reproduce scenarios/agents/*.pt, which were trained with the
    # PPOConfig defaults and seed 7 (docs/tiny-madrl.md).
    scenario = load_scenario(SCENARIOS / "agents" / "train.yaml")
    assert ppo_config(scenario, seed=7) == replace(PPOConfig(), seed=7)
    assert ppo_config(scenario, seed=7, prune=False) == replace(PPOConfig(), seed=7,
                                                                 prune=False)


def test_game_distribution_follows_the_scenario_ranges() -> None:
    scenario = load_scenario(SCENARIOS / "default.yaml", ["rsus.cost=[2, 3]",
                                                          "uavs.follower.budget=[1, 4]"])
    dist = game_distribution(scenario)
    assert dist.cost == (2.0, 3.0) and dist.budget == (1.0, 4.0)


def test_train_cli_writes_checkpoint_and_training_trace(tmp_path, capsys) -> None:
    out = tmp_path / "agents.pt"
    code = main(["train", str(SCENARIOS / "agents" / "train.yaml"), "-o", str(out),
                 "--iterations", "3", "--seed", "1", "-q"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "uavtwin train: tiny_madrl" in printed
    # three iterations cannot reach the band; every value starts in the same column
    assert re.search(r"^  iterations to the 2% band +never$", printed, re.M)
    assert len({ln.index(ln.split()[-1]) for ln in printed.splitlines()[1:3]}) == 1
    ckpt = load_checkpoint(out)
    assert ckpt.name == "tiny_madrl"
    with TraceReader(out.with_suffix(".h5")) as r:
        it = r.read("/training/iterations")
        agents = r.read("/training/agents")
        assert r.status == "complete"
    assert it["iteration"].tolist() == [0, 1, 2]
    assert np.all(it["se_reward"] > 0)
    np.testing.assert_allclose(it["reward_ratio"], it["mean_reward"] / it["se_reward"])
    assert set(agents["iteration"].tolist()) == {0, 1, 2}
    # the held-out evaluation runs after the last update only (eval_interval 5 > 3)
    assert np.isnan(it["eval_ratio"][:2]).all()
    assert it["eval_ratio"][2] == pytest.approx(ckpt.summary["final_eval_ratio"])
