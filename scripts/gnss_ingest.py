"""Rule gnss_ingest: GNSS velocity files (or the synthetic field) to one tidy NetCDF."""
from sciml.gnss.study import ingest_step
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    ds = ingest_step(ctx.params["cfg"], list(ctx.input.sources), ctx.seed)
    ctx.log.info("%d stations; counts %s", ds.sizes["station"], {k: v for k, v in ds.attrs.items() if k.startswith("count_")})
    ctx.write(ds, ctx.output.nc, title="GNSS horizontal velocities (tidy station table)")
