"""Rule bayes_darcy_data: synthetic Darcy inversion data (GP-draw log-permeability, noisy sensor pressures)."""
from sciml.bayes.darcy import build_data
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    ds = build_data(ctx.params["cfg"], ctx.seed)
    ctx.log.info("%d sensors on a %d x %d grid", ds.sizes["sensor"], ds.sizes["y"], ds.sizes["x"])
    ctx.write(ds, ctx.output.nc, title="2-D Darcy inversion: synthetic sensor pressures and GP prior")
