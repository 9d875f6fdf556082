# sciml: one Snakemake workflow over the sciml library.
# Quick default:  snakemake --profile workflow/profiles/default all
# Paper scale:    snakemake all --profile workflow/profiles/slurm --configfile config/paper.yaml
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


for _smk in sorted(Path(workflow.basedir, "workflow", "rules").glob("*.smk")):
    if _smk.name != "common.smk":

        include: str(_smk)


localrules:
    all,


rule all:
    """Every figure of the configured studies."""
    input:
        [t for targets in STUDY_TARGETS.values() for t in targets],


for _study, _targets in STUDY_TARGETS.items():

    rule:
        name:
            _study
        input:
            _targets
        localrule: True
