"""Rule operators_wave_figures: wave-surrogate figures (in distribution and Marmousi) and summary."""
from sciml.io.netcdf import read_dataset
from sciml.operators.report import wave_figures
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    runs = {("fno", int(n)): read_dataset(p) for n, p in zip(ctx.params["sizes"], ctx.input.runs)}
    summary, fig_pred, fig_size = wave_figures(runs, read_dataset(ctx.input.test), read_dataset(ctx.input.marmousi))
    ctx.save_figure(fig_pred, ctx.output.prediction)
    ctx.save_figure(fig_size, ctx.output.size)
    ctx.write(summary, ctx.output.nc, title="Acoustic wavefield FNO: errors in and out of distribution")
