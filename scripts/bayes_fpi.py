"""Rules tomography_fpi / bayes_darcy_fpi: tune the RFF network's weight prior to the GP prior (FPI)."""
from sciml.bayes import methods, plots, study
from sciml.io.netcdf import read_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    cfg, name = ctx.params["cfg"], ctx.params["study"]
    problem, spec, _ = study.load_problem(name, read_dataset(ctx.input.data), cfg, str(ctx.input.data))
    net = methods.build_network(problem, cfg["network"], ctx.seed)
    res = methods.run_fpi(net, problem, cfg["fpi"], ctx.seed)
    ctx.log.info("FPI %s: %.4g -> %.4g (GP-vs-GP floor %.4g); %s", res.metric, res.initial, res.distance,
                 res.floor, res.hyperparameters)
    ds = study.fpi_dataset(problem, spec, net, res, n_show=int(cfg["fpi"].get("n_show", 8)), seed=ctx.seed)
    ctx.write(ds, ctx.output.nc, title=f"{name}: FPI weight prior tuned to the GP prior")
    ctx.save_figure(plots.prior_samples_figure(ds), ctx.output.png)
