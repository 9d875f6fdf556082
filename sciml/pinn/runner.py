"""Glue between the PINN studies and workflow rules: run one study, write weights, NetCDF and checkpoint hygiene."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sciml.errors import InputError
from sciml.io.atomic import save_torch

TITLES = {
    "eikonal": "PINN eikonal traveltimes vs fast marching",
    "tomography": "PINN traveltime tomography from several sources",
    "calaveras": "1-D P velocity from Calaveras picks by eikonal PINN",
    "fault": "antiplane strike-slip fault PINN vs screw-dislocation solution",
    "fault_inversion": "slip distribution from surface displacements by PINN",
}


def _runner(study: str):
    from sciml.pinn import eikonal, fault, velocity1d

    table = {"eikonal": eikonal.run_forward, "tomography": eikonal.run_tomography, "fault": fault.run_forward,
             "fault_inversion": fault.run_slip_inversion, "calaveras": velocity1d.run}
    if study not in table:
        raise InputError(f"pinn: field 'study' = {study!r}: expected one of {sorted(table)}")
    return table[study]


def checkpoint_path(folder: str | Path, study: str, cfg: dict[str, Any], seed: int, dtype: str) -> Path:
    """Checkpoint named by a hash of everything that defines the run, so a changed config never resumes
    from a stale state."""
    key = json.dumps({"cfg": cfg, "seed": seed, "dtype": dtype}, sort_keys=True, default=str)
    return Path(folder) / f"{study}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.ckpt"


def run_and_write(ctx: Any, study: str, paths: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``study`` with ``ctx.params['cfg']``; write ``ctx.output.pt`` (weights) and ``ctx.output.nc``."""
    cfg = dict(ctx.params["cfg"])
    cfg.setdefault("dtype", ctx.params.get("dtype", "float64"))
    ckpt = checkpoint_path(Path(ctx.output.nc).parent / "checkpoints", study, cfg, ctx.seed or 0, cfg["dtype"])
    kw = {"device": ctx.device, "seed": int(ctx.seed or 0), "checkpoint": ckpt, "progress": False}
    fn = _runner(study)
    result = fn(cfg, paths, **kw) if study == "calaveras" else fn(cfg, **kw)
    save_torch({"study": study, "state_dict": result.state, "config": cfg}, ctx.output.pt)
    ctx.attach(ctx.output.pt)
    ds = result.dataset.assign_attrs(weights_file=Path(ctx.output.pt).name)
    ctx.write(ds, ctx.output.nc, title=TITLES[study])
    for k, v in result.metrics.items():
        ctx.log.info("metric %s = %.6g", k, v)
    ckpt.unlink(missing_ok=True)
    return result.metrics
