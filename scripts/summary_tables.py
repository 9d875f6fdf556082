"""Rule summary_tables: metrics table and lineage trees of every figure, for the report."""
from sciml.report import collect_metrics, lineage_report, upstream_netcdf, write_text_atomic
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    figures = list(ctx.input.figures)
    metrics = collect_metrics(upstream_netcdf(figures))
    ctx.log.info("%d metrics from %d result files", len(metrics), metrics["file"].nunique())
    write_text_atomic(metrics.to_csv(index=False, float_format="%.6g"), ctx.output.metrics)
    write_text_atomic(lineage_report(figures), ctx.output.lineage)
