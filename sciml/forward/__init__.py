"""Reference forward solvers (numpy/scipy, float64): Darcy flow, 2-D acoustic waves."""
