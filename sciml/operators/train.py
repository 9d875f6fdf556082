"""Building, training and evaluating neural operators with the project trainer (:mod:`sciml.nn.trainer`).

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.errors import InputError
from sciml.nn.trainer import TrainConfig, Trainer, TrainHistory
from sciml.operators.deeponet import DeepONet2d
from sciml.operators.fno import FNO2d
from sciml.operators.metrics import relative_l2
from sciml.operators.physics import darcy_residual_loss

MODEL_KINDS = ("fno", "deeponet")


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
        raise InputError(f"operators config: field 'model' = {kind!r}: expected one of {MODEL_KINDS}")
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
        raise InputError(f"operators config: field 'batch_size' = {batch_size!r}: must be >= 1")
    n = a.shape[0]
    a_pde = a if a_unlabeled is None or a_unlabeled.shape[0] == 0 else torch.cat([a, a_unlabeled])

    def loss_fn(net: nn.Module, step: int) -> dict[str, torch.Tensor]:
        idx = _batch(step, n, batch_size, seed).to(a.device)
        terms = {"data": relative_l2(net(a[idx]), u[idx])}
        if physics is not None:
            jdx = _batch(step, a_pde.shape[0], batch_size, seed + 1).to(a.device)
            terms["pde"] = darcy_residual_loss(a_pde[jdx], net(a_pde[jdx]), float(physics.get("source", 1.0)),
                                               norm=physics.get("norm", "h-1"))
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
