"""Random velocity models (m/s) for the acoustic surrogate: a mixture prior of Gaussian-process fields,
layered media, faulted layered media, each optionally under a water layer.

Models live on the nodes of a square simulation grid (``coords``, m, the same in depth z and x; arrays
``(nz, nx)``, axis 0 = depth). The layered families imitate sedimentary sections such as Marmousi: ``k``
interfaces with a common dip and an undulation, layer velocities on a random trend from ``v_top`` to
``v_bottom`` with per-layer scatter (velocity inversions included), and for ``faulted`` one fault plane
offsetting the interfaces by a throw. A water layer (``water_velocity``, flat or gently dipping sea floor)
replaces the top of a model with probability ``water``. Every draw is a function of the generator ``rng``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sciml.errors import bad_value
from sciml.gp import GaussianProcess
from sciml.operators.fields import sample_grid

FAMILIES = ("gp", "layered", "faulted")
PRIOR_FIELDS = ("families", "water", "water_depth", "water_velocity", "interfaces", "v_top", "v_bottom",
                "v_scatter", "dip", "undulation", "fault_dip", "throw")


def _interval(cfg: Mapping[str, Any], key: str) -> tuple[float, float]:
    lo, hi = (float(v) for v in cfg[key])
    if hi < lo:
        raise bad_value("operators wave prior", key, list(cfg[key]), "expected [low, high] with low <= high")
    return lo, hi


def family_draws(prior: Mapping[str, Any], count: int, rng: np.random.Generator) -> np.ndarray:
    """Family index (into :data:`FAMILIES`) of each of ``count`` models, drawn with the prior's weights."""
    w = np.array([float(prior["families"].get(f, 0.0)) for f in FAMILIES])
    unknown = sorted(set(prior["families"]) - set(FAMILIES))
    if unknown or np.any(w < 0) or w.sum() <= 0:
        raise bad_value("operators wave prior", "families", dict(prior["families"]),
                        f"expected non-negative weights of {FAMILIES}, not all zero")
    return rng.choice(len(FAMILIES), size=int(count), p=w / w.sum())


def gp_models(gen: Mapping[str, Any], coords: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """GP velocity fields: mean + depth gradient + stationary GP (``gen``: kernel, v_mean, v_std,
    length_scale, v_gradient), ``(count, n, n)``, not yet clipped."""
    gp = GaussianProcess(gen["kernel"], gen["v_std"] ** 2, gen["length_scale"], gen["v_mean"])
    v = sample_grid(gp, coords, coords, int(count), rng)
    return v + gen["v_gradient"] * (coords - coords.mean())[None, :, None]


def layered_model(prior: Mapping[str, Any], coords: np.ndarray, rng: np.random.Generator, *,
                  faulted: bool) -> np.ndarray:
    """One layered (optionally faulted) model ``(n, n)`` on the square grid ``coords`` (m)."""
    size = float(coords[-1] - coords[0])
    z, x = np.meshgrid(coords - coords[0], coords - coords[0], indexing="ij")
    lo, hi = (int(v) for v in _interval(prior, "interfaces"))
    k = int(rng.integers(lo, hi + 1))
    dip = np.tan(np.radians(rng.uniform(-1, 1) * float(prior["dip"])))
    amp = rng.uniform(0, float(prior["undulation"]))
    wavelength = rng.uniform(0.5, 2.0) * size
    depth = z - dip * (x - size / 2) - amp * np.sin(2 * np.pi * x / wavelength + rng.uniform(0, 2 * np.pi))
    if faulted:  # a fault plane through a random point; the far side is offset by the throw
        theta = np.radians(rng.uniform(*_interval(prior, "fault_dip"))) * rng.choice([-1.0, 1.0])
        x0 = rng.uniform(0.2, 0.8) * size
        side = x > x0 + z / np.tan(theta)
        depth = np.where(side, depth - rng.uniform(*_interval(prior, "throw")), depth)
    bounds = np.sort(rng.uniform(-0.1 * size, 1.1 * size, k))
    trend = np.linspace(rng.uniform(*_interval(prior, "v_top")), rng.uniform(*_interval(prior, "v_bottom")), k + 1)
    v_layers = trend + rng.normal(0.0, float(prior["v_scatter"]), k + 1)
    return v_layers[np.searchsorted(bounds, depth)]


def add_water(v: np.ndarray, prior: Mapping[str, Any], coords: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``v`` under a water layer of random depth (``water_depth``, m) with a sea floor dipping up to 5 deg."""
    z, x = np.meshgrid(coords - coords[0], coords - coords[0], indexing="ij")
    floor = rng.uniform(*_interval(prior, "water_depth")) + np.tan(np.radians(rng.uniform(-5, 5))) * (x - x.mean())
    return np.where(z < floor, float(prior["water_velocity"]), v)


def sample_velocity_models(gen: Mapping[str, Any], prior: Mapping[str, Any], coords: np.ndarray, count: int,
                           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` models of the mixture prior on the square grid ``coords`` (m), clipped to
    ``[v_min, v_max]`` of ``gen``: velocities ``(count, n, n)`` (m/s), family indices and water flags."""
    family = family_draws(prior, count, rng)
    water = rng.random(int(count)) < float(prior["water"])
    gp = gp_models(gen, coords, int(count), rng)  # drawn for every sample: one stream, any mixture
    out = np.empty_like(gp)
    for i, f in enumerate(family):
        v = gp[i] if FAMILIES[f] == "gp" else layered_model(prior, coords, rng, faulted=FAMILIES[f] == "faulted")
        out[i] = add_water(v, prior, coords, rng) if water[i] else v
    return np.clip(out, gen["v_min"], gen["v_max"]), family, water
