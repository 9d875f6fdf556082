"""Benchmark sciml.okada against pyrocko's C DC3D (same run, same CPU, float64, same thread count).

Cases (issues 3, 14): (1) displacement + gradient, 1e5 stations x 1 rectangle: the plain eager call (no autograd:
the native C kernel, sciml.okada.native) at 1 and ``--threads`` threads, z = 0 and z < 0, dip a number or a tensor;
beside a busy process (``--contention``); the PyTorch path (what runs under autograd); torch.compile of the PyTorch
path; (2) Green's-function matrix, 200 patches x 5000 stations (strike + dip slip, displacement); (3) gradient of a
scalar misfit w.r.t. the 9 fault parameters for 1e5 stations relative to the forward call. Prints sciml / pyrocko
time (ratio) and its inverse (speed-up); sciml and pyrocko are timed alternately (best of ``--repeat``).

Threads: the native kernel and pyrocko run on ``--threads`` threads. The PyTorch path runs ~2000 small eager ops per
call: its intra-op threads (``--torch-threads``, default 1) only pay off on an idle machine, so it evaluates station
chunks in parallel (a thread pool, one intra-op thread each); its intra-op multi-thread time is printed too.

    .venv/bin/python benchmarks/okada_bench.py [--n 100000] [--repeat 3] [--chunk 8192] [--threads 2] [--contention]

Accuracy near vertical / flat dips against mpmath: ``benchmarks/okada_accuracy.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from sciml.okada import dc3d, greens_matrix, patch_grid, rectangle
from timing import best_of


def _parallel(fn, starts, workers: int) -> None:
    """Run ``fn(start)`` for every chunk start on ``workers`` threads (ATen releases the GIL inside kernels)."""
    if workers <= 1:
        for i in starts:
            fn(i)
        return
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(fn, starts))


def _best(fn, repeat: int) -> float:
    return best_of(repeat, fn)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--n-gf-stations", type=int, default=5000)
    ap.add_argument("--n-gf-patches", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=8192, help="stations per dc3d call (bounds memory)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="pyrocko threads = sciml chunk workers")
    ap.add_argument("--torch-threads", type=int, default=1, help="sciml intra-op threads")
    ap.add_argument("--skip-intra", action="store_true", help="skip the intra-op multi-thread row")
    ap.add_argument("--forward-only", action="store_true", help="only case (1), u + grad of one rectangle")
    ap.add_argument("--contention", action="store_true", help="also time u + grad beside a busy process")
    ap.add_argument("--skip-compile", action="store_true", help="skip the torch.compile rows (each compiles ~1-2 min)")
    a = ap.parse_args()
    torch.set_num_threads(a.torch_threads)
    from pyrocko.modelling import okada_ext

    rng = np.random.default_rng(0)
    n = a.n
    x, y = rng.uniform(-20e3, 20e3, n), rng.uniform(-20e3, 20e3, n)
    z = np.zeros(n)
    geo = dict(depth=4000.0, dip=70.0, al1=-5000.0, al2=5000.0, aw1=-6000.0, aw2=1000.0)
    disl = (1.0, 0.5, 0.2)
    rows = []

    # (1) displacement + gradient, 1e5 stations, one rectangle. Stations at the surface: z = 0 lets sciml use the
    # exact surface shortcut (real and image sources coincide); z = -1e-6 m (same physics, general path) does not.
    src = np.array([[0.0, 0.0, geo["depth"], 0.0, geo["dip"], geo["al1"], geo["al2"], geo["aw1"], geo["aw2"]]])
    rec = np.stack([x, -y, -z], -1)

    def pyrocko(threads=a.threads):
        return okada_ext.okada(src, np.array([disl]), rec, 3e10, 3e10, nthreads=threads, rotate_sdn=0,
                               stack_sources=1)

    t_pyr = _best(pyrocko, a.repeat)
    tx, ty = torch.as_tensor(x), torch.as_tensor(y)
    z_paths = {"z = 0": torch.zeros(n, dtype=torch.float64),
               "z = -1e-6 m, general path": torch.full((n,), -1e-6, dtype=torch.float64)}

    def native(th, tz, dip=geo["dip"], derivatives=True):
        """The plain call a user makes: one dc3d call, tensors, no autograd -> the native C kernel on ``th``
        threads (torch.set_num_threads)."""
        torch.set_num_threads(th)
        with torch.no_grad():
            dc3d(2 / 3, tx, ty, tz, geo["depth"], dip, geo["al1"], geo["al2"], geo["aw1"], geo["aw2"], *disl,
                 derivatives=derivatives)

    def torch_path(derivatives=True, workers=a.threads, tz=z_paths["z = 0"], dip=geo["dip"]):
        """The PyTorch path (SCIML_OKADA_NATIVE=0: what runs under autograd), station chunks on ``workers``."""
        torch.set_num_threads(a.torch_threads)
        os.environ["SCIML_OKADA_NATIVE"] = "0"

        def one(i):
            with torch.no_grad():  # grad mode is thread-local
                dc3d(2 / 3, tx[i:i + a.chunk], ty[i:i + a.chunk], tz[i:i + a.chunk], geo["depth"], dip,
                     geo["al1"], geo["al2"], geo["aw1"], geo["aw2"], *disl, derivatives=derivatives)
        try:
            _parallel(one, range(0, n, a.chunk), workers)
        finally:
            os.environ.pop("SCIML_OKADA_NATIVE", None)

    dip_t = torch.tensor(geo["dip"], dtype=torch.float64)
    for label, tz in z_paths.items():
        for th in sorted({1, a.threads}):
            for kind, dip in (("dip a number", geo["dip"]), ("dip a tensor", dip_t)):
                t_o, t_p = best_of(a.repeat, lambda: native(th, tz, dip), lambda: pyrocko(th))
                rows.append((f"u + grad, {n} stations, eager (native kernel), {th} thread(s) ({label}, {kind})",
                             t_o, t_p))
    if a.contention:
        # another CPU-bound process on the machine: slowdown of each code relative to its own idle time, both at
        # a.threads threads, measured alternately
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            t_ours_c, t_pyr_c = best_of(a.repeat, lambda: native(a.threads, z_paths["z = 0"]),
                                        lambda: pyrocko(a.threads))
        finally:
            busy.kill()
        t_ours_i, t_pyr_i = best_of(a.repeat, lambda: native(a.threads, z_paths["z = 0"]), lambda: pyrocko(a.threads))
        rows.append((f"u + grad eager (native), {a.threads} threads, beside a busy process (vs pyrocko beside it)",
                     t_ours_c, t_pyr_c))
        rows.append(("u + grad eager, slowdown with a busy process / without (sciml's; reference: pyrocko's)",
                     t_ours_c / t_ours_i, t_pyr_c / t_pyr_i))
    rows.append((f"u only (native, eager, z = 0, {a.threads} threads) vs u + grad (pyrocko), {n} stations",
                 _best(lambda: native(a.threads, z_paths["z = 0"], derivatives=False), a.repeat), t_pyr))
    for label, tz in z_paths.items():
        rows.append((f"u + grad, {n} stations, PyTorch path (autograd-capable), {a.threads} chunk workers ({label})",
                     _best(lambda: torch_path(tz=tz), a.repeat), t_pyr))
    if not a.skip_intra:
        torch.set_num_threads(a.threads)
        os.environ["SCIML_OKADA_NATIVE"] = "0"
        with torch.no_grad():
            t_intra = _best(lambda: dc3d(2 / 3, tx, ty, z_paths["z = 0"], *geo.values(), *disl), a.repeat)
        os.environ.pop("SCIML_OKADA_NATIVE", None)
        rows.append((f"u + grad, {n} stations, PyTorch path, {a.threads} intra-op threads (z = 0)", t_intra, t_pyr))
    torch.set_num_threads(a.torch_threads)
    if not a.skip_compile:
        # torch.compile (inductor: one C++/OpenMP kernel); z = 0.0 as a number makes the surface shortcut static;
        # compiled once per thread count and z path (inductor caches the build on disk)
        for label, zz in (("z = 0.0", 0.0), ("z = -1e-6 m tensor, general path", z_paths["z = -1e-6 m, general path"])):
            def fn(xx, yy, zz=zz):
                r = dc3d(2 / 3, xx, yy, zz, geo["depth"], geo["dip"], geo["al1"], geo["al2"], geo["aw1"], geo["aw2"],
                         *disl, derivatives=True)
                return r.u, r.grad, r.iret

            for th in sorted({1, a.threads}):
                torch.set_num_threads(th)
                torch._dynamo.reset()
                compiled = torch.compile(fn, fullgraph=True, dynamic=False)
                t0 = time.perf_counter()
                with torch.no_grad():
                    u_c = compiled(tx, ty)[0].numpy()
                t_build = time.perf_counter() - t0
                u_p = pyrocko(th)[:, :3]  # (north, east, down) = (x, -y, -z) components
                err = float(np.abs(u_c * [1.0, -1.0, -1.0] - u_p).max() / np.abs(u_p).max())

                def run_compiled():
                    with torch.no_grad():
                        compiled(tx, ty)

                t_c, t_p = best_of(a.repeat, run_compiled, lambda: pyrocko(th))
                rows.append((f"u + grad, {n} stations, torch.compile, {th} thread(s) each ({label}; build "
                             f"{t_build:.0f} s; max rel. diff to pyrocko {err:.0e})", t_c, t_p))
        torch.set_num_threads(a.torch_threads)

    if a.forward_only:
        _print(a, rows)
        return
    # (2) Green's functions: 200 patches x 5000 stations
    grid = patch_grid(depth=1000.0, strike=0.0, dip=30.0, length=40e3, width=20e3, n_strike=20,
                      n_dip=a.n_gf_patches // 20)
    m = a.n_gf_stations
    st = torch.as_tensor(np.stack([rng.uniform(-50e3, 50e3, m), rng.uniform(-50e3, 50e3, m), np.zeros(m)], -1))
    gf_chunk = max(1, 16384 // grid.n)

    def ours_gf(workers=a.threads):
        def one(i):
            with torch.no_grad():
                greens_matrix(st[i:i + gf_chunk], grid)
        _parallel(one, range(0, m, gf_chunk), workers)

    t_gf = _best(ours_gf, a.repeat)
    t_gf_1 = _best(lambda: ours_gf(1), a.repeat)
    srcs = np.stack([grid.north.numpy(), grid.east.numpy(), grid.depth.numpy(), grid.strike.numpy(),
                     grid.dip.numpy(), -grid.length.numpy() / 2, grid.length.numpy() / 2, -grid.width.numpy(),
                     np.zeros(grid.n)], -1)
    rec2 = np.stack([st[:, 1].numpy(), st[:, 0].numpy(), np.zeros(m)], -1)

    def pyr_gf():
        for d in ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)):
            okada_ext.okada(srcs, np.tile(d, (grid.n, 1)), rec2, 3e10, 3e10, nthreads=a.threads, rotate_sdn=0,
                            stack_sources=0)

    t_gf_pyr = _best(pyr_gf, a.repeat)
    rows.append((f"Green's functions {grid.n} patches x {m} stations ({a.threads} chunk workers)", t_gf, t_gf_pyr))
    rows.append((f"Green's functions {grid.n} patches x {m} stations (sciml 1 thread)", t_gf_1, t_gf_pyr))

    # (3) gradient of a scalar misfit w.r.t. 9 fault parameters, 1e5 stations
    stations = torch.as_tensor(np.stack([x, y, z], -1))
    obs = torch.zeros(n, 3, dtype=torch.float64)
    names = ("east", "north", "depth", "strike", "dip", "length", "width", "rake", "slip")
    theta0 = torch.tensor([0.0, 0.0, 2000.0, 10.0, 70.0, 10e3, 7e3, 80.0, 1.0], dtype=torch.float64)

    def misfit(theta, grad: bool):
        total = 0.0
        for i in range(0, n, a.chunk):
            kw = dict(zip(names, theta))
            u = rectangle(stations[i:i + a.chunk], **kw, derivatives=False).u
            loss = ((u - obs[i:i + a.chunk]) ** 2).sum()
            if grad:
                loss.backward()
            total += float(loss.detach())
        return total

    def fwd():
        with torch.no_grad():
            misfit(theta0, False)

    def fwd_bwd():
        th = theta0.clone().requires_grad_(True)
        misfit(th, True)

    t_f = _best(fwd, a.repeat)
    t_fb = _best(fwd_bwd, a.repeat)
    rows.append((f"misfit + gradient (9 params) vs misfit alone, {n} stations", t_fb, t_f))

    _print(a, rows)


def _print(a, rows) -> None:
    print(f"threads={a.threads} (pyrocko threads, sciml threads or chunk workers), PyTorch-path intra-op threads="
          f"{a.torch_threads}, float64, best of {a.repeat}, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"{'case':112s} {'sciml (s)':>10s} {'reference (s)':>14s} {'ratio':>7s} {'speed-up':>9s}")
    for name, t1, t2 in rows:
        print(f"{name:112s} {t1:10.4f} {t2:14.4f} {t1 / t2:7.2f} {t2 / t1:9.2f}")
    print("ratio = sciml / reference time; speed-up = reference / sciml. reference = pyrocko okada_ext (C, OpenMP, "
          "same thread count; Green's functions: u + grad, one call per mode) except the last row (= sciml forward "
          "call) and the slowdown row")


if __name__ == "__main__":
    main()
