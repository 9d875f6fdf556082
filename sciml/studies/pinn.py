"""PINN study steps: five trainings (one wildcard rule, ``pinn_train``) and their figure (``pinn_figure``).

Each training step reads its section ``pinn.<study>`` (plus the top-level ``dtype``), trains the network of
the study on the torch device, and returns the result dataset (predictions, independent reference, errors,
``metric_*`` variables, training history) and the weights (:class:`~sciml.studies.registry.Weights`). The
trainer checkpoints into the ``checkpoints`` folder the writer passes, under a name that hashes the whole
config slice and the seed (:func:`checkpoint_path`), so a changed config never resumes a stale state; a
writer removes the folder once the outputs are written. The science is in :mod:`sciml.pinn` (``eikonal``, ``velocity1d``,
``fault``) and the figures in :mod:`sciml.pinn.figures`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sciml.errors import bad_value
from sciml.pinn import eikonal as _eikonal
from sciml.pinn import fault as _fault
from sciml.pinn import velocity1d as _velocity1d
from sciml.studies.registry import Outputs, Weights, step

log = logging.getLogger(__name__)

STUDIES = ("eikonal", "tomography", "calaveras", "fault", "fault_inversion")
TITLES = {
    "eikonal": "PINN eikonal traveltimes vs fast marching",
    "tomography": "PINN traveltime tomography from several sources",
    "calaveras": "1-D P velocity from Calaveras picks by eikonal PINN",
    "fault": "antiplane strike-slip fault PINN vs screw-dislocation solution",
    "fault_inversion": "slip distribution from surface displacements by PINN",
}
TRAINED = {"nc": "netcdf: predictions, independent reference, errors, metric_* variables, training history",
           "pt": "weights: the trained network(s)"}


def checkpoint_path(folder: str | Path, study: str, cfg: Mapping[str, Any], seed: int) -> Path:
    """``<folder>/<study>-<hash>.ckpt``, the hash taken over everything that defines the run (the config slice,
    ``dtype`` included, and the seed), so a changed config never resumes from a stale state."""
    key = json.dumps({"cfg": cfg, "seed": int(seed)}, sort_keys=True, default=str)
    return Path(folder) / f"{study}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.ckpt"


def _train(study: str, run: Callable, cfg: dict[str, Any], *args: Any, seed: int, device, checkpoints) -> Outputs:
    """Run one study's training with a config-hashed checkpoint; pack dataset and weights."""
    ckpt = checkpoint_path(checkpoints, study, cfg, seed)
    res = run(cfg, *args, device=device, seed=int(seed), checkpoint=ckpt, progress=True)  # bar only on a tty
    for k, v in res.metrics.items():
        log.info("metric %s = %.6g", k, v)
    # the workflow writes the weights beside the result as results/pinn/<study>.pt
    ds = res.dataset.assign_attrs(title=TITLES[study], weights_file=f"{study}.pt")
    return Outputs(nc=ds, pt=Weights(res.state, {"study": study}))


@step("pinn.eikonal", section="pinn.eikonal", outputs=TRAINED, device=True, dtype=True)
def eikonal(cfg, inputs, *, seed, device, checkpoints):
    """Forward eikonal PINN (factored T = |x - xs| tau) vs fast marching (scikit-fmm)."""
    return _train("eikonal", _eikonal.run_forward, cfg, seed=seed, device=device, checkpoints=checkpoints)


@step("pinn.tomography", section="pinn.tomography", outputs=TRAINED, device=True, dtype=True)
def tomography(cfg, inputs, *, seed, device, checkpoints):
    """Traveltime tomography: v(x, z) from several sources' first arrivals (data by fast marching)."""
    return _train("tomography", _eikonal.run_tomography, cfg, seed=seed, device=device, checkpoints=checkpoints)


@step("pinn.calaveras", section="pinn.calaveras", device=True, dtype=True,
      inputs={"phase": "file: hypoDD phase file of the Calaveras picks (data_dir/<pinn.calaveras.phase_file>)",
              "stations": "file: hypoDD station list (data_dir/<pinn.calaveras.station_file>)",
              "model": "file: published 1-D P model, 'top_km vp_km_s' lines (data_dir/<pinn.calaveras.model_file>)"},
      outputs=TRAINED)
def calaveras(cfg, inputs, *, seed, device, checkpoints):
    """1-D Vp(z) from the Calaveras P picks (hypocentres fixed) vs the published 1-D model."""
    paths = {k: inputs[k] for k in ("phase", "stations", "model")}
    return _train("calaveras", _velocity1d.run, cfg, paths, seed=seed, device=device, checkpoints=checkpoints)


@step("pinn.fault", section="pinn.fault", outputs=TRAINED, device=True, dtype=True)
def fault(cfg, inputs, *, seed, device, checkpoints):
    """Antiplane strike-slip fault (explicit displacement discontinuity) vs the arctan screw dislocation."""
    return _train("fault", _fault.run_forward, cfg, seed=seed, device=device, checkpoints=checkpoints)


@step("pinn.fault_inversion", section="pinn.fault_inversion", outputs=TRAINED, device=True, dtype=True)
def fault_inversion(cfg, inputs, *, seed, device, checkpoints):
    """Slip distribution s(z) from noisy surface displacements (PINN with a slip network)."""
    return _train("fault_inversion", _fault.run_slip_inversion, cfg, seed=seed, device=device,
                  checkpoints=checkpoints)


def figure_section(config: Mapping[str, Any], wildcards: Mapping[str, str]) -> dict[str, Any]:
    """The figure step reads only the study name, from the rule's wildcard ``pinn_study``."""
    study = wildcards.get("pinn_study")
    if study not in STUDIES:
        raise bad_value("step pinn.figure", "wildcard pinn_study", study, f"expected one of {list(STUDIES)} "
                        "(give it with --wildcard pinn_study=NAME)")
    return {"study": study}


@step("pinn.figure", section=figure_section,
      inputs={"nc": "netcdf: result of the study's training (pinn.<study>)"},
      outputs={"png": "png: prediction, reference and error panels of one PINN study"})
def figure(cfg, inputs, *, seed, device, checkpoints):
    """Prediction / reference / error figure of one PINN study."""
    from sciml.io.netcdf import read_dataset
    from sciml.pinn.figures import study_figure

    return Outputs(png=study_figure(cfg["study"], read_dataset(inputs["nc"])))
