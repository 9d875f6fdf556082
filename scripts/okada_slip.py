"""Rule okada_slip: distributed slip with ABIC-chosen smoothing (synthetic or Tohoku GEONET)."""
from sciml.okada.data import read_geonet_ozawa
from sciml.okada.study import slip_synthetic, slip_tohoku
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    cfg, case, nu = ctx.params["cfg"], ctx.params["case"], float(ctx.params["nu"])
    if case == "synthetic":
        ds = slip_synthetic(cfg, nu=nu, seed=ctx.seed)
    else:
        ds = slip_tohoku(read_geonet_ozawa(ctx.input.data[0]), cfg, nu=nu)
    ctx.write(ds, ctx.output.nc, title=f"Okada distributed-slip inversion ({case})")
