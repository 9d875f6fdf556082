"""Rule operators_wave_data: GP velocity models and acoustic snapshots (train / test), Marmousi windows (OOD)."""
from sciml.operators.data import make_marmousi_dataset, make_wave_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    cfg = ctx.params["cfg"]
    gen = cfg["generator"]
    for name, count, stream in (("train", cfg["n_train"], 10), ("test", cfg["n_test"], 11)):
        ds = make_wave_dataset(gen, count, ctx.seed, stream)
        ctx.write(ds, getattr(ctx.output, name), title=f"Acoustic wavefield {name} set ({count} GP velocity models)")
    m = cfg["marmousi"]
    path = ctx.input.marmousi[0] if len(ctx.input.marmousi) else None
    if path is None:
        ctx.log.warning("Marmousi file absent: out-of-distribution set uses the synthetic layered model")
    ds = make_marmousi_dataset(gen, m["windows"], path, marmousi_dx=m["dx"], marmousi_dz=m["dz"], seed=ctx.seed)
    ctx.write(ds, ctx.output.marmousi_nc, title="Acoustic wavefield out-of-distribution set (Marmousi windows)")
