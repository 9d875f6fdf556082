"""The examples of the OkadaTorch paper (Someya, Yamada & Okazaki 2025; its notebooks 3-7) on sciml's kernels.

* :func:`projected_grid`, :func:`project`: a lon/lat station grid in a transverse Mercator projection (pyproj,
  WGS84, metres), as the notebooks build theirs (their x, y, ux, uy are grid east/north of that projection).
* :data:`WRAPPER_PARAMS` and :func:`wrapper_deformation`: OkadaTorch's ``OkadaWrapper`` parameter set
  (x_fault, y_fault, depth, length, width, strike, dip, rake, slip) as a function of stations and a parameter
  vector, rectangle (``length``/``width`` present) or point source (slip = potency, m^3), origin ``topleft`` or
  ``center``; :func:`outline` gives the map corners of a rectangle for figures.
* :class:`BoxPosterior` and :func:`cold_start_posterior`: notebook 7's Bayesian problem, Gaussian noise and a
  uniform prior on a box, solved from the prior's centre without the truth: projected Levenberg-Marquardt ->
  Newton on the unconstrained density -> Laplace approximation there -> batched HMC (windowed metric
  adaptation, bounded parameters by the logit transform of :class:`sciml.inference.transforms.Box`).

Units: metres, degrees, displacements in metres.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import hessian

from sciml.errors import InputError
from sciml.inference.hmc import HMCResult, hmc
from sciml.inference.transforms import Box
from sciml.okada.fault import Deformation, point_source, rectangle
from sciml.okada.inversion import FaultProblem, LMResult, levenberg_marquardt

log = logging.getLogger(__name__)
F64 = torch.float64
WRAPPER_PARAMS = ("east", "north", "depth", "length", "width", "strike", "dip", "rake", "slip")
ORIGINS = {"topleft": "top_left", "center": "centroid"}


def _transformer(lon0: float, lat0: float):
    import pyproj

    return pyproj.Transformer.from_crs(
        "EPSG:4326", f"+proj=tmerc +lon_0={lon0} +lat_0={lat0} +ellps=WGS84 +datum=WGS84 +units=m", always_xy=True)


def project(lon, lat, lon0: float, lat0: float, *, inverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Transverse Mercator (WGS84) about (lon0, lat0): lon/lat (degrees) -> x, y (m), or back if ``inverse``."""
    t = _transformer(lon0, lat0)
    direction = "INVERSE" if inverse else "FORWARD"
    a, b = t.transform(np.asarray(lon, float), np.asarray(lat, float), direction=direction)
    return np.asarray(a), np.asarray(b)


def projected_grid(lon_min: float, lon_max: float, lat_min: float, lat_max: float, spacing: float, *,
                   lon0: float | None = None, lat0: float | None = None):
    """Grid nodes every ``spacing`` degrees (both ends included, as the notebooks' ``linspace``) and their
    projected coordinates: lon, lat, x, y, each (n_lat, n_lon); centre of the box by default."""
    n_lon = int(round((lon_max - lon_min) / spacing)) + 1
    n_lat = int(round((lat_max - lat_min) / spacing)) + 1
    lon0 = 0.5 * (lon_min + lon_max) if lon0 is None else lon0
    lat0 = 0.5 * (lat_min + lat_max) if lat0 is None else lat0
    lon, lat = np.meshgrid(np.linspace(lon_min, lon_max, n_lon), np.linspace(lat_min, lat_max, n_lat))
    x, y = project(lon, lat, lon0, lat0)
    return lon, lat, x, y


def wrapper_deformation(stations: torch.Tensor, theta: torch.Tensor, *, point: bool = False,
                        origin: str = "topleft", nu: float = 0.25, derivatives: bool = True) -> Deformation:
    """OkadaWrapper's forward model: deformation at ``stations`` (..., 3) (east, north, up m; up <= 0) for
    parameters ``theta`` (..., 9) in :data:`WRAPPER_PARAMS` order (m, degrees; slip m, or the potency in m^3 for
    a point source, whose length and width are ignored). ``origin``: ``topleft`` (top corner at the start of
    the strike) or ``center`` (the rectangle's centre)."""
    if origin not in ORIGINS:
        raise InputError(f"okadatorch: origin {origin!r}: expected one of {sorted(ORIGINS)}")
    p = {k: theta[..., i, None] for i, k in enumerate(WRAPPER_PARAMS)}
    if point:
        r = p["rake"] * (math.pi / 180.0)
        return point_source(stations, east=p["east"], north=p["north"], depth=p["depth"], strike=p["strike"],
                            dip=p["dip"], potency_strike=p["slip"] * torch.cos(r),
                            potency_dip=p["slip"] * torch.sin(r), nu=nu)
    return rectangle(stations, east=p["east"], north=p["north"], depth=p["depth"], strike=p["strike"], dip=p["dip"],
                     length=p["length"], width=p["width"], rake=p["rake"], slip=p["slip"],
                     reference=ORIGINS[origin], nu=nu, derivatives=derivatives)


def outline(fault: Mapping[str, float], origin: str = "topleft") -> np.ndarray:
    """Map corners (4, 2) (east, north m) of a rectangle: top start, bottom start, bottom end, top end."""
    ss, cs = math.sin(math.radians(fault["strike"])), math.cos(math.radians(fault["strike"]))
    cd = math.cos(math.radians(fault["dip"]))
    along = np.array([ss, cs]) * fault["length"]
    down = np.array([cs, -ss]) * fault["width"] * cd
    start = np.array([fault["east"], fault["north"]])
    if origin == "center":
        start = start - 0.5 * along - 0.5 * down
    return np.array([start, start + down, start + down + along, start + along])


# ------------------------------------------------------------------------------------- notebook 7's posterior
@dataclass
class BoxPosterior:
    """Gaussian data ``obs`` (n, 3) (m) with sigma (m) at ``stations`` (n, 3), rectangle parameters in
    :data:`WRAPPER_PARAMS` order, uniform prior on ``box``."""

    stations: torch.Tensor
    obs: torch.Tensor
    sigma: float
    box: Box
    origin: str = "topleft"
    nu: float = 0.25

    def log_likelihood(self, theta: torch.Tensor) -> torch.Tensor:
        """(...,) Gaussian log-likelihood up to a constant, theta (..., 9)."""
        u = wrapper_deformation(self.stations, theta, origin=self.origin, nu=self.nu, derivatives=False).u
        return -0.5 * ((u - self.obs) ** 2).sum((-1, -2)) / self.sigma ** 2

    def neg_log_density_z(self, z: torch.Tensor) -> torch.Tensor:
        """-log p(z) of the unconstrained coordinates (likelihood, uniform prior and log-Jacobian)."""
        return -(self.log_likelihood(self.box.forward(z)) + self.box.log_abs_det_jacobian(z))

    def fault_problem(self) -> FaultProblem:
        """The same likelihood as a :class:`sciml.okada.inversion.FaultProblem` (for Levenberg-Marquardt)."""
        return FaultProblem(self.stations, self.obs, torch.full_like(self.obs, self.sigma), WRAPPER_PARAMS,
                            {"opening": 0.0}, options=dict(reference=ORIGINS[self.origin], nu=self.nu))


@dataclass
class ColdStart:
    """Result of :func:`cold_start_posterior`: LM, the unconstrained mode and Laplace factor, HMC, timings (s)."""

    lm: LMResult
    z_mode: torch.Tensor
    laplace_factor: torch.Tensor
    newton_steps: int
    hmc: HMCResult
    seconds: dict[str, float]


def _newton(f, z: torch.Tensor, *, steps: int, tol: float) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Damped Newton on a smooth scalar f (exact Hessian, step halving); returns (z, Hessian at z, steps)."""
    fz = float(f(z))
    h = None
    for k in range(steps + 1):
        g = torch.func.grad(f)(z)
        h = hessian(f)(z)
        h = 0.5 * (h + h.T)
        if k == steps:
            break
        evals, evecs = torch.linalg.eigh(h)
        step = -(evecs @ ((evecs.T @ g) / evals.abs().clamp(min=1e-8 * float(evals.abs().max()))))
        if float((g * -step).sum()) < tol:  # Newton decrement: converged
            break
        for _ in range(30):
            cand = z + step
            fc = float(f(cand))
            if math.isfinite(fc) and fc <= fz:
                break
            step = step / 2
        else:
            break
        z, fz = cand, fc
    return z, h, k


def cold_start_posterior(post: BoxPosterior, *, chains: int, warmup: int, draws: int, leapfrog: int,
                         target_accept: float = 0.8, metric: str = "dense", lm_iter: int = 100,
                         lm_tol: float = 1e-10, newton_steps: int = 20, seed: int = 0) -> ColdStart:
    """Posterior of ``post`` from the centre of its box, without the truth: projected LM on the misfit, Newton on
    -log p(z) (z unconstrained: the prior's log-Jacobian moves a bound-hugging optimum inside), Laplace factor
    at that mode, and HMC with ``chains`` batched chains started from Laplace draws, that factor as the initial
    metric, windowed metric adaptation (``warmup >= 100``) and the box handled by the transform."""
    t0 = time.perf_counter()
    box = post.box
    centre = box.forward(torch.zeros(box.dim, dtype=F64))
    lm = levenberg_marquardt(post.fault_problem(), centre, max_iter=lm_iter, tol=lm_tol, lower=box.lower,
                             upper=box.upper)
    t1 = time.perf_counter()
    z, h, k = _newton(post.neg_log_density_z, box.inverse(lm.theta, margin=1e-6), steps=newton_steps, tol=1e-10)
    evals, evecs = torch.linalg.eigh(h)
    if float(evals.min()) <= 0:
        log.warning("okadatorch: Hessian at the unconstrained mode not positive definite (min eig %.3g); "
                    "its eigenvalues are clipped", float(evals.min()))
    cov = evecs @ torch.diag(1.0 / evals.clamp(min=1e-8 * float(evals.max()))) @ evecs.T
    factor = torch.linalg.cholesky(0.5 * (cov + cov.T))
    t2 = time.perf_counter()
    gen = torch.Generator().manual_seed(int(seed))
    z0 = z + torch.randn(chains, box.dim, generator=gen, dtype=F64) @ factor.T
    res = hmc(post.log_likelihood, box.forward(z0), n_warmup=warmup, n_draws=draws, n_leapfrog=leapfrog,
              target_accept=target_accept, metric=metric, init_scale=factor, adapt_metric=True, bounds=box,
              generator=gen)
    t3 = time.perf_counter()
    log.info("okadatorch cold start: LM %d iterations (%.2f s), Newton %d steps (%.2f s), HMC %.2f s",
             lm.iterations, t1 - t0, k, t2 - t1, t3 - t2)
    return ColdStart(lm, z, factor, k, res, {"lm": t1 - t0, "laplace": t2 - t1, "hmc": t3 - t2, "total": t3 - t0})



# ------------------------------------------------------------------------------------- notebooks 6-7's data
# the true fault of notebooks 3-7 (top-left corner, OkadaWrapper units converted to m)
NOTEBOOK_FAULT = {"lon": 144.8678, "lat": 40.2224, "depth": 100.0, "length": 218e3, "width": 46e3, "strike": 189.0,
                  "dip": 60.0, "rake": 270.0, "slip": 5.62}


def notebook_observations(stations_xy: tuple[np.ndarray, np.ndarray], truth: torch.Tensor, *, sigma: float,
                          seed: int, nu: float = 0.25) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Notebooks 6-7's data: displacements (n_lat, n_lon, 3) of ``truth`` (9,) at the grid ``stations_xy``
    (x, y each (n_lat, n_lon), m) plus ``sigma`` * numpy ``default_rng(seed).standard_normal((n_lat, n_lon, 3))``
    (the notebooks' draw, same order). Returns (stations (n, 3), clean (n, 3), noisy (n, 3)), m."""
    x, y = stations_xy
    st = torch.tensor(np.stack([x.ravel(), y.ravel(), np.zeros(x.size)], -1), dtype=F64)
    clean = wrapper_deformation(st, truth, derivatives=False, nu=nu).u
    err = sigma * np.random.default_rng(seed).standard_normal((*x.shape, 3))
    return st, clean, clean + torch.tensor(err.reshape(-1, 3), dtype=F64)


# the notebooks' published results, for comparison (OkadaTorch repository, notebooks 6 and 7 as shipped)
NOTEBOOK6_ADAM = {  # Adam, 2000 iterations from the notebook's start: estimate and "std" (km, deg, m)
    "estimate": (-12.928, 23.070, 0.605, 210.423, 41.671, 189.117, 59.809, 269.585, 6.137),
    "std": (1.374, 6.492, 1.397, 16.177, 7.251, 0.226, 3.790, 4.457, 0.802),
    "loss": 2.8468874030656135}  # 0.5 sum of squared residuals (m^2) after 2000 iterations
NOTEBOOK7_NUTS_Q = {  # Pyro NUTS, 200 warm-up + 10000 draws (4 h 24 min): posterior of q = (p - p1) / (p2 - p1)
    "mean": (0.47, 0.50, 0.04, 0.66, 0.38, 0.43, 0.33, 0.50, 0.39),  # WRAPPER_PARAMS order, 2 decimals
    "std": (0.00, 0.00, 0.01, 0.00, 0.01, 0.00, 0.00, 0.00, 0.01)}


def station_derivatives(stations: torch.Tensor, theta: torch.Tensor, *, nu: float = 0.25
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Notebooks 4-5's checks: analytic displacement gradient G (n, 3, 3) (G[i, j] = d u_i / d x_j), the same by
    autograd of u, the second derivatives d G_ij / d x_j (n, 3, 3) by autograd of G and d^2 u_i / d x_j^2 by
    autograd twice of u. Stations (n, 3) m (up <= 0), theta (9,)."""
    st = stations.detach().clone().requires_grad_(True)
    d = wrapper_deformation(st, theta, nu=nu)
    ad = torch.stack([torch.autograd.grad(d.u[:, i].sum(), st, create_graph=True)[0] for i in range(3)], 1)
    dg = torch.stack([torch.stack([torch.autograd.grad(d.grad[:, i, j].sum(), st, retain_graph=True)[0][:, j]
                                   for j in range(3)], -1) for i in range(3)], 1)
    d2 = torch.stack([torch.stack([torch.autograd.grad(ad[:, i, j].sum(), st, retain_graph=True)[0][:, j]
                                   for j in range(3)], -1) for i in range(3)], 1)
    return d.grad.detach(), ad.detach(), dg, d2


def parameter_maps(stations: torch.Tensor, theta: torch.Tensor, *, component: int = 2, nu: float = 0.25
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Notebooks 4-5's parameter maps: d u_c / d theta_k and d^2 u_c / d theta_k^2 (9, n) at ``stations`` for
    the displacement component ``component`` (0 east, 1 north, 2 up), by nested forward-mode autograd (units:
    m per unit of theta_k, and per unit squared)."""
    def uc(t):
        return wrapper_deformation(stations, t, nu=nu, derivatives=False).u[:, component]

    first, second = [], []
    for k in range(theta.numel()):
        e = torch.zeros_like(theta)
        e[k] = 1.0
        g, h = torch.func.jvp(lambda t, e=e: torch.func.jvp(uc, (t,), (e,))[1], (theta,), (e,))
        first.append(g)
        second.append(h)
    return torch.stack(first), torch.stack(second)
