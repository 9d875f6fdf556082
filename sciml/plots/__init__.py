"""Figure style shared by all studies.

* :func:`style` — context with the project's fonts and sizes; :func:`new_figure` opens a figure in it.
* :func:`signed_cmap` / :func:`sequential_cmap` — diverging maps (symmetric limits) for signed fields,
  perceptually uniform maps otherwise.
* :func:`colorbar` — colour bar with a label carrying units; :func:`quiver_with_key` — vectors with a
  scale arrow; :func:`lonlat_axes` — degree tick labels on map axes.
* :func:`save_figure` — atomic PNG write with the provenance record in the PNG text metadata.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import Normalize, TwoSlopeNorm  # noqa: E402

from sciml.io.atomic import atomic_path  # noqa: E402

RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "image.cmap": "viridis",
    "axes.grid": False,
    "figure.constrained_layout.use": True,
}
SIGNED_CMAP = "RdBu_r"
SEQUENTIAL_CMAP = "viridis"
ERROR_CMAP = "magma"


@contextmanager
def style() -> Iterator[None]:
    """Apply the project style inside a ``with`` block."""
    with plt.rc_context(RC):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 3.2, height: float = 2.8, **kw: Any):
    """Figure and axes grid in the project style; ``width``/``height`` are per panel, inches."""
    with style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw)
    return fig, axes


def signed_cmap(values: Any, *, percentile: float = 100.0) -> dict[str, Any]:
    """``imshow``/``pcolormesh`` keywords for a signed field: diverging map, limits symmetric about 0."""
    v = np.asarray(values, dtype=float)
    lim = float(np.nanpercentile(np.abs(v), percentile)) if np.isfinite(v).any() else 1.0
    lim = lim if lim > 0 else 1.0
    return {"cmap": SIGNED_CMAP, "norm": TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)}


def sequential_cmap(values: Any, *, cmap: str = SEQUENTIAL_CMAP) -> dict[str, Any]:
    """Keywords for an unsigned field: perceptually uniform map over the finite data range."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return {"cmap": cmap, "norm": Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)}


def colorbar(fig: Any, mappable: Any, ax: Any, label: str) -> Any:
    """Colour bar attached to ``ax``; ``label`` must carry the units, e.g. ``"u_x (mm)"``."""
    cb = fig.colorbar(mappable, ax=ax, shrink=0.9)
    cb.set_label(label)
    return cb


def quiver_with_key(ax: Any, x: Any, y: Any, u: Any, v: Any, *, key_value: float, key_label: str, **kw: Any):
    """Vector field with a scale arrow of length ``key_value`` labelled ``key_label`` (with units)."""
    q = ax.quiver(x, y, u, v, angles="xy", **kw)
    ax.quiverkey(q, 0.85, 1.03, key_value, key_label, labelpos="E", coordinates="axes")
    return q


def lonlat_axes(ax: Any) -> None:
    """Degree labels (°E/°W, °N/°S) on a lon/lat map axis, equal-area-ish aspect."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):g}°{'E' if v >= 0 else 'W'}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):g}°{'N' if v >= 0 else 'S'}"))
    lat = np.mean(ax.get_ylim())
    ax.set_aspect(1.0 / max(np.cos(np.radians(lat)), 0.1))


def save_figure(fig: Any, path: str | os.PathLike, *, provenance: Mapping[str, Any] | None = None) -> Path:
    """Write ``fig`` as PNG atomically (temporary file, then rename) and close it."""
    path = Path(path)
    meta = {"Software": "sciml"}
    if provenance is not None:
        meta["sciml_provenance"] = json.dumps(provenance, sort_keys=True)
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png", metadata=meta)
    finally:
        plt.close(fig)
    return path
