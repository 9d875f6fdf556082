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
