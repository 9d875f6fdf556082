"""Benchmark of sciml.bayes kernels against their peers, run in the same process.

1. GP prior sampling (sciml.gp.GaussianProcess.sample) vs scipy.stats.multivariate_normal.rvs.
2. Batched Darcy solves (sciml.bayes.darcy.DarcySolve, dense batched LU) vs a loop over
   sciml.forward.darcy.solve_darcy (sparse SuperLU), with the maximum difference of the solutions.
3. Darcy log-likelihood gradient by the adjoint (one extra solve) vs central finite differences (2 m solves).

Usage: .venv/bin/python benchmarks/bayes_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from scipy import stats
from threadpoolctl import threadpool_limits

from sciml.bayes.darcy import DarcySolve, build_data, problem_from_dataset
from sciml.forward.darcy import solve_darcy
from sciml.gp import GaussianProcess
from timing import best_of


def best(fn, repeat: int) -> float:
    return best_of(repeat, fn, warmup=False)[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    gp = GaussianProcess("matern52", 1.0, 0.3)
    x = np.random.default_rng(0).uniform(0, 1, (400, 2))
    rng = np.random.default_rng(1)
    t_ours = best(lambda: gp.sample(x, 2000, rng), args.repeat)
    cov = gp.covariance(x) + 1e-8 * np.eye(400)
    t_peer = best(lambda: stats.multivariate_normal(np.zeros(400), cov, allow_singular=True).rvs(2000, random_state=2),
                  args.repeat)
    rows.append(("GP sample 2000 x 400 pts", "scipy multivariate_normal", t_ours, t_peer, float("nan")))
    for n in (8, 16):
        m = np.random.default_rng(3).standard_normal((64, n * n)) * 0.5
        t_ours = best(lambda: DarcySolve.apply(torch.as_tensor(m), n, 1.0), args.repeat)
        t_peer = best(lambda: [solve_darcy(r.reshape(n, n)) for r in m], args.repeat)
        diff = float(np.abs(DarcySolve.apply(torch.as_tensor(m), n, 1.0).numpy()
                            - np.array([solve_darcy(r.reshape(n, n)).ravel() for r in m])).max())
        rows.append((f"64 Darcy solves n={n}", "solve_darcy loop", t_ours, t_peer, diff))
    cfg = {"grid": {"n": 8}, "prior": {"kernel": "matern52", "variance": 1.0, "length_scale": 0.4, "mean": 0.0},
           "noise_sigma": 0.005, "sensors_per_side": 3, "source": 1.0}
    prob, _, truth = problem_from_dataset(build_data(cfg, 0))
    m0 = torch.as_tensor(truth[None] * 0.5)

    def adjoint():
        z = m0.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(prob.log_likelihood(z).sum(), z)
        return g

    def fd():
        h = 1e-6
        e = torch.eye(m0.shape[1], dtype=torch.float64) * h
        return (prob.log_likelihood(m0 + e) - prob.log_likelihood(m0 - e)) / (2 * h)

    t_ours, t_peer = best(adjoint, args.repeat), best(fd, args.repeat)
    diff = float((adjoint()[0] - fd()).abs().max() / fd().abs().max())
    rows.append(("Darcy misfit gradient n=8", "finite differences", t_ours, t_peer, diff))
    print(f"{'task':28s} {'peer':26s} {'sciml (s)':>10s} {'peer (s)':>10s} {'speed-up':>9s} {'max diff':>9s}")
    for task, peer, a, b, d in rows:
        print(f"{task:28s} {peer:26s} {a:10.4f} {b:10.4f} {b / a:9.1f} {d:9.2g}")


if __name__ == "__main__":
    with threadpool_limits(limits=1, user_api="blas"):
        main()
