"""Rule okada_synthetic: noisy displacements of a configured fault, surface maps and sensitivities."""
from sciml.okada.data import read_station_lonlat
from sciml.okada.study import synthetic
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    gnss = read_station_lonlat(ctx.input.stations[0]) if len(ctx.input.stations) else None
    ds = synthetic(ctx.params["cfg"], nu=float(ctx.params["nu"]), seed=ctx.seed, gnss_lonlat=gnss)
    ctx.write(ds, ctx.output.nc, title="Okada synthetic coseismic displacements")
