"""The SimPy world: UAVs, RSUs, coverage, radio, backhaul, the migration market and sensing."""
