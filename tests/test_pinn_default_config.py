"""The default (quick) configuration of each synthetic PINN study reaches the error threshold stated in its
section (workflow/schemas/pinn.schema.yaml), against its independent reference: fast marching (eikonal), the
true velocity model and its anomaly (tomography), the analytic screw dislocation (fault) and the true slip of the
analytic synthetics (fault inversion). Same code path and sizes as the workflow: the registered step
``pinn.<study>`` run by the one writer (:func:`sciml.studies.run.run_step`) with the slice the rule passes."""

from __future__ import annotations

import pytest
import xarray as xr

from sciml.config import load
from sciml.io.netcdf import metrics_of
from sciml.studies import get_step
from sciml.studies.run import run_step

CASES = {  # study: [(metric, stated threshold key, "<" upper bound | ">" lower bound)]
    "eikonal": [("rel_l2", "threshold_rel_l2", "<")],
    "tomography": [("anomaly_correlation", "threshold_anomaly_correlation", ">"),
                   ("velocity_rel_rms_ratio", "threshold_velocity_rel_rms_ratio", "<")],
    "fault": [("rel_l2", "threshold_rel_l2", "<")],
    "fault_inversion": [("slip_rel_l2", "threshold_slip_rel_l2", "<")],
}


@pytest.mark.parametrize("study", sorted(CASES))
def test_default_config_meets_stated_threshold(study: str, tmp_path) -> None:
    config = load()  # config/config.yaml completed with the schema defaults, as the Snakefile does
    step = get_step(f"pinn.{study}")
    cfg = step.slice(config)
    checks = CASES[study]
    for _, key, _ in checks:
        assert key in cfg, f"config pinn.{study} states no {key}"
    outs = {"nc": str(tmp_path / f"{study}.nc"), "pt": str(tmp_path / f"{study}.pt")}
    run_step(step.name, cfg, seed=int(config["seed"]), device="cpu", inputs={}, outputs=outs)
    metrics = {k: v[0] for k, v in metrics_of(xr.open_dataset(outs["nc"])).items()}
    for metric, key, sense in checks:
        value, bound = metrics[metric], float(cfg[key])
        assert (value < bound) if sense == "<" else (value > bound), (metric, value, sense, bound, metrics)
