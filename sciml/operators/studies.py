"""Study drivers called by the workflow scripts: train one operator and evaluate it on test sets.

Each driver returns an :class:`xarray.Dataset` with the predictions, per-sample and mean relative L2
errors on every test set, the training history and scalar metrics; the trained weights are written to a
``.pt`` file by the caller (see :func:`save_weights`).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import nn

from sciml.errors import InputError
from sciml.io.atomic import save_torch
from sciml.nn.trainer import TrainConfig
from sciml.operators.data import darcy_inputs
from sciml.operators.fno import count_parameters
from sciml.operators.metrics import relative_l2
from sciml.operators.train import NormalizedOperator, as_fields, build_model, predict, train_operator

FIELD_DIMS = {"darcy": ("y", "x"), "wave": ("z", "x")}
FIELD_VARS = {"darcy": ("log_k", "u"), "wave": ("velocity", "pressure")}


def _suffix(name: str) -> str:
    return "" if name == "test" else f"_{name}"


def neuralop_fno(cfg: Mapping[str, Any], *, dtype: torch.dtype, seed: int) -> nn.Module:
    """The ``neuraloperator`` package's FNO with our width / modes / layers / padding.

    neuraloperator counts ``n_modes`` over the full spectrum (positive and negative frequencies), our
    :class:`~sciml.operators.fno.FNO2d` per half, hence ``n_modes = 2 * modes``."""
    try:
        from neuralop.models import FNO
    except ImportError as err:
        raise InputError("operators config: implementation 'neuralop' needs the neuraloperator package "
                         "(pip install neuraloperator)") from err
    if dtype != torch.float32:
        raise InputError(f"operators config: field 'dtype' = {dtype}: the neuraloperator FNO is compared in float32")
    torch.manual_seed(int(seed))
    m = int(cfg["modes"])
    net = FNO(n_modes=(2 * m, 2 * m), in_channels=1, out_channels=1, hidden_channels=int(cfg["width"]),
              n_layers=int(cfg.get("layers", 4)), domain_padding=float(cfg.get("padding", 0.0)) or None)
    net.dtype = dtype
    return net


def make_operator(kind: str, cfg: Mapping[str, Any], a: np.ndarray, u: np.ndarray, *, dtype: torch.dtype,
                  seed: int) -> NormalizedOperator:
    """``fno`` / ``deeponet`` (ours) or ``neuralop`` (the package's FNO), normalised by the training data."""
    if kind == "neuralop":
        return NormalizedOperator(neuralop_fno(cfg, dtype=dtype, seed=seed), float(a.mean()), float(a.std()) or 1.0,
                                  float(u.mean()), float(u.std()))
    return build_model(kind, cfg, a=a, u=u, dtype=dtype, seed=seed)


def fit_and_evaluate(model: NormalizedOperator, problem: str, train: xr.Dataset, tests: Mapping[str, xr.Dataset],
                     n_train: int, train_cfg: Mapping[str, Any], *, batch_size: int, seed: int, device: torch.device,
                     dtype: torch.dtype, physics: Mapping[str, Any] | None = None, unlabeled: xr.Dataset | None = None,
                     checkpoint: str | Path | None = None, logger: logging.Logger | None = None) -> xr.Dataset:
    """Train ``model`` on the first ``n_train`` samples of ``train`` and evaluate it on each test set.

    Output variables per test set ``name`` (suffix ``_name`` except for ``test``): ``prediction``
    ``(sample, *grid)``, ``rel_l2`` ``(sample)`` and the scalar ``mean_rel_l2``; plus ``train_rel_l2``
    and the training history over ``step``."""
    a_name, u_name = FIELD_VARS[problem]
    if n_train > train.sizes["sample"] or n_train < 1:
        raise InputError(f"operators config: training-set size {n_train} outside [1, {train.sizes['sample']}]")
    a_tr = as_fields(train[a_name].values[:n_train], dtype, device)
    u_tr = as_fields(train[u_name].values[:n_train], dtype, device)
    a_un = None if unlabeled is None else as_fields(unlabeled[a_name].values, dtype, device)
    cfg = TrainConfig.from_dict(dict(train_cfg), source="operators config (train)")
    t0 = time.perf_counter()
    hist = train_operator(model, a_tr, u_tr, cfg, batch_size=batch_size, seed=seed, device=device,
                          physics=physics, a_unlabeled=a_un, checkpoint=checkpoint, logger=logger)
    train_time = time.perf_counter() - t0
    ds = hist.to_dataset()
    ds["train_rel_l2"] = ((), float(relative_l2(predict(model, a_tr), u_tr)),
                          {"units": "1", "long_name": "mean relative L2 error on the training set"})
    dims = FIELD_DIMS[problem]
    for name, test in tests.items():
        sfx = _suffix(name)
        a_te = as_fields(test[a_name].values, dtype, device)
        u_te = as_fields(test[u_name].values, dtype, device)
        t1 = time.perf_counter()
        pred = predict(model, a_te)
        infer = time.perf_counter() - t1
        err = relative_l2(pred, u_te, reduction="none").cpu().numpy()
        sdims = tuple(f"{d}{sfx}" for d in ("sample", *dims))
        ds[f"prediction{sfx}"] = (sdims, pred[:, 0].cpu().numpy().astype(np.float64),
                                  {"units": test[u_name].attrs.get("units", "1"),
                                   "long_name": f"predicted {test[u_name].attrs.get('long_name', u_name)} ({name})"})
        ds[f"rel_l2{sfx}"] = (sdims[:1], err, {"units": "1", "long_name": f"relative L2 error per sample ({name})"})
        ds[f"mean_rel_l2{sfx}"] = ((), float(err.mean()),
                                   {"units": "1", "long_name": f"mean relative L2 error ({name} set)"})
        ds[f"inference_time{sfx}"] = ((), infer, {"units": "s", "long_name": f"inference wall time ({name} set)"})
        for d, src in zip(sdims, ("sample", *dims)):
            ds = ds.assign_coords({d: (d, test[src].values, {**test[src].attrs})})
    ds.attrs.update({"n_train": int(n_train), "n_parameters": count_parameters(model), "train_time_s": train_time,
                     "physics_informed": int(physics is not None), "problem": problem,
                     "unlabeled_samples": 0 if unlabeled is None else int(unlabeled.sizes["sample"])})
    return ds


def save_weights(model: nn.Module, path: str | Path, meta: Mapping[str, Any]) -> Path:
    """Atomically save ``{"state_dict", "meta"}`` (torch format) to ``path``."""
    return save_torch({"state_dict": model.state_dict(), "meta": dict(meta)}, path)


def darcy_unlabeled(cfg: Mapping[str, Any] | None, n: int, count: int, seed: int) -> xr.Dataset | None:
    """Extra input fields (no solves) for the physics-informed loss; random stream 3 (not train/test)."""
    if count <= 0:
        return None
    log_k = darcy_inputs(cfg, n, count, seed, stream=3)
    return xr.Dataset({"log_k": (("sample", "y", "x"), log_k, {"units": "1", "long_name": "log permeability"})})


# ------------------------------------------------------------------------------------------ study runners
def run_model(cfg: Mapping[str, Any], problem: str, kind: str, n_train: int, train: xr.Dataset,
              tests: Mapping[str, xr.Dataset], *, seed: int, device: torch.device,
              logger: logging.Logger | None = None) -> tuple[xr.Dataset, NormalizedOperator]:
    """Build and train one model of a study section ``cfg`` and evaluate it.

    ``kind``: ``fno`` | ``deeponet`` | ``neuralop`` | ``pino`` (FNO + Darcy residual, ``cfg["pino"]``:
    ``weight`` of the ``pde`` term and ``unlabeled`` extra input fields). Uses ``cfg[<model>]`` for the
    architecture, ``cfg["train"]`` for the optimiser (``cfg["steps"][kind]`` overrides its ``adam_steps``),
    ``cfg["batch_size"]`` and ``cfg["dtype"]``."""
    from sciml.device import resolve_dtype

    dtype = resolve_dtype(cfg.get("dtype", "float32"))
    a_name, u_name = FIELD_VARS[problem]
    arch = "fno" if kind in ("pino", "neuralop") else kind
    if arch not in cfg:
        raise InputError(f"operators config: section for model {arch!r} is missing")
    a_tr, u_tr = train[a_name].values[:n_train], train[u_name].values[:n_train]
    model = make_operator(kind if kind != "pino" else "fno", cfg[arch], a_tr, u_tr, dtype=dtype, seed=seed)
    train_cfg = dict(cfg["train"])
    if kind in cfg.get("steps", {}):  # per-model number of Adam steps (cheap models can afford more)
        train_cfg["adam_steps"] = int(cfg["steps"][kind])
    physics = unlabeled = None
    if kind == "pino":
        if problem != "darcy":
            raise InputError(f"operators config: model 'pino' is defined for darcy only, not {problem!r}")
        pino = cfg["pino"]
        physics = {"source": float(train.attrs.get("gen_source", 1.0)), "norm": pino.get("norm", "h-1")}
        train_cfg["weights"] = {**train_cfg.get("weights", {}), "pde": float(pino["weight"])}
        unlabeled = darcy_unlabeled({k[4:]: train.attrs[k] for k in train.attrs if k.startswith("gen_")},
                                    train.sizes["y"], int(pino.get("unlabeled", 0)), seed)
    ds = fit_and_evaluate(model, problem, train, tests, n_train, train_cfg, batch_size=int(cfg["batch_size"]),
                          seed=seed, device=device, dtype=dtype, physics=physics, unlabeled=unlabeled, logger=logger)
    ds.attrs.update({"model": kind, "architecture": arch})
    return ds, model


def summary_table(results: Mapping[tuple[str, int], xr.Dataset], metrics: Sequence[str]) -> xr.Dataset:
    """Mean errors of every (model, n_train) run as ``metric(model, n_train)`` (NaN where not run)."""
    models = sorted({m for m, _ in results})
    sizes = sorted({n for _, n in results})
    data = {}
    for metric in metrics:
        arr = np.full((len(models), len(sizes)), np.nan)
        for (m, n), ds in results.items():
            if metric in ds:
                arr[models.index(m), sizes.index(n)] = float(ds[metric])
        data[metric] = (("model", "n_train"), arr, {"units": "1", "long_name": f"{metric} (mean over test samples)"})
    for key, long_name, unit in (("train_time_s", "training wall time", "s"),
                                 ("n_parameters", "trainable parameters", "1")):
        arr = np.full((len(models), len(sizes)), np.nan)
        for (m, n), ds in results.items():
            arr[models.index(m), sizes.index(n)] = float(ds.attrs[key])
        data[key] = (("model", "n_train"), arr, {"units": unit, "long_name": long_name})
    return xr.Dataset(data, coords={
        "model": ("model", np.array(models, dtype=object), {"long_name": "operator model"}),
        "n_train": ("n_train", np.array(sizes), {"units": "1", "long_name": "training samples"})})
