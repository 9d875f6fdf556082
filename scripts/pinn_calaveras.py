"""Rule pinn_calaveras: train the PINN, write weights (.pt) and predictions/metrics/history (.nc)."""
from sciml.pinn.runner import run_and_write
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    paths = {"phase": ctx.input.phase, "stations": ctx.input.stations, "model": ctx.input.model}
    run_and_write(ctx, "calaveras", paths)
