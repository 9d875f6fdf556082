"""Rule pilm_strain: PILM velocity field and strain rates with one regularisation."""
from sciml.gnss.study import strain_step
from sciml.io.netcdf import read_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    vel = read_dataset(ctx.input.velocities, required=("lon", "lat", "ve", "vn", "se", "sn", "rho"))
    ds = strain_step(vel, ctx.params["cfg"], snakemake.wildcards.reg, ctx.seed)  # noqa: F821
    ctx.write(ds, ctx.output.nc, title=f"PILM strain rates ({snakemake.wildcards.reg} regularisation)")  # noqa: F821
