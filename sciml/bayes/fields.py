"""The unknown field of a Bayesian study and its Gaussian-process prior as recorded in data files.

:class:`FieldSpec` names the field (variable stem, units, long name) and its grid (dims and coordinates); the
C-order flattening of one field on that grid matches the points of the study's
:class:`~sciml.bayes.problem.InverseProblem`. The GP prior travels with a study's data file as the attributes
``prior_kernel``, ``prior_variance``, ``prior_length_scale``, ``prior_mean`` (:func:`prior_attrs`,
:func:`prior_from_attrs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sciml.errors import InputError
from sciml.gp import GaussianProcess

PRIOR_ATTRS = ("prior_kernel", "prior_variance", "prior_length_scale", "prior_mean")


@dataclass
class FieldSpec:
    """The unknown field: variable stem, units, long name, grid dims/coords (name -> (values, units, long_name))
    and the shape of one field on the grid (C order matches the problem's points)."""

    name: str
    units: str
    long_name: str
    dims: tuple[str, ...]
    coords: dict[str, tuple[np.ndarray, str, str]]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.coords[d][0]) for d in self.dims)


def prior_attrs(gp: GaussianProcess) -> dict[str, object]:
    """The GP prior as data-file attributes (:data:`PRIOR_ATTRS`)."""
    return {"prior_kernel": gp.kernel, "prior_variance": gp.variance, "prior_length_scale": gp.length_scale,
            "prior_mean": gp.mean}


def prior_from_attrs(attrs: Mapping, source: str) -> GaussianProcess:
    """The GP prior recorded in a data file's attributes (``source`` names the file in errors)."""
    missing = [k for k in PRIOR_ATTRS if k not in attrs]
    if missing:
        raise InputError(f"{source}: missing attribute(s) {missing}")
    return GaussianProcess(str(attrs["prior_kernel"]), float(attrs["prior_variance"]),
                           float(attrs["prior_length_scale"]), float(attrs["prior_mean"]))


def prior_from_config(cfg: Mapping) -> GaussianProcess:
    """The GP prior of a config section ``prior`` (keys ``kernel``, ``variance``, ``length_scale``, ``mean``)."""
    return GaussianProcess(cfg["kernel"], float(cfg["variance"]), float(cfg["length_scale"]), float(cfg["mean"]))
