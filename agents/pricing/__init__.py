"""The twin-migration pricing game (MODEL Part A): game, solvers, baselines, policies."""
