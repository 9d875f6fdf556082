"""Rule pinn_fault: train the PINN, write weights (.pt) and predictions/metrics/history (.nc)."""
from sciml.pinn.runner import run_and_write
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    run_and_write(ctx, "fault")
