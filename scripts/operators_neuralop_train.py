"""Rule operators_neuralop_train: our FNO or the neuraloperator FNO on the published 16x16 Darcy set."""
from sciml.operators.data import load_neuralop_darcy
from sciml.operators.studies import run_model, save_weights
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    impl, n = snakemake.wildcards.impl, int(snakemake.wildcards.n)  # noqa: F821
    train = load_neuralop_darcy(ctx.input.train)
    tests = {"test": load_neuralop_darcy(ctx.input.test16), "test32": load_neuralop_darcy(ctx.input.test32)}
    kind = "fno" if impl == "sciml" else "neuralop"
    ds, model = run_model(ctx.params["cfg"], "darcy", kind, n, train, tests, seed=ctx.seed, device=ctx.device,
                          logger=ctx.log)
    ctx.attach(save_weights(model, ctx.output.pt, {"model": kind, "n_train": n, "problem": "darcy_neuralop"}))
    ctx.write(ds, ctx.output.nc, title=f"Published Darcy set: {impl} FNO trained on {n} samples")
