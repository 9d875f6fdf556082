"""The default (quick) configuration of each synthetic PINN study reaches the error threshold stated beside it in
config/config.yaml, against its independent reference: fast marching (eikonal), the true velocity model and its
anomaly (tomography), the analytic screw dislocation (fault) and the true slip of the analytic synthetics (fault
inversion). Same code path and sizes as the workflow."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from sciml.pinn import eikonal, fault

FULL = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
CONFIG, SEED = FULL["pinn"], int(FULL["seed"])
CASES = {  # study: (runner, [(metric, stated threshold key, "<" upper bound | ">" lower bound)])
    "eikonal": (eikonal.run_forward, [("rel_l2", "threshold_rel_l2", "<")]),
    "tomography": (eikonal.run_tomography, [("anomaly_correlation", "threshold_anomaly_correlation", ">"),
                                            ("velocity_rel_rms_ratio", "threshold_velocity_rel_rms_ratio", "<")]),
    "fault": (fault.run_forward, [("rel_l2", "threshold_rel_l2", "<")]),
    "fault_inversion": (fault.run_slip_inversion, [("slip_rel_l2", "threshold_slip_rel_l2", "<")]),
}


@pytest.mark.parametrize("study", sorted(CASES))
def test_default_config_meets_stated_threshold(study: str) -> None:
    runner, checks = CASES[study]
    cfg = CONFIG[study]
    for _, key, _ in checks:
        assert key in cfg, f"config pinn.{study} states no {key}"
    run_cfg = {"dtype": FULL.get("dtype", "float64"), **cfg}  # as sciml.pinn.runner.run_and_write
    res = runner(run_cfg, device=torch.device("cpu"), seed=SEED)
    for metric, key, sense in checks:
        value, bound = res.metrics[metric], float(cfg[key])
        assert (value < bound) if sense == "<" else (value > bound), (metric, value, sense, bound, res.metrics)
