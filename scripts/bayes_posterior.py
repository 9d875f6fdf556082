"""Rules tomography_posterior / bayes_darcy_posterior: one posterior method, summarised against the reference."""
from sciml.bayes import study
from sciml.io.netcdf import read_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    cfg, name, method = ctx.params["cfg"], ctx.params["study"], ctx.params["method"]
    problem, spec, truth = study.load_problem(name, read_dataset(ctx.input.data), cfg, str(ctx.input.data))
    reference = study.REFERENCE[name]
    mean = std = ref = None
    if method == reference:
        samples, info, mean, std = study.run_reference(name, problem, cfg, ctx.seed)
    else:
        fpi = read_dataset(ctx.input.fpi[0]).attrs if len(ctx.input.fpi) else None
        samples, info = study.run_method(problem, method, cfg, ctx.seed, fpi)
        ref = read_dataset(ctx.input.ref[0])
    summ = study.summarize_against(samples, ref, spec, prior_mean=problem.prior.mean, truth=truth,
                                   level=float(cfg.get("level", 0.95)),
                                   ref_mean=mean if mean is not None else None, ref_std=std)
    ctx.log.info("%s: metrics %s; diagnostics %s", method, summ.metrics, info)
    ds = study.posterior_dataset(spec, samples, summ, method=method, info=info, mean=mean, std=std,
                                 truth=truth, reference=reference)
    ctx.write(ds, ctx.output.nc, title=f"{name}: posterior of {spec.long_name} by {method}")
