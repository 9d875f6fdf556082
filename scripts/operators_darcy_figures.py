"""Rule operators_darcy_figures: summary table and figures of the Darcy study."""
from sciml.io.netcdf import read_dataset
from sciml.operators.report import darcy_figures
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    runs = {(r["model"], int(r["n"])): read_dataset(p) for r, p in zip(ctx.params["runs"], ctx.input.runs)}
    summary, fig_pred, fig_size = darcy_figures(runs, read_dataset(ctx.input.test), read_dataset(ctx.input.fine))
    ctx.save_figure(fig_pred, ctx.output.prediction)
    ctx.save_figure(fig_size, ctx.output.size)
    ctx.write(summary, ctx.output.nc, title="Darcy neural operators: test errors by model and training-set size")
