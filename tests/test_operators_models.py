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


def test_d4_augmentation_is_an_exact_symmetry_of_the_darcy_problem():
    """The eight maps of group_transform(., "d4", .) are distinct and each maps a Darcy pair (log k, u) to another pair
    (constant source, u = 0 on the boundary of the square); the pointwise einsum equals the 1x1 convolution."""
    from sciml.operators.fno import pointwise
    from sciml.operators.train import _group_draw, group_transform

    log_k = make_darcy_dataset(SMALL_DARCY, 12, 1, seed=0, stream=0)["log_k"].values[0]
    u = solve_darcy(log_k, 1.0)
    a, ut = torch.tensor(log_k)[None, None].repeat(8, 1, 1, 1), torch.tensor(u)[None, None].repeat(8, 1, 1, 1)
    g = torch.arange(8)
    a8, u8 = group_transform(a, "d4", g), group_transform(ut, "d4", g)
    assert torch.equal(a8[0], a[0]) and len({tuple(x.flatten().tolist()) for x in a8}) == 8
    for ak, uk in zip(a8, u8):
        assert np.abs(solve_darcy(ak[0].numpy().copy(), 1.0) - uk[0].numpy()).max() < 1e-12 * np.abs(u).max()
    draw = _group_draw(5, 10, 1, 0, 8)
    assert torch.equal(draw, _group_draw(5, 10, 1, 0, 8)) and not torch.equal(draw, _group_draw(6, 10, 1, 0, 8))
    from sciml.operators.train import NormalizedOperator
    op = NormalizedOperator(FNO2d(width=6, modes=3, layers=2, projection=8, dtype=torch.float64, seed=1), 0.0, 1.0,
                            0.0, 1.0)
    op.symmetry = "d4"
    op.eval()
    x = torch.randn(8, 1, 10, 10, dtype=torch.float64)
    y = op(x)
    d4 = lambda f: group_transform(f, "d4", g)  # noqa: E731
    assert torch.allclose(op(d4(x)), d4(y), atol=1e-12)  # exactly equivariant
    op.train()
    assert not torch.allclose(op(d4(x)), d4(op(x)), atol=1e-6)  # training: plain net
    conv = torch.nn.Conv2d(3, 5, 1, dtype=torch.float64)
    x = torch.randn(2, 3, 4, 6, dtype=torch.float64)
    assert torch.allclose(pointwise(conv, x), conv(x), atol=1e-12)


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


def test_fno_optional_layers_keep_the_default_layout_and_count_as_neuraloperator():
    """Options off: the default FNO's weights and outputs are unchanged by their existence (the extra layers are seeded
    after the others). Options on (channel MLP per layer, MLP lifting, m + 1 modes on the real-FFT axis): the
    parameter count equals the hand count and, when installed, neuraloperator 2.0's FNO count for the matching
    configuration (n_modes = 2 m, its defaults: lifting and projection ratio 2, channel-MLP expansion 0.5)."""
    from sciml.operators.fno import count_parameters

    x = torch.randn(2, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    base = FNO2d(width=8, modes=4, layers=2, projection=16, dtype=torch.float64, seed=3)
    off = FNO2d(width=8, modes=4, layers=2, projection=16, channel_mlp=0.0, lifting=0, modes_x=0,
                dtype=torch.float64, seed=3)
    assert torch.equal(base(x), off(x)) and count_parameters(base) == count_parameters(off)
    assert {n.split(".")[0] for n, _ in off.named_parameters()} == {"lift", "spectral", "pointwise", "proj1", "proj2"}
    w, m, L = 32, 8, 4
    net = FNO2d(width=w, modes=m, layers=L, projection=2 * w, channel_mlp=0.5, lifting=2 * w, modes_x=m + 1, seed=0)
    h = w // 2
    hand = ((3 * 2 * w + 2 * w) + (2 * w * w + w)                      # lifting MLP (input + 2 grid channels)
            + L * (2 * w * w * m * (m + 1) * 2 + w * w + w             # spectral (2 corners, re/im) + 1x1 skip
                   + (w * h + h) + (h * w + w) + w)                    # channel MLP + gate
            + (w * 2 * w + 2 * w) + (2 * w + 1))                       # projection MLP
    assert count_parameters(net) == hand
    assert net(torch.randn(2, 1, 16, 16)).shape == (2, 1, 16, 16)
    assert net(torch.randn(1, 1, 32, 24)).shape == (1, 1, 32, 24)  # any resolution, modes clipped at Nyquist
    for bad in ({"channel_mlp": -0.5}, {"lifting": -1}, {"modes_x": -2}):
        with pytest.raises(InputError, match=next(iter(bad))):
            FNO2d(width=8, modes=4, **bad)
    neuralop = pytest.importorskip("neuralop.models")
    peer = neuralop.FNO(n_modes=(2 * m, 2 * m), in_channels=1, out_channels=1, hidden_channels=w, n_layers=L)
    assert count_parameters(peer) == hand


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
    a = make_wave_dataset(cfg, OPS["wave"]["prior"], 3, seed=1)
    b = make_wave_dataset(cfg, OPS["wave"]["prior"], 3, seed=1)
    for name in ("pressure", "direct_wave", "velocity", "family", "water"):
        assert np.array_equal(a[name].values, b[name].values), name
    assert np.abs(a["pressure"].values).max() > 0
    v = synthetic_layered_model(40, 80, 20.0, 20.0, seed=0)
    assert v.min() == 1500.0 and v.max() > 4000.0


def test_neuralop_loader_reads_published_file():
    """The published 16x16 set of the FNO paper (neuraloperator 0.3.0), when the shared file is present."""
    ds = load_neuralop_darcy(shared_file("darcy_neuralop/darcy_test_16.npz"))
    assert ds["u"].shape == (50, 16, 16)
    assert set(np.unique(np.round(np.exp(ds["log_k"].values), 6))) == {3.0, 12.0}


def test_deeponet_forward_shapes_and_resolution_transfer():
    for kw in ({}, {"branch": "cnn"}, {"branch": "cnn", "trunk": "pod"}, {"trunk": "pod"}):
        net = DeepONet2d(8, width=16, depth=2, basis=8, channels=4, dtype=torch.float64, **kw)
        assert net(torch.zeros(3, 1, 8, 8, dtype=torch.float64)).shape == (3, 1, 8, 8), kw
        assert net(torch.zeros(2, 1, 16, 16, dtype=torch.float64)).shape == (2, 1, 16, 16), kw
    with pytest.raises(InputError, match="branch"):
        DeepONet2d(8, branch="unet")


def test_pod_trunk_is_the_svd_basis_of_the_training_outputs():
    """POD trunk vs numpy's SVD: orthogonal modes scaled to unit-variance coefficients; the coefficients of
    the training outputs reproduce them up to exactly the reported left-out variance fraction; on a finer
    grid the mean and modes are the bilinear resampling of the sensor-grid ones."""
    from sciml.operators.deeponet import pod_basis

    rng = np.random.default_rng(0)
    u = rng.normal(size=(40, 6, 6)) @ np.diag(np.linspace(2, 0.1, 6))
    mean, modes, left_out = pod_basis(u, 5)
    phi = modes.reshape(5, -1)
    gram = phi @ phi.T * u.shape[0]
    s = np.linalg.svd((u - u.mean(0)).reshape(40, -1), compute_uv=False)
    assert np.allclose(gram, np.diag(s[:5] ** 2), atol=1e-9)
    centred = (u - mean).reshape(40, -1)
    coeff = centred @ phi.T / np.sum(phi**2, axis=1)
    resid = centred - coeff @ phi
    assert np.isclose(np.sum(resid**2) / np.sum(centred**2), left_out)
    assert np.allclose(coeff.std(0), 1.0)  # unit-variance coefficients: the scale the branch net starts at
    net = DeepONet2d(6, basis=5, trunk="pod", dtype=torch.float64)
    net.set_pod(u)
    with torch.no_grad():
        for par in net.branch.parameters():  # zero coefficients: the output is the (resampled) mean field
            par.zero_()
        out = net(torch.zeros(1, 1, 12, 12, dtype=torch.float64))[0, 0]
    fine = torch.nn.functional.interpolate(torch.tensor(mean)[None, None], size=(12, 12), mode="bilinear")
    assert torch.allclose(out, fine[0, 0])


def test_deeponet_pod_cnn_learns_small_darcy_set_to_stated_error():
    """POD-DeepONet with a CNN branch, 400 Adam steps on 100 lognormal Darcy problems (16^2): test relative L2
    < 16 % against the finite-volume solutions (a CI threshold for this small run, set near what it reaches:
    0.130, training error 0.038 -- 100 samples overfit; the MLP-trunk DeepONet of the same budget reaches
    0.218, measured 2026-12-02)."""
    torch.set_num_threads(1)
    train = make_darcy_dataset(SMALL_DARCY, 16, 100, seed=0, stream=0)
    test = make_darcy_dataset(SMALL_DARCY, 16, 40, seed=0, stream=1)
    cfg = {"dtype": "float32", "batch_size": 20,
           "deeponet": {"width": 64, "depth": 2, "basis": 32, "activation": "gelu", "branch": "cnn", "trunk": "pod",
                        "channels": 16},
           "train": {"adam_steps": 400, "lr": 2e-3, "lr_schedule": "cosine", "warmup_steps": 20, "progress": False,
                     "checkpoint_every": 10**6}}
    ds, _ = run_model(cfg, "darcy", "deeponet", 100, train, {"test": test}, seed=0, device=torch.device("cpu"))
    assert float(ds["metric_mean_rel_l2"]) < 0.16, float(ds["metric_mean_rel_l2"])


def test_cosine_schedule_warms_up_and_anneals_to_the_final_fraction():
    from sciml.nn.trainer import TrainConfig, Trainer

    cfg = TrainConfig(adam_steps=110, lr=2.0, lr_schedule="cosine", warmup_steps=10, lr_final=0.01, progress=False)
    tr = Trainer(torch.nn.Linear(1, 1), lambda m, s: {"a": m(torch.ones(1, 1)).sum()}, cfg, device="cpu")
    assert np.isclose(tr._lr(0), 0.2) and np.isclose(tr._lr(9), 2.0) and np.isclose(tr._lr(10), 2.0)
    assert np.isclose(tr._lr(60), 2.0 * (0.01 + 0.99 * 0.5)) and np.isclose(tr._lr(110), 0.02)
    assert np.isclose(Trainer(torch.nn.Linear(1, 1), tr.loss_fn, TrainConfig(lr=1.0, lr_decay=0.5), device="cpu")
                      ._lr(1000), 0.5)  # the exponential default is unchanged
    with pytest.raises(InputError, match="lr_schedule"):
        TrainConfig(lr_schedule="step")


def test_velocity_prior_families_water_layer_and_reproducibility():
    """Mixture prior: a water layer of the configured velocity on top where flagged, layered models piecewise
    constant (few distinct values), every model inside [v_min, v_max], identical draws from the same seed."""
    from sciml.operators.velocity import FAMILIES, sample_velocity_models

    gen = OPS["wave"]["generator"]
    prior = {**OPS["wave"]["prior"], "water": 0.5}
    coords = np.arange(60) * 12.5
    v, fam, water = sample_velocity_models(gen, prior, coords, 30, np.random.default_rng(3))
    v2, fam2, _ = sample_velocity_models(gen, prior, coords, 30, np.random.default_rng(3))
    assert np.array_equal(v, v2) and np.array_equal(fam, fam2)
    assert set(fam) == {0, 1, 2} and 0 < water.sum() < 30
    assert v.min() >= gen["v_min"] and v.max() <= gen["v_max"]
    assert np.all(v[water, 0, :] == prior["water_velocity"])
    layered = (fam == FAMILIES.index("layered")) & ~water
    assert all(len(np.unique(m)) <= prior["interfaces"][1] + 1 for m in v[layered])
    gp = (fam == FAMILIES.index("gp")) & ~water
    assert all(len(np.unique(m)) > 1000 for m in v[gp])  # smooth GP fields, not layers


def test_direct_wave_is_the_greens_function_and_matches_the_simulation_in_a_homogeneous_medium():
    """The ray-theory input channel in a homogeneous medium: equal to the analytic 2-D Green's-function
    snapshot (greens_pressure_2d) at every node to 5 % of its peak (the second-order fast-marching times are
    ~0.7 ms off here), and within 10 % (relative L2) of the finite-difference snapshot it stands in for."""
    from sciml.forward.acoustic import greens_pressure_2d
    from sciml.operators.data import _source_index, direct_wave, simulate_snapshots, wave_grid

    cfg = {**OPS["wave"]["generator"], "n": 24, "dx": 40.0, "refine": 2, "t_snapshot": 0.3, "f0": 8.0}
    _, xf = wave_grid(cfg)
    v = np.full((1, xf.size, xf.size), 2500.0)
    p0 = direct_wave(v, cfg)[0]
    xs, _ = wave_grid(cfg)
    zs_, xs_ = (i * cfg["dx"] / cfg["refine"] for i in _source_index(cfg, xf.size))
    r = np.hypot(*np.meshgrid(xs - zs_, xs - xs_, indexing="ij"))
    ref = np.array([greens_pressure_2d(max(ri, 1.0), np.array([0.3]), 2500.0, 8.0)[0] for ri in r.ravel()])
    ref = ref.reshape(r.shape)
    far = r > 2 * cfg["dx"]
    assert np.abs(p0 - ref)[far].max() < 0.05 * np.abs(ref).max()
    sim = simulate_snapshots(v, cfg)[0]
    assert np.linalg.norm((p0 - sim)[far]) / np.linalg.norm(sim[far]) < 0.10


def test_mirror_is_an_exact_symmetry_of_the_wave_problem_for_a_centred_source():
    """The ``flip_x`` augmentation's premise, checked on the finite-difference solver itself: for a source on
    the grid's centre line the snapshot and the ray-theory direct wave of the mirrored velocity model are the
    mirrored ones (to rounding, on an asymmetric faulted model of the prior); with the source off the line
    source_on_centre_line says no and the mirror is not a symmetry (differences of order 1)."""
    from sciml.operators.data import direct_wave, simulate_snapshots, source_on_centre_line, wave_grid
    from sciml.operators.train import NormalizedOperator, group_transform

    cfg = {**OPS["wave"]["generator"], "n": 24, "dx": 40.0, "refine": 2, "t_snapshot": 0.3, "f0": 8.0, "pml": 12}
    _, xf = wave_grid(cfg)
    rng = np.random.default_rng(3)
    v = 2000.0 + 1500.0 * (xf[None, :, None] > 300.0 + 0.4 * xf[None, None, :]) + rng.uniform(0, 200, (1, xf.size, xf.size))
    assert np.abs(v - v[..., ::-1]).max() > 1000.0  # the model itself is far from mirror-symmetric
    assert source_on_centre_line(cfg)
    for fn in (simulate_snapshots, direct_wave):
        p, pm = fn(v, cfg)[0], fn(v[..., ::-1].copy(), cfg)[0]
        assert np.abs(pm - p[:, ::-1]).max() <= 1e-9 * np.abs(p).max(), fn.__name__
    off = {**cfg, "source_x": 0.4}
    assert not source_on_centre_line(off)
    p, pm = simulate_snapshots(v, off)[0], simulate_snapshots(v[..., ::-1].copy(), off)[0]
    assert np.linalg.norm(pm - p[:, ::-1]) > 0.5 * np.linalg.norm(p)
    op = NormalizedOperator(FNO2d(2, width=6, modes=3, layers=2, projection=8, dtype=torch.float64, seed=1),
                            [0.0, 0.0], [1.0, 1.0], 0.0, 1.0)
    op.symmetry = "flip_x"
    op.eval()
    x, g = torch.randn(2, 2, 10, 12, dtype=torch.float64), torch.tensor([1, 1])
    assert torch.allclose(op(group_transform(x, "flip_x", g)), group_transform(op(x), "flip_x", g), atol=1e-12)


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
