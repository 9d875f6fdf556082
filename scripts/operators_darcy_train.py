"""Rule operators_darcy_train: train one operator ({model}, {n} samples) on Darcy data; predictions + weights."""
from sciml.io.netcdf import read_dataset
from sciml.operators.studies import run_model, save_weights
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    kind, n = snakemake.wildcards.model, int(snakemake.wildcards.n)  # noqa: F821
    sets = {k: read_dataset(getattr(ctx.input, k), required=["log_k", "u"]) for k in ("train", "test", "fine")}
    ds, model = run_model(ctx.params["cfg"], "darcy", kind, n, sets["train"],
                          {"test": sets["test"], "fine": sets["fine"]}, seed=ctx.seed, device=ctx.device,
                          logger=ctx.log)
    ctx.attach(save_weights(model, ctx.output.pt, {"model": kind, "n_train": n, "problem": "darcy"}))
    ctx.write(ds, ctx.output.nc, title=f"Darcy operator {kind} trained on {n} samples: predictions and errors")
