"""Neural operators (Li et al. 2021 FNO, Lu et al. 2021 DeepONet), their data sets, training and figures.

Fields are tensors ``(batch, channels, ny, nx)`` on cell-centred (Darcy) or node (wave) grids of the unit
square / a rectangle; see :mod:`sciml.forward.darcy` for the axis convention (axis -2 = y or depth z).
The workflow steps of the study live in :mod:`sciml.studies.operators` (docs/operators.md).
"""
