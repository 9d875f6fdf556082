"""Samplers and MCMC diagnostics shared by the Okada and Bayesian studies: multi-chain HMC with warm-up
adaptation (:mod:`sciml.inference.hmc`) and split R-hat / effective sample size
(:mod:`sciml.inference.diagnostics`)."""
