"""sciml.nn: forward-mode derivatives vs torch.func (reference), trainer checkpoint/resume, error handling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.errors import InputError
from sciml.nn import (MLP, FactoredEikonal, HardDirichlet, NonFiniteLossError, Positive, TrainConfig, Trainer,
                      divergence, func_gradient, func_hessian, func_laplacian, gradient, laplacian, time_derivative,
                      value_grad_laplacian)

CPU = torch.device("cpu")


@pytest.mark.parametrize("act", ["tanh", "sin", "silu", "softplus", "gelu"])
@pytest.mark.parametrize("fourier", [0, 6])
def test_taylor_matches_torch_func_reference(act, fourier):
    """Forward-mode value/gradient/diagonal Hessian equals torch.func jacrev/hessian (independent AD route)."""
    m = MLP([3, 12, 12, 2], act, lower=[-1, 0, 0], upper=[1, 2, 3], fourier_features=fourier, seed=1)
    x = torch.rand(30, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    u, du, d2u = m.taylor(x)
    torch.testing.assert_close(u, m(x), rtol=0, atol=1e-13)
    torch.testing.assert_close(du, func_gradient(m, x).transpose(1, 2), rtol=0, atol=1e-11)
    for k in range(2):
        h = func_hessian(lambda p: m(p)[:, k:k + 1], x)
        torch.testing.assert_close(d2u[:, :, k], torch.diagonal(h, dim1=1, dim2=2), rtol=0, atol=1e-10)
    u2, du2, _ = m.taylor(x, dims=2)
    torch.testing.assert_close(du2, du[:, :2])


@pytest.mark.parametrize("fourier", [0, 6])
def test_taylor_from_feature_map_with_input_scaling(fourier):
    """taylor_from through a nonlinear feature map (x, z) -> (x, z^2) of a network with input scaling: the
    second derivatives of the features are scaled with the inputs (chain rule), equal to torch.func's."""
    m = MLP([2, 12, 12, 1], "tanh", lower=[0, 0], upper=[2, 4], fourier_features=fourier, seed=1)
    x = torch.rand(20, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2
    zero = torch.zeros(20, dtype=torch.float64)
    feat = (torch.stack([x[:, 0], x[:, 1] ** 2], 1),
            torch.stack([torch.stack([torch.ones_like(zero), zero], 1), torch.stack([zero, 2 * x[:, 1]], 1)], 1),
            torch.stack([torch.stack([zero, zero], 1), torch.stack([zero, 2 + zero], 1)], 1))
    u, du, d2u = m.taylor_from(feat)
    f = lambda p: m(torch.stack([p[:, 0], p[:, 1] ** 2], 1))  # noqa: E731
    torch.testing.assert_close(u, f(x), rtol=0, atol=1e-13)
    torch.testing.assert_close(du[:, :, 0], func_gradient(f, x)[:, 0], rtol=0, atol=1e-11)
    torch.testing.assert_close(d2u[:, :, 0], torch.diagonal(func_hessian(f, x), dim1=1, dim2=2), rtol=0, atol=1e-10)


def test_operators_against_analytic_derivatives():
    """gradient/divergence/laplacian/time_derivative of closed-form fields vs hand-derived derivatives."""
    x = torch.rand(50, 3, dtype=torch.float64).requires_grad_(True)
    a, b, t = x[:, 0], x[:, 1], x[:, 2]
    u = torch.sin(a) * torch.exp(2 * b) * t**2
    g = gradient(u, x)
    torch.testing.assert_close(g[:, 0], torch.cos(a) * torch.exp(2 * b) * t**2)
    torch.testing.assert_close(g[:, 1], 2 * torch.sin(a) * torch.exp(2 * b) * t**2)
    torch.testing.assert_close(laplacian(u, x, dims=2), 3 * torch.sin(a) * torch.exp(2 * b) * t**2)
    torch.testing.assert_close(time_derivative(u, x, order=2), 2 * torch.sin(a) * torch.exp(2 * b))
    v = torch.stack([a**2 * b, b**3], dim=1)
    torch.testing.assert_close(divergence(v, x), 2 * a * b + 3 * b**2)
    f = lambda p: (p[:, :1] ** 2 * p[:, 1:2] ** 3)  # noqa: E731
    torch.testing.assert_close(func_laplacian(f, x.detach())[:, None], 2 * x[:, 1:2].detach() ** 3
                               + 6 * x[:, :1].detach() ** 2 * x[:, 1:2].detach())


def test_output_transforms():
    """Hard Dirichlet vanishes on the box boundary; taylor of transforms matches autograd; positivity holds."""
    net = MLP([2, 16, 1], seed=0)
    hd = HardDirichlet.box(net, [0, 0], [1, 2])
    edge = torch.tensor([[0.0, 0.3], [1.0, 1.1], [0.4, 0.0], [0.2, 2.0]], dtype=torch.float64)
    assert hd(edge).abs().max() < 1e-14
    x = torch.rand(20, 2, dtype=torch.float64)
    u, du, lap = value_grad_laplacian(hd, x)
    xr = x.clone().requires_grad_(True)
    ur = hd(xr)
    torch.testing.assert_close(du[:, :, 0], gradient(ur, xr))
    torch.testing.assert_close(lap[:, 0], laplacian(ur, xr))
    pos = Positive(MLP([2, 8, 1], seed=2), floor=0.5)
    assert float(pos(10 * torch.randn(100, 2, dtype=torch.float64)).min()) >= 0.5
    fe = FactoredEikonal(MLP([2, 8, 1], seed=3), source=[0.5, 0.5])
    assert float(fe(torch.tensor([[0.5, 0.5]], dtype=torch.float64))) == 0.0


def test_mixed_dtype_and_bad_config_raise():
    m = MLP([2, 8, 1], dtype=torch.float64)
    with pytest.raises(InputError, match="dtype"):
        m(torch.zeros(3, 2, dtype=torch.float32))
    with pytest.raises(InputError, match="activation"):
        MLP([2, 8, 1], "nope")
    with pytest.raises(InputError, match="unknown"):
        TrainConfig.from_dict({"adam_step": 3})


def _problem():
    torch.manual_seed(0)
    model = MLP([1, 12, 1], seed=3)

    def loss_fn(m, step):
        x = torch.rand(24, 1, dtype=torch.float64)  # resampled from the global RNG: resume must restore it
        return {"data": ((m(x)[:, 0] - torch.sin(3 * x[:, 0])) ** 2).mean(),
                "reg": sum((p**2).sum() for p in m.parameters())}
    return model, loss_fn


class _Interrupt(Exception):
    pass


@pytest.mark.parametrize("stop_at", [35, 52])  # inside Adam, inside L-BFGS
def test_resume_from_checkpoint_equals_uninterrupted(tmp_path, stop_at):
    """Interrupt mid-Adam or mid-L-BFGS, resume from the checkpoint: identical weights and history as one run."""
    cfg = TrainConfig(adam_steps=40, lbfgs_steps=20, lr=1e-2, lr_decay=0.5, checkpoint_every=10, progress=False,
                      weights={"reg": 1e-4})
    m1, f1 = _problem()
    h1 = Trainer(m1, f1, cfg, device=CPU).fit()

    m2, f2 = _problem()

    def broken(m, step):
        if step == stop_at:
            raise _Interrupt
        return f2(m, step)
    with pytest.raises(_Interrupt):
        Trainer(m2, broken, cfg, device=CPU, checkpoint=tmp_path / "c.pt").fit()
    torch.manual_seed(999)  # a different global state: the checkpoint must restore it
    m3, f3 = _problem()
    h3 = Trainer(m3, f3, cfg, device=CPU, checkpoint=tmp_path / "c.pt").fit()
    for a, b in zip(m1.parameters(), m3.parameters()):
        assert torch.equal(a, b)
    assert h1.loss == h3.loss and len(h3) == 60
    assert h1.loss[-1] < 0.2 * h1.loss[0]
    ds = h3.to_dataset()
    assert all("units" in ds[v].attrs and "long_name" in ds[v].attrs for v in ds.variables)


def test_lbfgs_steps_equal_one_torch_lbfgs_run_with_fewer_evaluations():
    """The trainer's L-BFGS (one iteration per step, reusing the evaluation at the accepted point) against the
    independent reference of torch's own LBFGS running all iterations in one call: bitwise the same weights after
    30 iterations, and about one loss evaluation per iteration (not the two of a fresh evaluation per step)."""
    def problem():
        m = MLP([1, 12, 1], seed=3)
        x = torch.linspace(0, 1, 40, dtype=torch.float64)[:, None]
        return m, lambda mm: ((mm(x)[:, 0] - torch.sin(3 * x[:, 0])) ** 2).mean()

    m1, f1 = problem()
    calls = [0]

    def loss_fn(m, step):
        calls[0] += 1
        return {"data": f1(m)}
    Trainer(m1, loss_fn, TrainConfig(adam_steps=0, lbfgs_steps=30, progress=False), device=CPU).fit()
    m2, f2 = problem()
    ref = torch.optim.LBFGS(m2.parameters(), lr=1.0, max_iter=30, max_eval=30 * 26, history_size=50,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-15)

    def closure():
        ref.zero_grad()
        loss = f2(m2)
        loss.backward()
        return loss
    ref.step(closure)
    evals = ref.state[ref.param_groups[0]["params"][0]]["func_evals"]
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(a, b)
    assert calls[0] <= evals + 1 < 1.6 * 30, (calls[0], evals)


def test_lbfgs_keeps_descending_after_adam():
    """Regression: with torch's default max_eval (= 1 for max_iter=1) recent torch allows the strong-Wolfe
    line search no extra evaluation, so one overshooting first step froze L-BFGS at step size 0 for good."""
    m = MLP([2, 16, 1], seed=0)
    x = torch.rand(100, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def fit(model, step):
        return {"fit": ((model(x)[:, 0] - torch.sin(3 * x[:, 0])) ** 2).mean()}
    h = Trainer(m, fit, TrainConfig(adam_steps=50, lbfgs_steps=15, lr=1e-2, progress=False), device=CPU).fit()
    lb = h.loss[50:]
    assert lb[-1] < 0.5 * lb[0] and len(set(lb)) == len(lb), lb


def test_early_stopping_restores_best_and_nan_is_diagnosed():
    m, f = _problem()
    vals = iter([5.0, 4.0, 4.5, 4.6, 4.7, 9.0, 9.0, 9.0])
    snaps = []

    def validate(model):
        snaps.append(next(iter(model.parameters())).detach().clone())
        return next(vals)
    cfg = TrainConfig(adam_steps=100, val_every=5, patience=3, progress=False, lr=1e-2)
    h = Trainer(m, f, cfg, device=CPU, validate=validate).fit()
    assert len(h) == 25 and h.stopped_early == [0] and h.best_val == 4.0
    assert torch.equal(next(iter(m.parameters())), snaps[1])

    def nan_loss(model, step):
        return {"pde": model(torch.ones(2, 1, dtype=torch.float64)).sum() * (math.inf if step == 7 else 1.0)}
    with pytest.raises(NonFiniteLossError, match=r"step 7 .*'pde'") as err:
        Trainer(MLP([1, 4, 1]), nan_loss, TrainConfig(progress=False), device=CPU).fit()
    assert len(err.value.history) == 7


def test_trainer_optimises_extra_parameters(tmp_path):
    """An unknown physical coefficient outside the model is trained and checkpointed (inverse problems)."""
    k = torch.nn.Parameter(torch.tensor(0.5, dtype=torch.float64))
    m = MLP([1, 4, 1], seed=0)

    def loss_fn(model, step):
        return {"fit": (k - 2.0) ** 2}
    Trainer(m, loss_fn, TrainConfig(adam_steps=0, lbfgs_steps=10, progress=False), device=CPU,
            params=[k], checkpoint=tmp_path / "k.pt").fit()
    assert abs(float(k) - 2.0) < 1e-6
    assert np.isfinite(float(k))
