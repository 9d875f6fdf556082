"""Rule operators_darcy_data: Darcy training, test and finer-resolution test sets (NetCDF)."""
from sciml.operators.data import make_darcy_dataset
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    cfg = ctx.params["cfg"]
    sets = {"train": (cfg["n"], cfg["n_train"], 0), "test": (cfg["n"], cfg["n_test"], 1),
            "fine": (cfg["n_fine"], cfg["n_test_fine"], 2)}
    for name, (n, count, stream) in sets.items():
        ds = make_darcy_dataset(cfg["generator"], n, count, ctx.seed, stream)
        ctx.write(ds, getattr(ctx.output, name), title=f"Darcy flow {name} set ({count} samples, {n}x{n} cells)")
