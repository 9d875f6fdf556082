"""Rule summary_tables: metrics table and lineage trees of every figure, for the report."""
from sciml.io.atomic import write_text
from sciml.report import collect_metrics, lineage_report, upstream_netcdf
from sciml.workflow import rule_context

with rule_context(snakemake) as ctx:  # noqa: F821
    figures = list(ctx.input.figures)
    metrics = collect_metrics(upstream_netcdf(figures))
    ctx.log.info("%d metrics from %d result files", len(metrics), metrics["file"].nunique())
    write_text(metrics.to_csv(index=False, float_format="%.6g"), ctx.output.metrics)
    write_text(lineage_report(figures), ctx.output.lineage)
