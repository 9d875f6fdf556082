"""Rule okada_invert: LM + Laplace + HMC on synthetic or Parkfield observations."""
from sciml.io.netcdf import read_dataset
from sciml.okada.data import read_parkfield_fault, read_parkfield_gps
from sciml.okada.study import invert, parkfield_observations
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    cfg, case = ctx.params["cfg"], ctx.params["case"]
    if case == "synthetic":
        obs, icfg = read_dataset(ctx.input.data[0], required=("obs", "sigma", "fault_true")), cfg
    else:
        gps, fault = ctx.input.data
        obs, icfg = parkfield_observations(read_parkfield_gps(gps), read_parkfield_fault(fault), cfg), cfg["invert"]
    ds = invert(obs, icfg, nu=float(ctx.params["nu"]), seed=ctx.seed)
    ctx.write(ds, ctx.output.nc, title=f"Okada fault-parameter inversion ({case})")
