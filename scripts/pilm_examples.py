"""Rule pilm_examples: 1-D PILM problems against exact solutions."""
from sciml.pilm.examples import examples_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    cfg = ctx.params["cfg"]
    ds = examples_dataset(cfg["n_intervals"], cfg["n_modes"], cfg.get("inverse"), seed=ctx.seed)
    ctx.log.info("forward rate %.2f, inverse source rel. error %.4f", ds.attrs["forward_rate"], ds.attrs["q_rel_error"])
    ctx.write(ds, ctx.output.nc, title="PILM 1-D examples: convergence to exact solutions")
