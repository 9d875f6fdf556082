"""`make gpu-check`: every CUDA path of sciml in one short run, with a table; non-zero exit on any disagreement.

Rows (each against the CPU float64 evaluation of the same computation, on the same inputs):

* Okada ``dc3d`` u + grad, 1e5 stations x 1 rectangle: CUDA float64 and float32 agreement and throughput
  (station-source pairs per second, the unit of cutde's published 1.3e8 triangular dislocations per second);
* Green's matrix, 1e4 patches x 1e4 stations on CUDA (float64; 1e3 x 1e3 on the CPU): agreement on a subset, time;
* PINN training (2-D Poisson, forward-mode Laplacian, float32): steps per second on CUDA vs CPU, same loss after
  the same steps within float tolerance;
* FNO training throughput (samples/s) on CUDA, and neuraloperator's FNO on CUDA when installed;
* HMC (dense metric, 4 chains) and SVGD on a correlated Gaussian on CUDA: posterior moments vs the exact ones;
* a small end-to-end workflow target (``mogi``) with ``device: cuda``... which uses no torch device (it shows
  the plumbing); and the PINN study ``pinn_eikonal`` with ``device: cuda`` at a reduced size.

Without CUDA the GPU parts are skipped and said so; the CPU parts still run, and the plumbing checks
(``device: cuda`` refused before any work, ``auto`` falling back) run instead. Budget: under 5 minutes on one GPU.

Usage: ``python benchmarks/gpu_check.py [--quick]`` (``--quick``: smaller sizes, for the CPU-only CI smoke run).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
ROWS: list[tuple[str, str, str]] = []
FAILED: list[str] = []


def row(name: str, status: str, detail: str) -> None:
    ROWS.append((name, status, detail))
    if status == "FAIL":
        FAILED.append(name)
    print(f"{status:5s} {name}: {detail}", flush=True)


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    out, best = None, float("inf")
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best, out


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return float((a - b).norm() / b.norm().clamp_min(1e-300))


def okada(dev: torch.device | None, n: int) -> None:
    from sciml.okada import dc3d

    g = torch.Generator().manual_seed(0)
    x = (torch.rand(n, generator=g, dtype=torch.float64) - 0.5) * 40
    y = (torch.rand(n, generator=g, dtype=torch.float64) - 0.5) * 40
    z = torch.zeros(n, dtype=torch.float64)
    args = dict(depth=5.0, dip=40.0, al1=-6.0, al2=6.0, aw1=-3.0, aw2=3.0, disl1=1.0, disl2=0.5, disl3=0.0)

    def call(dt, device):
        t = {k: torch.as_tensor(v, dtype=dt, device=device) for k, v in args.items()}
        with torch.no_grad():
            r = dc3d(torch.as_tensor(2 / 3, dtype=dt, device=device), x.to(device, dt), y.to(device, dt),
                     z.to(device, dt), **t)
        return torch.cat([r.u.reshape(n, -1), r.grad.reshape(n, -1)], 1)

    t_cpu, ref = timed(lambda: call(torch.float64, torch.device("cpu")), 1)
    row("okada u+grad CPU float64", "OK", f"{n:.0e} stations: {t_cpu:.3f} s, {n / t_cpu:.3g} pairs/s")
    if dev is None:
        row("okada u+grad CUDA float64/float32", "SKIP", "no CUDA device")
        return
    for dt, tol in ((torch.float64, 1e-12), (torch.float32, 2e-4)):
        t, out = timed(lambda: call(dt, dev))
        err = rel(out, ref)
        row(f"okada u+grad CUDA {str(dt)[6:]}", "OK" if err < tol else "FAIL",
            f"rel. diff vs CPU float64 {err:.1e} (tol {tol:.0e}); {t:.4f} s, {n / t:.3g} pairs/s "
            f"(cutde's figure: 1.3e8 TDEs/s)")


def greens(dev: torch.device | None, n: int) -> None:
    from sciml.okada import greens_matrix, patch_grid

    side = int(np.sqrt(n))
    grid = patch_grid(depth=2000.0, strike=10.0, dip=30.0, length=200e3, width=100e3, n_strike=side, n_dip=side)
    g = torch.Generator().manual_seed(1)
    st = torch.cat([(torch.rand(n, 2, generator=g, dtype=torch.float64) - 0.5) * 4e5,
                    torch.zeros(n, 1, dtype=torch.float64)], 1)
    if dev is None:
        m = min(n, 1000)
        small = patch_grid(depth=2000.0, strike=10.0, dip=30.0, length=200e3, width=100e3,
                           n_strike=int(np.sqrt(m)), n_dip=int(np.sqrt(m)))
        t, _ = timed(lambda: greens_matrix(st[:m], small), 1)
        row("Green's matrix CPU", "OK", f"{small.n} patches x {m} stations: {t:.2f} s")
        row(f"Green's matrix CUDA {grid.n} x {n}", "SKIP", "no CUDA device")
        return
    gd = patch_grid(depth=2000.0, strike=10.0, dip=30.0, length=200e3, width=100e3, n_strike=side, n_dip=side,
                    device=dev) if "device" in patch_grid.__code__.co_varnames else None
    if gd is None:
        row("Green's matrix CUDA", "SKIP", "patch_grid has no device argument")
        return
    t, G = timed(lambda: greens_matrix(st.to(dev), gd), 1)
    ref = greens_matrix(st[:50], grid)
    err = rel(G[:50], ref)
    row(f"Green's matrix CUDA {grid.n} x {n}", "OK" if err < 1e-10 else "FAIL",
        f"{t:.2f} s; rel. diff vs CPU on 50 stations {err:.1e}")


def pinn(dev: torch.device | None, steps: int) -> None:
    from sciml.nn import MLP

    def train(device):
        torch.manual_seed(0)
        net = MLP([2, 64, 64, 64, 1], "tanh", "xavier_normal", dtype=torch.float32, seed=0).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(0)
        x = torch.rand(2000, 2, generator=g).to(device)
        f = 2 * np.pi**2 * torch.sin(np.pi * x[:, :1]) * torch.sin(np.pi * x[:, 1:])
        loss = None
        for _ in range(steps):
            opt.zero_grad()
            u, _, lap = net.value_grad_lap(x)
            loss = ((-lap.reshape(-1, 1) - f) ** 2).mean() + (u ** 2).mean() * 0
            loss.backward()
            opt.step()
        return float(loss.detach())

    t_cpu, l_cpu = timed(lambda: train(torch.device("cpu")), 1)
    row("PINN training CPU", "OK", f"{steps / t_cpu:.1f} steps/s (loss {l_cpu:.4g})")
    if dev is None:
        row("PINN training CUDA", "SKIP", "no CUDA device")
        return
    t, l_gpu = timed(lambda: train(dev), 1)
    ok = abs(l_gpu - l_cpu) <= 1e-2 * abs(l_cpu) + 1e-6
    row("PINN training CUDA", "OK" if ok else "FAIL",
        f"{steps / t:.1f} steps/s = {t_cpu / t:.1f}x CPU; loss {l_gpu:.4g} vs CPU {l_cpu:.4g}")


def fno(dev: torch.device | None, steps: int) -> None:
    from sciml.operators.fno import FNO2d

    def train(device, impl="sciml"):
        if impl == "sciml":
            net = FNO2d(width=32, modes=12, layers=4, projection=64, seed=0).to(device)
        else:
            from neuralop.models import FNO

            torch.manual_seed(0)
            net = FNO(n_modes=(24, 24), in_channels=1, out_channels=1, hidden_channels=32, n_layers=4).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(0)
        a = torch.randn(20, 1, 64, 64, generator=g).to(device)
        u = torch.randn(20, 1, 64, 64, generator=g).to(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.zero_grad()
            loss = ((net(a) - u) ** 2).mean()
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return 20 * steps / (time.perf_counter() - t0)

    row("FNO training CPU", "OK", f"{train(torch.device('cpu')):.1f} samples/s (64^2, width 32, batch 20)")
    if dev is None:
        row("FNO training CUDA (sciml / neuraloperator)", "SKIP", "no CUDA device")
        return
    ours = train(dev)
    try:
        peer = f"{train(dev, 'neuralop'):.1f}"
    except ImportError:
        peer = "not installed"
    row("FNO training CUDA", "OK", f"sciml {ours:.1f} samples/s; neuraloperator {peer} samples/s")


def samplers(dev: torch.device | None) -> None:
    from sciml.bayes.svgd import svgd
    from sciml.inference.hmc import hmc

    device = dev or torch.device("cpu")
    cov = torch.tensor([[1.0, 0.8], [0.8, 1.0]], dtype=torch.float64, device=device)
    prec = torch.linalg.inv(cov)

    def logp(th):
        return -0.5 * torch.einsum("ci,ij,cj->c", th, prec, th)

    g = torch.Generator().manual_seed(0)
    res = hmc(logp, torch.randn(4, 2, generator=g, dtype=torch.float64).to(device), n_warmup=300, n_draws=500,
              generator=torch.Generator(device=device).manual_seed(0) if dev is not None else g)
    draws = torch.as_tensor(np.asarray(res.draws)).reshape(-1, 2)
    err = float((torch.cov(draws.T) - cov.cpu()).abs().max())
    row(f"HMC {device.type}", "OK" if err < 0.15 else "FAIL", f"max covariance error {err:.3f} (2000 draws)")
    parts = svgd(logp, torch.randn(200, 2, generator=g, dtype=torch.float64).to(device), steps=300,
                 step_size=0.2, kernel="linear").particles
    err = float((torch.cov(torch.as_tensor(parts).cpu().T) - cov.cpu()).abs().max())
    row(f"SVGD {device.type}", "OK" if err < 0.15 else "FAIL", f"max covariance error {err:.3f} (200 particles)")
    if dev is None:
        row("HMC / SVGD CUDA", "SKIP", "no CUDA device (ran on the CPU above)")


def workflow(dev: torch.device | None) -> None:
    """device plumbing through the workflow: a refused `device: cuda` without CUDA, or a CUDA PINN target."""
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, str(REPO))
        from tests.conftest import copy_workflow

        work = copy_workflow(Path(tmp))
        cmd = [sys.executable, "-m", "snakemake", "-c1", "mogi"]
        if dev is None:
            run = subprocess.run(cmd + ["-n", "--config", "device=cuda"], cwd=work, capture_output=True, text=True)
            ok = run.returncode != 0 and "device" in run.stdout + run.stderr
            row("workflow with device: cuda (no CUDA)", "OK" if ok else "FAIL",
                "refused before any job, naming the key" if ok else (run.stdout + run.stderr)[-300:])
            return
        small = work / "config" / "gpu_check.yaml"
        small.write_text("device: cuda\npinn: {eikonal: {train: {adam_steps: 300, lbfgs_steps: 0}}}\n")
        t0 = time.perf_counter()
        run = subprocess.run(cmd + ["results/pinn/figures/eikonal.png", "--configfile", str(small)], cwd=work,
                             capture_output=True, text=True)
        row("workflow mogi + pinn_eikonal on CUDA", "OK" if run.returncode == 0 else "FAIL",
            f"{time.perf_counter() - t0:.0f} s" if run.returncode == 0 else (run.stdout + run.stderr)[-500:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (CPU smoke run)")
    args = ap.parse_args(argv)
    dev = torch.device("cuda") if torch.cuda.is_available() else None
    name = torch.cuda.get_device_name(0) if dev is not None else "none"
    print(f"sciml gpu-check: torch {torch.__version__}, CUDA device: {name}", flush=True)
    quick = args.quick or dev is None
    for fn in (lambda: okada(dev, 10_000 if quick else 100_000), lambda: greens(dev, 1000 if quick else 10_000),
               lambda: pinn(dev, 50 if quick else 300), lambda: fno(dev, 3 if quick else 20), lambda: samplers(dev),
               lambda: workflow(dev)):
        try:
            fn()
        except Exception as exc:  # a broken path is a failed row, and the table still prints
            row(getattr(fn, "__name__", "check"), "FAIL", f"{type(exc).__name__}: {exc}")
    print("\n| check | status | detail |\n|---|---|---|")
    for r in ROWS:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
    skipped = [r[0] for r in ROWS if r[1] == "SKIP"]
    if skipped:
        print(f"\nskipped (no CUDA): {', '.join(skipped)}")
    print(f"\n{'FAILED: ' + ', '.join(FAILED) if FAILED else 'all checks passed'}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
