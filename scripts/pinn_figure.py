"""Rule pinn_figure: prediction / reference / error figure of one PINN study."""
from sciml.io.netcdf import read_dataset
from sciml.pinn.figures import study_figure
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    ctx.save_figure(study_figure(ctx.params["study"], read_dataset(ctx.input.nc)), ctx.output.png)
