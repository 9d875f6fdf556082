"""Rules okada_figure*: figures from the Okada study's NetCDF outputs."""
from sciml.io.netcdf import read_dataset
from sciml.okada import plots
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    ds = read_dataset(ctx.input.nc)
    kind = ctx.params["kind"]
    if kind == "synthetic":
        ctx.save_figure(plots.synthetic_maps(ds), ctx.output.maps)
        ctx.save_figure(plots.sensitivity_maps(ds), ctx.output.sens)
    elif kind == "posterior":
        ref = "fault_true" if "fault_true" in ds else "fault_published"
        ctx.save_figure(plots.corner(ds, reference=ref, reference_label="truth" if ref == "fault_true"
                                     else "published (Custodio et al. 2005)"), ctx.output.png)
    elif kind == "fit":
        ctx.save_figure(plots.parkfield_fit(ds), ctx.output.png)
    else:
        fig = plots.slip_synthetic_figure(ds) if ds.attrs.get("case") == "synthetic" else plots.slip_tohoku_figure(ds)
        ctx.save_figure(fig, ctx.output.png)
