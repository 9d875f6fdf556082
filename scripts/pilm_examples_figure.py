"""Rule pilm_examples_figure: convergence figure of the 1-D examples."""
from sciml.gnss.figures import examples_figure
from sciml.io.netcdf import read_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    ctx.save_figure(examples_figure(read_dataset(ctx.input.nc)), ctx.output.png)
