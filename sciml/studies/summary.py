"""The report tables over all studies: the metrics of every result and the lineage tree of every figure."""

from __future__ import annotations

import logging

from sciml.report import collect_metrics, evaluate_checks, lineage_report, upstream_netcdf
from sciml.studies.registry import Outputs, Text, step

log = logging.getLogger(__name__)


# One workflow target per seed paper -> the studies (STUDY_TARGETS keys = result folders) it is built from.
PAPERS = {
    "paper_okadatorch": ["okadatorch", "okada"],  # OkadaTorch (Someya, Yamada & Okazaki 2025)
    "paper_pilm": ["pilm"],  # PILM (Okazaki 2025)
    "paper_fpbpinn": ["bayes_tomography", "bayes_darcy"],  # fpBPINN (Agata & Okazaki 2026)
    "paper_review": ["pinn", "operators"],  # SciML seismology review (Okazaki 2024)
}


def _acceptance(config, wildcards):
    """All checks; for a paper target only those on its studies' result files (results/<study>/...)."""
    checks = config["acceptance"]
    paper = dict(wildcards).get("paper")
    if paper:
        prefixes = tuple(f"results/{study}/" for study in PAPERS[paper])
        checks = {k: c for k, c in checks.items() if c["file"].startswith(prefixes)}
    return {"acceptance": checks}


@step("summary.tables", section=_acceptance,
      inputs={"figures": "file[]: every figure of the run (their lineage leads to the result files)"},
      outputs={"metrics": "csv: one row per metric_<name> variable of every upstream result, with the "
                          "acceptance checks of config key `acceptance` (columns check, goal, met, source)",
               "lineage": "text: the lineage tree of every figure"})
def tables(cfg, inputs, *, seed, device, checkpoints):
    """Metrics table and lineage trees of every figure of the run (for the report)."""
    figures = list(inputs["figures"])
    metrics = collect_metrics(upstream_netcdf(figures))
    log.info("%d metrics from %d result files", len(metrics), metrics["file"].nunique())
    metrics = evaluate_checks(metrics, cfg["acceptance"])
    for _, row in metrics[metrics["met"].isin(["MISSED", "MISSING"])].iterrows():
        log.warning("acceptance check %s %s: %s %s = %s (goal %s; %s)", row["check"], row["met"], row["file"],
                    row["name"], row["value"], row["goal"], row["source"])
    return Outputs(metrics=Text(metrics.to_csv(index=False, float_format="%.6g")),
                   lineage=Text(lineage_report(figures)))
