"""Rule pilm_figures: velocity, strain-rate, evidence and gpsgridder-difference figures."""
from sciml.gnss import figures
from sciml.io.netcdf import read_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    p = ctx.params
    strains = {r: read_dataset(f) for r, f in zip(p["regs"], ctx.input.strains)}
    cmp = read_dataset(ctx.input.compare)
    best = cmp.attrs["preferred_by_evidence"]
    ctx.save_figure(figures.velocity_figure(read_dataset(ctx.input.velocities), strains[best], p["title"]),
                    ctx.output.velocities)
    ctx.save_figure(figures.evidence_figure(strains, cmp, p["title"]), ctx.output.evidence)
    for r, png in zip(p["regs"], ctx.output.strains):
        ctx.save_figure(figures.strain_figure(strains[r], p["title"], p["mask_km"]), png)
    if len(ctx.input.gpsgridder):
        gps = read_dataset(ctx.input.gpsgridder[0])
        ctx.save_figure(figures.gpsgridder_figure(strains, gps, cmp, p["title"], p["mask_km"]), ctx.output.gpsgridder[0])
