"""Neural-operator study steps: Darcy (FNO, DeepONet, physics-informed FNO), the published FNO-paper Darcy
set (our FNO vs the ``neuraloperator`` package's), and the acoustic-wavefield surrogate (GP velocities, Marmousi).

Three families of steps (``python -m sciml steps operators``), each on the contract of
:mod:`sciml.studies.registry`:

* ``operators.darcy_data`` / ``operators.wave_data``: the data sets (:mod:`sciml.operators.data`); their config
  slices hold only the data-defining keys, so training settings never regenerate data;
* ``operators.darcy_train`` (wildcards ``model``, ``n``), ``operators.neuralop_train`` (``impl``, ``n``),
  ``operators.wave_train`` (``model``, ``n``): train one operator on the first ``n`` samples (:func:`run_model`),
  with the validation set's learning curve, resumable from the step's ``checkpoints`` folder, and evaluate it
  on the test sets; predictions, per-sample errors and ``metric_*`` variables, plus the weights;
* ``operators.*_figures``: the summary table (:func:`summary_table`, model x training-set size) and the figures
  (:mod:`sciml.operators.figures`) over every run given.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from sciml.errors import InputError, bad_value
from sciml.io.netcdf import add_metrics, read_dataset
from sciml.operators.data import darcy_inputs, load_neuralop_darcy, make_darcy_dataset, make_marmousi_dataset, \
    make_wave_dataset, source_on_centre_line
from sciml.operators.train import FIELD_VARS, NormalizedOperator, fit_and_evaluate, make_operator, stack_inputs
from sciml.operators.velocity import FAMILIES
from sciml.studies.registry import Outputs, Weights, step

log = logging.getLogger(__name__)

DARCY_MODELS = ("fno", "pino", "deeponet")
WAVE_MODELS = {"fno": ("velocity",), "fno_ray": ("velocity", "direct_wave")}  # model -> input channels
IMPLEMENTATIONS = {"sciml": "fno", "neuralop": "neuralop"}  # implementation -> model kind of run_model
CURVES_FIGURE = "png: learning curves (validation error, training loss) and learning-rate schedules"
DATA_KEYS = {
    "darcy": ("n", "n_fine", "n_train", "n_val", "n_test", "n_test_fine", "generator"),
    "wave": ("generator", "prior", "n_train", "n_val", "n_test", "marmousi"),
}


# ---------------------------------------------------------------------------------------------- library glue
def darcy_unlabeled(cfg: Mapping[str, Any], n: int, count: int, seed: int) -> xr.Dataset | None:
    """Extra input fields (no solves) for the physics-informed loss; random stream 3 (not train/test)."""
    if count <= 0:
        return None
    log_k = darcy_inputs(cfg, n, count, seed, stream=3)
    return xr.Dataset({"log_k": (("sample", "y", "x"), log_k, {"units": "1", "long_name": "log permeability"})})


def run_model(cfg: Mapping[str, Any], problem: str, kind: str, n_train: int, train: xr.Dataset,
              tests: Mapping[str, xr.Dataset], *, seed: int, device: torch.device, val: xr.Dataset | None = None,
              inputs: Sequence[str] | None = None, logger: logging.Logger | None = None,
              checkpoints: str | Path | None = None) -> tuple[xr.Dataset, NormalizedOperator]:
    """Build and train one model and evaluate it on ``tests``.

    ``kind``: ``fno`` | ``deeponet`` | ``neuralop`` | ``pino`` (FNO + Darcy residual; ``cfg["pino"]``: ``weight``
    of the ``pde`` term, ``unlabeled`` extra input fields, ``norm``). ``cfg`` (complete, e.g. a training step's
    slice): ``dtype``, ``batch_size``, the architecture section (``fno`` for fno / pino / neuralop, else
    ``deeponet``), ``train`` (:class:`~sciml.nn.trainer.TrainConfig` fields) and optionally ``augment``
    (:func:`~sciml.operators.train.train_operator`; default none). ``val``: validation set (learning
    curve, kept weights); ``inputs``: input variables (channels; default :data:`FIELD_VARS`). ``checkpoints``:
    folder of the resumable trainer state, under a name hashing the config slice and seed (a changed config
    never resumes)."""
    from sciml.device import resolve_dtype

    dtype = resolve_dtype(cfg["dtype"])
    names = tuple(inputs or FIELD_VARS[problem][:1])
    u_name = FIELD_VARS[problem][1]
    arch = "fno" if kind in ("pino", "neuralop") else kind
    if arch not in cfg:
        raise InputError(f"operators config: section for model {arch!r} is missing")
    a_tr, u_tr = stack_inputs(train, names, n_train), train[u_name].values[:n_train]
    model = make_operator(kind if kind != "pino" else "fno", cfg[arch], a_tr, u_tr, dtype=dtype, seed=seed)
    train_cfg = dict(cfg["train"])
    physics = unlabeled = None
    if kind == "pino":
        if problem != "darcy":
            raise bad_value("operators config", "model", kind, f"defined for darcy only, not {problem!r}")
        if "gen_source" not in train.attrs:
            raise InputError("operators: model 'pino' needs generated Darcy data (attribute 'gen_source')")
        pino = cfg["pino"]
        physics = {"source": float(train.attrs["gen_source"]), "norm": pino["norm"]}
        train_cfg["weights"] = {**train_cfg["weights"], "pde": float(pino["weight"])}
        unlabeled = darcy_unlabeled({k[4:]: train.attrs[k] for k in train.attrs if k.startswith("gen_")},
                                    train.sizes["y"], int(pino["unlabeled"]), seed)
    ckpt = None
    if checkpoints is not None:
        key = json.dumps({"cfg": cfg, "problem": problem, "kind": kind, "n": n_train, "seed": int(seed)},
                         sort_keys=True, default=str)
        ckpt = Path(checkpoints) / f"{problem}-{kind}-n{n_train}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.ckpt"
    ds = fit_and_evaluate(model, problem, train, tests, n_train, train_cfg, batch_size=int(cfg["batch_size"]),
                          seed=seed, device=device, dtype=dtype, inputs=names, val=val, physics=physics,
                          unlabeled=unlabeled, logger=logger, checkpoint=ckpt, augment=cfg.get("augment", "none"))
    ds.attrs.update({"model": kind, "architecture": arch})
    return ds, model


def family_errors(err: np.ndarray, test: xr.Dataset) -> dict[str, tuple[float, str, str]]:
    """Mean test errors per velocity-model family (``mean_rel_l2_<family>``) and of the models under water
    (``mean_rel_l2_water``), from the per-sample errors ``err`` of the test set ``test``."""
    out = {}
    groups = [(f, test["family"].values == i) for i, f in enumerate(FAMILIES)]
    for name, mask in [*groups, ("water", test["water"].values == 1)]:
        if mask.any():
            out[f"mean_rel_l2_{name}"] = (float(err[mask].mean()), "1",
                                          f"mean relative L2 error, test models: {name} ({int(mask.sum())})")
    return out


def summary_table(results: Mapping[tuple[str, int], xr.Dataset], metrics: Sequence[str]) -> xr.Dataset:
    """``metric_<name>`` of every (model, n_train) run as ``name(model, n_train)`` (NaN where not run), plus
    the training wall time and the parameter count."""
    models = sorted({m for m, _ in results})
    sizes = sorted({n for _, n in results})

    def table(name: str) -> np.ndarray:
        arr = np.full((len(models), len(sizes)), np.nan)
        for (m, n), ds in results.items():
            if f"metric_{name}" in ds:
                arr[models.index(m), sizes.index(n)] = float(ds[f"metric_{name}"])
        return arr

    data = {name: (("model", "n_train"), table(name), {"units": "1", "long_name": f"{name} (mean over test samples)"})
            for name in metrics}
    for name, long_name, unit in (("train_time_s", "training wall time", "s"),
                                  ("n_parameters", "trainable parameters", "1")):
        data[name] = (("model", "n_train"), table(name), {"units": unit, "long_name": long_name})
    return xr.Dataset(data, coords={
        "model": ("model", np.array(models, dtype=object), {"long_name": "operator model"}),
        "n_train": ("n_train", np.array(sizes), {"units": "1", "long_name": "training samples"})})


def _runs(paths: Sequence[str], key: str) -> dict[tuple[str, int], xr.Dataset]:
    """Training results by (``attrs[key]``, training-set size)."""
    runs: dict[tuple[str, int], xr.Dataset] = {}
    for p in paths:
        ds = read_dataset(p)
        k = (str(ds.attrs[key]), int(ds.attrs["n_train"]))
        if k in runs:
            raise InputError(f"{p}: a second run of {key} {k[0]!r} with {k[1]} training samples")
        runs[k] = ds
    return runs


def _summary_outputs(paths: Sequence[str], key: str, metrics: Sequence[str], title: str,
                     figures: Callable[..., tuple], *sets: xr.Dataset) -> Outputs:
    """A figure step's outputs: the :func:`summary_table` of the runs at ``paths`` (by ``attrs[key]`` and size)
    as ``nc``, and the figures ``figures(runs, *sets)`` as ``prediction``, ``size`` and (if made) ``curves``."""
    runs = _runs(paths, key)
    summary = summary_table(runs, metrics)
    summary.attrs["title"] = title
    return Outputs(nc=summary, **dict(zip(("prediction", "size", "curves"), figures(runs, *sets))))


# ------------------------------------------------------------------------------------------ config slices
def _wildcard(wc: Mapping[str, str], name: str, step_name: str) -> str:
    if name not in wc:
        raise InputError(f"step {step_name}: needs wildcard {name!r} (python -m sciml run ... --wildcard {name}=...)")
    return str(wc[name])


def _size(wc: Mapping[str, str], step_name: str) -> int:
    n = _wildcard(wc, "n", step_name)
    if not n.isdigit() or int(n) < 1:
        raise bad_value(f"step {step_name}", "wildcard n", n, "expected a positive number of training samples")
    return int(n)


def _common(config: Mapping[str, Any]) -> dict[str, Any]:
    ops = config["operators"]
    return {"dtype": ops["dtype"], "batch_size": ops["batch_size"]}


def _darcy_data_cfg(config, wildcards):
    """The keys that define the Darcy data sets (grids, sizes, GP generator)."""
    return {k: config["operators"]["darcy"][k] for k in DATA_KEYS["darcy"]}


def _wave_data_cfg(config, wildcards):
    """The keys that define the wave data sets (generator, sizes, Marmousi windows)."""
    return {k: config["operators"]["wave"][k] for k in DATA_KEYS["wave"]}


def _darcy_train_cfg(config, wildcards):
    """dtype, batch size, the model's architecture and training settings (``steps``, ``lr`` and ``augment``
    resolved), and the ``pino`` section for the physics-informed FNO; ``model`` and ``n_train`` from the
    wildcards."""
    d = config["operators"]["darcy"]
    model = _wildcard(wildcards, "model", "operators.darcy_train")
    if model not in DARCY_MODELS:
        raise bad_value("step operators.darcy_train", "wildcard model", model, f"expected one of {DARCY_MODELS}")
    arch = "fno" if model == "pino" else model
    train = dict(d["train"])
    if model in d["steps"]:  # per-model number of Adam steps (cheap models can afford more)
        train["adam_steps"] = int(d["steps"][model])
    if model in d["lr"]:  # per-model peak learning rate
        train["lr"] = float(d["lr"][model])
    cfg = {**_common(config), "model": model, "n_train": _size(wildcards, "operators.darcy_train"),
           arch: d[arch], "train": train, "augment": str(d["augment"].get(model, "none"))}
    if model == "pino":
        cfg["pino"] = d["pino"]
    return cfg


def _neuralop_train_cfg(config, wildcards):
    """dtype, batch size, the FNO and training settings; ``implementation`` and ``n_train`` from the wildcards."""
    nl = config["operators"]["neuralop"]
    impl = _wildcard(wildcards, "impl", "operators.neuralop_train")
    if impl not in IMPLEMENTATIONS:
        raise bad_value("step operators.neuralop_train", "wildcard impl", impl,
                        f"expected one of {list(IMPLEMENTATIONS)}")
    return {**_common(config), "implementation": impl, "n_train": _size(wildcards, "operators.neuralop_train"),
            "fno": nl["fno"], "train": nl["train"]}


def _wave_train_cfg(config, wildcards):
    """dtype, batch size, the FNO and training settings; ``model`` (its input channels, :data:`WAVE_MODELS`)
    and ``n_train`` from the wildcards."""
    w = config["operators"]["wave"]
    model = _wildcard(wildcards, "model", "operators.wave_train")
    if model not in WAVE_MODELS:
        raise bad_value("step operators.wave_train", "wildcard model", model, f"expected one of {list(WAVE_MODELS)}")
    return {**_common(config), "model": model, "n_train": _size(wildcards, "operators.wave_train"),
            "fno": w["fno"], "train": w["train"], "augment": w["augment"]}


def _no_config(config, wildcards):
    """Figure steps read only their inputs."""
    return {}


# ---------------------------------------------------------------------------------------------------- Darcy
@step("operators.darcy_data", section=_darcy_data_cfg,
      outputs={"train": "netcdf: training set (GP log k, FV pressure) on the n x n grid",
               "val": "netcdf: validation set on the same grid (learning curves, kept weights)",
               "test": "netcdf: test set on the same grid",
               "fine": "netcdf: test set on the finer n_fine x n_fine grid (resolution transfer)"})
def darcy_data(cfg, inputs, *, seed, device, checkpoints):
    """Darcy data sets from GP log-permeability fields: train, validation, test and a finer-grid test set."""
    sets = {"train": (cfg["n"], cfg["n_train"], 0), "val": (cfg["n"], cfg["n_val"], 4),
            "test": (cfg["n"], cfg["n_test"], 1), "fine": (cfg["n_fine"], cfg["n_test_fine"], 2)}
    out = Outputs()
    for name, (n, count, stream) in sets.items():
        ds = make_darcy_dataset(cfg["generator"], n, count, seed, stream)
        ds.attrs["title"] = f"Darcy flow {name} set ({count} samples, {n}x{n} cells)"
        out[name] = ds
    return out


@step("operators.darcy_train", section=_darcy_train_cfg, device=True,
      inputs={"train": "netcdf: training set (operators.darcy_data)", "val": "netcdf: validation set",
              "test": "netcdf: test set", "fine": "netcdf: finer-grid test set"},
      outputs={"nc": "netcdf: predictions, per-sample errors, metric_*, the training history and learning curve",
               "pt": "weights: the trained operator (normalisation buffers included)"})
def darcy_train(cfg, inputs, *, seed, device, checkpoints):
    """Train one operator (fno | deeponet | pino) on the first n Darcy samples; test and finer-grid errors."""
    sets = {k: read_dataset(inputs[k], required=["log_k", "u"]) for k in ("train", "val", "test", "fine")}
    kind, n = cfg["model"], int(cfg["n_train"])
    ds, model = run_model(cfg, "darcy", kind, n, sets["train"], {"test": sets["test"], "fine": sets["fine"]},
                          seed=seed, device=device, val=sets["val"], logger=log, checkpoints=checkpoints)
    ds.attrs["title"] = f"Darcy operator {kind} trained on {n} samples: predictions and errors"
    return Outputs(nc=ds, pt=Weights(model.state_dict(), {"model": kind, "n_train": n, "problem": "darcy",
                                                          "augment": cfg["augment"]}))


@step("operators.darcy_figures", section=_no_config,
      inputs={"runs": "netcdf[]: training results (operators.darcy_train), any models and sizes",
              "test": "netcdf: test set", "fine": "netcdf: finer-grid test set"},
      outputs={"nc": "netcdf: mean errors, training time and parameters by model and training-set size",
               "prediction": "png: input, reference, prediction and error of each model (largest size)",
               "size": "png: test error against the number of training samples",
               "curves": CURVES_FIGURE})
def darcy_figures(cfg, inputs, *, seed, device, checkpoints):
    """Darcy summary table, prediction/reference/error figure, error vs training-set size, learning curves."""
    from sciml.operators.figures import darcy_figures as figures

    return _summary_outputs(inputs["runs"], "model", ["mean_rel_l2", "mean_rel_l2_fine", "train_rel_l2", "val_rel_l2"],
                            "Darcy neural operators: test errors by model and training-set size", figures,
                            read_dataset(inputs["test"]), read_dataset(inputs["fine"]))


# --------------------------------------------------------------------------------- published Darcy data
@step("operators.neuralop_train", section=_neuralop_train_cfg, device=True,
      inputs={"train": "file: published 16x16 training set (.npz, neuraloperator 0.3.0)",
              "test16": "file: published 16x16 test set", "test32": "file: published 32x32 test set"},
      outputs={"nc": "netcdf: predictions at 16x16 and 32x32, errors, metric_* and the training history",
               "pt": "weights: the trained FNO"})
def neuralop_train(cfg, inputs, *, seed, device, checkpoints):
    """Published 16x16 Darcy set (FNO paper): our FNO (sciml) or the neuraloperator FNO on n samples."""
    impl, n = cfg["implementation"], int(cfg["n_train"])
    kind = IMPLEMENTATIONS[impl]
    train = load_neuralop_darcy(inputs["train"])
    tests = {"test": load_neuralop_darcy(inputs["test16"]), "test32": load_neuralop_darcy(inputs["test32"])}
    ds, model = run_model(cfg, "darcy", kind, n, train, tests, seed=seed, device=device, logger=log,
                          checkpoints=checkpoints)
    ds.attrs.update(title=f"Published Darcy set: {impl} FNO trained on {n} samples", implementation=impl)
    return Outputs(nc=ds, pt=Weights(model.state_dict(), {"model": kind, "n_train": n, "problem": "darcy_neuralop"}))


@step("operators.neuralop_figures", section=_no_config,
      inputs={"runs": "netcdf[]: training results (operators.neuralop_train)",
              "test16": "file: published 16x16 test set", "test32": "file: published 32x32 test set"},
      outputs={"nc": "netcdf: mean errors by implementation and training-set size",
               "prediction": "png: predictions of each implementation at 16x16 and 32x32",
               "size": "png: test error against the number of training samples"})
def neuralop_figures(cfg, inputs, *, seed, device, checkpoints):
    """Our FNO vs neuraloperator's FNO: predictions at 16x16 and 32x32, error vs training-set size."""
    from sciml.operators.figures import neuralop_figures as figures

    return _summary_outputs(inputs["runs"], "implementation", ["mean_rel_l2", "mean_rel_l2_test32", "train_rel_l2"],
                            "Published Darcy data: FNO implementations compared", figures,
                            load_neuralop_darcy(inputs["test16"]), load_neuralop_darcy(inputs["test32"]))


# ----------------------------------------------------------------------------------------------------- wave
@step("operators.wave_data", section=_wave_data_cfg,
      inputs={"marmousi_vp": "file[]: optional Marmousi Vp file (raw float32); absent: synthetic layered model"},
      outputs={"train": "netcdf: velocity models of the mixture prior and pressure snapshots (training set)",
               "val": "netcdf: validation set of the same prior (learning curves, kept weights)",
               "test": "netcdf: test set of the same prior (in distribution)",
               "marmousi": "netcdf: Marmousi windows (out of distribution)"})
def wave_data(cfg, inputs, *, seed, device, checkpoints):
    """Acoustic snapshots for models of the mixture prior (GP, layered, faulted; water layers) and Marmousi
    windows (synthetic fallback); each with the ray-theory direct wave."""
    gen = cfg["generator"]
    m = cfg["marmousi"]
    path = inputs["marmousi_vp"][0] if inputs["marmousi_vp"] else None
    if path is None and m["file"] is not None:  # checked before any work
        raise bad_value("config operators.wave.marmousi", "file", m["file"], "configured but no file was given "
                        "(--input marmousi_vp=PATH); set file: null for the synthetic layered model")
    if path is None:
        log.warning("marmousi.file is null: the out-of-distribution set uses the synthetic layered model")
    out = Outputs()
    for name, count, stream in (("train", cfg["n_train"], 10), ("val", cfg["n_val"], 12), ("test", cfg["n_test"], 11)):
        ds = make_wave_dataset(gen, cfg["prior"], count, seed, stream)
        ds.attrs["title"] = f"Acoustic wavefield {name} set ({count} velocity models of the mixture prior)"
        out[name] = ds
    ds = make_marmousi_dataset(gen, m["windows"], path, marmousi_dx=m["dx"], marmousi_dz=m["dz"], seed=seed)
    ds.attrs["data_source"] = "files" if path else "synthetic"
    ds.attrs["title"] = "Acoustic wavefield out-of-distribution set (Marmousi windows)"
    out["marmousi"] = ds
    return out


@step("operators.wave_train", section=_wave_train_cfg, device=True,
      inputs={"train": "netcdf: training set (operators.wave_data)", "val": "netcdf: validation set",
              "test": "netcdf: test set (in distribution)", "marmousi": "netcdf: Marmousi windows"},
      outputs={"nc": "netcdf: predictions, errors in and out of distribution (and per model family), metric_*, "
                     "training history and learning curve",
               "pt": "weights: the trained FNO"})
def wave_train(cfg, inputs, *, seed, device, checkpoints):
    """FNO velocity model (``fno``; ``fno_ray``: plus the ray-theory direct wave) -> pressure snapshot on n
    samples; errors in distribution (also per model family) and on the Marmousi windows."""
    kind, n = cfg["model"], int(cfg["n_train"])
    names = WAVE_MODELS[kind]
    sets = {k: read_dataset(inputs[k], required=["pressure", *names]) for k in ("train", "val", "test", "marmousi")}
    if cfg["augment"] == "flip_x":  # exact only for a source on the grid's centre line: checked before training
        for k, d in sets.items():
            gen = {f: d.attrs.get(f"gen_{f}") for f in ("n", "dx", "refine", "source_z", "source_x")}
            if None in gen.values() or not source_on_centre_line(gen):
                raise bad_value(f"{inputs[k]} (attribute gen_source_x)", "config operators.wave.augment", "flip_x",
                                f"the mirror x -> -x is a symmetry only for a source on the grid's centre line; "
                                f"this set has {gen}: set augment: none")
    ds, model = run_model(cfg, "wave", "fno", n, sets["train"], {"test": sets["test"], "marmousi": sets["marmousi"]},
                          seed=seed, device=device, val=sets["val"], inputs=names, logger=log,
                          checkpoints=checkpoints)
    add_metrics(ds, family_errors(ds["rel_l2"].values, sets["test"]))
    ds.attrs.update(model=kind, title=f"Acoustic wavefield FNO ({kind}) trained on {n} samples: predictions and errors")
    return Outputs(nc=ds, pt=Weights(model.state_dict(), {"model": kind, "n_train": n, "problem": "wave"}))


@step("operators.wave_figures", section=_no_config,
      inputs={"runs": "netcdf[]: training results (operators.wave_train)", "test": "netcdf: test set",
              "marmousi": "netcdf: Marmousi windows"},
      outputs={"nc": "netcdf: mean errors in and out of distribution by training-set size",
               "prediction": "png: predictions on one test model of each family and on Marmousi windows",
               "size": "png: errors against the number of training samples",
               "curves": CURVES_FIGURE})
def wave_figures(cfg, inputs, *, seed, device, checkpoints):
    """Wave surrogate figures: predictions in and out of distribution, error vs training-set size."""
    from sciml.operators.figures import wave_figures as figures

    return _summary_outputs(inputs["runs"], "model", ["mean_rel_l2", "mean_rel_l2_marmousi", "train_rel_l2",
                                                      "val_rel_l2", *(f"mean_rel_l2_{f}" for f in FAMILIES),
                                                      "mean_rel_l2_water"],
                            "Acoustic wavefield FNO: errors in and out of distribution", figures,
                            read_dataset(inputs["test"]), read_dataset(inputs["marmousi"]))
