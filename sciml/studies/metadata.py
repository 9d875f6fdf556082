"""Discovery metadata (ACDD 1.3) of every study: the papers it reproduces and its keywords.

The one writer (:func:`sciml.studies.run.run_step`) puts them in every output's global attributes with
``summary`` (the step's docstring), ``creator_name``/``creator_email``/``institution`` (config section
``metadata``) and ``project``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OKADA = ("Okada, Y. (1992). Internal deformation due to shear and tensile faults in a half-space. BSSA 82(2), "
         "1018-1040; Someya, M., Yamada, T. & Okazaki, T. (2025). OkadaTorch: a differentiable programming of Okada "
         "model to calculate displacements and strains from fault parameters. arXiv (physics.geo-ph)")
PILM = ("Okazaki, T. (2025). Physics-Informed Linear Model (PILM): analytical representations and application to "
        "crustal strain rate estimation. arXiv (cs.LG); Okazaki, T., Fukahata, Y. & Nishimura, T. (2021). Earth "
        "Planets Space 73, 153")
BAYES = ("Agata, R. & Okazaki, T. Functional-prior-based Bayesian PDE-constrained inversion using PINNs (fpBPINN). "
         "arXiv (physics.geo-ph)")
REVIEW = "Okazaki, T. (2024). Scientific Machine Learning Seismology. arXiv (physics.geo-ph)"
FNO = "Li, Z. et al. (2021). Fourier Neural Operator for parametric partial differential equations. ICLR"
DEEPONET = "Lu, L. et al. (2021). Learning nonlinear operators via DeepONet. Nat. Mach. Intell. 3, 218-229"

STUDIES: dict[str, dict[str, str]] = {
    "okada": {"references": OKADA, "keywords": "elastic dislocation, Okada model, fault slip inversion, GNSS, "
                                                "coseismic deformation, differentiable programming"},
    "okadatorch": {"references": OKADA, "keywords": "Okada model, automatic differentiation, Hessian, Laplace "
                                                     "approximation, Hamiltonian Monte Carlo"},
    "mogi": {"references": "Mogi, K. (1958). Bull. Earthq. Res. Inst. 36, 99-134; " + OKADA,
             "keywords": "volcano deformation, Mogi source, Gauss-Newton, Laplace approximation"},
    "pilm": {"references": PILM, "keywords": "physics-informed linear model, GNSS velocities, crustal strain rate, "
                                              "ABIC, Bayesian model comparison"},
    "pinn": {"references": REVIEW, "keywords": "physics-informed neural network, eikonal equation, traveltime "
                                                "tomography, antiplane fault"},
    "operators": {"references": f"{REVIEW}; {FNO}; {DEEPONET}",
                  "keywords": "neural operator, Fourier neural operator, DeepONet, Darcy flow, acoustic wave"},
    "bayes": {"references": BAYES, "keywords": "Bayesian PINN, functional prior, Gaussian process, SVGD, "
                                               "Hamiltonian Monte Carlo, traveltime tomography, Darcy flow"},
    "summary": {"references": "", "keywords": "provenance, metrics"},
}


def discovery(step_name: str, doc: str, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """ACDD attributes for an output of step ``step_name`` (``<study>.<step>``)."""
    study = step_name.split(".")[0]
    meta = dict(metadata or {})
    known = STUDIES.get(study, {"references": "", "keywords": ""})
    return {"summary": doc, "keywords": known["keywords"], "references": known["references"],
            "project": "sciml", "creator_name": meta.get("creator_name"), "creator_email": meta.get("creator_email"),
            "institution": meta.get("institution"), "license": meta.get("license")}
