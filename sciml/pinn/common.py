"""Shared pieces of the PINN studies: network construction from config, seeded sampling, result packing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import xarray as xr

from sciml.device import resolve_dtype
from sciml.errors import InputError
from sciml.io.netcdf import add_metrics
from sciml.nn import MLP, TrainConfig, TrainHistory

NETWORK_KEYS = {"hidden", "activation", "init", "fourier_features", "fourier_scale"}


@dataclass
class StudyResult:
    """What a study returns: the dataset to write (predictions, reference, error, ``metric_*`` variables,
    training history), the trained model's state dict, and the metrics as a dict."""

    dataset: xr.Dataset
    state: dict[str, Any]
    metrics: dict[str, float]
    history: TrainHistory


def build_mlp(cfg: dict[str, Any], in_dim: int, out_dim: int, *, lower: Sequence[float], upper: Sequence[float],
              dtype: torch.dtype, seed: int, init: str | None = None, source: str = "pinn.network") -> MLP:
    """MLP ``[in_dim, *hidden, out_dim]`` from a complete network config section (keys :data:`NETWORK_KEYS`,
    inputs scaled from ``[lower, upper]``); ``init`` overrides the section's initialisation."""
    unknown, missing = set(cfg) - NETWORK_KEYS, NETWORK_KEYS - set(cfg)
    if unknown or missing:
        raise InputError(f"config {source}: field(s) {sorted(unknown or missing)}: "
                         f"{'unknown' if unknown else 'missing'}; expected {sorted(NETWORK_KEYS)}")
    return MLP([in_dim, *cfg["hidden"], out_dim], cfg["activation"], init or cfg["init"], lower=lower, upper=upper,
               fourier_features=int(cfg["fourier_features"]), fourier_scale=float(cfg["fourier_scale"]),
               dtype=dtype, seed=seed)


def dtype_of(cfg: dict[str, Any]) -> torch.dtype:
    """Training precision: the top-level ``dtype`` the step adds to its slice (``float32`` | ``float64``)."""
    return resolve_dtype(cfg["dtype"])


def train_config(cfg: dict[str, Any], progress: bool, source: str) -> TrainConfig:
    return TrainConfig.from_dict({**cfg["train"], "progress": progress}, source=f"config {source}.train")


def step_generator(seed: int, step: int, device: torch.device) -> torch.Generator:
    """Generator for the collocation points of one step: a pure function of (seed, step), so resampling
    is reproducible across resumes and identical for every L-BFGS closure call of the step."""
    g = torch.Generator(device=device)
    g.manual_seed((int(seed) * 1_000_003 + int(step)) % (2**63 - 1))
    return g


def collocation_seed_step(step: int, train: TrainConfig) -> int:
    """Resample collocation points every Adam step, but keep one fixed set during L-BFGS (its curvature
    pairs assume a fixed objective)."""
    return min(int(step), train.adam_steps)


def uniform(n: int, lower: Sequence[float], upper: Sequence[float], gen: torch.Generator, *, dtype: torch.dtype,
            device: torch.device) -> torch.Tensor:
    """``n`` points uniform in the box ``[lower, upper]``: shape ``(n, len(lower))``."""
    lo = torch.as_tensor(lower, dtype=dtype, device=device)
    hi = torch.as_tensor(upper, dtype=dtype, device=device)
    return lo + (hi - lo) * torch.rand(n, lo.numel(), generator=gen, dtype=dtype, device=device)


def rel_l2(pred: np.ndarray, ref: np.ndarray) -> float:
    """Relative L2 error ``||pred - ref|| / ||ref||`` (NaNs ignored)."""
    d = np.asarray(pred, float) - np.asarray(ref, float)
    ok = np.isfinite(d)
    return float(np.linalg.norm(d[ok]) / np.linalg.norm(np.asarray(ref, float)[ok]))


def with_history(ds: xr.Dataset, history: TrainHistory, prefix: str = "train_") -> xr.Dataset:
    """Add the training history (dimension ``step``) to ``ds`` with names prefixed by ``prefix``."""
    h = history.to_dataset()
    h = h.rename({v: prefix + v for v in h.data_vars})
    return xr.merge([ds, h], combine_attrs="drop_conflicts")


def result(ds: xr.Dataset, metrics: dict[str, tuple[float, str, str]], history: TrainHistory,
           state: dict[str, Any]) -> StudyResult:
    """Pack a study's output: ``metrics`` (``{name: (value, units, long_name)}``) become ``metric_<name>``
    variables of ``ds`` (:func:`sciml.io.netcdf.add_metrics`), the training history joins it."""
    ds = with_history(add_metrics(ds, metrics), history)
    return StudyResult(ds, state, {k: float(v[0]) for k, v in metrics.items()}, history)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def predict(fn, pts: np.ndarray, *, dtype: torch.dtype, device: torch.device, batch: int = 20000) -> np.ndarray:
    """Evaluate ``fn`` (torch -> torch) on numpy points in batches without gradients."""
    out = []
    with torch.no_grad():
        for i in range(0, len(pts), batch):
            out.append(to_numpy(fn(torch.as_tensor(pts[i:i + batch], dtype=dtype, device=device))))
    return np.concatenate(out)
