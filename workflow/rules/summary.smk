# Report tables over all studies: metrics of every result and the lineage tree of every figure.
# Included last by the Snakefile: it reads every study's STUDY_TARGETS entry.


rule summary_tables:
    """Metrics (every metric_<name> variable) and lineage trees of every figure of the run."""
    input:
        code=step_code("summary.tables"),
        figures=[t for study, targets in STUDY_TARGETS.items() if study != "summary" for t in targets],
    output:
        metrics=report(
            "results/summary/metrics.csv",
            caption="../report/summary/metrics.rst",
            category="Summary",
        ),
        lineage=report(
            "results/summary/lineage.txt",
            caption="../report/summary/lineage.rst",
            category="Summary",
        ),
    params:
        **step_params("summary.tables"),
    log:
        LOG("summary_tables"),
    benchmark:
        BENCH("summary_tables")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        ENV
    script:
        RUN_STEP


STUDY_TARGETS["summary"] = ["results/summary/metrics.csv", "results/summary/lineage.txt"]

# One target per seed paper (PAPERS and paper_figures in common.smk): its figures and their metrics table.
wildcard_constraints:
    paper="|".join(PAPERS),


rule summary_paper:
    """Metrics (with the acceptance checks) and lineage trees of one paper target's figures."""
    input:
        code=step_code("summary.tables"),
        figures=lambda wc: paper_figures(wc.paper),
    output:
        metrics=report(
            "results/summary/{paper}/metrics.csv",
            caption="../report/summary/metrics.rst",
            category="Summary",
            subcategory="{paper}",
        ),
        lineage="results/summary/{paper}/lineage.txt",
    params:
        **step_params("summary.tables"),
    log:
        LOG("summary_paper_{paper}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        ENV
    script:
        RUN_STEP


for _paper in PAPERS:

    rule:
        name:
            _paper
        input:
            paper_figures(_paper),
            f"results/summary/{_paper}/metrics.csv",
        localrule: True


rule crate:
    """Workflow Run RO-Crate (Provenance Run Crate 0.5) of every figure and its lineage (python -m sciml crate)."""
    input:
        figures=[t for study, targets in STUDY_TARGETS.items() if study != "summary" for t in targets],
    output:
        metadata=report(
            "results/crate/ro-crate-metadata.json",
            caption="../report/summary/crate.rst",
            category="Summary",
        ),
    params:
        python=PYTHON,
    log:
        LOG("crate"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        ENV
    shell:
        "{params.python} -m sciml crate {input.figures} --out results/crate --check > {log} 2>&1"
