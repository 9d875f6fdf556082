"""The one rule script: run the step named in the rule's params (see sciml.workflow and sciml.studies)."""
from sciml.workflow import run_rule

run_rule(snakemake)  # noqa: F821
