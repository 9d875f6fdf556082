"""PINN training throughput: sciml vs DeepXDE (PyTorch backend) on 2-D Poisson, in the same run.

Problem: -laplacian(u) = 2 pi^2 sin(pi x) sin(pi y) on [0, 1]^2, u = 0 on the boundary
(exact u = sin(pi x) sin(pi y)). Same network ([2, 64, 64, 64, 1], tanh, Glorot normal, float32),
same collocation points (DeepXDE's 2000 domain + 200 boundary points are reused by sciml), same
loss (MSE of the residual + MSE of the boundary values) and optimiser (Adam, lr 1e-3).

Rows: DeepXDE; sciml with nested reverse-mode autograd (``sciml.nn.laplacian``); sciml with the
forward-mode value/gradient/Laplacian propagation of ``MLP.value_grad_lap`` (one pass), eager and
with ``torch.compile`` (fuses its elementwise work; one-off compile time reported separately). Timing chunks are
interleaved between the contenders so that load changes on a shared machine affect all alike.
Accuracy: relative L2 error vs the exact solution on a 101 x 101 grid after the same number of steps.

Usage: ``DDE_BACKEND=pytorch python benchmarks/pinn_bench.py [--steps 2000] [--chunk 250] [--threads 2]``
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from sciml.nn import MLP, laplacian  # noqa: E402

PI = np.pi


def exact(x: np.ndarray) -> np.ndarray:
    return np.sin(PI * x[:, :1]) * np.sin(PI * x[:, 1:2])


def test_grid() -> np.ndarray:
    g = np.linspace(0, 1, 101)
    X, Y = np.meshgrid(g, g)
    return np.column_stack([X.ravel(), Y.ravel()]).astype(np.float32)


def rel_l2(pred: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(pred - ref) / np.linalg.norm(ref))


def make_deepxde(seed: int):
    import deepxde as dde

    dde.config.set_default_float("float32")
    dde.config.set_random_seed(seed)

    def pde(x, y):
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        dy_yy = dde.grad.hessian(y, x, i=1, j=1)
        f = 2 * PI**2 * torch.sin(PI * x[:, 0:1]) * torch.sin(PI * x[:, 1:2])
        return -dy_xx - dy_yy - f

    geom = dde.geometry.Rectangle([0, 0], [1, 1])
    bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary)
    data = dde.data.PDE(geom, pde, bc, num_domain=2000, num_boundary=200, solution=exact, num_test=200)
    net = dde.nn.FNN([2, 64, 64, 64, 1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)
    return model, data


class SciMLPoisson:
    """sciml training loop; ``mode`` = 'taylor' (forward-mode one pass) or 'autograd' (nested reverse mode)."""

    def __init__(self, x_pde: np.ndarray, x_bc: np.ndarray, mode: str, seed: int, compile: bool = False):
        self.mode = mode
        self.net = MLP([2, 64, 64, 64, 1], "tanh", "xavier_normal", dtype=torch.float32, seed=seed)
        self.x = torch.as_tensor(x_pde, dtype=torch.float32)
        self.xb = torch.as_tensor(x_bc, dtype=torch.float32)
        self.f = 2 * PI**2 * torch.sin(PI * self.x[:, 0]) * torch.sin(PI * self.x[:, 1])
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        if compile:  # fuse the elementwise work of the forward-mode pass and its backward (inductor, C++)
            self.loss = torch.compile(self.loss)

    def loss(self) -> torch.Tensor:
        if self.mode == "taylor":
            lap = self.net.value_grad_lap(self.x)[2][:, 0]
        else:
            x = self.x.clone().requires_grad_(True)
            lap = laplacian(self.net(x), x)
        return ((-lap - self.f) ** 2).mean() + (self.net(self.xb) ** 2).mean()

    def train(self, steps: int) -> None:
        for _ in range(steps):
            self.opt.zero_grad(set_to_none=True)
            self.loss().backward()
            self.opt.step()

    def predict(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.net(torch.as_tensor(x)).numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dde_model, data = make_deepxde(args.seed)
    x_bc = np.asarray(data.train_x_bc)
    x_pde = np.asarray(data.train_x_all)
    ours = {m: SciMLPoisson(x_pde, x_bc, m.split("+")[0], args.seed, compile=m.endswith("+compile"))
            for m in ("autograd", "taylor", "taylor+compile")}
    # warm-up (graph construction, compilation, allocator): a few steps each, not timed
    dde_model.train(iterations=5, display_every=10**9, verbose=0)
    warm = {}
    for m, o in ours.items():
        t0 = time.perf_counter()
        o.train(5)
        warm[m] = time.perf_counter() - t0
    times = {"deepxde": 0.0, **{m: 0.0 for m in ours}}
    done = 0
    while done < args.steps:
        n = min(args.chunk, args.steps - done)
        t0 = time.perf_counter()
        dde_model.train(iterations=n, display_every=10**9, verbose=0)
        times["deepxde"] += time.perf_counter() - t0
        for m, o in ours.items():
            t0 = time.perf_counter()
            o.train(n)
            times[m] += time.perf_counter() - t0
        done += n
    xt = test_grid()
    ref = exact(xt.astype(np.float64))
    err = {"deepxde": rel_l2(dde_model.predict(xt), ref)}
    err.update({m: rel_l2(o.predict(xt), ref) for m, o in ours.items()})
    rate = {k: args.steps / t for k, t in times.items()}
    names = {"deepxde": "DeepXDE (pytorch backend)", "autograd": "sciml, nested autograd",
             "taylor": "sciml, forward-mode Laplacian", "taylor+compile": "sciml, forward-mode + compile"}
    print(f"2-D Poisson, [2,64,64,64,1] tanh, 2000+200 points, Adam lr 1e-3, float32, {args.steps} steps, "
          f"{args.threads} threads, torch {torch.__version__}, device cpu")
    print(f"{'implementation':32s} {'steps/s':>9s} {'ratio':>7s} {'rel. L2 error':>14s}")
    for k in names:
        print(f"{names[k]:32s} {rate[k]:9.1f} {rate[k] / rate['deepxde']:7.2f} {err[k]:14.3e}")
    print(f"(one-off torch.compile warm-up, not in the rates: {warm['taylor+compile']:.0f} s)")


if __name__ == "__main__":
    main()
