"""Antiplane strike-slip fault PINN (Okazaki et al. 2022 setting): forward and slip inversion.

Half-space ``z >= 0`` (depth, km), vertical fault on ``x = 0`` from the surface down to ``max_depth``,
out-of-plane displacement ``w(x, z)`` (m) with ``laplacian w = 0``, traction-free surface
``dw/dz = 0`` at ``z = 0``, slip (jump) ``w(0+, z) - w(0-, z) = s(z)`` and continuous traction
``dw/dx`` across ``x = 0``. The displacement discontinuity is handled explicitly: the network takes
``(x, z, sigma)`` with the side indicator ``sigma = sign(x)`` as a third input, so it can be
discontinuous across the fault plane and smooth elsewhere; fault points are evaluated on both sides
(``sigma = +-1`` at ``x = 0``). On the truncated far boundary the Robin condition
``x w_x + z w_z + w = 0`` (exact for the dipole far field ``w ~ cos(theta) / r``) replaces the
condition at infinity (``far_field: robin``; ``robin2`` uses the second-order condition
``(r d/dr + 1)(r d/dr + 3) w = 0``, exact for the dipole and the next, ``cos(3 theta) / r^3``, multipole).
``far_field: dtn`` makes the domain the half-disc ``r <= half_width_km`` and imposes the exact
Dirichlet-to-Neumann map of the exterior: outside the sources ``w = sum_n a_n cos(n phi) / r^n`` (traction-free
surface; decaying, so no ``n = 0`` term), so on ``r = R`` ``dw/dr = -sum_n n a_n(R) cos(n phi) / R`` and
``a_0(R) = 0``, with ``a_n`` the cosine coefficients of ``w(R, phi)`` (midpoint quadrature on fixed nodes,
:func:`dtn_matrix`).
Internally lengths are scaled by the locking depth ``D`` and ``w`` by the slip scale.

Tip enrichment (``tip_enrichment: true``): where the slip ends at depth ``F`` with slip ``s_F`` just above,
the displacement is singular (``grad w ~ 1 / rho``) with the local form ``s_F theta_F / (2 pi)``,
``theta_F = atan2(x, z - F)`` the angle around the tip, its branch cut along the fault (jump ``2 pi``). The
network then represents ``w - s_F theta_F / (2 pi)``, which is smooth at the tip; the coefficient is the slip at
the tip (forward: known; inversion: the slip network's ``s(F)``), so no trained weight fits the singularity
itself. The same local asymptotics as singular (XFEM-style) enrichment in finite elements.

Exact fault conditions (``hard_constraints: true``, slip inversion, :class:`_HardFaultModel`): the field is odd in
x, ``w = sign(x) [s(z) exp(-|x|) / 2 + |x| N(|x|, z^2)]`` with ``s = softplus(M(z^2)) (1 - (z / F)^2)^2``, so the
jump, the traction continuity and the traction-free surface hold by construction and only the Laplace equation,
the far field and the data are loss terms (soft conditions let the network trade them against the data: a slip
whose analytic forward misses the data by 20x the noise, issue 17).

Reference: for uniform slip ``s`` on ``0 < z < D`` (screw dislocation with its image),
``w = s / (2 pi) [atan((z + D) / x) - atan((z - D) / x)]``; surface ``w = (s / pi) atan(D / x)``.
Any slip profile is the superposition of such segments (:func:`displacement_profile`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import xarray as xr
from scipy.integrate import trapezoid

from sciml.errors import bad_value
from sciml.nn import ResidualSampler, Trainer, gradient
from sciml.nn.networks import Taylor, activation_taylor
from sciml.pinn.common import (StudyResult, build_mlp, collocation_seed_step, dtype_of, predict, rel_l2, result,
                               step_generator, train_config, uniform)


def screw_dislocation(x: np.ndarray, z: np.ndarray, slip: float, depth: float) -> np.ndarray:
    """Analytic antiplane displacement (m) of uniform ``slip`` (m) on ``0 < z < depth`` (km); x = 0 -> +-s/2."""
    x, z = np.asarray(x, float), np.asarray(z, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = slip / (2 * np.pi) * (np.arctan((z + depth) / x) - np.arctan((z - depth) / x))
    on_fault = x == 0
    return np.where(on_fault, 0.0, w)


def segment_green(x: np.ndarray, z: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Displacement (m) at ``(x, z)`` (km) of unit slip on each fault segment ``edges[k] < z < edges[k + 1]``
    (km): the screw-dislocation Green's functions, shape ``x.shape + (len(edges) - 1,)``."""
    x, z = np.asarray(x, float)[..., None], np.asarray(z, float)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = edges[:-1], edges[1:]
        seg = (np.arctan((z + b) / x) - np.arctan((z + a) / x) + np.arctan((z - a) / x) - np.arctan((z - b) / x))
    return np.nan_to_num(seg / (2 * np.pi))


def displacement_profile(x: np.ndarray, z: np.ndarray, slip_fn: Callable[[np.ndarray], np.ndarray], max_depth: float,
                         n_segments: int = 2000) -> np.ndarray:
    """Displacement (m) of a depth-varying slip ``slip_fn(z)`` (m) on ``0 < z < max_depth`` by superposing
    ``n_segments`` uniform-slip screw-dislocation segments (midpoint slip, exact as n -> inf)."""
    edges = np.linspace(0.0, max_depth, n_segments + 1)
    return segment_green(x, z, edges) @ np.asarray(slip_fn(0.5 * (edges[1:] + edges[:-1])), float)


def exact_forward_inversion(xs: np.ndarray, w_obs: np.ndarray, cfg: dict[str, Any], n_cells: int = 400
                            ) -> tuple[np.ndarray, np.ndarray]:
    """The slip inversion's loss with the exact forward in place of the PINN: ``data |G s - w|^2`` mean over
    stations, ``slip_smooth |ds/dz|^2`` and ``slip_depth (z/F)^2 s^2`` means over ``0 < z < F`` (the study's scaled
    units z / depth_km, s / slip_m, and its weights; no pde/far terms, no positivity or taper), minimised exactly
    over ``n_cells`` uniform slip cells (a linear solve). What the weights allow, independent of the network's
    convergence. Returns cell centres (km) and slip (m)."""
    D, s0, F = float(cfg["depth_km"]), float(cfg["slip_m"]), float(cfg["max_depth_km"])
    wts = cfg["train"]["weights"]
    edges = np.linspace(0.0, F, n_cells + 1)
    zc = 0.5 * (edges[1:] + edges[:-1])
    G = segment_green(xs, np.zeros_like(xs), edges) / s0            # scaled slip -> scaled displacement
    diff = (np.eye(n_cells, k=1) - np.eye(n_cells))[:-1] / (F / n_cells / D)
    A = (wts.get("data", 1.0) * G.T @ G / len(xs) + wts.get("slip_smooth", 0.0) * diff.T @ diff / (n_cells - 1)
         + wts.get("slip_depth", 0.0) * np.diag((zc / F) ** 2) / n_cells)
    return zc, s0 * np.linalg.solve(A, wts.get("data", 1.0) * G.T @ (np.asarray(w_obs) / s0) / len(xs))


def slip_profile(z: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    """True slip (m) at depth ``z`` (km): ``uniform`` (``slip_m`` above ``depth_km``) or ``tapered``
    ``slip_m * (1 - (z / depth_km)^2)`` above ``depth_km``, or ``gaussian`` centred at ``center_km`` with
    standard deviation ``width_km``."""
    kind, s0, d = cfg["shape"], float(cfg["slip_m"]), float(cfg["depth_km"])
    z = np.asarray(z, float)
    if kind == "uniform":
        return np.where(z < d, s0, 0.0)
    if kind == "tapered":
        return np.where(z < d, s0 * (1 - (z / d) ** 2), 0.0)
    if kind == "gaussian":
        return s0 * np.exp(-0.5 * ((z - float(cfg["center_km"])) / float(cfg["width_km"])) ** 2)
    raise bad_value("config pinn.fault_inversion", "shape", kind, "expected uniform, tapered or gaussian")


def tip_angle(xz: torch.Tensor, side: torch.Tensor, tip: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``theta = atan2(x, z - tip)`` and its gradient ``(n, 2)`` (harmonic, so no Laplacian); on the fault plane
    ``x = 0`` the side indicator picks the branch (``+-pi`` above the tip, 0 below)."""
    x, dz = xz[:, 0], xz[:, 1] - tip
    on = x == 0
    theta = torch.where(on, side[:, 0] * torch.pi * (dz < 0).to(x.dtype), torch.atan2(x, dz))
    rho2 = (x * x + dz * dz).clamp_min(1e-12)
    return theta, torch.stack([dz / rho2, -x / rho2], 1)


class _FaultModel(torch.nn.Module):
    """``w(x, z) = N(x, z, sign(x)) [+ s_F theta_F / (2 pi)]`` in scaled units; optional slip network
    ``s(z) = softplus(M(z))``. ``tip``: scaled depth F of the enriched tip (None: no enrichment);
    ``tip_slip``: its coefficient s_F when known (forward), else the slip network's ``s(F)``."""

    def __init__(self, net: torch.nn.Module, slip_net: torch.nn.Module | None = None, tip: float | None = None,
                 tip_slip: float | None = None):
        super().__init__()
        self.net, self.slip_net, self.tip, self.tip_slip = net, slip_net, tip, tip_slip

    def tip_coefficient(self, like: torch.Tensor) -> torch.Tensor:
        if self.tip_slip is not None:
            return like.new_tensor(self.tip_slip)
        return self.slip(like.new_tensor([[self.tip]]))[0, 0]

    def forward(self, xz: torch.Tensor, side: torch.Tensor | None = None) -> torch.Tensor:
        side = torch.sign(xz[:, :1]) if side is None else side
        w = self.net(torch.cat([xz, side], dim=1))
        if self.tip is not None:
            w = w + self.tip_coefficient(xz) / (2 * torch.pi) * tip_angle(xz, side, self.tip)[0][:, None]
        return w

    def slip(self, z: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.softplus(self.slip_net(z))

    def taylor(self, xz: torch.Tensor, side: torch.Tensor | None = None) -> Taylor:
        """``w``, ``grad w`` (n, 2) and ``laplacian w`` by forward-mode propagation (side indicator held fixed)."""
        side = torch.sign(xz[:, :1]) if side is None else side
        u, du, d2u = self.net.taylor(torch.cat([xz, side], dim=1), dims=2)
        w, dw, lap = u[:, 0], du[:, :, 0], d2u[:, :, 0].sum(1)
        if self.tip is not None:
            a = self.tip_coefficient(xz) / (2 * torch.pi)
            th, dth = tip_angle(xz, side, self.tip)
            w, dw = w + a * th, dw + a * dth
        return w, dw, lap


def _tmul(u: Taylor, v: Taylor) -> Taylor:
    """Product of two Taylor triples (value ``(n, m)``, gradient and diagonal second derivatives ``(n, d, m)``)."""
    u0, u1, u2 = u
    v0, v1, v2 = v
    return (u0 * v0, u1 * v0.unsqueeze(1) + u0.unsqueeze(1) * v1,
            u2 * v0.unsqueeze(1) + 2 * u1 * v1 + u0.unsqueeze(1) * v2)


class _HardFaultModel(torch.nn.Module):
    """Exact fault conditions (``hard_constraints: true``, inversion): with ``a = |x|`` and ``q = z^2``

    ``w(x, z) = sign(x) [s(z) exp(-a) / 2 + a N(a, q)]``,  ``s(z) = softplus(M(z^2)) (1 - (z / F)^2)^2`` (0 below F).

    The field is odd in x (the antiplane fault in a half-space has no even part), so the traction ``dw/dx`` is
    continuous across ``x = 0`` and the jump ``w(0+) - w(0-) = s(z)`` holds exactly; both ``N`` and ``s`` are
    even in z, so the traction-free surface ``dw/dz = 0`` holds exactly too; the slip vanishes smoothly (C1) at
    the bottom F of the allowed range. Only the Laplace equation, the far field and the data remain as loss terms.
    """

    def __init__(self, net: torch.nn.Module, slip_net: torch.nn.Module, max_depth: float):
        super().__init__()
        self.net, self.slip_net, self.F = net, slip_net, float(max_depth)

    def _taper(self, z: torch.Tensor) -> Taylor:
        """``(1 - (z/F)^2)^2`` for ``z < F`` (else 0) and its z derivatives, as a triple over (x, z)."""
        F2 = self.F * self.F
        inside = (z < self.F).to(z.dtype)
        u = 1 - z * z / F2
        zero = torch.zeros_like(z)
        t = u * u * inside
        dt = -4 * u * z / F2 * inside
        d2t = (8 * z * z / (F2 * F2) - 4 * u / F2) * inside
        return t, torch.stack([zero, dt], 1), torch.stack([zero, d2t], 1)

    def _slip_taylor(self, z: torch.Tensor) -> Taylor:
        zero = torch.zeros_like(z)
        q = (z * z, torch.stack([zero, 2 * z], 1), torch.stack([zero, torch.full_like(z, 2.0)], 1))
        return _tmul(activation_taylor("softplus", self.slip_net.taylor_from(q)), self._taper(z))

    def slip(self, z: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.softplus(self.slip_net(z * z)) * self._taper(z)[0]

    def forward(self, xz: torch.Tensor, side: torch.Tensor | None = None) -> torch.Tensor:
        side = torch.sign(xz[:, :1]) if side is None else side
        a, z = side * xz[:, :1], xz[:, 1:2]
        A = 0.5 * self.slip(z) * torch.exp(-a) + a * self.net(torch.cat([a, z * z], 1))
        return side * A

    def taylor(self, xz: torch.Tensor, side: torch.Tensor | None = None) -> Taylor:
        """``w``, gradient ``(n, 2)`` and Laplacian of the field (chain rule through ``|x|`` and ``z^2``)."""
        side = torch.sign(xz[:, :1]) if side is None else side
        a, z = side * xz[:, :1], xz[:, 1:2]
        zero, one = torch.zeros_like(z), torch.ones_like(z)
        at = (a, torch.stack([side, zero], 1), torch.zeros(len(a), 2, 1, dtype=a.dtype, device=a.device))
        e = torch.exp(-a)
        et = (e, torch.stack([-side * e, zero], 1), torch.stack([e, zero], 1))   # side^2 = 1
        feat = (torch.cat([a, z * z], 1), torch.stack([torch.cat([side, zero], 1), torch.cat([zero, 2 * z], 1)], 1),
                torch.stack([torch.cat([zero, zero], 1), torch.cat([zero, 2 * one], 1)], 1))
        A1 = _tmul(self._slip_taylor(z), et)
        A2 = _tmul(at, self.net.taylor_from(feat))
        w = side[:, 0] * (0.5 * A1[0] + A2[0])[:, 0]
        dw = side * (0.5 * A1[1] + A2[1])[:, :, 0]
        lap = side[:, 0] * (0.5 * A1[2] + A2[2])[:, :, 0].sum(1)
        return w, dw, lap


def dtn_matrix(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``phi_j = (j + 1/2) pi / m`` on the half circle and the matrix ``A`` with
    ``(A w)_i = sum_n n a_n cos(n phi_i)``, ``a_n = (2/m) sum_j w_j cos(n phi_j)``, 1 <= n < m:
    ``dw/dr = -(A w) / R`` is the exterior Dirichlet-to-Neumann map (exact for the first m - 1 multipoles);
    the mean ``a_0 = sum_j w_j / m`` must vanish separately."""
    phi = (np.arange(m) + 0.5) * np.pi / m
    n = np.arange(1, m)
    C = np.cos(np.outer(n, phi))                       # (modes, nodes)
    return phi, (C.T * n) @ C * (2.0 / m)


def _far_residual(model: _FaultModel, far: torch.Tensor, kind: str) -> torch.Tensor:
    """Far-field condition on the truncated boundary: ``(r d/dr + 1) w`` (robin) or
    ``(r d/dr + 1)(r d/dr + 3) w`` (robin2; nested autograd for the mixed derivative)."""
    if kind == "robin":
        uf, duf, _ = model.taylor(far)
        return (far * duf).sum(1) + uf
    p = far.detach().requires_grad_(True)
    w = model(p)[:, 0]
    rw = (p * gradient(w, p)).sum(1)
    rrw = (p * gradient(rw, p)).sum(1)
    return rrw + 4 * rw + 3 * w


def _train(cfg: dict[str, Any], *, device, seed, checkpoint, progress, slip_target: Callable | None,
           data: tuple[np.ndarray, np.ndarray] | None, source: str):
    """Shared PINN training. Scaled units: x/D, z/D, w/s_scale. ``slip_target(z_scaled)`` (forward) or ``data``."""
    dtype = dtype_of(cfg)
    L, B, F = (float(cfg[k]) / float(cfg["depth_km"]) for k in ("half_width_km", "bottom_km", "max_depth_km"))
    far_kind = cfg["far_field"]
    if far_kind == "dtn":
        B = L                                   # half-disc of radius L
    if F > B:
        raise bad_value(f"config {source}", "max_depth_km", cfg["max_depth_km"], "below 'bottom_km'")
    hard = bool(cfg.get("hard_constraints", False))
    if hard and (slip_target is not None or cfg["tip_enrichment"]):
        raise bad_value(f"config {source}", "hard_constraints", True,
                        "only for the slip inversion, without tip_enrichment")
    if hard:
        net = build_mlp(cfg["network"], 2, 1, lower=[0, 0], upper=[L, B * B], dtype=dtype, seed=seed,
                        source=f"{source}.network")
        slip_net = build_mlp(cfg["slip_network"], 1, 1, lower=[0], upper=[F * F], dtype=dtype, seed=seed + 1,
                             source=f"{source}.slip_network")
        model = _HardFaultModel(net, slip_net, F).to(device)
    else:
        net = build_mlp(cfg["network"], 3, 1, lower=[-L, 0, -1], upper=[L, B, 1], dtype=dtype, seed=seed,
                        source=f"{source}.network")
        slip_net = (build_mlp(cfg["slip_network"], 1, 1, lower=[0], upper=[F], dtype=dtype,
                              seed=seed + 1, source=f"{source}.slip_network") if slip_target is None else None)
        tip_slip = None if slip_target is None else float(slip_target(np.array([F * (1 - 1e-9)]))[0])
        model = _FaultModel(net, slip_net, tip=F if cfg["tip_enrichment"] else None, tip_slip=tip_slip).to(device)
    n_int, n_b, n_tip, r_tip = int(cfg["n_interior"]), int(cfg["n_boundary"]), int(cfg["n_tip"]), float(cfg["tip_radius_km"])
    r_tip = r_tip / float(cfg["depth_km"])
    tkw = {"dtype": dtype, "device": device}
    one = torch.ones(n_b, 1, **tkw)
    if data is not None:
        xd = torch.as_tensor(np.column_stack([data[0], np.zeros_like(data[0])]), **tkw)
        wd = torch.as_tensor(data[1], **tkw)
    tcfg = train_config(cfg, progress, source)
    inside = ((lambda p: p.square().sum(1) <= L * L) if far_kind == "dtn"
              else (lambda p: torch.ones(len(p), dtype=torch.bool, device=p.device)))
    sampler = ResidualSampler([-L, 0], [L, B], n_int, lambda m, p: m.taylor(p)[2] * inside(p), tcfg, seed=seed,
                              **tkw)
    if far_kind == "dtn":
        phi, A = dtn_matrix(max(16, 2 * (n_b // 2)))
        phi_t, A_t = torch.as_tensor(phi, **tkw), torch.as_tensor(A, **tkw)
        far_nodes = torch.stack([L * torch.cos(phi_t), L * torch.sin(phi_t)], 1)

    def far_term(m, g) -> torch.Tensor:
        if far_kind == "dtn":
            w, dw, _ = m.taylor(far_nodes)
            return ((far_nodes * dw).sum(1) / L + A_t @ w / L).pow(2).mean() * L * L + w.mean() ** 2
        # sides x = +-L and bottom z = B
        t = uniform(n_b, [0], [1], g, **tkw)
        sides = torch.cat([L * torch.sign(t[: n_b // 2] - 0.5), B * t[: n_b // 2]], 1)
        bottom = torch.cat([L * (2 * t[n_b // 2:] - 1), torch.full_like(t[n_b // 2:], B)], 1)
        return _far_residual(m, torch.cat([sides, bottom]), far_kind).pow(2).mean()

    def loss_fn(m, step):
        g = step_generator(seed, collocation_seed_step(step, tcfg), device)
        pts = sampler.points(step)
        pts = pts[inside(pts)]
        # refine near the fault: half as many points again within 1 (scaled) of the slipping patch, and n_tip
        # within tip_radius of the tip (uniform in the disc, clipped to the half-space)
        near = uniform(n_int // 2, [-1, 0], [1, min(F + 1, B)], g, **tkw)
        ru = uniform(n_tip, [0, 0], [1, 2 * torch.pi], g, **tkw)
        disc = torch.stack([r_tip * ru[:, 0].sqrt() * torch.cos(ru[:, 1]),
                            (F + r_tip * ru[:, 0].sqrt() * torch.sin(ru[:, 1])).clamp(0, B)], 1)
        _, _, lap = m.taylor(torch.cat([pts, near, disc]))
        terms = {"pde": (lap**2).mean()}
        if not hard:   # jump, traction continuity and traction-free surface as loss terms (exact when hard)
            zf = uniform(n_b, [0], [B], g, **tkw)
            xz0 = torch.cat([torch.zeros_like(zf), zf], 1)
            up, dup, _ = m.taylor(xz0, one)
            um, dum, _ = m.taylor(xz0, -one)
            on = (zf[:, 0] < F).to(dtype)
            s = (torch.as_tensor(slip_target(zf[:, 0].cpu().numpy()), **tkw) if slip_target is not None
                 else m.slip(zf)[:, 0]) * on
            xs = uniform(n_b, [-L], [L], g, **tkw)
            _, dus, _ = m.taylor(torch.cat([xs, torch.zeros_like(xs)], 1))
            terms.update({
                "jump": ((up - um - s) ** 2).mean(),
                "traction": ((dup[:, 0] - dum[:, 0]) ** 2).mean(),
                "surface": (dus[:, 1] ** 2).mean(),
            })
        terms["far"] = far_term(m, g)
        if data is not None:
            terms["data"] = ((m(xd)[:, 0] - wd) ** 2).mean()
        if m.slip_net is not None:
            # optional slip regularisation, active only when weighted in train.weights: roughness |ds/dz|^2
            # and depth-weighted damping (z/F)^2 s^2 (discourages slip leaking to the bottom of the allowed range)
            if "slip_smooth" in tcfg.weights:
                zr = uniform(n_b, [0], [F], g, **tkw).requires_grad_(True)
                dsdz = torch.autograd.grad(m.slip(zr).sum(), zr, create_graph=True)[0]
                terms["slip_smooth"] = (dsdz**2).mean()
            if "slip_depth" in tcfg.weights:
                zr = uniform(n_b, [0], [F], g, **tkw)
                terms["slip_depth"] = ((zr[:, 0] / F) ** 2 * m.slip(zr)[:, 0] ** 2).mean()
        return terms

    history = Trainer(model, loss_fn, tcfg, device=device, checkpoint=checkpoint, samplers=[sampler]).fit()
    return model, history, (L, B, F)


def _grid(cfg: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Output grid over ``output_half_width_km`` x ``output_bottom_km`` (null: the whole domain)."""
    n = int(cfg["output_points"])
    hw = float(cfg["output_half_width_km"] or cfg["half_width_km"])
    bt = float(cfg["output_bottom_km"] or cfg["bottom_km"])
    outside = (np.hypot(hw, bt) > float(cfg["half_width_km"]) if cfg["far_field"] == "dtn"
               else hw > float(cfg["half_width_km"]) or bt > float(cfg["bottom_km"]))
    if outside:
        raise bad_value("config pinn fault", "output_half_width_km/output_bottom_km", (hw, bt), "outside the domain")
    x = np.linspace(-hw, hw, 2 * (n // 2) + 2)  # even: no x = 0
    z = np.linspace(0.0, bt, n)
    return x, z


def _coords(x: np.ndarray, z: np.ndarray) -> dict[str, Any]:
    return {"x": ("x", x, {"units": "km", "long_name": "fault-normal distance"}),
            "z": ("z", z, {"units": "km", "long_name": "depth", "positive": "down"})}


def _predict_w(model, x, z, cfg, dtype, device) -> np.ndarray:
    D, s = float(cfg["depth_km"]), float(cfg["slip_m"])
    X, Z = np.meshgrid(x, z)
    pts = np.column_stack([X.ravel(), Z.ravel()]) / D
    return s * predict(model, pts, dtype=dtype, device=device)[:, 0].reshape(X.shape)


def run_forward(cfg: dict[str, Any], *, device: torch.device, seed: int, checkpoint=None,
                progress: bool = False) -> StudyResult:
    """Uniform slip on ``0 < z < depth``: PINN vs the analytic screw-dislocation (arctan) solution."""
    cfg = {**cfg, "max_depth_km": cfg["depth_km"]}
    dtype, D, s0 = dtype_of(cfg), float(cfg["depth_km"]), float(cfg["slip_m"])
    model, history, _ = _train(cfg, device=device, seed=seed, checkpoint=checkpoint, progress=progress,
                               slip_target=lambda zs: np.where(zs < 1.0, 1.0, 0.0), data=None, source="pinn.fault")
    x, z = _grid(cfg)
    X, Z = np.meshgrid(x, z)
    w = _predict_w(model, x, z, cfg, dtype, device)
    w_ref = screw_dislocation(X, Z, s0, D)
    err = w - w_ref
    near = np.hypot(X, Z - D) > 0.1 * D     # exclude the immediate tip neighbourhood for one metric
    # near the tip: a fine local grid (even node count in x: none on the fault plane) within tip_radius_km
    rt = float(cfg["tip_radius_km"])
    xt = np.linspace(-rt, rt, 82)
    zt = np.linspace(max(0.0, D - rt), D + rt, 81)
    Xt, Zt = np.meshgrid(xt, zt)
    disc = np.hypot(Xt, Zt - D) <= rt
    w_tip = _predict_w(model, xt, zt, cfg, dtype, device)[disc]
    w_tip_ref = screw_dislocation(Xt, Zt, s0, D)[disc]
    metrics = {
        "rel_l2": (rel_l2(w, w_ref), "1", "relative L2 error vs analytic screw dislocation"),
        "rel_l2_tip": (rel_l2(w_tip, w_tip_ref), "1",
                       f"relative L2 error within {rt:g} km of the fault tip (fine local grid)"),
        "max_abs_error_tip": (float(np.abs(w_tip - w_tip_ref).max()), "m",
                              f"maximum absolute displacement error within {rt:g} km of the tip"),
        "rel_l2_surface": (rel_l2(w[0], w_ref[0]), "1", "relative L2 error of surface displacement"),
        "rel_l2_away_from_tip": (rel_l2(w[near], w_ref[near]), "1", "relative L2 error beyond 0.1 D of the fault tip"),
        "max_abs_error": (float(np.abs(err).max()), "m", "maximum absolute displacement error"),
        "threshold_rel_l2": (float(cfg["threshold_rel_l2"]), "1", "stated relative L2 error threshold"),
        "threshold_rel_l2_tip": (float(cfg["threshold_rel_l2_tip"]), "1",
                                 "stated relative L2 error threshold near the tip"),
    }
    ds = xr.Dataset({
        "displacement_pinn": (("z", "x"), w, {"units": "m", "long_name": "antiplane displacement (PINN)"}),
        "displacement_reference": (("z", "x"), w_ref, {"units": "m", "long_name": "analytic screw-dislocation displacement"}),
        "displacement_error": (("z", "x"), err, {"units": "m", "long_name": "PINN minus analytic displacement"}),
    }, coords=_coords(x, z), attrs={"locking_depth_km": D, "slip_m": s0})
    return result(ds, metrics, history, model.state_dict())


def slip_inversion_data(cfg: dict[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The slip inversion's synthetic data: ``n_stations`` surface stations uniform (seeded) in
    ``|x| <= station_extent_km``, sorted, their displacement by the true slip (analytic superposition) plus
    Gaussian noise ``noise_m``. Returns station x (km), observed displacement (m), the noise drawn (m)."""
    rng = np.random.default_rng(seed)
    xs = np.sort(rng.uniform(-float(cfg["station_extent_km"]), float(cfg["station_extent_km"]), int(cfg["n_stations"])))
    w_true = displacement_profile(xs, np.zeros_like(xs), lambda zz: slip_profile(zz, cfg), float(cfg["max_depth_km"]))
    noise = float(cfg["noise_m"]) * rng.standard_normal(len(xs))
    return xs, w_true + noise, noise


def run_slip_inversion(cfg: dict[str, Any], *, device: torch.device, seed: int, checkpoint=None,
                       progress: bool = False) -> StudyResult:
    """Recover ``s(z)`` from noisy surface displacements (synthetics by analytic superposition)."""
    dtype, D, s0 = dtype_of(cfg), float(cfg["depth_km"]), float(cfg["slip_m"])
    Fk, sigma = float(cfg["max_depth_km"]), float(cfg["noise_m"])
    xs, w_obs, noise = slip_inversion_data(cfg, seed)
    n_st = len(xs)
    true_slip = lambda zz: slip_profile(zz, cfg)  # noqa: E731
    model, history, (L, B, F) = _train(cfg, device=device, seed=seed, checkpoint=checkpoint, progress=progress,
                                       slip_target=None, data=(xs / D, w_obs / s0), source="pinn.fault_inversion")
    zprof = np.linspace(0.0, Fk, int(cfg["output_points"]))
    s_pinn = s0 * predict(model.slip, (zprof / D)[:, None], dtype=dtype, device=device)[:, 0]
    s_true = true_slip(zprof)
    w_fit = s0 * predict(model, np.column_stack([xs / D, np.zeros_like(xs)]), dtype=dtype, device=device)[:, 0]
    # independent check: surface displacement of the recovered slip by analytic superposition
    w_recovered = displacement_profile(xs, np.zeros_like(xs), lambda zz: np.interp(zz, zprof, s_pinn), Fk)
    rms = lambda a: float(np.sqrt(np.mean(np.square(a))))  # noqa: E731
    z_ex, s_ex = exact_forward_inversion(xs, w_obs, cfg)
    w_ex = displacement_profile(xs, np.zeros_like(xs), lambda zz: np.interp(zz, z_ex, s_ex), Fk)
    metrics = {
        "slip_rel_l2": (rel_l2(s_pinn, s_true), "1", "relative L2 error of recovered slip"),
        "moment_ratio": (float(trapezoid(s_pinn, zprof) / trapezoid(s_true, zprof)), "1",
                         "recovered / true potency (integrated slip)"),
        "misfit_rms_network": (rms(w_fit - w_obs), "m", "RMS surface misfit of the PINN displacement"),
        "misfit_rms_analytic": (rms(w_recovered - w_obs), "m", "RMS misfit of the recovered slip (analytic forward)"),
        "noise_m": (sigma, "m", "standard deviation of the synthetic noise"),
        "misfit_rms_true": (rms(noise), "m", "RMS misfit of the true slip (the noise drawn)"),
        "misfit_ratio": (rms(w_recovered - w_obs) / max(rms(noise), 1e-300), "1",
                         "RMS misfit of the recovered slip (analytic forward) over that of the true slip"),
        "slip_rel_l2_exact_forward": (rel_l2(np.interp(zprof, z_ex, s_ex), s_true), "1",
                                      "relative L2 slip error of the same loss with the exact forward (linear solve)"),
        "misfit_ratio_exact_forward": (rms(w_ex - w_obs) / max(rms(noise), 1e-300), "1",
                                       "misfit ratio of the same loss with the exact forward (what the weights allow)"),
        "threshold_slip_rel_l2": (float(cfg["threshold_slip_rel_l2"]), "1", "stated slip error threshold"),
        "threshold_misfit_ratio": (float(cfg["threshold_misfit_ratio"]), "1",
                                   "stated bound on the misfit ratio (misfit at the noise level)"),
    }
    x, z = _grid(cfg)
    X, Z = np.meshgrid(x, z)
    w = _predict_w(model, x, z, cfg, dtype, device)
    w_ref = displacement_profile(X, Z, true_slip, Fk, n_segments=400)
    ds = xr.Dataset({
        "slip_pinn": (("depth",), s_pinn, {"units": "m", "long_name": "recovered slip (PINN)"}),
        "slip_true": (("depth",), s_true, {"units": "m", "long_name": "true slip"}),
        "slip_exact_forward": (("depth",), np.interp(zprof, z_ex, s_ex),
                               {"units": "m", "long_name": "slip minimising the same loss with the analytic forward"}),
        "station_x": (("station",), xs, {"units": "km", "long_name": "station fault-normal distance"}),
        "displacement_observed": (("station",), w_obs, {"units": "m", "long_name": "observed surface displacement"}),
        "displacement_fit": (("station",), w_fit, {"units": "m", "long_name": "PINN surface displacement"}),
        "displacement_pinn": (("z", "x"), w, {"units": "m", "long_name": "antiplane displacement (PINN)"}),
        "displacement_reference": (("z", "x"), w_ref, {"units": "m", "long_name": "displacement of the true slip"}),
        "displacement_error": (("z", "x"), w - w_ref, {"units": "m", "long_name": "PINN minus true displacement"}),
    }, coords={**_coords(x, z), "depth": ("depth", zprof, {"units": "km", "long_name": "depth on the fault"}),
               "station": ("station", np.arange(n_st), {"units": "1", "long_name": "station index"})})
    return result(ds, metrics, history, model.state_dict())
