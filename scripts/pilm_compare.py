"""Rule pilm_compare: evidence / misfit / roughness table and gpsgridder difference maps."""
from sciml.gnss.study import compare_step
from sciml.io.netcdf import read_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    strains = {r: read_dataset(p) for r, p in zip(ctx.params["regs"], ctx.input.strains)}
    gps = read_dataset(ctx.input.gpsgridder[0]) if len(ctx.input.gpsgridder) else None
    ds = compare_step(strains, gps, read_dataset(ctx.input.velocities), ctx.params["mask_km"])
    ctx.write(ds, ctx.output.nc, title="PILM regularisations and gpsgridder compared")
