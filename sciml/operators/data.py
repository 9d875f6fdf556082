"""Data sets of the operators study as :class:`xarray.Dataset` (written as NetCDF by the workflow).

* Darcy: GP log-permeability fields (lognormal, or thresholded to two values as in the FNO paper) and
  the pressure from :func:`sciml.forward.darcy.solve_darcy` on the unit square (dimensionless).
* Wave: GP velocity models (m/s) and the acoustic pressure snapshot of a Ricker point source from
  :func:`sciml.forward.acoustic.simulate_acoustic`; the same simulation is applied to windows of the
  Marmousi model (out of distribution) or, without that file, to a synthetic layered/faulted model.
* The published down-sampled Darcy set of the FNO paper (neuraloperator 0.3.0 ``.npz`` conversion).

Random streams: ``np.random.default_rng([seed, stream])``; a data set is a pure function of its config,
size, seed and stream (regenerating it gives identical arrays).
"""
from __future__ import annotations

import logging
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from scipy.interpolate import RegularGridInterpolator

from sciml.errors import InputError, bad_value
from sciml.forward.acoustic import greens_pressure_2d, ricker, simulate_acoustic, stable_dt
from sciml.forward.darcy import cell_centres, solve_darcy
from sciml.gp import GaussianProcess
from sciml.operators.fields import sample_grid
from sciml.progress import track

_log = logging.getLogger(__name__)

DARCY_FIELDS = ("kernel", "variance", "length_scale", "mean", "coefficient", "k_low", "k_high", "source")
WAVE_FIELDS = ("n", "dx", "refine", "kernel", "v_mean", "v_std", "length_scale", "v_gradient", "v_min", "v_max",
               "f0", "t_snapshot", "source_z", "source_x", "pml", "cfl")


def generator_fields(cfg: Mapping[str, Any], fields: tuple[str, ...], source: str) -> dict[str, Any]:
    """The generator settings ``cfg`` (a complete section: defaults live in the operators schema, see
    ``sciml.config.defaults("operators")``) in the canonical order of ``fields``; a missing or unknown key
    raises :class:`InputError` naming ``source``."""
    cfg = dict(cfg)
    unknown = sorted(set(cfg) - set(fields))
    if unknown:
        raise bad_value(source, "generator", unknown, f"unknown field(s); expected {sorted(fields)}")
    missing = [k for k in fields if k not in cfg]
    if missing:
        raise bad_value(source, "generator", missing, "missing field(s) (start from sciml.config.defaults)")
    return {k: cfg[k] for k in fields}


def _coord(dim: str, values: np.ndarray, units: str, long_name: str) -> tuple:
    return (dim, values, {"units": units, "long_name": long_name})


# ------------------------------------------------------------------------------------------------- Darcy
def darcy_log_k(field: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    """Map a GP draw to log-permeability: ``lognormal`` keeps it, ``threshold`` maps the sign to
    ``log k_high`` (field > 0) / ``log k_low`` (the piecewise-constant coefficient of Li et al. 2021)."""
    if cfg["coefficient"] == "lognormal":
        return field
    if cfg["coefficient"] == "threshold":
        return np.where(field > 0, np.log(cfg["k_high"]), np.log(cfg["k_low"]))
    raise bad_value("operators darcy config", "coefficient", cfg["coefficient"], "expected lognormal or threshold")


def darcy_inputs(cfg: Mapping[str, Any], n: int, count: int, seed: int, stream: int) -> np.ndarray:
    """``count`` log-permeability fields ``(count, n, n)`` on the cell centres (random stream ``stream``)."""
    c = generator_fields(cfg, DARCY_FIELDS, "operators darcy config")
    if int(n) < 4 or int(count) < 1:
        raise InputError(f"operators darcy config: n={n}, count={count}: need n >= 4 and count >= 1")
    rng = np.random.default_rng([int(seed), int(stream)])
    gp = GaussianProcess(c["kernel"], c["variance"], c["length_scale"], c["mean"])
    xc = cell_centres(int(n))
    return darcy_log_k(sample_grid(gp, xc, xc, int(count), rng), c)


def make_darcy_dataset(cfg: Mapping[str, Any], n: int, count: int, seed: int, stream: int = 0) -> xr.Dataset:
    """``count`` Darcy problems on an ``n x n`` cell grid: variables ``log_k`` and ``u`` over
    ``(sample, y, x)``; generation settings, seed and stream in the attributes."""
    c = generator_fields(cfg, DARCY_FIELDS, "operators darcy config")
    xc = cell_centres(int(n))
    log_k = darcy_inputs(c, n, count, seed, stream)
    u = np.stack([solve_darcy(m, float(c["source"])) for m in track(log_k, "Darcy solves", log=_log)])
    dims = ("sample", "y", "x")
    return xr.Dataset(
        {"log_k": (dims, log_k, {"units": "1", "long_name": "natural log of permeability"}),
         "u": (dims, u, {"units": "1", "long_name": "pressure (solution of -div(exp(log_k) grad u) = f)"})},
        coords={"sample": _coord("sample", np.arange(int(count)), "1", "sample index"),
                "y": _coord("y", xc, "1", "y (cell centre, unit square)"),
                "x": _coord("x", xc, "1", "x (cell centre, unit square)")},
        attrs={"problem": "darcy", "seed": int(seed), "stream": int(stream), "n": int(n),
               **{f"gen_{k}": v for k, v in c.items()}},
    )


def load_neuralop_darcy(path: str | Path) -> xr.Dataset:
    """Read one ``darcy_*.npz`` file of the neuraloperator 0.3.0 set (``x``: bool permeability mask,
    ``y``: pressure) as ``log_k`` = ``log 12`` / ``log 3`` (mask true/false, Li et al. 2021) and ``u``."""
    path = Path(path)
    try:
        with np.load(path) as z:
            mask, u = z["x"], z["y"]
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"{path}: fields 'x', 'y': cannot be read ({err})") from err
    if mask.ndim != 3 or mask.shape != u.shape or mask.shape[1] != mask.shape[2]:
        raise InputError(f"{path}: fields 'x' {mask.shape} / 'y' {u.shape}: expected equal (N, n, n) arrays")
    if not np.isfinite(u).all():
        i = tuple(int(k) for k in np.argwhere(~np.isfinite(u))[0])
        raise bad_value(f"{path} at sample {i[0]}, node {i[1:]}", "y", float(u[i]), "pressure not finite")
    n = mask.shape[1]
    xc = cell_centres(n)
    dims = ("sample", "y", "x")
    log_k = np.where(mask.astype(bool), np.log(12.0), np.log(3.0))
    return xr.Dataset(
        {"log_k": (dims, log_k, {"units": "1", "long_name": "natural log of permeability (12 / 3 from mask)"}),
         "u": (dims, u.astype(np.float64), {"units": "1", "long_name": "pressure (published data)"})},
        coords={"sample": _coord("sample", np.arange(mask.shape[0]), "1", "sample index"),
                "y": _coord("y", xc, "1", "y (grid position, unit square)"),
                "x": _coord("x", xc, "1", "x (grid position, unit square)")},
        attrs={"problem": "darcy", "source_file": str(path), "n": n},
    )


# -------------------------------------------------------------------------------------------------- wave
def wave_grid(cfg: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Node coordinates (m) of the stored grid and of the simulation grid (``refine`` x finer)."""
    n, dx, r = int(cfg["n"]), float(cfg["dx"]), int(cfg["refine"])
    return np.arange(n) * dx, np.arange((n - 1) * r + 1) * dx / r


def _source_index(c: Mapping[str, Any], nf: int) -> tuple[int, int]:
    return int(round(c["source_z"] * (nf - 1))), int(round(c["source_x"] * (nf - 1)))


def source_on_centre_line(cfg: Mapping[str, Any]) -> bool:
    """Whether the source node lies on the vertical centre line of the simulation grid (``source_x`` at its
    middle node): then the mirror x -> -x maps every (velocity, snapshot, direct wave) triple of the stored grid
    onto another one (the grid, the sponge and the stencil are symmetric), the exact symmetry behind the
    ``flip_x`` augmentation of the wave surrogate."""
    nf = wave_grid(cfg)[1].size
    return 2 * _source_index(cfg, nf)[1] == nf - 1


def simulate_snapshots(velocity_fine: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    """Pressure snapshot at ``t_snapshot`` for velocity models on the simulation grid ``(B, nf, nf)``,
    subsampled to the stored grid ``(B, n, n)``. Each model gets its own time step (Courant number ``cfl``
    at its maximum velocity), so a sample does not depend on the others in its set."""
    c = generator_fields(cfg, WAVE_FIELDS, "operators wave config")
    r = int(c["refine"])
    dxf = float(c["dx"]) / r
    src = _source_index(c, velocity_fine.shape[-1])
    out = []
    for v in velocity_fine:
        nt = int(np.ceil(c["t_snapshot"] / stable_dt(float(v.max()), dxf, float(c["cfl"]))))
        dt = c["t_snapshot"] / nt
        w = ricker(np.arange(nt + 1) * dt, float(c["f0"]))
        res = simulate_acoustic(v, dxf, dt, nt, src, w, snapshot_steps=[nt], pml=int(c["pml"]))
        out.append(res.snapshots[0, ::r, ::r])
    return np.stack(out)


@lru_cache(maxsize=8)
def _unit_greens_table(t: float, f0: float, count: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """``g(tau) = 1/(2 pi) int_0^inf s(t - tau cosh eta) d eta`` (the unit-velocity 2-D Green's function
    convolved with the Ricker ``s``, :func:`~sciml.forward.acoustic.greens_pressure_2d`) on ``tau`` in (0, t]."""
    tau = np.linspace(t / count, t, count)
    return tau, np.array([greens_pressure_2d(float(r), np.array([t]), 1.0, f0)[0] for r in tau])


def direct_wave(velocity_fine: np.ndarray, cfg: Mapping[str, Any]) -> np.ndarray:
    """Ray-theory direct wave at ``t_snapshot`` (s2 m-2) for models on the simulation grid ``(B, nf, nf)``,
    on the stored grid ``(B, n, n)``: the homogeneous-medium 2-D solution of the source velocity ``c_s``,
    ``g(T(x)) / c_s^2``, with the straight-ray time ``r / c_s`` replaced by the first-arrival time ``T(x)``
    of the model (fast marching, :func:`~sciml.forward.eikonal.fast_marching`). It carries the kinematics
    (the wavefront's position and shape) that a snapshot surrogate finds hardest to learn."""
    from sciml.forward.eikonal import Grid2D, fast_marching

    c = generator_fields(cfg, WAVE_FIELDS, "operators wave config")
    r = int(c["refine"])
    dxf = float(c["dx"]) / r
    nf = velocity_fine.shape[-1]
    iz, ix = _source_index(c, nf)
    grid = Grid2D(0.0, 0.0, dxf, dxf, nf, nf)
    tau, g = _unit_greens_table(float(c["t_snapshot"]), float(c["f0"]))
    out = []
    for v in velocity_fine:
        cs = float(v[iz, ix])
        t = fast_marching(1.0 / v, grid, (ix * dxf, iz * dxf), source_radius=5 * dxf)  # straight rays near the source
        t = np.maximum(t, 0.5 * dxf / cs)[::r, ::r]
        out.append(np.interp(t, tau, g, right=0.0) / cs**2)
    return np.stack(out)


def _wave_dataset(vel_fine: np.ndarray, c: Mapping[str, Any], attrs: Mapping[str, Any],
                  extra: Mapping[str, tuple] | None = None) -> xr.Dataset:
    r = int(c["refine"])
    p = simulate_snapshots(vel_fine, c)
    xs, _ = wave_grid(c)
    dims = ("sample", "z", "x")
    return xr.Dataset(
        {"velocity": (dims, vel_fine[:, ::r, ::r], {"units": "m s-1", "long_name": "P-wave velocity"}),
         "pressure": (dims, p, {"units": "s2 m-2", "long_name":
                                f"pressure snapshot at t = {c['t_snapshot']} s for a unit Ricker source"}),
         "direct_wave": (dims, direct_wave(vel_fine, c), {
             "units": "s2 m-2", "long_name": "ray-theory direct wave (first-arrival time, homogeneous-medium "
                                             "2-D Green's function of the source velocity)"}),
         **(extra or {})},
        coords={"sample": _coord("sample", np.arange(p.shape[0]), "1", "sample index"),
                "z": _coord("z", xs, "m", "depth"), "x": _coord("x", xs, "m", "horizontal distance")},
        attrs={"problem": "wave", **attrs, **{f"gen_{k}": v for k, v in c.items()}},
    )


def make_wave_dataset(cfg: Mapping[str, Any], prior: Mapping[str, Any], count: int, seed: int,
                      stream: int = 0) -> xr.Dataset:
    """``count`` velocity models of the mixture prior (:func:`sciml.operators.velocity.sample_velocity_models`:
    GP, layered and faulted models, optionally under water, clipped to [v_min, v_max]) and their snapshots:
    variables ``velocity`` (m/s), ``pressure``, ``direct_wave`` and ``family`` / ``water`` over ``sample``."""
    from sciml.operators.velocity import FAMILIES, PRIOR_FIELDS, sample_velocity_models

    c = generator_fields(cfg, WAVE_FIELDS, "operators wave config")
    p = generator_fields(prior, PRIOR_FIELDS, "operators wave prior")
    rng = np.random.default_rng([int(seed), int(stream)])
    _, xf = wave_grid(c)
    v, family, water = sample_velocity_models(c, p, xf, int(count), rng)
    extra = {"family": (("sample",), family.astype(np.int8), {
                 "units": "1", "long_name": "velocity-model family", "flag_values": " ".join(map(str, range(3))),
                 "flag_meanings": " ".join(FAMILIES)}),
             "water": (("sample",), water.astype(np.int8), {"units": "1", "long_name": "water layer on top (1 = yes)"})}
    return _wave_dataset(v, c, {"seed": int(seed), "stream": int(stream), "velocity_source": "mixture prior",
                                **{f"prior_{k}": json.dumps(v_) if isinstance(v_, (dict, list)) else v_
                                   for k, v_ in p.items()}}, extra)


def read_marmousi(path: str | Path, nx: int = 383, nz: int = 141) -> np.ndarray:
    """Marmousi Vp (m/s) as ``(nz, nx)`` from the raw little-endian float32 file (C-order ``(nx, nz)``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: Marmousi velocity file not found")
    raw = np.fromfile(path, dtype="<f4")
    if raw.size != nx * nz:
        raise bad_value(str(path), "size", raw.size, f"values: expected {nx} x {nz} = {nx * nz}")
    v = raw.reshape(nx, nz).T.astype(np.float64)
    if not (np.all(np.isfinite(v)) and 1000 < v.min() and v.max() < 8000):
        raise bad_value(str(path), "vp range", [float(v.min()), float(v.max())], "m/s: not a velocity model")
    return v


def synthetic_layered_model(nz: int, nx: int, dz: float, dx: float, seed: int) -> np.ndarray:
    """Marmousi-like stand-in (m/s): water layer, dipping undulating layers 1.8-4.5 km/s and a normal fault."""
    rng = np.random.default_rng([int(seed), 99])
    z = np.arange(nz)[:, None] * dz
    x = np.arange(nx)[None, :] * dx
    lx = nx * dx
    fault = np.where(x > 0.55 * lx + 0.4 * z, 150.0, 0.0)
    depth = z - 0.08 * x - fault + 40 * np.sin(2 * np.pi * x / (0.3 * lx) + rng.uniform(0, 2 * np.pi))
    bounds = np.sort(rng.uniform(300, nz * dz, 12))
    v = 1800 + 2700 * np.searchsorted(bounds, depth) / len(bounds)
    return np.where(z < 0.07 * nz * dz, 1500.0, v)


def velocity_windows(model: np.ndarray, dz: float, dx: float, cfg: Mapping[str, Any], count: int) -> np.ndarray:
    """``count`` square windows of ``model`` (``(nz, nx)``, spacing ``dz``, ``dx`` m) of the wave grid's
    size, bilinearly resampled onto the simulation grid: ``(count, nf, nf)``. Windows are spread evenly in x,
    alternating between the top (with water) and the bottom of the model."""
    c = generator_fields(cfg, WAVE_FIELDS, "operators wave config")
    _, xf = wave_grid(c)
    width = xf[-1]
    zs, xs = np.arange(model.shape[0]) * dz, np.arange(model.shape[1]) * dx
    if width > zs[-1] or width > xs[-1]:
        raise InputError(f"velocity_windows: window {width} m exceeds the model ({zs[-1]} x {xs[-1]} m)")
    interp = RegularGridInterpolator((zs, xs), model)
    out = []
    for k, x0 in enumerate(np.linspace(0.0, xs[-1] - width, int(count))):
        z0 = 0.0 if k % 2 == 0 else zs[-1] - width
        gz, gx = np.meshgrid(z0 + xf, x0 + xf, indexing="ij")
        out.append(interp(np.stack([gz, gx], axis=-1)))
    return np.stack(out)


def make_marmousi_dataset(cfg: Mapping[str, Any], count: int, path: str | Path | None, *,
                          marmousi_dx: float = 24.0, marmousi_dz: float = 21.3, seed: int = 0) -> xr.Dataset:
    """Out-of-distribution wave data: windows of the Marmousi model at ``path`` (assumed spacing
    ``marmousi_dx`` x ``marmousi_dz`` m, not stated by the source) or, if ``path`` is None, of
    :func:`synthetic_layered_model` with the same shape and spacing."""
    c = generator_fields(cfg, WAVE_FIELDS, "operators wave config")
    if path is not None:
        model, name = read_marmousi(path), f"marmousi ({path})"
    else:
        model, name = synthetic_layered_model(141, 383, marmousi_dz, marmousi_dx, seed), "synthetic layered model"
    v = velocity_windows(model, marmousi_dz, marmousi_dx, c, count)
    return _wave_dataset(v, c, {"velocity_source": name, "marmousi_dx": marmousi_dx, "marmousi_dz": marmousi_dz})
