# Report tables over all studies: metrics of every result and the lineage tree of every figure.


rule summary_tables:
    """Metrics (scalar results and diagnostics) and lineage trees of every figure of the run."""
    input:
        code=code("report"),
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
        "../../scripts/summary_tables.py"


STUDY_TARGETS["summary"] = ["results/summary/metrics.csv", "results/summary/lineage.txt"]
