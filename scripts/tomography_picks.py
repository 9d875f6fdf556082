"""Rule tomography_picks: read picks (CSV/NetCDF) or make synthetic ones; write results/tomography/picks.nc."""
from sciml.bayes.tomography import build_picks
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    picks = list(ctx.input.picks)
    model = list(ctx.input.model)
    ds = build_picks(ctx.params["cfg"], picks_path=picks[0] if picks else None,
                     model_path=model[0] if model else None, seed=ctx.seed)
    ctx.log.info("%d picks (%s)", ds.sizes["pick"], ds.attrs["data_source"])
    ctx.write(ds, ctx.output.nc, title="1-D traveltime tomography: picks and GP prior")
