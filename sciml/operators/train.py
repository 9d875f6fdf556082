"""Building, training and evaluating neural operators with the project trainer (:mod:`sciml.nn.trainer`).

:func:`make_operator` builds our FNO / DeepONet (:func:`build_model`) or the ``neuraloperator`` package's FNO
(:func:`neuralop_fno`); :func:`fit_and_evaluate` trains one on the first ``n`` samples of a data set and
evaluates it on test sets (predictions, per-sample errors, ``metric_*`` variables).

Models act on physical fields: :class:`NormalizedOperator` standardises the input and rescales the
output with scalar statistics of the training set (scalars, not per-pixel, so the operator stays
resolution independent), stored as buffers so saved weights are self-contained.
Loss terms: ``data`` = mean relative L2 error of a mini-batch; ``pde`` (physics-informed option for Darcy)
= relative discrete Darcy residual of the prediction (:func:`~sciml.operators.physics.darcy_residual_loss`)
on labelled and optional unlabelled inputs. Mini-batches are a deterministic function of the step
(epoch permutation seeded by ``(seed, epoch)``), as the trainer's resume contract requires.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import nn

from sciml.errors import InputError, bad_value
from sciml.io.netcdf import add_metrics
from sciml.nn.trainer import TrainConfig, Trainer, TrainHistory
from sciml.operators.deeponet import DeepONet2d
from sciml.operators.fno import FNO2d, count_parameters
from sciml.operators.metrics import relative_l2
from sciml.operators.physics import darcy_residual_loss

MODEL_KINDS = ("fno", "deeponet")
FIELD_DIMS = {"darcy": ("y", "x"), "wave": ("z", "x")}
FIELD_VARS = {"darcy": ("log_k", "u"), "wave": ("velocity", "pressure")}


class NormalizedOperator(nn.Module):
    """``u = net((a - a_mean) / a_std) * u_std + u_mean`` for fields ``(B, 1, H, W)``."""

    def __init__(self, net: nn.Module, a_mean: float, a_std: float, u_mean: float, u_std: float):
        super().__init__()
        self.net = net
        self.dtype = net.dtype
        for name, val in (("a_mean", a_mean), ("a_std", a_std), ("u_mean", u_mean), ("u_std", u_std)):
            self.register_buffer(name, torch.tensor(float(val), dtype=net.dtype))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.net((a - self.a_mean) / self.a_std) * self.u_std + self.u_mean


def build_model(kind: str, cfg: Mapping[str, Any], *, a: np.ndarray, u: np.ndarray, dtype: torch.dtype,
                seed: int) -> NormalizedOperator:
    """FNO (``cfg``: width, modes, layers, projection, padding) or DeepONet (width, depth, basis,
    activation; sensors = training grid) normalised by the statistics of training arrays ``a``, ``u``
    ``(N, H, W)``."""
    cfg = dict(cfg)
    if kind == "fno":
        net: nn.Module = FNO2d(1, 1, dtype=dtype, seed=seed, **cfg)
    elif kind == "deeponet":
        net = DeepONet2d(a.shape[-1], dtype=dtype, seed=seed, **cfg)
    else:
        raise bad_value("operators config", "model", kind, f"expected one of {MODEL_KINDS}")
    a_std = float(a.std()) or 1.0
    return NormalizedOperator(net, float(a.mean()), a_std, float(u.mean()), float(u.std()))


def as_fields(x: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(N, H, W)`` array to a ``(N, 1, H, W)`` tensor."""
    return torch.as_tensor(np.asarray(x)[:, None], dtype=dtype, device=device)


def _batch(step: int, n: int, batch_size: int, seed: int) -> torch.Tensor:
    per_epoch = max(1, -(-n // batch_size))
    epoch, k = divmod(step, per_epoch)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed) * 100_003 + epoch))
    return perm[k * batch_size:(k + 1) * batch_size]


def train_operator(model: NormalizedOperator, a: torch.Tensor, u: torch.Tensor, config: TrainConfig, *,
                   batch_size: int, seed: int, device: torch.device, physics: Mapping[str, Any] | None = None,
                   a_unlabeled: torch.Tensor | None = None, checkpoint: str | Path | None = None,
                   logger: logging.Logger | None = None) -> TrainHistory:
    """Fit ``model`` to pairs ``a -> u`` (``(N, 1, H, W)``). ``physics``: ``{"source": f, "norm": "h-1" | "l2"}``
    adds the ``pde`` term (Darcy residual, ``a`` = log-permeability) on the labelled and ``a_unlabeled``
    inputs; its weight is ``config.weights["pde"]``."""
    if a.shape != u.shape or a.ndim != 4:
        raise InputError(f"train_operator: a {tuple(a.shape)} and u {tuple(u.shape)} must be equal (N, 1, H, W)")
    if batch_size < 1:
        raise bad_value("operators config", "batch_size", batch_size, "must be >= 1")
    n = a.shape[0]
    a_pde = a if a_unlabeled is None or a_unlabeled.shape[0] == 0 else torch.cat([a, a_unlabeled])

    def loss_fn(net: nn.Module, step: int) -> dict[str, torch.Tensor]:
        idx = _batch(step, n, batch_size, seed).to(a.device)
        terms = {"data": relative_l2(net(a[idx]), u[idx])}
        if physics is not None:
            jdx = _batch(step, a_pde.shape[0], batch_size, seed + 1).to(a.device)
            terms["pde"] = darcy_residual_loss(a_pde[jdx], net(a_pde[jdx]), float(physics["source"]),
                                               norm=physics["norm"])
        return terms

    trainer = Trainer(model, loss_fn, config, device=device, checkpoint=checkpoint, logger=logger)
    return trainer.fit()


@torch.no_grad()
def predict(model: nn.Module, a: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Model output for inputs ``a`` ``(N, 1, H, W)`` in evaluation mode, in batches."""
    model.eval()
    out = torch.cat([model(a[i:i + batch_size]) for i in range(0, a.shape[0], batch_size)])
    model.train()
    return out


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
        raise bad_value("operators config", "dtype", str(dtype), "the neuraloperator FNO is compared in float32")
    torch.manual_seed(int(seed))
    m = int(cfg["modes"])
    net = FNO(n_modes=(2 * m, 2 * m), in_channels=1, out_channels=1, hidden_channels=int(cfg["width"]),
              n_layers=int(cfg["layers"]), domain_padding=float(cfg["padding"]) or None)
    net.dtype = dtype
    return net


def make_operator(kind: str, cfg: Mapping[str, Any], a: np.ndarray, u: np.ndarray, *, dtype: torch.dtype,
                  seed: int) -> NormalizedOperator:
    """``fno`` / ``deeponet`` (ours) or ``neuralop`` (the package's FNO), normalised by the training data."""
    if kind == "neuralop":
        return NormalizedOperator(neuralop_fno(cfg, dtype=dtype, seed=seed), float(a.mean()), float(a.std()) or 1.0,
                                  float(u.mean()), float(u.std()))
    return build_model(kind, cfg, a=a, u=u, dtype=dtype, seed=seed)


def _suffix(name: str) -> str:
    return "" if name == "test" else f"_{name}"


def fit_and_evaluate(model: NormalizedOperator, problem: str, train: xr.Dataset, tests: Mapping[str, xr.Dataset],
                     n_train: int, train_cfg: Mapping[str, Any], *, batch_size: int, seed: int, device: torch.device,
                     dtype: torch.dtype, physics: Mapping[str, Any] | None = None, unlabeled: xr.Dataset | None = None,
                     checkpoint: str | Path | None = None, logger: logging.Logger | None = None) -> xr.Dataset:
    """Train ``model`` on the first ``n_train`` samples of ``train`` and evaluate it on each test set.

    Output variables per test set ``name`` (suffix ``_name`` except for ``test``): ``prediction``
    ``(sample, *grid)``, ``rel_l2`` ``(sample)`` and the metrics ``metric_mean_rel_l2`` and
    ``metric_inference_time``; plus ``metric_train_rel_l2``, ``metric_train_time_s``, ``metric_n_parameters``
    and the training history over ``step``."""
    a_name, u_name = FIELD_VARS[problem]
    if n_train > train.sizes["sample"] or n_train < 1:
        raise bad_value("operators config", "n_train", n_train, f"outside [1, {train.sizes['sample']}] "
                        "(the training set's size)")
    a_tr = as_fields(train[a_name].values[:n_train], dtype, device)
    u_tr = as_fields(train[u_name].values[:n_train], dtype, device)
    a_un = None if unlabeled is None else as_fields(unlabeled[a_name].values, dtype, device)
    cfg = TrainConfig.from_dict(dict(train_cfg), source="operators config (train)")
    t0 = time.perf_counter()
    hist = train_operator(model, a_tr, u_tr, cfg, batch_size=batch_size, seed=seed, device=device,
                          physics=physics, a_unlabeled=a_un, checkpoint=checkpoint, logger=logger)
    train_time = time.perf_counter() - t0
    ds = hist.to_dataset()
    metrics = {"train_rel_l2": (float(relative_l2(predict(model, a_tr), u_tr)), "1",
                                "mean relative L2 error on the training set")}
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
        metrics[f"mean_rel_l2{sfx}"] = (float(err.mean()), "1", f"mean relative L2 error ({name} set)")
        metrics[f"inference_time{sfx}"] = (infer, "s", f"inference wall time ({name} set)")
        for d, src in zip(sdims, ("sample", *dims)):
            ds = ds.assign_coords({d: (d, test[src].values, {**test[src].attrs})})
    metrics["train_time_s"] = (train_time, "s", "training wall time")
    metrics["n_parameters"] = (count_parameters(model), "1", "trainable parameters (real scalars)")
    add_metrics(ds, metrics)
    ds.attrs.update({"n_train": int(n_train), "physics_informed": int(physics is not None), "problem": problem,
                     "unlabeled_samples": 0 if unlabeled is None else int(unlabeled.sizes["sample"])})
    return ds
