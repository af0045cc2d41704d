"""UAV mobility: exact piecewise-linear trajectories, their generators and their files."""
