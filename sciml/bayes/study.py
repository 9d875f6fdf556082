"""Study glue for the Bayesian PINN studies: datasets in, datasets out (no Snakemake here).

A study provides an :class:`~sciml.bayes.problem.InverseProblem` built from its data file and a
:class:`FieldSpec` describing the unknown field (name, units, grid). The functions here tune the FPI prior,
run one posterior method, summarise it against the reference posterior and build the output datasets.
The GP prior travels with the data file as the attributes ``prior_kernel``, ``prior_variance``,
``prior_length_scale``, ``prior_mean``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from sciml.device import limit_blas_threads
from sciml.errors import InputError
from sciml.gp import GaussianProcess
from sciml.bayes import methods
from sciml.bayes.fpi import FPIResult
from sciml.bayes.problem import InverseProblem
from sciml.bayes.rff import RFFNetwork
from sciml.bayes.summary import Summary, summarize

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
    return {"prior_kernel": gp.kernel, "prior_variance": gp.variance, "prior_length_scale": gp.length_scale,
            "prior_mean": gp.mean}


def prior_from_attrs(attrs: Mapping, source: str) -> GaussianProcess:
    """The GP prior recorded in a data file's attributes."""
    missing = [k for k in PRIOR_ATTRS if k not in attrs]
    if missing:
        raise InputError(f"{source}: missing attribute(s) {missing}")
    return GaussianProcess(str(attrs["prior_kernel"]), float(attrs["prior_variance"]),
                           float(attrs["prior_length_scale"]), float(attrs["prior_mean"]))


def prior_from_config(cfg: Mapping, section: str) -> GaussianProcess:
    try:
        return GaussianProcess(cfg["kernel"], float(cfg["variance"]), float(cfg["length_scale"]), float(cfg["mean"]))
    except KeyError as exc:
        raise InputError(f"config: section {section!r} lacks field {exc.args[0]!r}") from None


def _coords(spec: FieldSpec) -> dict[str, xr.Variable]:
    return {d: xr.Variable(d, v, {"units": u, "long_name": ln}) for d, (v, u, ln) in spec.coords.items()}


def fpi_dataset(problem: InverseProblem, spec: FieldSpec, net: RFFNetwork, result: FPIResult, *,
                n_show: int, seed: int) -> xr.Dataset:
    """Prior function draws of the GP and of the tuned network on the field grid, the loss history and the
    tuned hyper-parameters (attributes ``fpi_*``)."""
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    g = problem.prior.sample(problem.x, n_show, rng)
    with torch.no_grad():
        f = net(net.sample_prior(n_show, gen), torch.as_tensor(problem.x, dtype=net.dtype)).numpy()
    dims = ("sample", *spec.dims)
    ds = xr.Dataset(
        {
            "gp_prior_samples": (dims, g.reshape(n_show, *spec.shape),
                                 {"units": spec.units, "long_name": f"GP prior draws of {spec.long_name}"}),
            "network_prior_samples": (dims, f.reshape(n_show, *spec.shape),
                                      {"units": spec.units, "long_name": f"tuned RFF-network prior draws of "
                                                                         f"{spec.long_name}"}),
            "fpi_loss": (("step",), result.history, {"units": spec.units,
                                                     "long_name": f"FPI training distance ({result.metric})"}),
        },
        coords=_coords(spec),
    )
    hp = result.hyperparameters
    ds.attrs.update({"fpi_distance_metric": result.metric, "fpi_distance": result.distance,
                     "fpi_distance_floor_gp_vs_gp": result.floor, "fpi_distance_initial": result.initial,
                     "fpi_freq_scale": hp["freq_scale"], "fpi_weight_scale": np.asarray(hp["weight_scale"]),
                     "fpi_bias_scale": np.asarray(hp["bias_scale"]), "fpi_mean": hp["mean"],
                     "network_n_params": net.n_params, **prior_attrs(problem.prior)})
    return ds


def network_from_fpi(problem: InverseProblem, net_cfg: Mapping, attrs: Mapping, seed: int) -> RFFNetwork:
    """Rebuild the tuned network from the ``fpi_*`` attributes written by :func:`fpi_dataset`."""
    net = methods.build_network(problem, net_cfg, seed)
    try:
        ws = np.atleast_1d(np.asarray(attrs["fpi_weight_scale"], dtype=float))
        bs = np.atleast_1d(np.asarray(attrs["fpi_bias_scale"], dtype=float))
        if ws.size != len(net.shapes) or bs.size != len(net.shapes):
            raise InputError(f"FPI prior file has {ws.size} layer scales but the network config gives "
                             f"{len(net.shapes)} layers: rerun the FPI rule")
        with torch.no_grad():
            net.log_freq_scale.fill_(float(np.log(float(attrs["fpi_freq_scale"]))))
            net.log_weight_scale.copy_(torch.as_tensor(np.log(ws)))
            net.log_bias_scale.copy_(torch.as_tensor(np.log(bs)))
            net.mean_shift.fill_((float(attrs["fpi_mean"]) - float(net.mean_ref[0])) / float(net.mean_ref[1]))
    except KeyError as exc:
        raise InputError(f"FPI prior file lacks attribute {exc.args[0]!r}") from None
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def run_method(problem: InverseProblem, method: str, cfg: Mapping, seed: int,
               fpi_attrs: Mapping | None = None) -> tuple[np.ndarray, dict]:
    """Posterior field samples ``(n, m)`` and diagnostics for ``fpi_bpinn_hmc | fpi_bpinn_svgd | fparvi``."""
    with limit_blas_threads():
        return _run_method(problem, method, cfg, seed, fpi_attrs)


def _run_method(problem: InverseProblem, method: str, cfg: Mapping, seed: int,
                fpi_attrs: Mapping | None) -> tuple[np.ndarray, dict]:
    t0 = time.perf_counter()
    if method in ("fpi_bpinn_hmc", "fpi_bpinn_svgd"):
        if fpi_attrs is None:
            raise InputError(f"method {method!r} needs the tuned FPI prior")
        net = network_from_fpi(problem, cfg["network"], fpi_attrs, seed)
        runner = methods.run_hmc if method == "fpi_bpinn_hmc" else methods.run_svgd
        samples, info = runner(net, problem, cfg["hmc" if method == "fpi_bpinn_hmc" else "svgd"], seed)
        info.update({"fpi_distance": float(fpi_attrs["fpi_distance"])})
    elif method == "fparvi":
        net = methods.build_network(problem, cfg["network"], seed)
        samples, info = methods.run_fparvi(net, problem, cfg["fparvi"], seed)
    else:
        raise InputError(f"config: method {method!r}: expected one of {methods.METHODS[1:]} here")
    info["network_n_params"] = net.n_params
    info["method_wall_s"] = time.perf_counter() - t0
    return samples, info


def posterior_dataset(spec: FieldSpec, samples: np.ndarray, summary: Summary, *, method: str,
                      info: Mapping, mean: np.ndarray | None = None, std: np.ndarray | None = None,
                      truth: np.ndarray | None = None, reference: str = "") -> xr.Dataset:
    """Posterior samples, mean, std and credible band of the field; metrics and diagnostics as attributes.
    ``mean``/``std`` override the sample moments (exact reference)."""
    n = samples.shape[0]
    shp = spec.shape
    u, ln, nm = spec.units, spec.long_name, spec.name
    level = int(round(100 * summary.level))
    data = {
        f"{nm}_samples": (("sample", *spec.dims), samples.reshape(n, *shp),
                          {"units": u, "long_name": f"posterior samples of {ln} ({method})"}),
        f"{nm}_mean": (spec.dims, (summary.mean if mean is None else mean).reshape(shp),
                       {"units": u, "long_name": f"posterior mean of {ln}"}),
        f"{nm}_std": (spec.dims, (summary.std if std is None else std).reshape(shp),
                      {"units": u, "long_name": f"posterior standard deviation of {ln}"}),
        f"{nm}_lower": (spec.dims, summary.lower.reshape(shp),
                        {"units": u, "long_name": f"lower bound of the central {level}% credible band"}),
        f"{nm}_upper": (spec.dims, summary.upper.reshape(shp),
                        {"units": u, "long_name": f"upper bound of the central {level}% credible band"}),
    }
    if truth is not None:
        data[f"true_{nm}"] = (spec.dims, truth.reshape(shp), {"units": u, "long_name": f"true {ln}"})
    coords = _coords(spec)
    coords["sample"] = xr.Variable("sample", np.arange(n), {"units": "1", "long_name": "sample index"})
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update({"method": method, "reference_method": reference, "credible_level": summary.level,
                     "field_units": spec.units})
    ds.attrs.update({f"metric_{k}": float(v) for k, v in summary.metrics.items()})
    ds.attrs.update({f"diag_{k}": v for k, v in info.items()})
    return ds


def summarize_against(samples: np.ndarray, ref: xr.Dataset | None, spec: FieldSpec, *, prior_mean: float,
                      truth: np.ndarray | None, level: float, ref_mean: np.ndarray | None = None,
                      ref_std: np.ndarray | None = None) -> Summary:
    """:func:`summarize` with the reference moments taken from a reference posterior dataset (or given)."""
    if ref is not None:
        ref_mean = np.asarray(ref[f"{spec.name}_mean"].values).ravel()
        ref_std = np.asarray(ref[f"{spec.name}_std"].values).ravel()
    return summarize(samples, level=level, reference_mean=ref_mean, reference_std=ref_std,
                     prior_mean=prior_mean, truth=truth)


REFERENCE = {"tomography": "exact", "darcy": "pcn"}


def load_problem(study: str, ds: xr.Dataset, cfg: Mapping, source: str
                 ) -> tuple[InverseProblem, FieldSpec, np.ndarray | None]:
    """The study's inverse problem, field spec and truth (or None) from its data file."""
    if study == "tomography":
        from sciml.bayes.tomography import problem_from_dataset

        return problem_from_dataset(ds, int(cfg["grid"]["n"]), source)
    if study == "darcy":
        from sciml.bayes.darcy import problem_from_dataset as darcy_problem

        return darcy_problem(ds, source)
    raise InputError(f"unknown Bayesian study {study!r}: expected one of {list(REFERENCE)}")


def run_reference(study: str, problem: InverseProblem, cfg: Mapping, seed: int
                  ) -> tuple[np.ndarray, dict, np.ndarray | None, np.ndarray | None]:
    """Reference posterior: samples, diagnostics and (for the exact Gaussian) analytic mean and std."""
    t0 = time.perf_counter()
    if study == "tomography":
        from sciml.bayes.tomography import exact_posterior

        post = exact_posterior(problem)
        n = int(cfg.get("exact", {}).get("samples", 2000))
        samples = post.sample(n, np.random.default_rng(seed))
        return samples, {"moments": "analytic", "method_wall_s": time.perf_counter() - t0}, post.mean, post.std
    from sciml.bayes.darcy import run_pcn

    with limit_blas_threads():
        samples, info = run_pcn(problem, cfg["pcn"], seed)
    info["method_wall_s"] = time.perf_counter() - t0
    return samples, info, None, None


def read_benchmark_seconds(path: str) -> float:
    """Wall time ``s`` (first row, first column) of a Snakemake benchmark TSV."""
    try:
        with open(path) as fh:
            header = fh.readline().split("\t")
            row = fh.readline().split("\t")
        return float(row[header.index("s")])
    except (OSError, ValueError, IndexError) as exc:
        raise InputError(f"{path}: cannot read the wall time column 's' ({exc})") from None


def comparison_table(posteriors: Mapping[str, xr.Dataset], wall: Mapping[str, float],
                     targets: Mapping[str, float], reference: str) -> xr.Dataset:
    """Per-method metrics against the reference, wall time and whether the targets are met."""
    ms = list(posteriors)
    get = lambda k: np.array([float(posteriors[m].attrs.get(f"metric_{k}", np.nan)) for m in ms])  # noqa: E731
    rm, rs, cov = get("rel_err_mean"), get("rel_err_std"), get("coverage")
    ok = (rm <= targets["rel_err_mean"]) & (rs <= targets["rel_err_std"]) & (cov >= targets["coverage"])
    ok = np.where(np.array(ms) == reference, cov >= targets["coverage"], ok)
    ds = xr.Dataset(
        {
            "rel_err_mean": ("method", rm, {"units": "1", "long_name": "relative L2 error of the posterior mean "
                                                                      "(over the data-driven change)"}),
            "rel_err_std": ("method", rs, {"units": "1", "long_name": "relative L2 error of the posterior std"}),
            "coverage": ("method", cov, {"units": "1", "long_name": "fraction of points where the credible "
                                                                  "band covers the truth"}),
            "w1_marginal": ("method", get("w1_marginal"), {"units": posteriors[ms[0]].attrs.get("field_units", "1"),
                                                           "long_name": "mean marginal Wasserstein-1 distance "
                                                                        "to the reference"}),
            "wall_time": ("method", np.array([wall[m] for m in ms]), {"units": "s",
                                                                      "long_name": "wall time of the rule"}),
            "meets_target": ("method", ok.astype(np.int8), {"units": "1", "long_name": "1 if the targets are met"}),
        },
        coords={"method": xr.Variable("method", np.array(ms, dtype=object), {"long_name": "inference method"})},
    )
    ds.attrs.update({f"target_{k}": float(v) for k, v in targets.items()})
    ds.attrs["reference_method"] = reference
    return ds
