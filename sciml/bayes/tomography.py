"""1-D traveltime tomography: picks, synthetic data from a layered velocity model, exact Gaussian posterior.

Model: source at ``x = 0``, receivers at ``x_i`` in ``(0, L]`` (km, e.g. depth along a borehole);
``T(x_i) = integral_0^{x_i} s(x) dx`` (s) with slowness ``s`` (s/km); Gaussian pick errors ``sigma_i`` (s).
``s`` is represented by its values on a uniform grid and integrated exactly as a piecewise-linear function, so
``T = G s`` is linear and, with a GP prior on ``s``, the posterior on the grid is exactly Gaussian
(:func:`exact_posterior`): the reference for every approximate method.

Picks files: CSV with a header, or NetCDF with variables along one dimension; required fields
``source_x`` (km), ``receiver_x`` (km), ``traveltime`` (s), ``sigma`` (s).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as sla
import torch

from sciml.bayes.fields import FieldSpec, prior_attrs, prior_from_attrs, prior_from_config
from sciml.bayes.problem import InverseProblem
from sciml.errors import InputError, bad_value
from sciml.gp import GaussianProcess
from sciml.io.text import finite_float, read_text
from sciml.units import check_plausible

if TYPE_CHECKING:
    import xarray as xr

log = logging.getLogger(__name__)
PICK_FIELDS = ("source_x", "receiver_x", "traveltime", "sigma")
PICK_UNITS = {"source_x": "km", "receiver_x": "km", "traveltime": "s", "sigma": "s"}  # what the model works in
# ak135 crust and uppermost mantle (Kennett, Engdahl & Buland 1995), depth km, Vp and Vs km/s: used when the
# model file is not available.
AK135_CRUST = np.array([
    [0.0, 5.8, 3.46], [20.0, 5.8, 3.46], [20.0, 6.5, 3.85], [35.0, 6.5, 3.85], [35.0, 8.04, 4.48],
    [77.5, 8.045, 4.49], [120.0, 8.05, 4.5]])


@dataclass
class Picks:
    """Traveltime picks (km, km, s, s) and, for synthetic data, the true slowness model."""

    source_x: np.ndarray
    receiver_x: np.ndarray
    traveltime: np.ndarray
    sigma: np.ndarray
    true_x: np.ndarray | None = None
    true_slowness: np.ndarray | None = None
    model_source: str = ""
    counts: dict[str, int] = dataclasses.field(default_factory=dict)  # rows read, identical rows merged, used


def read_velocity_model(path: str | Path, wave: str = "P") -> tuple[np.ndarray, np.ndarray]:
    """Depth (km) and velocity (km/s) nodes of a ``.tvel`` file (2 header lines, ``depth Vp Vs rho``)."""
    col = {"P": 1, "S": 2}.get(wave)
    if col is None:
        raise bad_value(str(path), "wave", wave, "expected 'P' or 'S'")
    names = ("depth_km", "vp_km_s", "vs_km_s")
    rows, lines = [], []
    for i, line in enumerate(read_text(path, ".tvel velocity model").splitlines()[2:], start=3):
        tok = line.split()
        if not tok:
            continue
        if len(tok) < 3:
            raise bad_value(f"{path}: line {i}", "row", line.strip(), "expected 'depth_km vp_km_s vs_km_s [rho]'")
        rows.append([finite_float(path, i, name, text) for name, text in zip(names, tok[:3])])
        lines.append(f"{path}:{i}")
    if not rows:
        raise bad_value(str(path), "rows", 0, "no velocity rows after the 2 header lines")
    table = np.asarray(rows)
    depth, vel = table[:, 0], table[:, col]
    back = np.nonzero(np.diff(depth) < 0)[0]
    if back.size:
        raise bad_value(lines[back[0] + 1], "depth_km", float(depth[back[0] + 1]), "depths must be non-decreasing")
    check_plausible(vel, "seismic_velocity", where=str(path), field=names[col], labels=lines)  # m/s -> stops
    return depth, vel


def layered_model(path: str | Path | None, wave: str = "P") -> tuple[np.ndarray, np.ndarray, str]:
    """Velocity nodes from ``path``; the built-in ak135 crust when ``path`` is None (an explicit choice: a
    named file that is absent is an error)."""
    if path is not None:
        if not Path(path).is_file():
            raise InputError(f"{path}: velocity model file not found (give no model for the built-in ak135 crust)")
        depth, vel = read_velocity_model(path, wave)
        return depth, vel, str(path)
    warnings.warn("no velocity model given: using the built-in ak135 crust", stacklevel=2)
    return AK135_CRUST[:, 0], AK135_CRUST[:, 1 if wave == "P" else 2], "built-in ak135 crust (Kennett et al. 1995)"


def piecewise_value(nodes: np.ndarray, values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Piecewise-linear model with discontinuities (repeated nodes); at a repeated node the deeper value."""
    x = np.asarray(x, dtype=np.float64)
    k = np.clip(np.searchsorted(nodes, x, side="right") - 1, 0, len(nodes) - 2)
    x0, x1 = nodes[k], nodes[k + 1]
    t = np.where(x1 > x0, (x - x0) / np.where(x1 > x0, x1 - x0, 1.0), 0.0)
    return (1 - t) * values[k] + t * values[k + 1]


def traveltime_operator(nodes: np.ndarray, receiver_x: np.ndarray) -> np.ndarray:
    """Matrix ``G`` (n_receivers, n_nodes): ``(G s)_i`` = exact integral from 0 to ``x_i`` of the piecewise-linear
    interpolant of the values ``s`` at ``nodes`` (non-decreasing, starting at 0; repeated nodes allowed)."""
    nodes = np.asarray(nodes, dtype=np.float64)
    xr = np.asarray(receiver_x, dtype=np.float64)
    if nodes[0] != 0.0 or np.any(np.diff(nodes) < 0):
        raise InputError("traveltime_operator: nodes must start at 0 and be non-decreasing")
    if np.any(xr < 0) or np.any(xr > nodes[-1] + 1e-12):
        raise InputError(f"traveltime_operator: receivers must lie in [0, {nodes[-1]}] km, got "
                         f"[{xr.min()}, {xr.max()}]")
    g = np.zeros((xr.size, nodes.size))
    h = np.diff(nodes)
    for i, x in enumerate(xr):
        k = int(np.clip(np.searchsorted(nodes, x, side="right") - 1, 0, nodes.size - 2))
        g[i, :k] += 0.5 * h[:k]
        g[i, 1:k + 1] += 0.5 * h[:k]
        dx = x - nodes[k]
        if dx > 0:  # partial segment: integral of the linear interpolant from nodes[k] to x
            t = dx / h[k]
            g[i, k] += dx * (1 - 0.5 * t)
            g[i, k + 1] += dx * 0.5 * t
    return g


def synthetic_picks(model_path: str | Path | None, *, length_km: float, n_receivers: int, noise_sigma: float,
                    rng: np.random.Generator, wave: str = "P") -> Picks:
    """Receivers evenly spaced on ``(0, L]``; traveltimes integrated exactly through the layered model
    (discontinuities included) plus Gaussian noise of std ``noise_sigma`` (s)."""
    for field, value in (("length_km", length_km), ("n_receivers", n_receivers), ("noise_sigma", noise_sigma)):
        if not value > 0:
            raise bad_value("tomography.synthetic", field, value, "must be positive")
    depth, vel, source = layered_model(model_path, wave)
    if depth[-1] < length_km:
        raise InputError(f"{source}: the model reaches {depth[-1]} km < length_km={length_km}")
    keep = depth < length_km
    nodes = np.append(depth[keep], length_km)
    slow = np.append(1.0 / vel[keep], 1.0 / piecewise_value(depth, vel, np.array([length_km]))[0])
    xr = length_km * np.arange(1, n_receivers + 1) / n_receivers
    t_true = traveltime_operator(nodes, xr) @ slow
    return Picks(np.zeros(n_receivers), xr, t_true + noise_sigma * rng.standard_normal(n_receivers),
                 np.full(n_receivers, float(noise_sigma)), nodes, slow, source)


def _read_table(path: Path) -> dict[str, np.ndarray]:
    if path.suffix.lower() in (".nc", ".nc4", ".netcdf"):
        from sciml.io.netcdf import read_dataset
        # converted from each variable's units attribute (e.g. traveltime in ms) or a named error
        ds = read_dataset(path, required=PICK_FIELDS, units=PICK_UNITS)
        return {k: np.asarray(ds[k].values, dtype=np.float64).ravel() for k in PICK_FIELDS}
    rows = list(csv.DictReader(io.StringIO(read_text(path, "picks CSV"), newline="")))
    if not rows:
        raise InputError(f"{path}: no picks (empty CSV)")
    missing = [k for k in PICK_FIELDS if k not in rows[0]]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}; required {list(PICK_FIELDS)}")
    out = {}
    for k in PICK_FIELDS:
        vals = []
        for i, r in enumerate(rows):
            try:
                vals.append(float(r[k]))
            except (TypeError, ValueError):
                raise bad_value(f"{path}: row {i + 1}", k, r[k], "not a number") from None
        out[k] = np.asarray(vals)
    return out


def read_picks(path: str | Path, length_km: float) -> Picks:
    """Read and validate picks from CSV or NetCDF (fields :data:`PICK_FIELDS`, km and s)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: picks file not found")
    t = _read_table(path)
    checks = (
        ("source_x", lambda v: np.abs(v) <= 1e-9, "the 1-D model puts the source at x = 0 km"),
        ("receiver_x", lambda v: (v > 0) & (v <= length_km), f"receivers must lie in (0, {length_km}] km"),
        ("traveltime", lambda v: v >= 0, "traveltimes must be >= 0 s"),
        ("sigma", lambda v: v > 0, "pick uncertainties must be > 0 s"),
    )
    for field, ok, why in checks:
        v = t[field]
        bad = np.nonzero(~np.isfinite(v) | ~ok(np.nan_to_num(v, nan=-np.inf)))[0]
        if bad.size:
            raise bad_value(f"{path}: row {bad[0] + 1}", field, v[bad[0]], why)
    rows = [f"{path}: row {i + 1}" for i in range(len(t["traveltime"]))]
    check_plausible(t["traveltime"], "traveltime", where=str(path), field="traveltime", labels=rows)
    check_plausible(t["sigma"], "traveltime_sigma", where=str(path), field="sigma", labels=rows)
    # duplicates, as in every reader: an identical repeated row is merged (counted), a conflicting one an error
    keep, first = [], {}
    for i, key in enumerate(zip(t["source_x"], t["receiver_x"])):
        if key not in first:
            first[key] = i
            keep.append(i)
            continue
        j = first[key]
        if t["traveltime"][i] != t["traveltime"][j] or t["sigma"][i] != t["sigma"][j]:
            raise bad_value(rows[i], "receiver_x", float(key[1]), f"picked again with a different traveltime or "
                            f"sigma (first at row {j + 1}): average repeated picks into one row")
    counts = {"rows": len(rows), "identical_rows_merged": len(rows) - len(keep), "used": len(keep)}
    if counts["identical_rows_merged"]:
        log.warning("%s: %d identical repeated pick row(s) merged", path, counts["identical_rows_merged"])
    k = np.asarray(keep)
    return Picks(t["source_x"][k], t["receiver_x"][k], t["traveltime"][k], t["sigma"][k], model_source=str(path),
                 counts=counts)


def grid(length_km: float, n: int) -> np.ndarray:
    """Uniform grid of ``n`` nodes on ``[0, L]`` (km) carrying the slowness."""
    if n < 3:
        raise bad_value("tomography.grid", "n", n, "need >= 3 nodes")
    return np.linspace(0.0, float(length_km), int(n))


def make_problem(picks: Picks, x: np.ndarray, prior: GaussianProcess) -> InverseProblem:
    """The linear inverse problem ``T = G s`` on the grid ``x``."""
    g = traveltime_operator(x, picks.receiver_x)
    gt = torch.as_tensor(g)

    def forward(f: torch.Tensor) -> torch.Tensor:
        return f @ gt.to(f.dtype).T

    return InverseProblem(x, picks.traveltime, picks.sigma, prior, forward, linear_operator=g)


@dataclass
class GaussianPosterior:
    """Mean (m,) and covariance (m, m) of a Gaussian posterior on the grid."""

    mean: np.ndarray
    cov: np.ndarray

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` exact draws ``(n, m)`` (eigen-factorisation: the covariance may be singular)."""
        w, v = np.linalg.eigh(0.5 * (self.cov + self.cov.T))
        return self.mean + ((v * np.sqrt(np.clip(w, 0, None))) @ rng.standard_normal((w.size, n))).T


def exact_posterior(problem: InverseProblem) -> GaussianPosterior:
    """Gaussian conditioning ``s | d`` for the linear problem (covariance form, Cholesky of ``G K G^T + S``)."""
    if problem.linear_operator is None:
        raise InputError("exact_posterior: the problem is not linear")
    g = problem.linear_operator
    chol, j = problem.prior.cholesky(problem.x)
    k = chol @ chol.T
    mu = np.full(problem.n_points, problem.prior.mean)
    kg = k @ g.T
    s = g @ kg + np.diag(problem.sigma ** 2)
    cf = sla.cho_factor(s, lower=True)
    mean = mu + kg @ sla.cho_solve(cf, problem.data - g @ mu)
    cov = k - kg @ sla.cho_solve(cf, kg.T)
    return GaussianPosterior(mean, 0.5 * (cov + cov.T))


def picks_dataset(picks: Picks, prior: GaussianProcess, length_km: float) -> "xr.Dataset":
    """``picks.nc``: receiver positions, traveltimes, sigmas; the GP prior as attributes; the true model if known."""
    import xarray as xr

    km, s = {"units": "km"}, {"units": "s"}
    ds = xr.Dataset({
        "source_x": ("pick", picks.source_x, {**km, "long_name": "source position"}),
        "receiver_x": ("pick", picks.receiver_x, {**km, "long_name": "receiver position"}),
        "traveltime": ("pick", picks.traveltime, {**s, "long_name": "observed first-arrival traveltime"}),
        "sigma": ("pick", picks.sigma, {**s, "long_name": "traveltime standard deviation"}),
    })
    if picks.true_slowness is not None:
        ds["true_slowness"] = ("model_node", picks.true_slowness,
                               {"units": "s/km", "long_name": "true slowness at the model nodes"})
        ds["model_x"] = ("model_node", picks.true_x, {**km, "long_name": "model node position"})
    ds.attrs.update(prior_attrs(prior))
    ds.attrs.update({"domain_length_km": float(length_km), "synthetic": int(picks.true_slowness is not None),
                     "data_source": picks.model_source, **{f"count_{k}": v for k, v in picks.counts.items()}})
    return ds


def problem_from_dataset(ds: "xr.Dataset", n_grid: int, source: str = "picks.nc"
                         ) -> tuple[InverseProblem, FieldSpec, np.ndarray | None]:
    """Inverse problem on a uniform ``n_grid`` grid, the field spec and the true slowness on it (or None)."""
    prior = prior_from_attrs(ds.attrs, source)
    length = float(ds.attrs.get("domain_length_km", float(ds["receiver_x"].max())))
    picks = Picks(ds["source_x"].values, ds["receiver_x"].values, ds["traveltime"].values, ds["sigma"].values)
    x = grid(length, n_grid)
    truth = None
    if "true_slowness" in ds:
        truth = piecewise_value(ds["model_x"].values, ds["true_slowness"].values, x)
    spec = FieldSpec("slowness", "s/km", "slowness", ("x",), {"x": (x, "km", "distance from the source")})
    return make_problem(picks, x, prior), spec, truth


def build_picks(cfg: dict, *, picks_path: str | None, model_path: str | None, seed: int) -> "xr.Dataset":
    """``picks.nc`` from the study config (``domain_km``, ``prior``, ``synthetic``): read ``picks_path`` when
    given, else synthetic picks through the velocity model at ``model_path`` (built-in ak135 crust when None or
    absent)."""
    prior = prior_from_config(cfg["prior"])
    length = float(cfg["domain_km"])
    if picks_path:
        picks = read_picks(picks_path, length)
    else:
        syn = cfg["synthetic"]
        picks = synthetic_picks(model_path, length_km=length, n_receivers=int(syn["n_receivers"]),
                                noise_sigma=float(syn["noise_sigma"]), rng=np.random.default_rng(seed),
                                wave=syn["wave"])
    return picks_dataset(picks, prior, length)
