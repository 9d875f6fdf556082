# sciml: one Snakemake workflow over the sciml library. Every rule runs one registered library step
# (sciml.studies; `python -m sciml steps` lists them) through scripts/run_step.py.
# Quick default:  snakemake --profile workflow/profiles/default all
# Paper scale:    snakemake all --profile workflow/profiles/slurm --configfile config/paper.yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


report: "workflow/report/workflow.rst"


# common first (completes and validates the config), then the studies, the summary last (it reads
# every study's STUDY_TARGETS entry).
include: "workflow/rules/common.smk"
include: "workflow/rules/okada.smk"
include: "workflow/rules/pilm.smk"
include: "workflow/rules/pinn.smk"
include: "workflow/rules/operators.smk"
include: "workflow/rules/bayes.smk"
include: "workflow/rules/mogi.smk"
include: "workflow/rules/okadatorch.smk"
include: "workflow/rules/summary.smk"


localrules:
    all,


rule all:
    """Every figure of the configured studies."""
    input:
        [t for targets in STUDY_TARGETS.values() for t in targets],
        "results/crate/ro-crate-metadata.json",


for _study, _targets in STUDY_TARGETS.items():

    rule:
        name:
            _study
        input:
            _targets
        localrule: True
