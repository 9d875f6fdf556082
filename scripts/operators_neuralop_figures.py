"""Rule operators_neuralop_figures: our FNO vs neuraloperator's FNO on the published Darcy data."""
from sciml.io.netcdf import read_dataset
from sciml.operators.data import load_neuralop_darcy
from sciml.operators.report import neuralop_figures
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    runs = {(r["impl"], int(r["n"])): read_dataset(p) for r, p in zip(ctx.params["runs"], ctx.input.runs)}
    summary, fig_pred, fig_size = neuralop_figures(runs, load_neuralop_darcy(ctx.input.test16),
                                                   load_neuralop_darcy(ctx.input.test32))
    ctx.save_figure(fig_pred, ctx.output.prediction)
    ctx.save_figure(fig_size, ctx.output.size)
    ctx.write(summary, ctx.output.nc, title="Published Darcy data: FNO implementations compared")
