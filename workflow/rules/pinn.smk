# PINN studies (owner: PINN helper): eikonal forward/tomography, Calaveras 1-D velocity, antiplane fault.
PINN = config["pinn"]
PINN_CALAVERAS_FILES = {
    "phase": PINN["calaveras"]["phase_file"],
    "stations": PINN["calaveras"]["station_file"],
    "model": PINN["calaveras"]["model_file"],
}
# Calaveras needs the shared picks; without them the study is left out of the targets.
_PINN_HAVE_PICKS = all(optional_data(p) for p in PINN_CALAVERAS_FILES.values())
PINN_STUDIES = [s for s in PINN.get("studies", []) if s != "calaveras" or _PINN_HAVE_PICKS]

STUDY_TARGETS["pinn"] = [f"results/pinn/figures/{s}.png" for s in PINN_STUDIES]


wildcard_constraints:
    pinn_study="eikonal|tomography|calaveras|fault|fault_inversion",



rule pinn_eikonal:
    """Forward eikonal PINN (factored T = |x - xs| tau) vs fast marching (scikit-fmm)."""
    input:
        code=code("pinn", "nn", "forward"),
    output:
        nc="results/pinn/eikonal.nc",
        pt="results/pinn/eikonal.pt",
    params:
        cfg=PINN["eikonal"],
        seed=config["seed"],
        device=config["device"],
        dtype=config["dtype"],
    log:
        LOG("pinn_eikonal"),
    benchmark:
        BENCH("pinn_eikonal")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
        gpu=1,
    conda:
        ENV
    script:
        "../../scripts/pinn_eikonal.py"


rule pinn_tomography:
    """Traveltime tomography: v(x, z) from several sources' first arrivals (data by fast marching)."""
    input:
        code=code("pinn", "nn", "forward"),
    output:
        nc="results/pinn/tomography.nc",
        pt="results/pinn/tomography.pt",
    params:
        cfg=PINN["tomography"],
        seed=config["seed"],
        device=config["device"],
        dtype=config["dtype"],
    log:
        LOG("pinn_tomography"),
    benchmark:
        BENCH("pinn_tomography")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=1,
    conda:
        ENV
    script:
        "../../scripts/pinn_tomography.py"


rule pinn_calaveras:
    """1-D Vp(z) from the Calaveras P picks (hypocentres fixed) vs the published 1-D model."""
    input:
        code=code("pinn", "nn", "forward", "picks", "geo"),
        phase=data_path(PINN_CALAVERAS_FILES["phase"]),
        stations=data_path(PINN_CALAVERAS_FILES["stations"]),
        model=data_path(PINN_CALAVERAS_FILES["model"]),
    output:
        nc="results/pinn/calaveras.nc",
        pt="results/pinn/calaveras.pt",
    params:
        cfg=PINN["calaveras"],
        seed=config["seed"],
        device=config["device"],
        dtype=config["dtype"],
    log:
        LOG("pinn_calaveras"),
    benchmark:
        BENCH("pinn_calaveras")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=1,
    conda:
        ENV
    script:
        "../../scripts/pinn_calaveras.py"


rule pinn_fault:
    """Antiplane strike-slip fault (explicit displacement discontinuity) vs the arctan screw dislocation."""
    input:
        code=code("pinn", "nn"),
    output:
        nc="results/pinn/fault.nc",
        pt="results/pinn/fault.pt",
    params:
        cfg=PINN["fault"],
        seed=config["seed"],
        device=config["device"],
        dtype=config["dtype"],
    log:
        LOG("pinn_fault"),
    benchmark:
        BENCH("pinn_fault")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=1,
    conda:
        ENV
    script:
        "../../scripts/pinn_fault.py"


rule pinn_fault_inversion:
    """Slip distribution s(z) from noisy surface displacements (PINN with a slip network)."""
    input:
        code=code("pinn", "nn"),
    output:
        nc="results/pinn/fault_inversion.nc",
        pt="results/pinn/fault_inversion.pt",
    params:
        cfg=PINN["fault_inversion"],
        seed=config["seed"],
        device=config["device"],
        dtype=config["dtype"],
    log:
        LOG("pinn_fault_inversion"),
    benchmark:
        BENCH("pinn_fault_inversion")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=1,
    conda:
        ENV
    script:
        "../../scripts/pinn_fault_inversion.py"


rule pinn_figure:
    """Prediction / reference / error figure of one PINN study."""
    input:
        code=code("pinn", "plots"),
        nc="results/pinn/{pinn_study}.nc",
    output:
        png=figure("results/pinn/figures/{pinn_study}.png", "pinn/study.rst"),
    params:
        study=lambda wc: wc.pinn_study,
    log:
        LOG("pinn_figure_{pinn_study}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/pinn_figure.py"
