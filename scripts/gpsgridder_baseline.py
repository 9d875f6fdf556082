"""Rule gpsgridder_baseline: GMT gpsgridder on the same stations and grid as PILM."""
from sciml.gnss.study import gpsgridder_step
from sciml.io.netcdf import read_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    vel = read_dataset(ctx.input.velocities, required=("lon", "lat", "ve", "vn", "se", "sn"))
    ds = gpsgridder_step(vel, ctx.params["cfg"], ctx.params["gpsgridder"])
    ctx.write(ds, ctx.output.nc, title="GMT gpsgridder velocities and strain rates")
