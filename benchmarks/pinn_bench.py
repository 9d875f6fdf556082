"""PINN training vs DeepXDE (PyTorch backend), in the same run: the eikonal study at equal accuracy, 2-D Poisson
throughput, and ablations of the adaptive training options on the studies.

``--case eikonal`` (equal accuracy): the default ``pinn.eikonal`` study (factored T = |x - xs| tau, tau network
[2, 32, 32, 32, 1] tanh, float64, Adam 1000 steps lr 3e-3 x 0.3 per 1000 steps, then L-BFGS) trained by the
study's own code path (:func:`sciml.pinn.eikonal.forward_problem`, the workflow's Trainer) and the same problem
in DeepXDE (same network, input scaling, output transform, collocation count, optimiser schedule; DeepXDE's
fixed collocation set). Every 50 steps the relative L2 error against the second-order factored fast-marching
reference is measured (its time excluded); printed: the steps and training wall time each needs to reach
error targets, and the ratio.

``--case ablation``: the studies with one adaptive option switched off / on (``--study``), metrics side by side.

``--case poisson`` (throughput). Problem: -laplacian(u) = 2 pi^2 sin(pi x) sin(pi y) on [0, 1]^2, u = 0 on the boundary
(exact u = sin(pi x) sin(pi y)). Same network ([2, 64, 64, 64, 1], tanh, Glorot normal, float32),
same collocation points (DeepXDE's 2000 domain + 200 boundary points are reused by sciml), same
loss (MSE of the residual + MSE of the boundary values) and optimiser (Adam, lr 1e-3).

Rows: DeepXDE; sciml with nested reverse-mode autograd (``sciml.nn.laplacian``); sciml with the
forward-mode value/gradient/Laplacian propagation of ``MLP.value_grad_lap`` (one pass), eager and
with ``torch.compile`` (fuses its elementwise work; one-off compile time reported separately). Timing chunks are
interleaved between the contenders so that load changes on a shared machine affect all alike.
Accuracy: relative L2 error vs the exact solution on a 101 x 101 grid after the same number of steps.

Usage: ``python benchmarks/pinn_bench.py [--case eikonal poisson ablation] [--steps 2000] [--chunk 250]
[--threads 2] [--study fault ...]``
"""

from __future__ import annotations

import argparse
import math
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


# -- eikonal study at equal accuracy -------------------------------------------------------------------------

def _eikonal_cfg() -> dict:
    from sciml.config import load
    from sciml.studies import get_step

    return get_step("pinn.eikonal").slice(load())


def eikonal_sciml(cfg: dict, seed: int, every: int) -> list[tuple[int, float, float]]:
    """(step, training seconds, rel. L2 error) every ``every`` steps for the study's own training."""
    from sciml.nn import Trainer
    from sciml.pinn.eikonal import forward_problem, reference_traveltime

    out, t_ref = reference_traveltime(cfg)
    X, Z = out.mesh()
    pts = torch.as_tensor(np.column_stack([X.ravel(), Z.ravel()]))
    prob = forward_problem(cfg, device=torch.device("cpu"), seed=seed)
    tc = prob["config"]
    tc.val_every, tc.restore_best, tc.patience = every, False, None
    curve, spent = [], [0.0]
    t0 = time.perf_counter()

    def validate(m):
        t1 = time.perf_counter()
        with torch.no_grad():
            err = rel_l2(m(pts).numpy().reshape(X.shape), t_ref)
        step = len(trainer.history)
        curve.append((step, t1 - t0 - spent[0], err))
        spent[0] += time.perf_counter() - t1
        return err

    trainer = Trainer(prob["model"], prob["loss_fn"], tc, device=torch.device("cpu"), validate=validate,
                      samplers=prob["samplers"])
    trainer.fit()
    return curve


def eikonal_deepxde(cfg: dict, seed: int, every: int) -> list[tuple[int, float, float]]:
    """The same problem in DeepXDE: (step, training seconds, rel. L2 error) every ``every`` steps."""
    import deepxde as dde

    from sciml.pinn.eikonal import reference_traveltime, velocity

    dde.config.set_default_float("float64")
    dde.config.set_random_seed(seed)
    (x0, x1), (z0, z1) = cfg["xlim"], cfg["zlim"]
    xs, zs = cfg["source"]
    mcfg, tr = cfg["model"], cfg["train"]
    v_mean = float(np.mean(velocity(np.array([x0, x1]), np.array([z0, z1]), mcfg)))
    tau_scale = 1.0 / (v_mean * np.log(2.0))
    lo = torch.tensor([x0, z0], dtype=torch.float64)
    hi = torch.tensor([x1, z1], dtype=torch.float64)

    def pde(x, y):
        gx, gz = dde.grad.jacobian(y, x, i=0, j=0), dde.grad.jacobian(y, x, i=0, j=1)  # DeepXDE >= 1.15 wants i, j
        v = velocity(x[:, 0:1], x[:, 1:2], mcfg)
        return v * torch.sqrt(gx**2 + gz**2) - 1.0

    geom = dde.geometry.Rectangle([x0, z0], [x1, z1])
    data = dde.data.PDE(geom, pde, [], num_domain=int(cfg["n_collocation"]), num_boundary=0,
                        train_distribution="pseudo")
    net = dde.nn.FNN([2, *cfg["network"]["hidden"], 1], "tanh", "Glorot normal")
    net.apply_feature_transform(lambda x: 2.0 * (x - lo) / (hi - lo) - 1.0)
    src = torch.tensor([[xs, zs]], dtype=torch.float64)
    net.apply_output_transform(lambda x, y: torch.linalg.vector_norm(x - src, dim=1, keepdim=True)
                               * tau_scale * torch.nn.functional.softplus(y))
    model = dde.Model(data, net)
    out, t_ref = reference_traveltime(cfg)
    X, Z = out.mesh()
    pts = np.column_stack([X.ravel(), Z.ravel()])
    curve, spent, step = [], [0.0], [0]
    t0 = time.perf_counter()

    class Probe(dde.callbacks.Callback):
        def __init__(self, per_epoch: int):
            super().__init__()
            self.per_epoch = per_epoch

        def on_epoch_end(self):
            step[0] += self.per_epoch
            if step[0] % every:
                return
            t1 = time.perf_counter()
            err = rel_l2(model.predict(pts).reshape(X.shape), t_ref)
            curve.append((step[0], t1 - t0 - spent[0], err))
            spent[0] += time.perf_counter() - t1

    gamma = float(tr["lr_decay"]) ** (1.0 / 1000.0)
    model.compile("adam", lr=float(tr["lr"]), decay=("exponential", gamma))
    model.train(iterations=int(tr["adam_steps"]), display_every=10**9, verbose=0, callbacks=[Probe(1)])
    if int(tr["lbfgs_steps"]):
        dde.optimizers.config.set_LBFGS_options(maxcor=int(tr["lbfgs_history"]), ftol=1e-15, gtol=1e-12,
                                                maxiter=int(tr["lbfgs_steps"]), maxls=25)
        dde.optimizers.config.LBFGS_options["iter_per_step"] = every   # callbacks every `every` iterations
        dde.optimizers.config.LBFGS_options["fun_per_step"] = every * 26
        model.compile("L-BFGS")
        model.train(display_every=10**9, verbose=0, callbacks=[Probe(every)])
    return curve


def _first(curve: list[tuple[int, float, float]], target: float) -> tuple[float, float]:
    for step, t, e in curve:
        if e <= target:
            return step, t
    return math.nan, math.nan


def eikonal_equal_accuracy(args) -> None:
    cfg = _eikonal_cfg()
    # ABBA order, each side twice: whichever runs first in a fresh process is ~10 % slower (warm-up), so a single
    # sciml-then-DeepXDE run favours DeepXDE; times to each target are the median (mean of two) of a side's runs
    fns = {"sciml": eikonal_sciml, "deepxde": eikonal_deepxde}
    load0 = os.getloadavg()
    curves: dict[str, list] = {k: [] for k in fns}
    for k in ("sciml", "deepxde", "deepxde", "sciml"):
        curves[k].append(fns[k](cfg, args.seed, 50))
    runs = {k: c[0] for k, c in curves.items()}
    final = {k: c[-1][2] for k, c in runs.items()}
    print(f"eikonal study (default config), float64, {args.threads} threads, torch {torch.__version__}, cpu, "
          f"load {load0[0]:.1f} -> {os.getloadavg()[0]:.1f}; each side run twice (ABBA), times are medians")
    print("total training s per run: " + ", ".join(f"{k} " + " / ".join(f"{c[-1][1]:.1f}" for c in cs)
                                                  for k, cs in curves.items()))
    print("final rel. L2 error: " + ", ".join(f"{k} {v:.2e} after {runs[k][-1][0]} steps ({runs[k][-1][1]:.1f} s)"
                                               for k, v in final.items()))
    targets = sorted({1e-2, 3e-3, 1e-3, max(final.values())}, reverse=True)
    print(f"{'target':>9s} {'sciml steps':>12s} {'sciml s':>8s} {'deepxde steps':>14s} {'deepxde s':>10s} "
          f"{'time ratio':>11s} {'step ratio':>11s}")
    for tgt in targets:
        (sa, _), (sb, _) = _first(runs["sciml"], tgt), _first(runs["deepxde"], tgt)
        ta, tb = (float(np.median([_first(c, tgt)[1] for c in curves[k]])) for k in ("sciml", "deepxde"))
        print(f"{tgt:9.2e} {sa:12.0f} {ta:8.1f} {sb:14.0f} {tb:10.1f} {tb / ta:11.2f} {sb / sa:11.2f}")


# -- ablations on the studies ---------------------------------------------------------------------------------

ABLATIONS = {  # study: [(label, overrides of the default section)]
    "fault": [("default", {}), ("no tip enrichment", {"tip_enrichment": False}),
              ("no tip sampling", {"n_tip": 0}),
              ("robin box far field", {"far_field": "robin", "output_half_width_km": None, "output_bottom_km": None}),
              ("RAD collocation", {"train": {"resample": "rad", "resample_every": 250}})],
    "eikonal": [("default", {}), ("RAD collocation", {"train": {"resample": "rad", "resample_every": 250}})],
    "fault_inversion": [("default", {}), ("grad-norm weights", {"train": {"adaptive_weights": "grad_norm",
                                                                          "adaptive_terms": ["pde", "data"]}})],
    "tomography": [("default", {}), ("grad-norm weights", {"train": {"adaptive_weights": "grad_norm"}})],
}


def ablation(args) -> None:
    from sciml.config import load, merge
    from sciml.pinn import eikonal, fault
    from sciml.studies import get_step

    runner = {"eikonal": eikonal.run_forward, "tomography": eikonal.run_tomography, "fault": fault.run_forward,
              "fault_inversion": fault.run_slip_inversion}
    config = load()
    for study in args.study:
        base = get_step(f"pinn.{study}").slice(config)
        for label, over in ABLATIONS[study]:
            t0 = time.perf_counter()
            res = runner[study](merge(base, over), device=torch.device("cpu"), seed=int(config["seed"]))
            keep = {k: v for k, v in res.metrics.items() if not k.startswith("threshold")}
            print(f"{study:16s} {label:24s} {time.perf_counter() - t0:7.1f} s  "
                  + "  ".join(f"{k} {v:.3g}" for k, v in keep.items()), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", nargs="+", default=["eikonal", "poisson"], choices=["eikonal", "poisson", "ablation"])
    ap.add_argument("--study", nargs="+", default=sorted(ABLATIONS), choices=sorted(ABLATIONS))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if "eikonal" in args.case:
        eikonal_equal_accuracy(args)
    if "ablation" in args.case:
        ablation(args)
    if "poisson" in args.case:
        poisson(args)


def poisson(args) -> None:
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
