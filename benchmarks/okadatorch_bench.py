"""Notebook 7 of OkadaTorch (Bayesian demo) on one posterior: sciml's cold-start LM -> Laplace -> batched HMC
against Pyro NUTS (pyro-ppl, the notebook's sampler) driving sciml's own kernel. Same data, same prior (uniform
box, NUTS samples q in [0, 1] as the notebook), same ESS estimator (sciml.inference.diagnostics.summary, bulk ESS
over chains); prints minimum ESS per second of each and the ratio, and the agreement of the posteriors (means
in posterior sds, sd ratios).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/okadatorch_bench.py                 # NUTS 200 + 300 from truth
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/okadatorch_bench.py --nuts-init uniform

NUTS needs >= 200 + 300 draws for a stable ESS (the issue: shorter runs give ratios of 50-155x); run it on an
idle machine and record ``uptime`` beside the numbers.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nuts-warmup", type=int, default=200)
    ap.add_argument("--nuts-draws", type=int, default=300)
    ap.add_argument("--nuts-chains", type=int, default=1, help="NUTS chains (sequential, as the notebook)")
    ap.add_argument("--nuts-init", choices=("truth", "uniform"), default="truth")
    ap.add_argument("--chains", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--draws", type=int, default=250)
    ap.add_argument("--leapfrog", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-nuts", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    from sciml.config import defaults
    from sciml.inference.diagnostics import summary
    from sciml.okada.okadatorch import BoxPosterior, cold_start_posterior, wrapper_deformation
    from sciml.studies.okadatorch import data_dataset, prior_box

    cfg = defaults("okadatorch")
    ds = data_dataset(cfg)
    st = torch.tensor(np.stack([ds["station_east"].values, ds["station_north"].values,
                                np.zeros(ds.sizes["station"])], -1))
    obs = torch.tensor(ds["obs"].values)
    truth = torch.tensor(ds["truth"].values)
    box = prior_box(cfg["bayes"], st, truth)
    lo, width = box.lower, box.upper - box.lower
    post = BoxPosterior(st, obs, float(cfg["data"]["sigma_m"]), box)
    print(f"load before: {os.getloadavg()}")

    t0 = time.perf_counter()
    cs = cold_start_posterior(post, chains=a.chains, warmup=a.warmup, draws=a.draws, leapfrog=a.leapfrog,
                              seed=a.seed)
    t_ours = time.perf_counter() - t0
    q_ours = (torch.as_tensor(cs.hmc.draws) - lo) / width
    s_ours = summary(q_ours.numpy())
    print(f"sciml cold start ({a.chains} chains x {a.warmup} + {a.draws}, L = {a.leapfrog}): {t_ours:.1f} s "
          f"(LM {cs.seconds['lm']:.1f}, Laplace {cs.seconds['laplace']:.1f}, HMC {cs.seconds['hmc']:.1f}); "
          f"ESS min {s_ours['ess_min']:.0f}, R-hat max {s_ours['rhat_max']:.3f}, divergences {cs.hmc.divergences}; "
          f"ESS min / s {s_ours['ess_min'] / t_ours:.2f}")
    if a.skip_nuts:
        return

    import pyro
    import pyro.distributions as dist
    from pyro.infer import MCMC, NUTS
    from pyro.infer.autoguide.initialization import init_to_uniform, init_to_value

    pyro.set_rng_seed(123)
    names = [f"q{i}" for i in range(9)]

    def model():
        q = torch.stack([pyro.sample(n, dist.Uniform(torch.tensor(0.0, dtype=torch.float64),
                                                     torch.tensor(1.0, dtype=torch.float64))) for n in names])
        u = wrapper_deformation(st, lo + width * q, derivatives=False).u
        pyro.sample("obs", dist.Normal(u, float(cfg["data"]["sigma_m"])), obs=obs)

    q_true = (truth - lo) / width
    init = (init_to_value(values={n: q_true[i] for i, n in enumerate(names)}) if a.nuts_init == "truth"
            else init_to_uniform)
    t0 = time.perf_counter()
    mcmc = MCMC(NUTS(model, init_strategy=init), num_samples=a.nuts_draws, warmup_steps=a.nuts_warmup,
                num_chains=a.nuts_chains, disable_progbar=True)
    mcmc.run()
    t_nuts = time.perf_counter() - t0
    smp = mcmc.get_samples(group_by_chain=True)
    q_nuts = torch.stack([smp[n] for n in names], -1).numpy()
    s_nuts = summary(q_nuts)
    print(f"Pyro NUTS (init {a.nuts_init}, {a.nuts_chains} chain x {a.nuts_warmup} + {a.nuts_draws}): {t_nuts:.1f} s; "
          f"ESS min {s_nuts['ess_min']:.0f}, R-hat max {s_nuts['rhat_max']:.3f}; "
          f"ESS min / s {s_nuts['ess_min'] / t_nuts:.3f}")
    qo, qn = q_ours.numpy().reshape(-1, 9), q_nuts.reshape(-1, 9)
    off = np.abs(qo.mean(0) - qn.mean(0)) / qn.std(0)
    ratio = qo.std(0) / qn.std(0)
    print(f"posterior agreement: max |mean offset| {off.max():.2f} NUTS sd (goal < 0.5); sd ratios "
          f"{ratio.min():.2f}-{ratio.max():.2f} (goal 0.7-1.4)")
    print(f"RATIO sciml / NUTS min ESS per second: {(s_ours['ess_min'] / t_ours) / (s_nuts['ess_min'] / t_nuts):.1f}x "
          f"(goal >= 300x); load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
