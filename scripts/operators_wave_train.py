"""Rule operators_wave_train: FNO velocity -> wavefield snapshot; in-distribution and Marmousi errors."""
from sciml.io.netcdf import read_dataset
from sciml.operators.studies import run_model, save_weights
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    n = int(snakemake.wildcards.n)  # noqa: F821
    req = ["velocity", "pressure"]
    sets = {k: read_dataset(getattr(ctx.input, k), required=req) for k in ("train", "test", "marmousi")}
    ds, model = run_model(ctx.params["cfg"], "wave", "fno", n, sets["train"],
                          {"test": sets["test"], "marmousi": sets["marmousi"]}, seed=ctx.seed, device=ctx.device,
                          logger=ctx.log)
    ctx.attach(save_weights(model, ctx.output.pt, {"model": "fno", "n_train": n, "problem": "wave"}))
    ctx.write(ds, ctx.output.nc, title=f"Acoustic wavefield FNO trained on {n} samples: predictions and errors")
