"""Baseline: Verde's ``VectorSpline2D`` (Uieda 2018; the Sandwell & Wessel 2016 elastic Green's functions).

Point forces at the stations, Green's functions of a thin elastic sheet in plane stress,
u ~ (3 - nu) ln r + (1 + nu) x^2 / r^2, with ``mindist`` as the fudge distance (gpsgridder's -Fd). These are
the point-force solutions of lap(u) + (1 + nu)/(1 - nu) grad(div u) = 0, the operator of PILM's elastic
regularisation with the same nu (checked by a finite-difference test). Verde fits by ridge regression on the
column-scaled Jacobian with weights 1/sigma^2 (``damping``); gpsgridder truncates the SVD instead. The damping
is chosen from a list by Verde's k-fold cross-validation score (R^2). Coordinates in km (the stations'
tangent plane), velocities mm/yr; strain rates from the gridded velocities by finite differences (as for
gpsgridder).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["run_verde", "verde_available"]

log = logging.getLogger(__name__)


def verde_available() -> bool:
    """True when the ``verde`` package imports."""
    try:
        import verde  # noqa: F401
    except ImportError:
        return False
    return True


def run_verde(xy_km: np.ndarray, df: pd.DataFrame, nodes_km: np.ndarray, *, poisson: float,
              mindist_km: float, dampings: Sequence[float], folds: int = 5, seed: int = 0
              ) -> tuple[np.ndarray, float, dict[float, float]]:
    """Velocities (n_nodes, 2) (mm/yr) of the VectorSpline2D fit at ``nodes_km``, the damping chosen by k-fold
    cross-validation and the CV score of each damping."""
    import verde as vd
    from sklearn.model_selection import KFold

    coords = (xy_km[:, 0], xy_km[:, 1])
    data = (df["ve"].to_numpy(), df["vn"].to_numpy())
    weights = (1.0 / df["se"].to_numpy() ** 2, 1.0 / df["sn"].to_numpy() ** 2)
    scores = {}
    cv = KFold(n_splits=folds, shuffle=True, random_state=seed)
    for dmp in dampings:
        spline = vd.VectorSpline2D(poisson=poisson, mindist=mindist_km, damping=float(dmp))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores[float(dmp)] = float(np.mean(vd.cross_val_score(spline, coords, data, weights=weights, cv=cv)))
    best = max(scores, key=scores.get)
    log.info("verde VectorSpline2D: CV scores %s, damping %.3g", scores, best)
    spline = vd.VectorSpline2D(poisson=poisson, mindist=mindist_km, damping=best)
    spline.fit(coords, data, weights=weights)
    ve, vn = spline.predict((nodes_km[:, 0], nodes_km[:, 1]))
    return np.column_stack([ve, vn]), best, scores
