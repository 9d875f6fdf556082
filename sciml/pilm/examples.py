"""1-D illustrative PILM problems with exact solutions (forward, uncertain boundary values, inverse source).

All on [0, 1] (dimensionless). Exact solutions:

* forward: -u'' = f, u(0) = u(1) = 0, u = exp(x) sin(pi x);
* uncertain boundaries: same PDE, u(0) = g0 +- s0, u(1) = g1 +- s1 (independent); exact posterior
  mean u + (1 - x) g0 + x g1 and standard deviation sqrt((1 - x)^2 s0^2 + x^2 s1^2) as the PDE becomes exact;
* inverse source: -u'' = q, u(0) = u(1) = 0, noisy u at stations; q = pi^2 sin(pi x) + 6 x unknown,
  u = sin(pi x) + x - x^3; PDE and smoothness-of-q weights chosen by ABIC;
* periodic (Fourier basis): u'' - u = f on [0, 2 pi), u = exp(sin x) (spectral convergence).
"""

from __future__ import annotations

import numpy as np

from sciml.pilm.bases import BSpline1D, Fourier1D
from sciml.pilm.model import D, LinearModel, PILMResult

__all__ = ["forward_bvp", "uncertain_bvp", "inverse_source", "periodic_fourier", "convergence_study"]


def _u_fwd(x):
    return np.exp(x) * np.sin(np.pi * x)


def _f_fwd(x):
    return -np.exp(x) * ((1.0 - np.pi**2) * np.sin(np.pi * x) + 2.0 * np.pi * np.cos(np.pi * x))


def _colloc(basis_size: int, factor: int = 4) -> np.ndarray:
    return np.linspace(0.0, 1.0, factor * basis_size + 1)


def forward_bvp(n_intervals: int, degree: int = 3, n_eval: int = 2001) -> dict:
    """Least-squares collocation with exact Dirichlet conditions; returns max error of u and the model."""
    basis = BSpline1D(0.0, 1.0, n_intervals, degree)
    m = LinearModel(basis)
    xc = _colloc(basis.size)
    m.add_term("pde", xc, -D(2), _f_fwd(xc), sigma=1.0)
    m.add_term("bc", [0.0, 1.0], D(0), [0.0, 0.0], exact=True)
    res = m.fit()
    xe = np.linspace(0.0, 1.0, n_eval)
    u, _ = m.predict(res, D(0), xe)
    return {"h": 1.0 / n_intervals, "max_error": float(np.max(np.abs(u - _u_fwd(xe)))), "result": res}


def uncertain_bvp(n_intervals: int, g=(0.5, -0.25), s=(0.1, 0.2), pde_sigma: float = 1e-4,
                  n_eval: int = 201) -> dict:
    """Uncertain boundary values as data terms; returns errors of the posterior mean and std vs exact."""
    basis = BSpline1D(0.0, 1.0, n_intervals, 3)
    m = LinearModel(basis)
    xc = _colloc(basis.size)
    m.add_term("pde", xc, -D(2), _f_fwd(xc), sigma=pde_sigma)
    m.add_term("bc", [0.0, 1.0], D(0), list(g), sigma=list(s))
    res = m.fit(sigma2=1.0)
    x = np.linspace(0.0, 1.0, n_eval)
    mean, std = m.predict(res, D(0), x)
    exact_mean = _u_fwd(x) + (1 - x) * g[0] + x * g[1]
    exact_std = np.sqrt((1 - x) ** 2 * s[0] ** 2 + x**2 * s[1] ** 2)
    return {"h": 1.0 / n_intervals, "max_error": float(np.max(np.abs(mean - exact_mean))),
            "std_error": float(np.max(np.abs(std - exact_std))), "x": x, "mean": mean, "std": std,
            "exact_mean": exact_mean, "exact_std": exact_std}


def _q_inv(x):
    return np.pi**2 * np.sin(np.pi * x) + 6.0 * x


def _u_inv(x):
    return np.sin(np.pi * x) + x - x**3


def inverse_source(n_intervals: int = 16, n_data: int = 40, noise: float = 1e-3, seed: int = 0,
                   n_eval: int = 201) -> dict:
    """Recover q in -u'' = q from noisy u; u and q in cubic B-splines, weights by ABIC."""
    rng = np.random.default_rng(seed)
    bu = BSpline1D(0.0, 1.0, n_intervals, 3)
    bq = BSpline1D(0.0, 1.0, n_intervals, 3)
    m = LinearModel([bu, bq])
    xd = np.sort(rng.uniform(0.0, 1.0, n_data))
    ud = _u_inv(xd) + noise * rng.normal(size=n_data)
    xc = _colloc(bu.size)
    m.add_data("u_obs", xd, ud, noise, op=D(0, field=0))
    m.add_term("pde", xc, -D(2, field=0) - D(0, field=1), 0.0)
    m.add_term("q_smooth", xc, D(2, field=1), 0.0)
    m.add_term("bc", [0.0, 1.0], D(0, field=0), [0.0, 0.0], exact=True)
    res = m.fit(log10_bounds=(-6, 14))
    x = np.linspace(0.0, 1.0, n_eval)
    q, q_std = m.predict(res, D(0, field=1), x)
    u, u_std = m.predict(res, D(0, field=0), x)
    return {"x": x, "q": q, "q_std": q_std, "q_exact": _q_inv(x), "u": u, "u_std": u_std,
            "u_exact": _u_inv(x), "result": res,
            "q_rel_error": float(np.linalg.norm(q - _q_inv(x)) / np.linalg.norm(_q_inv(x)))}


def periodic_fourier(n_modes: int, n_eval: int = 1001) -> dict:
    """u'' - u = f on [0, 2 pi) with a Fourier basis; u = exp(sin x)."""
    basis = Fourier1D(0.0, 2.0 * np.pi, n_modes)
    m = LinearModel(basis)
    xc = np.linspace(0.0, 2.0 * np.pi, 4 * basis.size, endpoint=False)
    u = np.exp(np.sin(xc))
    f = u * (np.cos(xc) ** 2 - np.sin(xc)) - u
    m.add_term("pde", xc, D(2) - D(0), f, sigma=1.0)
    res: PILMResult = m.fit()
    xe = np.linspace(0.0, 2.0 * np.pi, n_eval)
    ue, _ = m.predict(res, D(0), xe)
    return {"n_modes": n_modes, "max_error": float(np.max(np.abs(ue - np.exp(np.sin(xe)))))}


def convergence_study(n_intervals=(4, 8, 16, 32, 64), n_modes=(2, 4, 6, 8, 10, 12)) -> dict:
    """Errors of the forward, uncertain-boundary (PDE exact) and periodic problems as the basis grows."""
    fwd = [forward_bvp(n)["max_error"] for n in n_intervals]
    unc = [uncertain_bvp(n)["max_error"] for n in n_intervals]
    per = [periodic_fourier(k)["max_error"] for k in n_modes]
    h = 1.0 / np.asarray(n_intervals, dtype=float)
    rate = float(np.polyfit(np.log(h), np.log(fwd), 1)[0])
    return {"h": h, "forward_error": np.array(fwd), "uncertain_error": np.array(unc),
            "n_modes": np.asarray(n_modes), "periodic_error": np.array(per), "forward_rate": rate}


def examples_dataset(n_intervals=(4, 8, 16, 32, 64), n_modes=(2, 4, 6, 8, 10, 12), inverse: dict | None = None,
                     seed: int = 0, uncertain_intervals: int = 16):
    """All 1-D examples as an xarray Dataset (dimensionless quantities, units "1")."""
    import xarray as xr

    conv = convergence_study(n_intervals, n_modes)
    unc = uncertain_bvp(uncertain_intervals)
    inv = inverse_source(seed=seed, **(inverse or {}))
    one = {"units": "1"}
    ds = xr.Dataset(coords={"h": ("h", conv["h"], {**one, "long_name": "B-spline knot spacing"}),
                            "n_modes": ("n_modes", conv["n_modes"], {**one, "long_name": "Fourier modes"}),
                            "x": ("x", unc["x"], {**one, "long_name": "position"})})
    ds["forward_error"] = ("h", conv["forward_error"], {**one, "long_name": "max error, exact Dirichlet BCs"})
    ds["uncertain_error"] = ("h", conv["uncertain_error"], {**one, "long_name": "max error of posterior mean, uncertain BCs"})
    ds["periodic_error"] = ("n_modes", conv["periodic_error"], {**one, "long_name": "max error, periodic Fourier"})
    for k, ln in (("mean", "posterior mean"), ("std", "posterior std"), ("exact_mean", "exact posterior mean"),
                  ("exact_std", "exact posterior std")):
        ds[f"ubc_{k}"] = ("x", unc[k], {**one, "long_name": f"uncertain-BC problem: {ln} of u"})
    if not np.allclose(inv["x"], unc["x"]):
        raise ValueError("examples: inverse and uncertain-BC grids differ")
    for k, ln in (("q", "posterior mean of source"), ("q_std", "posterior std of source"), ("q_exact", "exact source"),
                  ("u", "posterior mean of u"), ("u_exact", "exact u")):
        ds[k] = ("x", inv[k], {**one, "long_name": f"inverse problem: {ln}"})
    ds.attrs.update({"forward_rate": conv["forward_rate"], "q_rel_error": inv["q_rel_error"],
                     "uncertain_std_max_error": unc["std_error"],
                     "inverse_weights": str(inv["result"].weights)})
    return ds
