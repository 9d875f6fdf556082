"""Differentiable Okada (1992) elastic half-space dislocations: kernels, geographic layer, Green's functions,
derivatives, coseismic data readers and fault inversions (science only: the workflow steps are in
:mod:`sciml.studies.okada`, the figures in :mod:`sciml.okada.figures`)."""

from sciml.okada.derivatives import hessian, jacobian
from sciml.okada.fault import (PARAM_UNITS, RECT_PARAMS, Deformation, alpha_from, inflation_potency, point_source,
                               potency_from_moment, rectangle, rectangle_unit, stations_from_lonlat)
from sciml.okada.greens import PatchGrid, greens_matrix, patch_grid
from sciml.okada.kernels import OkadaResult, dc3d, dc3d0, dc3d_unit

__all__ = ["dc3d", "dc3d0", "dc3d_unit", "OkadaResult", "rectangle", "rectangle_unit", "point_source", "Deformation",
           "alpha_from", "potency_from_moment", "inflation_potency", "stations_from_lonlat", "RECT_PARAMS",
           "PARAM_UNITS", "jacobian", "hessian", "patch_grid", "PatchGrid", "greens_matrix"]
