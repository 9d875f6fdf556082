"""The default (quick) configuration of each PINN study reaches the goal stated beside it in its section
(``threshold_*`` keys of workflow/schemas/pinn.schema.yaml, the goals of issue 17), against its independent
reference: the second-order factored fast-marching traveltimes (eikonal), the true velocity model and its
anomaly (tomography), the analytic screw dislocation, overall and near the tip (fault), the true slip and the
noise level of the analytic synthetics (fault inversion), the published 1-D model and its held-out misfit
(Calaveras, when the shared picks exist). Same code path and sizes as the workflow: the registered step
``pinn.<study>`` run by the one writer (:func:`sciml.studies.run.run_step`) with the slice the rule passes."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

from sciml.config import load
from sciml.io.netcdf import metrics_of
from sciml.studies import get_step
from sciml.studies.run import run_step

CASES = {  # study: [(metric, stated threshold key or other metric, "<" upper bound | ">" lower bound)]
    "eikonal": [("rel_l2", "threshold_rel_l2", "<")],
    "tomography": [("anomaly_correlation", "threshold_anomaly_correlation", ">"),
                   ("velocity_rel_rms_ratio", "threshold_velocity_rel_rms_ratio", "<")],
    "fault": [("rel_l2", "threshold_rel_l2", "<"), ("rel_l2_tip", "threshold_rel_l2_tip", "<")],
    "fault_inversion": [("slip_rel_l2", "threshold_slip_rel_l2", "<"), ("misfit_ratio", "threshold_misfit_ratio", "<")],
    "calaveras": [("rms_residual_pinn_model", "metric:rms_residual_published", "<"),
                  ("velocity_rel_rms_diff_published_resolved", "threshold_velocity_rel_diff_resolved", "<")],
}


NOT_MET = {  # goals of issue 17 not yet reached on the default config (measured, seed 20261126): kept, never lowered
    # the next two were met on an earlier machine (0.145 / 1.17) but not in CI on 2026-12-02 (same seed and code:
    # rounding differs with the hardware and the long L-BFGS path amplifies it); other seeds miss them too
    "tomography": "v error ratio 0.166 > 0.15 in CI (corr. 0.983 >= 0.98 met); seeds 1 / 2: 0.153 / 0.191; "
                  "convergence-limited (L-BFGS 2000 / 5000 / 8000: 0.237 / 0.170 / 0.145-0.166)",
    "fault_inversion": "misfit ratio 1.31 > 1.2 in CI (slip rel. L2 0.106 <= 0.15 met); seeds 1 / 2: 3.02 / 1.57; "
                       "L-BFGS 5000: 1.25; its loss with the exact forward reaches 0.88 "
                       "(misfit_ratio_exact_forward): PINN not converged",
    "calaveras": "v(z) 6.9 % RMS from published where resolved (3.3-8.3 km) > 5 % (misfit 0.360 s < 0.363 s: kept); "
                 "data-limited, see test_pinn_forward.py::test_calaveras_picks_do_not_single_out_the_published_model",
}


@pytest.mark.parametrize("study", [pytest.param(s, marks=pytest.mark.xfail(reason=f"issue 17 goal not met: {NOT_MET[s]}"))
                                   if s in NOT_MET else s for s in sorted(CASES)])
def test_default_config_meets_stated_threshold(study: str, tmp_path) -> None:
    config = load()  # config/config.yaml completed with the schema defaults, as the Snakefile does
    step = get_step(f"pinn.{study}")
    cfg = step.slice(config)
    inputs = {}
    if study == "calaveras":
        root = Path(config["data_dir"])
        root = root if root.is_absolute() else Path(__file__).resolve().parents[1] / root
        inputs = {k: str(root / cfg[f"{k}_file" if k != "stations" else "station_file"])
                  for k in ("phase", "stations", "model")}
        if not all(Path(p).exists() for p in inputs.values()):
            pytest.skip("shared Calaveras picks absent")
    checks = CASES[study]
    for _, key, _ in checks:
        assert key.startswith("metric:") or key in cfg, f"config pinn.{study} states no {key}"
    outs = {"nc": str(tmp_path / f"{study}.nc"), "pt": str(tmp_path / f"{study}.pt")}
    run_step(step.name, cfg, seed=int(config["seed"]), device="cpu", inputs=inputs, outputs=outs)
    metrics = {k: v[0] for k, v in metrics_of(xr.open_dataset(outs["nc"])).items()}
    for metric, key, sense in checks:
        value = metrics[metric]
        bound = metrics[key[7:]] if key.startswith("metric:") else float(cfg[key])
        assert (value < bound) if sense == "<" else (value > bound), (metric, value, sense, bound, metrics)
