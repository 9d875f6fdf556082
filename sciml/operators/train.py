"""Building, training and evaluating neural operators with the project trainer (:mod:`sciml.nn.trainer`).

:func:`make_operator` builds our FNO / DeepONet (:func:`build_model`) or the ``neuraloperator`` package's FNO
(:func:`neuralop_fno`); :func:`fit_and_evaluate` trains one on the first ``n`` samples of a data set and
evaluates it on test sets (predictions, per-sample errors, ``metric_*`` variables).

Models act on physical fields: :class:`NormalizedOperator` standardises each input channel and rescales the
output with scalar statistics of the training set (scalars, not per-pixel, so the operator stays
resolution independent), stored as buffers so saved weights are self-contained. Inputs are one or more
variables of a data set stacked as channels (:func:`stack_inputs`; Darcy: ``log_k``; wave: ``velocity``,
optionally with the ray-theory ``direct_wave``).
Loss terms: ``data`` = mean relative L2 error of a mini-batch; ``pde`` (physics-informed option for Darcy)
= relative discrete Darcy residual of the prediction (:func:`~sciml.operators.physics.darcy_residual_loss`)
on labelled and optional unlabelled inputs. Mini-batches are a deterministic function of the step
(epoch permutation seeded by ``(seed, epoch)``), as the trainer's resume contract requires, so a run resumed
from its checkpoint (``checkpoint=``) gives the uninterrupted result. With a validation set, its mean
relative L2 error every ``val_every`` steps is the learning curve (history variable ``val_metric``), and the
best-validated weights are kept (the trainer's ``restore_best``); the test sets are never used in training.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
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
FIELD_VARS = {"darcy": ("log_k", "u"), "wave": ("velocity", "pressure")}  # default input, output


class NormalizedOperator(nn.Module):
    """``u = net((a - a_mean) / a_std) * u_std + u_mean`` for inputs ``(B, C, H, W)`` (one mean and standard
    deviation per channel) and outputs ``(B, 1, H, W)``.

    ``symmetry`` (set by training with an ``augment`` group, :data:`SYMMETRY_ORDER`; default ``"none"``): in
    evaluation mode the output is the average over the group's elements ``g`` of ``g^-1 op(g a)`` (group
    averaging, :func:`group_average`), an exactly equivariant operator (``d4``: rotations and reflections of the
    square; ``flip_x``: the mirror x -> -x); training-mode calls (the loss) are not averaged."""

    def __init__(self, net: nn.Module, a_mean: float | Sequence[float], a_std: float | Sequence[float],
                 u_mean: float, u_std: float):
        super().__init__()
        self.net = net
        self.dtype = net.dtype
        a_mean, a_std = np.atleast_1d(np.asarray(a_mean, float)), np.atleast_1d(np.asarray(a_std, float))
        self.register_buffer("a_mean", torch.tensor(a_mean, dtype=net.dtype).reshape(1, -1, 1, 1))
        self.register_buffer("a_std", torch.tensor(np.where(a_std > 0, a_std, 1.0), dtype=net.dtype).reshape(1, -1, 1, 1))
        for name, val in (("u_mean", u_mean), ("u_std", u_std)):
            self.register_buffer(name, torch.tensor(float(val), dtype=net.dtype))
        self.symmetry = "none"

    @property
    def in_channels(self) -> int:
        return int(self.a_mean.shape[1])

    def _forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.net((a - self.a_mean) / self.a_std) * self.u_std + self.u_mean

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if self.symmetry != "none" and not self.training:
            return group_average(self._forward, a, self.symmetry)
        return self._forward(a)


def d4_apply(x: torch.Tensor, k: int) -> torch.Tensor:
    """Element ``k`` in 0..7 of the symmetry group of the square on the last two (equal) axes of ``x``:
    ``k % 4`` quarter turns, then a transpose if ``k >= 4`` (``k = 0``: the identity)."""
    y = torch.rot90(x, k % 4, dims=(-2, -1))
    return y.transpose(-2, -1) if k >= 4 else y


def d4_invert(y: torch.Tensor, k: int) -> torch.Tensor:
    """The inverse of :func:`d4_apply` with the same ``k``."""
    return torch.rot90(y.transpose(-2, -1) if k >= 4 else y, -(k % 4), dims=(-2, -1))


SYMMETRY_ORDER = {"d4": 8, "flip_x": 2}  # symmetry group -> its number of elements


def group_apply(x: torch.Tensor, group: str, k: int) -> torch.Tensor:
    """Element ``k`` of ``group`` on the last two axes ``(..., H, W)`` of ``x``: ``d4`` (:func:`d4_apply`,
    square grids) or ``flip_x`` (``k = 1``: the mirror of the last axis, x -> -x; ``k = 0``: the identity)."""
    if group == "d4":
        return d4_apply(x, k)
    if group == "flip_x":
        return x.flip(-1) if k else x
    raise bad_value("operators config", "augment", group, f"expected one of {sorted(SYMMETRY_ORDER)}")


def group_invert(y: torch.Tensor, group: str, k: int) -> torch.Tensor:
    """The inverse of :func:`group_apply` with the same ``group`` and ``k``."""
    return d4_invert(y, k) if group == "d4" else group_apply(y, group, k)  # flip_x: an involution


def group_average(fn: Callable[[torch.Tensor], torch.Tensor], a: torch.Tensor, group: str) -> torch.Tensor:
    """``mean_g g^-1 fn(g a)`` over the elements ``g`` of ``group`` (fields ``(B, C, H, W)``)."""
    out = 0
    for k in range(SYMMETRY_ORDER[group]):
        out = out + group_invert(fn(group_apply(a, group, k)), group, k)
    return out / SYMMETRY_ORDER[group]


def _channels(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a[:, None] if a.ndim == 3 else a


def _stats(a: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    a = _channels(a)
    return a.mean(axis=(0, 2, 3)), a.std(axis=(0, 2, 3)), float(np.mean(u)), float(np.std(u)) or 1.0


def build_model(kind: str, cfg: Mapping[str, Any], *, a: np.ndarray, u: np.ndarray, dtype: torch.dtype,
                seed: int) -> NormalizedOperator:
    """FNO (``cfg``: width, modes, layers, projection, padding) or DeepONet (width, depth, basis, activation,
    branch, trunk, channels; sensors = training grid; a POD trunk is fitted to ``u``) normalised by the
    statistics of training arrays ``a`` ``(N, H, W)`` or ``(N, C, H, W)`` and ``u`` ``(N, H, W)``."""
    cfg = dict(cfg)
    a_mean, a_std, u_mean, u_std = _stats(a, u)
    if kind == "fno":
        net: nn.Module = FNO2d(len(a_mean), 1, dtype=dtype, seed=seed, **cfg)
    elif kind == "deeponet":
        if len(a_mean) != 1:
            raise bad_value("operators config", "inputs", len(a_mean), "DeepONet takes one input field")
        net = DeepONet2d(np.shape(a)[-1], dtype=dtype, seed=seed, **cfg)
        if net.trunk_kind == "pod":
            net.pod_left_out = net.set_pod((np.asarray(u) - u_mean) / u_std)
    else:
        raise bad_value("operators config", "model", kind, f"expected one of {MODEL_KINDS}")
    return NormalizedOperator(net, a_mean, a_std, u_mean, u_std)


def stack_inputs(ds: xr.Dataset, names: Sequence[str], count: int | None = None) -> np.ndarray:
    """Variables ``names`` of ``ds`` (first ``count`` samples) as channels ``(N, C, H, W)``."""
    missing = [n for n in names if n not in ds]
    if missing:
        raise InputError(f"{ds.attrs.get('source_file', 'data set')}: input variable(s) {missing} not found; "
                         f"it has {sorted(ds.data_vars)}")
    return np.stack([ds[n].values[:count] for n in names], axis=1)


def as_fields(x: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(N, H, W)`` array to a ``(N, 1, H, W)`` tensor (``(N, C, H, W)`` is kept)."""
    return torch.as_tensor(_channels(x), dtype=dtype, device=device)


def _batch(step: int, n: int, batch_size: int, seed: int) -> torch.Tensor:
    per_epoch = max(1, -(-n // batch_size))
    epoch, k = divmod(step, per_epoch)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed) * 100_003 + epoch))
    return perm[k * batch_size:(k + 1) * batch_size]


AUGMENTATIONS = ("none", *SYMMETRY_ORDER)


def group_transform(x: torch.Tensor, group: str, k: torch.Tensor) -> torch.Tensor:
    """Each field ``x[i]`` (``(N, C, H, W)``) under element ``k[i]`` of ``group`` (:func:`group_apply`)."""
    return torch.stack([group_apply(xi, group, ki) for xi, ki in zip(x, k.tolist())])


def _group_draw(step: int, count: int, seed: int, stream: int, order: int) -> torch.Tensor:
    """Group elements (of ``order``) of the ``count`` samples of mini-batch ``step`` (deterministic in seed and
    step)."""
    gen = torch.Generator().manual_seed((int(seed) * 1_000_003 + int(step)) * 4 + stream)
    return torch.randint(0, order, (count,), generator=gen)


def train_operator(model: NormalizedOperator, a: torch.Tensor, u: torch.Tensor, config: TrainConfig, *,
                   batch_size: int, seed: int, device: torch.device, physics: Mapping[str, Any] | None = None,
                   a_unlabeled: torch.Tensor | None = None, checkpoint: str | Path | None = None,
                   augment: str = "none",
                   validate: Callable[[nn.Module], float] | None = None,
                   logger: logging.Logger | None = None) -> TrainHistory:
    """Fit ``model`` to pairs ``a -> u`` (``(N, C, H, W)`` -> ``(N, 1, H, W)``). ``physics``: ``{"source": f,
    "norm": "h-1" | "l2"}`` adds the ``pde`` term (Darcy residual, ``a`` = log-permeability) on the labelled and
    ``a_unlabeled`` inputs; its weight is ``config.weights["pde"]``. ``validate(model) -> float``: the
    validation error, every ``config.val_every`` steps; ``checkpoint``: the trainer's resumable state.
    ``augment``: a symmetry group (:data:`SYMMETRY_ORDER`) whose random element maps each mini-batch sample
    (input and output together, :func:`group_transform`): exact data augmentation for problems invariant under
    it (``d4``: rotations and reflections of the square, e.g. Darcy on the unit square with a constant source
    and zero boundary values; ``flip_x``: the mirror x -> -x, e.g. a wavefield from a source on the grid's
    vertical centre line); the caller checks that the problem has the symmetry. ``none``: off."""
    if a.ndim != 4 or u.ndim != 4 or a.shape[0] != u.shape[0] or a.shape[2:] != u.shape[2:] or u.shape[1] != 1:
        raise InputError(f"train_operator: a {tuple(a.shape)} and u {tuple(u.shape)}: expected (N, C, H, W) and "
                         "(N, 1, H, W) on the same grid")
    if batch_size < 1:
        raise bad_value("operators config", "batch_size", batch_size, "must be >= 1")
    if augment not in AUGMENTATIONS:
        raise bad_value("operators config", "augment", augment, f"expected one of {AUGMENTATIONS}")
    if augment == "d4" and a.shape[2] != a.shape[3]:
        raise bad_value("operators config", "augment", augment, f"needs a square grid, not {tuple(a.shape[2:])}")
    n = a.shape[0]
    a_pde = a if a_unlabeled is None or a_unlabeled.shape[0] == 0 else torch.cat([a, a_unlabeled])

    def loss_fn(net: nn.Module, step: int) -> dict[str, torch.Tensor]:
        idx = _batch(step, n, batch_size, seed).to(a.device)
        a_b, u_b = a[idx], u[idx]
        if augment != "none":
            g = _group_draw(step, len(idx), seed, 0, SYMMETRY_ORDER[augment])
            a_b, u_b = group_transform(a_b, augment, g), group_transform(u_b, augment, g)
        terms = {"data": relative_l2(net(a_b), u_b)}
        if physics is not None:
            jdx = _batch(step, a_pde.shape[0], batch_size, seed + 1).to(a.device)
            a_p = a_pde[jdx] if augment == "none" else group_transform(
                a_pde[jdx], augment, _group_draw(step, len(jdx), seed, 1, SYMMETRY_ORDER[augment]))
            terms["pde"] = darcy_residual_loss(a_p, net(a_p), float(physics["source"]), norm=physics["norm"])
        return terms

    trainer = Trainer(model, loss_fn, config, device=device, checkpoint=checkpoint, validate=validate, logger=logger)
    return trainer.fit()


@torch.no_grad()
def predict(model: nn.Module, a: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Model output for inputs ``a`` ``(N, 1, H, W)`` in evaluation mode, in batches."""
    model.eval()
    out = torch.cat([model(a[i:i + batch_size]) for i in range(0, a.shape[0], batch_size)])
    model.train()
    return out


def neuralop_fno(cfg: Mapping[str, Any], *, dtype: torch.dtype, seed: int, in_channels: int = 1) -> nn.Module:
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
    net = FNO(n_modes=(2 * m, 2 * m), in_channels=int(in_channels), out_channels=1, hidden_channels=int(cfg["width"]),
              n_layers=int(cfg["layers"]), domain_padding=float(cfg["padding"]) or None)
    net.dtype = dtype
    return net


def make_operator(kind: str, cfg: Mapping[str, Any], a: np.ndarray, u: np.ndarray, *, dtype: torch.dtype,
                  seed: int) -> NormalizedOperator:
    """``fno`` / ``deeponet`` (ours) or ``neuralop`` (the package's FNO), normalised by the training data
    ``a`` ``(N, [C,] H, W)``, ``u`` ``(N, H, W)``."""
    if kind == "neuralop":
        a_mean, a_std, u_mean, u_std = _stats(a, u)
        return NormalizedOperator(neuralop_fno(cfg, dtype=dtype, seed=seed, in_channels=len(a_mean)), a_mean, a_std,
                                  u_mean, u_std)
    return build_model(kind, cfg, a=a, u=u, dtype=dtype, seed=seed)


def _suffix(name: str) -> str:
    return "" if name == "test" else f"_{name}"


def fit_and_evaluate(model: NormalizedOperator, problem: str, train: xr.Dataset, tests: Mapping[str, xr.Dataset],
                     n_train: int, train_cfg: Mapping[str, Any], *, batch_size: int, seed: int, device: torch.device,
                     dtype: torch.dtype, inputs: Sequence[str] | None = None, val: xr.Dataset | None = None,
                     physics: Mapping[str, Any] | None = None, unlabeled: xr.Dataset | None = None,
                     checkpoint: str | Path | None = None, logger: logging.Logger | None = None,
                     augment: str = "none") -> xr.Dataset:
    """Train ``model`` on the first ``n_train`` samples of ``train`` and evaluate it on each test set.

    ``inputs``: input variables (channels; default the problem's one, :data:`FIELD_VARS`); ``val``: validation
    set for the learning curve and the choice of the kept weights (see the module docstring); ``checkpoint``:
    file of the resumable training state; ``augment``: :func:`train_operator`'s (a group also makes every
    evaluation, validation included, the group average of :class:`NormalizedOperator`). Output variables per
    test set ``name`` (suffix ``_name`` except for ``test``): ``prediction`` ``(sample, *grid)``, ``rel_l2`` ``(sample)`` and the metrics ``metric_mean_rel_l2``
    and ``metric_inference_time``; plus ``metric_train_rel_l2``, ``metric_val_rel_l2`` (with ``val``),
    ``metric_train_time_s``, ``metric_n_parameters`` and the training history over ``step``."""
    default_in, u_name = FIELD_VARS[problem]
    names = tuple(inputs or (default_in,))
    if n_train > train.sizes["sample"] or n_train < 1:
        raise bad_value("operators config", "n_train", n_train, f"outside [1, {train.sizes['sample']}] "
                        "(the training set's size)")
    a_tr = as_fields(stack_inputs(train, names, n_train), dtype, device)
    u_tr = as_fields(train[u_name].values[:n_train], dtype, device)
    a_un = None if unlabeled is None else as_fields(stack_inputs(unlabeled, names[:1]), dtype, device)
    model.symmetry = augment  # the prediction of a model trained under a group: its group average
    cfg = TrainConfig.from_dict(dict(train_cfg), source="operators config (train)")
    validate = None
    if val is not None:
        a_va = as_fields(stack_inputs(val, names), dtype, device)
        u_va = as_fields(val[u_name].values, dtype, device)

        def validate(net: nn.Module) -> float:
            return float(relative_l2(predict(net, a_va), u_va))

    t0 = time.perf_counter()
    hist = train_operator(model, a_tr, u_tr, cfg, batch_size=batch_size, seed=seed, device=device,
                          physics=physics, a_unlabeled=a_un, checkpoint=checkpoint, validate=validate, logger=logger,
                          augment=augment)
    train_time = float(hist.wall_time[-1]) if len(hist) else time.perf_counter() - t0  # resumed runs: all parts
    ds = hist.to_dataset()
    ds["val_metric"].attrs["long_name"] = "mean relative L2 error on the validation set (NaN where not evaluated)"
    metrics = {"train_rel_l2": (float(relative_l2(predict(model, a_tr), u_tr)), "1",
                                "mean relative L2 error on the training set")}
    if val is not None:
        metrics["val_rel_l2"] = (validate(model), "1", "mean relative L2 error on the validation set (kept weights)")
    dims = FIELD_DIMS[problem]
    for name, test in tests.items():
        sfx = _suffix(name)
        a_te = as_fields(stack_inputs(test, names), dtype, device)
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
    metrics["train_time_s"] = (train_time, "s", "training wall time (all parts of a resumed run)")
    metrics["n_parameters"] = (count_parameters(model), "1", "trainable parameters (real scalars)")
    add_metrics(ds, metrics)
    ds.attrs.update({"n_train": int(n_train), "physics_informed": int(physics is not None), "problem": problem,
                     "inputs": " ".join(names), "val_samples": 0 if val is None else int(val.sizes["sample"]),
                     "unlabeled_samples": 0 if unlabeled is None else int(unlabeled.sizes["sample"]),
                     "augment": augment})
    return ds
