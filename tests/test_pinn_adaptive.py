"""Adaptive training options of sciml.nn.TrainConfig, each shown to help on a problem with a known (closed-form)
answer: an ablation with the option off and on, same network, seed and steps. Small 1-D problems (seconds each);
the numbers in the comments are from these exact runs (seed 0). Longer ablations on the studies themselves are in
``benchmarks/pinn_bench.py --ablation``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.nn import MLP, HardDirichlet, ResidualSampler, TrainConfig, Trainer, causal_reduce, chunk_losses
from sciml.nn.adaptive import step_generator, uniform

CPU = torch.device("cpu")
F64 = torch.float64


def _rel(pred: torch.Tensor, ref: torch.Tensor) -> float:
    return float((pred - ref).norm() / ref.norm())


def poisson_with_boundary(adaptive: str, steps: int = 1000, seed: int = 0) -> float:
    """u'' = -k^2 sin(k x) on [0, 1], u(0) = 0, u(1) = 1 (soft): exact u = sin(k x) + x, k = 4 pi. The PDE term's
    gradient is ~k^4 times the boundary term's, so with equal weights the boundary condition is neglected."""
    k = 4 * math.pi
    net = MLP([1, 32, 32, 1], lower=[0], upper=[1], seed=seed)
    xb = torch.tensor([[0.0], [1.0]], dtype=F64)
    ub = torch.tensor([0.0, 1.0], dtype=F64)

    def loss(m, step):
        x = uniform(128, [0], [1], step_generator(seed, step), dtype=F64, device=CPU)
        d2u = m.taylor(x)[2][:, 0, 0]
        return {"pde": ((d2u + k**2 * torch.sin(k * x[:, 0])) ** 2).mean(), "bc": ((m(xb)[:, 0] - ub) ** 2).mean()}

    cfg = TrainConfig(adam_steps=steps, lr=3e-3, lr_decay=0.3, progress=False, adaptive_weights=adaptive,
                      adaptive_every=50)
    Trainer(net, loss, cfg, device=CPU).fit()
    x = torch.linspace(0, 1, 501, dtype=F64)[:, None]
    with torch.no_grad():
        return _rel(net(x)[:, 0], torch.sin(k * x[:, 0]) + x[:, 0])


def test_grad_norm_balancing_rescues_the_neglected_boundary_condition():
    """Gradient-norm balancing (Wang et al. 2021) vs fixed equal weights on a stiff 1-D Poisson problem, exact
    solution sin(4 pi x) + x: 0.70 -> 0.0066 rel. L2 after 1000 steps (seed 0)."""
    off, on = poisson_with_boundary("none"), poisson_with_boundary("grad_norm")
    assert on < 0.05 and on < 0.1 * off, (off, on)


def sharp_layer(resample: str, steps: int = 1000, seed: int = 0, eps: float = 0.01, n: int = 32) -> float:
    """u'' = f on [-1, 1] with exact u = tanh(x / eps) (an interior layer of width eps), Dirichlet data exact;
    only ``n`` collocation points per step."""
    net = MLP([1, 32, 32, 1], lower=[-1], upper=[1], seed=seed)
    exact = lambda x: torch.tanh(x / eps)  # noqa: E731
    f = lambda x: -2 / eps**2 * torch.tanh(x / eps) / torch.cosh(x / eps) ** 2  # noqa: E731
    xb = torch.tensor([[-1.0], [1.0]], dtype=F64)
    cfg = TrainConfig(adam_steps=steps, lr=3e-3, lr_decay=0.3, progress=False, resample=resample, resample_every=100,
                      resample_candidates=30, weights={"pde": eps**2})

    def residual(m, x):
        return m.taylor(x)[2][:, 0, 0] - f(x[:, 0])

    sampler = ResidualSampler([-1], [1], n, residual, cfg, seed=seed, dtype=F64, device=CPU)

    def loss(m, step):
        return {"pde": (residual(m, sampler.points(step)) ** 2).mean(),
                "bc": ((m(xb)[:, 0] - exact(xb[:, 0])) ** 2).mean()}

    Trainer(net, loss, cfg, device=CPU, samplers=[sampler]).fit()
    x = torch.linspace(-1, 1, 2001, dtype=F64)[:, None]
    with torch.no_grad():
        return _rel(net(x)[:, 0], exact(x[:, 0]))


def test_residual_adaptive_sampling_resolves_a_sharp_layer():
    """RAD (Wu et al. 2023) vs uniform points redrawn every step, tanh(x / 0.01) layer, 32 points per step:
    rel. L2 0.56 -> 0.16 after 1500 steps (seed 0); RAR-D (points added): 0.28."""
    off, rad = sharp_layer("none", steps=1500), sharp_layer("rad", steps=1500)
    assert rad < 0.6 * off, (off, rad)


def test_fourier_features_and_hard_constraints_help_on_poisson():
    """The existing options on -u'' = (m pi)^2 sin(m pi x), u(0) = u(1) = 0, exact sin(m pi x), m = 8:
    random Fourier features (scale 1) beat the plain tanh MLP, and the hard Dirichlet transform
    u = x (1 - x) N(x) beats the soft boundary penalty (same steps, seed 0): rel. L2 1.00 (plain) -> 0.089
    (Fourier) -> 0.018 (Fourier + hard), 800 steps."""
    k = 8 * math.pi
    x_test = torch.linspace(0, 1, 501, dtype=F64)[:, None]
    exact = torch.sin(k * x_test[:, 0])

    def run(fourier: int, hard: bool) -> float:
        net = MLP([1, 32, 32, 1], lower=[0], upper=[1], fourier_features=fourier, fourier_scale=1.0, seed=0)
        model = HardDirichlet.box(net, [0.0], [1.0]) if hard else net
        xb = torch.tensor([[0.0], [1.0]], dtype=F64)

        def loss(m, step):
            x = uniform(128, [0], [1], step_generator(0, step), dtype=F64, device=CPU)
            d2u = m.taylor(x)[2][:, 0, 0]
            terms = {"pde": ((d2u + k**2 * torch.sin(k * x[:, 0])) ** 2).mean() / k**4}
            if not hard:
                terms["bc"] = (m(xb) ** 2).mean()
            return terms

        Trainer(model, loss, TrainConfig(adam_steps=800, lr=3e-3, lr_decay=0.3, progress=False), device=CPU).fit()
        with torch.no_grad():
            return _rel(model(x_test)[:, 0], exact)

    plain, fourier, hard = run(0, False), run(16, False), run(16, True)
    assert fourier < 0.5 * plain, (plain, fourier)
    assert hard < fourier, (fourier, hard)


def test_causal_weights_follow_time_order():
    """w_i = exp(-eps sum_{j<i} L_j) (Wang, Sankaran & Perdikaris): 1 for the first chunk, decreasing, no gradient
    through the weights; eps = 0 is the plain mean; chunk_losses bins residuals by time."""
    L = torch.tensor([0.5, 1.0, 2.0, 0.1], dtype=F64, requires_grad=True)
    red, wmin = causal_reduce(L, 1.0)
    w = torch.exp(-torch.tensor([0.0, 0.5, 1.5, 3.5], dtype=F64))
    torch.testing.assert_close(red, (w * L).mean())
    assert wmin == pytest.approx(math.exp(-3.5))
    red.backward()
    torch.testing.assert_close(L.grad, w / 4)
    assert float(causal_reduce(L.detach(), 0.0)[0]) == pytest.approx(float(L.mean()))
    t = torch.tensor([0.05, 0.3, 0.35, 0.9, 1.0], dtype=F64)
    r2 = torch.tensor([1.0, 2.0, 4.0, 3.0, 5.0], dtype=F64)
    torch.testing.assert_close(chunk_losses(r2, t, [0, 1], 4), torch.tensor([1.0, 3.0, 0.0, 4.0], dtype=F64))


class _Interrupt(Exception):
    pass


def test_adaptive_state_resumes_bit_identically(tmp_path):
    """With grad_norm weights, RAD resampling and causal weighting all on, a run interrupted and resumed from its
    checkpoint equals the uninterrupted one (weights, history, adaptive traces)."""
    def problem():
        net = MLP([2, 12, 1], lower=[0, 0], upper=[1, 1], seed=1)
        cfg = TrainConfig(adam_steps=40, lbfgs_steps=6, lr=1e-2, checkpoint_every=10, progress=False,
                          adaptive_weights="grad_norm", adaptive_every=7, resample="rad", resample_every=9,
                          causal_eps=0.5)

        def res(m, p):
            return m.taylor(p)[2][:, :, 0].sum(1) - 1.0

        smp = ResidualSampler([0, 0], [1, 1], 30, res, cfg, seed=3, dtype=F64, device=CPU)

        def loss(m, step):
            p = smp.points(step)
            return {"pde": chunk_losses(res(m, p) ** 2, p[:, 1], [0, 1], 4),
                    "bc": (m(p[:5] * 0)[:, 0] ** 2).mean()}
        return net, loss, cfg, smp

    n1, f1, c1, s1 = problem()
    h1 = Trainer(n1, f1, c1, device=CPU, samplers=[s1]).fit()
    n2, f2, c2, s2 = problem()

    def broken(m, step):
        if step == 23:
            raise _Interrupt
        return f2(m, step)
    with pytest.raises(_Interrupt):
        Trainer(n2, broken, c2, device=CPU, checkpoint=tmp_path / "c.pt", samplers=[s2]).fit()
    n3, f3, c3, s3 = problem()
    h3 = Trainer(n3, f3, c3, device=CPU, checkpoint=tmp_path / "c.pt", samplers=[s3]).fit()
    for a, b in zip(n1.parameters(), n3.parameters()):
        assert torch.equal(a, b)
    assert h1.loss == h3.loss and h1.extras.keys() == h3.extras.keys() == {"weight_pde", "weight_bc", "causal_min_pde"}
    np.testing.assert_array_equal(h1.extras["weight_bc"], h3.extras["weight_bc"])
    assert h1.extras["weight_bc"][-1] != 1.0
    ds = h3.to_dataset()
    assert {"weight_pde", "causal_min_pde"} <= set(ds.data_vars) and ds["weight_bc"].attrs["units"] == "1"
