"""Rules tomography_compare / bayes_darcy_compare: metrics table, posterior figure, accuracy-versus-cost figure."""
from sciml.bayes import plots, study
from sciml.io.netcdf import read_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    cfg, name, methods = ctx.params["cfg"], ctx.params["study"], ctx.params["methods"]
    posts = {m: read_dataset(p) for m, p in zip(methods, ctx.input.posteriors)}
    wall = {m: study.read_benchmark_seconds(p) for m, p in zip(methods, ctx.input.bench)}
    reference = study.REFERENCE[name]
    table = study.comparison_table(posts, wall, cfg["targets"], reference)
    for i, m in enumerate(methods):
        ctx.log.info("%s: %s", m, {k: float(table[k].values[i]) for k in table.data_vars})
    ctx.write(table, ctx.output.nc, title=f"{name}: posterior accuracy against {reference} and cost")
    if name == "tomography":
        fig = plots.posterior_1d_figure(posts, reference, "slowness")
    else:
        fig = plots.posterior_2d_figure(posts, "log_permeability")
    ctx.save_figure(fig, ctx.output.posteriors)
    ctx.save_figure(plots.comparison_figure(table, cfg["targets"], f"{name}: accuracy versus cost"),
                    ctx.output.comparison)
