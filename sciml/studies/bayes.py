"""Bayesian PINN studies with functional priors (:mod:`sciml.bayes`): 1-D traveltime tomography and 2-D Darcy.

Two studies, each one config section (``bayes.tomography``, ``bayes.darcy``), one results folder
(``results/bayes_<study>/``) and one target (``bayes_tomography``, ``bayes_darcy``). Both run the same chain:

1. data: ``bayes.tomography_picks`` (picks from a file, or synthetic through a layered velocity model) or
   ``bayes.darcy_data`` (a GP draw of log-permeability, noisy pressures at sensor cells);
2. ``bayes.<study>_fpi``: tune the RFF network's weight prior so that its function draws match the GP prior;
3. ``bayes.<study>_posterior_<method>``: the reference posterior (``exact`` Gaussian for tomography, ``pcn``
   MCMC for Darcy) and the three approximate methods (``fpi_bpinn_hmc``, ``fpi_bpinn_svgd``, ``fparvi``),
   each summarised against the reference;
4. ``bayes.<study>_compare``: the metrics table (accuracy against cost) and the figures.

:data:`TOMOGRAPHY` and :data:`DARCY` (:class:`Study`) define the two studies (reference method, methods, data
file, results folder; ``workflow/rules/bayes.smk`` reads them too); each step names its study and problem loader
explicitly. Every step reads only the keys of its study section it needs (:func:`_keys`), so changing, say,
``bayes.darcy.svgd`` reruns only the SVGD posterior and the comparison. No step uses the torch device.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from sciml.bayes import darcy, methods, pcn, tomography
from sciml.bayes.fields import FieldSpec, prior_attrs
from sciml.bayes.fpi import FPIResult
from sciml.bayes.problem import InverseProblem
from sciml.bayes.rff import RFFNetwork
from sciml.bayes.summary import METRICS, Summary, summarize
from sciml.errors import InputError, bad_value
from sciml.io.netcdf import add_metrics, read_dataset, read_provenance
from sciml.studies.registry import Outputs, step

log = logging.getLogger(__name__)

# (data file, config slice, file name for messages) -> (inverse problem, field spec, truth or None)
Loader = Callable[[xr.Dataset, Mapping, str], tuple]
NETWORK_METHODS = ("fpi_bpinn_hmc", "fpi_bpinn_svgd", "fparvi")  # the approximate methods of both studies


def _tomography_problem(ds: xr.Dataset, cfg: Mapping, source: str):
    return tomography.problem_from_dataset(ds, int(cfg["grid"]["n"]), source)


def _darcy_problem(ds: xr.Dataset, cfg: Mapping, source: str):
    return darcy.problem_from_dataset(ds, source)


@dataclass(frozen=True)
class Study:
    """One Bayesian study: config key ``bayes.<key>``, results ``results/bayes_<key>/``, its data file there
    and the reference method. (Its problem loader, :func:`_tomography_problem` or :func:`_darcy_problem`, is
    named by each step, so that the comparison steps do not depend on the solvers.)"""

    key: str
    title: str
    data: str
    reference: str

    @property
    def folder(self) -> str:
        return f"bayes_{self.key}"

    @property
    def methods(self) -> tuple[str, ...]:
        """Every posterior method, the reference first."""
        return (self.reference, *NETWORK_METHODS)

    # Paths of the study's files (the rules of workflow/rules/bayes.smk use them).
    @property
    def data_file(self) -> str:
        return f"results/{self.folder}/{self.data}"

    @property
    def posterior_files(self) -> list[str]:
        """Every posterior of the study, the reference first."""
        return [f"results/{self.folder}/posterior_{m}.nc" for m in self.methods]

    def posterior_inputs(self, method: str) -> dict[str, str]:
        """Input ports of the posterior step of ``method``: the data file, the reference posterior (except for
        the reference itself) and the tuned prior (FPI-BPINN methods)."""
        if method not in self.methods:
            raise bad_value(f"bayes.{self.key}", "method", method, f"expected one of {list(self.methods)}")
        inputs = {"data": self.data_file}
        if method != self.reference:
            inputs["ref"] = f"results/{self.folder}/posterior_{self.reference}.nc"
        if method.startswith("fpi_"):
            inputs["fpi"] = f"results/{self.folder}/fpi_prior.nc"
        return inputs


TOMOGRAPHY = Study("tomography", "1-D traveltime tomography", "picks.nc", "exact")
DARCY = Study("darcy", "2-D Darcy log-permeability inversion", "data.nc", "pcn")
STUDIES = {s.key: s for s in (TOMOGRAPHY, DARCY)}


def _keys(study: str, *keys: str):
    """Section function: the keys ``keys`` of the config section ``bayes.<study>``."""

    def section(config, wildcards):
        sec = config["bayes"][study]
        return {k: sec[k] for k in keys}

    section.__name__ = f"bayes.{study}[{', '.join(keys)}]"
    return section


# --------------------------------------------------------------------------------------------------- helpers
def _coords(spec: FieldSpec) -> dict[str, xr.Variable]:
    return {d: xr.Variable(d, v, {"units": u, "long_name": ln}) for d, (v, u, ln) in spec.coords.items()}


def _units(units: str, spec: FieldSpec) -> str:
    return spec.units if units == "field" else units


def _load(load: Loader, cfg: Mapping, path: str) -> tuple[InverseProblem, FieldSpec, np.ndarray | None]:
    return load(read_dataset(path), cfg, str(path))


def fpi_dataset(problem: InverseProblem, spec: FieldSpec, net: RFFNetwork, result: FPIResult, *,
                n_show: int, seed: int) -> xr.Dataset:
    """Prior function draws of the GP and of the tuned network on the field grid, the loss history, the FPI
    distances (metrics) and the tuned hyper-parameters (attributes ``fpi_*``, read back by the posteriors)."""
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
    add_metrics(ds, {
        "fpi_distance": (result.distance, spec.units, f"{result.metric} distance of the tuned network prior to "
                                                      "the GP prior"),
        "fpi_distance_floor_gp_vs_gp": (result.floor, spec.units, f"{result.metric} distance between two GP "
                                                                  "draw sets of the same size (Monte Carlo floor)"),
        "fpi_distance_initial": (result.initial, spec.units, f"{result.metric} distance of the untuned network "
                                                             "prior to the GP prior"),
    })
    hp = result.hyperparameters
    ds.attrs.update({"fpi_distance_metric": result.metric, "fpi_freq_scale": hp["freq_scale"],
                     "fpi_weight_scale": np.asarray(hp["weight_scale"]),
                     "fpi_bias_scale": np.asarray(hp["bias_scale"]), "fpi_mean": hp["mean"],
                     "network_n_params": net.n_params, **prior_attrs(problem.prior)})
    return ds


def _hyperparameters(fpi: xr.Dataset, source: str) -> dict[str, object]:
    """The tuned prior hyper-parameters recorded by :func:`fpi_dataset`."""
    try:
        return {"freq_scale": fpi.attrs["fpi_freq_scale"], "weight_scale": fpi.attrs["fpi_weight_scale"],
                "bias_scale": fpi.attrs["fpi_bias_scale"], "mean": fpi.attrs["fpi_mean"]}
    except KeyError as exc:
        raise InputError(f"{source}: FPI prior file lacks attribute {exc.args[0]!r}") from None


def posterior_dataset(spec: FieldSpec, samples: np.ndarray, summary: Summary, *, method: str, info: Mapping,
                      mean: np.ndarray | None = None, std: np.ndarray | None = None,
                      truth: np.ndarray | None = None, reference: str = "") -> xr.Dataset:
    """Posterior samples, mean, std and credible band of the field; summary metrics and sampler diagnostics as
    0-d ``metric_<name>`` variables (text diagnostics as attributes). ``mean``/``std`` override the sample
    moments (exact reference)."""
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
    metrics = {}
    for k, v in summary.metrics.items():
        units, long_name = METRICS[k]
        metrics[k] = (float(v), _units(units, spec), long_name)
    for k, v in info.items():
        if isinstance(v, str):  # e.g. moments = "analytic"
            ds.attrs[k] = v
            continue
        if k not in methods.DIAGNOSTICS:
            raise KeyError(f"diagnostic {k!r} of {method} has no units: add it to sciml.bayes.methods.DIAGNOSTICS")
        units, long_name = methods.DIAGNOSTICS[k]
        metrics[k] = (v, _units(units, spec), long_name)
    add_metrics(ds, metrics)
    return ds


def _posterior(study: Study, spec: FieldSpec, problem: InverseProblem, samples: np.ndarray, info: Mapping,
               cfg: Mapping, *, method: str, truth: np.ndarray | None, ref: xr.Dataset | None = None,
               mean: np.ndarray | None = None, std: np.ndarray | None = None) -> Outputs:
    """Summarise ``samples`` against the reference posterior (dataset ``ref``, or the analytic ``mean``/``std``
    of the exact reference) and the truth; build the posterior dataset."""
    ref_mean, ref_std = mean, std
    if ref is not None:
        ref_mean = np.asarray(ref[f"{spec.name}_mean"].values).ravel()
        ref_std = np.asarray(ref[f"{spec.name}_std"].values).ravel()
    summ = summarize(samples, level=float(cfg["level"]), reference_mean=ref_mean, reference_std=ref_std,
                     prior_mean=problem.prior.mean, truth=truth)
    log.info("%s: metrics %s; diagnostics %s", method, summ.metrics, info)
    ds = posterior_dataset(spec, samples, summ, method=method, info=info, mean=mean, std=std, truth=truth,
                           reference=study.reference)
    ds.attrs["title"] = f"{study.title}: posterior of {spec.long_name} by {method}"
    return Outputs(nc=ds)


def _network_posterior(study: Study, load: Loader, method: str, cfg: Mapping, inputs: Mapping, seed: int
                       ) -> Outputs:
    """One approximate method (FPI-BPINN with HMC or SVGD on the tuned prior, or fParVI-PINN) against the
    reference posterior."""
    problem, spec, truth = _load(load, cfg, inputs["data"])
    t0 = time.perf_counter()
    if method == "fparvi":
        net = methods.build_network(problem, cfg["network"], seed)
        samples, info = methods.run_fparvi(net, problem, cfg["fparvi"], seed)
    else:
        fpi = read_dataset(inputs["fpi"], required=("metric_fpi_distance",))
        net = methods.tuned_network(problem, cfg["network"], _hyperparameters(fpi, inputs["fpi"]), seed)
        runner, key = (methods.run_hmc, "hmc") if method == "fpi_bpinn_hmc" else (methods.run_svgd, "svgd")
        samples, info = runner(net, problem, cfg[key], seed)
        info.update({"fpi_distance": float(fpi["metric_fpi_distance"])})
    info["network_n_params"] = net.n_params
    info["method_wall_s"] = time.perf_counter() - t0
    return _posterior(study, spec, problem, samples, info, cfg, method=method, truth=truth,
                      ref=read_dataset(inputs["ref"]))


def comparison_table(posteriors: Mapping[str, xr.Dataset], wall: Mapping[str, float],
                     targets: Mapping[str, float], reference: str) -> xr.Dataset:
    """Per-method metrics against the reference, compute time and whether the targets are met."""
    ms = list(posteriors)

    def get(k: str) -> np.ndarray:
        return np.array([float(posteriors[m][f"metric_{k}"]) if f"metric_{k}" in posteriors[m] else np.nan
                         for m in ms])

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
            "w1_marginal": ("method", get("w1_marginal"), {"units": posteriors[ms[0]].attrs["field_units"],
                                                           "long_name": "mean marginal Wasserstein-1 distance "
                                                                        "to the reference"}),
            "wall_time": ("method", np.array([wall[m] for m in ms]),
                          {"units": "s", "long_name": "compute time of the posterior step (provenance record)"}),
            "meets_target": ("method", ok.astype(np.int8), {"units": "1", "long_name": "1 if the targets are met"}),
        },
        coords={"method": xr.Variable("method", np.array(ms, dtype=object), {"long_name": "inference method"})},
    )
    ds.attrs.update({f"target_{k}": float(v) for k, v in targets.items()})
    ds.attrs["reference_method"] = reference
    return ds


def _compute_seconds(path: str) -> float:
    """The compute time of the step that wrote ``path`` (its provenance record; NaN if not recorded)."""
    seconds = read_provenance(path).get("compute_seconds")
    return float("nan") if seconds is None else float(seconds)


def _compare(study: Study, cfg: Mapping, paths: Sequence[str]) -> tuple[dict[str, xr.Dataset], xr.Dataset]:
    """The posteriors by method (in the order given) and their comparison table."""
    if not paths:
        raise InputError(f"bayes.{study.key}_compare: no posterior files given")
    posts: dict[str, xr.Dataset] = {}
    wall: dict[str, float] = {}
    for path in paths:
        ds = read_dataset(path)
        method = str(ds.attrs["method"])
        posts[method], wall[method] = ds, _compute_seconds(path)
    table = comparison_table(posts, wall, cfg["targets"], study.reference)
    for i, m in enumerate(posts):
        log.info("%s: %s", m, {k: float(table[k].values[i]) for k in table.data_vars})
    table.attrs["title"] = f"{study.title}: posterior accuracy against {study.reference} and cost"
    return posts, table


# ------------------------------------------------------------------------------------------------- the data
@step("bayes.tomography_picks", section=_keys("tomography", "picks", "domain_km", "synthetic", "prior"),
      inputs={"picks": "file[]: picks CSV/NetCDF (source_x, receiver_x km; traveltime, sigma s) if configured",
              "model": "file[]: .tvel velocity model for synthetic picks (built-in ak135 crust if absent)"},
      outputs={"nc": "netcdf: picks, the GP prior (prior_* attributes) and the true model if synthetic"})
def tomography_picks(cfg, inputs, *, seed, device, checkpoints):
    """Traveltime picks from a CSV/NetCDF file, or synthetic picks through a layered velocity model."""
    picks, model = inputs["picks"], inputs["model"]
    ds = tomography.build_picks(cfg, picks_path=picks[0] if picks else None,
                                model_path=model[0] if model else None, seed=seed)
    log.info("%d picks (%s)", ds.sizes["pick"], ds.attrs["data_source"])
    ds.attrs["title"] = "1-D traveltime tomography: picks and GP prior"
    return Outputs(nc=ds)


@step("bayes.darcy_data", section=_keys("darcy", "grid", "prior", "source", "noise_sigma", "sensors_per_side"),
      outputs={"nc": "netcdf: sensor pressures, the true log-permeability and the GP prior (prior_* attributes)"})
def darcy_data(cfg, inputs, *, seed, device, checkpoints):
    """Synthetic Darcy data: a GP-prior draw of log-permeability, pressures at sensor cells plus noise."""
    ds = darcy.build_data(cfg, seed)
    log.info("%d sensors on a %d x %d grid", ds.sizes["sensor"], ds.sizes["y"], ds.sizes["x"])
    ds.attrs["title"] = "2-D Darcy inversion: synthetic sensor pressures and GP prior"
    return Outputs(nc=ds)


# ------------------------------------------------------------------------------------------ the FPI prior
def _fpi(study: Study, load: Loader, cfg: Mapping, inputs: Mapping, seed: int) -> Outputs:
    from sciml.bayes.figures import prior_samples_figure

    problem, spec, _ = _load(load, cfg, inputs["data"])
    net = methods.build_network(problem, cfg["network"], seed)
    res = methods.run_fpi(net, problem, cfg["fpi"], seed)
    log.info("FPI %s: %.4g -> %.4g (GP-vs-GP floor %.4g); %s", res.metric, res.initial, res.distance, res.floor,
             res.hyperparameters)
    ds = fpi_dataset(problem, spec, net, res, n_show=int(cfg["fpi"]["n_show"]), seed=seed)
    ds.attrs["title"] = f"{study.title}: FPI weight prior tuned to the GP prior"
    return Outputs(nc=ds, png=prior_samples_figure(ds))


_FPI_PORTS = dict(outputs={"nc": "netcdf: GP and tuned-network prior draws, FPI loss and distances, tuned prior",
                           "png": "png: GP prior draws beside tuned-network prior draws"})


@step("bayes.tomography_fpi", section=_keys("tomography", "grid", "network", "fpi"),
      inputs={"data": "netcdf: picks (bayes.tomography_picks)"}, **_FPI_PORTS)
def tomography_fpi(cfg, inputs, *, seed, device, checkpoints):
    """FPI for tomography: tune the RFF network's weight prior to the GP prior on slowness."""
    return _fpi(TOMOGRAPHY, _tomography_problem, cfg, inputs, seed)


@step("bayes.darcy_fpi", section=_keys("darcy", "network", "fpi"),
      inputs={"data": "netcdf: sensor data (bayes.darcy_data)"}, **_FPI_PORTS)
def darcy_fpi(cfg, inputs, *, seed, device, checkpoints):
    """FPI for Darcy: tune the RFF network's weight prior to the GP prior on log-permeability."""
    return _fpi(DARCY, _darcy_problem, cfg, inputs, seed)


# ----------------------------------------------------------------------------------------- the posteriors
_POSTERIOR = {"nc": "netcdf: posterior samples, mean, std, credible band, truth; metrics and diagnostics"}
_REF = "netcdf: the reference posterior (bayes.<study>_posterior_<reference>)"
_FPI = "netcdf: the tuned prior (bayes.<study>_fpi)"


@step("bayes.tomography_posterior_exact", section=_keys("tomography", "grid", "level", "exact"),
      inputs={"data": "netcdf: picks (bayes.tomography_picks)"}, outputs=_POSTERIOR)
def tomography_posterior_exact(cfg, inputs, *, seed, device, checkpoints):
    """The reference of tomography: the exact Gaussian posterior (analytic moments, exact draws)."""
    problem, spec, truth = _load(_tomography_problem, cfg, inputs["data"])
    t0 = time.perf_counter()
    post = tomography.exact_posterior(problem)
    samples = post.sample(int(cfg["exact"]["samples"]), np.random.default_rng(seed))
    info = {"moments": "analytic", "method_wall_s": time.perf_counter() - t0}
    return _posterior(TOMOGRAPHY, spec, problem, samples, info, cfg, method="exact", truth=truth,
                      mean=post.mean, std=post.std)


@step("bayes.darcy_posterior_pcn", section=_keys("darcy", "level", "pcn"),
      inputs={"data": "netcdf: sensor data (bayes.darcy_data)"}, outputs=_POSTERIOR)
def darcy_posterior_pcn(cfg, inputs, *, seed, device, checkpoints):
    """The reference of Darcy: generalised preconditioned Crank-Nicolson MCMC (reference Gaussian adapted in
    warm-up) on the finite-volume solver, with the Monte Carlo errors of its mean and std."""
    problem, spec, truth = _load(_darcy_problem, cfg, inputs["data"])
    t0 = time.perf_counter()
    samples, info = pcn.run_pcn(problem, cfg["pcn"], seed)
    info["method_wall_s"] = time.perf_counter() - t0
    return _posterior(DARCY, spec, problem, samples, info, cfg, method="pcn", truth=truth)


@step("bayes.tomography_posterior_fpi_bpinn_hmc", section=_keys("tomography", "grid", "level", "network", "hmc"),
      inputs={"data": "netcdf: picks (bayes.tomography_picks)", "fpi": _FPI, "ref": _REF}, outputs=_POSTERIOR)
def tomography_posterior_fpi_bpinn_hmc(cfg, inputs, *, seed, device, checkpoints):
    """FPI-BPINN with HMC for tomography, against the exact posterior."""
    return _network_posterior(TOMOGRAPHY, _tomography_problem, "fpi_bpinn_hmc", cfg, inputs, seed)


@step("bayes.tomography_posterior_fpi_bpinn_svgd", section=_keys("tomography", "grid", "level", "network", "svgd"),
      inputs={"data": "netcdf: picks (bayes.tomography_picks)", "fpi": _FPI, "ref": _REF}, outputs=_POSTERIOR)
def tomography_posterior_fpi_bpinn_svgd(cfg, inputs, *, seed, device, checkpoints):
    """FPI-BPINN with weight-space SVGD for tomography, against the exact posterior."""
    return _network_posterior(TOMOGRAPHY, _tomography_problem, "fpi_bpinn_svgd", cfg, inputs, seed)


@step("bayes.tomography_posterior_fparvi", section=_keys("tomography", "grid", "level", "network", "fparvi"),
      inputs={"data": "netcdf: picks (bayes.tomography_picks)", "ref": _REF}, outputs=_POSTERIOR)
def tomography_posterior_fparvi(cfg, inputs, *, seed, device, checkpoints):
    """fParVI-PINN (function-space particles) for tomography, against the exact posterior."""
    return _network_posterior(TOMOGRAPHY, _tomography_problem, "fparvi", cfg, inputs, seed)


@step("bayes.darcy_posterior_fpi_bpinn_hmc", section=_keys("darcy", "level", "network", "hmc"),
      inputs={"data": "netcdf: sensor data (bayes.darcy_data)", "fpi": _FPI, "ref": _REF}, outputs=_POSTERIOR)
def darcy_posterior_fpi_bpinn_hmc(cfg, inputs, *, seed, device, checkpoints):
    """FPI-BPINN with HMC for Darcy, against the pCN posterior."""
    return _network_posterior(DARCY, _darcy_problem, "fpi_bpinn_hmc", cfg, inputs, seed)


@step("bayes.darcy_posterior_fpi_bpinn_svgd", section=_keys("darcy", "level", "network", "svgd"),
      inputs={"data": "netcdf: sensor data (bayes.darcy_data)", "fpi": _FPI, "ref": _REF}, outputs=_POSTERIOR)
def darcy_posterior_fpi_bpinn_svgd(cfg, inputs, *, seed, device, checkpoints):
    """FPI-BPINN with weight-space SVGD for Darcy, against the pCN posterior."""
    return _network_posterior(DARCY, _darcy_problem, "fpi_bpinn_svgd", cfg, inputs, seed)


@step("bayes.darcy_posterior_fparvi", section=_keys("darcy", "level", "network", "fparvi"),
      inputs={"data": "netcdf: sensor data (bayes.darcy_data)", "ref": _REF}, outputs=_POSTERIOR)
def darcy_posterior_fparvi(cfg, inputs, *, seed, device, checkpoints):
    """fParVI-PINN (function-space particles) for Darcy, against the pCN posterior."""
    return _network_posterior(DARCY, _darcy_problem, "fparvi", cfg, inputs, seed)


# ----------------------------------------------------------------------------------------- the comparison
_COMPARE = dict(inputs={"posteriors": "netcdf[]: every posterior of the study, the reference first"},
                outputs={"nc": "netcdf: per-method metrics against the reference, compute time, targets met",
                         "posteriors": "png: posterior of each method against the reference",
                         "comparison": "png: accuracy versus cost"})


@step("bayes.tomography_compare", section=_keys("tomography", "targets"), **_COMPARE)
def tomography_compare(cfg, inputs, *, seed, device, checkpoints):
    """Tomography: metrics table, posterior curves and accuracy-versus-cost figure."""
    from sciml.bayes.figures import comparison_figure, posterior_1d_figure

    posts, table = _compare(TOMOGRAPHY, cfg, inputs["posteriors"])
    return Outputs(nc=table, posteriors=posterior_1d_figure(posts, TOMOGRAPHY.reference, "slowness"),
                   comparison=comparison_figure(table, cfg["targets"], "tomography: accuracy versus cost"))


@step("bayes.darcy_compare", section=_keys("darcy", "targets"), **_COMPARE)
def darcy_compare(cfg, inputs, *, seed, device, checkpoints):
    """Darcy: metrics table, posterior maps and accuracy-versus-cost figure."""
    from sciml.bayes.figures import comparison_figure, posterior_2d_figure

    posts, table = _compare(DARCY, cfg, inputs["posteriors"])
    return Outputs(nc=table, posteriors=posterior_2d_figure(posts, "log_permeability"),
                   comparison=comparison_figure(table, cfg["targets"], "darcy: accuracy versus cost"))
