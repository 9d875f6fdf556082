"""Neural-operator library: models, metrics, physics loss, data sets and a small end-to-end FNO fit."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import shared_file

from sciml.config import defaults
from sciml.errors import InputError
from sciml.forward.darcy import darcy_residual, solve_darcy
from sciml.operators.data import load_neuralop_darcy, make_darcy_dataset, make_wave_dataset, synthetic_layered_model
from sciml.operators.deeponet import DeepONet2d
from sciml.operators.fno import FNO2d, _mode_product
from sciml.operators.metrics import relative_l2
from sciml.operators.physics import darcy_residual_torch
from sciml.studies.operators import run_model

OPS = defaults("operators")
SMALL_DARCY = {**OPS["darcy"]["generator"], "kernel": "se", "variance": 1.0, "length_scale": 0.2}


def test_relative_l2_matches_numpy_definition():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 5, 5)), rng.normal(size=(3, 5, 5))
    ref = np.linalg.norm((a - b).reshape(3, -1), axis=1) / np.linalg.norm(b.reshape(3, -1), axis=1)
    got = relative_l2(torch.tensor(a), torch.tensor(b), reduction="none").numpy()
    assert np.allclose(got, ref, rtol=1e-12)
    with pytest.raises(InputError):
        relative_l2(torch.zeros(2, 3), torch.zeros(2, 4))


def test_spectral_product_equals_complex_einsum():
    """The real block-matmul form of the Fourier-layer product equals torch's complex einsum."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 5, 6, dtype=torch.complex128, generator=g)
    w = torch.randn(4, 7, 5, 6, 2, dtype=torch.float64, generator=g)
    ref = torch.einsum("bixy,ioxy->boxy", x, torch.view_as_complex(w))
    assert torch.allclose(_mode_product(x, w), ref, atol=1e-12)


def test_fno_is_resolution_independent_and_band_limited():
    """Same weights run on 16^2 and 32^2 grids; a smooth input gives nearly the same output at shared points
    (cell-centre grids: the 32^2 value is compared with the average of its 2x2 block)."""
    net = FNO2d(width=8, modes=4, layers=2, projection=16, dtype=torch.float64, seed=3)
    f = lambda n: torch.sin(2 * np.pi * ((torch.arange(n, dtype=torch.float64) + 0.5) / n))[None, None, :, None] \
        * torch.ones(1, 1, 1, n, dtype=torch.float64)
    y16, y32 = net(f(16)), net(f(32))
    assert y16.shape == (1, 1, 16, 16) and y32.shape == (1, 1, 32, 32)
    pooled = torch.nn.functional.avg_pool2d(y32, 2)
    assert relative_l2(pooled, y16) < 0.05
    with pytest.raises(InputError, match="mixed"):
        net(f(16).float())


def test_darcy_residual_torch_matches_solver_stencil():
    """Torch residual (physics-informed loss) = numpy FV residual; zero on the direct solver's solution."""
    rng = np.random.default_rng(2)
    m = rng.normal(size=(2, 10, 10))
    u = np.stack([solve_darcy(mi, 1.0) for mi in m])
    assert torch.abs(darcy_residual_torch(torch.tensor(m), torch.tensor(u))).max() < 1e-9
    v = u + 0.01 * rng.normal(size=u.shape)
    ref = np.stack([darcy_residual(mi, vi, 1.0) for mi, vi in zip(m, v)])
    assert np.allclose(darcy_residual_torch(torch.tensor(m), torch.tensor(v)).numpy(), ref, atol=1e-9)


def test_darcy_dataset_is_reproducible_from_seed():
    """Regenerating a data set from the same seed and stream gives identical arrays; another seed differs."""
    a = make_darcy_dataset(SMALL_DARCY, 12, 4, seed=7, stream=0)
    b = make_darcy_dataset(SMALL_DARCY, 12, 4, seed=7, stream=0)
    c = make_darcy_dataset(SMALL_DARCY, 12, 4, seed=8, stream=0)
    assert np.array_equal(a["log_k"].values, b["log_k"].values) and np.array_equal(a["u"].values, b["u"].values)
    assert not np.allclose(a["log_k"].values, c["log_k"].values)
    assert a.attrs["seed"] == 7 and a.attrs["gen_length_scale"] == 0.2
    for name in ("log_k", "u", "x", "y", "sample"):
        assert {"units", "long_name"} <= set(a[name].attrs)
    with pytest.raises(InputError, match="unknown field"):
        make_darcy_dataset({**SMALL_DARCY, "lenght_scale": 0.1}, 8, 2, seed=0)
    with pytest.raises(InputError, match="missing field"):
        make_darcy_dataset({"length_scale": 0.1}, 8, 2, seed=0)


def test_wave_dataset_is_reproducible_and_fallback_model_is_layered():
    cfg = {**OPS["wave"]["generator"], "n": 16, "dx": 40.0, "refine": 1, "t_snapshot": 0.3, "pml": 10, "f0": 5.0}
    a = make_wave_dataset(cfg, 2, seed=1)
    b = make_wave_dataset(cfg, 2, seed=1)
    assert np.array_equal(a["pressure"].values, b["pressure"].values)
    assert np.abs(a["pressure"].values).max() > 0
    v = synthetic_layered_model(40, 80, 20.0, 20.0, seed=0)
    assert v.min() == 1500.0 and v.max() > 4000.0


def test_neuralop_loader_reads_published_file():
    """The published 16x16 set of the FNO paper (neuraloperator 0.3.0), when the shared file is present."""
    ds = load_neuralop_darcy(shared_file("darcy_neuralop/darcy_test_16.npz"))
    assert ds["u"].shape == (50, 16, 16)
    assert set(np.unique(np.round(np.exp(ds["log_k"].values), 6))) == {3.0, 12.0}


def test_deeponet_forward_shapes_and_resolution_transfer():
    net = DeepONet2d(8, width=16, depth=2, basis=8, dtype=torch.float64)
    assert net(torch.zeros(3, 1, 8, 8, dtype=torch.float64)).shape == (3, 1, 8, 8)
    assert net(torch.zeros(2, 1, 16, 16, dtype=torch.float64)).shape == (2, 1, 16, 16)


FNO_TARGET = 0.10  # stated CI target: mean test relative L2 on the small Darcy set below


def test_fno_learns_small_darcy_set_to_stated_error():
    """FNO trained 250 Adam steps on 100 lognormal Darcy problems (16^2) reaches test relative L2 < 10 %
    against the finite-volume reference solutions (the untrained model is at ~100 %)."""
    torch.set_num_threads(1)
    train = make_darcy_dataset(SMALL_DARCY, 16, 100, seed=0, stream=0)
    test = make_darcy_dataset(SMALL_DARCY, 16, 40, seed=0, stream=1)
    cfg = {"dtype": "float32", "batch_size": 20,
           "fno": {"width": 16, "modes": 6, "layers": 3, "projection": 32, "padding": 0.125},
           "train": {"adam_steps": 250, "lr": 5e-3, "lr_decay": 0.05, "progress": False, "checkpoint_every": 10**6}}
    ds, _ = run_model(cfg, "darcy", "fno", 100, train, {"test": test}, seed=0, device=torch.device("cpu"))
    assert float(ds["metric_mean_rel_l2"]) < FNO_TARGET, float(ds["metric_mean_rel_l2"])
    assert ds["loss_data"].values[-10:].mean() < 0.2 * ds["loss_data"].values[:10].mean()


def test_preconditioned_residual_loss_equals_relative_error_for_unit_coefficient():
    """For k = 1 the H^-1 residual loss is exactly ||u - u*|| / ||u*|| (u* = FV solution); it vanishes on
    the solver's solution for any k, and the l2 option is the strong residual relative to f."""
    from sciml.operators.physics import darcy_residual_loss

    rng = np.random.default_rng(4)
    n = 10
    zero = np.zeros((n, n))
    u0 = solve_darcy(zero, 1.0)
    w = u0 + 0.01 * rng.normal(size=u0.shape)
    t = lambda x: torch.tensor(x)[None, None]
    assert np.isclose(darcy_residual_loss(t(zero), t(w)).item(), np.linalg.norm(w - u0) / np.linalg.norm(u0))
    m = rng.normal(size=(n, n))
    assert darcy_residual_loss(t(m), t(solve_darcy(m, 1.0))).item() < 1e-12
    r = darcy_residual(m, w, 1.0)
    assert np.isclose(darcy_residual_loss(t(m), t(w), norm="l2").item(), np.sqrt(np.mean(r**2)))
